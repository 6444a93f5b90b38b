//! The peers, built from the same canonical indicators as the set.
//!
//! - [`HashWalk`]: what most DNS blockers do, a hash table of names probed
//!   once per label suffix of the host; extended with a table of `Url`
//!   keys probed once per candidate path prefix, so that it gives the same
//!   verdict as `docs/matching.md` (the suite checks that it does). Queries go through
//!   the same `indset::canon` functions as the set's lookups, so the
//!   comparison is between the lookup structures: in full mode, like the
//!   set, it canonicalises the path only when the exact host has `Url`
//!   indicators (a set of those hosts, counted in its memory).
//! - [`Adblock`]: the `adblock` crate (Brave's engine) with `||host^` and
//!   `||host/path^` rules, `@@` for Allow; requests parsed before timing,
//!   as a browser hands them over.

use std::collections::{HashMap, HashSet};

use indset::{Action, Decision, Indicator, Kind, canon};

/// A hash-table suffix walk.
pub struct HashWalk {
    /// `DomainName` indicators by host.
    domains: HashMap<String, Action>,
    /// `Url` indicators by `host` + `path[?query]`.
    urls: HashMap<String, Action>,
    /// `host` + `path` of the `Url` indicators with a query: only there
    /// are the prefixes of a query worth probing.
    with_query: HashSet<String>,
    /// The hosts of the `Url` indicators: only for them is the path of a
    /// query worth canonicalising.
    url_hosts: HashSet<String>,
}

/// Room for a canonical host and a canonical path and query.
const KEY_LEN: usize = canon::HOST_BUF_LEN + canon::QUERY_BUF_LEN;

/// The first `n` bytes of `key`, which hold ASCII (canonical forms are).
fn prefix(key: &[u8], n: usize) -> &str {
    std::str::from_utf8(&key[..n]).unwrap_or("")
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

    /// Domain mode (`docs/matching.md`, Modes): `Url` indicators for `/` on the exact host,
    /// then the host's label suffixes, longest first.
    pub fn check_host(&self, query: &[u8]) -> Decision {
        let mut key = [0u8; KEY_LEN];
        let mut host = [0u8; canon::HOST_BUF_LEN];
        let Ok((kind, n)) = canon::query_host(query, &mut host) else {
            return Decision::None;
        };
        if kind.is_ip() {
            return Decision::None;
        }
        key[..n].copy_from_slice(&host[..n]);
        key[n] = b'/';
        let mut walk = Walk { audit: false };
        if let Some(d) = walk.see(self.urls.get(prefix(&key, n + 1))) {
            return d;
        }
        let host = prefix(&key, n);
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
        let host = prefix(&host, h);
        if !self.url_hosts.contains(host) {
            let mut walk = Walk { audit: false };
            return self.domains(host, &mut walk).unwrap_or_else(|| walk.end());
        }
        let mut key = [0u8; KEY_LEN];
        key[..h].copy_from_slice(host.as_bytes());
        let written = url.path(&mut key[h..canon::QUERY_BUF_LEN]);
        let pq = &key[h..h + written.len];
        let path_len = written.path_len;
        let mut walk = Walk { audit: false };
        if path_len < pq.len() && self.with_query.contains(prefix(&key, h + path_len)) {
            for end in (h + path_len + 1..=h + pq.len()).rev() {
                if let Some(d) = walk.see(self.urls.get(prefix(&key, end))) {
                    return d;
                }
            }
        }
        if let Some(d) = walk.see(self.urls.get(prefix(&key, h + path_len))) {
            return d;
        }
        for at in (1..path_len).rev() {
            if pq[at] == b'/' {
                for end in [h + at + 1, h + at] {
                    if end < h + path_len
                        && let Some(d) = walk.see(self.urls.get(prefix(&key, end)))
                    {
                        return d;
                    }
                }
            }
        }
        if pq.first() == Some(&b'/')
            && path_len > 1
            && let Some(d) = walk.see(self.urls.get(prefix(&key, h + 1)))
        {
            return d;
        }
        self.domains(host, &mut walk).unwrap_or_else(|| walk.end())
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
