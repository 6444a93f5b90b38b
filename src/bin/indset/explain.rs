//! `indset explain`: every matching indicator, the winner and why.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Result;
use indset::ingest::format_timestamp;
use indset::{Mode, Role, Timestamp};

use crate::Status;
use crate::output::open_set;

/// Explain the verdict for one URL or host.
///
/// Lists every indicator that matches the query in precedence order (most
/// specific first), expired ones and audits included, with the part each
/// played, then the verdict and the rule that decided it.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  indset explain --set set.indset https://partner.example.com/login
  indset explain --set set.indset --mode domain ads.example.net
  indset explain --set set.indset --now 2027-01-01T00:00:00Z https://example.com/old")]
pub struct Args {
    /// The compiled set.
    #[arg(long, value_name = "FILE")]
    set: PathBuf,
    /// `full` (whole URLs) or `domain` (host names only).
    #[arg(long, default_value = "full", value_parser = crate::lookup::parse_mode)]
    mode: Mode,
    /// The lookup time (RFC 3339) for expiring indicators. Default: now.
    #[arg(long, value_name = "RFC3339", value_parser = crate::output::parse_now)]
    now: Option<Timestamp>,
    /// The URL (full mode) or host name (domain mode).
    #[arg(value_name = "QUERY")]
    query: String,
}

pub fn run(args: Args) -> Result<Status> {
    let set = open_set(&args.set)?;
    let now = args.now.unwrap_or_else(Timestamp::now);
    let ex = set.explain(&args.query, args.mode, now);
    let mut out = io::stdout().lock();
    // Control characters escaped, so that a query pasted from a log can
    // neither forge a line of this report nor drive the terminal.
    let query: String = args
        .query
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    writeln!(out, "query:     {query}")?;
    writeln!(out, "mode:      {}", args.mode.as_str())?;
    match &ex.canonical {
        Some(c) => writeln!(out, "canonical: {c}")?,
        None => writeln!(out, "canonical: (cannot be parsed)")?,
    }
    if ex.matches.is_empty() {
        writeln!(out, "matches:   none")?;
    } else {
        writeln!(out, "matches, most specific first:")?;
    }
    for m in &ex.matches {
        let role = match m.role {
            Role::Decided => "DECIDES",
            Role::Reported => "audit",
            Role::Outranked => "outranked",
            Role::Expired => "expired",
        };
        let info = &m.info;
        write!(
            out,
            "  {role:<9} {:<5} {:<10} {} (id {}",
            info.action.as_str(),
            info.kind.as_str(),
            info.value,
            info.id
        )?;
        if let Some(title) = &info.meta.title {
            write!(out, ", \"{title}\"")?;
        }
        if let Some(exp) = info.meta.expiration {
            write!(out, ", expires {}", format_timestamp(exp))?;
        }
        writeln!(out, "): {}", m.reason)?;
    }
    write!(out, "verdict:   {}", ex.verdict.decision.as_str())?;
    if ex.verdict.invalid {
        write!(out, " (invalid query)")?;
    }
    writeln!(out, ": {}", ex.reason)?;
    Ok(Status::Ok)
}
