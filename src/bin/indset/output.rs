//! What the subcommands share: opening a set, the clock, the JSON shapes.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use indset::{Code, IndicatorInfo, IndicatorSet, Level, Mapped, Outcome, Report, Timestamp};
use serde::Serialize;
use serde_json::{Value, json};

/// A memory-mapped, verified set.
pub type MappedSet = IndicatorSet<Mapped>;

/// Opens and verifies a compiled set; the error says which file and why.
pub fn open_set(path: &Path) -> Result<MappedSet> {
    // A directory or a FIFO would fail to map with "No such device"; say
    // what the path is instead. Opening a FIFO would also block.
    if let Ok(meta) = fs::metadata(path) {
        if meta.is_dir() {
            bail!(
                "{} is a directory, not an .indset file: give the path of a set compiled with `indset compile`",
                path.display()
            );
        }
        if !meta.is_file() {
            bail!(
                "{} is not a regular file (a FIFO, socket or device): give the path of an .indset file",
                path.display()
            );
        }
    }
    IndicatorSet::open(path).with_context(|| format!("cannot use the set {}", path.display()))
}

/// Parses `--now`.
pub fn parse_now(s: &str) -> Result<Timestamp, String> {
    indset::ingest::parse_timestamp(s)
        .ok_or_else(|| format!("`{s}` is not an RFC 3339 time; write it like 2026-01-31T00:00:00Z"))
}

/// An indicator in a lookup line, fields in the order the README's `indset lookup` shows.
#[derive(Serialize)]
pub struct IndicatorJson<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    value: &'a str,
    action: &'static str,
    title: Option<&'a str>,
    severity: Option<&'static str>,
}

impl<'a> IndicatorJson<'a> {
    /// `value` is `"hidden"` under the privacy setting.
    pub fn new(info: &'a IndicatorInfo, hide: bool) -> IndicatorJson<'a> {
        IndicatorJson {
            id: &info.id,
            kind: info.kind.as_str(),
            value: if hide { "hidden" } else { &info.value },
            action: info.action.as_str(),
            title: info.meta.title.as_deref(),
            severity: info.meta.severity.map(|s| s.as_str()),
        }
    }
}

/// The `--report` JSON: counts per outcome and code, the number of
/// unreadable files, the diagnostics the report kept (the first of each
/// code) and how many of each code it did not list.
///
/// The counts are the summary line's: `errors` counts rejected rows by code
/// (rows rejected for an unreadable file's header included, the file
/// itself under `unreadable_files`), `warnings` merged rows and accepted
/// rows with a warning, `notes` skipped rows.
pub fn report_json(report: &Report) -> Value {
    let by_code = |level: Level| -> Value {
        let mut map = serde_json::Map::new();
        for code in Code::ALL.into_iter().filter(|c| c.level() == level) {
            let n = match code.outcome() {
                Outcome::Rejected => report.rejected_by(code),
                Outcome::Skipped => report.skipped_by(code),
                Outcome::Merged => report.merged_by(code),
                Outcome::Accepted => match code {
                    Code::PublicSuffix => report.public_suffixes(),
                    Code::IgnoredValue => report.ignored_values(),
                    _ => 0,
                },
            };
            if n > 0 {
                map.insert(code.as_str().into(), json!(n));
            }
        }
        Value::Object(map)
    };
    // The report keeps the first diagnostics of each code (stderr has
    // every one); the rest are counted here by code.
    let mut omitted = serde_json::Map::new();
    for code in Code::ALL {
        let n = report.omitted_by(code);
        if n > 0 {
            omitted.insert(code.as_str().into(), json!(n));
        }
    }
    let diagnostics: Vec<Value> = report
        .diagnostics()
        .iter()
        .map(|d| {
            json!({
                "file": &*d.file,
                "line": d.line,
                "level": d.level().as_str(),
                "code": d.code.as_str(),
                "message": d.message,
            })
        })
        .collect();
    json!({
        "rows": report.rows(),
        "accepted": report.accepted(),
        "rejected": report.rejected(),
        "skipped": report.skipped(),
        "merged": report.merged(),
        "unreadable_files": report.file_errors(),
        "errors": by_code(Level::Error),
        "warnings": by_code(Level::Warning),
        "notes": by_code(Level::Note),
        "diagnostics": diagnostics,
        "diagnostics_not_listed": omitted,
    })
}
