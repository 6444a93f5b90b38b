//! Format detection: which reader an input goes to, and the inputs that
//! cannot be read as text at all.

use std::fmt;
use std::str::FromStr;

use super::{csv, hosts};

/// An input format (`docs/inputs.md`, Formats), as given to `--format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// Choose by content, then by file extension (the default): a first
    /// line naming the `IndicatorType` and `IndicatorValue` columns is csv
    /// whatever the name (a portal export saved as `.txt` is still csv);
    /// else `.csv` is csv, `.json` json, a file named `hosts` or ending in
    /// `.hosts` hosts; `.txt` and `.list` are text or hosts by content;
    /// anything else by content: `[` or `{` first is json, a first line
    /// `<IP address> <name>` hosts, else text.
    #[default]
    Auto,
    /// The portal's indicator import file.
    Csv,
    /// The portal's REST API indicator entities.
    Json,
    /// One indicator a line, with an optional leading action word.
    Text,
    /// A hosts file: every name is a Block `DomainName`.
    Hosts,
}

impl Format {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [Format; 5] = [
        Format::Auto,
        Format::Csv,
        Format::Json,
        Format::Text,
        Format::Hosts,
    ];

    /// The name used by `--format`: `auto`, `csv`, `json`, `text`, `hosts`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Text => "text",
            Format::Hosts => "hosts",
        }
    }

    /// Resolves [`Format::Auto`] for an input named `name` whose first
    /// bytes are `head`; any other format is returned as it is.
    pub fn detect(self, name: &str, head: &[u8]) -> Format {
        if self != Format::Auto {
            return self;
        }
        // A header row is unmistakable, and read as another format its
        // rows would become junk hosts.
        if csv::looks_like_csv(head) {
            return Format::Csv;
        }
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        let ext = base
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "csv" => return Format::Csv,
            "json" => return Format::Json,
            "hosts" => return Format::Hosts,
            _ if base.eq_ignore_ascii_case("hosts") => return Format::Hosts,
            "txt" | "list" => {
                return if hosts::looks_like_hosts(head) {
                    Format::Hosts
                } else {
                    Format::Text
                };
            }
            _ => {}
        }
        let first = head.iter().find(|b| !b.is_ascii_whitespace());
        if matches!(first, Some(b'[' | b'{')) {
            Format::Json
        } else if hosts::looks_like_hosts(head) {
            Format::Hosts
        } else {
            Format::Text
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown `--format` name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown format `{}`: use auto, csv, json, text or hosts",
            self.0
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Parses `auto`, `csv`, `json`, `text` or `hosts` (case-insensitive).
    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}

/// The first bytes of file types that are not text, and their names.
const NOT_TEXT: [(&[u8], &str); 8] = [
    (b"\x1f\x8b", "a gzip file"),
    (b"\x28\xb5\x2f\xfd", "a zstd file"),
    (b"PK\x03\x04", "a zip file"),
    (b"\xfd7zXZ\x00", "an xz file"),
    (b"BZh", "a bzip2 file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip file"),
    (b"\x89INDSET\n", "a compiled .indset set"),
    (b"\x7fELF", "an executable"),
];

/// Why the first bytes of an input show that it cannot be read at all;
/// `whole` when `head` is the entire input.
///
/// Only what is not text at all is refused here: an empty file, UTF-16,
/// and the known binary formats. A NUL byte elsewhere is an error of its
/// row, wherever it is in the file (see the module docs).
pub(super) fn unreadable(head: &[u8], whole: bool) -> Option<String> {
    if whole && head.iter().all(u8::is_ascii_whitespace) {
        return Some("the file is empty: give a file with one indicator per row".into());
    }
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Some("the file is UTF-16; save it as UTF-8 and read it again".into());
    }
    let (_, what) = NOT_TEXT.iter().find(|(magic, _)| head.starts_with(magic))?;
    let fix = if what.starts_with("a compiled") {
        "give the indicator lists it was compiled from"
    } else if what.starts_with("an executable") {
        "give an indicator list as UTF-8 text (csv, json, text or hosts)"
    } else {
        "decompress it first, then give the indicator list inside"
    };
    Some(format!("{what}, not text: {fix}"))
}
