//! A model of the next key index for domain-mode lookups, measured on the
//! same keys and requests as the set, before any file format carries it.
//!
//! ```text
//! index_model check SET        every real request: the model's verdict against the set's
//! index_model run SET PASSES [hits|misses]   a plain loop of model lookups (for callgrind)
//! index_model lines SET        cache lines of the model read per lookup, counted
//! index_model bytes SET        the model's bytes per indicator, by part
//! scripts/index-model.sh       all four on the 1M set, with callgrind
//! ```
//!
//! # What it models
//!
//! The set's automaton is walked byte by byte: about 20 steps and 33 cache
//! lines for a lookup that matches (`BENCHMARKS.md`). The model answers the
//! same question from a table of 64-byte bucket lines and an array of
//! entries:
//!
//! - **buckets**: a key host is filed under the hash of its last two
//!   labels (its *base*: `example.com` for `a.b.example.com`; a one-label
//!   host under itself), so every key of two labels or more that can match
//!   a query sits in the bucket of the query's base. A base with more than
//!   `HEAVY` keys under it files them one label deeper, and a redirect
//!   (a salted tag) in its bucket tells a query to look there too, first.
//!   One-label `DomainName` keys set a bit in a 512-bit header mask; only
//!   a query whose last label's bit is set looks in that label's bucket.
//! - **a bucket line**: where the bucket's entries start, its slot count,
//!   the overflow line its slots go on in, then `SLOTS` 16-bit tags (of
//!   the key host's hash, never 0) and the 16-bit offsets of their entries.
//!   A query hashes each label suffix once (right to left, eight bytes per
//!   step, so every longer suffix costs only its new label) and compares
//!   each wanted tag with every slot of the line.
//! - **entries**: per key host, its bytes, the actions of its records (the
//!   `DomainName` key, the root `Url` key `host/`) and their numbers. A tag
//!   that equals a suffix's is only a candidate: it decides after the
//!   entry's bytes equal the suffix's, byte for byte.
//!
//! Candidates are taken most specific first (`docs/matching.md`: the root
//! `Url` of the host, then the `DomainName` keys from the most labels to
//! the fewest), so the first allow, warn or block entry decides, and the
//! lookup goes on only while no audit entry has been seen.
//!
//! It is a model: keys with several records (rows of one value with other
//! actions that decide when the first expires) keep their first, which is
//! exact for a set without expirations (the 1M set has none); full-mode
//! paths are left out. `check` compares every answer (decision, deciding
//! record, audit record) with the set's and fails on any difference.
//!
//! # Measured (`scripts/index-model.sh`; `BENCHMARKS.md`, the next design steps)
//!
//! On the 1M profiling set and the 30,524 real requests, domain mode:
//! 0 differences; 1,123 instructions per lookup against the set's 1,789
//! (matches 1,402 against 3,301, misses 928 against 781); cache lines
//! read per lookup, the header line counted, 5.23 on a match and 2.31 on a
//! miss (the set: 32.7 and 3.6); 6.72 bytes of bucket lines and 17.01 of
//! entries per indicator (the whole set file is 15.32).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hint::black_box;

use indset::canon;
use indset::{Action, Decision, IndicatorSet, Kind, Mode};
use indset_bench::NOW;

const SEED: u64 = 0x243f_6a88_85a3_08d3;
const K: u64 = 0x9e37_79b9_7f4a_7c15;
/// The most label suffixes a lookup keeps on its stack; a host with more
/// labels (none among the real requests) would take the automaton.
/// (`check` counts such lookups as "left to the automaton".)
const MAX_LABELS: usize = 16;
/// Slots in a bucket line, after its 8-byte header.
const SLOTS: usize = 12;
/// Keys under one suffix beyond which they are filed one label deeper.
const HEAVY: usize = 12;
/// Salts the tag of a redirect, so that it is never the tag of its key.
const REDIRECT: u64 = 0x5555_5555_5555_5555;

/// Entry flags: which records follow, and the action of each (two bits:
/// allow, warn, block, audit) at [`DOMAIN_ACTION`] and [`ROOT_ACTION`].
const HAS_DOMAIN: u8 = 1;
const HAS_ROOT: u8 = 2;
const DOMAIN_ACTION: u8 = 2;
const ROOT_ACTION: u8 = 4;
const ACTIONS: [Action; 4] = [Action::Allow, Action::Warn, Action::Block, Action::Audit];

#[inline(always)]
fn mix(h: u64, word: u64) -> u64 {
    (h.rotate_left(23) ^ word).wrapping_mul(K)
}

#[inline(always)]
fn finish(h: u64) -> u64 {
    let h = (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^ (h >> 32)
}

/// A key's tag: never 0, the tag of an empty slot.
#[inline(always)]
fn tag(h: u64) -> u16 {
    h as u16 | 1
}

#[inline(always)]
fn bucket(h: u64, n: usize) -> usize {
    ((u128::from(h) * n as u128) >> 64) as usize
}

#[inline(always)]
fn load(host: &[u8], at: usize) -> u64 {
    host.get(at..at + 8)
        .map_or(0, |w| u64::from_le_bytes(w.try_into().unwrap_or_default()))
}

/// The last `.` in `host[..end]`, eight bytes at a time.
#[inline(always)]
fn last_dot(host: &[u8], mut end: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let dots = |w: u64| {
        let x = w ^ (ONES * u64::from(b'.'));
        !(((x & (ONES * 0x7f)) + ONES * 0x7f) | x) & (ONES * 0x80)
    };
    while end >= 8 {
        let m = dots(load(host, end - 8));
        if m != 0 {
            return Some(end - 8 + (63 - m.leading_zeros() as usize) / 8);
        }
        end -= 8;
    }
    host[..end].iter().rposition(|&b| b == b'.')
}

/// The suffix states of `host`'s labels, one label at a time from the
/// right, eight bytes per step: `hashes[k]` and `starts[k]` are those of
/// the suffix of `k + 1` labels. `None` beyond [`MAX_LABELS`] labels.
#[inline(always)]
fn suffixes(
    host: &[u8],
    hashes: &mut [u64; MAX_LABELS],
    starts: &mut [u8; MAX_LABELS],
) -> Option<usize> {
    let mut h = SEED;
    let mut end = host.len();
    let mut n = 0;
    loop {
        let start = last_dot(host, end).map_or(0, |i| i + 1);
        let mut i = start;
        while i + 8 <= end {
            h = mix(h, load(host, i));
            i += 8;
        }
        let r = end - i;
        let last = if r == 0 {
            0
        } else if end >= 8 {
            load(host, end - 8) >> (8 * (8 - r))
        } else {
            host[i..end]
                .iter()
                .rev()
                .fold(0u64, |w, &b| w << 8 | u64::from(b))
        };
        h = mix(h, last);
        *hashes.get_mut(n)? = finish(h);
        starts[n] = start as u8;
        n += 1;
        if start == 0 {
            return Some(n);
        }
        end = start - 1;
    }
}

/// A bucket's 64-byte line: where its entries start (`u32`), how many
/// slots this line holds (`u8`), the line its slots go on in (`u24`, 0 for
/// none), then [`SLOTS`] tags (`u16`) and [`SLOTS`] offsets (`u16`) of
/// the entries from the bucket's first.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line {
    entries: u32,
    count: u8,
    next: [u8; 3],
    tags: [u16; SLOTS],
    offsets: [u16; SLOTS],
}

const EMPTY: Line = Line {
    entries: 0,
    count: 0,
    next: [0; 3],
    tags: [0; SLOTS],
    offsets: [0; SLOTS],
};

impl Line {
    /// A bit per slot whose tag is `t`: a loop the compiler turns into
    /// vector compares.
    #[inline(always)]
    fn mask(&self, t: u16) -> u32 {
        let mut m = 0u32;
        for (i, &x) in self.tags.iter().enumerate() {
            m |= u32::from(x == t) << i;
        }
        m
    }
}

struct Model {
    lines: Vec<Line>,
    /// Bucket lines (the first `buckets`); overflow lines follow them.
    buckets: usize,
    entries: Vec<u8>,
    /// Tags of the one-label `DomainName` keys (512 bits), in the header:
    /// a query looks in the bucket of its last label only when its bit is
    /// set.
    one_label: [u64; 8],
    /// Of the entries' bytes: the record numbers (3 bytes each, which a
    /// file could imply by order), and what storing each base (last two
    /// labels) once per bucket would save, a byte per entry to name it
    /// deducted.
    record_bytes: usize,
    base_saving: isize,
}

/// A key host's records, as the set lists them (first record of each key).
#[derive(Default)]
struct HostRecords {
    domain: Option<(u32, Action)>,
    root: Option<(u32, Action)>,
}

/// The distinct cache lines a lookup reads, by region, when counting.
trait Reads {
    fn read(&mut self, region: u8, at: usize, len: usize);
}

impl Reads for () {
    #[inline(always)]
    fn read(&mut self, _: u8, _: usize, _: usize) {}
}

impl Reads for HashSet<(u8, usize)> {
    fn read(&mut self, region: u8, at: usize, len: usize) {
        for line in at / 64..=(at + len.max(1) - 1) / 64 {
            self.insert((region, line));
        }
    }
}

#[derive(Default)]
struct Found {
    decider: Option<(u32, Action)>,
    audit: Option<u32>,
    /// More tags matched than a lookup keeps: the model has no answer.
    overflow: bool,
}

impl Found {
    #[inline(always)]
    fn take(&mut self, record: u32, action: Action) {
        if action == Action::Audit {
            self.audit.get_or_insert(record);
        } else if self.decider.is_none() {
            self.decider = Some((record, action));
        }
    }

    /// A decider and an audit are found: nothing less specific counts.
    #[inline(always)]
    fn done(&self) -> bool {
        self.overflow || (self.decider.is_some() && self.audit.is_some())
    }
}

type Answer = (Decision, Option<u32>, Option<u32>);
/// A key host in its bucket: tag, bytes, records (`None`: a redirect).
type Filed<'a> = (u16, &'a [u8], Option<&'a HostRecords>);

impl Model {
    fn build<D: AsRef<[u8]>>(set: &IndicatorSet<D>, per_bucket: usize) -> Model {
        let mut hosts: BTreeMap<Vec<u8>, HostRecords> = BTreeMap::new();
        let mut last_key = None;
        for (r, info) in set.iter().enumerate() {
            let key = (info.kind, info.value.clone());
            if last_key.as_ref() == Some(&key) {
                continue; // a later record of the same key
            }
            last_key = Some(key);
            match info.kind {
                Kind::DomainName => {
                    hosts.entry(info.value.into_bytes()).or_default().domain =
                        Some((r as u32, info.action));
                }
                Kind::Url => {
                    if let Some(host) = info.value.strip_suffix('/').filter(|h| !h.contains('/')) {
                        hosts.entry(host.as_bytes().to_vec()).or_default().root =
                            Some((r as u32, info.action));
                    }
                }
            }
        }
        let (mut hashes, mut starts) = ([0u64; MAX_LABELS], [0u8; MAX_LABELS]);
        let all: Vec<(&[u8], &HostRecords, usize)> = hosts
            .iter()
            .map(|(h, r)| {
                (
                    h.as_slice(),
                    r,
                    suffixes(h, &mut hashes, &mut starts).expect("at most 16 labels"),
                )
            })
            .collect();
        let suffix = |h: &[u8], labels: usize| -> usize {
            // The start of the suffix of `labels` labels.
            let dots: Vec<usize> = h
                .iter()
                .enumerate()
                .filter(|&(_, &b)| b == b'.')
                .map(|(i, _)| i + 1)
                .collect();
            let n = dots.len() + 1;
            if labels >= n { 0 } else { dots[n - labels - 1] }
        };
        // A group (the keys under one `d`-label suffix that have more
        // labels) larger than HEAVY is filed one label deeper, and a
        // redirect in the group's bucket says so.
        let mut depth: Vec<usize> = all.iter().map(|&(_, _, n)| n.min(2)).collect();
        let mut redirects: Vec<&[u8]> = Vec::new();
        for d in 2..MAX_LABELS {
            let mut under: HashMap<&[u8], usize> = HashMap::new();
            for (i, &(h, _, n)) in all.iter().enumerate() {
                if depth[i] == d && n > d {
                    *under.entry(&h[suffix(h, d)..]).or_default() += 1;
                }
            }
            let heavy: HashSet<&[u8]> = under
                .iter()
                .filter(|&(_, &c)| c > HEAVY)
                .map(|(s, _)| *s)
                .collect();
            if heavy.is_empty() {
                break;
            }
            redirects.extend(heavy.iter().copied());
            for (i, &(h, _, n)) in all.iter().enumerate() {
                if depth[i] == d && n > d && heavy.contains(&h[suffix(h, d)..]) {
                    depth[i] = d + 1;
                }
            }
        }
        let buckets = (all.len() + redirects.len()).div_ceil(per_bucket).max(1);
        let mut filed: Vec<Vec<Filed<'_>>> = vec![Vec::new(); buckets];
        let mut one_label = [0u64; 8];
        for (i, &(host, recs, n)) in all.iter().enumerate() {
            suffixes(host, &mut hashes, &mut starts);
            filed[bucket(hashes[depth[i] - 1], buckets)].push((
                tag(hashes[n - 1]),
                host,
                Some(recs),
            ));
            if n == 1 && recs.domain.is_some() {
                let t = tag(hashes[0]);
                one_label[usize::from(t >> 6 & 7)] |= 1 << (t & 63);
            }
        }
        for &r in &redirects {
            let n = suffixes(r, &mut hashes, &mut starts).expect("at most 16 labels");
            let h = hashes[n - 1];
            filed[bucket(h, buckets)].push((tag(h ^ REDIRECT), r, None));
        }
        let mut m = Model {
            lines: vec![EMPTY; buckets],
            buckets,
            entries: Vec::new(),
            one_label,
            record_bytes: 0,
            base_saving: 0,
        };
        for (b, group) in filed.iter().enumerate() {
            let mut bases: HashMap<&[u8], usize> = HashMap::new();
            for &(_, host, recs) in group {
                if recs.is_some() {
                    *bases.entry(&host[suffix(host, 2)..]).or_default() += 1;
                }
            }
            for (base, n) in bases {
                m.base_saving += (n as isize - 1) * base.len() as isize - n as isize;
            }
            let e0 = m.entries.len();
            let mut line = b;
            m.lines[line].entries = e0 as u32;
            for &(t, host, recs) in group {
                if usize::from(m.lines[line].count) == SLOTS {
                    let next = m.lines.len();
                    m.lines.push(Line {
                        entries: e0 as u32,
                        ..EMPTY
                    });
                    m.lines[line]
                        .next
                        .copy_from_slice(&(next as u32).to_le_bytes()[..3]);
                    line = next;
                }
                let off =
                    u16::try_from(m.entries.len() - e0).expect("a bucket's entries fit 64 KiB");
                let l = &mut m.lines[line];
                l.tags[usize::from(l.count)] = t;
                l.offsets[usize::from(l.count)] = off;
                l.count += 1;
                let Some(recs) = recs else {
                    m.entries.extend_from_slice(&[0, 0]); // a redirect: no bytes, no records
                    continue;
                };
                let mut flags = 0;
                for (rec, has, shift) in [
                    (recs.domain, HAS_DOMAIN, DOMAIN_ACTION),
                    (recs.root, HAS_ROOT, ROOT_ACTION),
                ] {
                    if let Some((_, a)) = rec {
                        flags |= has
                            | (ACTIONS.iter().position(|&x| x == a).unwrap_or(3) as u8) << shift;
                    }
                }
                m.entries.push(host.len() as u8);
                m.entries.extend_from_slice(host);
                m.entries.push(flags);
                for (r, _) in [recs.root, recs.domain].into_iter().flatten() {
                    m.entries.extend_from_slice(&r.to_le_bytes()[..3]);
                    m.record_bytes += 3;
                }
            }
        }
        m
    }

    /// The domain-mode verdict for `query`; `None` for a host of more than
    /// [`MAX_LABELS`] labels.
    #[inline(always)]
    fn lookup(&self, query: &[u8], reads: &mut impl Reads) -> Option<Answer> {
        let mut buf = [0u8; canon::HOST_BUF_LEN];
        let Ok((kind, n)) = canon::query_host(query, &mut buf) else {
            return Some((Decision::None, None, None));
        };
        if kind.is_ip() {
            return Some((Decision::None, None, None));
        }
        let host = buf.get(..n)?;
        let (mut hashes, mut starts) = ([0u64; MAX_LABELS], [0u8; MAX_LABELS]);
        let labels = suffixes(host, &mut hashes, &mut starts)?;
        let mut found = Found::default();
        self.level(
            labels.min(2),
            host,
            &hashes[..labels],
            &starts,
            &mut found,
            reads,
        );
        if labels >= 2 && !found.done() {
            let t = tag(hashes[0]);
            reads.read(3, 0, 64);
            if self.one_label[usize::from(t >> 6 & 7)] & 1 << (t & 63) != 0 {
                self.level(1, host, &hashes[..1], &starts, &mut found, reads);
            }
        }
        if found.overflow {
            return None;
        }
        let decision = match found.decider {
            Some((_, Action::Allow)) => Decision::Allow,
            Some((_, Action::Warn)) => Decision::Warn,
            Some(_) => Decision::Block,
            None if found.audit.is_some() => Decision::Audit,
            None => Decision::None,
        };
        Some((decision, found.decider.map(|d| d.0), found.audit))
    }

    /// The line after `line` in its bucket, if any.
    #[inline(always)]
    fn next(line: &Line) -> Option<usize> {
        let n = u32::from_le_bytes([line.next[0], line.next[1], line.next[2], 0]) as usize;
        (n != 0).then_some(n)
    }

    /// The keys of at least `d` labels that `host` may match, from the
    /// bucket of its `d`-label suffix, and, when that bucket redirects, from
    /// the deeper buckets first. One pass over the bucket's lines compares
    /// every slot with every wanted tag; a match is verified.
    #[inline(always)]
    fn level(
        &self,
        d: usize,
        host: &[u8],
        hashes: &[u64],
        starts: &[u8; MAX_LABELS],
        found: &mut Found,
        reads: &mut impl Reads,
    ) {
        let labels = hashes.len();
        // Wanted: the suffixes of d..=labels labels, then the redirect.
        let mut want = [0u16; MAX_LABELS + 1];
        let mut n = 0;
        for &h in &hashes[d - 1..] {
            want[n] = tag(h);
            n += 1;
        }
        let redirect = d < labels;
        if redirect {
            want[n] = tag(hashes[d - 1] ^ REDIRECT);
            n += 1;
        }
        // (wanted index, entry) of every matching slot, in slot order. More
        // than fit (tags that many keys share, which a file could be made
        // to hold) leave the answer to the automaton.
        let mut hits = [(0u8, 0u32); 8];
        let mut nh = 0;
        let mut at = Some(bucket(hashes[d - 1], self.buckets));
        while let Some(i) = at {
            reads.read(0, i * 64, 64);
            let Some(line) = self.lines.get(i) else {
                return;
            };
            at = Self::next(line);
            for (j, &t) in want[..n].iter().enumerate() {
                let mut m = line.mask(t);
                while m != 0 {
                    let slot = m.trailing_zeros() as usize;
                    m &= m - 1;
                    let Some(h) = hits.get_mut(nh) else {
                        found.overflow = true;
                        return;
                    };
                    *h = (
                        j as u8,
                        line.entries + u32::from(line.offsets[slot % SLOTS]),
                    );
                    nh += 1;
                }
            }
        }
        if redirect && hits[..nh].iter().any(|&(j, _)| usize::from(j) == n - 1) {
            self.level(d + 1, host, hashes, starts, found, reads);
            if found.done() {
                return;
            }
        }
        // Most specific first: the last wanted suffix is the whole host.
        let suffixes = n - usize::from(redirect);
        for j in (0..suffixes).rev() {
            for &(hj, entry) in &hits[..nh] {
                if usize::from(hj) == j {
                    let k = d - 1 + j;
                    let suffix = &host[usize::from(starts[k])..];
                    self.verify(entry as usize, suffix, k + 1 == labels, found, reads);
                    if found.done() {
                        return;
                    }
                }
            }
        }
    }

    /// Compares the entry at `at` with `suffix`; on equality, takes its
    /// records (the root `Url` only when the suffix is the whole host).
    #[inline(always)]
    fn verify(
        &self,
        at: usize,
        suffix: &[u8],
        whole: bool,
        found: &mut Found,
        reads: &mut impl Reads,
    ) {
        let e = &self.entries;
        let Some(&len) = e.get(at) else { return };
        let len = usize::from(len);
        reads.read(2, at, len + 2);
        if e.get(at + 1..at + 1 + len) != Some(suffix) {
            return;
        }
        let flags = e[at + 1 + len];
        let mut r = at + 2 + len;
        let rec = |r: usize| u32::from_le_bytes([e[r], e[r + 1], e[r + 2], 0]);
        if flags & HAS_ROOT != 0 {
            reads.read(2, r, 3);
            if whole {
                found.take(rec(r), ACTIONS[usize::from(flags >> ROOT_ACTION & 3)]);
            }
            r += 3;
        }
        if flags & HAS_DOMAIN != 0 && !found.done() {
            reads.read(2, r, 3);
            found.take(rec(r), ACTIONS[usize::from(flags >> DOMAIN_ACTION & 3)]);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, path) = match &args[..] {
        [c, p, ..] => (c.as_str(), p.as_str()),
        _ => {
            eprintln!("usage: index_model check|run|lines|bytes SET [PASSES]");
            std::process::exit(2)
        }
    };
    let per_bucket = std::env::var("PER_BUCKET")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let set = IndicatorSet::open(std::path::Path::new(path)).expect("set opens");
    let model = Model::build(&set, per_bucket);
    let urls = indset_test_support::data::request_urls();
    let hosts = indset_test_support::data::request_hosts(&urls);
    match cmd {
        "check" => {
            let (mut same, mut differ, mut deep) = (0, 0, 0);
            for h in &hosts {
                let v = set.check_at(h.as_bytes(), Mode::Domain, NOW);
                let Some(got) = model.lookup(h.as_bytes(), &mut ()) else {
                    deep += 1;
                    continue;
                };
                let want = (
                    v.decision,
                    v.indicator.map(|i| i.record() as u32),
                    v.audit.map(|i| i.record() as u32),
                );
                if got == want {
                    same += 1;
                } else {
                    differ += 1;
                    if differ <= 10 {
                        eprintln!("{h}: model {got:?}, set {want:?}");
                    }
                }
            }
            println!(
                "{} requests: {same} same verdict and records, {differ} differ, {deep} left to the automaton",
                hosts.len()
            );
            if differ > 0 {
                std::process::exit(1);
            }
        }
        "run" => {
            let passes: usize = args.get(2).and_then(|p| p.parse().ok()).unwrap_or(1);
            // A fourth argument keeps the requests that match (`hits`) or
            // that match nothing (`misses`).
            let decided = |h: &String| {
                set.check_at(h.as_bytes(), Mode::Domain, NOW).decision != Decision::None
            };
            let hosts: Vec<String> = match args.get(3).map(String::as_str) {
                Some("hits") => hosts.iter().filter(|h| decided(h)).cloned().collect(),
                Some("misses") => hosts.iter().filter(|h| !decided(h)).cloned().collect(),
                _ => hosts,
            };
            let hits = passes_of(&model, &hosts, passes);
            println!("{} lookups, {hits} decided", passes * hosts.len());
        }
        "lines" => {
            let mut sums = [(0usize, 0usize); 2];
            for h in &hosts {
                let mut seen = HashSet::new();
                let r = model.lookup(h.as_bytes(), &mut seen);
                let hit = matches!(r, Some((d, _, _)) if d != Decision::None);
                sums[usize::from(hit)].0 += seen.len();
                sums[usize::from(hit)].1 += 1;
            }
            let per = |(l, n): (usize, usize)| l as f64 / n.max(1) as f64;
            println!(
                "cache lines per lookup (the header line counted): match {:.2} ({} lookups), miss {:.2} ({} lookups)",
                per(sums[1]),
                sums[1].1,
                per(sums[0]),
                sums[0].1
            );
        }
        "bytes" => {
            let n = set.len() as f64;
            let overflow = model.lines.len() - model.buckets;
            println!(
                "{} indicators, {} bucket lines + {overflow} overflow lines: lines {:.2}, entries {:.2} bytes per indicator \
                 (of which record numbers {:.2}; storing each base once per bucket would save {:.2})",
                set.len(),
                model.buckets,
                (model.lines.len() * 64) as f64 / n,
                model.entries.len() as f64 / n,
                model.record_bytes as f64 / n,
                model.base_saving as f64 / n
            );
        }
        _ => {
            eprintln!("unknown command {cmd}");
            std::process::exit(2)
        }
    }
}

/// The profiled loop (not inlined, so that callgrind counts inside it).
#[inline(never)]
fn passes_of(model: &Model, hosts: &[String], passes: usize) -> usize {
    let mut hits = 0;
    for _ in 0..passes {
        for h in hosts {
            let r = model.lookup(black_box(h.as_bytes()), &mut ());
            hits += usize::from(matches!(black_box(r), Some((d, _, _)) if d != Decision::None));
        }
    }
    hits
}
