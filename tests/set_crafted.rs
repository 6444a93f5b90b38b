//! Crafted files: a valid set whose sections are damaged and re-wrapped in
//! a container with a valid checksum. The checksum cannot catch these, so
//! the set itself must: opening fails cleanly, or every lookup answers
//! (no panic, no endless walk).

use indset::compile::build;
use indset::format::{COMMON_INPUTS, HOSTS, KEYS, LINES, RECORDS};
use indset::format::{Container, SectionId, Writer};
use indset::{Action, Indicator, Kind};
use indset::{IndicatorSet, Mode};
use indset_test_support::fixtures::{NOW, ind};
use proptest::prelude::*;
use std::sync::OnceLock;

fn indicators() -> Vec<Indicator> {
    vec![
        ind(Kind::DomainName, "example.com", Action::Block),
        ind(Kind::DomainName, "a.example.com", Action::Allow),
        ind(Kind::Url, "example.com/a/b?x=1", Action::Warn),
        ind(Kind::Url, "a.b.c.d.e.f.g.example.com/", Action::Block),
        ind(Kind::DomainName, "com", Action::Audit),
        ind(Kind::Url, "x.org/seg/seg", Action::Block),
        ind(Kind::DomainName, "evil.test", Action::Block),
        ind(Kind::Url, "evil.test/path/to/thing", Action::Allow),
    ]
}

const QUERIES: &[&str] = &[
    "http://a.example.com/a/b?x=1",
    "https://a.b.c.d.e.f.g.example.com/",
    "x.org",
    "http://x.org/seg/seg/more",
    "http://www.evil.test/path/to/thing?q",
    "nothing.invalid",
    "http://com/",
];

/// Every section of the built set of [`indicators`], in file order.
fn sections() -> Vec<(SectionId, Vec<u8>)> {
    static BUILT: OnceLock<Vec<u8>> = OnceLock::new();
    let bytes = BUILT.get_or_init(|| build(&indicators()));
    Container::parse(bytes)
        .expect("a built set parses")
        .sections()
        .map(|(id, b)| (id, b.to_vec()))
        .collect()
}

fn wrap(sections: &[(SectionId, Vec<u8>)]) -> Vec<u8> {
    let mut w = Writer::new();
    for (id, b) in sections {
        w.add_section(*id, b);
    }
    w.finish()
}

/// Opens `bytes`; when it opens, runs every kind of lookup on it.
fn exercise(bytes: Vec<u8>) {
    let Ok(set) = IndicatorSet::from_bytes(bytes) else {
        return;
    };
    for q in QUERIES {
        for mode in [Mode::Full, Mode::Domain] {
            let v = set.check_at(q, mode, NOW);
            for hit in v.indicator.into_iter().chain(v.audit) {
                let _ = set.info(q.as_bytes(), mode, hit);
            }
            let _ = set.explain(q, mode, NOW);
        }
        let _ = set.check(q, Mode::Full);
        let _ = set.check(q, Mode::Domain);
    }
    let _ = set.iter().take(64).count();
    let _ = set.stats();
}

/// A mutation of one section: `(position, new byte)` pairs, positions
/// taken modulo the section's length.
fn mutate(section: &mut [u8], edits: &[(usize, u8)]) {
    if section.is_empty() {
        return;
    }
    let n = section.len();
    for &(at, b) in edits {
        section[at % n] = b;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    /// Damaged key automaton (the structure a lookup walks).
    #[test]
    fn damaged_keys_never_panic(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut s = sections();
        for (id, b) in &mut s {
            if *id == KEYS {
                mutate(b, &edits);
            }
        }
        exercise(wrap(&s));
    }

    /// Damage anywhere in any section, the common-input table included.
    #[test]
    fn damaged_sections_never_panic(
        which in any::<usize>(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
    ) {
        let mut s = sections();
        let i = which % s.len();
        mutate(&mut s[i].1, &edits);
        exercise(wrap(&s));
    }

    /// Arbitrary bytes in place of the key automaton, any length.
    #[test]
    fn random_keys_never_panic(keys in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut s = sections();
        for (id, b) in &mut s {
            if *id == KEYS {
                *b = keys.clone();
            }
        }
        exercise(wrap(&s));
    }
}

/// A key automaton whose transitions point back up (a cycle, were the
/// reader to follow them) answers without looping.
#[test]
fn upward_transitions_do_not_loop() {
    let s = sections();
    let keys = &s.iter().find(|(id, _)| *id == KEYS).expect("keys").1;
    for at in 16..keys.len().saturating_sub(20) {
        for b in [0x00, 0x01, 0x40, 0x7F, 0x80, 0xBF, 0xC0, 0xFF] {
            let mut s = s.clone();
            for (id, sec) in &mut s {
                if *id == KEYS {
                    sec[at] = b;
                }
            }
            exercise(wrap(&s));
        }
    }
}

/// The common-input table must be exactly 63 bytes.
#[test]
fn a_short_common_table_does_not_open() {
    let mut s = sections();
    for (id, b) in &mut s {
        if *id == COMMON_INPUTS {
            b.pop();
        }
    }
    assert!(IndicatorSet::from_bytes(wrap(&s)).is_err());
}

/// The record flags byte as `build` writes it: action in bits 0-1,
/// severity (0 to 4) in bits 2-4, "has metadata" in bit 6.
const SEVERITY_BITS: u8 = 0b111 << 2;
const HAS_META: u8 = 1 << 6;
/// Where the palette of flag bytes starts in the records section, after
/// the record count, the `Url` count and the index width.
const PALETTE_AT: usize = 17;

/// The set with `edit` applied to the first flag byte of the palette
/// (the one of every Allow record of [`indicators`]).
fn with_record(edit: impl Fn(&mut u8)) -> Vec<u8> {
    with_section(RECORDS, |b| edit(&mut b[PALETTE_AT]))
}

fn with_section(which: SectionId, edit: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    let mut s = sections();
    for (id, b) in &mut s {
        if *id == which {
            edit(b);
        }
    }
    wrap(&s)
}

/// Records and lines are packed integers whose counts and widths the
/// section headers give; any disagreement with the section lengths or the
/// key count is refused, with the section named.
#[test]
fn records_and_lines_of_the_wrong_shape_do_not_open() {
    let refused = |bytes: Vec<u8>, section: &str| {
        let err = IndicatorSet::from_bytes(bytes).expect_err(section);
        assert!(err.to_string().contains(section), "{err}");
    };
    let set = IndicatorSet::from_bytes(with_section(RECORDS, |_| {})).expect("opens");
    assert_eq!((set.stats().urls, set.stats().domains), (4, 4));
    // One byte more or less of palette indices or of lines.
    refused(with_section(RECORDS, |b| b.push(0)), "records");
    refused(
        with_section(RECORDS, |b| {
            b.pop();
        }),
        "records",
    );
    refused(with_section(LINES, |b| b.push(0)), "lines");
    refused(
        with_section(LINES, |b| {
            b.pop();
        }),
        "lines",
    );
    // An index wider than a byte, lines wider than 24 bits.
    refused(with_section(RECORDS, |b| b[16] = 9), "records");
    refused(with_section(LINES, |b| b[0] = 25), "lines");
    // More `Url` records than records.
    refused(with_section(RECORDS, |b| b[8] = 9), "records");
    // A record count that is not the key count (the lines then disagree
    // too: the first error found is reported).
    let err = IndicatorSet::from_bytes(with_section(RECORDS, |b| b[0] = 7)).expect_err("count");
    assert!(
        matches!(err, indset::format::FormatError::Corrupt(_)),
        "{err}"
    );
}

#[test]
fn a_record_severity_past_the_last_does_not_open() {
    assert!(IndicatorSet::from_bytes(with_record(|_| {})).is_ok());
    for severity in 5..=7u8 {
        let bytes = with_record(|f| *f = (*f & !SEVERITY_BITS) | severity << 2);
        let err = IndicatorSet::from_bytes(bytes).expect_err("severity {severity}");
        assert!(err.to_string().contains("unknown severity"), "{err}");
    }
    // The largest known severity opens.
    let bytes = with_record(|f| *f = (*f & !SEVERITY_BITS) | 4 << 2);
    assert!(IndicatorSet::from_bytes(bytes).is_ok());
}

#[test]
fn a_record_chained_without_an_expiration_does_not_open() {
    // Bit 7 chains a record to the next one of the same key, for when it
    // expires: without an expiration, the next one could never decide.
    let err = IndicatorSet::from_bytes(with_record(|f| *f |= 0x80)).expect_err("bit 7");
    assert!(err.to_string().contains("chained"), "{err}");
}

#[test]
fn a_record_flagged_with_metadata_it_does_not_have_does_not_open() {
    let bytes = with_record(|f| *f |= HAS_META);
    let err = IndicatorSet::from_bytes(bytes).expect_err("metadata flag without an entry");
    assert!(err.to_string().contains("metadata"), "{err}");
}

/// A set whose records take no bits (one flag byte, lines of zero bits)
/// can claim any number of them in a few bytes: beyond `u32::MAX` (which
/// no match could name) it does not open, and up to it `stats` does not
/// walk them one by one.
#[test]
fn a_record_count_the_bytes_cannot_back_is_bounded() {
    let claim = |n: u64| {
        // Without the host index, whose keys the automaton would not count.
        let mut s = sections();
        s.retain(|(id, _)| *id != HOSTS);
        for (id, b) in &mut s {
            if *id == RECORDS {
                let mut r = n.to_le_bytes().to_vec();
                r.extend_from_slice(&0u64.to_le_bytes()); // no `Url` record
                r.push(0); // indices of no bits
                r.push(2); // the one flag byte: Block
                *b = r;
            } else if *id == LINES {
                *b = vec![0];
            } else if *id == KEYS {
                // The automaton's footer promises the same count.
                let at = b.len() - 20;
                b[at..at + 8].copy_from_slice(&n.to_le_bytes());
            }
        }
        wrap(&s)
    };
    let err = IndicatorSet::from_bytes(claim(1 << 40)).expect_err("2^40 records");
    assert!(err.to_string().contains("records"), "{err}");
    let set = IndicatorSet::from_bytes(claim(u64::from(u32::MAX))).expect("opens");
    assert_eq!(set.len(), u32::MAX as usize);
    // From the palette: one pass over four billion records would take
    // seconds.
    assert_eq!(set.stats().actions, [0, 0, u32::MAX as usize, 0]);
    exercise(claim(u64::from(u32::MAX)));
}
