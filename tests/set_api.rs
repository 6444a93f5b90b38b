//! The set's public surface: deterministic builds, opening from a file,
//! and the details reported by `info`, `explain`, `iter` and `stats`.
//! (Thread and unwind safety: `tests/api_traits.rs`.)

use indset::IndicatorSet;
use indset::compile::build;
use indset::{
    Action, Decision, Indicator, IndicatorInfo, Kind, Meta, Mode, Role, Severity, Timestamp,
    Verdict,
};
use indset_test_support::fixtures::{NOW, compile, expiring, ind, try_ind};

fn sample() -> Vec<Indicator> {
    let mut titled = ind(Kind::Url, "https://example.com/bad?x=1", Action::Block);
    titled.meta.title = Some("Bad page".into());
    titled.meta.severity = Some(Severity::High);
    titled.meta.id = Some("ind-17".into());
    titled.meta.groups = vec!["Sales".into(), "Ops".into()];
    titled.meta.generate_alert = Some(true);
    titled.meta.category = Some("Phishing".into());
    titled.meta.description = Some("a description".into());
    let mut lined = ind(Kind::DomainName, "example.com", Action::Allow);
    lined.source.line = 42;
    lined.meta.severity = Some(Severity::Low);
    vec![
        titled,
        lined,
        expiring(
            ind(Kind::DomainName, "a.example.com", Action::Warn),
            NOW.0 + 5,
        ),
        ind(Kind::DomainName, "b.example.com", Action::Audit),
        expiring(ind(Kind::Url, "example.com/bad", Action::Block), NOW.0 - 5),
        ind(Kind::Url, "example.com/", Action::Audit),
    ]
}

#[test]
fn build_is_deterministic_in_any_input_order() {
    let mut inds = sample();
    let first = build(&inds);
    assert_eq!(build(&inds), first);
    inds.reverse();
    assert_eq!(build(&inds), first);
    inds.rotate_left(2);
    assert_eq!(build(&inds), first);
}

#[test]
fn duplicates_keep_the_merge_winner() {
    let inds = vec![
        ind(Kind::DomainName, "example.com", Action::Block),
        ind(Kind::DomainName, "EXAMPLE.com.", Action::Allow),
    ];
    let set = compile(&inds);
    assert_eq!(set.len(), 1);
    assert_eq!(
        set.check_at("example.com", Mode::Domain, NOW).decision,
        Decision::Allow
    );
}

#[test]
fn info_reports_every_field() {
    let set = compile(&sample());
    let q = "https://example.com/bad?x=1&y";
    let v = set.check_at(q, Mode::Full, NOW);
    assert_eq!(v.decision, Decision::Block);
    let info = set.info(q.as_bytes(), Mode::Full, v.indicator.expect("decided"));
    assert_eq!(
        info,
        IndicatorInfo {
            id: "ind-17".into(),
            kind: Kind::Url,
            value: "example.com/bad?x=1".into(),
            action: Action::Block,
            meta: Meta {
                id: Some("ind-17".into()),
                title: Some("Bad page".into()),
                severity: Some(Severity::High),
                expiration: None,
                groups: vec!["Sales".into(), "Ops".into()],
                generate_alert: Some(true),
                category: Some("Phishing".into()),
                description: Some("a description".into()),
            },
        }
    );
    let audit = set.info(q.as_bytes(), Mode::Full, v.audit.expect("audited"));
    assert_eq!(
        (audit.kind, audit.value.as_str()),
        (Kind::Url, "example.com/")
    );

    let v = set.check_at("x.example.com", Mode::Domain, NOW);
    let info = set.info(
        b"x.example.com",
        Mode::Domain,
        v.indicator.expect("decided"),
    );
    assert_eq!(
        (info.id.as_str(), info.value.as_str()),
        ("test:42", "example.com")
    );
    assert_eq!(info.meta.severity, Some(Severity::Low));
    // A hit passed with another query still names its indicator.
    let other = set.info(
        b"unrelated.test",
        Mode::Domain,
        v.indicator.expect("decided"),
    );
    assert_eq!(other, info);
}

#[test]
fn explain_lists_every_match_most_specific_first() {
    let set = compile(&sample());
    let e = set.explain("https://example.com/bad?x=1", Mode::Full, NOW);
    let listed: Vec<(&str, Role, &str)> = e
        .matches
        .iter()
        .map(|m| (m.info.value.as_str(), m.role, m.reason))
        .collect();
    assert_eq!(
        listed,
        [
            ("example.com/bad?x=1", Role::Decided, "decides"),
            ("example.com/bad", Role::Expired, "expired"),
            ("example.com/", Role::Reported, "audit never decides"),
            ("example.com", Role::Outranked, "Url beats DomainName"),
        ]
    );
    assert_eq!(e.reason, "Url beats DomainName");
    assert_eq!(e.canonical.as_deref(), Some("example.com/bad?x=1"));

    let e = set.explain("https://a.example.com/", Mode::Full, NOW);
    assert_eq!(
        (e.verdict.decision, e.reason),
        (Decision::Warn, "more labels")
    );
    let e = set.explain("https://a.example.com/", Mode::Full, Timestamp(NOW.0 + 5));
    assert_eq!(
        (e.verdict.decision, e.reason),
        (Decision::Allow, "only deciding match")
    );
    assert_eq!(e.matches[0].role, Role::Expired);
    let e = set.explain("http://nothing.test/", Mode::Full, NOW);
    assert_eq!(
        (e.verdict.decision, e.reason),
        (Decision::None, "no indicator matches")
    );
    let e = set.explain("ftp://x/", Mode::Full, NOW);
    assert_eq!((e.verdict.invalid, e.reason), (true, "unparsable query"));
    let e = set.explain("http://10.0.0.1/", Mode::Full, NOW);
    assert_eq!(e.reason, "IP literals match nothing");
}

#[test]
fn iter_and_stats_cover_every_indicator() {
    let inds = sample();
    let set = compile(&inds);
    assert_eq!(set.len(), inds.len());
    assert!(!set.is_empty());
    let mut values: Vec<(Kind, String)> = set.iter().map(|i| (i.kind, i.value)).collect();
    let mut want: Vec<(Kind, String)> = inds.iter().map(|i| (i.kind, i.value())).collect();
    values.sort();
    want.sort();
    assert_eq!(values, want);
    let s = set.stats();
    assert_eq!((s.indicators, s.domains, s.urls), (6, 3, 3));
    assert_eq!(s.actions, [1, 1, 2, 2]);
    assert_eq!(s.expiring, 2);
    assert_eq!(s.with_metadata, 3);
    assert!(s.sections.iter().map(|(_, b)| b).sum::<usize>() <= s.total_bytes);

    let empty = compile(&[]);
    assert!(empty.is_empty());
    assert_eq!(
        empty.check_at("http://example.com/", Mode::Full, NOW),
        Verdict::NONE
    );
}

#[test]
fn opens_a_file_by_memory_map() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("set.indset");
    std::fs::write(&path, build(&sample())).expect("write");
    let set = IndicatorSet::open(&path).expect("opens");
    assert_eq!(
        set.check("www.example.com", Mode::Domain).decision,
        Decision::Allow
    );
    assert!(matches!(
        IndicatorSet::open(&dir.path().join("missing.indset")),
        Err(indset::format::FormatError::Io(_))
    ));
}

#[test]
fn modes_parse_and_print() {
    assert_eq!("full".parse::<Mode>(), Ok(Mode::Full));
    assert_eq!(" Domain ".parse::<Mode>(), Ok(Mode::Domain));
    assert!("dns".parse::<Mode>().is_err());
    for d in [
        Decision::None,
        Decision::Allow,
        Decision::Warn,
        Decision::Block,
        Decision::Audit,
    ] {
        assert_eq!(d.to_string(), d.as_str());
    }
}

/// Flag bytes and lines are packed as narrow as the set allows; whatever
/// the mix of actions, severities, expirations and line sizes (up to and
/// past the 24 bits a line may take before its id moves to metadata),
/// every indicator reads back as it went in.
mod packed_records {
    use super::*;
    use proptest::prelude::*;

    const LINES: [u64; 6] = [1, 2, 1_048_575, 1_048_576, 16_777_214, 16_777_215];

    fn indicator(
        (i, action, severity, expires, line): (usize, usize, usize, bool, usize),
    ) -> Indicator {
        let actions = [Action::Allow, Action::Warn, Action::Block, Action::Audit];
        let kind = if i % 3 == 0 {
            Kind::Url
        } else {
            Kind::DomainName
        };
        let value = match kind {
            Kind::Url => format!("u{i}.example/p"),
            Kind::DomainName => format!("d{i}.example"),
        };
        let mut ind = try_ind(kind, &value, actions[action], 1).expect("valid");
        ind.meta.severity = [
            None,
            Some(Severity::Informational),
            Some(Severity::Low),
            Some(Severity::Medium),
            Some(Severity::High),
        ][severity];
        if expires {
            ind.meta.expiration = Some(Timestamp(2_000_000_000));
        }
        ind.source.line = LINES[line] + (i as u64 % 7) * u64::from(line > 3);
        ind
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn every_record_reads_back(
            rows in prop::collection::vec((0..4usize, 0..5usize, any::<bool>(), 0..6usize), 0..40),
        ) {
            let inds: Vec<Indicator> = rows
                .into_iter()
                .enumerate()
                .map(|(i, (a, s, e, l))| indicator((i, a, s, e, l)))
                .collect();
            let set = compile(&inds);
            let mut got: Vec<_> = set
                .iter()
                .map(|i| (i.value, i.kind, i.action, i.meta.severity, i.meta.expiration, i.id))
                .collect();
            let mut want: Vec<_> = inds
                .iter()
                .map(|i| {
                    let id = i.meta.id.clone().unwrap_or_else(|| format!("test:{}", i.source.line));
                    (i.value(), i.kind, i.action, i.meta.severity, i.meta.expiration, id)
                })
                .collect();
            got.sort();
            want.sort();
            prop_assert_eq!(got, want);
            let s = set.stats();
            let urls = inds.iter().filter(|i| i.kind == Kind::Url).count();
            prop_assert_eq!((s.urls, s.domains), (urls, inds.len() - urls));
            let mut actions = [0usize; 4];
            for i in &inds {
                actions[[Action::Allow, Action::Warn, Action::Block, Action::Audit]
                    .iter()
                    .position(|&a| a == i.action)
                    .expect("an action")] += 1;
            }
            prop_assert_eq!(s.actions, actions);
        }
    }
}
