//! What indset's tests, benchmarks and examples share, in one dev-only
//! crate (never published):
//!
//! - [`data`]: the real indicator lists in `data/`, read with deliberately
//!   simple code, and a fixed-seed generator that grows them to a million;
//! - [`requests`]: the real request URLs of `data/` and their hosts;
//! - [`alloc`]: a counting global allocator, for the tests and benchmarks
//!   that promise how much a call allocates;
//! - [`rng`]: the fixed-seed random numbers every generator draws from;
//! - [`fixtures`]: indicators from short strings, and the comparison of a
//!   compiled set with the reference matcher.
//!
//! The root crate takes it as a dev-dependency; it depends on the library
//! without default features, so it never pulls in the command line.

pub mod alloc;
pub mod data;
pub mod fixtures;
pub mod requests;
pub mod rng;
