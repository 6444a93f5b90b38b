//! Format detection by content, rows of one format fed as another, and
//! NUL bytes: one rule in every format.

use indset::ingest::{Format, Options, Report};
use indset::{Action, Code, Indicator, Timestamp};
use indset_test_support::fixtures::{ingest_with, lines, values};

const NOW: Timestamp = Timestamp(1_761_350_400);

const PORTAL: &str = "IndicatorType,IndicatorValue,ExpirationTime,Action,Severity,Title,Description\n\
                      DomainName,h1.test,,Block,High,t,d\n\
                      DomainName,ok.test,,Allow,High,t,d\n";

fn ingest(name: &str, bytes: &[u8], format: Format) -> (Vec<Indicator>, Report) {
    ingest_with(Options::at(NOW), name, bytes, format)
}

#[test]
fn a_portal_csv_is_csv_whatever_its_name() {
    for name in [
        "portal.txt",
        "portal.list",
        "portal.hosts",
        "hosts",
        "portal",
        "portal.json",
    ] {
        let (v, r) = ingest(name, PORTAL.as_bytes(), Format::Auto);
        assert_eq!(
            values(&v),
            [
                ("h1.test".to_string(), Action::Block),
                ("ok.test".to_string(), Action::Allow)
            ],
            "{name}: {:?}",
            r.diagnostics()
        );
        assert_eq!(Format::Auto.detect(name, PORTAL.as_bytes()), Format::Csv);
    }
    // Only a header that names the columns counts, not a comment.
    let list = b"# IndicatorType,IndicatorValue are CSV columns\na.test\n";
    assert_eq!(Format::Auto.detect("l.txt", list), Format::Text);
}

#[test]
fn csv_rows_in_a_text_list_are_rejected_with_a_hint() {
    let (v, r) = ingest("portal.txt", PORTAL.as_bytes(), Format::Text);
    assert!(v.is_empty(), "{:?}", values(&v));
    assert_eq!(
        lines(&r),
        [
            (1, Code::MalformedRow),
            (2, Code::MalformedRow),
            (3, Code::MalformedRow)
        ]
    );
    for d in r.diagnostics() {
        assert!(d.message.contains("looks like a CSV row"), "{d}");
        assert!(d.message.contains("--format csv"), "{d}");
    }
    // A comma in a URL's path is not a CSV row.
    let (v, r) = ingest(
        "l.txt",
        b"https://x.test/a,b\nwarn y.test/p?ids=1,2\n",
        Format::Text,
    );
    assert_eq!(values(&v).len(), 2, "{:?}", r.diagnostics());
}

#[test]
fn an_action_word_alone_is_not_a_domain() {
    let text = "allow\nblock\nWarn\naudit a.test\nallowed\n";
    let (v, r) = ingest("l.txt", text.as_bytes(), Format::Text);
    assert_eq!(values(&v), [("a.test".to_string(), Action::Audit)]);
    assert_eq!(
        lines(&r),
        [
            (1, Code::MalformedRow),
            (2, Code::MalformedRow),
            (3, Code::MalformedRow),
            (5, Code::MalformedRow)
        ]
    );
    assert!(
        r.diagnostics()[0].message.contains("no value"),
        "{}",
        r.diagnostics()[0]
    );
}

#[test]
fn commas_in_a_hosts_file_are_rejected_with_a_hint() {
    let (v, r) = ingest("hosts", b"0.0.0.0 a.test,b.test c.test\n", Format::Hosts);
    assert_eq!(values(&v), [("c.test".to_string(), Action::Block)]);
    assert_eq!(lines(&r), [(1, Code::MalformedRow)]);
    assert!(
        r.diagnostics()[0].message.contains("comma"),
        "{}",
        r.diagnostics()[0]
    );
}

/// A NUL byte is a row error wherever it is, in every format: early in
/// the file (within the bytes read to detect the format) or late.
#[test]
fn a_nul_byte_costs_only_its_row_in_every_format() {
    let pad = "a.test\n".repeat(2000);
    for late in [false, true] {
        let pad = if late { pad.as_str() } else { "" };
        let skip = pad.lines().count() as u64;
        let table: [(&str, Format, String, u64, &str); 5] = [
            ("n.txt", Format::Text, format!("{pad}x.test\nb\0.test\nc.test\n"), 2, "column 2"),
            ("n.hosts", Format::Hosts, format!("{}0.0.0.0 x.test\n0.0.0.0 b\0.test\n0.0.0.0 c.test\n",
                pad.lines().map(|l| format!("0.0.0.0 {l}\n")).collect::<String>()), 2, "column 10"),
            (
                "n.csv",
                Format::Csv,
                format!("IndicatorType,IndicatorValue,Action,Title\n{}DomainName,x.test,Block,t\nDomainName,b.test,Block,t\0\nDomainName,c.test,Block,t\n",
                    pad.lines().map(|l| format!("DomainName,{l},Block,t\n")).collect::<String>()),
                3,
                "`Title` (field 4)",
            ),
            (
                "n.json",
                Format::Json,
                format!("[\n{}{{\"indicatorValue\":\"x.test\",\"indicatorType\":\"DomainName\",\"action\":\"Block\"}},\n\
                 {{\"indicatorValue\":\"b.test\",\"indicatorType\":\"DomainName\",\"action\":\"Block\",\"title\":\"t\\u0000\"}},\n\
                 {{\"indicatorValue\":\"c.test\",\"indicatorType\":\"DomainName\",\"action\":\"Block\"}}]\n",
                    pad.lines().map(|l| format!("{{\"indicatorValue\":\"{l}\",\"indicatorType\":\"DomainName\",\"action\":\"Block\"}},\n")).collect::<String>()),
                3,
                "`title`",
            ),
            (
                "raw.json",
                Format::Json,
                format!("[\n{}{{\"indicatorValue\":\"x.test\",\"indicatorType\":\"DomainName\",\"action\":\"Block\"}},\n\
                 {{\"indicatorValue\":\"b.test\",\"indicatorType\":\"DomainName\",\"action\":\"Block\",\"title\":\"t\0\"}},\n\
                 {{\"indicatorValue\":\"c.test\",\"indicatorType\":\"DomainName\",\"action\":\"Block\"}}]\n",
                    pad.lines().map(|l| format!("{{\"indicatorValue\":\"{l}\",\"indicatorType\":\"DomainName\",\"action\":\"Block\"}},\n")).collect::<String>()),
                3,
                "`title`",
            ),
        ];
        for (name, format, text, line, column) in table {
            for format in [format, Format::Auto] {
                let (v, r) = ingest(name, text.as_bytes(), format);
                let hosts: Vec<&str> = v.iter().map(|i| i.host.as_str()).collect();
                assert!(
                    hosts.contains(&"x.test")
                        && hosts.contains(&"c.test")
                        && !hosts.contains(&"b.test"),
                    "{name} {format} late={late}: {hosts:?} {:?}",
                    r.diagnostics()
                );
                let d: Vec<_> = r
                    .diagnostics()
                    .iter()
                    .filter(|d| d.code != Code::Duplicate)
                    .collect();
                assert_eq!(d.len(), 1, "{name} {format}: {d:?}");
                assert_eq!(
                    (d[0].line, d[0].code),
                    (line + skip, Code::MalformedRow),
                    "{name}: {}",
                    d[0]
                );
                assert!(d[0].message.contains("NUL"), "{}", d[0]);
                assert!(d[0].message.contains(column), "{name}: {}", d[0]);
                assert_eq!(r.file_errors(), 0);
            }
        }
    }
}

#[test]
fn compressed_files_are_unreadable_and_say_decompress() {
    let table: [(&str, &[u8], &str); 4] = [
        ("a.csv.gz", b"\x1f\x8b\x08\0\0\0\0\0", "gzip"),
        ("a.zst", b"\x28\xb5\x2f\xfd\0\0", "zstd"),
        ("a.zip", b"PK\x03\x04\x14\0\0\0", "zip"),
        ("a.xz", b"\xfd7zXZ\0\0", "xz"),
    ];
    for (name, bytes, what) in table {
        for format in Format::ALL {
            let (_, r) = ingest(name, bytes, format);
            assert_eq!((r.rows(), r.file_errors()), (0, 1), "{name} {format}");
            let d = &r.diagnostics()[0];
            assert_eq!((d.line, d.code), (0, Code::MalformedRow));
            assert!(d.message.contains(what), "{d}");
            assert!(d.message.contains("decompress it first"), "{d}");
        }
    }
}
