//! The reports on a set: what a lookup matched and why ([`explain`],
//! [`info`]), every indicator ([`iter`]) and the counts ([`stats`]). They
//! allocate; the lookup itself is in `set/lookup.rs`.
//!
//! [`explain`]: IndicatorSet::explain
//! [`info`]: IndicatorSet::info
//! [`iter`]: IndicatorSet::iter
//! [`stats`]: IndicatorSet::stats

use super::IndicatorSet;
use crate::canon;
use crate::format::hosts;
use crate::format::wire::{i64_at, str_at, u32_at};
use crate::format::{
    ACTION_MASK, ACTIONS, CHAINED, HAS_EXPIRATION, HAS_META, M_ALERT, M_ALERT_VALUE, M_CATEGORY,
    M_DESCRIPTION, M_EXPIRATION, M_GROUPS, M_ID, M_TITLE, SEVERITIES, SEVERITY_MASK,
    SEVERITY_SHIFT,
};
use crate::indicator::{Kind, Meta, Timestamp};
use crate::verdict::{ExplainedMatch, Explanation, Hit, IndicatorInfo, Mode, Role, Stats};

fn reversed(b: &[u8]) -> String {
    let v: Vec<u8> = b.iter().rev().copied().collect();
    String::from_utf8_lossy(&v).into_owned()
}

/// Splits a key into its kind and canonical value (`host` or `host/path`).
fn decode_key(key: &[u8]) -> (Kind, String) {
    match key.iter().position(|&b| b == b'/') {
        Some(slash) => {
            let mut v = reversed(&key[..slash]);
            v.push_str(&String::from_utf8_lossy(&key[slash..]));
            (Kind::Url, v)
        }
        None => (
            Kind::DomainName,
            reversed(key.strip_suffix(b".").unwrap_or(key)),
        ),
    }
}

/// The key (in the automaton's form: the host reversed, then `/` or `.`) of
/// `host`'s root `Url` key or `DomainName` key.
fn key_of_host(host: &[u8], kind: Kind) -> Vec<u8> {
    let mut key: Vec<u8> = host.iter().rev().copied().collect();
    key.push(if kind == Kind::Url { b'/' } else { b'.' });
    key
}

/// Why `winner` outranks `loser`, both matching the same query.
fn outranks(winner: Hit, loser: Hit) -> &'static str {
    match (winner.kind, loser.kind) {
        (Kind::Url, Kind::DomainName) => "Url beats DomainName",
        (Kind::Url, Kind::Url) => "longer path",
        _ => "more labels",
    }
}

impl<D: AsRef<[u8]>> IndicatorSet<D> {
    /// The details of the indicator a lookup of `query` in `mode` matched.
    ///
    /// The value is rebuilt from the query (the `hit` says how much of it
    /// the indicator covers) and checked against the set; a `hit` that does
    /// not belong to this set and query gives the details of whatever
    /// record it names, or an empty value when it names none. Allocates;
    /// meant for reports, not the per-flow path.
    pub fn info(&self, query: &[u8], mode: Mode, hit: Hit) -> IndicatorInfo {
        let mut key = None;
        let _ = self.with_canonical(query, mode, |host, path| {
            let value: Option<Vec<u8>> = match hit.kind {
                Kind::DomainName => host
                    .get(host.len().saturating_sub(hit.value_len())..)
                    .map(|h| h.to_vec()),
                Kind::Url => {
                    let pq = path.map_or(&b"/"[..], |p| p.bytes);
                    let rest = hit.value_len().checked_sub(host.len());
                    rest.and_then(|r| pq.get(..r)).map(|p| [host, p].concat())
                }
            };
            if let Some(v) = value {
                let k = match hit.kind {
                    Kind::DomainName => [v.iter().rev().copied().collect(), vec![b'.']].concat(),
                    Kind::Url => {
                        let slash = v.len() - (hit.value_len() - host.len());
                        [
                            v[..slash].iter().rev().copied().collect(),
                            v[slash..].to_vec(),
                        ]
                        .concat()
                    }
                };
                let first = self.first_record(&k).and_then(|f| usize::try_from(f).ok());
                if first.is_some_and(|f| self.chain(f).any(|r| r == hit.record as usize)) {
                    key = Some(k);
                }
            }
        });
        let key = key
            .or_else(|| {
                let head = self.chain_head(hit.record as usize);
                self.key_of(head)
            })
            .unwrap_or_default();
        self.record_info(hit.record as usize, &key)
    }

    fn record_info(&self, record: usize, key: &[u8]) -> IndicatorInfo {
        let (kind, value) = decode_key(key);
        let flags = self.records().flags(record).unwrap_or(0);
        let severity = ((flags >> SEVERITY_SHIFT) & SEVERITY_MASK) as usize;
        let mut meta = Meta {
            severity: severity
                .checked_sub(1)
                .and_then(|i| SEVERITIES.get(i).copied()),
            ..Meta::default()
        };
        if flags & HAS_META != 0 {
            if let Some(entry) = self.meta_entry(record) {
                read_meta(entry, &mut meta);
            }
        }
        IndicatorInfo {
            id: meta.id.clone().unwrap_or_else(|| self.id(record)),
            kind,
            value,
            action: ACTIONS[(flags & ACTION_MASK) as usize],
            meta,
        }
    }

    /// Every indicator matching `query` in `mode` at `now`, most specific
    /// first (expired ones and audits included), with the verdict and why.
    /// Allocates; meant for `indset explain`.
    pub fn explain(&self, query: impl AsRef<[u8]>, mode: Mode, now: Timestamp) -> Explanation {
        let query = query.as_ref();
        let verdict = self.check_at(query, mode, now);
        let mut hits = Vec::new();
        let mut canonical = None;
        let mut ip = false;
        let _ = self.with_canonical(query, mode, |host, path| {
            let mut c = String::from_utf8_lossy(host).into_owned();
            if let Some(p) = path {
                c.push_str(&String::from_utf8_lossy(p.bytes));
            }
            canonical = Some(c);
            self.walk(host, path, &mut |hit| hits.push(hit));
            hits.reverse();
            // The keys of the index that are in no other section come
            // after the automaton's, most specific first (a host filed a
            // level deeper may be offered again, later: kept once).
            self.index_keys(host, |c| {
                if !hits.contains(&c) {
                    hits.push(c);
                }
            });
        });
        if canonical.is_none() && !verdict.invalid {
            ip = true;
            canonical = canonical_ip(query, mode);
        }
        // Each key's records, in order of precedence; `waiting` when a
        // record before it of the same key has not expired.
        let mut records: Vec<(Hit, bool)> = Vec::with_capacity(hits.len());
        for hit in hits {
            let mut waiting = false;
            for record in self.chain(hit.record as usize) {
                let hit = Hit {
                    record: record as u32,
                    ..hit
                };
                records.push((hit, waiting));
                waiting |= !self.is_expired(hit, now);
            }
        }
        let live_deciders: Vec<Hit> = records
            .iter()
            .filter(|&&(h, waiting)| !waiting && !self.is_expired(h, now) && !self.is_audit(h))
            .map(|&(h, _)| h)
            .collect();
        let any_hit = !records.is_empty();
        let matches = records
            .iter()
            .map(|&(hit, waiting)| {
                let (role, reason) = if self.is_expired(hit, now) {
                    (Role::Expired, "expired")
                } else if waiting {
                    (
                        Role::Outranked,
                        "the same value again, applies once the one before expires",
                    )
                } else if Some(hit) == verdict.indicator {
                    (Role::Decided, "decides")
                } else if Some(hit) == verdict.audit {
                    (Role::Reported, "audit never decides")
                } else if self.is_audit(hit) {
                    let best = verdict.audit.unwrap_or(hit);
                    (Role::Outranked, outranks(best, hit))
                } else {
                    let best = verdict.indicator.unwrap_or(hit);
                    (Role::Outranked, outranks(best, hit))
                };
                ExplainedMatch {
                    hit,
                    info: self.info(query, mode, hit),
                    role,
                    reason,
                }
            })
            .collect();
        let reason = if verdict.invalid {
            "unparsable query"
        } else if ip {
            "IP literals match nothing"
        } else {
            match (verdict.indicator, verdict.audit) {
                (Some(w), _) => match live_deciders.get(1) {
                    Some(&runner_up) => outranks(w, runner_up),
                    None => "only deciding match",
                },
                (None, Some(_)) => "only audits match",
                (None, None) if !any_hit => "no indicator matches",
                (None, None) => "every match expired",
            }
        };
        Explanation {
            verdict,
            canonical,
            matches,
            reason,
        }
    }

    fn flags(&self, hit: Hit) -> u8 {
        self.records().flags(hit.record as usize).unwrap_or(0)
    }

    fn is_audit(&self, hit: Hit) -> bool {
        self.flags(hit) & ACTION_MASK == 3
    }

    fn is_expired(&self, hit: Hit, now: Timestamp) -> bool {
        self.expired(hit.record as usize, self.flags(hit), || now)
    }

    /// Every indicator, in key order (the order of [`Hit::record`]). Each
    /// item costs a key reconstruction and allocates; meant for `inspect`.
    /// When the host index is the sole store of the keys it files, the
    /// iterator first lists those keys by record: 24 bytes of heap each.
    pub fn iter(&self) -> impl Iterator<Item = IndicatorInfo> + '_ {
        let mut key = Vec::new();
        // (first record, the bytes its entry stores, the number of its
        // last label, kind).
        let mut in_index: Vec<(u32, &[u8], u8, Kind)> = Vec::new();
        let index = self.sole_index();
        if let Some(index) = index {
            for e in index.all_entries() {
                in_index.extend(e.root.map(|r| (r, e.stored, e.code, Kind::Url)));
                in_index.extend(e.domain.map(|r| (r, e.stored, e.code, Kind::DomainName)));
            }
            in_index.sort_unstable_by_key(|&(r, _, _, _)| r);
        }
        let mut next = in_index.into_iter().peekable();
        (0..self.len()).map(move |r| {
            let chained = r > 0
                && self
                    .records()
                    .flags(r - 1)
                    .is_some_and(|f| f & CHAINED != 0);
            if !chained {
                while next.next_if(|&(at, _, _, _)| (at as usize) < r).is_some() {}
                key = match next.next_if(|&(at, _, _, _)| at as usize == r) {
                    Some((_, stored, code, kind)) => index.map_or_else(Vec::new, |index| {
                        key_of_host(&index.host_of(stored, code), kind)
                    }),
                    None => self.keys().get_key(r as u64).unwrap_or_default(),
                };
            }
            self.record_info(r, &key)
        })
    }

    /// Calls `f` with every key of `host` and its parent domains that only
    /// the host index holds, most specific first (none unless the index is
    /// their sole store).
    fn index_keys(&self, host: &[u8], mut f: impl FnMut(Hit)) {
        if let Some(index) = self.sole_index() {
            let _ = index.lookup_tail(host, self.section(&self.filter), &mut |c| {
                if let (Ok(len), true) = (u16::try_from(c.len), (c.record as usize) < self.len) {
                    f(Hit {
                        record: c.record,
                        kind: c.kind,
                        len,
                    });
                }
                hosts::Progress {
                    decider: false,
                    audit: false,
                }
            });
        }
    }

    /// The first record of `key` (in the automaton's form), when it is a
    /// key of the set.
    fn first_record(&self, key: &[u8]) -> Option<u64> {
        if let Some(first) = self.keys().get(key) {
            return Some(first);
        }
        let (host, kind) = match key.split_last()? {
            (b'.', host) => (host, Kind::DomainName),
            (b'/', host) if !host.contains(&b'/') => (host, Kind::Url),
            _ => return None,
        };
        let host: Vec<u8> = host.iter().rev().copied().collect();
        let mut first = None;
        let len = key.len() - usize::from(kind == Kind::DomainName);
        self.index_keys(&host, |hit| {
            if hit.kind == kind && usize::from(hit.len) == len {
                first.get_or_insert(u64::from(hit.record));
            }
        });
        first
    }

    /// The key (in the automaton's form) whose first record is `first`.
    fn key_of(&self, first: usize) -> Option<Vec<u8>> {
        if let Some(key) = self.keys().get_key(first as u64) {
            return Some(key);
        }
        let index = self.sole_index()?;
        index.all_entries().find_map(|e| {
            let first = u32::try_from(first).ok()?;
            let host = || index.host_of(e.stored, e.code);
            if e.root == Some(first) {
                Some(key_of_host(&host(), Kind::Url))
            } else if e.domain == Some(first) {
                Some(key_of_host(&host(), Kind::DomainName))
            } else {
                None
            }
        })
    }

    /// Counts per kind and action, and bytes per section. O(size of the
    /// file) at most (one pass over the records' palette indices when
    /// there is more than one flag byte). The counts of `Url` and
    /// `DomainName` indicators are the ones the file records.
    pub fn stats(&self) -> Stats {
        let records = self.records();
        let mut s = Stats {
            indicators: self.len(),
            total_bytes: self.bytes().len(),
            sections: vec![
                ("hosts", self.hosts.as_ref().map_or(0, |(r, _)| r.len())),
                ("keys", self.keys.len()),
                ("records", self.records.len()),
                ("lines", self.lines.len()),
                ("meta-index", self.meta_index.len()),
                ("meta", self.meta.len()),
                ("common-inputs", self.common.len()),
                ("filter", self.filter.len()),
                ("sources", self.sources.len()),
            ],
            ..Stats::default()
        };
        s.urls = self.urls;
        s.domains = self.len() - self.urls;
        for (f, n) in records.histogram() {
            s.actions[(f & ACTION_MASK) as usize] += n;
            if f & HAS_EXPIRATION != 0 {
                s.expiring += n;
            }
            if f & HAS_META != 0 {
                s.with_metadata += n;
            }
        }
        s
    }
}

/// The canonical form of an IP-literal query, for explanations.
fn canonical_ip(query: &[u8], mode: Mode) -> Option<String> {
    match mode {
        Mode::Domain => {
            let mut buf = [0u8; canon::HOST_BUF_LEN];
            let (_, n) = canon::query_host(query, &mut buf).ok()?;
            Some(String::from_utf8_lossy(buf.get(..n)?).into_owned())
        }
        Mode::Full => {
            let mut buf = vec![0u8; query.len() * 3 + 1024];
            let u = canon::url(query, &mut buf).ok()?;
            Some(format!("{}{}", u.host, u.path_and_query))
        }
    }
}

/// Reads a metadata entry (layout in [`crate::format`]) into `info`;
/// stops at the first field that does not fit.
fn read_meta(entry: &[u8], info: &mut Meta) {
    let Some(&mask) = entry.first() else {
        return;
    };
    let mut at = 1;
    let string = |at: &mut usize| str_at(entry, at);
    if mask & M_EXPIRATION != 0 {
        info.expiration = i64_at(entry, 1).map(Timestamp);
        at = 9;
    }
    if mask & M_ALERT != 0 {
        info.generate_alert = Some(mask & M_ALERT_VALUE != 0);
    }
    if mask & M_ID != 0 {
        match string(&mut at) {
            Some(id) => info.id = Some(id),
            None => return,
        }
    }
    for (bit, field) in [
        (M_TITLE, &mut info.title),
        (M_CATEGORY, &mut info.category),
        (M_DESCRIPTION, &mut info.description),
    ] {
        if mask & bit != 0 {
            *field = string(&mut at);
            if field.is_none() {
                return;
            }
        }
    }
    if mask & M_GROUPS != 0 {
        let count = u32_at(entry, at).unwrap_or(0);
        at += 4;
        for _ in 0..count {
            match string(&mut at) {
                Some(g) => info.groups.push(g),
                None => return,
            }
        }
    }
}
