//! A plain loop of lookups for profilers: the quick benchmark's 1M set
//! (the real lists plus generated names, built once into
//! `target/profile-1m.indset`) and the real request URLs of `data/`.
//!
//! ```text
//! cargo build --release --example profile_lookups
//! target/release/examples/profile_lookups domain 20     # or: full
//! target/release/examples/profile_lookups domain 1 misses  # or: hits
//! valgrind --tool=callgrind \
//!     --toggle-collect='profile_lookups::one_lookup' \
//!     target/release/examples/profile_lookups domain 1 misses
//! ```
//!
//! A third argument keeps only the requests that match nothing (`misses`)
//! or that match an indicator (`hits`); the selection does not call
//! `one_lookup` (the loop's call of `check_at`), so a count inside it is
//! of the profiled loop's lookups alone. Prints the mean time per lookup;
//! the instruction counts quoted in `BENCHMARKS.md` are callgrind's total
//! inside `one_lookup` for one pass (`1`) divided by the number of
//! requests, which `scripts/instructions.sh` runs and prints.
//! Timings belong to `cargo bench`.

use std::hint::black_box;
use std::time::Instant;

use indset::{Decision, IndicatorSet, Mode};
use indset_test_support::data;

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "domain".into());
    let passes: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let path = data::profile_set_path();
    // Built again whenever this program is newer than the file, so that a
    // change of the format never profiles an old file.
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let exe = std::env::current_exe().ok().and_then(|e| modified(&e));
    if modified(&path).is_none_or(|built| exe.is_some_and(|e| e > built)) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("target directory");
        }
        std::fs::write(&path, indset::compile::build(&data::million())).expect("set written");
    }
    let set = IndicatorSet::open(&path).expect("set opens");
    let urls = data::request_urls();
    let hosts = data::request_hosts(&urls);
    let now = indset::Timestamp(1_700_000_000);
    let (all, mode) = match mode.as_str() {
        "full" => (urls, Mode::Full),
        _ => (hosts, Mode::Domain),
    };
    let check = |q: &str| one_lookup(&set, black_box(q.as_bytes()), mode, now);
    // The selection asks `check`, not `one_lookup`, so that a profiler
    // that counts inside `one_lookup` counts the profiled loop only. (The
    // set has no expirations: `check` and `check_at` answer alike.)
    let selected = |q: &&String| set.check(q.as_bytes(), mode).decision != Decision::None;
    let queries: Vec<&String> = match args.next().as_deref() {
        Some("hits") => all.iter().filter(selected).collect(),
        Some("misses") => all.iter().filter(|q| !selected(q)).collect(),
        _ => all.iter().collect(),
    };
    let t = Instant::now();
    let hits = passes_of(&queries, passes, &check);
    let per = t.elapsed().as_nanos() as f64 / (passes * queries.len()) as f64;
    println!(
        "{}: {} queries x {passes}, {per:.1} ns per lookup, {hits} with a deciding indicator",
        if mode == Mode::Full { "full" } else { "domain" },
        queries.len()
    );
}

/// One lookup, the function a profiler counts in (`check_at` itself may
/// be inlined here).
#[inline(never)]
fn one_lookup(
    set: &IndicatorSet<indset::Mapped>,
    query: &[u8],
    mode: Mode,
    now: indset::Timestamp,
) -> indset::Verdict {
    set.check_at(query, mode, now)
}

/// The profiled loop: `passes` passes of `check` over `queries`; the number
/// of lookups with a deciding indicator. Not inlined, so that a profiler
/// can tell it from the selection of `hits` or `misses` before it.
#[inline(never)]
fn passes_of(
    queries: &[&String],
    passes: usize,
    check: &impl Fn(&str) -> indset::Verdict,
) -> usize {
    let mut hits = 0usize;
    for _ in 0..passes {
        for q in queries {
            hits += usize::from(black_box(check(q)).indicator.is_some());
        }
    }
    hits
}
