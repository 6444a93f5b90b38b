//! Diagnostics: one line per rejected, skipped or suspicious input row.
//!
//! Every diagnostic prints as `<file>:<line>: <level>[<code>]: <message>`,
//! the format of `docs/inputs.md` (Outcomes), and its [`Code`] is stable: scripts may match on it.

use std::fmt;
use std::sync::Arc;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// The row was rejected.
    Error,
    /// The row was kept or merged, but probably not as its author meant.
    Warning,
    /// The row was skipped on purpose (expired, other device group).
    Note,
}

impl Level {
    /// `error`, `warning` or `note`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }
}

/// The stable code of a diagnostic.
///
/// Error codes mark rejected rows, note codes skipped rows, warning codes
/// rows that were accepted or merged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Code {
    /// An IP address indicator, or a URL or domain whose host is an IP
    /// literal: IP indicators are not supported on mobile.
    IpIndicator,
    /// The tunnel's own address `245.245.0.1`, in any spelling.
    ReservedAddress,
    /// A `*` in a host.
    Wildcard,
    /// A host that is empty, too long, or not a valid host name.
    InvalidHost,
    /// A URL whose scheme is not `http` or `https`.
    UnsupportedScheme,
    /// An action that network indicators do not support.
    UnsupportedAction,
    /// An indicator type that is not a network indicator.
    UnsupportedType,
    /// A `DomainName` value with a path.
    DomainWithPath,
    /// An expiration time that cannot be parsed.
    BadExpiration,
    /// A row that cannot be read at all.
    MalformedRow,
    /// A URL indicator whose canonical form is longer than
    /// [`MAX_INDICATOR_LEN`](crate::canon::MAX_INDICATOR_LEN), or a field
    /// over its size limit (the message names the field and the limit;
    /// the limits are in the [`ingest`](crate::ingest) module docs).
    TooLong,
    /// Skipped: the indicator expired at or before the compile time.
    Expired,
    /// Skipped: the indicator is for other device groups.
    OtherGroup,
    /// Merged: the same key with the same action was seen before.
    Duplicate,
    /// Merged: the same key with another action; the loser is dropped.
    Conflict,
    /// Accepted: a domain that is a public suffix (`com`, `co.uk`).
    PublicSuffix,
    /// Accepted without one of its fields: a `Severity` or `GenerateAlert`
    /// value that is not one of the portal's.
    IgnoredValue,
}

impl Code {
    /// Every code, in declaration order.
    pub const ALL: [Code; 17] = [
        Code::IpIndicator,
        Code::ReservedAddress,
        Code::Wildcard,
        Code::InvalidHost,
        Code::UnsupportedScheme,
        Code::UnsupportedAction,
        Code::UnsupportedType,
        Code::DomainWithPath,
        Code::BadExpiration,
        Code::MalformedRow,
        Code::TooLong,
        Code::Expired,
        Code::OtherGroup,
        Code::Duplicate,
        Code::Conflict,
        Code::PublicSuffix,
        Code::IgnoredValue,
    ];

    /// The stable kebab-case name (`ip-indicator`, `wildcard`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::IpIndicator => "ip-indicator",
            Code::ReservedAddress => "reserved-address",
            Code::Wildcard => "wildcard",
            Code::InvalidHost => "invalid-host",
            Code::UnsupportedScheme => "unsupported-scheme",
            Code::UnsupportedAction => "unsupported-action",
            Code::UnsupportedType => "unsupported-type",
            Code::DomainWithPath => "domain-with-path",
            Code::BadExpiration => "bad-expiration",
            Code::MalformedRow => "malformed-row",
            Code::TooLong => "too-long",
            Code::Expired => "expired",
            Code::OtherGroup => "other-group",
            Code::Duplicate => "duplicate",
            Code::Conflict => "conflict",
            Code::PublicSuffix => "public-suffix",
            Code::IgnoredValue => "ignored-value",
        }
    }

    /// Parses a stable name back into a code.
    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The level a diagnostic with this code is reported at.
    pub fn level(self) -> Level {
        match self {
            Code::Expired | Code::OtherGroup => Level::Note,
            Code::Duplicate | Code::Conflict | Code::PublicSuffix | Code::IgnoredValue => {
                Level::Warning
            }
            _ => Level::Error,
        }
    }

    /// What happens to the row: rejected, skipped, merged or (for
    /// `public-suffix`) accepted.
    pub fn outcome(self) -> Outcome {
        match self {
            Code::Expired | Code::OtherGroup => Outcome::Skipped,
            Code::Duplicate | Code::Conflict => Outcome::Merged,
            Code::PublicSuffix | Code::IgnoredValue => Outcome::Accepted,
            _ => Outcome::Rejected,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What became of an input row (see `docs/inputs.md`, Outcomes): exactly one per row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Compiled into the set.
    Accepted,
    /// Refused, with an error code.
    Rejected,
    /// Left out on purpose (expired, other device group).
    Skipped,
    /// Folded into an earlier row with the same key.
    Merged,
}

/// One diagnostic line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The input file's name as given.
    pub file: Arc<str>,
    /// The 1-based line of the row (0 when the problem is the whole file).
    pub line: u64,
    /// The stable code; its level is [`Code::level`].
    pub code: Code,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic for `file:line`.
    pub fn new(file: &Arc<str>, line: u64, code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: Arc::clone(file),
            line,
            code,
            message: message.into(),
        }
    }

    /// The diagnostic's level.
    pub fn level(&self) -> Level {
        self.code.level()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}[{}]: {}",
            self.file,
            self.line,
            self.level().as_str(),
            self.code,
            self.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_follows_the_spec_format() {
        let file: Arc<str> = Arc::from("feeds/a.csv");
        let d = Diagnostic::new(&file, 12, Code::Wildcard, "remove the `*`");
        assert_eq!(
            d.to_string(),
            "feeds/a.csv:12: error[wildcard]: remove the `*`"
        );
        let d = Diagnostic::new(&file, 3, Code::Duplicate, "same as line 2");
        assert_eq!(
            d.to_string(),
            "feeds/a.csv:3: warning[duplicate]: same as line 2"
        );
    }

    #[test]
    fn codes_round_trip_through_their_names() {
        for c in Code::ALL {
            assert_eq!(Code::parse(c.as_str()), Some(c));
        }
        assert_eq!(Code::parse("nope"), None);
    }
}
