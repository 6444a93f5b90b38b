//! Deciding from a flow's first bytes: what a tunnel engine holds when a
//! device opens a connection is not a URL but the first bytes the client
//! sends. [`inspect`] finds the name in them (the SNI of a TLS ClientHello,
//! the Host and target of an HTTP/1.x request, the question of a DNS query,
//! the SNI inside a QUIC Initial with the `quic` feature), and
//! [`IndicatorSet::check_flow`] looks that name up in one call.
//!
//! Nothing here allocates or panics, whatever the bytes: every parser reads
//! through bounds-checked slices, and what must be joined (a ClientHello
//! spread over TLS records, an HTTP URL built from Host and target, the
//! decrypted CRYPTO frames of QUIC Initials) is joined in a [`Scratch`]
//! the caller owns. [`check_flow`](IndicatorSet::check_flow) keeps its
//! buffers on the stack.
//!
//! An incomplete message answers [`Inspection::NeedMore`] with how many
//! more bytes it needs at least; no answer ever asks the caller to hold
//! more than [`MAX_FIRST_BYTES`] in total. What is recognised, the bounds
//! and the policy for ECH and QUIC are in `docs/flow.md`.
//!
//! Changes from the first published shape of this API: `Inspection::Name`
//! gained `detail` (the HTTP method and target, the DNS question's id and
//! type); [`IndicatorSet::check_flow_at`] and
//! [`IndicatorSet::check_inspection`] were added next to `check_flow`;
//! [`dns::write_block_answer`] takes the [`Transport`] (a UDP query's id
//! can look like a TCP length prefix); [`dns::Question`],
//! [`dns::MAX_TCP_QUERY`], [`Scratch::SIZE`], [`Protocol::as_str`] and
//! [`Inspection::protocol`] are new.

use std::cell::Cell;

use crate::{IndicatorSet, Mode, Timestamp, Verdict};

pub mod dns;
mod http;
mod quic;
mod tls;

/// The transport a flow's bytes came over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// A TCP stream: TLS, HTTP/1.x, or DNS with its 2-byte length prefix.
    Tcp,
    /// UDP datagrams: DNS, or QUIC Initial packets.
    Udp,
}

/// A protocol [`inspect`] recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// A TLS ClientHello over TCP; the name is its `server_name`.
    Tls,
    /// An HTTP/1.x request head over TCP; the name is its Host (or the
    /// authority of an absolute-form or `CONNECT` target).
    Http,
    /// A DNS query over UDP or TCP; the name is the question's.
    Dns,
    /// A QUIC Initial over UDP; the name is the SNI of the ClientHello
    /// inside it.
    Quic,
}

impl Protocol {
    /// `tls`, `http`, `dns` or `quic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tls => "tls",
            Protocol::Http => "http",
            Protocol::Dns => "dns",
            Protocol::Quic => "quic",
        }
    }
}

/// The most bytes of a flow [`inspect`] reads or asks for. A message that
/// would need more (a ClientHello over 16 KiB, an HTTP head without its
/// end within 16 KiB) is [`Inspection::NotRecognised`]. Real ClientHellos,
/// post-quantum key shares included, are under 2 KiB.
pub const MAX_FIRST_BYTES: usize = 16 * 1024;

/// What protocol-specific details came with a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail<'a> {
    /// Nothing beyond the name (TLS, QUIC).
    None,
    /// The HTTP request line's method and target, as sent.
    Http {
        /// `GET`, `CONNECT`, ...
        method: &'a [u8],
        /// The request target: `/path?q` (origin form), `http://h/p`
        /// (absolute form), `host:port` (`CONNECT`), or `*`.
        target: &'a [u8],
    },
    /// The DNS query's id and question type and class.
    Dns(dns::Question),
}

/// What the first bytes of a flow say.
///
/// The slices borrow from the bytes or from the [`Scratch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inspection<'a> {
    /// A name was found.
    Name {
        /// Where it was found.
        protocol: Protocol,
        /// The host as sent (any case, maybe a trailing dot, a port for
        /// HTTP); the set canonicalises it.
        host: &'a [u8],
        /// For HTTP requests other than `CONNECT`: the absolute URL
        /// (`http://` + Host + target, or an absolute-form target as
        /// sent). This is what [`Mode::Full`] checks.
        url: Option<&'a [u8]>,
        /// The ClientHello offers Encrypted Client Hello: `host` is the
        /// outer (public) name, the name the client means is hidden.
        ech: bool,
        /// The HTTP method and target, or the DNS question's id and type.
        detail: Detail<'a>,
    },
    /// Recognised but incomplete: at least `need` more bytes are needed
    /// (the total stays within [`MAX_FIRST_BYTES`]). For TLS and DNS over
    /// TCP the count is exact for the current message; for HTTP and QUIC
    /// it is a lower bound.
    NeedMore {
        /// The protocol the bytes so far belong to.
        protocol: Protocol,
        /// At least this many more bytes.
        need: usize,
    },
    /// Recognised and complete, but no name to check: a ClientHello
    /// without SNI, an HTTP/1.0 request without Host, a DNS query
    /// without a question, a QUIC Initial without the `quic` feature.
    NoName {
        /// The protocol recognised.
        protocol: Protocol,
    },
    /// None of the protocols, malformed beyond repair, or over
    /// [`MAX_FIRST_BYTES`].
    NotRecognised,
}

impl Inspection<'_> {
    /// The protocol recognised, if any.
    pub fn protocol(&self) -> Option<Protocol> {
        match *self {
            Inspection::Name { protocol, .. }
            | Inspection::NeedMore { protocol, .. }
            | Inspection::NoName { protocol } => Some(protocol),
            Inspection::NotRecognised => None,
        }
    }
}

/// Zero-allocation working memory for [`inspect`], owned by the caller:
/// on the stack, or reused from flow to flow. It holds a ClientHello
/// joined from several TLS records, the URL built from an HTTP head, and
/// (with `quic`) a decrypted Initial and its CRYPTO stream.
#[derive(Clone)]
pub struct Scratch {
    pub(crate) joined: [u8; JOINED_LEN],
    #[cfg(feature = "quic")]
    pub(crate) packet: [u8; MAX_FIRST_BYTES],
    #[cfg(feature = "quic")]
    pub(crate) filled: [u64; MAX_FIRST_BYTES / 64],
}

/// Room for a joined ClientHello, or `http://` + Host + target.
const JOINED_LEN: usize = MAX_FIRST_BYTES + 16;

impl Scratch {
    /// Its size in bytes: about 16 KiB, 34 KiB with the `quic` feature.
    pub const SIZE: usize = std::mem::size_of::<Scratch>();

    /// Zeroed scratch.
    pub fn new() -> Self {
        Scratch {
            joined: [0; JOINED_LEN],
            #[cfg(feature = "quic")]
            packet: [0; MAX_FIRST_BYTES],
            #[cfg(feature = "quic")]
            filled: [0; MAX_FIRST_BYTES / 64],
        }
    }
}

/// The buffers the parsers work in.
pub(crate) struct Bufs<'a, 'o> {
    /// A joined ClientHello, a URL, a DNS name, a QUIC CRYPTO stream.
    pub(crate) joined: &'a mut [u8],
    /// One QUIC packet, decrypted in place.
    #[cfg_attr(not(feature = "quic"), allow(dead_code))]
    pub(crate) packet: &'a mut [u8],
    /// Which bytes of the CRYPTO stream are there.
    #[cfg_attr(not(feature = "quic"), allow(dead_code))]
    pub(crate) filled: &'a mut [u64],
    /// Set when a buffer was too small for bytes within the bounds: the
    /// answer is then wrong and must be asked again of a [`Scratch`].
    pub(crate) overflow: &'o Cell<bool>,
}

impl Scratch {
    fn bufs<'a, 'o>(&'a mut self, overflow: &'o Cell<bool>) -> Bufs<'a, 'o> {
        Bufs {
            joined: &mut self.joined,
            #[cfg(feature = "quic")]
            packet: &mut self.packet,
            #[cfg(not(feature = "quic"))]
            packet: &mut [],
            #[cfg(feature = "quic")]
            filled: &mut self.filled,
            #[cfg(not(feature = "quic"))]
            filled: &mut [],
            overflow,
        }
    }
}

/// The buffers [`IndicatorSet::check_flow`] tries first, on the stack:
/// enough for real ClientHellos (post-quantum ones included), URLs and
/// QUIC Initials, and cheap to zero; what does not fit is asked again of a
/// whole [`Scratch`].
const SMALL_JOINED: usize = 4096;
#[cfg(feature = "quic")]
const SMALL_PACKET: usize = 1536;
#[cfg(not(feature = "quic"))]
const SMALL_PACKET: usize = 0;

impl Default for Scratch {
    fn default() -> Self {
        Scratch::new()
    }
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch").finish_non_exhaustive()
    }
}

/// What the first bytes of a flow over `transport` say: the name to check
/// and where it came from, or that more bytes are needed, or that there is
/// no name, or that the bytes are none of the protocols.
///
/// Over TCP: a TLS ClientHello (its records may be split anywhere), an
/// HTTP/1.x request head, or a DNS query with its 2-byte length prefix.
/// Over UDP: a DNS query, or QUIC Initial packets (one datagram, or the
/// client's first datagrams one after the other).
///
/// No bytes at all are [`Inspection::NotRecognised`]. Reads at most
/// [`MAX_FIRST_BYTES`]; never allocates, never panics.
pub fn inspect<'a>(
    first_bytes: &'a [u8],
    transport: Transport,
    scratch: &'a mut Scratch,
) -> Inspection<'a> {
    inspect_in(first_bytes, transport, scratch.bufs(&Cell::new(false)))
}

/// [`inspect`] with the buffers given: the scratch's, or the small ones
/// [`IndicatorSet::check_flow`] tries first.
fn inspect_in<'a>(
    first_bytes: &'a [u8],
    transport: Transport,
    bufs: Bufs<'a, '_>,
) -> Inspection<'a> {
    if first_bytes.is_empty() {
        return Inspection::NotRecognised;
    }
    match transport {
        Transport::Tcp if tls::looks_like(first_bytes) => tls::inspect(first_bytes, bufs),
        Transport::Tcp if http::looks_like(first_bytes) => http::inspect(first_bytes, bufs),
        Transport::Tcp => match dns::tcp_message(first_bytes) {
            dns::Framed::Whole(msg) => dns::named(msg, bufs.joined),
            dns::Framed::Short(need) if first_bytes.get(2..).is_none_or(dns::looks_like_start) => {
                Inspection::NeedMore {
                    protocol: Protocol::Dns,
                    need,
                }
            }
            _ => Inspection::NotRecognised,
        },
        Transport::Udp if quic::looks_like(first_bytes) => quic::inspect(first_bytes, bufs),
        Transport::Udp if dns::looks_like(first_bytes) => dns::named(first_bytes, bufs.joined),
        Transport::Udp => Inspection::NotRecognised,
    }
}

/// The answer of [`IndicatorSet::check_flow`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowVerdict {
    /// The protocol recognised, if any.
    pub protocol: Option<Protocol>,
    /// Whether a name was checked, and if not, why.
    pub status: FlowStatus,
    /// The verdict for the name; [`Verdict::NONE`] unless `status` is
    /// [`FlowStatus::Checked`].
    pub verdict: Verdict,
    /// The ClientHello offered ECH: the verdict is for the outer name.
    pub ech: bool,
}

/// Whether [`IndicatorSet::check_flow`] checked a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowStatus {
    /// A name was found and checked.
    Checked,
    /// Call again with at least this many more bytes.
    NeedMore(usize),
    /// Recognised, but there is no name (the engine decides by policy).
    NoName,
    /// Not one of the protocols.
    NotRecognised,
}

impl<D: AsRef<[u8]>> IndicatorSet<D> {
    /// [`inspect`] the first bytes of a flow and check the name found, at
    /// the current time (see [`check`](Self::check)).
    ///
    /// In [`Mode::Full`] an HTTP request's URL is checked; every other
    /// name (a TLS or QUIC server name, a DNS question, an HTTP `CONNECT`
    /// authority) is a host only, and is checked as in [`Mode::Domain`]
    /// whatever `mode` says.
    ///
    /// Tries small buffers on the stack first (8 KiB with `quic`), and a
    /// whole [`Scratch`] ([`Scratch::SIZE`] bytes of stack) only for a
    /// message that does not fit them; never allocates, never panics.
    pub fn check_flow(&self, first_bytes: &[u8], transport: Transport, mode: Mode) -> FlowVerdict {
        self.flow(first_bytes, transport, mode, None)
    }

    /// Like [`check_flow`](Self::check_flow) at the time `now`.
    pub fn check_flow_at(
        &self,
        first_bytes: &[u8],
        transport: Transport,
        mode: Mode,
        now: Timestamp,
    ) -> FlowVerdict {
        self.flow(first_bytes, transport, mode, Some(now))
    }

    fn flow(
        &self,
        first_bytes: &[u8],
        transport: Transport,
        mode: Mode,
        now: Option<Timestamp>,
    ) -> FlowVerdict {
        let overflow = Cell::new(false);
        {
            let mut joined = [0u8; SMALL_JOINED];
            let mut packet = [0u8; SMALL_PACKET];
            let mut filled = [0u64; SMALL_JOINED / 64];
            let bufs = Bufs {
                joined: &mut joined,
                packet: &mut packet,
                filled: &mut filled,
                overflow: &overflow,
            };
            let seen = inspect_in(first_bytes, transport, bufs);
            if !overflow.get() {
                return self.decide(&seen, mode, now);
            }
        }
        let mut scratch = Scratch::new();
        let seen = inspect(first_bytes, transport, &mut scratch);
        self.decide(&seen, mode, now)
    }

    /// Checks what [`inspect`] found, as [`check_flow`](Self::check_flow)
    /// does, for callers that keep their own [`Scratch`] or want the name.
    pub fn check_inspection(&self, seen: &Inspection<'_>, mode: Mode) -> FlowVerdict {
        self.decide(seen, mode, None)
    }

    fn decide(&self, seen: &Inspection<'_>, mode: Mode, now: Option<Timestamp>) -> FlowVerdict {
        let check = |query: &[u8], mode: Mode| match now {
            Some(now) => self.check_at(query, mode, now),
            None => self.check(query, mode),
        };
        let (status, verdict, ech) = match *seen {
            Inspection::Name { host, url, ech, .. } => {
                let verdict = match (mode, url) {
                    (Mode::Full, Some(url)) => check(url, Mode::Full),
                    _ => check(host, Mode::Domain),
                };
                (FlowStatus::Checked, verdict, ech)
            }
            Inspection::NeedMore { need, .. } => (FlowStatus::NeedMore(need), Verdict::NONE, false),
            Inspection::NoName { .. } => (FlowStatus::NoName, Verdict::NONE, false),
            Inspection::NotRecognised => (FlowStatus::NotRecognised, Verdict::NONE, false),
        };
        FlowVerdict {
            protocol: seen.protocol(),
            status,
            verdict,
            ech,
        }
    }
}
