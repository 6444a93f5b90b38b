//! The answer of a lookup: [`Verdict`], and the types that describe it.
//!
//! A [`Verdict`] is `Copy` and holds no pointers into the set, so the
//! per-flow path never allocates. The owned, printable details of a match
//! ([`IndicatorInfo`], [`Explanation`]) are built on demand by
//! [`IndicatorSet::info`](crate::set::IndicatorSet::info) and
//! [`IndicatorSet::explain`](crate::set::IndicatorSet::explain).

use std::fmt;
use std::str::FromStr;

use crate::indicator::{Action, Kind, Meta};

/// What a lookup asks the device to do (`docs/matching.md`, Which indicator decides).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Nothing matched (or the query was unparsable, or an IP literal).
    #[default]
    None,
    /// The most specific deciding indicator allows the connection.
    Allow,
    /// The most specific deciding indicator warns; the user may bypass.
    Warn,
    /// The most specific deciding indicator blocks.
    Block,
    /// Only audit indicators matched: record the hit, let it through.
    Audit,
}

impl Decision {
    /// `none`, `allow`, `warn`, `block` or `audit`, as printed by `lookup`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::None => "none",
            Decision::Allow => "allow",
            Decision::Warn => "warn",
            Decision::Block => "block",
            Decision::Audit => "audit",
        }
    }
}

impl From<Action> for Decision {
    fn from(a: Action) -> Decision {
        match a {
            Action::Allow => Decision::Allow,
            Action::Warn => Decision::Warn,
            Action::Block => Decision::Block,
            Action::Audit => Decision::Audit,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a lookup can see (`docs/matching.md`, Modes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Supervised devices: the query is a full URL; every indicator applies.
    #[default]
    Full,
    /// Unsupervised devices: the query is a host name; only `DomainName`
    /// indicators and `Url` indicators for the root path `/` apply.
    Domain,
}

impl Mode {
    /// `full` or `domain`, as accepted by the CLI's `--mode`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Domain => "domain",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a [`Mode`]: the text was neither `full` nor
/// `domain`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseModeError {
    got: String,
}

impl fmt::Display for ParseModeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown mode {:?}: expected `full` or `domain`",
            self.got
        )
    }
}

impl std::error::Error for ParseModeError {}

impl FromStr for Mode {
    type Err = ParseModeError;

    /// Parses `full` or `domain` (case-insensitive, surrounding white space
    /// ignored).
    fn from_str(s: &str) -> Result<Mode, ParseModeError> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("full") {
            Ok(Mode::Full)
        } else if t.eq_ignore_ascii_case("domain") {
            Ok(Mode::Domain)
        } else {
            Err(ParseModeError { got: s.to_string() })
        }
    }
}

/// A matched indicator, identified inside the set that answered.
///
/// It is only meaningful for the set (and the query) that produced it: pass
/// it back to [`IndicatorSet::info`](crate::set::IndicatorSet::info) for the
/// indicator's details.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hit {
    pub(crate) record: u32,
    pub(crate) kind: Kind,
    pub(crate) len: u16,
}

impl Hit {
    /// The indicator's index in the set (its rank in key order), the index
    /// [`IndicatorSet::iter`](crate::set::IndicatorSet::iter) lists it at.
    pub fn record(self) -> usize {
        self.record as usize
    }

    /// Whether a domain or a URL indicator matched.
    pub fn kind(self) -> Kind {
        self.kind
    }

    /// The length in bytes of the indicator's canonical value (the host of a
    /// domain, `host/path?query` of a URL) as matched in the query.
    pub fn value_len(self) -> usize {
        usize::from(self.len)
    }
}

/// The answer of a lookup. `Copy`, no allocation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Verdict {
    /// What to do.
    pub decision: Decision,
    /// The most specific matching allow, warn or block indicator: the one
    /// that decided. `None` when none matched.
    pub indicator: Option<Hit>,
    /// The most specific matching audit indicator, reported beside the
    /// decision. `None` when none matched.
    pub audit: Option<Hit>,
    /// The query could not be parsed at all (the decision is then `None`).
    pub invalid: bool,
}

impl Verdict {
    /// The verdict for a query that could not be parsed.
    pub const INVALID: Verdict = Verdict {
        decision: Decision::None,
        indicator: None,
        audit: None,
        invalid: true,
    };

    /// The verdict when nothing matched.
    pub const NONE: Verdict = Verdict {
        decision: Decision::None,
        indicator: None,
        audit: None,
        invalid: false,
    };
}

/// The owned details of one indicator in a set, for reports and `inspect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndicatorInfo {
    /// The id to report: the id the set stores ([`Meta::id`]), or else
    /// `file:line`, the input file (as named when the set was compiled)
    /// and line.
    pub id: String,
    /// Domain or URL.
    pub kind: Kind,
    /// The canonical value: the host of a domain, `host/path?query` of a URL.
    pub value: String,
    /// What it asks for.
    pub action: Action,
    /// The reported fields the set stores: id, title, severity,
    /// expiration, groups, alert flag, category and description.
    pub meta: Meta,
}

/// What part one matching indicator played in a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// It decided the action.
    Decided,
    /// It is the audit indicator reported beside the action.
    Reported,
    /// It matched but a more specific indicator outranked it.
    Outranked,
    /// It matched but had expired at the lookup time.
    Expired,
}

/// One matching indicator in an [`Explanation`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExplainedMatch {
    /// Where it is in the set.
    pub hit: Hit,
    /// Its details.
    pub info: IndicatorInfo,
    /// What part it played.
    pub role: Role,
    /// Why, in a few words: `"decides"`, `"reported audit"`,
    /// `"Url beats DomainName"`, `"longer path"`, `"more labels"`,
    /// `"audit never decides"`, `"expired"`.
    pub reason: &'static str,
}

/// Every indicator that matches a query, most specific first, and why the
/// winner won (`indset explain`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// The verdict a lookup gives at the same time.
    pub verdict: Verdict,
    /// The canonical query as matched (the host in domain mode,
    /// `host/path?query` in full mode); `None` when unparsable.
    pub canonical: Option<String>,
    /// The matching indicators in precedence order, most specific first,
    /// expired ones and audits included.
    pub matches: Vec<ExplainedMatch>,
    /// Why the verdict is what it is: `"no indicator matches"`,
    /// `"unparsable query"`, `"IP literals match nothing"`,
    /// `"only match"`, `"only audits match"`, or the reason the winner beat
    /// the next deciding indicator (`"Url beats DomainName"`, ...).
    pub reason: &'static str,
}

/// Counts and sizes of a set, for `indset inspect`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Number of indicators.
    pub indicators: usize,
    /// `DomainName` indicators.
    pub domains: usize,
    /// `Url` indicators.
    pub urls: usize,
    /// Indicators per action, in the order allow, warn, block, audit.
    pub actions: [usize; 4],
    /// Indicators with an expiration time.
    pub expiring: usize,
    /// Indicators with metadata beyond action, severity and line (id,
    /// title, expiration, groups, category, description, alert flag).
    pub with_metadata: usize,
    /// Bytes of each section, by name.
    pub sections: Vec<(&'static str, usize)>,
    /// Bytes of the whole file.
    pub total_bytes: usize,
}
