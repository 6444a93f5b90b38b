//! The key automaton's bytes: an `fst` map (the `fst` crate's format
//! version 3), with its node encoder ([`write_node`], used by the builder in
//! `compile/fst_builder.rs`) beside its decoder ([`Keys`], used by every
//! lookup).
//!
//! # The node format
//!
//! A map is a header (version `u64`, map type `u64`), the nodes, and a
//! footer (key count `u64`, root address `u64`, a masked CRC-32C `u32`).
//! Nodes are written children first; an address is the index of a node's
//! last byte, its state byte, and the node's other bytes precede it.
//! Address 0 is the final node without transitions, never written. The top
//! two bits of the state byte give the kind:
//!
//! | bits | kind | layout, from low to high addresses |
//! |---|---|---|
//! | `11` | one transition to the node just below, output 0 | `[input]` state |
//! | `10` | one transition | `[output]` `delta` sizes `[input]` state |
//! | `0f` | any number (`f`: final) | `[final output]` outputs deltas `[index]` inputs sizes `[ntrans]` state |
//!
//! The low six bits of a one-transition state are the index (from 1) of a
//! common input byte, or 0 when the input byte follows. The table of common
//! inputs ([`COMMON_INPUT_BYTES`]) is stored in the file
//! ([`COMMON_INPUTS`](crate::format::COMMON_INPUTS)), so the reader never
//! depends on a copy of the `fst` crate's internals. `sizes` holds the byte
//! width of a delta (high nibble) and of an output (low nibble); a
//! transition goes to `end - delta`, where `end` is the lowest address of
//! the node (delta 0: address 0). The low six bits of an any-transition
//! state are the number of transitions (0: a byte follows, where 1 means
//! 256). Inputs, deltas and outputs are stored last transition first; more
//! than 32 transitions add a 256-byte index from input byte to transition.
//! These are the `fst` crate's encodings (`fst::raw::node`), so the `fst`
//! crate reads our maps back (the builder's tests check it byte for byte).
//!
//! # Why our own reader, not `fst::raw::Fst`
//!
//! The `fst` crate trusts its bytes: a file whose checksum is valid but
//! whose automaton was crafted can make it index out of bounds. It also
//! decodes every field of a node at each step. This reader decodes only
//! what a step needs, reads every byte with `get`, and cannot loop: each
//! step either consumes a query byte or moves to a strictly smaller
//! address.

/// The footer: key count (`u64`), root address (`u64`), checksum (`u32`).
const FOOTER_LEN: usize = 20;
/// Where a map's nodes start: after the version and type words.
pub(crate) const HEADER_LEN: usize = 16;
/// The `fst` format version.
pub(crate) const VERSION: u64 = 3;
/// More transitions than this carry a 256-byte index.
const INDEX_THRESHOLD: usize = 32;
/// The address of the final state with no transition and no output: never
/// written.
#[cfg(feature = "compile")]
pub(crate) const EMPTY_ADDRESS: usize = 0;

/// Why the key automaton was refused when the set was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeysError {
    /// Too short, an unknown version, or a root outside the bytes.
    Footer,
    /// The common-inputs table is not 63 bytes.
    Common,
}

/// A view of the key automaton: the bytes, the root and the common inputs.
#[derive(Clone, Copy)]
pub(crate) struct Keys<'a> {
    data: &'a [u8],
    root: usize,
    common: &'a [u8; 63],
}

/// Stands in for a common-inputs table of the wrong length, which
/// [`Keys::new`] refuses, so a view never needs to check it again.
static NO_COMMON: [u8; 63] = [0; 63];

/// A decoded state: what a step needs and no more.
#[derive(Clone, Copy)]
enum State {
    /// Address 0: final, no transitions.
    Empty,
    /// One transition, output 0, to `addr - 1 - input_len`.
    Next { input: u8, to: usize },
    /// One transition with a delta and an output.
    One { input: u8 },
    /// Any number of transitions.
    Any {
        at: usize,
        final_: bool,
        ntrans: usize,
    },
}

/// The position of `b` in `hay` (at most [`INDEX_THRESHOLD`] bytes),
/// eight bytes at a time: a byte of `word ^ pattern` is zero where `b` is,
/// and the lowest flagged byte of the zero-byte test is the first match
/// (a false flag can only sit above a true one).
#[inline(always)]
fn find_byte(hay: &[u8], b: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO.wrapping_mul(u64::from(b));
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ pattern;
        let zero = x.wrapping_sub(LO) & !x & HI;
        if zero != 0 {
            return Some(base + (zero.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    let rest = chunks.remainder();
    rest.iter().position(|&x| x == b).map(|p| base + p)
}

#[inline(always)]
fn uint(b: &[u8], at: usize, n: usize) -> Option<u64> {
    if n == 0 {
        return Some(0);
    }
    if n > 8 {
        return None;
    }
    // One unaligned 8-byte load, masked, when 8 bytes are there.
    if let Some(word) = b.get(at..at.wrapping_add(8)) {
        let v = u64::from_le_bytes(word.try_into().ok()?);
        return Some(if n == 8 {
            v
        } else {
            v & ((1u64 << (8 * n)) - 1)
        });
    }
    let bytes = b.get(at..at.checked_add(n)?)?;
    let mut v = 0u64;
    for (i, &x) in bytes.iter().enumerate() {
        v |= u64::from(x) << (8 * i);
    }
    Some(v)
}

impl<'a> Keys<'a> {
    /// Reads the footer of `data`, an `fst` map, and checks that `len`
    /// keys are promised. O(1).
    pub(crate) fn new(data: &'a [u8], common: &'a [u8], len: usize) -> Result<Self, KeysError> {
        let common: &[u8; 63] = common.try_into().map_err(|_| KeysError::Common)?;
        if data.len() < HEADER_LEN + FOOTER_LEN {
            return Err(KeysError::Footer);
        }
        let end = data.len() - 4;
        let version = uint(data, 0, 8).ok_or(KeysError::Footer)?;
        let root = uint(data, end - 8, 8).ok_or(KeysError::Footer)?;
        let count = uint(data, end - 16, 8).ok_or(KeysError::Footer)?;
        let root = usize::try_from(root).map_err(|_| KeysError::Footer)?;
        let root_ok = if root == 0 {
            data.len() == HEADER_LEN + FOOTER_LEN
        } else {
            root.checked_add(FOOTER_LEN + 1) == Some(data.len())
        };
        if version != VERSION || !root_ok || count != len as u64 {
            return Err(KeysError::Footer);
        }
        Ok(Keys { data, root, common })
    }

    /// A view of keys already checked by [`Keys::new`].
    #[inline]
    pub(crate) fn at(data: &'a [u8], common: &'a [u8], root: usize) -> Self {
        let common = common.try_into().unwrap_or(&NO_COMMON);
        Keys { data, root, common }
    }

    /// The root address.
    #[inline]
    pub(crate) fn root(&self) -> usize {
        self.root
    }

    #[inline(always)]
    fn byte(&self, at: usize) -> Option<u8> {
        self.data.get(at).copied()
    }

    /// The input of a one-transition state `v` at `addr`, and its length
    /// in bytes (0 when common).
    #[inline(always)]
    fn one_input(&self, v: u8, addr: usize) -> Option<(u8, usize)> {
        match (v & 0x3F) as usize {
            0 => Some((self.byte(addr.checked_sub(1)?)?, 1)),
            i => Some((*self.common.get(i - 1)?, 0)),
        }
    }

    #[inline(always)]
    fn state(&self, addr: usize) -> Option<State> {
        if addr == 0 {
            return Some(State::Empty);
        }
        let v = self.byte(addr)?;
        Some(match v >> 6 {
            0b11 => {
                let (input, len) = self.one_input(v, addr)?;
                State::Next {
                    input,
                    to: addr.checked_sub(1 + len)?,
                }
            }
            0b10 => {
                let (input, _) = self.one_input(v, addr)?;
                State::One { input }
            }
            _ => {
                let (ntrans, at) = match v & 0x3F {
                    0 => match self.byte(addr.checked_sub(1)?)? {
                        1 => (256, addr - 1),
                        n => (usize::from(n), addr - 1),
                    },
                    n => (usize::from(n), addr),
                };
                State::Any {
                    at,
                    final_: v & 0x40 != 0,
                    ntrans,
                }
            }
        })
    }

    /// The target of a delta read at `at` (`n` bytes) from a node whose
    /// lowest address is `end`; always below the node.
    #[inline(always)]
    fn target(&self, at: usize, n: usize, end: usize) -> Option<usize> {
        let delta = usize::try_from(uint(self.data, at, n)?).ok()?;
        if delta == 0 {
            Some(0)
        } else {
            end.checked_sub(delta)
        }
    }

    /// For a state whose `sizes` byte is just below `at`: the sizes and
    /// the address of that byte.
    #[inline(always)]
    fn sizes(&self, at: usize) -> Option<(usize, usize, usize)> {
        let s_at = at.checked_sub(1)?;
        let s = self.byte(s_at)?;
        Some((usize::from(s >> 4), usize::from(s & 15), s_at))
    }

    /// Follows the transition for `b` from the node at `addr`: the target
    /// address (strictly below `addr`) and the transition's output.
    ///
    /// The hot path of every lookup, so it decodes the state byte in place
    /// rather than through [`State`] (which `transitions` and
    /// `final_output` use), and finds an input among at most 32 with a
    /// word-at-a-time scan.
    #[inline]
    pub(crate) fn step(&self, addr: usize, b: u8) -> Option<(usize, u64)> {
        if addr == 0 {
            return None;
        }
        let d = self.data;
        let v = *d.get(addr)?;
        if v >= 0xC0 {
            // The commonest node by far (a key's characters that no other
            // key shares): one transition to the node just below, output 0.
            let to = match usize::from(v & 0x3F) {
                0 => {
                    let at = addr.checked_sub(1)?;
                    if *d.get(at)? != b {
                        return None;
                    }
                    at.checked_sub(1)?
                }
                i => {
                    if *self.common.get(i - 1)? != b {
                        return None;
                    }
                    addr - 1
                }
            };
            return Some((to, 0));
        }
        let (to, out) = if v & 0x80 != 0 {
            // One transition with a delta and an output (the state just
            // below with output 0 was answered above); its input is common
            // (no byte) or follows.
            let (input, at) = match usize::from(v & 0x3F) {
                0 => {
                    let at = addr.checked_sub(1)?;
                    (*d.get(at)?, at)
                }
                i => (*self.common.get(i - 1)?, addr),
            };
            if input != b {
                return None;
            }
            let below = at.checked_sub(1)?;
            let s = *d.get(below)?;
            let (tsize, osize) = (usize::from(s >> 4), usize::from(s & 15));
            let d_at = below.checked_sub(tsize)?;
            let end = d_at.checked_sub(osize)?;
            (self.target(d_at, tsize, end)?, uint(d, end, osize)?)
        } else {
            let (ntrans, at) = match v & 0x3F {
                0 => {
                    let at = addr.checked_sub(1)?;
                    match *d.get(at)? {
                        1 => (256, at),
                        n => (usize::from(n), at),
                    }
                }
                n => (usize::from(n), addr),
            };
            let s_at = at.checked_sub(1)?;
            let s = *d.get(s_at)?;
            let (tsize, osize) = (usize::from(s >> 4), usize::from(s & 15));
            // `p`: the position of the transition, last transition first.
            let (p, inputs_at) = if ntrans > INDEX_THRESHOLD {
                let index_at = s_at.checked_sub(256)?;
                let i = usize::from(*d.get(index_at + usize::from(b))?);
                if i >= ntrans {
                    return None;
                }
                (ntrans - 1 - i, index_at.checked_sub(ntrans)?)
            } else {
                let inputs_at = s_at.checked_sub(ntrans)?;
                (find_byte(d.get(inputs_at..s_at)?, b)?, inputs_at)
            };
            let deltas_at = inputs_at.checked_sub(ntrans.checked_mul(tsize)?)?;
            let outs_at = deltas_at.checked_sub(ntrans.checked_mul(osize)?)?;
            let end = if v & 0x40 != 0 {
                outs_at.checked_sub(osize)?
            } else {
                outs_at
            };
            (
                self.target(deltas_at + p * tsize, tsize, end)?,
                uint(d, outs_at + p * osize, osize)?,
            )
        };
        (to < addr).then_some((to, out))
    }

    /// The final output of the node at `addr`, or `None` when it is not
    /// final.
    #[inline]
    pub(crate) fn final_output(&self, addr: usize) -> Option<u64> {
        // Only an any-transition state (top bit clear) with the final bit
        // set has a final output; address 0 is final with output 0.
        if addr != 0 && self.byte(addr)? & 0xC0 != 0x40 {
            return None;
        }
        match self.state(addr)? {
            State::Empty => Some(0),
            State::Next { .. } | State::One { .. } => None,
            State::Any {
                at,
                final_: true,
                ntrans,
            } => {
                let (tsize, osize, s_at) = self.sizes(at)?;
                let index = if ntrans > INDEX_THRESHOLD { 256 } else { 0 };
                let per = 1 + tsize + osize;
                let below = index + ntrans.checked_mul(per)? + osize;
                uint(self.data, s_at.checked_sub(below)?, osize)
            }
            State::Any { .. } => None,
        }
    }

    /// The transitions of the node at `addr` in input order, as
    /// `(input, output, target)`, written to `out`; returns how many.
    pub(crate) fn transitions(
        &self,
        addr: usize,
        out: &mut [(u8, u64, usize); 256],
    ) -> Option<usize> {
        match self.state(addr)? {
            State::Empty => Some(0),
            State::Next { input, to } => {
                out[0] = (input, 0, to);
                Some(1)
            }
            State::One { input, .. } => {
                let (to, o) = self.step(addr, input)?;
                out[0] = (input, o, to);
                Some(1)
            }
            State::Any { at, ntrans, .. } => {
                let (_, _, s_at) = self.sizes(at)?;
                let index = if ntrans > INDEX_THRESHOLD { 256 } else { 0 };
                let inputs_at = s_at.checked_sub(index)?.checked_sub(ntrans)?;
                for (i, slot) in out.iter_mut().enumerate().take(ntrans) {
                    let input = self.byte(inputs_at + ntrans - 1 - i)?;
                    let (to, o) = self.step(addr, input)?;
                    *slot = (input, o, to);
                }
                Some(ntrans)
            }
        }
    }

    /// The rank of `key`, when it is a key.
    pub(crate) fn get(&self, key: &[u8]) -> Option<u64> {
        let mut addr = self.root;
        let mut out = 0u64;
        for &b in key {
            let (to, o) = self.step(addr, b)?;
            addr = to;
            out = out.wrapping_add(o);
        }
        Some(out.wrapping_add(self.final_output(addr)?))
    }

    /// The key of rank `rank`, when there is one. Allocates; at most one
    /// step per byte of the longest possible key, each to a lower address.
    pub(crate) fn get_key(&self, rank: u64) -> Option<Vec<u8>> {
        let mut key = Vec::new();
        let mut addr = self.root;
        let mut left = rank;
        let mut trans = [(0u8, 0u64, 0usize); 256];
        loop {
            if self.final_output(addr) == Some(left) {
                return Some(key);
            }
            let n = self.transitions(addr, &mut trans)?;
            let &(input, o, to) = trans[..n].iter().rev().find(|t| t.1 <= left)?;
            key.push(input);
            left -= o;
            addr = to;
        }
    }
}

// The encoder: what `compile/fst_builder.rs` writes, in the layout the
// reader above decodes.

/// A transition of a node being written: its input byte, its output and
/// the address of its target.
#[cfg(feature = "compile")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Transition {
    pub(crate) inp: u8,
    pub(crate) out: u64,
    pub(crate) addr: usize,
}

/// A node to write: whether it is final, its final output and its
/// transitions in input order.
#[cfg(feature = "compile")]
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) is_final: bool,
    pub(crate) final_output: u64,
    pub(crate) trans: Vec<Transition>,
}

#[cfg(feature = "compile")]
impl Clone for Node {
    fn clone(&self) -> Node {
        Node {
            is_final: self.is_final,
            final_output: self.final_output,
            trans: self.trans.clone(),
        }
    }

    /// Field by field, so that the registry's copy of a node reuses its
    /// transitions' storage (a derived `Clone` would allocate a new vector
    /// and free the old one every time).
    fn clone_from(&mut self, source: &Node) {
        self.is_final = source.is_final;
        self.final_output = source.final_output;
        self.trans.clone_from(&source.trans);
    }
}

/// The table the `fst` crate uses to store frequent input bytes in a
/// node's state byte: index `i` from 1 stands for `COMMON_INPUT_BYTES[i -
/// 1]`. It is the `fst` crate's own table (a test measures it from the
/// crate). The writer stores it in the file
/// ([`COMMON_INPUTS`](crate::format::COMMON_INPUTS)) and the reader takes
/// it from there.
#[cfg(feature = "compile")]
pub(crate) const COMMON_INPUT_BYTES: [u8; 63] =
    *b"te/oasripcnw.hlm-du012g=:bf3y5&_4v9678k%?xCDASFIBEjPTzRNM+LOqHG";

/// The smallest number of bytes that holds `n` (at least 1).
#[cfg(feature = "compile")]
fn pack_size(n: u64) -> u8 {
    let bytes = (64 - n.leading_zeros()).div_ceil(8);
    bytes.max(1) as u8
}

#[cfg(feature = "compile")]
fn pack_uint_in(out: &mut Vec<u8>, n: u64, nbytes: u8) {
    out.extend_from_slice(&n.to_le_bytes()[..usize::from(nbytes)]);
}

#[cfg(feature = "compile")]
fn delta(node_addr: usize, trans_addr: usize) -> u64 {
    if trans_addr == EMPTY_ADDRESS {
        EMPTY_ADDRESS as u64
    } else {
        (node_addr - trans_addr) as u64
    }
}

/// The index of a common input byte in a state byte (1-based), 0 when it
/// is not common; see [`COMMON_INPUT_BYTES`].
#[cfg(feature = "compile")]
fn common_idx(input: u8) -> u8 {
    const INDEX: [u8; 256] = {
        let mut index = [0u8; 256];
        let mut i = 0;
        while i < COMMON_INPUT_BYTES.len() {
            index[COMMON_INPUT_BYTES[i] as usize] = i as u8 + 1;
            i += 1;
        }
        index
    };
    INDEX[usize::from(input)]
}

/// Appends `node`, whose first byte will be at `addr`, to `out`;
/// `last_addr` is the address of the node written last (a transition to
/// it with output 0 takes no delta).
#[cfg(feature = "compile")]
pub(crate) fn write_node(out: &mut Vec<u8>, last_addr: usize, addr: usize, node: &Node) {
    assert!(node.trans.len() <= 256);
    if node.trans.len() != 1 || node.is_final {
        write_any_trans(out, addr, node);
        return;
    }
    let t = node.trans[0];
    let idx = common_idx(t.inp);
    if t.addr == last_addr && t.out == 0 {
        if idx == 0 {
            out.push(t.inp);
        }
        out.push(0b11_000000 | idx);
        return;
    }
    let osize = if t.out == 0 {
        0
    } else {
        let n = pack_size(t.out);
        pack_uint_in(out, t.out, n);
        n
    };
    let d = delta(addr, t.addr);
    let tsize = pack_size(d);
    pack_uint_in(out, d, tsize);
    out.push(tsize << 4 | osize);
    if idx == 0 {
        out.push(t.inp);
    }
    out.push(0b10_000000 | idx);
}

#[cfg(feature = "compile")]
fn write_any_trans(out: &mut Vec<u8>, addr: usize, node: &Node) {
    let mut tsize = 0;
    let mut osize = pack_size(node.final_output);
    let mut any_outs = node.final_output != 0;
    for t in &node.trans {
        tsize = tsize.max(pack_size(delta(addr, t.addr)));
        osize = osize.max(pack_size(t.out));
        any_outs |= t.out != 0;
    }
    let osize = if any_outs { osize } else { 0 };
    let n = node.trans.len();
    let mut state = if node.is_final { 0b01_000000 } else { 0 };
    if n <= 0b00_111111 {
        state |= n as u8;
    }
    if any_outs {
        if node.is_final {
            pack_uint_in(out, node.final_output, osize);
        }
        for t in node.trans.iter().rev() {
            pack_uint_in(out, t.out, osize);
        }
    }
    for t in node.trans.iter().rev() {
        pack_uint_in(out, delta(addr, t.addr), tsize);
    }
    out.extend(node.trans.iter().rev().map(|t| t.inp));
    if n > INDEX_THRESHOLD {
        let mut index = [255u8; 256];
        for (i, t) in node.trans.iter().enumerate() {
            index[usize::from(t.inp)] = i as u8;
        }
        out.extend_from_slice(&index);
    }
    out.push(tsize << 4 | osize);
    if state & 0b00_111111 == 0 {
        // 256 transitions do not fit a byte; 1 is never written here, so
        // it stands for 256.
        out.push(if n == 256 { 1 } else { n as u8 });
    }
    out.push(state);
}

/// Appends the footer of a map of `len` keys whose root is at `root`:
/// the key count, the root address and the masked CRC-32C of everything
/// before the checksum.
#[cfg(feature = "compile")]
pub(crate) fn write_footer(out: &mut Vec<u8>, len: u64, root: usize) {
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(root as u64).to_le_bytes());
    let sum = crc32c(out);
    let masked = (sum.rotate_right(15)).wrapping_add(0xA282_EAD8);
    out.extend_from_slice(&masked.to_le_bytes());
}

/// CRC-32C (Castagnoli), the checksum at the end of an `fst`, slice by 8.
#[cfg(feature = "compile")]
fn crc32c(bytes: &[u8]) -> u32 {
    static TABLES: std::sync::OnceLock<[[u32; 256]; 8]> = std::sync::OnceLock::new();
    let t = TABLES.get_or_init(|| {
        let mut t = [[0u32; 256]; 8];
        for (i, slot) in t[0].iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    (c >> 1) ^ 0x82F6_3B78
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        for i in 0..256 {
            for k in 1..8 {
                let prev = t[k - 1][i];
                t[k][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            }
        }
        t
    });
    let mut crc = !0u32;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let lo = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) ^ crc;
        let hi = u32::from_le_bytes([c[4], c[5], c[6], c[7]]);
        crc = t[7][(lo & 0xFF) as usize]
            ^ t[6][((lo >> 8) & 0xFF) as usize]
            ^ t[5][((lo >> 16) & 0xFF) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][(hi & 0xFF) as usize]
            ^ t[2][((hi >> 8) & 0xFF) as usize]
            ^ t[1][((hi >> 16) & 0xFF) as usize]
            ^ t[0][(hi >> 24) as usize];
    }
    for &b in chunks.remainder() {
        crc = t[0][((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table is the `fst` crate's: the root of a one-key map `[b]` is a
    /// one-transition state whose low six bits are `b`'s index, or 0 when
    /// `b` is not common.
    #[test]
    fn common_input_bytes_are_the_fst_crates() {
        let mut measured = [0u8; 63];
        for b in 0..=u8::MAX {
            let mut m = ::fst::MapBuilder::memory();
            m.insert([b], 0).unwrap();
            let bytes = m.into_inner().unwrap();
            let end = bytes.len() - 4;
            let root = u64::from_le_bytes(bytes[end - 8..end].try_into().unwrap()) as usize;
            let index = usize::from(bytes[root] & 0x3F);
            if index != 0 {
                measured[index - 1] = b;
            }
        }
        assert_eq!(measured, COMMON_INPUT_BYTES);
    }

    #[test]
    fn checksum_is_crc32c() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn pack_size_is_the_byte_count() {
        for (n, want) in [
            (0, 1),
            (255, 1),
            (256, 2),
            (u64::from(u32::MAX), 4),
            (u64::MAX, 8),
        ] {
            assert_eq!(pack_size(n), want, "{n}");
        }
    }
}
