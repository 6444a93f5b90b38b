//! CSV records as RFC 4180 reads them: a quoted field may hold commas,
//! quotes and line breaks, and nothing inside a field is ever read as a
//! row of its own. The property test checks the reader against the `csv`
//! crate on generated files.

use std::io::{self, Read};

use indset::ingest::{Format, Ingester, MAX_LINE_LEN, Options, Report};
use indset::{Action, Code, Indicator, Timestamp};
use indset_test_support::fixtures::{ingest_with, lines, values};
use proptest::prelude::*;

const NOW: Timestamp = Timestamp(1_761_350_400);

const HEADER: &str =
    "IndicatorType,IndicatorValue,ExpirationTime,Action,Severity,Title,Description\n";

fn ingest(name: &str, bytes: &[u8]) -> (Vec<Indicator>, Report) {
    ingest_with(Options::at(NOW), name, bytes, Format::Auto)
}

#[test]
fn a_line_break_in_a_quoted_description_does_not_inject_a_row() {
    let text = format!(
        "{HEADER}DomainName,good.test,,Block,High,t,\"Reported by partner.\n\
         DomainName,evil.test,,Allow,High,t,d\"\n\
         DomainName,next.test,,Warn,High,t,d\n"
    );
    let (v, r) = ingest("portal.csv", text.as_bytes());
    assert_eq!(
        values(&v),
        [
            ("good.test".to_string(), Action::Block),
            ("next.test".to_string(), Action::Warn)
        ],
        "{:?}",
        r.diagnostics()
    );
    assert_eq!(r.rows(), 2, "{r}");
    assert!(r.diagnostics().is_empty(), "{:?}", r.diagnostics());
    let good = v.iter().find(|i| i.host == "good.test").unwrap();
    assert_eq!(
        good.meta.description.as_deref(),
        Some("Reported by partner.\nDomainName,evil.test,,Allow,High,t,d")
    );
    // The row after the two-line record is at line 4.
    let next = v.iter().find(|i| i.host == "next.test").unwrap();
    assert_eq!((good.source.line, next.source.line), (2, 4));
}

#[test]
fn crlf_and_doubled_quotes_inside_a_field() {
    let text = "IndicatorType,IndicatorValue,Action,Title\r\n\
                DomainName,a.test,Block,\"say \"\"hi\"\",\r\nthen, bye\"\r\n\
                \r\n\
                DomainName,b.test,Audit,plain\r\n";
    let (v, r) = ingest("crlf.csv", text.as_bytes());
    assert!(r.diagnostics().is_empty(), "{:?}", r.diagnostics());
    assert_eq!(v[0].meta.title.as_deref(), Some("say \"hi\",\r\nthen, bye"));
    assert_eq!((v[0].source.line, v[1].source.line), (2, 5));
}

/// A quote that is never closed swallows the rest of the file into one
/// field: that record is one malformed row, and the file says from which
/// line nothing was read.
#[test]
fn an_unclosed_quote_stops_the_file_and_says_where() {
    let text = format!(
        "{HEADER}DomainName,a.test,,Block,High,t,d\n\
         DomainName,b.test,,Block,High,t,\"oops\n\
         DomainName,c.test,,Allow,High,t,d\n\
         DomainName,d.test,,Allow,High,t,d\n"
    );
    let (v, r) = ingest("q.csv", text.as_bytes());
    assert_eq!(values(&v), [("a.test".to_string(), Action::Block)]);
    assert_eq!(
        lines(&r),
        [(3, Code::MalformedRow), (3, Code::MalformedRow)]
    );
    assert_eq!((r.rows(), r.rejected(), r.file_errors()), (2, 1, 1));
    let [row, file] = r.diagnostics() else {
        unreachable!()
    };
    assert!(row.message.contains("not closed"), "{row}");
    assert!(
        file.message.contains("nothing from line 3 on was read"),
        "{file}"
    );
}

/// A closing quote followed by text (`"oops" more`) is not RFC 4180: where
/// the field ends is a guess, so nothing after it is trusted.
#[test]
fn text_after_a_closing_quote_stops_the_file() {
    let text = format!(
        "{HEADER}DomainName,a.test,,Block,High,t,\"stray\n\
         DomainName,b.test,,Allow,High,t,\"quoted, fine\"\n\
         DomainName,c.test,,Allow,High,t,d\n"
    );
    let (v, r) = ingest("s.csv", text.as_bytes());
    assert!(v.is_empty(), "{:?}", values(&v));
    assert_eq!(
        lines(&r),
        [(2, Code::MalformedRow), (2, Code::MalformedRow)]
    );
    assert_eq!((r.rows(), r.file_errors()), (1, 1));
    let row = &r.diagnostics()[0];
    assert!(row.message.contains("line 3"), "{row}");
    assert!(row.message.contains("`q`"), "{row}");
}

/// Gives `head`, then `len` bytes of `fill`, then `tail`, without holding
/// them.
struct Long {
    parts: Vec<(Vec<u8>, u64)>,
    at: u64,
}

impl Long {
    fn new(head: &str, fill: u8, len: u64, tail: &str) -> Long {
        Long {
            parts: vec![
                (tail.as_bytes().to_vec(), 1),
                (vec![fill; 64 * 1024], len.div_ceil(64 * 1024)),
                (head.as_bytes().to_vec(), 1),
            ],
            at: 0,
        }
    }
}

impl Read for Long {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some((chunk, times)) = self.parts.last_mut() else {
            return Ok(0);
        };
        let from = self.at as usize;
        let n = (chunk.len() - from).min(buf.len());
        buf[..n].copy_from_slice(&chunk[from..from + n]);
        self.at += n as u64;
        if self.at == chunk.len() as u64 {
            self.at = 0;
            *times -= 1;
            if *times == 0 {
                self.parts.pop();
            }
        }
        Ok(n)
    }
}

use indset_test_support::alloc;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// Held by the tests that stream megabytes: the heap counters are global
/// to this binary.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ALONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A quote opened and never closed in a 64 MiB stream: the reader keeps
/// at most a record's worth of it, and says where it stopped.
#[test]
fn an_unclosed_quote_in_a_long_stream_is_not_buffered() {
    let _alone = alone();
    let head =
        format!("{HEADER}DomainName,a.test,,Block,High,t,d\nDomainName,b.test,,Block,High,t,\"");
    let input = Long::new(
        &head,
        b'x',
        64 << 20,
        "\"\nDomainName,c.test,,Allow,High,t,d\n",
    );
    let (peak, (v, r)) = alloc::peak_during(|| {
        let mut ing = Ingester::new(Options::at(NOW));
        ing.read("long.csv", input, Format::Csv).unwrap();
        ing.finish()
    });
    assert_eq!(values(&v), [("a.test".to_string(), Action::Block)]);
    assert_eq!(
        lines(&r),
        [(3, Code::MalformedRow), (3, Code::MalformedRow)]
    );
    assert!(
        r.diagnostics()[0]
            .message
            .contains(&MAX_LINE_LEN.to_string()),
        "{}",
        r.diagnostics()[0]
    );
    assert!(peak < 8 * MAX_LINE_LEN, "peak heap {peak} bytes");
}

/// An overlong record outside any quote costs only itself.
#[test]
fn an_overlong_unquoted_record_costs_only_itself() {
    let _alone = alone();
    let head =
        format!("{HEADER}DomainName,a.test,,Block,High,t,d\nDomainName,b.test,,Block,High,t,");
    let input = Long::new(
        &head,
        b'x',
        3 << 20,
        "\nDomainName,c.test,,Allow,High,t,d\n",
    );
    let mut ing = Ingester::new(Options::at(NOW));
    ing.read("wide.csv", input, Format::Csv).unwrap();
    let (v, r) = ing.finish();
    assert_eq!(
        values(&v),
        [
            ("a.test".to_string(), Action::Block),
            ("c.test".to_string(), Action::Allow)
        ]
    );
    assert_eq!(lines(&r), [(3, Code::MalformedRow)]);
    assert_eq!(r.file_errors(), 0);
}

// ---- The property: the `csv` crate's records are the report's rows. ----

/// Text for a field: often plain, sometimes full of the characters that
/// matter to CSV, sometimes a whole indicator row or two (the injection).
fn field_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z0-9.]{0,12}",
        2 => prop::collection::vec(
            prop::sample::select(vec![
                "a", " ", ",", "\"", "\n", "\r", "\r\n", "\"\"", "x.test", "#", "\t",
            ]),
            0..10
        )
        .prop_map(|v| v.concat()),
        1 => (0..3u8, "[a-z]{1,8}").prop_map(|(n, host)| {
            (0..=n)
                .map(|i| format!("\nDomainName,in{i}-{host}.test,,Allow,High,t,d"))
                .collect::<String>()
        }),
    ]
}

/// One record: a valid indicator row (its host unique to the row), or a
/// row of arbitrary fields (sometimes a field more or less).
fn record(i: usize) -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        3 => (field_text(), field_text(), prop::sample::select(vec!["Block", "Allow", "Warn"]))
            .prop_map(move |(title, description, action)| {
                vec![
                    "DomainName".into(),
                    format!("row{i}.test"),
                    String::new(),
                    action.into(),
                    "High".into(),
                    title,
                    description,
                ]
            }),
        1 => prop::collection::vec(field_text(), 6..9),
    ]
}

fn file() -> impl Strategy<Value = (Vec<Vec<String>>, bool)> {
    (0..12usize)
        .prop_flat_map(|n| (0..n).map(record).collect::<Vec<_>>())
        .prop_flat_map(|records| (Just(records), any::<bool>()))
}

/// The file's bytes and the line each record starts on.
fn write(records: &[Vec<String>], crlf: bool) -> (Vec<u8>, Vec<u64>) {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(if crlf {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        })
        .from_writer(Vec::new());
    w.write_record(HEADER.trim_end().split(',')).unwrap();
    let mut starts = Vec::new();
    for r in records {
        w.flush().unwrap();
        starts.push(w.get_ref().iter().filter(|&&b| b == b'\n').count() as u64 + 1);
        w.write_record(r).unwrap();
    }
    (w.into_inner().unwrap(), starts)
}

proptest! {
    #[test]
    fn the_csv_crates_records_are_the_rows((records, crlf) in file()) {
        let (bytes, starts) = write(&records, crlf);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(&bytes[..]);
        let read: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        prop_assert_eq!(read.len(), records.len());

        let mut ing = Ingester::new(Options::at(NOW));
        ing.read("gen.csv", &bytes[..], Format::Auto).unwrap();
        let (v, r) = ing.finish();
        prop_assert_eq!(r.rows(), read.len() as u64, "{:?}", r.diagnostics());
        prop_assert!(r.adds_up());
        prop_assert_eq!(r.file_errors(), 0);
        // Every accepted indicator is the value field of the record that
        // starts at its line, and that record is an indicator row.
        for ind in &v {
            let at = starts.iter().position(|&l| l == ind.source.line);
            prop_assert!(at.is_some(), "no record starts at line {}", ind.source.line);
            let rec = &read[at.unwrap()];
            prop_assert_eq!(rec.len(), 7);
            let value = ind.value();
            prop_assert_eq!(&rec[1], value.as_str());
            prop_assert!(!ind.host.starts_with("in"), "{} came from inside a field", ind.host);
        }
        let want: Vec<&str> = read
            .iter()
            .filter(|rec| rec.len() == 7 && &rec[0] == "DomainName" && rec[1].starts_with("row"))
            .map(|rec| &rec[1])
            .collect();
        let mut got: Vec<String> = v.iter().map(Indicator::value).collect();
        got.sort();
        let mut want: Vec<String> = want.into_iter().map(str::to_string).collect();
        want.sort();
        prop_assert_eq!(got, want, "{:?}", r.diagnostics());
    }
}
