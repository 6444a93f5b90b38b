//! Indicator values: canonical keys, and rejections whose message says
//! what is wrong and how to fix it.

use indset::Code;
use indset::Kind;
use indset::canon::{self, MAX_INDICATOR_LEN};

/// (kind, value, canonical host, canonical path and query).
const ACCEPTED: &[(Kind, &str, &str, &str)] = &[
    (Kind::DomainName, "Example.COM", "example.com", ""),
    (Kind::DomainName, " example.com. ", "example.com", ""),
    // Nothing after the host: tolerated as the domain.
    (Kind::DomainName, "example.com/", "example.com", ""),
    (Kind::DomainName, "https://example.com", "example.com", ""),
    (Kind::DomainName, "example.com:443", "example.com", ""),
    (Kind::Url, "example.com", "example.com", "/"),
    (
        Kind::Url,
        "http://example.com/a/../b?x=1#f",
        "example.com",
        "/b?x=1",
    ),
    (
        Kind::Url,
        "https://u:p@example.com:8443/a",
        "example.com",
        "/a",
    ),
    (Kind::Url, "example.com/a b", "example.com", "/a%20b"),
    // A `://` in the query is no scheme: the host stays `h.test`.
    (
        Kind::Url,
        "h.test/?u=ftp://::1/",
        "h.test",
        "/?u=ftp://::1/",
    ),
    (Kind::Url, "h.test?ftt+p://::1/", "h.test", "/?ftt+p://::1/"),
];

/// (kind, value, code, text the message must contain).
const REJECTED: &[(Kind, &str, Code, &str)] = &[
    (
        Kind::DomainName,
        "*.example.com",
        Code::Wildcard,
        "`example.com` already covers its subdomains",
    ),
    (
        Kind::Url,
        "https://*.example.com/a",
        Code::Wildcard,
        "`example.com`",
    ),
    (
        Kind::DomainName,
        "example.com/a",
        Code::DomainWithPath,
        "use the type Url",
    ),
    (
        Kind::DomainName,
        "example.com/?q",
        Code::DomainWithPath,
        "Url",
    ),
    (
        Kind::DomainName,
        "me@example.com",
        Code::InvalidHost,
        "write `example.com`",
    ),
    (
        Kind::Url,
        "ftp://example.com/a",
        Code::UnsupportedScheme,
        "`ftp`",
    ),
    (
        Kind::DomainName,
        "mailto:a@example.com",
        Code::UnsupportedScheme,
        "http and https",
    ),
    (
        Kind::Url,
        "http://a b.example/",
        Code::InvalidHost,
        "no valid host",
    ),
    (Kind::Url, "http:///", Code::InvalidHost, "empty"),
    (
        Kind::DomainName,
        "1.2.3.4",
        Code::IpIndicator,
        "not supported on mobile",
    ),
    (
        Kind::Url,
        "http://0xf5f50001/x",
        Code::ReservedAddress,
        "245.245.0.1",
    ),
    (
        Kind::Url,
        "http://fe80::1/x",
        Code::IpIndicator,
        "not supported on mobile",
    ),
    (
        Kind::Url,
        " \tht\ttp://2001:db8::1/x",
        Code::IpIndicator,
        "not supported on mobile",
    ),
];

#[test]
fn accepted() {
    for &(kind, value, host, pq) in ACCEPTED {
        let got = canon::indicator(kind, value);
        assert_eq!(
            got,
            Ok((host.to_string(), pq.to_string())),
            "{kind} {value:?}"
        );
    }
}

#[test]
fn rejected_with_a_fix() {
    for &(kind, value, code, hint) in REJECTED {
        let r = canon::indicator(kind, value).expect_err(value);
        assert_eq!(r.code, code, "{kind} {value:?}: {}", r.message);
        assert!(r.message.contains(hint), "{value:?}: {}", r.message);
    }
}

#[test]
fn too_long_at_the_limit() {
    // host (11) + path: exactly the limit is accepted, one more is not.
    let path = "a".repeat(MAX_INDICATOR_LEN - "example.com".len() - 1);
    let ok = format!("example.com/{path}");
    let (h, pq) = canon::indicator(Kind::Url, &ok).expect("at the limit");
    assert_eq!(h.len() + pq.len(), MAX_INDICATOR_LEN);
    let r = canon::indicator(Kind::Url, &format!("{ok}a")).expect_err("over");
    assert_eq!(r.code, Code::TooLong);
    // Escaping counts: the limit is on the canonical form.
    let r = canon::indicator(Kind::Url, &format!("example.com/{}x", " ".repeat(700)))
        .expect_err("escaped");
    assert_eq!(r.code, Code::TooLong);
}
