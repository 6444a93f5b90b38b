//! `canon_host`: the host canonicaliser (`host`, for indicator values) and
//! the domain-mode query reducer (`query_host`) on arbitrary bytes.
//!
//! Properties:
//! 1. no panic; an accepted host is at most 253 bytes of printable ASCII,
//!    labels 1 to 63 bytes for a domain, no empty label, no dot at either
//!    end;
//! 2. idempotence: `host(host(x)) == host(x)` and
//!    `query_host(query_host(x)) == query_host(x)`, with the same kind;
//! 3. a host `host` accepts is a query host too, the same: the strict rules
//!    and the lenient ones decide alike on valid hosts (unless the input
//!    has a character that ends the host in a URL: `/ \ ? # @ :`);
//! 4. an IP kind is written in its canonical form (dotted decimal, or
//!    WHATWG's bracketed IPv6 serialisation, as the `url` crate writes it);
//! 5. the domain mode agrees with the full mode: for `http://` + a host,
//!    `query_host` gives the host `url` gives;
//! 6. an indicator of letters, digits, `-` and `.` (the indicators'
//!    ASCII fast path) is accepted exactly when `host` accepts it as a
//!    domain, with `host`'s answer as its key.
#![no_main]

use indset::canon::{self, HOST_BUF_LEN, HostKind, MAX_HOST_LEN, QUERY_BUF_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let strict = canonical(canon::host, input);
    let lenient = canonical(canon::query_host, input);

    if let Ok((kind, h)) = &strict {
        check_shape(*kind, h, true);
        assert_eq!(
            canonical(canon::host, h.as_bytes()),
            Ok((*kind, h.clone())),
            "host not idempotent on {input:?}"
        );
        let cuts = input
            .iter()
            .any(|b| matches!(b, b'/' | b'\\' | b'?' | b'#' | b'@' | b':'));
        if !cuts {
            assert_eq!(
                lenient.as_ref().ok(),
                Some(&(*kind, h.clone())),
                "host and query_host differ on {input:?}"
            );
        }
    }

    if let Ok((kind, h)) = &lenient {
        check_shape(*kind, h, false);
        assert_eq!(
            canonical(canon::query_host, h.as_bytes()),
            Ok((*kind, h.clone())),
            "query_host not idempotent on {input:?}"
        );
    }

    check_indicator(input, &strict);

    // Domain mode and full mode name the same host for the same URL.
    let mut url_input = b"http://".to_vec();
    url_input.extend_from_slice(input);
    let mut buf = vec![0u8; QUERY_BUF_LEN.max(url_input.len() * 3 + MAX_HOST_LEN + 16)];
    if let Ok(u) = canon::url(&url_input, &mut buf) {
        assert_eq!(
            canonical(canon::query_host, &url_input),
            Ok((u.host_kind, u.host.to_string())),
            "domain and full mode differ on {url_input:?}"
        );
    }
});

/// Property 6: the fast path an indicator takes decides as the general
/// strict rules of `host` do.
fn check_indicator(input: &[u8], strict: &Result<(HostKind, String), canon::CanonError>) {
    let plain = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.');
    if input.is_empty() || !input.iter().all(plain) {
        return;
    }
    let text = std::str::from_utf8(input).expect("ASCII");
    let key = canon::indicator(indset::Kind::DomainName, text);
    match strict {
        Ok((HostKind::Domain, h)) => {
            assert_eq!(key.ok(), Some((h.clone(), String::new())), "{text:?}")
        }
        _ => assert!(key.is_err(), "{text:?}: {strict:?} but {key:?}"),
    }
}

type HostFn = fn(&[u8], &mut [u8; HOST_BUF_LEN]) -> Result<(HostKind, usize), canon::CanonError>;

fn canonical(f: HostFn, input: &[u8]) -> Result<(HostKind, String), canon::CanonError> {
    let mut out = [0u8; HOST_BUF_LEN];
    let (kind, n) = f(input, &mut out)?;
    let s = std::str::from_utf8(&out[..n]).expect("a canonical host is ASCII");
    Ok((kind, s.to_string()))
}

fn check_shape(kind: HostKind, h: &str, strict: bool) {
    assert!(!h.is_empty() && h.len() <= MAX_HOST_LEN, "{h:?}");
    assert!(h.bytes().all(|b| b > b' ' && b < 0x7f), "{h:?}");
    // Lower case, but for the upper-case hex of the escapes in a kept host.
    let unescaped: Vec<&str> = h
        .split('%')
        .enumerate()
        .map(|(i, p)| if i == 0 { p } else { p.get(2..).unwrap_or("") })
        .collect();
    assert!(
        !unescaped.concat().bytes().any(|b| b.is_ascii_uppercase()),
        "{h:?}"
    );
    match kind {
        HostKind::Ipv4(a) => assert_eq!(h, a.to_string()),
        HostKind::Ipv6(a) => assert_eq!(h, url::Host::<String>::Ipv6(a).to_string()),
        HostKind::Domain => {
            assert!(!h.starts_with('.') && !h.ends_with('.'), "{h:?}");
            assert!(!h.contains(".."), "{h:?}");
            if strict {
                assert!(h.split('.').all(|l| (1..=63).contains(&l.len())), "{h:?}");
                assert!(!h.contains('*') && !h.contains('%'), "{h:?}");
            }
        }
    }
}
