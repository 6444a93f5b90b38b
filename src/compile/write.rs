//! Canonical indicators -> sorted keys -> the bytes of an `.indset` file:
//! [`build`], which sorts the keys, builds the key automaton, the filter
//! and the sections (the filter and the host index's plan on a second
//! thread for a large set), and writes them in the container. The layout is in [`crate::format`].

use std::collections::{HashMap, HashSet};

use super::fst_builder;
use super::keys::{key_chains, key_into, sort_prefix};
use super::sections::{Sources, flags, has_meta, lines_section, meta_entry, records_section};
use crate::format::{
    ACTION_MASK, CHAINED, COMMON_INPUTS, FILTER, HAS_META, HOSTS, KEYS, LINE_IN_META, LINES, META,
    META_INDEX, Palette, RECORDS, SOURCES, Writer, filter, first_section_at, fst, hosts,
};
use crate::indicator::{Indicator, Kind};

/// The fewest keys for which [`build`] makes the filter (while it sorts)
/// and the host index's plan (while it builds the key automaton) on a
/// second thread, on a machine with more than one core.
const PARALLEL_KEYS: usize = 50_000;

/// The most cells of the key automaton builder's registry: 2^23
/// 16-byte cells are 128 MiB.
const MAX_CELLS: u64 = 1 << 23;

/// The registry of the key automaton's builder for `key_bytes` bytes of
/// keys: two cells per byte, so that a node is still there when an equal
/// one comes again (the paths of `Url` keys under different hosts, far
/// apart in key order); never fewer than `fst`'s own. On the suite's 1M
/// set the automaton takes 2,400,742 bytes, against 8,942,815 with
/// `fst`'s registry.
fn registry_cells(key_bytes: u64) -> usize {
    usize::try_from(key_bytes.saturating_mul(2).min(MAX_CELLS))
        .unwrap_or(usize::MAX)
        .max(fst_builder::REGISTRY_CELLS)
}

/// Compiles indicators into the bytes of an `.indset` file.
///
/// The indicators must already be canonical, filtered and merged by
/// ingestion. Should two still share a key, the records that decide at
/// some instant are kept (Allow > Warn > Block > Audit, then the
/// longest-lived, then the earlier line; see docs/matching.md) and the
/// others dropped. The output depends only on the set of indicators, not
/// their order: the same indicators give the same bytes.
///
/// Costs O(n log n) time and about three times the key bytes in memory.
/// For a set of 50,000 keys or more on a machine with more than one core,
/// the suffix filter and the host index's plan are made on a second
/// thread; the bytes are the same on any number of cores.
#[cfg(any(test, feature = "internals"))]
pub fn build(indicators: &[Indicator]) -> Vec<u8> {
    build_with(indicators, parallel(indicators), true)
}

/// [`build`], with every key in the key automaton too, as a set is built
/// when its host index cannot be the sole store of its keys (hosts chosen
/// to collide in one bucket): larger, with the same answers. For tests and
/// benchmarks that compare the two ways of answering.
#[cfg(any(test, feature = "internals"))]
pub fn build_with_every_key_in_the_automaton(indicators: &[Indicator]) -> Vec<u8> {
    build_with(indicators, parallel(indicators), false)
}

fn parallel(indicators: &[Indicator]) -> bool {
    indicators.len() >= PARALLEL_KEYS
        && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

/// [`build`] of indicators the caller lets go: they are freed (on a thread
/// of their own, for a large set) as soon as the keys are sorted and the
/// metadata sections made, before the key automaton is built, so that
/// the automaton, the index and the file never share memory with them.
pub(crate) fn build_owned(indicators: Vec<Indicator>) -> Vec<u8> {
    let parallel = parallel(&indicators);
    let keys = sorted_keys(&indicators, parallel);
    free_apart(indicators);
    write_set(keys, parallel, true)
}

/// The fewest indicators that [`build_owned`] frees on a thread of their
/// own.
const FREE_APART: usize = 100_000;

/// Drops `indicators`; a large set on a thread of its own: freeing 10M
/// indicators, string by string, takes about 1.5 s. Where no thread can
/// be started, the closure, and the indicators with it, are dropped
/// here.
fn free_apart(indicators: Vec<Indicator>) {
    if indicators.len() >= FREE_APART {
        let _ = std::thread::Builder::new()
            .name("indset-free".into())
            .spawn(move || drop(indicators));
    }
}

/// [`build`], with the filter and the index's plan made on a second
/// thread or not (the bytes are the same either way), and with the index the sole store of
/// the keys it files when it can be and `allow_sole` says so.
#[cfg(any(test, feature = "internals"))]
fn build_with(indicators: &[Indicator], parallel: bool, allow_sole: bool) -> Vec<u8> {
    write_set(sorted_keys(indicators, parallel), parallel, allow_sole)
}

/// What [`write_set`] needs of the indicators: their keys in key order
/// and each record's flags and line, the filter of their hosts and the
/// sections made from the indicators themselves.
struct SortedKeys {
    /// The keys in key order, one after the other; key `rank` ends at
    /// `ends[rank]`.
    sorted: Vec<u8>,
    ends: Vec<usize>,
    /// Each record's flag byte (with [`CHAINED`]) and stored line, in key
    /// order.
    records: Vec<u8>,
    lines: Vec<u32>,
    /// How many records are of `Url` keys.
    urls: u64,
    filter: Vec<u64>,
    meta_index: Vec<u8>,
    meta: Vec<u8>,
    sources: Vec<u8>,
}

/// The first half of [`build`]: everything that reads the indicators.
fn sorted_keys(indicators: &[Indicator], parallel: bool) -> SortedKeys {
    // All keys in one arena (no allocation per key), one after the
    // other: indicator i's key ends at `key_ends[i]` and starts where the
    // one before it ends.
    let mut arena: Vec<u8> = Vec::with_capacity(
        indicators
            .iter()
            .map(|i| i.host.len() + i.path.len().max(1))
            .sum(),
    );
    let mut key_ends: Vec<usize> = Vec::with_capacity(indicators.len());
    // Each indicator's flag byte and stored line, read in input order here
    // so that the loop in key order below touches an indicator only when
    // it has metadata.
    let sources = Sources::of(indicators);
    let number = |i: &Indicator| sources.number(&i.source.file, i.source.line, i.source.nth);
    let mut record: Vec<(u8, u32)> = Vec::with_capacity(indicators.len());
    for i in indicators {
        key_into(i.kind, &i.host, &i.path, &mut arena);
        key_ends.push(arena.len());
        let n = number(i);
        let line = u32::try_from(n).unwrap_or(LINE_IN_META).min(LINE_IN_META);
        record.push((flags(i, has_meta(i, n)), line));
    }
    let span = |i: usize| (i.checked_sub(1).map_or(0, |p| key_ends[p]), key_ends[i]);
    let key_of = |i: u32| {
        let (s, e) = span(i as usize);
        &arena[s..e]
    };
    // The filter holds the host of every key (a set bit stays set, so the
    // order and any repeated key do not matter): made from the arena on a
    // second thread while this one sorts.
    let filter_of_keys = || {
        let mut filter = filter::with_capacity(key_ends.len());
        let mut host = Vec::new();
        for i in 0..key_ends.len() {
            let (s, e) = span(i);
            let key = &arena[s..e];
            // The host of the key: up to its `/` (a `Url`) or its final `.`.
            let end = key
                .iter()
                .position(|&b| b == b'/')
                .unwrap_or(key.len().saturating_sub(1));
            host.clear();
            host.extend(key[..end].iter().rev());
            filter::add(&mut filter, &host);
        }
        filter
    };
    // Sort (prefix, index) pairs: a key's first twelve bytes decide most
    // comparisons without reading the arena. Equal keys go by action
    // (Allow > Warn > Block > Audit), then the longest-lived first, then
    // the earlier line and file, then input order; `key_chains` keeps
    // the ones that decide at some instant.
    let key_order = || {
        // 16 bytes a key: the prefix's two halves and the index.
        let mut order: Vec<(u64, u32, u32)> = (0..indicators.len() as u32)
            .map(|i| {
                let (high, low) = sort_prefix(key_of(i));
                (high, low, i)
            })
            .collect();
        order.sort_unstable_by(|&(ha, la, a), &(hb, lb, b)| {
            (ha, la).cmp(&(hb, lb)).then_with(|| {
                let (ia, ib) = (&indicators[a as usize], &indicators[b as usize]);
                key_of(a)
                    .cmp(key_of(b))
                    .then(ia.action.cmp(&ib.action))
                    .then(ib.lives_until().cmp(&ia.lives_until()))
                    .then(ia.source.line.cmp(&ib.source.line))
                    .then_with(|| ia.source.file.cmp(&ib.source.file))
                    .then(a.cmp(&b))
            })
        });
        // Equal keys have equal prefixes: only those are read.
        key_chains(
            &order,
            |a, b| (a.0, a.1) == (b.0, b.1) && key_of(a.2) == key_of(b.2),
            |i| &indicators[i as usize],
        )
    };
    let (filter, order) = if parallel {
        std::thread::scope(|s| {
            let filter = s.spawn(filter_of_keys);
            let order = key_order();
            let filter = filter
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            (filter, order)
        })
    } else {
        (filter_of_keys(), key_order())
    };
    // The keys, flags and lines in key order, gathered in two passes (the
    // flags, lines and key spans, then the keys' bytes) whose reads do not
    // depend on each other (the processor overlaps their cache misses), so
    // that the passes below read memory in order.
    let mut records = Vec::with_capacity(order.len());
    let mut lines = Vec::with_capacity(order.len());
    let mut key_spans = Vec::with_capacity(order.len());
    let mut urls = 0u64;
    for &(i, chained) in &order {
        let (flag, line) = record[i as usize];
        records.push(if chained { flag | CHAINED } else { flag });
        lines.push(line);
        key_spans.push(span(i as usize));
        urls += u64::from(indicators[i as usize].kind == Kind::Url);
    }
    let mut sorted = Vec::with_capacity(arena.len());
    let mut ends = Vec::with_capacity(order.len());
    for &(s, e) in &key_spans {
        sorted.extend_from_slice(&arena[s..e]);
        ends.push(sorted.len());
    }
    drop((key_spans, arena, key_ends, record));
    // The metadata, in key order: of the records with it.
    let mut meta_index = Vec::new();
    let mut meta = Vec::new();
    let mut seen: HashMap<Vec<u8>, u32> = HashMap::new();
    for (rank, &(i, _)) in order.iter().enumerate() {
        if records[rank] & HAS_META == 0 {
            continue;
        }
        let ind = &indicators[i as usize];
        if let Some(entry) = meta_entry(ind, number(ind)) {
            let offset = *seen.entry(entry).or_insert_with_key(|e| {
                let at = meta.len() as u32;
                meta.extend_from_slice(e);
                at
            });
            meta_index.extend_from_slice(&(rank as u32).to_le_bytes());
            meta_index.extend_from_slice(&offset.to_le_bytes());
        }
    }
    SortedKeys {
        sorted,
        ends,
        records,
        lines,
        urls,
        filter,
        meta_index,
        meta,
        sources: sources.section(),
    }
}

/// The second half of [`build`]: the key automaton, the host index and
/// the file, from the sorted keys.
fn write_set(keys: SortedKeys, parallel: bool, allow_sole: bool) -> Vec<u8> {
    let SortedKeys {
        sorted,
        ends,
        records,
        lines,
        urls,
        filter,
        meta_index,
        meta,
        sources,
    } = keys;
    let count = records.len();
    // A record is reached through the key automaton when the record
    // before it does not chain to it.
    let is_head = |rank: usize| rank == 0 || records[rank - 1] & CHAINED == 0;
    let key_at = |rank: usize| {
        let start = rank.checked_sub(1).map_or(0, |r| ends[r]);
        &sorted[start..ends[rank]]
    };
    // The host index is planned (on a second thread while this one
    // builds the key automaton): when it can be the sole store of the
    // keys it files, the automaton holds only the rest. It is written
    // once the sorted keys are let go.
    let palette = Palette::of(records.iter().copied());
    let index_plan = || {
        let key_hosts = key_hosts(count, key_at, is_head, &records);
        let plan = key_hosts.as_ref().and_then(|k| {
            let mut plan = hosts::plan(k.found.len(), |i| key_host(k, i), records.len(), &palette)?;
            plan.sole &= allow_sole;
            Some(plan)
        });
        (key_hosts, plan)
    };
    let is_sole = |plan: &Option<hosts::Plan>| plan.as_ref().is_some_and(|p| p.sole);
    // The key automaton, in one builder so that any two equal endings can
    // share their nodes: of every key when the index is not the sole store
    // of the keys it files (`sole`), else of the keys it does not file.
    let key_automaton = |sole: bool| {
        let in_automaton =
            |rank: usize| is_head(rank) && (!sole || hosts::in_automaton(key_at(rank)));
        // A large registry when the automaton holds the keys with a path
        // (and of long hosts); `fst`'s when it holds every key (hosts
        // chosen to collide), where a large one would cost several times
        // the build time for little.
        let key_bytes: u64 = if sole {
            (0..count)
                .filter(|&r| in_automaton(r))
                .map(|r| key_at(r).len() as u64)
                .sum()
        } else {
            0
        };
        // Room for the whole output in most sets: reserved, and only
        // touched as it is written.
        let mut keys = fst_builder::MapBuilder::with_registry(
            sorted.len(),
            registry_cells(key_bytes),
            fst_builder::Hashing::Endings,
        );
        for rank in (0..count).filter(|&r| in_automaton(r)) {
            keys.insert(key_at(rank), rank as u64);
        }
        keys.finish()
    };
    let ((key_hosts, plan), keys) = if parallel {
        // The automaton is built as for a sole index, which every set
        // has unless its hosts were chosen to collide or `allow_sole`
        // says no; built again if the plan says otherwise.
        let (index, keys) = std::thread::scope(|s| {
            let second = s.spawn(index_plan);
            let keys = key_automaton(allow_sole);
            let index = second
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            (index, keys)
        });
        let sole = is_sole(&index.1);
        let keys = if sole == allow_sole {
            keys
        } else {
            drop(keys);
            key_automaton(sole)
        };
        (index, keys)
    } else {
        let index = index_plan();
        let keys = key_automaton(is_sole(&index.1));
        (index, keys)
    };

    drop((sorted, ends));
    // The packed sections before the index, so that the arrays they pack
    // are let go first.
    let records = records_section(&records, urls, &palette);
    let lines = lines_section(&lines);
    // The filter is the first section and the index the second, so that
    // both sit at known places in the file: the first section starts
    // 64-byte aligned in a file of nine sections, so each 32-byte filter
    // block lies within one cache line, and the index's writer aligns its
    // lines from where the filter ends.
    let mut filter = filter;
    if let Some(plan) = &plan {
        plan.mark_redirects(&mut filter);
    }
    let filter = filter::to_bytes(&filter);
    // Each section is dropped once the writer holds it, the index is
    // written in the writer's buffer, and the file is finished there: a
    // large set is never held twice.
    let mut w = Writer::with_room_for(SECTIONS);
    w.add_section(FILTER, &filter);
    drop(filter);
    if let Some((k, plan)) = key_hosts.zip(plan) {
        w.add_section_with(HOSTS, |out, offset| {
            let at = first_section_at(SECTIONS) + offset;
            hosts::write(plan, |i| key_host(&k, i), at, out);
        });
    }
    w.add_section(KEYS, &keys);
    drop(keys);
    w.add_section(RECORDS, &records);
    w.add_section(LINES, &lines);
    w.add_section(META_INDEX, &meta_index);
    w.add_section(META, &meta);
    w.add_section(COMMON_INPUTS, &fst::COMMON_INPUT_BYTES);
    w.add_section(SOURCES, &sources);
    w.into_bytes()
}

/// The sections of a set with a host index.
const SECTIONS: usize = 9;

/// A key host and its keys without a path, compact: a large set holds
/// millions of them while its index is built.
struct Found {
    /// Where the host's bytes start in [`KeyHosts::arena`], and their length.
    start: u32,
    len: u8,
    /// The root `Url` key and the `DomainName` key: first record and its
    /// flag byte.
    root: Option<(u32, u8)>,
    domain: Option<(u32, u8)>,
    /// The host has `Url` keys with a path.
    paths: bool,
    /// The host or a parent domain has a `DomainName` key with an audit
    /// record.
    audit_above: bool,
}

/// The key hosts of a set, gathered from its keys: each host's bytes (in
/// reading order) in `arena`.
struct KeyHosts {
    arena: Vec<u8>,
    found: Vec<Found>,
}

/// The bytes of `f`'s host in `arena`.
fn host_in<'a>(arena: &'a [u8], f: &Found) -> &'a [u8] {
    let start = f.start as usize;
    &arena[start..start + usize::from(f.len)]
}

/// The key hosts of the keys in key order (`key_at(rank)` for the `keys`
/// ranks, the record `rank` its first record when `is_head(rank)`, with
/// flag byte `records[rank]`), each host once; `None` when their bytes
/// exceed 4 GiB.
fn key_hosts<'k>(
    keys: usize,
    key_at: impl Fn(usize) -> &'k [u8],
    is_head: impl Fn(usize) -> bool,
    records: &[u8],
) -> Option<KeyHosts> {
    // One pass in key order. A host's `DomainName` key (`moc.elpmaxe.`)
    // comes before the keys of its subdomains (`moc.elpmaxe.bus.`, ...),
    // which come before its `Url` keys (`moc.elpmaxe/`, ...): the hosts
    // whose `Url` keys may still come are a stack, each a parent of the
    // one above it; a `Url` key's host is the top of the stack, or a host
    // without a `DomainName` key whose `Url` keys are all in a row.
    let mut arena = Vec::new();
    let mut found: Vec<Found> = Vec::new();
    let mut open: Vec<(&[u8], usize)> = Vec::new();
    let mut last_url: Option<(&[u8], usize)> = None;
    for rank in (0..keys).filter(|&r| is_head(r)) {
        let key = key_at(rank);
        let slash = key.iter().position(|&b| b == b'/');
        let host = &key[..slash.unwrap_or(key.len().saturating_sub(1))];
        while let Some(&(top, _)) = open.last() {
            let under = key.len() > top.len() && key.starts_with(top) && key[top.len()] == b'.';
            if under || top == host {
                break;
            }
            open.pop();
        }
        let mut new_host = |found: &mut Vec<Found>| -> Option<usize> {
            let start = u32::try_from(arena.len()).ok()?;
            arena.extend(host.iter().rev());
            found.push(Found {
                start,
                len: u8::try_from(host.len()).ok()?,
                root: None,
                domain: None,
                paths: false,
                audit_above: false,
            });
            Some(found.len() - 1)
        };
        let first = Some((rank as u32, records[rank]));
        match slash {
            None => {
                let at = new_host(&mut found)?;
                found[at].domain = first;
                open.push((host, at));
            }
            Some(slash) => {
                let at = match (open.last(), last_url) {
                    (Some(&(top, at)), _) if top == host => at,
                    (_, Some((h, at))) if h == host => at,
                    _ => new_host(&mut found)?,
                };
                last_url = Some((host, at));
                if key.len() == slash + 1 {
                    found[at].root = first;
                } else {
                    found[at].paths = true;
                }
            }
        }
    }
    // The hosts whose `DomainName` key has an audit record, at any place
    // of its chain, and the hosts under them.
    let audits = |rank: u32| {
        let mut r = rank as usize;
        loop {
            let f = records[r];
            if f & ACTION_MASK == 3 {
                return true;
            }
            if f & CHAINED == 0 || r + 1 >= records.len() {
                return false;
            }
            r += 1;
        }
    };
    let audited: HashSet<&[u8]> = found
        .iter()
        .filter(|f| f.domain.is_some_and(|(rank, _)| audits(rank)))
        .map(|f| host_in(&arena, f))
        .collect();
    if !audited.is_empty() {
        let above: Vec<bool> = found
            .iter()
            .map(|f| {
                let host = host_in(&arena, f);
                std::iter::once(0)
                    .chain(
                        host.iter()
                            .enumerate()
                            .filter(|&(_, &b)| b == b'.')
                            .map(|(i, _)| i + 1),
                    )
                    .any(|i| audited.contains(&host[i..]))
            })
            .collect();
        for (f, a) in found.iter_mut().zip(above) {
            f.audit_above = a;
        }
    }
    Some(KeyHosts { arena, found })
}

/// The key host `i` of `keys`, as the index takes it.
fn key_host(keys: &KeyHosts, i: usize) -> hosts::KeyHost<'_> {
    let f = &keys.found[i];
    hosts::KeyHost {
        host: host_in(&keys.arena, f),
        root: f.root,
        domain: f.domain,
        paths: f.paths,
        audit_above: f.audit_above,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::indicator::{Action, Meta, Source, Timestamp};
    use crate::verdict::{Decision, Mode};

    /// `n` indicators of both kinds, some with metadata, with repeated
    /// keys among them.
    fn many(n: usize) -> Vec<Indicator> {
        (0..n)
            .map(|i| {
                let url = i % 7 == 0;
                let (host, path) = if url {
                    (
                        format!("h{}.example{}.com", i % 5_000, i % 13),
                        format!("/p/{i}"),
                    )
                } else {
                    (format!("n{i}.zone{}.net", i % 101), String::new())
                };
                let mut meta = Meta::default();
                if i % 11 == 0 {
                    meta.title = Some(format!("title {}", i % 3));
                    meta.expiration = Some(Timestamp(1_800_000_000 + i as i64));
                }
                Indicator {
                    kind: if url { Kind::Url } else { Kind::DomainName },
                    host,
                    path,
                    action: [Action::Block, Action::Allow, Action::Warn, Action::Audit][i % 4],
                    meta: meta.into(),
                    source: Source {
                        file: Arc::from(if i % 2 == 0 { "a.csv" } else { "b.txt" }),
                        line: i as u64 + 1,
                        nth: 0,
                    },
                }
            })
            .collect()
    }

    #[test]
    fn keys_alike_past_the_sort_prefix_keep_their_order_and_winner() {
        // Hosts that agree in far more than twelve reversed bytes, and the
        // same key twice with different actions.
        let ind = |host: &str, action: Action, line: u64| Indicator {
            kind: Kind::DomainName,
            host: host.to_string(),
            path: String::new(),
            action,
            meta: Meta::default().into(),
            source: Source {
                file: Arc::from("a.txt"),
                line,
                nth: 0,
            },
        };
        let mut inds = vec![
            ind("a.long-shared-label.example.com", Action::Block, 1),
            ind("b.long-shared-label.example.com", Action::Warn, 2),
            ind("long-shared-label.example.com", Action::Audit, 3),
            ind("b.long-shared-label.example.com", Action::Allow, 4),
            ind("net", Action::Block, 5),
        ];
        let first = build(&inds);
        inds.reverse();
        assert_eq!(build(&inds), first);
        inds.rotate_left(2);
        assert_eq!(build(&inds), first);
        let set = crate::set::IndicatorSet::from_bytes(first).expect("opens");
        assert_eq!(set.len(), 4);
        let now = Timestamp(1_700_000_000);
        let host = |q: &str| set.check_at(q, Mode::Domain, now).decision;
        assert_eq!(host("b.long-shared-label.example.com"), Decision::Allow);
        assert_eq!(host("a.long-shared-label.example.com"), Decision::Block);
        assert_eq!(host("c.long-shared-label.example.com"), Decision::Audit);
        assert_eq!(host("other.net"), Decision::Block);
    }

    #[test]
    fn hosts_chosen_to_collide_keep_their_keys_in_the_automaton_too() {
        let ind = |host: String, line: u64| Indicator {
            kind: Kind::DomainName,
            host,
            path: String::new(),
            action: Action::Block,
            meta: Meta::default().into(),
            source: Source {
                file: Arc::from("a.txt"),
                line,
                nth: 0,
            },
        };
        // 100 buckets' worth of two-label hosts, and 160 of them in one
        // take more lines than a lookup reads.
        let mut names = hosts::colliding_hosts(160, 100);
        names.extend((160..100 * hosts::PER_BUCKET).map(|i| format!("plain{i}.net")));
        let inds: Vec<Indicator> = (0..)
            .zip(&names)
            .map(|(i, n)| ind(n.clone(), i + 1))
            .collect();
        let bytes = build(&inds);
        let every = build_with_every_key_in_the_automaton(&inds);
        assert_eq!(bytes, every);
        // On two threads, the automaton first built for a sole index is
        // built again with every key.
        assert_eq!(build_with(&inds, true, true), every);
        assert_eq!(build_with(&inds, true, false), every);
        let set = crate::set::IndicatorSet::from_bytes(bytes).expect("opens");
        let now = Timestamp(1_700_000_000);
        for n in &names {
            let v = set.check_at(format!("www.{n}"), Mode::Domain, now);
            assert_eq!(v.decision, Decision::Block, "{n}");
        }
        // Without the colliding hosts the index holds the keys alone.
        let plain: Vec<Indicator> = (0..1000)
            .map(|i| ind(format!("plain{i}.net"), i + 1))
            .collect();
        assert!(build(&plain).len() < build_with_every_key_in_the_automaton(&plain).len());
    }

    #[test]
    fn a_host_with_only_paths_and_a_host_of_its_tag_answer_exactly() {
        // `p.example.com` has only a key with a path, so its slot in the
        // host index has no entry; `twin` has its tag, and so a full-mode
        // query for it walks the automaton before the index finds its key.
        let twin = hosts::tag_twin("p.example.com");
        let ind = |kind: Kind, host: &str, path: &str, action: Action, line: u64| Indicator {
            kind,
            host: host.to_string(),
            path: path.to_string(),
            action,
            meta: Meta::default().into(),
            source: Source {
                file: Arc::from("a.txt"),
                line,
                nth: 0,
            },
        };
        let inds = vec![
            ind(Kind::Url, "p.example.com", "/x", Action::Block, 1),
            ind(Kind::DomainName, &twin, "", Action::Warn, 2),
            ind(Kind::DomainName, "example.com", "", Action::Audit, 3),
        ];
        let set = crate::set::IndicatorSet::from_bytes(build(&inds)).expect("opens");
        let now = Timestamp(1_700_000_000);
        let full = |q: &str| set.check_at(q, Mode::Full, now).decision;
        let domain = |q: &str| set.check_at(q, Mode::Domain, now).decision;
        assert_eq!(full("http://p.example.com/x"), Decision::Block);
        assert_eq!(full("http://p.example.com/y"), Decision::Audit);
        assert_eq!(full("http://p.example.com/"), Decision::Audit);
        assert_eq!(domain("p.example.com"), Decision::Audit);
        assert_eq!(full(&format!("http://{twin}/x")), Decision::Warn);
        assert_eq!(domain(&twin), Decision::Warn);
        assert_eq!(set.iter().count(), 3);
    }

    #[test]
    fn indicators_let_go_before_the_automaton_change_no_byte() {
        let inds = many(FREE_APART + 1_000);
        assert_eq!(build_owned(inds.clone()), build_with(&inds, false, true));
    }

    #[test]
    fn the_second_thread_changes_no_byte() {
        let inds = many(PARALLEL_KEYS + 1_000);
        let alone = build_with(&inds, false, true);
        assert_eq!(build_with(&inds, true, true), alone);
        assert_eq!(build(&inds), alone);
        // And the set it makes answers.
        let set = crate::set::IndicatorSet::from_bytes(alone).expect("opens");
        let now = Timestamp(1_700_000_000);
        let host = |q: &str| set.check_at(q, Mode::Domain, now).decision;
        assert_eq!(host("x.n2.zone2.net"), Decision::Warn);
        assert_eq!(host("n3.zone3.net"), Decision::Audit);
        assert_eq!(host("n3.zone4.net"), Decision::None);
        let url = set.check_at("http://h14.example1.com/p/14", Mode::Full, now);
        assert_eq!(url.decision, Decision::Warn);
    }
}
