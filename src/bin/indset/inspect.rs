//! `indset inspect`: verify a compiled set and describe what it holds.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Result;
use indset::ingest::format_timestamp;
use serde_json::json;

use crate::Status;
use crate::output::open_set;

/// Verify a compiled set and show its size, counts and sections.
///
/// The set is verified exactly as `lookup` verifies it (magic, version,
/// checksums, section bounds); a damaged file exits 2 with the reason.
/// `--json` prints one JSON object instead, with `--list` every indicator
/// too.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  indset inspect set.indset
  indset inspect --json set.indset | jq .indicators
  indset inspect --json --list set.indset > indicators.json")]
pub struct Args {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also list every indicator (id, type, value, action, title, severity,
    /// expiration).
    #[arg(long)]
    list: bool,
    /// The compiled set.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

pub fn run(args: Args) -> Result<Status> {
    let set = open_set(&args.file)?;
    let stats = set.stats();
    let mut out = io::stdout().lock();
    let actions = ["allow", "warn", "block", "audit"];
    if args.json {
        let mut doc = json!({
            "file": args.file.display().to_string(),
            "verified": true,
            "bytes": stats.total_bytes,
            "indicators": stats.indicators,
            "bytes_per_indicator": per(stats.total_bytes, stats.indicators),
            "domains": stats.domains,
            "urls": stats.urls,
            "actions": actions.iter().zip(stats.actions).map(|(a, n)| (a.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "expiring": stats.expiring,
            "with_metadata": stats.with_metadata,
            "sections": stats.sections.iter().map(|(name, bytes)| json!({"name": name, "bytes": bytes})).collect::<Vec<_>>(),
        });
        if args.list {
            doc["list"] = set
                .iter()
                .map(|i| {
                    json!({
                        "id": i.id,
                        "type": i.kind.as_str(),
                        "value": i.value,
                        "action": i.action.as_str(),
                        "title": i.meta.title,
                        "severity": i.meta.severity.map(|s| s.as_str()),
                        "expiration": i.meta.expiration.map(format_timestamp),
                    })
                })
                .collect();
        }
        writeln!(out, "{doc}")?;
        return Ok(Status::Ok);
    }
    writeln!(out, "{}: verified", args.file.display())?;
    writeln!(
        out,
        "  {} indicators ({} DomainName, {} Url) in {} bytes ({:.2} bytes/indicator)",
        stats.indicators,
        stats.domains,
        stats.urls,
        stats.total_bytes,
        per(stats.total_bytes, stats.indicators)
    )?;
    let by_action: Vec<String> = actions
        .iter()
        .zip(stats.actions)
        .map(|(a, n)| format!("{n} {a}"))
        .collect();
    writeln!(out, "  actions: {}", by_action.join(", "))?;
    writeln!(
        out,
        "  {} with an expiration, {} with metadata",
        stats.expiring, stats.with_metadata
    )?;
    writeln!(out, "  sections:")?;
    for (name, bytes) in &stats.sections {
        writeln!(out, "    {name:<12} {bytes:>12} bytes")?;
    }
    if args.list {
        for i in set.iter() {
            writeln!(
                out,
                "  {:<5} {:<10} {} (id {})",
                i.action.as_str(),
                i.kind.as_str(),
                i.value,
                i.id
            )?;
        }
    }
    Ok(Status::Ok)
}

fn per(bytes: usize, n: usize) -> f64 {
    if n == 0 { 0.0 } else { bytes as f64 / n as f64 }
}
