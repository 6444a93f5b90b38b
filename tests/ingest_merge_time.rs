//! Rows that share a key, as ingestion merges them: the compiled set
//! answers at every instant as the whole list does (a row that loses only
//! while another lives is kept for after it expires), and every indicator
//! of a set has an id of its own.

use std::collections::HashSet;

use indset::ingest::{Format, Options, format_timestamp};
use indset::{Action, Code, Decision, Indicator, Kind, Mode, Timestamp, reference};
use indset::{Compiler, IndicatorSet};
use indset_test_support::fixtures::{ref_shape, set_shape, try_ind};
use proptest::prelude::*;
use proptest::sample::select;

/// 2030-01-01T00:00:00Z.
const Y2030: i64 = 1_893_456_000;

fn compile(
    now: Timestamp,
    inputs: &[(&str, &str)],
) -> (IndicatorSet<Vec<u8>>, indset::ingest::Report) {
    let mut c = Compiler::new(Options::at(now));
    for (name, text) in inputs {
        c.add_reader(name, text.as_bytes(), Format::Auto)
            .expect("reads");
    }
    let compiled = c.finish();
    assert!(compiled.report.adds_up(), "{}", compiled.report);
    let set = IndicatorSet::from_bytes(compiled.bytes).expect("opens");
    (set, compiled.report)
}

#[test]
fn an_expiring_allow_does_not_erase_a_permanent_block() {
    let csv = "IndicatorType,IndicatorValue,ExpirationTime,Action\n\
               DomainName,exp.test,2030-01-01T00:00:00Z,Allowed\n\
               DomainName,exp.test,,Block\n";
    let (set, report) = compile(Timestamp(Y2030 - 86_400 * 365), &[("p.csv", csv)]);
    let at = |t: i64| {
        set.check_at("www.exp.test", Mode::Domain, Timestamp(t))
            .decision
    };
    assert_eq!(at(Y2030 - 1), Decision::Allow);
    assert_eq!(
        at(Y2030),
        Decision::Block,
        "the Allow expired: the Block decides"
    );
    assert_eq!(at(Y2030 + 86_400 * 365), Decision::Block);
    // One row each, the Block merged as a conflict that applies later.
    assert_eq!(
        (report.accepted(), report.merged_by(Code::Conflict)),
        (1, 1)
    );
    assert_eq!(set.len(), 2);
    let d = &report.diagnostics()[0];
    assert_eq!((d.line, d.code), (3, Code::Conflict));
    assert!(
        d.message.contains("applies from 2030-01-01T00:00:00Z"),
        "{}",
        d.message
    );
    // `explain` lists both records, the Block waiting for the Allow.
    let e = set.explain("exp.test", Mode::Domain, Timestamp(Y2030 - 1));
    assert_eq!(e.matches.len(), 2);
    assert_eq!(e.matches[0].info.action, Action::Allow);
    assert_eq!(e.matches[1].info.action, Action::Block);
    // And `iter` lists both, with the same value.
    let all: Vec<_> = set.iter().map(|i| (i.value, i.action)).collect();
    assert_eq!(
        all,
        [
            ("exp.test".to_string(), Action::Allow),
            ("exp.test".to_string(), Action::Block)
        ]
    );
}

/// A row kept for after others expire is reported once, with what the
/// whole list finally says, however the rows after it move its window.
#[test]
fn conflict_messages_say_what_the_whole_list_does() {
    let csv = "IndicatorType,IndicatorValue,ExpirationTime,Action\n\
               DomainName,s.test,2030-01-01T00:00:00Z,Allowed\n\
               DomainName,s.test,2032-01-01T00:00:00Z,Block\n\
               DomainName,s.test,,Audit\n\
               DomainName,s.test,2033-01-01T00:00:00Z,Block\n";
    let (set, report) = compile(Timestamp(Y2030 - 1000), &[("m.csv", csv)]);
    assert_eq!(
        (
            report.merged_by(Code::Duplicate),
            report.merged_by(Code::Conflict)
        ),
        (1, 2)
    );
    let said: Vec<(u64, Code, bool)> = report
        .diagnostics()
        .iter()
        .map(|d| (d.line, d.code, d.message.contains("applies from")))
        .collect();
    // Line 3 is outlived by line 5; line 5 applies from the Allow's
    // expiration, the Audit from line 5's (not from line 3's, as it would
    // have looked when line 4 was read).
    assert_eq!(
        said,
        [
            (3, Code::Duplicate, false),
            (5, Code::Conflict, true),
            (4, Code::Conflict, true)
        ]
    );
    assert!(
        report.diagnostics()[1]
            .message
            .contains("from 2030-01-01T00:00:00Z")
    );
    assert!(
        report.diagnostics()[2]
            .message
            .contains("from 2033-01-01T00:00:00Z")
    );
    // And the set agrees with what they say.
    let at = |t: &str| {
        let t = indset::ingest::parse_timestamp(t).expect("a time");
        set.check_at("s.test", Mode::Domain, t).decision
    };
    assert_eq!(at("2029-12-31T23:59:59Z"), Decision::Allow);
    assert_eq!(at("2030-01-01T00:00:00Z"), Decision::Block);
    assert_eq!(at("2033-01-01T00:00:00Z"), Decision::Audit);
}

#[test]
fn a_longer_lived_duplicate_replaces_the_shorter() {
    let csv = "IndicatorType,IndicatorValue,ExpirationTime,Action,Title\n\
               DomainName,dup.test,2030-01-01T00:00:00Z,Block,short\n\
               DomainName,dup.test,,Block,long\n";
    let (set, report) = compile(Timestamp(Y2030 - 1000), &[("d.csv", csv)]);
    assert_eq!(set.len(), 1);
    let v = set.check_at("dup.test", Mode::Domain, Timestamp(Y2030 + 10));
    assert_eq!(v.decision, Decision::Block);
    let info = set.info(b"dup.test", Mode::Domain, v.indicator.expect("decided"));
    assert_eq!(info.meta.title.as_deref(), Some("long"));
    // The shorter-lived row is the duplicate.
    let d = &report.diagnostics()[0];
    assert_eq!((d.line, d.code), (2, Code::Duplicate), "{d}");
    assert!(d.message.contains("never expires"), "{d}");
}

#[test]
fn a_row_outlived_by_the_winner_is_not_kept() {
    let csv = "IndicatorType,IndicatorValue,ExpirationTime,Action\n\
               DomainName,gone.test,2031-01-01T00:00:00Z,Allowed\n\
               DomainName,gone.test,2030-01-01T00:00:00Z,Block\n";
    let (set, report) = compile(Timestamp(Y2030 - 1000), &[("g.csv", csv)]);
    assert_eq!(set.len(), 1, "the Block never decides");
    let d = &report.diagnostics()[0];
    assert_eq!((d.line, d.code), (3, Code::Conflict));
    assert!(d.message.contains("remove the row"), "{d}");
}

#[test]
fn ids_name_one_row_across_inputs() {
    let (set, _) = compile(
        Timestamp(0),
        &[
            ("a.txt", "one.test\ntwo.test\n"),
            ("b.txt", "three.test\nfour.test\n"),
        ],
    );
    let id = |q: &str| {
        let v = set.check_at(q, Mode::Domain, Timestamp(0));
        set.info(q.as_bytes(), Mode::Domain, v.indicator.expect("decided"))
            .id
    };
    assert_eq!(id("one.test"), "a.txt:1");
    assert_eq!(id("three.test"), "b.txt:1");
    assert_eq!(id("four.test"), "b.txt:2");
    let ids: HashSet<String> = set.iter().map(|i| i.id).collect();
    assert_eq!(ids.len(), 4);
}

#[test]
fn ids_name_one_row_when_a_line_holds_several() {
    // A hosts line with several names, and JSON elements on one line.
    let json: String = format!(
        "[{}]",
        (0..5)
            .map(|i| {
                format!(
                    "{{\"indicatorType\":\"DomainName\",\"indicatorValue\":\"x{i}.test\",\"action\":\"Block\"}}"
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    );
    let (set, _) = compile(
        Timestamp(0),
        &[
            (
                "k.hosts",
                "0.0.0.0 a.test b.test localhost c.test
0.0.0.0 d.test
",
            ),
            ("k.json", &json),
        ],
    );
    let id = |q: &str| {
        let v = set.check_at(q, Mode::Domain, Timestamp(0));
        set.info(q.as_bytes(), Mode::Domain, v.indicator.expect("decided"))
            .id
    };
    assert_eq!(id("a.test"), "k.hosts:1");
    assert_eq!(id("b.test"), "k.hosts:1#2");
    // `localhost` is not a row: `c.test` is the third row of its line.
    assert_eq!(id("c.test"), "k.hosts:1#3");
    assert_eq!(id("d.test"), "k.hosts:2");
    assert_eq!(id("x0.test"), "k.json:1");
    assert_eq!(id("x4.test"), "k.json:1#5");
    let ids: HashSet<String> = set.iter().map(|i| i.id).collect();
    assert_eq!(ids.len(), set.len(), "every id names one row");
}

const VALUES: &[(Kind, &str)] = &[
    (Kind::DomainName, "example.com"),
    (Kind::DomainName, "a.example.com"),
    (Kind::Url, "http://example.com/"),
    (Kind::Url, "http://a.example.com/p"),
];
const ACTIONS: &[&str] = &["Allowed", "Warn", "Block", "Audit"];
/// Offsets from the compile time, in seconds; `None` never expires.
const EXPIRES: &[Option<i64>] = &[None, None, Some(100), Some(200), Some(300)];
const QUERIES: &[&str] = &[
    "http://example.com/",
    "http://a.example.com/p/x",
    "http://a.example.com/q",
    "http://b.a.example.com/",
];

fn row() -> impl Strategy<Value = (usize, usize, Option<i64>)> {
    (0..VALUES.len(), 0..ACTIONS.len(), select(EXPIRES))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    /// Through the CSV reader and the merge: at every instant the set
    /// answers as the reference does over every row as written.
    #[test]
    fn merged_rows_answer_as_the_whole_list_at_every_instant(
        rows in prop::collection::vec(row(), 1..12),
    ) {
        let now = Timestamp(1_800_000_000);
        let mut csv = String::from("IndicatorType,IndicatorValue,ExpirationTime,Action\n");
        let mut written: Vec<Indicator> = Vec::new();
        for (line, &(v, a, exp)) in rows.iter().enumerate() {
            let (kind, value) = VALUES[v];
            let expiration = exp.map(|d| Timestamp(now.0 + d));
            let when = expiration.map(format_timestamp).unwrap_or_default();
            csv.push_str(&format!("{kind},{value},{when},{}\n", ACTIONS[a]));
            let action = [Action::Allow, Action::Warn, Action::Block, Action::Audit][a];
            let mut ind = try_ind(kind, value, action, line as u64 + 2).expect("valid");
            ind.meta.expiration = expiration;
            written.push(ind);
        }
        let (set, report) = compile(now, &[("r.csv", &csv)]);
        prop_assert_eq!(report.rows(), rows.len() as u64);
        // One diagnostic for every merged row.
        let merges = report
            .diagnostics()
            .iter()
            .filter(|d| matches!(d.code, Code::Duplicate | Code::Conflict))
            .count() as u64;
        prop_assert_eq!(merges, report.merged());
        prop_assert!(set.len() <= rows.len());
        for q in QUERIES {
            for mode in [Mode::Full, Mode::Domain] {
                for d in [0, 99, 100, 150, 200, 250, 300, 301] {
                    let t = Timestamp(now.0 + d);
                    let got = set_shape(&set, set.check_at(q, mode, t), q, mode);
                    let want = ref_shape(&written, reference::check(&written, q.as_bytes(), mode, t));
                    prop_assert_eq!(got, want, "{} ({:?}) at +{}\n{}", q, mode, d, csv);
                }
            }
        }
    }
}
