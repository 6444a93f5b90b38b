//! The host index (`HOSTS` section) answers exactly as the key automaton
//! does: the real lists and real requests give the same verdict, deciding
//! indicator and audit indicator, explanation and list of indicators with
//! the index as the sole store of its keys as with every key in the
//! automaton and no index, in both modes; a malformed index header is
//! refused when the set is opened, and damaged index bytes never make a
//! lookup panic.

use std::sync::Arc;

use indset::compile::{build, build_with_every_key_in_the_automaton};
use indset::format::KEYS;
use indset::format::{Container, FormatError, HOSTS, SectionId, Writer};
use indset::{Action, Decision, Indicator, IndicatorSet, Kind, Mode};
use indset_test_support::data as common;
use proptest::prelude::*;

/// The same file with the index section replaced (`None`: removed).
fn with_index(bytes: &[u8], index: Option<&[u8]>) -> Vec<u8> {
    let c = Container::parse(bytes).expect("a built set parses");
    let mut w = Writer::new();
    w.flags(c.flags());
    if let Some(h) = index {
        w.add_section(HOSTS, h);
    }
    for (id, section) in c.sections() {
        if id != HOSTS {
            w.add_section(id, section);
        }
    }
    w.finish()
}

/// The real lists, plus `Url` indicators for every fiftieth request (with
/// its path) and, for every seventieth, its host's root with another
/// action, so that hosts with path keys, root keys and domain keys meet.
fn indicators(urls: &[String]) -> Vec<Indicator> {
    let mut all = common::real();
    let file: Arc<str> = Arc::from("requests");
    for (i, u) in urls.iter().enumerate() {
        let line = i as u64 + 1;
        if i % 50 == 0 {
            all.extend(common::indicator(Kind::Url, u, Action::Allow, &file, line));
        }
        if i % 70 == 0 {
            if let Ok(p) = url::Url::parse(u) {
                let root = format!("{}://{}/", p.scheme(), p.host_str().unwrap_or(""));
                all.extend(common::indicator(
                    Kind::Url,
                    &root,
                    Action::Audit,
                    &file,
                    line,
                ));
            }
        }
    }
    all
}

#[test]
fn the_index_answers_every_real_request_as_the_automaton_does() {
    let urls = common::request_urls();
    let hosts = common::request_hosts(&urls);
    let inds = indicators(&urls);
    let bytes = build(&inds);
    let every = build_with_every_key_in_the_automaton(&inds);
    let (sole, complete) = (
        Container::parse(&bytes).unwrap(),
        Container::parse(&every).unwrap(),
    );
    assert!(sole.section(HOSTS).is_some());
    // The automaton keeps only the keys the index does not file: the
    // `Url` keys with a path.
    let (small, large) = (
        sole.section(KEYS).unwrap().len(),
        complete.section(KEYS).unwrap().len(),
    );
    assert!(small * 3 < large, "{small} against {large}");
    let indexed = IndicatorSet::from_bytes(bytes.clone()).unwrap();
    let walked = IndicatorSet::from_bytes(with_index(&every, None)).unwrap();
    let now = indset::Timestamp(1_700_000_000);
    let mut seen = [0usize; 3];
    for (i, u) in urls.iter().enumerate() {
        let (a, b) = (indexed.check(u, Mode::Full), walked.check(u, Mode::Full));
        assert_eq!(a, b, "{u}");
        seen[0] += usize::from(a.indicator.is_some());
        if i % 40 == 0 {
            let (a, b) = (
                indexed.explain(u, Mode::Full, now),
                walked.explain(u, Mode::Full, now),
            );
            assert_eq!(a, b, "{u}");
        }
    }
    for (i, h) in hosts.iter().enumerate() {
        let (a, b) = (
            indexed.check(h, Mode::Domain),
            walked.check(h, Mode::Domain),
        );
        assert_eq!(a, b, "{h}");
        seen[1] += usize::from(a.indicator.is_some());
        seen[2] += usize::from(a.audit.is_some() && a.decision != Decision::Audit);
        if i % 40 == 0 {
            let (a, b) = (
                indexed.explain(h, Mode::Domain, now),
                walked.explain(h, Mode::Domain, now),
            );
            assert_eq!(a, b, "{h}");
        }
    }
    // Every indicator listed the same, in the same order.
    assert_eq!(indexed.len(), walked.len());
    assert!(indexed.iter().eq(walked.iter()));
    // Enough matches, and audits beside decisions, that an index losing
    // some would be seen.
    assert!(seen[0] > 5_000 && seen[1] > 5_000, "{seen:?}");
    assert!(seen[2] > 10, "{seen:?}");
}

#[test]
fn a_malformed_index_header_is_refused() {
    let bytes = build(&common::real()[..1000]);
    let c = Container::parse(&bytes).unwrap();
    let index = c.section(HOSTS).expect("a built set has an index").to_vec();
    // Zero buckets, a record width of 5 (1,000 records take 3), a reserved byte set, more lines
    // than the section holds, the lines starting inside the header, and a
    // section shorter than the header.
    let mut bad = Vec::new();
    for (at, value) in [(0usize, 0u8), (12, 5), (40, 1), (6, 0x7f), (8, 0x10)] {
        let mut b = index.clone();
        b[at] = value;
        if at == 0 {
            b[1..4].fill(0);
        }
        bad.push(b);
    }
    bad.push(index[..100].to_vec());
    for b in bad {
        let err = IndicatorSet::from_bytes(with_index(&bytes, Some(&b))).unwrap_err();
        assert!(
            matches!(err, FormatError::Corrupt(m) if m.contains("hosts")),
            "{err:?}"
        );
    }
}

/// Every section of a built set of the first 3,000 real indicators, and
/// queries for a subdomain of every 97th.
fn sections() -> (Vec<(SectionId, Vec<u8>)>, &'static [String]) {
    static BUILT: std::sync::OnceLock<(Vec<u8>, Vec<String>)> = std::sync::OnceLock::new();
    let (bytes, names) = BUILT.get_or_init(|| {
        let some = &common::real()[..3000];
        let names = some
            .iter()
            .step_by(97)
            .map(|i| format!("www.{}", i.host))
            .collect();
        (build(some), names)
    });
    let s = Container::parse(bytes)
        .unwrap()
        .sections()
        .map(|(id, b)| (id, b.to_vec()))
        .collect();
    (s, names)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Damaged index lines and entries: every lookup still answers, and an
    /// undamaged header keeps the set open.
    #[test]
    fn a_damaged_index_never_panics(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..12)) {
        let (mut s, names) = sections();
        for (id, b) in &mut s {
            if *id == HOSTS {
                // After the section's 192-byte header.
                let n = b.len() - 192;
                for &(at, v) in &edits {
                    b[192 + at % n] = v;
                }
            }
        }
        let mut w = Writer::new();
        for (id, b) in &s {
            w.add_section(*id, b);
        }
        let set = IndicatorSet::from_bytes(w.finish());
        // Only the lines and entries were touched, and their bytes are not
        // checked at open (their CRC is the container's).
        let set = set.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        for q in names {
            for mode in [Mode::Domain, Mode::Full] {
                let v = set.check(q, mode);
                prop_assert!(v.indicator.is_none_or(|h| h.record() < set.len()));
                prop_assert!(v.audit.is_none_or(|h| h.record() < set.len()));
            }
        }
    }
}

/// Hosts of more labels than the index files: their keys stay in the
/// automaton, their parent domains' keys are in the index alone, and a
/// query under them is answered from both, as a set with every key in the
/// automaton answers it.
#[test]
fn hosts_of_many_labels_are_answered_from_the_automaton_and_the_index() {
    let file: Arc<str> = Arc::from("deep");
    // `l{d}.` ... `l1.example.com`: the host of `d + 2` labels.
    let host =
        |d: usize| (1..=d).rev().map(|i| format!("l{i}.")).collect::<String>() + "example.com";
    let actions = [Action::Block, Action::Allow, Action::Warn, Action::Audit];
    let mut inds = Vec::new();
    for d in (0..22).step_by(3) {
        let a = actions[d % 4];
        let line = d as u64 * 3 + 1;
        inds.extend(common::indicator(
            Kind::DomainName,
            &host(d),
            a,
            &file,
            line,
        ));
        inds.extend(common::indicator(
            Kind::Url,
            &format!("https://{}/", host(d + 1)),
            actions[(d + 1) % 4],
            &file,
            line + 1,
        ));
        inds.extend(common::indicator(
            Kind::Url,
            &format!("https://{}/p", host(d + 2)),
            actions[(d + 2) % 4],
            &file,
            line + 2,
        ));
    }
    let sole = IndicatorSet::from_bytes(build(&inds)).unwrap();
    let every = build_with_every_key_in_the_automaton(&inds);
    let walked = IndicatorSet::from_bytes(with_index(&every, None)).unwrap();
    let now = indset::Timestamp(1_700_000_000);
    let mut decided = 0;
    for d in 0..26 {
        let h = host(d);
        for (q, mode) in [
            (h.clone(), Mode::Domain),
            (format!("https://{h}/"), Mode::Full),
            (format!("https://{h}/p/q"), Mode::Full),
        ] {
            let (a, b) = (sole.check_at(&q, mode, now), walked.check_at(&q, mode, now));
            assert_eq!(a, b, "{q}");
            decided += usize::from(a.indicator.is_some());
            assert_eq!(
                sole.explain(&q, mode, now),
                walked.explain(&q, mode, now),
                "{q}"
            );
        }
    }
    assert!(decided > 60, "{decided}");
    assert!(sole.iter().eq(walked.iter()));
}

/// Suffixes with more key hosts under them than one bucket takes, three
/// levels deep: their hosts are filed deeper and the suffixes marked as
/// redirects in the filter. Every host, every parent and subdomain of one,
/// and near misses are answered as a set with every key in the automaton
/// answers them.
#[test]
fn hosts_under_heavy_suffixes_are_found_through_the_filters_redirects() {
    let file: Arc<str> = Arc::from("heavy");
    let actions = [Action::Block, Action::Allow, Action::Warn, Action::Audit];
    let suffixes = [
        "example.com",
        "a.example.com",
        "b.a.example.com",
        "c.b.a.example.com",
    ];
    let mut hosts = Vec::new();
    for s in suffixes {
        for i in 0..20 {
            hosts.push(format!("h{i}.{s}"));
        }
    }
    let mut inds = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        let (kind, value) = if i % 3 == 0 {
            (Kind::Url, format!("https://{h}/"))
        } else {
            (Kind::DomainName, h.clone())
        };
        let line = i as u64 + 1;
        inds.extend(common::indicator(kind, &value, actions[i % 4], &file, line));
    }
    inds.extend(common::indicator(
        Kind::DomainName,
        "a.example.com",
        Action::Audit,
        &file,
        1_000,
    ));
    let sole = IndicatorSet::from_bytes(build(&inds)).unwrap();
    let every = build_with_every_key_in_the_automaton(&inds);
    let walked = IndicatorSet::from_bytes(with_index(&every, None)).unwrap();
    let now = indset::Timestamp(1_700_000_000);
    let mut decided = 0;
    let queries = hosts
        .iter()
        .flat_map(|h| {
            [
                h.clone(),
                format!("x.{h}"),
                format!("{h}x"),
                format!("h99.{h}"),
            ]
        })
        .chain(suffixes.iter().map(|s| s.to_string()));
    for h in queries {
        for (q, mode) in [
            (h.clone(), Mode::Domain),
            (format!("https://{h}/p"), Mode::Full),
        ] {
            let (a, b) = (sole.check_at(&q, mode, now), walked.check_at(&q, mode, now));
            assert_eq!(a, b, "{q}");
            decided += usize::from(a.indicator.is_some());
            assert_eq!(
                sole.explain(&q, mode, now),
                walked.explain(&q, mode, now),
                "{q}"
            );
        }
    }
    assert!(decided > 150, "{decided}");
    assert!(sole.iter().eq(walked.iter()));
}
