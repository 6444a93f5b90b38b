//! Byte counting for the progress callback, and a line reader that never
//! holds more than one bounded line.

use std::io::{self, BufRead, Read};

/// The longest line the line-based formats (csv, text, hosts) read: 1 MiB.
/// A longer line is one `malformed-row`; it is skipped without being held
/// in memory.
pub const MAX_LINE_LEN: usize = 1 << 20;

/// How often, in bytes, the progress callback is called.
const PROGRESS_STEP: u64 = 256 * 1024;

/// Counts the bytes read from `R` and reports them to the progress callback.
pub(crate) struct Counting<'p, R> {
    inner: R,
    read: u64,
    reported: u64,
    progress: Option<&'p mut (dyn FnMut(u64) + 'static)>,
}

impl<'p, R> Counting<'p, R> {
    pub(crate) fn new(inner: R, progress: Option<&'p mut (dyn FnMut(u64) + 'static)>) -> Self {
        Counting {
            inner,
            read: 0,
            reported: 0,
            progress,
        }
    }

    /// Reports the final count.
    pub(crate) fn finish(&mut self) {
        if let Some(p) = self.progress.as_mut() {
            p(self.read);
        }
    }
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read - self.reported >= PROGRESS_STEP {
            self.reported = self.read;
            if let Some(p) = self.progress.as_mut() {
                p(self.read);
            }
        }
        Ok(n)
    }
}

/// One line, without its terminator (`\n` or `\r\n`), as [`Lines`]
/// reads it.
pub enum Line<'a> {
    /// A valid UTF-8 line.
    Text(&'a str),
    /// A line that is not valid UTF-8.
    NotUtf8 {
        /// The line.
        bytes: &'a [u8],
        /// The offset of the first bad byte.
        valid_up_to: usize,
    },
    /// A line longer than [`MAX_LINE_LEN`].
    TooLong {
        /// Its length in bytes.
        len: u64,
        /// Its first bytes (more than [`MAX_LINE_LEN`]; the rest was
        /// read past without being held).
        head: &'a [u8],
    },
    /// A line with a NUL byte: not text.
    Nul {
        /// The line.
        bytes: &'a [u8],
        /// The offset of the first NUL byte.
        at: usize,
    },
}

impl Line<'_> {
    /// Whether the line is a `#` comment, even if it is not valid UTF-8 (a
    /// Latin-1 comment should not be a malformed row).
    pub(crate) fn is_hash_comment(&self) -> bool {
        match self {
            Line::Text(s) => s.trim_start().starts_with('#'),
            Line::NotUtf8 { bytes, .. } | Line::Nul { bytes, .. } => {
                bytes.trim_ascii_start().starts_with(b"#")
            }
            Line::TooLong { .. } => false,
        }
    }

    /// The diagnostic message for a line that cannot be read, if it cannot.
    pub(crate) fn problem(&self) -> Option<String> {
        match self {
            Line::Text(_) => None,
            Line::NotUtf8 { valid_up_to, .. } => Some(format!(
                "not valid UTF-8 (a bad byte at column {}): save the file as UTF-8",
                valid_up_to + 1
            )),
            Line::Nul { at, .. } => Some(format!(
                "a NUL byte at column {}: the line is not text (a UTF-16 file?); save \
                 the file as UTF-8 text",
                at + 1
            )),
            Line::TooLong { len, .. } => Some(format!(
                "the line is {len} bytes long, over the limit of {MAX_LINE_LEN}: \
                 split it, one indicator per line"
            )),
        }
    }
}

/// Reads lines one at a time into one reused buffer, numbering them from
/// 1: the line reader of the line-based formats, and of `indset lookup`'s
/// queries. Memory is bounded by [`MAX_LINE_LEN`] whatever the input: a
/// longer line is read past without being held.
pub struct Lines<'r, R> {
    inner: &'r mut R,
    buf: Vec<u8>,
    number: u64,
}

impl<'r, R: BufRead> Lines<'r, R> {
    /// Lines of `inner`.
    pub fn new(inner: &'r mut R) -> Self {
        Lines {
            inner,
            buf: Vec::new(),
            number: 0,
        }
    }

    /// The next line and its 1-based number; `None` at the end.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        self.buf.clear();
        let mut len: u64 = 0;
        let mut any = false;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                break;
            }
            any = true;
            let (chunk, used, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (&avail[..i], i + 1, true),
                None => (avail, avail.len(), false),
            };
            len += chunk.len() as u64;
            let room = (MAX_LINE_LEN + 1).saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            self.inner.consume(used);
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.number += 1;
        if len <= MAX_LINE_LEN as u64 + 1 && self.buf.last() == Some(&b'\r') {
            self.buf.pop();
            len -= 1;
        }
        if len > MAX_LINE_LEN as u64 {
            return Ok(Some((
                self.number,
                Line::TooLong {
                    len,
                    head: &self.buf,
                },
            )));
        }
        if let Some(at) = memchr::memchr(0, &self.buf) {
            return Ok(Some((
                self.number,
                Line::Nul {
                    bytes: &self.buf,
                    at,
                },
            )));
        }
        let line = match std::str::from_utf8(&self.buf) {
            Ok(s) => Line::Text(s),
            Err(e) => Line::NotUtf8 {
                bytes: &self.buf,
                valid_up_to: e.valid_up_to(),
            },
        };
        Ok(Some((self.number, line)))
    }
}
