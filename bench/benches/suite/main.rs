//! The benchmark suite behind `docs/figures.md` and `BENCHMARKS.md`, in one run.
//!
//! `cargo bench --bench suite` (or `scripts/bench.sh`, which also times
//! `indset compile` of 10M, counts instructions and cache lines, and
//! redraws the tables and the chart) measures, on the same indicators and
//! the same queries in the same run:
//!
//! - the bundled lists compiled as `scripts/demo.sh` compiles them, on the
//!   real requests, all of them and apart those that match and those that
//!   do not; then sets of 10k, 100k, 1M and 10M indicators built from the
//!   real lists in `data/` plus generated names;
//! - lookups in domain and full-URL mode by the set, by the canonicalising
//!   hash-table suffix walk, by the plain `HashSet<String>` walk (domain
//!   mode) and by the `adblock` crate (`peers.rs`), under criterion
//!   (per-lookup mean over a batch) and with a single-lookup timer
//!   (median, p90, p99, p99.9); on the bundled set also in interleaved
//!   batch rounds, every engine side by side;
//! - heap allocations per lookup and heap bytes held, with a counting
//!   global allocator; file size, open time, compile time.
//!
//! Everything lands in `target/bench-results.json`; `scripts/chart.py`
//! turns that into the tables and the SVG of `BENCHMARKS.md`.
//!
//! `INDSET_BENCH_QUICK=1` runs a smoke version (no 10M point, short
//! measurements) to check the suite itself.

mod peers;
mod timing;

use std::hint::black_box;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use indset::{Decision, Indicator, IndicatorSet, Mode};
use indset_bench as data;
use indset_test_support::alloc;
use serde_json::{Map, Value, json};

use data::{NOW, Request};
use peers::{Adblock, HashWalk, Parsed, PlainWalk};
use timing::Query;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// How long and how often to measure.
struct Config {
    quick: bool,
    rounds: usize,
    compiles: usize,
    warm_up: Duration,
    measure: Duration,
}

impl Config {
    fn from_env() -> Config {
        let quick = std::env::var_os("INDSET_BENCH_QUICK").is_some_and(|v| v != "0");
        Config {
            quick,
            rounds: if quick { 1 } else { 3 },
            compiles: if quick { 1 } else { 3 },
            warm_up: Duration::from_millis(if quick { 200 } else { 500 }),
            measure: Duration::from_millis(if quick { 500 } else { 2000 }),
        }
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_default();
    json!({
        "nproc": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "cpu": cpu,
        "rustc": std::env::var("INDSET_BENCH_RUSTC").unwrap_or_default(),
        "load_start": load_average(),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    timing::percentile(&mut v, 50.0)
}

fn secs_ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A set of one size with its peers.
struct Engines {
    label: String,
    indicators: usize,
    set: IndicatorSet<indset::Mapped>,
    hash: HashWalk,
    plain: PlainWalk,
    adblock: Option<Adblock>,
}

/// The queries of one workload, in every form the engines take.
struct Queries {
    name: String,
    urls: Vec<String>,
    hosts: Vec<String>,
    adblock_full: Vec<Parsed>,
    adblock_domain: Vec<Parsed>,
    /// Whether adblock answers this workload.
    adblock: bool,
}

impl Queries {
    fn new(name: &str, requests: &[Request], adblock: bool) -> Queries {
        let urls: Vec<String> = requests.iter().map(|r| r.url.clone()).collect();
        let hosts: Vec<String> = urls.iter().map(|u| data::host_of(u)).collect();
        let (adblock_full, adblock_domain) = if adblock {
            (
                requests
                    .iter()
                    .filter_map(|r| Adblock::parse(&r.url, &r.frame, &r.cpt))
                    .collect(),
                hosts
                    .iter()
                    .filter_map(|h| {
                        let u = format!("https://{h}/");
                        Adblock::parse(&u, &u, "other")
                    })
                    .collect(),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        Queries {
            name: name.to_string(),
            urls,
            hosts,
            adblock_full,
            adblock_domain,
            adblock,
        }
    }
}

impl Queries {
    /// The queries of `requests` that `keep` keeps, per mode: a URL by
    /// its full-mode answer, a host by its domain-mode one.
    fn subset(
        name: &str,
        requests: &[Request],
        keep: impl Fn(&str, Mode) -> bool,
        adblock: bool,
    ) -> Queries {
        let all = Queries::new(name, requests, false);
        let full: Vec<Request> = requests
            .iter()
            .filter(|r| keep(&r.url, Mode::Full))
            .cloned()
            .collect();
        let hosts: Vec<String> = all
            .hosts
            .into_iter()
            .filter(|h| keep(h, Mode::Domain))
            .collect();
        let mut q = Queries::new(name, &full, adblock);
        if adblock {
            q.adblock_domain = hosts
                .iter()
                .filter_map(|h| {
                    let u = format!("https://{h}/");
                    Adblock::parse(&u, &u, "other")
                })
                .collect();
        }
        q.hosts = hosts;
        q
    }
}

/// How many queries one criterion iteration runs: a fixed random sample
/// of the workload (the same for every engine), so that the slowest peer
/// still fits many samples in the measurement time.
const BATCH: usize = 4096;

fn batch<Q>(queries: &[Q]) -> Vec<&Q> {
    let mut idx: Vec<usize> = (0..queries.len()).collect();
    data::Rng::new(0xba7c4).shuffle(&mut idx);
    idx.truncate(BATCH);
    idx.into_iter().map(|i| &queries[i]).collect()
}

/// Collects the JSON and remembers which criterion results to read back.
struct Suite {
    cfg: Config,
    criterion: Criterion,
    criterion_dir: PathBuf,
    /// (JSON pointer of the entry, criterion group, function, elements).
    pending: Vec<(String, String, String, usize)>,
    out: Map<String, Value>,
}

fn group<'a>(
    c: &'a mut Criterion,
    cfg: &Config,
    name: &str,
    elements: usize,
) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(if cfg.quick { 10 } else { 20 })
        .warm_up_time(cfg.warm_up)
        .measurement_time(cfg.measure)
        .throughput(Throughput::Elements(elements as u64));
    g
}

impl Suite {
    /// Measures `f` over `queries` with criterion (the batch of every
    /// query once) and the single-lookup timer; counts its allocations.
    fn measure<Q: Clone, R>(
        &mut self,
        entry: &str,
        function: &str,
        queries: &[Q],
        overhead: f64,
        f: impl Fn(&Q) -> R,
    ) -> (Value, Vec<Vec<f64>>) {
        let group_name = entry.replace('/', "_");
        let batch = batch(queries);
        {
            let mut g = group(&mut self.criterion, &self.cfg, &group_name, batch.len());
            g.bench_function(function, |b| {
                b.iter(|| {
                    for q in &batch {
                        black_box(f(black_box(q)));
                    }
                })
            });
            g.finish();
        }
        self.pending.push((
            format!("{entry}/{function}"),
            group_name,
            function.to_string(),
            batch.len(),
        ));
        let before = alloc::allocations();
        for q in queries {
            black_box(f(black_box(q)));
        }
        let allocations = alloc::allocations() - before;
        let cold = timing::per_query(queries, self.cfg.rounds, overhead, Query::Cold, &f);
        let c = timing::summarise(&cold);
        let per_query = timing::per_query(queries, self.cfg.rounds, overhead, Query::InCache, &f);
        let l = timing::summarise(&per_query);
        (
            json!({
                "queries": queries.len(),
                "allocations_per_lookup": allocations as f64 / queries.len().max(1) as f64,
                "single": {"p50_ns": l.p50, "p90_ns": l.p90, "p99_ns": l.p99,
                           "p999_ns": l.p999, "mean_ns": l.mean},
                "single_query_cold": {"p50_ns": c.p50, "p90_ns": c.p90, "p99_ns": c.p99,
                                      "p999_ns": c.p999, "mean_ns": c.mean},
            }),
            per_query,
        )
    }

    /// Every engine of `e` on `q`, both modes; checks that the hash walk
    /// agrees with the set.
    fn workload(&mut self, e: &Engines, q: &Queries, overhead: f64, with_canon: bool) -> Value {
        let mut out = Map::new();
        let set = &e.set;
        for (mode, queries) in [("domain", &q.hosts), ("full", &q.urls)] {
            let m = if mode == "domain" {
                Mode::Domain
            } else {
                Mode::Full
            };
            let entry = format!("{}/{}/{mode}", e.label, q.name);
            eprintln!("== {entry}: {} queries", queries.len());
            let ours: Vec<Decision> = queries
                .iter()
                .map(|u| set.check_at(u.as_bytes(), m, NOW).decision)
                .collect();
            let theirs: Vec<Decision> = queries
                .iter()
                .map(|u| match m {
                    Mode::Domain => e.hash.check_host(u.as_bytes()),
                    _ => e.hash.check_url(u.as_bytes()),
                })
                .collect();
            let disagree: Vec<Value> = queries
                .iter()
                .zip(ours.iter().zip(&theirs))
                .filter(|(_, (a, b))| a != b)
                .map(|(u, (a, b))| json!([u, a.as_str(), b.as_str()]))
                .collect();
            let hits = |d: &[Decision]| d.iter().filter(|d| **d != Decision::None).count();
            let (mut indset_v, per_query) =
                self.measure(&entry, "indset", queries, overhead, |u| {
                    set.check_at(u.as_bytes(), m, NOW)
                });
            indset_v["hit_rate"] = json!(hits(&ours) as f64 / ours.len() as f64);
            indset_v["by_length"] = by_length(queries, &per_query);
            let (mut hash_v, per_query) = match m {
                Mode::Domain => self.measure(&entry, "hashwalk", queries, overhead, |u| {
                    e.hash.check_host(u.as_bytes())
                }),
                _ => self.measure(&entry, "hashwalk", queries, overhead, |u| {
                    e.hash.check_url(u.as_bytes())
                }),
            };
            hash_v["hit_rate"] = json!(hits(&theirs) as f64 / theirs.len() as f64);
            hash_v["by_length"] = by_length(queries, &per_query);
            hash_v["disagreements"] = json!(disagree.len());
            hash_v["disagreement_examples"] = json!(disagree.iter().take(5).collect::<Vec<_>>());
            if !disagree.is_empty() {
                eprintln!("   hash walk disagrees on {} queries", disagree.len());
            }
            let mut engines = json!({"indset": indset_v, "hashwalk": hash_v});
            if m == Mode::Domain {
                // Answers only whether a host is listed, so it is checked
                // against whether the set matches: it differs on hosts
                // whose only indicator is a `Url` for `/`.
                let listed: Vec<bool> = queries.iter().map(|h| e.plain.listed(h)).collect();
                let differ = ours
                    .iter()
                    .zip(&listed)
                    .filter(|(d, l)| (**d != Decision::None) != **l)
                    .count();
                let (mut v, per_query) =
                    self.measure(&entry, "plainwalk", queries, overhead, |h| {
                        e.plain.listed(h)
                    });
                v["hit_rate"] = json!(
                    listed.iter().filter(|l| **l).count() as f64 / listed.len().max(1) as f64
                );
                v["by_length"] = by_length(queries, &per_query);
                v["match_disagreements"] = json!(differ);
                engines["plainwalk"] = v;
            }
            if with_canon {
                // What every engine here pays before its lookup structure.
                let (v, _) = match m {
                    Mode::Domain => self.measure(&entry, "canon", queries, overhead, |u| {
                        let mut out = [0u8; indset::canon::HOST_BUF_LEN];
                        indset::canon::query_host(u.as_bytes(), &mut out)
                            .map(|(_, n)| n)
                            .ok()
                    }),
                    // The host, its kind and where the rest starts, as
                    // the set and the canonicalising walk take them
                    // first (the path is canonicalised only for hosts
                    // with path keys).
                    _ => self.measure(&entry, "canon", queries, overhead, |u| {
                        let mut out = [0u8; indset::canon::HOST_BUF_LEN];
                        indset::canon::query_url_host(u.as_bytes(), &mut out)
                            .map(|u| u.host_len)
                            .ok()
                    }),
                };
                engines["canon"] = v;
            }
            if let Some(ab) = e.adblock.as_ref().filter(|_| q.adblock) {
                let parsed = if m == Mode::Domain {
                    &q.adblock_domain
                } else {
                    &q.adblock_full
                };
                let blocked = parsed.iter().filter(|r| ab.blocks(r)).count();
                let (mut v, _) =
                    self.measure(&entry, "adblock", parsed, overhead, |r| ab.blocks(r));
                v["hit_rate"] = json!(blocked as f64 / parsed.len().max(1) as f64);
                v["unparsed"] = json!(queries.len() - parsed.len());
                engines["adblock"] = v;
            }
            out.insert(mode.to_string(), engines);
        }
        Value::Object(out)
    }

    /// Reads criterion's medians back into the JSON: `criterion_ns` is the
    /// median over samples of the batch time divided by the batch size.
    fn collect_criterion(&mut self) {
        for (pointer, group, function, elements) in std::mem::take(&mut self.pending) {
            let path = self
                .criterion_dir
                .join(&group)
                .join(&function)
                .join("new/estimates.json");
            let estimate = std::fs::read_to_string(&path)
                .ok()
                .and_then(|s| serde_json::from_str::<Value>(&s).ok())
                .map(|v| {
                    let e = elements.max(1) as f64;
                    json!({
                        "median_ns": v["median"]["point_estimate"].as_f64().map(|x| x / e),
                        "mean_ns": v["mean"]["point_estimate"].as_f64().map(|x| x / e),
                        "mean_ci_ns": [
                            v["mean"]["confidence_interval"]["lower_bound"].as_f64().map(|x| x / e),
                            v["mean"]["confidence_interval"]["upper_bound"].as_f64().map(|x| x / e),
                        ],
                    })
                })
                .unwrap_or(Value::Null);
            let mut parts = pointer.split('/');
            let (Some(set), Some(work), Some(mode), Some(engine)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if let Some(slot) = self
                .out
                .get_mut("lookups")
                .and_then(|l| l.get_mut(set))
                .and_then(|s| s.get_mut(work))
                .and_then(|w| w.get_mut(mode))
                .and_then(|m| m.get_mut(engine))
            {
                slot["criterion"] = estimate;
            }
        }
    }

    fn lookups(&mut self, set: &str, work: &str, v: Value) {
        let lookups = self
            .out
            .entry("lookups")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("an object");
        lookups
            .entry(set)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("an object")
            .insert(work.to_string(), v);
    }
}

/// Median single-lookup time per query-length bucket (32 bytes wide; 8
/// for hosts): how cost grows with the query.
fn by_length(queries: &[String], per_query: &[Vec<f64>]) -> Value {
    let width = if queries.iter().all(|q| !q.contains('/')) {
        8
    } else {
        32
    };
    let mut buckets: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
    for (q, t) in queries.iter().zip(per_query) {
        let b = (q.len() / width).min(if width == 8 { 8 } else { 16 });
        buckets.entry(b).or_default().push(median(t.clone()));
    }
    Value::Array(
        buckets
            .into_iter()
            .filter(|(_, v)| v.len() >= 20)
            .map(|(b, v)| json!({"from": b * width, "to": (b + 1) * width, "count": v.len(), "median_ns": median(v)}))
            .collect(),
    )
}

/// Writes `bytes` as `<target>/bench/<label>.indset` and opens it mapped.
fn write_and_open(label: &str, bytes: &[u8]) -> (PathBuf, IndicatorSet<indset::Mapped>) {
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    let path = dir.join(format!("{label}.indset"));
    std::fs::write(&path, bytes).expect("set written");
    let set = IndicatorSet::open(&path).expect("set opens");
    (path, set)
}

/// The set of `indicators` (built from them, or `compiled` when given)
/// and its peers.
fn engines(
    label: &str,
    indicators: &[Indicator],
    compiled: Option<Vec<u8>>,
    with_adblock: bool,
) -> (Value, Engines) {
    eprintln!("== building {label}: {} indicators", indicators.len());
    let t = Instant::now();
    let bytes = compiled.unwrap_or_else(|| indset::compile::build(indicators));
    let build_ms = secs_ms(t.elapsed());
    let (path, _) = write_and_open(label, &bytes);
    let (open_heap, set) = alloc::retained(|| IndicatorSet::open(&path).expect("set opens"));
    let (hash_heap, hash) = alloc::retained(|| HashWalk::new(indicators));
    let (plain_heap, plain) = alloc::retained(|| PlainWalk::new(indicators));
    let (hashset_heap, hashset) = alloc::retained(|| {
        indicators
            .iter()
            .map(Indicator::value)
            .collect::<std::collections::HashSet<String>>()
    });
    drop(hashset);
    let n = indicators.len() as f64;
    let mut v = json!({
        "indicators": indicators.len(),
        "file_bytes": bytes.len(),
        "file_bytes_per_indicator": bytes.len() as f64 / n,
        "build_ms": build_ms,
        "heap_after_open_bytes": open_heap,
        "hashwalk_heap_bytes": hash_heap,
        "hashwalk_heap_bytes_per_indicator": hash_heap as f64 / n,
        "hashset_string_heap_bytes": hashset_heap,
        "plainwalk_heap_bytes": plain_heap,
    });
    let adblock = with_adblock.then(|| {
        // The rule text is made and freed inside, so only the engine counts.
        let (heap, (engine, ms)) = alloc::retained(|| {
            let rules = Adblock::rules(indicators);
            let t = Instant::now();
            let engine = Adblock::new(rules);
            (engine, secs_ms(t.elapsed()))
        });
        v["adblock_build_ms"] = json!(ms);
        v["adblock_heap_bytes"] = json!(heap);
        v["adblock_heap_bytes_per_indicator"] = json!(heap as f64 / n);
        engine
    });
    let e = Engines {
        label: label.to_string(),
        indicators: indicators.len(),
        set,
        hash,
        plain,
        adblock,
    };
    assert_eq!(e.hash.len(), e.indicators);
    assert_eq!(e.set.len(), e.indicators);
    (v, e)
}

fn main() {
    let started = Instant::now();
    let cfg = Config::from_env();
    let criterion_dir = target_dir().join("criterion");
    let criterion = Criterion::default()
        .configure_from_args()
        .without_plots()
        .output_directory(&criterion_dir);
    let mut s = Suite {
        cfg,
        criterion,
        criterion_dir,
        pending: Vec::new(),
        out: Map::new(),
    };
    s.out.insert("machine".into(), machine());
    s.out.insert("quick".into(), json!(s.cfg.quick));
    let overhead = timing::timer_overhead();
    s.out.insert("timer_overhead_ns".into(), json!(overhead));
    // The machine's memory as a lookup meets it: the cost of one dependent
    // load in structures of the filter's size, the 1M set's and the peers'.
    let latency: Map<String, Value> = [
        ("1MiB", 1usize << 20),
        ("2MiB", 2 << 20),
        ("8MiB", 8 << 20),
        ("32MiB", 32 << 20),
        ("128MiB", 128 << 20),
        ("256MiB", 256 << 20),
    ]
    .into_iter()
    .map(|(name, bytes)| (name.to_string(), json!(timing::dependent_load_ns(bytes))))
    .collect();
    eprintln!("dependent load, ns: {latency:?}");
    s.out
        .insert("dependent_load_ns".into(), Value::Object(latency));

    let requests = data::requests();
    let (info, lookups) = bundled(&mut s, &requests, overhead);
    for (work, v) in lookups {
        s.lookups("bundled", &work, v);
    }
    let real = data::real();
    eprintln!(
        "== {} real indicators, {} requests",
        real.len(),
        requests.len()
    );
    let (inputs, million) = data::sized(&real, 1_000_000);
    s.out.insert(
        "data".into(),
        json!({"real_indicators": real.len(), "requests": requests.len(),
               "generated_lines": inputs.generated.lines().count()}),
    );

    // Compile: read (real files from disk, generated lines from memory)
    // and build, through `Compiler` as `indset compile` does without its
    // progress bar (`Compiler::finish` frees a large set's indicators on
    // a thread of its own).
    let mut read_ms = Vec::new();
    let mut finish_ms = Vec::new();
    let compiles: Vec<f64> = (0..s.cfg.compiles)
        .map(|_| {
            let t = Instant::now();
            let (compiled, read, finish) = inputs.compile();
            let total = secs_ms(t.elapsed());
            read_ms.push(secs_ms(read));
            finish_ms.push(secs_ms(finish));
            black_box(compiled.bytes.len());
            total
        })
        .collect();
    eprintln!("== compile 1M: {compiles:?} ms");
    s.out.insert(
        "compile_1m".into(),
        json!({"runs_ms": compiles, "median_ms": median(compiles.clone()),
               "read_ms": read_ms, "finish_ms": finish_ms}),
    );

    let bundled_info = info;
    let (info, mut e) = engines("1m", &million, None, true);
    let path = target_dir().join("bench/1m.indset");
    let opens: Vec<f64> = (0..50)
        .map(|_| {
            let t = Instant::now();
            let set = IndicatorSet::open(&path).expect("set opens");
            black_box(set.len());
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    {
        let mut g = group(&mut s.criterion, &s.cfg, "open_1m", 1);
        g.bench_function("indset", |b| {
            b.iter(|| IndicatorSet::open(black_box(&path)).map(|s| s.len()))
        });
        g.finish();
    }
    let open_criterion =
        std::fs::read_to_string(s.criterion_dir.join("open_1m/indset/new/estimates.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v["median"]["point_estimate"].as_f64())
            .map(|ns| ns / 1e3);
    let mut sets = Map::new();
    sets.insert("bundled".into(), bundled_info);
    let mut info = info;
    info["open_us"] = json!({"single_median": median(opens), "criterion_median": open_criterion});
    sets.insert("1m".into(), info);

    // The 1M workloads: the real requests, then mixes of hits made up
    // from random indicators and real requests that match nothing.
    let real_q = Queries::new("real", &requests, true);
    let v = s.workload(&e, &real_q, overhead, true);
    s.lookups("1m", "real", v);
    let misses: Vec<Request> = requests
        .iter()
        .filter(|r| e.set.check_at(r.url.as_bytes(), Mode::Full, NOW).decision == Decision::None)
        .cloned()
        .collect();
    for (name, hit_percent, seed) in [("hit_heavy", 90, 1), ("miss_heavy", 10, 2)] {
        let mixed = data::mix(&million, &misses, hit_percent, requests.len(), seed);
        let q = Queries::new(name, &mixed, true);
        let v = s.workload(&e, &q, overhead, false);
        s.lookups("1m", name, v);
    }
    e.adblock = None;
    drop(e);

    // Scale: the same real requests against smaller and larger sets.
    for (label, n) in [("10k", 10_000), ("100k", 100_000)] {
        let part = data::sample(&million, n, 0x5ca1e + n as u64);
        let (info, e) = engines(label, &part, None, true);
        sets.insert(label.into(), info);
        let v = s.workload(&e, &real_q, overhead, false);
        s.lookups(label, "real", v);
    }
    if !s.cfg.quick {
        drop(million);
        let t = Instant::now();
        // The generated lines are kept for `scripts/bench.sh`, which times
        // `indset compile` on them and the real lists (compile 10M).
        let generated = target_dir().join("bench/generated-10m.txt");
        let mut keep = std::io::BufWriter::new(
            std::fs::File::create(&generated).expect("target/bench/generated-10m.txt"),
        );
        let ten_million = data::sized_direct(&real, 10_000_000, Some(&mut keep));
        std::io::Write::flush(&mut keep).expect("generated lines written");
        drop(keep);
        eprintln!("== generated 10M in {:.0} s", t.elapsed().as_secs_f64());
        let cold = data::mix(&ten_million, &misses, 90, 100_000, 3);
        let (info, e) = engines("10m", &ten_million, None, true);
        drop(ten_million);
        sets.insert("10m".into(), info);
        let v = s.workload(&e, &Queries::new("real", &requests, true), overhead, false);
        s.lookups("10m", "real", v);
        // Cold cache: a set far larger than the caches, each query a
        // random indicator's neighbourhood, in random order.
        let v = s.workload(&e, &Queries::new("cold", &cold, false), overhead, false);
        s.lookups("10m", "cold", v);
    }
    s.out.insert("sets".into(), Value::Object(sets));

    s.criterion.final_summary();
    s.collect_criterion();
    s.out.insert("load_end".into(), json!(load_average()));
    s.out.insert(
        "suite_seconds".into(),
        json!(started.elapsed().as_secs_f64()),
    );
    let out = target_dir().join("bench-results.json");
    std::fs::write(
        &out,
        serde_json::to_string_pretty(&Value::Object(s.out)).expect("json"),
    )
    .expect("results written");
    eprintln!("== wrote {}", out.display());
}

/// One engine's pass over one workload, for [`interleaved`]: the JSON
/// place it reports to (workload, mode, engine), its query count and the
/// pass over a range of its queries.
type Pass<'a> = (
    String,
    &'static str,
    &'static str,
    usize,
    Box<dyn Fn(Range<usize>) + 'a>,
);

/// How many queries one timed piece of a pass holds: short enough (0.1 to
/// 3 ms) that most pieces run without being preempted on a loaded machine.
const PIECE: usize = 512;

/// A pass's times from [`interleaved`], ns per query.
struct Interleaved {
    /// The sum over the pieces of each piece's median time, over the
    /// queries: a pass as long as its typical pieces.
    median: f64,
    /// Each round's whole pass.
    rounds: Vec<f64>,
}

/// Times every pass in `rounds` rounds after an untimed one. A round
/// runs every pass piece by piece, all the passes' first pieces, then
/// all their second ones, ..., the first pass of each step rotating:
/// engines measured side by side, so that a change of the machine's load
/// hits them alike.
fn interleaved(rounds: usize, passes: &[Pass<'_>]) -> Vec<Interleaved> {
    for p in passes {
        (p.4)(0..p.3);
    }
    let pieces = passes
        .iter()
        .map(|p| p.3.div_ceil(PIECE))
        .max()
        .unwrap_or(0);
    let mut times: Vec<Vec<Vec<f64>>> = passes
        .iter()
        .map(|p| vec![Vec::with_capacity(rounds); p.3.div_ceil(PIECE)])
        .collect();
    for round in 0..rounds {
        for (piece, from) in (0..pieces).map(|p| (p, p * PIECE)) {
            for k in 0..passes.len() {
                let i = (k + round + piece) % passes.len();
                let (n, pass) = (passes[i].3, &passes[i].4);
                if from >= n {
                    continue;
                }
                let t = Instant::now();
                pass(from..(from + PIECE).min(n));
                times[i][piece].push(t.elapsed().as_nanos() as f64);
            }
        }
    }
    passes
        .iter()
        .zip(times)
        .map(|(p, t)| {
            let n = p.3.max(1) as f64;
            Interleaved {
                median: t.iter().map(|piece| median(piece.clone())).sum::<f64>() / n,
                rounds: (0..rounds)
                    .map(|r| t.iter().map(|piece| piece[r]).sum::<f64>() / n)
                    .collect(),
            }
        })
        .collect()
}

/// The bundled lists as `scripts/demo.sh` compiles them, with every
/// engine on the real requests: all of them, those the set matches and
/// those it does not, in both modes; criterion and single lookups as for
/// every workload, then batch passes of every engine over every workload
/// in interleaved rounds (the `interleaved` entries).
fn bundled(s: &mut Suite, requests: &[Request], overhead: f64) -> (Value, Vec<(String, Value)>) {
    let (compiled, took, indicators) = data::bundled();
    let (mut info, e) = engines("bundled", &indicators, Some(compiled.bytes), true);
    // As `indset compile` does it: reading, checking and building.
    info["build_ms"] = json!(secs_ms(took));
    let matches =
        |q: &str, m: Mode| e.set.check_at(q.as_bytes(), m, NOW).decision != Decision::None;
    let workloads = [
        Queries::new("real", requests, true),
        Queries::subset("real_match", requests, matches, true),
        Queries::subset("real_nomatch", requests, |q, m| !matches(q, m), true),
    ];
    let mut values: Vec<(String, Value)> = workloads
        .iter()
        .map(|q| {
            (
                q.name.clone(),
                s.workload(&e, q, overhead, q.name == "real"),
            )
        })
        .collect();

    let mut passes: Vec<Pass<'_>> = Vec::new();
    for q in &workloads {
        let (set, hash, plain) = (&e.set, &e.hash, &e.plain);
        let name = || q.name.clone();
        let hosts = &q.hosts;
        let urls = &q.urls;
        passes.push((
            name(),
            "domain",
            "indset",
            hosts.len(),
            Box::new(move |r: Range<usize>| {
                for h in &hosts[r] {
                    black_box(set.check_at(black_box(h.as_bytes()), Mode::Domain, NOW));
                }
            }),
        ));
        passes.push((
            name(),
            "domain",
            "hashwalk",
            hosts.len(),
            Box::new(move |r: Range<usize>| {
                for h in &hosts[r] {
                    black_box(hash.check_host(black_box(h.as_bytes())));
                }
            }),
        ));
        passes.push((
            name(),
            "domain",
            "plainwalk",
            hosts.len(),
            Box::new(move |r: Range<usize>| {
                for h in &hosts[r] {
                    black_box(plain.listed(black_box(h)));
                }
            }),
        ));
        passes.push((
            name(),
            "full",
            "indset",
            urls.len(),
            Box::new(move |r: Range<usize>| {
                for u in &urls[r] {
                    black_box(set.check_at(black_box(u.as_bytes()), Mode::Full, NOW));
                }
            }),
        ));
        passes.push((
            name(),
            "full",
            "hashwalk",
            urls.len(),
            Box::new(move |r: Range<usize>| {
                for u in &urls[r] {
                    black_box(hash.check_url(black_box(u.as_bytes())));
                }
            }),
        ));
        if let Some(ab) = &e.adblock {
            for (mode, parsed) in [("domain", &q.adblock_domain), ("full", &q.adblock_full)] {
                passes.push((
                    name(),
                    mode,
                    "adblock",
                    parsed.len(),
                    Box::new(move |r: Range<usize>| {
                        for r in &parsed[r] {
                            black_box(ab.blocks(black_box(r)));
                        }
                    }),
                ));
            }
        }
    }
    let rounds = if s.cfg.quick { 5 } else { 21 };
    eprintln!(
        "== bundled: {rounds} interleaved rounds of {} passes",
        passes.len()
    );
    let times = interleaved(rounds, &passes);
    for ((work, mode, engine, n, _), t) in passes.iter().zip(times) {
        let slot = values
            .iter_mut()
            .find(|(w, _)| w == work)
            .and_then(|(_, v)| v.get_mut(*mode))
            .and_then(|m| m.get_mut(*engine));
        if let Some(slot) = slot {
            let r = &t.rounds;
            slot["interleaved"] = json!({
                "rounds": r.len(), "queries": n, "piece": PIECE,
                "median_ns": t.median,
                "round_median_ns": median(r.clone()),
                "round_mean_ns": r.iter().sum::<f64>() / r.len().max(1) as f64,
                "round_min_ns": r.iter().copied().fold(f64::INFINITY, f64::min),
            });
        }
    }
    (info, values)
}
