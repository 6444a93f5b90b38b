//! Opening a set: the container's checks, then that the sections agree
//! with each other, so that no lookup needs to check them again.

use std::ops::Range;
use std::path::Path;

use super::{IndicatorSet, Records};
use crate::format::Mapped;
use crate::format::fst::{self as keys, Keys};
use crate::format::packed::Packed;
use crate::format::wire::{u32_at, u64_at};
use crate::format::{
    CHAINED, COMMON_INPUTS, Container, FILTER, FormatError, HAS_EXPIRATION, HAS_META, HOSTS, KEYS,
    LINE_BITS, LINES, META, META_INDEX, PALETTE_BITS, RECORDS, SEVERITY_MASK, SEVERITY_SHIFT,
    SOURCES, filter, hosts,
};

/// Whether `b` is a sources section: a count of files, then each file's
/// first numbers (not decreasing, file after file), name and further
/// rows, filling the section.
fn valid_sources(b: &[u8]) -> bool {
    let Some(count) = u32_at(b, 0) else {
        return false;
    };
    let mut at = 4usize;
    let mut previous = 0u64;
    for _ in 0..count {
        let (Some(base), Some(extra_base), Some(extra), Some(len)) = (
            u64_at(b, at),
            u64_at(b, at + 8),
            u32_at(b, at + 16),
            u32_at(b, at + 20),
        ) else {
            return false;
        };
        if base < previous || extra_base < base {
            return false;
        }
        let Some(end) = extra_base.checked_add(u64::from(extra)) else {
            return false;
        };
        previous = end;
        let size = (len as usize).checked_add((extra as usize).saturating_mul(12));
        match size.and_then(|n| at.checked_add(24 + n)) {
            Some(next) if next <= b.len() => at = next,
            _ => return false,
        }
    }
    at == b.len()
}

fn range_in(whole: &[u8], part: &[u8]) -> Range<usize> {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
}

/// The records section: the number of `Url` records and the records
/// (their palette and one index per record, checked to be as many as the
/// section says).
fn parse_records(b: &[u8]) -> Option<(usize, Records<'_>)> {
    // A record past u32::MAX could not be named by a match or by the
    // metadata index.
    let len = u32::try_from(u64_at(b, 0)?).ok()? as usize;
    let urls = usize::try_from(u64_at(b, 8)?).ok()?;
    let bits = *b.get(16)?;
    if bits > PALETTE_BITS || urls > len {
        return None;
    }
    let palette = b.get(17..17 + (1usize << bits))?;
    let index = Packed::new(b.get(17 + palette.len()..)?, bits, len)?;
    Some((
        urls,
        Records {
            palette,
            index,
            len,
        },
    ))
}

/// The lines section: `n` packed lines.
fn parse_lines(b: &[u8], n: usize) -> Option<Packed<'_>> {
    let bits = *b.first()?;
    if bits > LINE_BITS {
        return None;
    }
    Packed::new(b.get(1..)?, bits, n)
}

impl<D: AsRef<[u8]>> IndicatorSet<D> {
    /// Opens a set over `data`, the bytes of an `.indset` file, without
    /// copying them.
    ///
    /// Verifies the container (its checksum reads every byte; a file of
    /// 4 MiB or more is read in two halves, one on a scoped thread, on a
    /// machine with more than one core), then that the sections agree with each other:
    /// O(size of the file) at most: the palette of flag bytes, one pass
    /// over the records' palette indices (at least a bit each) only when
    /// some but not all palette entries have metadata, and the metadata
    /// index. Returns a [`FormatError`] (never panics) on any bytes that
    /// are not a valid set.
    pub fn from_bytes(data: D) -> Result<Self, FormatError> {
        let whole = data.as_ref();
        let c = Container::parse(whole)?;
        let keys = range_in(whole, c.require(KEYS)?);
        let records_bytes = c.require(RECORDS)?;
        let (urls, view) = parse_records(records_bytes).ok_or(FormatError::Corrupt(
            "records: not a palette and its indices",
        ))?;
        let n = view.len;
        let lines_bytes = c.require(LINES)?;
        let line_values = parse_lines(lines_bytes, n).ok_or(FormatError::Corrupt(
            "lines: not one packed line per record",
        ))?;
        let meta_index = c.require(META_INDEX)?;
        let meta = c.require(META)?;
        if view
            .palette
            .iter()
            .any(|&f| (f >> SEVERITY_SHIFT) & SEVERITY_MASK > 4)
        {
            return Err(FormatError::Corrupt("records: unknown severity"));
        }
        if view
            .palette
            .iter()
            .any(|&f| f & CHAINED != 0 && f & HAS_EXPIRATION == 0)
        {
            return Err(FormatError::Corrupt(
                "records: a record chained to the next without an expiration",
            ));
        }
        if n > 0 && view.flags(n - 1).is_none_or(|f| f & CHAINED != 0) {
            return Err(FormatError::Corrupt(
                "records: the last record chained to none",
            ));
        }
        let sources_bytes = c.require(SOURCES)?;
        if !valid_sources(sources_bytes) {
            return Err(FormatError::Corrupt(
                "sources: not file names with increasing first lines",
            ));
        }
        let with_meta = view.count(HAS_META);
        if meta_index.len() % 8 != 0 {
            return Err(FormatError::Corrupt("metadata index: not pairs of u32"));
        }
        let mut previous = None;
        for pair in meta_index.chunks_exact(8) {
            let record = u32_at(pair, 0).unwrap_or(u32::MAX) as usize;
            let offset = u32_at(pair, 4).unwrap_or(u32::MAX) as usize;
            if previous.is_some_and(|p| p >= record)
                || view.flags(record).is_none_or(|f| f & HAS_META == 0)
                || offset >= meta.len()
            {
                return Err(FormatError::Corrupt("metadata index"));
            }
            previous = Some(record);
        }
        if with_meta != meta_index.len() / 8 {
            return Err(FormatError::Corrupt("metadata index: records missing"));
        }
        let filter = match c.section(FILTER) {
            None => 0..0,
            Some(f) if !f.is_empty() && f.len() % filter::BLOCK == 0 => range_in(whole, f),
            Some(_) => return Err(FormatError::Corrupt("filter: not whole 32-byte blocks")),
        };
        let hosts = match c.section(HOSTS) {
            None => None,
            Some(h) => Some((
                range_in(whole, h),
                hosts::Layout::parse(h, view.palette, n).ok_or(FormatError::Corrupt(
                    "hosts: not a host index header and lines",
                ))?,
            )),
        };
        let common = c.require(COMMON_INPUTS)?;
        // The key automaton holds one key per first record, except the keys
        // an index that is their sole store holds.
        let in_index = match &hosts {
            Some((_, l)) if l.sole => l.keys as usize,
            _ => 0,
        };
        let heads = (n - view.count(CHAINED))
            .checked_sub(in_index)
            .ok_or(FormatError::Corrupt("hosts: more keys than records"))?;
        let root = Keys::new(&whole[keys.clone()], common, heads)
            .map_err(|e| match e {
                keys::KeysError::Footer => {
                    FormatError::Corrupt("keys: not an fst with one key per record")
                }
                keys::KeysError::Common => FormatError::Corrupt("common inputs: not 63 bytes"),
            })?
            .root();
        let record_index = (range_in(whole, view.index.bytes()), view.index.bits());
        let line_values = (range_in(whole, line_values.bytes()), line_values.bits());
        let sources = range_in(whole, sources_bytes);
        let (records, palette, lines, meta_index, meta, common) = (
            range_in(whole, records_bytes),
            range_in(whole, view.palette),
            range_in(whole, lines_bytes),
            range_in(whole, meta_index),
            range_in(whole, meta),
            range_in(whole, common),
        );
        Ok(IndicatorSet {
            data,
            keys,
            root,
            common,
            len: n,
            records,
            palette,
            record_index,
            urls,
            lines,
            line_values,
            meta_index,
            meta,
            filter,
            hosts,
            sources,
        })
    }
}

impl IndicatorSet<Mapped> {
    /// Memory-maps and opens the `.indset` file at `path`: no copy of the
    /// indicator data reaches the heap. Verification as in
    /// [`from_bytes`](Self::from_bytes); an unreadable file is
    /// [`FormatError::Io`].
    ///
    /// The file must not be modified in place while it is open: replace it
    /// by writing a new file and renaming it over the old one.
    pub fn open(path: &Path) -> Result<Self, FormatError> {
        IndicatorSet::from_bytes(crate::format::map(path)?)
    }
}
