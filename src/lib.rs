//! `indset` compiles URL and domain threat indicators into an immutable,
//! memory-mappable set and answers, for each connection a device makes,
//! whether to block, warn, allow or audit it.
#![deny(missing_docs)]

pub mod appconfig;
pub mod build;
pub mod canon;
pub mod compile;
pub mod diag;
pub mod format;
pub mod indicator;
pub mod ingest;
pub mod reference;
pub mod set;
pub mod swap;
pub mod verdict;

pub use diag::{Code, Diagnostic, Level, Outcome};
pub use indicator::{Action, Indicator, Kind, Meta, Severity, Source, Timestamp};
