//! What storing the host index's host bytes at six bits a character would
//! save, and what it would cost a lookup that verifies a candidate: the
//! query's host packed once, then each candidate compared as packed bits
//! (a suffix of the host starts at a multiple of six bits), against
//! today's byte compare.
//!
//! ```text
//! cargo run --release --example host_packing -- target/profile-1m.indset
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.pack \
//!     target/release/examples/host_packing target/profile-1m.indset
//! callgrind_annotate --inclusive=yes /tmp/cg.pack | grep host_packing::
//! ```
//!
//! (`examples/profile_lookups` writes `target/profile-1m.indset`.) The
//! program prints the stored bytes both ways and how many times each of
//! the three measured functions (`pack_query`, `verify_packed`,
//! `verify_bytes`, none inlined) was called; callgrind's inclusive counts
//! divided by those are the instructions per call. Every compare is made
//! both ways and the answers must agree: the program exits with 1 if they
//! do not. `BENCHMARKS.md` reads the figures.
//!
//! The code: `a`-`z` to 1-26, `_` to 31, `-` to 45, `.` to 46, `0`-`9` to
//! 48-57, computed for eight bytes at a time (a byte's bit 6 clears its
//! bit 5); 0 is never a character, so a zero-padded tail packs to zeros.

use std::collections::{HashMap, HashSet};
use std::hint::black_box;

use indset::Kind;
use indset_test_support::data;

/// Bytes of a host buffer: a canonical host the word scan takes.
const BUF: usize = 64;
/// Last labels left out of the entries, as the index's table holds them.
const LAST_LABELS: usize = 15;

fn main() {
    let set = data::open_profile_set(std::env::args().nth(1).map(Into::into));
    let mut hosts: HashSet<String> = HashSet::new();
    let mut indicators = 0usize;
    for info in set.iter() {
        indicators += 1;
        // The hosts with an entry: those of `DomainName` keys and of root
        // `Url` keys (a host whose only keys have a path has none).
        let host = match info.kind {
            Kind::DomainName => info.value.as_str(),
            Kind::Url => match info.value.split_once('/') {
                Some((host, "")) => host,
                _ => continue,
            },
        };
        hosts.insert(host.to_string());
    }
    let table = last_labels(&hosts);
    // Each key host's stored part (without a dot and a last label of the
    // table) as bytes and packed.
    let mut entries: HashMap<&str, Entry> = HashMap::new();
    let (mut bytes8, mut bytes6) = (0usize, 0usize);
    for h in &hosts {
        let tail = h
            .rsplit_once('.')
            .map(|(_, l)| l)
            .filter(|l| table.iter().any(|t| t == l))
            .map_or(0, |l| l.len() + 1);
        let (stored, tail) = h.as_bytes().split_at(h.len() - tail);
        let mut packed = pack_stored(stored);
        bytes8 += stored.len();
        bytes6 += packed.len();
        packed.resize(packed.len() + 8, 0);
        entries.insert(
            h.as_str(),
            Entry {
                stored: stored.to_vec(),
                packed,
                chars: stored.len(),
                tail: tail.to_vec(),
            },
        );
    }
    let per = |b: usize| b as f64 / indicators as f64;
    println!(
        "{} key hosts of {indicators} indicators: stored parts {bytes8} bytes ({:.2} per indicator), packed {bytes6} ({:.2}): {:.2} bytes per indicator fewer",
        hosts.len(),
        per(bytes8),
        per(bytes6),
        per(bytes8 - bytes6)
    );

    // The real requests' hosts: each suffix of a query that is a key host
    // is a candidate the index verifies; so is another key host of the
    // same length, as a tag collision would be (a compare that fails).
    let urls = data::request_urls();
    let queries = data::request_hosts(&urls);
    let by_len: HashMap<usize, &str> = hosts.iter().map(|h| (h.len(), h.as_str())).collect();
    let (mut packs, mut compares, mut decoys) = (0usize, 0usize, 0usize);
    for q in &queries {
        let q = q.to_ascii_lowercase();
        if q.len() > BUF || !q.bytes().all(is_host_byte) {
            continue;
        }
        let mut buf = [0u8; BUF];
        buf[..q.len()].copy_from_slice(q.as_bytes());
        let mut candidates = Vec::new();
        let mut others = Vec::new();
        let starts = std::iter::once(0).chain(
            q.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'.')
                .map(|(i, _)| i + 1),
        );
        for start in starts {
            let suffix = &q[start..];
            if let Some(e) = entries.get(suffix) {
                candidates.push((start, e));
            }
            if let Some(other) = by_len.get(&suffix.len()).filter(|o| **o != suffix) {
                others.push((start, &entries[other]));
            }
        }
        // Both ways must agree, on the key hosts and on the others (not
        // counted: the compares below are the measured ones).
        let packed = pack_query_in(&buf);
        for &(start, e) in candidates.iter().chain(&others) {
            let suffix = &buf[start..q.len()];
            let (a, b) = (
                verify_packed_in(&packed, start, suffix, e),
                verify_bytes_in(suffix, e),
            );
            if a != b
                || b != candidates
                    .iter()
                    .any(|c| std::ptr::eq(c.1, e) && c.0 == start)
            {
                eprintln!("disagree: {q} at {start}: packed {a}, bytes {b}");
                std::process::exit(1);
            }
        }
        decoys += others.len();
        if candidates.is_empty() {
            continue;
        }
        // What a match pays: the host packed once, and each key host
        // among its suffixes compared.
        let packed = pack_query(black_box(&buf));
        packs += 1;
        for (start, e) in candidates {
            let suffix = &buf[start..q.len()];
            black_box(verify_packed(black_box(&packed), start, suffix, e));
            black_box(verify_bytes(black_box(suffix), e));
            compares += 1;
        }
    }
    println!(
        "{} query hosts: {packs} with a key host among their suffixes, packed once each (pack_query); {compares} key hosts compared both ways (verify_packed, verify_bytes); {decoys} other key hosts of a suffix's length, compared both ways: the same answers",
        queries.len()
    );
}

/// A key host's entry, both ways.
struct Entry {
    /// The stored part's bytes.
    stored: Vec<u8>,
    /// The stored part, six bits a character, least significant first,
    /// then eight zero bytes (not counted: in a file, the next entry's).
    packed: Vec<u8>,
    /// Its length in characters.
    chars: usize,
    /// The dot and last label left out, or nothing.
    tail: Vec<u8>,
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_')
}

/// The last labels that save most, as the index's writer picks them (a
/// dot and the label for each host that ends with it; while they fit 64
/// bytes of table).
fn last_labels(hosts: &HashSet<String>) -> Vec<String> {
    let mut saved: HashMap<&str, usize> = HashMap::new();
    for h in hosts {
        if let Some((_, l)) = h.rsplit_once('.') {
            *saved.entry(l).or_default() += 1 + l.len();
        }
    }
    let mut ranked: Vec<(usize, &str)> = saved.into_iter().map(|(l, n)| (n, l)).collect();
    ranked.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let (mut table, mut bytes) = (Vec::new(), 0);
    for (_, l) in ranked {
        if table.len() == LAST_LABELS {
            break;
        }
        if (1..=63).contains(&l.len()) && bytes + 1 + l.len() <= 64 {
            bytes += 1 + l.len();
            table.push(l.to_string());
        }
    }
    table
}

/// Eight host bytes (little-endian) to their six-bit codes, one a byte.
#[inline(always)]
fn codes(w: u64) -> u64 {
    const LOW6: u64 = 0x3f3f_3f3f_3f3f_3f3f;
    const BIT6: u64 = 0x4040_4040_4040_4040;
    w & LOW6 & !((w & BIT6) >> 1)
}

/// Eight six-bit codes, one a byte, to 48 bits.
#[inline(always)]
fn squeeze(c: u64) -> u64 {
    let x = (c & 0x003f_003f_003f_003f) | ((c >> 8) & 0x003f_003f_003f_003f) << 6;
    let x = (x & 0x0000_0fff_0000_0fff) | ((x >> 16) & 0x0000_0fff_0000_0fff) << 12;
    (x & 0x00ff_ffff) | ((x >> 32) & 0x00ff_ffff) << 24
}

/// The query's host (zero-padded to [`BUF`] bytes) packed: character `i`
/// at bits `6 i` to `6 i + 5` of the words, least significant first.
#[inline(never)]
fn pack_query(buf: &[u8; BUF]) -> [u64; BUF * 6 / 64 + 1] {
    pack_query_in(buf)
}

#[inline(always)]
fn pack_query_in(buf: &[u8; BUF]) -> [u64; BUF * 6 / 64 + 1] {
    let mut out = [0u64; BUF * 6 / 64 + 1];
    let mut bit = 0;
    for chunk in buf.chunks_exact(8) {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        if w == 0 {
            break;
        }
        let x = squeeze(codes(w));
        let (i, sh) = (bit / 64, bit % 64);
        out[i] |= x << sh;
        if sh > 16 {
            out[i + 1] |= x >> (64 - sh);
        }
        bit += 48;
    }
    out
}

/// A stored part packed as a key host's entry would hold it.
fn pack_stored(stored: &[u8]) -> Vec<u8> {
    let mut padded = stored.to_vec();
    padded.resize(stored.len().div_ceil(8) * 8, 0);
    let mut bits: Vec<u8> = Vec::new();
    for chunk in padded.chunks_exact(8) {
        let x = squeeze(codes(u64::from_le_bytes(
            chunk.try_into().unwrap_or_default(),
        )));
        bits.extend_from_slice(&x.to_le_bytes()[..6]);
    }
    bits.truncate((6 * stored.len()).div_ceil(8));
    bits
}

/// Whether the entry is the query's suffix that starts at byte `start`
/// (`suffix` its bytes), comparing the stored part as packed bits, eight
/// characters at a time (the left-out dot and label as bytes, as
/// [`verify_bytes`] does).
#[inline(never)]
fn verify_packed(q: &[u64; BUF * 6 / 64 + 1], start: usize, suffix: &[u8], e: &Entry) -> bool {
    verify_packed_in(q, start, suffix, e)
}

#[inline(always)]
fn verify_packed_in(q: &[u64; BUF * 6 / 64 + 1], start: usize, suffix: &[u8], e: &Entry) -> bool {
    let n = e.chars;
    if suffix.len() != n + e.tail.len() || suffix.get(n..) != Some(&e.tail[..]) {
        return false;
    }
    let mut done = 0;
    while done < n {
        let chars = (n - done).min(8);
        let bit = 6 * (start + done);
        let (i, sh) = (bit / 64, (bit % 64) as u32);
        let lo = q.get(i).copied().unwrap_or(0);
        let hi = q.get(i + 1).copied().unwrap_or(0);
        let mut x = lo >> sh;
        if sh != 0 {
            x |= hi << (64 - sh);
        }
        let mask = u64::MAX >> (64 - 6 * chars);
        // The entry's eight characters from one load: its bytes are
        // followed by at least eight more (the next entry's, or padding).
        let at = 6 * done / 8;
        let w = e
            .packed
            .get(at..at + 8)
            .and_then(|w| w.first_chunk::<8>())
            .map_or(0, |w| u64::from_le_bytes(*w));
        if (x ^ w) & mask != 0 {
            return false;
        }
        done += chars;
    }
    true
}

/// Today's compare: the dot and the label, then the stored bytes.
#[inline(never)]
fn verify_bytes(suffix: &[u8], e: &Entry) -> bool {
    verify_bytes_in(suffix, e)
}

#[inline(always)]
fn verify_bytes_in(suffix: &[u8], e: &Entry) -> bool {
    let n = e.stored.len();
    suffix.len() == n + e.tail.len()
        && suffix.get(n..) == Some(&e.tail[..])
        && suffix.get(..n) == Some(&e.stored[..])
}
