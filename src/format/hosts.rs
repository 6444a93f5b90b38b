//! The host index: the keys a query host can match without a path, found
//! by a hash of its label suffixes in 64-byte bucket lines and verified
//! byte for byte against the key hosts stored beside them.
//!
//! # Why it exists
//!
//! The key automaton answers every query exactly, but it is walked one
//! byte at a time: a query that matches takes about 20 steps and reads
//! about 33 cache lines of the set, some 3,300 instructions on the real
//! requests (`BENCHMARKS.md`, the next design steps). Most lookups need
//! only the keys of the query's host and its parent domains (a
//! `DomainName` key, or the root `Url` key `host/`), so this index answers
//! those from one bucket line per level of the host plus the entries it
//! names.
//!
//! The index is the sole store of the keys it holds: the key automaton
//! keeps only the `Url` keys with a path and the keys of hosts of more than
//! [`MAX_LABELS`] labels, and is walked for a host that has `Url` keys
//! with paths (in full mode) and for hosts of more than [`MAX_LABELS`]
//! labels, whose parent domains the index then answers
//! ([`Hosts::lookup_tail`]). `explain`, `iter` and `inspect` read the
//! entries ([`Hosts::all_entries`]). That takes a lookup that never falls
//! back on a file the writer made: the writer checks every bucket against
//! the lookup's bounds (at most [`MAX_CHAIN`] lines, no tag in more than
//! [`MAX_HITS`] of its slots) and, when one is not within them (hosts
//! chosen to collide, never chance), keeps every key in the automaton too
//! and says so in the header ([`Layout::sole`]), as format 4 did.
//!
//! # What it files
//!
//! One slot per key host: a host with a `DomainName` key, a root `Url` key
//! or a `Url` key with a path; and an entry for each but the hosts whose
//! only keys have a path: their slot's offset is [`PATHS_ONLY`], which
//! sends a full-mode query with their tag to the automaton, where their
//! keys are (a host of another name with the same tag goes there too, about
//! one in 2,048 compares, and is answered as exactly). Their entries would
//! be 1.47 bytes per indicator of the profiling 1M set (`BENCHMARKS.md`).
//!
//! A host's *level* is how many of its labels choose its bucket: two (its
//! base: `example.com` for `a.b.example.com`), or one for a one-label
//! host. When more than [`HEAVY`] hosts with more
//! labels than `d` share a suffix of `d` labels, they are filed one level
//! deeper, under their suffix of `d + 1` labels, and that suffix is a
//! *redirect*: the suffix filter holds its state salted with
//! [`REDIRECT`] ([`Plan::mark_redirects`]), which tells a query to look
//! one level deeper first. The mark sits in the filter block the query
//! reads anyway, so a query under a heavy suffix (a tracker's host among
//! hundreds of its subdomains in a list) reads the line of the level its
//! host is filed at, and not the lines above it unless it must go on:
//! on the suite's 1M set, 3.59 lines of the set per matching request
//! against 4.32 with the redirect in the line above.
//!
//! # A lookup
//!
//! The query's label suffixes are hashed once, from the right, and each
//! state is probed in the suffix filter (`format/filter.rs`, which holds
//! every key host): only the suffixes it passes are looked for, so most
//! queries that match nothing read one filter block and no line. Then, from
//! the level of the query's base, one bucket line (and its overflow lines)
//! per level: a redirect is followed first when a longer suffix passed,
//! then the tags of the passed suffixes are compared with the line's
//! slots and the candidates are verified most specific first. The first live decider
//! and the first live audit record found are the answer, and the lookup
//! stops at its decider unless the entry says that an audit record may
//! still come ([`AUDIT_ABOVE`]) (`docs/matching.md`:
//! the root `Url` key of the host, then the `DomainName` keys from the most
//! labels to the fewest).
//!
//! # Layout
//!
//! All integers little-endian. The section starts with a 192-byte header:
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 4 | bucket lines `b`, at least 1 |
//! | 4 | 4 | lines `l` (bucket lines, then overflow lines), at least `b`, below 2^24 |
//! | 8 | 4 | `at`: where the lines start in the section, from 192 to 255 |
//! | 12 | 1 | record width `w`: 3, 4 or 5 bytes, the fewest that hold `n · 2^p - 1` for `n` records and indices of `p` bits in the records' palette |
//! | 13 | 1 | 1 when the index is the only store of its keys ([`Layout::sole`]), else 0 |
//! | 14 | 2 | zero |
//! | 16 | 4 | the keys the entries hold (root `Url` and `DomainName` keys) |
//! | 20 | 44 | zero |
//! | 64 | 64 | the one-label mask: bit `t / 32 % 512` for the tag `t` (as a slot word holds it) of each one-label `DomainName` key host |
//! | 128 | 64 | the table of last labels: up to [`LAST_LABELS`] labels, each its length (1 to 63) then its bytes, then zeros |
//!
//! then zeros up to `at` (the writer picks `at` so that the lines are
//! 64-byte aligned in the file), the `l` lines of 64 bytes, and the entries
//! to the end of the section. A line:
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 4 | where the entries of this line's slots start, from the first entry byte |
//! | 4 | 1 | slots used (bits 0-4, at most [`SLOTS`]); bits 5-7 zero |
//! | 5 | 3 | the line its bucket goes on in, 0 for none (always a later line) |
//! | 8 | 36 | [`SLOTS`] slot words (`u16`): the tag in bits 4-15, bits 8-11 of the offset in bits 0-3; 0 for an empty slot |
//! | 44 | 18 | bits 0-7 of each slot's offset: where its entry starts, from the line's start of entries (at most [`MAX_OFFSET`]), or [`PATHS_ONLY`] for a host with no entry |
//! | 62 | 2 | zero |
//!
//! An entry: the length (`u8`) of the bytes it stores of its host, those
//! bytes, a flag byte ([`HAS_ROOT`], [`HAS_DOMAIN`], [`HAS_PATHS`],
//! [`AUDIT_ABOVE`] in bits 0-3; bits 4-7 the number of the host's last
//! label in the table, or 0), then for the root `Url` key and then for the
//! `DomainName` key, when present, its first record in `w` bytes: the
//! record's number times `2^p` plus the index of its flag byte in the
//! palette of the records section (`p` bits, see `format/mod.rs`), read
//! when the set is opened. The lookup takes the flag byte from the palette
//! and decides without reading the records section; a flag byte of its own
//! would cost the entry a byte per key (0.85 bytes per indicator on the
//! profiling 1M set, 3% of the file). An entry whose flag byte names a last
//! label stores its host without a dot and that label (`a.example` for
//! `a.example.com`); one that names none stores its host whole (a host of
//! one label, or one whose last label is not in the table).
//!
//! The writer ranks the last labels by the bytes they would save (a dot
//! and the label for each key host of two labels or more that ends with
//! it), most first, and takes them in that order while they fit the table.
//! On the suite's 1M set (412,557 `.com` hosts among 988,628) that saves
//! 3.2 bytes per indicator, 9% of the file. Verifying such an entry
//! compares the query suffix's last bytes with the dot and the label (from
//! one load of its last eight bytes when the suffix has eight and the dot
//! and the label fit in them), then the stored bytes.
//!
//! # The hash
//!
//! A suffix's state is the suffix filter's (`format/filter.rs`: one label
//! folded at a time from the right, so every longer suffix costs only its
//! new label), finished by a multiply-xorshift. The bucket of a state is
//! its high bits times the bucket count; its tag is bits 4 to 15 of it
//! with bit 4 set, never 0 (a slot word keeps the tag in those bits and
//! four bits of the offset below them). A tag is only a candidate: it decides once the
//! entry's host equals the query's suffix byte for byte, so a collision,
//! chance or crafted, costs a comparison and never an answer.
//!
//! # Any bytes are safe
//!
//! Every read is bounds-checked and every loop bounded (a bucket's next line
//! must be a later line; at most [`MAX_HITS`] candidates per suffix and
//! level, and [`MAX_CHAIN`] lines per bucket walk: at most [`MAX_LABELS`]
//! levels of `MAX_LABELS` walks), and whatever the lookup cannot
//! follow it leaves to the automaton ([`Fallback`]), which answers
//! exactly when the index is not the sole store of its keys. A wrong index
//! in a crafted file can give that file's keys wrong answers, as wrong
//! keys could; it cannot make a lookup panic, loop or read out of
//! bounds.

#[cfg(feature = "compile")]
use super::Palette;
use super::filter;
use crate::indicator::Kind;

/// The header's length in bytes.
pub(crate) const HEADER: usize = 192;
/// Where the header's table of last labels starts, and its length.
const LABELS_AT: usize = 128;
const LABELS_LEN: usize = 64;
/// The most last labels the table holds: an entry names its host's last
/// label by its number in the table, `1..=LAST_LABELS`, in the high four
/// bits of its flag byte ([`LABEL_SHIFT`]); 0 stores the host whole.
const LAST_LABELS: usize = 15;
/// Where an entry's flag byte keeps the number of its host's last label.
const LABEL_SHIFT: u32 = 4;
/// A line's length in bytes: one cache line.
pub(crate) const LINE: usize = 64;
/// Slots in a line, after its 8-byte header.
pub(crate) const SLOTS: usize = 18;
/// Where a line's slot words start, and the low bytes of their offsets.
const WORDS_AT: usize = 8;
const OFFSETS_AT: usize = WORDS_AT + 2 * SLOTS;
/// The largest offset of an entry from its line's start of entries (12
/// bits, less the one below): a bucket whose entries go past it takes
/// another line.
#[cfg(feature = "compile")]
const MAX_OFFSET: usize = 0xffe;
/// The offset of a slot whose host has only `Url` keys with a path: it has
/// no entry, since the lookup needs no more of it than that a full-mode
/// query for it walks the automaton, where those keys are.
const PATHS_ONLY: u32 = 0xfff;
/// The most labels of a host the index files, and of a query it answers:
/// longer ones take the automaton.
pub(crate) const MAX_LABELS: usize = 16;
/// Hosts with more labels under one suffix beyond which they are filed a
/// level deeper.
#[cfg(feature = "compile")]
const HEAVY: usize = 12;
/// Entries per bucket the writer aims at (a line holds [`SLOTS`]; on the
/// suite's 1M set, 12 / 14 / 16 take the file to 29.2 / 28.8 / 28.7 MB and
/// a match to 3.52 / 3.61 / 3.61 lines of the set: `BENCHMARKS.md`).
#[cfg(feature = "compile")]
pub(crate) const PER_BUCKET: usize = 14;
/// Salts the raw state of a suffix whose hosts are filed a level deeper,
/// for its mark in the suffix filter: a redirect.
const REDIRECT: u64 = 0x5555_5555_5555_5555;
/// The most candidate slots a lookup verifies for one suffix at one level;
/// more (tags that many hosts of one bucket share, which only hosts chosen
/// to collide give, and then the writer keeps every key in the automaton
/// too) take the automaton.
const MAX_HITS: usize = 8;
/// The most lines of one bucket a lookup reads (one for almost every
/// bucket: a bucket takes more than [`SLOTS`] slots only by chance, and
/// this many lines only when its hosts were chosen to collide): past it,
/// the lookup falls back, so that no file, however its buckets are
/// chained, makes a lookup read more than [`MAX_LABELS`] levels of
/// `MAX_LABELS` walks of this many lines.
const MAX_CHAIN: u32 = 8;

/// Line byte 4: the slots used.
#[cfg(feature = "compile")]
const USED: u8 = 0x1f;

/// Entry flag: a root `Url` key (`host/`) follows.
pub(crate) const HAS_ROOT: u8 = 1;
/// Entry flag: a `DomainName` key follows.
pub(crate) const HAS_DOMAIN: u8 = 2;
/// Entry flag: the host has `Url` keys with a path (in the automaton).
pub(crate) const HAS_PATHS: u8 = 4;

/// Entry flag: this host or a parent domain of it has a `DomainName` key
/// with an audit record, so that a lookup which has its decider goes on
/// looking for one.
pub(crate) const AUDIT_ABOVE: u8 = 8;

/// What the caller of a lookup has taken so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    /// A live decider (allow, warn or block).
    pub(crate) decider: bool,
    /// A live audit record.
    pub(crate) audit: bool,
}

/// What a lookup gives its candidates to: any `FnMut(Candidate) ->
/// Progress`, or a type whose `take` is inlined where it is called.
pub(crate) trait Take {
    /// Takes a candidate; says what the caller has taken so far.
    fn take(&mut self, c: Candidate) -> Progress;
}

impl<F: FnMut(Candidate) -> Progress> Take for F {
    #[inline(always)]
    fn take(&mut self, c: Candidate) -> Progress {
        self(c)
    }
}

/// The index cannot answer this query: walk the automaton.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fallback;

/// A key the query matches, in the order of precedence, most specific
/// first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Candidate {
    /// The key's first record.
    pub(crate) record: u32,
    /// That record's flag byte.
    pub(crate) flags: u8,
    pub(crate) kind: Kind,
    /// How many bytes of the canonical query the key covers.
    pub(crate) len: usize,
}

#[inline(always)]
fn finish(h: u64) -> u64 {
    let h = (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^ (h >> 32)
}

/// A state's tag, as a slot word holds it: twelve bits (bits 4-15 of the
/// word, bit 4 always set, so that no tag is an empty slot), the offset's
/// four high bits below them left zero.
#[inline(always)]
fn tag(state: u64) -> u16 {
    (state as u16 & 0xfff0) | 0x10
}

/// The one-label mask's word and bit for a one-label host's tag.
#[inline(always)]
fn mask_bit(t: u16) -> (usize, u64) {
    let i = usize::from(t >> 5) & 511;
    (i / 64, 1u64 << (i % 64))
}

#[inline(always)]
fn bucket(state: u64, buckets: usize) -> usize {
    ((u128::from(state) * buckets as u128) >> 64) as usize
}

/// Four 16-bit lanes of one eight-byte word, each `1`.
const LANE_ONES: u64 = 0x0001_0001_0001_0001;
/// Words of a line's slot words: slots, four to a word, rounded up.
const TAG_WORDS: usize = SLOTS.div_ceil(4);

/// `t` in each of a word's four 16-bit lanes.
#[inline(always)]
fn lanes(t: u16) -> u64 {
    u64::from(t) * LANE_ONES
}

/// A line's slot words as little-endian words of four lanes: slot `i` is
/// lane `i % 4` of word `i / 4` (the last word's two upper lanes are the
/// low bytes of the first offsets, which [`slots_of`] leaves out).
#[inline(always)]
fn line_tags(line: &[u8; LINE]) -> [u64; TAG_WORDS] {
    let mut words = [0u64; TAG_WORDS];
    for (i, w) in words.iter_mut().enumerate() {
        let at = WORDS_AT + 8 * i;
        *w = word_at(line, at);
    }
    words
}

/// The slots of a line whose tag is `t` (given by [`lanes`]), one bit
/// each: slot `4 * i + j` (lane `j` of word `i`) is bit `16 * j + i`, which
/// [`slot_of`] turns back. The words are compared a lane at a time in
/// ordinary registers, the same on every target, exactly and without a
/// branch (`BENCHMARKS.md` compares it with the compiler's vectorised
/// compare of sixteen `u16`s).
#[inline(always)]
fn slots_of(tags: &[u64; TAG_WORDS], t: u64) -> u64 {
    const HIGH: u64 = 0x8000_8000_8000_8000;
    // The lanes past the last slot (the last word's upper two) are
    // offsets, not tags.
    const TAGS: u64 = {
        let mut m = u64::MAX;
        let mut slot = SLOTS;
        while slot < 4 * TAG_WORDS {
            m &= !(1 << (16 * (slot % 4) + slot / 4));
            slot += 1;
        }
        m
    };
    let mut m = 0;
    for (i, &w) in tags.iter().enumerate() {
        let x = w ^ t;
        // A lane of `x` is below 16 where the tag (its upper twelve bits)
        // is `t`'s. With its high bit set, a lane minus 16 keeps that bit
        // unless its low fifteen bits are below 16, and never borrows from
        // the next lane.
        let zero = !(x | (x | HIGH).wrapping_sub(16 * LANE_ONES)) & HIGH;
        m |= zero >> (15 - i);
    }
    m & TAGS
}

/// Where the entry of a line's slot starts, from the line's start of
/// entries: twelve bits, the high four in its slot word.
#[inline(always)]
fn offset(line: &[u8; LINE], slot: usize) -> u32 {
    let high = line.get(WORDS_AT + 2 * slot).map_or(0, |&w| w & 0x0f);
    let low = line.get(OFFSETS_AT + slot).copied().unwrap_or_default();
    u32::from(high) << 8 | u32::from(low)
}

/// The slot of bit `b` of [`slots_of`]'s answer.
#[inline(always)]
fn slot_of(b: u32) -> usize {
    4 * (b as usize & 15) + (b as usize >> 4)
}

/// The line after `line` (line `at`) in its bucket, `None` at the end;
/// one that is not a later line only a crafted file holds.
#[inline(always)]
fn next_line(line: &[u8; LINE], at: usize) -> Result<Option<usize>, Fallback> {
    match u32::from_le_bytes([line[5], line[6], line[7], 0]) as usize {
        0 => Ok(None),
        next if next > at => Ok(Some(next)),
        _ => Err(Fallback),
    }
}

/// Fills `states` and `starts` with the states of `host`'s label
/// suffixes (the suffix filter's) and where each starts, shortest first:
/// how many there are; `None` beyond [`MAX_LABELS`] labels. (Filled in
/// place: returning the arrays costs a lookup about 60 instructions.)
#[inline(always)]
fn raw_suffix_states(
    host: &[u8],
    dots: Option<u64>,
    states: &mut [u64; MAX_LABELS],
    starts: &mut [u8; MAX_LABELS],
) -> Option<usize> {
    let mut n = 0;
    let too_many = filter::suffixes_with(host, dots, |h, start| {
        let (Some(s), Some(a)) = (states.get_mut(n), starts.get_mut(n)) else {
            return true;
        };
        *s = h;
        *a = start as u8;
        n += 1;
        false
    });
    (!too_many && n > 0).then_some(n)
}

/// The finished states of `host`'s label suffixes (the ones the index
/// files by), shortest first, and where each starts; `None` beyond
/// [`MAX_LABELS`] labels.
#[cfg(feature = "compile")]
#[inline(always)]
fn suffix_states(host: &[u8]) -> Option<([u64; MAX_LABELS], [u8; MAX_LABELS], usize)> {
    let (mut states, mut starts) = ([0u64; MAX_LABELS], [0u8; MAX_LABELS]);
    let n = raw_suffix_states(host, None, &mut states, &mut starts)?;
    for s in states.iter_mut().take(n) {
        *s = finish(*s);
    }
    Some((states, starts, n))
}

#[inline(always)]
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(*b.get(at..)?.first_chunk::<4>()?))
}

/// The header fields of an index section, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    buckets: usize,
    lines: usize,
    at: usize,
    width: usize,
    /// Whether the keys the entries hold are in no other section: then
    /// the key automaton holds only the `Url` keys with a path and the keys
    /// of hosts of more than [`MAX_LABELS`] labels, and a lookup the index
    /// cannot follow is answered from what it found (only a crafted file
    /// makes one: the writer sets this only when every bucket is within
    /// the lookup's bounds).
    pub(crate) sole: bool,
    /// How many keys the entries hold.
    pub(crate) keys: u32,
    /// The records' palette of flag bytes (`2^shift` entries, repeated to
    /// fill 256), and the width of an index in it: a key's first record is
    /// stored as its number times `2^shift` plus its flag byte's index.
    palette: [u8; 256],
    shift: u8,
    /// The one-label mask, read once when the set is opened.
    one_label: [u64; 8],
    /// The table of last labels, read once when the set is opened: its
    /// bytes, and where label `i` (`1..=LAST_LABELS`) starts in them and
    /// how long it is (`(0, 0)` for a number the table does not use,
    /// whose entries then match no query).
    labels: [u8; LABELS_LEN],
    spans: [(u8, u8); LAST_LABELS + 1],
    /// For label `i`: a dot and the label, little-endian in a word when
    /// they fit in eight bytes (else 0), and their length (0 for a number
    /// the table does not use).
    tails: [(u64, u8); LAST_LABELS + 1],
}

impl Layout {
    /// The layout of `section`, or `None` when its header is not one this
    /// module writes: counts, widths, zero bytes and the lines' bounds.
    /// `palette` is the records' palette of flag bytes, of 1 to 256
    /// entries, a power of two, and `records` their number: the record
    /// width must be the one the writer picks for them.
    pub(crate) fn parse(section: &[u8], palette: &[u8], records: usize) -> Option<Layout> {
        if !palette.len().is_power_of_two() || palette.len() > 256 {
            return None;
        }
        let shift = palette.len().trailing_zeros() as u8;
        let mut repeated = [0u8; 256];
        for (i, f) in repeated.iter_mut().enumerate() {
            *f = palette[i % palette.len()];
        }
        let buckets = u32_at(section, 0)? as usize;
        let lines = u32_at(section, 4)? as usize;
        let at = u32_at(section, 8)? as usize;
        let width = usize::from(*section.get(12)?);
        let sole = *section.get(13)?;
        let keys = u32_at(section, 16)?;
        let zeros = section
            .get(14..16)?
            .iter()
            .chain(section.get(20..64)?)
            .chain(section.get(HEADER..at)?);
        let mut one_label = [0u64; 8];
        for (i, w) in one_label.iter_mut().enumerate() {
            *w = u64::from_le_bytes(*section.get(64 + 8 * i..)?.first_chunk::<8>()?);
        }
        let labels = *section.get(LABELS_AT..)?.first_chunk::<LABELS_LEN>()?;
        let spans = label_spans(&labels)?;
        let mut tails = [(0u64, 0u8); LAST_LABELS + 1];
        for (tail, &(start, len)) in tails.iter_mut().zip(&spans).filter(|(_, s)| s.1 != 0) {
            let label = labels.get(usize::from(start)..usize::from(start) + usize::from(len))?;
            let mut dotted = [0u8; 8];
            if let Some(d) = dotted.get_mut(..1 + label.len()) {
                d[0] = b'.';
                d[1..].copy_from_slice(label);
            }
            *tail = (u64::from_le_bytes(dotted), len + 1);
        }
        let fits = lines
            .checked_mul(LINE)
            .and_then(|l| l.checked_add(at))
            .is_some_and(|end| end <= section.len());
        let ok = buckets >= 1
            && lines >= buckets
            && lines < 1 << 24
            && (HEADER..HEADER + LINE).contains(&at)
            && width == record_width(records, shift)
            && sole <= 1
            && fits;
        let mut zeros = zeros;
        (ok && zeros.all(|&b| b == 0)).then_some(Layout {
            buckets,
            lines,
            at,
            width,
            sole: sole == 1,
            keys,
            palette: repeated,
            shift,
            one_label,
            labels,
            spans,
            tails,
        })
    }

    /// Last label `code` of the table (empty for 0 and for a number the
    /// table does not use).
    #[inline(always)]
    fn label(&self, code: u8) -> &[u8] {
        let (start, len) = self.spans[usize::from(code) & LAST_LABELS];
        let start = usize::from(start);
        self.labels
            .get(start..start + usize::from(len))
            .unwrap_or_default()
    }

    /// Whether the entry that stores `stored` and whose flag byte is
    /// `flags` is the key host `suffix`: `stored` itself, or, when the
    /// flags name a last label, `stored`, a dot and that label.
    #[inline(always)]
    fn is_host(&self, stored: &[u8], flags: u8, suffix: &[u8]) -> bool {
        let code = flags >> LABEL_SHIFT;
        if code == 0 {
            return stored == suffix;
        }
        let (dotted, len) = self.tails[usize::from(code) & LAST_LABELS];
        let len = usize::from(len);
        let n = stored.len();
        // An unused number has no label, and no host.
        if len == 0 || suffix.len() != n + len {
            return false;
        }
        // The dot and the label from one load of the suffix's last eight
        // bytes, when they fit in a word.
        let tail = if len <= 8 && suffix.len() >= 8 {
            word_at(suffix, suffix.len() - 8) >> (8 * (8 - len)) == dotted
        } else {
            suffix.get(n) == Some(&b'.') && suffix.get(n + 1..) == Some(self.label(code))
        };
        tail && suffix.get(..n) == Some(stored)
    }
}

/// The eight bytes of `b` from `at`, little-endian (0 when fewer are
/// left, which the callers never ask for). `filter::word` reads the same
/// bytes with a copy, which costs a match 6 instructions more here.
#[inline(always)]
fn word_at(b: &[u8], at: usize) -> u64 {
    b.get(at..)
        .and_then(|w| w.first_chunk::<8>())
        .map_or(0, |w| u64::from_le_bytes(*w))
}

/// The spans of the table of last labels (a length byte, 1 to 63, then
/// the label, for each; a zero byte, or the table's end, after the last;
/// zeros to its end), or `None` when the table is not one the writer
/// makes: a label empty, with a dot, or past the table.
fn label_spans(table: &[u8; LABELS_LEN]) -> Option<[(u8, u8); LAST_LABELS + 1]> {
    let mut spans = [(0u8, 0u8); LAST_LABELS + 1];
    let mut at = 0;
    let mut code = 1;
    while let Some(&len) = table.get(at).filter(|&&len| len != 0) {
        let label = table.get(at + 1..at + 1 + usize::from(len))?;
        if code > LAST_LABELS || len > 63 || label.contains(&b'.') {
            return None;
        }
        spans[code] = ((at + 1) as u8, len);
        code += 1;
        at += 1 + usize::from(len);
    }
    table
        .get(at..)
        .unwrap_or_default()
        .iter()
        .all(|&b| b == 0)
        .then_some(spans)
}

/// The index of a set: its section and checked header.
#[derive(Clone, Copy)]
pub(crate) struct Hosts<'a> {
    bytes: &'a [u8],
    layout: &'a Layout,
}

/// A query host's suffixes.
struct Query<'q> {
    host: &'q [u8],
    /// The states as the filter takes them, finished where they choose a
    /// bucket or a tag.
    states: &'q [u64],
    /// The filter block of the query's base (`None`, which holds
    /// everything, for a one-label host or a set without a filter): the
    /// redirects are marked there.
    block: Option<[u64; 4]>,
    starts: &'q [u8; MAX_LABELS],
    /// Bit `k`: the suffix of `k + 1` labels passed the filter.
    present: u32,
    /// Whether the host is the query's whole host (and not the last
    /// [`MAX_LABELS`] labels of a longer one): only then are its root `Url`
    /// key and its paths its own.
    exact: bool,
}

impl<'a> Hosts<'a> {
    pub(crate) fn new(bytes: &'a [u8], layout: &'a Layout) -> Hosts<'a> {
        Hosts { bytes, layout }
    }

    #[inline(always)]
    fn line(&self, i: usize) -> Option<&'a [u8; LINE]> {
        self.bytes
            .get(self.layout.at + i * LINE..)?
            .first_chunk::<LINE>()
    }

    #[inline(always)]
    fn entries(&self) -> &'a [u8] {
        self.bytes
            .get(self.layout.at + self.layout.lines * LINE..)
            .unwrap_or_default()
    }

    /// Calls `take` with every key of `host` and its parent domains that
    /// has no path, most specific first (the root `Url` key of the host,
    /// then the `DomainName` keys from the most labels to the fewest),
    /// until it returns `true`. The suffix `filter` (`format/filter.rs`,
    /// probed with the same suffix states) says which suffixes may be key
    /// hosts: only those are looked for, and a host none of whose suffixes
    /// passes it reads no line. With `paths`, a host that has `Url` keys
    /// with a path is a [`Fallback`] (before any call), as is a host of
    /// more than [`MAX_LABELS`] labels (see [`lookup_tail`](Self::lookup_tail))
    /// and anything a crafted index makes the lookup unable to follow.
    /// `dots`, when the caller has it, is the bitmap of `host`'s dots (bit
    /// `i` for byte `i`, as the canonicaliser's word scan gives it), which
    /// the hashing of the suffixes then does not search for.
    #[inline]
    pub(crate) fn lookup(
        &self,
        host: &[u8],
        dots: Option<u64>,
        filter: &[u8],
        paths: bool,
        take: &mut impl Take,
    ) -> Result<(), Fallback> {
        self.lookup_in(host, dots, true, filter, paths, take)
    }

    /// Like [`lookup`](Self::lookup) without paths, for a host of any
    /// number of labels: the `DomainName` keys of its parent domains of at
    /// most [`MAX_LABELS`] labels (the ones the index files), and when the
    /// host has no more labels than that, its root `Url` key and its own
    /// `DomainName` key too.
    pub(crate) fn lookup_tail(
        &self,
        host: &[u8],
        filter: &[u8],
        take: &mut impl FnMut(Candidate) -> Progress,
    ) -> Result<(), Fallback> {
        let mut dots = 0;
        for (i, &b) in host.iter().enumerate().rev() {
            if b == b'.' {
                dots += 1;
                if dots == MAX_LABELS {
                    let tail = host.get(i + 1..).unwrap_or_default();
                    return self.lookup_in(tail, None, false, filter, false, take);
                }
            }
        }
        self.lookup_in(host, None, true, filter, false, take)
    }

    #[inline(always)]
    fn lookup_in(
        &self,
        host: &[u8],
        dots: Option<u64>,
        exact: bool,
        filter: &[u8],
        paths: bool,
        take: &mut impl Take,
    ) -> Result<(), Fallback> {
        let mut states = [0u64; MAX_LABELS];
        let mut starts = [0u8; MAX_LABELS];
        let n = raw_suffix_states(host, dots, &mut states, &mut starts).ok_or(Fallback)?;
        // Bit `k`: the suffix of `k + 1` labels may be a key host. The
        // suffixes of two labels or more share their filter block; a
        // one-label suffix of a longer host is a key host's only when its
        // bit of the one-label mask is set.
        let mut present = 0u32;
        let mut block = None;
        if n >= 2 {
            block = filter::block(filter, states[1]);
            // An index loop: the iterator adapters it replaces cost a miss
            // about 30 instructions.
            let mut k = 1;
            while let Some(&h) = states.get(k).filter(|_| k < n) {
                present |= u32::from(filter::block_holds(block, h)) << k;
                k += 1;
            }
        }
        let single = if n == 1 {
            filter::may_hold(filter, states[0], states[0])
        } else {
            let (word, bit) = mask_bit(tag(finish(states[0])));
            self.layout.one_label[word & 7] & bit != 0
        };
        present |= u32::from(single);
        if present == 0 {
            return Ok(());
        }
        let q = Query {
            host,
            states: states.get(..n).unwrap_or_default(),
            block,
            starts: &starts,
            present,
            exact,
        };
        if self.levels(n.min(2), n, &q, paths, take)? {
            return Ok(());
        }
        if n >= 2 && present & 1 != 0 {
            self.level(1, 1, &q, paths, take)?;
        }
        Ok(())
    }

    /// The keys of `d` to `upto` labels that the query may match: first
    /// from the deeper levels the filter's redirects lead to (the suffix
    /// of `d` labels marked, then the one of `d + 1`, ...), the deepest
    /// first, then from the bucket of its suffix of `d` labels. `true` once
    /// `take` says so. (A loop, not a call per level: a match under a
    /// redirect takes fewer instructions, and the loop is inlined into the
    /// lookup: on the real requests a match takes about 37 fewer, a miss
    /// 16 more, the mean 6 fewer.)
    #[inline(always)]
    fn levels(
        &self,
        d: usize,
        upto: usize,
        q: &Query<'_>,
        paths: bool,
        take: &mut impl Take,
    ) -> Result<bool, Fallback> {
        // The mark is in the filter block the lookup has read, so a query
        // under a heavy suffix reads no line of it when a deeper key
        // decides. A false mark costs the deeper level's line; a missing
        // one (only in a crafted file) loses that file's deeper keys. A
        // redirect only matters when a suffix of more labels passed.
        let mut deepest = d;
        while deepest < upto
            && q.present >> deepest != 0
            && filter::block_holds(
                q.block,
                *q.states.get(deepest - 1).ok_or(Fallback)? ^ REDIRECT,
            )
        {
            deepest += 1;
        }
        for level in (d..=deepest).rev() {
            if self.level(level, upto, q, paths, take)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The keys of `d` to `upto` labels that the query may match in the
    /// bucket of its suffix of `d` labels. `true` once `take` says so.
    #[inline(always)]
    fn level(
        &self,
        d: usize,
        upto: usize,
        q: &Query<'_>,
        paths: bool,
        take: &mut impl Take,
    ) -> Result<bool, Fallback> {
        let raw = *q.states.get(d - 1).ok_or(Fallback)?;
        // Wanted: the suffixes of d..=upto labels the filter passed (bit
        // `k` is the suffix of `k + 1` labels).
        let below = |labels: usize| (1u32 << labels) - 1;
        let mut bits = q.present & below(upto) & !below(d - 1);
        if bits == 0 {
            return Ok(false);
        }
        let first = bucket(finish(raw), self.layout.buckets);
        // Most specific first: one suffix at a time, from the longest, over
        // the bucket's lines (its overflow lines are rare, and read again
        // from the cache).
        while bits != 0 {
            let k = 31 - bits.leading_zeros() as usize;
            bits &= !(1 << k);
            let t = lanes(tag(finish(*q.states.get(k).ok_or(Fallback)?)));
            let start = usize::from(*q.starts.get(k).ok_or(Fallback)?);
            let suffix = q.host.get(start..).unwrap_or_default();
            let whole = q.exact && k + 1 == q.states.len();
            let mut candidates = 0;
            let mut read = 0;
            let mut at = first;
            loop {
                let line = self.read_line(&mut read, at)?;
                let mut m = slots_of(&line_tags(line), t);
                if m != 0 {
                    let entries = u32::from_le_bytes([line[0], line[1], line[2], line[3]]);
                    while m != 0 {
                        let slot = slot_of(m.trailing_zeros());
                        m &= m - 1;
                        candidates += 1;
                        if candidates > MAX_HITS {
                            return Err(Fallback);
                        }
                        let offset = offset(line, slot);
                        if offset == PATHS_ONLY {
                            // Not verified: a query whose tag only equals
                            // the slot's walks the automaton, which is
                            // exact, and its other keys are still found.
                            if whole && paths {
                                return Err(Fallback);
                            }
                            continue;
                        }
                        let entry = entries.wrapping_add(offset) as usize;
                        if self.verify(entry, suffix, whole, paths, take)? {
                            return Ok(true);
                        }
                    }
                }
                match next_line(line, at)? {
                    Some(next) => at = next,
                    None => break,
                }
            }
        }
        Ok(false)
    }

    /// Line `at`, the `read`th line of a bucket, counted against
    /// [`MAX_CHAIN`].
    #[inline(always)]
    fn read_line(&self, read: &mut u32, at: usize) -> Result<&'a [u8; LINE], Fallback> {
        *read += 1;
        if *read > MAX_CHAIN {
            return Err(Fallback);
        }
        self.line(at).ok_or(Fallback)
    }

    /// Compares the entry at `at` with `suffix`; when equal, offers its
    /// keys (the root `Url` only when the suffix is the whole host).
    #[inline(always)]
    fn verify(
        &self,
        at: usize,
        suffix: &[u8],
        whole: bool,
        paths: bool,
        take: &mut impl Take,
    ) -> Result<bool, Fallback> {
        let e = self.entries();
        let Some(&len) = e.get(at) else {
            return Ok(false);
        };
        let mut r = at + 1 + usize::from(len);
        let (Some(stored), Some(&flags)) = (e.get(at + 1..r), e.get(r)) else {
            return Ok(false);
        };
        if !self.layout.is_host(stored, flags, suffix) {
            return Ok(false);
        }
        if whole && paths && flags & HAS_PATHS != 0 {
            return Err(Fallback);
        }
        r += 1;
        let w = self.layout.width;
        let record = |r: usize| record_at(e, r, self.layout);
        // The root `Url` key (only for the whole host), then the
        // `DomainName` key, written out: a loop over the two costs a match
        // about 47 instructions.
        if flags & HAS_ROOT != 0 {
            if whole {
                let Some((first, record)) = record(r) else {
                    return Ok(false);
                };
                let c = Candidate {
                    record,
                    flags: first,
                    kind: Kind::Url,
                    len: suffix.len() + 1,
                };
                let p = take.take(c);
                if p.decider && (p.audit || flags & AUDIT_ABOVE == 0) {
                    return Ok(true);
                }
            }
            r += w;
        }
        if flags & HAS_DOMAIN != 0 {
            let Some((first, record)) = record(r) else {
                return Ok(false);
            };
            let c = Candidate {
                record,
                flags: first,
                kind: Kind::DomainName,
                len: suffix.len(),
            };
            let p = take.take(c);
            return Ok(p.decider && (p.audit || flags & AUDIT_ABOVE == 0));
        }
        Ok(false)
    }
}

/// A key's first record in the entries at `r`, stored in `layout.width`
/// bytes as its number times `2^layout.shift` plus its flag byte's index
/// in the palette: its flag byte and number.
#[inline(always)]
fn record_at(e: &[u8], r: usize, layout: &Layout) -> Option<(u8, u32)> {
    // Fixed-size reads, not a copy of `w` bytes (a call to `memcpy`).
    let code = match layout.width {
        3 => {
            let &[a, b, c] = e.get(r..)?.first_chunk::<3>()?;
            u64::from(u32::from_le_bytes([a, b, c, 0]))
        }
        4 => u64::from(u32::from_le_bytes(*e.get(r..)?.first_chunk::<4>()?)),
        _ => {
            let &[a, b, c, d, f] = e.get(r..)?.first_chunk::<5>()?;
            u64::from_le_bytes([a, b, c, d, f, 0, 0, 0])
        }
    };
    // The palette repeats to 256 entries, so any low byte names one.
    let flags = layout.palette[usize::from(code as u8)];
    // A number past `u32::MAX` is only in a crafted file, whose records
    // are checked where they are read.
    Some((flags, (code >> layout.shift) as u32))
}

/// An entry of the index: a key host and the first records of its keys
/// without a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry<'a> {
    /// The bytes the entry stores of its canonical host, in reading order:
    /// all of them, or all but a dot and the last label `code` names.
    pub(crate) stored: &'a [u8],
    /// The number of the host's last label in the table of last labels,
    /// 0 when `stored` is the whole host ([`Hosts::host_of`]).
    pub(crate) code: u8,
    /// The first record of its root `Url` key.
    pub(crate) root: Option<u32>,
    /// The first record of its `DomainName` key.
    pub(crate) domain: Option<u32>,
}

impl<'a> Hosts<'a> {
    /// The canonical host of an entry that stores `stored` and names its
    /// last label by `code` ([`Entry`]).
    pub(crate) fn host_of(&self, stored: &[u8], code: u8) -> Vec<u8> {
        let mut host = stored.to_vec();
        if code != 0 {
            host.push(b'.');
            host.extend_from_slice(self.layout.label(code));
        }
        host
    }

    /// Every entry, in the order of the section (up to the first that
    /// does not parse, which only a crafted file holds). For the reports
    /// (`explain`, `iter`), not for lookups.
    pub(crate) fn all_entries(&self) -> impl Iterator<Item = Entry<'a>> + 'a {
        let e = self.entries();
        let layout = self.layout;
        let mut at = 0;
        std::iter::from_fn(move || {
            // No key host is empty, and an entry stores at least the first
            // label: an entry of length 0 does not parse.
            let len = usize::from(*e.get(at)?);
            if len == 0 {
                return None;
            }
            let stored = e.get(at + 1..at + 1 + len)?;
            let flags = *e.get(at + 1 + len)?;
            let code = flags >> LABEL_SHIFT;
            if code != 0 && layout.label(code).is_empty() {
                return None;
            }
            let mut r = at + 2 + len;
            let mut next = |has: u8| -> Option<Option<u32>> {
                if flags & has == 0 {
                    return Some(None);
                }
                let (_, record) = record_at(e, r, layout)?;
                r += layout.width;
                Some(Some(record))
            };
            let root = next(HAS_ROOT)?;
            let domain = next(HAS_DOMAIN)?;
            at = r;
            Some(Entry {
                stored,
                code,
                root,
                domain,
            })
        })
    }
}

/// Whether `key` (a key of the automaton: the host reversed, then `.` or
/// the path) stays in the automaton of a set whose index is the sole
/// store of the keys it files: a `Url` key with a path, or a key of a host
/// of more than [`MAX_LABELS`] labels, which the index does not file.
#[cfg(feature = "compile")]
pub(crate) fn in_automaton(key: &[u8]) -> bool {
    let host = match memchr::memchr(b'/', key) {
        Some(slash) if slash + 1 < key.len() => return true,
        Some(slash) => &key[..slash],
        None => key.strip_suffix(b".").unwrap_or(key),
    };
    memchr::memchr_iter(b'.', host).count() >= MAX_LABELS
}

/// A key host and its keys without a path, for [`build`].
#[cfg(feature = "compile")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyHost<'h> {
    /// The canonical host, in reading order.
    pub(crate) host: &'h [u8],
    /// The root `Url` key's first record and its flag byte.
    pub(crate) root: Option<(u32, u8)>,
    /// The `DomainName` key's first record and its flag byte.
    pub(crate) domain: Option<(u32, u8)>,
    /// Whether the host has `Url` keys with a path.
    pub(crate) paths: bool,
    /// Whether a `DomainName` key of this host or of a parent domain has
    /// an audit record.
    pub(crate) audit_above: bool,
}

#[cfg(feature = "compile")]
impl KeyHost<'_> {
    /// Whether the host's only keys are `Url` keys with a path: its slot
    /// says so and it has no entry.
    fn is_paths_only(&self) -> bool {
        self.paths && self.root.is_none() && self.domain.is_none()
    }
}

/// The index section of the `count` hosts `host(0..count)` (each host
/// once, in any fixed order: the bytes follow it; made on demand, so that
/// a large set's hosts are not held twice) for a set of `records` records
/// whose palette holds every flag byte ([`EVERY_FLAG`]), whose section
/// starts at `section_at` in the file; `None` when the set is too large
/// for it (2^24 lines, 4 GiB of entries), which leaves every lookup to the
/// automaton. [`plan`] then [`write`], which the compiler calls apart.
#[cfg(all(test, feature = "compile"))]
pub(crate) fn build<'h>(
    count: usize,
    host: impl Fn(usize) -> KeyHost<'h> + Copy,
    records: usize,
    section_at: usize,
) -> Option<Vec<u8>> {
    let palette = Palette::of(EVERY_FLAG);
    let mut out = Vec::new();
    write(
        plan(count, host, records, &palette)?,
        host,
        section_at,
        &mut out,
    );
    Some(out)
}

/// The palette of every flag byte, in order: each byte is its own index.
#[cfg(test)]
pub(crate) const EVERY_FLAG: [u8; 256] = {
    let mut all = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        all[i] = i as u8;
        i += 1;
    }
    all
};

/// The bytes of a key's first record in the entries of a set of `records`
/// records whose palette indices take `bits` bits: the fewest, from 3,
/// that hold the largest record number times `2^bits` plus an index.
fn record_width(records: usize, bits: u8) -> usize {
    let largest = (records as u64) << bits;
    if largest <= 1 << 24 {
        3
    } else if largest <= 1 << 32 {
        4
    } else {
        5
    }
}

/// Where each key host of an index goes, and what the index will be: made
/// before the section is written, so that a writer knows whether the
/// index can be the sole store of its keys (and builds the key automaton
/// accordingly) while the index's bytes do not exist yet.
#[cfg(feature = "compile")]
pub(crate) struct Plan {
    buckets: usize,
    lines: usize,
    width: usize,
    /// The records' palette, whose indices the entries store.
    palette: Palette,
    /// Every filed host's slot, by bucket.
    slots: Vec<Slot>,
    one_label: [u64; 8],
    /// The entries' length in bytes.
    entry_bytes: usize,
    /// How many keys the entries hold.
    keys: u32,
    /// The raw states of the suffixes whose hosts are filed a level
    /// deeper, and of their bases: [`Plan::mark_redirects`].
    redirects: Vec<(u64, u64)>,
    /// The table of last labels, in the order of their numbers.
    labels: Vec<Vec<u8>>,
    /// Whether every bucket is within a lookup's bounds ([`MAX_CHAIN`]
    /// lines, no tag in more than [`MAX_HITS`] slots), so that no lookup
    /// falls back and the index can be the sole store of its keys.
    pub(crate) sole: bool,
}

/// The [`Plan`] of the index of the `count` hosts `host(0..count)` (each
/// host once, in any fixed order: the bytes follow it; made on demand, so
/// that a large set's hosts are not held twice) for a set of `records`
/// records whose flag bytes have the palette `palette`; `None` when the
/// set is too large for an index (2^24 lines, 4 GiB of entries), which
/// leaves every lookup to the automaton.
#[cfg(feature = "compile")]
pub(crate) fn plan<'h>(
    count: usize,
    host: impl Fn(usize) -> KeyHost<'h>,
    records: usize,
    palette: &Palette,
) -> Option<Plan> {
    // Each host's label count and level; a host of more labels than the
    // index files is left to the automaton (so is every query that could
    // match it).
    let labels: Vec<u8> = (0..count)
        .map(|i| suffix_states(host(i).host).map_or(0, |(_, _, n)| n as u8))
        .collect();
    let mut level: Vec<u8> = labels.iter().map(|&n| n.min(2)).collect();
    // Redirects: the raw states of each heavy suffix and of its base.
    let mut redirects: Vec<(u64, u64)> = Vec::new();
    for d in 2..MAX_LABELS {
        let deeper = |i: usize| usize::from(level[i]) == d && usize::from(labels[i]) > d;
        let state_at = |i: usize| {
            let (mut s, mut a) = ([0u64; MAX_LABELS], [0u8; MAX_LABELS]);
            raw_suffix_states(host(i).host, None, &mut s, &mut a)
                .map_or((0, 0), |_| (s[d - 1], s[1]))
        };
        let mut under: Vec<(u64, u64)> = (0..count).filter(|&i| deeper(i)).map(state_at).collect();
        under.sort_unstable();
        let heavy: Vec<(u64, u64)> = under
            .chunk_by(|a, b| a == b)
            .filter(|run| run.len() > HEAVY)
            .map(|run| run[0])
            .collect();
        if heavy.is_empty() {
            break;
        }
        let moved: Vec<usize> = (0..count)
            .filter(|&i| deeper(i) && heavy.binary_search(&state_at(i)).is_ok())
            .collect();
        for i in moved {
            level[i] += 1;
        }
        redirects.extend(heavy);
    }
    let filed = labels.iter().filter(|&&n| n > 0).count();
    let buckets = filed.div_ceil(PER_BUCKET).max(1);
    let width = record_width(records, palette.bits);
    // The table of last labels, from the filed hosts in their order (a
    // pass in bucket order reads them in no order at all).
    let table = last_labels((0..count).filter(|&i| labels[i] > 0).map(|i| host(i).host));
    let codes = label_codes(&table);
    let mut slots: Vec<Slot> = Vec::with_capacity(filed);
    let mut one_label = [0u64; 8];
    let (mut entry_bytes, mut keys) = (0usize, 0usize);
    for i in 0..count {
        let h = host(i);
        let Some((states, _, n)) = suffix_states(h.host) else {
            continue;
        };
        let at = states[usize::from(level[i]) - 1];
        let code = label_code(h.host, &codes);
        let kept = stored(h.host, code, &table);
        let k = usize::from(h.root.is_some()) + usize::from(h.domain.is_some());
        // A key host has at most 253 bytes and two keys (the writer's
        // canonical hosts), so an entry at most 2 + 253 + 2 * 5; a host
        // with only paths has none.
        let size = if h.is_paths_only() {
            0
        } else {
            2 + kept.len() + k * width
        };
        slots.push(Slot {
            bucket: bucket(at, buckets) as u32,
            who: i as u32,
            tag: tag(states[n - 1]),
            code,
            size: u16::try_from(size).ok()?,
        });
        if n == 1 && h.domain.is_some() {
            let (word, bit) = mask_bit(tag(states[0]));
            one_label[word] |= bit;
        }
        keys += k;
        entry_bytes += size;
    }
    slots.sort_unstable_by_key(|s| (s.bucket, s.who));

    // Every line first, so that the entries go straight after them into
    // the section, without a second copy.
    let mut lines = buckets;
    let mut tags = Vec::new();
    let mut sole = true;
    for run in slots.chunk_by(|a, b| a.bucket == b.bucket) {
        let taken = bucket_lines(run);
        lines += taken - 1;
        tags.clear();
        tags.extend(run.iter().map(|s| s.tag));
        sole &= within_bounds(&mut tags, taken);
    }
    if lines >= 1 << 24 {
        return None;
    }
    u32::try_from(entry_bytes).ok()?;
    Some(Plan {
        buckets,
        lines,
        width,
        palette: palette.clone(),
        slots,
        one_label,
        entry_bytes,
        keys: u32::try_from(keys).ok()?,
        redirects,
        labels: table,
        sole,
    })
}

/// A filed host's slot, as the writer plans it.
#[cfg(feature = "compile")]
#[derive(Debug, Clone, Copy)]
struct Slot {
    bucket: u32,
    /// The host's index among the hosts given.
    who: u32,
    tag: u16,
    /// The number of its last label in the table, or 0.
    code: u8,
    /// Its entry's length in bytes.
    size: u16,
}

/// Whether a line that holds `used` slots, whose entries so far take
/// `bytes` bytes, takes one more: a free slot, and an offset that fits in
/// twelve bits.
#[cfg(feature = "compile")]
fn takes_another(used: usize, bytes: usize) -> bool {
    used < SLOTS && bytes <= MAX_OFFSET
}

/// The lines a bucket of these slots (in their order) takes: a line more
/// whenever [`takes_another`] says no, as [`write`] fills them.
#[cfg(feature = "compile")]
fn bucket_lines(run: &[Slot]) -> usize {
    let (mut lines, mut used, mut bytes) = (1, 0, 0);
    for s in run {
        if !takes_another(used, bytes) {
            (lines, used, bytes) = (lines + 1, 0, 0);
        }
        used += 1;
        bytes += usize::from(s.size);
    }
    lines
}

/// The last label of a host of two labels or more.
#[cfg(feature = "compile")]
fn last_label(host: &[u8]) -> Option<&[u8]> {
    host.get(memchr::memrchr(b'.', host)? + 1..)
}

/// The table of last labels for these key hosts: the labels ranked by the
/// bytes they save (a dot and the label for each host of two labels or
/// more that ends with it), most first, ties by their bytes (so that the
/// same hosts give the same table), taken in that order while they fit.
#[cfg(feature = "compile")]
fn last_labels<'h>(hosts: impl Iterator<Item = &'h [u8]>) -> Vec<Vec<u8>> {
    let mut saved: std::collections::HashMap<&[u8], usize> = std::collections::HashMap::new();
    for label in hosts.filter_map(last_label) {
        *saved.entry(label).or_default() += 1 + label.len();
    }
    let mut by_gain: Vec<(usize, &[u8])> = saved.into_iter().map(|(l, n)| (n, l)).collect();
    by_gain.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let mut table = Vec::new();
    let mut bytes = 0;
    for (_, label) in by_gain {
        if table.len() == LAST_LABELS {
            break;
        }
        if (1..=63).contains(&label.len()) && bytes + 1 + label.len() <= LABELS_LEN {
            bytes += 1 + label.len();
            table.push(label.to_vec());
        }
    }
    table
}

/// The number of each label of a table of last labels.
#[cfg(feature = "compile")]
fn label_codes(labels: &[Vec<u8>]) -> std::collections::HashMap<&[u8], u8> {
    (1u8..)
        .zip(labels)
        .map(|(code, l)| (l.as_slice(), code))
        .collect()
}

/// The number of `host`'s last label in the table whose numbers are
/// `codes`, 0 when the entry stores the whole host.
#[cfg(feature = "compile")]
fn label_code(host: &[u8], codes: &std::collections::HashMap<&[u8], u8>) -> u8 {
    last_label(host)
        .and_then(|l| codes.get(l).copied())
        .unwrap_or(0)
}

/// What an entry stores of `host` whose last label has the number `code`
/// in `table` ([`label_code`]): the host without a dot and that label, or
/// the whole host for 0.
#[cfg(feature = "compile")]
fn stored<'h>(host: &'h [u8], code: u8, table: &[Vec<u8>]) -> &'h [u8] {
    match usize::from(code).checked_sub(1).and_then(|i| table.get(i)) {
        Some(last) => &host[..host.len() - 1 - last.len()],
        None => host,
    }
}

#[cfg(feature = "compile")]
impl Plan {
    /// Marks in the suffix filter (`filter::with_capacity`'s words) every
    /// suffix whose hosts are filed a level deeper: its raw state salted
    /// with [`REDIRECT`], in its base's block, where a query under it
    /// looks. A set's lookups need the marks: the compiler makes them
    /// before it writes the filter.
    pub(crate) fn mark_redirects(&self, filter: &mut [u64]) {
        for &(state, base) in &self.redirects {
            filter::add_state(filter, base, state ^ REDIRECT);
        }
    }
}

/// The index section [`plan`] planned, to start at `section_at` in the
/// file.
#[cfg(feature = "compile")]
pub(crate) fn write<'h>(
    plan: Plan,
    host: impl Fn(usize) -> KeyHost<'h>,
    section_at: usize,
    out: &mut Vec<u8>,
) {
    let Plan {
        buckets,
        lines,
        width,
        palette,
        slots,
        one_label,
        entry_bytes,
        keys,
        redirects: _,
        labels,
        sole,
    } = plan;
    let at = HEADER + (LINE - (section_at + HEADER) % LINE) % LINE;
    // The section's exact length, reserved: a large set's index grown by
    // doubling would hold up to twice its bytes while the file is built.
    out.reserve_exact(at + lines * LINE + entry_bytes);
    // The section starts at `out[b0]`; the offsets below are from there.
    let b0 = out.len();
    out.extend_from_slice(&(buckets as u32).to_le_bytes());
    out.extend_from_slice(&(lines as u32).to_le_bytes());
    out.extend_from_slice(&(at as u32).to_le_bytes());
    out.push(width as u8);
    out.push(u8::from(sole));
    out.resize(b0 + 16, 0);
    out.extend_from_slice(&keys.to_le_bytes());
    out.resize(b0 + 64, 0);
    for w in one_label {
        out.extend_from_slice(&w.to_le_bytes());
    }
    for label in &labels {
        out.push(label.len() as u8);
        out.extend_from_slice(label);
    }
    out.resize(b0 + at + lines * LINE, 0);
    let e0 = out.len();
    let line_at = |i: usize| b0 + at + i * LINE;
    let mut overflow = buckets;
    let mut s = 0;
    // Offsets fit: the entries are below 4 GiB (the plan checked).
    let u32_of = |n: usize| n as u32;
    for b in 0..buckets {
        let mut line = line_at(b);
        let mut first = out.len() - e0;
        out[line..line + 4].copy_from_slice(&u32_of(first).to_le_bytes());
        while let Some(&Slot {
            tag: t, who, code, ..
        }) = slots.get(s).filter(|x| x.bucket as usize == b)
        {
            s += 1;
            if !takes_another(usize::from(out[line + 4] & USED), out.len() - e0 - first) {
                let next = overflow;
                overflow += 1;
                first = out.len() - e0;
                out[line + 5..line + 8].copy_from_slice(&(next as u32).to_le_bytes()[..3]);
                line = line_at(next);
                out[line..line + 4].copy_from_slice(&u32_of(first).to_le_bytes());
            }
            let slot = usize::from(out[line + 4] & USED);
            let h = host(who as usize);
            // At most `MAX_OFFSET`: `takes_another`.
            let offset = if h.is_paths_only() {
                PATHS_ONLY as u16
            } else {
                (out.len() - e0 - first) as u16
            };
            let word = t | offset >> 8;
            let w = line + WORDS_AT + 2 * slot;
            out[w..w + 2].copy_from_slice(&word.to_le_bytes());
            out[line + OFFSETS_AT + slot] = offset as u8;
            out[line + 4] += 1;
            if h.is_paths_only() {
                continue;
            }
            let kept = stored(h.host, code, &labels);
            out.push(kept.len() as u8);
            out.extend_from_slice(kept);
            let mut flags = code << LABEL_SHIFT;
            if h.root.is_some() {
                flags |= HAS_ROOT;
            }
            if h.domain.is_some() {
                flags |= HAS_DOMAIN;
            }
            if h.paths {
                flags |= HAS_PATHS;
            }
            if h.audit_above {
                flags |= AUDIT_ABOVE;
            }
            out.push(flags);
            for (record, f) in [h.root, h.domain].into_iter().flatten() {
                let code = u64::from(record) << palette.bits | u64::from(palette.index(f));
                debug_assert!(code >> (8 * width) == 0, "{code} fits {width} bytes");
                out.extend_from_slice(&code.to_le_bytes()[..width]);
            }
        }
    }
    debug_assert_eq!(out.len() - e0, entry_bytes);
    debug_assert_eq!(overflow, lines);
}

/// Whether a bucket of these tags, on `lines` lines, is within a lookup's
/// bounds: at most [`MAX_CHAIN`] lines, and no tag in more than
/// [`MAX_HITS`] of its slots.
#[cfg(feature = "compile")]
fn within_bounds(tags: &mut [u16], lines: usize) -> bool {
    tags.sort_unstable();
    lines <= MAX_CHAIN as usize
        && tags
            .chunk_by(|a, b| a == b)
            .all(|run| run.len() <= MAX_HITS)
}

/// A host of `host`'s labels under the same parent whose tag equals
/// `host`'s, and so whose slots share `host`'s line: a tag collision, for
/// tests.
#[cfg(all(test, feature = "compile"))]
pub(crate) fn tag_twin(host: &str) -> String {
    let tag_of = |h: &str| suffix_states(h.as_bytes()).map(|(s, _, n)| tag(s[n - 1]));
    let parent = host.split_once('.').map_or("", |(_, p)| p);
    (0..)
        .map(|i| format!("t{i}.{parent}"))
        .find(|h| h != host && tag_of(h) == tag_of(host))
        .unwrap_or_default()
}

/// `n` two-label hosts whose bucket, among `buckets`, is 0: hosts chosen
/// to collide, for tests.
#[cfg(all(test, feature = "compile"))]
pub(crate) fn colliding_hosts(n: usize, buckets: usize) -> Vec<String> {
    (0..)
        .map(|i| format!("c{i}.org"))
        .filter(|h| suffix_states(h.as_bytes()).is_some_and(|(s, _, _)| bucket(s[1], buckets) == 0))
        .take(n)
        .collect()
}

#[cfg(all(test, feature = "compile"))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5_000))]

        /// The lane compare finds exactly the slots whose tag is `t`,
        /// whatever the other tags and the offsets after them hold.
        #[test]
        fn slots_of_finds_exactly_the_equal_tags(
            mut line in proptest::array::uniform32(any::<u16>()),
            state in any::<u64>(),
            equal in proptest::collection::vec((0..SLOTS, 0u16..16), 0..4),
        ) {
            // Equal tags, whatever offset bits are beside them.
            let t = tag(state);
            for &(i, high) in &equal {
                line[4 + i] = t | high;
            }
            let mut bytes = [0u8; LINE];
            for (i, v) in line.iter().enumerate() {
                bytes[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes());
            }
            let want: Vec<usize> = (0..SLOTS).filter(|&i| line[4 + i] >> 4 == t >> 4).collect();
            let mut m = slots_of(&line_tags(&bytes), lanes(t));
            let mut got = Vec::new();
            while m != 0 {
                got.push(slot_of(m.trailing_zeros()));
                m &= m - 1;
            }
            got.sort_unstable();
            prop_assert_eq!(got, want);
        }
    }

    fn key(host: &str, root: bool, domain: bool, paths: bool) -> KeyHost<'_> {
        KeyHost {
            host: host.as_bytes(),
            root: root.then_some((1, 2)),
            domain: domain.then_some((2, 2)),
            paths,
            audit_above: true,
        }
    }

    /// The candidates of a lookup without a filter, each in the order it
    /// was first offered. Without a filter every suffix may be a redirect,
    /// so a deeper level is looked at first, where a key filed at its own
    /// level can be found again when both share a bucket (every key, in a
    /// one-bucket index); the lookups keep the first.
    fn found(index: &[u8], host: &str, paths: bool) -> Result<Vec<(Kind, usize)>, Fallback> {
        let layout = Layout::parse(index, &EVERY_FLAG, 1).expect("a written header parses");
        let mut out = Vec::new();
        Hosts::new(index, &layout).lookup(
            host.as_bytes(),
            None,
            &[],
            paths,
            &mut |c: Candidate| {
                if !out.contains(&(c.kind, c.len)) {
                    out.push((c.kind, c.len));
                }
                Progress {
                    decider: false,
                    audit: false,
                }
            },
        )?;
        Ok(out)
    }

    #[test]
    fn candidates_come_most_specific_first_and_only_on_label_boundaries() {
        let hosts = [
            key("example.com", true, true, false),
            key("a.example.com", false, true, true),
            key("com", false, true, false),
            key("localhost", true, false, false),
        ];
        let index = build(hosts.len(), |i| hosts[i], 10, 0).expect("small");
        assert_eq!(
            found(&index, "a.example.com", false),
            Ok(vec![
                (Kind::DomainName, 13),
                (Kind::DomainName, 11),
                (Kind::DomainName, 3)
            ])
        );
        assert_eq!(
            found(&index, "example.com", false),
            Ok(vec![
                (Kind::Url, 12),
                (Kind::DomainName, 11),
                (Kind::DomainName, 3)
            ])
        );
        // Not on a label boundary, and a one-label root `Url` key matches
        // only that host.
        assert_eq!(found(&index, "badexample.org", false), Ok(vec![]));
        assert_eq!(found(&index, "x.localhost", false), Ok(vec![]));
        assert_eq!(found(&index, "localhost", false), Ok(vec![(Kind::Url, 10)]));
        // A host with path keys is the automaton's in full mode.
        assert_eq!(found(&index, "a.example.com", true), Err(Fallback));
        assert_eq!(
            found(&index, "b.a.example.com", true).map(|v| v.len()),
            Ok(3)
        );
    }

    #[test]
    fn heavy_suffixes_are_filed_deeper_and_still_found() {
        let names: Vec<String> = (0..200)
            .flat_map(|i| {
                [
                    format!("h{i}.big.example.com"),
                    format!("x{i}.h{}.big.example.com", i % 3),
                ]
            })
            .collect();
        let mut hosts: Vec<KeyHost<'_>> =
            names.iter().map(|n| key(n, false, true, false)).collect();
        hosts.push(key("example.com", false, true, false));
        let index = build(hosts.len(), |i| hosts[i], 1000, 8).expect("small");
        for n in &names {
            let got = found(&index, &format!("q.{n}"), false).expect("answered");
            assert_eq!(got.first(), Some(&(Kind::DomainName, n.len())), "{n}");
            assert_eq!(got.last(), Some(&(Kind::DomainName, 11)), "{n}");
        }
        assert_eq!(found(&index, "h1.big.example.com.evil", false), Ok(vec![]));
    }

    #[test]
    fn more_nested_key_hosts_than_max_hits_are_all_offered_most_specific_first() {
        // Twelve nested hosts under one base (the most that stay at its
        // level) and the base: more candidates than `MAX_HITS`, all of
        // them for different suffixes, so the index answers.
        let names: Vec<String> = (1..=12)
            .scan(String::from("example.com"), |h, i| {
                *h = format!("l{i}.{h}");
                Some(h.clone())
            })
            .chain([String::from("example.com")])
            .collect();
        let hosts: Vec<KeyHost<'_>> = names.iter().map(|n| key(n, false, true, false)).collect();
        let index = build(hosts.len(), |i| hosts[i], 100, 0).expect("small");
        let deepest = &names[11];
        let got = found(&index, &format!("q.{deepest}"), false).expect("answered");
        let mut want: Vec<(Kind, usize)> =
            names.iter().map(|n| (Kind::DomainName, n.len())).collect();
        want.sort_by_key(|w| std::cmp::Reverse(w.1));
        assert_eq!(got, want);
    }

    #[test]
    fn a_bucket_chain_that_does_not_move_on_is_left_to_the_automaton() {
        let names: Vec<String> = (0..40).map(|i| format!("host{i}.example{i}.org")).collect();
        let hosts: Vec<KeyHost<'_>> = names.iter().map(|n| key(n, false, true, false)).collect();
        let index = build(hosts.len(), |i| hosts[i], 100, 0).expect("small");
        let layout = Layout::parse(&index, &EVERY_FLAG, 1).expect("parses");
        // A host whose bucket is not the first line, made to name itself
        // as its next line.
        let (name, b) = names
            .iter()
            .find_map(|n| {
                let (states, _, _) = suffix_states(n.as_bytes())?;
                let b = bucket(states[1], layout.buckets);
                (b > 0).then_some((n, b))
            })
            .expect("a bucket past the first");
        assert_eq!(
            found(&index, name, false),
            Ok(vec![(Kind::DomainName, name.len())])
        );
        let mut bad = index.clone();
        let next = layout.at + b * LINE + 5;
        bad[next..next + 3].copy_from_slice(&(b as u32).to_le_bytes()[..3]);
        assert_eq!(found(&bad, name, false), Err(Fallback));
    }

    #[test]
    fn more_labels_than_filed_take_the_automaton_and_the_tail() {
        let index = build(1, |_| key("example.com", true, true, false), 1, 0).expect("small");
        let deep = "a.".repeat(MAX_LABELS) + "example.com";
        assert_eq!(found(&index, &deep, false), Err(Fallback));
        // The tail lookup offers the parent domains the index files, and
        // no root `Url` key: the tail is not the query's host.
        let layout = Layout::parse(&index, &EVERY_FLAG, 1).expect("parses");
        let tail = |q: &str| {
            let mut out = Vec::new();
            Hosts::new(&index, &layout)
                .lookup_tail(q.as_bytes(), &[], &mut |c| {
                    out.push((c.kind, c.len));
                    Progress {
                        decider: false,
                        audit: false,
                    }
                })
                .map(|()| out)
        };
        assert_eq!(tail(&deep), Ok(vec![(Kind::DomainName, 11)]));
        let just = "a.".repeat(MAX_LABELS - 2) + "example.com";
        assert_eq!(tail(&just), Ok(vec![(Kind::DomainName, 11)]));
        assert_eq!(
            tail("example.com"),
            Ok(vec![(Kind::Url, 12), (Kind::DomainName, 11)])
        );
        assert_eq!(
            tail(&("b".to_string() + &deep)),
            Ok(vec![(Kind::DomainName, 11)])
        );
    }

    #[test]
    fn a_host_with_only_paths_has_a_slot_and_no_entry() {
        let twin = tag_twin("p.example.com");
        let mut hosts = vec![
            key("q.example.com", false, true, false),
            key("r.example.com", true, true, true),
            key(&twin, false, true, false),
        ];
        let without = build(hosts.len(), |i| hosts[i], 100, 0).expect("small");
        hosts.push(key("p.example.com", false, false, true));
        let index = build(hosts.len(), |i| hosts[i], 100, 0).expect("small");
        // Its slot, but not a byte of entry.
        assert_eq!(index.len(), without.len());
        let layout = Layout::parse(&index, &EVERY_FLAG, 1).expect("parses");
        let index_of = Hosts::new(&index, &layout);
        let line = index_of.line(0).expect("a line");
        assert_eq!(usize::from(line[4] & USED), 4);
        assert_eq!((0..4).filter(|&s| offset(line, s) == PATHS_ONLY).count(), 1);
        let mut entries: Vec<Vec<u8>> = index_of
            .all_entries()
            .map(|e| index_of.host_of(e.stored, e.code))
            .collect();
        entries.sort();
        let mut expected = vec![
            b"q.example.com".to_vec(),
            b"r.example.com".to_vec(),
            twin.as_bytes().to_vec(),
        ];
        expected.sort();
        assert_eq!(entries, expected);
        // A full-mode query for it walks the automaton, where its keys
        // are; a domain-mode one, or one for a host under it, does not.
        assert_eq!(found(&index, "p.example.com", true), Err(Fallback));
        assert_eq!(found(&index, "p.example.com", false), Ok(vec![]));
        assert_eq!(found(&index, "x.p.example.com", true), Ok(vec![]));
        // A host whose tag only equals its slot's is sent there too, in
        // full mode; its own key is still found in domain mode.
        assert_eq!(found(&index, &twin, true), Err(Fallback));
        assert_eq!(
            found(&index, &twin, false),
            Ok(vec![(Kind::DomainName, twin.len())])
        );
        assert_eq!(
            found(&index, "q.example.com", true),
            Ok(vec![(Kind::DomainName, 13)])
        );
    }

    #[test]
    fn keys_of_more_labels_than_filed_and_path_keys_stay_in_the_automaton() {
        let host = |labels: usize| "a.".repeat(labels - 2) + "example.com";
        let reversed = |h: &str| h.bytes().rev().collect::<Vec<u8>>();
        for (key, stays) in [
            ([reversed(&host(MAX_LABELS)), b".".to_vec()].concat(), false),
            ([reversed(&host(MAX_LABELS)), b"/".to_vec()].concat(), false),
            (
                [reversed(&host(MAX_LABELS + 1)), b".".to_vec()].concat(),
                true,
            ),
            (
                [reversed(&host(MAX_LABELS + 1)), b"/".to_vec()].concat(),
                true,
            ),
            ([reversed("example.com"), b"/a".to_vec()].concat(), true),
            (b"moc.".to_vec(), false),
        ] {
            assert_eq!(
                in_automaton(&key),
                stays,
                "{}",
                String::from_utf8_lossy(&key)
            );
        }
    }

    #[test]
    fn hosts_chosen_to_collide_leave_the_index_not_the_sole_store() {
        // 100 buckets' worth of hosts; 160 of them in the first bucket
        // take nine lines, more than a lookup reads.
        let mut names = colliding_hosts(160, 100);
        names.extend((160..100 * PER_BUCKET).map(|i| format!("plain{i}.net")));
        let hosts: Vec<KeyHost<'_>> = names.iter().map(|n| key(n, false, true, false)).collect();
        let index = build(hosts.len(), |i| hosts[i], 1000, 0).expect("small");
        let layout = Layout::parse(&index, &EVERY_FLAG, 1).expect("parses");
        assert_eq!(layout.buckets, 100);
        assert!(!layout.sole);
        assert_eq!(layout.keys as usize, 100 * PER_BUCKET);
        let fell_back = names[..160]
            .iter()
            .filter(|n| found(&index, n, false).is_err())
            .count();
        assert!(fell_back > 0);
        // Without them, the same number of hosts fits.
        let names: Vec<String> = (0..100 * PER_BUCKET)
            .map(|i| format!("plain{i}.net"))
            .collect();
        let hosts: Vec<KeyHost<'_>> = names.iter().map(|n| key(n, false, true, false)).collect();
        let index = build(hosts.len(), |i| hosts[i], 1000, 0).expect("small");
        assert!(Layout::parse(&index, &EVERY_FLAG, 1).expect("parses").sole);
        for n in &names {
            assert_eq!(
                found(&index, n, false),
                Ok(vec![(Kind::DomainName, n.len())])
            );
        }
    }

    /// The layout of a section whose table holds `labels` (and nothing
    /// else of use).
    fn with_labels(labels: &[&[u8]]) -> Layout {
        let mut table = [0u8; LABELS_LEN];
        let mut at = 0;
        for l in labels {
            table[at] = l.len() as u8;
            table[at + 1..at + 1 + l.len()].copy_from_slice(l);
            at += 1 + l.len();
        }
        let mut section = vec![0u8; HEADER + LINE];
        section[0] = 1;
        section[4] = 1;
        section[8] = HEADER as u8;
        section[12] = 3;
        section[LABELS_AT..HEADER].copy_from_slice(&table);
        Layout::parse(&section, &EVERY_FLAG, 1).expect("a header the writer makes")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5_000))]

        /// An entry that names a last label is its host exactly when the
        /// host is the stored bytes, a dot and that label; one that names
        /// none, when the host is the stored bytes.
        #[test]
        fn an_entry_is_its_host_and_no_other(
            stored in "[a-z.]{0,6}",
            label in "[a-z]{1,4}",
            other in "[a-z]{5,12}",
            host in "[a-z.]{0,12}",
            code in 0u8..4,
        ) {
            let layout = with_labels(&[label.as_bytes(), other.as_bytes()]);
            let flags = code << LABEL_SHIFT | HAS_DOMAIN;
            let whole = match code {
                0 => stored.clone(),
                1 => format!("{stored}.{label}"),
                2 => format!("{stored}.{other}"),
                // A number the table does not use: no host, not even the
                // stored bytes and a dot.
                _ => format!("{stored}."),
            };
            let hosts = [
                host.clone(),
                whole.clone(),
                format!("{whole}x"),
                format!("x{whole}"),
                // The dot's place taken by another byte.
                format!("{stored}x{label}"),
            ];
            for h in hosts {
                prop_assert_eq!(
                    layout.is_host(stored.as_bytes(), flags, h.as_bytes()),
                    h == whole && code < 3,
                    "{:?} as {:?}", h, whole
                );
            }
        }
    }

    #[test]
    fn the_last_labels_that_save_most_are_in_the_table_and_entries_leave_them_out() {
        // 40 `.com` hosts save 160 bytes, 50 `.io` ones 150, and one `.a`
        // 2; every label that fits is in the table, most saved first.
        let mut names: Vec<String> = (0..40).map(|i| format!("h{i}.com")).collect();
        names.extend((0..50).map(|i| format!("h{i}.io")));
        names.push("x.a".into());
        names.push("localhost".into());
        let table = last_labels(names.iter().map(|n| n.as_bytes()));
        assert_eq!(table, [&b"com"[..], b"io", b"a"]);
        let hosts: Vec<KeyHost<'_>> = names.iter().map(|n| key(n, true, true, false)).collect();
        let index = build(hosts.len(), |i| hosts[i], 1000, 0).expect("small");
        let layout = Layout::parse(&index, &EVERY_FLAG, 1).expect("parses");
        let all: Vec<Entry<'_>> = Hosts::new(&index, &layout).all_entries().collect();
        let h = Hosts::new(&index, &layout);
        let mut seen: Vec<Vec<u8>> = all.iter().map(|e| h.host_of(e.stored, e.code)).collect();
        seen.sort();
        let mut want: Vec<Vec<u8>> = names.iter().map(|n| n.as_bytes().to_vec()).collect();
        want.sort();
        assert_eq!(seen, want);
        // A one-label host is stored whole; the others without their last
        // label.
        for e in &all {
            assert_eq!(e.code == 0, e.stored == b"localhost", "{e:?}");
        }
        for n in &names {
            assert_eq!(
                found(&index, n, false),
                Ok(vec![(Kind::Url, n.len() + 1), (Kind::DomainName, n.len())])
            );
        }
        // The stored bytes alone, or the host under another last label,
        // are not key hosts.
        for q in ["h1", "h1.io.com", "h1.co", "h1.comx", "h45.com", "xh1.com"] {
            assert_eq!(found(&index, q, false), Ok(vec![]), "{q}");
        }
        // The table is filled while labels fit: 15 at most, 64 bytes.
        let many: Vec<String> = (0..30).map(|i| format!("h.t{i:02}")).collect();
        assert_eq!(
            last_labels(many.iter().map(|n| n.as_bytes())).len(),
            LAST_LABELS
        );
        let long: Vec<String> = (0..30)
            .map(|i| format!("h.{i:02}{}", "l".repeat(20)))
            .collect();
        assert_eq!(last_labels(long.iter().map(|n| n.as_bytes())).len(), 2);
    }

    #[test]
    fn a_table_of_last_labels_is_checked_when_the_set_is_opened() {
        let index = build(1, |_| key("example.com", true, false, false), 1, 0).expect("small");
        assert_eq!(&index[LABELS_AT..LABELS_AT + 4], b"\x03com");
        let bad = |edit: &dyn Fn(&mut Vec<u8>)| {
            let mut b = index.clone();
            edit(&mut b);
            Layout::parse(&b, &EVERY_FLAG, 1)
        };
        // A dot in a label, a label past the table, bytes after its end.
        assert_eq!(bad(&|b| b[LABELS_AT + 2] = b'.'), None);
        assert_eq!(bad(&|b| b[LABELS_AT] = 64), None);
        assert_eq!(bad(&|b| b[HEADER - 1] = 1), None);
        assert_eq!(bad(&|b| b[LABELS_AT + 5] = 7), None);
        // Sixteen labels are one too many.
        let sixteen = |b: &mut Vec<u8>| {
            for i in 0..16 {
                b[LABELS_AT + 2 * i] = 1;
                b[LABELS_AT + 2 * i + 1] = b'a';
            }
        };
        assert_eq!(bad(&sixteen), None);
        // Another label of the same form: the set opens, and its entry is
        // another host, which the lookup then finds instead.
        let other = bad(&|b| b[LABELS_AT + 1..LABELS_AT + 4].copy_from_slice(b"org"));
        assert!(other.is_some());
        let mut b = index.clone();
        b[LABELS_AT + 1..LABELS_AT + 4].copy_from_slice(b"org");
        assert_eq!(found(&b, "example.com", false), Ok(vec![]));
    }

    #[test]
    fn a_line_takes_no_entry_past_a_twelve_bit_offset() {
        // Long hosts in one bucket: 17 entries of 248 bytes (a length, 243
        // bytes without `.org`, flags, a record in 3 bytes) start at most
        // 3,968 bytes in; the 18th would start at 4,216, past 4,095, and
        // takes the next line, though a slot is free.
        let long = "a".repeat(240);
        let names: Vec<String> = (0..)
            .map(|i| format!("{long}{i:03}.org"))
            .filter(|h| suffix_states(h.as_bytes()).is_some_and(|(s, _, _)| bucket(s[1], 3) == 0))
            .take(20)
            .collect();
        // Ten more anywhere: 30 hosts make three buckets.
        let mut all = names.clone();
        all.extend((0..10).map(|i| format!("{long}{i:03}.net")));
        let hosts: Vec<KeyHost<'_>> = all.iter().map(|n| key(n, false, true, false)).collect();
        let index = build(hosts.len(), |i| hosts[i], 100, 0).expect("small");
        let layout = Layout::parse(&index, &EVERY_FLAG, 1).expect("parses");
        assert_eq!(layout.buckets, 3);
        let line = Hosts::new(&index, &layout).line(0).expect("a line");
        assert_eq!(usize::from(line[4] & USED), 17);
        let next = next_line(line, 0)
            .expect("a later line")
            .expect("an overflow line");
        let over = Hosts::new(&index, &layout).line(next).expect("a line");
        assert!(usize::from(over[4] & USED) >= 3);
        assert!((0..17).all(|slot| offset(line, slot) as usize <= MAX_OFFSET));
        assert_eq!(offset(line, 16), 16 * 248);
        for n in &all {
            assert_eq!(
                found(&index, n, false),
                Ok(vec![(Kind::DomainName, n.len())]),
                "{n}"
            );
        }
    }

    #[test]
    fn a_bucket_within_bounds_has_few_lines_and_few_equal_tags() {
        let distinct = |n: u16| (1..=n).map(|t| 2 * t + 1).collect::<Vec<u16>>();
        assert!(within_bounds(&mut distinct(10), 1));
        // 7 is one of the ten.
        let equal = |n: usize| [distinct(10), vec![7; n]].concat();
        assert!(within_bounds(&mut equal(MAX_HITS - 1), 2));
        assert!(!within_bounds(&mut equal(MAX_HITS), 2));
        let most = MAX_CHAIN as usize;
        assert!(within_bounds(&mut distinct(10), most));
        assert!(!within_bounds(&mut distinct(10), most + 1));
    }

    #[test]
    fn the_lines_are_aligned_in_the_file_and_headers_are_checked() {
        for at in [0, 8, 56, 256] {
            let index = build(1, |_| key("example.com", true, false, false), 1, at).expect("small");
            let l = Layout::parse(&index, &EVERY_FLAG, 1).expect("parses");
            assert_eq!((at + l.at) % LINE, 0);
            assert!(l.at >= HEADER);
        }
        let index = build(1, |_| key("example.com", true, false, false), 1, 0).expect("small");
        for (byte, value) in [(0, 0u8), (12, 2), (12, 6), (20, 1), (5, 0xff)] {
            let mut bad = index.clone();
            bad[byte] = value;
            assert_eq!(
                Layout::parse(&bad, &EVERY_FLAG, 1),
                None,
                "byte {byte} = {value}"
            );
        }
        assert_eq!(Layout::parse(&index[..HEADER], &EVERY_FLAG, 1), None);
        // The palette is 1 to 256 flag bytes, a power of two.
        for len in [0, 3, 257, 512] {
            assert_eq!(Layout::parse(&index, &vec![0; len], 1), None, "{len}");
        }
        assert!(Layout::parse(&index, &[2], 1).is_some());
    }

    #[test]
    fn a_record_and_its_flag_byte_come_back_through_the_palette_at_every_width() {
        // Flag bytes: block, an expiring warn chained to the next record,
        // an audit with metadata; 3 of them, so 2 bits of index.
        let small = [2u8, 0x80 | 0x20 | 1, 0x40 | 3];
        let every: Vec<u8> = EVERY_FLAG.to_vec();
        for (flags, records, width) in [
            (&small[..], 1usize << 22, 3),
            (&small[..], (1 << 22) + 1, 4),
            (&small[..], 1 << 30, 4),
            (&small[..], (1 << 30) + 1, 5),
            (&every[..], 1 << 16, 3),
            (&every[..], (1 << 16) + 1, 4),
            (&every[..], 1 << 24, 4),
            (&every[..], u32::MAX as usize + 1, 5),
            (&[7u8][..], 1 << 24, 3),
            (&[7u8][..], (1 << 24) + 1, 4),
        ] {
            let palette = Palette::of(flags.iter().copied());
            let last = (records - 1) as u32;
            let names = ["example.com", "a.example.com", "b.example.org", "c.net"];
            let hosts: Vec<KeyHost<'_>> = names
                .iter()
                .enumerate()
                .map(|(i, n)| KeyHost {
                    host: n.as_bytes(),
                    root: Some((last - 2 * i as u32, flags[i % flags.len()])),
                    domain: Some((i as u32, flags[(i + 1) % flags.len()])),
                    paths: false,
                    audit_above: true,
                })
                .collect();
            let plan = plan(hosts.len(), |i| hosts[i], records, &palette).expect("small");
            let mut index = Vec::new();
            let again = super::plan(hosts.len(), |i| hosts[i], records, &palette).expect("small");
            write(again, |i| hosts[i], 0, &mut index);
            // Written after other bytes (as in a file's buffer), the
            // section is the same bytes, placed by its own start.
            let mut after = vec![0xAB; 320];
            write(plan, |i| hosts[i], 0, &mut after);
            assert_eq!(after[..320], [0xAB; 320]);
            assert_eq!(after[320..], index[..]);
            let layout = Layout::parse(&index, &palette.entries, records).expect("parses");
            assert_eq!(layout.width, width, "{records} records, {flags:?}");
            // The width is the one for the set's records, and no other.
            let other = if width == 3 { records << 8 } else { 1 };
            assert_eq!(Layout::parse(&index, &palette.entries, other), None);
            let mut entries: Vec<(Vec<u8>, Option<u32>, Option<u32>)> = Hosts::new(&index, &layout)
                .all_entries()
                .map(|e| {
                    (
                        Hosts::new(&index, &layout).host_of(e.stored, e.code),
                        e.root,
                        e.domain,
                    )
                })
                .collect();
            entries.sort();
            let mut want: Vec<(Vec<u8>, Option<u32>, Option<u32>)> = hosts
                .iter()
                .map(|h| (h.host.to_vec(), h.root.map(|r| r.0), h.domain.map(|d| d.0)))
                .collect();
            want.sort();
            assert_eq!(entries, want, "{records} records, {flags:?}");
            for h in &hosts {
                let mut got = Vec::new();
                Hosts::new(&index, &layout)
                    .lookup(h.host, None, &[], false, &mut |c: Candidate| {
                        // The host's own keys, each once: without a
                        // filter a key can be offered twice (see `found`).
                        let c2 = (c.kind, c.record, c.flags);
                        if c.len >= h.host.len() && !got.contains(&c2) {
                            got.push(c2);
                        }
                        Progress {
                            decider: false,
                            audit: false,
                        }
                    })
                    .expect("no fallback");
                let (root, domain) = (h.root.expect("root"), h.domain.expect("domain"));
                assert_eq!(
                    got,
                    vec![
                        (Kind::Url, root.0, root.1),
                        (Kind::DomainName, domain.0, domain.1)
                    ],
                    "{} with {records} records, {flags:?}",
                    String::from_utf8_lossy(h.host)
                );
            }
        }
    }
}
