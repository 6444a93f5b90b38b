//! Cache lines of the set read per lookup, for `scripts/lines.sh`: every
//! `step`-th real request (domain hosts or full URLs) is looked up once in
//! the 1M profiling set (`target/profile-1m.indset`, built by
//! `examples/profile_lookups`), each lookup preceded by an update of
//! [`MARK`]. Under valgrind's `lackey --trace-mem=yes`, the accesses between
//! two updates of `MARK` that fall inside the mapped set are one lookup's:
//! the script counts the distinct 64-byte lines among them.
//!
//! ```text
//! target/release/examples/lines_read domain 6 2>addresses >decided
//! ```
//!
//! Prints to stderr the set's address and length and `MARK`'s address;
//! to stdout, one character per lookup: `1` when it decided, `0` when not.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use indset::{Decision, IndicatorSet, Mode};
use indset_test_support::data;

/// Updated before each lookup: the boundary in the trace.
static MARK: AtomicU64 = AtomicU64::new(0);

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = match args.next().as_deref() {
        Some("full") => Mode::Full,
        _ => Mode::Domain,
    };
    let step: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(6);
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    let path = target.join("profile-1m.indset");
    let mapped = indset::format::map(&path).expect("run examples/profile_lookups first");
    let (base, len) = (mapped.as_ref().as_ptr() as usize, mapped.as_ref().len());
    let set = IndicatorSet::from_bytes(mapped).expect("set opens");
    let urls = data::request_urls();
    let queries = match mode {
        Mode::Full => urls,
        Mode::Domain => data::request_hosts(&urls),
    };
    eprintln!(
        "SET {base:x} {len} MARK {:x}",
        std::ptr::addr_of!(MARK) as usize
    );
    let now = indset::Timestamp(1_700_000_000);
    let mut decided = String::new();
    for q in queries.iter().step_by(step.max(1)) {
        MARK.fetch_add(1, Ordering::SeqCst);
        let v = set.check_at(q.as_bytes(), mode, now);
        decided.push(if v.decision == Decision::None { '0' } else { '1' });
    }
    MARK.fetch_add(1, Ordering::SeqCst);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{decided}");
}
