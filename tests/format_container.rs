//! The `.indset` container: round trips, determinism, and rejection of every
//! single-bit flip, every truncation and crafted structural damage, each
//! with the error variant that names the problem.

use indset::format::{
    ALIGN, Container, ENTRY_LEN, FormatError, HEADER_LEN, KEYS, LINES, MAGIC, MAX_SECTIONS,
    PARALLEL_CRC, Region, SectionId, VERSION, Writer,
};
use proptest::prelude::*;

/// Lengths chosen to need every amount of padding, an empty section included.
fn sample_sections() -> Vec<(SectionId, Vec<u8>)> {
    let lengths = [13usize, 0, 8, 1, 7, 100, 42];
    lengths
        .iter()
        .enumerate()
        .map(|(i, &len)| {
            let bytes = (0..len).map(|j| (i * 31 + j * 7 + 1) as u8).collect();
            (SectionId(i as u32 + 1), bytes)
        })
        .collect()
}

fn write(sections: &[(SectionId, Vec<u8>)], flags: u32) -> Vec<u8> {
    let mut writer = Writer::new();
    writer.flags(flags);
    for (id, bytes) in sections {
        writer.add_section(*id, bytes);
    }
    writer.finish()
}

fn sample() -> Vec<u8> {
    write(&sample_sections(), 0xA5)
}

fn sections_of(container: &Container<'_>) -> Vec<(SectionId, Vec<u8>)> {
    container
        .sections()
        .map(|(id, bytes)| (id, bytes.to_vec()))
        .collect()
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn put_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn put_u64(bytes: &mut [u8], at: usize, value: u64) {
    bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

/// Rewrites the length and both checksums after a deliberate edit, as a
/// malicious or broken writer would.
fn reseal(bytes: &mut [u8]) {
    let len = bytes.len() as u64;
    put_u64(bytes, 16, len);
    let body = crc32fast::hash(&bytes[HEADER_LEN..]);
    put_u32(bytes, 28, body);
    let header = crc32fast::hash(&bytes[..36]);
    put_u32(bytes, 36, header);
}

/// The byte offset of field `at` of table entry `index`.
fn entry(index: usize, at: usize) -> usize {
    HEADER_LEN + index * ENTRY_LEN + at
}

// ---------------------------------------------------------------------------
// Round trip and layout

#[test]
fn round_trip_gives_back_every_section_aligned() {
    let sections = sample_sections();
    let bytes = sample();
    let container = Container::parse(&bytes).unwrap();
    assert_eq!(container.flags(), 0xA5);
    assert_eq!(container.section_count(), sections.len());
    assert_eq!(sections_of(&container), sections);
    for (id, expected) in &sections {
        let got = container.section(*id).unwrap();
        assert_eq!(got, &expected[..]);
        assert_eq!(container.require(*id).unwrap(), &expected[..]);
        let range = container.section_range(*id).unwrap();
        assert_eq!(&bytes[range.clone()], &expected[..]);
        assert_eq!(range.start % ALIGN, 0, "section {id} is not aligned");
        let offset = got.as_ptr() as usize - bytes.as_ptr() as usize;
        assert_eq!(offset, range.start);
    }
}

#[test]
fn empty_container_round_trips() {
    let bytes = Writer::new().finish();
    assert_eq!(bytes.len(), HEADER_LEN);
    let container = Container::parse(&bytes).unwrap();
    assert_eq!(container.section_count(), 0);
    assert_eq!(container.flags(), 0);
    assert!(container.section(KEYS).is_none());
}

#[test]
fn layout_is_pinned() {
    // Changing these bytes changes the format: bump VERSION.
    let bytes = write(&[(SectionId(7), vec![0xEE; 3])], 0x0102_0304);
    let table_end = HEADER_LEN + ENTRY_LEN;
    assert_eq!(bytes.len(), table_end + 3);
    assert_eq!(&bytes[..8], &MAGIC);
    assert_eq!(&bytes[..8], b"\x89INDSET\n");
    assert_eq!(u32_at(&bytes, 8), VERSION);
    assert_eq!(u32_at(&bytes, 12), 0x0102_0304);
    assert_eq!(&bytes[16..24], &(bytes.len() as u64).to_le_bytes());
    assert_eq!(u32_at(&bytes, 24), 1);
    assert_eq!(u32_at(&bytes, 28), crc32fast::hash(&bytes[HEADER_LEN..]));
    assert_eq!(u32_at(&bytes, 32), 0);
    assert_eq!(u32_at(&bytes, 36), crc32fast::hash(&bytes[..36]));
    assert_eq!(u32_at(&bytes, entry(0, 0)), 7);
    assert_eq!(u32_at(&bytes, entry(0, 4)), 0);
    assert_eq!(
        &bytes[entry(0, 8)..entry(0, 16)],
        &(table_end as u64).to_le_bytes()
    );
    assert_eq!(&bytes[entry(0, 16)..entry(0, 24)], &3u64.to_le_bytes());
    assert_eq!(&bytes[table_end..], &[0xEE; 3]);
}

#[test]
fn padding_is_zero_and_the_file_ends_with_the_last_section() {
    let bytes = write(
        &[(SectionId(1), vec![0xFF; 3]), (SectionId(2), vec![0xFF; 2])],
        0,
    );
    let first = HEADER_LEN + 2 * ENTRY_LEN;
    assert_eq!(&bytes[first..first + 3], &[0xFF; 3]);
    assert_eq!(&bytes[first + 3..first + 8], &[0; 5]);
    assert_eq!(&bytes[first + 8..], &[0xFF; 2]);
}

#[test]
fn write_to_len_and_into_bytes_agree_with_finish() {
    let mut writer = Writer::new();
    for (id, bytes) in sample_sections() {
        writer.add_section(id, &bytes);
    }
    let mut out = Vec::new();
    writer.write_to(&mut out).unwrap();
    assert_eq!(out, writer.finish());
    assert_eq!(writer.len(), out.len());
    assert!(!writer.is_empty());
    assert!(Writer::new().is_empty());
    assert_eq!(writer.into_bytes(), out);
    assert_eq!(Writer::new().into_bytes(), Writer::new().finish());
}

#[test]
fn room_for_the_head_and_sections_written_in_place_change_no_byte() {
    let sections = sample_sections();
    let reference = write(&sections, 0x5A);
    // Room for as many sections as written, for fewer and for more; each
    // section written in place or copied in; `into_bytes`, `finish` and
    // `write_to` all give the same file.
    for room in [0, 3, sections.len(), sections.len() + 2] {
        for in_place in [false, true] {
            let mut writer = Writer::with_room_for(room);
            writer.flags(0x5A);
            let mut offsets = Vec::new();
            for (id, bytes) in &sections {
                if in_place {
                    writer.add_section_with(*id, |data, at| {
                        offsets.push(at);
                        data.extend_from_slice(bytes);
                    });
                } else {
                    writer.add_section(*id, bytes);
                }
            }
            let mut out = Vec::new();
            writer.write_to(&mut out).unwrap();
            assert_eq!(out, reference, "room {room}, in place {in_place}");
            assert_eq!(writer.finish(), reference);
            assert_eq!(writer.len(), reference.len());
            assert_eq!(writer.into_bytes(), reference);
            // Each section was told where it starts among the sections.
            if in_place {
                let first = HEADER_LEN + sections.len() * ENTRY_LEN;
                for (i, at) in offsets.into_iter().enumerate() {
                    assert_eq!(u32_at(&reference, entry(i, 8)) as usize, first + at);
                }
            }
        }
    }
}

#[test]
fn write_file_then_map_round_trips_and_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("set.indset");
    let mut writer = Writer::new();
    writer.add_section(KEYS, b"old");
    writer.write_file(&path).unwrap();
    let old = indset::format::map(&path).unwrap();

    let mut writer = Writer::new();
    writer.add_section(KEYS, b"new");
    writer.write_file(&path).unwrap();
    let new = indset::format::map(&path).unwrap();

    // The old map still sees the old file: the rename left it alone.
    let old = Container::parse(&old).unwrap();
    assert_eq!(old.section(KEYS), Some(&b"old"[..]));
    let new = Container::parse(&new).unwrap();
    assert_eq!(new.section(KEYS), Some(&b"new"[..]));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "the temporary file was left behind");
}

#[test]
fn map_rejects_empty_and_missing_files_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.indset");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        indset::format::map(&empty),
        Err(FormatError::Truncated { needed, len: 0 }) if needed == HEADER_LEN as u64
    ));
    let missing = dir.path().join("missing.indset");
    let err = indset::format::map(&missing).unwrap_err();
    assert!(matches!(&err, FormatError::Io(io) if io.kind() == std::io::ErrorKind::NotFound));
    assert!(std::error::Error::source(&err).is_some());
}

// ---------------------------------------------------------------------------
// Determinism

#[test]
fn same_sections_give_identical_bytes() {
    assert_eq!(sample(), sample());
    let mut reversed = sample_sections();
    reversed.reverse();
    assert_ne!(
        write(&reversed, 0xA5),
        sample(),
        "order is part of the file"
    );
    let container_bytes = write(&reversed, 0xA5);
    let container = Container::parse(&container_bytes).unwrap();
    assert_eq!(sections_of(&container), reversed);
}

#[test]
fn a_parsed_file_rewrites_to_the_same_bytes() {
    let bytes = sample();
    let container = Container::parse(&bytes).unwrap();
    assert_eq!(write(&sections_of(&container), container.flags()), bytes);
}

// ---------------------------------------------------------------------------
// Every single-bit flip, every truncation

#[test]
fn every_single_bit_flip_is_rejected_with_the_right_error() {
    let original = sample();
    assert!(
        original.len() > 300,
        "the sample should be a few hundred bytes"
    );
    for byte in 0..original.len() {
        for bit in 0..8 {
            let mut bytes = original.clone();
            bytes[byte] ^= 1 << bit;
            let err = Container::parse(&bytes).unwrap_err();
            let ok = match byte {
                0..8 => matches!(err, FormatError::BadMagic { found } if found[..] == bytes[..8]),
                8..12 => matches!(
                    err,
                    FormatError::UnsupportedVersion { expected: VERSION, found }
                        if found == VERSION ^ (1 << (bit + 8 * (byte - 8)))
                ),
                12..HEADER_LEN => matches!(
                    err,
                    FormatError::ChecksumMismatch {
                        region: Region::Header,
                        ..
                    }
                ),
                _ => matches!(
                    err,
                    FormatError::ChecksumMismatch { region: Region::Body, expected, found }
                        if expected == u32_at(&bytes, 28) && found != expected
                ),
            };
            assert!(ok, "flip of bit {bit} of byte {byte}: {err:?}");
        }
    }
}

#[test]
fn every_truncation_is_rejected_as_truncated() {
    let original = sample();
    let full = original.len() as u64;
    for len in 0..original.len() {
        let err = Container::parse(&original[..len]).unwrap_err();
        let needed = if len < HEADER_LEN {
            HEADER_LEN as u64
        } else {
            full
        };
        assert!(
            matches!(err, FormatError::Truncated { needed: n, len: l } if n == needed && l == len as u64),
            "truncation to {len} bytes: {err:?}"
        );
    }
}

#[test]
fn appended_bytes_are_rejected() {
    for extra in [&[0u8][..], &[0; 8], b"garbage"] {
        let mut bytes = sample();
        let expected = bytes.len() as u64;
        bytes.extend_from_slice(extra);
        assert!(matches!(
            Container::parse(&bytes),
            Err(FormatError::TrailingBytes { expected: e, len }) if e == expected && len == bytes.len() as u64
        ));
    }
}

// ---------------------------------------------------------------------------
// Crafted files: correct checksums, broken structure

/// A sample file with `edit` applied and the checksums made to match.
fn crafted(edit: impl FnOnce(&mut Vec<u8>)) -> Result<(), FormatError> {
    let mut bytes = sample();
    edit(&mut bytes);
    reseal(&mut bytes);
    Container::parse(&bytes).map(|_| ())
}

fn offset_of(bytes: &[u8], index: usize) -> u64 {
    u64::from_le_bytes(bytes[entry(index, 8)..entry(index, 16)].try_into().unwrap())
}

#[test]
fn crafted_structure_errors() {
    // Resealing alone changes nothing.
    crafted(|_| {}).unwrap();

    let err = crafted(|b| put_u32(b, 32, 1)).unwrap_err();
    assert!(matches!(err, FormatError::Corrupt(m) if m.contains("reserved")));

    let err = crafted(|b| put_u32(b, entry(2, 4), 1)).unwrap_err();
    assert!(matches!(err, FormatError::Corrupt(m) if m.contains("reserved")));

    let err = crafted(|b| put_u32(b, 24, MAX_SECTIONS as u32 + 1)).unwrap_err();
    assert!(matches!(err, FormatError::Corrupt(m) if m.contains("sections")));

    let err = crafted(|b| put_u32(b, 24, 100)).unwrap_err();
    assert!(matches!(err, FormatError::Corrupt(m) if m.contains("table")));

    // One entry fewer: the table is shorter than the first section's offset.
    let err = crafted(|b| put_u32(b, 24, 6)).unwrap_err();
    assert!(matches!(
        err,
        FormatError::SectionMisplaced {
            id: SectionId(1),
            ..
        }
    ));

    let err = crafted(|b| {
        let off = offset_of(b, 3);
        put_u64(b, entry(3, 8), off + 1);
    })
    .unwrap_err();
    assert!(matches!(
        err,
        FormatError::Misaligned {
            id: SectionId(4),
            ..
        }
    ));

    // Overlapping the previous section.
    let err = crafted(|b| {
        let off = offset_of(b, 0);
        put_u64(b, entry(1, 8), off);
    })
    .unwrap_err();
    assert!(matches!(
        err,
        FormatError::SectionMisplaced { id: SectionId(2), offset, expected } if offset < expected
    ));

    // A gap after the previous section.
    let err = crafted(|b| {
        let off = offset_of(b, 5);
        put_u64(b, entry(5, 8), off + 8);
        put_u64(b, entry(5, 16), 92);
    })
    .unwrap_err();
    assert!(matches!(
        err,
        FormatError::SectionMisplaced { id: SectionId(6), offset, expected } if offset > expected
    ));

    let err = crafted(|b| put_u64(b, entry(6, 16), 1000)).unwrap_err();
    assert!(matches!(
        err,
        FormatError::SectionOutOfBounds {
            id: SectionId(7),
            len: 1000,
            ..
        }
    ));

    let err = crafted(|b| put_u64(b, entry(6, 8), u64::MAX - 7)).unwrap_err();
    assert!(matches!(
        err,
        FormatError::SectionOutOfBounds {
            id: SectionId(7),
            ..
        }
    ));

    let err = crafted(|b| put_u32(b, entry(4, 0), 2)).unwrap_err();
    assert!(matches!(
        err,
        FormatError::DuplicateSection { id: SectionId(2) }
    ));

    // Section 1 has 13 bytes followed by 3 bytes of padding.
    let err = crafted(|b| {
        let pad = offset_of(b, 0) as usize + 13;
        b[pad] = 1;
    })
    .unwrap_err();
    assert!(matches!(err, FormatError::Corrupt(m) if m.contains("padding")));

    // Bytes after the last section, counted in the header's length.
    let err = crafted(|b| b.extend_from_slice(&[0; 8])).unwrap_err();
    assert!(matches!(err, FormatError::TrailingBytes { .. }));
}

#[test]
fn missing_section_is_named() {
    let bytes = sample();
    let container = Container::parse(&bytes).unwrap();
    let err = container.require(SectionId(99)).unwrap_err();
    assert!(matches!(
        err,
        FormatError::MissingSection { id: SectionId(99) }
    ));
    assert!(err.to_string().contains("99"));
}

#[test]
#[should_panic(expected = "added twice")]
fn writer_refuses_duplicate_ids() {
    Writer::new()
        .add_section(KEYS, b"a")
        .add_section(KEYS, b"b");
}

#[test]
#[should_panic(expected = "more than 256 sections")]
fn writer_refuses_too_many_sections() {
    let mut writer = Writer::new();
    for id in 0..=MAX_SECTIONS as u32 {
        writer.add_section(SectionId(id), b"");
    }
}

#[test]
fn a_full_table_is_accepted() {
    let mut writer = Writer::new();
    for id in 0..MAX_SECTIONS as u32 {
        writer.add_section(SectionId(id), &id.to_le_bytes()[..(id % 5) as usize]);
    }
    let bytes = writer.finish();
    let container = Container::parse(&bytes).unwrap();
    assert_eq!(container.section_count(), MAX_SECTIONS);
    assert_eq!(container.section(SectionId(254)), Some(&[254, 0, 0, 0][..]));
}

// ---------------------------------------------------------------------------
// Messages

#[test]
fn messages_say_what_is_wrong_and_what_to_do() {
    let cases: Vec<(FormatError, &[&str])> = vec![
        (
            FormatError::BadMagic {
                found: *b"PK\x03\x04abcd",
            },
            &["not an indset file", "50 4b 03 04", "indset compile"],
        ),
        (
            FormatError::UnsupportedVersion {
                expected: 1,
                found: 2,
            },
            &["version 2", "reads version 1", "indset compile"],
        ),
        (
            FormatError::Truncated {
                needed: 100,
                len: 40,
            },
            &["truncated", "40 bytes of 100", "indset compile"],
        ),
        (
            FormatError::ChecksumMismatch {
                region: Region::Body,
                expected: 1,
                found: 2,
            },
            &[
                "corrupt",
                "section data checksum",
                "0x00000002",
                "0x00000001",
            ],
        ),
        (
            FormatError::SectionOutOfBounds {
                id: LINES,
                offset: 64,
                len: 9,
                file_len: 70,
            },
            &["section 18 (lines)", "past the end", "70 bytes"],
        ),
        (
            FormatError::Corrupt("the trie has a cycle"),
            &["corrupt: the trie has a cycle", "indset compile"],
        ),
    ];
    for (err, needles) in cases {
        let message = err.to_string();
        assert!(message.starts_with(char::is_lowercase), "{message}");
        for needle in needles {
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// Properties

/// A table of up to six entries near valid values, with correct checksums:
/// gets past every checksum into the structural checks, and is valid often
/// enough (about one case in ten) to test acceptance too.
fn crafted_file() -> impl Strategy<Value = Vec<u8>> {
    // id, placement (1 is right, 0 overlaps, 2 misaligns, 3 leaves a gap),
    // length, reserved field set.
    let entries = (
        0u32..5,
        prop_oneof![4 => Just(1u64), 1 => 0u64..4],
        prop_oneof![10 => 0u64..20, 1 => Just(u64::MAX)],
        prop::bool::weighted(0.05),
    );
    let extra = prop_oneof![4 => Just(0i64), 1 => -9i64..9];
    (prop::collection::vec(entries, 0..6), extra).prop_map(|(entries, extra)| {
        let table_end = HEADER_LEN + entries.len() * ENTRY_LEN;
        let mut bytes = vec![0u8; table_end];
        bytes[..8].copy_from_slice(&MAGIC);
        put_u32(&mut bytes, 8, VERSION);
        put_u32(&mut bytes, 24, entries.len() as u32);
        let mut end = table_end as u64;
        for (i, (id, placement, len, reserved)) in entries.into_iter().enumerate() {
            let offset = end.next_multiple_of(8) + placement * 4 - 4;
            put_u32(&mut bytes, entry(i, 0), id);
            put_u32(&mut bytes, entry(i, 4), u32::from(reserved));
            put_u64(&mut bytes, entry(i, 8), offset);
            put_u64(&mut bytes, entry(i, 16), len);
            end = offset.saturating_add(len.min(20));
        }
        let len = (end as i64 + extra).max(HEADER_LEN as i64) as usize;
        bytes.resize(len, 0);
        reseal(&mut bytes);
        bytes
    })
}

#[test]
fn crafted_files_are_sometimes_valid() {
    // Otherwise the property below would only ever test rejection.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = crafted_file();
    let accepted = (0..2000)
        .filter(|_| {
            let bytes = strategy.new_tree(&mut runner).unwrap().current();
            Container::parse(&bytes).is_ok()
        })
        .count();
    assert!(
        (100..1900).contains(&accepted),
        "{accepted} of 2000 accepted"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(container) = Container::parse(&bytes) {
            let _ = sections_of(&container);
        }
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_header_never_panic(
        tail in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = Writer::new().finish();
        bytes.extend_from_slice(&tail);
        reseal(&mut bytes);
        if let Ok(container) = Container::parse(&bytes) {
            let _ = sections_of(&container);
        }
    }

    #[test]
    fn crafted_files_parse_only_in_canonical_form(bytes in crafted_file()) {
        if let Ok(container) = Container::parse(&bytes) {
            // Anything accepted is exactly what the writer makes of it.
            prop_assert_eq!(write(&sections_of(&container), container.flags()), bytes);
        }
    }

    #[test]
    fn mutations_are_rejected_or_change_nothing(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        resize in prop_oneof![Just(None), (0usize..400).prop_map(Some)],
    ) {
        let original = sample();
        let mut bytes = original.clone();
        for (index, value) in edits {
            let at = index.index(bytes.len());
            bytes[at] = value;
        }
        if let Some(len) = resize {
            bytes.resize(len, 0);
        }
        match Container::parse(&bytes) {
            Ok(container) => {
                prop_assert_eq!(&bytes, &original);
                prop_assert_eq!(sections_of(&container), sample_sections());
            }
            Err(err) => prop_assert_ne!(&bytes, &original, "{}", err),
        }
    }
}

/// A body large enough to be checksummed in two halves on two threads: the
/// combined checksum is the writer's, and a flip in either half, or on the
/// line between them, is caught.
#[test]
fn a_large_body_checksummed_in_halves_catches_a_flip_anywhere() {
    // Bytes that differ from place to place and between the sections (a
    // multiplicative hash of the position), as a real set's do.
    let noise = |len: usize, seed: u64| -> Vec<u8> {
        (0..len as u64)
            .map(|i| ((i ^ seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
            .collect()
    };
    // An odd length, so that the halves differ by a byte.
    let sections = vec![
        (SectionId(0x10), noise(PARALLEL_CRC / 2 + 1, 1)),
        (SectionId(0x11), noise(PARALLEL_CRC / 2 + 4_093, 2)),
    ];
    let bytes = write(&sections, 0);
    let parsed = Container::parse(&bytes).expect("a large container parses");
    assert_eq!(sections_of(&parsed), sections);
    let body = bytes.len() - HEADER_LEN;
    let middle = HEADER_LEN + body / 2;
    for at in [HEADER_LEN + ALIGN * 3, middle - 1, middle, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x10;
        assert!(
            matches!(
                Container::parse(&bad),
                Err(FormatError::ChecksumMismatch {
                    region: Region::Body,
                    ..
                })
            ),
            "a flip at byte {at} of {}",
            bad.len()
        );
    }
}
