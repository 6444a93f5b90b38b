//! `lookup_reference`: the compiled set against the naive reference
//! matcher, on structured indicator lists and queries.
//!
//! The indicators are written as a CSV import file (type, value, action,
//! expiration) and go through the real pipeline: `Ingester` (canonical
//! keys, rejections, expiry at compile time, duplicates and conflicts
//! merged), then `build`, then `IndicatorSet::from_bytes`. Hosts and paths
//! are drawn mostly from a small vocabulary, so that indicators and queries
//! meet, with arbitrary strings mixed in.
//!
//! Properties:
//! 1. the compiled bytes open, and (for a quarter of the inputs, as the
//!    check costs a second build) the same indicators in reverse order
//!    compile to the same bytes;
//! 2. for every query, in both modes, at an arbitrary `now`: the set's
//!    action, `invalid` flag, deciding indicator and audit indicator are
//!    the reference matcher's (`docs/matching.md`).
#![no_main]

use arbitrary::Arbitrary;
use indset::compile::build;
use indset::ingest::{Format, Ingester, Options, format_timestamp};
use indset::{Hit, Indicator, IndicatorSet, Kind, Mode, Timestamp, reference};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_700_000_000;

const LABELS: &[&str] = &[
    "a",
    "b",
    "ex",
    "example",
    "ample",
    "com",
    "co",
    "uk",
    "zip",
    "evil",
    "xn--bcher-kva",
    "bücher",
    "BÜCHER",
    "ÉCOLE",
    "x-y",
    "9",
    "0x7f",
    "%41",
    "www",
    "a。b",
];
const SEGMENTS: &[&str] = &[
    "a", "b", "block", "blockade", "dir", "x.js", "%7e", "~", "A", ".", "..", "%2e", "", "%2F",
    "a%3Fb", "\\",
];
const QUERIES: &[&str] = &["x=1", "x=10", "q", "", "a=b&c=d", "?", "%23"];
const ACTIONS: &[&str] = &[
    "Block",
    "Allowed",
    "Warn",
    "Audit",
    "alert",
    "AlertAndBlock",
    "Nope",
];
const EXPIRATIONS: &[Option<i64>] = &[None, None, Some(NOW - 10), Some(NOW), Some(NOW + 10)];
const LOOKUP_TIMES: &[i64] = &[NOW, NOW + 9, NOW + 10, NOW + 11, NOW - 100];
const SCHEMES: &[&str] = &["", "http://", "https://", "HTTP://u:p@", "ftp://", "//"];

#[derive(Arbitrary, Debug)]
enum Host {
    Labels(Vec<u8>),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Path {
    segments: Vec<u8>,
    slash: bool,
    query: Option<u8>,
    tail: Option<String>,
}

#[derive(Arbitrary, Debug)]
struct Ind {
    url: bool,
    scheme: u8,
    host: Host,
    path: Path,
    action: u8,
    expiration: u8,
}

#[derive(Arbitrary, Debug)]
struct Query {
    scheme: u8,
    /// Labels put before the host of an indicator, to reach subdomains.
    sub: Vec<u8>,
    /// Which indicator's host to use, or the query's own.
    of: Option<u8>,
    host: Host,
    port: Option<u16>,
    path: Path,
}

#[derive(Arbitrary, Debug)]
struct Input {
    indicators: Vec<Ind>,
    queries: Vec<Query>,
    now: Result<u8, i64>,
}

fn pick<'a>(table: &[&'a str], i: u8) -> &'a str {
    table[usize::from(i) % table.len()]
}

fn host(h: &Host) -> String {
    match h {
        Host::Labels(l) if !l.is_empty() => {
            let l: Vec<&str> = l.iter().take(4).map(|&i| pick(LABELS, i)).collect();
            l.join(".")
        }
        Host::Labels(_) => "example.com".into(),
        Host::Raw(s) => s.chars().take(40).collect(),
    }
}

fn path(p: &Path) -> String {
    let segs: Vec<&str> = p
        .segments
        .iter()
        .take(4)
        .map(|&i| pick(SEGMENTS, i))
        .collect();
    let mut s = format!("/{}", segs.join("/"));
    if p.slash && !s.ends_with('/') {
        s.push('/');
    }
    if let Some(q) = p.query {
        s.push('?');
        s.push_str(pick(QUERIES, q));
    }
    if let Some(t) = &p.tail {
        s.extend(t.chars().take(20));
    }
    s
}

/// A CSV field, quoted; CR and LF dropped (a row is one line).
fn field(s: &str) -> String {
    let s: String = s.chars().filter(|&c| c != '\r' && c != '\n').collect();
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn csv(indicators: &[Ind]) -> String {
    let mut out = String::from("IndicatorType,IndicatorValue,Action,ExpirationTime\n");
    for ind in indicators {
        let h = host(&ind.host);
        let (kind, value) = if ind.url {
            (
                "Url",
                format!("{}{h}{}", pick(SCHEMES, ind.scheme), path(&ind.path)),
            )
        } else {
            ("DomainName", h)
        };
        let exp = EXPIRATIONS[usize::from(ind.expiration) % EXPIRATIONS.len()]
            .map(|t| format_timestamp(Timestamp(t)))
            .unwrap_or_default();
        out.push_str(&format!(
            "{kind},{},{},{exp}\n",
            field(&value),
            pick(ACTIONS, ind.action)
        ));
    }
    out
}

fn query(q: &Query, indicators: &[Indicator]) -> String {
    let base = match q.of {
        Some(i) if !indicators.is_empty() => {
            indicators[usize::from(i) % indicators.len()].host.clone()
        }
        _ => host(&q.host),
    };
    let sub: Vec<&str> = q.sub.iter().take(3).map(|&i| pick(LABELS, i)).collect();
    let mut s = String::from(pick(SCHEMES, q.scheme));
    for l in sub {
        s.push_str(l);
        s.push('.');
    }
    s.push_str(&base);
    if let Some(p) = q.port {
        s.push_str(&format!(":{p}"));
    }
    s.push_str(&path(&q.path));
    s
}

fn describe<D: AsRef<[u8]>>(
    set: &IndicatorSet<D>,
    q: &str,
    mode: Mode,
    hit: Option<Hit>,
) -> Option<(Kind, String, indset::Action)> {
    hit.map(|h| {
        let info = set.info(q.as_bytes(), mode, h);
        (info.kind, info.value, info.action)
    })
}

fn expected(indicators: &[Indicator], i: Option<usize>) -> Option<(Kind, String, indset::Action)> {
    i.map(|i| {
        let ind = &indicators[i];
        (ind.kind, ind.value(), ind.action)
    })
}

fuzz_target!(|input: Input| {
    let rows = &input.indicators[..input.indicators.len().min(16)];
    let mut ing = Ingester::new(Options::at(Timestamp(NOW)));
    ing.read("fuzz.csv", csv(rows).as_bytes(), Format::Csv)
        .expect("reading from memory never fails");
    let (indicators, report) = ing.finish();
    assert!(report.adds_up(), "{report}");

    let bytes = build(&indicators);
    // A build costs most of an execution (the `fst` builder sets up its
    // node registry each time), so the order check runs on a quarter of
    // the inputs, chosen by the input itself so that a failure reproduces.
    if matches!(input.now, Ok(i) if i % 4 == 0) || input.now.is_err() && rows.len() % 4 == 0 {
        let reversed: Vec<Indicator> = indicators.iter().rev().cloned().collect();
        assert!(
            build(&reversed) == bytes,
            "the order of the indicators changed the file"
        );
    }
    let set = IndicatorSet::from_bytes(&bytes[..]).expect("a compiled set opens");
    assert_eq!(set.len(), indicators.len());

    let now = Timestamp(match input.now {
        Ok(i) => LOOKUP_TIMES[usize::from(i) % LOOKUP_TIMES.len()],
        Err(t) => t,
    });
    for q in input.queries.iter().take(8) {
        let q = query(q, &indicators);
        for mode in [Mode::Full, Mode::Domain] {
            let got = set.check_at(q.as_bytes(), mode, now);
            let want = reference::check(&indicators, q.as_bytes(), mode, now);
            let context = || {
                let list: Vec<String> = indicators
                    .iter()
                    .map(|i| {
                        format!(
                            "{} {} {} {:?}",
                            i.kind,
                            i.value(),
                            i.action,
                            i.meta.expiration
                        )
                    })
                    .collect();
                format!("query {q:?} in {mode:?} mode at {}; set {list:#?}", now.0)
            };
            assert_eq!(got.invalid, want.invalid, "invalid: {}", context());
            assert_eq!(got.decision, want.decision, "decision: {}", context());
            assert_eq!(
                describe(&set, &q, mode, got.indicator),
                expected(&indicators, want.indicator),
                "deciding indicator: {}",
                context()
            );
            assert_eq!(
                describe(&set, &q, mode, got.audit),
                expected(&indicators, want.audit),
                "audit indicator: {}",
                context()
            );
        }
    }
});
