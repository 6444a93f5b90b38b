//! The writer: read inputs, then write `.indset` bytes.
//!
//! [`Compiler`] is the front door; `build` (public with the `internals`
//! feature) writes the bytes of canonical indicators. By concern: the keys, their order and the chains of records
//! that share one (`compile/keys.rs`), the key automaton's builder
//! (`compile/fst_builder.rs`), the section writers
//! (`compile/sections.rs`) and the whole file (`compile/write.rs`). The
//! layout they write is [`crate::format`]'s.
//!
//! ```
//! use indset::{Compiler, Decision, Format, IndicatorSet, Mode, Options, Timestamp};
//!
//! let list = "block example.com\nallow partner.example.com\nwarn https://example.org/login\n";
//! let mut compiler = Compiler::new(Options::at(Timestamp(1_767_225_600)));
//! compiler.add_reader("list.txt", list.as_bytes(), Format::Text)?;
//! let compiled = compiler.finish();
//! assert_eq!(compiled.report.accepted(), 3);
//!
//! let set = IndicatorSet::from_bytes(compiled.bytes)?;
//! assert_eq!(set.check("https://www.example.com/", Mode::Full).decision, Decision::Block);
//! assert_eq!(set.check("https://partner.example.com/x", Mode::Full).decision, Decision::Allow);
//! assert_eq!(set.check("http://example.org/login?next=1", Mode::Full).decision, Decision::Warn);
//! assert_eq!(set.check("example.net", Mode::Domain).decision, Decision::None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, Read, Write};
use std::path::Path;

use crate::ingest::{Format, Ingester, Options, Report};

mod fst_builder;
mod keys;
mod sections;
mod write;

#[cfg(any(test, feature = "internals"))]
pub use keys::key;
#[cfg(any(test, feature = "internals"))]
pub use write::{build, build_with_every_key_in_the_automaton};

/// Reads indicator inputs and compiles them into `.indset` bytes.
///
/// Rows are validated, canonicalised, filtered (expiry, device group) and
/// merged as they are read; [`Compiler::finish`] sorts the accepted keys and
/// writes the set. Cost: linear in the input plus a sort of the accepted
/// keys; memory: the accepted indicators and the output bytes.
pub struct Compiler {
    ingester: Ingester,
}

/// The result of a compile.
pub struct Compiled {
    /// The `.indset` file's bytes; open them with
    /// [`IndicatorSet::from_bytes`](crate::IndicatorSet::from_bytes), or
    /// write them with [`write_file`](Compiled::write_file).
    pub bytes: Vec<u8>,
    /// What became of every input row.
    pub report: Report,
    /// How many indicators the set holds.
    pub indicators: usize,
}

impl Compiled {
    /// Writes the set to `path`, atomically: a new temporary file beside
    /// `path`, synced and renamed over it, so a reader that maps `path`
    /// sees the old set or the new one, never a mix. On failure the
    /// temporary file is removed and `path` is left as it was.
    pub fn write_file(&self, path: &Path) -> io::Result<()> {
        crate::format::write_atomically(path, |file| file.write_all(&self.bytes))
    }
}

impl Compiler {
    /// A compiler with the given clock and device group.
    pub fn new(opts: Options) -> Compiler {
        Compiler {
            ingester: Ingester::new(opts),
        }
    }

    /// Reads an input file. Content problems become diagnostics in the
    /// report; only an I/O error (a missing file, say) is an `Err`.
    pub fn add_path(&mut self, path: &Path, format: Format) -> io::Result<()> {
        self.ingester.read_path(path, format)
    }

    /// Reads an input from any reader, named `name` in diagnostics.
    pub fn add_reader<R: Read>(&mut self, name: &str, reader: R, format: Format) -> io::Result<()> {
        self.ingester.read(name, reader, format)
    }

    /// Calls `f` with the bytes read so far of the current input, for a
    /// progress bar.
    pub fn set_progress(&mut self, f: impl FnMut(u64) + 'static) {
        self.ingester.set_progress(f);
    }

    /// Calls `f` with every diagnostic as it is found, including those the
    /// report does not keep (see [`Ingester::on_diagnostic`]).
    pub fn on_diagnostic(&mut self, f: impl FnMut(&crate::Diagnostic) + 'static) {
        self.ingester.on_diagnostic(f);
    }

    /// What became of the rows read so far.
    pub fn report(&self) -> &Report {
        self.ingester.report()
    }

    /// Writes the set.
    pub fn finish(self) -> Compiled {
        // The set's bytes do not depend on the indicators' order: input
        // order saves `Ingester::finish`'s sort.
        let (indicators, report) = self.ingester.finish_unordered();
        let count = indicators.len();
        // The indicators are let go once the keys are sorted (on a thread
        // of their own for a large set), before the key automaton and the
        // file are made.
        let bytes = write::build_owned(indicators);
        Compiled {
            bytes,
            report,
            indicators: count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicator::Timestamp;

    const ROWS: &str = "block b.example.com\nallow a.example.com\nblock http://z.example.net/p?q=1\n\
                        warn example.org\nblock a.example.com\naudit m.example.com\n";

    #[test]
    fn writes_what_build_writes_from_the_sorted_indicators() {
        let opts = Options::at(Timestamp(1_700_000_000));
        let mut compiler = Compiler::new(opts.clone());
        compiler
            .add_reader("in.txt", ROWS.as_bytes(), Format::Text)
            .expect("reads");
        let compiled = compiler.finish();

        let mut ing = Ingester::new(opts);
        ing.read("in.txt", ROWS.as_bytes(), Format::Text)
            .expect("reads");
        let (sorted, report) = ing.finish();
        assert_eq!(compiled.bytes, build(&sorted));
        assert_eq!(compiled.indicators, sorted.len());
        assert_eq!(compiled.indicators, 5);
        assert_eq!(compiled.report.accepted(), report.accepted());
        assert_eq!(compiled.report.diagnostics(), report.diagnostics());
    }
}
