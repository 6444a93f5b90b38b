//! The data model: what an indicator is once it has been read and canonicalised.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// The type of an accepted indicator.
///
/// Only network indicators that a phone can match are accepted: `IpAddress`
/// and the file-hash types are rejected at ingestion (see
/// [`Code::IpIndicator`](crate::diag::Code::IpIndicator) and
/// [`Code::UnsupportedType`](crate::diag::Code::UnsupportedType)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A host name: matches the host and all its subdomains.
    DomainName,
    /// A host plus a path (and optional query): matches that exact host and
    /// the path prefix.
    Url,
}

impl Kind {
    /// The name used in inputs and in the JSON output (`DomainName`, `Url`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DomainName => "DomainName",
            Kind::Url => "Url",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a matching indicator asks the device to do.
///
/// The derived order is the merge precedence for equal keys
/// (`docs/matching.md`, Rows with the same value): `Allow < Warn < Block <
/// Audit`, so the *smallest* action wins a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Let the connection through; overrides less specific blocks.
    Allow,
    /// Warn the user, who may bypass.
    Warn,
    /// Block the connection.
    Block,
    /// Record the hit, do not block. Never decides a verdict.
    Audit,
}

impl Action {
    /// Parses an action name as written in inputs (case-insensitive):
    /// `Allowed`/`Allow`, `Warn`, `Block`/`AlertAndBlock`, `Audit`/`Alert`.
    ///
    /// Returns `None` for anything else, `BlockAndRemediate` included; the
    /// caller reports that as `unsupported-action`.
    pub fn parse(s: &str) -> Option<Action> {
        let s = s.trim();
        const NAMES: &[(&str, Action)] = &[
            ("allowed", Action::Allow),
            ("allow", Action::Allow),
            ("warn", Action::Warn),
            ("block", Action::Block),
            ("alertandblock", Action::Block),
            ("audit", Action::Audit),
            ("alert", Action::Audit),
        ];
        NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map(|&(_, a)| a)
    }

    /// The lower-case name used in the JSON output (`allow`, `warn`, `block`,
    /// `audit`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Warn => "warn",
            Action::Block => "block",
            Action::Audit => "audit",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The severity an indicator was given in the portal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// `Informational`
    Informational,
    /// `Low`
    Low,
    /// `Medium`
    Medium,
    /// `High`
    High,
}

impl Severity {
    /// Parses a severity name (case-insensitive); `None` when unknown.
    pub fn parse(s: &str) -> Option<Severity> {
        let s = s.trim();
        [
            Severity::Informational,
            Severity::Low,
            Severity::Medium,
            Severity::High,
        ]
        .into_iter()
        .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }

    /// The name as written in the portal (`Informational`, `Low`, `Medium`,
    /// `High`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "Informational",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
        }
    }
}

/// A point in time, in whole seconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The system clock's current time, in whole seconds: the one place
    /// the library and the binary read the clock. A clock set before 1970
    /// reads as the epoch.
    pub fn now() -> Timestamp {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Timestamp(secs)
    }
}

/// Where an indicator was written: the input file and its 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Source {
    /// The input file's name as given on the command line.
    pub file: Arc<str>,
    /// The 1-based line the row starts on.
    pub line: u64,
    /// The row's place among the rows that start on that line, from 0: a
    /// hosts line with several names, JSON elements written on one line.
    pub nth: u32,
}

/// The id of a row without a portal id: `FILE:LINE`, and `FILE:LINE#N`
/// for the `N`th row (from 2) that starts on that line.
pub(crate) fn row_id(file: &str, line: u64, nth: u32) -> String {
    match nth {
        0 => format!("{file}:{line}"),
        n => format!("{file}:{line}#{}", u64::from(n) + 1),
    }
}

/// The fields kept and reported with every match (`docs/inputs.md`, Formats).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// The portal's id; `None` means "use the input line number".
    pub id: Option<String>,
    /// The indicator's title.
    pub title: Option<String>,
    /// The indicator's severity.
    pub severity: Option<Severity>,
    /// When the indicator stops applying; `None` means never.
    pub expiration: Option<Timestamp>,
    /// The device groups it applies to; empty means all.
    pub groups: Vec<String>,
    /// Whether the portal raises an alert on a hit.
    pub generate_alert: Option<bool>,
    /// The portal's category.
    pub category: Option<String>,
    /// The portal's description.
    pub description: Option<String>,
}

impl Meta {
    /// No field set: what a row of a plain list carries.
    pub const EMPTY: Meta = Meta {
        id: None,
        title: None,
        severity: None,
        expiration: None,
        groups: Vec::new(),
        generate_alert: None,
        category: None,
        description: None,
    };
}

/// The [`Meta`] of an [`Indicator`], kept out of line: it reads and
/// writes as a `Meta` (`ind.meta.title`, `ind.meta.expiration = ...`),
/// and when no field is set, as on every row of a hosts file or a plain
/// list, it takes no memory beyond this pointer.
///
/// A `Meta` held inline made an indicator 232 bytes, 144 of them this
/// struct; boxed it is 96, and the compile of a 10M-row list touches
/// about 1.4 GB less fresh memory (BENCHMARKS.md, Measurements behind
/// choices in the code).
///
/// ```
/// use indset::{Meta, MetaBox, Severity};
///
/// let mut meta = MetaBox::default();
/// assert_eq!(*meta, Meta::EMPTY);
/// meta.severity = Some(Severity::High);
/// assert_eq!(meta.severity, Some(Severity::High));
/// assert_eq!(MetaBox::from(Meta::default()), MetaBox::default());
/// ```
#[derive(Clone, Default)]
pub struct MetaBox(Option<Box<Meta>>);

/// What an empty [`MetaBox`] reads as.
static EMPTY_META: Meta = Meta::EMPTY;

impl Deref for MetaBox {
    type Target = Meta;

    fn deref(&self) -> &Meta {
        self.0.as_deref().unwrap_or(&EMPTY_META)
    }
}

impl DerefMut for MetaBox {
    /// The fields to write; an empty box takes a `Meta` of its own first.
    fn deref_mut(&mut self) -> &mut Meta {
        self.0.get_or_insert_with(Box::default)
    }
}

impl From<Meta> for MetaBox {
    fn from(meta: Meta) -> MetaBox {
        MetaBox((meta != Meta::EMPTY).then(|| Box::new(meta)))
    }
}

impl PartialEq for MetaBox {
    /// Equal when the fields are: a box that took a `Meta` and left it
    /// empty equals one that never took any.
    fn eq(&self, other: &MetaBox) -> bool {
        **self == **other
    }
}

impl Eq for MetaBox {}

impl fmt::Debug for MetaBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// One accepted, canonical indicator.
///
/// `host` is the canonical host of `docs/canonicalisation.md` (lower case, punycode, no
/// leading, trailing or doubled dots). For a [`Kind::Url`], `path` is the
/// canonical path with its query (`/`, `/a/b`, `/a?x=1`); for a
/// [`Kind::DomainName`] it is empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indicator {
    /// Domain or URL.
    pub kind: Kind,
    /// The canonical host.
    pub host: String,
    /// The canonical path and query of a URL indicator; empty for a domain.
    pub path: String,
    /// What a match asks for.
    pub action: Action,
    /// Reported fields.
    pub meta: MetaBox,
    /// Where it was written.
    pub source: Source,
}

impl Indicator {
    /// Until when the indicator applies, as a number that orders
    /// expirations: its expiration in seconds, or `i128::MAX` when it never
    /// expires (so a row that never expires outlives every other).
    #[cfg(feature = "compile")]
    pub(crate) fn lives_until(&self) -> i128 {
        self.meta.expiration.map_or(i128::MAX, |e| i128::from(e.0))
    }

    /// The canonical value as printed by the tool: the host for a domain,
    /// `host/path?query` for a URL (no scheme: the scheme is not part of
    /// the match).
    pub fn value(&self) -> String {
        let mut v = String::with_capacity(self.host.len() + self.path.len());
        v.push_str(&self.host);
        v.push_str(&self.path);
        v
    }

    /// The id reported for this indicator: the portal's id, or else
    /// `FILE:LINE`, its input file (as named when it was read) and line,
    /// with `#N` for the `N`th row (from 2) that starts on that line: one
    /// row among all the inputs of a set.
    pub fn id(&self) -> String {
        match &self.meta.id {
            Some(id) => id.clone(),
            None => row_id(&self.source.file, self.source.line, self.source.nth),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_case_insensitive_and_legacy_names_map() {
        let table = [
            ("Allowed", Some(Action::Allow)),
            ("ALLOW", Some(Action::Allow)),
            ("warn", Some(Action::Warn)),
            ("Block", Some(Action::Block)),
            ("AlertAndBlock", Some(Action::Block)),
            ("Audit", Some(Action::Audit)),
            ("alert", Some(Action::Audit)),
            ("BlockAndRemediate", None),
            ("Blocked", None),
            ("", None),
        ];
        for (name, want) in table {
            assert_eq!(Action::parse(name), want, "{name:?}");
        }
    }

    #[test]
    fn an_indicator_without_metadata_holds_none() {
        // The compile of a large plain list holds one of these per row.
        assert!(std::mem::size_of::<Indicator>() <= 96);
        let mut meta = MetaBox::from(Meta::default());
        assert!(meta.0.is_none());
        meta.title = Some("t".into());
        assert_eq!(
            meta.0.as_deref().map(|m| m.title.as_deref()),
            Some(Some("t"))
        );
        meta.title = None;
        assert_eq!(meta, MetaBox::default());
    }

    #[test]
    fn merge_order_is_allow_warn_block_audit() {
        let mut v = vec![Action::Audit, Action::Block, Action::Allow, Action::Warn];
        v.sort();
        assert_eq!(
            v,
            [Action::Allow, Action::Warn, Action::Block, Action::Audit]
        );
    }
}
