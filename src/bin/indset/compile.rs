//! `indset compile`: read indicator files, report every row, write a set.

use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use indset::{Code, Compiler, Diagnostic, Format, Options, Timestamp};

use crate::Status;

/// Compile indicator files into a `.indset` set.
///
/// Every input row is accepted, rejected (error), skipped (note) or merged
/// (warning); each non-accepted row gets a diagnostic on stderr
/// (`<file>:<line>: <level>[<code>]: <message>`) and the summary counts add
/// up to the number of rows. Rejected rows do not stop the compile unless
/// `--strict` is given.
///
/// An input that cannot be read as an indicator list at all (empty, binary,
/// not an indicator list) stops the compile, and so does a set of no
/// indicators unless `--allow-empty` is given: both exit 2 and leave the
/// output file as it was. The output and the report must not name an input
/// or each other.
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
    /// Write the set even when it holds no indicators. Without it, a
    /// compile that accepts nothing exits 2 and leaves the output alone.
    #[arg(long)]
    allow_empty: bool,
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
    check_outputs(&args)?;
    let now = args.now.unwrap_or_else(Timestamp::now);
    let opts = match &args.device_group {
        Some(group) => Options::at(now).device_group(group.as_str()),
        None => Options::at(now),
    };
    let mut compiler = Compiler::new(opts);
    // Printed as found (buffered: a list of a million duplicates is a
    // million lines), flushed when the compiler lets go of it, before the
    // summary: the report keeps only the first of each code. A closed
    // stderr does not stop the compile.
    let mut diagnostics = io::BufWriter::with_capacity(64 * 1024, io::stderr());
    compiler.on_diagnostic(move |d| {
        let _ = writeln!(diagnostics, "{d}");
    });
    let mut unreadable = Vec::new();
    for input in &args.inputs {
        let bar = progress_bar(input)?;
        if let Some(bar) = &bar {
            let b = bar.clone();
            compiler.set_progress(move |bytes| b.set_position(bytes));
        }
        let name = input.display().to_string();
        let file_errors = compiler.report().file_errors();
        let seen = compiler.report().diagnostics().len();
        compiler
            .add_path(input, args.format)
            .with_context(|| format!("cannot read {name}"))?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let report = compiler.report();
        if report.file_errors() > file_errors {
            let new = report.diagnostics().get(seen..).unwrap_or_default();
            unreadable.push(why_unreadable(&name, new));
        }
    }
    let compiled = compiler.finish();
    let report = &compiled.report;
    let mut stderr = OpenOrClosed(io::stderr().lock());
    if let Some(path) = &args.report {
        let json = crate::output::report_json(report);
        fs::write(path, format!("{json:#}\n"))
            .with_context(|| format!("cannot write the report to {}", path.display()))?;
    }
    writeln!(stderr, "indset: {report}")?;
    let kept = kept(&args.output);
    if !unreadable.is_empty() {
        bail!(
            "{}; no set written{kept}: fix or remove the input",
            unreadable.join("; ")
        );
    }
    let rejected = report.rejected();
    if args.strict && rejected > 0 {
        writeln!(
            stderr,
            "indset: {rejected} row(s) rejected under --strict: no set written{kept}; fix them or drop --strict"
        )?;
        return Ok(Status::Rejected);
    }
    if compiled.indicators == 0 && !args.allow_empty {
        bail!(
            "no indicator accepted, so the set would be empty: no set written{kept}; \
             check the inputs and the diagnostics above, or pass --allow-empty to write an empty set"
        );
    }
    compiled
        .write_file(&args.output)
        .with_context(|| format!("cannot write the set to {}", args.output.display()))?;
    // Merged rows kept for after the rows before them expire are in the
    // set too: say so, so that the count adds up with the summary's.
    let later = (compiled.indicators as u64).saturating_sub(report.accepted());
    let kept = match later {
        0 => String::new(),
        n => format!(", {n} of them merged rows that apply once the rows before them expire"),
    };
    writeln!(
        stderr,
        "indset: wrote {} ({} indicators{kept}, {} bytes)",
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

/// Why input `name` could not be read: where the whole-file diagnostic
/// among `new` (the diagnostics its reading added) is, when it is the only
/// one (its message is printed above; it is not repeated).
fn why_unreadable(name: &str, new: &[Diagnostic]) -> String {
    let mut malformed = new.iter().filter(|d| d.code == Code::MalformedRow);
    match (malformed.next(), malformed.next()) {
        (Some(d), None) => format!(
            "{name} cannot be read as an indicator list (the error at {}:{} above says why)",
            d.file, d.line
        ),
        _ => format!(
            "{name} cannot be read as an indicator list (the malformed-row errors above say why)"
        ),
    }
}

/// `, OUT left as it was` when the output exists.
fn kept(output: &Path) -> String {
    if output.exists() {
        format!(" ({} left as it was)", output.display())
    } else {
        String::new()
    }
}

/// Refuses, before anything is read, an output or report that would
/// overwrite an input or each other, or that cannot be written.
fn check_outputs(args: &Args) -> Result<()> {
    let output = &args.output;
    for input in &args.inputs {
        if same_file(output, input) {
            bail!(
                "-o {} is also the input {}: writing the set would destroy it; choose another output file",
                output.display(),
                input.display()
            );
        }
        if let Some(report) = &args.report {
            if same_file(report, input) {
                bail!(
                    "--report {} is also the input {}: writing the report would destroy it; choose another report file",
                    report.display(),
                    input.display()
                );
            }
        }
    }
    if let Some(report) = &args.report {
        if same_file(report, output) {
            bail!(
                "--report {} is also the output -o {}: give the report and the set different files",
                report.display(),
                output.display()
            );
        }
        check_writable(report, "the report")?;
    }
    check_writable(output, "the set")
}

/// Whether `a` and `b` name the same file: the same device and inode when
/// both exist, else the same canonical path (the directory canonicalised
/// when the file does not exist yet).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    if let (Ok(ma), Ok(mb)) = (fs::metadata(a), fs::metadata(b)) {
        use std::os::unix::fs::MetadataExt;
        return ma.dev() == mb.dev() && ma.ino() == mb.ino();
    }
    match (full_path(a), full_path(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

fn full_path(path: &Path) -> Option<PathBuf> {
    if let Ok(full) = fs::canonicalize(path) {
        return Some(full);
    }
    Some(
        fs::canonicalize(directory_of(path))
            .ok()?
            .join(path.file_name()?),
    )
}

/// The directory a file at `path` goes into.
fn directory_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Refuses a `path` that a file cannot be written to, naming the real
/// problem (the temporary file beside it would fail with a less helpful
/// message).
fn check_writable(path: &Path, what: &str) -> Result<()> {
    let dir = directory_of(path);
    match fs::metadata(dir) {
        Err(_) => bail!(
            "cannot write {what} to {}: the directory {} does not exist; create it first",
            path.display(),
            dir.display()
        ),
        Ok(meta) if !meta.is_dir() => bail!(
            "cannot write {what} to {}: {} is not a directory",
            path.display(),
            dir.display()
        ),
        Ok(_) => {}
    }
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => bail!(
            "cannot write {what} to {}: it is a directory; give a file name inside it",
            path.display()
        ),
        // Renaming over a device or a FIFO would replace it, not write to it.
        Ok(meta) if !meta.is_file() => bail!(
            "cannot write {what} to {}: it is not a regular file; give the name of a file",
            path.display()
        ),
        _ => Ok(()),
    }
}

/// Stderr for diagnostics, where a closed pipe (`indset compile ... 2>&1 |
/// head`) is not a reason to leave the set unwritten: writes to it succeed
/// once the reader has gone.
struct OpenOrClosed<W>(W);

impl<W: Write> Write for OpenOrClosed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0.write(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(buf.len()),
            other => other,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.0.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}
