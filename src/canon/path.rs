//! The path and query writer: resolves `.` and `..` segments, collapses
//! runs of `/`, and stores the unescaped bytes into the caller's buffer so
//! that their escaped form fits; escaping happens in place at the end.
//!
//! When the canonical form does not fit, the writer keeps the longest
//! prefix that does and goes on reading: later `..` segments may pop what
//! did not fit (counted in `virt`, the `/` bytes beyond the stored prefix)
//! or even stored segments, so the stored prefix is always exact.

use super::escape::{Part, expand_in_place, width};

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
