//! The path and query writer: resolves `.` and `..` segments, collapses
//! runs of `/`, and stores the unescaped bytes into the caller's buffer so
//! that their escaped form fits; escaping happens in place at the end.
//!
//! When the canonical form does not fit, the writer keeps the longest
//! prefix that does and goes on reading: later `..` segments may pop what
//! did not fit (counted in `virt`, the `/` bytes beyond the stored prefix)
//! or even stored segments, so the stored prefix is always exact.

use super::escape::{Part, Unescaper, expand_in_place, skipped, width};

pub(super) struct Writer<'a> {
    buf: &'a mut [u8],
    /// Unescaped bytes stored at the start of `buf`.
    k: usize,
    /// The escaped width of those bytes: never more than `buf.len()`.
    w: usize,
    /// Some logical bytes are not stored.
    over: bool,
    /// How many of the bytes not stored are `/`.
    virt: usize,
    /// The logical length of the open segment, and its first two bytes.
    seg_len: usize,
    seg_head: [u8; 2],
    /// The escaped length of the path, once the query starts.
    path_w: Option<usize>,
    in_query: bool,
    /// Where the stored query starts (its `?`), once it starts.
    path_k: usize,
}

/// The result: escaped length, path length within it, truncated.
pub(super) struct Written {
    pub(super) len: usize,
    pub(super) path_len: usize,
    pub(super) truncated: bool,
}

impl<'a> Writer<'a> {
    /// Starts a path with its root `/`. `buf` must not be empty.
    pub(super) fn new(buf: &'a mut [u8]) -> Self {
        let mut wr = Writer {
            buf,
            k: 0,
            w: 0,
            over: false,
            virt: 0,
            seg_len: 0,
            seg_head: [0; 2],
            path_w: None,
            in_query: false,
            path_k: 0,
        };
        wr.push(b'/');
        wr
    }

    fn push(&mut self, b: u8) {
        let part = if self.in_query {
            Part::Query
        } else {
            Part::Path
        };
        if !self.over && self.w + width(b, part) <= self.buf.len() {
            self.buf[self.k] = b;
            self.k += 1;
            self.w += width(b, part);
        } else {
            self.over = true;
            if b == b'/' {
                self.virt += 1;
            }
        }
    }

    /// Drops stored bytes back to just after the last stored `/`.
    fn cut_after_last_slash(&mut self, before: usize) {
        let q = self.buf[..before]
            .iter()
            .rposition(|&b| b == b'/')
            .unwrap_or(0);
        for &b in &self.buf[q + 1..self.k] {
            self.w -= width(b, Part::Path);
        }
        self.k = q + 1;
        self.over = false;
    }

    /// One unescaped path byte (`\` already turned into `/`).
    pub(super) fn path_byte(&mut self, b: u8) {
        if b == b'/' {
            self.end_segment(false);
            return;
        }
        if self.seg_len < 2 {
            self.seg_head[self.seg_len] = b;
        }
        self.seg_len += 1;
        self.push(b);
    }

    fn end_segment(&mut self, last: bool) {
        let n = self.seg_len;
        self.seg_len = 0;
        let dots = match (n, self.seg_head) {
            (0, _) => 0,
            (1, [b'.', _]) => 1,
            (2, [b'.', b'.']) => 2,
            _ => {
                if !last {
                    self.push(b'/');
                }
                return;
            }
        };
        if dots == 0 {
            return;
        }
        // Remove the open segment's content.
        if !(self.over && self.virt > 0) {
            self.cut_after_last_slash(self.k);
        }
        if dots == 2 {
            // Remove the segment before it, keeping its leading `/`.
            if self.over {
                self.virt -= 1;
                if self.virt == 0 {
                    self.cut_after_last_slash(self.k);
                }
            } else if self.k > 1 {
                self.cut_after_last_slash(self.k - 1);
            }
        }
    }

    /// Ends the path and starts the query with its `?`.
    pub(super) fn begin_query(&mut self) {
        self.end_segment(true);
        self.path_w = (!self.over).then_some(self.w);
        self.path_k = self.k;
        self.in_query = true;
        self.push(b'?');
    }

    /// One unescaped query byte.
    pub(super) fn query_byte(&mut self, b: u8) {
        self.push(b);
    }

    /// Ends the path (if no query began) and escapes in place.
    pub(super) fn finish(mut self) -> Written {
        if !self.in_query {
            self.end_segment(true);
        }
        let path_end = if self.in_query { self.path_k } else { self.k };
        let len = expand_in_place(self.buf, self.k, path_end);
        debug_assert_eq!(len, self.w);
        Written {
            len,
            path_len: self.path_w.unwrap_or(len),
            truncated: self.over,
        }
    }
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
fn plain_path(path: &[u8], query: Option<&[u8]>, buf: &mut [u8]) -> Option<Written> {
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
    Some(Written {
        len,
        path_len,
        truncated: false,
    })
}

pub(super) fn write_path(rest: &[u8], buf: &mut [u8]) -> Written {
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
fn general_path(path: &[u8], query: Option<&[u8]>, buf: &mut [u8]) -> Written {
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
