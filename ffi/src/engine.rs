//! The engine both bindings wrap: a set that lookups share and a writer
//! replaces, the app configuration beside it, and the answers as plain
//! data. The C functions (`lib.rs`) and the JNI functions (`jni.rs`) only
//! translate arguments and errors.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use indset::flow::{self, dns::BlockAnswer};
use indset::{
    AppConfig, Decision, FlowStatus, FormatError, Hit, IndicatorSet, Kind, Mapped, Mode, Protocol,
    SharedSet, Timestamp, Transport, Verdict,
};

/// A set over a memory-mapped file (the usual case: its pages stay clean,
/// shared with the page cache) or over a copy of the caller's buffer.
pub(crate) enum AnySet {
    Mapped(IndicatorSet<Mapped>),
    Owned(IndicatorSet<Box<[u8]>>),
}

/// Runs `$body` with `$s` bound to the set inside an [`AnySet`].
macro_rules! with_set {
    ($any:expr, $s:ident => $body:expr) => {
        match $any {
            AnySet::Mapped($s) => $body,
            AnySet::Owned($s) => $body,
        }
    };
}

/// A set and the number of the load that made it current (1 for the set
/// the handle was opened with, then one more per swap).
pub(crate) struct Loaded {
    pub(crate) set: AnySet,
    pub(crate) generation: u64,
}

/// What went wrong in a call, with the message for the caller.
#[derive(Debug)]
pub(crate) enum Failure {
    Null(&'static str),
    Utf8(&'static str),
    Io(String),
    Format(String),
    Config(String),
    TooSmall,
    NotFound(&'static str),
    Hidden,
    Argument(String),
}

impl Failure {
    pub(crate) fn message(&self) -> String {
        match self {
            Failure::Null(what) => format!("{what} is a null pointer: pass a valid pointer"),
            Failure::Utf8(what) => format!("{what} is not valid UTF-8: pass UTF-8 text"),
            Failure::Io(m) | Failure::Format(m) | Failure::Config(m) | Failure::Argument(m) => {
                m.clone()
            }
            Failure::TooSmall => {
                "the buffer is too small: call again with the length returned in `needed`".into()
            }
            Failure::NotFound(what) => format!("no {what} matched this query"),
            Failure::Hidden => "the app configuration (DefenderExcludeURLInReport) hides URLs, \
                                hosts and indicator values from reports"
                .into(),
        }
    }
}

fn open_failure(what: &str, e: FormatError) -> Failure {
    match e {
        FormatError::Io(io) => Failure::Io(format!("cannot read {what}: {io}")),
        other => Failure::Format(format!(
            "{what} is not a valid indicator set: {other} (compile it again with `indset compile`)"
        )),
    }
}

/// Opens the set at `path`, memory-mapped.
pub(crate) fn open_path(path: &str) -> Result<AnySet, Failure> {
    IndicatorSet::open(Path::new(path))
        .map(AnySet::Mapped)
        .map_err(|e| open_failure(path, e))
}

/// Opens a set over a copy of `bytes`.
pub(crate) fn open_bytes(bytes: &[u8]) -> Result<AnySet, Failure> {
    IndicatorSet::from_bytes(Box::from(bytes))
        .map(AnySet::Owned)
        .map_err(|e| open_failure("the buffer", e))
}

/// The set, the configuration and the load counter behind one handle.
pub(crate) struct Engine {
    shared: SharedSet<Loaded>,
    /// [`AppConfig`] as three bits, so lookups read it with one load.
    config: AtomicU8,
    generations: AtomicU64,
}

const WEB_PROTECTION: u8 = 1;
const SUPERVISED: u8 = 2;
const EXCLUDE_URL: u8 = 4;

fn config_bits(c: AppConfig) -> u8 {
    (if c.web_protection { WEB_PROTECTION } else { 0 })
        | (if c.supervised { SUPERVISED } else { 0 })
        | (if c.exclude_url_in_report {
            EXCLUDE_URL
        } else {
            0
        })
}

/// How long a swap waits for lookups still on the old set before leaving
/// its release to the last of them.
const SWAP_PATIENCE: Duration = Duration::from_millis(100);

/// The mode a query is checked in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    Full,
    Domain,
    /// As the app configuration says (`issupervised`).
    Config,
}

impl Want {
    pub(crate) fn from_u32(mode: u32) -> Result<Want, Failure> {
        match mode {
            0 => Ok(Want::Full),
            1 => Ok(Want::Domain),
            2 => Ok(Want::Config),
            other => Err(Failure::Argument(format!(
                "unknown mode {other}: pass INDSET_MODE_FULL (0), INDSET_MODE_DOMAIN (1) or \
                 INDSET_MODE_CONFIG (2)"
            ))),
        }
    }
}

/// A verdict as plain data: what the C struct and the Java long carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) decision: u8,
    pub(crate) flags: u32,
    pub(crate) indicator: u32,
    pub(crate) indicator_kind: u8,
    pub(crate) audit: u32,
    pub(crate) audit_kind: u8,
    pub(crate) protocol: u8,
    pub(crate) need: u32,
    pub(crate) generation: u64,
}

pub(crate) const FLAG_INVALID: u32 = crate::INDSET_FLAG_INVALID;
pub(crate) const FLAG_HAS_INDICATOR: u32 = crate::INDSET_FLAG_HAS_INDICATOR;
pub(crate) const FLAG_HAS_AUDIT: u32 = crate::INDSET_FLAG_HAS_AUDIT;
pub(crate) const FLAG_DISABLED: u32 = crate::INDSET_FLAG_DISABLED;
pub(crate) const FLAG_ECH: u32 = crate::INDSET_FLAG_ECH;
pub(crate) const FLAG_NEED_MORE: u32 = crate::INDSET_FLAG_NEED_MORE;
pub(crate) const FLAG_NO_NAME: u32 = crate::INDSET_FLAG_NO_NAME;
pub(crate) const FLAG_NOT_RECOGNISED: u32 = crate::INDSET_FLAG_NOT_RECOGNISED;

pub(crate) fn decision_code(d: Decision) -> u8 {
    match d {
        Decision::None => 0,
        Decision::Allow => 1,
        Decision::Warn => 2,
        Decision::Block => 3,
        Decision::Audit => 4,
    }
}

fn kind_code(k: Kind) -> u8 {
    match k {
        Kind::DomainName => 1,
        Kind::Url => 2,
    }
}

impl Answer {
    pub(crate) fn from_verdict(v: Verdict, generation: u64) -> Answer {
        let mut a = Answer {
            decision: decision_code(v.decision),
            generation,
            ..Answer::default()
        };
        if v.invalid {
            a.flags |= FLAG_INVALID;
        }
        if let Some(hit) = v.indicator {
            a.flags |= FLAG_HAS_INDICATOR;
            a.indicator = hit.record() as u32;
            a.indicator_kind = kind_code(hit.kind());
        }
        if let Some(hit) = v.audit {
            a.flags |= FLAG_HAS_AUDIT;
            a.audit = hit.record() as u32;
            a.audit_kind = kind_code(hit.kind());
        }
        a
    }

    fn disabled(generation: u64) -> Answer {
        Answer {
            flags: FLAG_DISABLED,
            generation,
            ..Answer::default()
        }
    }
}

/// The transport of a flow, from its binding's number.
pub(crate) fn transport(code: u32) -> Result<Transport, Failure> {
    match code {
        0 => Ok(Transport::Tcp),
        1 => Ok(Transport::Udp),
        other => Err(Failure::Argument(format!(
            "unknown transport {other}: pass INDSET_TRANSPORT_TCP (0) or INDSET_TRANSPORT_UDP (1)"
        ))),
    }
}

/// Writes the answer that blocks the DNS `query` into `out`; its length.
/// A short `out` is [`Failure::TooSmall`] with the length in `need`.
pub(crate) fn dns_block_answer(
    query: &[u8],
    transport: Transport,
    nxdomain: bool,
    out: &mut [u8],
    need: &mut usize,
) -> Result<usize, Failure> {
    let answer = if nxdomain {
        BlockAnswer::NxDomain
    } else {
        BlockAnswer::Unspecified
    };
    match flow::dns::write_block_answer(query, transport, answer, out) {
        Ok(n) => {
            *need = n;
            Ok(n)
        }
        Err(flow::dns::DnsError::BufferTooSmall { need: n }) => {
            *need = n;
            Err(Failure::TooSmall)
        }
        Err(other) => Err(Failure::Argument(other.to_string())),
    }
}

/// Which matched indicator a report asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Which {
    Decider,
    Audit,
}

/// Which text of an indicator a report asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    Id,
    Title,
    Value,
    Category,
}

/// Counts of the current set.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counts {
    pub(crate) indicators: u64,
    pub(crate) domains: u64,
    pub(crate) urls: u64,
    pub(crate) actions: [u64; 4],
    pub(crate) expiring: u64,
    pub(crate) with_metadata: u64,
    pub(crate) total_bytes: u64,
    pub(crate) generation: u64,
}

impl Engine {
    pub(crate) fn new(set: AnySet) -> Engine {
        Engine {
            shared: SharedSet::new(Loaded { set, generation: 1 }),
            config: AtomicU8::new(config_bits(AppConfig::default())),
            generations: AtomicU64::new(1),
        }
    }

    pub(crate) fn config(&self) -> AppConfig {
        let bits = self.config.load(Ordering::Relaxed);
        AppConfig {
            web_protection: bits & WEB_PROTECTION != 0,
            supervised: bits & SUPERVISED != 0,
            exclude_url_in_report: bits & EXCLUDE_URL != 0,
        }
    }

    pub(crate) fn set_config(&self, config: AppConfig) {
        self.config.store(config_bits(config), Ordering::Relaxed);
    }

    pub(crate) fn set_config_json(&self, json: &str) -> Result<(), Failure> {
        let config = AppConfig::from_json(json)
            .map_err(|e| Failure::Config(format!("the app configuration is not usable: {e}")))?;
        self.set_config(config);
        Ok(())
    }

    /// Makes `set` current; returns its generation. The old set is
    /// released here unless a lookup still holds it after
    /// [`SWAP_PATIENCE`], when the last lookup on it releases it.
    pub(crate) fn swap(&self, set: AnySet) -> u64 {
        let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        let _ = self
            .shared
            .replace(Loaded { set, generation }, SWAP_PATIENCE);
        generation
    }

    fn mode(&self, want: Want) -> Mode {
        self.mode_with(want, self.config.load(Ordering::Relaxed))
    }

    fn mode_with(&self, want: Want, bits: u8) -> Mode {
        match want {
            Want::Full => Mode::Full,
            Want::Domain => Mode::Domain,
            Want::Config if bits & SUPERVISED != 0 => Mode::Full,
            Want::Config => Mode::Domain,
        }
    }

    /// Checks `query`; `now` None reads the clock only when a match has an
    /// expiration. No allocation.
    pub(crate) fn check(&self, query: &[u8], want: Want, now: Option<Timestamp>) -> Answer {
        // One read of the configuration decides both the mode and whether
        // to check at all.
        let bits = self.config.load(Ordering::Relaxed);
        let mode = self.mode_with(want, bits);
        let loaded = self.shared.load();
        if bits & WEB_PROTECTION == 0 {
            return Answer::disabled(loaded.generation);
        }
        let verdict = with_set!(&loaded.set, s => match now {
            Some(now) => s.check_at(query, mode, now),
            None => s.check(query, mode),
        });
        Answer::from_verdict(verdict, loaded.generation)
    }

    /// Checks a flow's first bytes: the name they carry (TLS or QUIC SNI,
    /// HTTP Host or URL, DNS question), as `IndicatorSet::check_flow`
    /// decides. No allocation.
    pub(crate) fn check_flow(
        &self,
        first_bytes: &[u8],
        transport: Transport,
        want: Want,
        now: Option<Timestamp>,
    ) -> Answer {
        // One read of the configuration decides both the mode and whether
        // to check at all.
        let bits = self.config.load(Ordering::Relaxed);
        let mode = self.mode_with(want, bits);
        let loaded = self.shared.load();
        if bits & WEB_PROTECTION == 0 {
            return Answer::disabled(loaded.generation);
        }
        let seen = with_set!(&loaded.set, s => match now {
            Some(now) => s.check_flow_at(first_bytes, transport, mode, now),
            None => s.check_flow(first_bytes, transport, mode),
        });
        let mut a = Answer::from_verdict(seen.verdict, loaded.generation);
        a.protocol = match seen.protocol {
            None => 0,
            Some(Protocol::Tls) => 1,
            Some(Protocol::Http) => 2,
            Some(Protocol::Dns) => 3,
            Some(Protocol::Quic) => 4,
        };
        match seen.status {
            FlowStatus::Checked => {}
            FlowStatus::NeedMore(n) => {
                a.flags |= FLAG_NEED_MORE;
                a.need = u32::try_from(n).unwrap_or(u32::MAX);
            }
            FlowStatus::NoName => a.flags |= FLAG_NO_NAME,
            FlowStatus::NotRecognised => a.flags |= FLAG_NOT_RECOGNISED,
        }
        if seen.ech {
            a.flags |= FLAG_ECH;
        }
        a
    }

    pub(crate) fn counts(&self) -> Counts {
        let loaded = self.shared.load();
        let s = with_set!(&loaded.set, s => s.stats());
        let n = |x: usize| x as u64;
        Counts {
            indicators: n(s.indicators),
            domains: n(s.domains),
            urls: n(s.urls),
            actions: s.actions.map(n),
            expiring: n(s.expiring),
            with_metadata: n(s.with_metadata),
            total_bytes: n(s.total_bytes),
            generation: loaded.generation,
        }
    }

    /// A text of the indicator that decided (or was reported as the audit
    /// for) `query`. Allocates; for reports.
    pub(crate) fn indicator_text(
        &self,
        query: &[u8],
        want: Want,
        now: Option<Timestamp>,
        which: Which,
        field: Field,
    ) -> Result<String, Failure> {
        let mode = self.mode(want);
        let config = self.config();
        if field == Field::Value && config.exclude_url_in_report {
            return Err(Failure::Hidden);
        }
        let loaded = self.shared.load();
        let now = now.unwrap_or_else(Timestamp::now);
        let verdict = with_set!(&loaded.set, s => s.check_at(query, mode, now));
        let hit: Option<Hit> = match which {
            Which::Decider => verdict.indicator,
            Which::Audit => verdict.audit,
        };
        let hit = hit.ok_or(Failure::NotFound(match which {
            Which::Decider => "deciding indicator",
            Which::Audit => "audit indicator",
        }))?;
        let info = with_set!(&loaded.set, s => s.info(query, mode, hit));
        Ok(match field {
            Field::Id => info.id,
            Field::Title => info.meta.title.unwrap_or_default(),
            Field::Value => info.value,
            Field::Category => info.meta.category.unwrap_or_default(),
        })
    }

    /// Every indicator matching `query` and why the winner won, as lines
    /// of text (`indset explain`'s content). URLs, hosts and values read
    /// `hidden` under `DefenderExcludeURLInReport`. Allocates; for reports.
    pub(crate) fn explain(&self, query: &[u8], want: Want, now: Option<Timestamp>) -> String {
        let mode = self.mode(want);
        let config = self.config();
        let hide = config.exclude_url_in_report;
        let loaded = self.shared.load();
        let now = now.unwrap_or_else(Timestamp::now);
        let e = with_set!(&loaded.set, s => s.explain(query, mode, now));
        let mut out = String::new();
        let shown = |s: &str| {
            if hide {
                "hidden".to_string()
            } else {
                printable(s)
            }
        };
        let _ = writeln!(out, "query: {}", shown(&String::from_utf8_lossy(query)));
        let _ = writeln!(out, "mode: {mode}");
        let _ = writeln!(
            out,
            "canonical: {}",
            e.canonical.as_deref().map_or("(unparsable)".into(), shown)
        );
        if !config.web_protection {
            let _ = writeln!(
                out,
                "verdict: none (WebProtection is off; the set would say {}: {})",
                e.verdict.decision, e.reason
            );
        } else {
            let _ = writeln!(out, "verdict: {} ({})", e.verdict.decision, e.reason);
        }
        for m in &e.matches {
            let _ = writeln!(
                out,
                "match: {} {} {} {} id={} ({})",
                m.info.action.as_str(),
                m.info.kind.as_str(),
                shown(&m.info.value),
                match m.role {
                    indset::Role::Decided => "decided",
                    indset::Role::Reported => "reported",
                    indset::Role::Outranked => "outranked",
                    indset::Role::Expired => "expired",
                },
                printable(&m.info.id),
                m.reason
            );
        }
        out
    }
}

/// `s` with its control characters escaped (`\0` as `\u{0}`, a line feed
/// as `\n`): a report is one C string of one line per item, so a query
/// or an id can neither end it early with a NUL nor forge a line.
fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
