//! Times the compile of the 1,000,000-indicator set of `docs/figures.md`, ingest and build
//! apart, on the same input as `benches/suite` (`compile_1m`).
//!
//! `cargo run --release -p indset-bench --example compile_1m -- [RUNS] [OUT.indset]`
//! prints each run, the medians, and a checksum of the set's bytes (the
//! indicators without metadata, as the lookup benchmarks build them), so
//! two builds of the crate can be compared for speed and for identical
//! output; then it times `Compiler` as `indset compile` runs it, the
//! suite's compile figure.
//! With `GENERATED_OUT=FILE`, the generated lines are also written to FILE
//! (to profile `indset compile` on the same input); with `INDICATORS=N`,
//! the set holds N indicators instead of 1,000,000 (`INDICATORS=10000000
//! GENERATED_OUT=gen10m.txt ... -- 0` writes the generated lines of the
//! suite's 10M set without timing anything).

use std::time::Instant;

/// This process's CPU time (user + system, all threads) in ms, from
/// `/proc/self/stat` (Linux; 0 elsewhere): less disturbed than wall time
/// on a shared machine.
fn cpu_ms() -> f64 {
    stat_cpu_ms("/proc/self/stat")
}

/// The calling thread's CPU time in ms (Linux; 0 elsewhere): with
/// [`cpu_ms`], shows how much of a phase ran on other threads.
fn thread_cpu_ms() -> f64 {
    stat_cpu_ms("/proc/thread-self/stat")
}

fn stat_cpu_ms(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<u64>().ok())
        .sum();
    ticks as f64 * 10.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let runs: usize = args
        .next()
        .map_or(5, |r| r.parse().expect("RUNS is a number"));
    let out = args.next();

    let t = Instant::now();
    let real = indset_bench::real();
    let n = std::env::var("INDICATORS").map_or(1_000_000, |n| {
        n.parse().expect("INDICATORS is a number of indicators")
    });
    let (inputs, million) = indset_bench::sized(&real, n);
    eprintln!(
        "input: {} real, {} in all, ready in {:.1} s",
        real.len(),
        million.len(),
        t.elapsed().as_secs_f64()
    );
    drop(million);
    if let Ok(path) = std::env::var("GENERATED_OUT") {
        std::fs::write(path, &inputs.generated).expect("write the generated lines");
    }
    if runs == 0 {
        return;
    }

    let (mut ingest, mut build, mut total) = (Vec::new(), Vec::new(), Vec::new());
    let (mut ingest_cpu, mut build_cpu, mut ingest_main) = (Vec::new(), Vec::new(), Vec::new());
    let mut bytes = Vec::new();
    let mut order = 0;
    for run in 0..runs {
        let c0 = cpu_ms();
        let m0 = thread_cpu_ms();
        let t = Instant::now();
        let all = inputs.ingest();
        let i = t.elapsed().as_secs_f64() * 1e3;
        let c1 = cpu_ms();
        let m1 = thread_cpu_ms();
        ingest_main.push(m1 - m0);
        let mut h = crc32fast::Hasher::new();
        for ind in &all {
            h.update(ind.value().as_bytes());
            h.update(&[ind.action as u8, b'\n']);
        }
        order = h.finalize();
        let b = Instant::now();
        bytes = indset::compile::build(&all);
        let bt = b.elapsed().as_secs_f64() * 1e3;
        let c2 = cpu_ms();
        ingest_cpu.push(c1 - c0);
        build_cpu.push(c2 - c1);
        let tt = t.elapsed().as_secs_f64() * 1e3;
        eprintln!(
            "run {run}: ingest {i:.0} ms (cpu {:.0}, main thread {:.0}), build {bt:.0} ms \
             (cpu {:.0}), total {tt:.0} ms",
            c1 - c0,
            m1 - m0,
            c2 - c1
        );
        ingest.push(i);
        build.push(bt);
        total.push(tt);
    }
    println!(
        "median of {runs}: ingest {:.0} ms, build {:.0} ms, compile {:.0} ms; \
         cpu: ingest {:.0} ms (main thread {:.0}), build {:.0} ms",
        median(ingest),
        median(build),
        median(total),
        median(ingest_cpu),
        median(ingest_main),
        median(build_cpu)
    );
    println!(
        "set: {} bytes, crc32 {:08x}; ingested order crc32 {order:08x}",
        bytes.len(),
        crc32fast::hash(&bytes)
    );
    // The figure of `docs/figures.md`: `Compiler`, as `indset compile` runs it (titles
    // and descriptions kept, the indicators freed on a thread of their own).
    let mut whole = Vec::new();
    for run in 0..runs {
        let (compiled, read, finish) = inputs.compile();
        let (r, f) = (read.as_secs_f64() * 1e3, finish.as_secs_f64() * 1e3);
        eprintln!(
            "compiler run {run}: read {r:.0} ms, build {f:.0} ms, total {:.0} ms ({} bytes)",
            r + f,
            compiled.bytes.len()
        );
        whole.push(r + f);
    }
    println!("compiler, median of {runs}: {:.0} ms", median(whole));
    if let Some(path) = out {
        std::fs::write(&path, &bytes).expect("write the set");
    }
}
