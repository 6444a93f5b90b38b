//! A lookup never panics, whatever the query; opening never panics,
//! whatever the bytes.

use indset::IndicatorSet;
use indset::compile::build;
use indset::format::KEYS;
use indset::{Action, Decision, Indicator, Kind, Mode};
use indset_test_support::fixtures::{NOW, both, compile, ind};
use proptest::prelude::*;

fn small_set() -> Vec<Indicator> {
    vec![
        ind(Kind::DomainName, "example.com", Action::Block),
        ind(Kind::DomainName, "a.example.com", Action::Allow),
        ind(Kind::Url, "example.com/a/b?x=1", Action::Warn),
        ind(Kind::Url, "a.b.c.d.e.f.g.example.com/", Action::Block),
        ind(Kind::DomainName, "com", Action::Audit),
        ind(Kind::Url, "x.org/seg/seg", Action::Block),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn any_string_answers_like_the_reference(q in any::<String>()) {
        let inds = small_set();
        let set = compile(&inds);
        for mode in [Mode::Full, Mode::Domain] {
            let (got, want) = both(&set, &inds, &q, mode, NOW);
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn any_bytes_answer(q in prop::collection::vec(any::<u8>(), 0..300)) {
        let set = compile(&small_set());
        for mode in [Mode::Full, Mode::Domain] {
            let v = set.check_at(&q, mode, NOW);
            prop_assert!(!v.invalid || v.decision == Decision::None);
        }
        let _ = set.check(&q, Mode::Full);
        let _ = set.check(&q, Mode::Domain);
    }

    #[test]
    fn arbitrary_bytes_do_not_open(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert!(IndicatorSet::from_bytes(bytes).is_err());
    }
}

#[test]
fn a_64_kib_url_answers_and_still_matches() {
    let inds = small_set();
    let set = compile(&inds);
    let segments = "seg/".repeat(16 * 1024);
    let long_path = format!("http://www.example.com/{segments}?q=1");
    assert!(long_path.len() > 64 * 1024);
    let v = set.check_at(&long_path, Mode::Full, NOW);
    assert_eq!(v.decision, Decision::Block, "the host is indicated");

    let url_prefix = format!("http://x.org/{segments}");
    assert_eq!(
        set.check_at(&url_prefix, Mode::Full, NOW).decision,
        Decision::Block
    );

    let labels = "a.".repeat(32 * 1024);
    for query in [
        format!("http://{labels}example.com/{segments}"),
        format!("http://user{labels}@www.example.com/{segments}"),
        format!("{labels}example.com"),
        "%".repeat(64 * 1024),
        "/".repeat(64 * 1024),
        format!("http://example.com/{}", "%25".repeat(20 * 1024)),
    ] {
        for mode in [Mode::Full, Mode::Domain] {
            let (got, want) = both(&set, &inds, &query, mode, NOW);
            assert_eq!(got, want, "{mode:?} {}...", &query[..40]);
        }
    }
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = build(&small_set());
    for len in 0..bytes.len() {
        assert!(
            IndicatorSet::from_bytes(&bytes[..len]).is_err(),
            "a {len}-byte prefix opened"
        );
    }
    assert!(IndicatorSet::from_bytes(&bytes[..]).is_ok());
}

/// Bit flips outside the key `fst` either fail to open or give a set whose
/// lookups still answer. (Damage inside the keys, behind a valid checksum,
/// is `tests/set_crafted.rs`'s subject.)
#[test]
fn bit_flips_outside_the_keys_never_panic() {
    let bytes = build(&small_set());
    let keys = {
        let c = indset::format::Container::parse(&bytes).expect("parses");
        let k = c.require(KEYS).expect("keys");
        let start = k.as_ptr() as usize - bytes.as_ptr() as usize;
        start..start + k.len()
    };
    let queries = [
        "http://a.example.com/a/b?x=1",
        "http://a.b.c.d.e.f.g.example.com/",
        "x.org",
    ];
    for at in (0..bytes.len()).filter(|at| !keys.contains(at)) {
        for bit in 0..8 {
            let mut flipped = bytes.clone();
            flipped[at] ^= 1 << bit;
            if let Ok(set) = IndicatorSet::from_bytes(flipped) {
                for q in queries {
                    for mode in [Mode::Full, Mode::Domain] {
                        let v = set.check_at(q, mode, NOW);
                        if let Some(hit) = v.indicator.or(v.audit) {
                            let _ = set.info(q.as_bytes(), mode, hit);
                        }
                        let _ = set.explain(q, mode, NOW);
                    }
                }
                let _ = set.iter().count();
                let _ = set.stats();
            }
        }
    }
}
