//! How far a set's key hosts could be coded down: the bytes a front-coded
//! block of sorted reversed hosts leaves per host, and those bytes'
//! empirical entropy given 0 to 3 bytes of context, for every key host
//! and for those of the real lists alone (ids not starting `generated:`).
//!
//! ```text
//! cargo run --release --example host_entropy -- target/profile-1m.indset
//! ```
//!
//! (`examples/profile_lookups` writes `target/profile-1m.indset`; any
//! `.indset` file will do.) The entropies are of a static model fitted to
//! the same hosts it codes, so they are a bound no coder reaches; the
//! model's size is shown as two bytes per (context, byte) pair seen, a
//! rough cost of its code lengths. `BENCHMARKS.md` reads the figures.

use std::collections::{BTreeSet, HashMap};

use indset::Kind;
use indset_test_support::data;

/// Hosts in a front-coded block: the first whole, each other after the
/// bytes it shares with the one before it.
const BLOCK: usize = 8;

fn main() {
    let set = data::open_profile_set(std::env::args().nth(1).map(Into::into));
    let mut all = BTreeSet::new();
    let mut real = BTreeSet::new();
    let (mut indicators, mut real_indicators) = (0usize, 0usize);
    for info in set.iter() {
        let host = match info.kind {
            Kind::DomainName => info.value.as_str(),
            Kind::Url => info.value.split('/').next().unwrap_or_default(),
        };
        let reversed: Vec<u8> = host.bytes().rev().collect();
        indicators += 1;
        if !info.id.starts_with("generated:") {
            real_indicators += 1;
            real.insert(reversed.clone());
        }
        all.insert(reversed);
    }
    report("every key host", &all, indicators);
    report("the real lists' key hosts", &real, real_indicators);
}

/// Prints the residual bytes and their entropy at each context order.
fn report(what: &str, hosts: &BTreeSet<Vec<u8>>, indicators: usize) {
    let hosts: Vec<&[u8]> = hosts.iter().map(Vec::as_slice).collect();
    let n = hosts.len().max(1) as f64;
    // Each host with the length it shares with the one before it in its
    // block (0 for a block's first).
    let coded: Vec<(&[u8], usize)> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let shared = match i % BLOCK {
                0 => 0,
                _ => h
                    .iter()
                    .zip(hosts[i - 1])
                    .take_while(|(a, b)| a == b)
                    .count(),
            };
            (*h, shared)
        })
        .collect();
    let residual: usize = coded.iter().map(|(h, s)| h.len() - s).sum();
    println!(
        "{what}: {} hosts of {indicators} indicators, {:.2} bytes each; blocks of {BLOCK}: {:.2} bytes a host past the shared ones",
        hosts.len(),
        hosts.iter().map(|h| h.len()).sum::<usize>() as f64 / n,
        residual as f64 / n
    );
    for order in 0..=3 {
        // The context of a byte: the `order` bytes before it in the host
        // (the shared ones included), `^` before the host's start.
        let mut pairs: HashMap<(Vec<u8>, u8), u64> = HashMap::new();
        let mut contexts: HashMap<Vec<u8>, u64> = HashMap::new();
        for (h, shared) in &coded {
            let padded: Vec<u8> = std::iter::repeat_n(b'^', order)
                .chain(h.iter().copied())
                .collect();
            for j in *shared..h.len() {
                let context = padded[j..j + order].to_vec();
                *pairs.entry((context.clone(), h[j])).or_default() += 1;
                *contexts.entry(context).or_default() += 1;
            }
        }
        let bits: f64 = pairs
            .iter()
            .map(|((context, _), &c)| c as f64 * -(c as f64 / contexts[context] as f64).log2())
            .sum();
        let model = 2 * pairs.len();
        println!(
            "  order {order}: {:.2} bits a byte, {:.2} bytes a host, {:.2} per indicator (model about {} kB, {:.3} per indicator)",
            bits / residual.max(1) as f64,
            bits / 8.0 / n,
            bits / 8.0 / indicators.max(1) as f64,
            model / 1000,
            model as f64 / indicators.max(1) as f64
        );
    }
}
