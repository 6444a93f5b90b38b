//! The suffix filter (`FILTER` section) only skips walks of the key
//! automaton that could match nothing: a set answers every real request
//! exactly as the same set without the filter does, in both modes, and a
//! malformed filter section is refused when the set is opened. The
//! automaton is walked when the host index cannot answer; these tests
//! build sets whose automaton holds every key and take the index out, so
//! that every lookup walks it.

use indset::compile::build_with_every_key_in_the_automaton as build;
use indset::format::{Container, FormatError, Writer};
use indset::format::{FILTER, HOSTS};
use indset::{IndicatorSet, Mode};
use std::sync::Arc;

use indset::{Action, Indicator, Kind};

use indset_test_support::data as common;

/// The same file without its host index and with the filter section
/// replaced (`None`: removed).
fn with_filter(bytes: &[u8], filter: Option<&[u8]>) -> Vec<u8> {
    let c = Container::parse(bytes).expect("a built set parses");
    let mut w = Writer::new();
    w.flags(c.flags());
    for (id, section) in c.sections() {
        if id != FILTER && id != HOSTS {
            w.add_section(id, section);
        }
    }
    if let Some(f) = filter {
        w.add_section(FILTER, f);
    }
    w.finish()
}

/// The real lists, plus a `Url` indicator for every hundredth request, so
/// that full-mode paths are reached too.
fn indicators(urls: &[String]) -> Vec<Indicator> {
    let mut all = common::real();
    let file: Arc<str> = Arc::from("requests");
    for (i, u) in urls.iter().enumerate().step_by(100) {
        if let Some(ind) = common::indicator(Kind::Url, u, Action::Block, &file, i as u64 + 1) {
            all.push(ind);
        }
    }
    all
}

#[test]
fn the_filter_changes_no_answer_on_real_requests() {
    let urls = common::request_urls();
    let hosts = common::request_hosts(&urls);
    let bytes = build(&indicators(&urls));
    let c = Container::parse(&bytes).unwrap();
    let filter = c.section(FILTER).expect("a built set has a filter");
    let filtered = IndicatorSet::from_bytes(with_filter(&bytes, Some(filter))).unwrap();
    let plain = IndicatorSet::from_bytes(with_filter(&bytes, None)).unwrap();
    let mut matched = 0;
    for u in &urls {
        let (a, b) = (filtered.check(u, Mode::Full), plain.check(u, Mode::Full));
        assert_eq!(a, b, "{u}");
        matched += usize::from(a.indicator.is_some());
    }
    for h in &hosts {
        let (a, b) = (
            filtered.check(h, Mode::Domain),
            plain.check(h, Mode::Domain),
        );
        assert_eq!(a, b, "{h}");
        matched += usize::from(a.indicator.is_some());
    }
    // Enough matches that a filter losing some would be seen.
    assert!(matched > 5_000, "{matched} matches");
}

#[test]
fn a_filter_that_is_not_whole_blocks_is_refused() {
    let bytes = build(&common::real()[..1000]);
    for bad in [&[][..], &[0u8; 31][..], &[0xff; 33][..]] {
        let err = IndicatorSet::from_bytes(with_filter(&bytes, Some(bad))).unwrap_err();
        assert!(
            matches!(err, FormatError::Corrupt(m) if m.contains("filter")),
            "{err:?}"
        );
    }
}

#[test]
fn an_empty_filter_refuses_every_query_and_a_full_one_passes_all() {
    let bytes = build(&common::real()[..1000]);
    let zeros = IndicatorSet::from_bytes(with_filter(&bytes, Some(&[0; 64]))).unwrap();
    let ones = IndicatorSet::from_bytes(with_filter(&bytes, Some(&[0xff; 64]))).unwrap();
    let c = Container::parse(&bytes).unwrap();
    let filter = c.section(FILTER).expect("a built set has a filter");
    let built = IndicatorSet::from_bytes(with_filter(&bytes, Some(filter))).unwrap();
    let indexed = IndicatorSet::from_bytes(bytes.clone()).unwrap();
    let hit = built
        .iter()
        .find(|i| i.kind == Kind::DomainName)
        .expect("a domain indicator");
    let host = format!("www.{}", hit.value);
    assert!(built.check(&host, Mode::Domain).indicator.is_some());
    assert_eq!(
        ones.check(&host, Mode::Domain),
        built.check(&host, Mode::Domain)
    );
    // All-zero bits: no host may match, so the filter decides alone.
    assert!(zeros.check(&host, Mode::Domain).indicator.is_none());
    // With the index the automaton (and its filter) are not asked.
    assert_eq!(
        indexed.check(&host, Mode::Domain),
        built.check(&host, Mode::Domain)
    );
}

#[test]
fn stats_list_every_section_of_the_file() {
    let bytes = build(&common::real()[..1000]);
    let c = Container::parse(&bytes).unwrap();
    let mut in_file: Vec<usize> = c.sections().map(|(_, s)| s.len()).collect();
    let set = IndicatorSet::from_bytes(bytes.clone()).unwrap();
    let stats = set.stats();
    let mut listed: Vec<usize> = stats.sections.iter().map(|&(_, n)| n).collect();
    in_file.sort_unstable();
    listed.sort_unstable();
    assert_eq!(listed, in_file);
    let filter = stats.sections.iter().find(|(name, _)| *name == "filter");
    assert_eq!(filter.map(|&(_, n)| n), c.section(FILTER).map(<[u8]>::len));
}
