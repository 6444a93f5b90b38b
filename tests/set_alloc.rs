//! Zero heap allocations per lookup: a counting global allocator around
//! every request URL of `data/` in both modes, against a set compiled from
//! real lists (StevenBlack hosts and URLhaus), some with expirations and
//! titles so the metadata path is exercised too.

#[path = "../benches/common/mod.rs"]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use indset::set::IndicatorSet;
use indset::verdict::{Decision, Mode};
use indset::{Action, Timestamp};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: forwards every call to the system allocator unchanged; only
// counts, and only on the thread that switched counting on.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns how many allocations it made on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

#[test]
fn lookups_never_allocate() {
    let mut indicators = common::stevenblack();
    indicators.extend(common::urlhaus());
    let mut indicators = common::dedup(indicators);
    for (i, ind) in indicators.iter_mut().enumerate() {
        if i % 7 == 0 {
            ind.meta.expiration = Some(Timestamp(1_800_000_000 + i as i64));
            ind.meta.title = Some(format!("title {}", i % 13));
        }
        if i % 11 == 0 {
            ind.action = Action::Audit;
        }
    }
    let set = IndicatorSet::from_bytes(indset::build::build(&indicators)).expect("opens");
    let urls = common::request_urls();
    assert!(urls.len() > 30_000, "{} request URLs", urls.len());
    let now = Timestamp(1_700_000_000);

    let mut decided = 0usize;
    let n = allocations(|| {
        for u in &urls {
            for mode in [Mode::Full, Mode::Domain] {
                decided += usize::from(set.check(u, mode, now).action != Decision::None);
            }
            decided += usize::from(set.check_url(u).action != Decision::None);
            decided += usize::from(set.check_host(u).action != Decision::None);
        }
    });
    assert_eq!(n, 0, "allocations during {} lookups", urls.len() * 4);
    // The corpus does hit the lists: the walk and the metadata path ran.
    assert!(decided > 1_000, "only {decided} lookups matched");
    // And the counter works.
    assert!(allocations(|| drop(std::hint::black_box(vec![1u8; 16]))) > 0);
}
