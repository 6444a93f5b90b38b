//! A plain loop of lookups for profilers: the quick benchmark's 1M set
//! (the real lists plus generated names, built once into
//! `target/profile-1m.indset`) and the real request URLs of `data/`.
//!
//! ```text
//! cargo build --release --example profile_lookups
//! target/release/examples/profile_lookups domain 20     # or: full
//! target/release/examples/profile_lookups domain 1 misses  # or: hits
//! valgrind --tool=callgrind --toggle-collect='profile_lookups::passes_of' \
//!     target/release/examples/profile_lookups domain 1 misses
//! valgrind --tool=callgrind --toggle-collect='indset::IndicatorSet<D>::lookup' \
//!     target/release/examples/profile_lookups full 1
//! ```
//!
//! A third argument keeps only the requests that match nothing (`misses`)
//! or that match an indicator (`hits`). Prints the mean time per lookup; the instruction counts quoted in
//! `BENCHMARKS.md` are callgrind's total for one pass (`1`) divided by the
//! number of requests, which `scripts/instructions.sh` runs and prints.
//! Timings belong to `cargo bench`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use indset::{Decision, IndicatorSet, Mode};
use indset_test_support::data;

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "domain".into());
    let passes: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    let path = target.join("profile-1m.indset");
    // Built again whenever this program is newer than the file, so that a
    // change of the format never profiles an old file.
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let exe = std::env::current_exe().ok().and_then(|e| modified(&e));
    if modified(&path).is_none_or(|built| exe.is_some_and(|e| e > built)) {
        std::fs::create_dir_all(&target).expect("target directory");
        std::fs::write(&path, indset::compile::build(&data::million())).expect("set written");
    }
    let set = IndicatorSet::open(&path).expect("set opens");
    let urls = data::request_urls();
    let hosts = data::request_hosts(&urls);
    let now = indset::Timestamp(1_700_000_000);
    let check = |q: &str| {
        if mode == "full" {
            set.check_at(black_box(q.as_bytes()), Mode::Full, now)
        } else {
            set.check_at(black_box(q.as_bytes()), Mode::Domain, now)
        }
    };
    let all = if mode == "full" { urls } else { hosts };
    let queries: Vec<&String> = match args.next().as_deref() {
        Some("hits") => all
            .iter()
            .filter(|q| check(q).decision != Decision::None)
            .collect(),
        Some("misses") => all
            .iter()
            .filter(|q| check(q).decision == Decision::None)
            .collect(),
        _ => all.iter().collect(),
    };
    let t = Instant::now();
    let hits = passes_of(&queries, passes, &check);
    let per = t.elapsed().as_nanos() as f64 / (passes * queries.len()) as f64;
    println!(
        "{mode}: {} queries x {passes}, {per:.1} ns per lookup, {hits} with a deciding indicator",
        queries.len()
    );
}

/// The profiled loop: `passes` passes of `check` over `queries`; the number
/// of lookups with a deciding indicator. Not inlined, so that a profiler can
/// count inside it only (the selection of `hits` or `misses` looks up every
/// request once before it).
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
