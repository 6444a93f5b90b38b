//! First bytes to a decision, with the library's flow functions
//! (`indset::flow`): the name a flow carries (TLS SNI, the HTTP request,
//! the DNS question), the set's verdict on it in the configured mode, and
//! the indicators' details for the report and the block page.

use indset::flow::{self, Inspection, Protocol, Scratch, Transport};
use indset::{AppConfig, IndicatorInfo, Mode, Verdict};

use super::report::Status;
use crate::output::MappedSet;

/// The most first bytes a decision waits for: past this the flow is
/// decided on what it has.
pub const MAX_FIRST_BYTES: usize = flow::MAX_FIRST_BYTES;

/// A decided flow.
pub struct Ruling {
    /// `tls`, `http`, `dns`; `None` when the bytes were none of them.
    pub protocol: Option<&'static str>,
    /// The name or URL looked up: the host in domain mode, the URL of a
    /// plain HTTP request in full mode. `None` when there was nothing to
    /// look up.
    pub checked: Option<String>,
    /// Where `checked` came from: `sni`, `http`, `dns`, or `target` (the
    /// proxy request's host, when the first bytes named none).
    pub from: &'static str,
    /// The ClientHello carried ECH: `checked` is its outer name.
    pub ech: bool,
    /// The set's answer (`Verdict::NONE` when web protection is off).
    pub verdict: Verdict,
    /// The deciding indicator's details.
    pub indicator: Option<IndicatorInfo>,
    /// The reported audit indicator's details.
    pub audit: Option<IndicatorInfo>,
}

/// What the first bytes so far allow.
pub enum Step {
    /// Not enough to decide: read more (if the bound and the deadline
    /// allow).
    NeedMore,
    /// Decided, with how.
    Ruled(Box<Ruling>, Status),
}

/// Where the name of a flow of `protocol` comes from.
fn source(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Tls | Protocol::Quic => "sni",
        Protocol::Http => "http",
        Protocol::Dns => "dns",
    }
}

/// Decides a flow from `first`, its first bytes so far.
///
/// `target` is the proxy request's host, which decides when the bytes name
/// nothing; `complete` says no more bytes will come (the bound is reached,
/// the client stopped or timed out), so a flow still incomplete is decided
/// on `target`.
pub fn rule(
    set: &MappedSet,
    config: &AppConfig,
    first: &[u8],
    transport: Transport,
    target: Option<&str>,
    complete: bool,
) -> Step {
    let mode = config.mode();
    let mut scratch = Scratch::new();
    let seen = flow::inspect(first, transport, &mut scratch);
    let protocol = seen.protocol().map(Protocol::as_str);
    let by_target = |status| {
        let query = target.map(|t| (t.as_bytes(), Mode::Domain));
        let verdict = match query {
            Some((q, m)) if config.web_protection => set.check(q, m),
            _ => Verdict::NONE,
        };
        Step::Ruled(
            Box::new(ruling(set, protocol, query, "target", false, verdict)),
            status,
        )
    };
    match seen {
        Inspection::Name {
            protocol: p,
            host,
            url,
            ech,
            ..
        } => {
            // What `check_inspection` looks up: the URL in full mode, the
            // host otherwise.
            let query = match (mode, url) {
                (Mode::Full, Some(url)) => (url, Mode::Full),
                _ => (host, Mode::Domain),
            };
            let verdict = if config.web_protection {
                set.check_inspection(&seen, mode).verdict
            } else {
                Verdict::NONE
            };
            Step::Ruled(
                Box::new(ruling(set, protocol, Some(query), source(p), ech, verdict)),
                Status::Checked,
            )
        }
        Inspection::NeedMore { .. } if !complete && first.len() < MAX_FIRST_BYTES => Step::NeedMore,
        Inspection::NeedMore { .. } => by_target(Status::Incomplete),
        Inspection::NoName { .. } => by_target(Status::NoName),
        Inspection::NotRecognised => by_target(Status::NotRecognised),
    }
}

/// The ruling for `verdict` on `query` (looked up in its mode), with the
/// details of its indicators.
fn ruling(
    set: &MappedSet,
    protocol: Option<&'static str>,
    query: Option<(&[u8], Mode)>,
    from: &'static str,
    ech: bool,
    verdict: Verdict,
) -> Ruling {
    let info = |hit| query.map(|(q, mode)| set.info(q, mode, hit));
    Ruling {
        protocol,
        checked: query.map(|(q, _)| String::from_utf8_lossy(q).into_owned()),
        from,
        ech,
        verdict,
        indicator: verdict.indicator.and_then(info),
        audit: verdict.audit.and_then(info),
    }
}

/// The ruling on a flow whose bytes could not be read as a query.
pub fn unreadable(protocol: Option<&'static str>) -> Ruling {
    Ruling {
        protocol,
        checked: None,
        from: "dns",
        ech: false,
        verdict: Verdict::NONE,
        indicator: None,
        audit: None,
    }
}

/// What the DNS forwarder answers for a blocked name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockAnswer {
    /// 0.0.0.0 for A, :: for AAAA, no records for other types.
    Unspecified,
    /// The name does not exist.
    NxDomain,
}

impl BlockAnswer {
    pub fn to_flow(self) -> flow::dns::BlockAnswer {
        match self {
            BlockAnswer::Unspecified => flow::dns::BlockAnswer::Unspecified,
            BlockAnswer::NxDomain => flow::dns::BlockAnswer::NxDomain,
        }
    }
}

pub fn parse_block_answer(s: &str) -> Result<BlockAnswer, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "unspecified" => Ok(BlockAnswer::Unspecified),
        "nxdomain" => Ok(BlockAnswer::NxDomain),
        _ => Err(format!(
            "`{s}` is not a blocking answer; use `unspecified` (0.0.0.0 / ::) or `nxdomain`"
        )),
    }
}
