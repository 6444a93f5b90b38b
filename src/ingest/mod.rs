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

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use hashbrown::HashTable;
use std::io::{self, BufReader, Cursor, Read};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::mpsc;

use crate::diag::{Code, Diagnostic, Outcome};
use crate::indicator::{Indicator, Kind, Timestamp};

mod csv;
mod hosts;
mod json;
mod lines;
mod text;
mod time;
mod validate;

pub use lines::MAX_LINE_LEN;
pub use time::{format_timestamp, parse_timestamp};

use validate::RawRow;

/// An input format (`docs/inputs.md`, Formats), as given to `--format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// Choose by content, then by file extension (the default): a first
    /// line naming the `IndicatorType` and `IndicatorValue` columns is csv
    /// whatever the name (a portal export saved as `.txt` is still csv);
    /// else `.csv` is csv, `.json` json, a file named `hosts` or ending in
    /// `.hosts` hosts; `.txt` and `.list` are text or hosts by content;
    /// anything else by content: `[` or `{` first is json, a first line
    /// `<IP address> <name>` hosts, else text.
    #[default]
    Auto,
    /// The portal's indicator import file.
    Csv,
    /// The portal's REST API indicator entities.
    Json,
    /// One indicator a line, with an optional leading action word.
    Text,
    /// A hosts file: every name is a Block `DomainName`.
    Hosts,
}

impl Format {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [Format; 5] = [
        Format::Auto,
        Format::Csv,
        Format::Json,
        Format::Text,
        Format::Hosts,
    ];

    /// The name used by `--format`: `auto`, `csv`, `json`, `text`, `hosts`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Text => "text",
            Format::Hosts => "hosts",
        }
    }

    /// Resolves [`Format::Auto`] for an input named `name` whose first
    /// bytes are `head`; any other format is returned as it is.
    pub fn detect(self, name: &str, head: &[u8]) -> Format {
        if self != Format::Auto {
            return self;
        }
        // A header row is unmistakable, and read as another format its
        // rows would become junk hosts.
        if csv::looks_like_csv(head) {
            return Format::Csv;
        }
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        let ext = base
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "csv" => return Format::Csv,
            "json" => return Format::Json,
            "hosts" => return Format::Hosts,
            _ if base.eq_ignore_ascii_case("hosts") => return Format::Hosts,
            "txt" | "list" => {
                return if hosts::looks_like_hosts(head) {
                    Format::Hosts
                } else {
                    Format::Text
                };
            }
            _ => {}
        }
        let first = head.iter().find(|b| !b.is_ascii_whitespace());
        if matches!(first, Some(b'[' | b'{')) {
            Format::Json
        } else if hosts::looks_like_hosts(head) {
            Format::Hosts
        } else {
            Format::Text
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown `--format` name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown format `{}`: use auto, csv, json, text or hosts",
            self.0
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Parses `auto`, `csv`, `json`, `text` or `hosts` (case-insensitive).
    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}

/// What an [`Ingester`] needs to know besides its inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The compile time: an indicator expiring at or before it is skipped
    /// as `expired`. Injectable so that tests and `--now` are reproducible.
    pub now: Timestamp,
    /// Compile for this device group: indicators naming only other groups
    /// are skipped as `other-group` (case-insensitive; an indicator with no
    /// group applies to all). `None` (the default) keeps every group.
    pub device_group: Option<String>,
}

impl Options {
    /// Options for compiling at `now`, for all device groups.
    pub fn at(now: Timestamp) -> Options {
        Options {
            now,
            device_group: None,
        }
    }

    /// Options for compiling at the current system time, for all device
    /// groups.
    pub fn now() -> Options {
        Options::at(Timestamp::now())
    }

    /// The same options, compiling for device group `group`.
    pub fn device_group(mut self, group: impl Into<String>) -> Options {
        self.device_group = Some(group.into());
        self
    }
}

/// How many diagnostics of each code a [`Report`] keeps. Past it, the
/// diagnostics of that code are counted ([`Report::omitted_by`]) but not
/// kept, so that the memory of an ingest grows with its distinct keys, not
/// its rows; [`Ingester::on_diagnostic`] sees every one.
pub const MAX_DIAGNOSTICS_PER_CODE: usize = 1000;

/// The outcome of ingestion: row counts per outcome and code, and the
/// first [`MAX_DIAGNOSTICS_PER_CODE`] diagnostics of each code, in the
/// order they were found.
///
/// Invariant (checked by [`Report::adds_up`]): `accepted + rejected +
/// skipped + merged == rows`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    rows: u64,
    accepted: u64,
    rejected: BTreeMap<Code, u64>,
    skipped: BTreeMap<Code, u64>,
    merged: BTreeMap<Code, u64>,
    public_suffixes: u64,
    ignored_values: u64,
    file_errors: u64,
    /// The diagnostics kept; add one only through [`Report::keep`].
    kept: Vec<Diagnostic>,
    kept_by: BTreeMap<Code, usize>,
    omitted: BTreeMap<Code, u64>,
}

impl Report {
    /// The number of indicator rows read.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The number of rows accepted (including `public-suffix` and
    /// `ignored-value` warnings).
    pub fn accepted(&self) -> u64 {
        self.accepted
    }

    /// The number of rows rejected, all codes together.
    pub fn rejected(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// The number of rows rejected with `code` (0 for a code that does not
    /// reject).
    pub fn rejected_by(&self, code: Code) -> u64 {
        self.rejected.get(&code).copied().unwrap_or(0)
    }

    /// The number of rows skipped (`expired`, `other-group`).
    pub fn skipped(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// The number of rows skipped with `code`.
    pub fn skipped_by(&self, code: Code) -> u64 {
        self.skipped.get(&code).copied().unwrap_or(0)
    }

    /// The number of rows merged into another (`duplicate`, `conflict`).
    pub fn merged(&self) -> u64 {
        self.merged.values().sum()
    }

    /// The number of rows merged with `code`.
    pub fn merged_by(&self, code: Code) -> u64 {
        self.merged.get(&code).copied().unwrap_or(0)
    }

    /// The number of `public-suffix` warnings (accepted rows).
    pub fn public_suffixes(&self) -> u64 {
        self.public_suffixes
    }

    /// The number of `ignored-value` warnings (accepted rows without a
    /// field whose value is not one of the portal's).
    pub fn ignored_values(&self) -> u64 {
        self.ignored_values
    }

    /// The number of whole-file problems (empty, binary, not an indicator
    /// list, CSV header without the required columns, JSON syntax error
    /// between elements). They are diagnostics but not rows.
    pub fn file_errors(&self) -> u64 {
        self.file_errors
    }

    /// The diagnostics kept, in the order found: every one up to
    /// [`MAX_DIAGNOSTICS_PER_CODE`] of each code, then none of that code
    /// ([`Report::omitted`] counts them).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.kept
    }

    /// The number of diagnostics found but not kept, all codes together.
    pub fn omitted(&self) -> u64 {
        self.omitted.values().sum()
    }

    /// The number of diagnostics with `code` found but not kept.
    pub fn omitted_by(&self, code: Code) -> u64 {
        self.omitted.get(&code).copied().unwrap_or(0)
    }

    /// Keeps `d`, or counts it when its code has all the diagnostics a
    /// report keeps.
    fn keep(&mut self, d: Diagnostic) {
        let kept = self.kept_by.entry(d.code).or_insert(0);
        if *kept < MAX_DIAGNOSTICS_PER_CODE {
            *kept += 1;
            self.kept.push(d);
        } else {
            *self.omitted.entry(d.code).or_insert(0) += 1;
        }
    }

    /// Whether every row has exactly one outcome: `accepted + rejected +
    /// skipped + merged == rows`.
    pub fn adds_up(&self) -> bool {
        self.accepted + self.rejected() + self.skipped() + self.merged() == self.rows
    }

    fn count(&mut self, code: Code) {
        let map = match code.outcome() {
            Outcome::Rejected => &mut self.rejected,
            Outcome::Skipped => &mut self.skipped,
            Outcome::Merged => &mut self.merged,
            Outcome::Accepted => {
                self.accepted += 1;
                return;
            }
        };
        *map.entry(code).or_insert(0) += 1;
    }
}

/// Writes `N word` and, when N > 0, the counts per code: `2 rejected (1
/// wildcard, 1 ip-indicator)`.
fn write_counts(
    f: &mut fmt::Formatter<'_>,
    total: u64,
    word: &str,
    by: &BTreeMap<Code, u64>,
) -> fmt::Result {
    write!(f, "{total} {word}")?;
    let mut sep = " (";
    for (code, n) in by.iter().filter(|(_, n)| **n > 0) {
        write!(f, "{sep}{n} {code}")?;
        sep = ", ";
    }
    if sep == ", " {
        f.write_str(")")?;
    }
    Ok(())
}

impl fmt::Display for Report {
    /// One summary line, e.g. `6254 rows: 3947 accepted, 2307 rejected
    /// (2307 ip-indicator), 0 skipped, 0 merged`, followed by `; N
    /// unreadable files` when there were whole-file problems and `; N
    /// diagnostics not kept in the report (N duplicate)` when some were
    /// only counted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rows: {} accepted, ", self.rows, self.accepted)?;
        write_counts(f, self.rejected(), "rejected", &self.rejected)?;
        f.write_str(", ")?;
        write_counts(f, self.skipped(), "skipped", &self.skipped)?;
        f.write_str(", ")?;
        write_counts(f, self.merged(), "merged", &self.merged)?;
        match self.file_errors {
            0 => {}
            1 => f.write_str("; 1 unreadable file")?,
            n => write!(f, "; {n} unreadable files")?,
        }
        match self.omitted() {
            0 => Ok(()),
            n => {
                let word = if n == 1 { "diagnostic" } else { "diagnostics" };
                f.write_str("; ")?;
                write_counts(
                    f,
                    n,
                    &format!("{word} not kept in the report"),
                    &self.omitted,
                )
            }
        }
    }
}

/// The hash of an indicator's canonical key (kind, host, path).
fn key_hash(ind: &Indicator) -> u64 {
    let mut h = FxHasher::default();
    ind.kind.hash(&mut h);
    ind.host.hash(&mut h);
    ind.path.hash(&mut h);
    h.finish()
}

fn same_key(a: &Indicator, b: &Indicator) -> bool {
    a.kind == b.kind && a.host == b.host && a.path == b.path
}

/// A fast non-cryptographic hasher (the FxHash mix) for the set of accepted
/// keys. The keys are canonical hosts and paths from the administrator's own
/// indicator files being compiled, not requests from the network, so
/// resistance to hash flooding (SipHash's purpose) buys nothing here,
/// while the hash runs once per row (BENCHMARKS.md, Measurements behind
/// choices in the code).
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Ingestion state shared by all inputs of one [`Ingester`].
#[derive(Default)]
struct State {
    report: Report,
    /// The accepted indicators, one per canonical key, in the order their
    /// key was first accepted.
    accepted: Vec<Indicator>,
    /// `(key hash, index into accepted)`: finds duplicates without a second
    /// copy of the key, and grows without moving the indicators.
    index: HashTable<(u64, u32)>,
    /// For a key written with other actions besides the one in
    /// `accepted` (by its index there): the longest-lived row of each
    /// other action, in order of action. They decide once the rows before
    /// them expire; a key holds at most one row per action.
    others: BTreeMap<u32, Vec<Indicator>>,
}

/// How long an indicator applies: its expiration, or for ever.
fn lives_until(ind: &Indicator) -> i128 {
    ind.meta.expiration.map_or(i128::MAX, |e| i128::from(e.0))
}

/// When a row that loses to `before` (the rows of its key that precede
/// it, in order of precedence) starts to decide: after the last of them
/// expires; `None` when one of them never expires or outlives it.
fn applies_from(before: &[&Indicator], ind: &Indicator) -> Option<Timestamp> {
    let horizon = before.iter().map(|i| lives_until(i)).max()?;
    (horizon < lives_until(ind)).then_some(Timestamp(horizon as i64))
}

/// How many readable rows a [`Sink`] holds before it validates them.
const BATCH: usize = 8192;

/// The fewest rows worth a thread of their own.
const MIN_ROWS_PER_THREAD: usize = 1024;

/// Validates `rows` (the order of checks is in the module doc), in order,
/// on up to `threads` threads, appending the results to `out`; `rows` is
/// left empty, its storage kept for the next batch.
fn check_all(
    rows: &mut Vec<RawRow>,
    out: &mut Vec<Checked>,
    opts: &Options,
    file: &Arc<str>,
    threads: usize,
) {
    let threads = threads.min(rows.len() / MIN_ROWS_PER_THREAD).max(1);
    let check = |r| validate::check(r, opts, file);
    if threads == 1 {
        out.extend(rows.drain(..).map(check));
        return;
    }
    let per = rows.len().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    while rows.len() > per {
        parts.push(rows.split_off(rows.len() - per));
    }
    std::thread::scope(|s| {
        let spawned: Vec<_> = parts
            .into_iter()
            .rev()
            .map(|part| s.spawn(move || part.into_iter().map(check).collect::<Vec<_>>()))
            .collect();
        out.extend(rows.drain(..).map(check));
        for h in spawned {
            out.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
    });
}

use validate::Checked;

/// A batch of rows to validate and the storage for their results, or, on
/// the way back, the emptied rows' storage and the results: the same
/// buffers go back and forth, so that a large input allocates (and
/// faults in) its batches once.
type Batch = (Vec<RawRow>, Vec<Checked>);

/// A thread that validates batches of rows while the reader reads on.
struct Worker {
    rows: mpsc::Sender<Batch>,
    checked: mpsc::Receiver<Batch>,
}

impl Worker {
    /// Starts a worker in `scope` that validates each batch on up to
    /// `threads` threads and sends the results back in order.
    fn spawn<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        opts: &'scope Options,
        file: Arc<str>,
        threads: usize,
    ) -> Worker {
        let (rows, batches) = mpsc::channel::<Batch>();
        let (results, checked) = mpsc::channel();
        scope.spawn(move || {
            for (mut batch, mut out) in batches {
                check_all(&mut batch, &mut out, opts, &file, threads);
                if results.send((batch, out)).is_err() {
                    break;
                }
            }
        });
        Worker { rows, checked }
    }
}

/// Where a reader delivers its rows: validates them and keeps the
/// accounting for one input.
///
/// Readable rows are held in batches. From the first full batch on, a
/// worker thread validates each batch while the reader reads the next one
/// and the results of the one before are counted; every other event
/// first settles the rows held, so counts and diagnostics come out in
/// input order exactly as if each row were handled on arrival.
pub(crate) struct Sink<'a> {
    file: Arc<str>,
    opts: &'a Options,
    state: &'a mut State,
    /// Called with every diagnostic as it is found.
    on_diagnostic: Option<&'a mut OnDiagnostic>,
    pending: Vec<RawRow>,
    /// Starts the worker, on machines with more than one core.
    spawn: Option<Box<dyn FnOnce() -> Worker + 'a>>,
    worker: Option<Worker>,
    /// Batches sent to the worker and not counted yet.
    in_flight: usize,
    /// Emptied batch storage, for the next batches.
    spare: Vec<Batch>,
}

impl Sink<'_> {
    /// A readable row: validate, dedupe, count.
    fn row(&mut self, raw: RawRow) {
        self.pending.push(raw);
        if self.pending.len() >= BATCH {
            if self.worker.is_none() {
                self.worker = self.spawn.take().map(|spawn| spawn());
            }
            self.send();
            // Keep one batch queued behind the one being validated.
            if self.in_flight > 1 {
                self.receive();
            }
        }
    }

    /// Hands the rows held to the worker, or without one validates and
    /// counts them.
    fn send(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        // A full batch is reserved only once the input has proved large:
        // small inputs settle often, and a fresh 2 MiB reservation at each
        // settle fragments the allocator's heap.
        let (next, out) = match self.worker {
            Some(_) => self
                .spare
                .pop()
                .unwrap_or_else(|| (Vec::with_capacity(BATCH), Vec::with_capacity(BATCH))),
            None => Default::default(),
        };
        let mut rows = std::mem::replace(&mut self.pending, next);
        match &self.worker {
            Some(worker) => {
                // Fails only when the worker panicked; `receive` then
                // stops, and the scope passes the panic on.
                let _ = worker.rows.send((rows, out));
                self.in_flight += 1;
            }
            None => {
                let mut checked = out;
                check_all(&mut rows, &mut checked, self.opts, &self.file, 1);
                self.count(&mut checked);
            }
        }
    }

    /// Counts the oldest batch sent to the worker.
    fn receive(&mut self) {
        let (rows, mut checked) = self
            .worker
            .as_ref()
            .and_then(|w| w.checked.recv().ok())
            .expect("the validation thread stopped early: it panicked");
        self.in_flight -= 1;
        self.count(&mut checked);
        self.spare.push((rows, checked));
    }

    /// Validates, dedupes and counts every row held, in order.
    fn settle(&mut self) {
        self.send();
        while self.in_flight > 0 {
            self.receive();
        }
    }

    fn count(&mut self, checked: &mut Vec<Checked>) {
        for checked in checked.drain(..) {
            self.state.report.rows += 1;
            match checked {
                Err(rejection) => self.outcome(rejection.line, rejection.code, rejection.message),
                Ok((ind, note)) => self.accept(ind, note),
            }
        }
    }

    /// A row that cannot be read at all.
    /// The text of a readable line; an unreadable one (not UTF-8, too long)
    /// is reported as a malformed row and gives `None`.
    fn text<'a>(&mut self, line: u64, read: lines::Line<'a>) -> Option<&'a str> {
        match read {
            lines::Line::Text(s) => Some(s),
            bad => {
                self.malformed(line, bad.problem().unwrap_or_default());
                None
            }
        }
    }

    fn malformed(&mut self, line: u64, message: impl Into<String>) {
        self.refuse(line, Code::MalformedRow, message.into());
    }

    /// A row a reader refuses before validation, with `code`.
    fn refuse(&mut self, line: u64, code: Code, message: String) {
        self.settle();
        self.state.report.rows += 1;
        self.outcome(line, code, message);
    }

    /// A row rejected for a problem already reported at file level.
    fn malformed_silently(&mut self) {
        self.settle();
        self.state.report.rows += 1;
        self.state.report.count(Code::MalformedRow);
    }

    /// A problem with the whole file, not a row.
    fn file_error(&mut self, line: u64, message: impl Into<String>) {
        self.settle();
        self.state.report.file_errors += 1;
        let d = Diagnostic::new(&self.file, line, Code::MalformedRow, message);
        self.emit(d);
    }

    /// Hands `d` to the callback and the report: every diagnostic goes
    /// through here.
    fn emit(&mut self, d: Diagnostic) {
        if let Some(f) = self.on_diagnostic.as_mut() {
            f(&d);
        }
        self.state.report.keep(d);
    }

    fn outcome(&mut self, line: u64, code: Code, message: String) {
        self.state.report.count(code);
        let d = Diagnostic::new(&self.file, line, code, message);
        self.emit(d);
    }

    /// Accepts `new` or merges it into the row of the same key read
    /// before. `note` is its `ignored-value` warning, reported when the
    /// row is applied (a new key, or the winner of a conflict).
    fn accept(&mut self, new: Indicator, note: Option<String>) {
        let state = &mut *self.state;
        let hash = key_hash(&new);
        let accepted = &state.accepted;
        let found = state
            .index
            .find(hash, |&(h, i)| {
                h == hash && same_key(&accepted[i as usize], &new)
            })
            .map(|&(_, i)| i as usize);
        let Some(at) = found else {
            self.ignored(&new, note);
            if let Some(message) = validate::public_suffix(&new) {
                self.state.report.public_suffixes += 1;
                self.diag_at(&new, Code::PublicSuffix, message);
            }
            let state = &mut *self.state;
            state.report.accepted += 1;
            let at = u32::try_from(state.accepted.len())
                .expect("fewer than 2^32 indicators are accepted");
            state.accepted.push(new);
            state.index.insert_unique(hash, (hash, at), |&(h, _)| h);
            return;
        };
        let value = validate::shown(&new.value());
        let at32 = at as u32;
        let state = &mut *self.state;
        let head = &state.accepted[at];
        // The row of the same action held for this key, if any.
        let same = if head.action == new.action {
            Some(None)
        } else {
            state
                .others
                .get(&at32)
                .and_then(|o| o.iter().position(|i| i.action == new.action).map(Some))
        };
        if let Some(slot) = same {
            let held = match slot {
                None => &state.accepted[at],
                Some(k) => &state.others[&at32][k],
            };
            let longer = lives_until(&new) > lives_until(held);
            let (kept, dropped) = if longer { (&new, held) } else { (held, &new) };
            let message = if longer {
                format!(
                    "`{value}` ({}) is again at {}:{}, which {}; remove this row",
                    new.action,
                    kept.source.file,
                    kept.source.line,
                    match kept.meta.expiration {
                        None => "never expires".to_string(),
                        Some(e) => format!("expires later ({})", format_timestamp(e)),
                    }
                )
            } else {
                format!(
                    "`{value}` ({}) is already at {}:{}; remove this row",
                    new.action, kept.source.file, kept.source.line
                )
            };
            let (file, line) = (Arc::clone(&dropped.source.file), dropped.source.line);
            state.report.count(Code::Duplicate);
            self.emit(Diagnostic::new(&file, line, Code::Duplicate, message));
            if longer {
                self.ignored(&new, note);
                let state = &mut *self.state;
                match slot {
                    None => state.accepted[at] = new,
                    Some(k) => {
                        if let Some(o) = state.others.get_mut(&at32) {
                            o[k] = new;
                        }
                    }
                }
            }
            return;
        }
        // Another action: the rows of the key, in order of action, keep
        // those that decide at some instant (each outlives the ones before
        // it); the first decides while it lives.
        let mut rows: Vec<&Indicator> = std::iter::once(&state.accepted[at])
            .chain(state.others.get(&at32).into_iter().flatten())
            .collect();
        let pos = rows.partition_point(|i| i.action < new.action);
        rows.insert(pos, &new);
        let mut keep = Vec::with_capacity(rows.len());
        let mut horizon = i128::MIN;
        for row in &rows {
            let until = lives_until(row);
            keep.push(keep.is_empty() || until > horizon);
            horizon = horizon.max(until);
        }
        let loser_at = if pos == 0 { 1 } else { pos };
        let (winner, loser) = (rows[0], rows[loser_at]);
        let tail = match applies_from(&rows[..loser_at], loser) {
            Some(from) => format!(
                "; it applies from {}, when the rows before it have expired",
                format_timestamp(from)
            ),
            None => "; remove the row you do not mean".to_string(),
        };
        let message = format!(
            "`{value}`: {} here loses to {} at {}:{} (Allow > Warn > Block > Audit){tail}",
            loser.action, winner.action, winner.source.file, winner.source.line
        );
        let (loser_file, loser_line) = (Arc::clone(&loser.source.file), loser.source.line);
        state.report.count(Code::Conflict);
        self.emit(Diagnostic::new(
            &loser_file,
            loser_line,
            Code::Conflict,
            message,
        ));
        if !keep[pos] {
            return;
        }
        self.ignored(&new, note);
        let state = &mut *self.state;
        let mut others = state.others.remove(&at32).unwrap_or_default();
        if pos == 0 {
            let old = std::mem::replace(&mut state.accepted[at], new);
            others.insert(0, old);
        } else {
            others.insert(pos - 1, new);
        }
        let mut k = keep.into_iter().skip(1);
        others.retain(|_| k.next().unwrap_or(false));
        if !others.is_empty() {
            state.others.insert(at32, others);
        }
    }

    /// Reports the `ignored-value` warning of a row that is applied.
    fn ignored(&mut self, ind: &Indicator, note: Option<String>) {
        if let Some(message) = note {
            self.state.report.ignored_values += 1;
            self.diag_at(ind, Code::IgnoredValue, message);
        }
    }

    fn diag_at(&mut self, ind: &Indicator, code: Code, message: String) {
        let d = Diagnostic::new(&ind.source.file, ind.source.line, code, message);
        self.emit(d);
    }
}

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
            let mut sink = Sink {
                file,
                opts,
                state,
                on_diagnostic,
                pending: Vec::new(),
                spawn,
                worker: None,
                in_flight: 0,
                spare: Vec::new(),
            };
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
    pub(crate) fn finish_unordered(self) -> (Vec<Indicator>, Report) {
        drop(self.state.index);
        let mut accepted = self.state.accepted;
        accepted.extend(self.state.others.into_values().flatten());
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

/// The first bytes of file types that are not text, and their names.
const NOT_TEXT: [(&[u8], &str); 8] = [
    (b"\x1f\x8b", "a gzip file"),
    (b"\x28\xb5\x2f\xfd", "a zstd file"),
    (b"PK\x03\x04", "a zip file"),
    (b"\xfd7zXZ\x00", "an xz file"),
    (b"BZh", "a bzip2 file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip file"),
    (b"\x89INDSET\n", "a compiled .indset set"),
    (b"\x7fELF", "an executable"),
];

/// Why the first bytes of an input show that it cannot be read at all;
/// `whole` when `head` is the entire input.
///
/// Only what is not text at all is refused here: an empty file, UTF-16,
/// and the known binary formats. A NUL byte elsewhere is an error of its
/// row, wherever it is in the file (see the module docs).
fn unreadable(head: &[u8], whole: bool) -> Option<String> {
    if whole && head.iter().all(u8::is_ascii_whitespace) {
        return Some("the file is empty: give a file with one indicator per row".into());
    }
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Some("the file is UTF-16; save it as UTF-8 and read it again".into());
    }
    let (_, what) = NOT_TEXT.iter().find(|(magic, _)| head.starts_with(magic))?;
    let fix = if what.starts_with("a compiled") {
        "give the indicator lists it was compiled from"
    } else if what.starts_with("an executable") {
        "give an indicator list as UTF-8 text (csv, json, text or hosts)"
    } else {
        "decompress it first, then give the indicator list inside"
    };
    Some(format!("{what}, not text: {fix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checking_on_threads_keeps_the_order() {
        let values = [
            "example.com",
            "*.x.test",
            "1.2.3.4",
            "a.test/p",
            "",
            "xn--a.test",
        ];
        let rows = || -> Vec<RawRow> {
            (0..5000u64)
                .map(|line| RawRow {
                    line,
                    kind: if line % 7 == 0 { "Url" } else { "DomainName" }.into(),
                    value: format!("{}{}", line, values[line as usize % values.len()]),
                    action: if line % 11 == 0 { "Nope" } else { "Block" }.into(),
                    ..RawRow::default()
                })
                .collect()
        };
        let opts = Options::at(Timestamp(0));
        let file: Arc<str> = Arc::from("t.txt");
        let summary = |threads| -> Vec<(u64, Option<Code>, Option<String>)> {
            let mut rows = rows();
            // Results are appended after what the buffer holds.
            let mut out = vec![Err(validate::Refusal {
                line: u64::MAX,
                code: Code::MalformedRow,
                message: String::new(),
            })];
            check_all(&mut rows, &mut out, &opts, &file, threads);
            assert!(rows.is_empty(), "the rows are used up");
            assert!(matches!(&out[0], Err(e) if e.line == u64::MAX));
            out.drain(1..)
                .map(|r| match r {
                    Ok((i, _)) => (i.source.line, None, Some(i.value())),
                    Err(e) => (e.line, Some(e.code), None),
                })
                .collect()
        };
        let one = summary(1);
        assert_eq!(one.len(), 5000);
        assert!(one.iter().enumerate().all(|(i, r)| r.0 == i as u64));
        assert_eq!(summary(2), one);
        assert_eq!(summary(3), one);
    }

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
