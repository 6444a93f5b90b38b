//! The `indset` command line: compile indicator lists into a set, look up
//! URLs and hosts, explain a verdict, inspect a set, scan logs, serve a set
//! as a local proxy and DNS forwarder.
//!
//! Exit codes: 0 success (rejected rows included, unless `--strict`), 1 rows
//! rejected under `--strict`, 2 usage, input/output or corrupt-set errors.

mod compile;
mod explain;
mod inspect;
mod lookup;
mod output;
mod scan;
#[cfg(feature = "serve")]
mod serve;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Compile URL and domain threat indicators into a set, and decide block,
/// warn, allow or audit for URLs and hosts.
#[derive(Parser)]
#[command(name = "indset", version, about, long_about = None)]
#[command(after_help = "\
Examples:
  indset compile -o set.indset data/urlhaus-indicators.csv data/stevenblack-hosts-2019.txt
  indset lookup --set set.indset https://example.com/bad
  indset explain --set set.indset https://a.example.com/x
  indset inspect set.indset
  indset scan --set set.indset --summary proxy/access.log.gz
  indset serve --set set.indset --proxy 127.0.0.1:8080")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Compile(compile::Args),
    Lookup(lookup::Args),
    Explain(explain::Args),
    Inspect(inspect::Args),
    Scan(scan::Args),
    #[cfg(feature = "serve")]
    Serve(serve::Args),
}

/// How a subcommand ended, when it did not fail outright.
pub enum Status {
    /// Exit 0.
    Ok,
    /// Exit 1: rows were rejected under `--strict`.
    Rejected,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compile(args) => compile::run(args),
        Command::Lookup(args) => lookup::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Scan(args) => scan::run(args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::run(args),
    };
    match result {
        Ok(Status::Ok) => ExitCode::SUCCESS,
        Ok(Status::Rejected) => ExitCode::from(1),
        // A reader that went away (`indset lookup ... | head -1`) wants no
        // more output; that is how a pipeline ends, not a failure.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // Nothing is left to tell the user if stderr itself is closed.
            let _ = writeln!(io::stderr(), "indset: error: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, `: `-separated, each cause once: a cause whose
/// text its wrapper's message already ends with is left out (the library's
/// errors quote their source, as `FormatError::Io` does).
fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// Whether `e` comes from writing to a pipe whose reader has gone.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        let kind = match cause.downcast_ref::<io::Error>() {
            Some(io) => Some(io.kind()),
            None => cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind),
        };
        kind == Some(io::ErrorKind::BrokenPipe)
    })
}
