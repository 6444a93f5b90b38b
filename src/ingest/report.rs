//! The report of an ingest: row counts per outcome and code, and the
//! diagnostics kept.

use std::collections::BTreeMap;
use std::fmt;

use crate::diag::{Code, Diagnostic, Outcome};

/// How many diagnostics of each code a [`Report`] keeps. Past it, the
/// diagnostics of that code are counted ([`Report::omitted_by`]) but not
/// kept, so that the memory of an ingest grows with its distinct keys, not
/// its rows; [`Ingester::on_diagnostic`](super::Ingester::on_diagnostic) sees every one.
pub const MAX_DIAGNOSTICS_PER_CODE: usize = 1000;

/// The outcome of ingestion: row counts per outcome and code, and the
/// first [`MAX_DIAGNOSTICS_PER_CODE`] diagnostics of each code, in the
/// order they were found.
///
/// Invariant (checked by [`Report::adds_up`]): `accepted + rejected +
/// skipped + merged == rows`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub(super) rows: u64,
    pub(super) accepted: u64,
    rejected: BTreeMap<Code, u64>,
    skipped: BTreeMap<Code, u64>,
    merged: BTreeMap<Code, u64>,
    pub(super) public_suffixes: u64,
    pub(super) ignored_values: u64,
    pub(super) file_errors: u64,
    /// The diagnostics kept; add one only through [`Report::keep`].
    kept: Vec<Diagnostic>,
    kept_by: BTreeMap<Code, usize>,
    omitted: BTreeMap<Code, u64>,
}

impl Report {
    /// The number of indicator rows read.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The number of rows accepted (including `public-suffix` and
    /// `ignored-value` warnings).
    pub fn accepted(&self) -> u64 {
        self.accepted
    }

    /// The number of rows rejected, all codes together.
    pub fn rejected(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// The number of rows rejected with `code` (0 for a code that does not
    /// reject).
    pub fn rejected_by(&self, code: Code) -> u64 {
        self.rejected.get(&code).copied().unwrap_or(0)
    }

    /// The number of rows skipped (`expired`, `other-group`).
    pub fn skipped(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// The number of rows skipped with `code`.
    pub fn skipped_by(&self, code: Code) -> u64 {
        self.skipped.get(&code).copied().unwrap_or(0)
    }

    /// The number of rows merged into another (`duplicate`, `conflict`).
    pub fn merged(&self) -> u64 {
        self.merged.values().sum()
    }

    /// The number of rows merged with `code`.
    pub fn merged_by(&self, code: Code) -> u64 {
        self.merged.get(&code).copied().unwrap_or(0)
    }

    /// The number of `public-suffix` warnings (accepted rows).
    pub fn public_suffixes(&self) -> u64 {
        self.public_suffixes
    }

    /// The number of `ignored-value` warnings (accepted rows without a
    /// field whose value is not one of the portal's).
    pub fn ignored_values(&self) -> u64 {
        self.ignored_values
    }

    /// The number of whole-file problems (empty, binary, not an indicator
    /// list, CSV header without the required columns, JSON syntax error
    /// between elements). They are diagnostics but not rows.
    pub fn file_errors(&self) -> u64 {
        self.file_errors
    }

    /// The diagnostics kept, in the order found: every one up to
    /// [`MAX_DIAGNOSTICS_PER_CODE`] of each code, then none of that code
    /// ([`Report::omitted`] counts them).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.kept
    }

    /// The number of diagnostics found but not kept, all codes together.
    pub fn omitted(&self) -> u64 {
        self.omitted.values().sum()
    }

    /// The number of diagnostics with `code` found but not kept.
    pub fn omitted_by(&self, code: Code) -> u64 {
        self.omitted.get(&code).copied().unwrap_or(0)
    }

    /// Keeps `d`, or counts it when its code has all the diagnostics a
    /// report keeps.
    pub(super) fn keep(&mut self, d: Diagnostic) {
        let kept = self.kept_by.entry(d.code).or_insert(0);
        if *kept < MAX_DIAGNOSTICS_PER_CODE {
            *kept += 1;
            self.kept.push(d);
        } else {
            *self.omitted.entry(d.code).or_insert(0) += 1;
        }
    }

    /// Whether every row has exactly one outcome: `accepted + rejected +
    /// skipped + merged == rows`.
    pub fn adds_up(&self) -> bool {
        self.accepted + self.rejected() + self.skipped() + self.merged() == self.rows
    }

    pub(super) fn count(&mut self, code: Code) {
        let map = match code.outcome() {
            Outcome::Rejected => &mut self.rejected,
            Outcome::Skipped => &mut self.skipped,
            Outcome::Merged => &mut self.merged,
            Outcome::Accepted => {
                self.accepted += 1;
                return;
            }
        };
        *map.entry(code).or_insert(0) += 1;
    }
}

/// Writes `N word` and, when N > 0, the counts per code: `2 rejected (1
/// wildcard, 1 ip-indicator)`.
fn write_counts(
    f: &mut fmt::Formatter<'_>,
    total: u64,
    word: &str,
    by: &BTreeMap<Code, u64>,
) -> fmt::Result {
    write!(f, "{total} {word}")?;
    let mut sep = " (";
    for (code, n) in by.iter().filter(|(_, n)| **n > 0) {
        write!(f, "{sep}{n} {code}")?;
        sep = ", ";
    }
    if sep == ", " {
        f.write_str(")")?;
    }
    Ok(())
}

impl fmt::Display for Report {
    /// One summary line, e.g. `6254 rows: 3947 accepted, 2307 rejected
    /// (2307 ip-indicator), 0 skipped, 0 merged`, followed by `; N
    /// unreadable files` when there were whole-file problems and `; N
    /// diagnostics not kept in the report (N duplicate)` when some were
    /// only counted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rows: {} accepted, ", self.rows, self.accepted)?;
        write_counts(f, self.rejected(), "rejected", &self.rejected)?;
        f.write_str(", ")?;
        write_counts(f, self.skipped(), "skipped", &self.skipped)?;
        f.write_str(", ")?;
        write_counts(f, self.merged(), "merged", &self.merged)?;
        match self.file_errors {
            0 => {}
            1 => f.write_str("; 1 unreadable file")?,
            n => write!(f, "; {n} unreadable files")?,
        }
        match self.omitted() {
            0 => Ok(()),
            n => {
                let word = if n == 1 { "diagnostic" } else { "diagnostics" };
                f.write_str("; ")?;
                write_counts(
                    f,
                    n,
                    &format!("{word} not kept in the report"),
                    &self.omitted,
                )
            }
        }
    }
}
