//! `indset compile`: read indicator files, report every row, write a set.

use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use indset::compile::Compiler;
use indset::ingest::{Format, Options};
use indset::{Level, Timestamp};

use crate::Status;

/// Compile indicator files into a `.indset` set.
///
/// Every input row is accepted, rejected (error), skipped (note) or merged
/// (warning); each non-accepted row gets a diagnostic on stderr
/// (`<file>:<line>: <level>[<code>]: <message>`) and the summary counts add
/// up to the number of rows. Rejected rows do not stop the compile unless
/// `--strict` is given.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  indset compile -o set.indset data/urlhaus-indicators.csv
  indset compile --format hosts -o ads.indset blocklist
  indset compile --device-group Sales --now 2026-01-01T00:00:00Z --report report.json -o sales.indset portal.csv
  indset compile --strict -o set.indset portal.csv || echo 'fix the rows above'")]
pub struct Args {
    /// Input format; `auto` chooses by file extension, then by content.
    #[arg(long, default_value = "auto", value_parser = parse_format)]
    format: Format,
    /// Keep only indicators for this device group (and those for all groups).
    #[arg(long, value_name = "NAME")]
    device_group: Option<String>,
    /// The compile time (RFC 3339): indicators expired by then are skipped.
    /// Default: now.
    #[arg(long, value_name = "RFC3339", value_parser = crate::output::parse_now)]
    now: Option<Timestamp>,
    /// Exit 1 and write no set when any row is rejected.
    #[arg(long)]
    strict: bool,
    /// Also write the counts and every diagnostic as JSON to this file.
    #[arg(long, value_name = "FILE.json")]
    report: Option<PathBuf>,
    /// Where to write the compiled set.
    #[arg(short, long, value_name = "OUT.indset")]
    output: PathBuf,
    /// Indicator files (CSV import files, REST API JSON, text lists, hosts files).
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse::<Format>().map_err(|e| e.to_string())
}

pub fn run(args: Args) -> Result<Status> {
    let now = args.now.unwrap_or_else(crate::output::system_now);
    let mut compiler = Compiler::new(Options {
        now,
        device_group: args.device_group.clone(),
    });
    // Printed as found: the report keeps only the first of each code.
    compiler.on_diagnostic(|d| {
        let _ = writeln!(io::stderr(), "{d}");
    });
    for input in &args.inputs {
        let bar = progress_bar(input)?;
        if let Some(bar) = &bar {
            let b = bar.clone();
            compiler.set_progress(move |bytes| b.set_position(bytes));
        }
        let name = input.display().to_string();
        compiler
            .add_path(input, args.format)
            .with_context(|| format!("cannot read {name}"))?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
    }
    let compiled = compiler.finish();
    let report = &compiled.report;
    let mut stderr = io::stderr().lock();
    if let Some(path) = &args.report {
        let json = crate::output::report_json(report);
        fs::write(path, format!("{json:#}\n"))
            .with_context(|| format!("cannot write the report to {}", path.display()))?;
    }
    let errors = report
        .diagnostics()
        .iter()
        .filter(|d| d.level() == Level::Error)
        .count();
    writeln!(stderr, "indset: {report}")?;
    if args.strict && errors > 0 {
        writeln!(
            stderr,
            "indset: {errors} row(s) rejected under --strict: no set written; fix them or drop --strict"
        )?;
        return Ok(Status::Rejected);
    }
    write_atomically(&args.output, &compiled.bytes)?;
    writeln!(
        stderr,
        "indset: wrote {} ({} indicators, {} bytes)",
        args.output.display(),
        compiled.indicators,
        compiled.bytes.len()
    )?;
    Ok(Status::Ok)
}

/// A progress bar over the input's bytes, only when stderr is a terminal.
fn progress_bar(input: &Path) -> Result<Option<ProgressBar>> {
    if !io::stderr().is_terminal() {
        return Ok(None);
    }
    let len = fs::metadata(input)
        .with_context(|| format!("cannot read {}", input.display()))?
        .len();
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {eta}")?
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(input.display().to_string());
    Ok(Some(bar))
}

/// Writes to a temporary file beside `path` and renames it into place, so a
/// reader that maps `path` never sees a half-written set.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot move the set into {}", path.display()))
}
