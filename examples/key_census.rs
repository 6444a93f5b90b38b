//! Where the bytes of a compiled set go: every section per indicator, and
//! the key automaton's nodes by kind, to see which part of the format a
//! size budget has to come from.
//!
//! ```text
//! cargo run --release --example key_census -- target/bench/1m.indset
//! ```
//!
//! (`scripts/bench.sh` writes `target/bench/1m.indset`; any `.indset`
//! file will do.) The key automaton is an `fst` map (format version 3);
//! its nodes are read with the `fst` crate and grouped by the encoding
//! the `fst` format gives them:
//!
//! - `one transition, next`: one transition to the node just below and no
//!   output; one byte when the input is among the common inputs, else two.
//!   A run of these spells out the part of a key no other key shares.
//! - `one transition`: one transition with a target address and an output.
//! - `any transitions`: a branching (or final) node: inputs, target deltas
//!   and outputs for each transition, plus a 256-byte index above 32.

use std::collections::{BTreeMap, HashMap};

use indset::format::Container;
use indset::format::KEYS;

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/bench/1m.indset".into());
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!(
            "cannot read {path}: {e} (scripts/bench.sh --quick writes target/bench/1m.indset)"
        );
        std::process::exit(2)
    });
    let container = Container::parse(&bytes).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(2)
    });
    let keys = container.require(KEYS).expect("a keys section");
    let fst = fst::raw::Fst::new(keys.to_vec()).expect("the keys are an fst");
    let indicators = fst.len() as f64;
    println!("{path}: {} keys, {} bytes", fst.len(), bytes.len());
    println!("\nsection            bytes   per indicator");
    for (id, section) in container.sections() {
        let name = id.name().unwrap_or("other");
        println!(
            "{name:<14} {:>9} {:>10.2}",
            section.len(),
            section.len() as f64 / indicators
        );
    }

    // Every node once, from the root.
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![fst.root().addr()];
    let mut kinds: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    // For the packing estimate below: each node's parents, and whether
    // one of them is a one-transition-next node.
    let mut parents: HashMap<usize, (u32, bool)> = HashMap::new();
    while let Some(addr) = stack.pop() {
        if !seen.insert(addr) {
            continue;
        }
        let node = fst.node(addr);
        let kind = match node.state() {
            "OTN" => "one transition, next",
            "OT" => "one transition",
            "AT" => "any transitions",
            _ => "final, no transition",
        };
        let entry = kinds.entry(kind).or_default();
        entry.0 += 1;
        entry.1 += node.as_slice().len();
        entry.2 += node.len();
        let next = node.state() == "OTN";
        for t in node.transitions() {
            let p = parents.entry(t.addr).or_default();
            p.0 += 1;
            p.1 |= next;
            stack.push(t.addr);
        }
    }
    println!(
        "\nkey automaton nodes     nodes   per key     bytes   per key  bytes/node  transitions/node"
    );
    for (kind, (nodes, size, trans)) in &kinds {
        println!(
            "{kind:<21} {nodes:>9} {:>7.2} {size:>10} {:>7.2} {:>9.2} {:>11.2}",
            *nodes as f64 / indicators,
            *size as f64 / indicators,
            *size as f64 / *nodes as f64,
            *trans as f64 / *nodes as f64
        );
    }

    // What packing would save: a run of one-transition-next nodes entered
    // only at its top (no other parent points into it) spells characters
    // that, when all are host bytes (one of 38: letters, digits, `-`, `.`),
    // could be stored 6 bits each behind a header of one or two bytes. A
    // node with another parent starts a run of its own; a run with another
    // byte (a URL path's) stays as it is.
    let is_next = |a: usize| a != 0 && fst.node(a).state() == "OTN";
    let host_byte = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.';
    let (mut runs, mut run_nodes, mut now, mut saved_1, mut saved_2) = (0, 0, 0, 0, 0);
    for &addr in &seen {
        let entered_from_run = parents
            .get(&addr)
            .is_some_and(|&(n, from_next)| n == 1 && from_next);
        if !is_next(addr) || entered_from_run {
            continue;
        }
        let (mut k, mut bytes, mut packable) = (0usize, 0usize, true);
        let mut at = addr;
        loop {
            let node = fst.node(at);
            let t = node.transitions().next();
            k += 1;
            bytes += node.as_slice().len();
            packable &= t.is_some_and(|t| host_byte(t.inp));
            let below = t.map_or(0, |t| t.addr);
            if !is_next(below) || parents.get(&below).is_some_and(|&(n, _)| n != 1) {
                break;
            }
            at = below;
        }
        runs += 1;
        run_nodes += k;
        now += bytes;
        if packable {
            let packed = (6 * k).div_ceil(8);
            saved_1 += bytes.saturating_sub(1 + packed);
            saved_2 += bytes.saturating_sub(2 + packed);
        }
    }
    println!(
        "\npacking runs of one-transition-next nodes at 6 bits per host byte:\n\
         {runs} runs of {run_nodes} nodes ({:.1} per run, {now} bytes): \
         {:.2} bytes per key saved with a 1-byte header, {:.2} with a 2-byte one",
        run_nodes as f64 / runs.max(1) as f64,
        saved_1 as f64 / indicators,
        saved_2 as f64 / indicators
    );
}
