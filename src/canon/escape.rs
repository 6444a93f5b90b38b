//! Percent-unescaping to a fixed point, and the final escaping.
//!
//! Safe Browsing unescapes "repeatedly until nothing changes". Rewriting
//! `%XX` to its byte never creates overlapping candidates (the two digits
//! are hex, never `%`), so every order of rewriting reaches the same
//! result, and one left-to-right pass with a stack of incomplete escapes
//! computes it: `%3%3%33` becomes `3` as the last digit arrives.
//!
//! The stack is bounded ([`PENDING_MAX`] bytes) so that the query path
//! needs no heap: a chain of more than 128 nested, still incomplete escapes
//! is flushed as literal bytes. Chromium bounds the same loop (at 1024
//! passes) for the same reason; no real URL comes near either bound.

/// The most bytes of incomplete escapes (`%` or `%H`) held back.
pub(super) const PENDING_MAX: usize = 256;

/// Where a byte is: the escaping differs a little between the parts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    /// A host kept as bytes: the authority delimiters `/ \ ? @ :` and the
    /// IPv6 brackets `[ ]` are escaped too, or the canonical form would not
    /// parse back to itself (`[.]x` would read as the host `[.]`).
    Host,
    /// The path: a `?` that came from `%3F` is escaped, or it would start
    /// a query when the canonical form is read again.
    Path,
    /// The query: the Safe Browsing set only.
    Query,
}

/// Whether the final escaping writes `b` as `%XX`: Safe Browsing's set
/// (bytes <= 0x20 or >= 0x7F, `#`, `%`) plus what `part` adds.
#[inline]
pub(super) fn needs_escape(b: u8, part: Part) -> bool {
    b <= 0x20
        || b >= 0x7f
        || b == b'#'
        || b == b'%'
        || match part {
            Part::Host => matches!(b, b'/' | b'\\' | b'?' | b'@' | b':' | b'[' | b']'),
            Part::Path => b == b'?',
            Part::Query => false,
        }
}

/// The escaped width of `b`: 1 or 3.
#[inline]
pub(super) fn width(b: u8, part: Part) -> usize {
    if needs_escape(b, part) { 3 } else { 1 }
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Writes the escaped form of `b` to the start of `out` (which must hold
/// [`width`] bytes); returns the width.
#[inline]
pub(super) fn escape_into(b: u8, part: Part, out: &mut [u8]) -> usize {
    if needs_escape(b, part) {
        out[0] = b'%';
        out[1] = HEX_UPPER[usize::from(b >> 4)];
        out[2] = HEX_UPPER[usize::from(b & 15)];
        3
    } else {
        out[0] = b;
        1
    }
}

/// Expands, in place, the `n` unescaped bytes at the start of `buf` into
/// their escaped form, which must fit `buf`; bytes before `path_end` are
/// path bytes, the others query bytes. Returns the escaped length.
pub(super) fn expand_in_place(buf: &mut [u8], n: usize, path_end: usize) -> usize {
    let part = |i: usize| {
        if i < path_end {
            Part::Path
        } else {
            Part::Query
        }
    };
    let total: usize = (0..n).map(|i| width(buf[i], part(i))).sum();
    if total == n {
        return n;
    }
    let mut w = total;
    for r in (0..n).rev() {
        let b = buf[r];
        let k = width(b, part(r));
        w -= k;
        escape_into(b, part(r), &mut buf[w..w + k]);
    }
    total
}

#[inline]
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Tab, CR and LF are removed from anywhere in a URL.
#[inline]
pub(super) fn skipped(b: u8) -> bool {
    matches!(b, b'\t' | b'\r' | b'\n')
}

/// The streaming unescaper: feed raw bytes, receive final bytes.
pub(super) struct Unescaper {
    pending: [u8; PENDING_MAX],
    len: usize,
}

impl Unescaper {
    pub(super) fn new() -> Self {
        Unescaper {
            pending: [0; PENDING_MAX],
            len: 0,
        }
    }

    /// Feeds one raw byte; final bytes go to `sink` in order.
    pub(super) fn feed(&mut self, mut b: u8, sink: &mut impl FnMut(u8)) {
        loop {
            if b == b'%' {
                if self.len == PENDING_MAX {
                    self.flush(sink);
                }
                self.pending[self.len] = b'%';
                self.len += 1;
                return;
            }
            if let Some(low) = hex_value(b) {
                if self.len > 0 && self.pending[self.len - 1] == b'%' {
                    // No room for the digit: give up on this chain.
                    if self.len == PENDING_MAX {
                        self.flush(sink);
                        sink(b);
                        return;
                    }
                    self.pending[self.len] = b;
                    self.len += 1;
                    return;
                }
                if self.len >= 2 {
                    if let Some(high) = hex_value(self.pending[self.len - 1]) {
                        // Tokens are `%` or `%H`: the byte before `H` is `%`.
                        self.len -= 2;
                        b = high << 4 | low;
                        continue;
                    }
                }
            }
            self.flush(sink);
            sink(b);
            return;
        }
    }

    /// Emits everything held back as literal bytes.
    pub(super) fn flush(&mut self, sink: &mut impl FnMut(u8)) {
        for &p in &self.pending[..self.len] {
            sink(p);
        }
        self.len = 0;
    }
}

/// Unescapes `input` to a fixed point, skipping tab, CR and LF, into `sink`.
pub(super) fn unescape(input: &[u8], sink: &mut impl FnMut(u8)) {
    let mut u = Unescaper::new();
    for &b in input {
        if !skipped(b) {
            u.feed(b, sink);
        }
    }
    u.flush(sink);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Vec<u8> {
        let mut v = Vec::new();
        unescape(s.as_bytes(), &mut |b| v.push(b));
        v
    }

    #[test]
    fn fixed_point() {
        assert_eq!(run("%25%32%35"), b"%");
        assert_eq!(run("%2525252525252525"), b"%");
        assert_eq!(run("%%%25%32%35asd%%"), b"%%%asd%%");
        assert_eq!(run("%3%3%33"), b"3");
        assert_eq!(run("%%341"), b"A");
        assert_eq!(run("a%zz%4"), b"a%zz%4");
        assert_eq!(run("%2\n0"), b" ");
    }

    #[test]
    fn expand() {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(b"a %#");
        let n = expand_in_place(&mut b, 4, 4);
        assert_eq!(&b[..n], b"a%20%25%23");
        b[..2].copy_from_slice(b"??");
        let n = expand_in_place(&mut b, 2, 1);
        assert_eq!(&b[..n], b"%3F?");
    }
}
