//! The matcher's tests' fixtures: indicators from short strings, and a
//! comparison of a compiled set against the reference matcher.

use std::sync::Arc;

use indset::IndicatorSet;
use indset::compile::build;
use indset::reference::{self, RefVerdict};
use indset::{Action, Decision, Indicator, Kind, Mode, Timestamp, Verdict};

/// The time the tables look up at.
pub const NOW: Timestamp = Timestamp(1_700_000_000);

/// A canonical indicator from a value as a user writes it; `None` when the
/// canonicaliser rejects it.
/// Its source is line `line` of a file named `test`.
pub fn try_ind(kind: Kind, value: &str, action: Action, line: u64) -> Option<Indicator> {
    crate::data::indicator(kind, value, action, &Arc::from("test"), line)
}

/// Like [`try_ind`], panicking on a rejected value (tables only).
pub fn ind(kind: Kind, value: &str, action: Action) -> Indicator {
    try_ind(kind, value, action, 1).unwrap_or_else(|| panic!("rejected: {value}"))
}

/// Sets `expiration` on an indicator.
pub fn expiring(mut i: Indicator, at: i64) -> Indicator {
    i.meta.expiration = Some(Timestamp(at));
    i
}

/// An indicator as the tests name it: kind, `host/path`, action.
pub fn describe(i: &Indicator) -> String {
    format!("{} {}{} {}", i.kind, i.host, i.path, i.action)
}

/// The `(kind, value)` of what a verdict's hit names in the set.
pub fn hit_value<D: AsRef<[u8]>>(
    set: &IndicatorSet<D>,
    query: &str,
    mode: Mode,
    hit: Option<indset::Hit>,
) -> Option<(Kind, String)> {
    hit.map(|h| {
        let info = set.info(query.as_bytes(), mode, h);
        (info.kind, info.value)
    })
}

/// The `(kind, value)` of a reference hit.
pub fn ref_value(inds: &[Indicator], i: Option<usize>) -> Option<(Kind, String)> {
    i.map(|i| (inds[i].kind, inds[i].value()))
}

/// Set verdict and reference verdict in one comparable shape.
#[derive(Debug, PartialEq, Eq)]
pub struct Shape {
    pub action: Decision,
    pub indicator: Option<(Kind, String)>,
    pub audit: Option<(Kind, String)>,
    pub invalid: bool,
}

pub fn set_shape<D: AsRef<[u8]>>(
    set: &IndicatorSet<D>,
    v: Verdict,
    query: &str,
    mode: Mode,
) -> Shape {
    Shape {
        action: v.decision,
        indicator: hit_value(set, query, mode, v.indicator),
        audit: hit_value(set, query, mode, v.audit),
        invalid: v.invalid,
    }
}

pub fn ref_shape(inds: &[Indicator], v: RefVerdict) -> Shape {
    Shape {
        action: v.decision,
        indicator: ref_value(inds, v.indicator),
        audit: ref_value(inds, v.audit),
        invalid: v.invalid,
    }
}

/// Compiles `inds` into a set over a `Vec<u8>`.
pub fn compile(inds: &[Indicator]) -> IndicatorSet<Vec<u8>> {
    IndicatorSet::from_bytes(build(inds)).expect("a built set opens")
}

/// The set's and the reference's answers for one query.
pub fn both(
    set: &IndicatorSet<Vec<u8>>,
    inds: &[Indicator],
    query: &str,
    mode: Mode,
    now: Timestamp,
) -> (Shape, Shape) {
    let got = set_shape(set, set.check_at(query, mode, now), query, mode);
    let want = ref_shape(inds, reference::check(inds, query.as_bytes(), mode, now));
    (got, want)
}

/// Reads one input `name` with `opts`, as `indset compile` does, and
/// returns the indicators it accepts and the report, checking that every
/// row has one outcome.
pub fn ingest_with(
    opts: indset::Options,
    name: &str,
    bytes: &[u8],
    format: indset::Format,
) -> (Vec<Indicator>, indset::Report) {
    let mut ing = indset::ingest::Ingester::new(opts);
    ing.read(name, bytes, format)
        .expect("reading from memory never fails");
    let (v, r) = ing.finish();
    assert!(r.adds_up(), "{name}: {r}");
    (v, r)
}

/// The hosts of `v`, in order.
pub fn hosts(v: &[Indicator]) -> Vec<&str> {
    v.iter().map(|i| i.host.as_str()).collect()
}

/// The value and action of each of `v`, in order.
pub fn values(v: &[Indicator]) -> Vec<(String, Action)> {
    v.iter().map(|i| (i.value(), i.action)).collect()
}

/// The line and code of each diagnostic the report kept, in order.
pub fn lines(r: &indset::Report) -> Vec<(u64, indset::Code)> {
    r.diagnostics().iter().map(|d| (d.line, d.code)).collect()
}

/// A command's output bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The JSON objects a successful command printed, one a line.
pub fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}
