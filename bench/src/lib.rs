//! The benchmark suite's inputs (`benches/suite`, `examples/compile_1m.rs`):
//! the real lists of `data/` read through the public [`Ingester`], a
//! deterministic generator that grows them to any size with names shaped
//! like theirs, the real request URLs, and the query mixes.
//!
//! Everything goes through `indset::ingest` and `indset::canon` only, so a
//! change of the set's internals never breaks these benchmarks.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indset::ingest::{Format, Ingester, Options};
use indset::{Action, Compiled, Compiler, Indicator, Kind, Meta, Source, Timestamp, canon};
pub use indset_test_support::data::data_dir;
pub use indset_test_support::requests::Request;
pub use indset_test_support::rng::Rng;

/// The compile and lookup time of every run: nothing in `data/` expires.
pub const NOW: Timestamp = Timestamp(1_700_000_000);

/// The real indicator lists and the format each is read in.
/// `urlhaus-filter-online.txt` is left out: it is the adblock-syntax source
/// of `urlhaus-indicators.csv`, the same indicators.
pub const REAL_LISTS: &[(&str, Format)] = &[
    ("stevenblack-hosts-2019.txt", Format::Hosts),
    ("urlhaus-indicators.csv", Format::Csv),
    ("eth-phishing-detect.txt", Format::Text),
    ("disposable-email-domains.txt", Format::Text),
];

/// What a compile reads: the real lists from disk and generated `text`
/// lines held in memory.
pub struct Inputs {
    /// Generated indicators, one `action value` a line.
    pub generated: String,
}

impl Inputs {
    /// Compiles everything with [`Compiler`], as `indset compile` does
    /// (without its progress bar and without writing the file); the time
    /// after reading the inputs and the time of `finish` (the build, and
    /// freeing the indicators). Titles and descriptions are kept, as the
    /// command keeps them.
    pub fn compile(&self) -> (Compiled, Duration, Duration) {
        let start = Instant::now();
        let mut c = Compiler::new(Options::at(NOW));
        for (name, format) in REAL_LISTS {
            c.add_path(&data_dir().join(name), *format)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        if !self.generated.is_empty() {
            c.add_reader("generated.txt", self.generated.as_bytes(), Format::Text)
                .expect("reading from memory cannot fail");
        }
        let read = start.elapsed();
        let compiled = c.finish();
        assert!(compiled.report.adds_up(), "compile accounting");
        (compiled, read, start.elapsed() - read)
    }

    /// Ingests everything, as `indset compile` would (no progress bar).
    /// Titles and descriptions are dropped afterwards: the size budget of `docs/figures.md`
    /// is for indicators without them.
    pub fn ingest(&self) -> Vec<Indicator> {
        let mut ing = Ingester::new(Options::at(NOW));
        for (name, format) in REAL_LISTS {
            ing.read_path(&data_dir().join(name), *format)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        if !self.generated.is_empty() {
            ing.read("generated.txt", self.generated.as_bytes(), Format::Text)
                .expect("reading from memory cannot fail");
        }
        let (mut out, report) = ing.finish();
        assert!(report.adds_up(), "ingest accounting");
        for i in &mut out {
            i.meta = Meta::default().into();
        }
        out
    }
}

/// The bundled lists in the order `scripts/demo.sh` gives them to
/// `indset compile`, each read as `--format auto` reads it.
pub const DEMO_LISTS: &[&str] = &[
    "urlhaus-indicators.csv",
    "stevenblack-hosts-2019.txt",
    "eth-phishing-detect.txt",
    "disposable-email-domains.txt",
];

/// The bundled lists compiled exactly as `scripts/demo.sh` compiles them
/// (through [`Compiler`], titles and descriptions kept), and the same
/// inputs ingested in the same order for the peers (without metadata,
/// which no peer reads).
///
/// Each input is named `data/<list>` as the script names it, so that the
/// file's sources section is byte for byte the script's; the duration is
/// the compile's.
pub fn bundled() -> (Compiled, Duration, Vec<Indicator>) {
    let open = |name: &str| {
        std::fs::File::open(data_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let start = Instant::now();
    let mut c = Compiler::new(Options::at(NOW));
    for name in DEMO_LISTS {
        c.add_reader(&format!("data/{name}"), open(name), Format::Auto)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let compiled = c.finish();
    let took = start.elapsed();
    let mut ing = Ingester::new(Options::at(NOW));
    for name in DEMO_LISTS {
        ing.read(&format!("data/{name}"), open(name), Format::Auto)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let (mut indicators, report) = ing.finish();
    assert!(report.adds_up(), "ingest accounting");
    for i in &mut indicators {
        i.meta = Meta::default().into();
    }
    (compiled, took, indicators)
}

/// Draws from observed counts.
struct Histogram<T> {
    values: Vec<T>,
    cumulative: Vec<u64>,
}

impl<T: Clone + Ord> Histogram<T> {
    fn new(items: impl IntoIterator<Item = T>) -> Histogram<T> {
        let mut counts = std::collections::BTreeMap::new();
        for i in items {
            *counts.entry(i).or_insert(0u64) += 1;
        }
        let mut h = Histogram {
            values: Vec::new(),
            cumulative: Vec::new(),
        };
        let mut total = 0;
        for (v, c) in counts {
            total += c;
            h.values.push(v);
            h.cumulative.push(total);
        }
        assert!(total > 0, "a histogram needs at least one observation");
        h
    }

    fn draw(&self, rng: &mut Rng) -> T {
        let total = *self.cumulative.last().expect("non-empty");
        let x = rng.next_u64() % total;
        let i = self.cumulative.partition_point(|&c| c <= x);
        self.values[i].clone()
    }
}

/// The alphabet of a label: `a-z`, `0-9`, `-`; index 37 is "start".
const ALPHABET: &[u8; 37] = b"abcdefghijklmnopqrstuvwxyz0123456789-";
const START: usize = 37;

fn symbol(b: u8) -> Option<usize> {
    ALPHABET.iter().position(|&a| a == b)
}

/// Names shaped like the real lists: label counts, label lengths, the
/// top-level labels and a character bigram model are all counted from the
/// real domains; URL paths are real URL indicators' paths.
pub struct Generator {
    rng: Rng,
    labels: Histogram<usize>,
    label_len: Histogram<usize>,
    tld: Histogram<String>,
    bigram: Vec<Histogram<usize>>,
    paths: Vec<String>,
    seen: HashSet<String>,
}

/// The share of generated indicators that are `Url`s with a path.
const URL_PERCENT: usize = 15;

impl Generator {
    /// A generator learned from `real`, with a fixed seed; never repeats a
    /// value of `real` or one it made before.
    pub fn new(real: &[Indicator]) -> Generator {
        let domains: Vec<&str> = real
            .iter()
            .filter(|i| i.kind == Kind::DomainName && i.host.is_ascii())
            .map(|i| i.host.as_str())
            .collect();
        let inner = || {
            domains
                .iter()
                .flat_map(|h| h.rsplit('.').skip(1))
                .filter(|l| !l.starts_with("xn--"))
        };
        let mut pairs: Vec<Vec<usize>> = vec![Vec::new(); START + 1];
        for label in inner() {
            let mut prev = START;
            for s in label.bytes().filter_map(symbol) {
                pairs[prev].push(s);
                prev = s;
            }
        }
        let bigram = pairs
            .into_iter()
            .map(|next| {
                if next.is_empty() {
                    Histogram::new([0])
                } else {
                    Histogram::new(next)
                }
            })
            .collect();
        let paths: Vec<String> = real
            .iter()
            .filter(|i| i.kind == Kind::Url && i.path.len() > 1)
            .map(|i| i.path.clone())
            .collect();
        assert!(!paths.is_empty(), "the real lists hold URL indicators");
        Generator {
            rng: Rng::new(0x0001_d5e7_2019),
            labels: Histogram::new(domains.iter().map(|h| h.split('.').count())),
            label_len: Histogram::new(inner().map(str::len)),
            tld: Histogram::new(
                domains
                    .iter()
                    .filter_map(|h| h.rsplit('.').next())
                    .map(String::from),
            ),
            bigram,
            paths,
            seen: real.iter().map(Indicator::value).collect(),
        }
    }

    fn label(&mut self, out: &mut String) {
        let len = self.label_len.draw(&mut self.rng).clamp(1, 63);
        let mut prev = START;
        for at in 0..len {
            let mut s = self.bigram[prev].draw(&mut self.rng);
            // No hyphen first, last, or in the third and fourth places
            // (UTS 46 refuses `ab--`), so every name is valid.
            if ALPHABET[s] == b'-' && (at == 0 || at + 1 == len || at == 2 || at == 3) {
                s = self.rng.below(26);
            }
            out.push(ALPHABET[s] as char);
            prev = s;
        }
    }

    /// The next `action value` line, never a repeat.
    fn line(&mut self) -> String {
        loop {
            let mut host = String::new();
            let labels = self.labels.draw(&mut self.rng).max(2);
            for _ in 0..labels - 1 {
                self.label(&mut host);
                host.push('.');
            }
            host.push_str(&self.tld.draw(&mut self.rng));
            let url = self.rng.below(100) < URL_PERCENT;
            let value = if url {
                let path = &self.paths[self.rng.below(self.paths.len())];
                format!("{host}{path}")
            } else {
                host
            };
            if host_too_long(&value) || !self.seen.insert(value.clone()) {
                continue;
            }
            let action = match self.rng.below(100) {
                0..=2 => "allow",
                3..=4 => "audit",
                5 => "warn",
                _ => "block",
            };
            return if url {
                format!("{action} http://{value}\n")
            } else {
                format!("{action} {value}\n")
            };
        }
    }

    /// `n` more lines.
    pub fn lines(&mut self, n: usize) -> String {
        let mut out = String::with_capacity(n * 32);
        for _ in 0..n {
            out.push_str(&self.line());
        }
        out
    }
}

fn host_too_long(value: &str) -> bool {
    value
        .split('/')
        .next()
        .is_some_and(|h| h.len() > canon::MAX_HOST_LEN)
}

/// The real lists alone.
pub fn real() -> Vec<Indicator> {
    Inputs {
        generated: String::new(),
    }
    .ingest()
}

/// The inputs of an `n`-indicator set (`n` at least the real lists' size)
/// and the indicators they compile to: exactly `n`.
pub fn sized(real: &[Indicator], n: usize) -> (Inputs, Vec<Indicator>) {
    let mut generator = Generator::new(real);
    let mut inputs = Inputs {
        generated: generator.lines(n.saturating_sub(real.len())),
    };
    loop {
        let all = inputs.ingest();
        if all.len() >= n {
            assert_eq!(all.len(), n, "the generator never repeats a value");
            return (inputs, all);
        }
        // A generated name the canonicaliser refuses: make up the count.
        inputs.generated.push_str(&generator.lines(n - all.len()));
    }
}

/// Like [`sized`], but the generated lines go straight through
/// `canon::indicator` instead of the whole [`Ingester`] (no per-row
/// accounting, public-suffix or duplicate checks, which the generator
/// makes moot): the same indicators, in a fraction of the time, for the
/// 10M point where ingestion alone would take minutes. Its order is not
/// the ingester's; `build` does not care. With `keep`, the generated
/// lines are also written there, so that `indset compile` can be timed on
/// the same input (`scripts/bench.sh`).
pub fn sized_direct(
    real: &[Indicator],
    n: usize,
    mut keep: Option<&mut dyn std::io::Write>,
) -> Vec<Indicator> {
    let file: Arc<str> = Arc::from("generated.txt");
    let mut generator = Generator::new(real);
    let mut out = real.to_vec();
    out.reserve(n.saturating_sub(out.len()));
    let mut line = 0;
    while out.len() < n {
        let text = generator.lines(n - out.len());
        if let Some(w) = keep.as_mut() {
            w.write_all(text.as_bytes())
                .expect("the generated lines are written");
        }
        for l in text.lines() {
            line += 1;
            let (action, value) = l.split_once(' ').expect("action value");
            let kind = if value.contains('/') {
                Kind::Url
            } else {
                Kind::DomainName
            };
            if let Ok((host, path)) = canon::indicator(kind, value) {
                out.push(Indicator {
                    kind,
                    host,
                    path,
                    action: Action::parse(action).expect("a generated action"),
                    meta: Meta::default().into(),
                    source: Source {
                        file: Arc::clone(&file),
                        line,
                        nth: 0,
                    },
                });
            }
        }
    }
    out
}

/// `n` of `all`, drawn at random with a fixed seed (for the small scale
/// points, where the real lists alone are too many).
pub fn sample(all: &[Indicator], n: usize, seed: u64) -> Vec<Indicator> {
    let mut idx: Vec<usize> = (0..all.len()).collect();
    Rng::new(seed).shuffle(&mut idx);
    idx.truncate(n);
    idx.sort_unstable();
    idx.into_iter().map(|i| all[i].clone()).collect()
}

/// Every line of `data/requests-top500-2019.jsonl.gz`.
pub fn requests() -> Vec<Request> {
    indset_test_support::requests::all()
}

/// A URL that some indicator of `i` matches in full mode: a subdomain and
/// a path under a domain, a longer path under a URL.
pub fn hit_url(i: &Indicator, rng: &mut Rng) -> String {
    const SUB: &[&str] = &["", "", "www.", "cdn.", "img.", "api.", "m."];
    const TAIL: &[&str] = &["", "index.html", "x/y.js?v=3", "a.png", "?id=42"];
    match i.kind {
        Kind::DomainName => format!(
            "https://{}{}/{}",
            SUB[rng.below(SUB.len())],
            i.host,
            TAIL[rng.below(TAIL.len())]
        ),
        _ => {
            let sep = if i.path.ends_with('/') || i.path.contains('?') {
                ""
            } else {
                "/"
            };
            let tail = TAIL[rng.below(TAIL.len())];
            if tail.is_empty() || i.path.contains('?') {
                format!("http://{}{}", i.host, i.path)
            } else {
                format!("http://{}{}{sep}{tail}", i.host, i.path)
            }
        }
    }
}

/// The host of a URL as a domain-mode query sees it (SNI).
pub fn host_of(url: &str) -> String {
    let mut out = [0u8; canon::HOST_BUF_LEN];
    match canon::query_host(url.as_bytes(), &mut out) {
        Ok((_, n)) => String::from_utf8_lossy(&out[..n]).into_owned(),
        Err(_) => url.to_string(),
    }
}

/// `len` requests, `hit_percent` of them made to hit a random indicator
/// of `set` ([`hit_url`]), the rest drawn from `misses`; shuffled.
pub fn mix(
    set: &[Indicator],
    misses: &[Request],
    hit_percent: usize,
    len: usize,
    seed: u64,
) -> Vec<Request> {
    let mut rng = Rng::new(seed);
    let hits = len * hit_percent / 100;
    let mut out: Vec<Request> = (0..len)
        .map(|k| {
            if k < hits {
                let url = hit_url(&set[rng.below(set.len())], &mut rng);
                Request {
                    frame: url.clone(),
                    url,
                    cpt: "other".to_string(),
                }
            } else {
                misses[rng.below(misses.len())].clone()
            }
        })
        .collect();
    rng.shuffle(&mut out);
    out
}
