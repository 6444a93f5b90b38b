//! The container: a verified file of typed sections (header, section
//! table, checksums); its layout and its checks are in the
//! [format docs](crate::format). It knows nothing about indicators: the
//! sections of a set are described beside their ids in [`crate::format`].
use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::wire::{u32_at, u64_at};

/// The first eight bytes of every `.indset` file.
///
/// The leading `0x89` keeps the file from being taken for text; the trailing
/// line feed shows up transfers that rewrite line endings.
pub const MAGIC: [u8; 8] = *b"\x89INDSET\n";

/// The format version this build writes and reads; a file of another
/// version is refused with [`FormatError::UnsupportedVersion`].
pub const VERSION: u32 = 10;

/// The length of the fixed header, in bytes.
pub const HEADER_LEN: usize = 40;

/// The length of one section table entry, in bytes.
pub const ENTRY_LEN: usize = 24;

/// The alignment of every section within the file, in bytes.
pub const ALIGN: usize = 8;

/// The most sections a container may hold.
///
/// A set needs a handful; the bound keeps the duplicate check of
/// [`Container::parse`] cheap on crafted files.
pub const MAX_SECTIONS: usize = 256;

/// Where the header checksum sits; it covers every header byte before it.
const HEADER_CRC_AT: usize = 36;

/// The id of a section.
///
/// The container does not interpret ids; the ones a set stores (`0x10`
/// and up) are described with the file format (`src/format/mod.rs`). Ids
/// must be unique within a file.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SectionId(pub u32);

impl SectionId {
    /// The name of a section a set stores (`"keys"`), `None` for others.
    pub fn name(self) -> Option<&'static str> {
        crate::format::section_name(self)
    }
}

impl fmt::Debug for SectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "SectionId({} {name:?})", self.0),
            None => write!(f, "SectionId({})", self.0),
        }
    }
}

/// Prints `16 (keys)` for a section a set stores, `9` for others.
impl fmt::Display for SectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// The part of a file a checksum covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Region {
    /// The fixed header (bytes `0..36`).
    Header,
    /// Everything after the header: section table, sections and padding.
    Body,
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Region::Header => "header",
            Region::Body => "section data",
        })
    }
}

/// Why a `.indset` file cannot be used.
///
/// Every variant but [`Io`](FormatError::Io) means the bytes are not a valid
/// set of this format version: the fix is to copy the file again or to
/// recompile it with `indset compile`.
#[derive(Debug)]
#[non_exhaustive]
pub enum FormatError {
    /// The file does not start with the magic bytes `\x89INDSET\n`: it is
    /// not an `.indset` file.
    BadMagic {
        /// The first eight bytes of the file.
        found: [u8; 8],
    },
    /// The file was written for another version of the format.
    UnsupportedVersion {
        /// The version this build reads.
        expected: u32,
        /// The version recorded in the file.
        found: u32,
    },
    /// The file is shorter than its header says it is (or than a header).
    Truncated {
        /// The length the file should have, in bytes.
        needed: u64,
        /// Its actual length.
        len: u64,
    },
    /// The file is longer than its header says it is.
    TrailingBytes {
        /// The length the file should have, in bytes.
        expected: u64,
        /// Its actual length.
        len: u64,
    },
    /// A checksum does not match the bytes it covers.
    ChecksumMismatch {
        /// Which checksum failed.
        region: Region,
        /// The checksum recorded in the file.
        expected: u32,
        /// The checksum of the bytes as they are.
        found: u32,
    },
    /// A section extends past the end of the file.
    SectionOutOfBounds {
        /// The section.
        id: SectionId,
        /// Its recorded offset.
        offset: u64,
        /// Its recorded length.
        len: u64,
        /// The length of the file.
        file_len: u64,
    },
    /// A section does not start at a multiple of 8.
    Misaligned {
        /// The section.
        id: SectionId,
        /// Its recorded offset.
        offset: u64,
    },
    /// An aligned section does not start right after the previous one (or
    /// the table): it overlaps it, or leaves a gap.
    SectionMisplaced {
        /// The section.
        id: SectionId,
        /// Its recorded offset.
        offset: u64,
        /// The offset it must have.
        expected: u64,
    },
    /// A section the set needs is missing.
    MissingSection {
        /// The missing section.
        id: SectionId,
    },
    /// Two sections have the same id.
    DuplicateSection {
        /// The repeated id.
        id: SectionId,
    },
    /// The structure or the contents of a section are inconsistent; the
    /// message says what. The set reports its own validation failures
    /// with this variant.
    Corrupt(&'static str),
    /// The file could not be opened, inspected or mapped.
    Io(io::Error),
}

const RECOMPILE: &str = "recompile the set with `indset compile`";

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::BadMagic { found } => write!(
                f,
                "not an indset file: it starts with {} instead of {}; \
                 give the path of a set compiled with `indset compile`",
                Hex(found),
                Hex(&MAGIC),
            ),
            FormatError::UnsupportedVersion { expected, found } => write!(
                f,
                "the set is in indset format version {found}, this build reads \
                 version {expected}; recompile it with this version of `indset compile`",
            ),
            FormatError::Truncated { needed, len } => write!(
                f,
                "the set is truncated: it has {len} bytes of {needed}; \
                 copy it again or {RECOMPILE}",
            ),
            FormatError::TrailingBytes { expected, len } => write!(
                f,
                "the set has {len} bytes where {expected} were written; \
                 copy it again or {RECOMPILE}",
            ),
            FormatError::ChecksumMismatch {
                region,
                expected,
                found,
            } => write!(
                f,
                "the set is corrupt: the {region} checksum is {found:#010x}, \
                 {expected:#010x} was written; copy it again or {RECOMPILE}",
            ),
            FormatError::SectionOutOfBounds {
                id,
                offset,
                len,
                file_len,
            } => write!(
                f,
                "the set is corrupt: section {id} ({len} bytes at offset {offset}) \
                 extends past the end of the file ({file_len} bytes); {RECOMPILE}",
            ),
            FormatError::Misaligned { id, offset } => write!(
                f,
                "the set is corrupt: section {id} starts at offset {offset}, \
                 not a multiple of {ALIGN}; {RECOMPILE}",
            ),
            FormatError::SectionMisplaced {
                id,
                offset,
                expected,
            } => write!(
                f,
                "the set is corrupt: section {id} starts at offset {offset} \
                 instead of {expected}, right after the previous section; {RECOMPILE}",
            ),
            FormatError::MissingSection { id } => write!(
                f,
                "the set has no section {id}; it was written by an incompatible \
                 compiler: {RECOMPILE}",
            ),
            FormatError::DuplicateSection { id } => write!(
                f,
                "the set is corrupt: section {id} appears twice; {RECOMPILE}",
            ),
            FormatError::Corrupt(what) => {
                write!(f, "the set is corrupt: {what}; {RECOMPILE}")
            }
            FormatError::Io(err) => write!(f, "cannot read the set: {err}"),
        }
    }
}

/// Prints bytes as spaced hex (`89 49 4e ...`), for messages.
struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FormatError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FormatError::Io(err) => Some(err),
            _ => None,
        }
    }
}

impl From<io::Error> for FormatError {
    fn from(err: io::Error) -> Self {
        FormatError::Io(err)
    }
}

/// The fixed header, decoded but not yet checked.
struct Header {
    magic: [u8; 8],
    version: u32,
    flags: u32,
    file_len: u64,
    count: u32,
    body_crc: u32,
    reserved: u32,
    header_crc: u32,
}

impl Header {
    /// Decodes the header at the start of `bytes`, `None` when too short.
    fn decode(bytes: &[u8]) -> Option<Header> {
        Some(Header {
            magic: *bytes.first_chunk::<8>()?,
            version: u32_at(bytes, 8)?,
            flags: u32_at(bytes, 12)?,
            file_len: u64_at(bytes, 16)?,
            count: u32_at(bytes, 24)?,
            body_crc: u32_at(bytes, 28)?,
            reserved: u32_at(bytes, 32)?,
            header_crc: u32_at(bytes, HEADER_CRC_AT)?,
        })
    }

    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..8].copy_from_slice(&self.magic);
        out[8..12].copy_from_slice(&self.version.to_le_bytes());
        out[12..16].copy_from_slice(&self.flags.to_le_bytes());
        out[16..24].copy_from_slice(&self.file_len.to_le_bytes());
        out[24..28].copy_from_slice(&self.count.to_le_bytes());
        out[28..32].copy_from_slice(&self.body_crc.to_le_bytes());
        out[32..36].copy_from_slice(&self.reserved.to_le_bytes());
        let crc = crc32fast::hash(&out[..HEADER_CRC_AT]);
        out[HEADER_CRC_AT..].copy_from_slice(&crc.to_le_bytes());
        out
    }
}

/// One section table entry.
#[derive(Clone, Copy, Debug)]
struct Entry {
    id: SectionId,
    reserved: u32,
    offset: u64,
    len: u64,
}

impl Entry {
    /// Decodes the `index`th entry of `table`, `None` past its end.
    fn decode(table: &[u8], index: usize) -> Option<Entry> {
        let at = index.checked_mul(ENTRY_LEN)?;
        Some(Entry {
            id: SectionId(u32_at(table, at)?),
            reserved: u32_at(table, at.checked_add(4)?)?,
            offset: u64_at(table, at.checked_add(8)?)?,
            len: u64_at(table, at.checked_add(16)?)?,
        })
    }

    fn encode(&self) -> [u8; ENTRY_LEN] {
        let mut out = [0u8; ENTRY_LEN];
        out[0..4].copy_from_slice(&self.id.0.to_le_bytes());
        out[4..8].copy_from_slice(&self.reserved.to_le_bytes());
        out[8..16].copy_from_slice(&self.offset.to_le_bytes());
        out[16..24].copy_from_slice(&self.len.to_le_bytes());
        out
    }

    /// The byte range of the section, `None` if it does not fit a `usize`.
    fn range(&self) -> Option<Range<usize>> {
        let start = usize::try_from(self.offset).ok()?;
        let end = start.checked_add(usize::try_from(self.len).ok()?)?;
        Some(start..end)
    }
}

/// Rounds `n` up to a multiple of [`ALIGN`], `None` on overflow.
fn align_up(n: u64) -> Option<u64> {
    let align = ALIGN as u64;
    n.checked_add(align - 1).map(|n| n / align * align)
}

/// A verified container borrowed from its bytes.
///
/// Parsing checks every byte (see the [format docs](crate::format)); afterwards
/// [`section`](Container::section) is a scan of the small section table and
/// never copies. The container is `Copy`: it is two slices and the flags.
#[derive(Clone, Copy)]
pub struct Container<'a> {
    bytes: &'a [u8],
    table: &'a [u8],
    flags: u32,
}

impl<'a> Container<'a> {
    /// Verifies `bytes` as an `.indset` container.
    ///
    /// Costs one CRC-32 pass over the file and no allocation. Never panics:
    /// any bytes that are not a valid container of this version give the
    /// first problem found, in the order of the [format docs](crate::format).
    pub fn parse(bytes: &'a [u8]) -> Result<Container<'a>, FormatError> {
        let file_len = bytes.len() as u64;
        let header = Header::decode(bytes).ok_or(FormatError::Truncated {
            needed: HEADER_LEN as u64,
            len: file_len,
        })?;
        if header.magic != MAGIC {
            return Err(FormatError::BadMagic {
                found: header.magic,
            });
        }
        if header.version != VERSION {
            return Err(FormatError::UnsupportedVersion {
                expected: VERSION,
                found: header.version,
            });
        }
        let found = crc32fast::hash(bytes.get(..HEADER_CRC_AT).unwrap_or_default());
        if found != header.header_crc {
            return Err(FormatError::ChecksumMismatch {
                region: Region::Header,
                expected: header.header_crc,
                found,
            });
        }
        if file_len < header.file_len {
            return Err(FormatError::Truncated {
                needed: header.file_len,
                len: file_len,
            });
        }
        if file_len > header.file_len {
            return Err(FormatError::TrailingBytes {
                expected: header.file_len,
                len: file_len,
            });
        }
        let body = bytes.get(HEADER_LEN..).unwrap_or_default();
        let found = body_crc(body);
        if found != header.body_crc {
            return Err(FormatError::ChecksumMismatch {
                region: Region::Body,
                expected: header.body_crc,
                found,
            });
        }

        // Only files written with correct checksums get this far.
        if header.reserved != 0 {
            return Err(FormatError::Corrupt("a reserved header field is not zero"));
        }
        let count = header.count as usize;
        if count > MAX_SECTIONS {
            return Err(FormatError::Corrupt("the file has more than 256 sections"));
        }
        let table = bytes
            .get(HEADER_LEN..HEADER_LEN + count * ENTRY_LEN)
            .ok_or(FormatError::Corrupt(
                "the section table extends past the end of the file",
            ))?;
        let mut end = (HEADER_LEN + count * ENTRY_LEN) as u64;
        for index in 0..count {
            let entry = Entry::decode(table, index)
                .ok_or(FormatError::Corrupt("a section table entry is cut short"))?;
            check_entry(bytes, table, index, &entry, end)?;
            end = entry.offset + entry.len;
        }
        if end != file_len {
            return Err(FormatError::TrailingBytes {
                expected: end,
                len: file_len,
            });
        }
        Ok(Container {
            bytes,
            table,
            flags: header.flags,
        })
    }

    /// The flags the writer recorded ([`Writer::flags`]); their meaning
    /// belongs to the set.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// The whole file.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The number of sections.
    pub fn section_count(&self) -> usize {
        self.table.len() / ENTRY_LEN
    }

    /// The bytes of section `id`, or `None` when the file has no such section.
    ///
    /// Scans the section table: a few nanoseconds per section. Look sections
    /// up once when opening a set, not per query.
    pub fn section(&self, id: SectionId) -> Option<&'a [u8]> {
        self.bytes.get(self.section_range(id)?)
    }

    /// Like [`section`](Container::section), but a missing section is a
    /// [`FormatError::MissingSection`], ready to return from an open function.
    pub fn require(&self, id: SectionId) -> Result<&'a [u8], FormatError> {
        self.section(id).ok_or(FormatError::MissingSection { id })
    }

    /// Where section `id` lies in [`as_bytes`](Container::as_bytes).
    ///
    /// For a set that owns its bytes (`IndicatorSet<D: AsRef<[u8]>>`) and so
    /// cannot keep slices borrowed from them: keep the range, slice on use.
    pub fn section_range(&self, id: SectionId) -> Option<Range<usize>> {
        (0..self.section_count())
            .filter_map(|index| Entry::decode(self.table, index))
            .find(|entry| entry.id == id)?
            .range()
    }

    /// Every section with its id, in file order.
    pub fn sections(&self) -> impl Iterator<Item = (SectionId, &'a [u8])> + use<'a> {
        let Container { bytes, table, .. } = *self;
        (0..table.len() / ENTRY_LEN)
            .filter_map(move |index| Entry::decode(table, index))
            .filter_map(move |entry| Some((entry.id, bytes.get(entry.range()?)?)))
    }
}

/// Checks table entry `index`, which must start at the first aligned offset
/// at or after `end`, the end of the table or of the previous section.
fn check_entry(
    bytes: &[u8],
    table: &[u8],
    index: usize,
    entry: &Entry,
    end: u64,
) -> Result<(), FormatError> {
    let file_len = bytes.len() as u64;
    let id = entry.id;
    if entry.reserved != 0 {
        return Err(FormatError::Corrupt(
            "a reserved section table field is not zero",
        ));
    }
    if entry.offset % ALIGN as u64 != 0 {
        return Err(FormatError::Misaligned {
            id,
            offset: entry.offset,
        });
    }
    match entry.offset.checked_add(entry.len) {
        Some(section_end) if section_end <= file_len => {}
        _ => {
            return Err(FormatError::SectionOutOfBounds {
                id,
                offset: entry.offset,
                len: entry.len,
                file_len,
            });
        }
    }
    let expected = align_up(end).ok_or(FormatError::Corrupt("a section ends too late"))?;
    if entry.offset != expected {
        return Err(FormatError::SectionMisplaced {
            id,
            offset: entry.offset,
            expected,
        });
    }
    // `end <= offset <= file_len`, checked above, so this slice exists.
    let padding = bytes
        .get(end as usize..entry.offset as usize)
        .unwrap_or_default();
    if padding.iter().any(|&b| b != 0) {
        return Err(FormatError::Corrupt("padding between sections is not zero"));
    }
    let repeated = (0..index)
        .filter_map(|earlier| Entry::decode(table, earlier))
        .any(|earlier| earlier.id == id);
    if repeated {
        return Err(FormatError::DuplicateSection { id });
    }
    Ok(())
}

impl fmt::Debug for Container<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Container")
            .field("len", &self.bytes.len())
            .field("flags", &self.flags)
            .field(
                "sections",
                &self
                    .sections()
                    .map(|(id, bytes)| (id, bytes.len()))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Builds a container in memory.
///
/// Sections are copied in as they are added (or written in place,
/// [`add_section_with`](Writer::add_section_with)), so the writer holds
/// about one file's worth of memory; [`finish`](Writer::finish) copies
/// once more, [`write_to`](Writer::write_to) does not.
///
/// ```
/// use indset::format::{Container, SectionId, Writer};
///
/// let (a, b, c) = (SectionId(1), SectionId(2), SectionId(3));
/// let mut writer = Writer::new();
/// writer.add_section(a, b"keys").add_section(b, &[1, 2, 3]);
/// let bytes = writer.finish();
///
/// let container = Container::parse(&bytes)?;
/// assert_eq!(container.section(a), Some(&b"keys"[..]));
/// assert_eq!(container.require(b)?, &[1, 2, 3]);
/// assert!(container.section(c).is_none());
/// # Ok::<(), indset::format::FormatError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Writer {
    flags: u32,
    /// Offsets relative to the start of the sections, `data[room..]`.
    entries: Vec<Entry>,
    /// `room` bytes kept for the header and table, then the sections with
    /// their padding, as they follow the table.
    data: Vec<u8>,
    /// See [`Writer::with_room_for`].
    room: usize,
}

impl Writer {
    /// An empty writer: no sections, flags 0.
    pub fn new() -> Writer {
        Writer::default()
    }

    /// An empty writer that keeps room in its buffer for the header and
    /// the table of `sections` sections: when the file has that many,
    /// [`into_bytes`](Writer::into_bytes) writes them in that room instead
    /// of moving every section up to make it. For a large file whose
    /// number of sections is known.
    pub fn with_room_for(sections: usize) -> Writer {
        let room = HEADER_LEN + sections.min(MAX_SECTIONS) * ENTRY_LEN;
        Writer {
            data: vec![0; room],
            room,
            ..Writer::default()
        }
    }

    /// Records `flags` in the header (default 0); the container does not
    /// interpret them.
    pub fn flags(&mut self, flags: u32) -> &mut Writer {
        self.flags = flags;
        self
    }

    /// Appends a section; sections are stored in the order they are added.
    ///
    /// # Panics
    ///
    /// When `id` was already added, or after [`MAX_SECTIONS`] sections: both
    /// are bugs in the calling code, not problems with data.
    pub fn add_section(&mut self, id: SectionId, bytes: &[u8]) -> &mut Writer {
        self.add_section_with(id, |data, _| data.extend_from_slice(bytes))
    }

    /// Appends a section that `write` appends to the writer's own buffer
    /// (it is given the buffer and the offset of the section from the
    /// start of the first section), so that a large section is not built
    /// apart and then copied. `write` must leave the bytes before the end
    /// it was given alone.
    ///
    /// # Panics
    ///
    /// As [`add_section`](Writer::add_section), and when `write`
    /// shortens the buffer.
    ///
    /// ```
    /// use indset::format::{Container, SectionId, Writer};
    ///
    /// let mut writer = Writer::new();
    /// writer.add_section(SectionId(1), b"abc");
    /// writer.add_section_with(SectionId(2), |data, at| {
    ///     // The second section starts 8 bytes after the first (aligned).
    ///     data.extend_from_slice(&(at as u32).to_le_bytes());
    /// });
    /// let bytes = writer.into_bytes();
    /// let container = Container::parse(&bytes)?;
    /// assert_eq!(container.require(SectionId(2))?, &8u32.to_le_bytes());
    /// # Ok::<(), indset::format::FormatError>(())
    /// ```
    pub fn add_section_with(
        &mut self,
        id: SectionId,
        write: impl FnOnce(&mut Vec<u8>, usize),
    ) -> &mut Writer {
        assert!(
            self.entries.iter().all(|entry| entry.id != id),
            "section {id} added twice to an indset container",
        );
        assert!(
            self.entries.len() < MAX_SECTIONS,
            "more than {MAX_SECTIONS} sections added to an indset container",
        );
        let padded = (self.data.len() - self.room).next_multiple_of(ALIGN);
        let start = self.room + padded;
        self.data.resize(start, 0);
        write(&mut self.data, padded);
        assert!(
            self.data.len() >= start,
            "a section's writer shortened the buffer"
        );
        self.entries.push(Entry {
            id,
            reserved: 0,
            offset: padded as u64,
            len: (self.data.len() - start) as u64,
        });
        self
    }

    /// The sections with their padding, after the room kept for the head.
    fn sections(&self) -> &[u8] {
        &self.data[self.room..]
    }

    /// The length of the file [`finish`](Writer::finish) will return.
    pub fn len(&self) -> usize {
        self.table_end() + self.sections().len()
    }

    /// Whether [`len`](Writer::len) is that of a file without sections.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn table_end(&self) -> usize {
        HEADER_LEN + self.entries.len() * ENTRY_LEN
    }

    /// The header and the section table: everything before the sections.
    fn head(&self) -> Vec<u8> {
        let table_end = self.table_end();
        let mut head = Vec::with_capacity(table_end);
        head.resize(HEADER_LEN, 0);
        for entry in &self.entries {
            let placed = Entry {
                offset: entry.offset + table_end as u64,
                ..*entry
            };
            head.extend_from_slice(&placed.encode());
        }
        let mut body_crc = crc32fast::Hasher::new();
        body_crc.update(&head[HEADER_LEN..]);
        body_crc.update(self.sections());
        let header = Header {
            magic: MAGIC,
            version: VERSION,
            flags: self.flags,
            file_len: self.len() as u64,
            count: self.entries.len() as u32,
            body_crc: body_crc.finalize(),
            reserved: 0,
            header_crc: 0,
        };
        head[..HEADER_LEN].copy_from_slice(&header.encode());
        head
    }

    /// The finished file.
    pub fn finish(&self) -> Vec<u8> {
        let mut out = self.head();
        out.reserve_exact(self.sections().len());
        out.extend_from_slice(self.sections());
        out
    }

    /// The finished file, in the writer's own buffer, so that a large set
    /// is not held twice: the header and table go in the room kept for
    /// them ([`with_room_for`](Writer::with_room_for)), or the sections are
    /// moved up to make room.
    pub fn into_bytes(self) -> Vec<u8> {
        let head = self.head();
        let mut data = self.data;
        if head.len() == self.room {
            data[..self.room].copy_from_slice(&head);
        } else {
            data.splice(0..self.room, head);
        }
        data
    }

    /// Writes the finished file to `out`.
    ///
    /// To replace a set that may be mapped, use
    /// [`write_file`](Writer::write_file), never a write in place.
    pub fn write_to<W: Write>(&self, mut out: W) -> io::Result<()> {
        out.write_all(&self.head())?;
        out.write_all(self.sections())?;
        out.flush()
    }

    /// Writes the finished file to `path`, atomically.
    ///
    /// Writes and syncs a temporary file in the same directory, then renames
    /// it over `path`. A process that has the old file mapped keeps reading
    /// the old bytes (the rename leaves its inode alone), which is what makes
    /// [`map`] sound; a crash leaves the old file or the new one (and perhaps
    /// a stray temporary file), never a mix.
    pub fn write_file(&self, path: &Path) -> io::Result<()> {
        write_atomically(path, |file| self.write_to(file))
    }
}

/// Writes a file to `path` atomically: `write` fills a new temporary file
/// in the same directory, which is synced and renamed over `path` (see
/// [`Writer::write_file`]); on failure the temporary file is removed.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    // Unique among the writers of this process; `create_new` refuses to
    // reuse a file someone else left or planted.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(
        ".{}-{}.tmp",
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    let temp = path.with_file_name(temp_name);
    let mut file = File::options().write(true).create_new(true).open(&temp)?;
    let result = write(&mut file)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temp, path));
    if result.is_err() {
        // The write's error is the one to report.
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// The body size from which [`Container::parse`] checksums on two threads:
/// below it, starting a thread costs more than it saves.
pub const PARALLEL_CRC: usize = 4 << 20;

/// CRC-32 of `body`: in two halves on two threads for a large body on a
/// machine with more than one core (see the format docs), else on this one.
fn body_crc(body: &[u8]) -> u32 {
    static CORES: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let parallel = body.len() >= PARALLEL_CRC
        && *CORES.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1));
    if !parallel {
        return crc32fast::hash(body);
    }
    let (first, second) = body.split_at(body.len() / 2);
    let of = |part: &[u8]| {
        let mut h = crc32fast::Hasher::new();
        h.update(part);
        h
    };
    std::thread::scope(|s| {
        let helper = std::thread::Builder::new().spawn_scoped(s, || of(second));
        let mut crc = of(first);
        match helper.map(|h| h.join()) {
            Ok(Ok(rest)) => crc.combine(&rest),
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => crc.update(second),
        }
        crc.finalize()
    })
}

/// Maps the file at `path` read-only, to be checked with
/// [`Container::parse`].
///
/// Costs a system call; pages are read from disk as they are first touched
/// (by the checksum). A file shorter than a header is
/// [`FormatError::Truncated`] (an empty file cannot be mapped on every
/// platform); errors opening or mapping it are [`FormatError::Io`].
///
/// The file must not be modified in place while it is mapped: replace it
/// with a new file and a rename, as [`Writer::write_file`] does.
#[allow(unsafe_code)]
pub fn map(path: &Path) -> Result<Mapped, FormatError> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if len < HEADER_LEN as u64 {
        return Err(FormatError::Truncated {
            needed: HEADER_LEN as u64,
            len,
        });
    }
    // SAFETY: `Mmap::map` is unsafe because the mapped bytes are shared with
    // the file: if anyone writes to the file while it is mapped, the `&[u8]`
    // we hand out changes under us (undefined behaviour in Rust's model), and
    // if it is truncated, touching the lost pages raises SIGBUS. We assume
    // the file is never modified in place: indset and the engine replace a
    // set by writing a new file and renaming it over the old one
    // (`Writer::write_file`), which leaves the mapped inode untouched. If
    // something else breaks that assumption, the checksum checked at open
    // does not help: lookups may see torn bytes (wrong answers; the safe
    // parsers still do not read out of bounds) or the process may die of
    // SIGBUS.
    let map = unsafe { memmap2::Mmap::map(&file)? };
    Ok(Mapped { map })
}

/// The read-only memory map of a `.indset` file: the bytes of an
/// [`IndicatorSet`](crate::IndicatorSet) opened with
/// [`IndicatorSet::open`](crate::IndicatorSet::open).
///
/// Dropping it unmaps the file (a system call). The file must not be
/// modified in place while it is mapped: replace it with a new file and a
/// rename.
pub struct Mapped {
    map: memmap2::Mmap,
}

impl AsRef<[u8]> for Mapped {
    fn as_ref(&self) -> &[u8] {
        &self.map
    }
}

impl std::ops::Deref for Mapped {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.map
    }
}

impl fmt::Debug for Mapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mapped")
            .field("len", &self.map.len())
            .finish()
    }
}
