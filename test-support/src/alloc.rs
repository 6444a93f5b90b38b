//! A counting global allocator, shared by the benchmark suite and the
//! tests that measure heap use: live heap bytes, their peak, the number
//! of allocations in the process, and the allocations of one thread.
//!
//! A binary installs it with
//! `#[global_allocator] static GLOBAL: Counting = Counting;`.
//! The process-wide counters are only meaningful around code that runs
//! alone; [`allocations_on_this_thread`] is not disturbed by other threads
//! (a test harness runs tests in parallel).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// Counts, then defers to the system allocator.
pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's allocations while [`allocations_on_this_thread`] counts.
    static THREAD_COUNT: Cell<Option<usize>> = const { Cell::new(None) };
}

fn grew(by: usize) {
    ALLOCATIONS.fetch_add(1, Relaxed);
    let live = LIVE.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(live, Relaxed);
    // `try_with`: the allocator also runs while thread locals are torn
    // down. The initialiser is const, so this never allocates itself.
    let _ = THREAD_COUNT.try_with(|c| c.set(c.get().map(|n| n + 1)));
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees hold; the counters are plain atomics
// and a thread local with a const initialiser, none of which allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: as for `GlobalAlloc::alloc`, guaranteed by our caller.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: as for `GlobalAlloc::alloc_zeroed`, guaranteed by our caller.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The new block counts before the old one is released: a moving
        // reallocation holds both, and the peak includes that.
        grew(new_size);
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: `ptr` came from `System` with `layout`; our caller
        // guarantees `new_size` is valid for it.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Heap bytes currently allocated (requested sizes, without the
/// allocator's own overhead).
pub fn live() -> usize {
    LIVE.load(Relaxed)
}

/// Allocations (and reallocations) so far, on every thread.
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Relaxed)
}

/// The heap bytes `make` leaves allocated in what it returns, and it.
pub fn retained<T>(make: impl FnOnce() -> T) -> (usize, T) {
    let before = live();
    let value = make();
    (live().saturating_sub(before), value)
}

/// The most heap `work` had allocated at once above what was live before
/// it, and its result.
pub fn peak_during<T>(work: impl FnOnce() -> T) -> (usize, T) {
    let before = live();
    PEAK.store(before, Relaxed);
    let value = work();
    (PEAK.load(Relaxed).saturating_sub(before), value)
}

/// How many allocations and reallocations `f` made on this thread.
pub fn allocations_on_this_thread(f: impl FnOnce()) -> usize {
    THREAD_COUNT.with(|c| c.set(Some(0)));
    f();
    THREAD_COUNT.with(|c| c.replace(None)).unwrap_or(0)
}
