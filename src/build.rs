//! Canonical indicators -> sorted keys -> the sections of an `.indset` file.
//!
//! # Keys
//!
//! Every indicator becomes one byte key, the host reversed so that a lookup
//! walks it once from the rightmost label:
//!
//! | kind | key | example |
//! |---|---|---|
//! | `DomainName` | reversed host, then `.` | `example.com` -> `moc.elpmaxe.` |
//! | `Url` | reversed host, then path and query | `example.com/bad?x=1` -> `moc.elpmaxe/bad?x=1` |
//!
//! A canonical host holds no `/`, so a key is a `Url` exactly when it holds
//! a `/`. Walking a query host right to left, a final state reached right
//! after a `.` is a domain indicator on a label boundary, with more labels
//! than the one before; after the host, a virtual `.` tests the exact host,
//! and the path bytes lead through the `Url` keys of that exact host, in
//! increasing path length. So candidates come out in increasing precedence.
//!
//! # Sections
//!
//! All integers little-endian. `n` is the number of records, in key byte
//! order. A key usually has one record; a key written several times with
//! expirations can hold up to four, one per action, in order of
//! precedence, each marked [`CHAINED`] but the last: the first one not
//! expired decides (see `key_chains`). The `fst` maps each key to its
//! first record.
//!
//! | section | contents |
//! |---|---|
//! | [`KEYS`] | an `fst` map from key to its first record |
//! | [`RECORDS`] | `n` (`u64`), the number of `Url` records (`u64`), `p` (`u8`), a palette of `2^p` flag bytes, then `n` palette indices of `p` bits (see below) |
//! | [`LINES`] | `b` (`u8`, at most 24), then `n` input lines (the id when there is none) of `b` bits; `0xFFFFFF` (with `b` = 24) when the line is that large or larger, with the id in metadata |
//! | [`META_INDEX`] | `m` pairs `(record: u32, offset: u32)` sorted by record, one per record with bit 6 set |
//! | [`META`] | metadata entries, identical ones stored once (see below) |
//! | [`COMMON_INPUTS`] | the 63 common input bytes of the `fst` node format, in index order (see [`crate::set`]'s key reader) |
//! | [`SOURCES`] | `b` (`u8`), `2^b` (`u32`), `2^b` file names (`u32` length and bytes; in byte order, then empty ones), then `n` file indices of `b` bits |
//! | [`FILTER`] | a blocked Bloom filter of every key's host (a `DomainName`'s domain, a `Url`'s exact host), 10 bits per key in 32-byte blocks; optional, a set without it walks every query (see `set/filter.rs`) |
//!
//! A record's flag byte: bits 0-1 action (allow, warn, block, audit),
//! bits 2-4 severity (0 none, 1 informational .. 4 high), bit 5 has an
//! expiration, bit 6 has a metadata entry, bit 7 the next record holds
//! the same key ([`CHAINED`], only with bit 5). A set holds
//! few distinct flag bytes (one per action in a plain list), so each
//! record stores the index of its flag byte in the palette, in as few
//! bits as the palette needs, and each line in as few bits as the
//! largest line needs. Packed integers sit end to end, lowest bit first
//! (value `i` in bits `i * b .. (i + 1) * b`).
//!
//! A metadata entry: one byte saying which fields follow (bit 0
//! expiration, 1 id, 2 title, 3 category, 4 description, 5 groups, 6 alert
//! flag present, 7 alert flag value), then the expiration as `i64` seconds
//! (first, so a lookup reads it at a fixed offset), then each present
//! string as `u32` length and UTF-8 bytes, in the order id, title,
//! category, description, then the groups as a `u32` count and strings.
//!
//! Without metadata an indicator costs its share of the fst, a few bits
//! of record (2 for a list with four actions), the bits of its line (20
//! for lines up to 1,048,575) and 1.25 bytes of filter.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::format::{SectionId, Writer};
use crate::indicator::{Action, Indicator, Kind, Severity};
use crate::set::filter;

mod fst_map;

/// The `fst` map from key to record.
pub const KEYS: SectionId = SectionId(0x10);
/// Each record's flag byte, through a palette.
pub const RECORDS: SectionId = SectionId(0x11);
/// Each record's input line, packed.
pub const LINES: SectionId = SectionId(0x12);
/// Sorted `(record, offset)` pairs into [`META`].
pub const META_INDEX: SectionId = SectionId(0x13);
/// Metadata entries.
pub const META: SectionId = SectionId(0x14);

/// The common-input table of the key `fst`'s node format.
pub const COMMON_INPUTS: SectionId = SectionId(0x15);

/// The suffix filter in front of the keys (see `set/filter.rs`).
pub const FILTER: SectionId = SectionId(0x16);

/// The widest line in [`LINES`], in bits; larger lines go to metadata.
pub(crate) const LINE_BITS: u8 = 24;
/// The line stored for a record whose line is in its metadata id.
pub(crate) const LINE_IN_META: u32 = (1 << LINE_BITS) - 1;
/// The widest palette index in [`RECORDS`], in bits (a palette of 256).
pub(crate) const PALETTE_BITS: u8 = 8;

pub(crate) const ACTION_MASK: u8 = 0b11;
pub(crate) const SEVERITY_SHIFT: u8 = 2;
pub(crate) const SEVERITY_MASK: u8 = 0b111;
pub(crate) const HAS_EXPIRATION: u8 = 1 << 5;
pub(crate) const HAS_META: u8 = 1 << 6;
/// The record after this one holds the same key, for when this one has
/// expired (see [`key_chains`]). Only a record with an expiration has it.
pub(crate) const CHAINED: u8 = 1 << 7;
/// The most records one key holds: one per action.
pub(crate) const MAX_CHAIN: usize = 4;

/// The file names of the inputs, and each record's input.
pub const SOURCES: SectionId = SectionId(0x17);

pub(crate) const M_EXPIRATION: u8 = 1 << 0;
pub(crate) const M_ID: u8 = 1 << 1;
pub(crate) const M_TITLE: u8 = 1 << 2;
pub(crate) const M_CATEGORY: u8 = 1 << 3;
pub(crate) const M_DESCRIPTION: u8 = 1 << 4;
pub(crate) const M_GROUPS: u8 = 1 << 5;
pub(crate) const M_ALERT: u8 = 1 << 6;
pub(crate) const M_ALERT_VALUE: u8 = 1 << 7;

pub(crate) const ACTIONS: [Action; 4] = [Action::Allow, Action::Warn, Action::Block, Action::Audit];
pub(crate) const SEVERITIES: [Severity; 4] = [
    Severity::Informational,
    Severity::Low,
    Severity::Medium,
    Severity::High,
];

/// The key of an indicator (see the module docs).
pub fn key(kind: Kind, host: &str, path: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(host.len() + path.len().max(1));
    key_into(kind, host, path, &mut k);
    k
}

/// Appends the key of an indicator (see [`key`]) to `k`.
fn key_into(kind: Kind, host: &str, path: &str, k: &mut Vec<u8>) {
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
fn sort_prefix(key: &[u8]) -> (u64, u32) {
    let mut b = [0u8; 12];
    let n = key.len().min(12);
    b[..n].copy_from_slice(&key[..n]);
    let (high, low) = b.split_at(8);
    (
        u64::from_be_bytes(high.try_into().expect("8 bytes")),
        u32::from_be_bytes(low.try_into().expect("4 bytes")),
    )
}

/// The table the `fst` crate uses to store frequent input bytes in a
/// node's state byte (index `i` from 1 stands for `table[i - 1]`),
/// measured from the crate itself: the root of a one-key map `[b]` is a
/// one-transition state whose low six bits are `b`'s index, or 0 when `b`
/// is not common. The reader takes the table from the file, so it never
/// depends on a copy of the crate's internals.
fn common_inputs() -> &'static [u8; 63] {
    static TABLE: OnceLock<[u8; 63]> = OnceLock::new();
    TABLE.get_or_init(measure_common_inputs)
}

fn measure_common_inputs() -> [u8; 63] {
    let mut table = [0u8; 63];
    for b in 0..=u8::MAX {
        let mut m = fst::MapBuilder::memory();
        m.insert([b], 0)
            .expect("one key is always in order, and a Vec cannot fail to grow");
        let bytes = m.into_inner().expect("writing an fst to a Vec cannot fail");
        let end = bytes.len() - 4;
        let mut root = [0u8; 8];
        root.copy_from_slice(&bytes[end - 8..end]);
        let root = u64::from_le_bytes(root) as usize;
        let index = usize::from(bytes[root] & 0x3F);
        if index != 0 {
            table[index - 1] = b;
        }
    }
    table
}

fn flags(ind: &Indicator, has_meta: bool) -> u8 {
    let action = ACTIONS.iter().position(|&a| a == ind.action).unwrap_or(2) as u8;
    let severity = ind
        .meta
        .severity
        .and_then(|s| SEVERITIES.iter().position(|&v| v == s))
        .map_or(0, |i| i as u8 + 1);
    let mut f = action | severity << SEVERITY_SHIFT;
    if ind.meta.expiration.is_some() {
        f |= HAS_EXPIRATION;
    }
    if has_meta {
        f |= HAS_META;
    }
    f
}

/// The [`RECORDS`] section of `flags`, the flag bytes in record order, of
/// which `urls` are `Url` records.
fn records_section(flags: &[u8], urls: u64) -> Vec<u8> {
    let mut seen = [false; 256];
    for &f in flags {
        seen[usize::from(f)] = true;
    }
    let mut palette: Vec<u8> = (0..=255u8).filter(|&f| seen[usize::from(f)]).collect();
    let bits = crate::packed::bits_for(palette.len().saturating_sub(1) as u32);
    // Padded to a power of two, so that every index of `bits` bits names
    // a palette entry.
    palette.resize(1 << bits, palette.first().copied().unwrap_or(0));
    let mut index = [0u8; 256];
    for (i, &f) in palette.iter().enumerate().rev() {
        index[usize::from(f)] = i as u8;
    }
    let mut out = Vec::new();
    out.extend_from_slice(&(flags.len() as u64).to_le_bytes());
    out.extend_from_slice(&urls.to_le_bytes());
    out.push(bits);
    out.extend_from_slice(&palette);
    let indices = flags.iter().map(|&f| u32::from(index[usize::from(f)]));
    out.extend_from_slice(&crate::packed::pack(indices, bits));
    out
}

/// The [`LINES`] section of `lines`, in record order.
fn lines_section(lines: &[u32]) -> Vec<u8> {
    let bits = crate::packed::bits_for(lines.iter().copied().max().unwrap_or(0));
    let mut out = vec![bits];
    out.extend_from_slice(&crate::packed::pack(lines.iter().copied(), bits));
    out
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Whether [`meta_entry`] gives an entry for `ind`.
fn has_meta(ind: &Indicator) -> bool {
    let m = &ind.meta;
    m.expiration.is_some()
        || m.id.is_some()
        || ind.source.line >= u64::from(LINE_IN_META)
        || m.title.is_some()
        || m.category.is_some()
        || m.description.is_some()
        || !m.groups.is_empty()
        || m.generate_alert.is_some()
}

/// The metadata entry of an indicator, or `None` when it needs none.
fn meta_entry(ind: &Indicator) -> Option<Vec<u8>> {
    let m = &ind.meta;
    let id = match &m.id {
        Some(id) => Some(id.clone()),
        None if ind.source.line < u64::from(LINE_IN_META) => None,
        None => Some(format!("{}:{}", ind.source.file, ind.source.line)),
    };
    let strings = [
        (M_ID, id.as_deref()),
        (M_TITLE, m.title.as_deref()),
        (M_CATEGORY, m.category.as_deref()),
        (M_DESCRIPTION, m.description.as_deref()),
    ];
    let mut mask = 0u8;
    if m.expiration.is_some() {
        mask |= M_EXPIRATION;
    }
    for (bit, s) in strings {
        if s.is_some() {
            mask |= bit;
        }
    }
    if !m.groups.is_empty() {
        mask |= M_GROUPS;
    }
    match m.generate_alert {
        Some(true) => mask |= M_ALERT | M_ALERT_VALUE,
        Some(false) => mask |= M_ALERT,
        None => {}
    }
    if mask == 0 {
        return None;
    }
    let mut out = vec![mask];
    if let Some(e) = m.expiration {
        out.extend_from_slice(&e.0.to_le_bytes());
    }
    for (_, s) in strings {
        if let Some(s) = s {
            push_str(&mut out, s);
        }
    }
    if !m.groups.is_empty() {
        out.extend_from_slice(&(m.groups.len() as u32).to_le_bytes());
        for g in &m.groups {
            push_str(&mut out, g);
        }
    }
    Some(out)
}

/// How long an indicator applies: its expiration, or for ever.
fn lives_until(ind: &Indicator) -> i128 {
    ind.meta.expiration.map_or(i128::MAX, |e| i128::from(e.0))
}

/// The records of a sorted `order` (equal keys adjacent, each run in the
/// order of precedence: action, then the longest-lived first), as
/// `(indicator, chained)`: of each run of equal keys, the ones that decide
/// at some instant. A run keeps its first indicator, then of each later
/// action the longest-lived one if it outlives every one kept before it
/// (at any instant the first live one is the one the whole run decides
/// with); `chained` says that the next record holds the same key. So a
/// key holds at most [`MAX_CHAIN`] records, and only a record with an
/// expiration chains.
fn key_chains<'i>(
    order: &[((u64, u32), u32)],
    same_key: impl Fn(&((u64, u32), u32), &((u64, u32), u32)) -> bool,
    indicator: impl Fn(u32) -> &'i Indicator,
) -> Vec<(u32, bool)> {
    let mut out: Vec<(u32, bool)> = Vec::with_capacity(order.len());
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && same_key(&order[start], &order[end]) {
            end += 1;
        }
        let mut horizon = i128::MIN;
        let mut last_action = None;
        for &(_, i) in &order[start..end] {
            let ind = indicator(i);
            if last_action == Some(ind.action) {
                continue;
            }
            last_action = Some(ind.action);
            let until = lives_until(ind);
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

/// The [`SOURCES`] section: `b` (`u8`), the number of file names (`u32`),
/// each name (`u32` length and UTF-8 bytes) in byte order, then each
/// record's file as an index of `b` bits.
fn sources_section(indicators: &[Indicator], order: &[(u32, bool)]) -> Vec<u8> {
    let mut names: Vec<&str> = order
        .iter()
        .map(|&(i, _)| &*indicators[i as usize].source.file)
        .collect();
    names.sort_unstable();
    names.dedup();
    let bits = crate::packed::bits_for(names.len().saturating_sub(1) as u32);
    let index: Vec<u32> = order
        .iter()
        .map(|&(i, _)| {
            let name = &*indicators[i as usize].source.file;
            names.binary_search(&name).unwrap_or(0) as u32
        })
        .collect();
    // Padded with empty names to a power of two, so that every index of
    // `bits` bits names one.
    names.resize(1 << bits, "");
    let mut out = vec![bits];
    out.extend_from_slice(&(names.len() as u32).to_le_bytes());
    for name in &names {
        push_str(&mut out, name);
    }
    let index = index.into_iter();
    out.extend_from_slice(&crate::packed::pack(index, bits));
    out
}

/// The fewest keys for which [`build`] builds the key automaton in two
/// parts and, on a machine with more than one core, makes the filter and
/// the second part on a thread of their own.
const PARALLEL_KEYS: usize = 50_000;

/// Which first bytes go to the second part of the key automaton, given the
/// key bytes that start with each: the heaviest first, each to the lighter
/// part (the first on a tie), so that both parts take about as long.
fn split_first_bytes(weight: &[u64; 256]) -> [bool; 256] {
    let mut bytes: Vec<u8> = (0..=255).collect();
    bytes.sort_by_key(|&b| (std::cmp::Reverse(weight[usize::from(b)]), b));
    let (mut first, mut second) = (0u64, 0u64);
    let mut in_second = [false; 256];
    for b in bytes {
        let w = weight[usize::from(b)];
        if w == 0 {
            break;
        }
        if second < first {
            in_second[usize::from(b)] = true;
            second += w;
        } else {
            first += w;
        }
    }
    in_second
}

/// Compiles indicators into the bytes of an `.indset` file.
///
/// The indicators must already be canonical (SPEC 1.3), filtered and
/// merged by ingestion. Should two still share a key, the SPEC 1.5 winner
/// (Allow > Warn > Block > Audit, then the earlier line) is kept and the
/// other dropped. The output depends only on the set of indicators, not
/// their order: the same indicators give the same bytes.
///
/// Costs O(n log n) time and about three times the key bytes in memory.
/// A set of 50,000 keys or more builds its key automaton in two parts,
/// split by the keys' first bytes and joined at the root; on a machine
/// with more than one core the second part and the suffix filter are built
/// on a thread of their own. The parts depend only on the keys, so the
/// bytes are the same on any number of cores.
pub fn build(indicators: &[Indicator]) -> Vec<u8> {
    let parallel = indicators.len() >= PARALLEL_KEYS
        && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    build_with(indicators, parallel)
}

/// [`build`], with the filter made on a thread of its own or not: the
/// bytes are the same either way.
fn build_with(indicators: &[Indicator], parallel: bool) -> Vec<u8> {
    // All keys in one arena (no allocation per key); `spans[i]` is the
    // range of indicator i's key in it.
    let mut arena: Vec<u8> = Vec::with_capacity(
        indicators
            .iter()
            .map(|i| i.host.len() + i.path.len().max(1))
            .sum(),
    );
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity(indicators.len());
    // Each indicator's flag byte and stored line, read in input order here
    // so that the loop in key order below touches an indicator only when
    // it has metadata.
    let mut record: Vec<(u8, u32)> = Vec::with_capacity(indicators.len());
    for i in indicators {
        let start = arena.len();
        key_into(i.kind, &i.host, &i.path, &mut arena);
        spans.push((start, arena.len()));
        let line = u32::try_from(i.source.line)
            .unwrap_or(LINE_IN_META)
            .min(LINE_IN_META);
        record.push((flags(i, has_meta(i)), line));
    }
    let key_of = |i: u32| {
        let (s, e) = spans[i as usize];
        &arena[s..e]
    };
    // The filter holds the host of every key (a set bit stays set, so the
    // order and any repeated key do not matter): made from the arena on a
    // second thread while this one sorts.
    let filter_of_keys = || {
        let mut filter = filter::with_capacity(spans.len());
        let mut host = Vec::new();
        for &(s, e) in &spans {
            let key = &arena[s..e];
            // The host of the key: up to its `/` (a `Url`) or its final `.`.
            let end = key
                .iter()
                .position(|&b| b == b'/')
                .unwrap_or(key.len().saturating_sub(1));
            host.clear();
            host.extend(key[..end].iter().rev());
            filter::add(&mut filter, &host);
        }
        filter
    };
    // Sort (prefix, index) pairs: a key's first twelve bytes decide most
    // comparisons without reading the arena. Equal keys go by action
    // (Allow > Warn > Block > Audit), then the longest-lived first, then
    // the earlier line and file, then input order; `key_chains` keeps
    // the ones that decide at some instant.
    let key_order = || {
        let mut order: Vec<((u64, u32), u32)> = (0..indicators.len() as u32)
            .map(|i| (sort_prefix(key_of(i)), i))
            .collect();
        order.sort_unstable_by(|&(pa, a), &(pb, b)| {
            pa.cmp(&pb).then_with(|| {
                let (ia, ib) = (&indicators[a as usize], &indicators[b as usize]);
                key_of(a)
                    .cmp(key_of(b))
                    .then(ia.action.cmp(&ib.action))
                    .then(lives_until(ib).cmp(&lives_until(ia)))
                    .then(ia.source.line.cmp(&ib.source.line))
                    .then_with(|| ia.source.file.cmp(&ib.source.file))
                    .then(a.cmp(&b))
            })
        });
        // Equal keys have equal prefixes: only those are read.
        key_chains(
            &order,
            |a, b| a.0 == b.0 && key_of(a.1) == key_of(b.1),
            |i| &indicators[i as usize],
        )
    };
    let (filter, order) = if parallel {
        std::thread::scope(|s| {
            let filter = s.spawn(filter_of_keys);
            let order = key_order();
            let filter = filter
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            (filter, order)
        })
    } else {
        (filter_of_keys(), key_order())
    };
    // The keys, flags and lines in key order, gathered in two passes (the
    // flags, lines and key spans, then the keys' bytes) whose reads do not
    // depend on each other (the processor overlaps their cache misses), so
    // that the passes below read memory in order.
    let mut records = Vec::with_capacity(order.len());
    let mut lines = Vec::with_capacity(order.len());
    let mut key_spans = Vec::with_capacity(order.len());
    let mut urls = 0u64;
    for &(i, chained) in &order {
        let (flag, line) = record[i as usize];
        records.push(if chained { flag | CHAINED } else { flag });
        lines.push(line);
        key_spans.push(spans[i as usize]);
        urls += u64::from(indicators[i as usize].kind == Kind::Url);
    }
    // A record is reached through the key automaton when the record
    // before it does not chain to it.
    let is_head = |rank: usize| rank == 0 || records[rank - 1] & CHAINED == 0;
    let mut sorted = Vec::with_capacity(arena.len());
    let mut ends = Vec::with_capacity(order.len());
    for &(s, e) in &key_spans {
        sorted.extend_from_slice(&arena[s..e]);
        ends.push(sorted.len());
    }
    drop((key_spans, arena, spans, record));
    let key_at = |rank: usize| {
        let start = rank.checked_sub(1).map_or(0, |r| ends[r]);
        &sorted[start..ends[rank]]
    };
    // The key automaton in two parts, by the keys' first bytes, built on
    // two threads when there are two cores (the same parts either way, so
    // the same bytes).
    let in_second = if order.len() >= PARALLEL_KEYS {
        let mut weight = [0u64; 256];
        for rank in 0..order.len() {
            let key = key_at(rank);
            if let Some(&b) = key.first() {
                weight[usize::from(b)] += key.len() as u64;
            }
        }
        split_first_bytes(&weight)
    } else {
        [false; 256]
    };
    let keys_part = |second: bool| {
        // Room for the whole part's output in most sets: reserved, and only
        // touched as it is written.
        let room = if second {
            sorted.len() / 2
        } else {
            sorted.len()
        };
        let mut keys = fst_map::MapBuilder::with_capacity(room);
        for rank in 0..order.len() {
            let key = key_at(rank);
            if is_head(rank) && key.first().is_some_and(|&b| in_second[usize::from(b)]) == second {
                keys.insert(key, rank as u64);
            }
        }
        keys.into_part()
    };
    let meta_sections = || {
        let mut meta_index = Vec::new();
        let mut meta = Vec::new();
        let mut seen: HashMap<Vec<u8>, u32> = HashMap::new();
        for (rank, &(i, _)) in order.iter().enumerate() {
            if records[rank] & HAS_META == 0 {
                continue;
            }
            if let Some(entry) = meta_entry(&indicators[i as usize]) {
                let offset = *seen.entry(entry).or_insert_with_key(|e| {
                    let at = meta.len() as u32;
                    meta.extend_from_slice(e);
                    at
                });
                meta_index.extend_from_slice(&(rank as u32).to_le_bytes());
                meta_index.extend_from_slice(&offset.to_le_bytes());
            }
        }
        (meta_index, meta)
    };
    // A small set has one part: no second builder (and its registry) to
    // set up for nothing.
    let two_parts = in_second.contains(&true);
    // The second part on a second thread while this one builds the first
    // part and the metadata.
    let (first, second, (meta_index, meta)) = if parallel && two_parts {
        std::thread::scope(|s| {
            let other = s.spawn(|| keys_part(true));
            let first = keys_part(false);
            let meta = meta_sections();
            let second = other
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            (first, Some(second), meta)
        })
    } else {
        (
            keys_part(false),
            two_parts.then(|| keys_part(true)),
            meta_sections(),
        )
    };
    let keys = match second {
        Some(second) => fst_map::join(first, second),
        None => first.finish(),
    };

    let mut w = Writer::new();
    w.add_section(KEYS, &keys);
    w.add_section(RECORDS, &records_section(&records, urls));
    w.add_section(LINES, &lines_section(&lines));
    w.add_section(META_INDEX, &meta_index);
    w.add_section(META, &meta);
    w.add_section(COMMON_INPUTS, common_inputs());
    w.add_section(FILTER, &filter::to_bytes(&filter));
    w.add_section(SOURCES, &sources_section(indicators, &order));
    w.finish()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::indicator::{Action, Meta, Source, Timestamp};
    use crate::verdict::Decision;

    /// `n` indicators of both kinds, some with metadata, with repeated
    /// keys among them.
    fn many(n: usize) -> Vec<Indicator> {
        (0..n)
            .map(|i| {
                let url = i % 7 == 0;
                let (host, path) = if url {
                    (
                        format!("h{}.example{}.com", i % 5_000, i % 13),
                        format!("/p/{i}"),
                    )
                } else {
                    (format!("n{i}.zone{}.net", i % 101), String::new())
                };
                let mut meta = Meta::default();
                if i % 11 == 0 {
                    meta.title = Some(format!("title {}", i % 3));
                    meta.expiration = Some(Timestamp(1_800_000_000 + i as i64));
                }
                Indicator {
                    kind: if url { Kind::Url } else { Kind::DomainName },
                    host,
                    path,
                    action: [Action::Block, Action::Allow, Action::Warn, Action::Audit][i % 4],
                    meta,
                    source: Source {
                        file: Arc::from(if i % 2 == 0 { "a.csv" } else { "b.txt" }),
                        line: i as u64 + 1,
                    },
                }
            })
            .collect()
    }

    #[test]
    fn first_bytes_split_heaviest_first_to_the_lighter_part() {
        let mut weight = [0u64; 256];
        weight[usize::from(b'm')] = 50;
        weight[usize::from(b't')] = 30;
        weight[usize::from(b'e')] = 20;
        // `m` goes to the first part (a tie), then `t` and `e` to the
        // second, which stays the lighter.
        let split = split_first_bytes(&weight);
        let second: Vec<u8> = (0..=255u8).filter(|&b| split[usize::from(b)]).collect();
        assert_eq!(second, b"et");
        // Equal weights: the lower byte first, alternating.
        let mut even = [0u64; 256];
        for b in [b'a', b'b', b'c', b'd'] {
            even[usize::from(b)] = 10;
        }
        let split = split_first_bytes(&even);
        let second: Vec<u8> = (0..=255u8).filter(|&b| split[usize::from(b)]).collect();
        assert_eq!(second, b"bd");
        assert_eq!(split_first_bytes(&[0; 256]), [false; 256]);
    }

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

    #[test]
    fn keys_alike_past_the_sort_prefix_keep_their_order_and_winner() {
        // Hosts that agree in far more than twelve reversed bytes, and the
        // same key twice with different actions.
        let ind = |host: &str, action: Action, line: u64| Indicator {
            kind: Kind::DomainName,
            host: host.to_string(),
            path: String::new(),
            action,
            meta: Meta::default(),
            source: Source {
                file: Arc::from("a.txt"),
                line,
            },
        };
        let mut inds = vec![
            ind("a.long-shared-label.example.com", Action::Block, 1),
            ind("b.long-shared-label.example.com", Action::Warn, 2),
            ind("long-shared-label.example.com", Action::Audit, 3),
            ind("b.long-shared-label.example.com", Action::Allow, 4),
            ind("net", Action::Block, 5),
        ];
        let first = build(&inds);
        inds.reverse();
        assert_eq!(build(&inds), first);
        inds.rotate_left(2);
        assert_eq!(build(&inds), first);
        let set = crate::set::IndicatorSet::from_bytes(first).expect("opens");
        assert_eq!(set.len(), 4);
        let now = Timestamp(1_700_000_000);
        let host = |q: &str| set.check_host_at(q, now).action;
        assert_eq!(host("b.long-shared-label.example.com"), Decision::Allow);
        assert_eq!(host("a.long-shared-label.example.com"), Decision::Block);
        assert_eq!(host("c.long-shared-label.example.com"), Decision::Audit);
        assert_eq!(host("other.net"), Decision::Block);
    }

    #[test]
    fn the_filter_thread_changes_no_byte() {
        let inds = many(PARALLEL_KEYS + 1_000);
        let alone = build_with(&inds, false);
        assert_eq!(build_with(&inds, true), alone);
        assert_eq!(build(&inds), alone);
        // And the set it makes answers.
        let set = crate::set::IndicatorSet::from_bytes(alone).expect("opens");
        let now = Timestamp(1_700_000_000);
        let host = |q: &str| set.check_host_at(q, now).action;
        assert_eq!(host("x.n2.zone2.net"), Decision::Warn);
        assert_eq!(host("n3.zone3.net"), Decision::Audit);
        assert_eq!(host("n3.zone4.net"), Decision::None);
        let url = set.check_url_at("http://h14.example1.com/p/14", now);
        assert_eq!(url.action, Decision::Warn);
    }
}
