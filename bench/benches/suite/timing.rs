//! Single-lookup latency: each lookup timed alone with `Instant`, the
//! timer's own cost (the median of an empty timed span) subtracted, over
//! every query in a shuffled order, several rounds. Gives the per-lookup
//! median and tail that criterion's per-batch statistics cannot.
//!
//! A query is timed in one of two states. [`Query::InCache`]: a fresh copy
//! of it is made just before the timer starts, so its bytes are in the
//! cache, as they are for the tunnel engine, which has just read the host
//! or URL out of the flow it is deciding; the set's memory is wherever the
//! previous lookups left it. [`Query::Cold`]: the query is read where it
//! lies, one of thousands of strings spread over the heap, so the lookup
//! also pays for fetching the query from memory.

use std::hint::black_box;
use std::time::Instant;

use indset_test_support::rng::Rng;

/// Percentiles of per-lookup times, in nanoseconds.
#[derive(Clone, Copy, Debug)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Mean.
    pub mean: f64,
}

/// The median cost of timing nothing: `Instant::now()` then `elapsed()`.
pub fn timer_overhead() -> f64 {
    let mut v: Vec<f64> = (0..200_000)
        .map(|_| {
            let t = Instant::now();
            black_box(());
            t.elapsed().as_nanos() as f64
        })
        .collect();
    percentile(&mut v, 50.0)
}

/// The `p`th percentile of `v` (sorts it).
pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    let rank = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    v[rank.min(v.len() - 1)]
}

/// Where a timed query's own bytes are when the timer starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    /// Copied just before timing (untimed): in the cache.
    InCache,
    /// Read where it lies in the workload.
    Cold,
}

/// Times `f` on each of `queries`, `rounds` times in shuffled orders after
/// one untimed warm-up round; returns each query's timings (ns, timer
/// overhead `overhead` subtracted, floored at 0) in query order.
pub fn per_query<Q: Clone, R>(
    queries: &[Q],
    rounds: usize,
    overhead: f64,
    state: Query,
    mut f: impl FnMut(&Q) -> R,
) -> Vec<Vec<f64>> {
    for q in queries {
        black_box(f(black_box(q)));
    }
    let mut order: Vec<usize> = (0..queries.len()).collect();
    let mut rng = Rng::new(0x7a11);
    let mut out = vec![Vec::with_capacity(rounds); queries.len()];
    for _ in 0..rounds {
        rng.shuffle(&mut order);
        for &i in &order {
            let copy;
            let q = match state {
                Query::InCache => {
                    copy = queries[i].clone();
                    &copy
                }
                Query::Cold => &queries[i],
            };
            let t = Instant::now();
            black_box(f(black_box(q)));
            let ns = t.elapsed().as_nanos() as f64;
            out[i].push((ns - overhead).max(0.0));
        }
    }
    out
}

/// The percentiles over every timing of [`per_query`]'s result.
pub fn summarise(per_query: &[Vec<f64>]) -> Latency {
    let mut all: Vec<f64> = per_query.iter().flatten().copied().collect();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    Latency {
        p50: percentile(&mut all, 50.0),
        p90: percentile(&mut all, 90.0),
        p99: percentile(&mut all, 99.0),
        p999: percentile(&mut all, 99.9),
        mean,
    }
}

/// The time of one load whose address depends on the previous one, in a
/// random cycle over `bytes` of memory (one load per 64-byte line): what a
/// lookup pays per node or bucket it reads from a structure of that size
/// that is not in the cache. Median of 5 runs of 2,000,000 loads.
pub fn dependent_load_ns(bytes: usize) -> f64 {
    const LINE: usize = 64 / std::mem::size_of::<usize>();
    let lines = (bytes / 64).max(2);
    let mut order: Vec<usize> = (0..lines).collect();
    Rng::new(0x1a7e).shuffle(&mut order);
    let mut next = vec![0usize; lines * LINE];
    for (k, &line) in order.iter().enumerate() {
        next[line * LINE] = order[(k + 1) % lines] * LINE;
    }
    let mut at = 0;
    for _ in 0..lines {
        at = next[at];
    }
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..2_000_000 {
                at = next[black_box(at)];
            }
            t.elapsed().as_nanos() as f64 / 2e6
        })
        .collect();
    black_box(at);
    percentile(&mut runs, 50.0)
}
