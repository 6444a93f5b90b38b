//! The `.indset` file format: the one owner of every byte a set stores.
//!
//! The writer ([`crate::compile`]) and the reader
//! ([`IndicatorSet`](crate::IndicatorSet)) both take the layout from here,
//! and neither imports the other. This module holds
//! the container (header, section table, checksums, [`Writer`], [`map`]),
//! the id and layout of each section a set stores, the bits of a record's
//! flag byte and of a metadata entry, and the encodings shared by both
//! sides with their encoder beside their decoder: packed integers
//! (`format/packed.rs`), the suffix filter (`format/filter.rs`) and the
//! nodes of the key automaton (`format/fst.rs`).
//!
//! # The container
//!
//! All integers are little-endian (read through one bounds-checked reader,
//! `format/wire.rs`). Offsets count from the first byte of the file.
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0  | 8  | magic [`MAGIC`], `89 49 4E 44 53 45 54 0A` (`\x89INDSET\n`) |
//! | 8  | 4  | format version, [`VERSION`] |
//! | 12 | 4  | flags: opaque to the container, defined by the set ([`Writer::flags`]) |
//! | 16 | 8  | file length in bytes, this header included |
//! | 24 | 4  | section count `n`, at most [`MAX_SECTIONS`] |
//! | 28 | 4  | body checksum: CRC-32 of bytes `40..file length` (table, padding, sections) |
//! | 32 | 4  | reserved, zero |
//! | 36 | 4  | header checksum: CRC-32 of bytes `0..36` |
//! | 40 | 24 × `n` | section table, one entry per section, in file order |
//! | 40 + 24`n` | ... | the sections, each followed by zero padding up to the next multiple of 8 |
//!
//! A section table entry:
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0  | 4 | section id |
//! | 4  | 4 | reserved, zero |
//! | 8  | 8 | offset of the section's first byte |
//! | 16 | 8 | length of the section in bytes |
//!
//! The first section starts right after the table, every other one at the
//! first multiple of 8 at or after the end of the previous one; the file ends
//! where the last section ends (or after the table when there is none). The
//! header and every table entry are multiples of 8 bytes long, so every
//! section starts 8-aligned in the file; a memory map is page-aligned, so the
//! sections of a mapped file are 8-aligned in memory too.
//!
//! The layout is canonical: the same flags and the same sections in the same
//! order always give the same bytes, and [`Container::parse`] accepts only
//! files in exactly that form (padding zero, no gaps, no trailing bytes).
//!
//! # Verification
//!
//! [`Container::parse`] checks, in this order, and stops at the first problem:
//!
//! 1. the file holds a whole header ([`FormatError::Truncated`]);
//! 2. the magic ([`FormatError::BadMagic`]);
//! 3. the version ([`FormatError::UnsupportedVersion`]), before any checksum,
//!    so that a file from another version of the format is reported as such;
//! 4. the header checksum ([`FormatError::ChecksumMismatch`] for
//!    [`Region::Header`]);
//! 5. the file length against the one recorded in the header
//!    ([`FormatError::Truncated`], [`FormatError::TrailingBytes`]);
//! 6. the body checksum ([`FormatError::ChecksumMismatch`] for
//!    [`Region::Body`]);
//! 7. the structure: section count, table entries, alignment, bounds,
//!    placement, padding and duplicate ids.
//!
//! CRC-32 detects every error of up to 32 consecutive bits, so every
//! single-bit flip anywhere in a file is caught by step 2, 3, 4 or 6, and
//! every truncation by step 1 or 5. Step 7 only fails on a file that was
//! crafted (or written by a broken writer) with correct checksums.
//!
//! Verification reads every byte once and allocates nothing: its cost is
//! that of CRC-32 with `crc32fast`'s SIMD path, which on large files is the
//! memory's bandwidth (see BENCHMARKS.md). A body of [`PARALLEL_CRC`] bytes or more is
//! checksummed in two halves, the second on a scoped thread, when the
//! machine has more than one core: two cores read memory faster than one.
//! The halves' checksums are combined into the same CRC-32; if the thread
//! cannot be started, the calling thread checksums both halves.
//!
//! # The sections of a set
//!
//! A set stores nine sections, in this order (the filter first, so that
//! it starts 64-byte aligned in the file and each of its 32-byte blocks
//! lies within one cache line, then the host index, whose writer knows
//! where its lines fall in the file and aligns them to 64 bytes). `n` is the number of
//! records, in key byte order. A key usually has one record; a key written
//! several times with expirations can hold up to `MAX_CHAIN`, one per
//! action, in order of precedence, each marked `CHAINED` but the last:
//! the first one not expired decides. Every key maps to its first record,
//! in one of two places: the host index holds the keys without a path
//! (`DomainName` keys and root `Url` keys) of the hosts it files, and when
//! its header says it is their sole store, the key automaton holds only
//! the other keys (`Url` keys with a path, and the keys of hosts of more
//! than 16 labels); otherwise the automaton holds every key.
//!
//! | section | contents |
//! |---|---|
//! | [`FILTER`] | a blocked Bloom filter of every key's host (a `DomainName`'s domain, a `Url`'s exact host), 10 bits per key in 32-byte blocks, a host's block chosen by its last two labels (`format/filter.rs`), and the host index's redirects (`format/hosts.rs`); optional, a set without it probes the index for every suffix of a query and every deeper level |
//! | [`HOSTS`] | the host index: bucket lines of 12-bit tags of the key hosts' label suffixes (18 to a line), and each key host's bytes (without its last label when that is one of the 15 in the section's table), its root `Url` and `DomainName` keys' first records and whether it has `Url` keys with a path (`format/hosts.rs`); optional, a set without it walks the keys for every query |
//! | [`KEYS`] | an `fst` map from key to its first record (`format/fst.rs`): every key, or, when the host index is their sole store, every key it does not hold |
//! | [`RECORDS`] | `n` (`u64`), the number of `Url` records (`u64`), `p` (`u8`, at most `PALETTE_BITS`), a palette of `2^p` flag bytes, then `n` palette indices of `p` bits |
//! | [`LINES`] | `b` (`u8`, at most `LINE_BITS`), then `n` line numbers of `b` bits, each an input file's first number (in [`SOURCES`]) plus the line; `LINE_IN_META` (with `b` = 24) when the number is that large or larger, with the id (`file:line`) in metadata |
//! | [`META_INDEX`] | `m` pairs `(record: u32, offset: u32)` sorted by record, one per record with `HAS_META` |
//! | [`META`] | metadata entries, identical ones stored once (see below) |
//! | [`COMMON_INPUTS`] | the 63 common input bytes of the `fst` node format, in index order |
//! | [`SOURCES`] | `k` (`u32`), then `k` input files in byte order of names, each: its first row number (`u64`), the first number of its further rows (`u64`), their count `e` (`u32`), its name (`u32` length and UTF-8 bytes), then `e` further rows as line (`u64`) and place on the line (`u32`, from 1). A file's lines take the numbers from its first up to its largest line; a row that is not the first to start on its line (a hosts line with several names) takes one of the further numbers; numbers grow file after file |
//!
//! Packed integers sit end to end, lowest bit first (value `i` in bits
//! `i * b .. (i + 1) * b`, `format/packed.rs`), each array at the width its
//! largest value needs.
//!
//! ## Keys
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
//! ## Records
//!
//! A record's flag byte: bits 0-1 action (`ACTION_MASK`: allow, warn,
//! block, audit, as in `ACTIONS`), bits 2-4 severity (`SEVERITY_SHIFT`,
//! `SEVERITY_MASK`: 0 none, 1 informational .. 4 high), bit 5 has an
//! expiration (`HAS_EXPIRATION`), bit 6 has a metadata entry
//! (`HAS_META`), bit 7 the next record holds the same key (`CHAINED`,
//! only with bit 5). A set holds few distinct flag bytes (one per action in
//! a plain list), so each record stores the index of its flag byte in the
//! palette, in as few bits as the palette needs. The palette is padded to a
//! power of two with its first entry, so that every index names an entry.
//!
//! ## Metadata entries
//!
//! One byte saying which fields follow (`M_EXPIRATION`, `M_ID`,
//! `M_TITLE`, `M_CATEGORY`, `M_DESCRIPTION`, `M_GROUPS`, `M_ALERT`
//! the alert flag is present, `M_ALERT_VALUE` its value), then the
//! expiration as `i64` seconds (first, so a lookup reads it at a fixed
//! offset), then each present string as `u32` length and UTF-8 bytes, in
//! the order id, title, category, description, then the groups as a `u32`
//! count and strings.
//!
//! Without metadata an indicator costs its share of the fst, a few bits of
//! record (2 for a list with four actions), the bits of its line (20 for
//! lines up to 1,048,575), 1.25 bytes of filter and, for a key host, its
//! entry in the host index (its bytes plus 5 to 12) and about 5 bytes
//! of bucket lines.

use crate::indicator::{Action, Severity};

// The container's whole API is public with the `internals` feature (its
// tests, the fuzz targets and the benchmarks use all of it); the set and
// the compiler alone use part of it.
#[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
mod container;
pub(crate) mod filter;
pub(crate) mod fst;
pub(crate) mod hosts;
pub(crate) mod packed;
pub(crate) mod wire;

#[cfg(feature = "compile")]
pub(crate) use container::write_atomically;
#[cfg(any(test, feature = "internals"))]
pub use container::{ALIGN, ENTRY_LEN, HEADER_LEN, MAGIC, MAX_SECTIONS, PARALLEL_CRC, VERSION};
// The writer of sets, for the compiler (and the container's own tests).
#[cfg(any(test, feature = "compile"))]
pub use container::Writer;
pub use container::{Container, FormatError, Mapped, Region, SectionId, map};

/// The `fst` map from key to first record.
pub const KEYS: SectionId = SectionId(0x10);
/// Each record's flag byte, through a palette.
pub const RECORDS: SectionId = SectionId(0x11);
/// Each record's input line, packed.
pub const LINES: SectionId = SectionId(0x12);
/// Sorted `(record, offset)` pairs into [`META`].
pub const META_INDEX: SectionId = SectionId(0x13);
/// Metadata entries.
pub const META: SectionId = SectionId(0x14);
/// The common-input table of the key automaton's node format.
pub const COMMON_INPUTS: SectionId = SectionId(0x15);
/// The suffix filter in front of the keys.
pub const FILTER: SectionId = SectionId(0x16);
/// The file names of the inputs, and each record's input.
pub const SOURCES: SectionId = SectionId(0x17);
/// The host index in front of the keys (`format/hosts.rs`).
pub const HOSTS: SectionId = SectionId(0x18);

/// Where the first section of a file of `sections` sections starts.
#[cfg(feature = "compile")]
pub(crate) const fn first_section_at(sections: usize) -> usize {
    container::HEADER_LEN + container::ENTRY_LEN * sections
}

/// The name of a section a set stores, for messages.
pub(crate) fn section_name(id: SectionId) -> Option<&'static str> {
    Some(match id {
        KEYS => "keys",
        RECORDS => "records",
        LINES => "lines",
        META_INDEX => "meta-index",
        META => "meta",
        COMMON_INPUTS => "common-inputs",
        FILTER => "filter",
        SOURCES => "sources",
        HOSTS => "hosts",
        _ => return None,
    })
}

/// The widest line in [`LINES`], in bits; larger lines go to metadata.
pub(crate) const LINE_BITS: u8 = 24;
/// The line stored for a record whose line is in its metadata id.
#[cfg(feature = "compile")]
pub(crate) const LINE_IN_META: u32 = (1 << LINE_BITS) - 1;
/// The widest palette index in [`RECORDS`], in bits (a palette of 256).
pub(crate) const PALETTE_BITS: u8 = 8;

/// The palette of a set's flag bytes, as the writer makes it: every flag
/// byte the records use, in increasing order, padded to a power of two
/// with its first entry. [`RECORDS`] stores each record's index in it, and
/// the host index stores each key's first record with its index
/// (`format/hosts.rs`).
#[cfg(feature = "compile")]
#[derive(Clone)]
pub(crate) struct Palette {
    /// The width of an index in bits, at most [`PALETTE_BITS`].
    pub(crate) bits: u8,
    /// `2^bits` flag bytes.
    pub(crate) entries: Vec<u8>,
    /// Each flag byte's index, for the flag bytes in use.
    index: [u8; 256],
}

#[cfg(feature = "compile")]
impl Palette {
    /// The palette of the flag bytes `flags`.
    pub(crate) fn of(flags: impl IntoIterator<Item = u8>) -> Palette {
        let mut seen = [false; 256];
        for f in flags {
            seen[usize::from(f)] = true;
        }
        let mut entries: Vec<u8> = (0..=255u8).filter(|&f| seen[usize::from(f)]).collect();
        let bits = packed::bits_for(entries.len().saturating_sub(1) as u32);
        // Padded to a power of two, so that every index of `bits` bits
        // names an entry.
        entries.resize(1 << bits, entries.first().copied().unwrap_or(0));
        let mut index = [0u8; 256];
        for (i, &f) in entries.iter().enumerate().rev() {
            index[usize::from(f)] = i as u8;
        }
        Palette {
            bits,
            entries,
            index,
        }
    }

    /// The index of the flag byte `f`, which must be one the palette was
    /// made of.
    pub(crate) fn index(&self, f: u8) -> u8 {
        debug_assert_eq!(self.entries[usize::from(self.index[usize::from(f)])], f);
        self.index[usize::from(f)]
    }
}

/// Flag byte: the action, an index into [`ACTIONS`].
pub(crate) const ACTION_MASK: u8 = 0b11;
/// Flag byte: where the severity starts (0 none, else an index into
/// [`SEVERITIES`] plus 1).
pub(crate) const SEVERITY_SHIFT: u8 = 2;
/// Flag byte: the severity's bits, after [`SEVERITY_SHIFT`].
pub(crate) const SEVERITY_MASK: u8 = 0b111;
/// Flag byte: the record has an expiration (in its metadata entry).
pub(crate) const HAS_EXPIRATION: u8 = 1 << 5;
/// Flag byte: the record has a metadata entry.
pub(crate) const HAS_META: u8 = 1 << 6;
/// Flag byte: the record after this one holds the same key, for when this
/// one has expired. Only a record with an expiration has it.
pub(crate) const CHAINED: u8 = 1 << 7;
/// The most records one key holds: one per action.
pub(crate) const MAX_CHAIN: usize = 4;

/// Metadata entry: an expiration (`i64` seconds) follows the mask.
pub(crate) const M_EXPIRATION: u8 = 1 << 0;
/// Metadata entry: an id.
pub(crate) const M_ID: u8 = 1 << 1;
/// Metadata entry: a title.
pub(crate) const M_TITLE: u8 = 1 << 2;
/// Metadata entry: a category.
pub(crate) const M_CATEGORY: u8 = 1 << 3;
/// Metadata entry: a description.
pub(crate) const M_DESCRIPTION: u8 = 1 << 4;
/// Metadata entry: device groups.
pub(crate) const M_GROUPS: u8 = 1 << 5;
/// Metadata entry: the alert flag is present.
pub(crate) const M_ALERT: u8 = 1 << 6;
/// Metadata entry: the alert flag's value.
pub(crate) const M_ALERT_VALUE: u8 = 1 << 7;

/// The actions of a flag byte's [`ACTION_MASK`] bits, in order.
pub(crate) const ACTIONS: [Action; 4] = [Action::Allow, Action::Warn, Action::Block, Action::Audit];
/// The severities of a flag byte's severity bits, from 1.
pub(crate) const SEVERITIES: [Severity; 4] = [
    Severity::Informational,
    Severity::Low,
    Severity::Medium,
    Severity::High,
];
