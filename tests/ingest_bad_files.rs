//! Bad inputs: each gives the expected diagnostic at the right line, the
//! rows around it are still read, and the accounting adds up. Then
//! arbitrary bytes into every format, and a streamed million-line input.

use std::io::{self, Read};
use std::path::PathBuf;

use indset::ingest::{Format, Ingester, MAX_LINE_LEN, Options, Report};
use indset::{Code, Diagnostic, Indicator, Timestamp};
use indset_test_support::fixtures::{hosts, ingest_with};
use proptest::prelude::*;

const NOW: Timestamp = Timestamp(1_761_350_400);

/// The only diagnostic; its line, code and a part of its message.
fn only(r: &Report) -> &Diagnostic {
    assert_eq!(r.diagnostics().len(), 1, "{:?}", r.diagnostics());
    &r.diagnostics()[0]
}

const HEADER: &str = "IndicatorType,IndicatorValue,Action,Title\n";

/// A quoted field may span lines (RFC 4180), so a stray quote pairs with
/// the next one; where fields end is then a guess, and reading stops
/// rather than read text from inside a field as rows.
fn ingest(name: &str, bytes: &[u8], format: Format) -> (Vec<Indicator>, Report) {
    ingest_with(Options::at(NOW), name, bytes, format)
}

#[test]
fn csv_unbalanced_quote_stops_the_file() {
    let text = format!(
        "{HEADER}DomainName,a.example,Block,x\nDomainName,b.example,Block,\"oops\n\
         DomainName,c.example,Block,\"quoted, fine\"\n"
    );
    let (v, r) = ingest("q.csv", text.as_bytes(), Format::Auto);
    assert_eq!(hosts(&v), ["a.example"]);
    let lines: Vec<_> = r.diagnostics().iter().map(|d| (d.line, d.code)).collect();
    assert_eq!(lines, [(3, Code::MalformedRow), (3, Code::MalformedRow)]);
    let [row, file] = r.diagnostics() else {
        unreachable!()
    };
    assert!(
        row.message
            .contains("opened on line 3 closes on line 4 and is followed by `q`"),
        "{row}"
    );
    assert!(
        file.message.contains("nothing from line 3 on was read"),
        "{file}"
    );
    assert_eq!(
        (r.rows(), r.rejected_by(Code::MalformedRow), r.file_errors()),
        (2, 1, 1)
    );
}

#[test]
fn csv_wrong_field_counts() {
    let text = format!(
        "{HEADER}DomainName,a.example\nDomainName,b.example,Block,t\n\
         DomainName,c.example,Block,Title, with a comma\n"
    );
    let (v, r) = ingest("f.csv", text.as_bytes(), Format::Csv);
    assert_eq!(hosts(&v), ["b.example"]);
    let lines: Vec<_> = r.diagnostics().iter().map(|d| (d.line, d.code)).collect();
    assert_eq!(lines, [(2, Code::MalformedRow), (4, Code::MalformedRow)]);
    assert!(
        r.diagnostics()[0]
            .message
            .contains("2 fields, the header 4")
    );
    assert!(
        r.diagnostics()[1]
            .message
            .contains("quote a field that contains a comma")
    );
}

#[test]
fn csv_header_without_required_columns() {
    let text = "Type,Value,Action\nDomainName,a.example,Block\n\nDomainName,b.example,Block\n";
    let (v, r) = ingest("h.csv", text.as_bytes(), Format::Csv);
    assert!(v.is_empty());
    let d = only(&r);
    assert_eq!((d.line, d.code), (1, Code::MalformedRow));
    assert!(
        d.message
            .contains("no IndicatorType, IndicatorValue column"),
        "{d}"
    );
    assert!(
        d.message.ends_with("all 2 rows of this file rejected"),
        "{d}"
    );
    assert_eq!((r.rows(), r.rejected_by(Code::MalformedRow)), (2, 2));
    assert_eq!(r.file_errors(), 1);
}

#[test]
fn csv_header_in_any_order_and_case_with_extra_columns() {
    let text =
        "\u{feff}action,Extra,INDICATORVALUE,indicatortype\r\nallowed,zz,a.example,DomainName\r\n";
    let (v, r) = ingest("o.csv", text.as_bytes(), Format::Auto);
    assert_eq!(hosts(&v), ["a.example"], "{:?}", r.diagnostics());
    assert_eq!(v[0].action, indset::Action::Allow);
}

#[test]
fn json_that_is_not_an_indicator_list() {
    let table: &[(&str, u64, &str)] = &[
        (
            r#"{"foo": 1}"#,
            1,
            "without a `value` or `Indicators` array",
        ),
        ("\n\n42", 3, "invalid type: integer `42`"),
        (r#""hello""#, 1, "invalid type: string"),
        (
            r#"{"indicatorValue": "a.example", "action": "Block"}"#,
            1,
            "one indicator object, not a list",
        ),
        (r#"{"value": 3}"#, 1, "expected an array of indicators"),
        (
            "[\n{\"indicatorValue\": \"a.example\", \"indicatorType\": \"DomainName\", \"action\": \"Block\"}\n",
            3,
            "EOF while parsing a list",
        ),
    ];
    for (text, line, needle) in table {
        let (_, r) = ingest("x.json", text.as_bytes(), Format::Auto);
        let d = only(&r);
        assert_eq!((d.line, d.code), (*line, Code::MalformedRow), "{text}: {d}");
        assert!(d.message.contains(needle), "{text}: {d}");
        assert_eq!(r.file_errors(), 1, "{text}");
    }
}

#[test]
fn json_bad_elements_cost_only_themselves() {
    let text = r#"{"Indicators": [
  {"indicatorValue": "a.example", "indicatorType": "DomainName", "action": "Block"},
  17,
  {"indicatorValue": ["b.example"], "indicatorType": "DomainName", "action": "Block"},
  {"indicatorValue": "c.example", "indicatorType": "DomainName", "action": "Block",
   "rbacGroupNames": "Sales,Finance"}
]}"#;
    // Compiled for the group the last row names, so that it is kept.
    let mut ing = Ingester::new(Options::at(NOW).device_group("Finance"));
    ing.read("e.json", text.as_bytes(), Format::Auto).unwrap();
    let (v, r) = ing.finish();
    assert_eq!(hosts(&v), ["a.example", "c.example"]);
    assert_eq!(v[1].source.line, 5);
    assert_eq!(v[1].meta.groups, ["Sales", "Finance"]);
    let lines: Vec<_> = r.diagnostics().iter().map(|d| (d.line, d.code)).collect();
    assert_eq!(lines, [(3, Code::MalformedRow), (4, Code::MalformedRow)]);
    assert!(
        r.diagnostics()[0]
            .message
            .contains("is a number, not an object")
    );
    assert!(
        r.diagnostics()[1]
            .message
            .contains("is an array, not a string")
    );
}

#[test]
fn json_syntax_error_inside_an_element() {
    let text = "[\n{\"indicatorValue\": \"a.example\", \"indicatorType\": \"DomainName\", \"action\": \"Block\"},\n\
                {\"indicatorValue\": \"b.example\",\n \"action\" \"Block\"},\n\
                {\"indicatorValue\": \"c.example\", \"indicatorType\": \"DomainName\", \"action\": \"Block\"}\n]";
    let (v, r) = ingest("s.json", text.as_bytes(), Format::Json);
    assert_eq!(hosts(&v), ["a.example"]);
    let d = only(&r);
    assert_eq!((d.line, d.code), (4, Code::MalformedRow), "{d}");
    assert!(
        d.message.contains("the rest of the file was not read"),
        "{d}"
    );
    assert_eq!((r.rows(), r.file_errors()), (2, 0));
}

#[test]
fn binary_files() {
    let gz = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/requests-top500-2019.jsonl.gz"),
    )
    .unwrap();
    for format in Format::ALL {
        let (_, r) = ingest("requests.jsonl.gz", &gz, format);
        let d = only(&r);
        assert_eq!(
            (d.line, d.code, r.rows()),
            (0, Code::MalformedRow, 0),
            "{d}"
        );
        assert!(d.message.contains("a gzip file, not text"), "{d}");
        assert!(d.message.contains("decompress it first"), "{d}");
    }
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("a.example\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let (_, r) = ingest("u16.txt", &utf16, Format::Auto);
    assert!(only(&r).message.contains("UTF-16"), "{:?}", r.diagnostics());
}

#[test]
fn empty_files() {
    for (name, bytes) in [
        ("e.csv", &b""[..]),
        ("e.json", b"\xEF\xBB\xBF"),
        ("e.txt", b"\n\r\n  \n"),
        ("hosts", b""),
    ] {
        for format in Format::ALL {
            let (_, r) = ingest(name, bytes, format);
            let d = only(&r);
            assert_eq!(
                (d.line, r.rows(), r.file_errors()),
                (0, 0, 1),
                "{name} {format}"
            );
            assert!(d.message.contains("empty"), "{d}");
        }
    }
    // A list with nothing but comments is a valid, empty list.
    let (_, r) = ingest("c.txt", b"# nothing yet\n", Format::Auto);
    assert!(r.diagnostics().is_empty());
}

#[test]
fn a_ten_mib_line_is_one_malformed_row() {
    let huge = "a".repeat(10 << 20);
    for (name, format, before, after) in [
        ("l.txt", Format::Text, "a.example\n", "\nb.example\n"),
        (
            "l.hosts",
            Format::Hosts,
            "0.0.0.0 a.example\n",
            "\n0.0.0.0 b.example\n",
        ),
        (
            "l.csv",
            Format::Csv,
            "IndicatorType,IndicatorValue,Action\nDomainName,a.example,Block\n",
            "\nDomainName,b.example,Block\n",
        ),
    ] {
        let text = format!("{before}{huge}{after}");
        let (v, r) = ingest(name, text.as_bytes(), format);
        assert_eq!(hosts(&v), ["a.example", "b.example"], "{name}");
        let d = only(&r);
        let line = before.lines().count() as u64 + 1;
        assert_eq!((d.line, d.code), (line, Code::MalformedRow), "{name}: {d}");
        assert!(
            d.message.contains(&format!("{} bytes long", 10 << 20)),
            "{d}"
        );
        assert!(d.message.contains(&MAX_LINE_LEN.to_string()), "{d}");
    }
}

#[test]
fn invalid_utf8_is_one_malformed_row() {
    for (name, format, text) in [
        ("u.txt", Format::Text, &b"a.example\nb\xFF.example\nc.example\n"[..]),
        (
            "u.hosts",
            Format::Hosts,
            b"0.0.0.0 a.example\n0.0.0.0 b\xC3.example\n0.0.0.0 c.example\n",
        ),
        (
            "u.csv",
            Format::Csv,
            b"IndicatorType,IndicatorValue,Action\nDomainName,a.example,Block\nDomainName,b.example,Bl\xE9ck\nDomainName,c.example,Block\n",
        ),
    ] {
        let (v, r) = ingest(name, text, format);
        assert_eq!(hosts(&v), ["a.example", "c.example"], "{name}");
        let d = only(&r);
        let line = if format == Format::Csv { 3 } else { 2 };
        assert_eq!((d.line, d.code), (line, Code::MalformedRow), "{name}: {d}");
        assert!(d.message.contains("not valid UTF-8"), "{d}");
    }
    // A Latin-1 comment is still a comment.
    let (v, r) = ingest("l.txt", b"# caf\xE9\na.example\n", Format::Text);
    assert_eq!((v.len(), r.rows()), (1, 1));
}

#[test]
fn bom_and_crlf_in_every_format() {
    let table: [(&str, &str); 4] = [
        (
            "b.csv",
            "IndicatorType,IndicatorValue,Action\r\nDomainName,a.example,Block\r\n",
        ),
        (
            "b.json",
            "[{\"indicatorValue\":\"a.example\",\"indicatorType\":\"DomainName\",\"action\":\"Block\"}]\r\n",
        ),
        ("b.txt", "# c\r\na.example\r\n"),
        ("b.hosts", "0.0.0.0 a.example\r\n"),
    ];
    for (name, text) in table {
        let with_bom = format!("\u{feff}{text}");
        let (v, r) = ingest(name, with_bom.as_bytes(), Format::Auto);
        assert_eq!(hosts(&v), ["a.example"], "{name}: {:?}", r.diagnostics());
        assert!(r.diagnostics().is_empty(), "{name}: {:?}", r.diagnostics());
    }
}

#[test]
fn io_errors_are_errors_and_keep_what_was_read() {
    let mut ing = Ingester::new(Options::at(NOW));
    let err = ing
        .read_path(
            std::path::Path::new("/nonexistent/indicators.csv"),
            Format::Auto,
        )
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);

    /// Gives `data`, then fails.
    struct Failing<'a>(&'a [u8]);
    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("disk on fire"));
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let text = "a.example\n".repeat(2000);
    let err = ing
        .read("f.txt", Failing(text.as_bytes()), Format::Text)
        .unwrap_err();
    assert_eq!(err.to_string(), "disk on fire");
    assert!(ing.report().rows() >= 1 && ing.report().adds_up());
}

#[test]
fn progress_reports_the_bytes_read() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut ing = Ingester::new(Options::at(NOW));
    let s = Rc::clone(&seen);
    ing.set_progress(move |n| s.borrow_mut().push(n));
    let text = "a.example\n".repeat(100_000);
    ing.read("p.txt", text.as_bytes(), Format::Text).unwrap();
    let seen = seen.borrow();
    assert_eq!(seen.last(), Some(&(text.len() as u64)));
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]));
}

/// Generates a text list line by line, never holding it. In every
/// hundred lines: line 0 is a comment, line 1 an IP (`ip-indicator`), line
/// 2 `allow`s the name of line 3, so line 3's block is a `conflict`, line 5
/// repeats line 4 (a `duplicate`), and the other 95 are fresh domains.
struct Generated {
    next: u64,
    lines: u64,
    pending: Vec<u8>,
    at: usize,
}

impl Generated {
    fn new(lines: u64) -> Generated {
        Generated {
            next: 0,
            lines,
            pending: Vec::new(),
            at: 0,
        }
    }

    fn line(i: u64) -> String {
        match i % 100 {
            0 => format!("# block {i}\n"),
            1 => format!("10.{}.{}.{}\n", i >> 16 & 255, i >> 8 & 255, i & 255),
            2 => format!("allow host{}.example\n", i + 1),
            5 => format!("block host{}.example\n", i - 1),
            _ => format!("block host{i}.example\n"),
        }
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.pending.len() {
            if self.next == self.lines {
                return Ok(0);
            }
            self.pending = Generated::line(self.next).into_bytes();
            self.at = 0;
            self.next += 1;
        }
        let n = (self.pending.len() - self.at).min(buf.len());
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn streamed(lines: u64) {
    assert_eq!(lines % 100, 0, "the expectation assumes whole centuries");
    let mut ing = Ingester::new(Options::at(NOW));
    ing.read("generated.txt", Generated::new(lines), Format::Text)
        .unwrap();
    let (v, r) = ing.finish();
    // Per hundred lines: 99 rows; 1 allow + 95 fresh blocks accepted.
    let c = lines / 100;
    let (rows, acc, ip, dup, conf) = (99 * c, 96 * c, c, c, c);
    assert_eq!(r.rows(), rows, "{r}");
    assert_eq!(r.accepted(), acc, "{r}");
    assert_eq!(r.rejected_by(Code::IpIndicator), ip, "{r}");
    assert_eq!(r.merged_by(Code::Duplicate), dup, "{r}");
    assert_eq!(r.merged_by(Code::Conflict), conf, "{r}");
    assert_eq!(v.len() as u64, acc);
    assert!(r.adds_up());
}

#[test]
fn streams_a_hundred_thousand_lines() {
    streamed(100_000);
}

#[test]
#[ignore = "about 30 s in a debug build, 3 s in release: run with --ignored"]
fn streams_a_million_lines() {
    streamed(1_000_000);
}

/// Fragments that make random inputs look like each format often enough
/// to reach the readers' inner paths.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..12),
        prop::sample::select(vec![
            &b"\n"[..],
            b"\r\n",
            b",",
            b"\"",
            b"#",
            b" ",
            b"[",
            b"]",
            b"{",
            b"}",
            b":",
            b"IndicatorType,IndicatorValue,Action\n",
            b"DomainName,",
            b"Url,",
            b"IpAddress,",
            b"Block",
            b"allow ",
            b"a.example",
            b"https://x.test/a",
            b"0.0.0.0 ",
            b"*.",
            b"\"indicatorValue\":",
            b"\"indicatorType\":\"Url\"",
            b"\"action\":\"Warn\"",
            b"\xEF\xBB\xBF",
            b"\xFF",
            b"\0",
            b"245.245.0.1",
            b"||a.example^",
            b"localhost",
        ])
        .prop_map(<[u8]>::to_vec),
    ]
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(fragment(), 0..40).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_add_up(bytes in input()) {
        for format in Format::ALL {
            let mut ing = Ingester::new(Options::at(NOW));
            ing.read("fuzz", &bytes[..], format).unwrap();
            let r = ing.report();
            prop_assert!(r.adds_up(), "{} {}", format, r);
            let rows = r.rows();
            let (v, _) = ing.finish();
            prop_assert!(v.len() as u64 <= rows);
        }
    }

    /// In the text format, the rows are exactly the lines that are neither
    /// blank nor `#` comments (counted here without the reader), NUL bytes
    /// or not. The saved case `[11]` is a line of one vertical tab: blank.
    #[test]
    fn text_rows_are_the_non_comment_lines(bytes in input()) {
        prop_assume!(bytes.iter().any(|b| !b.is_ascii_whitespace()));
        prop_assume!(!bytes.starts_with(b"\xFF\xFE"));
        // The first bytes of a compressed or binary format refuse the file.
        prop_assume!(![&b"\x1f\x8b"[..], b"\x28\xb5\x2f\xfd", b"PK\x03\x04", b"\xfd7zXZ\0",
            b"BZh", b"7z\xbc\xaf\x27\x1c", b"\x89INDSET\n", b"\x7fELF"]
            .iter()
            .any(|m| bytes.starts_with(m)));
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        prop_assume!(body.iter().any(|b| !b.is_ascii_whitespace()));
        let want = body
            .split(|&b| b == b'\n')
            .filter(|l| match std::str::from_utf8(l) {
                // Blank is Unicode white space, as `str::trim` has it: a
                // line of only a vertical tab or a no-break space is blank.
                Ok(s) => {
                    let t = s.trim();
                    !t.is_empty() && !t.starts_with('#')
                }
                // A line that is not UTF-8 is a (malformed) row unless it
                // is a comment.
                Err(_) => !l.trim_ascii_start().starts_with(b"#"),
            })
            .count() as u64;
        let mut ing = Ingester::new(Options::at(NOW));
        ing.read("fuzz.txt", &bytes[..], Format::Text).unwrap();
        prop_assert_eq!(ing.report().rows(), want, "{:?}", ing.report().diagnostics());
    }
}
