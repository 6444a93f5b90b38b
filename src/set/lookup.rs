//! The hot lookup: canonicalise the query into a stack buffer, ask the
//! host index (the filter, then the bucket lines of the passed suffixes)
//! for the keys without a path, most specific first; walk the key
//! automaton only for a host with `Url` keys with a path (full mode) or of
//! more than 16 labels, then take the index's keys of its parent domains.
//! The first live candidate of each kind in precedence is the answer.

use super::IndicatorSet;
use crate::canon;
use crate::format::hosts::{self, Fallback};
use crate::format::{ACTION_MASK, ACTIONS, CHAINED, HAS_EXPIRATION, MAX_CHAIN, filter};
use crate::indicator::{Kind, Timestamp};
use crate::verdict::{Decision, Hit, Mode, Verdict};

/// The buffer for a full-mode query of at most [`SHORT_QUERY`] bytes.
const SHORT_BUF_LEN: usize = 1024;
/// The longest query whose canonical form always fits [`SHORT_BUF_LEN`].
const SHORT_QUERY: usize = (SHORT_BUF_LEN - canon::MAX_HOST_LEN - 1) / 3;

/// Calls `f` with a zeroed stack buffer that holds the canonical form of
/// any query of `len` bytes. A canonical URL holds at most a 253-byte host,
/// the root `/` and three bytes per input byte (unescaping only shrinks),
/// so a short query gets a smaller buffer, cheaper to zero, with the same
/// answer.
#[inline(always)]
fn with_url_buf<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    if len <= SHORT_QUERY {
        f(&mut [0u8; SHORT_BUF_LEN])
    } else {
        f(&mut [0u8; canon::QUERY_BUF_LEN])
    }
}

/// The canonical path and query of a full-mode query.
#[derive(Clone, Copy)]
pub(super) struct PathQuery<'q> {
    pub(super) bytes: &'q [u8],
    path_len: usize,
    truncated: bool,
}

/// The most specific live decider and audit record a lookup found, with
/// their flag bytes.
#[derive(Default, Clone, Copy)]
struct Found {
    decider: Option<(Hit, u8)>,
    audit: Option<(Hit, u8)>,
}

impl Found {
    fn progress(&self) -> hosts::Progress {
        hosts::Progress {
            decider: self.decider.is_some(),
            audit: self.audit.is_some(),
        }
    }

    fn verdict(self) -> Verdict {
        let decision = match (self.decider, self.audit) {
            (Some((_, flags)), _) => Decision::from(ACTIONS[(flags & ACTION_MASK) as usize]),
            (None, Some(_)) => Decision::Audit,
            (None, None) => Decision::None,
        };
        Verdict {
            decision,
            indicator: self.decider.map(|(h, _)| h),
            audit: self.audit.map(|(h, _)| h),
            invalid: false,
        }
    }
}

/// The lookup time: given, or read from the system clock the first time a
/// candidate with an expiration needs it.
struct Clock(Option<Timestamp>);

impl Clock {
    fn now(&mut self) -> Timestamp {
        *self.0.get_or_insert_with(Timestamp::now)
    }
}

/// The index's candidates offered to the lookup's [`Found`]: a type, not
/// a closure, so that its `take` is inlined at each of the index's calls
/// (a closure was a function called twice a match: about 20 instructions
/// more for a full-mode match, `BENCHMARKS.md`, Measurements).
struct Offer<'a, D: AsRef<[u8]>> {
    set: &'a IndicatorSet<D>,
    found: &'a mut Found,
    clock: &'a mut Clock,
}

impl<D: AsRef<[u8]>> hosts::Take for Offer<'_, D> {
    #[inline(always)]
    fn take(&mut self, c: hosts::Candidate) -> hosts::Progress {
        self.set.offer(self.found, c, self.clock)
    }
}

impl<D: AsRef<[u8]>> IndicatorSet<D> {
    /// The verdict for `query` in `mode` at the current time: the system
    /// clock is read only when a matching indicator has an expiration.
    ///
    /// In [`Mode::Full`] the query is a URL; in [`Mode::Domain`] it is a
    /// host (SNI, DNS name or Host header; a port is stripped, a URL reduced
    /// to its host) and only `DomainName` indicators and `Url` indicators
    /// for the root path apply.
    ///
    /// Costs one canonicalisation into a stack buffer and, for most
    /// queries, one filter block and a bucket line per level of the host
    /// in the host index (a host with `Url` keys with a path, in full mode,
    /// or of more than 16 labels, also walks the key automaton over the
    /// host and the path); never allocates, never panics. An unparsable query gives
    /// [`Decision::None`] with `invalid` set; an IP literal host matches
    /// nothing.
    pub fn check(&self, query: impl AsRef<[u8]>, mode: Mode) -> Verdict {
        self.lookup(query.as_ref(), mode, &mut Clock(None))
    }

    /// Like [`check`](Self::check) at the time `now`: indicators whose
    /// expiration is at or before `now` are ignored, and the system clock
    /// is never read.
    pub fn check_at(&self, query: impl AsRef<[u8]>, mode: Mode, now: Timestamp) -> Verdict {
        self.lookup(query.as_ref(), mode, &mut Clock(Some(now)))
    }

    fn lookup(&self, query: &[u8], mode: Mode, clock: &mut Clock) -> Verdict {
        let found = match mode {
            Mode::Domain => {
                // A bare plain host (most queries) is canonicalised by the
                // word scan alone, into 64 bytes; the whole host buffer
                // (zeroed, 256 bytes) only for the others. On the real
                // requests that saves about 33 instructions a lookup.
                let mut scanned = [0u8; canon::SCAN_LEN];
                let mut whole: [u8; canon::HOST_BUF_LEN];
                let (host, dots) = match canon::query_host_scanned(query, &mut scanned) {
                    Some((n, dots)) => (scanned.get(..n), Some(dots)),
                    None => {
                        whole = [0u8; canon::HOST_BUF_LEN];
                        let Ok((kind, n, dots)) = canon::query_host_dots(query, &mut whole) else {
                            return Verdict::INVALID;
                        };
                        if kind.is_ip() {
                            return Found::default().verdict();
                        }
                        (whole.get(..n), dots)
                    }
                };
                self.domain(host.unwrap_or_default(), dots, clock)
            }
            Mode::Full => {
                // As in domain mode: most URLs' hosts take the word scan
                // alone (about 41 instructions a lookup fewer). One call
                // of `full` for both paths: a copy in each cost about 90.
                let mut scanned = [0u8; canon::SCAN_LEN];
                let mut whole: [u8; canon::HOST_BUF_LEN];
                let (host, url) = match canon::query_url_scanned(query, &mut scanned) {
                    Some(url) => (scanned.get(..url.host_len), url),
                    None => {
                        whole = [0u8; canon::HOST_BUF_LEN];
                        let Ok(url) = canon::query_url_host(query, &mut whole) else {
                            return Verdict::INVALID;
                        };
                        if url.host_kind.is_ip() {
                            return Found::default().verdict();
                        }
                        (whole.get(..url.host_len), url)
                    }
                };
                self.full(query, host.unwrap_or_default(), &url, clock)
            }
        };
        found.verdict()
    }

    /// What the keys of the URL `query`, whose canonical host (not an IP
    /// literal) is `host`, and of its parent domains say, in full mode.
    #[inline(always)]
    fn full(
        &self,
        query: &[u8],
        host: &[u8],
        url: &canon::QueryUrl<'_>,
        clock: &mut Clock,
    ) -> Found {
        self.ask_index(host, url.host_dots(), true, clock)
            .unwrap_or_else(|Fallback| {
                let found = self.walk_full(query.len(), host, url, clock);
                self.then_index(host, found, clock)
            })
    }

    /// What the keys of the canonical domain `host` (not an IP literal)
    /// and its parent domains say, in domain mode.
    #[inline(always)]
    fn domain(&self, host: &[u8], dots: Option<u64>, clock: &mut Clock) -> Found {
        self.ask_index(host, dots, false, clock)
            .unwrap_or_else(|Fallback| {
                let found = self.walk_domain(host, clock);
                self.then_index(host, found, clock)
            })
    }

    /// The keys of `host` and its parent domains without a path, from the
    /// host index, most specific first: the first live decider and the
    /// first live audit record are the most specific ones. With `paths`
    /// (full mode), a host that has `Url` keys with a path is left to the
    /// automaton, as is everything the index cannot answer.
    #[inline(always)]
    fn ask_index(
        &self,
        host: &[u8],
        dots: Option<u64>,
        paths: bool,
        clock: &mut Clock,
    ) -> Result<Found, Fallback> {
        let Some((range, layout)) = &self.hosts else {
            return Err(Fallback);
        };
        let mut found = Found::default();
        let index = hosts::Hosts::new(self.section(range), layout);
        let mut offer = Offer {
            set: self,
            found: &mut found,
            clock,
        };
        index.lookup(host, dots, self.section(&self.filter), paths, &mut offer)?;
        Ok(found)
    }

    /// After the automaton's walk has found what it holds for `host`: when
    /// the index is the sole store of the keys it files, its keys of the
    /// host's parent domains (and of the host, unless it has more labels
    /// than the index files), which all come after the automaton's in
    /// precedence. A lookup the index cannot follow (only a crafted file
    /// has one) keeps what was found.
    #[inline(never)]
    fn then_index(&self, host: &[u8], mut found: Found, clock: &mut Clock) -> Found {
        if let Some(index) = self.sole_index() {
            let _ = index.lookup_tail(host, self.section(&self.filter), &mut |c| {
                self.offer(&mut found, c, clock)
            });
        }
        found
    }

    /// Takes a candidate of the index (most specific first) into `found`
    /// when it is live: what the lookup has found so far.
    #[inline(always)]
    fn offer(&self, found: &mut Found, c: hosts::Candidate, clock: &mut Clock) -> hosts::Progress {
        if c.record as usize >= self.len {
            return found.progress();
        }
        let live = if c.flags & HAS_EXPIRATION == 0 {
            Some((c.record as usize, c.flags))
        } else {
            self.live_record(c.record as usize, || clock.now())
        };
        if let Some((record, flags)) = live {
            let hit = Hit {
                record: record as u32,
                kind: c.kind,
                len: u16::try_from(c.len).unwrap_or(u16::MAX),
            };
            if flags & ACTION_MASK == 3 {
                found.audit.get_or_insert((hit, flags));
            } else {
                found.decider.get_or_insert((hit, flags));
            }
        }
        found.progress()
    }

    /// Offers a key the automaton found, in increasing precedence: the last
    /// live decider and the last live audit record are the most specific.
    #[inline]
    fn keep_last(&self, found: &mut Found, mut hit: Hit, clock: &mut Clock) {
        let Some((record, flags)) = self.live_record(hit.record as usize, || clock.now()) else {
            return;
        };
        hit.record = record as u32;
        if flags & ACTION_MASK == 3 {
            found.audit = Some((hit, flags));
        } else {
            found.decider = Some((hit, flags));
        }
    }

    /// A domain-mode lookup through the automaton.
    #[inline(never)]
    fn walk_domain(&self, host: &[u8], clock: &mut Clock) -> Found {
        let mut found = Found::default();
        if self.may_match(host) {
            self.walk(host, None, &mut |hit| {
                self.keep_last(&mut found, hit, clock)
            });
        }
        found
    }

    /// A full-mode lookup of a query of `len` bytes through the automaton.
    #[inline(never)]
    fn walk_full(
        &self,
        len: usize,
        host: &[u8],
        url: &canon::QueryUrl<'_>,
        clock: &mut Clock,
    ) -> Found {
        let mut found = Found::default();
        let mut emit = |hit| self.keep_last(&mut found, hit, clock);
        if self.may_match(host) {
            // The path is canonicalised only when the walk reaches the end
            // of the host and a `Url` key goes on from it.
            if let Some(at) = self.walk_host(host, &mut emit) {
                if self.keys().step(at.0, b'/').is_some() {
                    with_url_buf(len, |buf| {
                        self.walk_url_path(at, host, url, buf, &mut emit);
                    });
                }
            }
        }
        found
    }

    /// The path half of a full-mode lookup: canonicalises the path and
    /// query of `url` after `host` in `buf` (as [`canon::url`] would with
    /// that buffer) and walks them from `at`, the state after the host.
    #[inline(never)]
    fn walk_url_path(
        &self,
        at: (usize, u64),
        host: &[u8],
        url: &canon::QueryUrl<'_>,
        buf: &mut [u8],
        emit: &mut impl FnMut(Hit),
    ) {
        let Some(pbuf) = buf.get_mut(host.len()..) else {
            return;
        };
        let w = url.path(pbuf);
        let path = PathQuery {
            bytes: pbuf.get(..w.len).unwrap_or_default(),
            path_len: w.path_len,
            truncated: w.truncated,
        };
        self.walk_path(at, host.len(), path, emit);
    }

    /// Canonicalises `query` into a stack buffer and calls `f` with the
    /// host and (full mode) path, unless the host is an IP literal. `None`
    /// when the query cannot be parsed.
    pub(super) fn with_canonical(
        &self,
        query: &[u8],
        mode: Mode,
        f: impl FnOnce(&[u8], Option<PathQuery<'_>>),
    ) -> Option<()> {
        match mode {
            Mode::Domain => {
                let mut buf = [0u8; canon::HOST_BUF_LEN];
                let (kind, n) = canon::query_host(query, &mut buf).ok()?;
                if !kind.is_ip() {
                    f(buf.get(..n)?, None);
                }
            }
            Mode::Full => with_url_buf(query.len(), |buf| Self::full_url(query, buf, f))?,
        }
        Some(())
    }

    #[inline(always)]
    fn full_url(
        query: &[u8],
        buf: &mut [u8],
        f: impl FnOnce(&[u8], Option<PathQuery<'_>>),
    ) -> Option<()> {
        let u = canon::url(query, buf).ok()?;
        if !u.host_kind.is_ip() {
            let path = PathQuery {
                bytes: u.path_and_query.as_bytes(),
                path_len: u.path_len,
                truncated: u.truncated,
            };
            f(u.host.as_bytes(), Some(path));
        }
        Some(())
    }

    /// Whether a key may match `host` or one of its parent domains: `false`
    /// answers most lookups that match nothing without a walk.
    #[inline]
    fn may_match(&self, host: &[u8]) -> bool {
        filter::may_match(self.section(&self.filter), host)
    }

    /// Walks the keys for `host` (and `path` in full mode; in domain mode
    /// only the root path `/`) and calls `emit` for every matching
    /// indicator, in increasing precedence. At most one step per byte of
    /// the host and path.
    pub(super) fn walk(
        &self,
        host: &[u8],
        path: Option<PathQuery<'_>>,
        emit: &mut impl FnMut(Hit),
    ) {
        let Some(at) = self.walk_host(host, emit) else {
            return;
        };
        match path {
            Some(path) => self.walk_path(at, host.len(), path, emit),
            None => {
                if let Some((root, o)) = self.keys().step(at.0, b'/') {
                    self.emit_at(root, at.1.wrapping_add(o), Kind::Url, host.len() + 1, emit);
                }
            }
        }
    }

    /// Calls `emit` when the state `addr` is final: the key read so far
    /// (`len` bytes of the query, output `out`) is an indicator.
    #[inline(always)]
    fn emit_at(&self, addr: usize, out: u64, kind: Kind, len: usize, emit: &mut impl FnMut(Hit)) {
        if let Some(f) = self.keys().final_output(addr) {
            let record = out.wrapping_add(f);
            if let (Ok(record), Ok(len)) = (u32::try_from(record), u16::try_from(len)) {
                emit(Hit { record, kind, len });
            }
        }
    }

    /// Walks `host` from its rightmost byte: `DomainName` keys on label
    /// boundaries, then the exact host. The state and output after the
    /// host, when the walk gets that far.
    #[inline(always)]
    fn walk_host(&self, host: &[u8], emit: &mut impl FnMut(Hit)) -> Option<(usize, u64)> {
        let keys = self.keys();
        let mut addr = keys.root();
        let mut out = 0u64;
        for (i, &b) in host.iter().enumerate().rev() {
            let (next, o) = keys.step(addr, b)?;
            addr = next;
            out = out.wrapping_add(o);
            if b == b'.' {
                self.emit_at(addr, out, Kind::DomainName, host.len() - i - 1, emit);
            }
        }
        if let Some((exact, o)) = keys.step(addr, b'.') {
            self.emit_at(
                exact,
                out.wrapping_add(o),
                Kind::DomainName,
                host.len(),
                emit,
            );
        }
        Some((addr, out))
    }

    /// Walks the canonical path and query from `at`, the state after a
    /// host of `host_len` bytes: the `Url` keys of that exact host, in
    /// increasing path length.
    fn walk_path(
        &self,
        at: (usize, u64),
        host_len: usize,
        path: PathQuery<'_>,
        emit: &mut impl FnMut(Hit),
    ) {
        let keys = self.keys();
        let (mut addr, mut out) = at;
        let pq = path.bytes;
        for (j, &b) in pq.iter().enumerate() {
            let Some((next, o)) = keys.step(addr, b) else {
                return;
            };
            addr = next;
            out = out.wrapping_add(o);
            // The key's path is pq[..k]; it matches when it ends at a `/`, at
            // the end of the path, or before a `/` or `?` of the query (the
            // query prefix rule of docs/matching.md).
            let k = j + 1;
            let covered = k > path.path_len
                || b == b'/'
                || (k == pq.len() && !path.truncated)
                || matches!(pq.get(k), Some(b'/' | b'?'));
            if covered {
                self.emit_at(addr, out, Kind::Url, host_len + k, emit);
            }
        }
    }

    /// The record that decides for the key whose first record is `first`,
    /// and its flags: the first of the key's records that has not expired
    /// at `now()` (read only when a record has an expiration); `None` when
    /// all have.
    #[inline]
    fn live_record(&self, first: usize, mut now: impl FnMut() -> Timestamp) -> Option<(usize, u8)> {
        let records = self.records();
        let mut record = first;
        loop {
            let flags = records.flags(record)?;
            if !self.expired(record, flags, &mut now) {
                return Some((record, flags));
            }
            if flags & CHAINED == 0 || record - first + 1 >= MAX_CHAIN {
                return None;
            }
            record += 1;
        }
    }
}
