//! Validating indicator values: the canonical key, or a rejection that
//! says what is wrong and how to fix it.

use std::cell::RefCell;
use std::net::Ipv6Addr;

use super::error::CanonError;
use super::host::HostKind;
use super::ip::parse_ipv6;
use super::url::{self, Mode};
use crate::diag::Code;
use crate::indicator::Kind;

/// The longest canonical indicator value (`host/path?query`), in bytes.
/// Longer URL indicators are rejected as `too-long`.
pub const MAX_INDICATOR_LEN: usize = 2048;

/// Why an indicator value was refused: a code and a message that says how
/// to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The stable code.
    pub code: Code,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// The value as quoted in messages: at most 80 characters.
fn shown(value: &str) -> String {
    let mut s: String = value.chars().take(80).collect();
    if s.len() < value.len() {
        s.push_str("...");
    }
    s
}

fn reject(code: Code, message: String) -> Rejection {
    Rejection { code, message }
}

/// The value with its `*` labels removed, when that leaves a host.
fn without_wildcard(value: &str) -> Option<String> {
    let v = value.trim();
    let v = v.split_once("://").map_or(v, |(_, rest)| rest);
    let host = v.split(['/', '?', '#']).next().unwrap_or(v);
    let kept: Vec<&str> = host
        .split('.')
        .skip_while(|l| l.contains('*') || l.is_empty())
        .collect();
    let joined = kept.join(".");
    (!kept.is_empty() && !joined.contains('*')).then_some(joined)
}

fn from_canon(kind: Kind, value: &str, e: CanonError) -> Rejection {
    let v = shown(value);
    match e.code {
        Code::Wildcard => match without_wildcard(value) {
            Some(d) => reject(
                Code::Wildcard,
                format!(
                    "`{v}` has a wildcard; a DomainName indicator `{d}` already covers its subdomains"
                ),
            ),
            None => reject(
                Code::Wildcard,
                format!(
                    "`{v}` has a `*`; wildcards are not supported: a DomainName indicator already covers its subdomains, so name the parent domain"
                ),
            ),
        },
        Code::UnsupportedScheme => {
            let scheme = value.trim().split(':').next().unwrap_or("");
            reject(
                Code::UnsupportedScheme,
                format!(
                    "`{v}` uses the scheme `{}`; only http and https URLs can be matched: write it as `https://...` or without a scheme",
                    shown(scheme)
                ),
            )
        }
        _ => reject(
            Code::InvalidHost,
            format!(
                "`{v}` has no valid host: {}; write a host name such as `example.com`{}",
                e.reason,
                if kind == Kind::Url {
                    " followed by the path"
                } else {
                    ""
                }
            ),
        ),
    }
}

/// See [`super::indicator`](fn@super::indicator).
pub(super) fn indicator(kind: Kind, value: &str) -> Result<(String, String), Rejection> {
    thread_local! {
        // One buffer per thread, reused: no heap allocation and no zeroing
        // per indicator. `url::url` only reads back the bytes it wrote.
        static BUF: RefCell<[u8; MAX_INDICATOR_LEN + 1]> =
            const { RefCell::new([0; MAX_INDICATOR_LEN + 1]) };
    }
    BUF.with_borrow_mut(|buf| canonical(kind, value, buf))
}

/// The host of `value` when it is an IPv6 address without brackets
/// (`2001:db8::1`, `http://fe80::1/x`): the URL parser would read the part
/// before the first `:` as the host (`2001`, the IPv4 address 0.0.7.209) or
/// as a scheme (`fe80`). A zone (`fe80::1%eth0`) is part of the host.
fn bare_ipv6(value: &str) -> Option<(&str, Ipv6Addr)> {
    let v = value.trim();
    // Only a scheme ends at `://`: one in the path or query
    // (`h.test/?u=ftp://::1/`) leaves the host where it is.
    let v = match v.split_once("://") {
        Some((scheme, rest)) if is_scheme(scheme) => rest,
        _ => v,
    };
    let host = v.split(['/', '?', '#']).next().unwrap_or(v);
    let address = host.split_once('%').map_or(host, |(a, _)| a);
    Some((host, parse_ipv6(address.as_bytes())?))
}

/// Whether `s` reads as a URL scheme (`ALPHA *(ALNUM / + / - / .)`) once
/// the bytes a URL parser drops are dropped (leading C0 controls and
/// spaces; tab, CR and LF anywhere).
fn is_scheme(s: &str) -> bool {
    let mut b = s
        .trim_start_matches(|c: char| c <= ' ')
        .bytes()
        .filter(|b| !matches!(b, b'\t' | b'\r' | b'\n'));
    b.next().is_some_and(|c| c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

fn canonical(kind: Kind, value: &str, buf: &mut [u8]) -> Result<(String, String), Rejection> {
    if let Some((host, address)) = bare_ipv6(value) {
        let v = shown(value);
        return Err(if HostKind::Ipv6(address).is_reserved() {
            reject(
                Code::ReservedAddress,
                format!(
                    "`{v}` is the IPv6 address {host}, the tunnel's own internal address 245.245.0.1, which is never blocked: remove this indicator"
                ),
            )
        } else {
            reject(
                Code::IpIndicator,
                format!(
                    "`{v}` has the IPv6 address {} as its host; IP indicators are not supported on mobile: use the host name instead",
                    shown(host)
                ),
            )
        });
    }
    let (u, sp) =
        url::url(value.as_bytes(), buf, Mode::Indicator).map_err(|e| from_canon(kind, value, e))?;
    if u.host_kind.is_reserved() {
        let v = shown(value);
        return Err(reject(
            Code::ReservedAddress,
            format!(
                "`{v}` names 245.245.0.1, the tunnel's own internal address, which is never blocked: remove this indicator"
            ),
        ));
    }
    if u.host_kind.is_ip() {
        let v = shown(value);
        return Err(reject(
            Code::IpIndicator,
            format!(
                "`{v}` has the IP address {} as its host; IP indicators are not supported on mobile: use the host name instead",
                u.host
            ),
        ));
    }
    match kind {
        Kind::DomainName => {
            if u.path_and_query != "/" {
                let v = shown(value);
                return Err(reject(
                    Code::DomainWithPath,
                    format!(
                        "`{v}` is a DomainName with a path; use the type Url for `{}{}`, or drop the path to cover the whole domain `{}`",
                        u.host,
                        shown(u.path_and_query),
                        u.host
                    ),
                ));
            }
            if sp.userinfo {
                let v = shown(value);
                return Err(reject(
                    Code::InvalidHost,
                    format!(
                        "`{v}` has user info before `@`; a DomainName is a host name only: write `{}`",
                        u.host
                    ),
                ));
            }
            Ok((u.host.to_string(), String::new()))
        }
        Kind::Url => {
            let len = u.host.len() + u.path_and_query.len();
            if u.truncated || len > MAX_INDICATOR_LEN {
                let v = shown(value);
                return Err(reject(
                    Code::TooLong,
                    format!(
                        "the canonical form of `{v}` is longer than {MAX_INDICATOR_LEN} bytes; shorten the path or query (an indicator matches every longer path under it)"
                    ),
                ));
            }
            Ok((u.host.to_string(), u.path_and_query.to_string()))
        }
    }
}
