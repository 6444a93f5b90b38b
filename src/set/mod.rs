//! [`IndicatorSet`]: a compiled set, opened over any bytes (a `Vec<u8>`, an
//! `include_bytes!`, a memory map) without copying them, and its lookups.
//!
//! A lookup canonicalises the query into a stack buffer and asks the
//! suffix filter (`set/filter.rs`) whether any key may match the host; most
//! queries that match nothing stop there. Otherwise it walks the key
//! automaton once (with the bounds-checked reader in `set/keys.rs`): the
//! host from its rightmost byte, then (full mode) the path. Every final
//! state on the way is a candidate, and candidates come in increasing
//! precedence (see [`crate::build`]), so the last live
//! allow/warn/block candidate decides and the last live audit candidate is
//! reported. No allocation, no lock, no panic on any query.

use std::ops::Range;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::canon;
use crate::format::fst::{self as keys, Keys};
use crate::format::packed::Packed;
use crate::format::wire::{i64_at, str_at, u32_at, u64_at};
use crate::format::{
    ACTION_MASK, ACTIONS, CHAINED, COMMON_INPUTS, Container, FILTER, FormatError, HAS_EXPIRATION,
    HAS_META, KEYS, LINE_BITS, LINES, M_ALERT, M_ALERT_VALUE, M_CATEGORY, M_DESCRIPTION,
    M_EXPIRATION, M_GROUPS, M_ID, M_TITLE, MAX_CHAIN, META, META_INDEX, PALETTE_BITS, RECORDS,
    SEVERITIES, SEVERITY_MASK, SEVERITY_SHIFT, SOURCES, filter,
};
use crate::indicator::{Kind, Timestamp};
use crate::verdict::{
    Decision, ExplainedMatch, Explanation, Hit, IndicatorInfo, Mode, Role, Stats, Verdict,
};

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
    /// The whole sources section, its file names and its packed indices.
    sources: Range<usize>,
    source_names: Range<usize>,
    source_index: (Range<usize>, u8),
}

/// The sources section: the file names (as many as `b` bits can name)
/// and one packed index per record.
fn parse_sources(b: &[u8], n: usize) -> Option<(&[u8], Packed<'_>)> {
    let bits = *b.first()?;
    if bits > 16 {
        return None;
    }
    let count = u32_at(b, 1)? as usize;
    if count != 1 << bits {
        return None;
    }
    let mut at = 5;
    for _ in 0..count {
        let len = u32_at(b, at)? as usize;
        at = at.checked_add(4)?.checked_add(len)?;
        if at > b.len() {
            return None;
        }
    }
    let index = Packed::new(b.get(at..)?, bits, n)?;
    Some((b.get(5..at)?, index))
}

/// The `i`-th of the file names (each a `u32` length and its bytes).
fn nth_name(names: &[u8], i: usize) -> Option<String> {
    let mut at = 0;
    for _ in 0..i {
        let len = u32_at(names, at)? as usize;
        at = at.checked_add(4)?.checked_add(len)?;
    }
    str_at(names, &mut at)
}

impl<D: AsRef<[u8]>> std::fmt::Debug for IndicatorSet<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndicatorSet")
            .field("len", &self.len())
            .field("bytes", &self.bytes().len())
            .finish()
    }
}

/// The buffer for a full-mode query of at most [`SHORT_QUERY`] bytes.
const SHORT_BUF_LEN: usize = 1024;
/// The longest query whose canonical form always fits [`SHORT_BUF_LEN`].
const SHORT_QUERY: usize = (SHORT_BUF_LEN - canon::MAX_HOST_LEN - 1) / 3;

/// Calls `f` with a zeroed stack buffer that holds the canonical form of
/// any query of `len` bytes. A canonical URL holds at most a 253-byte host,
/// the root `/` and three bytes per input byte (unescaping only shrinks),
/// so a short query gets a smaller buffer, cheaper to zero, with the same
/// answer.
#[inline(always)]
fn with_url_buf<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    if len <= SHORT_QUERY {
        f(&mut [0u8; SHORT_BUF_LEN])
    } else {
        f(&mut [0u8; canon::QUERY_BUF_LEN])
    }
}

/// The canonical path and query of a full-mode query.
#[derive(Clone, Copy)]
struct PathQuery<'q> {
    bytes: &'q [u8],
    path_len: usize,
    truncated: bool,
}

/// The lookup time: given, or read from the system clock the first time a
/// candidate with an expiration needs it.
struct Clock(Option<Timestamp>);

impl Clock {
    fn now(&mut self) -> Timestamp {
        *self.0.get_or_insert_with(|| {
            Timestamp(
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            )
        })
    }
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

fn reversed(b: &[u8]) -> String {
    let v: Vec<u8> = b.iter().rev().copied().collect();
    String::from_utf8_lossy(&v).into_owned()
}

/// Splits a key into its kind and canonical value (`host` or `host/path`).
fn decode_key(key: &[u8]) -> (Kind, String) {
    match key.iter().position(|&b| b == b'/') {
        Some(slash) => {
            let mut v = reversed(&key[..slash]);
            v.push_str(&String::from_utf8_lossy(&key[slash..]));
            (Kind::Url, v)
        }
        None => (
            Kind::DomainName,
            reversed(key.strip_suffix(b".").unwrap_or(key)),
        ),
    }
}

/// Why `winner` outranks `loser`, both matching the same query.
fn outranks(winner: Hit, loser: Hit) -> &'static str {
    match (winner.kind, loser.kind) {
        (Kind::Url, Kind::DomainName) => "Url beats DomainName",
        (Kind::Url, Kind::Url) => "longer path",
        _ => "more labels",
    }
}

impl<D: AsRef<[u8]>> IndicatorSet<D> {
    /// Opens a set over `data`, the bytes of an `.indset` file, without
    /// copying them.
    ///
    /// Verifies the container (its checksum reads every byte; a file of
    /// [`PARALLEL_CRC`](crate::format::PARALLEL_CRC) bytes or more is read
    /// in two halves, one on a scoped thread, on a machine with more than
    /// one core), then that the sections agree with each other:
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
        let (source_names, source_index) = parse_sources(sources_bytes, n).ok_or(
            FormatError::Corrupt("sources: not file names and one packed index per record"),
        )?;
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
        let common = c.require(COMMON_INPUTS)?;
        let root = Keys::new(&whole[keys.clone()], common, n - view.count(CHAINED))
            .map_err(|e| match e {
                keys::KeysError::Footer => {
                    FormatError::Corrupt("keys: not an fst with one key per record")
                }
                keys::KeysError::Common => FormatError::Corrupt("common inputs: not 63 bytes"),
            })?
            .root();
        let record_index = (range_in(whole, view.index.bytes()), view.index.bits());
        let line_values = (range_in(whole, line_values.bytes()), line_values.bits());
        let source_index = (range_in(whole, source_index.bytes()), source_index.bits());
        let (sources, source_names) = (
            range_in(whole, sources_bytes),
            range_in(whole, source_names),
        );
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
            sources,
            source_names,
            source_index,
        })
    }

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

    /// The number of indicators. O(1).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds no indicator. O(1).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Full-mode lookup of a URL at the current time (the system clock is
    /// read only when a matching indicator has an expiration).
    ///
    /// Costs one canonicalisation into a stack buffer and one walk of the
    /// key `fst` over the host and path; never allocates, never panics. An
    /// unparsable URL gives [`Decision::None`] with `invalid` set; an IP
    /// literal host matches nothing.
    pub fn check_url(&self, url: impl AsRef<[u8]>) -> Verdict {
        self.lookup(url.as_ref(), Mode::Full, &mut Clock(None))
    }

    /// Like [`check_url`](Self::check_url) at the time `now`: indicators
    /// whose expiration is at or before `now` are ignored.
    pub fn check_url_at(&self, url: impl AsRef<[u8]>, now: Timestamp) -> Verdict {
        self.lookup(url.as_ref(), Mode::Full, &mut Clock(Some(now)))
    }

    /// Domain-mode lookup of a host (SNI, DNS name or Host header; a port is
    /// stripped, a URL reduced to its host) at the current time.
    ///
    /// Only `DomainName` indicators and `Url` indicators for the root path
    /// apply. Costs one host canonicalisation and one walk over the host;
    /// never allocates, never panics; an unparsable host gives
    /// [`Decision::None`] with `invalid` set.
    pub fn check_host(&self, host: impl AsRef<[u8]>) -> Verdict {
        self.lookup(host.as_ref(), Mode::Domain, &mut Clock(None))
    }

    /// Like [`check_host`](Self::check_host) at the time `now`.
    pub fn check_host_at(&self, host: impl AsRef<[u8]>, now: Timestamp) -> Verdict {
        self.lookup(host.as_ref(), Mode::Domain, &mut Clock(Some(now)))
    }

    /// A lookup in either mode at the time `now`: [`check_url_at`] or
    /// [`check_host_at`].
    ///
    /// [`check_url_at`]: Self::check_url_at
    /// [`check_host_at`]: Self::check_host_at
    pub fn check(&self, query: impl AsRef<[u8]>, mode: Mode, now: Timestamp) -> Verdict {
        self.lookup(query.as_ref(), mode, &mut Clock(Some(now)))
    }

    fn lookup(&self, query: &[u8], mode: Mode, clock: &mut Clock) -> Verdict {
        let mut decider = None;
        let mut audit = None;
        // The records are read only on a match, most lookups have none.
        let mut emit = |mut hit: Hit| {
            let Some((record, flags)) = self.live_record(hit.record as usize, || clock.now())
            else {
                return;
            };
            hit.record = record as u32;
            if flags & ACTION_MASK == 3 {
                audit = Some((hit, flags));
            } else {
                decider = Some((hit, flags));
            }
        };
        let mut host = [0u8; canon::HOST_BUF_LEN];
        match mode {
            Mode::Domain => {
                let Ok((kind, n)) = canon::query_host(query, &mut host) else {
                    return Verdict::INVALID;
                };
                let host = host.get(..n).unwrap_or_default();
                if !kind.is_ip() && self.may_match(host) {
                    self.walk(host, None, &mut emit);
                }
            }
            Mode::Full => {
                let Ok(url) = canon::query_url_host(query, &mut host) else {
                    return Verdict::INVALID;
                };
                let host = host.get(..url.host_len).unwrap_or_default();
                if !url.host_kind.is_ip() && self.may_match(host) {
                    // The path is canonicalised only when the walk reaches
                    // the end of the host and a `Url` key goes on from it.
                    if let Some(at) = self.walk_host(host, &mut emit) {
                        if self.keys().step(at.0, b'/').is_some() {
                            with_url_buf(query.len(), |buf| {
                                self.walk_url_path(at, host, &url, buf, &mut emit);
                            });
                        }
                    }
                }
            }
        }
        let action = match (decider, audit) {
            (Some((_, flags)), _) => Decision::from(ACTIONS[(flags & ACTION_MASK) as usize]),
            (None, Some(_)) => Decision::Audit,
            (None, None) => Decision::None,
        };
        Verdict {
            action,
            indicator: decider.map(|(h, _)| h),
            audit: audit.map(|(h, _)| h),
            invalid: false,
        }
    }

    /// The path half of a full-mode lookup: canonicalises the path and
    /// query of `url` after `host` in `buf` (as [`canon::url`] would with
    /// that buffer) and walks them from `at`, the state after the host.
    #[inline(never)]
    fn walk_url_path(
        &self,
        at: (usize, u64),
        host: &[u8],
        url: &canon::QueryUrl<'_>,
        buf: &mut [u8],
        emit: &mut impl FnMut(Hit),
    ) {
        let Some(pbuf) = buf.get_mut(host.len()..) else {
            return;
        };
        let w = url.path(pbuf);
        let path = PathQuery {
            bytes: pbuf.get(..w.len).unwrap_or_default(),
            path_len: w.path_len,
            truncated: w.truncated,
        };
        self.walk_path(at, host.len(), path, emit);
    }

    /// Canonicalises `query` into a stack buffer and calls `f` with the
    /// host and (full mode) path, unless the host is an IP literal. `None`
    /// when the query cannot be parsed.
    fn with_canonical(
        &self,
        query: &[u8],
        mode: Mode,
        f: impl FnOnce(&[u8], Option<PathQuery<'_>>),
    ) -> Option<()> {
        match mode {
            Mode::Domain => {
                let mut buf = [0u8; canon::HOST_BUF_LEN];
                let (kind, n) = canon::query_host(query, &mut buf).ok()?;
                if !kind.is_ip() {
                    f(buf.get(..n)?, None);
                }
            }
            Mode::Full => with_url_buf(query.len(), |buf| Self::full_url(query, buf, f))?,
        }
        Some(())
    }

    #[inline(always)]
    fn full_url(
        query: &[u8],
        buf: &mut [u8],
        f: impl FnOnce(&[u8], Option<PathQuery<'_>>),
    ) -> Option<()> {
        let u = canon::url(query, buf).ok()?;
        if !u.host_kind.is_ip() {
            let path = PathQuery {
                bytes: u.path_and_query.as_bytes(),
                path_len: u.path_len,
                truncated: u.truncated,
            };
            f(u.host.as_bytes(), Some(path));
        }
        Some(())
    }

    /// Whether a key may match `host` or one of its parent domains: `false`
    /// answers most lookups that match nothing without a walk.
    #[inline]
    fn may_match(&self, host: &[u8]) -> bool {
        filter::may_match(self.section(&self.filter), host)
    }

    /// Walks the keys for `host` (and `path` in full mode; in domain mode
    /// only the root path `/`) and calls `emit` for every matching
    /// indicator, in increasing precedence. At most one step per byte of
    /// the host and path.
    fn walk(&self, host: &[u8], path: Option<PathQuery<'_>>, emit: &mut impl FnMut(Hit)) {
        let Some(at) = self.walk_host(host, emit) else {
            return;
        };
        match path {
            Some(path) => self.walk_path(at, host.len(), path, emit),
            None => {
                if let Some((root, o)) = self.keys().step(at.0, b'/') {
                    self.emit_at(root, at.1.wrapping_add(o), Kind::Url, host.len() + 1, emit);
                }
            }
        }
    }

    /// Calls `emit` when the state `addr` is final: the key read so far
    /// (`len` bytes of the query, output `out`) is an indicator.
    #[inline(always)]
    fn emit_at(&self, addr: usize, out: u64, kind: Kind, len: usize, emit: &mut impl FnMut(Hit)) {
        if let Some(f) = self.keys().final_output(addr) {
            let record = out.wrapping_add(f);
            if let (Ok(record), Ok(len)) = (u32::try_from(record), u16::try_from(len)) {
                emit(Hit { record, kind, len });
            }
        }
    }

    /// Walks `host` from its rightmost byte: `DomainName` keys on label
    /// boundaries, then the exact host. The state and output after the
    /// host, when the walk gets that far.
    #[inline(always)]
    fn walk_host(&self, host: &[u8], emit: &mut impl FnMut(Hit)) -> Option<(usize, u64)> {
        let keys = self.keys();
        let mut addr = keys.root();
        let mut out = 0u64;
        for (i, &b) in host.iter().enumerate().rev() {
            let (next, o) = keys.step(addr, b)?;
            addr = next;
            out = out.wrapping_add(o);
            if b == b'.' {
                self.emit_at(addr, out, Kind::DomainName, host.len() - i - 1, emit);
            }
        }
        if let Some((exact, o)) = keys.step(addr, b'.') {
            self.emit_at(
                exact,
                out.wrapping_add(o),
                Kind::DomainName,
                host.len(),
                emit,
            );
        }
        Some((addr, out))
    }

    /// Walks the canonical path and query from `at`, the state after a
    /// host of `host_len` bytes: the `Url` keys of that exact host, in
    /// increasing path length.
    fn walk_path(
        &self,
        at: (usize, u64),
        host_len: usize,
        path: PathQuery<'_>,
        emit: &mut impl FnMut(Hit),
    ) {
        let keys = self.keys();
        let (mut addr, mut out) = at;
        let pq = path.bytes;
        for (j, &b) in pq.iter().enumerate() {
            let Some((next, o)) = keys.step(addr, b) else {
                return;
            };
            addr = next;
            out = out.wrapping_add(o);
            // The key's path is pq[..k]: SPEC 3.2's prefix rules.
            let k = j + 1;
            let covered = k > path.path_len
                || b == b'/'
                || (k == pq.len() && !path.truncated)
                || matches!(pq.get(k), Some(b'/' | b'?'));
            if covered {
                self.emit_at(addr, out, Kind::Url, host_len + k, emit);
            }
        }
    }

    /// The record that decides for the key whose first record is `first`,
    /// and its flags: the first of the key's records that has not expired
    /// at `now()` (read only when a record has an expiration); `None` when
    /// all have.
    #[inline]
    fn live_record(&self, first: usize, mut now: impl FnMut() -> Timestamp) -> Option<(usize, u8)> {
        let records = self.records();
        let mut record = first;
        loop {
            let flags = records.flags(record)?;
            if flags & HAS_EXPIRATION == 0 || self.expiration(record).is_none_or(|e| e > now()) {
                return Some((record, flags));
            }
            if flags & CHAINED == 0 || record - first + 1 >= MAX_CHAIN {
                return None;
            }
            record += 1;
        }
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

    /// The input file of `record`, as named when the set was compiled.
    fn source(&self, record: usize) -> String {
        let (index, bits) = &self.source_index;
        Packed::at(self.section(index), *bits)
            .get(record)
            .and_then(|i| nth_name(self.section(&self.source_names), i as usize))
            .unwrap_or_default()
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

    /// The details of the indicator a lookup of `query` in `mode` matched.
    ///
    /// The value is rebuilt from the query (the `hit` says how much of it
    /// the indicator covers) and checked against the set; a `hit` that does
    /// not belong to this set and query gives the details of whatever
    /// record it names, or an empty value when it names none. Allocates;
    /// meant for reports, not the per-flow path.
    pub fn info(&self, query: &[u8], mode: Mode, hit: Hit) -> IndicatorInfo {
        let mut key = None;
        let _ = self.with_canonical(query, mode, |host, path| {
            let value: Option<Vec<u8>> = match hit.kind {
                Kind::DomainName => host
                    .get(host.len().saturating_sub(hit.value_len())..)
                    .map(|h| h.to_vec()),
                Kind::Url => {
                    let pq = path.map_or(&b"/"[..], |p| p.bytes);
                    let rest = hit.value_len().checked_sub(host.len());
                    rest.and_then(|r| pq.get(..r)).map(|p| [host, p].concat())
                }
            };
            if let Some(v) = value {
                let k = match hit.kind {
                    Kind::DomainName => [v.iter().rev().copied().collect(), vec![b'.']].concat(),
                    Kind::Url => {
                        let slash = v.len() - (hit.value_len() - host.len());
                        [
                            v[..slash].iter().rev().copied().collect(),
                            v[slash..].to_vec(),
                        ]
                        .concat()
                    }
                };
                let first = self.keys().get(&k).and_then(|f| usize::try_from(f).ok());
                if first.is_some_and(|f| self.chain(f).any(|r| r == hit.record as usize)) {
                    key = Some(k);
                }
            }
        });
        let key = key
            .or_else(|| {
                let head = self.chain_head(hit.record as usize);
                self.keys().get_key(head as u64)
            })
            .unwrap_or_default();
        self.record_info(hit.record as usize, &key)
    }

    fn record_info(&self, record: usize, key: &[u8]) -> IndicatorInfo {
        let (kind, value) = decode_key(key);
        let flags = self.records().flags(record).unwrap_or(0);
        let severity = ((flags >> SEVERITY_SHIFT) & SEVERITY_MASK) as usize;
        let line = self.line(record);
        let mut info = IndicatorInfo {
            id: format!("{}:{line}", self.source(record)),
            kind,
            value,
            action: ACTIONS[(flags & ACTION_MASK) as usize],
            title: None,
            severity: severity
                .checked_sub(1)
                .and_then(|i| SEVERITIES.get(i).copied()),
            expiration: None,
            groups: Vec::new(),
            generate_alert: None,
            category: None,
            description: None,
        };
        if flags & HAS_META != 0 {
            if let Some(entry) = self.meta_entry(record) {
                read_meta(entry, &mut info);
            }
        }
        info
    }

    /// Every indicator matching `query` in `mode` at `now`, most specific
    /// first (expired ones and audits included), with the verdict and why.
    /// Allocates; meant for `indset explain`.
    pub fn explain(&self, query: impl AsRef<[u8]>, mode: Mode, now: Timestamp) -> Explanation {
        let query = query.as_ref();
        let verdict = self.check(query, mode, now);
        let mut hits = Vec::new();
        let mut canonical = None;
        let mut ip = false;
        let _ = self.with_canonical(query, mode, |host, path| {
            let mut c = String::from_utf8_lossy(host).into_owned();
            if let Some(p) = path {
                c.push_str(&String::from_utf8_lossy(p.bytes));
            }
            canonical = Some(c);
            self.walk(host, path, &mut |hit| hits.push(hit));
        });
        if canonical.is_none() && !verdict.invalid {
            ip = true;
            canonical = canonical_ip(query, mode);
        }
        hits.reverse();
        // Each key's records, in order of precedence; `waiting` when a
        // record before it of the same key has not expired.
        let mut records: Vec<(Hit, bool)> = Vec::with_capacity(hits.len());
        for hit in hits {
            let mut waiting = false;
            for record in self.chain(hit.record as usize) {
                let hit = Hit {
                    record: record as u32,
                    ..hit
                };
                records.push((hit, waiting));
                waiting |= !self.is_expired(hit, now);
            }
        }
        let live_deciders: Vec<Hit> = records
            .iter()
            .filter(|&&(h, waiting)| !waiting && !self.is_expired(h, now) && !self.is_audit(h))
            .map(|&(h, _)| h)
            .collect();
        let any_hit = !records.is_empty();
        let matches = records
            .iter()
            .map(|&(hit, waiting)| {
                let (role, reason) = if self.is_expired(hit, now) {
                    (Role::Expired, "expired")
                } else if waiting {
                    (
                        Role::Outranked,
                        "the same value again, applies once the one before expires",
                    )
                } else if Some(hit) == verdict.indicator {
                    (Role::Decided, "decides")
                } else if Some(hit) == verdict.audit {
                    (Role::Reported, "audit never decides")
                } else if self.is_audit(hit) {
                    let best = verdict.audit.unwrap_or(hit);
                    (Role::Outranked, outranks(best, hit))
                } else {
                    let best = verdict.indicator.unwrap_or(hit);
                    (Role::Outranked, outranks(best, hit))
                };
                ExplainedMatch {
                    hit,
                    info: self.info(query, mode, hit),
                    role,
                    reason,
                }
            })
            .collect();
        let reason = if verdict.invalid {
            "unparsable query"
        } else if ip {
            "IP literals match nothing"
        } else {
            match (verdict.indicator, verdict.audit) {
                (Some(w), _) => match live_deciders.get(1) {
                    Some(&runner_up) => outranks(w, runner_up),
                    None => "only deciding match",
                },
                (None, Some(_)) => "only audits match",
                (None, None) if !any_hit => "no indicator matches",
                (None, None) => "every match expired",
            }
        };
        Explanation {
            verdict,
            canonical,
            matches,
            reason,
        }
    }

    fn flags(&self, hit: Hit) -> u8 {
        self.records().flags(hit.record as usize).unwrap_or(0)
    }

    fn is_audit(&self, hit: Hit) -> bool {
        self.flags(hit) & ACTION_MASK == 3
    }

    fn is_expired(&self, hit: Hit, now: Timestamp) -> bool {
        self.flags(hit) & HAS_EXPIRATION != 0
            && self
                .expiration(hit.record as usize)
                .is_some_and(|e| e <= now)
    }

    /// Every indicator, in key order (the order of [`Hit::record`]). Each
    /// item costs a key reconstruction and allocates; meant for `inspect`.
    pub fn iter(&self) -> impl Iterator<Item = IndicatorInfo> + '_ {
        let mut key = Vec::new();
        (0..self.len()).map(move |r| {
            let chained = r > 0
                && self
                    .records()
                    .flags(r - 1)
                    .is_some_and(|f| f & CHAINED != 0);
            if !chained {
                key = self.keys().get_key(r as u64).unwrap_or_default();
            }
            self.record_info(r, &key)
        })
    }

    /// Counts per kind and action, and bytes per section. O(size of the
    /// file) at most (one pass over the records' palette indices when
    /// there is more than one flag byte). The counts of `Url` and
    /// `DomainName` indicators are the ones the file records.
    pub fn stats(&self) -> Stats {
        let records = self.records();
        let mut s = Stats {
            indicators: self.len(),
            total_bytes: self.bytes().len(),
            sections: vec![
                ("keys", self.keys.len()),
                ("records", self.records.len()),
                ("lines", self.lines.len()),
                ("meta-index", self.meta_index.len()),
                ("meta", self.meta.len()),
                ("common-inputs", self.common.len()),
                ("filter", self.filter.len()),
                ("sources", self.sources.len()),
            ],
            ..Stats::default()
        };
        s.urls = self.urls;
        s.domains = self.len() - self.urls;
        for (f, n) in records.histogram() {
            s.actions[(f & ACTION_MASK) as usize] += n;
            if f & HAS_EXPIRATION != 0 {
                s.expiring += n;
            }
            if f & HAS_META != 0 {
                s.with_metadata += n;
            }
        }
        s
    }
}

/// The canonical form of an IP-literal query, for explanations.
fn canonical_ip(query: &[u8], mode: Mode) -> Option<String> {
    match mode {
        Mode::Domain => {
            let mut buf = [0u8; canon::HOST_BUF_LEN];
            let (_, n) = canon::query_host(query, &mut buf).ok()?;
            Some(String::from_utf8_lossy(buf.get(..n)?).into_owned())
        }
        Mode::Full => {
            let mut buf = vec![0u8; query.len() * 3 + 1024];
            let u = canon::url(query, &mut buf).ok()?;
            Some(format!("{}{}", u.host, u.path_and_query))
        }
    }
}

/// Reads a metadata entry (layout in [`crate::build`]) into `info`;
/// stops at the first field that does not fit.
fn read_meta(entry: &[u8], info: &mut IndicatorInfo) {
    let Some(&mask) = entry.first() else {
        return;
    };
    let mut at = 1;
    let string = |at: &mut usize| str_at(entry, at);
    if mask & M_EXPIRATION != 0 {
        info.expiration = i64_at(entry, 1).map(Timestamp);
        at = 9;
    }
    if mask & M_ALERT != 0 {
        info.generate_alert = Some(mask & M_ALERT_VALUE != 0);
    }
    if mask & M_ID != 0 {
        match string(&mut at) {
            Some(id) => info.id = id,
            None => return,
        }
    }
    for (bit, field) in [
        (M_TITLE, &mut info.title),
        (M_CATEGORY, &mut info.category),
        (M_DESCRIPTION, &mut info.description),
    ] {
        if mask & bit != 0 {
            *field = string(&mut at);
            if field.is_none() {
                return;
            }
        }
    }
    if mask & M_GROUPS != 0 {
        let count = u32_at(entry, at).unwrap_or(0);
        at += 4;
        for _ in 0..count {
            match string(&mut at) {
                Some(g) => info.groups.push(g),
                None => return,
            }
        }
    }
}

impl IndicatorSet<memmap2::Mmap> {
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
