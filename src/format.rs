//! A minimal stand-in for the `.indset` container, so the matcher compiles
//! before the format branch lands. It will be replaced at merge.
//!
//! Layout (little-endian): magic `INDSET\0\0`, version `u32`, section count
//! `u32`, then one 24-byte entry per section (`id: u32`, zero `u32`,
//! `offset: u64`, `len: u64`), then the sections, each at an 8-byte aligned
//! offset. No checksum.

use std::fmt;

const MAGIC: &[u8; 8] = b"INDSET\0\0";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 16;
const ENTRY_LEN: usize = 24;

/// The identifier of a section in the container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SectionId(pub u32);

/// Why a container could not be opened.
#[derive(Debug)]
#[non_exhaustive]
pub enum FormatError {
    /// The bytes are not a container of this format.
    BadMagic,
    /// The container was written by another format version.
    Version {
        /// The version this library reads.
        expected: u32,
        /// The version found.
        got: u32,
    },
    /// The header or a section lies outside the bytes.
    Truncated,
    /// A section does not start at an 8-byte aligned offset.
    Misaligned(SectionId),
    /// A required section is absent.
    MissingSection(SectionId),
    /// A section's contents failed validation.
    Corrupt(&'static str),
    /// The file could not be read.
    Io(std::io::Error),
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::BadMagic => f.write_str("not an indset file (bad magic)"),
            FormatError::Version { expected, got } => {
                write!(f, "format version {got}, expected {expected}")
            }
            FormatError::Truncated => f.write_str("truncated file"),
            FormatError::Misaligned(id) => write!(f, "section {} is misaligned", id.0),
            FormatError::MissingSection(id) => write!(f, "section {} is missing", id.0),
            FormatError::Corrupt(what) => write!(f, "corrupt section: {what}"),
            FormatError::Io(e) => write!(f, "i/o error: {e}"),
        }
    }
}

impl std::error::Error for FormatError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FormatError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for FormatError {
    fn from(e: std::io::Error) -> FormatError {
        FormatError::Io(e)
    }
}

/// Collects sections and writes a container.
#[derive(Debug, Default)]
pub struct Writer {
    sections: Vec<(SectionId, Vec<u8>)>,
}

impl Writer {
    /// An empty container.
    pub fn new() -> Writer {
        Writer::default()
    }

    /// Adds a section; sections are written in the order added.
    pub fn add_section(&mut self, id: SectionId, bytes: &[u8]) {
        self.sections.push((id, bytes.to_vec()));
    }

    /// The container's bytes.
    pub fn finish(self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(self.sections.len() as u32).to_le_bytes());
        let mut offset = HEADER_LEN + ENTRY_LEN * self.sections.len();
        for (id, bytes) in &self.sections {
            offset = offset.next_multiple_of(8);
            out.extend_from_slice(&id.0.to_le_bytes());
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&(offset as u64).to_le_bytes());
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            offset += bytes.len();
        }
        for (_, bytes) in &self.sections {
            out.resize(out.len().next_multiple_of(8), 0);
            out.extend_from_slice(bytes);
        }
        out
    }
}

/// A parsed container borrowing its bytes.
#[derive(Clone, Debug)]
pub struct Container<'a> {
    bytes: &'a [u8],
    table: &'a [u8],
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

impl<'a> Container<'a> {
    /// Verifies the magic, the version and every section's bounds and
    /// alignment.
    pub fn parse(bytes: &'a [u8]) -> Result<Container<'a>, FormatError> {
        if bytes.len() < HEADER_LEN {
            return Err(FormatError::Truncated);
        }
        if &bytes[..8] != MAGIC {
            return Err(FormatError::BadMagic);
        }
        let version = u32_at(bytes, 8).ok_or(FormatError::Truncated)?;
        if version != VERSION {
            return Err(FormatError::Version {
                expected: VERSION,
                got: version,
            });
        }
        let count = u32_at(bytes, 12).ok_or(FormatError::Truncated)? as usize;
        let table = count
            .checked_mul(ENTRY_LEN)
            .and_then(|n| bytes.get(HEADER_LEN..HEADER_LEN.checked_add(n)?))
            .ok_or(FormatError::Truncated)?;
        let c = Container { bytes, table };
        for e in table.chunks_exact(ENTRY_LEN) {
            let id = SectionId(u32_at(e, 0).ok_or(FormatError::Truncated)?);
            let offset = u64_at(e, 8).ok_or(FormatError::Truncated)?;
            if offset % 8 != 0 {
                return Err(FormatError::Misaligned(id));
            }
            c.entry(e).ok_or(FormatError::Truncated)?;
        }
        Ok(c)
    }

    fn entry(&self, e: &[u8]) -> Option<&'a [u8]> {
        let offset = usize::try_from(u64_at(e, 8)?).ok()?;
        let len = usize::try_from(u64_at(e, 16)?).ok()?;
        self.bytes.get(offset..offset.checked_add(len)?)
    }

    /// The bytes of a section, or `None` when absent.
    pub fn section(&self, id: SectionId) -> Option<&'a [u8]> {
        self.table
            .chunks_exact(ENTRY_LEN)
            .find(|e| u32_at(e, 0) == Some(id.0))
            .and_then(|e| self.entry(e))
    }

    /// The bytes of a section that must be present.
    pub fn require(&self, id: SectionId) -> Result<&'a [u8], FormatError> {
        self.section(id).ok_or(FormatError::MissingSection(id))
    }
}
