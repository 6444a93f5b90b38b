//! The canonical URL (`docs/canonicalisation.md`, URLs) written into the
//! caller's buffer: the URL is split, then its host canonicalised, then
//! its path and query written.

use super::error::CanonError;
use super::host::{self, HOST_BUF_LEN, HostKind, RawHost};
use super::path::{self, Written};
use super::split::{Scheme, Split, authority_end, split, trim};
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

/// A canonical URL, borrowed from the caller's buffer.
///
/// In the buffer, the host is followed directly by the path and query, so
/// [`Url::path_and_query`] is one slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Url<'b> {
    /// The scheme as written; `None` when the input had none.
    pub scheme: Option<Scheme>,
    /// The canonical, escaped host.
    pub host: &'b str,
    /// What the host is.
    pub host_kind: HostKind,
    /// The canonical path and query: `/a/b` or `/a/b?q=1` (a lone trailing
    /// `?` kept).
    pub path_and_query: &'b str,
    /// The length of the path within [`Url::path_and_query`].
    pub path_len: usize,
    /// The canonical form did not fit the buffer: `path_and_query` is an
    /// exact prefix of the true canonical path and query, at least
    /// `buf.len() - MAX_HOST_LEN - 8` bytes long.
    pub truncated: bool,
}

impl Url<'_> {
    /// The canonical path without the query.
    pub fn path(&self) -> &str {
        &self.path_and_query[..self.path_len]
    }

    /// The canonical query after `?`, if any.
    pub fn query(&self) -> Option<&str> {
        self.path_and_query.get(self.path_len + 1..)
    }
}

/// The first half of [`url`]: the split, and the canonical host in `hb`
/// (its kind and length). The path is left to [`write_path`](path::write_path).
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

/// Canonicalises a URL into `buf` (see [`super::url`](fn@super::url)).
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
    let written: Written = path::write_path(sp.rest, pbuf);
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
