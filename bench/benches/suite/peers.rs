//! The peers, built from the same canonical indicators as the set.
//!
//! - [`HashWalk`], the *canonicalising walk*: what most DNS blockers do, a
//!   hash table of names probed once per label suffix of the host;
//!   extended with a table of `Url` keys probed once per candidate path
//!   prefix, so that it gives the same verdict as `docs/matching.md` (the
//!   suite checks that it does). Queries go through the same
//!   `indset::canon` functions as the set's lookups, so the comparison is
//!   between the lookup structures: in full mode, like the set, it
//!   canonicalises the path only when the exact host has `Url` indicators.
//! - [`PlainWalk`], the *plain walk*: the same suffix walk over a bare
//!   `HashSet<String>` of the domain indicators, on the host lower-cased
//!   and nothing else (no canonicalisation, no `Url` indicators, no
//!   actions): what a DNS blocker that trusts its input does. Domain mode
//!   only.
//! - [`Adblock`]: the `adblock` crate (Brave's engine) with `||host^` and
//!   `||host/path^` rules, `@@` for Allow; requests parsed before timing,
//!   as a browser hands them over.
//!
//! The walks do no per-query work the set does not do: like the set's
//! lookup they canonicalise the host into one zeroed `HOST_BUF_LEN` stack
//! buffer and, only when a path has to be canonicalised, into a second
//! buffer sized as the set sizes its own (1 KiB for a short query); each
//! probe is a hash of a slice of that buffer, made a `&str` once per
//! query. Both use the standard library's hasher (`RandomState`,
//! SipHash-1-3), the one a user gets by default.

use std::collections::{HashMap, HashSet};

use indset::{Action, Decision, Indicator, Kind, canon};

/// A hash-table suffix walk behind `indset::canon`.
pub struct HashWalk {
    /// `DomainName` indicators by host.
    domains: HashMap<String, Action>,
    /// `Url` indicators for the root path `/`, by host: the ones domain
    /// mode applies, on the exact host only.
    roots: HashMap<String, Action>,
    /// `Url` indicators by `host` + `path[?query]`.
    urls: HashMap<String, Action>,
    /// `host` + `path` of the `Url` indicators with a query: only there
    /// are the prefixes of a query worth probing.
    with_query: HashSet<String>,
    /// The hosts of the `Url` indicators: only for them is the path of a
    /// query worth canonicalising.
    url_hosts: HashSet<String>,
}

/// The buffer the set's lookup canonicalises a short query's path into
/// (`src/set/lookup.rs`), and the longest query it serves.
const SHORT_BUF_LEN: usize = 1024;
const SHORT_QUERY: usize = (SHORT_BUF_LEN - canon::MAX_HOST_LEN - 1) / 3;

/// Calls `f` with a zeroed buffer for the canonical host, path and query
/// of a query of `len` bytes, sized as the set sizes its own.
#[inline(always)]
fn with_key_buf<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    if len <= SHORT_QUERY {
        f(&mut [0u8; SHORT_BUF_LEN])
    } else {
        f(&mut [0u8; canon::QUERY_BUF_LEN])
    }
}

/// The precedence walk's state: the decider ends it, the first (most
/// specific) audit is kept.
struct Walk {
    audit: bool,
}

impl Walk {
    /// `Some` when `a` decides.
    fn see(&mut self, a: Option<&Action>) -> Option<Decision> {
        match a {
            Some(Action::Audit) => {
                self.audit = true;
                None
            }
            Some(a) => Some(Decision::from(*a)),
            None => None,
        }
    }

    fn end(self) -> Decision {
        if self.audit {
            Decision::Audit
        } else {
            Decision::None
        }
    }
}

impl HashWalk {
    /// The tables for `indicators`.
    pub fn new(indicators: &[Indicator]) -> HashWalk {
        let mut w = HashWalk {
            domains: HashMap::new(),
            roots: HashMap::new(),
            urls: HashMap::new(),
            with_query: HashSet::new(),
            url_hosts: HashSet::new(),
        };
        for i in indicators {
            match i.kind {
                Kind::DomainName => {
                    w.domains.insert(i.host.clone(), i.action);
                }
                _ => {
                    w.urls.insert(i.value(), i.action);
                    w.url_hosts.insert(i.host.clone());
                    if i.path == "/" {
                        w.roots.insert(i.host.clone(), i.action);
                    }
                    if let Some((path, _)) = i.path.split_once('?') {
                        w.with_query.insert(format!("{}{path}", i.host));
                    }
                }
            }
        }
        w
    }

    /// The number of indicators.
    pub fn len(&self) -> usize {
        self.domains.len() + self.urls.len()
    }

    fn domains(&self, host: &str, walk: &mut Walk) -> Option<Decision> {
        let mut suffix = host;
        loop {
            if let Some(d) = walk.see(self.domains.get(suffix)) {
                return Some(d);
            }
            match suffix.find('.') {
                Some(dot) => suffix = &suffix[dot + 1..],
                None => return None,
            }
        }
    }

    /// Domain mode (`docs/matching.md`, Modes): `Url` indicators for `/` on
    /// the exact host, then the host's label suffixes, longest first.
    pub fn check_host(&self, query: &[u8]) -> Decision {
        let mut host = [0u8; canon::HOST_BUF_LEN];
        let Ok((kind, n)) = canon::query_host(query, &mut host) else {
            return Decision::None;
        };
        if kind.is_ip() {
            return Decision::None;
        }
        let Some(host) = host.get(..n).and_then(|h| std::str::from_utf8(h).ok()) else {
            return Decision::None;
        };
        let mut walk = Walk { audit: false };
        if let Some(d) = walk.see(self.roots.get(host)) {
            return d;
        }
        self.domains(host, &mut walk).unwrap_or_else(|| walk.end())
    }

    /// Full mode (`docs/matching.md`, Paths and queries, Which indicator
    /// decides): the `Url` keys of the exact host for every candidate path
    /// prefix, longest first, then the host's label suffixes.
    pub fn check_url(&self, query: &[u8]) -> Decision {
        let mut host = [0u8; canon::HOST_BUF_LEN];
        let Ok(url) = canon::query_url_host(query, &mut host) else {
            return Decision::None;
        };
        if url.host_kind.is_ip() {
            return Decision::None;
        }
        let h = url.host_len;
        let Some(host) = host.get(..h).and_then(|b| std::str::from_utf8(b).ok()) else {
            return Decision::None;
        };
        let mut walk = Walk { audit: false };
        if self.url_hosts.contains(host)
            && let Some(d) = with_key_buf(query.len(), |key| self.paths(host, &url, key, &mut walk))
        {
            return d;
        }
        self.domains(host, &mut walk).unwrap_or_else(|| walk.end())
    }

    /// The `Url` keys of `host` for the path of `url`, longest first: the
    /// host is copied before the canonical path in `key` (the one thing
    /// the set, which walks the host and the path as they lie, does not
    /// do: about 18 bytes).
    fn paths(
        &self,
        host: &str,
        url: &canon::QueryUrl<'_>,
        key: &mut [u8],
        walk: &mut Walk,
    ) -> Option<Decision> {
        let h = host.len();
        key.get_mut(..h)?.copy_from_slice(host.as_bytes());
        let written = url.path(key.get_mut(h..)?);
        let key = std::str::from_utf8(key.get(..h + written.len)?).ok()?;
        let pq = &key.as_bytes()[h..];
        let path_len = written.path_len;
        let probe = |end: usize| self.urls.get(key.get(..end)?);
        if path_len < pq.len()
            && key
                .get(..h + path_len)
                .is_some_and(|p| self.with_query.contains(p))
        {
            for end in (h + path_len + 1..=h + pq.len()).rev() {
                if let Some(d) = walk.see(probe(end)) {
                    return Some(d);
                }
            }
        }
        if let Some(d) = walk.see(probe(h + path_len)) {
            return Some(d);
        }
        for at in (1..path_len).rev() {
            if pq[at] == b'/' {
                for end in [h + at + 1, h + at] {
                    if end < h + path_len
                        && let Some(d) = walk.see(probe(end))
                    {
                        return Some(d);
                    }
                }
            }
        }
        if pq.first() == Some(&b'/')
            && path_len > 1
            && let Some(d) = walk.see(probe(h + 1))
        {
            return Some(d);
        }
        None
    }
}

/// A `HashSet<String>` suffix walk over the domain indicators, on hosts
/// lower-cased and nothing else.
pub struct PlainWalk {
    domains: HashSet<String>,
}

impl PlainWalk {
    /// The set of `indicators`' domain names (every action: the walk
    /// answers whether a name is listed).
    pub fn new(indicators: &[Indicator]) -> PlainWalk {
        PlainWalk {
            domains: indicators
                .iter()
                .filter(|i| i.kind == Kind::DomainName)
                .map(|i| i.host.clone())
                .collect(),
        }
    }

    /// Whether `host` or one of its parent domains is listed. An
    /// upper-case host is lower-cased into a stack buffer first (real
    /// hosts seldom need it); nothing else is done to it.
    pub fn listed(&self, host: &str) -> bool {
        if host.bytes().any(|b| b.is_ascii_uppercase()) {
            let mut buf = [0u8; canon::HOST_BUF_LEN];
            let Some(lower) = buf.get_mut(..host.len()) else {
                return false;
            };
            lower.copy_from_slice(host.as_bytes());
            lower.make_ascii_lowercase();
            return std::str::from_utf8(lower).is_ok_and(|h| self.walk(h));
        }
        self.walk(host)
    }

    fn walk(&self, host: &str) -> bool {
        let mut suffix = host;
        loop {
            if self.domains.contains(suffix) {
                return true;
            }
            match suffix.find('.') {
                Some(dot) => suffix = &suffix[dot + 1..],
                None => return false,
            }
        }
    }
}

/// Brave's `adblock` engine on the same indicators.
pub struct Adblock {
    engine: adblock::Engine,
}

/// A request parsed for the engine, and what it was made from.
#[derive(Clone)]
pub struct Parsed(adblock::request::Request);

impl Adblock {
    /// The adblock rules for `indicators`: Allow as an exception, every
    /// other action (the engine knows no warn or audit) as a block.
    pub fn rules(indicators: &[Indicator]) -> String {
        let mut out = String::with_capacity(indicators.len() * 24);
        for i in indicators {
            if i.action == Action::Allow {
                out.push_str("@@");
            }
            out.push_str("||");
            out.push_str(&i.host);
            if i.kind == Kind::Url {
                out.push_str(&i.path);
            }
            out.push_str("^\n");
        }
        out
    }

    /// An engine over `rules` (from [`Adblock::rules`]).
    pub fn new(rules: String) -> Adblock {
        let mut set = adblock::lists::FilterSet::new(false);
        set.add_filter_list(rules, adblock::lists::ParseOptions::default());
        Adblock {
            engine: adblock::Engine::new_with_filter_set(set),
        }
    }

    /// A request as a browser passes it: URL, frame URL and content type.
    pub fn parse(url: &str, frame: &str, cpt: &str) -> Option<Parsed> {
        adblock::request::Request::new(url, frame, cpt, "GET")
            .ok()
            .map(Parsed)
    }

    /// Whether the engine blocks `request`.
    pub fn blocks(&self, request: &Parsed) -> bool {
        self.engine.check_network_request(&request.0).should_block()
    }
}
