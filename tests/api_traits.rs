//! The public types can cross threads and survive a caught panic: every
//! `Send`, `Sync`, `UnwindSafe` and `RefUnwindSafe` promise of the API in
//! one place. The checks are made by the compiler: losing one of them is a
//! breaking change for an embedder, and a change that does fails to build
//! here.

use std::error::Error;
use std::panic::{RefUnwindSafe, UnwindSafe};

use indset::format::{Container, FormatError, SectionId, Writer};
use indset::reference::RefVerdict;
use indset::{AppConfigError, IndicatorSet, JsonError, Mapped, SetGuard, SharedSet};
use indset::{
    Decision, ExplainedMatch, Explanation, Hit, IndicatorInfo, Mode, ParseModeError, Role, Stats,
    Verdict,
};

fn thread_safe<T: Send + Sync>() {}

fn unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}

/// An error an embedder can box, send to another thread and chain.
fn error<T: Error + Send + Sync + 'static>() {}

#[test]
fn sets_and_answers_cross_threads() {
    // The set over each kind of bytes it is documented to hold.
    thread_safe::<IndicatorSet<Vec<u8>>>();
    thread_safe::<IndicatorSet<&'static [u8]>>();
    thread_safe::<IndicatorSet<indset::Mapped>>();
    // The hot swap: lookups on many threads while one replaces the set.
    thread_safe::<SharedSet<indset::Mapped>>();
    thread_safe::<SharedSet<Vec<u8>>>();
    thread_safe::<SetGuard<IndicatorSet<Mapped>>>();
    thread_safe::<Mapped>();
    // What a lookup returns.
    thread_safe::<Verdict>();
    thread_safe::<Decision>();
    thread_safe::<Mode>();
    thread_safe::<Hit>();
    thread_safe::<IndicatorInfo>();
    thread_safe::<Explanation>();
    thread_safe::<ExplainedMatch>();
    thread_safe::<Role>();
    thread_safe::<Stats>();
    thread_safe::<RefVerdict>();
    // The container.
    thread_safe::<Container<'static>>();
    thread_safe::<Writer>();
    thread_safe::<SectionId>();
}

#[test]
fn sets_and_answers_survive_a_caught_panic() {
    unwind_safe::<IndicatorSet<Vec<u8>>>();
    unwind_safe::<IndicatorSet<&'static [u8]>>();
    unwind_safe::<IndicatorSet<indset::Mapped>>();
    unwind_safe::<SharedSet<indset::Mapped>>();
    unwind_safe::<SharedSet<Vec<u8>>>();
    unwind_safe::<Mapped>();
    unwind_safe::<Verdict>();
    unwind_safe::<Decision>();
    unwind_safe::<Mode>();
    unwind_safe::<Hit>();
    unwind_safe::<IndicatorInfo>();
    unwind_safe::<Explanation>();
    unwind_safe::<ExplainedMatch>();
    unwind_safe::<Role>();
    unwind_safe::<Stats>();
    unwind_safe::<RefVerdict>();
    unwind_safe::<Container<'static>>();
    unwind_safe::<Writer>();
    unwind_safe::<SectionId>();
}

#[test]
fn errors_can_be_boxed_sent_and_chained() {
    error::<FormatError>();
    error::<ParseModeError>();
    error::<AppConfigError>();
    thread_safe::<JsonError>();
    unwind_safe::<ParseModeError>();
    // `FormatError` and `AppConfigError` carry an `std::io::Error` (the
    // latter inside `serde_json::Error`), which is not unwind safe.
}
