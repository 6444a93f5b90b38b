//! `indset lookup`: one JSON object a line for every query.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use indset::canon;
use indset::ingest::{Line as InputLine, Lines};
use indset::{AppConfig, Decision, Mode, Timestamp, Verdict};
use serde::Serialize;
use serde_json::Value;

use crate::Status;
use crate::output::{IndicatorJson, MappedSet, open_set};

/// Look up URLs or hosts in a compiled set.
///
/// Writes one JSON object a line: `query`, `canonical`, `action` (block,
/// warn, allow, audit, none), the deciding `indicator` and the reported
/// `audit` indicator (or null), and `"invalid":true` for a query that cannot
/// be parsed. With no QUERY, reads queries from stdin, one a line; a line
/// that is a JSON object is read for its `url` (or `host`) field, so request
/// logs in JSON lines can be piped in as they are.
///
/// A stdin line that cannot be a query is answered as `"invalid":true` with
/// its `line` number, and the run goes on: a line longer than 1 MiB (the
/// rest of it is skipped unread into memory), a line that is not UTF-8, a
/// JSON object whose `url` is not a string or that has no `url`.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  indset lookup --set set.indset https://a.example.com/bad example.org
  indset lookup --set set.indset --mode domain cdn.example.net:443
  zcat data/requests-top500-2019.jsonl.gz | indset lookup --set set.indset
  indset lookup --set set.indset --app-config managed.json --now 2026-01-01T00:00:00Z < urls.txt")]
pub struct Args {
    /// The compiled set (`indset compile -o FILE`).
    #[arg(long, value_name = "FILE")]
    set: PathBuf,
    /// `full` matches whole URLs (supervised devices); `domain` matches host
    /// names only (unsupervised devices). Default: from `--app-config`'s
    /// `issupervised` when given, else `full`.
    #[arg(long, value_parser = parse_mode)]
    mode: Option<Mode>,
    /// Managed app configuration (a JSON object of `WebProtection`,
    /// `issupervised`, `DefenderExcludeURLInReport`).
    #[arg(long, value_name = "FILE.json")]
    app_config: Option<PathBuf>,
    /// The lookup time (RFC 3339) for expiring indicators. Default: now.
    #[arg(long, value_name = "RFC3339", value_parser = crate::output::parse_now)]
    now: Option<Timestamp>,
    /// At the end, print to stderr how many queries got each action.
    #[arg(long)]
    summary: bool,
    /// URLs (full mode) or host names (domain mode); stdin when none.
    #[arg(value_name = "QUERY")]
    queries: Vec<String>,
}

pub fn parse_mode(s: &str) -> Result<Mode, String> {
    s.parse::<Mode>()
        .map_err(|_| format!("`{s}` is not a mode; use `full` or `domain`"))
}

pub fn run(args: Args) -> Result<Status> {
    let config = match &args.app_config {
        Some(path) => {
            let text = fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            AppConfig::from_json(&text)
                .with_context(|| format!("bad managed app configuration in {}", path.display()))?
        }
        None => AppConfig::default(),
    };
    let mode = args.mode.unwrap_or(match &args.app_config {
        Some(_) => config.mode(),
        None => Mode::Full,
    });
    let set = open_set(&args.set)?;
    let now = args.now.unwrap_or_else(Timestamp::now);
    let mut lookup = Lookup {
        set: &set,
        mode,
        now,
        config: &config,
        counts: [0; 6],
    };
    let mut out = BufWriter::new(io::stdout().lock());
    if args.queries.is_empty() {
        // A line over `MAX_LINE_LEN`, as compile caps a row, is answered
        // as invalid and the rest of it read past without being held, so
        // endless input (`< /dev/zero`) runs in bounded memory.
        let mut stdin = io::stdin().lock();
        let mut lines = Lines::new(&mut stdin);
        while let Some((number, line)) = lines
            .next_line()
            .context("cannot read queries from stdin")?
        {
            let text = match line {
                InputLine::Text(text) => text,
                InputLine::TooLong { head, .. } => {
                    lookup.write_unreadable(&mut out, &shown_head(head), number)?;
                    continue;
                }
                // A NUL is no part of a URL: the canonicaliser refuses it.
                InputLine::Nul { bytes, .. } | InputLine::NotUtf8 { bytes, .. } => {
                    match std::str::from_utf8(bytes) {
                        Ok(text) => text,
                        Err(_) => {
                            let lossy = String::from_utf8_lossy(bytes);
                            lookup.write_unreadable(&mut out, lossy.trim(), number)?;
                            continue;
                        }
                    }
                }
            };
            match query_of_line(text) {
                Query::Blank => {}
                Query::Text(query) => lookup.write(&mut out, &query)?,
                Query::Invalid(line) => lookup.write_unreadable(&mut out, line, number)?,
            }
        }
    } else {
        for query in &args.queries {
            lookup.write(&mut out, query)?;
        }
    }
    out.flush()?;
    if args.summary {
        let c = lookup.counts;
        // Invalid queries are counted under none too.
        let total: u64 = c[..5].iter().sum();
        // A closed stderr leaves no one to tell.
        let _ = writeln!(
            io::stderr(),
            "indset: {total} queries: {} block, {} warn, {} allow, {} audit, {} none ({} invalid)",
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
            c[5]
        );
    }
    Ok(Status::Ok)
}

/// The start of an over-long line, for the `query` field.
fn shown_head(head: &[u8]) -> String {
    let mut s = String::from_utf8_lossy(&head[..head.len().min(100)]).into_owned();
    s.push_str("...");
    s
}

/// What one stdin line asks.
enum Query<'a> {
    /// Nothing: a blank line.
    Blank,
    /// The line itself, or the `url` (else `host`, else `query`) field of a
    /// JSON object.
    Text(std::borrow::Cow<'a, str>),
    /// A JSON object whose field is not a string, or without one of those
    /// fields: the (trimmed) line.
    Invalid(&'a str),
}

fn query_of_line(line: &str) -> Query<'_> {
    let line = line.trim();
    if line.is_empty() {
        return Query::Blank;
    }
    // A line that opens a JSON object is a record of a JSON log: one that
    // is not valid JSON is an invalid query, never a URL made of its text.
    if line.starts_with('{') {
        return match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(mut map)) => match ["url", "host", "query"]
                .into_iter()
                .find_map(|key| map.remove(key))
            {
                Some(Value::String(s)) => Query::Text(s.into()),
                _ => Query::Invalid(line),
            },
            _ => Query::Invalid(line),
        };
    }
    Query::Text(line.into())
}

/// One output line, fields in the order the README's `indset lookup` shows.
#[derive(Serialize)]
struct Line<'a> {
    query: &'a str,
    canonical: Option<&'a str>,
    action: &'static str,
    indicator: Option<IndicatorJson<'a>>,
    audit: Option<IndicatorJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invalid: Option<bool>,
    /// The stdin line number of a line that could not be read as a query.
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
}

struct Lookup<'a> {
    set: &'a MappedSet,
    mode: Mode,
    now: Timestamp,
    config: &'a AppConfig,
    /// Queries per action: block, warn, allow, audit, none; then invalid
    /// (also counted under none).
    counts: [u64; 6],
}

impl Lookup<'_> {
    fn write(&mut self, out: &mut impl Write, query: &str) -> Result<()> {
        let hide = self.config.exclude_url_in_report;
        let verdict = if self.config.web_protection {
            self.set.check_at(query, self.mode, self.now)
        } else {
            Verdict {
                decision: Decision::None,
                indicator: None,
                audit: None,
                invalid: false,
            }
        };
        let slot = match verdict.decision {
            Decision::Block => 0,
            Decision::Warn => 1,
            Decision::Allow => 2,
            Decision::Audit => 3,
            Decision::None => 4,
        };
        self.counts[slot] += 1;
        if verdict.invalid {
            self.counts[5] += 1;
        }
        let canonical = canonical(query, self.mode);
        let info = |hit| self.set.info(query.as_bytes(), self.mode, hit);
        let indicator = verdict.indicator.map(info);
        let audit = verdict.audit.map(info);
        let line = Line {
            query: if hide { "hidden" } else { query },
            canonical: match (&canonical, hide) {
                (Some(_), true) => Some("hidden"),
                (c, _) => c.as_deref(),
            },
            action: verdict.decision.as_str(),
            indicator: indicator.as_ref().map(|i| IndicatorJson::new(i, hide)),
            audit: audit.as_ref().map(|i| IndicatorJson::new(i, hide)),
            invalid: verdict.invalid.then_some(true),
            line: None,
        };
        write_line(out, &line)
    }

    /// Answers stdin line `number`, which cannot be read as a query, as an
    /// invalid query: `shown` is what of it goes in the `query` field.
    fn write_unreadable(&mut self, out: &mut impl Write, shown: &str, number: u64) -> Result<()> {
        self.counts[4] += 1;
        self.counts[5] += 1;
        let line = Line {
            query: if self.config.exclude_url_in_report {
                "hidden"
            } else {
                shown
            },
            canonical: None,
            action: Decision::None.as_str(),
            indicator: None,
            audit: None,
            invalid: Some(true),
            line: Some(number),
        };
        write_line(out, &line)
    }
}

fn write_line(out: &mut impl Write, line: &Line<'_>) -> Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The canonical form printed beside a verdict: the URL's
/// `scheme://host/path?query` in full mode, the host in domain mode.
pub fn canonical(query: &str, mode: Mode) -> Option<String> {
    match mode {
        Mode::Full => canon::url_string(query).ok(),
        Mode::Domain => {
            let mut buf = [0u8; canon::HOST_BUF_LEN];
            let (_, n) = canon::query_host(query.as_bytes(), &mut buf).ok()?;
            Some(String::from_utf8_lossy(&buf[..n]).into_owned())
        }
    }
}
