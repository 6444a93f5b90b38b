//! A plain loop of lookups for profilers: the quick benchmark's 1M set
//! (the real lists plus generated names, built once into
//! `target/profile-1m.indset`) and the real request URLs of `data/`.
//!
//! ```text
//! cargo build --release --example profile_lookups
//! target/release/examples/profile_lookups domain 20     # or: full
//! valgrind --tool=callgrind --toggle-collect='indset::set::IndicatorSet<D>::lookup' \
//!     target/release/examples/profile_lookups full 1
//! ```
//!
//! Prints the mean time per lookup; the instruction counts quoted in
//! `BENCHMARKS.md` are callgrind's total for one pass (`1`) divided by the
//! number of requests, which `scripts/instructions.sh` runs and prints.
//! Timings belong to `cargo bench`.

#[path = "../benches/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use indset::set::IndicatorSet;

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
        std::fs::write(&path, indset::build::build(&common::million())).expect("set written");
    }
    let set = IndicatorSet::open(&path).expect("set opens");
    let urls = common::request_urls();
    let hosts = common::request_hosts(&urls);
    let queries = if mode == "full" { &urls } else { &hosts };
    let now = indset::Timestamp(1_700_000_000);
    let t = Instant::now();
    let mut hits = 0usize;
    for _ in 0..passes {
        for q in queries {
            let v = if mode == "full" {
                set.check_url_at(black_box(q.as_bytes()), now)
            } else {
                set.check_host_at(black_box(q.as_bytes()), now)
            };
            hits += usize::from(black_box(v).indicator.is_some());
        }
    }
    let per = t.elapsed().as_nanos() as f64 / (passes * queries.len()) as f64;
    println!(
        "{mode}: {} queries x {passes}, {per:.1} ns per lookup, {hits} with a deciding indicator",
        queries.len()
    );
}
