//! Splitting a URL into scheme, authority and the rest (path, query and
//! fragment) as browsers do, before any part is canonicalised.

use super::escape::skipped;

/// A URL scheme that indicators and queries may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `http`
    Http,
    /// `https`
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Where the pieces of a URL are in the (trimmed) input.
pub(super) struct Split<'a> {
    pub(super) scheme: Option<Scheme>,
    /// The scheme as written, when it is not http(s) (for messages).
    pub(super) other_scheme: Option<&'a [u8]>,
    pub(super) userinfo: bool,
    pub(super) host: &'a [u8],
    /// From the authority's end: path, then `?query`, then `#fragment`
    /// (`path::write_path` drops the fragment, so that a lookup that needs no
    /// path never scans the rest of the URL).
    pub(super) rest: &'a [u8],
}

/// Trims C0 controls and spaces at both ends.
pub(super) fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b > b' ').unwrap_or(s.len());
    let end = s.iter().rposition(|&b| b > b' ').map_or(start, |i| i + 1);
    &s[start..end]
}

/// Finds a scheme candidate `ALPHA *(ALNUM / + / - / .) :`: returns the
/// index of the `:` (tab, CR and LF skipped).
fn scheme_colon(s: &[u8]) -> Option<usize> {
    let mut first = true;
    for (i, &b) in s.iter().enumerate() {
        if skipped(b) {
            continue;
        }
        if b == b':' {
            return (!first).then_some(i);
        }
        let ok = if first {
            b.is_ascii_alphabetic()
        } else {
            b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
        };
        if !ok {
            return None;
        }
        first = false;
    }
    None
}

fn eq_skipping(s: &[u8], word: &[u8]) -> bool {
    let mut it = s.iter().copied().filter(|&b| !skipped(b));
    word.iter()
        .all(|&w| it.next().is_some_and(|b| b.eq_ignore_ascii_case(&w)))
        && it.next().is_none()
}

pub(super) fn authority_end(s: &[u8]) -> usize {
    s.iter()
        .position(|&b| matches!(b, b'/' | b'\\' | b'?' | b'#'))
        .unwrap_or(s.len())
}

/// Splits a trimmed URL. `any_scheme` (domain mode) strips any
/// `scheme://` instead of refusing the ones other than http(s).
pub(super) fn split(s: &[u8], any_scheme: bool) -> Split<'_> {
    let mut scheme = None;
    let mut other_scheme = None;
    let mut a = 0;
    if let Some(c) = scheme_colon(s) {
        let name = &s[..c];
        let after = &s[c + 1..];
        if eq_skipping(name, b"http") || eq_skipping(name, b"https") {
            scheme = Some(if eq_skipping(name, b"http") {
                Scheme::Http
            } else {
                Scheme::Https
            });
            a = c + 1;
        } else {
            let port = &after[..authority_end(after)];
            let is_port = port.iter().any(u8::is_ascii_digit)
                && port.iter().all(|&b| b.is_ascii_digit() || skipped(b));
            if !is_port {
                if any_scheme {
                    a = c + 1;
                } else {
                    other_scheme = Some(name);
                }
            }
        }
    }
    // Special schemes ignore any slashes before the host, as browsers do.
    while a < s.len() && (matches!(s[a], b'/' | b'\\') || skipped(s[a])) {
        a += 1;
    }
    let s = &s[a..];
    let e = authority_end(s);
    let authority = &s[..e];
    let (userinfo, hostport) = match authority.iter().rposition(|&b| b == b'@') {
        Some(i) => (true, &authority[i + 1..]),
        None => (false, authority),
    };
    let first = hostport.iter().position(|&b| !skipped(b));
    let host_end = if first.is_some_and(|i| hostport[i] == b'[') {
        hostport
            .iter()
            .position(|&b| b == b']')
            .map_or(hostport.len(), |i| i + 1)
    } else {
        hostport
            .iter()
            .position(|&b| b == b':')
            .unwrap_or(hostport.len())
    };
    let rest = &s[e..];
    Split {
        scheme,
        other_scheme,
        userinfo,
        host: &hostport[..host_end],
        rest,
    }
}
