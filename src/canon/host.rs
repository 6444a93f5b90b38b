//! The host rules (`docs/canonicalisation.md`, Hosts): the one function that decides what a host
//! is, for indicators and queries alike.

use idna::uts46::{AsciiDenyList, ErrorPolicy, Hyphens, ProcessingError, ProcessingSuccess, Uts46};

use std::net::{Ipv4Addr, Ipv6Addr};

use super::error::CanonError;
use super::escape::{Part, escape_into, unescape, width};
use super::ip::{ends_in_number, parse_ipv4, parse_ipv6, write_ipv4, write_ipv6};
use crate::diag::Code;

/// The longest canonical host, in bytes.
pub const MAX_HOST_LEN: usize = 253;

/// The size of a host buffer for [`host`](fn@super::host) and [`query_host`](super::query_host).
pub const HOST_BUF_LEN: usize = 256;

/// The tunnel's own internal address: never an indicator, never blocked.
pub const RESERVED_V4: Ipv4Addr = Ipv4Addr::new(245, 245, 0, 1);

/// What a canonical host is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKind {
    /// A domain name (ASCII, punycode for IDN).
    Domain,
    /// An IPv4 literal in any spelling a browser accepts.
    Ipv4(Ipv4Addr),
    /// A bracketed IPv6 literal.
    Ipv6(Ipv6Addr),
}

impl HostKind {
    /// Whether the host is an IP literal (matches no indicator).
    pub fn is_ip(self) -> bool {
        !matches!(self, HostKind::Domain)
    }

    /// Whether the host is the tunnel's address `245.245.0.1`, as IPv4 or
    /// IPv4-mapped IPv6.
    pub fn is_reserved(self) -> bool {
        match self {
            HostKind::Domain => false,
            HostKind::Ipv4(a) => a == RESERVED_V4,
            HostKind::Ipv6(a) => a.to_ipv4_mapped() == Some(RESERVED_V4),
        }
    }
}

/// The longest unescaped host looked at, in bytes. A longer one cannot be
/// valid (even after IDNA mapping drops ignorable code points, nothing
/// real comes near) and keeps the scratch space on the stack.
pub(super) const MAX_RAW_HOST: usize = 1024;

const fn invalid(reason: &'static str) -> CanonError {
    CanonError {
        code: Code::InvalidHost,
        reason,
    }
}

pub(super) const EMPTY: CanonError = invalid("the host is empty");
pub(super) const TOO_LONG: CanonError = invalid("the host is longer than 253 bytes");
const LABEL_TOO_LONG: CanonError = invalid("a label of the host is longer than 63 bytes");
const BAD_IDNA: CanonError = invalid(
    "the host has a space, a control character, a character not allowed in host names, or is not valid IDNA",
);
const BAD_IPV4: CanonError = invalid("the host ends in a number but is not a valid IPv4 address");
const BAD_IPV6: CanonError = invalid("the host is not a valid bracketed IPv6 address");
pub(super) const WILDCARD: CanonError = CanonError {
    code: Code::Wildcard,
    reason: "the host has a `*`: a domain indicator already covers its subdomains",
};

/// A host after unescaping, before the rules: a stack buffer.
pub(super) struct RawHost {
    pub(super) bytes: [u8; MAX_RAW_HOST],
    pub(super) len: usize,
    /// Longer than [`MAX_RAW_HOST`]: `bytes` holds a prefix only.
    pub(super) overflow: bool,
}

impl RawHost {
    /// Unescapes `input` (tab, CR and LF skipped) to a fixed point.
    pub(super) fn unescaped(input: &[u8]) -> Self {
        let mut h = RawHost {
            bytes: [0; MAX_RAW_HOST],
            len: 0,
            overflow: false,
        };
        unescape(input, &mut |b| {
            if h.len < MAX_RAW_HOST {
                h.bytes[h.len] = b;
                h.len += 1;
            } else {
                h.overflow = true;
            }
        });
        h
    }

    fn get(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// A `core::fmt::Write` sink over a fixed buffer: IDNA output without heap.
///
/// A write past the end sets `overflow` and is dropped, but still returns
/// `Ok`: idna 1.1.0 panics (`unreachable!`) when a sink fails in the
/// middle of a punycode label, so the sink must never fail.
struct FixedSink<'a> {
    buf: &'a mut [u8],
    len: usize,
    overflow: bool,
}

impl core::fmt::Write for FixedSink<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) if !self.overflow => {
                dst.copy_from_slice(s.as_bytes());
                self.len = end;
            }
            _ => self.overflow = true,
        }
        Ok(())
    }
}

/// Lower-cases ASCII, turns the full-width dots (U+3002, U+FF0E, U+FF61)
/// into `.`, collapses runs of dots and strips leading and trailing dots,
/// from `src` into `dst` (never longer); returns the length.
fn clean_dots(src: &[u8], dst: &mut [u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < src.len() {
        let (b, step) = match src[i..] {
            [0xE3, 0x80, 0x82, ..] | [0xEF, 0xBC, 0x8E, ..] | [0xEF, 0xBD, 0xA1, ..] => (b'.', 3),
            [b, ..] => (b.to_ascii_lowercase(), 1),
            [] => break,
        };
        i += step;
        if b == b'.' && (n == 0 || dst[n - 1] == b'.') {
            continue;
        }
        dst[n] = b;
        n += 1;
    }
    if n > 0 && dst[n - 1] == b'.' {
        n -= 1;
    }
    n
}

/// Collapses and strips dots in place (after IDNA, which may map to `.`).
fn clean_dots_in_place(buf: &mut [u8], len: usize) -> usize {
    let mut n = 0;
    for r in 0..len {
        let b = buf[r];
        if b == b'.' && (n == 0 || buf[n - 1] == b'.') {
            continue;
        }
        buf[n] = b;
        n += 1;
    }
    if n > 0 && buf[n - 1] == b'.' {
        n -= 1;
    }
    n
}

/// Applies the host rules to an already unescaped and trimmed host,
/// writing the canonical host to `out`. Dots are cleaned first, so a host
/// and its cleaned form always get the same answer.
pub(super) fn canonical(
    raw: &[u8],
    out: &mut [u8; HOST_BUF_LEN],
) -> Result<(HostKind, usize), CanonError> {
    if raw.len() > MAX_RAW_HOST {
        return Err(TOO_LONG);
    }
    let mut scratch = [0u8; MAX_RAW_HOST];
    let n = clean_dots(raw, &mut scratch);
    if n == 0 {
        return Err(EMPTY);
    }
    if scratch[..n].contains(&b'*') {
        return Err(WILDCARD);
    }
    if let Some(inner) = scratch[..n].strip_prefix(b"[") {
        let inner = inner.strip_suffix(b"]").ok_or(BAD_IPV6)?;
        let a = parse_ipv6(inner).ok_or(BAD_IPV6)?;
        return Ok((HostKind::Ipv6(a), write_ipv6(a, out)));
    }
    let cleaned = &scratch[..n];
    let mut sink = FixedSink {
        buf: &mut out[..],
        len: 0,
        overflow: false,
    };
    let len = match Uts46::new().process(
        cleaned,
        AsciiDenyList::URL,
        Hyphens::Allow,
        ErrorPolicy::FailFast,
        |_, _, _| false,
        &mut sink,
        None,
    ) {
        Ok(ProcessingSuccess::Passthrough) => {
            if n > MAX_HOST_LEN {
                // Browsers read an IPv4 address padded with any number of
                // zeros: it is an IP literal, not a long name
                // (`docs/canonicalisation.md`, IP literals).
                if ends_in_number(cleaned) {
                    let a = parse_ipv4(cleaned).ok_or(BAD_IPV4)?;
                    return Ok((HostKind::Ipv4(a), write_ipv4(a, out)));
                }
                return Err(TOO_LONG);
            }
            out[..n].copy_from_slice(cleaned);
            n
        }
        Ok(ProcessingSuccess::WroteToSink) if sink.overflow => return mapped_long(cleaned, out),
        Ok(ProcessingSuccess::WroteToSink) => {
            let len = sink.len;
            clean_dots_in_place(out, len)
        }
        Err(ProcessingError::SinkError) => return mapped_long(cleaned, out),
        Err(_) => return Err(BAD_IDNA),
    };
    let host = &out[..len];
    if host.is_empty() {
        return Err(EMPTY);
    }
    if host.contains(&b'*') {
        return Err(WILDCARD);
    }
    if ends_in_number(host) {
        let a = parse_ipv4(host).ok_or(BAD_IPV4)?;
        return Ok((HostKind::Ipv4(a), write_ipv4(a, out)));
    }
    if len > MAX_HOST_LEN {
        return Err(TOO_LONG);
    }
    if host.split(|&b| b == b'.').any(|l| l.len() > 63) {
        return Err(LABEL_TOO_LONG);
    }
    Ok((HostKind::Domain, len))
}

/// A host whose UTS 46 mapping did not fit in `out`: it is an IP literal
/// if the mapped form reads as IPv4 (an address padded with zeros, as in
/// the `Passthrough` branch), and too long otherwise. The mapping is redone
/// into a buffer as large as the raw host; a mapping longer than that is too
/// long as well.
#[cold]
#[inline(never)]
fn mapped_long(
    cleaned: &[u8],
    out: &mut [u8; HOST_BUF_LEN],
) -> Result<(HostKind, usize), CanonError> {
    let mut wide = [0u8; MAX_RAW_HOST];
    let mut sink = FixedSink {
        buf: &mut wide[..],
        len: 0,
        overflow: false,
    };
    let done = Uts46::new().process(
        cleaned,
        AsciiDenyList::URL,
        Hyphens::Allow,
        ErrorPolicy::FailFast,
        |_, _, _| false,
        &mut sink,
        None,
    );
    let len = match done {
        Ok(ProcessingSuccess::WroteToSink) if !sink.overflow => sink.len,
        Ok(_) | Err(ProcessingError::SinkError) => return Err(TOO_LONG),
        Err(_) => return Err(BAD_IDNA),
    };
    let len = clean_dots_in_place(&mut wide, len);
    let host = &wide[..len];
    if host.contains(&b'*') {
        return Err(WILDCARD);
    }
    if !host.is_empty() && ends_in_number(host) {
        let a = parse_ipv4(host).ok_or(BAD_IPV4)?;
        return Ok((HostKind::Ipv4(a), write_ipv4(a, out)));
    }
    Err(TOO_LONG)
}

/// The common case of [`query_canonical`] without its scratch buffers: a
/// host (before unescaping) of ASCII letters, digits, `-` and `.` only,
/// no label starting `xn--`, a last label not starting with a digit (no
/// IPv4 spelling), labels of at most 63 bytes and at most 253 bytes in
/// all. For it UTS #46 changes nothing but the case, so the canonical
/// host is the input lower-cased with its dots cleaned. `None` for any
/// other host: the caller takes the general path, which gives the same
/// answer for every host this accepts.
#[inline]
pub(super) fn plain(input: &[u8], out: &mut [u8; HOST_BUF_LEN]) -> Option<(HostKind, usize)> {
    let n = input.len();
    let Some(dst) = out.get_mut(..n).filter(|_| n > 0 && n <= MAX_HOST_LEN) else {
        return plain_cleaning(input, out);
    };
    // One pass: lower-case through the table, note any byte outside the
    // plain set, and check each label at its dot.
    let mut flags = 0u8;
    let mut start = 0;
    for (i, (d, &b)) in dst.iter_mut().zip(input).enumerate() {
        let c = PLAIN[usize::from(b)];
        *d = c;
        flags |= c;
        if c == b'.' {
            if i == start {
                // An empty label: a leading dot or a run of dots.
                return plain_cleaning(input, out);
            }
            plain_label(input.get(start..i)?)?;
            start = i + 1;
        }
    }
    if flags & NOT_PLAIN != 0 {
        return None;
    }
    if start == n {
        // A trailing dot.
        return plain_cleaning(input, out);
    }
    let last = input.get(start..)?;
    plain_label(last)?;
    if last.first()?.is_ascii_digit() {
        return None;
    }
    Some((HostKind::Domain, n))
}

/// The bit [`PLAIN`] sets for a byte outside letters, digits, `-`, `.`.
const NOT_PLAIN: u8 = 0x80;

/// Each byte lower-cased, or [`NOT_PLAIN`] when a plain host cannot hold it.
static PLAIN: [u8; 256] = {
    let mut t = [NOT_PLAIN; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.' {
            t[b] = c;
        } else if c.is_ascii_uppercase() {
            t[b] = c | 0x20;
        }
        b += 1;
    }
    t
};

/// The common case of [`plain`]: a label of at most 63 bytes that does
/// not start `xn--` (after lower-casing).
#[inline(always)]
fn plain_label(label: &[u8]) -> Option<()> {
    let lower = |b: &u8| b | 0x20;
    let xn = label.len() >= 4 && label[..4].iter().map(lower).eq(*b"xn--");
    (label.len() <= 63 && !xn).then_some(())
}

/// [`plain`] for a host with empty labels or over 253 bytes: dots are
/// collapsed and stripped as they are written.
fn plain_cleaning(input: &[u8], out: &mut [u8; HOST_BUF_LEN]) -> Option<(HostKind, usize)> {
    let mut n = 0;
    let mut label = 0;
    let mut last_start = 0;
    for &b in input {
        let c = match b {
            b'a'..=b'z' | b'0'..=b'9' | b'-' => b,
            b'A'..=b'Z' => b | 0x20,
            b'.' => {
                if label > 0 {
                    *out.get_mut(n)? = b'.';
                    n += 1;
                    label = 0;
                }
                continue;
            }
            _ => return None,
        };
        if label == 0 {
            last_start = n;
        }
        if n >= MAX_HOST_LEN || label >= 63 {
            return None;
        }
        out[n] = c;
        n += 1;
        label += 1;
        if label == 4 && out[n - 4..n] == *b"xn--" {
            return None;
        }
    }
    if label == 0 {
        // Empty, or a trailing dot was written: drop it.
        n = n.checked_sub(1)?;
    }
    if n == 0 || n > MAX_HOST_LEN || out[last_start].is_ascii_digit() {
        return None;
    }
    Some((HostKind::Domain, n))
}

/// The host of a query: the canonical host when the rules accept it, else
/// its bytes kept (lower-cased, dots cleaned, escaped) as Safe Browsing
/// does, so that `http://\x01\x80.com/` still has a canonical form. Only
/// an empty host, or one whose kept form exceeds 253 bytes, is an error.
pub(super) fn query_canonical(
    raw: &RawHost,
    out: &mut [u8; HOST_BUF_LEN],
) -> Result<(HostKind, usize), CanonError> {
    if raw.overflow {
        return Err(TOO_LONG);
    }
    let bytes = raw.get();
    match canonical(bytes, out) {
        Ok(r) => Ok(r),
        Err(e) if e == EMPTY => Err(e),
        Err(_) => {
            let mut scratch = [0u8; MAX_RAW_HOST];
            let n = clean_dots(bytes, &mut scratch);
            if n == 0 {
                return Err(EMPTY);
            }
            let mut len = 0;
            for &b in &scratch[..n] {
                if len + width(b, Part::Host) > MAX_HOST_LEN {
                    return Err(TOO_LONG);
                }
                len += escape_into(b, Part::Host, &mut out[len..]);
            }
            Ok((HostKind::Domain, len))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// The fast path answers exactly like the general path.
        #[test]
        fn plain_agrees_with_the_general_path(
            parts in prop::collection::vec(
                prop::sample::select(vec![
                    "a", "B", "z", "0", "9", "-", ".", "..", "xn--", "XN--", "xn-", "x",
                    "example", "0x1f", "com", "%41", "_", "*", " ", "\u{e9}", "a".repeat(60).leak(),
                ]),
                0..24,
            )
        ) {
            let host = parts.concat();
            let mut fast = [0u8; HOST_BUF_LEN];
            if let Some((kind, n)) = plain(host.as_bytes(), &mut fast) {
                let mut slow = [0u8; HOST_BUF_LEN];
                let want = query_canonical(&RawHost::unescaped(host.as_bytes()), &mut slow);
                prop_assert_eq!(Ok((kind, n)), want, "{:?}", host);
                prop_assert_eq!(&fast[..n], &slow[..n]);
            }
        }
    }
}
