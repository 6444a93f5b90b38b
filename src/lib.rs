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
//! use indset::{Compiler, Decision, Format, IndicatorSet, Mode, Options, Timestamp};
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
//! assert_eq!(set.check_at("https://www.example.com/", Mode::Full, now).decision, Decision::Block);
//! assert_eq!(set.check_at("https://EXAMPLE.com:443/help/faq", Mode::Full, now).decision, Decision::Allow);
//! // A device that sees only host names never applies path indicators.
//! assert_eq!(set.check_at("example.com", Mode::Domain, now).decision, Decision::Block);
//! // `check` reads the system clock, only when a match has an expiration.
//! assert_eq!(set.check("example.org", Mode::Domain).decision, Decision::None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The API
//!
//! Everything an embedder needs is at the crate root:
//!
//! - Compiling: [`Compiler`] (with [`Options`] and the input [`Format`])
//!   gives [`Compiled`] bytes and a [`Report`] of every input row
//!   ([`Diagnostic`], [`Code`]).
//! - Looking up: [`IndicatorSet`] over any bytes, or a [`Mapped`] file
//!   ([`IndicatorSet::open`]); [`IndicatorSet::check`] and
//!   [`IndicatorSet::check_at`] answer a [`Verdict`] whose [`Decision`]
//!   says what to do, in a [`Mode`] that [`AppConfig::mode`] gives.
//! - Reports: [`IndicatorSet::info`] ([`IndicatorInfo`]),
//!   [`IndicatorSet::explain`] ([`Explanation`]), [`IndicatorSet::stats`].
//! - Hot swapping: [`SharedSet`], its [`SetGuard`].
//! - Flows: [`IndicatorSet::check_flow`] decides from a connection's first
//!   bytes (TLS, HTTP/1.x, DNS, QUIC); [`flow`] has the parts.
//! - Errors: [`FormatError`], [`AppConfigError`], [`ParseModeError`].
//!
//! Two modules hold the rest of the input side: [`ingest`] (the input
//! formats, the [`Ingester`](ingest::Ingester) under [`Compiler`]) and
//! [`canon`] (host and URL canonicalisation, shared by indicators and
//! queries).
//!
//! # Internals
//!
//! With the `internals` feature (off by default; for indset's own tests,
//! fuzz targets and benchmarks, not a stable API) three more modules are
//! public: `format`, the `.indset` file format (the container, its
//! `Container` reader and `Writer`, `map`, the section ids and the layout
//! of every section); `compile`, which adds `build` (canonical indicators
//! to bytes, without ingestion) and `key` (an indicator's key); and
//! `reference`, the naive linear-scan matcher that the set is tested
//! against.
#![deny(missing_docs)]
#![deny(unsafe_code)]

mod appconfig;
pub mod canon;
#[cfg(all(feature = "compile", any(test, feature = "internals")))]
pub mod compile;
#[cfg(all(feature = "compile", not(any(test, feature = "internals"))))]
mod compile;
mod diag;
pub mod flow;
#[cfg(any(test, feature = "internals"))]
pub mod format;
#[cfg(not(any(test, feature = "internals")))]
mod format;
mod indicator;
#[cfg(feature = "compile")]
pub mod ingest;
#[cfg(feature = "compile")]
mod prefetch;
#[cfg(any(test, feature = "internals"))]
pub mod reference;
mod set;
mod swap;
mod verdict;

pub use appconfig::{AppConfig, AppConfigError, JsonError};
#[cfg(feature = "compile")]
pub use compile::{Compiled, Compiler};
pub use diag::{Code, Diagnostic, Level, Outcome};
pub use flow::{FlowStatus, FlowVerdict, Inspection, Protocol, Transport};
pub use format::{FormatError, Mapped, Region, SectionId};
pub use indicator::{Action, Indicator, Kind, Meta, MetaBox, Severity, Source, Timestamp};
#[cfg(feature = "compile")]
pub use ingest::{Format, Options, Report};
pub use set::IndicatorSet;
pub use swap::{SetGuard, SharedSet};
pub use verdict::{
    Decision, ExplainedMatch, Explanation, Hit, IndicatorInfo, Mode, ParseModeError, Role, Stats,
    Verdict,
};
