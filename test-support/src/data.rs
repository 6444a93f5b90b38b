//! The real lists in `data/`, read with deliberately simple code, and a
//! deterministic generator of realistic names to grow them to any size:
//! the inputs of the quick lookup benchmark, the allocation tests and the
//! profiling example.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indset::{Action, Indicator, Kind, Meta, Source, canon};

use crate::rng::Rng;

/// The repository's `data/` directory.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("test-support/ sits in the repository")
        .join("data")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(data_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A canonical indicator, or `None` when the canonicaliser rejects it.
pub fn indicator(
    kind: Kind,
    value: &str,
    action: Action,
    file: &Arc<str>,
    line: u64,
) -> Option<Indicator> {
    let (host, path) = canon::indicator(kind, value).ok()?;
    Some(Indicator {
        kind,
        host,
        path,
        action,
        meta: Meta::default().into(),
        source: Source {
            file: Arc::clone(file),
            line,
            nth: 0,
        },
    })
}

const BOILERPLATE: &[&str] = &[
    "localhost",
    "localhost.localdomain",
    "local",
    "broadcasthost",
    "0.0.0.0",
];

/// `data/stevenblack-hosts-2019.txt`: every host name a Block domain.
pub fn stevenblack() -> Vec<Indicator> {
    let file: Arc<str> = Arc::from("stevenblack-hosts-2019.txt");
    let mut out = Vec::new();
    for (n, line) in read(&file).lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        for name in line.split_whitespace().skip(1) {
            if BOILERPLATE.contains(&name) || name.starts_with("ip6-") {
                continue;
            }
            out.extend(indicator(
                Kind::DomainName,
                name,
                Action::Block,
                &file,
                n as u64 + 1,
            ));
        }
    }
    out
}

/// `data/urlhaus-indicators.csv`: its `Url` and `DomainName` rows (no
/// titles: the size budget is for indicators without them).
pub fn urlhaus() -> Vec<Indicator> {
    let file: Arc<str> = Arc::from("urlhaus-indicators.csv");
    let mut out = Vec::new();
    for (n, line) in read(&file).lines().enumerate().skip(1) {
        let mut cols = line.splitn(3, ',');
        let (Some(kind), Some(value)) = (cols.next(), cols.next()) else {
            continue;
        };
        let kind = match kind {
            "Url" => Kind::Url,
            "DomainName" => Kind::DomainName,
            _ => continue,
        };
        out.extend(indicator(kind, value, Action::Block, &file, n as u64 + 1));
    }
    out
}

/// `data/eth-phishing-detect.txt`: `allow x` lines Allow, the rest Block.
pub fn eth_phishing() -> Vec<Indicator> {
    let file: Arc<str> = Arc::from("eth-phishing-detect.txt");
    let mut out = Vec::new();
    for (n, line) in read(&file).lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (action, value) = match line.split_once(' ') {
            Some(("allow", v)) => (Action::Allow, v),
            Some(("block", v)) => (Action::Block, v),
            _ => (Action::Block, line),
        };
        let kind = if value.contains('/') {
            Kind::Url
        } else {
            Kind::DomainName
        };
        out.extend(indicator(kind, value, action, &file, n as u64 + 1));
    }
    out
}

/// `data/disposable-email-domains.txt`: Block domains.
pub fn disposable() -> Vec<Indicator> {
    let file: Arc<str> = Arc::from("disposable-email-domains.txt");
    read(&file)
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|(n, l)| indicator(Kind::DomainName, l, Action::Block, &file, n as u64 + 1))
        .collect()
}

/// Every real list, duplicates across lists merged (first kept).
pub fn real() -> Vec<Indicator> {
    let mut all = stevenblack();
    all.extend(urlhaus());
    all.extend(eth_phishing());
    all.extend(disposable());
    dedup(all)
}

/// Keeps the first indicator of each key.
pub fn dedup(all: Vec<Indicator>) -> Vec<Indicator> {
    let mut seen = HashSet::new();
    all.into_iter()
        .filter(|i| seen.insert((i.kind, i.host.clone(), i.path.clone())))
        .collect()
}

const SYLLABLES: &[&str] = &[
    "ka", "ro", "mi", "net", "lo", "an", "ex", "sta", "tri", "ver", "po", "lin", "da", "shop",
    "ma", "te", "cloud", "go", "bit", "pay", "sec", "ur", "in", "fo", "zo", "qui", "ba", "de",
    "el", "on", "cdn", "app",
];
const TLDS: &[&str] = &[
    "com", "com", "com", "com", "net", "net", "org", "ru", "de", "info", "xyz", "top", "io",
    "co.uk", "cn", "br", "online", "site", "club", "pl", "in", "com.br", "fr", "biz",
];
const SUBDOMAINS: &[&str] = &[
    "www", "mail", "cdn", "api", "m", "static", "login", "secure", "app", "img",
];
const PATH_WORDS: &[&str] = &[
    "bin",
    "x86",
    "i",
    "mozi",
    "a",
    "wp-content",
    "uploads",
    "sh",
    "files",
    "download",
    "update",
    "login",
];

fn label(rng: &mut Rng) -> String {
    let mut l = String::new();
    for _ in 0..2 + rng.below(3) {
        l.push_str(rng.pick(SYLLABLES));
    }
    if rng.below(5) == 0 {
        l.push_str(&rng.below(1000).to_string());
    }
    l
}

/// `n` generated indicators shaped like the real feeds: 85% domains (a
/// third of them with a subdomain), 15% URLs with one to three path
/// segments; 94% Block, 3% Allow, 2% Audit, 1% Warn. Names may repeat;
/// [`million`] removes repeats.
pub fn generated(n: usize, seed: u64) -> Vec<Indicator> {
    let file: Arc<str> = Arc::from("generated");
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut host = format!("{}.{}", label(&mut rng), rng.pick(TLDS));
        if rng.below(3) == 0 {
            host = format!("{}.{host}", rng.pick(SUBDOMAINS));
        }
        let action = match rng.below(100) {
            0..=2 => Action::Allow,
            3..=4 => Action::Audit,
            5 => Action::Warn,
            _ => Action::Block,
        };
        let line = out.len() as u64 + 1;
        let made = if rng.below(100) < 15 {
            let mut path = String::new();
            for _ in 0..1 + rng.below(3) {
                path.push('/');
                path.push_str(rng.pick(PATH_WORDS));
            }
            if rng.below(2) == 0 {
                path.push_str(&format!("/{:x}", rng.next_u64() & 0xffff_ffff));
            }
            indicator(
                Kind::Url,
                &format!("http://{host}{path}"),
                action,
                &file,
                line,
            )
        } else {
            indicator(Kind::DomainName, &host, action, &file, line)
        };
        out.extend(made);
    }
    out
}

/// The real lists plus generated names: exactly `n` unique keys (or the
/// real lists alone when they already hold `n`).
pub fn sized(n: usize) -> Vec<Indicator> {
    let mut all = real();
    all.truncate(n);
    let mut seed = 0x1d5e7;
    while all.len() < n {
        let missing = n - all.len();
        all.extend(generated(missing + missing / 50 + 16, seed));
        all = dedup(all);
        all.truncate(n);
        seed += 1;
    }
    all
}

/// One million indicators: the real lists plus generated names.
pub fn million() -> Vec<Indicator> {
    sized(1_000_000)
}

/// Where `examples/profile_lookups` writes the 1M set it profiles, which
/// the other profiling examples read: `profile-1m.indset` in
/// `$CARGO_TARGET_DIR`, `target/` when it is not set.
pub fn profile_set_path() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join("profile-1m.indset")
}

/// The set at `path`, [`profile_set_path`] when `None`; when it cannot be
/// opened, exits with status 2 and a message that says how to make it.
pub fn open_profile_set(path: Option<PathBuf>) -> indset::IndicatorSet<indset::Mapped> {
    let path = path.unwrap_or_else(profile_set_path);
    indset::IndicatorSet::open(&path).unwrap_or_else(|e| {
        eprintln!(
            "cannot open {}: {e} (examples/profile_lookups writes {})",
            path.display(),
            profile_set_path().display()
        );
        std::process::exit(2)
    })
}

/// The `url` of every line of `data/requests-top500-2019.jsonl.gz`.
pub fn request_urls() -> Vec<String> {
    crate::requests::all().into_iter().map(|r| r.url).collect()
}

/// The host of each request URL that has one, as a domain-mode query sees
/// it (SNI); URLs without a valid host are left out.
pub fn request_hosts(urls: &[String]) -> Vec<String> {
    urls.iter()
        .filter_map(|u| {
            let mut out = [0u8; canon::HOST_BUF_LEN];
            let (_, n) = canon::query_host(u.as_bytes(), &mut out).ok()?;
            Some(String::from_utf8_lossy(&out[..n]).into_owned())
        })
        .collect()
}
