//! Host and URL canonicalisation (`docs/canonicalisation.md`): the one place that knows the
//! rules. Indicators and queries go through the same functions, so an
//! indicator and a request that mean the same host give the same bytes.
//!
//! The query path never allocates: callers pass a buffer. (One measured
//! exception, inside the `idna` crate: an IDN host with more than eight
//! labels from its first non-ASCII label on makes one allocation.)
//!
//! Where Safe Browsing's and WHATWG's rules leave room, these choices hold:
//! - IP literals follow the WHATWG URL host parser (what a browser
//!   connects to), after the dot cleaning of the host rules: `1..2.3.4` is `1.2.3.4`.
//!   A host whose last label is a number but which is no IPv4 address
//!   (`1.2.3.256`, `example.09`) is `invalid-host`, as in a browser.
//! - A query host that breaks the rules keeps its bytes (lower-cased,
//!   dots cleaned, escaped) so it still has a canonical form and can still
//!   match a parent domain by suffix; an indicator's is refused. Besides
//!   Safe Browsing's set, a kept host escapes `/ \ ? @ : [ ]` and a path
//!   escapes a `?` that came from `%3F`, so that every canonical form
//!   reads back to itself.
//! - A scheme is `ALPHA *(ALNUM / + / - / .)` before `:`, unless digits
//!   follow (`example.com:8080/x` is a host and port). Slashes after
//!   `http:` are skipped, as browsers do (`http:\\a/`, `http:///a`).
//! - Unescaping to a fixed point is exact up to a chain of 128 nested
//!   incomplete escapes (`%3%3...%33`); deeper chains stay literal.
//!
//! # Layers
//!
//! A URL is split first, then its host is canonicalised, then its path
//! and query; each file uses only the ones listed before it, never one
//! after it:
//!
//! | file | holds | uses |
//! |---|---|---|
//! | `error.rs` | [`CanonError`] | |
//! | `escape.rs` | the bytes a URL drops (tab, CR, LF), unescaping, escaping | |
//! | `ip.rs` | IPv4 and IPv6 literals: parsing and writing | |
//! | `split.rs` | [`Scheme`]; a URL split into scheme, user info, host and the rest | `escape` |
//! | `host.rs` | [`HostKind`]; the host rules, the one function that decides what a host is | `error`, `escape`, `ip` |
//! | `path.rs` | the path and query writer | `escape` |
//! | `url.rs` | [`Url`]; split, then host, then path, into one buffer | `error`, `split`, `host`, `path` |
//! | `indicator.rs` | [`Rejection`]; an indicator value checked and made canonical | `error`, `ip`, `host`, `url` |
//! | `mod.rs` | the public functions, over all of the above | all |

use crate::diag::Code;
use crate::indicator::Kind;

mod error;
mod escape;
mod host;
mod indicator;
mod ip;
mod path;
mod split;
mod url;

pub use self::error::CanonError;
pub use self::host::{HOST_BUF_LEN, HostKind, MAX_HOST_LEN, RESERVED_V4};
pub use self::indicator::{MAX_INDICATOR_LEN, Rejection};
pub use self::split::Scheme;
pub use self::url::Url;

/// The query buffer a lookup uses: larger than any indicator, so a query
/// whose canonical form is cut at this size is still matched exactly.
pub const QUERY_BUF_LEN: usize = 4096;

/// Canonicalises a host (an indicator value of type `DomainName`, or the
/// host of a domain-mode query) into `out`; returns its kind and length.
///
/// Trims surrounding white space, lower-cases, strips leading and trailing
/// dots, collapses runs of dots, converts IDN to punycode (UTS #46),
/// recognises every IPv4 spelling a browser accepts and bracketed IPv6, and
/// writes an IP in its canonical form (`195.127.0.11`, `[::1]`).
///
/// Errors: `wildcard` for a `*`, `invalid-host` for anything else invalid.
pub fn host(input: &[u8], out: &mut [u8; HOST_BUF_LEN]) -> Result<(HostKind, usize), CanonError> {
    let raw = host::RawHost::unescaped(split::trim(input));
    if raw.overflow {
        return Err(host::TOO_LONG);
    }
    host::canonical(&raw.bytes[..raw.len], out)
}

/// Canonicalises the query of a domain-mode lookup: like [`host`](fn@host), but a
/// URL is first reduced to its host (any `scheme://` and the user info
/// dropped) and a port is stripped (`example.com:443`,
/// `https://a.example/x`, `[::1]:80`). Never allocates (see the module
/// docs for the IDN exception).
///
/// A host that breaks the rules keeps its bytes, as in [`url`](fn@url). Errors:
/// `invalid-host` only for an empty host or one whose kept form is longer
/// than [`MAX_HOST_LEN`].
pub fn query_host(
    input: &[u8],
    out: &mut [u8; HOST_BUF_LEN],
) -> Result<(HostKind, usize), CanonError> {
    url::query_host(input, out)
}

/// [`query_host`], with the bitmap of the canonical host's dots (bit `i`
/// for byte `i`) when the fast path found them: for the lookup, which
/// hashes the host's label suffixes.
#[inline]
pub(crate) fn query_host_dots(
    input: &[u8],
    out: &mut [u8; HOST_BUF_LEN],
) -> Result<(HostKind, usize, Option<u64>), CanonError> {
    url::query_host_dots(input, out)
}

/// The length of the buffer [`query_host_scanned`] writes.
pub(crate) const SCAN_LEN: usize = host::WORD_SCAN_LEN;

/// The first step of [`query_host_dots`] alone, into a buffer of
/// [`SCAN_LEN`] bytes: `Some((n, dots))` exactly when that step takes
/// `input` as it is (a bare host of 1 to 64 bytes of letters, digits, `-`
/// and `.`, without an empty label: an SNI name, most lookups), and then
/// `query_host_dots` gives `(HostKind::Domain, n, Some(dots))` and the
/// same bytes. Lets the lookup zero 64 bytes of buffer instead of
/// [`HOST_BUF_LEN`] on that path.
#[inline]
pub(crate) fn query_host_scanned(input: &[u8], out: &mut [u8; SCAN_LEN]) -> Option<(usize, u64)> {
    host::scanned(input, out)
}

/// Canonicalises a full-mode query URL into `buf`, following
/// `docs/canonicalisation.md` (URLs) and Safe Browsing v4. Never allocates
/// (see the module docs for the IDN exception); linear in the input.
///
/// A host that breaks the host rules keeps its bytes (`http://a b.com/`
/// gives the host `a%20b.com`); [`indicator`](fn@indicator) refuses it instead.
///
/// When the canonical form does not fit `buf`, [`Url::truncated`] is set
/// and the path and query are an exact prefix of the true ones, at least
/// `buf.len() - MAX_HOST_LEN - 8` bytes long.
///
/// Errors: `unsupported-scheme` for a scheme other than http(s);
/// `invalid-host` when the host is empty, when its kept form is longer
/// than [`MAX_HOST_LEN`], or when `buf` cannot hold the host and a `/`.
pub fn url<'b>(input: &[u8], buf: &'b mut [u8]) -> Result<Url<'b>, CanonError> {
    url::url(input, buf, url::Mode::Query).map(|(u, _)| u)
}

/// A full-mode query URL split in two halves, so that a lookup can
/// canonicalise the path only when some indicator could match it (most
/// queries stop in the host): [`query_url_host`] writes the host,
/// [`QueryUrl::path`] the path and query. Together they give exactly what
/// [`url`](fn@url) gives.
///
/// ```
/// use indset::canon::{self, HOST_BUF_LEN};
///
/// let mut host = [0u8; HOST_BUF_LEN];
/// let q = canon::query_url_host(b"HTTP://WWW.Example.COM/a/../b?x#y", &mut host)?;
/// assert_eq!(&host[..q.host_len], b"www.example.com");
/// let mut buf = [0u8; 256];
/// let p = q.path(&mut buf);
/// assert_eq!(&buf[..p.len], b"/b?x");
/// assert_eq!(p.path_len, 2);
/// # Ok::<(), indset::canon::CanonError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct QueryUrl<'i> {
    /// What the host is.
    pub host_kind: HostKind,
    /// The length of the canonical host.
    pub host_len: usize,
    rest: &'i [u8],
    /// The bitmap of the host's dots, when the word scan gave it.
    dots: Option<u64>,
}

/// Where [`QueryUrl::path`] wrote the canonical path and query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryPath {
    /// The escaped length of the path and query.
    pub len: usize,
    /// The length of the path within it.
    pub path_len: usize,
    /// As [`Url::truncated`].
    pub truncated: bool,
}

/// The host half of [`url`](fn@url) for a query: the canonical host goes to
/// `host`. The errors are [`url`](fn@url)'s for a buffer longer than the host.
pub fn query_url_host<'i>(
    input: &'i [u8],
    host: &mut [u8; HOST_BUF_LEN],
) -> Result<QueryUrl<'i>, CanonError> {
    let (host_kind, host_len, dots, rest) = match url::plain_url_host_dots(input, host) {
        Some(done) => done,
        None => {
            let (kind, len, sp) = url::url_host(input, url::Mode::Query, host)?;
            (kind, len, None, sp.rest)
        }
    };
    Ok(QueryUrl {
        host_kind,
        host_len,
        rest,
        dots,
    })
}

/// [`query_url_host`] by the word scan alone, into a buffer of
/// [`SCAN_LEN`] bytes: `Some` exactly when `query_url_host`'s fast path
/// takes the URL's host by the word scan (`http://` or `https://`, a host
/// of at most 64 bytes of letters, digits, `-` and `.` without an empty
/// label, ended by `/`, `\\`, `?`, `#` or the end: most full-mode
/// queries), with the same answer and host bytes; `None` otherwise.
#[inline]
pub(crate) fn query_url_scanned<'i>(
    input: &'i [u8],
    host: &mut [u8; SCAN_LEN],
) -> Option<QueryUrl<'i>> {
    let (host_len, dots, rest) = url::scanned_url_host(input, host)?;
    Some(QueryUrl {
        host_kind: HostKind::Domain,
        host_len,
        rest,
        dots: Some(dots),
    })
}

impl QueryUrl<'_> {
    /// The bitmap of the canonical host's dots (bit `i` for byte `i`)
    /// when the fast path found them: for the lookup, which hashes the
    /// host's label suffixes.
    #[inline]
    pub(crate) fn host_dots(&self) -> Option<u64> {
        self.dots
    }

    /// The path half: writes the canonical path and query to `buf`, as
    /// [`url`](fn@url) writes them after the host into a buffer of
    /// `host_len + buf.len()` bytes (so truncation is the same too).
    /// Never allocates; linear in the input.
    pub fn path(&self, buf: &mut [u8]) -> QueryPath {
        let w = path::write_path(self.rest, buf);
        QueryPath {
            len: w.len,
            path_len: w.path_len,
            truncated: w.truncated,
        }
    }
}

/// The full canonical form `scheme://host/path[?query]` of a URL (scheme
/// `http` when none was given), as printed by the tool. Allocates.
pub fn url_string(input: &str) -> Result<String, CanonError> {
    let mut buf = vec![0u8; input.len() * 3 + MAX_HOST_LEN + 16];
    let u = url(input.as_bytes(), &mut buf)?;
    let scheme = u.scheme.unwrap_or(Scheme::Http).as_str();
    Ok(format!("{scheme}://{}{}", u.host, u.path_and_query))
}

/// Validates and canonicalises an indicator value of the given kind:
/// returns its canonical host and, for a URL, its canonical path and query
/// (empty for a domain).
///
/// Rejects IP hosts (`ip-indicator`, or `reserved-address` for
/// 245.245.0.1), `*` (`wildcard`), a domain with a path
/// (`domain-with-path`), other schemes (`unsupported-scheme`), values longer
/// than [`MAX_INDICATOR_LEN`] (`too-long`) and invalid hosts
/// (`invalid-host`, also for user info in a `DomainName`). The message
/// quotes the value and says how to fix it.
///
/// A `DomainName` may be written as a URL with nothing after the host:
/// `https://example.com`, `example.com/` and `example.com:443` are the
/// domain `example.com` (users paste such values; the scheme and port are
/// never part of a key). Allocates.
pub fn indicator(kind: Kind, value: &str) -> Result<(String, String), Rejection> {
    indicator::indicator(kind, value)
}

/// The code for an `IpAddress` indicator: `reserved-address` when it names
/// 245.245.0.1 in any spelling, else `ip-indicator`.
pub fn ip_address_code(value: &str) -> Code {
    let bare = value.trim();
    if let Some(a) = ip::parse_ipv6(bare.as_bytes()) {
        return if HostKind::Ipv6(a).is_reserved() {
            Code::ReservedAddress
        } else {
            Code::IpIndicator
        };
    }
    let mut out = [0u8; HOST_BUF_LEN];
    match query_host(value.as_bytes(), &mut out) {
        Ok((kind, _)) if kind.is_reserved() => Code::ReservedAddress,
        _ => Code::IpIndicator,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// [`query_url_host`] then [`QueryUrl::path`] give exactly [`url`]:
    /// the same errors, host, path, path length and truncation.
    fn halves_agree(input: &[u8], buf_len: usize) {
        let mut whole = vec![0u8; buf_len];
        let want = url(input, &mut whole);
        let mut host = [0u8; HOST_BUF_LEN];
        match (query_url_host(input, &mut host), want) {
            (Err(a), Err(b)) => assert_eq!(a, b, "{input:?}"),
            (Ok(q), Ok(u)) => {
                assert_eq!(q.host_kind, u.host_kind);
                assert_eq!(&host[..q.host_len], u.host.as_bytes());
                let mut pbuf = vec![0u8; buf_len - q.host_len];
                let p = q.path(&mut pbuf);
                assert_eq!(&pbuf[..p.len], u.path_and_query.as_bytes(), "{input:?}");
                assert_eq!((p.path_len, p.truncated), (u.path_len, u.truncated));
            }
            (a, b) => panic!("{input:?}: halves {:?}, whole {:?}", a.err(), b.err()),
        }
    }

    #[test]
    fn halves_agree_on_examples() {
        for s in [
            "http://a.example/x#frag?no",
            "https://u:p@A.Example.:8080/a/../b?q=%41#x",
            "example.com#only-fragment",
            "http://h/?",
            "ftp://x/",
            "http:///",
            "http://[::1]/a",
            "http://1.2.3.4/%2e%2e/",
            "HTTPS://A.Example?x ",
            "http://a.example\\b/c \t",
            "http://a.example#x",
            "http://a.example:80/",
            "http://a.example /x",
            "http://a.example\t/x",
            "http:///a.example/x",
            "http://a.example",
            "http://a.example. /",
            "https://xn--a.example/",
            "http://1.2.3.4/",
            "http://a.0x1/",
            "httpS:/a.example/",
        ] {
            halves_agree(s.as_bytes(), 1024);
            halves_agree(s.as_bytes(), 300);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5_000))]

        #[test]
        fn halves_agree_on_urls(
            parts in prop::collection::vec(
                prop::sample::select(vec![
                    "http://", "https://", "HTTP:", "ftp://", "a", "B", ".", "/", "//", "\\",
                    "?", "#", "%", "%2e", "%23", "%3F", "@", ":", "8080", "[", "]", "::1",
                    " ", "\t", "\u{e9}", "xn--", "..", "=", "&",
                ]),
                0..24,
            ),
            small in any::<bool>(),
        ) {
            halves_agree(parts.concat().as_bytes(), if small { 300 } else { 1024 });
        }

        /// The same, for URLs that start like the common case.
        #[test]
        fn halves_agree_on_http_urls(
            scheme in prop::sample::select(vec!["http://", "https://", "HTTP://", "hTtPs://"]),
            parts in prop::collection::vec(
                prop::sample::select(vec![
                    "a", "B", "0", "-", ".", "..", "/", "\\", "?", "#", "@", ":", "80", " ",
                    "\t", "\u{1}", "xn--", "%2e", "\u{e9}", "www", "com", "0x1f",
                ]),
                0..16,
            ),
        ) {
            halves_agree(format!("{scheme}{}", parts.concat()).as_bytes(), 1024);
        }
    }
}
