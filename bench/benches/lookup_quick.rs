//! Quick lookup benchmark: domain-mode and full-URL lookup medians on a
//! 1,000,000-indicator set (the real lists plus generated names), with the
//! real request URLs of `data/` as queries. The full suite against peers
//! lives elsewhere; this one guards the per-flow path.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use indset::{IndicatorSet, Mode};
use indset_test_support::data;

fn lookups(c: &mut Criterion) {
    let indicators = data::million();
    let bytes = indset::compile::build(&indicators);
    eprintln!(
        "{} indicators, {} bytes, {:.2} bytes/indicator",
        indicators.len(),
        bytes.len(),
        bytes.len() as f64 / indicators.len() as f64
    );
    let set = IndicatorSet::from_bytes(bytes).expect("set opens");
    eprintln!("{:?}", set.stats());
    let urls = data::request_urls();
    let hosts = data::request_hosts(&urls);
    let now = indset::Timestamp(1_700_000_000);

    let mut g = c.benchmark_group("lookup_1m");
    g.measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(urls.len() as u64));
    g.bench_function("domain", |b| {
        b.iter(|| {
            for h in &hosts {
                black_box(set.check_at(black_box(h.as_bytes()), Mode::Domain, now));
            }
        })
    });
    g.bench_function("full_url", |b| {
        b.iter(|| {
            for u in &urls {
                black_box(set.check_at(black_box(u.as_bytes()), Mode::Full, now));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
