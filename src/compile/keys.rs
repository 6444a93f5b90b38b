//! The key of each indicator, the order of keys and the chains of records
//! that share a key (the key layout is in [`crate::format`]).

use crate::indicator::{Indicator, Kind};

/// The key of an indicator: its host reversed, then `.` for a
/// `DomainName`, or its path and query for a `Url` (see [`crate::format`]).
#[cfg(any(test, feature = "internals"))]
pub fn key(kind: Kind, host: &str, path: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(host.len() + path.len().max(1));
    key_into(kind, host, path, &mut k);
    k
}

/// Appends the key of an indicator (see [`key`]) to `k`.
pub(super) fn key_into(kind: Kind, host: &str, path: &str, k: &mut Vec<u8>) {
    // Copy, then reverse in place: both run on whole words, where pushing
    // the bytes in reverse one at a time did not.
    let start = k.len();
    k.extend_from_slice(host.as_bytes());
    k[start..].reverse();
    match kind {
        Kind::DomainName => k.push(b'.'),
        Kind::Url => {
            if !path.starts_with('/') {
                k.push(b'/');
            }
            k.extend_from_slice(path.as_bytes());
        }
    }
}

/// A pair whose order agrees with the byte order of keys: the first
/// twelve bytes, zero-padded (zero sorts first, as a shorter key does).
/// Twelve, not eight: most keys start with a top-level domain and its dot,
/// and eight bytes leave too few of the next label to tell keys apart
/// without reading them.
pub(crate) fn sort_prefix(key: &[u8]) -> (u64, u32) {
    let mut b = [0u8; 12];
    let n = key.len().min(12);
    b[..n].copy_from_slice(&key[..n]);
    let (high, low) = b.split_at(8);
    (
        u64::from_be_bytes(high.try_into().expect("8 bytes")),
        u32::from_be_bytes(low.try_into().expect("4 bytes")),
    )
}

/// The records of a sorted `order` (of `(prefix, prefix, indicator)`,
/// equal keys adjacent, each run in the order of precedence: action,
/// then the longest-lived first), as
/// `(indicator, chained)`: of each run of equal keys, the ones that decide
/// at some instant. A run keeps its first indicator, then of each later
/// action the longest-lived one if it outlives every one kept before it
/// (at any instant the first live one is the one the whole run decides
/// with); `chained` says that the next record holds the same key. So a
/// key holds at most [`MAX_CHAIN`](crate::format::MAX_CHAIN) records, and only a record with an
/// expiration chains.
pub(super) fn key_chains<'i>(
    order: &[(u64, u32, u32)],
    same_key: impl Fn(&(u64, u32, u32), &(u64, u32, u32)) -> bool,
    indicator: impl Fn(u32) -> &'i Indicator,
) -> Vec<(u32, bool)> {
    let mut out: Vec<(u32, bool)> = Vec::with_capacity(order.len());
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && same_key(&order[start], &order[end]) {
            end += 1;
        }
        if end == start + 1 {
            // A key of one record (nearly every key: the ingest merges
            // rows of the same key) keeps it, unchained, whatever its
            // action and expiration: its indicator, at a random place in
            // memory, is not read.
            out.push((order[start].2, false));
            start = end;
            continue;
        }
        let mut horizon = i128::MIN;
        let mut last_action = None;
        for &(_, _, i) in &order[start..end] {
            let ind = indicator(i);
            if last_action == Some(ind.action) {
                continue;
            }
            last_action = Some(ind.action);
            let until = ind.lives_until();
            if until > horizon {
                if horizon != i128::MIN {
                    if let Some(previous) = out.last_mut() {
                        previous.1 = true;
                    }
                }
                out.push((i, false));
                horizon = until;
            }
            if horizon == i128::MAX {
                break;
            }
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sort_prefix_agrees_with_the_order_of_keys() {
        let keys: [&[u8]; 10] = [
            b"",
            b"a",
            b"moc.",
            b"moc.elpmax",
            b"moc.elpmaxe",
            b"moc.elpmaxe.",
            b"moc.elpmaxe.a",
            b"moc.elpmaxe/",
            b"moc.elpmaxf",
            b"ten.a.",
        ];
        for a in keys {
            for b in keys {
                let (pa, pb) = (sort_prefix(a), sort_prefix(b));
                if pa < pb {
                    assert!(a < b, "{a:?} {b:?}");
                }
                if a == b {
                    assert_eq!(pa, pb);
                }
            }
        }
        // Keys that differ only after twelve bytes share a prefix.
        assert_eq!(sort_prefix(b"moc.elpmaxe.a"), sort_prefix(b"moc.elpmaxe.b"));
        assert!(sort_prefix(b"moc.elpmaxe") < sort_prefix(b"moc.elpmaxe."));
    }
}
