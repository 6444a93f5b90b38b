//! The host rules (`docs/canonicalisation.md`, Hosts): the one function that decides what a host
//! is, for indicators and queries alike.
//!
//! # The fast path
//!
//! Nearly every query host is ASCII letters, digits, `-` and `.`, for
//! which UTS #46 changes only the case; [`plain`] answers for those
//! without the general path, and any host it does not take goes to
//! [`query_canonical`], which gives the same answer (the tests here and
//! in `url.rs` check both against it on generated hosts and URLs). It is
//! our own code because it is a shortcut of our own rules, not a general
//! task a crate does: `idna` has its own ASCII fast path, but behind its
//! full API and our dot cleaning and scratch buffers.
//!
//! It reads a host of up to 64 bytes eight bytes at a time (SWAR: the
//! lanes of a `u64` classified and lower-cased with a few additions and
//! masks), turns the dots into a 64-bit bitmap and checks every label at
//! once on the bitmap. Measured by `scripts/instructions.sh` on the
//! 30,524 real request URLs (18.3-byte hosts on average), per lookup:
//! `host::plain` 273 instructions before (a byte at a time through a
//! table, each label checked at its dot), 233 after; the full-mode
//! `query_url_host`, which now finds the end of the host in the same
//! pass, 534 before and 310 after. A host over 64 bytes (3 of the 30,524)
//! goes through [`plain_cleaning`], a byte at a time. Sixteen bytes at a
//! time with SSE2 would cost less again, but needs `unsafe`, which this
//! crate keeps to mapping files and a prefetch hint.

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
    checked(out, len)
}

/// The rules a mapped and cleaned host, `out[..len]`, takes last: not
/// empty, no `*`, an IPv4 address when it ends in a number (written to
/// `out` canonical), else at most 253 bytes in labels of at most 63.
fn checked(out: &mut [u8; HOST_BUF_LEN], len: usize) -> Result<(HostKind, usize), CanonError> {
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

/// A host whose UTS 46 mapping did not fit in `out`: the mapping is redone
/// into a buffer as large as the raw host (a mapping longer than that is
/// too long) and its dots cleaned. What fits in `out` then takes the
/// rules of any host (characters the mapping drops, such as U+200B, can
/// leave runs of dots that clean down to a host of 253 bytes or fewer);
/// a longer one is an IP literal if it reads as IPv4 (an address padded
/// with zeros, as in the `Passthrough` branch), and too long otherwise.
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
    if len <= HOST_BUF_LEN {
        out[..len].copy_from_slice(&wide[..len]);
        return checked(out, len);
    }
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
    plain_dots(input, out).map(|(kind, n, _)| (kind, n))
}

/// [`plain`], with the bitmap of the host's dots (bit `i` for byte `i`)
/// when the word scan took it (a host of at most 64 bytes without empty
/// labels), so that a lookup need not find the dots again.
#[inline]
pub(super) fn plain_dots(
    input: &[u8],
    out: &mut [u8; HOST_BUF_LEN],
) -> Option<(HostKind, usize, Option<u64>)> {
    let n = input.len();
    let cleaned = |out| plain_cleaning(input, out).map(|(kind, n)| (kind, n, None));
    if n == 0 || n > WORD_SCAN_LEN {
        return cleaned(out);
    }
    match scan::<false, HOST_BUF_LEN>(input, out) {
        Ok((end, dots)) => Some((HostKind::Domain, end, Some(dots))),
        Err(Stop::Other) => None,
        Err(Stop::EmptyLabel) => cleaned(out),
    }
}

/// [`plain`] for the host at the start of `input`, ended by the first
/// byte outside letters, digits, `-` and `.` (or by the end): the host,
/// its length in `input` and the bitmap of its dots. [`Stop::EmptyLabel`] when that host has an
/// empty label (the caller cleans it, or takes the general path);
/// [`Stop::Other`] also for a host longer than 64 bytes.
#[inline]
pub(super) fn plain_prefix(
    input: &[u8],
    out: &mut [u8; HOST_BUF_LEN],
) -> Result<(HostKind, usize, u64), Stop> {
    scan::<true, HOST_BUF_LEN>(input, out).map(|(end, dots)| (HostKind::Domain, end, dots))
}

/// The word scan of [`plain_dots`] alone, into a buffer of
/// [`WORD_SCAN_LEN`] bytes: the host's length and dots exactly when
/// `plain_dots` takes `input` by the word scan (a host of 1 to 64 bytes of
/// letters, digits, `-` and `.`, without an empty label), which then gives
/// `(HostKind::Domain, n, Some(dots))` and the same bytes; `None` for
/// everything else. For a caller that can skip a whole [`HOST_BUF_LEN`]
/// buffer (and zeroing it) on the common path.
#[inline]
pub(super) fn scanned(input: &[u8], out: &mut [u8; WORD_SCAN_LEN]) -> Option<(usize, u64)> {
    if input.is_empty() {
        return None;
    }
    scan::<false, WORD_SCAN_LEN>(input, out).ok()
}

/// [`plain_prefix`] into a buffer of [`WORD_SCAN_LEN`] bytes, `None` for
/// every [`Stop`]: the host's length and dots.
#[inline]
pub(super) fn scanned_prefix(input: &[u8], out: &mut [u8; WORD_SCAN_LEN]) -> Option<(usize, u64)> {
    scan::<true, WORD_SCAN_LEN>(input, out).ok()
}

/// Why [`scan`] gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stop {
    /// A leading or trailing dot, or a run of dots: [`plain_cleaning`]
    /// may still take the host.
    EmptyLabel,
    /// Anything else the word scan does not take.
    Other,
}

/// The longest host [`scan`] reads: one bit per byte in a `u64`. Longer
/// hosts (rare) go through [`plain_cleaning`], a byte at a time.
pub(super) const WORD_SCAN_LEN: usize = 64;

/// Eight copies of a byte, one per lane of a word.
const fn lanes(b: u8) -> u64 {
    0x0101_0101_0101_0101 * b as u64
}

/// The top bit of each lane: every lane mask below has only these bits.
const HIGH: u64 = lanes(0x80);

/// Eight bytes classified at once (SWAR; every lane stays below 0x100,
/// so no addition carries into the next lane): `w` with its upper-case
/// letters lower-cased, then lane masks of the bytes outside letters,
/// digits, `-` and `.`, of the dots and of the dashes.
#[inline(always)]
fn classify(w: u64) -> (u64, u64, u64, u64) {
    // Each test below adds to the low seven bits of a lane: the top bit of
    // `t + (0x80 - lo)` says `t >= lo`.
    let t = w & !HIGH;
    let folded = t | lanes(0x20);
    let letter = (folded + lanes(0x80 - b'a')) & !(folded + lanes(0x80 - b'z' - 1)) & HIGH;
    // `-`, `.`, `/` and the digits are the bytes 0x2d to 0x39.
    let dash_to_nine = (t + lanes(0x80 - b'-')) & !(t + lanes(0x80 - b'9' - 1));
    // `t ^ c` is zero exactly in the lanes equal to `c`, and a zero lane
    // is the only one whose `+ 0x7f` leaves the top bit clear.
    let slash = !((t ^ lanes(b'/')) + lanes(0x7f));
    let dot = !((t ^ lanes(b'.')) + lanes(0x7f)) & HIGH;
    let dash = !((t ^ lanes(b'-')) + lanes(0x7f)) & HIGH;
    let good = (letter | dash_to_nine) & !slash & !w & HIGH;
    (w | letter >> 2, good ^ HIGH, dot, dash)
}

/// A lane mask (top bits only) as eight bits, lane `i` to bit `i`: the
/// multiply moves each lane's top bit to its own bit of the top byte, and
/// no two partial products meet, so nothing carries.
#[inline(always)]
fn lane_bits(mask: u64) -> u64 {
    mask.wrapping_mul(0x0002_0408_1020_4081) >> 56
}

/// The bytes of `s` (1 to 7 of them) as the low lanes of a word, the
/// other lanes zero, with no copy through memory: two overlapping loads.
#[inline(always)]
fn short_word(s: &[u8]) -> u64 {
    let n = s.len();
    let byte = |i: usize| u64::from(s.get(i).copied().unwrap_or(0)) << (8 * i);
    match (s.get(..4), s.get(n.wrapping_sub(4)..)) {
        (Some(&[a, b, c, d]), Some(&[e, f, g, h])) => {
            let lo = u64::from(u32::from_le_bytes([a, b, c, d]));
            let hi = u64::from(u32::from_le_bytes([e, f, g, h]));
            lo | hi << (8 * (n - 4))
        }
        _ => byte(0) | byte(n / 2) | byte(n.wrapping_sub(1)),
    }
}

/// The word scan behind [`plain`] and [`plain_prefix`]: lower-cases the
/// leading run of letters, digits, `-` and `.` of `input` into `out` (a
/// word at a time, so `out` gets a few bytes more), noting its dots and
/// dashes as bitmaps, then checks all labels at once on the bitmaps.
/// `Ok(end)` when `input[..end]` is a plain host (see [`plain`]) of at most
/// [`WORD_SCAN_LEN`] bytes and `input[end]`, if any, is outside that set;
/// without `PREFIX`, only when that is all of `input`. With `end`, the
/// bitmap of the host's dots (bit `i` for byte `i`).
#[inline(always)]
fn scan<const PREFIX: bool, const N: usize>(
    input: &[u8],
    out: &mut [u8; N],
) -> Result<(usize, u64), Stop> {
    const { assert!(N >= WORD_SCAN_LEN) };
    let s = input.get(..WORD_SCAN_LEN).unwrap_or(input);
    let words = s.chunks_exact(8);
    let rest = words.remainder();
    let mut dsts = out[..WORD_SCAN_LEN].chunks_exact_mut(8);
    let mut dots = 0u64;
    // Whether a `-` was seen (without `PREFIX` only: in a URL the
    // measured cost of noting it is more than it saves).
    let mut dashes = if PREFIX { HIGH } else { 0 };
    let mut bad = 0u64;
    let mut at = 0;
    // One word of the host: its lanes outside the plain set.
    let mut word = |at: usize, w: u64, dst: Option<&mut [u8]>| {
        let (lower, bad, dot, dash) = classify(w);
        if !PREFIX {
            dashes |= dash;
        }
        if let Some(dst) = dst {
            dst.copy_from_slice(&lower.to_le_bytes());
        }
        dots |= lane_bits(dot) << at;
        bad
    };
    for (w, dst) in words.zip(&mut dsts) {
        let w = u64::from_le_bytes(w.try_into().unwrap_or_default());
        let here = word(at, w, Some(dst));
        bad |= here;
        // Without `PREFIX` any such byte is the end of the fast path: it
        // is looked at once, after the last word.
        if PREFIX && here != 0 {
            break;
        }
        at += 8;
    }
    if bad == 0 && !rest.is_empty() {
        let r = rest.len();
        let w = match s.len().checked_sub(8).and_then(|i| s.get(i..)) {
            // The last eight bytes, shifted down to the last `r`.
            Some(&[a, b, c, d, e, f, g, h]) => {
                u64::from_le_bytes([a, b, c, d, e, f, g, h]) >> (8 * (8 - r))
            }
            _ => short_word(rest),
        };
        bad = word(at, w, dsts.next()) & HIGH >> (8 * (8 - r));
    }
    let end = if bad != 0 {
        if !PREFIX {
            return Err(Stop::Other);
        }
        at + (bad.trailing_zeros() / 8) as usize
    } else if s.len() < input.len() {
        // A host that may go on past the bytes read.
        return Err(Stop::Other);
    } else {
        s.len()
    };
    let dots = check_labels(s, end, dots, dashes != 0)?;
    Ok((end, dots))
}

/// The label rules of [`plain`] on the host `s[..end]` (at most 64 bytes),
/// given the bitmap of its dots (bit `i` for byte `i`; bits from `end`
/// on are ignored) and whether it may hold a `-`; the host's dots.
#[inline(always)]
fn check_labels(s: &[u8], end: usize, dots: u64, dash: bool) -> Result<u64, Stop> {
    let live = u64::MAX.checked_shr(64 - end as u32).unwrap_or(0);
    let dots = dots & live;
    // Bit `i` where a label starts: byte 0 and each byte after a dot.
    let starts = dots << 1 | 1;
    let last_byte = (live >> 1) + 1;
    if dots & (starts | last_byte) != 0 || end == 0 {
        return Err(Stop::EmptyLabel);
    }
    // The only label longer than 63 bytes that fits is a 64-byte host
    // without dots. An IPv4-like last label (starting with a digit) is
    // left to the general path.
    let last_start = (64 - dots.leading_zeros()) as usize;
    if (end == WORD_SCAN_LEN && dots == 0) || s.get(last_start).is_none_or(u8::is_ascii_digit) {
        return Err(Stop::Other);
    }
    // No label starts `xn--` in any case (none can without a `-`). Only `x`/`X`, `n`/`N`, `-` and
    // the control byte 0x0d fold to `x`, `n`, `-` with `| 0x20`, and a
    // control byte never follows a plain host that is taken (it ends
    // neither the input nor a URL's authority), so a match past a short
    // label only sends the host to the general path.
    let mut starts = if dash { starts } else { 0 };
    while starts != 0 {
        let i = starts.trailing_zeros() as usize;
        if let Some(&[a, b, c, d]) = s.get(i..i + 4) {
            if u32::from_le_bytes([a, b, c, d]) | 0x2020_2020 == u32::from_le_bytes(*b"xn--") {
                return Err(Stop::Other);
            }
        }
        starts &= starts - 1;
    }
    Ok(dots)
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
pub(super) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The byte-at-a-time fast path this module had before the word scan,
    /// kept as a reference: the word scan must take exactly the same hosts.
    fn plain_bytewise(input: &[u8], out: &mut [u8; HOST_BUF_LEN]) -> Option<(HostKind, usize)> {
        let n = input.len();
        if n == 0 || n > MAX_HOST_LEN {
            return plain_cleaning(input, out);
        }
        let mut start = 0;
        let lower: Vec<u8> = input.iter().map(u8::to_ascii_lowercase).collect();
        let plain_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
        let mut empty = false;
        let mut bad = false;
        for (i, &b) in lower.iter().enumerate() {
            if b == b'.' {
                if i == start {
                    empty = true;
                    break;
                }
                let l = &lower[start..i];
                if l.len() > 63 || l.starts_with(b"xn--") {
                    bad = true;
                }
                start = i + 1;
            }
        }
        if empty || start == n {
            return plain_cleaning(input, out);
        }
        let last = &lower[start..];
        if bad
            || !input.iter().all(|&b| plain_byte(b))
            || last.len() > 63
            || last.starts_with(b"xn--")
            || last[0].is_ascii_digit()
        {
            return None;
        }
        out[..n].copy_from_slice(&lower);
        Some((HostKind::Domain, n))
    }

    /// The general path of a query host: what [`plain`] must agree with.
    pub(in crate::canon) fn general(host: &[u8]) -> Result<(HostKind, Vec<u8>), CanonError> {
        let mut out = [0u8; HOST_BUF_LEN];
        query_canonical(&RawHost::unescaped(host), &mut out).map(|(k, n)| (k, out[..n].to_vec()))
    }

    /// The general path for an indicator's host (strict rules, no bytes
    /// kept): what indicators took before they shared the fast path.
    pub(in crate::canon) fn strict(host: &[u8]) -> Result<(HostKind, Vec<u8>), CanonError> {
        let raw = RawHost::unescaped(host);
        if raw.overflow {
            return Err(TOO_LONG);
        }
        let mut out = [0u8; HOST_BUF_LEN];
        canonical(&raw.bytes[..raw.len], &mut out).map(|(k, n)| (k, out[..n].to_vec()))
    }

    /// Labels of every kind the rules single out: plain ones of chosen
    /// lengths (62, 63, 64 among them) in mixed case, `xn--` in any case,
    /// numbers, and bytes outside the plain set.
    pub(in crate::canon) fn label() -> impl Strategy<Value = String> {
        let chars = prop::sample::select(vec!['a', 'z', 'Q', 'x', 'N', '0', '9', '-']);
        let lens = prop::sample::select(vec![1usize, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 62, 63, 64]);
        prop_oneof![
            3 => lens.prop_flat_map(move |n| prop::collection::vec(chars.clone(), n))
                .prop_map(|v| v.into_iter().collect::<String>()),
            2 => prop::sample::select(vec![
                "xn--", "XN--", "xN--ab", "Xn--", "xn-", "x", "n--", "ab--cd", "xn--bcher-kva", "com",
                "0x1f", "0X1F", "09", "1", "255", "256", "0", "1e", "a1", "-", "--",
                "\u{e9}", "\u{3002}", "%41", "%2e", "%2E", "%", "a b", "*", "_", "\t", "\r", "@", ":", "/",
                "\u{1}", "\u{7f}", "[", "]",
            ]).prop_map(str::to_string),
        ]
    }

    /// Hosts: labels joined by single dots mostly, with runs of dots,
    /// leading and trailing dots among them.
    pub(in crate::canon) fn host() -> impl Strategy<Value = String> {
        let sep = prop::sample::select(vec![".", ".", ".", ".", "..", "...", ""]);
        (
            prop::sample::select(vec!["", "", "", ".", ".."]),
            prop::collection::vec((label(), sep), 1..8),
            prop::sample::select(vec!["", "", "", ".", ".."]),
        )
            .prop_map(|(lead, parts, trail)| {
                let mut h = lead.to_string();
                for (i, (l, sep)) in parts.iter().enumerate() {
                    if i > 0 {
                        h.push_str(sep);
                    }
                    h.push_str(l);
                }
                h.push_str(trail);
                h
            })
    }

    /// Hosts of 60 to 70 and of 250 to 256 bytes: the edges of the word
    /// scan and of the host limit.
    pub(in crate::canon) fn long_host() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec![
                60usize, 62, 63, 64, 65, 66, 70, 250, 252, 253, 254, 255, 256,
            ]),
            prop::collection::vec(
                prop::sample::select(vec![1usize, 3, 10, 40, 62, 63, 64]),
                1..8,
            ),
            prop::sample::select(vec!['a', 'B', '0', '-']),
            prop::sample::select(vec!["", ".", "..", "1", "xn--a"]),
        )
            .prop_map(|(total, labels, c, tail)| {
                let mut h = String::new();
                for l in labels.iter().cycle() {
                    if h.len() >= total {
                        break;
                    }
                    if !h.is_empty() {
                        h.push('.');
                    }
                    h.extend(std::iter::repeat_n(c, *l));
                }
                h.truncate(total.saturating_sub(tail.len()));
                h.push_str(tail);
                h
            })
    }

    fn check_plain(host: &str) -> Result<(), TestCaseError> {
        let mut fast = [0u8; HOST_BUF_LEN];
        let got = plain(host.as_bytes(), &mut fast);
        let mut old = [0u8; HOST_BUF_LEN];
        let reference = plain_bytewise(host.as_bytes(), &mut old);
        prop_assert_eq!(got, reference, "{:?}", host);
        if let Some((kind, n)) = got {
            prop_assert_eq!(&fast[..n], &old[..n], "{:?}", host);
            prop_assert_eq!(
                Ok((kind, fast[..n].to_vec())),
                general(host.as_bytes()),
                "{:?}",
                host
            );
            // The strict rules too: a host the fast path takes is never
            // one they refuse (their answer is not the kept bytes).
            if host.len() <= MAX_RAW_HOST {
                prop_assert_eq!(
                    Ok((kind, fast[..n].to_vec())),
                    strict(host.as_bytes()),
                    "{:?}",
                    host
                );
            }
        }
        Ok(())
    }

    #[test]
    fn plain_takes_the_common_hosts() {
        let mut out = [0u8; HOST_BUF_LEN];
        for (host, want) in [
            ("www.Example.COM", "www.example.com"),
            ("a", "a"),
            ("a-b.c-d", "a-b.c-d"),
            ("ab--cd.example", "ab--cd.example"),
            ("xnx--.example", "xnx--.example"),
            ("example.com.", "example.com"),
            ("..a..b..", "a.b"),
            ("a1.b2.c3", "a1.b2.c3"),
            ("0.example.a0", "0.example.a0"),
        ] {
            let (kind, n) = plain(host.as_bytes(), &mut out).expect(host);
            assert_eq!(
                (kind, &out[..n]),
                (HostKind::Domain, want.as_bytes()),
                "{host}"
            );
        }
        for host in [
            "xn--bcher-kva.example",
            "a.XN--abc.example",
            "example.1",
            "1.2.3.4",
            "example.0x1f",
            "a%41.example",
            "a_b.example",
            "caf\u{e9}.example",
            "",
            ".",
        ] {
            assert_eq!(plain(host.as_bytes(), &mut out), None, "{host:?}");
        }
        let l63 = "a".repeat(63);
        let l64 = "a".repeat(64);
        assert!(plain(l63.as_bytes(), &mut out).is_some());
        assert_eq!(plain(l64.as_bytes(), &mut out), None);
        assert_eq!(plain(format!("{l64}.com").as_bytes(), &mut out), None);
        let h253 = format!("{l63}.{l63}.{l63}.{}", "b".repeat(61));
        assert_eq!(
            plain(h253.as_bytes(), &mut out),
            Some((HostKind::Domain, 253))
        );
        assert_eq!(plain(format!("{h253}b").as_bytes(), &mut out), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// The fast path answers exactly like the general path, and takes
        /// the same hosts the byte-at-a-time version took.
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
            check_plain(&parts.concat())?;
        }

        #[test]
        fn plain_agrees_on_generated_hosts(host in host()) {
            check_plain(&host)?;
        }

        #[test]
        fn plain_agrees_on_long_hosts(host in long_host()) {
            check_plain(&host)?;
        }

        /// Any bytes at all.
        #[test]
        fn plain_agrees_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
            let mut fast = [0u8; HOST_BUF_LEN];
            let mut old = [0u8; HOST_BUF_LEN];
            let got = plain(&bytes, &mut fast);
            prop_assert_eq!(got, plain_bytewise(&bytes, &mut old));
            if let Some((kind, n)) = got {
                prop_assert_eq!(Ok((kind, fast[..n].to_vec())), general(&bytes));
                prop_assert_eq!(Ok((kind, fast[..n].to_vec())), strict(&bytes));
            }
        }
    }
}
