//! `indset` compiles URL and domain threat indicators into an immutable,
//! memory-mappable set and answers, for each connection a device makes,
//! whether to block, warn, allow or audit it.
//!
//! # Example
//!
//! Compile a few indicators, then look up URLs (full mode, supervised
//! devices) and host names (domain mode, unsupervised devices):
//!
//! ```
//! use indset::compile::Compiler;
//! use indset::ingest::{Format, Options};
//! use indset::set::IndicatorSet;
//! use indset::verdict::{Decision, Mode};
//! use indset::Timestamp;
//!
//! let now = Timestamp(1_780_000_000);
//! let csv = "\
//! IndicatorType,IndicatorValue,Action,Title
//! DomainName,example.com,Block,Known bad
//! Url,https://example.com/help,Allowed,Help pages
//! DomainName,1.2.3.4,Block,An IP
//! ";
//! let mut compiler = Compiler::new(Options::at(now));
//! compiler.add_reader("portal.csv", csv.as_bytes(), Format::Csv)?;
//! let compiled = compiler.finish();
//! // Every row is accounted for; the IP indicator is rejected with a reason.
//! assert_eq!(compiled.report.accepted(), 2);
//! assert_eq!(compiled.report.rejected(), 1);
//! assert_eq!(
//!     compiled.report.diagnostics()[0].to_string(),
//!     "portal.csv:4: error[ip-indicator]: `1.2.3.4` has the IP address 1.2.3.4 \
//!      as its host; IP indicators are not supported on mobile: use the host name instead",
//! );
//!
//! let set = IndicatorSet::from_bytes(compiled.bytes)?;
//! // The more specific Url indicator wins over the domain.
//! assert_eq!(set.check("https://www.example.com/", Mode::Full, now).action, Decision::Block);
//! assert_eq!(set.check("https://EXAMPLE.com:443/help/faq", Mode::Full, now).action, Decision::Allow);
//! // A device that sees only host names never applies path indicators.
//! assert_eq!(set.check("example.com", Mode::Domain, now).action, Decision::Block);
//! assert_eq!(set.check("example.org", Mode::Domain, now).action, Decision::None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Where things are
//!
//! - [`ingest`]: the four input formats, validation, the row accounting.
//! - [`canon`]: host and URL canonicalisation, shared by indicators and
//!   queries.
//! - [`compile`]: the writer, with [`Compiler`](compile::Compiler) as its
//!   front door.
//! - [`format`](mod@format): the `.indset` file format (the container, its
//!   verification and the layout of every section), shared by the writer
//!   and the reader.
//! - [`set`]: [`IndicatorSet`](set::IndicatorSet), the lookups;
//!   [`verdict`]: what a lookup answers.
//! - [`swap`]: hot swapping a set while lookups run.
//! - [`appconfig`]: the managed app configuration of the device.
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod appconfig;
pub mod canon;
#[cfg(feature = "compile")]
pub mod compile;
pub mod diag;
pub mod format;
pub mod indicator;
#[cfg(feature = "compile")]
pub mod ingest;
pub mod reference;
pub mod set;
pub mod swap;
pub mod verdict;

pub use diag::{Code, Diagnostic, Level, Outcome};
pub use indicator::{Action, Indicator, Kind, Meta, Severity, Source, Timestamp};
