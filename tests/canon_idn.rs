//! Internationalised hosts: every spelling of a name gives one key, bad
//! IDNA is refused, wildcards and length limits sit next to accepted twins.

use indset::Code;
use indset::Kind;
use indset::canon::{self, HOST_BUF_LEN, HostKind};

fn host(s: &str) -> Result<String, Code> {
    let mut out = [0u8; HOST_BUF_LEN];
    canon::host(s.as_bytes(), &mut out)
        .map(|(k, n)| {
            assert_eq!(k, HostKind::Domain, "{s}");
            String::from_utf8(out[..n].to_vec()).expect("canonical hosts are ASCII")
        })
        .map_err(|e| e.code)
}

/// Groups of spellings of one host, with its key.
const IDN: &[(&str, &[&str])] = &[
    (
        "xn--bcher-kva.example",
        &[
            "bücher.example",
            "BÜCHER.EXAMPLE",
            "xn--bcher-kva.example",
            "XN--BCHER-KVA.example",
            "bu\u{308}cher.example", // decomposed ü: NFC first
            "bücher\u{3002}example",
            "bücher\u{ff0e}example",
            "bücher\u{ff61}example",
            "..bücher...example..",
            " bücher.example\t",
            "b%C3%BCcher.example",
            "ｂüｃｈｅｒ.example", // full-width letters fold
        ],
    ),
    // Non-transitional: ß stays ß (is not mapped to ss).
    ("xn--zca.example", &["ß.example", "xn--zca.example"]),
    ("strasse.example", &["strasse.example", "STRASSE.example"]),
    ("xn--mgbh0fb.example", &["مثال.example"]),
    ("xn--fsqu00a.xn--55qx5d", &["例子.公司", "例子。公司"]),
];

#[test]
fn idn_spellings_share_a_key() {
    for &(key, spellings) in IDN {
        for s in spellings {
            assert_eq!(host(s).as_deref(), Ok(key), "{s:?}");
            // A URL indicator and a domain query agree with the host rules
            // (white space is trimmed around a whole value only).
            let s = s.trim();
            let (h, _) = canon::indicator(Kind::Url, &format!("https://{s}/")).expect(s);
            assert_eq!(h, key, "{s:?} as a URL");
            let mut out = [0u8; HOST_BUF_LEN];
            let (_, n) = canon::query_host(format!("{s}:443").as_bytes(), &mut out).expect(s);
            assert_eq!(&out[..n], key.as_bytes(), "{s:?} as a domain query");
        }
    }
}

/// Invalid hosts, each beside a twin that is accepted.
const BAD_AND_TWIN: &[(&str, Code, &str)] = &[
    ("xn--a.example", Code::InvalidHost, "xn--mnchen-3ya.example"),
    (
        "xn--bcher-kva\u{301}.example",
        Code::InvalidHost,
        "xn--bcher-kva.example",
    ),
    ("a b.example", Code::InvalidHost, "ab.example"),
    ("a\u{0}b.example", Code::InvalidHost, "ab.example"),
    ("a%00b.example", Code::InvalidHost, "a%62.example"),
    ("a<b.example", Code::InvalidHost, "a-b.example"),
    ("a|b.example", Code::InvalidHost, "a_b.example"),
    ("\u{200b}", Code::InvalidHost, "a\u{ad}b.example"),
    ("\u{fffd}.example", Code::InvalidHost, "\u{e9}.example"),
    ("", Code::InvalidHost, "x"),
    ("...", Code::InvalidHost, ".x."),
    ("*.example.com", Code::Wildcard, "example.com"),
    ("ex*ample.com", Code::Wildcard, "example.com"),
    ("%2A.example.com", Code::Wildcard, "%41.example.com"),
    (
        "\u{ff0a}.example.com",
        Code::Wildcard,
        "\u{ff21}.example.com",
    ),
];

#[test]
fn bad_hosts_beside_twins() {
    for &(bad, code, twin) in BAD_AND_TWIN {
        assert_eq!(host(bad), Err(code), "{bad:?}");
        let r = canon::indicator(Kind::DomainName, bad).expect_err(bad);
        assert_eq!(r.code, code, "{bad:?}");
        assert!(host(twin).is_ok(), "twin {twin:?}: {:?}", host(twin));
    }
}

#[test]
fn wildcard_message_names_the_parent() {
    let r = canon::indicator(Kind::DomainName, "*.example.com").expect_err("wildcard");
    assert_eq!(r.code, Code::Wildcard);
    assert!(r.message.contains("`example.com`"), "{}", r.message);
    assert!(r.message.contains("subdomains"), "{}", r.message);
}

#[test]
fn length_limits() {
    let l63 = "a".repeat(63);
    let l64 = "a".repeat(64);
    assert!(host(&format!("{l63}.example")).is_ok());
    assert_eq!(host(&format!("{l64}.example")), Err(Code::InvalidHost));
    // 253 bytes accepted, 254 refused (a trailing dot does not count).
    let h253 = format!("{l63}.{l63}.{l63}.{}", "b".repeat(61));
    assert_eq!(h253.len(), 253);
    assert_eq!(host(&h253).as_deref(), Ok(h253.as_str()));
    assert_eq!(host(&format!("{h253}.")).as_deref(), Ok(h253.as_str()));
    assert_eq!(host(&format!("{h253}b")), Err(Code::InvalidHost));
    // The label limit applies to the punycode form: 56 characters give a
    // 63-byte label, 57 characters a 64-byte one.
    let twin = format!("{}ü.example", "a".repeat(55));
    assert_eq!(
        host(&twin),
        Ok(format!("xn--{}-8yf.example", "a".repeat(55)))
    );
    assert_eq!(host(&format!("a{twin}")), Err(Code::InvalidHost));
    // A huge host is refused, not truncated.
    assert_eq!(host(&"a.".repeat(5000)), Err(Code::InvalidHost));
}

#[test]
fn query_keeps_invalid_bytes() {
    let mut buf = [0u8; 512];
    let u = canon::url("http://a b.EXAMPLE/".as_bytes(), &mut buf).expect("kept");
    assert_eq!(u.host, "a%20b.example");
    let e = canon::indicator(Kind::Url, "http://a b.example/").expect_err("strict");
    assert_eq!(e.code, Code::InvalidHost);
}
