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

use std::collections::BTreeMap;

use indset::build::{COMMON_INPUTS, FILTER, KEYS, LINES, META, META_INDEX, RECORDS};
use indset::format::Container;

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
        let name = match id {
            KEYS => "keys",
            RECORDS => "records",
            LINES => "lines",
            META_INDEX => "meta-index",
            META => "meta",
            COMMON_INPUTS => "common-inputs",
            FILTER => "filter",
            _ => "other",
        };
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
        stack.extend(node.transitions().map(|t| t.addr));
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
}
