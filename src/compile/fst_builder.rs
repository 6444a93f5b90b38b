//! An `fst` map builder (fst 0.4, format version 3) that, given `fst`'s
//! registry, writes exactly the bytes of `fst::MapBuilder::memory()` for
//! the same keys and values, faster on large sets; and with a larger
//! registry, a smaller map, faster still.
//!
//! Why it exists: `fst`'s builder keeps a heap vector per cell of its
//! node registry, compares nodes transition by transition, allocates once
//! per node, and has a registry of fixed size. This builder keeps the same
//! algorithm and can keep the same registry (10,000 buckets of two
//! most-recently-used cells, FNV hash, [`Hashing::Fst`]), where it makes
//! the same deduplication choices and the same bytes (the tests compare
//! it with `fst::MapBuilder` byte for byte). But a cell is 16 bytes: a node of
//! one transition (most nodes) packed in a word, any other node by its
//! hash, compared with the bytes written for it when the hashes agree.
//! And it reuses the unfinished nodes' storage.
//!
//! Its registry can be made larger than `fst`'s
//! ([`MapBuilder::with_registry`]). `fst`'s 20,000 cells forget a node
//! long before an equal one comes again when equal key endings are far
//! apart in key order, as the paths of `Url` keys under different hosts
//! are: on the suite's 1M set, the 127,528 keys with a path take
//! 8,942,815 bytes with `fst`'s registry and 2,478,845 with 2^23 cells
//! (128 MiB). The map is one `fst` reads, with the same keys and
//! values, for any registry size (tests).
//!
//! A large registry is read at random, one bucket per node compiled, and
//! with `fst`'s hash each read waits for the one before: a node's hash
//! takes its targets' addresses, known once the nodes below it are found
//! or written. [`Hashing::Endings`] hashes a target by the key endings it
//! leads to instead, so the buckets of all the nodes a key finishes are
//! known, and read, before the first is looked up; its buckets of four
//! cells fill one cache line. On the suite's 1M set: 2,400,742 bytes
//! instead of 2,478,845 (equal endings written twice share a bucket, and
//! two cells a bucket let them push out the nodes around them), and
//! `indset compile` of the suite's 10M input, median of three alternated
//! runs, 35.7 s instead of 39.3 s (1M: 3.6 s instead of 4.1 s, on a
//! loaded machine).
//!
//! The nodes are encoded by [`write_node`], beside their decoder in
//! `format/fst.rs`; this module decides which nodes to write (the
//! registry) and in which order.

use crate::format::fst::{self, EMPTY_ADDRESS, HEADER_LEN, Node, Transition, VERSION, write_node};

/// "No address yet".
const NONE_ADDRESS: usize = 1;
/// The registry's shape, as in `fst::raw::Builder`: 10,000 buckets of
/// two cells.
pub(crate) const REGISTRY_CELLS: usize = 20_000;
const FST_WAYS: usize = 2;
/// The cells of a bucket with [`Hashing::Endings`]: four, 64 bytes, one
/// cache line. Equal endings written twice (after the registry forgot
/// the first) have one hash and so share a bucket; with two cells, such
/// nodes push out the bucket's other nodes.
const ENDINGS_WAYS: usize = 4;

impl Node {
    /// `fst`'s registry hash (FNV-1a over the fields, 64 bits).
    fn hash(&self) -> u64 {
        fields_hash(self, self.trans.iter().map(|t| t.addr as u64), None)
    }
}

/// How the registry picks a node's bucket.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Hashing {
    /// `fst`'s hash of the node's fields, its targets by address: the
    /// same buckets as `fst`'s builder, hence the same bytes. The tests
    /// compare the builder with `fst` through it.
    #[cfg_attr(not(test), expect(dead_code))]
    Fst,
    /// A hash of the node's fields with each target by the hash of the
    /// key endings it leads to ([`ending_hash`]), not its address. A
    /// chain of nodes about to be compiled has all its hashes before any
    /// is looked up, so their cells are loaded together: with `Fst`, each
    /// node's hash waits for the lookup of the node below it, one memory
    /// latency after another (the module docs give the gain). Equal nodes
    /// still have equal hashes, and a cell is still compared by address,
    /// so the map reads the same; when the registry forgets nodes, it may
    /// forget other ones than `fst`'s would, and the bytes may differ from
    /// `Fst`'s.
    Endings,
}

/// The FNV-1a step of the registry's hashes.
fn fnv(h: u64, word: u64) -> u64 {
    (h ^ word).wrapping_mul(1_099_511_628_211)
}

/// The FNV-1a start of the registry's hashes.
const FNV_START: u64 = 14_695_981_039_346_656_037;

/// [`Hashing::Endings`]' hash of a node: its fields, with each
/// transition's target by its own ending hash (`endings[i]` for
/// `node.trans[i]`), then `last` (input, output and ending hash of the
/// transition to the node below on the path, when there is one).
fn ending_hash(node: &Node, endings: &[u64], last: Option<(u8, u64, u64)>) -> u64 {
    fields_hash(node, endings.iter().copied(), last)
}

/// FNV-1a over a node's fields, with `targets` standing for its
/// transitions' targets (addresses for `fst`'s hash, ending hashes for
/// [`Hashing::Endings`]), then the transition `last`, when given.
fn fields_hash(
    node: &Node,
    targets: impl Iterator<Item = u64>,
    last: Option<(u8, u64, u64)>,
) -> u64 {
    let mut h = fnv(FNV_START, u64::from(node.is_final));
    h = fnv(h, node.final_output);
    let trans = node
        .trans
        .iter()
        .zip(targets)
        .map(|(t, target)| (t.inp, t.out, target));
    for (inp, out, target) in trans.chain(last) {
        h = fnv(fnv(fnv(h, u64::from(inp)), out), target);
    }
    h
}

/// A node on the path of the last key: its finished transitions (with
/// their targets' ending hashes, for [`Hashing::Endings`]), and the one
/// to the next node on the path, whose address is not known yet.
#[derive(Default)]
struct Unfinished {
    node: Node,
    endings: Vec<u64>,
    last: Option<(u8, u64)>,
}

impl Unfinished {
    fn last_compiled(&mut self, addr: usize, ending: u64) {
        if let Some((inp, out)) = self.last.take() {
            self.node.trans.push(Transition { inp, out, addr });
            self.endings.push(ending);
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

/// One registry cell: a compiled node's address, and the node itself
/// packed in a word (most nodes) or else its hash: 16 bytes, so that a
/// large registry stays small.
#[derive(Clone, Copy)]
struct Cell {
    /// [`pack`]'s word, whose top bit is set, or the node's hash with the
    /// top bit clear.
    key: u64,
    addr: usize,
}

/// The top bit of a packed node's word.
const PACKED: u64 = 1 << 63;

/// A non-final node with one transition, whose output fits 24 bits and
/// target 31 bits (most nodes), as one word with [`PACKED`] set: target,
/// output, input byte. Equal nodes give equal words and unequal nodes
/// unequal ones; 0 for any other node.
fn pack(node: &Node) -> u64 {
    match Registry::single(node) {
        Some(t) if t.out < 1 << 24 && (t.addr as u64) < 1 << 31 => {
            PACKED | (t.addr as u64) << 32 | t.out << 8 | u64::from(t.inp)
        }
        _ => 0,
    }
}

/// Whether the node written at `addr` in `out` (the map so far) is
/// `node`: read back with the map's reader, when a cell's hash agrees
/// with a node that does not pack.
fn written_is(out: &[u8], addr: usize, node: &Node) -> bool {
    let keys = fst::Keys::at(out, &fst::COMMON_INPUT_BYTES, addr);
    if keys.final_output(addr) != node.is_final.then_some(node.final_output) {
        return false;
    }
    let mut trans = [(0u8, 0u64, 0usize); 256];
    keys.transitions(addr, &mut trans).is_some_and(|n| {
        n == node.trans.len()
            && trans[..n]
                .iter()
                .zip(&node.trans)
                .all(|(&(inp, out, addr), t)| inp == t.inp && out == t.out && addr == t.addr)
    })
}

/// `fst`'s registry: buckets of `ways` cells, most recently used first.
/// A node that does not pack (a final or branching node) is compared with
/// the bytes written for it, so that the registry holds no node of its
/// own.
struct Registry {
    buckets: usize,
    ways: usize,
    cells: Cells,
}

/// The registry's cells, 16 bytes each: the key, then the address xor
/// [`NONE_ADDRESS`] (so that zero bytes are an empty cell), little-endian.
///
/// A large registry is read at random, one cell per node compiled: on the
/// suite's 1M set a third of the compile's time went to loading those
/// cells. They live in an anonymous map the kernel is asked to back with
/// huge pages, where a `Vec`'s 4 KiB pages would add a page walk to most
/// loads (compiling the 1M set: 2.95 s with 4 KiB pages, 2.5 s with huge
/// pages, on the benchmarks' machine). Its pages are zero and cost no
/// memory until written. Where no such map can be made, a `Vec` does the
/// same job.
enum Cells {
    Mapped(memmap2::MmapMut),
    Heap(Vec<u8>),
}

/// The bytes of a cell.
const CELL: usize = 16;

impl Cells {
    fn zeroed(count: usize) -> Cells {
        let len = count.saturating_mul(CELL).max(CELL);
        match memmap2::MmapMut::map_anon(len) {
            Ok(map) => {
                #[cfg(target_os = "linux")]
                // Only advice: when the kernel declines, the map still works.
                let _ = map.advise(memmap2::Advice::HugePage);
                Cells::Mapped(map)
            }
            Err(_) => Cells::Heap(vec![0; len]),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Cells::Mapped(map) => map,
            Cells::Heap(v) => v,
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            Cells::Mapped(map) => map,
            Cells::Heap(v) => v,
        }
    }

    fn get(&self, at: usize) -> Cell {
        let b = &self.bytes()[at * CELL..][..CELL];
        let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        Cell {
            key: word(0),
            addr: word(8) as usize ^ NONE_ADDRESS,
        }
    }

    fn set(&mut self, at: usize, cell: Cell) {
        let b = &mut self.bytes_mut()[at * CELL..][..CELL];
        b[..8].copy_from_slice(&cell.key.to_le_bytes());
        b[8..].copy_from_slice(&((cell.addr ^ NONE_ADDRESS) as u64).to_le_bytes());
    }

    /// Moves cell `last` to `first` and the cells from `first` on up one
    /// place.
    fn move_to_front(&mut self, first: usize, last: usize) {
        self.bytes_mut()[first * CELL..(last + 1) * CELL].rotate_right(CELL);
    }
}

enum Entry {
    Found(usize),
    /// Not found; the node now occupies this cell, whose address must be
    /// set once it is written.
    NotFound(usize),
}

impl Registry {
    /// A registry of about `cells` cells (at least one bucket) in buckets
    /// of `ways`.
    fn new(cells: usize, ways: usize) -> Registry {
        let buckets = (cells / ways).max(1);
        Registry {
            buckets,
            ways,
            cells: Cells::zeroed(buckets * ways),
        }
    }

    fn single(node: &Node) -> Option<Transition> {
        (!node.is_final && node.final_output == 0 && node.trans.len() == 1).then(|| node.trans[0])
    }

    fn holds(&self, at: usize, key: u64, node: &Node, out: &[u8]) -> bool {
        let cell = self.cells.get(at);
        cell.addr != NONE_ADDRESS
            && cell.key == key
            && (key & PACKED != 0 || written_is(out, cell.addr, node))
    }

    /// Finds `node`, or makes it the most recent node of its bucket. A node
    /// with a transition to `newest` (the node written last) is not looked
    /// for: every node the registry holds was written before `newest`, and
    /// a node's transitions lead only to nodes written before it, so none
    /// of them has that transition. Most nodes of a key's unshared ending
    /// are such nodes, and looking for one would read a random cell of a
    /// registry of up to 128 MiB.
    fn entry(&mut self, node: &Node, hash: u64, out: &[u8], newest: usize) -> Entry {
        let key = match pack(node) {
            0 => hash & !PACKED,
            packed => packed,
        };
        let start = self.bucket(hash);
        let end = start + self.ways;
        if !node.trans.iter().any(|t| t.addr == newest) {
            if let Some(at) = (start..end).find(|&at| self.holds(at, key, node, out)) {
                self.cells.move_to_front(start, at);
                return Entry::Found(self.cells.get(start).addr);
            }
        }
        // The bucket's cells move down one place, its least recent one is
        // let go, and the node takes the first place.
        self.cells.move_to_front(start, end - 1);
        self.cells.set(
            start,
            Cell {
                key,
                addr: NONE_ADDRESS,
            },
        );
        Entry::NotFound(start)
    }

    /// The first cell of the bucket of a node of hash `hash`.
    fn bucket(&self, hash: u64) -> usize {
        (hash as usize % self.buckets) * self.ways
    }

    /// Reads the bucket of a node of hash `hash` into the cache, before
    /// [`Registry::entry`] needs it. With [`Hashing::Endings`] a bucket
    /// is 64 bytes from a 64-byte boundary of the map: one cache line.
    fn load(&self, hash: u64) {
        crate::prefetch::prefetch(self.cells.bytes(), self.bucket(hash) * CELL);
    }

    fn set_addr(&mut self, at: usize, addr: usize) {
        let key = self.cells.get(at).key;
        self.cells.set(at, Cell { key, addr });
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
    hashing: Hashing,
    /// `hashes[d]`: the hash of the node at depth `d` of the path being
    /// compiled ([`Hashing::Endings`]).
    hashes: Vec<u64>,
}

impl MapBuilder {
    /// An empty map, with room for `bytes` bytes of output, that writes
    /// the bytes `fst::MapBuilder` writes.
    #[cfg(test)]
    fn with_capacity(bytes: usize) -> MapBuilder {
        MapBuilder::with_registry(bytes, REGISTRY_CELLS, Hashing::Fst)
    }

    /// An empty map, with room for `bytes` bytes of output, whose registry
    /// has about `cells` cells of 16 bytes (`fst`'s has
    /// [`REGISTRY_CELLS`]), in buckets of two with [`Hashing::Fst`] and
    /// four with [`Hashing::Endings`]: a larger registry finds more equal
    /// nodes and writes a smaller map.
    pub(crate) fn with_registry(bytes: usize, cells: usize, hashing: Hashing) -> MapBuilder {
        let mut out = Vec::with_capacity(bytes.max(HEADER_LEN));
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes());
        let mut b = MapBuilder {
            out,
            stack: Vec::with_capacity(64),
            depth: 0,
            registry: Registry::new(
                cells,
                match hashing {
                    Hashing::Fst => FST_WAYS,
                    Hashing::Endings => ENDINGS_WAYS,
                },
            ),
            last_key: Vec::new(),
            started: false,
            last_addr: NONE_ADDRESS,
            len: 0,
            hashing,
            hashes: Vec::with_capacity(64),
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

    /// The finished map's bytes: the root and the footer (key count, root
    /// address, checksum) written after the other nodes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.compile_from(0);
        debug_assert!(self.depth == 1 && self.stack[0].last.is_none());
        let root = &self.stack[0];
        let hash = match self.hashing {
            Hashing::Fst => root.node.hash(),
            Hashing::Endings => ending_hash(&root.node, &root.endings, None),
        };
        let root = compile(
            &root.node,
            hash,
            &mut self.registry,
            &mut self.out,
            &mut self.last_addr,
        );
        let mut out = self.out;
        fst::write_footer(&mut out, self.len, root);
        out
    }

    fn push_empty(&mut self, is_final: bool) {
        if self.depth == self.stack.len() {
            self.stack.push(Unfinished::default());
        }
        let u = &mut self.stack[self.depth];
        u.node.is_final = is_final;
        u.node.final_output = 0;
        u.node.trans.clear();
        u.endings.clear();
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

    /// Compiles the nodes of the path below depth `istate`, deepest
    /// first.
    fn compile_from(&mut self, istate: usize) {
        if self.hashing == Hashing::Endings {
            self.hash_path(istate);
        }
        let mut addr = NONE_ADDRESS;
        let mut ending = 0;
        while istate + 1 < self.depth {
            self.depth -= 1;
            let d = self.depth;
            let u = &mut self.stack[d];
            if addr != NONE_ADDRESS {
                u.last_compiled(addr, ending);
            }
            let hash = match self.hashing {
                Hashing::Fst => u.node.hash(),
                Hashing::Endings => self.hashes[d],
            };
            addr = compile(
                &u.node,
                hash,
                &mut self.registry,
                &mut self.out,
                &mut self.last_addr,
            );
            ending = hash;
        }
        self.stack[self.depth - 1].last_compiled(addr, ending);
    }

    /// The ending hashes of the nodes below depth `istate`, from the
    /// deepest up, into `hashes`, with their buckets read into the cache
    /// one after the other: the reads do not wait for each other.
    fn hash_path(&mut self, istate: usize) {
        if self.hashes.len() < self.depth {
            self.hashes.resize(self.depth, 0);
        }
        let mut below = 0;
        for d in (istate + 1..self.depth).rev() {
            let u = &self.stack[d];
            let last = u.last.map(|(inp, out)| (inp, out, below));
            below = ending_hash(&u.node, &u.endings, last);
            self.hashes[d] = below;
            self.registry.load(below);
        }
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

/// Writes `node` unless the registry has an equal one; its address.
fn compile(
    node: &Node,
    hash: u64,
    registry: &mut Registry,
    out: &mut Vec<u8>,
    last_addr: &mut usize,
) -> usize {
    if node.is_final && node.trans.is_empty() && node.final_output == 0 {
        return EMPTY_ADDRESS;
    }
    let cell = match registry.entry(node, hash, out, *last_addr) {
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
        m.finish()
    }

    fn same(mut keys: Vec<(Vec<u8>, u64)>) {
        keys.sort();
        keys.dedup_by(|a, b| a.0 == b.0);
        assert_eq!(with_ours(&keys), with_fst(&keys));
    }

    fn with_registry(keys: &[(Vec<u8>, u64)], buckets: usize) -> Vec<u8> {
        with_hashing(keys, 2 * buckets, Hashing::Fst)
    }

    fn with_hashing(keys: &[(Vec<u8>, u64)], cells: usize, hashing: Hashing) -> Vec<u8> {
        let mut m = MapBuilder::with_registry(0, cells, hashing);
        for (k, v) in keys {
            m.insert(k, *v);
        }
        m.finish()
    }

    /// What the `fst` crate reads back from `bytes`, after checking them.
    fn read_back(bytes: Vec<u8>) -> Vec<(Vec<u8>, u64)> {
        let map = ::fst::Map::new(bytes).expect("a well-formed fst");
        map.as_fst().verify().expect("its checksum holds");
        map.stream().into_byte_vec()
    }

    #[test]
    fn a_larger_registry_shares_endings_far_apart() {
        // 3,000 paths of some 25 nodes each under 30,000 hosts: a path
        // comes again after some 75,000 other nodes, where `fst`'s
        // 20,000 cells have forgotten it.
        let mut keys: Vec<(Vec<u8>, u64)> = (0..30_000u32)
            .map(|i| {
                let h = i.wrapping_mul(2_654_435_761);
                let p = h % 3_000;
                (format!("moc.{h:x}/dir{p}/file-{p}.php").into_bytes(), 0)
            })
            .collect();
        keys.sort();
        keys.dedup_by(|a, b| a.0 == b.0);
        for (rank, k) in keys.iter_mut().enumerate() {
            k.1 = rank as u64;
        }
        let fsts = with_fst(&keys);
        let large = with_registry(&keys, 1 << 18);
        let endings = with_hashing(&keys, 1 << 19, Hashing::Endings);
        assert_eq!(read_back(large.clone()), keys);
        assert_eq!(read_back(endings.clone()), keys);
        for (map, hashing) in [(large, "fst's"), (endings, "ending")] {
            assert!(
                map.len() * 3 < fsts.len() * 2,
                "{} bytes with the large registry and {hashing} hashes, {} with fst's registry",
                map.len(),
                fsts.len()
            );
        }
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

    /// The bytes of three one-transition nodes, to point at, and their
    /// addresses.
    fn three_nodes() -> (Vec<u8>, [usize; 3]) {
        let mut out = vec![0u8; HEADER_LEN];
        let mut last = NONE_ADDRESS;
        let mut addrs = [0; 3];
        for (i, inp) in [b'a', b'b', b'c'].into_iter().enumerate() {
            let trans = vec![Transition {
                inp,
                out: 0,
                addr: EMPTY_ADDRESS,
            }];
            let node = Node {
                is_final: false,
                final_output: 0,
                trans,
            };
            let at = out.len();
            write_node(&mut out, last, at, &node);
            last = out.len() - 1;
            addrs[i] = last;
        }
        (out, addrs)
    }

    /// A node of up to 256 transitions, with outputs drawn from small,
    /// zero and any values and targets among the empty final node and
    /// [`three_nodes`].
    fn some_node() -> impl Strategy<Value = Node> {
        let (_, addrs) = three_nodes();
        let targets = [EMPTY_ADDRESS, addrs[0], addrs[1], addrs[2]];
        (
            any::<bool>(),
            prop_oneof![Just(0u64), any::<u64>()],
            proptest::collection::btree_set(any::<u8>(), 0..=256),
            proptest::collection::vec(
                (prop_oneof![Just(0u64), 0..300u64, any::<u64>()], 0..4usize),
                256,
            ),
        )
            .prop_map(move |(is_final, out, inputs, picks)| {
                let trans = inputs
                    .into_iter()
                    .zip(picks)
                    .map(|(inp, (out, target))| Transition {
                        inp,
                        out,
                        addr: targets[target],
                    })
                    .collect::<Vec<_>>();
                // The empty final node (final, output 0, no transition) is
                // never written: it is address 0.
                let is_final = is_final || trans.is_empty();
                let final_output = match (is_final, trans.is_empty()) {
                    (false, _) => 0,
                    (true, false) => out,
                    (true, true) => out.max(1),
                };
                Node {
                    is_final,
                    final_output,
                    trans,
                }
            })
    }

    proptest! {
        /// The registry's comparison with written bytes says "equal" for
        /// the node written there and "not equal" for any node that
        /// differs from it in one field (what it must say when two
        /// nodes' hashes agree).
        #[test]
        fn written_is_tells_a_node_from_any_other(
            node in some_node(),
            which in any::<usize>(),
            by in 1..1000u64,
        ) {
            let (mut out, addrs) = three_nodes();
            let at = out.len();
            write_node(&mut out, addrs[2], at, &node);
            let addr = out.len() - 1;
            prop_assert!(written_is(&out, addr, &node));
            let mut other = node.clone();
            match (which % 3, other.trans.len()) {
                (0, _) | (_, 0) => {
                    other.is_final = !other.is_final;
                    other.final_output = 0;
                }
                (1, n) => {
                    let t = &mut other.trans[which / 3 % n];
                    t.out = t.out.wrapping_add(by);
                }
                (_, n) => {
                    let t = &mut other.trans[which / 3 % n];
                    t.addr = if t.addr == addrs[2] { EMPTY_ADDRESS } else { addrs[2] };
                }
            }
            prop_assert!(!written_is(&out, addr, &other));
        }

        #[test]
        fn same_bytes_as_fst(keys in some_keys()) {
            let mut keys = keys;
            keys.sort();
            keys.dedup_by(|a, b| a.0 == b.0);
            prop_assert_eq!(with_ours(&keys), with_fst(&keys));
        }

        /// Any registry, down to one bucket (where every node competes
        /// for two cells, or four), gives a map with the same keys and
        /// values, with either hashing.
        #[test]
        fn any_registry_reads_back(keys in some_keys(), buckets in 1usize..20_000) {
            let mut keys = keys;
            keys.sort();
            keys.dedup_by(|a, b| a.0 == b.0);
            prop_assert_eq!(read_back(with_registry(&keys, buckets)), keys.clone());
            let endings = with_hashing(&keys, 4 * buckets, Hashing::Endings);
            prop_assert_eq!(read_back(endings), keys);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// With a registry that forgets no node (2^22 cells for at most
        /// 2,400 nodes: three in one bucket of `Fst`'s 2^21 has a chance
        /// below 1 in 1,000 for the largest case), both hashings write the
        /// map with no two equal nodes, the same bytes: the ending hash of
        /// a node, computed before the nodes below it are compiled, is the
        /// same for equal nodes.
        #[test]
        fn ending_hashes_find_every_equal_node(keys in some_keys()) {
            let mut keys = keys;
            keys.sort();
            keys.dedup_by(|a, b| a.0 == b.0);
            prop_assert_eq!(
                with_hashing(&keys, 1 << 22, Hashing::Endings),
                with_hashing(&keys, 1 << 22, Hashing::Fst)
            );
        }
    }
}
