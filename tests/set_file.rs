//! The `.indset` file as the engine meets it: damaged bytes, the heap cost
//! of opening, and hot swapping real sets under load (`docs/format.md`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use indset::format::{FormatError, HEADER_LEN, Region};
use indset::ingest::{Format, Options};
use indset::{Action, Indicator, Kind, Meta, Source, Timestamp};
use indset::{Compiler, Decision, IndicatorSet, Mode, SharedSet};

use indset_test_support::alloc;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

const NOW: Timestamp = Timestamp(1_780_000_000);

fn compile(list: &str) -> Vec<u8> {
    let mut c = Compiler::new(Options::at(NOW));
    c.add_reader("list.txt", list.as_bytes(), Format::Text)
        .expect("in-memory read");
    c.finish().bytes
}

const SMALL: &str = "\
block example.com
allow partner.example.com
warn https://example.org/login
audit tracker.example.net
block https://example.com/bad?x=1
";

/// The error a flip of `bit` must give: the header's own fields first,
/// then its checksum, then the body's checksum.
fn expected(bit: usize) -> &'static str {
    match bit / 8 {
        0..8 => "BadMagic",
        8..12 => "UnsupportedVersion",
        12..HEADER_LEN => "ChecksumMismatch(Header)",
        _ => "ChecksumMismatch(Body)",
    }
}

fn name(e: &FormatError) -> String {
    match e {
        FormatError::BadMagic { .. } => "BadMagic".into(),
        FormatError::UnsupportedVersion { .. } => "UnsupportedVersion".into(),
        FormatError::ChecksumMismatch {
            region: Region::Header,
            ..
        } => "ChecksumMismatch(Header)".into(),
        FormatError::ChecksumMismatch {
            region: Region::Body,
            ..
        } => "ChecksumMismatch(Body)".into(),
        FormatError::Truncated { .. } => "Truncated".into(),
        other => format!("{other:?}"),
    }
}

#[test]
fn every_single_bit_flip_is_rejected_with_the_right_error() {
    let good = compile(SMALL);
    assert!(IndicatorSet::from_bytes(good.clone()).is_ok());
    let mut wrong = Vec::new();
    for bit in 0..good.len() * 8 {
        let mut b = good.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        match IndicatorSet::from_bytes(b) {
            Ok(_) => wrong.push(format!("bit {bit}: accepted")),
            Err(e) if name(&e) != expected(bit) => {
                wrong.push(format!("bit {bit}: {} (want {})", name(&e), expected(bit)))
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} bits: {wrong:#?}",
        wrong.len(),
        good.len() * 8
    );
}

#[test]
fn every_truncation_is_rejected_as_truncated() {
    let good = compile(SMALL);
    for len in 0..good.len() {
        match IndicatorSet::from_bytes(&good[..len]) {
            Err(FormatError::Truncated { .. }) => {}
            Err(e) => panic!("length {len}: {e:?}"),
            Ok(_) => panic!("length {len}: accepted"),
        }
    }
}

fn generated(n: usize) -> Vec<Indicator> {
    (0..n)
        .map(|i| Indicator {
            kind: if i % 10 == 0 {
                Kind::Url
            } else {
                Kind::DomainName
            },
            host: format!("h{i:07}.example{}.com", i % 997),
            path: if i % 10 == 0 {
                format!("/p/{i}")
            } else {
                String::new()
            },
            action: Action::Block,
            meta: Meta::default().into(),
            source: Source {
                file: Arc::from("generated"),
                line: i as u64 + 1,
                nth: 0,
            },
        })
        .collect()
}

#[test]
fn opening_a_million_indicator_set_costs_under_1_mib_of_heap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.indset");
    {
        let bytes = indset::compile::build(&generated(1_000_000));
        std::fs::write(&path, &bytes).unwrap();
    }
    let (grown, set) = alloc::retained(|| IndicatorSet::open(&path).expect("open"));
    assert_eq!(set.len(), 1_000_000);
    assert!(grown < 1 << 20, "opening grew the heap by {grown} bytes");
    assert_eq!(
        set.check_at("https://h0000010.example10.com/p/10/x", Mode::Full, NOW)
            .decision,
        Decision::Block
    );
    assert_eq!(
        set.check_at("example10.com", Mode::Domain, NOW).decision,
        Decision::None
    );
}

#[test]
fn hot_swap_readers_always_see_one_consistent_set() {
    // Set A blocks a.example and allows b.example; set B the reverse. A
    // reader that looks both up on one loaded set must see one of the two
    // pairs, never a mix.
    let a = IndicatorSet::from_bytes(compile("block a.example\nallow b.example\n")).unwrap();
    let b = IndicatorSet::from_bytes(compile("allow a.example\nblock b.example\n")).unwrap();
    let sets = [Arc::new(a), Arc::new(b)];
    let shared = Arc::new(SharedSet::from_arc(Arc::clone(&sets[0])));
    let stop = Arc::new(AtomicBool::new(false));
    let total = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let shared = Arc::clone(&shared);
            let stop = Arc::clone(&stop);
            let total = Arc::clone(&total);
            thread::spawn(move || {
                let mut reads = 0u64;
                let mut seen = [0u64; 2];
                while !stop.load(Ordering::Relaxed) {
                    let set = shared.load();
                    let x = set.check_at("www.a.example", Mode::Domain, NOW).decision;
                    let y = set.check_at("b.example", Mode::Domain, NOW).decision;
                    match (x, y) {
                        (Decision::Block, Decision::Allow) => seen[0] += 1,
                        (Decision::Allow, Decision::Block) => seen[1] += 1,
                        other => panic!("a mixed or wrong answer: {other:?}"),
                    }
                    reads += 1;
                    total.fetch_add(1, Ordering::Relaxed);
                }
                (reads, seen)
            })
        })
        .collect();
    // Each swap waits until readers have answered since the last one, so
    // lookups really run across the swaps.
    for i in 0..1000 {
        let seen = total.load(Ordering::Relaxed);
        while total.load(Ordering::Relaxed) < seen + 3 {
            thread::yield_now();
        }
        let old = shared.swap_arc(Arc::clone(&sets[(i + 1) % 2]));
        assert!(Arc::ptr_eq(&old, &sets[i % 2]));
    }
    stop.store(true, Ordering::Relaxed);
    let mut both = [0u64; 2];
    for r in readers {
        let (reads, seen) = r.join().expect("reader panicked");
        assert_eq!(seen.iter().sum::<u64>(), reads);
        both[0] += seen[0];
        both[1] += seen[1];
    }
    assert!(
        both[0] > 0 && both[1] > 0,
        "readers saw only one set: {both:?}"
    );
}
