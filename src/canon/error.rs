//! The error of the host and URL rules.

use crate::diag::Code;

/// Why a host or URL was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CanonError {
    /// The stable code: `wildcard`, `invalid-host`, `unsupported-scheme`.
    pub code: Code,
    /// A short lower-case reason, for the diagnostic message.
    pub reason: &'static str,
}
