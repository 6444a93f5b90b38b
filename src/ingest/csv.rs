//! The `csv` format: the portal's indicator import file.
//!
//! The first record that is not a blank line is the header. Column names
//! are case-insensitive and in any order; `IndicatorType`,
//! `IndicatorValue` and `Action` are required; `ExpirationTime`,
//! `Severity`, `Title`, `Description`, `RbacGroups`, `Category`,
//! `GenerateAlert` and `Id` are read when present; other columns are
//! ignored.
//!
//! Records are RFC 4180, split by `csv-core`: a field that starts with `"`
//! runs to its closing `"` across commas and line breaks, and `""` inside
//! it is a quote; a quote inside an unquoted field is a plain character
//! (`a"b`). Portal exports and spreadsheets write multi-line descriptions
//! this way, and a line inside such a field is never a row.
//!
//! Where quoting goes wrong, field boundaries are a guess, and a wrong
//! guess reads text from inside a field as rows. So reading stops: a quote
//! not closed by the end of the file, a closing quote followed by anything
//! but a comma or a line end (`"a"b`), or a quoted field still open after
//! [`MAX_LINE_LEN`] bytes makes the record one `malformed-row`, and a
//! whole-file diagnostic says from which line nothing was read. A record
//! over [`MAX_LINE_LEN`] bytes outside any quote (an overlong line) is one
//! `malformed-row`, read past without being held; reading goes on after
//! it.
//!
//! A record whose field count differs from the header's is `malformed-row`:
//! an unquoted comma shifts every later column, and a shifted `RbacGroups`
//! would silently change who is protected. A field that is not UTF-8 or
//! holds a NUL byte makes its record `malformed-row`, naming the column.

use std::io::{self, BufRead};

use super::lines::MAX_LINE_LEN;
use super::sink::Sink;
use super::validate::{MAX_GROUPS, RawRow, shown};

/// The most fields a record may have. The header has a dozen; a record
/// with more than this is malformed whatever the header, and its field
/// ends are not kept.
const MAX_FIELDS: usize = 1024;

/// The columns this reader knows, by lower-case name.
#[derive(Default)]
struct Columns {
    names: Vec<String>,
    kind: Option<usize>,
    value: Option<usize>,
    action: Option<usize>,
    expiration: Option<usize>,
    severity: Option<usize>,
    title: Option<usize>,
    description: Option<usize>,
    groups: Option<usize>,
    category: Option<usize>,
    generate_alert: Option<usize>,
    id: Option<usize>,
}

impl Columns {
    fn from_header(names: Vec<String>) -> Columns {
        let mut c = Columns::default();
        for (i, name) in names.iter().enumerate() {
            let slot = match name.trim().to_ascii_lowercase().as_str() {
                "indicatortype" => &mut c.kind,
                "indicatorvalue" => &mut c.value,
                "action" => &mut c.action,
                "expirationtime" => &mut c.expiration,
                "severity" => &mut c.severity,
                "title" => &mut c.title,
                "description" => &mut c.description,
                "rbacgroups" => &mut c.groups,
                "category" => &mut c.category,
                "generatealert" => &mut c.generate_alert,
                "id" => &mut c.id,
                _ => continue,
            };
            slot.get_or_insert(i);
        }
        c.names = names;
        c
    }

    /// The required columns the header lacks.
    fn missing(&self) -> Vec<&'static str> {
        [
            (self.kind, "IndicatorType"),
            (self.value, "IndicatorValue"),
            (self.action, "Action"),
        ]
        .into_iter()
        .filter(|(i, _)| i.is_none())
        .map(|(_, name)| name)
        .collect()
    }

    /// How a message names field `i` (0-based): `` `Title` (field 6) ``.
    fn name(&self, i: usize) -> String {
        match self.names.get(i) {
            Some(n) => format!("`{}` (field {})", shown(n), i + 1),
            None => format!("field {}", i + 1),
        }
    }
}

pub(crate) fn read<R: BufRead>(input: &mut R, sink: &mut Sink<'_>) -> io::Result<()> {
    let mut records = Records::new(input);
    let mut header: Option<Result<Columns, (u64, String)>> = None;
    let mut refused = 0u64;
    while let Some(record) = records.next()? {
        let stop = match &record {
            Record::Stop { line, why, .. } => Some((*line, *why)),
            _ => None,
        };
        match &header {
            None => header = Some(read_header(&record, &records)),
            Some(Err(_)) => {
                sink.malformed_silently();
                refused += 1;
            }
            Some(Ok(columns)) => match record {
                Record::Fields { line } => match check(&records, columns) {
                    Ok(()) => sink.row(row(line, columns, &records)),
                    Err(message) => sink.malformed(line, message),
                },
                Record::Skipped { line, message } | Record::Stop { line, message, .. } => {
                    sink.malformed(line, message)
                }
            },
        }
        if let Some((line, why)) = stop {
            sink.file_error(
                line,
                format!(
                    "nothing from line {line} on was read: {why}, so where its fields \
                     end is a guess and no later line can be trusted as a row; fix \
                     the quoting and read the file again"
                ),
            );
            break;
        }
    }
    if let Some(Err((line, problem))) = header {
        let s = if refused == 1 { "" } else { "s" };
        sink.file_error(
            line,
            format!("{problem}; all {refused} row{s} of this file rejected"),
        );
    }
    Ok(())
}

/// Reads the header record: its columns, or the line and message of what
/// is wrong with it.
fn read_header<R>(record: &Record, records: &Records<'_, R>) -> Result<Columns, (u64, String)> {
    let line = record.line();
    let fields = match record {
        Record::Fields { .. } => records.fields(),
        Record::Skipped { message, .. } | Record::Stop { message, .. } => {
            return Err((line, format!("cannot read the header: {message}")));
        }
    };
    let mut names = Vec::with_capacity(fields.len());
    for (i, f) in fields.iter().enumerate() {
        match std::str::from_utf8(f) {
            Ok(s) if !s.contains('\0') => names.push(s.to_string()),
            _ => {
                return Err((
                    line,
                    format!(
                        "cannot read the header: field {} is not UTF-8 text: save the \
                         file as UTF-8",
                        i + 1
                    ),
                ));
            }
        }
    }
    let text = names.join(",");
    let columns = Columns::from_header(names);
    let missing = columns.missing();
    if missing.is_empty() {
        return Ok(columns);
    }
    Err((
        line,
        format!(
            "the header `{}` has no {} column: the first line must name the \
             columns, e.g. `IndicatorType,IndicatorValue,ExpirationTime,Action,\
             Severity,Title,Description,RecommendedActions,RbacGroups,Category,\
             MitreTechniques,GenerateAlert`",
            shown(&text),
            missing.join(", ")
        ),
    ))
}

/// Checks a record against the header: the field count, then every field
/// is UTF-8 without a NUL byte.
fn check<R>(records: &Records<'_, R>, columns: &Columns) -> Result<(), String> {
    let fields = records.fields();
    if fields.len() != columns.names.len() {
        let count = if fields.len() > MAX_FIELDS {
            format!("more than {MAX_FIELDS}")
        } else {
            fields.len().to_string()
        };
        return Err(format!(
            "the row has {count} fields, the header {}: quote a field that \
             contains a comma (`\"a,b\"`) and give every column, empty if unused",
            columns.names.len()
        ));
    }
    for (i, f) in fields.iter().enumerate() {
        if let Some(at) = memchr::memchr(0, f) {
            return Err(format!(
                "a NUL byte in {} (byte {} of the field): the row is not text (a \
                 UTF-16 file?); save the file as UTF-8 text",
                columns.name(i),
                at + 1
            ));
        }
        if let Err(e) = std::str::from_utf8(f) {
            return Err(format!(
                "not valid UTF-8 in {} (a bad byte at byte {} of the field): save \
                 the file as UTF-8",
                columns.name(i),
                e.valid_up_to() + 1
            ));
        }
    }
    Ok(())
}

/// The row of a record that passed [`check`].
fn row<R>(line: u64, c: &Columns, records: &Records<'_, R>) -> RawRow {
    let fields = records.fields();
    let take = |i: Option<usize>| {
        i.and_then(|i| fields.get(i))
            .map(|f| String::from_utf8_lossy(f).into_owned())
    };
    let groups = take(c.groups)
        // One more than the limit is enough to reject the row.
        .map(|g| {
            g.split(',')
                .take(MAX_GROUPS + 1)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    RawRow {
        line,
        // A CSV record starts a line of its own.
        nth: 0,
        kind: take(c.kind).unwrap_or_default().into(),
        value: take(c.value).unwrap_or_default(),
        action: take(c.action).unwrap_or_default().into(),
        expiration: take(c.expiration),
        id: take(c.id),
        title: take(c.title),
        severity: take(c.severity),
        groups,
        generate_alert: take(c.generate_alert),
        category: take(c.category),
        description: take(c.description),
    }
}

/// One record, as [`Records::next`] found it.
enum Record {
    /// A record of at most [`MAX_LINE_LEN`] bytes and [`MAX_FIELDS`]
    /// fields, starting at `line`; its fields are [`Records::fields`].
    Fields { line: u64 },
    /// A record too long to keep, read past (it was outside any quote).
    Skipped { line: u64, message: String },
    /// A quoting error: the reader must not go on.
    Stop {
        line: u64,
        message: String,
        why: &'static str,
    },
}

impl Record {
    fn line(&self) -> u64 {
        match self {
            Record::Fields { line } | Record::Skipped { line, .. } | Record::Stop { line, .. } => {
                *line
            }
        }
    }
}

/// Where the quote scanner is in a record: the states of `csv-core`'s
/// reader that decide what a quote means, plus the error `csv-core`
/// forgives.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    /// At the start of a field: a quote opens a quoted field.
    FieldStart,
    /// In an unquoted field: a quote is a plain character.
    Unquoted,
    /// In a quoted field.
    Quoted,
    /// After a quote in a quoted field: a quote makes `""`, a comma or a
    /// line end ends the field, anything else is an error.
    Closed,
}

/// Follows the bytes `csv-core` consumes, byte for byte as its reader
/// does, to count lines and to catch the quoting errors it reads past.
struct Quotes {
    state: Quote,
    /// Line ends consumed so far, in the whole input.
    line: u64,
    /// The field being read, from 0.
    field: usize,
    /// Where the last quoted field opened: line and field.
    opened: (u64, usize),
    /// Whether the record has a quoted field.
    any: bool,
}

/// A quoting error: the line and the byte after a closing quote.
struct Stray {
    line: u64,
    byte: u8,
}

impl Quotes {
    fn start_record(&mut self) {
        self.state = Quote::FieldStart;
        self.field = 0;
        self.any = false;
    }

    /// Follows `bytes`.
    fn scan(&mut self, bytes: &[u8]) -> Result<(), Stray> {
        let in_quote = matches!(self.state, Quote::Quoted | Quote::Closed);
        if !in_quote && memchr::memchr(b'"', bytes).is_none() {
            // Without a quote, only the field count and the last byte
            // matter.
            self.line += memchr::memchr_iter(b'\n', bytes).count() as u64;
            self.field += memchr::memchr_iter(b',', bytes).count();
            if let Some(&last) = bytes.last() {
                self.state = match last {
                    b',' | b'\r' | b'\n' => Quote::FieldStart,
                    _ => Quote::Unquoted,
                };
            }
            return Ok(());
        }
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if self.state == Quote::Quoted {
                // Jump to the next quote, counting the line ends passed.
                let end = memchr::memchr(b'"', &bytes[i..]).map_or(bytes.len(), |j| i + j);
                self.line += memchr::memchr_iter(b'\n', &bytes[i..end]).count() as u64;
                if end < bytes.len() {
                    self.state = Quote::Closed;
                }
                i = end + 1;
                continue;
            }
            self.state = match (self.state, b) {
                (Quote::FieldStart, b'"') => {
                    self.opened = (self.line + 1, self.field + 1);
                    self.any = true;
                    Quote::Quoted
                }
                (Quote::Closed, b'"') => Quote::Quoted,
                (_, b',') => {
                    self.field += 1;
                    Quote::FieldStart
                }
                (_, b'\n') => {
                    self.line += 1;
                    Quote::FieldStart
                }
                (_, b'\r') => Quote::FieldStart,
                (Quote::Closed, byte) => {
                    return Err(Stray {
                        line: self.line + 1,
                        byte,
                    });
                }
                _ => Quote::Unquoted,
            };
            i += 1;
        }
        Ok(())
    }
}

/// Reads RFC 4180 records one at a time, holding at most one record of
/// [`MAX_LINE_LEN`] bytes.
struct Records<'r, R> {
    input: &'r mut R,
    core: csv_core::Reader,
    quotes: Quotes,
    /// The unescaped fields of the current record, back to back.
    out: Vec<u8>,
    /// Where each field of the current record ends in `out`.
    ends: Vec<usize>,
    /// How many of `ends` the current record uses.
    nfields: usize,
    /// Where the output of a record too long to keep goes.
    scratch: Vec<u8>,
    scratch_ends: Vec<usize>,
}

impl<R> Records<'_, R> {
    /// The fields of the last [`Record::Fields`].
    fn fields(&self) -> Vec<&[u8]> {
        let mut start = 0;
        self.ends[..self.nfields]
            .iter()
            .map(|&end| {
                let f = &self.out[start..end];
                start = end;
                f
            })
            .collect()
    }
}

impl<'r, R: BufRead> Records<'r, R> {
    fn new(input: &'r mut R) -> Self {
        Records {
            input,
            core: csv_core::Reader::new(),
            quotes: Quotes {
                state: Quote::FieldStart,
                line: 0,
                field: 0,
                opened: (0, 0),
                any: false,
            },
            out: vec![0; 4096],
            ends: vec![0; 32],
            nfields: 0,
            scratch: Vec::new(),
            scratch_ends: Vec::new(),
        }
    }

    /// The next record that is not a blank line; `None` at the end.
    fn next(&mut self) -> io::Result<Option<Record>> {
        loop {
            let Some(record) = self.next_record()? else {
                return Ok(None);
            };
            // A line of spaces is blank, not a record of one field.
            let blank = matches!(record, Record::Fields { .. })
                && !self.quotes.any
                && self.nfields == 1
                && self.out[..self.ends[0]].trim_ascii().is_empty();
            if !blank {
                return Ok(Some(record));
            }
        }
    }

    /// Skips line ends between records, which `csv-core` skips too.
    fn skip_line_ends(&mut self) -> io::Result<()> {
        loop {
            let buf = fill(self.input)?;
            let n = buf
                .iter()
                .position(|&b| b != b'\r' && b != b'\n')
                .unwrap_or(buf.len());
            self.quotes.line += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
            let done = n < buf.len() || buf.is_empty();
            self.input.consume(n);
            if done {
                return Ok(());
            }
        }
    }

    fn next_record(&mut self) -> io::Result<Option<Record>> {
        use csv_core::ReadRecordResult as R;
        self.skip_line_ends()?;
        self.quotes.start_record();
        let line = self.quotes.line + 1;
        let (mut nout, mut nend) = (0, 0);
        // Bytes consumed, and whether the last was a line end.
        let (mut len, mut ended) = (0u64, false);
        let mut over = false;
        loop {
            let input = fill(self.input)?;
            let (res, nin) = if over {
                let (res, nin, _, _) =
                    self.core
                        .read_record(input, &mut self.scratch, &mut self.scratch_ends);
                (res, nin)
            } else {
                let (res, nin, o, e) =
                    self.core
                        .read_record(input, &mut self.out[nout..], &mut self.ends[nend..]);
                nout += o;
                nend += e;
                (res, nin)
            };
            let consumed = &input[..nin];
            let scanned = self.quotes.scan(consumed);
            if let Some(&last) = consumed.last() {
                ended = last == b'\n' || last == b'\r';
            }
            len += nin as u64;
            self.input.consume(nin);
            // The record's bytes, its line end aside.
            if len - u64::from(ended) > MAX_LINE_LEN as u64 {
                over = true;
            }
            if let Err(stray) = scanned {
                let (opened, field) = self.quotes.opened;
                let shown = match stray.byte {
                    b' '..=b'~' => format!("`{}`", stray.byte as char),
                    b => format!("the byte {b:#04x}"),
                };
                return Ok(Some(Record::Stop {
                    line,
                    message: format!(
                        "the quoted field {field} opened on line {opened} closes on line {} \
                         and is followed by {shown}, not by a comma or a line end: \
                         write a quote inside a quoted field twice (`\"\"`)",
                        stray.line
                    ),
                    why: "a quoted field is followed by text",
                }));
            }
            match res {
                R::Record => break,
                R::End => return Ok(None),
                R::InputEmpty => {}
                R::OutputFull if !over => {
                    if self.out.len() >= MAX_LINE_LEN {
                        over = true;
                    } else {
                        let grown = (self.out.len() * 2).min(MAX_LINE_LEN);
                        self.out.resize(grown, 0);
                    }
                }
                R::OutputEndsFull if !over => {
                    if self.ends.len() > MAX_FIELDS {
                        over = true;
                    } else {
                        let grown = self.ends.len() * 2;
                        self.ends.resize(grown, 0);
                    }
                }
                R::OutputFull | R::OutputEndsFull => {}
            }
            if over {
                if self.quotes.state == Quote::Quoted {
                    let (opened, field) = self.quotes.opened;
                    return Ok(Some(Record::Stop {
                        line,
                        message: format!(
                            "the quoted field {field} opened on line {opened} is still \
                             open after {MAX_LINE_LEN} bytes, the longest record read: \
                             close the quote, or write a quote inside a quoted field \
                             twice (`\"\"`)"
                        ),
                        why: "a quoted field runs over the record limit",
                    }));
                }
                if self.scratch.is_empty() {
                    self.scratch = vec![0; 64 * 1024];
                    self.scratch_ends = vec![0; 1024];
                }
            }
        }
        if self.quotes.state == Quote::Quoted {
            let (opened, field) = self.quotes.opened;
            return Ok(Some(Record::Stop {
                line,
                message: format!(
                    "the quote opened on line {opened} (field {field}) is not closed \
                     before the end of the file: close it, or write a quote inside \
                     a quoted field twice (`\"\"`)"
                ),
                why: "a quote is not closed",
            }));
        }
        if over {
            let len = len - u64::from(ended);
            let message = if len > MAX_LINE_LEN as u64 {
                format!(
                    "the record is {len} bytes long, over the limit of {MAX_LINE_LEN}: \
                     split it, one indicator per line"
                )
            } else {
                format!("the record has more than {MAX_FIELDS} fields: one indicator per line")
            };
            return Ok(Some(Record::Skipped { line, message }));
        }
        self.nfields = nend;
        Ok(Some(Record::Fields { line }))
    }
}

/// The reader's buffered bytes, retrying an interrupted read.
fn fill<R: BufRead>(input: &mut R) -> io::Result<&[u8]> {
    loop {
        match input.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    input.fill_buf()
}

/// Whether the first non-blank line names the `IndicatorType` and
/// `IndicatorValue` columns (for [`Format::Auto`](super::Format::Auto)).
pub(crate) fn looks_like_csv(head: &[u8]) -> bool {
    let Some(line) = head
        .split(|&b| b == b'\n')
        .find(|l| !l.trim_ascii().is_empty())
    else {
        return false;
    };
    let has = |name: &[u8]| {
        line.split(|&b| b == b',').any(|f| {
            let f = f.trim_ascii();
            let f = f
                .strip_prefix(b"\"")
                .and_then(|f| f.strip_suffix(b"\""))
                .unwrap_or(f);
            f.eq_ignore_ascii_case(name)
        })
    };
    has(b"indicatortype") && has(b"indicatorvalue")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields of every record, or the message of the first that
    /// cannot be read.
    fn records(text: &str) -> Vec<Result<Vec<String>, String>> {
        let mut input = text.as_bytes();
        let mut r = Records::new(&mut input);
        let mut out = Vec::new();
        while let Some(rec) = r.next().unwrap() {
            let stop = matches!(rec, Record::Stop { .. });
            out.push(match rec {
                Record::Fields { .. } => Ok(r
                    .fields()
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect()),
                Record::Skipped { message, .. } | Record::Stop { message, .. } => Err(message),
            });
            if stop {
                break;
            }
        }
        out
    }

    #[test]
    fn quoting() {
        let ok = |t: &str| {
            records(t)
                .into_iter()
                .map(Result::unwrap)
                .collect::<Vec<_>>()
        };
        assert_eq!(ok("a,b,,c\n"), [["a", "b", "", "c"]]);
        assert_eq!(ok("a,\"g1,g2\",c"), [["a", "g1,g2", "c"]]);
        assert_eq!(ok("\"say \"\"hi\"\"\",x\r\n"), [["say \"hi\"", "x"]]);
        assert_eq!(ok("a\"b,c\n"), [["a\"b", "c"]]);
        assert_eq!(ok("\"x\ny\",z\n\n\nw,v"), [["x\ny", "z"], ["w", "v"]]);
        assert_eq!(ok("  \n \t\na,b\n"), [["a", "b"]]);
        let bad = records("a,\"b\"c,d\ne,f\n");
        assert_eq!(bad.len(), 1);
        assert!(bad[0].as_ref().unwrap_err().contains("followed by `c`"));
        let open = records("a,b\nc,\"d\ne\n");
        assert!(open[1].as_ref().unwrap_err().contains("line 2 (field 2)"));
    }

    #[test]
    fn sniffing() {
        assert!(looks_like_csv(b"\nIndicatorType,IndicatorValue,Action\n"));
        assert!(looks_like_csv(b"\"indicatorvalue\", \"INDICATORTYPE\"\n"));
        assert!(!looks_like_csv(b"# IndicatorTypes,IndicatorValues\n"));
        assert!(!looks_like_csv(b"IndicatorType IndicatorValue\n"));
    }
}
