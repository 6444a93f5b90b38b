//! The merge of rows that share a key: duplicates, conflicts between
//! actions, and when a row that loses starts to decide.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use hashbrown::HashTable;

use super::report::Report;
use super::sink::Sink;
use super::time::format_timestamp;
use super::validate;
use crate::diag::{Code, Diagnostic};
use crate::indicator::{Indicator, Timestamp};

/// The hash of an indicator's canonical key (kind, host, path).
fn key_hash(ind: &Indicator) -> u64 {
    let mut h = FxHasher::default();
    ind.kind.hash(&mut h);
    ind.host.hash(&mut h);
    ind.path.hash(&mut h);
    h.finish()
}

fn same_key(a: &Indicator, b: &Indicator) -> bool {
    a.kind == b.kind && a.host == b.host && a.path == b.path
}

/// A fast non-cryptographic hasher (the FxHash mix) for the set of accepted
/// keys. The keys are canonical hosts and paths from the administrator's own
/// indicator files being compiled, not requests from the network, so
/// resistance to hash flooding (SipHash's purpose) buys nothing here,
/// while the hash runs once per row (BENCHMARKS.md, Measurements behind
/// choices in the code).
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Ingestion state shared by all inputs of one [`Ingester`](super::Ingester).
#[derive(Default)]
pub(super) struct State {
    pub(super) report: Report,
    /// The accepted indicators, one per canonical key, in the order their
    /// key was first accepted.
    pub(super) accepted: Vec<Indicator>,
    /// `(key hash, index into accepted)`: finds duplicates without a second
    /// copy of the key, and grows without moving the indicators.
    pub(super) index: HashTable<(u64, u32)>,
    /// For a key written with other actions besides the one in
    /// `accepted` (by its index there): the longest-lived row of each
    /// other action, in order of action. They decide once the rows before
    /// them expire; a key holds at most one row per action.
    pub(super) others: BTreeMap<u32, Vec<Held>>,
}

/// A row held for after the rows before it expire. Its `conflict`
/// diagnostic waits until what it says is final: when a later row makes
/// it never apply, or when the ingestion finishes (a later row can still
/// move the instant it starts to apply).
pub(super) struct Held {
    pub(super) ind: Indicator,
    pending: bool,
}

impl State {
    /// The `conflict` diagnostics still waiting, with what the rows of
    /// each key finally say: from when each applies.
    pub(super) fn pending_diagnostics(&mut self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for (&at, others) in &mut self.others {
            let head = &self.accepted[at as usize];
            let chain: Vec<&Indicator> = std::iter::once(head)
                .chain(others.iter().map(|h| &h.ind))
                .collect();
            for (i, held) in others.iter().enumerate() {
                if held.pending {
                    out.push(conflict(&held.ind, &chain[..=i], head));
                }
            }
            for held in others.iter_mut() {
                held.pending = false;
            }
        }
        out
    }
}

/// The `conflict` diagnostic of `loser`, whose key's rows before it are
/// `before` (in order of precedence), the first of them `winner`.
fn conflict(loser: &Indicator, before: &[&Indicator], winner: &Indicator) -> Diagnostic {
    let tail = match applies_from(before, loser) {
        Some(from) => format!(
            "; it applies from {}, when the rows before it have expired",
            format_timestamp(from)
        ),
        None => "; remove the row you do not mean".to_string(),
    };
    let message = format!(
        "`{}`: {} here loses to {} at {}:{} (Allow > Warn > Block > Audit){tail}",
        validate::shown(&loser.value()),
        loser.action,
        winner.action,
        winner.source.file,
        winner.source.line
    );
    Diagnostic::new(
        &loser.source.file,
        loser.source.line,
        Code::Conflict,
        message,
    )
}

/// When a row that loses to `before` (the rows of its key that precede
/// it, in order of precedence) starts to decide: after the last of them
/// expires; `None` when one of them never expires or outlives it.
fn applies_from(before: &[&Indicator], ind: &Indicator) -> Option<Timestamp> {
    let horizon = before.iter().map(|i| i.lives_until()).max()?;
    (horizon < ind.lives_until()).then_some(Timestamp(horizon as i64))
}

/// The `ignored-value` warning `note` of `ind`, as a diagnostic.
fn ignored_value(ind: &Indicator, note: Option<String>) -> Option<Diagnostic> {
    note.map(|message| {
        Diagnostic::new(
            &ind.source.file,
            ind.source.line,
            Code::IgnoredValue,
            message,
        )
    })
}

impl Sink<'_> {
    /// Accepts `new` or merges it into the row of the same key read
    /// before. `note` is its `ignored-value` warning, reported when the
    /// row is applied (a new key, or the winner of a conflict).
    pub(super) fn accept(&mut self, new: Indicator, note: Option<String>) {
        let state = &mut *self.state;
        let hash = key_hash(&new);
        let accepted = &state.accepted;
        let found = state
            .index
            .find(hash, |&(h, i)| {
                h == hash && same_key(&accepted[i as usize], &new)
            })
            .map(|&(_, i)| i as usize);
        let Some(at) = found else {
            self.ignored(&new, note);
            if let Some(message) = validate::public_suffix(&new) {
                self.state.report.public_suffixes += 1;
                self.diag_at(&new, Code::PublicSuffix, message);
            }
            let state = &mut *self.state;
            state.report.accepted += 1;
            let at = u32::try_from(state.accepted.len())
                .expect("fewer than 2^32 indicators are accepted");
            state.accepted.push(new);
            state.index.insert_unique(hash, (hash, at), |&(h, _)| h);
            return;
        };
        let value = validate::shown(&new.value());
        let at32 = at as u32;
        let state = &mut *self.state;
        let head = &state.accepted[at];
        // The row of the same action held for this key, if any.
        let same = if head.action == new.action {
            Some(None)
        } else {
            state
                .others
                .get(&at32)
                .and_then(|o| o.iter().position(|h| h.ind.action == new.action).map(Some))
        };
        if let Some(slot) = same {
            let held = match slot {
                None => &state.accepted[at],
                Some(k) => &state.others[&at32][k].ind,
            };
            let longer = new.lives_until() > held.lives_until();
            let (kept, dropped) = if longer { (&new, held) } else { (held, &new) };
            let message = if longer {
                format!(
                    "`{value}` ({}) is again at {}:{}, which {}; remove this row",
                    new.action,
                    kept.source.file,
                    kept.source.line,
                    match kept.meta.expiration {
                        None => "never expires".to_string(),
                        Some(e) => format!("expires later ({})", format_timestamp(e)),
                    }
                )
            } else {
                format!(
                    "`{value}` ({}) is already at {}:{}; remove this row",
                    new.action, kept.source.file, kept.source.line
                )
            };
            let (file, line) = (Arc::clone(&dropped.source.file), dropped.source.line);
            state.report.count(Code::Duplicate);
            self.emit(Diagnostic::new(&file, line, Code::Duplicate, message));
            if !longer {
                return;
            }
            self.ignored(&new, note);
            let state = &mut *self.state;
            match slot {
                None => state.accepted[at] = new,
                Some(k) => {
                    if let Some(o) = state.others.get_mut(&at32) {
                        // The replaced row has its `duplicate`; its waiting
                        // `conflict` passes to the row that takes its place.
                        o[k].ind = new;
                    }
                }
            }
            self.prune(at);
            return;
        }
        // Another action: the row joins the key's rows in order of action,
        // the loser (the old first row, or the new one) waiting for its
        // `conflict` until it is final; then the rows that can never apply
        // go.
        state.report.count(Code::Conflict);
        // The new row's `ignored-value`, reported if the row stays.
        let ignored = ignored_value(&new, note);
        let mut others = state.others.remove(&at32).unwrap_or_default();
        let new_first = new.action < state.accepted[at].action;
        let placed = if new_first {
            let old = std::mem::replace(&mut state.accepted[at], new);
            others.insert(
                0,
                Held {
                    ind: old,
                    pending: true,
                },
            );
            None
        } else {
            let k = others.partition_point(|h| h.ind.action < new.action);
            others.insert(
                k,
                Held {
                    ind: new,
                    pending: true,
                },
            );
            Some(k)
        };
        state.others.insert(at32, others);
        let kept = self.prune(at);
        let new_kept = match placed {
            None => true,
            Some(k) => kept.get(k).copied().unwrap_or(false),
        };
        if new_kept {
            self.report_ignored(ignored);
        }
    }

    /// Drops the rows of key `at` that can never apply (each row must
    /// outlive every row before it), emitting their waiting `conflict`;
    /// returns, for each row held after the first before the drop, whether
    /// it stays.
    fn prune(&mut self, at: usize) -> Vec<bool> {
        let at32 = at as u32;
        let Some(mut others) = self.state.others.remove(&at32) else {
            return Vec::new();
        };
        let head = &self.state.accepted[at];
        let mut horizon = head.lives_until();
        let keep: Vec<bool> = others
            .iter()
            .map(|h| {
                let until = h.ind.lives_until();
                let stays = until > horizon;
                horizon = horizon.max(until);
                stays
            })
            .collect();
        let mut dropped = Vec::new();
        for (i, held) in others.iter().enumerate() {
            if !keep[i] && held.pending {
                let mut before: Vec<&Indicator> = vec![head];
                before.extend(others[..i].iter().map(|h| &h.ind));
                dropped.push(conflict(&held.ind, &before, head));
            }
        }
        let mut k = keep.iter();
        others.retain(|_| k.next().copied().unwrap_or(false));
        if !others.is_empty() {
            self.state.others.insert(at32, others);
        }
        for d in dropped {
            self.emit(d);
        }
        keep
    }

    /// Reports the `ignored-value` warning of a row that is applied.
    fn ignored(&mut self, ind: &Indicator, note: Option<String>) {
        self.report_ignored(ignored_value(ind, note));
    }

    fn report_ignored(&mut self, warning: Option<Diagnostic>) {
        if let Some(d) = warning {
            self.state.report.ignored_values += 1;
            self.emit(d);
        }
    }

    fn diag_at(&mut self, ind: &Indicator, code: Code, message: String) {
        let d = Diagnostic::new(&ind.source.file, ind.source.line, code, message);
        self.emit(d);
    }
}
