//! The suffix filter: a blocked Bloom filter of the hosts the keys can
//! match, so that most lookups that match nothing never walk the keys.
//!
//! # What it holds
//!
//! For every key, one host: the domain of a `DomainName` key, the exact host
//! of a `Url` key. A query host can only match a key when one of its label
//! suffixes (`a.b.example.com`, `b.example.com`, `example.com`, `com`) is
//! such a host, so a lookup hashes its suffixes from the right, one label at
//! a time, and walks the keys only when the filter may hold one of them.
//! The filter never says "no" for a suffix that is there; it says "maybe"
//! for one that is not with a probability of about 1.5% per suffix. It
//! also holds the host index's redirects (`format/hosts.rs`): the suffixes
//! whose hosts are filed a level deeper, each as its state salted, in its
//! base's block.
//!
//! # Layout
//!
//! The [`FILTER`](crate::format::FILTER) section is a whole number of 32-byte
//! blocks, each four little-endian `u64` words. A host's block is chosen by
//! the hash of its *base* (its last two labels, or the host itself when it
//! has one), and the hash of the whole host picks one bit in each of the
//! block's four words; the host may be present when all four bits are set.
//! So every suffix of two labels or more of a query is probed in one
//! block (half a cache line): most queries that match nothing read one
//! block and nothing else. A base with very many key hosts under it fills
//! its block, which then says "maybe" for its queries (they read the
//! host index's line, and are answered as exactly). Any bytes
//! are a well-formed filter: a wrong one can lose the matches of
//! the file that carries it, as wrong keys could, but cannot make a lookup
//! panic or read out of bounds.
//!
//! # The hash
//!
//! Each label is folded right to left into a 64-bit state, eight bytes per
//! step (`h = (rotl(h, 23) ^ word) * K`, the last word of a label padded
//! with zeros), so the hash of every longer suffix costs the new label
//! only. Build and lookup run the same code on the same bytes; a collision
//! only makes a false "maybe".

/// Bytes per block.
pub(crate) const BLOCK: usize = 32;
/// 64-bit words per block.
#[cfg(feature = "compile")]
const WORDS: usize = BLOCK / 8;

/// Filter bits per host: about 1.5% false "maybe" per probed suffix.
#[cfg(feature = "compile")]
const BITS_PER_HOST: usize = 10;

const K: u64 = 0x9e37_79b9_7f4a_7c15;
const FINISH: u64 = 0xd6e8_feb8_6659_fd93;
const SEED: u64 = 0x243f_6a88_85a3_08d3;

#[inline(always)]
fn mix(h: u64, word: u64) -> u64 {
    (h.rotate_left(23) ^ word).wrapping_mul(K)
}

/// Folds one label, `host[start..end]`, into the suffix state: its
/// eight-byte words from the left, then the last `r < 8` bytes padded with
/// zeros (a word of zeros when there are none).
#[inline(always)]
fn fold_label(mut h: u64, host: &[u8], start: usize, end: usize) -> u64 {
    let mut i = start;
    while i + 8 <= end {
        h = mix(h, word(host, i));
        i += 8;
    }
    let r = end.saturating_sub(i);
    let last = if r == 0 {
        0
    } else if end >= 8 {
        // The eight bytes that end the label, shifted down to its last
        // `r`: one load instead of a loop over the bytes.
        word(host, end - 8) >> (8 * (8 - r))
    } else if i + 8 <= host.len() {
        // A label within the first eight bytes of a longer host (the
        // first label of most hosts): the eight bytes from its start, cut
        // to its `r`; about 40 instructions a lookup fewer than the bytes
        // one at a time (`BENCHMARKS.md`, Measurements).
        word(host, i) & u64::MAX >> (8 * (8 - r))
    } else {
        let mut last = 0u64;
        for (k, &b) in host.get(i..end).unwrap_or_default().iter().enumerate() {
            last |= u64::from(b) << (8 * k);
        }
        last
    };
    mix(h, last)
}

/// The eight bytes of `host` from `at`, little-endian (0 past the end,
/// which the callers never ask for).
#[inline(always)]
fn word(host: &[u8], at: usize) -> u64 {
    host.get(at..at + 8).map_or(0, load)
}

#[inline(always)]
fn load(w: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(w);
    u64::from_le_bytes(b)
}

/// The block of a host whose base (its suffix of two labels, or the host
/// itself when it has one label) has the state `base`.
#[inline(always)]
fn block_of(base: u64, blocks: usize) -> usize {
    let h = (base ^ (base >> 32)).wrapping_mul(FINISH);
    ((u128::from(h) * blocks as u128) >> 64) as usize
}

/// The four bits, one in each 64-bit word of its block, of a host whose
/// state is `h`.
#[inline(always)]
fn bits_of(h: u64) -> [u64; 4] {
    let h = (h ^ (h >> 29)).wrapping_mul(K);
    let h = h ^ (h >> 32);
    [0, 1, 2, 3].map(|i| 1u64 << ((h >> (6 * i)) & 63))
}

/// The last `.` in `host[..end]`, eight bytes at a time.
#[inline(always)]
fn last_dot(host: &[u8], mut end: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // High bit of each byte of `w` that is a `.` (exact: no borrow runs
    // from one byte into the next).
    let dots = |w: u64| {
        let x = w ^ (ONES * u64::from(b'.'));
        !(((x & (ONES * 0x7f)) + ONES * 0x7f) | x) & (ONES * 0x80)
    };
    while end >= 8 {
        let m = dots(word(host, end - 8));
        if m != 0 {
            return Some(end - 8 + (63 - m.leading_zeros() as usize) / 8);
        }
        end -= 8;
    }
    match host.get(..8) {
        // Fewer than eight bytes left: the first eight, masked to them.
        Some(w) => {
            let m = dots(load(w)) & ((1u64 << (8 * end)) - 1);
            (m != 0).then(|| (63 - m.leading_zeros() as usize) / 8)
        }
        None => host.get(..end)?.iter().rposition(|&b| b == b'.'),
    }
}

/// Calls `f` with the state of every label suffix of `host` and where
/// that suffix starts, shortest first, until it returns `true`; whether
/// one did. The host index (`format/hosts.rs`) hashes with the same
/// states.
#[inline(always)]
pub(crate) fn suffixes(host: &[u8], f: impl FnMut(u64, usize) -> bool) -> bool {
    suffixes_with(host, None, f)
}

/// The bitmap of the dots of a host of at most 64 bytes (bit `i` for
/// byte `i`), as the canonicaliser's word scan gives it: for tests.
#[cfg(test)]
pub(crate) fn dots_bitmap(host: &[u8]) -> u64 {
    assert!(host.len() <= 64, "a bitmap holds 64 bytes");
    host.iter()
        .enumerate()
        .filter(|&(_, &c)| c == b'.')
        .fold(0, |m, (i, _)| m | 1 << i)
}

/// [`suffixes`], given the bitmap of `host`'s dots (bit `i` for byte `i`)
/// when the caller has it: the label boundaries are then its set bits,
/// not searched for. The states are the same.
#[inline(always)]
pub(crate) fn suffixes_with(
    host: &[u8],
    dots: Option<u64>,
    mut f: impl FnMut(u64, usize) -> bool,
) -> bool {
    // A bitmap holds the dots of a host of at most 64 bytes.
    let dots = dots.filter(|_| host.len() <= 64);
    let mut h = SEED;
    let mut end = host.len();
    loop {
        let start = match dots {
            // The highest dot below `end` (at most 64: the bitmap's hosts
            // are that short).
            Some(d) => {
                let below = d & u64::MAX.checked_shr(64 - end as u32).unwrap_or(0);
                (64 - below.leading_zeros()) as usize
            }
            None => last_dot(host, end).map_or(0, |i| i + 1),
        };
        h = fold_label(h, host, start, end);
        if f(h, start) {
            return true;
        }
        if start == 0 {
            return false;
        }
        end = start - 1;
    }
}

/// Whether `filter` may hold a label suffix of `host` (always `true` for
/// an empty filter: a set without one walks every query).
#[inline]
pub(crate) fn may_match(filter: &[u8], host: &[u8]) -> bool {
    let mut states = [0u64; 2];
    let mut n = 0;
    suffixes(host, |h, _| {
        if let Some(s) = states.get_mut(n) {
            *s = h;
        }
        n += 1;
        let base = states[usize::from(n >= 2)];
        may_hold(filter, base, h)
    })
}

/// The block of `filter` for hosts whose base has the state `base`: its
/// four words, or `None` for an empty filter (which holds everything).
#[inline(always)]
pub(crate) fn block(filter: &[u8], base: u64) -> Option<[u64; 4]> {
    let blocks = filter.len() / BLOCK;
    if blocks == 0 {
        return None;
    }
    let at = block_of(base, blocks) * BLOCK;
    let words = filter.get(at..)?.first_chunk::<BLOCK>()?;
    Some(std::array::from_fn(|i| {
        words[8 * i..8 * i + 8]
            .try_into()
            .map_or(u64::MAX, u64::from_le_bytes)
    }))
}

/// Whether a block from [`block`] may hold the host whose state is `h`.
#[inline(always)]
pub(crate) fn block_holds(block: Option<[u64; 4]>, h: u64) -> bool {
    let Some(words) = block else {
        return true;
    };
    let bits = bits_of(h);
    (words[0] & bits[0] != 0)
        & (words[1] & bits[1] != 0)
        & (words[2] & bits[2] != 0)
        & (words[3] & bits[3] != 0)
}

/// Whether `filter` may hold the suffix whose state is `h` and whose base
/// (its suffix of two labels, or itself when it has one label) has the
/// state `base` (always `true` for an empty filter).
#[inline(always)]
pub(crate) fn may_hold(filter: &[u8], base: u64, h: u64) -> bool {
    block_holds(block(filter, base), h)
}

/// Builds a filter for `hosts` hosts, added one by one with [`add`].
#[cfg(feature = "compile")]
pub(crate) fn with_capacity(hosts: usize) -> Vec<u64> {
    let blocks = (hosts * BITS_PER_HOST).div_ceil(BLOCK * 8).max(1);
    vec![0; blocks * WORDS]
}

/// Adds `host` (its whole length, every label) to a filter.
#[cfg(feature = "compile")]
pub(crate) fn add(filter: &mut [u64], host: &[u8]) {
    let (mut state, mut base, mut n) = (SEED, SEED, 0);
    suffixes(host, |h, _| {
        state = h;
        n += 1;
        if n <= 2 {
            base = h;
        }
        false
    });
    add_state(filter, base, state);
}

/// Adds the state `h` to the block of the base whose state is `base`:
/// what a lookup that probes `h` there finds.
#[cfg(feature = "compile")]
pub(crate) fn add_state(filter: &mut [u64], base: u64, h: u64) {
    let block = block_of(base, filter.len() / WORDS);
    if let Some(words) = filter.get_mut(block * WORDS..(block + 1) * WORDS) {
        for (w, bit) in words.iter_mut().zip(bits_of(h)) {
            *w |= bit;
        }
    }
}

/// The section bytes of a built filter.
#[cfg(feature = "compile")]
pub(crate) fn to_bytes(filter: &[u64]) -> Vec<u8> {
    filter.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn filter_of(hosts: &[&str]) -> Vec<u8> {
        let mut f = with_capacity(hosts.len());
        for h in hosts {
            add(&mut f, h.as_bytes());
        }
        to_bytes(&f)
    }

    #[test]
    fn a_host_matches_itself_and_its_subdomains_only_through_label_suffixes() {
        let f = filter_of(&["example.com", "a.b.example.org"]);
        assert!(may_match(&f, b"example.com"));
        assert!(may_match(&f, b"www.example.com"));
        assert!(may_match(&f, b"x.y.a.b.example.org"));
        // Not a label suffix: `badexample.com` ends in `example.com` only
        // as bytes. With two hosts in 1024 bits, a false "maybe" is
        // possible but these are fixed: the hash is deterministic.
        assert!(!may_match(&f, b"badexample.com"));
        assert!(!may_match(&f, b"b.example.org"));
        assert!(!may_match(&f, b"example.net"));
    }

    #[test]
    fn an_empty_filter_passes_everything() {
        assert!(may_match(&[], b"example.com"));
        assert!(may_match(&[0; 16], b"example.com"));
    }

    #[test]
    fn false_maybes_stay_near_the_design_rate() {
        // Four hosts under each of 5,000 bases.
        let hosts: Vec<String> = (0..20_000)
            .map(|i| format!("host{i}.example{}.com", i % 5_000))
            .collect();
        let refs: Vec<&str> = hosts.iter().map(String::as_str).collect();
        let f = filter_of(&refs);
        let passed = (0..20_000)
            .filter(|i| may_match(&f, format!("other{i}.example{}.net", i % 89).as_bytes()))
            .count();
        // Each absent host has two suffixes in its base's block and one
        // (`net`) in its own; about 1.6% pass (313 with this hash).
        assert!(passed < 700, "{passed} of 20,000 absent hosts passed");
        // Under a base of the set, both suffixes are probed in a block that
        // holds that base's hosts and those of the bases that share it:
        // about 5% pass (967 with this hash).
        let passed = (0..20_000)
            .filter(|i| may_match(&f, format!("x{i}.example{}.com", i % 5_000).as_bytes()))
            .count();
        assert!(
            passed < 1_500,
            "{passed} of 20,000 absent subdomains passed"
        );
    }

    /// Every suffix's state and start, from [`suffixes_with`].
    fn all_suffixes(host: &[u8], dots: Option<u64>) -> Vec<(u64, usize)> {
        let mut v = Vec::new();
        suffixes_with(host, dots, |h, start| {
            v.push((h, start));
            false
        });
        v
    }

    /// [`fold_label`] a byte at a time: whole words from the left, then
    /// the last bytes as the low lanes of a word.
    fn fold_bytes(mut h: u64, host: &[u8], start: usize, end: usize) -> u64 {
        let label = &host[start..end];
        let mut words = label.chunks_exact(8);
        for w in &mut words {
            h = mix(h, u64::from_le_bytes(w.try_into().unwrap()));
        }
        let mut last = 0u64;
        for (k, &b) in words.remainder().iter().enumerate() {
            last |= u64::from(b) << (8 * k);
        }
        mix(h, last)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// Every label's fold, wherever it sits in the host (the first
        /// eight bytes of a short or a long host, past them, at the end),
        /// is the byte-at-a-time one.
        #[test]
        fn a_label_folds_as_its_bytes(
            host in prop::collection::vec(any::<u8>(), 0..40),
            start in 0usize..40,
            len in 0usize..20,
            seed in any::<u64>(),
        ) {
            let start = start.min(host.len());
            let end = (start + len).min(host.len());
            prop_assert_eq!(
                fold_label(seed, &host, start, end),
                fold_bytes(seed, &host, start, end)
            );
        }

        /// Given the bitmap of a host's dots, the states and starts are
        /// those found by searching for the dots; a host too long for a
        /// bitmap is searched whatever the caller gives.
        #[test]
        fn the_dots_bitmap_gives_the_same_states(
            host in "[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,20}){0,6}",
            junk in any::<u64>(),
        ) {
            let b = host.as_bytes();
            let searched = all_suffixes(b, None);
            if b.len() <= 64 {
                prop_assert_eq!(all_suffixes(b, Some(dots_bitmap(b))), searched);
            } else {
                prop_assert_eq!(all_suffixes(b, Some(junk)), searched);
            }
        }

        /// No host that was added, nor any subdomain of it, is ever refused.
        #[test]
        fn never_refuses_an_added_host(
            hosts in prop::collection::vec("[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,20}){0,4}", 1..40),
            sub in "([a-z0-9-]{1,12}\\.){0,3}",
        ) {
            let refs: Vec<&str> = hosts.iter().map(String::as_str).collect();
            let f = filter_of(&refs);
            for h in &hosts {
                prop_assert!(may_match(&f, h.as_bytes()));
                let longer = format!("{sub}{h}");
                prop_assert!(may_match(&f, longer.as_bytes()), "{longer}");
            }
        }
    }
}
