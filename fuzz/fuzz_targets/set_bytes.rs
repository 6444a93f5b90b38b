//! `set_bytes`: opening `.indset` bytes that may be anything.
//!
//! The first byte chooses what the rest is:
//! - `0 mod 4`: a whole file, as is;
//! - `1 mod 4`: a file whose magic, version, length and both checksums are
//!   rewritten to be right (a crafted file), so the structural checks
//!   behind the checksums are reached;
//! - `2 mod 4`: a list of mutations of a valid compiled set (see
//!   [`mutate`]);
//! - `3 mod 4`: a valid compiled set with one section (chosen by the next
//!   byte) replaced by the rest, written by the real `Writer`: the set's
//!   own section checks (the `fst`, records, metadata, filter, host index,
//!   sources) on bytes the container accepts.
//!
//! Properties:
//! 1. no panic, whatever the bytes, in `Container::parse`,
//!    `IndicatorSet::from_bytes`, and every lookup, `explain`, `info`,
//!    `iter` and `stats` of a set that opened;
//! 2. a container that parses is canonical: writing its flags and sections
//!    again gives the same bytes, and every section lies inside the file,
//!    8-aligned;
//! 3. any single burst of up to 32 changed bits, and any truncation, of a
//!    valid set is refused (CRC-32 catches every such burst);
//! 4. mutations without a reseal either are refused or leave a set that
//!    answers a fixed list of queries as the original does.
//!
//! Lookups in a crafted set (right checksums, a corrupt key automaton) must
//! not panic either (`crafted_keys_section_never_panics` in
//! `tests/fuzz_regressions.rs`; the fix is in CHANGELOG.md).
//! `INDSET_FUZZ_SKIP_CRAFTED_LOOKUPS` opens crafted sets without looking up
//! in them, should a bug of that kind need to be set aside while the other
//! properties run.
#![no_main]

use std::sync::OnceLock;

use indset::Timestamp;
use indset::compile::build;
use indset::format::{ALIGN, Container, HEADER_LEN, MAGIC, VERSION, Writer};
use indset::format::{
    COMMON_INPUTS, FILTER, HOSTS, KEYS, LINES, META, META_INDEX, RECORDS, SOURCES,
};
use indset::ingest::{Format, Ingester, Options};
use indset::{IndicatorSet, Mode, Verdict};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_700_000_000;

/// The sample set: metadata of every kind, expirations, both types.
const SAMPLE_CSV: &str = "\
IndicatorType,IndicatorValue,Action,ExpirationTime,Severity,Title,Description,RbacGroups,Category,GenerateAlert
DomainName,example.com,Block,,High,Bad domain,Blocked for a reason,,Malware,True
DomainName,partner.example.com,Allowed,,,,,\"Sales,Ops\",,
Url,https://example.com/bad/,Warn,2030-01-01T00:00:00Z,Low,,,,,False
Url,http://a.example.org/x?y=1,Block,,Medium,t,,,,
DomainName,audit.example.net,Audit,2024-01-01T00:00:00Z,Informational,,,,,
DomainName,xn--bcher-kva.example,Block,,,,,,,
Url,evil.test/,Block,,,,,,,
";

/// The queries every opened set answers (in both modes, at three times).
const QUERIES: &[&str] = &[
    "https://example.com/",
    "https://partner.example.com/bad/x",
    "http://www.example.com/bad/",
    "example.com/bad",
    "http://a.example.org/x?y=10",
    "a.example.org",
    "https://x.audit.example.net/",
    "http://bücher.example/",
    "evil.test",
    "https://evil.test/anything",
    "http://245.245.0.1/",
    "http://[::1]/",
    "ftp://example.com/",
    "",
];
const TIMES: [i64; 3] = [NOW, 1_710_000_000, i64::MAX];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => open_crafted(rest),
        1 => {
            let mut bytes = rest.to_vec();
            reseal(&mut bytes);
            open_crafted(&bytes);
        }
        2 => mutate(rest),
        _ => replace_section(rest),
    }
});

/// The sample set's bytes and its answers to [`QUERIES`].
fn sample() -> &'static (Vec<u8>, Vec<Verdict>) {
    static SAMPLE: OnceLock<(Vec<u8>, Vec<Verdict>)> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        // For the group one row names, so that every row is in the set.
        let mut ing = Ingester::new(Options::at(Timestamp(NOW)).device_group("Sales"));
        ing.read("sample.csv", SAMPLE_CSV.as_bytes(), Format::Csv)
            .expect("reading from memory never fails");
        let (indicators, report) = ing.finish();
        assert_eq!(report.accepted(), 7, "{report}");
        let bytes = build(&indicators);
        let answers = open(&bytes).expect("the sample set opens");
        (bytes, answers)
    })
}

/// Opens `bytes` as a container and as a set; checks what a successful
/// open promises, and returns the set's answers to [`QUERIES`].
fn open(bytes: &[u8]) -> Option<Vec<Verdict>> {
    check_container(bytes);
    let set = IndicatorSet::from_bytes(bytes).ok()?;
    let mut answers = Vec::new();
    for q in QUERIES {
        for mode in [Mode::Full, Mode::Domain] {
            for now in TIMES {
                let v = set.check_at(q, mode, Timestamp(now));
                for hit in v.indicator.into_iter().chain(v.audit) {
                    let _ = set.info(q.as_bytes(), mode, hit);
                }
                answers.push(v);
            }
            let _ = set.explain(q, mode, Timestamp(NOW));
        }
    }
    assert_eq!(set.iter().count(), set.len());
    let _ = set.stats();
    Some(answers)
}

/// Opens a file with right checksums but any content (see the module docs
/// for the known bug this can skip).
fn open_crafted(bytes: &[u8]) {
    static SKIP: OnceLock<bool> = OnceLock::new();
    if *SKIP.get_or_init(|| std::env::var_os("INDSET_FUZZ_SKIP_CRAFTED_LOOKUPS").is_some()) {
        check_container(bytes);
        let _ = IndicatorSet::from_bytes(bytes);
    } else {
        open(bytes);
    }
}

/// Checks what a successful container parse promises.
fn check_container(bytes: &[u8]) {
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

/// Reads mutations of a valid file from `ops`, five bytes each: a kind, a
/// 16-bit offset (modulo the length) and a 16-bit value.
///
/// - kind `0 mod 4`, first op only: one burst, the value's low bits XORed
///   into up to 4 bytes at the offset: must be refused;
/// - kind `1 mod 4`, first op only: a truncation at the offset: refused;
/// - otherwise any number of overwrites of the byte at the offset; the
///   last op may ask for a reseal. Only "no panic" holds then.
fn mutate(ops: &[u8]) {
    let (original, answers) = sample();
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
            if bytes != *original {
                assert!(Container::parse(&bytes).is_err(), "burst at {at} accepted");
                assert!(IndicatorSet::from_bytes(&bytes[..]).is_err());
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
                open_crafted(&bytes);
            } else if let Some(got) = open(&bytes) {
                assert!(
                    got == *answers,
                    "a mutated set loaded and answers differently"
                );
            }
        }
    }
}

/// Rewrites the sample set with one section replaced by `data[1..]`.
fn replace_section(data: &[u8]) {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    let ids = [
        KEYS,
        RECORDS,
        LINES,
        META_INDEX,
        META,
        COMMON_INPUTS,
        FILTER,
        HOSTS,
        SOURCES,
    ];
    let target = ids[usize::from(which) % ids.len()];
    let (original, _) = sample();
    let container = Container::parse(original).expect("the sample set parses");
    let mut writer = Writer::new();
    writer.flags(container.flags());
    for (id, section) in container.sections() {
        writer.add_section(id, if id == target { bytes } else { section });
    }
    open_crafted(&writer.finish());
}
