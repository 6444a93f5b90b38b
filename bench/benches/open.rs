//! Opening a set: verifying a 16 MiB container (`docs/figures.md`: open <= 5 ms).
//!
//! `parse` checks bytes already in memory (the CRC-32 pass); `map+parse`
//! adds mapping a file from the page cache and faulting its pages in, which
//! is what opening a set on the device costs when the file is cached.

use criterion::{Criterion, criterion_group, criterion_main};
use indset::format::{Container, KEYS, LINES, META, RECORDS, SOURCES, Writer};
use std::hint::black_box;

const MIB: usize = 1 << 20;

/// 16 MiB in five sections of pseudo-random bytes (incompressible, like an
/// `fst`), so that no layer of the system can shortcut them.
fn container() -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut noise = |len: usize| -> Vec<u8> {
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    };
    let sizes = [
        (META, 100),
        (KEYS, 6 * MIB),
        (LINES, 5 * MIB),
        (RECORDS, 4 * MIB),
        (SOURCES, MIB - 100 - 1000),
    ];
    let mut writer = Writer::new();
    for (id, len) in sizes {
        writer.add_section(id, &noise(len));
    }
    writer.finish()
}

fn open(c: &mut Criterion) {
    let bytes = container();
    assert!(bytes.len().abs_diff(16 * MIB) < 4096);
    let mut group = c.benchmark_group("open_16mib");
    group.throughput(criterion::Throughput::Bytes(bytes.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| Container::parse(black_box(&bytes)).map(|c| c.section_count()))
    });

    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("bench.indset");
    std::fs::write(&path, &bytes).expect("the benchmark set written");
    group.bench_function("map+parse", |b| {
        b.iter(|| {
            let map = indset::format::map(black_box(&path)).expect("mapped");
            Container::parse(&map).map(|c| c.section_count()).is_ok()
        })
    });
    group.finish();
}

criterion_group!(benches, open);
criterion_main!(benches);
