//! Readers for the four input formats, validation and the row accounting
//! (`docs/inputs.md` for users; this module doc is the detailed reference).
//!
//! An [`Ingester`] reads any number of inputs, in any of the formats of
//! [`Format`], and turns every *row* into exactly one outcome: accepted,
//! rejected (an error code), skipped (`expired`, `other-group`) or merged
//! (`duplicate`, `conflict`). Duplicates and conflicts are found across all
//! the inputs one `Ingester` reads. [`Ingester::finish`] returns the
//! accepted indicators and the [`Report`] with the counts and one
//! [`Diagnostic`] per problem.
//!
//! ```
//! use indset::ingest::{Format, Ingester, Options};
//! use indset::{Code, Timestamp};
//!
//! let csv = "IndicatorType,IndicatorValue,Action\n\
//!            DomainName,example.com,Block\n\
//!            IpAddress,1.2.3.4,Block\n\
//!            Url,https://example.org/bad,Warn\n\
//!            domainname,EXAMPLE.com.,block\n";
//! let mut ing = Ingester::new(Options::at(Timestamp(1_760_000_000)));
//! ing.read("feed.csv", csv.as_bytes(), Format::Auto).unwrap();
//! let (indicators, report) = ing.finish();
//!
//! assert_eq!(indicators.len(), 2);
//! assert_eq!(report.rejected_by(Code::IpIndicator), 1);
//! assert_eq!(report.merged_by(Code::Duplicate), 1);
//! assert_eq!(
//!     report.to_string(),
//!     "4 rows: 2 accepted, 1 rejected (1 ip-indicator), 0 skipped, 1 merged (1 duplicate)"
//! );
//! assert!(report.adds_up());
//! assert_eq!(
//!     report.diagnostics()[0].to_string(),
//!     "feed.csv:3: error[ip-indicator]: `1.2.3.4`: IpAddress indicators are not \
//!      supported on mobile; remove the row, or block the host names served from \
//!      that address as DomainName indicators"
//! );
//! ```
//!
//! # What is a row
//!
//! - `csv`: every RFC 4180 record after the header (the first record
//!   that is not a blank line). A quoted field may hold commas, `""` and
//!   line breaks: a multi-line description is one field of one row, and
//!   its line is the line where the record starts. When quoting is broken
//!   (a quote not closed by the end of the file, text after a closing
//!   quote, a quoted field still open after [`MAX_LINE_LEN`] bytes), where
//!   the fields end is a guess: that record is one `malformed-row` and
//!   reading of the file stops, with a whole-file diagnostic naming the
//!   line from which nothing was read, so that no text from inside a field
//!   is ever read as a row. A record over [`MAX_LINE_LEN`] bytes outside
//!   any quote is one `malformed-row`, read past without being held.
//! - `json`: every element of the indicator array. Its line is the line of
//!   the element's first byte.
//! - `text`: every line that is not blank and not a `#` comment. Adblock
//!   syntax (`! comment`, `||host^$all`, `@@||host^`, `[Adblock Plus]`) is
//!   not the text format: such lines are rows, rejected `malformed-row` with
//!   a message saying so, so that an adblock list fed as text is visibly
//!   refused rather than half read.
//! - `hosts`: every name after the address on a line (one row per name).
//!   The boilerplate names (`localhost`, `localhost.localdomain`, `local`,
//!   `broadcasthost`, `ip6-*`, `0.0.0.0`) are not indicator rows at all,
//!   like comments: they are neither counted nor reported. A line whose
//!   first word is not an IP address, or that has no name, is one
//!   `malformed-row` row.
//!
//! # Order of checks
//!
//! A row with several problems gets the code of the first failing check:
//!
//! 1. the row can be read (`malformed-row`: broken quoting, a line or
//!    record over [`MAX_LINE_LEN`], a wrong number of CSV fields, bad
//!    UTF-8, a JSON element that is not an object);
//! 2. every field within its size limit (`too-long`, naming the field and
//!    the limit; see below);
//! 3. the type (`unsupported-type`; `ip-indicator` or `reserved-address`
//!    for `IpAddress`): the type decides how the value is read;
//! 4. the action (`unsupported-action`);
//! 5. the value, through [`canon::indicator`](crate::canon::indicator)
//!    (`ip-indicator`, `reserved-address`, `wildcard`, `invalid-host`,
//!    `unsupported-scheme`, `domain-with-path`, `too-long`);
//! 6. the expiration time (`bad-expiration`);
//! 7. skips: `expired`, then `other-group`;
//! 8. merges against the rows read before: `duplicate`, `conflict`;
//! 9. the `public-suffix` warning, for a newly accepted `DomainName`.
//!
//! An accepted row whose `Severity` or `GenerateAlert` is not one of the
//! portal's values keeps the rest of its fields and gets an
//! `ignored-value` warning naming the value.
//!
//! # Size limits
//!
//! So that neither the ingest nor the compiled set holds what an input
//! chose to make huge, a row with a field over its limit is rejected
//! `too-long` (limits in bytes as read, after CSV unquoting or JSON
//! unescaping):
//!
//! | field | limit |
//! |---|---|
//! | a CSV record, a text or hosts line | [`MAX_LINE_LEN`] (1 MiB) |
//! | a JSON element | [`MAX_LINE_LEN`] (1 MiB); over it, the element is one `too-long` row and reading stops with a whole-file diagnostic (JSON cannot be resynchronised) |
//! | `IndicatorValue` | 8 KiB (a URL is then held to 2,048 bytes once canonical) |
//! | `Description` | 32 KiB; in JSON, a longer string is never held, whatever its field |
//! | `Title` | 1 KiB |
//! | `Category`, `Id`, each `RbacGroups` name | 256 bytes |
//! | the number of `RbacGroups` names | 256 |
//! | `IndicatorType`, `Action`, `ExpirationTime`, `Severity`, `GenerateAlert` | 64 bytes |
//!
//! The [`Report`] keeps the first [`MAX_DIAGNOSTICS_PER_CODE`] diagnostics
//! of each code and counts the rest, so that memory grows with the
//! distinct keys, not the rows; [`Ingester::on_diagnostic`] sees every
//! one as it is found.
//!
//! # NUL bytes
//!
//! A NUL byte is never text, so a row holding one is `malformed-row`, its
//! message naming the column (a text or hosts line's byte column, a CSV
//! column's name, a JSON field's name), wherever it is in the file and in
//! every format: a stray NUL costs its row, not the file. In JSON a raw
//! NUL inside a string counts as part of that field; outside any string it
//! is a syntax error like any stray byte.
//!
//! # Whole-file problems
//!
//! A file that cannot be read as its format at all (empty, UTF-16, a
//! compressed or binary format known by its first bytes: gzip, zstd, zip,
//! xz, bzip2, 7-Zip, a compiled `.indset` set, an executable; JSON that is
//! not an indicator list, a CSV header without the required columns, a
//! JSON syntax error between elements) gets one `malformed-row` diagnostic
//! that does not stand for a row; [`Report::file_errors`] counts them. So
//! does a CSV file whose quoting breaks (see above): its diagnostic names
//! the line from which nothing was read. Line 0 means the whole file. A CSV file whose header lacks a
//! required column still counts its rows: each is rejected `malformed-row`
//! (without a diagnostic of its own; the header's diagnostic gives the
//! count), so the accounting holds.
//!
//! Input/output errors (a missing file, a failing read) are returned as
//! `Err` and stop that input; the rows read before stay counted.

use std::io::{self, BufReader, Cursor, Read};
use std::path::Path;
use std::sync::Arc;

use crate::diag::Diagnostic;
use crate::indicator::{Indicator, Kind};

mod csv;
mod detect;
mod hosts;
mod json;
mod lines;
mod merge;
mod options;
mod report;
mod sink;
mod text;
mod time;
mod validate;
mod worker;

pub use detect::{Format, UnknownFormat};
pub use lines::{Line, Lines, MAX_LINE_LEN};
pub use options::Options;
pub use report::{MAX_DIAGNOSTICS_PER_CODE, Report};
pub use time::{format_timestamp, parse_timestamp};

use detect::unreadable;
use merge::State;
use sink::Sink;
use worker::Worker;

/// How many bytes [`Ingester`] looks at to detect the format and spot a
/// binary file.
const HEAD_LEN: u64 = 8192;

/// Reads indicator inputs and keeps the accounting across all of them.
///
/// Cost: one pass over each input, holding at most one line (or one JSON
/// element, or one CSV record) of its text and three batches of 8,192 rows
/// at a time, plus the accepted indicators and at most
/// [`MAX_DIAGNOSTICS_PER_CODE`] diagnostics of each code. On a machine with more
/// than one core ([`std::thread::available_parallelism`]), an input of
/// more than one batch is validated on a scoped worker thread while the
/// calling thread reads on; counts and diagnostics keep the input order.
/// The batches' storage (rows and results) is reused from one batch to
/// the next for the length of an input.
pub struct Ingester {
    opts: Options,
    state: State,
    progress: Option<Box<dyn FnMut(u64)>>,
    on_diagnostic: Option<Box<OnDiagnostic>>,
}

/// A callback that sees every diagnostic as it is found.
type OnDiagnostic = dyn FnMut(&Diagnostic);

impl Ingester {
    /// An ingester with no input read yet.
    pub fn new(opts: Options) -> Ingester {
        Ingester {
            opts,
            state: State::default(),
            progress: None,
            on_diagnostic: None,
        }
    }

    /// Reads the file at `path` in `format` ([`Format::Auto`] looks at the
    /// file name, then the content). The file's name in diagnostics is
    /// `path` as given.
    ///
    /// Errors: only input/output errors (a missing or unreadable file);
    /// problems in the content are diagnostics in the [`Report`].
    pub fn read_path(&mut self, path: &Path, format: Format) -> io::Result<()> {
        let file = std::fs::File::open(path)?;
        self.read(&path.to_string_lossy(), file, format)
    }

    /// Reads one input from `reader`, named `name` in diagnostics (and used
    /// for [`Format::Auto`]'s extension check). The reader is read once,
    /// in a streaming fashion; it need not be buffered.
    ///
    /// Errors: only the reader's input/output errors; the rows read before
    /// the error stay counted.
    ///
    /// ```
    /// use indset::ingest::{Format, Ingester, Options};
    /// use indset::{Code, Timestamp};
    ///
    /// let mut ing = Ingester::new(Options::at(Timestamp(0)));
    /// let list = "# my list\nallow partner.example.com\nexample.com\n*.ads.example\n";
    /// ing.read("list.txt", list.as_bytes(), Format::Text).unwrap();
    /// assert_eq!(ing.report().accepted(), 2);
    /// assert_eq!(ing.report().rejected_by(Code::Wildcard), 1);
    /// assert_eq!(ing.report().diagnostics()[0].line, 4);
    /// ```
    pub fn read<R: Read>(&mut self, name: &str, reader: R, format: Format) -> io::Result<()> {
        let file: Arc<str> = Arc::from(name);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let opts = &self.opts;
        let state = &mut self.state;
        let progress = self.progress.as_deref_mut();
        let on_diagnostic = self.on_diagnostic.as_deref_mut();
        std::thread::scope(|scope| {
            let spawn = (threads > 1).then(|| {
                let file = Arc::clone(&file);
                Box::new(move || Worker::spawn(scope, opts, file, threads - 1))
                    as Box<dyn FnOnce() -> Worker + '_>
            });
            let mut sink = Sink::new(file, opts, state, on_diagnostic, spawn);
            read_into(&mut sink, name, reader, format, progress)
        })
    }

    /// Calls `f` with the number of bytes read so far from the current
    /// input, every 256 KiB and once at its end (for a progress bar).
    pub fn set_progress(&mut self, f: impl FnMut(u64) + 'static) {
        self.progress = Some(Box::new(f));
    }

    /// Calls `f` with every diagnostic as it is found, in the order of
    /// [`Report::diagnostics`], including those the report does not keep
    /// past [`MAX_DIAGNOSTICS_PER_CODE`] (to print them as they stream).
    pub fn on_diagnostic(&mut self, f: impl FnMut(&Diagnostic) + 'static) {
        self.on_diagnostic = Some(Box::new(f));
    }

    /// The report so far.
    pub fn report(&self) -> &Report {
        &self.state.report
    }

    /// The accepted indicators, sorted by kind, host and path (so the same
    /// inputs give the same order), and the report.
    pub fn finish(self) -> (Vec<Indicator>, Report) {
        let (mut out, report) = self.finish_unordered();
        // Sort (prefix, index) pairs rather than the large indicators: the
        // first bytes of kind and host decide most comparisons without
        // touching the strings. Keys are unique, so any sort gives the
        // same order.
        let mut order: Vec<(u64, u32)> = out
            .iter()
            .enumerate()
            .map(|(i, ind)| (sort_prefix(ind), i as u32))
            .collect();
        order.sort_unstable_by(|&(pa, a), &(pb, b)| {
            pa.cmp(&pb).then_with(|| {
                let (a, b) = (&out[a as usize], &out[b as usize]);
                (a.kind, &a.host, &a.path, a.action).cmp(&(b.kind, &b.host, &b.path, b.action))
            })
        });
        let mut order: Vec<u32> = order.into_iter().map(|(_, i)| i).collect();
        permute(&mut out, &mut order);
        (out, report)
    }

    /// The accepted indicators in the order their keys were first accepted
    /// (input order; the same inputs give the same order), and the report.
    ///
    /// For a caller that does not need [`Ingester::finish`]'s order, such
    /// as [`build`](crate::compile::build), whose output does not depend on
    /// it: it saves a sort, and the indicators stay in the order their
    /// strings were allocated, so reading and freeing them walks memory in
    /// order.
    pub(crate) fn finish_unordered(mut self) -> (Vec<Indicator>, Report) {
        // The `conflict` of each row held for after another expires is
        // final only now that every row is read.
        for d in self.state.pending_diagnostics() {
            if let Some(f) = self.on_diagnostic.as_deref_mut() {
                f(&d);
            }
            self.state.report.keep(d);
        }
        drop(self.state.index);
        let mut accepted = self.state.accepted;
        accepted.extend(self.state.others.into_values().flatten().map(|h| h.ind));
        (accepted, self.state.report)
    }
}

/// A number whose order agrees with the order of (kind, host): the kind,
/// then the host's first seven bytes, zero-padded (zero sorts first, as a
/// shorter string does).
fn sort_prefix(ind: &Indicator) -> u64 {
    let mut b = [0u8; 8];
    b[0] = match ind.kind {
        Kind::DomainName => 0,
        Kind::Url => 1,
    };
    let host = ind.host.as_bytes();
    let n = host.len().min(7);
    b[1..1 + n].copy_from_slice(&host[..n]);
    u64::from_be_bytes(b)
}

/// Reorders `v` so that position `k` holds the element that was at
/// `order[k]`, in place (`order` is a permutation; it is used up).
fn permute<T>(v: &mut [T], order: &mut [u32]) {
    for start in 0..order.len() {
        let mut k = start;
        loop {
            let from = order[k] as usize;
            order[k] = k as u32;
            if from == start || from == k {
                break;
            }
            v.swap(k, from);
            k = from;
        }
    }
}

/// Reads one input into `sink` (see [`Ingester::read`]).
fn read_into<R: Read>(
    sink: &mut Sink<'_>,
    name: &str,
    reader: R,
    format: Format,
    progress: Option<&mut (dyn FnMut(u64) + 'static)>,
) -> io::Result<()> {
    let mut counting = lines::Counting::new(reader, progress);
    let mut head = Vec::with_capacity(HEAD_LEN as usize);
    (&mut counting).take(HEAD_LEN).read_to_end(&mut head)?;
    let bom = head.starts_with(b"\xEF\xBB\xBF");
    let body = if bom { &head[3..] } else { &head[..] };
    let whole = (head.len() as u64) < HEAD_LEN;
    if let Some(message) = unreadable(body, whole) {
        sink.file_error(0, message);
        counting.finish();
        return Ok(());
    }
    let format = format.detect(name, body);
    let mut cursor = Cursor::new(head);
    cursor.set_position(if bom { 3 } else { 0 });
    let mut input = BufReader::with_capacity(64 * 1024, cursor.chain(&mut counting));
    let read = match format {
        Format::Csv => csv::read(&mut input, sink),
        Format::Json => json::read(&mut input, sink),
        Format::Hosts => hosts::read(&mut input, sink),
        Format::Text | Format::Auto => text::read(&mut input, sink),
    };
    // The rows read before an error stay counted.
    sink.settle();
    read?;
    drop(input);
    counting.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permute_follows_every_cycle() {
        let orders: [&[u32]; 4] = [&[], &[0, 1, 2], &[2, 0, 1], &[3, 2, 1, 0, 5, 4, 6]];
        for order in orders {
            let mut v: Vec<u32> = (0..order.len() as u32).map(|i| i * 10).collect();
            permute(&mut v, &mut order.to_vec());
            let want: Vec<u32> = order.iter().map(|&i| i * 10).collect();
            assert_eq!(v, want, "{order:?}");
        }
    }
}
