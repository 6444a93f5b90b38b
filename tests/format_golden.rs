//! The bytes of a set are part of the format: the same inputs compiled at
//! the same instant give the same file, byte for byte. These constants
//! (a 64-bit FNV-1a digest and the length of the output) were recorded
//! from the compiler. (Not a CRC-32: the file's header ends with the CRC-32
//! of the bytes before it, so a CRC-32 of the whole file cannot see a
//! change of the header.) A
//! change to any of them is a change of the file format and must come
//! with a new format version (or a reason in the commit).

use indset::ingest::{Format, Options};
use indset::{Compiler, IndicatorSet, Timestamp};

/// 2026-01-01T00:00:00Z.
const NOW: Timestamp = Timestamp(1_767_225_600);

/// Indicators of both kinds, with every metadata field, expirations, keys
/// written again with other actions (chained records), a row for a
/// device group, and a row the compiler rejects.
const PORTAL_CSV: &str = "\
IndicatorType,IndicatorValue,Action,Title,Description,Severity,Category,ExpirationTime,RbacGroups,GenerateAlert,Id
DomainName,example.com,Block,Known bad,Phishing kit,High,Phishing,,,True,ind-1
Url,https://example.com/help,Allowed,Help pages,,Informational,,,,False,
DomainName,exp.test,Allowed,Temporary allow,,,,2030-01-01T00:00:00Z,,,
DomainName,exp.test,Warn,,,,,2031-06-01T00:00:00Z,,,
DomainName,exp.test,Block,,,,,,,,
Url,http://exp.test/login?next=1,Audit,Watch logins,,Low,Monitoring,2029-01-01T00:00:00Z,,,
DomainName,sales-only.test,Block,,,,,,Sales,,
DomainName,1.2.3.4,Block,An IP,,,,,,,
DomainName,old.test,Block,,,,,2020-01-01T00:00:00Z,,,
Url,https://shop.example.org/cart/checkout,Warn,Card skimmer,,Medium,Skimming,2032-02-29T12:00:00Z,,,x-7
DomainName,example.org,Audit,,,,,,,,
";

/// A second input file: text lines, one of them repeating a CSV key.
const LIST_TXT: &str = "\
block ads.example.net
allow partner.example.com
warn https://example.org/login
block example.com
audit tracker.example.net
";

/// FNV-1a, 64 bits: every byte changes the digest.
fn digest(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The digest and length of the bytes `inputs` compile to at [`NOW`].
fn compiled(inputs: &[(&str, &[u8])]) -> (u64, usize, Vec<u8>) {
    let mut compiler = Compiler::new(Options::at(NOW));
    for (name, bytes) in inputs {
        compiler
            .add_reader(name, *bytes, Format::Auto)
            .expect("reads");
    }
    let compiled = compiler.finish();
    assert!(compiled.report.adds_up(), "{}", compiled.report);
    let bytes = compiled.bytes;
    (digest(&bytes), bytes.len(), bytes)
}

#[test]
fn a_mixed_csv_and_a_list_compile_to_the_recorded_bytes() {
    let (crc, len, bytes) = compiled(&[
        ("portal.csv", PORTAL_CSV.as_bytes()),
        ("list.txt", LIST_TXT.as_bytes()),
    ]);
    // The set opens and holds the chained keys.
    let set = IndicatorSet::from_bytes(bytes).expect("opens");
    let exp: Vec<_> = set.iter().filter(|i| i.value == "exp.test").collect();
    assert_eq!(exp.len(), 3, "one chained record per action");
    assert_eq!(
        (crc, len),
        (0x1841_c1a5_d3bc_ca3a, 1_230),
        "digest {crc:#018x}, {len} bytes"
    );
}

#[test]
fn the_bundled_lists_compile_to_the_recorded_bytes() {
    // The inputs of scripts/demo.sh, in its order.
    let root = env!("CARGO_MANIFEST_DIR");
    let files = [
        "data/urlhaus-indicators.csv",
        "data/stevenblack-hosts-2019.txt",
        "data/eth-phishing-detect.txt",
        "data/disposable-email-domains.txt",
    ];
    let read: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(format!("{root}/{f}")).expect("a bundled list");
            (f.to_string(), bytes)
        })
        .collect();
    let inputs: Vec<(&str, &[u8])> = read
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let (crc, len, bytes) = compiled(&inputs);
    IndicatorSet::from_bytes(bytes).expect("opens");
    assert_eq!(
        (crc, len),
        (0xa709_e64b_696f_f409, 5_284_347),
        "digest {crc:#018x}, {len} bytes"
    );
}
