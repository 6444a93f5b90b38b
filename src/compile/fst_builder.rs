//! An `fst` map builder that writes exactly the bytes of
//! `fst::MapBuilder::memory()` (fst 0.4, format version 3) for the same
//! keys and values, faster on large sets.
//!
//! Why it exists: `fst`'s builder keeps a heap vector per cell of its
//! node registry, compares nodes transition by transition, and allocates
//! once per node. This builder keeps the same algorithm and the same registry
//! (10,000 buckets of two most-recently-used cells, FNV hash), so it makes
//! the same deduplication choices and the same bytes, but it keeps the
//! full hash beside each cell (a node's transitions are only compared when
//! the hashes agree), stores single-transition nodes inline, and reuses
//! the unfinished nodes' storage. The tests compare it with
//! `fst::MapBuilder` byte for byte.
//!
//! [`join`] makes one map of two built apart, whose keys start with
//! different bytes, so that a large set is built on two threads; the `fst`
//! crate reads the joined map back with the same keys and values (tests).
//!
//! The nodes are encoded by [`write_node`], beside their decoder in
//! `format/fst.rs`; this module decides which nodes to write (the
//! registry) and in which order.

use crate::format::fst::{self, EMPTY_ADDRESS, HEADER_LEN, Node, Transition, VERSION, write_node};

/// "No address yet".
const NONE_ADDRESS: usize = 1;
/// The registry's shape, as in `fst::raw::Builder`.
const REGISTRY_BUCKETS: usize = 10_000;
const REGISTRY_WAYS: usize = 2;

impl Node {
    /// `fst`'s registry hash (FNV-1a over the fields, 64 bits).
    fn hash(&self) -> u64 {
        const PRIME: u64 = 1_099_511_628_211;
        let mut h: u64 = 14_695_981_039_346_656_037;
        h = (h ^ u64::from(self.is_final)).wrapping_mul(PRIME);
        h = (h ^ self.final_output).wrapping_mul(PRIME);
        for t in &self.trans {
            h = (h ^ u64::from(t.inp)).wrapping_mul(PRIME);
            h = (h ^ t.out).wrapping_mul(PRIME);
            h = (h ^ t.addr as u64).wrapping_mul(PRIME);
        }
        h
    }
}

/// A node on the path of the last key: its finished transitions, and the
/// one to the next node on the path, whose address is not known yet.
#[derive(Default)]
struct Unfinished {
    node: Node,
    last: Option<(u8, u64)>,
}

impl Unfinished {
    fn last_compiled(&mut self, addr: usize) {
        if let Some((inp, out)) = self.last.take() {
            self.node.trans.push(Transition { inp, out, addr });
        }
    }

    fn add_output_prefix(&mut self, prefix: u64) {
        if self.node.is_final {
            self.node.final_output += prefix;
        }
        for t in &mut self.node.trans {
            t.out += prefix;
        }
        if let Some((_, out)) = &mut self.last {
            *out += prefix;
        }
    }
}

/// One registry cell as the lookup sees it: the address of a compiled
/// node, its full hash and, for most nodes, the node itself packed in a
/// word: 24 bytes, so that the whole table stays in a core's cache.
#[derive(Clone, Copy)]
struct Cell {
    hash: u64,
    /// The node's address, and in bit 63 which of its bucket's two
    /// content slots holds the node (cells swap, slots stay).
    addr_slot: u64,
    /// The node as [`pack`] gives it, or 0 when it is in its content
    /// slot.
    packed: u64,
}

/// A non-final node with one transition, whose output fits 24 bits and
/// target 31 bits (most nodes), as one non-zero word: valid bit, target,
/// output, input byte. Equal nodes give equal words and unequal nodes
/// unequal ones; 0 for any other node.
fn pack(node: &Node) -> u64 {
    match Registry::single(node) {
        Some(t) if t.out < 1 << 24 && (t.addr as u64) < 1 << 31 => {
            1 << 63 | (t.addr as u64) << 32 | t.out << 8 | u64::from(t.inp)
        }
        _ => 0,
    }
}

const SLOT_BIT: u64 = 1 << 63;

impl Cell {
    fn addr(self) -> usize {
        (self.addr_slot & !SLOT_BIT) as usize
    }
}

/// A registry cell's node, read only when the hashes agree.
#[derive(Clone, Default)]
struct Content {
    /// `Some` for a non-final node with exactly this one transition.
    single: Option<Transition>,
    /// Any other node.
    node: Node,
}

/// `fst`'s registry: `REGISTRY_BUCKETS` buckets of `REGISTRY_WAYS` cells,
/// most recently used first.
struct Registry {
    cells: Vec<Cell>,
    contents: Vec<Content>,
}

enum Entry {
    Found(usize),
    /// Not found; the node now occupies this cell, whose address must be
    /// set once it is written.
    NotFound(usize),
}

impl Registry {
    fn new() -> Registry {
        let n = REGISTRY_BUCKETS * REGISTRY_WAYS;
        Registry {
            cells: (0..n)
                .map(|i| Cell {
                    hash: 0,
                    packed: 0,
                    addr_slot: NONE_ADDRESS as u64 | if i % 2 == 1 { SLOT_BIT } else { 0 },
                })
                .collect(),
            contents: vec![Content::default(); n],
        }
    }

    fn single(node: &Node) -> Option<Transition> {
        (!node.is_final && node.final_output == 0 && node.trans.len() == 1).then(|| node.trans[0])
    }

    fn content(&self, at: usize) -> &Content {
        let slot = usize::from(self.cells[at].addr_slot & SLOT_BIT != 0);
        &self.contents[at / REGISTRY_WAYS * REGISTRY_WAYS + slot]
    }

    fn holds(&self, at: usize, hash: u64, packed: u64, node: &Node) -> bool {
        let cell = self.cells[at];
        if cell.addr() == NONE_ADDRESS || cell.hash != hash || cell.packed != packed {
            return false;
        }
        if packed != 0 {
            return true;
        }
        let content = self.content(at);
        match (content.single, Registry::single(node)) {
            (Some(a), Some(b)) => a == b,
            (None, None) => content.node == *node,
            _ => false,
        }
    }

    fn entry(&mut self, node: &Node) -> Entry {
        let hash = node.hash();
        let packed = pack(node);
        let start = (hash as usize % REGISTRY_BUCKETS) * REGISTRY_WAYS;
        if self.holds(start, hash, packed, node) {
            return Entry::Found(self.cells[start].addr());
        }
        if self.holds(start + 1, hash, packed, node) {
            self.cells.swap(start, start + 1);
            return Entry::Found(self.cells[start].addr());
        }
        let cell = &mut self.cells[start + 1];
        cell.hash = hash;
        cell.packed = packed;
        if packed == 0 {
            let slot = usize::from(cell.addr_slot & SLOT_BIT != 0);
            let content = &mut self.contents[start + slot];
            content.single = Registry::single(node);
            if content.single.is_none() {
                content.node.clone_from(node);
            }
        }
        self.cells.swap(start, start + 1);
        Entry::NotFound(start)
    }

    fn set_addr(&mut self, at: usize, addr: usize) {
        let cell = &mut self.cells[at];
        cell.addr_slot = addr as u64 | (cell.addr_slot & SLOT_BIT);
    }
}

/// Builds an `fst` map in memory; see the module docs.
pub(crate) struct MapBuilder {
    out: Vec<u8>,
    /// `stack[..depth]` is the path of the last key; the rest is storage
    /// kept for reuse.
    stack: Vec<Unfinished>,
    depth: usize,
    registry: Registry,
    last_key: Vec<u8>,
    started: bool,
    last_addr: usize,
    len: u64,
}

impl MapBuilder {
    /// An empty map, with room for `bytes` bytes of output.
    pub(crate) fn with_capacity(bytes: usize) -> MapBuilder {
        let mut out = Vec::with_capacity(bytes.max(HEADER_LEN));
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes());
        let mut b = MapBuilder {
            out,
            stack: Vec::with_capacity(64),
            depth: 0,
            registry: Registry::new(),
            last_key: Vec::new(),
            started: false,
            last_addr: NONE_ADDRESS,
            len: 0,
        };
        b.push_empty(false);
        b
    }

    /// Adds `key` with value `val`.
    ///
    /// Panics when `key` is not greater than the key added before: the
    /// caller sorts and deduplicates.
    pub(crate) fn insert(&mut self, key: &[u8], val: u64) {
        assert!(
            !self.started || key > self.last_key.as_slice(),
            "fst keys must be added in increasing order, without duplicates"
        );
        self.started = true;
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        if key.is_empty() {
            self.len = 1;
            self.stack[0].node.is_final = true;
            self.stack[0].node.final_output = val;
            return;
        }
        let (prefix_len, out) = self.common_prefix_and_set_output(key, val);
        self.len += 1;
        self.compile_from(prefix_len);
        self.add_suffix(&key[prefix_len..], out);
    }

    /// The finished map's bytes.
    #[cfg(test)]
    pub(crate) fn into_inner(self) -> Vec<u8> {
        self.into_part().finish()
    }

    /// The map with every node written but the root: to be finished alone
    /// or [`join`]ed to a map of other keys.
    pub(crate) fn into_part(mut self) -> Part {
        self.compile_from(0);
        debug_assert!(self.depth == 1 && self.stack[0].last.is_none());
        Part {
            root: std::mem::take(&mut self.stack[0].node),
            out: self.out,
            len: self.len,
            last_addr: self.last_addr,
            registry: self.registry,
        }
    }

    fn push_empty(&mut self, is_final: bool) {
        if self.depth == self.stack.len() {
            self.stack.push(Unfinished::default());
        }
        let u = &mut self.stack[self.depth];
        u.node.is_final = is_final;
        u.node.final_output = 0;
        u.node.trans.clear();
        u.last = None;
        self.depth += 1;
    }

    fn common_prefix_and_set_output(&mut self, key: &[u8], mut out: u64) -> (usize, u64) {
        let mut i = 0;
        while i < key.len() {
            let add_prefix = match self.stack[i].last.as_mut() {
                Some((inp, t_out)) if *inp == key[i] => {
                    i += 1;
                    let common = (*t_out).min(out);
                    let add = *t_out - common;
                    out -= common;
                    *t_out = common;
                    add
                }
                _ => break,
            };
            if add_prefix != 0 {
                self.stack[i].add_output_prefix(add_prefix);
            }
        }
        (i, out)
    }

    fn compile_from(&mut self, istate: usize) {
        let mut addr = NONE_ADDRESS;
        while istate + 1 < self.depth {
            self.depth -= 1;
            let u = &mut self.stack[self.depth];
            if addr != NONE_ADDRESS {
                u.last_compiled(addr);
            }
            addr = compile(
                &u.node,
                &mut self.registry,
                &mut self.out,
                &mut self.last_addr,
            );
        }
        self.stack[self.depth - 1].last_compiled(addr);
    }

    fn add_suffix(&mut self, bs: &[u8], out: u64) {
        let Some((&first, rest)) = bs.split_first() else {
            return;
        };
        self.stack[self.depth - 1].last = Some((first, out));
        for &b in rest {
            self.push_empty(false);
            self.stack[self.depth - 1].last = Some((b, 0));
        }
        self.push_empty(true);
    }
}

/// A map whose nodes are written, all but the root.
pub(crate) struct Part {
    out: Vec<u8>,
    root: Node,
    len: u64,
    last_addr: usize,
    registry: Registry,
}

impl Part {
    /// Writes the root and the footer (key count, root address, checksum):
    /// the map of this part's keys alone.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let root = compile(
            &self.root,
            &mut self.registry,
            &mut self.out,
            &mut self.last_addr,
        );
        let mut out = self.out;
        fst::write_footer(&mut out, self.len, root);
        out
    }
}

/// One map of the keys of two parts built apart (on two threads, say),
/// when no two keys of different parts start with the same byte: the
/// root is the only node the parts share.
///
/// The second part's nodes are copied after the first's. A node refers to
/// another by the distance between them (and to the empty final state by
/// 0), so the moved nodes keep their meaning; only the root's transitions
/// into the second part are moved by the shift. Nodes are not shared
/// between the parts, so the bytes can differ from a build of all keys in
/// one [`MapBuilder`]; the keys and values are the same.
///
/// Panics when a first byte is in both parts.
pub(crate) fn join(mut first: Part, second: Part) -> Vec<u8> {
    let shift = first.out.len() - HEADER_LEN;
    first
        .out
        .extend_from_slice(second.out.get(HEADER_LEN..).unwrap_or_default());
    if second.last_addr != NONE_ADDRESS {
        first.last_addr = second.last_addr + shift;
    }
    let moved = second.root.trans.iter().map(|t| Transition {
        addr: if t.addr == EMPTY_ADDRESS {
            EMPTY_ADDRESS
        } else {
            t.addr + shift
        },
        ..*t
    });
    first.root.trans.extend(moved);
    first.root.trans.sort_unstable_by_key(|t| t.inp);
    assert!(
        first.root.trans.windows(2).all(|w| w[0].inp < w[1].inp),
        "the keys of both parts start with the same byte"
    );
    if second.root.is_final {
        assert!(!first.root.is_final, "the empty key is in both parts");
        first.root.is_final = true;
        first.root.final_output = second.root.final_output;
    }
    first.len += second.len;
    first.finish()
}

/// Writes `node` unless the registry has an equal one; its address.
fn compile(
    node: &Node,
    registry: &mut Registry,
    out: &mut Vec<u8>,
    last_addr: &mut usize,
) -> usize {
    if node.is_final && node.trans.is_empty() && node.final_output == 0 {
        return EMPTY_ADDRESS;
    }
    let cell = match registry.entry(node) {
        Entry::Found(addr) => return addr,
        Entry::NotFound(cell) => cell,
    };
    let start = out.len();
    write_node(out, *last_addr, start, node);
    *last_addr = out.len() - 1;
    registry.set_addr(cell, *last_addr);
    *last_addr
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn with_fst(keys: &[(Vec<u8>, u64)]) -> Vec<u8> {
        let mut m = ::fst::MapBuilder::memory();
        for (k, v) in keys {
            m.insert(k, *v).expect("sorted keys");
        }
        m.into_inner().expect("a Vec cannot fail")
    }

    fn with_ours(keys: &[(Vec<u8>, u64)]) -> Vec<u8> {
        let mut m = MapBuilder::with_capacity(0);
        for (k, v) in keys {
            m.insert(k, *v);
        }
        m.into_inner()
    }

    fn same(mut keys: Vec<(Vec<u8>, u64)>) {
        keys.sort();
        keys.dedup_by(|a, b| a.0 == b.0);
        assert_eq!(with_ours(&keys), with_fst(&keys));
    }

    /// Builds `keys` in two parts, those whose first byte `second` picks
    /// in the second, and joins them.
    fn joined(keys: &[(Vec<u8>, u64)], second: impl Fn(u8) -> bool) -> Vec<u8> {
        let (mut a, mut b) = (MapBuilder::with_capacity(0), MapBuilder::with_capacity(0));
        for (k, v) in keys {
            match k.first() {
                Some(&first) if second(first) => b.insert(k, *v),
                _ => a.insert(k, *v),
            }
        }
        join(a.into_part(), b.into_part())
    }

    /// What the `fst` crate reads back from `bytes`, after checking them.
    fn read_back(bytes: Vec<u8>) -> Vec<(Vec<u8>, u64)> {
        let map = ::fst::Map::new(bytes).expect("a well-formed fst");
        map.as_fst().verify().expect("its checksum holds");
        map.stream().into_byte_vec()
    }

    #[test]
    fn joined_parts_hold_every_key_and_value() {
        let mut keys: Vec<(Vec<u8>, u64)> = (0..5_000u32)
            .map(|i| {
                let h = i.wrapping_mul(2_654_435_761);
                let tld = ["moc", "ten", "gro", "ur", "ed"][h as usize % 5];
                (
                    format!("{tld}.{}{}/p{}", h % 97, h % 13, h % 5).into_bytes(),
                    0,
                )
            })
            .collect();
        keys.push((Vec::new(), 0));
        keys.sort();
        keys.dedup_by(|a, b| a.0 == b.0);
        for (rank, k) in keys.iter_mut().enumerate() {
            k.1 = rank as u64;
        }
        for second in [
            |b: u8| b == b'm',
            |b: u8| b != b'm',
            |_: u8| false,
            |_: u8| true,
        ] {
            assert_eq!(read_back(joined(&keys, second)), keys);
        }
        // With nothing in the second part, the bytes are one builder's.
        assert_eq!(joined(&keys, |_| false), with_ours(&keys));
    }

    #[test]
    #[should_panic(expected = "start with the same byte")]
    fn parts_sharing_a_first_byte_do_not_join() {
        let (mut a, mut b) = (MapBuilder::with_capacity(0), MapBuilder::with_capacity(0));
        a.insert(b"ab", 0);
        b.insert(b"ac", 1);
        join(a.into_part(), b.into_part());
    }

    #[test]
    fn same_bytes_as_fst_on_edge_shapes() {
        same(vec![]);
        same(vec![(vec![], 7)]);
        same(vec![(vec![], 0), (b"a".to_vec(), 0)]);
        // Every byte after one prefix: 256 transitions, an index, and the
        // transition count in its own byte.
        same(
            (0..=255u8)
                .map(|b| (vec![b'x', b], u64::from(b) * 1_000_003))
                .collect(),
        );
        for n in [31usize, 32, 33, 63, 64, 65, 255] {
            same((0..n).map(|b| (vec![b as u8, b'q'], b as u64)).collect());
        }
        // Large outputs (8-byte packs) and shared suffixes.
        same(
            (0..500u64)
                .map(|i| {
                    (
                        format!("{i}.moc.elpmaxe/a/b").into_bytes(),
                        u64::MAX - i * 7,
                    )
                })
                .collect(),
        );
    }

    #[test]
    fn same_bytes_as_fst_on_ranked_keys() {
        let mut keys: Vec<Vec<u8>> = (0..20_000u32)
            .map(|i| {
                let h = i.wrapping_mul(2_654_435_761);
                format!("moc.{}{}.{}/p{}", h % 97, h % 13, h % 1000, h % 5).into_bytes()
            })
            .collect();
        keys.sort();
        keys.dedup();
        let ranked = keys
            .into_iter()
            .enumerate()
            .map(|(r, k)| (k, r as u64))
            .collect::<Vec<_>>();
        assert_eq!(with_ours(&ranked), with_fst(&ranked));
    }

    /// Up to 200 short keys over a few bytes (so that they share prefixes
    /// and suffixes) and any byte, with small, zero and any values.
    fn some_keys() -> impl Strategy<Value = Vec<(Vec<u8>, u64)>> {
        proptest::collection::vec(
            (
                proptest::collection::vec(
                    prop_oneof![Just(b'a'), Just(b'b'), Just(b'.'), any::<u8>()],
                    0..12,
                ),
                prop_oneof![Just(0u64), 0..300u64, any::<u64>()],
            ),
            0..200,
        )
    }

    proptest! {
        #[test]
        fn same_bytes_as_fst(keys in some_keys()) {
            let mut keys = keys;
            keys.sort();
            keys.dedup_by(|a, b| a.0 == b.0);
            prop_assert_eq!(with_ours(&keys), with_fst(&keys));
        }

        #[test]
        fn joined_parts_read_back(keys in some_keys(), mask in any::<u64>()) {
            let mut keys = keys;
            keys.sort();
            keys.dedup_by(|a, b| a.0 == b.0);
            let second = |b: u8| mask >> (b % 64) & 1 == 1;
            prop_assert_eq!(read_back(joined(&keys, second)), keys);
        }
    }
}
