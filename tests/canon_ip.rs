//! IP detection agrees with a browser's host parser (the `url` crate
//! implements the WHATWG URL Standard), and IP hosts are rejected as
//! indicators, 245.245.0.1 with its own code in every spelling.

use std::net::{Ipv4Addr, Ipv6Addr};

use indset::Code;
use indset::Kind;
use indset::canon::{self, HOST_BUF_LEN, HostKind};
use proptest::prelude::*;

/// What the `url` crate's host parser (the WHATWG host parser for special
/// schemes such as http) makes of `h`. The host parser itself, not a whole
/// URL, so that a `:` is never taken for a port separator.
fn browser(h: &str) -> Option<url::Host<String>> {
    url::Host::parse(h).ok()
}

fn ours(h: &str) -> Result<HostKind, Code> {
    let mut out = [0u8; HOST_BUF_LEN];
    canon::host(h.as_bytes(), &mut out)
        .map(|(k, _)| k)
        .map_err(|e| e.code)
}

fn agree(h: &str) -> Result<(), TestCaseError> {
    let ours = ours(h);
    match browser(h) {
        Some(url::Host::Ipv4(a)) => prop_assert_eq!(ours, Ok(HostKind::Ipv4(a)), "{}", h),
        Some(url::Host::Ipv6(a)) => prop_assert_eq!(ours, Ok(HostKind::Ipv6(a)), "{}", h),
        Some(url::Host::Domain(_)) => {
            prop_assert!(
                !matches!(ours, Ok(k) if k.is_ip()),
                "{} is a domain, ours {:?}",
                h,
                ours
            )
        }
        // A browser refuses it: so do we when it looks like an IPv4.
        None => prop_assert!(
            ours.is_err(),
            "{} refused by the browser, ours {:?}",
            h,
            ours
        ),
    }
    Ok(())
}

/// One IPv4 part of value `v` in a random radix, with optional extra
/// leading zeros.
fn part(v: u64) -> impl Strategy<Value = String> {
    (0..4u8, 0..3usize).prop_map(move |(radix, zeros)| {
        let z = "0".repeat(zeros);
        match radix {
            0 => format!("{v}"),
            1 => format!("0{z}{v:o}"),
            2 => format!("0x{z}{v:x}"),
            _ => format!("0X{z}{v:X}"),
        }
    })
}

/// Every way a browser spells an IPv4 address: one to four parts, the
/// last filling the remaining bytes, and sometimes one part too large.
fn ipv4_spelling() -> impl Strategy<Value = String> {
    (any::<u32>(), 1..=4usize, any::<bool>(), 0..8u8).prop_flat_map(|(a, n, dot, overflow)| {
        let b = a.to_be_bytes();
        let mut values: Vec<u64> = b[..n - 1].iter().map(|&x| u64::from(x)).collect();
        let rest = b[n - 1..]
            .iter()
            .fold(0u64, |acc, &x| acc << 8 | u64::from(x));
        values.push(rest);
        if overflow == 0 {
            // Push one part out of range: a browser must refuse it.
            let i = usize::from(overflow) % values.len();
            values[i] += 1 << 32;
        }
        let parts: Vec<_> = values.into_iter().map(part).collect();
        parts.prop_map(move |p| {
            let mut s = p.join(".");
            if dot {
                s.push('.');
            }
            s
        })
    })
}

/// IPv6 literals: full, compressed at a random run, with an IPv4 tail,
/// upper or lower case.
fn ipv6_spelling() -> impl Strategy<Value = String> {
    (
        any::<[u16; 8]>(),
        0..8usize,
        0..4usize,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(mut p, start, zeros, v4, upper, mapped)| {
            if mapped {
                p[..5].fill(0);
                p[5] = 0xffff;
            }
            let end = (start + zeros).min(8);
            p[start..end].fill(0);
            let a = Ipv6Addr::from(p);
            let s = if v4 {
                let [a0, a1, a2, a3] = [p[6] >> 8, p[6] & 255, p[7] >> 8, p[7] & 255];
                let head: Vec<String> = p[..6].iter().map(|x| format!("{x:x}")).collect();
                format!("{}:{a0}.{a1}.{a2}.{a3}", head.join(":"))
            } else if zeros >= 2 {
                a.to_string()
            } else {
                p.iter()
                    .map(|x| format!("{x:04x}"))
                    .collect::<Vec<_>>()
                    .join(":")
            };
            let s = if upper { s.to_uppercase() } else { s };
            format!("[{s}]")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn ipv4_agrees_with_browser(h in ipv4_spelling()) {
        agree(&h)?;
    }

    #[test]
    fn ipv6_agrees_with_browser(h in ipv6_spelling()) {
        agree(&h)?;
    }

    /// Random strings over the IP alphabet, wherever a browser accepts them.
    #[test]
    fn ip_alphabet_agrees_with_browser(h in "[0-9a-fxX.:\\[\\]]{1,24}") {
        // Runs of dots and leading dots are collapsed by the host rules
        // (`docs/canonicalisation.md`, Trimming, case and dots), where a
        // browser refuses an empty IPv4 part: compare only single dots.
        prop_assume!(!h.contains("..") && !h.starts_with('.'));
        if browser(&h).is_some() {
            agree(&h)?;
        }
    }
}

/// (indicator value, code).
const IP_REJECTION: &[(&str, Code)] = &[
    ("1.2.3.4", Code::IpIndicator),
    ("http://1.2.3.4/a", Code::IpIndicator),
    ("3279880203", Code::IpIndicator),
    ("0xC3.0177.0.11", Code::IpIndicator),
    ("195.127.11", Code::IpIndicator),
    ("195.127.0.11.", Code::IpIndicator),
    ("[::1]", Code::IpIndicator),
    ("https://[::ffff:1.2.3.4]:443/x", Code::IpIndicator),
    ("%31.%32.%33.%34", Code::IpIndicator),
    // Ends in a number but is no IPv4: no host at all.
    ("1.2.3.256", Code::InvalidHost),
    ("example.09", Code::InvalidHost),
    ("a.b.0x", Code::InvalidHost),
    ("0x", Code::IpIndicator),
    // The tunnel's own address, every spelling.
    ("245.245.0.1", Code::ReservedAddress),
    ("4126474241", Code::ReservedAddress),
    ("0xf5f50001", Code::ReservedAddress),
    ("0xF5.0365.1", Code::ReservedAddress),
    ("245.245.1", Code::ReservedAddress),
    ("http://245.245.0.1./x", Code::ReservedAddress),
    ("[::ffff:245.245.0.1]", Code::ReservedAddress),
    ("[::ffff:f5f5:1]", Code::ReservedAddress),
];

/// Hosts that look numeric but are names.
const NOT_IP: &[&str] = &[
    "1-2-3-4.example",
    "1.2.3.4.example",
    "0x1g.example",
    "123.example",
    "example.1a",
];

#[test]
fn ip_rejection() {
    for &(value, code) in IP_REJECTION {
        for kind in [Kind::DomainName, Kind::Url] {
            let got = canon::indicator(kind, value).map_err(|r| r.code);
            assert_eq!(got, Err(code), "{kind} {value}");
        }
    }
    for &value in NOT_IP {
        assert!(canon::indicator(Kind::DomainName, value).is_ok(), "{value}");
    }
}

#[test]
fn ip_address_code() {
    for v in [
        "245.245.0.1",
        "4126474241",
        "::ffff:245.245.0.1",
        "[::ffff:f5f5:1]",
    ] {
        assert_eq!(canon::ip_address_code(v), Code::ReservedAddress, "{v}");
    }
    for v in ["1.2.3.4", "::1", "2001:db8::1", "nonsense"] {
        assert_eq!(canon::ip_address_code(v), Code::IpIndicator, "{v}");
    }
}

#[test]
fn reserved_kind() {
    let r = Ipv4Addr::new(245, 245, 0, 1);
    assert!(HostKind::Ipv4(r).is_reserved());
    assert!(HostKind::Ipv6(r.to_ipv6_mapped()).is_reserved());
    assert!(!HostKind::Ipv4(Ipv4Addr::new(245, 245, 0, 2)).is_reserved());
    assert!(!HostKind::Domain.is_reserved());
}
