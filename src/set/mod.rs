//! [`IndicatorSet`]: a compiled set, opened over any bytes (a `Vec<u8>`, an
//! `include_bytes!`, a memory map) without copying them, and its lookups.
//!
//! A lookup canonicalises the query into a stack buffer and asks the host
//! index (`format/hosts.rs`): the suffix filter (`format/filter.rs`) says
//! which of the host's label suffixes may be key hosts (most queries that
//! match nothing stop there), and their bucket lines name candidate
//! entries, verified byte for byte, most specific first. A host with `Url`
//! keys with a path (full mode) or of more than 16 labels walks the key
//! automaton once (with the bounds-checked reader in `format/fst.rs`): the
//! host from its rightmost byte, then (full mode) the path, where every
//! final state is a candidate in increasing precedence (see
//! [`crate::format`]'s keys); the index then adds the keys of the parent
//! domains. The first live allow/warn/block candidate in precedence
//! decides and the first live audit candidate is reported. No allocation,
//! no lock, no panic on any query.
//!
//! By concern: opening and validating the sections (`set/open.rs`), the
//! hot lookup (`set/lookup.rs`), and the reports: explain, info, iter and
//! stats (`set/explain.rs`). This file holds the set and the readers of
//! its records that all three share.

use std::ops::Range;

use crate::format::fst::Keys;
use crate::format::hosts;
use crate::format::packed::Packed;
use crate::format::wire::{i64_at, u32_at, u64_at};
use crate::format::{CHAINED, HAS_EXPIRATION, M_EXPIRATION, MAX_CHAIN};
use crate::indicator::Timestamp;

mod explain;
mod lookup;
mod open;

/// A compiled indicator set over bytes `D`.
///
/// Opening verifies the container and the sections (see
/// [`IndicatorSet::from_bytes`]); afterwards every lookup is read-only, so
/// one set can serve any number of threads.
pub struct IndicatorSet<D: AsRef<[u8]>> {
    data: D,
    keys: Range<usize>,
    root: usize,
    common: Range<usize>,
    len: usize,
    /// The whole records section, its palette and its packed indices.
    records: Range<usize>,
    palette: Range<usize>,
    record_index: (Range<usize>, u8),
    /// The number of `Url` records.
    urls: usize,
    /// The whole lines section and its packed lines.
    lines: Range<usize>,
    line_values: (Range<usize>, u8),
    meta_index: Range<usize>,
    meta: Range<usize>,
    /// Empty when the file has no filter.
    filter: Range<usize>,
    /// The host index and its header, when the file has one.
    hosts: Option<(Range<usize>, hosts::Layout)>,
    /// The sources section: the input files and their first line
    /// numbers.
    sources: Range<usize>,
}

/// The input file, line and place on the line of the row numbered
/// `number` in the sources section `b` (see [`crate::format`]).
fn file_and_line(b: &[u8], number: u64) -> Option<(String, u64, u32)> {
    let count = u32_at(b, 0)? as usize;
    let mut at = 4;
    for _ in 0..count {
        let base = u64_at(b, at)?;
        let extra_base = u64_at(b, at + 8)?;
        let extra = u32_at(b, at + 16)? as usize;
        let len = u32_at(b, at + 20)? as usize;
        let name_at = at + 24;
        let name = b.get(name_at..name_at.checked_add(len)?)?;
        let entries = name_at + len;
        let name = || String::from_utf8_lossy(name).into_owned();
        if (base..extra_base).contains(&number) {
            return Some((name(), number - base, 0));
        }
        let j = number.checked_sub(extra_base)?;
        if j < extra as u64 {
            let e = entries + j as usize * 12;
            return Some((name(), u64_at(b, e)?, u32_at(b, e + 8)?));
        }
        at = entries.checked_add(extra.checked_mul(12)?)?;
    }
    None
}

impl<D: AsRef<[u8]>> std::fmt::Debug for IndicatorSet<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndicatorSet")
            .field("len", &self.len())
            .field("bytes", &self.bytes().len())
            .finish()
    }
}

/// The flag bytes of the records: a palette and each record's index in it.
#[derive(Clone, Copy)]
struct Records<'a> {
    palette: &'a [u8],
    index: Packed<'a>,
    len: usize,
}

impl Records<'_> {
    /// The flag byte of `record`, `None` past the last record.
    #[inline]
    fn flags(&self, record: usize) -> Option<u8> {
        if record >= self.len {
            return None;
        }
        let i = self.index.get(record)?;
        self.palette.get(i as usize).copied()
    }

    /// Each flag byte in use and its number of records: read from the
    /// palette when the indices take no bits (every record has the first
    /// entry), else one pass over the indices, which take at least a bit
    /// of the file each.
    fn histogram(&self) -> impl Iterator<Item = (u8, usize)> + '_ {
        let mut per_index = [0usize; 256];
        if self.index.bits() == 0 {
            per_index[0] = self.len;
        } else {
            for r in 0..self.len {
                if let Some(i) = self.index.get(r) {
                    per_index[(i & 0xFF) as usize] += 1;
                }
            }
        }
        self.palette
            .iter()
            .zip(per_index)
            .filter(|&(_, n)| n > 0)
            .map(|(&f, n)| (f, n))
    }

    /// How many records have every bit of `mask`: read from the palette
    /// when its entries agree, else from the [`histogram`](Self::histogram).
    fn count(&self, mask: u8) -> usize {
        let has = |f: u8| f & mask == mask;
        if self.palette.iter().all(|&f| has(f)) {
            self.len
        } else if !self.palette.iter().any(|&f| has(f)) {
            0
        } else {
            self.histogram()
                .filter(|&(f, _)| has(f))
                .map(|(_, n)| n)
                .sum()
        }
    }
}

impl<D: AsRef<[u8]>> IndicatorSet<D> {
    fn bytes(&self) -> &[u8] {
        self.data.as_ref()
    }

    #[inline]
    fn keys(&self) -> Keys<'_> {
        Keys::at(
            self.section(&self.keys),
            self.section(&self.common),
            self.root,
        )
    }

    fn section(&self, r: &Range<usize>) -> &[u8] {
        self.bytes().get(r.clone()).unwrap_or(&[])
    }

    #[inline]
    fn records(&self) -> Records<'_> {
        let (index, bits) = &self.record_index;
        Records {
            palette: self.section(&self.palette),
            index: Packed::at(self.section(index), *bits),
            len: self.len,
        }
    }

    /// The stored line of `record` (0 past the last record).
    fn line(&self, record: usize) -> u32 {
        let (values, bits) = &self.line_values;
        if record >= self.len {
            return 0;
        }
        Packed::at(self.section(values), *bits)
            .get(record)
            .unwrap_or(0)
    }

    /// The host index, when it is the sole store of the keys it files.
    #[inline]
    fn sole_index(&self) -> Option<hosts::Hosts<'_>> {
        let (range, layout) = self.hosts.as_ref().filter(|(_, l)| l.sole)?;
        Some(hosts::Hosts::new(self.section(range), layout))
    }

    /// The number of indicators. O(1).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds no indicator. O(1).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The records of the key whose first record is `first`, in order of
    /// precedence.
    fn chain(&self, first: usize) -> impl Iterator<Item = usize> + '_ {
        let records = self.records();
        let mut next = Some(first);
        std::iter::from_fn(move || {
            let record = next?;
            let flags = records.flags(record)?;
            next = (flags & CHAINED != 0 && record + 1 - first < MAX_CHAIN).then_some(record + 1);
            Some(record)
        })
    }

    /// The first record of the key `record` holds.
    fn chain_head(&self, record: usize) -> usize {
        let records = self.records();
        let mut head = record;
        while head > 0
            && record - head + 1 < MAX_CHAIN
            && records.flags(head - 1).is_some_and(|f| f & CHAINED != 0)
        {
            head -= 1;
        }
        head
    }

    /// The id of `record` without a portal id: its input file (as named
    /// when the set was compiled) and line.
    fn id(&self, record: usize) -> String {
        let number = self.line(record);
        match file_and_line(self.section(&self.sources), u64::from(number)) {
            Some((file, line, nth)) => crate::indicator::row_id(&file, line, nth),
            None => number.to_string(),
        }
    }

    /// The metadata entry of a record, or `None` when it has none.
    fn meta_entry(&self, record: usize) -> Option<&[u8]> {
        let index = self.section(&self.meta_index);
        let (mut lo, mut hi) = (0, index.len() / 8);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let r = u32_at(index, mid * 8)? as usize;
            if r == record {
                let offset = u32_at(index, mid * 8 + 4)? as usize;
                return self.section(&self.meta).get(offset..);
            }
            if r < record {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        None
    }

    fn expiration(&self, record: usize) -> Option<Timestamp> {
        let entry = self.meta_entry(record)?;
        if entry.first()? & M_EXPIRATION == 0 {
            return None;
        }
        i64_at(entry, 1).map(Timestamp)
    }

    /// Whether `record`, whose flag byte is `flags`, has expired at
    /// `now()`: the clock and the expiration are read only when the flags
    /// say it has one.
    #[inline]
    fn expired(&self, record: usize, flags: u8, now: impl FnOnce() -> Timestamp) -> bool {
        flags & HAS_EXPIRATION != 0 && self.expiration(record).is_some_and(|e| e <= now())
    }
}
