//! `canon_url`: the full-mode canonicaliser on arbitrary bytes.
//!
//! Input: two bytes choosing a small buffer size, then the URL.
//!
//! Properties:
//! 1. no panic, and the large buffer is never too small;
//! 2. idempotence: the canonical form `scheme://host/path[?query]` read
//!    again gives itself, with the same host kind (and `url_string` agrees
//!    with `url` on every UTF-8 input);
//! 3. a small buffer gives the same host and a prefix of the large-buffer
//!    path and query, exact when not `truncated`, and at least
//!    `len - MAX_HOST_LEN - 8` bytes when it is;
//! 4. one host function: the domain-mode `query_host` of the same input
//!    gives the same host and kind as the full-mode `url`;
//! 5. an accepted indicator (`Url` or `DomainName`) has the key a query of
//!    the same text gets, and its key read again is the same key;
//! 6. where the `url` crate parses the input as http(s), the hosts agree,
//!    up to the intended differences listed at [`url_crate_host`].
#![no_main]

use indset::Kind;
use indset::canon::{self, HOST_BUF_LEN, HostKind, MAX_HOST_LEN, Url};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (size, input) = match data {
        [a, b, rest @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), rest),
        _ => return,
    };
    let big_len = input.len() * 3 + MAX_HOST_LEN + 16;
    let mut big_buf = vec![0u8; big_len];
    let big = canon::url(input, &mut big_buf);

    let text = std::str::from_utf8(input).ok();
    if let Some(text) = text {
        let via_string = canon::url_string(text);
        assert_eq!(
            via_string.as_ref().ok(),
            big.as_ref().ok().map(full).as_ref()
        );
        assert_eq!(via_string.as_ref().err(), big.as_ref().err());
    }

    check_small_buffer(input, &big, size % (big_len + 1));
    check_query_host(input, &big);
    if let Some(text) = text {
        check_indicators(text, &big);
        check_url_crate(text, &big);
    }

    let Ok(big) = big else { return };
    assert!(!big.truncated, "{input:?}: the large buffer was too small");
    assert!(big.path_and_query.starts_with('/'));
    assert!(big.path_len <= big.path_and_query.len());
    assert!(big.host.len() <= MAX_HOST_LEN);

    // Intended exception (src/canon/mod.rs): unescaping is exact up to a
    // chain of 128 nested incomplete escapes; a deeper chain stays literal,
    // so its canonical form may unescape further when read again. Every
    // link of such a chain starts with a `%` of the input.
    if deep_escapes(input) {
        return;
    }
    let once = full(&big);
    let again = canon::url_string(&once);
    assert_eq!(again.as_ref(), Ok(&once), "not idempotent; input {input:?}");
    let mut buf = vec![0u8; once.len() * 3 + MAX_HOST_LEN + 16];
    let reread = canon::url(once.as_bytes(), &mut buf).expect("canonical form re-reads");
    assert_eq!(reread.host_kind, big.host_kind, "{once:?}");
    assert_eq!(reread.path_len, big.path_len, "{once:?}");
});

/// Whether `input` may hold a chain of more than 128 nested incomplete
/// escapes, past which the canonical form is not a fixed point (the
/// documented bound of src/canon/mod.rs): every link starts with a `%`.
fn deep_escapes(input: &[u8]) -> bool {
    input.iter().filter(|&&b| b == b'%').count() > 128
}

/// `scheme://host/path[?query]`, as `canon::url_string` prints it.
fn full(u: &Url<'_>) -> String {
    let scheme = u.scheme.unwrap_or(canon::Scheme::Http).as_str();
    format!("{scheme}://{}{}", u.host, u.path_and_query)
}

fn check_small_buffer(input: &[u8], big: &Result<Url<'_>, canon::CanonError>, size: usize) {
    let mut buf = vec![0u8; size];
    let small = canon::url(input, &mut buf);
    let big = match big {
        Err(e) => {
            assert_eq!(small.err(), Some(*e), "{input:?} in {size} bytes");
            return;
        }
        Ok(big) => big,
    };
    let small = match small {
        Err(e) => {
            assert!(
                size <= big.host.len() && e.code == indset::Code::InvalidHost,
                "{input:?}: a {size}-byte buffer fails with {e:?}"
            );
            return;
        }
        Ok(small) => small,
    };
    assert_eq!(small.host, big.host);
    assert_eq!(small.host_kind, big.host_kind);
    assert_eq!(small.scheme, big.scheme);
    assert!(
        big.path_and_query.starts_with(small.path_and_query),
        "{input:?} in {size} bytes: {:?} is no prefix of {:?}",
        small.path_and_query,
        big.path_and_query
    );
    if small.truncated {
        let least = size.saturating_sub(MAX_HOST_LEN + 8);
        assert!(
            small.path_and_query.len() >= least,
            "{input:?} in {size} bytes: only {} bytes kept",
            small.path_and_query.len()
        );
        assert!(small.path_len <= small.path_and_query.len());
    } else {
        assert_eq!(
            small.path_and_query, big.path_and_query,
            "{input:?} in {size} bytes"
        );
        assert_eq!(small.path_len, big.path_len);
    }
}

fn check_query_host(input: &[u8], big: &Result<Url<'_>, canon::CanonError>) {
    let Ok(big) = big else { return };
    let mut out = [0u8; HOST_BUF_LEN];
    let (kind, n) = canon::query_host(input, &mut out)
        .unwrap_or_else(|e| panic!("{input:?}: url accepts the host, query_host says {e:?}"));
    assert_eq!(
        &out[..n],
        big.host.as_bytes(),
        "{input:?}: two host functions"
    );
    assert_eq!(kind, big.host_kind, "{input:?}");
}

fn check_indicators(text: &str, big: &Result<Url<'_>, canon::CanonError>) {
    if let Ok((host, path)) = canon::indicator(Kind::Url, text) {
        let q = big
            .as_ref()
            .expect("an accepted Url indicator parses as a query");
        assert_eq!((q.host, q.path_and_query), (&*host, &*path), "{text:?}");
        if deep_escapes(text.as_bytes()) {
            return;
        }
        let key = format!("{host}{path}");
        assert_eq!(
            canon::indicator(Kind::Url, &key),
            Ok((host, path)),
            "{text:?}: its key read again"
        );
    }
    if let Ok((host, path)) = canon::indicator(Kind::DomainName, text) {
        assert!(path.is_empty());
        let q = big
            .as_ref()
            .expect("an accepted DomainName parses as a query");
        assert_eq!(q.host, host, "{text:?}");
        assert_eq!(q.host_kind, HostKind::Domain, "{text:?}");
        assert_eq!(
            canon::indicator(Kind::DomainName, &host),
            Ok((host.clone(), String::new())),
            "{text:?}: its key read again"
        );
    }
}

/// The host the `url` crate (WHATWG) gives, brought to our canonical form
/// (`docs/canonicalisation.md`, Hosts), or `None` where the two are meant
/// to differ.
///
/// Intended differences, each from `docs/canonicalisation.md`:
/// - we drop leading and trailing dots and count a run of dots as one
///   (Trimming, case and dots); WHATWG keeps them: the `url` host is
///   cleaned the same way here. A host of dots only is then empty, which
///   is `invalid-host`.
/// - we limit a label to 63 bytes and a host to 253 (Limits); WHATWG has
///   no limit. A query host over a limit is invalid and keeps its bytes
///   (not punycode), or is refused when over 253: not compared.
/// - we unescape the host until nothing changes (Unescaping); WHATWG
///   decodes once and then refuses a `%`. Where `url` refuses, nothing is
///   compared, so this shows only through inputs `url` accepts, where a
///   single pass already reached the fixed point.
/// - A query host is unescaped into a 1 KiB stack buffer
///   (`MAX_RAW_HOST`), more than the 253-byte host limit; a longer one is refused
///   as too long, even when dots or zeros would clean it down to 253 bytes
///   (WHATWG reads an IPv4 address padded with any number of zeros,
///   `000…0.0.0.0`, and collapses runs of dots): over 1 KiB, not compared.
/// - A query host that is not valid IDNA keeps its bytes with us; WHATWG
///   refuses the URL: not compared (the `url` parse fails). Conversely a
///   host WHATWG accepts but our host rules refuse (a `*`: `wildcard`) is kept as
///   bytes by a query: not compared either (see [`check_url_crate`]).
fn url_crate_host(u: &url::Url) -> Option<String> {
    let host = match u.host()? {
        url::Host::Domain(d) => d.to_string(),
        url::Host::Ipv4(a) => return Some(a.to_string()),
        url::Host::Ipv6(_) => return u.host_str().map(str::to_string),
    };
    let cleaned: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    if cleaned.iter().any(|l| l.len() > 63) {
        return None;
    }
    let cleaned = cleaned.join(".");
    (!cleaned.is_empty() && cleaned.len() <= MAX_HOST_LEN).then_some(cleaned)
}

fn check_url_crate(text: &str, big: &Result<Url<'_>, canon::CanonError>) {
    let Ok(parsed) = url::Url::parse(text) else {
        return;
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return;
    }
    let Some(theirs) = url_crate_host(&parsed) else {
        return;
    };
    // Our own host rules on the host `url` gave: where they refuse it
    // (a `*` anywhere; a character UTS 46 disallows under our settings),
    // a query keeps the raw bytes, escaped, which
    // may differ from `url`'s or exceed 253 bytes: not compared.
    let mut out = [0u8; HOST_BUF_LEN];
    let Ok((_, n)) = canon::host(theirs.as_bytes(), &mut out) else {
        return;
    };
    // A raw host over the 1 KiB buffer is refused as too long whatever it
    // cleans down to (see `url_crate_host`): not compared.
    if raw_host_len(text) > 1024 {
        return;
    }
    let ours = big
        .as_ref()
        .unwrap_or_else(|e| panic!("{text:?}: url gives host {theirs:?}, we refuse: {e:?}"));
    assert_eq!(
        ours.host.as_bytes(),
        &out[..n],
        "{text:?}: url gives host {theirs:?}, we give {:?}",
        ours.host
    );
}

/// An upper bound on the length of the host of `text` as written (scheme,
/// slashes and user info dropped, up to the port or path): enough to tell
/// a host longer than the 1 KiB raw-host buffer.
fn raw_host_len(text: &str) -> usize {
    let after = text.split_once(':').map_or(text, |(_, r)| r);
    let after = after.trim_start_matches(['/', '\\']);
    let end = after.find(['/', '\\', '?', '#']).unwrap_or(after.len());
    let authority = &after[..end];
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .len()
}
