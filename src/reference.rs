//! A deliberately naive reference matcher, written straight from the
//! matching rules (`docs/matching.md`): a linear scan over every indicator. Tests, fuzz targets and benchmarks
//! compare [`IndicatorSet`](crate::set::IndicatorSet) against it; nothing
//! else should use it (it allocates and is O(indicators) per lookup).

use crate::canon;
use crate::indicator::{Action, Indicator, Kind, Timestamp};
use crate::verdict::{Decision, Mode};

/// The reference answer: like [`Verdict`](crate::verdict::Verdict), but the
/// indicators are indexes into the slice that was scanned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefVerdict {
    /// What to do.
    pub decision: Decision,
    /// The index of the deciding indicator.
    pub indicator: Option<usize>,
    /// The index of the reported audit indicator.
    pub audit: Option<usize>,
    /// The query could not be parsed.
    pub invalid: bool,
}

/// The canonical query: host, path (without query) and path with query.
struct Query {
    host: String,
    path: String,
    path_and_query: String,
}

fn canonical_query(query: &[u8], mode: Mode) -> Result<Option<Query>, canon::CanonError> {
    match mode {
        Mode::Domain => {
            let mut out = [0u8; canon::HOST_BUF_LEN];
            let (kind, n) = canon::query_host(query, &mut out)?;
            if kind.is_ip() {
                return Ok(None);
            }
            Ok(Some(Query {
                host: String::from_utf8_lossy(&out[..n]).into_owned(),
                path: "/".into(),
                path_and_query: "/".into(),
            }))
        }
        Mode::Full => {
            // Big enough that nothing is ever truncated: the reference sees
            // the whole canonical URL.
            let mut buf = vec![0u8; query.len() * 3 + 1024];
            let u = canon::url(query, &mut buf)?;
            if u.host_kind.is_ip() {
                return Ok(None);
            }
            Ok(Some(Query {
                host: u.host.to_string(),
                path: u.path().to_string(),
                path_and_query: u.path_and_query.to_string(),
            }))
        }
    }
}

/// Does indicator `ind` match the query? (`docs/matching.md`, Kinds of
/// indicator, Paths and queries, Modes)
fn matches(ind: &Indicator, q: &Query, mode: Mode) -> bool {
    match ind.kind {
        Kind::DomainName => {
            q.host == ind.host
                || (q.host.len() > ind.host.len()
                    && q.host.ends_with(&ind.host)
                    && q.host.as_bytes()[q.host.len() - ind.host.len() - 1] == b'.')
        }
        Kind::Url => {
            if q.host != ind.host {
                return false;
            }
            let p = ind.path.as_str();
            if mode == Mode::Domain {
                return p == "/";
            }
            if p.contains('?') {
                q.path_and_query.starts_with(p)
            } else {
                q.path == p
                    || (p.ends_with('/') && q.path.starts_with(p))
                    || q.path.starts_with(&format!("{p}/"))
            }
        }
    }
}

/// How specific a match is; larger is more specific (`docs/matching.md`, Which indicator decides).
fn specificity(ind: &Indicator) -> (u8, usize) {
    match ind.kind {
        Kind::Url => (1, ind.path.len()),
        Kind::DomainName => (0, ind.host.split('.').count()),
    }
}

/// How long an indicator applies: its expiration, or for ever.
fn lives_until(ind: &Indicator) -> i128 {
    ind.meta.expiration.map_or(i128::MAX, |e| i128::from(e.0))
}

/// Among indicators with the same key, whether the one at `a` goes before
/// the one at `b`: the stronger action (Allow > Warn > Block > Audit),
/// then the longer-lived, then the earlier in the list.
fn goes_before(inds: &[Indicator], a: usize, b: usize) -> bool {
    let rank = |i: usize| (inds[i].action, std::cmp::Reverse(lives_until(&inds[i])), i);
    rank(a) < rank(b)
}

fn same_key(a: &Indicator, b: &Indicator) -> bool {
    a.kind == b.kind && a.host == b.host && a.path == b.path
}

/// The verdict for `query` at `now`, by scanning every indicator.
///
/// `indicators` are canonical (as ingestion validates them) and may share
/// keys: the list as written, before duplicates and conflicts are merged.
/// At each instant, of the live indicators with one key only the first
/// (see `goes_before`) counts, so the answer at every `now` is the one a
/// set compiled from the whole list must give. An unparsable query gives
/// `None` with `invalid` set; an IP-literal host matches nothing.
pub fn check(indicators: &[Indicator], query: &[u8], mode: Mode, now: Timestamp) -> RefVerdict {
    let q = match canonical_query(query, mode) {
        Err(_) => {
            return RefVerdict {
                invalid: true,
                ..RefVerdict::default()
            };
        }
        Ok(None) => return RefVerdict::default(),
        Ok(Some(q)) => q,
    };
    let live = |ind: &Indicator| ind.meta.expiration.is_none_or(|e| e > now);
    let mut decider: Option<usize> = None;
    let mut audit: Option<usize> = None;
    for (i, ind) in indicators.iter().enumerate() {
        if !live(ind) || !matches(ind, &q, mode) {
            continue;
        }
        let outranked = indicators.iter().enumerate().any(|(j, other)| {
            j != i && live(other) && same_key(ind, other) && goes_before(indicators, j, i)
        });
        if outranked {
            continue;
        }
        let slot = if ind.action == Action::Audit {
            &mut audit
        } else {
            &mut decider
        };
        if slot.is_none_or(|j| specificity(ind) > specificity(&indicators[j])) {
            *slot = Some(i);
        }
    }
    let decision = match (decider, audit) {
        (Some(i), _) => Decision::from(indicators[i].action),
        (None, Some(_)) => Decision::Audit,
        (None, None) => Decision::None,
    };
    RefVerdict {
        decision,
        indicator: decider,
        audit,
        invalid: false,
    }
}
