//! Inputs the fuzz targets in `fuzz/` found, kept as plain tests so that
//! `cargo test` guards them without libFuzzer. Each test names the target
//! and the property that failed.

use indset::canon::{self, HOST_BUF_LEN};

/// Every canonical form reads back to itself (`canon_url`, idempotence).
fn assert_idempotent(input: &str) {
    let once = canon::url_string(input).unwrap();
    assert_eq!(canon::url_string(&once), Ok(once.clone()), "from {input:?}");
}

/// `canon_url`: a kept (invalid) host with brackets not at its start,
/// `.[..]`` → `[.]``, printed the brackets as they were; read again, the
/// host ended at the `]` and the rest was taken for a port. Fixed by
/// escaping `[` and `]` in a kept host.
#[test]
fn kept_host_with_brackets_reads_back_to_itself() {
    assert_idempotent(".[..]`");
    assert_idempotent("http://a[b]c/");
    assert_idempotent("http://x.[::1]y/p");
    let mut out = [0u8; HOST_BUF_LEN];
    let (_, n) = canon::query_host(b"a[b]c", &mut out).unwrap();
    assert_eq!(&out[..n], b"a%5Bb%5Dc");
}

/// A host whose punycode does not fit the 256-byte host buffer, the
/// overflow falling inside a non-ASCII label.
fn long_idn_host() -> String {
    let a = "a".repeat(63);
    format!("{a}.{a}.{a}.{}\u{fc}", "b".repeat(60))
}

/// `canon_url` and `canon_host`: idna 1.1.0 panics (`unreachable!`,
/// "Punycode overflows should not be possible") when the output sink
/// fails inside a punycode label, and the host buffer's sink failed when
/// full. Fixed by a sink that never fails and records the overflow.
#[test]
fn idn_host_longer_than_the_buffer_is_too_long_not_a_panic() {
    let host = long_idn_host();
    let mut out = [0u8; HOST_BUF_LEN];
    let e = canon::host(host.as_bytes(), &mut out).unwrap_err();
    assert_eq!(e.code, indset::Code::InvalidHost);
    assert!(canon::query_host(host.as_bytes(), &mut out).is_err());
    assert!(canon::url_string(&format!("http://{host}/")).is_err());
    assert!(canon::indicator(indset::Kind::DomainName, &host).is_err());
    // With one label fewer and a shorter last label, the same shape fits.
    let fits = format!("{}.{}\u{fc}", "a".repeat(63), "b".repeat(50));
    assert!(canon::host(fits.as_bytes(), &mut out).is_ok());
}
