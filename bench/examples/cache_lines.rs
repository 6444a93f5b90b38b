//! The cache lines of a set's file that one lookup reads (the cache-line
//! figure of `docs/figures.md`), counted from valgrind's memory trace
//! rather than timed: the count does not move with the machine's load.
//!
//! ```text
//! cache_lines queries OUT [EVERY]      write every EVERY-th real request URL (default 15)
//! valgrind --tool=lackey --trace-mem=yes --log-fd=3 \
//!     cache_lines run SET MODE QUERIES 3>trace >info
//! cache_lines count info < trace       lines per lookup, as JSON
//! ```
//!
//! `run` opens the set (memory-mapped), prints the mapping's address range
//! and the address of a marker byte, then reads the marker before every
//! lookup and once after the last, and prints whether each lookup matched.
//! `count` takes every load or modify that falls in the mapping between
//! two reads of the marker as that lookup's, and counts the distinct
//! 64-byte lines they touch: the lines of the set a lookup reads, whatever
//! the cache holds. `scripts/bench.sh` runs the three on the 1M set.
//!
//! valgrind's `lackey` is used because it traces every access with its
//! address; it cannot start tracing late, so `run` reads its queries from
//! a small text file instead of decompressing the requests under it.

use std::collections::HashSet;
use std::hint::black_box;
use std::io::{BufRead, Write};

use indset::{Decision, IndicatorSet, Mode};
use indset_bench::NOW;

/// The byte read between lookups; alone on its cache line.
#[repr(align(64))]
struct Marker([u8; 64]);
static MARKER: Marker = Marker([0; 64]);

fn usage() -> ! {
    eprintln!(
        "usage: cache_lines queries OUT [EVERY] | run SET domain|full QUERIES | count INFO < TRACE"
    );
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["queries", out, ..] => {
            let every = args.get(2).and_then(|e| e.parse().ok()).unwrap_or(15usize);
            let mut text = String::new();
            for r in indset_bench::requests().iter().step_by(every.max(1)) {
                text.push_str(&r.url);
                text.push('\n');
            }
            std::fs::write(out, text).expect("queries written");
        }
        ["run", set, mode, queries] => run(set, mode, queries),
        ["count", info] => count(info),
        _ => usage(),
    }
}

fn run(path: &str, mode: &str, queries: &str) {
    let mode = match mode {
        "domain" => Mode::Domain,
        "full" => Mode::Full,
        _ => usage(),
    };
    let set = IndicatorSet::open(std::path::Path::new(path)).expect("set opens");
    let canonical = std::fs::canonicalize(path).expect("set path");
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
    let (start, end) = maps
        .lines()
        .filter(|l| l.ends_with(canonical.to_string_lossy().as_ref()))
        .filter_map(|l| {
            let (s, e) = l.split_whitespace().next()?.split_once('-')?;
            Some((
                u64::from_str_radix(s, 16).ok()?,
                u64::from_str_radix(e, 16).ok()?,
            ))
        })
        .fold((u64::MAX, 0), |(s, e), (a, b)| (s.min(a), e.max(b)));
    assert!(start < end, "the set's mapping is in /proc/self/maps");
    let bytes = std::fs::read(path).expect("set file");
    let container = indset::format::Container::parse(&bytes).expect("a set");
    // The host index in three parts (its header, its bucket lines, its
    // entries: `format/hosts.rs`), the other sections whole.
    let mut sections: Vec<String> = Vec::new();
    for (id, s) in container.sections() {
        let at = s.as_ptr() as usize - bytes.as_ptr() as usize;
        let name = id.name().unwrap_or("other");
        let u32_at = |i: usize| {
            s.get(i..i + 4)
                .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        };
        if name == "hosts" {
            let lines_at = u32_at(8).min(s.len());
            let entries_at = (lines_at + 64 * u32_at(4)).min(s.len());
            sections.push(format!("hosts-header:{at:x}:{:x}", at + lines_at));
            sections.push(format!(
                "hosts-lines:{:x}:{:x}",
                at + lines_at,
                at + entries_at
            ));
            sections.push(format!(
                "hosts-entries:{:x}:{:x}",
                at + entries_at,
                at + s.len()
            ));
        } else {
            sections.push(format!("{name}:{at:x}:{:x}", at + s.len()));
        }
    }
    let text = std::fs::read_to_string(queries).expect("queries file");
    let queries: Vec<&str> = text.lines().collect();
    // Written at once: `count` reads the trace as it comes and needs these
    // two lines first.
    let mut stdout = std::io::stdout();
    write!(
        stdout,
        "map {start:x} {end:x}\nmark {:x}\nsections {}\n",
        &MARKER.0[0] as *const u8 as usize,
        sections.join(" ")
    )
    .and_then(|()| stdout.flush())
    .expect("stdout");
    let mut out = String::new();
    let mut matched = Vec::with_capacity(queries.len());
    for q in &queries {
        // SAFETY: a read of a valid, aligned, initialised static byte.
        black_box(unsafe { std::ptr::read_volatile(&MARKER.0[0]) });
        let v = set.check_at(black_box(q.as_bytes()), mode, NOW);
        matched.push(v.decision != Decision::None);
    }
    // SAFETY: as above.
    black_box(unsafe { std::ptr::read_volatile(&MARKER.0[0]) });
    for m in matched {
        out.push_str(if m { "1\n" } else { "0\n" });
    }
    std::io::stdout().write_all(out.as_bytes()).expect("stdout");
}

fn count(path: &str) {
    // `run` writes the mapping and the marker before its first lookup, and
    // runs beside this under valgrind, whose trace must keep flowing: the
    // info is read again, while the trace comes, until it is there.
    let hex = |s: &str| u64::from_str_radix(s, 16).ok();
    let read_info = || {
        let info = std::fs::read_to_string(path).unwrap_or_default();
        let mut lines = info.lines();
        let map: Vec<u64> = lines
            .next()?
            .strip_prefix("map ")?
            .split(' ')
            .filter_map(hex)
            .collect();
        let mark = hex(lines.next()?.strip_prefix("mark ")?)?;
        // `name:start:end`, file offsets in hex, in file order.
        let sections: Vec<(String, u64, u64)> = lines
            .next()?
            .strip_prefix("sections ")?
            .split(' ')
            .filter_map(|s| {
                let mut f = s.split(':');
                let name = f.next()?.to_string();
                Some((name, hex(f.next()?)?, hex(f.next()?)?))
            })
            .collect();
        Some((*map.first()?, *map.get(1)?, mark, sections))
    };
    let mut known = None;
    let mut per_lookup: Vec<HashSet<u64>> = Vec::new();
    let mut current: Option<HashSet<u64>> = None;
    let stdin = std::io::stdin();
    for (n, line) in stdin.lock().lines().enumerate() {
        let Ok(line) = line else { break };
        // Data accesses: " L addr,size", " M addr,size" (" S" stores
        // never touch the read-only map; "I" lines are instructions).
        let rest = match line.as_bytes() {
            [b' ', b'L' | b'M', b' ', ..] => &line[3..],
            _ => continue,
        };
        let Some((a, size)) = rest.split_once(',') else {
            continue;
        };
        let Some(addr) = hex(a.trim()) else { continue };
        let size: u64 = size.trim().parse().unwrap_or(1);
        if known.is_none() && (size == 1 || n % 65_536 == 0) {
            known = read_info();
        }
        let Some((start, end, mark, _)) = &known else {
            continue;
        };
        let (start, end, mark) = (*start, *end, *mark);
        if addr == mark {
            if let Some(seen) = current.take() {
                per_lookup.push(seen);
            }
            current = Some(HashSet::new());
            continue;
        }
        if let Some(seen) = current.as_mut()
            && addr >= start
            && addr < end
        {
            // Lines as file offsets: the map starts at the file's start.
            let (a, z) = (addr - start, addr - start + size.max(1) - 1);
            for l in (a >> 6)..=(z >> 6) {
                seen.insert(l);
            }
        }
    }
    // The trace has ended, so has `run`: its answers are all written.
    let info = std::fs::read_to_string(path).expect("info file");
    let matched: Vec<bool> = info.lines().skip(3).map(|l| l == "1").collect();
    let sections = known.map(|k| k.3).unwrap_or_default();
    assert_eq!(
        per_lookup.len(),
        matched.len(),
        "one count per lookup between the markers"
    );
    let counts: Vec<usize> = per_lookup.iter().map(HashSet::len).collect();
    let stats = |want: bool| {
        let mut v: Vec<usize> = counts
            .iter()
            .zip(&matched)
            .filter(|(_, m)| **m == want)
            .map(|(n, _)| *n)
            .collect();
        v.sort_unstable();
        if v.is_empty() {
            return "null".to_string();
        }
        let mean = v.iter().sum::<usize>() as f64 / v.len() as f64;
        let p = |q: f64| v[((q * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)];
        // The mean lines per lookup in each section (the header and table
        // count as "container").
        let mut by_section: Vec<(String, usize)> = Vec::new();
        for (seen, _) in per_lookup.iter().zip(&matched).filter(|(_, m)| **m == want) {
            for &line in seen {
                let name = sections
                    .iter()
                    .find(|(_, s, e)| line << 6 < *e && (line << 6) + 64 > *s)
                    .map_or("container", |(n, _, _)| n.as_str());
                match by_section.iter_mut().find(|(n, _)| n == name) {
                    Some((_, c)) => *c += 1,
                    None => by_section.push((name.to_string(), 1)),
                }
            }
        }
        let by_section: Vec<String> = by_section
            .iter()
            .map(|(n, c)| format!("\"{n}\": {:.2}", *c as f64 / v.len() as f64))
            .collect();
        format!(
            "{{\"lookups\": {}, \"mean\": {mean:.2}, \"p50\": {}, \"p99\": {}, \"max\": {}, \"sections\": {{{}}}}}",
            v.len(),
            p(0.5),
            p(0.99),
            v[v.len() - 1],
            by_section.join(", ")
        )
    };
    println!("{{\"miss\": {}, \"match\": {}}}", stats(false), stats(true));
}
