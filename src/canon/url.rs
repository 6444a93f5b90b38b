//! The canonical URL (`docs/canonicalisation.md`, URLs) written into the
//! caller's buffer: the URL is split, then its host canonicalised, then
//! its path and query written.

use super::error::CanonError;
use super::host::{self, HOST_BUF_LEN, HostKind, RawHost, Stop};
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
    // The ASCII fast path gives the general path's answer for every host
    // it takes (`host::plain`). For an indicator it also leaves out the
    // hosts the general path refuses as too long before cleaning their
    // dots: more than `MAX_RAW_HOST` bytes (a plain host has no escapes,
    // so its raw length is its length).
    let plain = match mode {
        Mode::Query => host::plain(sp.host, hb),
        Mode::Indicator if sp.host.len() <= host::MAX_RAW_HOST => host::plain(sp.host, hb),
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
#[cfg(test)]
pub(super) fn plain_url_host<'i>(
    input: &'i [u8],
    hb: &mut [u8; HOST_BUF_LEN],
) -> Option<(HostKind, usize, &'i [u8])> {
    plain_url_host_dots(input, hb).map(|(kind, n, _, rest)| (kind, n, rest))
}

/// [`plain_url_host`], with the bitmap of the host's dots when the word
/// scan gave it (see [`host::plain_dots`]).
#[inline]
pub(super) fn plain_url_host_dots<'i>(
    input: &'i [u8],
    hb: &mut [u8; HOST_BUF_LEN],
) -> Option<(HostKind, usize, Option<u64>, &'i [u8])> {
    let after = input.get(plain_scheme(input)?..)?;
    let (kind, n, dots, e) = match host::plain_prefix(after, hb) {
        // The host ends at the first byte that is not plain: it must end
        // the authority too.
        Ok((kind, n, dots)) => match after.get(n) {
            None | Some(b'/' | b'\\' | b'?' | b'#') => (kind, n, Some(dots), n),
            Some(_) => return None,
        },
        Err(Stop::EmptyLabel) => {
            let e = authority_end(after);
            let (kind, n, dots) = host::plain_dots(after.get(..e)?, hb)?;
            (kind, n, dots, e)
        }
        Err(Stop::Other) => return None,
    };
    Some((kind, n, dots, trimmed_rest(after.get(e..)?)?))
}

/// The length of `input`'s `http://` or `https://` (any case), or `None`.
#[inline(always)]
fn plain_scheme(input: &[u8]) -> Option<usize> {
    // The scheme as one word: `| 0x20` folds the case of its letters only.
    let head = u64::from_le_bytes(input.get(..8)?.try_into().ok()?);
    if head | 0x20_2020_2020 == u64::from_le_bytes(*b"https://") {
        Some(8)
    } else if (head | 0x2020_2020) << 8 == u64::from_le_bytes(*b"http://\0") << 8 {
        Some(7)
    } else {
        None
    }
}

/// The rest of a URL after its host, without trailing white space and
/// control bytes.
#[inline(always)]
fn trimmed_rest(rest: &[u8]) -> Option<&[u8]> {
    let end = rest.iter().rposition(|&b| b > b' ').map_or(0, |i| i + 1);
    rest.get(..end)
}

/// The word scan's path of [`plain_url_host_dots`] alone, into a buffer of
/// [`host::WORD_SCAN_LEN`] bytes: the host's length, its dots and the
/// rest exactly when `plain_url_host_dots` takes the host by the word scan
/// with no empty label (it then gives `HostKind::Domain` and the same
/// bytes); `None` for everything else.
#[inline]
pub(super) fn scanned_url_host<'i>(
    input: &'i [u8],
    hb: &mut [u8; host::WORD_SCAN_LEN],
) -> Option<(usize, u64, &'i [u8])> {
    let after = input.get(plain_scheme(input)?..)?;
    let (n, dots) = host::scanned_prefix(after, hb)?;
    match after.get(n) {
        None | Some(b'/' | b'\\' | b'?' | b'#') => Some((n, dots, trimmed_rest(after.get(n..)?)?)),
        Some(_) => None,
    }
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
    query_host_dots(input, out).map(|(kind, n, _)| (kind, n))
}

/// [`query_host`], with the bitmap of the canonical host's dots when the
/// word scan gave it (see [`host::plain_dots`]).
#[inline]
pub(super) fn query_host_dots(
    input: &[u8],
    out: &mut [u8; HOST_BUF_LEN],
) -> Result<(HostKind, usize, Option<u64>), CanonError> {
    // A bare host of letters, digits, `-` and `.` (an SNI name) is its own
    // split: no white space to trim, no scheme, port, user info or path.
    if let Some(done) = host::plain_dots(input, out) {
        return Ok(done);
    }
    let sp = split(trim(input), true);
    if let Some(done) = host::plain_dots(sp.host, out) {
        return Ok(done);
    }
    host::query_canonical(&RawHost::unescaped(sp.host), out).map(|(kind, n)| (kind, n, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canon::host::tests::{general, host, long_host, strict};
    use crate::canon::split::trim;
    use proptest::prelude::*;

    /// The general path of a domain-mode query, without any fast path.
    fn general_query_host(input: &[u8]) -> Result<(HostKind, Vec<u8>), CanonError> {
        general(split(trim(input), true).host)
    }

    /// [`query_host`] answers as the general path on every input.
    fn check_query_host(input: &[u8]) -> Result<(), TestCaseError> {
        let mut out = [0u8; HOST_BUF_LEN];
        let got = query_host(input, &mut out).map(|(k, n)| (k, out[..n].to_vec()));
        prop_assert_eq!(got, general_query_host(input), "{:?}", input);
        let mut out = [0u8; HOST_BUF_LEN];
        let dotted = query_host_dots(input, &mut out).map(|(k, n, d)| (k, out[..n].to_vec(), d));
        // The bitmap of dots, when given, is the canonical host's.
        if let Ok((_, h, Some(dots))) = &dotted {
            prop_assert_eq!(*dots, crate::format::filter::dots_bitmap(h), "{:?}", input);
        }
        // The word scan alone, into 64 bytes, takes exactly the inputs the
        // word scan of `plain_dots` takes, and answers the same.
        let mut small = [0u8; host::WORD_SCAN_LEN];
        let scanned = host::scanned(input, &mut small).map(|(n, d)| (small[..n].to_vec(), d));
        let mut out = [0u8; HOST_BUF_LEN];
        let by_scan = match host::plain_dots(input, &mut out) {
            Some((HostKind::Domain, n, Some(d))) => Some((out[..n].to_vec(), d)),
            _ => None,
        };
        prop_assert_eq!(&scanned, &by_scan, "{:?}", input);
        if let Some((h, d)) = scanned {
            prop_assert_eq!(dotted, Ok((HostKind::Domain, h, Some(d))), "{:?}", input);
        }
        Ok(())
    }

    /// When [`plain_url_host`] takes a URL, it answers as the general
    /// path: the same host and the same rest.
    fn check_url(input: &[u8]) -> Result<(), TestCaseError> {
        let mut hb = [0u8; HOST_BUF_LEN];
        let fast =
            plain_url_host_dots(input, &mut hb).map(|(k, n, d, r)| (k, hb[..n].to_vec(), d, r));
        // The bitmap of dots, when given, is the canonical host's.
        if let Some((_, h, Some(dots), _)) = &fast {
            prop_assert_eq!(*dots, crate::format::filter::dots_bitmap(h), "{:?}", input);
        }
        // The word scan alone, into 64 bytes, answers as the fast path.
        let mut small = [0u8; host::WORD_SCAN_LEN];
        if let Some((n, dots, rest)) = scanned_url_host(input, &mut small) {
            prop_assert_eq!(
                fast,
                Some((HostKind::Domain, small[..n].to_vec(), Some(dots), rest)),
                "{:?}",
                input
            );
        }
        let mut hb = [0u8; HOST_BUF_LEN];
        if let Some((kind, n, rest)) = plain_url_host(input, &mut hb) {
            let sp = split(trim(input), false);
            prop_assert!(sp.other_scheme.is_none());
            prop_assert_eq!(
                Ok((kind, hb[..n].to_vec())),
                general(sp.host),
                "{:?}",
                input
            );
            prop_assert_eq!(rest, sp.rest, "{:?}", input);
        }
        let mut whole = [0u8; HOST_BUF_LEN];
        let via_host = url_host(input, Mode::Query, &mut whole)
            .map(|(k, n, sp)| (k, whole[..n].to_vec(), sp.rest));
        let sp = split(trim(input), false);
        if sp.other_scheme.is_none() {
            prop_assert_eq!(
                via_host,
                general(sp.host).map(|(k, h)| (k, h, sp.rest)),
                "{:?}",
                input
            );
        }
        check_indicator_host(input)
    }

    /// An indicator's host by [`url_host`] (the fast path first) is the
    /// strict general path's, error for error.
    fn check_indicator_host(input: &[u8]) -> Result<(), TestCaseError> {
        let mut hb = [0u8; HOST_BUF_LEN];
        let got = url_host(input, Mode::Indicator, &mut hb)
            .map(|(k, n, sp)| (k, hb[..n].to_vec(), sp.rest));
        let sp = split(trim(input), false);
        if sp.other_scheme.is_none() {
            prop_assert_eq!(
                got,
                strict(sp.host).map(|(k, h)| (k, h, sp.rest)),
                "{:?}",
                input
            );
        }
        Ok(())
    }

    /// The fast path takes a host of any length whose dots clean it down
    /// to 253 bytes; an indicator's host over 1,024 bytes is too long
    /// before its dots are cleaned, as on the general path.
    #[test]
    fn an_indicator_host_too_long_before_cleaning_is_refused() {
        let mut hb = [0u8; HOST_BUF_LEN];
        for dots in [1, 1000, 1020, 1021, 1022, 2000] {
            let url = format!("http://a{}example.com/x", ".".repeat(dots));
            let fits = dots + "aexample.com".len() <= host::MAX_RAW_HOST;
            let got = url_host(url.as_bytes(), Mode::Indicator, &mut hb);
            match got {
                Ok((kind, n, _)) => {
                    assert!(fits, "{dots}");
                    assert_eq!((kind, &hb[..n]), (HostKind::Domain, &b"a.example.com"[..]));
                }
                Err(e) => {
                    assert!(!fits, "{dots}");
                    assert_eq!(e, host::TOO_LONG);
                }
            }
            assert!(check_indicator_host(url.as_bytes()).is_ok(), "{dots}");
        }
    }

    #[test]
    fn plain_url_host_takes_the_common_urls() {
        let mut hb = [0u8; HOST_BUF_LEN];
        for (url, host, rest) in [
            ("https://www.Example.com/a?b#c", "www.example.com", "/a?b#c"),
            ("HTTP://A.B", "a.b", ""),
            ("hTtPs://a.example?x ", "a.example", "?x"),
            ("http://a.example\\b", "a.example", "\\b"),
            ("http://a.example#f", "a.example", "#f"),
            ("http://a.example./x", "a.example", "/x"),
        ] {
            let (kind, n, r) = plain_url_host(url.as_bytes(), &mut hb).expect(url);
            assert_eq!(
                (kind, &hb[..n], r),
                (HostKind::Domain, host.as_bytes(), rest.as_bytes()),
                "{url}"
            );
            // The word scan alone takes them too, but for the trailing
            // dot (an empty label, which the fast path cleans).
            let mut small = [0u8; host::WORD_SCAN_LEN];
            let scanned = scanned_url_host(url.as_bytes(), &mut small)
                .map(|(n, _, r)| (small[..n].to_vec(), r));
            let want =
                (!url.contains("example./")).then(|| (host.as_bytes().to_vec(), rest.as_bytes()));
            assert_eq!(scanned, want, "{url}");
        }
        for url in [
            "http://a.example:80/",
            "http://u@a.example/",
            "http://a.example /",
            "http://xn--bcher-kva.example/",
            "http://1.2.3.4/",
            "ftp://a.example/",
            "http:/a.example/",
            "http://a%2eexample/",
        ] {
            assert_eq!(plain_url_host(url.as_bytes(), &mut hb), None, "{url}");
            let mut small = [0u8; host::WORD_SCAN_LEN];
            assert_eq!(scanned_url_host(url.as_bytes(), &mut small), None, "{url}");
        }
    }

    #[test]
    fn the_word_scan_alone_takes_plain_hosts_of_at_most_64_bytes() {
        let mut small = [0u8; host::WORD_SCAN_LEN];
        let mut scanned = |h: &str| host::scanned(h.as_bytes(), &mut small);
        assert_eq!(scanned("Www.Example.COM"), Some((15, 1 << 3 | 1 << 11)));
        let longest = format!("{}.{}", "a".repeat(31), "b".repeat(32));
        assert_eq!(scanned(&longest), Some((64, 1 << 31)));
        for h in [
            "",
            &format!("{longest}c"),
            "a..example",
            "a.example.",
            ".a.example",
            "1.2.3.4",
            "a_b.example",
            "xn--bcher-kva.example",
            "https://a.example/",
        ] {
            assert_eq!(scanned(h), None, "{h}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        #[test]
        fn query_host_agrees_on_hosts(h in host()) {
            check_query_host(h.as_bytes())?;
        }

        #[test]
        fn query_host_agrees_on_long_hosts(h in long_host()) {
            check_query_host(h.as_bytes())?;
        }

        /// URLs around a generated host: schemes in any case, user info,
        /// ports, paths, white space.
        #[test]
        fn urls_agree(
            scheme in prop::sample::select(vec![
                "http://", "https://", "HTTP://", "hTtPs://", "http:", "http:///", "https:\\\\",
                "ftp://", "", "ws://", "http//", " http://",
            ]),
            user in prop::sample::select(vec!["", "", "", "u@", "u:p@", "@"]),
            h in prop_oneof![3 => host(), 1 => long_host()],
            port in prop::sample::select(vec!["", "", "", ":80", ":", ":x"]),
            rest in prop::sample::select(vec![
                "", "/", "/a/b?c#d", "?q", "#f", "\\x", " ", "/ ", "\t/", "/%41", "//x",
            ]),
        ) {
            let input = format!("{scheme}{user}{h}{port}{rest}");
            check_url(input.as_bytes())?;
            check_query_host(input.as_bytes())?;
        }

        #[test]
        fn urls_agree_on_bytes(
            scheme in prop::sample::select(vec!["http://", "https://", "HTTPS://", ""]),
            bytes in prop::collection::vec(any::<u8>(), 0..80),
        ) {
            let mut input = scheme.as_bytes().to_vec();
            input.extend_from_slice(&bytes);
            check_url(&input)?;
            check_query_host(&input)?;
        }
    }
}
