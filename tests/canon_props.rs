//! Properties of the canonicaliser on arbitrary input: idempotence, no
//! panics on any bytes, and exact prefixes when the buffer is too small.

use indset::Kind;
use indset::canon::{self, HOST_BUF_LEN, MAX_HOST_LEN, QUERY_BUF_LEN};
use proptest::prelude::*;

/// URL-like strings: the characters that matter to the rules, often.
fn urlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("/".to_string()),
        Just("\\".to_string()),
        Just("/../".to_string()),
        Just("/./".to_string()),
        Just("..".to_string()),
        Just(".".to_string()),
        Just("?".to_string()),
        Just("#".to_string()),
        Just("@".to_string()),
        Just(":".to_string()),
        Just("%".to_string()),
        Just("%25".to_string()),
        Just("%2e".to_string()),
        Just("%2F".to_string()),
        Just("%3".to_string()),
        Just(" ".to_string()),
        Just("\t".to_string()),
        Just("ü".to_string()),
        Just("。".to_string()),
        Just("[::1]".to_string()),
        Just("0x7f".to_string()),
        "[a-zA-Z0-9]{1,6}",
        any::<char>().prop_map(String::from),
    ];
    (
        prop_oneof![Just(""), Just("http://"), Just("HTTPS://"), Just("http:")],
        "[a-z0-9.]{1,12}",
        prop::collection::vec(piece, 0..24),
    )
        .prop_map(|(scheme, host, rest)| format!("{scheme}{host}{}", rest.concat()))
}

fn canonical_parts(input: &[u8], size: usize) -> Option<(String, String, usize, bool)> {
    let mut buf = vec![0u8; size];
    let u = canon::url(input, &mut buf).ok()?;
    Some((
        u.host.to_string(),
        u.path_and_query.to_string(),
        u.path_len,
        u.truncated,
    ))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn idempotent_on_urlish(s in urlish()) {
        if let Ok(c) = canon::url_string(&s) {
            prop_assert_eq!(canon::url_string(&c), Ok(c.clone()), "from {:?}", s);
        }
    }

    #[test]
    fn idempotent_on_any_string(s in any::<String>()) {
        if let Ok(c) = canon::url_string(&s) {
            prop_assert_eq!(canon::url_string(&c), Ok(c.clone()), "from {:?}", s);
        }
    }

    #[test]
    fn never_panics_on_bytes(b in prop::collection::vec(any::<u8>(), 0..300), size in 0usize..600) {
        let mut buf = vec![0u8; size];
        if let Ok(u) = canon::url(&b, &mut buf) {
            prop_assert!(u.path_len <= u.path_and_query.len());
            prop_assert!(u.host.is_ascii() && u.path_and_query.is_ascii());
        }
        let mut out = [0u8; HOST_BUF_LEN];
        let _ = canon::host(&b, &mut out);
        let _ = canon::query_host(&b, &mut out);
        let s = String::from_utf8_lossy(&b);
        let _ = canon::indicator(Kind::Url, &s);
        let _ = canon::indicator(Kind::DomainName, &s);
        let _ = canon::ip_address_code(&s);
    }

    /// A small buffer gives an exact prefix of the full canonical form, at
    /// least `buf.len() - MAX_HOST_LEN - 8` bytes long.
    #[test]
    fn truncation_is_an_exact_prefix(s in urlish(), extra in 1usize..40) {
        let Some((host, full, path_len, truncated)) = canonical_parts(s.as_bytes(), 1 << 16) else {
            return Ok(());
        };
        prop_assert!(!truncated);
        let size = host.len() + extra;
        let (h, part, plen, cut) = canonical_parts(s.as_bytes(), size).expect("same host");
        prop_assert_eq!(&h, &host);
        prop_assert!(full.starts_with(&part), "{:?} is not a prefix of {:?}", part, full);
        prop_assert_eq!(cut, part.len() < full.len());
        if cut {
            prop_assert!(part.len() + 2 >= extra, "{} bytes of {}", part.len(), extra);
            prop_assert!(part.len() + MAX_HOST_LEN + 8 >= size);
            prop_assert!(plen <= part.len());
        } else {
            prop_assert_eq!(plen, path_len);
        }
    }
}

#[test]
fn huge_urls_answer() {
    // 64 KiB: thousands of labels and segments, escapes, dot segments.
    let host = "a.".repeat(20_000);
    let mut u = format!("http://{host}x/");
    while u.len() < 65_536 {
        u.push_str("seg/%2e%2E/b/./%41//");
    }
    let mut buf = [0u8; QUERY_BUF_LEN];
    // The host is far too long: refused, not truncated.
    assert!(canon::url(u.as_bytes(), &mut buf).is_err());

    let mut v = String::from("http://example.com/");
    while v.len() < 65_536 {
        v.push_str("seg/%2e%2E/b/./%41//");
    }
    let got = canon::url(v.as_bytes(), &mut buf).expect("answers");
    assert!(got.truncated);
    assert!(got.path_and_query.starts_with("/b/A/b/A/"));
    assert!(got.path_and_query.len() >= QUERY_BUF_LEN - MAX_HOST_LEN - 8);
}

#[test]
fn dot_dot_after_overflow_pops_what_did_not_fit() {
    // 3000 segments overflow the buffer; 3000 `..` pop them all again.
    let url = format!(
        "http://h.example/keep/{}{}x?q",
        "abc/".repeat(3000),
        "../".repeat(3000)
    );
    let mut buf = [0u8; QUERY_BUF_LEN];
    let u = canon::url(url.as_bytes(), &mut buf).expect("answers");
    assert_eq!((u.path_and_query, u.truncated), ("/keep/x?q", false));
    assert_eq!(u.path(), "/keep/x");
    // One `..` fewer: the last segment that stays is `abc`.
    let url = format!(
        "http://h.example/keep/{}{}x",
        "abc/".repeat(3000),
        "../".repeat(2999)
    );
    let u = canon::url(url.as_bytes(), &mut buf).expect("answers");
    assert_eq!((u.path_and_query, u.truncated), ("/keep/abc/x", false));
    // Escapes widen bytes: the buffer holds their escaped form.
    let url = format!("http://h.example/{}", "%20".repeat(5000));
    let u = canon::url(url.as_bytes(), &mut buf).expect("answers");
    assert!(u.truncated && u.path_and_query.len() >= QUERY_BUF_LEN - MAX_HOST_LEN - 8);
    assert!(
        u.path_and_query.as_bytes()[1..]
            .chunks(3)
            .all(|c| c == b"%20" || b"%20".starts_with(c))
    );
}

#[test]
fn query_host_reduces_urls() {
    let cases = [
        ("example.com:443", "example.com"),
        ("  Example.COM.  ", "example.com"),
        ("https://user:pw@a.example:8443/x?y#z", "a.example"),
        ("[::1]:80", "[::1]"),
        ("ftp://files.example/", "files.example"),
        ("a.example/path", "a.example"),
    ];
    for (input, want) in cases {
        let mut out = [0u8; HOST_BUF_LEN];
        let (_, n) = canon::query_host(input.as_bytes(), &mut out).expect(input);
        assert_eq!(&out[..n], want.as_bytes(), "{input}");
    }
}
