//! The merge of rows that share a key: duplicates, conflicts between
//! actions, and when a row that loses starts to decide.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::report::Report;
use super::sink::Sink;
use super::time::format_timestamp;
use super::validate;
use crate::diag::{Code, Diagnostic};
use crate::indicator::{Indicator, Timestamp};

/// The hash of an indicator's canonical key (kind, host, path).
pub(super) fn key_hash(ind: &Indicator) -> u64 {
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

/// The accepted keys by hash, to find a row's earlier row of the same
/// key: an open-addressing table of 8-byte slots, each the upper half of
/// a key's hash above its index in `accepted` plus one (0: empty), probed
/// linearly from the slot the hash's top bits name, at most 3/4 full.
///
/// Written here rather than taken from `hashbrown` (16-byte entries of
/// hash and index, and a control byte each) for two reasons, measured on
/// the 10M compile: a slot of half the size halves the table's fresh
/// pages and its cache misses, and the slot of a row can be asked for
/// ([`KeyTable::prefetch`]) while the rows before it are counted, which
/// `hashbrown` does not offer (BENCHMARKS.md, Measurements behind choices
/// in the code).
#[derive(Default)]
pub(super) struct KeyTable {
    slots: Vec<u64>,
    /// `slots.len()` is `2^bits` (or 0 before the first key).
    bits: u32,
    len: usize,
}

/// The first table: 1,024 slots.
const MIN_BITS: u32 = 10;

impl KeyTable {
    /// The slot a key of hash `hash` is looked for from.
    fn home(&self, hash: u64) -> usize {
        home(hash >> 32, self.bits)
    }

    /// Asks for the cache line of the slot of `hash`, ahead of
    /// [`KeyTable::find_or_insert`].
    pub(super) fn prefetch(&self, hash: u64) {
        if !self.slots.is_empty() {
            crate::prefetch::prefetch(&self.slots, self.home(hash));
        }
    }

    /// The index of the key of hash `hash` for which `same` says yes;
    /// when there is none, files `new` (below `u32::MAX`) as that key's
    /// index and gives `None`.
    pub(super) fn find_or_insert(
        &mut self,
        hash: u64,
        new: u32,
        same: impl Fn(u32) -> bool,
    ) -> Option<u32> {
        assert!(new < u32::MAX, "fewer than 2^32 - 1 keys are accepted");
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let tag = hash >> 32;
        let mask = self.slots.len() - 1;
        let mut at = self.home(hash);
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                self.slots[at] = (tag << 32) | (u64::from(new) + 1);
                self.len += 1;
                return None;
            }
            if slot >> 32 == tag {
                let index = (slot as u32) - 1;
                if same(index) {
                    return Some(index);
                }
            }
            at = (at + 1) & mask;
        }
    }

    /// Doubles the table (from nothing to [`MIN_BITS`]): every slot moves
    /// to the run of its home in the larger table, found from its tag.
    fn grow(&mut self) {
        let bits = if self.slots.is_empty() {
            MIN_BITS
        } else {
            self.bits + 1
        };
        // A home is the top `bits` of a 32-bit tag.
        assert!(bits <= 32, "fewer than 3 * 2^30 keys are accepted");
        let old = std::mem::replace(&mut self.slots, vec![0; 1 << bits]);
        self.bits = bits;
        let mask = self.slots.len() - 1;
        for slot in old.into_iter().filter(|&s| s != 0) {
            let mut at = home(slot >> 32, bits);
            while self.slots[at] != 0 {
                at = (at + 1) & mask;
            }
            self.slots[at] = slot;
        }
    }
}

/// The home slot of a key whose hash's upper half is `tag`, in a table of
/// `2^bits` slots: the tag's top `bits` bits.
fn home(tag: u64, bits: u32) -> usize {
    (tag >> (32 - bits)) as usize
}

/// Ingestion state shared by all inputs of one [`Ingester`](super::Ingester).
#[derive(Default)]
pub(super) struct State {
    pub(super) report: Report,
    /// The accepted indicators, one per canonical key, in the order their
    /// key was first accepted.
    pub(super) accepted: Vec<Indicator>,
    /// The index into `accepted` of each key: finds duplicates without a
    /// second copy of the key, and grows without moving the indicators.
    pub(super) index: KeyTable,
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
    /// `hash` is the key's [`key_hash`].
    pub(super) fn accept(&mut self, new: Indicator, note: Option<String>, hash: u64) {
        let state = &mut *self.state;
        let accepted = &state.accepted;
        let next = u32::try_from(accepted.len()).expect("fewer than 2^32 indicators are accepted");
        let found = state
            .index
            .find_or_insert(hash, next, |i| same_key(&accepted[i as usize], &new))
            .map(|i| i as usize);
        let Some(at) = found else {
            self.ignored(&new, note);
            if let Some(message) = validate::public_suffix(&new) {
                self.state.report.public_suffixes += 1;
                self.diag_at(&new, Code::PublicSuffix, message);
            }
            let state = &mut *self.state;
            state.report.accepted += 1;
            state.accepted.push(new);
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Files `keys` in order (each `(hash, key)`) and gives what
    /// `find_or_insert` answered for each: the index of the first equal
    /// key, or `None` for a new one.
    fn file(keys: &[(u64, u32)]) -> (Vec<Option<u32>>, KeyTable) {
        let mut table = KeyTable::default();
        let mut filed: Vec<u32> = Vec::new();
        let answers = keys
            .iter()
            .map(|&(hash, key)| {
                let next = filed.len() as u32;
                let found = table.find_or_insert(hash, next, |i| filed[i as usize] == key);
                if found.is_none() {
                    filed.push(key);
                }
                found
            })
            .collect();
        (answers, table)
    }

    /// What a map from key to first index answers for the same keys.
    fn expected(keys: &[(u64, u32)]) -> Vec<Option<u32>> {
        let mut first = std::collections::HashMap::new();
        keys.iter()
            .map(|&(_, key)| {
                let next = first.len() as u32;
                match first.entry(key) {
                    std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(next);
                        None
                    }
                }
            })
            .collect()
    }

    #[test]
    fn equal_hashes_of_different_keys_are_told_apart() {
        // Every key has the same hash: one run of slots, grown through
        // three doublings, each key found by `same` alone.
        let keys: Vec<(u64, u32)> = (0..3_000u32)
            .chain(0..3_000)
            .map(|k| (0xdead_beef_0000_0001, k))
            .collect();
        let (answers, table) = file(&keys);
        assert_eq!(answers, expected(&keys));
        assert_eq!(table.len, 3_000);
        assert_eq!(table.slots.len(), 1 << 12);
    }

    #[test]
    fn the_table_stays_at_most_three_quarters_full() {
        let keys: Vec<(u64, u32)> = (0..100_000u32)
            .map(|k| (u64::from(k).wrapping_mul(FX_SEED), k))
            .collect();
        let (answers, table) = file(&keys);
        assert!(answers.iter().all(Option::is_none));
        assert_eq!(table.len, 100_000);
        assert_eq!(table.slots.len(), 1 << 18);
        assert_eq!(table.slots.iter().filter(|&&s| s != 0).count(), 100_000);
    }

    proptest! {
        /// The table answers as a map from key to first index, whatever
        /// the hashes: shared hashes, equal upper halves with different
        /// lower ones.
        #[test]
        fn answers_as_a_map(keys in prop::collection::vec(0u32..400, 0..3_000), spread in 0u32..6) {
            let keys: Vec<(u64, u32)> = keys
                .into_iter()
                .map(|key| {
                    // A hash of the key alone, from few values: keys share
                    // whole hashes, or upper halves with different lower
                    // ones, and their runs of slots meet.
                    let hash = (u64::from(key % (spread + 1)) << 40) | u64::from(key % 3);
                    (hash, key)
                })
                .collect();
            let (answers, _) = file(&keys);
            prop_assert_eq!(answers, expected(&keys));
        }
    }
}
