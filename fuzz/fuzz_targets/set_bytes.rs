//! `set_bytes`: opening `.indset` bytes that may be anything.
//!
//! The first byte chooses what the rest is:
//! - `0 mod 3`: a whole file, as is;
//! - `1 mod 3`: a file whose magic, version, length and both checksums are
//!   rewritten to be right (a crafted file), so the structural checks
//!   behind the checksums are reached;
//! - `2 mod 3`: a list of mutations of a valid file (see [`mutate`]).
//!
//! Properties:
//! 1. no panic, whatever the bytes;
//! 2. a container that parses is canonical: writing its flags and sections
//!    again gives the same bytes, and every section lies inside the file,
//!    8-aligned;
//! 3. any single burst of up to 32 changed bits, and any truncation, of a
//!    valid file is refused (CRC-32 catches every such burst).
#![no_main]

use indset::format::{ALIGN, Container, HEADER_LEN, MAGIC, SectionId, VERSION, Writer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => open(rest),
        1 => {
            let mut bytes = rest.to_vec();
            reseal(&mut bytes);
            open(&bytes);
        }
        _ => mutate(rest),
    }
});

/// Opens `bytes`; checks what a successful open promises.
fn open(bytes: &[u8]) {
    let Ok(container) = Container::parse(bytes) else {
        return;
    };
    let mut writer = Writer::new();
    writer.flags(container.flags());
    let base = bytes.as_ptr() as usize;
    for (id, section) in container.sections() {
        let at = section.as_ptr() as usize - base;
        assert!(at + section.len() <= bytes.len());
        assert_eq!(at % ALIGN, 0, "section {id} at {at}");
        assert_eq!(container.section(id), Some(section));
        writer.add_section(id, section);
    }
    assert_eq!(
        writer.finish(),
        bytes,
        "a parsed container is not canonical"
    );
}

fn put(bytes: &mut [u8], at: usize, value: &[u8]) {
    bytes[at..at + value.len()].copy_from_slice(value);
}

/// Rewrites the magic, version, file length and both checksums.
fn reseal(bytes: &mut Vec<u8>) {
    if bytes.len() < HEADER_LEN {
        bytes.resize(HEADER_LEN, 0);
    }
    put(bytes, 0, &MAGIC);
    put(bytes, 8, &VERSION.to_le_bytes());
    let len = bytes.len() as u64;
    put(bytes, 16, &len.to_le_bytes());
    let body = crc32fast::hash(&bytes[HEADER_LEN..]);
    put(bytes, 28, &body.to_le_bytes());
    let header = crc32fast::hash(&bytes[..36]);
    put(bytes, 36, &header.to_le_bytes());
}

/// A valid file with sections of every padding length.
fn sample() -> Vec<u8> {
    let mut writer = Writer::new();
    writer.flags(0x5A);
    for (i, len) in [13usize, 0, 8, 1, 7, 40].into_iter().enumerate() {
        let bytes: Vec<u8> = (0..len).map(|j| (i * 31 + j * 7 + 1) as u8).collect();
        writer.add_section(SectionId(i as u32 + 1), &bytes);
    }
    writer.finish()
}

/// Reads mutations of a valid file from `ops`, five bytes each: a kind, a
/// 16-bit offset (modulo the length) and a 16-bit value.
///
/// - kind `0 mod 4`, first op only: one burst, the value's low bits XORed
///   into up to 4 bytes at the offset: must be refused;
/// - kind `1 mod 4`, first op only: a truncation at the offset: refused;
/// - otherwise any number of overwrites of the byte at the offset; the
///   last op may ask for a reseal. Only "no panic" holds then.
fn mutate(ops: &[u8]) {
    let original = sample();
    let mut bytes = original.clone();
    let mut chunks = ops.chunks_exact(5).peekable();
    let Some(first) = chunks.peek().copied() else {
        return;
    };
    let at = usize::from(u16::from_le_bytes([first[1], first[2]])) % bytes.len();
    let value = u16::from_le_bytes([first[3], first[4]]);
    match first[0] % 4 {
        0 => {
            let width = usize::from(first[0] >> 2) % 4 + 1;
            let pattern = (u32::from(value) | 1) << (first[0] >> 4);
            for (i, b) in pattern.to_le_bytes().into_iter().take(width).enumerate() {
                if let Some(byte) = bytes.get_mut(at + i) {
                    *byte ^= b;
                }
            }
            if bytes != original {
                assert!(Container::parse(&bytes).is_err(), "burst at {at} accepted");
            }
        }
        1 => {
            bytes.truncate(at);
            assert!(
                Container::parse(&bytes).is_err(),
                "truncation at {at} accepted"
            );
        }
        _ => {
            let mut reseal_last = false;
            for op in chunks {
                let at = usize::from(u16::from_le_bytes([op[1], op[2]])) % bytes.len();
                bytes[at] = op[3];
                reseal_last = op[4] & 1 == 1;
            }
            if reseal_last {
                reseal(&mut bytes);
            }
            open(&bytes);
        }
    }
}
