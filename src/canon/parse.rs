//! Splitting a URL into scheme, host and path as browsers do, and the
//! canonical URL (`docs/canonicalisation.md`, URLs) written into the caller's buffer.

use super::escape::Unescaper;
use super::host::{self, RawHost};
use super::path::Writer;
use super::{CanonError, HOST_BUF_LEN, HostKind, Scheme, Url};
use crate::diag::Code;

/// Whether the host rules are strict (indicators) or keep an invalid
/// host's bytes (queries).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Query,
    Indicator,
}

pub(super) const UNSUPPORTED_SCHEME: CanonError = CanonError {
    code: Code::UnsupportedScheme,
    reason: "only http and https URLs can be matched",
};

const BUFFER_TOO_SMALL: CanonError = CanonError {
    code: Code::InvalidHost,
    reason: "the buffer is too small for the host",
};

/// Tab, CR and LF are removed from anywhere in a URL.
#[inline]
fn skipped(b: u8) -> bool {
    matches!(b, b'\t' | b'\r' | b'\n')
}

/// Where the pieces of a URL are in the (trimmed) input.
pub(super) struct Split<'a> {
    pub(super) scheme: Option<Scheme>,
    /// The scheme as written, when it is not http(s) (for messages).
    pub(super) other_scheme: Option<&'a [u8]>,
    pub(super) userinfo: bool,
    pub(super) host: &'a [u8],
    /// From the authority's end: path, then `?query`, then `#fragment`
    /// ([`write_path`] drops the fragment, so that a lookup that needs no
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

fn authority_end(s: &[u8]) -> usize {
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

/// The first half of [`url`]: the split, and the canonical host in `hb`
/// (its kind and length). The path is left to [`write_path`].
pub(super) fn url_host<'i>(
    input: &'i [u8],
    mode: Mode,
    hb: &mut [u8; HOST_BUF_LEN],
) -> Result<(HostKind, usize, Split<'i>), CanonError> {
    let sp = split(trim(input), false);
    if sp.other_scheme.is_some() {
        return Err(UNSUPPORTED_SCHEME);
    }
    let plain = match mode {
        Mode::Query => host::plain(sp.host, hb),
        Mode::Indicator => None,
    };
    let (kind, hn) = match (plain, mode) {
        (Some(done), _) => done,
        (None, Mode::Query) => host::query_canonical(&RawHost::unescaped(sp.host), hb)?,
        (None, Mode::Indicator) => {
            let raw = RawHost::unescaped(sp.host);
            if raw.overflow {
                return Err(host::TOO_LONG);
            }
            host::canonical(&raw.bytes[..raw.len], hb)?
        }
    };
    Ok((kind, hn, sp))
}

/// The common case of [`url_host`] for a query, without the general split:
/// `http://` or `https://` (any case), then a host that [`host::plain`]
/// accepts, ended by `/`, `\\`, `?`, `#` or the end. Gives what
/// [`url_host`] gives (the host, and the rest trimmed at its end), or
/// `None` for any other URL: a port, user info, white space, other slashes
/// or bytes.
#[inline]
pub(super) fn plain_url_host<'i>(
    input: &'i [u8],
    hb: &mut [u8; HOST_BUF_LEN],
) -> Option<(HostKind, usize, &'i [u8])> {
    let scheme = match input.get(..8)? {
        [a, b, c, d, b':', b'/', b'/', _] if eq_word(&[*a, *b, *c, *d], b"http") => 7,
        [a, b, c, d, e, b':', b'/', b'/'] if eq_word(&[*a, *b, *c, *d, *e], b"https") => 8,
        _ => return None,
    };
    let after = input.get(scheme..)?;
    let e = authority_end(after);
    let (kind, n) = host::plain(after.get(..e)?, hb)?;
    let rest = after.get(e..)?;
    let end = rest.iter().rposition(|&b| b > b' ').map_or(0, |i| i + 1);
    Some((kind, n, rest.get(..end)?))
}

fn eq_word(s: &[u8], word: &[u8]) -> bool {
    s.eq_ignore_ascii_case(word)
}

/// Canonicalises a URL into `buf` (see [`super::url`]).
pub(super) fn url<'i, 'b>(
    input: &'i [u8],
    buf: &'b mut [u8],
    mode: Mode,
) -> Result<(Url<'b>, Split<'i>), CanonError> {
    let mut hb = [0u8; HOST_BUF_LEN];
    let (kind, hn, sp) = url_host(input, mode, &mut hb)?;
    if buf.len() <= hn {
        return Err(BUFFER_TOO_SMALL);
    }
    let (hbuf, pbuf) = buf.split_at_mut(hn);
    hbuf.copy_from_slice(&hb[..hn]);
    let written = write_path(sp.rest, pbuf);
    let pq = &pbuf[..written.len];
    let host = std::str::from_utf8(hbuf).unwrap_or_default();
    let path_and_query = std::str::from_utf8(pq).unwrap_or_default();
    debug_assert_eq!(path_and_query.len(), written.len);
    Ok((
        Url {
            scheme: sp.scheme,
            host,
            host_kind: kind,
            path_and_query,
            path_len: written.path_len,
            truncated: written.truncated,
        },
        sp,
    ))
}

/// A byte that the path and query rules keep as it is: printable ASCII
/// other than `%` (unescaping), `\\` (a `/`) and `#` (escaped).
#[inline(always)]
fn plain_byte(b: u8) -> bool {
    (0x21..=0x7E).contains(&b) && !matches!(b, b'%' | b'\\' | b'#')
}

/// The common case of [`write_path`]: plain bytes only, no empty, `.` or
/// `..` path segment, and room for all of it. Then the canonical path and
/// query are the input's, so they are copied. `None` for anything else:
/// the writer gives the same answer for every input this accepts.
fn plain_path(path: &[u8], query: Option<&[u8]>, buf: &mut [u8]) -> Option<super::path::Written> {
    let path_len = 1 + path.len();
    let len = path_len + query.map_or(0, |q| 1 + q.len());
    if len > buf.len() {
        return None;
    }
    for seg in path.split(|&b| b == b'/') {
        if matches!(seg, b"." | b"..") || !seg.iter().all(|&b| plain_byte(b)) {
            return None;
        }
    }
    // An empty segment before the last collapses: `a//b`, `/a`.
    if path.first() == Some(&b'/') || path.windows(2).any(|w| w == b"//") {
        return None;
    }
    if !query
        .unwrap_or_default()
        .iter()
        .all(|&b| plain_byte(b) || b == b'\\')
    {
        return None;
    }
    buf[0] = b'/';
    buf[1..path_len].copy_from_slice(path);
    if let Some(q) = query {
        buf[path_len] = b'?';
        buf[path_len + 1..len].copy_from_slice(q);
    }
    Some(super::path::Written {
        len,
        path_len,
        truncated: false,
    })
}

pub(super) fn write_path(rest: &[u8], buf: &mut [u8]) -> super::path::Written {
    let rest = &rest[..memchr::memchr(b'#', rest).unwrap_or(rest.len())];
    let q = memchr::memchr(b'?', rest);
    let path = &rest[..q.unwrap_or(rest.len())];
    // The first byte, when present, is the `/` or `\\` that ended the
    // authority: the writer starts with the root `/` itself.
    let path = path.get(1..).unwrap_or_default();
    match plain_path(path, q.map(|q| &rest[q + 1..]), buf) {
        Some(w) => w,
        None => general_path(path, q.map(|q| &rest[q + 1..]), buf),
    }
}

/// The path writer for any input (see [`write_path`]).
fn general_path(path: &[u8], query: Option<&[u8]>, buf: &mut [u8]) -> super::path::Written {
    let mut w = Writer::new(buf);
    let mut u = Unescaper::new();
    for &b in path {
        if !skipped(b) {
            u.feed(b, &mut |b| w.path_byte(if b == b'\\' { b'/' } else { b }));
        }
    }
    u.flush(&mut |b| w.path_byte(if b == b'\\' { b'/' } else { b }));
    if let Some(query) = query {
        w.begin_query();
        for &b in query {
            if !skipped(b) {
                u.feed(b, &mut |b| w.query_byte(b));
            }
        }
        u.flush(&mut |b| w.query_byte(b));
    }
    w.finish()
}

/// The host of a domain-mode query (see [`super::query_host`]).
pub(super) fn query_host(
    input: &[u8],
    out: &mut [u8; HOST_BUF_LEN],
) -> Result<(HostKind, usize), CanonError> {
    // A bare host of letters, digits, `-` and `.` (an SNI name) is its own
    // split: no white space to trim, no scheme, port, user info or path.
    if let Some(done) = host::plain(input, out) {
        return Ok(done);
    }
    let sp = split(trim(input), true);
    if let Some(done) = host::plain(sp.host, out) {
        return Ok(done);
    }
    host::query_canonical(&RawHost::unescaped(sp.host), out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// The copying fast path answers exactly like the writer.
        #[test]
        fn plain_path_agrees_with_the_writer(
            parts in prop::collection::vec(
                prop::sample::select(vec![
                    "a", "/", "//", ".", "..", "?", "%", "%41", "\\", "#", " ", "\t", "=",
                    "&", "~", "\u{e9}", "x.y", "\x7f",
                ]),
                0..16,
            ),
            small in any::<bool>(),
        ) {
            let rest = parts.concat();
            let rest = rest.as_bytes();
            let q = rest.iter().position(|&b| b == b'?');
            let path = rest[..q.unwrap_or(rest.len())].get(1..).unwrap_or_default();
            let query = q.map(|q| &rest[q + 1..]);
            let len = if small { 12 } else { 256 };
            let mut fast = vec![0u8; len];
            if let Some(f) = plain_path(path, query, &mut fast) {
                let mut slow = vec![0u8; len];
                let s = general_path(path, query, &mut slow);
                prop_assert_eq!((f.len, f.path_len, f.truncated), (s.len, s.path_len, s.truncated));
                prop_assert_eq!(&fast[..f.len], &slow[..s.len]);
            }
        }
    }
}
