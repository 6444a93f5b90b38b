//! A model of the host index with no filter: the bucket line's tags are
//! the only test a query's suffixes pass before a candidate is verified.
//! It measures what a lookup that matches nothing would cost past
//! canonicalisation in that design, against today's filter and index.
//!
//! ```text
//! cargo build --release --example profile_lookups --example suffix_tags
//! target/release/examples/profile_lookups domain 1 >/dev/null   # builds target/profile-1m.indset
//! valgrind --tool=callgrind --toggle-collect='suffix_tags::model_lookup' \
//!     target/release/examples/suffix_tags misses
//! ```
//!
//! The model files every key host (the domain of a `DomainName` key, the
//! host of a `Url` key) of the set by the state of its base (its last two
//! labels), in lines of 64 bytes: 20 tags of 12 bits in the first 32
//! bytes (five to a word), where the entries' offsets would be in the
//! other 32. A bucket with more hosts than a line holds takes more
//! lines; a base with more than two lines' worth files its hosts of
//! three labels or more by their suffix of three labels, and says so in
//! a bit of its bucket's first line (the words' 16 spare bits), as
//! today's index marks such a base in its filter block. The program
//! prints how many lines the queries scan. Hosts of one label are in a
//! 512-bit mask, as in the set. A query's suffixes are folded right to
//! left with the set's suffix hash (`format/filter.rs`), and each suffix
//! of two labels or more compares its tag with every tag of its base's
//! lines, five at a time in a word. The dots of the host come in as a
//! bitmap, as the canonicaliser hands them to the lookup.
//!
//! `model_lookup` answers "maybe" (a candidate to verify) or "no". The
//! program checks that every request the set matches gets "maybe", and
//! prints how many of the misses do, and the bytes of the lines per key
//! host. `BENCHMARKS.md` reads the figures.

use std::collections::{HashMap, HashSet};
use std::hint::black_box;

use indset::{Decision, Kind, Mode};
use indset_test_support::data;

const K: u64 = 0x9e37_79b9_7f4a_7c15;
const SEED: u64 = 0x243f_6a88_85a3_08d3;
/// Tags a line holds: five 12-bit tags in each of four words.
const SLOTS: usize = 20;
/// Key hosts per line on average: the lines' fill.
const PER_LINE: usize = 14;
/// The low bit of each 12-bit lane of a word (five lanes, 60 bits).
const LOW: u64 = 0x0001_0010_0100_1001;
/// The high bit of each lane.
const HIGH: u64 = LOW << 11;
/// The low eleven bits of each lane.
const LOW11: u64 = LOW * 0x7ff;

#[inline(always)]
fn mix(h: u64, word: u64) -> u64 {
    (h.rotate_left(23) ^ word).wrapping_mul(K)
}

/// Folds `host[start..end]` into `h`: eight bytes at a time, the last
/// word padded with zeros (the set's fold; the same states), the last
/// word from one load where the host has eight bytes around it.
#[inline(always)]
fn fold_label(mut h: u64, host: &[u8], start: usize, end: usize) -> u64 {
    let mut i = start;
    while i + 8 <= end {
        h = mix(h, word(host, i));
        i += 8;
    }
    let r = end - i;
    let last = if r == 0 {
        0
    } else if end >= 8 {
        word(host, end - 8) >> (8 * (8 - r))
    } else if i + 8 <= host.len() {
        word(host, i) & u64::MAX >> (8 * (8 - r))
    } else {
        let mut last = 0u64;
        for (k, &b) in host[i..end].iter().enumerate() {
            last |= u64::from(b) << (8 * k);
        }
        last
    };
    mix(h, last)
}

#[inline(always)]
fn word(host: &[u8], at: usize) -> u64 {
    host.get(at..at + 8)
        .map_or(0, |w| u64::from_le_bytes(w.try_into().unwrap_or_default()))
}

/// Where the label that ends before the highest dot left in `rem`
/// starts, taking that dot out of `rem` (0 and no change when none is
/// left).
#[inline(always)]
fn next_start(rem: &mut u64) -> usize {
    if *rem == 0 {
        return 0;
    }
    let p = 63 - rem.leading_zeros() as usize;
    *rem ^= 1 << p;
    p + 1
}

/// The 12-bit tag of a suffix state (never 0, which marks an empty slot).
#[inline(always)]
fn tag_of(h: u64) -> u64 {
    let t = (h ^ (h >> 29)).wrapping_mul(K) >> 52;
    t | u64::from(t == 0)
}

/// The line index of a base state among `n` buckets.
#[inline(always)]
fn bucket_of(base: u64, n: usize) -> usize {
    let h = (base ^ (base >> 32)).wrapping_mul(0xd6e8_feb8_6659_fd93);
    ((u128::from(h) * n as u128) >> 64) as usize
}

struct Model {
    /// Per bucket, where its lines start in `lines` and how many it has.
    buckets: Vec<(u32, u32)>,
    lines: Vec<[u64; 4]>,
    /// The one-label hosts, by nine bits of their state.
    mask: [u64; 8],
}

/// Whether any of a word's five 12-bit lanes equals `tags` (the tag in
/// every lane): exact, no borrow crosses a lane.
#[inline(always)]
fn has_tag(word: u64, tags: u64) -> bool {
    let x = word ^ tags;
    (!(((x & LOW11) + LOW11) | x) & HIGH) != 0
}

/// "maybe" when a suffix of `host` may be a key host. `dots`: bit `i`
/// for a `.` at byte `i` (hosts of at most 64 bytes).
#[inline(never)]
fn model_lookup(m: &Model, host: &[u8], dots: u64) -> bool {
    lookup(m, host, dots)
}

#[inline(always)]
fn lookup(m: &Model, host: &[u8], dots: u64) -> bool {
    let mut rem = dots;
    // The last label.
    let mut start = next_start(&mut rem);
    let mut h = fold_label(SEED, host, start, host.len());
    if m.mask[(h >> 61) as usize & 7] >> ((h >> 55) & 63) & 1 != 0 {
        return true;
    }
    if start == 0 {
        return false;
    }
    h = next_label(h, host, &mut rem, &mut start);
    let mut lines = m.lines_of(h);
    // Whether the base's longer hosts are filed a level deeper.
    let tag = tag_of(h);
    let mut redirect = marked(lines, tag);
    let mut tags = tag * LOW;
    loop {
        for line in lines {
            if has_tag(line[0], tags)
                | has_tag(line[1], tags)
                | has_tag(line[2], tags)
                | has_tag(line[3], tags)
            {
                return true;
            }
        }
        if start == 0 {
            return false;
        }
        h = next_label(h, host, &mut rem, &mut start);
        if redirect {
            lines = m.lines_of(h);
            redirect = false;
        }
        tags = tag_of(h) * LOW;
    }
}

/// Folds the label before the one that starts at `*start` (which is not
/// 0) into `h`, and moves `*start` to it.
#[inline(always)]
fn next_label(h: u64, host: &[u8], rem: &mut u64, start: &mut usize) -> u64 {
    let end = *start - 1;
    *start = next_start(rem);
    fold_label(h, host, *start, end)
}

/// The word and the bit, among the 16 spare bits of a bucket's first
/// line (bits 60 to 63 of each word), that mark a base of tag `tag` as
/// filed a level deeper.
#[inline(always)]
fn mark_of(tag: u64) -> (usize, u64) {
    ((tag as usize >> 2) & 3, 60 + (tag & 3))
}

/// Whether the first of a bucket's `lines` marks the base of tag `tag`.
#[inline(always)]
fn marked(lines: &[[u64; 4]], tag: u64) -> bool {
    let (word, bit) = mark_of(tag);
    lines.first().is_some_and(|l| l[word] >> bit & 1 != 0)
}

impl Model {
    #[inline(always)]
    fn lines_of(&self, state: u64) -> &[[u64; 4]] {
        let (at, n) = self.buckets[bucket_of(state, self.buckets.len())];
        &self.lines[at as usize..(at + n) as usize]
    }
}

/// The states of `host`'s suffixes, shortest first.
fn states(host: &[u8]) -> Vec<u64> {
    let mut out = Vec::new();
    let mut h = SEED;
    let mut end = host.len();
    loop {
        let start = host[..end]
            .iter()
            .rposition(|&b| b == b'.')
            .map_or(0, |i| i + 1);
        h = fold_label(h, host, start, end);
        out.push(h);
        if start == 0 {
            return out;
        }
        end = start - 1;
    }
}

fn build(hosts: &HashSet<String>) -> (Model, usize, usize) {
    let n = (hosts.len() / PER_LINE).max(1);
    let mut per: Vec<Vec<u64>> = vec![Vec::new(); n];
    let mut mask = [0u64; 8];
    let mut by_base: HashMap<u64, Vec<Vec<u64>>> = HashMap::new();
    for host in hosts {
        let s = states(host.as_bytes());
        if s.len() == 1 {
            mask[(s[0] >> 61) as usize & 7] |= 1 << ((s[0] >> 55) & 63);
        } else {
            by_base.entry(s[1]).or_default().push(s);
        }
    }
    // A base with more hosts than two lines hold files those of three
    // labels or more by their suffix of three labels, and sets its bit
    // (of 16, by its tag) among the spare bits of its bucket's first
    // line. Any other base of that bucket whose tag picks the same bit
    // is read the same way, so it is filed the same way too.
    let mark = |base: u64| (bucket_of(base, n), tag_of(base) & 15);
    let marks: HashSet<(usize, u64)> = by_base
        .iter()
        .filter(|(_, group)| group.len() > 2 * SLOTS)
        .map(|(&base, _)| mark(base))
        .collect();
    let mut redirected = 0;
    for (&base, group) in &by_base {
        let deeper = marks.contains(&mark(base));
        redirected += usize::from(deeper);
        for s in group {
            let key = if deeper && s.len() >= 3 { s[2] } else { s[1] };
            per[bucket_of(key, n)].push(tag_of(*s.last().unwrap()));
        }
    }
    let mut buckets = Vec::with_capacity(n);
    let mut lines = Vec::new();
    let mut most = 0;
    for tags in per {
        let count = tags.len().div_ceil(SLOTS).max(1);
        most = most.max(count);
        buckets.push((lines.len() as u32, count as u32));
        for chunk in 0..count {
            let mut line = [0u64; 4];
            for (i, &t) in tags.iter().skip(chunk * SLOTS).take(SLOTS).enumerate() {
                line[i / 5] |= t << (12 * (i % 5));
            }
            lines.push(line);
        }
    }
    for &(bucket, mark) in &marks {
        let (at, _) = buckets[bucket];
        let (word, bit) = mark_of(mark);
        lines[at as usize][word] |= 1 << bit;
    }
    (
        Model {
            buckets,
            lines,
            mask,
        },
        most,
        redirected,
    )
}

fn dots_of(host: &[u8]) -> u64 {
    host.iter()
        .enumerate()
        .filter(|&(_, &c)| c == b'.')
        .fold(0, |m, (i, _)| m | 1 << i)
}

fn main() {
    let part = std::env::args().nth(1).unwrap_or_else(|| "misses".into());
    let set = data::open_profile_set(None);
    let mut hosts = HashSet::new();
    let mut indicators = 0usize;
    for info in set.iter() {
        indicators += 1;
        let host = match info.kind {
            Kind::DomainName => info.value.as_str(),
            Kind::Url => info.value.split('/').next().unwrap_or_default(),
        };
        hosts.insert(host.to_owned());
    }
    let (model, most, redirected) = build(&hosts);
    let urls = data::request_urls();
    let all = data::request_hosts(&urls);
    let (mut hits, mut misses) = (Vec::new(), Vec::new());
    for q in &all {
        let mut buf = [0u8; indset::canon::HOST_BUF_LEN];
        let Ok((kind, n)) = indset::canon::query_host(q.as_bytes(), &mut buf) else {
            continue;
        };
        if kind.is_ip() || n > 64 {
            continue;
        }
        let host = buf[..n].to_vec();
        if set.check(q.as_bytes(), Mode::Domain).decision == Decision::None {
            misses.push(host);
        } else {
            hits.push(host);
        }
    }
    // Every key host is found as a query of its own, and so every
    // request the set matches (it has a key host among its suffixes).
    // `lookup` inlined here, so that a count inside `model_lookup` is of
    // the profiled loop alone.
    let lost = hosts
        .iter()
        .map(String::as_bytes)
        .chain(hits.iter().map(Vec::as_slice))
        .filter(|h| h.len() <= 64 && !lookup(&model, h, dots_of(h)))
        .count();
    assert_eq!(
        lost, 0,
        "the model said no to a key host or a request the set matches"
    );
    let queries = if part == "hits" { &hits } else { &misses };
    let dots: Vec<u64> = queries.iter().map(|h| dots_of(h)).collect();
    let mut maybe = 0usize;
    for (h, &d) in queries.iter().zip(&dots) {
        maybe += usize::from(model_lookup(&model, black_box(h), black_box(d)));
    }
    // The lines a query scans: its base's, and a redirected base's
    // deeper ones.
    let mut scanned: Vec<usize> = queries
        .iter()
        .map(|h| {
            let s = states(h);
            let Some(&base) = s.get(1) else { return 0 };
            let lines = model.lines_of(base);
            let redirect = marked(lines, tag_of(base));
            lines.len()
                + s.get(2)
                    .filter(|_| redirect)
                    .map_or(0, |&d| model.lines_of(d).len())
        })
        .collect();
    scanned.sort_unstable();
    let mean = scanned.iter().sum::<usize>() as f64 / scanned.len().max(1) as f64;
    let p99 = scanned.get(scanned.len() * 99 / 100).copied().unwrap_or(0);
    let max = scanned.last().copied().unwrap_or(0);
    println!(
        "{part}: {} queries, {maybe} \"maybe\" ({:.2}%), lines a query {mean:.2} (p99 {p99}, at most {max}); {} key hosts of {indicators} indicators in {} buckets, {} lines (at most {most} a bucket, {redirected} bases a level deeper): {:.2} bytes per indicator, and {:.2} for the buckets' directory; {} hits and every key host checked",
        queries.len(),
        100.0 * maybe as f64 / queries.len().max(1) as f64,
        hosts.len(),
        model.buckets.len(),
        model.lines.len(),
        (model.lines.len() * 64) as f64 / indicators as f64,
        (model.buckets.len() * 8) as f64 / indicators as f64,
        hits.len(),
    );
}
