//! Reading the logs: decompression, and cutting them into numbered chunks
//! at line boundaries.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender};

use anyhow::{Context, Result, anyhow};
use indicatif::ProgressBar;
use indset::ingest::MAX_LINE_LEN;

use super::formats::{self, FormatArg, Reader};

/// How much of an input is read to recognise its format.
const SAMPLE: usize = 64 * 1024;

/// One input, as the workers see it.
pub struct FileInfo {
    /// As named on the command line (`-` for stdin).
    pub name: Arc<str>,
    pub reader: Reader,
}

/// A piece of work: whole lines of one input.
pub struct Chunk {
    /// Its place in the output order.
    pub seq: u64,
    pub file: Arc<FileInfo>,
    pub piece: Piece,
}

pub enum Piece {
    /// Lines, the first numbered `first_line`; the last may lack its `\n`.
    Lines { first_line: u64, data: Vec<u8> },
    /// A line over [`MAX_LINE_LEN`], read past without being held.
    TooLong { line: u64, len: u64 },
}

/// What the reader read, for `--summary`.
#[derive(Default)]
pub struct ReadStats {
    pub files: u64,
    /// Bytes after decompression.
    pub bytes: u64,
    pub lines: u64,
}

pub struct Source {
    pub logs: Vec<PathBuf>,
    pub format: FormatArg,
    pub field: Option<String>,
    pub chunk_size: usize,
    pub bar: Option<ProgressBar>,
}

/// Counts the bytes read from the file (before decompression) on the
/// progress bar.
struct Progress<R> {
    inner: R,
    bar: Option<ProgressBar>,
}

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
        }
        Ok(n)
    }
}

/// Opens a log, decompressing gzip (every member) and zstd, recognised by
/// their magic bytes whatever the file is called.
fn open(path: &PathBuf, bar: Option<ProgressBar>) -> Result<Box<dyn Read + Send>> {
    let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(
            File::open(path).with_context(|| format!("cannot open the log {}", path.display()))?,
        )
    };
    let mut buffered = BufReader::with_capacity(1 << 16, Progress { inner: raw, bar });
    let head = buffered
        .fill_buf()
        .with_context(|| format!("cannot read the log {}", path.display()))?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::Decoder::with_buffer(buffered).context("cannot start zstd decompression")?)
    } else {
        Box::new(buffered)
    })
}

/// Reads until `buf` holds `want` bytes or the input ends; whether it ended.
fn fill(r: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    while buf.len() < want {
        let len = buf.len();
        buf.resize(want, 0);
        match r.read(&mut buf[len..]) {
            Ok(0) => {
                buf.truncate(len);
                return Ok(true);
            }
            Ok(n) => buf.truncate(len + n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(len),
            Err(e) => {
                buf.truncate(len);
                return Err(e);
            }
        }
    }
    Ok(false)
}

impl Source {
    /// Reads every log in order, sending its chunks; each chunk waits for a
    /// token, so that only so many are in memory.
    pub fn run(self, tokens: &Receiver<()>, work: &SyncSender<Chunk>) -> Result<ReadStats> {
        let mut stats = ReadStats::default();
        let mut seq = 0u64;
        for path in &self.logs {
            match self.file(path, tokens, work, &mut seq, &mut stats) {
                Ok(()) => {}
                Err(e) if e.downcast_ref::<StoppedError>().is_some() => break,
                Err(e) => return Err(e),
            }
            stats.files += 1;
        }
        Ok(stats)
    }

    fn file(
        &self,
        path: &PathBuf,
        tokens: &Receiver<()>,
        work: &SyncSender<Chunk>,
        seq: &mut u64,
        stats: &mut ReadStats,
    ) -> Result<()> {
        let name: Arc<str> = path.display().to_string().into();
        let mut r = open(path, self.bar.clone())?;
        let read_err = |e: io::Error| anyhow!(e).context(format!("cannot read the log {name}"));
        let block = self.chunk_size.max(SAMPLE);
        let mut buf = Vec::with_capacity(block + SAMPLE);
        let mut eof = fill(&mut r, &mut buf, SAMPLE).map_err(read_err)?;
        let layout = formats::layout(self.format, self.field.as_deref(), &buf)
            .map_err(|why| anyhow!("{name}: {why}"))?;
        let file = Arc::new(FileInfo {
            name: name.clone(),
            reader: Reader::new(layout),
        });
        let mut line = 1u64;
        let mut send = |piece: Piece, line_count: u64, bytes: usize| -> Result<()> {
            tokens.recv().map_err(|_| StoppedError)?;
            stats.lines += line_count;
            stats.bytes += bytes as u64;
            work.send(Chunk {
                seq: *seq,
                file: Arc::clone(&file),
                piece,
            })
            .map_err(|_| StoppedError)?;
            *seq += 1;
            Ok(())
        };
        loop {
            // Cut every chunk the buffer holds: at least `chunk_size`
            // bytes, up to the end of a line.
            loop {
                let from = (self.chunk_size - 1).min(buf.len());
                let end = match memchr::memchr(b'\n', &buf[from..]) {
                    Some(i) if buf.len() >= self.chunk_size || eof => from + i + 1,
                    _ if eof && !buf.is_empty() && buf.len() <= self.chunk_size => buf.len(),
                    _ => break,
                };
                let rest = buf.split_off(end);
                let data = std::mem::replace(&mut buf, rest);
                line += send_lines(&mut send, data, line)?;
            }
            if eof {
                if !buf.is_empty() {
                    send_lines(&mut send, std::mem::take(&mut buf), line)?;
                }
                return Ok(());
            }
            // A line longer than the limit: hand over the lines before it,
            // then read past it.
            if buf.len() > block + MAX_LINE_LEN {
                if let Some(nl) = memchr::memrchr(b'\n', &buf) {
                    let rest = buf.split_off(nl + 1);
                    let data = std::mem::replace(&mut buf, rest);
                    line += send_lines(&mut send, data, line)?;
                }
                let mut len = buf.len() as u64;
                buf.clear();
                loop {
                    eof = fill(&mut r, &mut buf, block).map_err(read_err)?;
                    if let Some(nl) = memchr::memchr(b'\n', &buf) {
                        len += nl as u64;
                        buf.drain(..=nl);
                        break;
                    }
                    len += buf.len() as u64;
                    buf.clear();
                    if eof {
                        break;
                    }
                }
                send(Piece::TooLong { line, len }, 1, len as usize)?;
                line += 1;
                continue;
            }
            let want = buf.len() + block;
            eof = fill(&mut r, &mut buf, want).map_err(read_err)?;
        }
    }
}

/// Sends `data`, whole lines from line `first_line` on (the last one may
/// lack its newline at the end of a file), as one chunk; returns how many
/// lines it holds.
fn send_lines(
    send: &mut impl FnMut(Piece, u64, usize) -> Result<()>,
    data: Vec<u8>,
    first_line: u64,
) -> Result<u64> {
    let lines =
        memchr::memchr_iter(b'\n', &data).count() as u64 + u64::from(!data.ends_with(b"\n"));
    let bytes = data.len();
    send(Piece::Lines { first_line, data }, lines, bytes)?;
    Ok(lines)
}

/// The output side has gone.
#[derive(Debug)]
struct StoppedError;

impl std::fmt::Display for StoppedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the output was closed")
    }
}

impl std::error::Error for StoppedError {}
