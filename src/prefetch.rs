//! A hint to the processor to start reading a cache line.
//!
//! Two builders read large tables at random, one slot per row or per
//! node, with the slot's address known well before its value is needed:
//! the key automaton's registry (`compile::fst_builder`) and the table of
//! accepted keys (`ingest::merge`). A load kept with `black_box` also
//! starts the read, but it waits in the reorder buffer until the line
//! arrives, so only a few such reads are in flight at a time; a prefetch
//! instruction retires at once. The 10M compile's automaton spent three
//! quarters of its time on such a load (BENCHMARKS.md, Measurements
//! behind choices in the code).

/// Asks for the cache line that holds `slice[at]`, without waiting for
/// it; nothing when `at` is out of bounds.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub(crate) fn prefetch<T: Copy>(slice: &[T], at: usize) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    if let Some(item) = slice.get(at) {
        // SAFETY: a prefetch is a hint: it reads no value into the
        // program, writes nothing and never faults; the address is that
        // of an element of `slice`.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(item).cast::<i8>()) }
    }
}

/// Reads `slice[at]` into the cache: stable Rust has no prefetch
/// instruction for this architecture, and a load that is kept still
/// brings the line.
#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn prefetch<T: Copy>(slice: &[T], at: usize) {
    if let Some(&item) = slice.get(at) {
        std::hint::black_box(item);
    }
}
