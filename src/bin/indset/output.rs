//! What the subcommands share: opening a set, the clock, the JSON shapes.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use indset::ingest::Report;
use indset::set::IndicatorSet;
use indset::verdict::IndicatorInfo;
use indset::{Level, Timestamp};
use serde::Serialize;
use serde_json::{Value, json};

/// A memory-mapped, verified set.
pub type MappedSet = IndicatorSet<memmap2::Mmap>;

/// Opens and verifies a compiled set; the error says which file and why.
pub fn open_set(path: &Path) -> Result<MappedSet> {
    IndicatorSet::open(path).with_context(|| format!("cannot use the set {}", path.display()))
}

/// The current time, in whole seconds.
pub fn system_now() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Timestamp(secs)
}

/// Parses `--now`.
pub fn parse_now(s: &str) -> Result<Timestamp, String> {
    indset::ingest::parse_timestamp(s)
        .ok_or_else(|| format!("`{s}` is not an RFC 3339 time; write it like 2026-01-31T00:00:00Z"))
}

/// An indicator in a lookup line, fields in the order of SPEC 5.
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
            title: info.title.as_deref(),
            severity: info.severity.map(|s| s.as_str()),
        }
    }
}

/// The `--report` JSON: counts per outcome and code, and every diagnostic.
pub fn report_json(report: &Report) -> Value {
    let by_code = |level: Level| -> Value {
        let mut map = serde_json::Map::new();
        for d in report.diagnostics().iter().filter(|d| d.level() == level) {
            let n = map.entry(d.code.as_str()).or_insert(json!(0));
            *n = json!(n.as_u64().unwrap_or(0) + 1);
        }
        Value::Object(map)
    };
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
        "errors": by_code(Level::Error),
        "warnings": by_code(Level::Warning),
        "notes": by_code(Level::Note),
        "diagnostics": diagnostics,
    })
}
