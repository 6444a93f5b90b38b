//! IP literals exactly as a browser reads them (the WHATWG URL Standard's
//! host parser): IPv4 in decimal, octal and hex, one to four parts, and
//! bracketed IPv6, with their canonical serialisations.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Parses one IPv4 part: `0x` hex (possibly empty), leading-`0` octal, or
/// decimal. `None` when it is not a number; saturates far above 2^32.
fn ipv4_number(part: &[u8]) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) = if part.len() >= 2 && (part[..2] == *b"0x" || part[..2] == *b"0X") {
        (&part[2..], 16)
    } else if part.len() >= 2 && part[0] == b'0' {
        (&part[1..], 8)
    } else {
        (part, 10)
    };
    let mut v: u64 = 0;
    for &b in digits {
        let d = char::from(b).to_digit(radix)?;
        v = v
            .saturating_mul(u64::from(radix))
            .saturating_add(u64::from(d));
    }
    Some(v)
}

/// The WHATWG "ends in a number" test on a host without trailing dots
/// (the caller has stripped them): the last label is all digits or a
/// valid IPv4 number. Such a host must parse as IPv4 or is no host at all.
pub(super) fn ends_in_number(host: &[u8]) -> bool {
    let last = host.rsplit(|&b| b == b'.').next().unwrap_or(host);
    (!last.is_empty() && last.iter().all(u8::is_ascii_digit)) || ipv4_number(last).is_some()
}

/// Parses an IPv4 host in any browser spelling (no empty parts: the caller
/// has collapsed dots). `None` when it is not a valid IPv4 address.
pub(super) fn parse_ipv4(host: &[u8]) -> Option<Ipv4Addr> {
    let mut parts = [0u64; 4];
    let mut n = 0;
    for part in host.split(|&b| b == b'.') {
        if n == 4 {
            return None;
        }
        parts[n] = ipv4_number(part)?;
        n += 1;
    }
    if n == 0 {
        return None;
    }
    if parts[..n - 1].iter().any(|&p| p > 255) {
        return None;
    }
    let last = parts[n - 1];
    if last >= 1u64 << (8 * (5 - n)) {
        return None;
    }
    let mut v = last;
    for (i, &p) in parts[..n - 1].iter().enumerate() {
        v += p << (8 * (3 - i));
    }
    Some(Ipv4Addr::from(u32::try_from(v).ok()?))
}

/// Parses the inside of a bracketed IPv6 literal (WHATWG IPv6 parser).
pub(super) fn parse_ipv6(input: &[u8]) -> Option<Ipv6Addr> {
    let mut pieces = [0u16; 8];
    let mut piece = 0usize;
    let mut compress: Option<usize> = None;
    let mut i = 0usize;
    let at = |i: usize| input.get(i).copied();
    if at(0) == Some(b':') {
        if at(1) != Some(b':') {
            return None;
        }
        i = 2;
        piece = 1;
        compress = Some(1);
    }
    while i < input.len() {
        if piece == 8 {
            return None;
        }
        if input[i] == b':' {
            if compress.is_some() {
                return None;
            }
            i += 1;
            piece += 1;
            compress = Some(piece);
            continue;
        }
        let mut value: u16 = 0;
        let mut length = 0;
        while length < 4 {
            match at(i).and_then(|b| char::from(b).to_digit(16)) {
                Some(d) => {
                    value = value * 16 + d as u16;
                    i += 1;
                    length += 1;
                }
                None => break,
            }
        }
        if at(i) == Some(b'.') {
            if length == 0 {
                return None;
            }
            i -= length;
            if piece > 6 {
                return None;
            }
            let mut numbers_seen = 0;
            while i < input.len() {
                let mut v4: Option<u16> = None;
                if numbers_seen > 0 {
                    if input[i] == b'.' && numbers_seen < 4 {
                        i += 1;
                    } else {
                        return None;
                    }
                }
                if !at(i).is_some_and(|b| b.is_ascii_digit()) {
                    return None;
                }
                while let Some(b) = at(i).filter(u8::is_ascii_digit) {
                    let n = u16::from(b - b'0');
                    v4 = match v4 {
                        None => Some(n),
                        Some(0) => return None,
                        Some(v) => Some(v * 10 + n),
                    };
                    if v4 > Some(255) {
                        return None;
                    }
                    i += 1;
                }
                pieces[piece] = pieces[piece] * 0x100 + v4.unwrap_or(0);
                numbers_seen += 1;
                if numbers_seen == 2 || numbers_seen == 4 {
                    piece += 1;
                }
            }
            if numbers_seen != 4 {
                return None;
            }
            break;
        }
        match at(i) {
            Some(b':') => {
                i += 1;
                if i == input.len() {
                    return None;
                }
            }
            Some(_) => return None,
            None => {}
        }
        pieces[piece] = value;
        piece += 1;
    }
    match compress {
        Some(c) => {
            let mut swaps = piece - c;
            piece = 7;
            while piece != 0 && swaps > 0 {
                pieces.swap(piece, c + swaps - 1);
                piece -= 1;
                swaps -= 1;
            }
        }
        None if piece != 8 => return None,
        None => {}
    }
    Some(Ipv6Addr::from(pieces))
}

/// A tiny cursor over a fixed output buffer.
pub(super) struct Out<'a> {
    pub(super) buf: &'a mut [u8],
    pub(super) len: usize,
}

impl Out<'_> {
    fn byte(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    fn decimal(&mut self, v: u8) {
        if v >= 100 {
            self.byte(b'0' + v / 100);
        }
        if v >= 10 {
            self.byte(b'0' + v / 10 % 10);
        }
        self.byte(b'0' + v % 10);
    }

    fn hex(&mut self, v: u16) {
        let mut started = false;
        for shift in [12, 8, 4, 0] {
            let d = (v >> shift) & 15;
            if d != 0 || started || shift == 0 {
                started = true;
                self.byte(b"0123456789abcdef"[usize::from(d)]);
            }
        }
    }
}

/// Writes `a` as dotted decimal (at most 15 bytes); returns the length.
pub(super) fn write_ipv4(a: Ipv4Addr, buf: &mut [u8]) -> usize {
    let mut o = Out { buf, len: 0 };
    for (i, octet) in a.octets().into_iter().enumerate() {
        if i > 0 {
            o.byte(b'.');
        }
        o.decimal(octet);
    }
    o.len
}

/// Writes `a` bracketed as WHATWG serialises it (longest run of two or
/// more zero pieces compressed, lower-case hex, IPv4-mapped in hex: at
/// most 41 bytes); returns the length.
pub(super) fn write_ipv6(a: Ipv6Addr, buf: &mut [u8]) -> usize {
    let pieces = a.segments();
    let (mut best, mut best_len) = (None, 1usize);
    let mut i = 0;
    while i < 8 {
        if pieces[i] == 0 {
            let start = i;
            while i < 8 && pieces[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best = Some(start);
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    let mut o = Out { buf, len: 0 };
    o.byte(b'[');
    let mut i = 0;
    while i < 8 {
        if Some(i) == best {
            o.byte(b':');
            if i == 0 {
                o.byte(b':');
            }
            i += best_len;
            continue;
        }
        o.hex(pieces[i]);
        if i != 7 {
            o.byte(b':');
        }
        i += 1;
    }
    o.byte(b']');
    o.len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_spellings() {
        let a = Ipv4Addr::new(195, 127, 0, 11);
        for s in [
            "3279880203",
            "0xC3.0177.0.11",
            "195.127.11",
            "0xc37f000b",
            "195.0x7f.0.013",
        ] {
            assert_eq!(parse_ipv4(s.as_bytes()), Some(a), "{s}");
        }
        assert_eq!(parse_ipv4(b"1.2.3.256"), None);
        assert_eq!(parse_ipv4(b"4294967296"), None);
        assert_eq!(parse_ipv4(b"09"), None);
        assert!(ends_in_number(b"a.09"));
        assert!(ends_in_number(b"a.0x"));
        assert!(!ends_in_number(b"1-2-3-4.example"));
    }

    #[test]
    fn v6_round_trip() {
        for (i, o) in [
            ("::1", "[::1]"),
            ("::ffff:1.2.3.4", "[::ffff:102:304]"),
            ("2001:0db8:0:0:1:0:0:1", "[2001:db8::1:0:0:1]"),
            ("1:0:0:0:0:0:0:0", "[1::]"),
        ] {
            let a = parse_ipv6(i.as_bytes()).unwrap();
            let mut b = [0u8; 64];
            let n = write_ipv6(a, &mut b);
            assert_eq!(&b[..n], o.as_bytes());
        }
        assert_eq!(parse_ipv6(b":::"), None);
        assert_eq!(parse_ipv6(b"1:2:3:4:5:6:7:8:9"), None);
    }
}
