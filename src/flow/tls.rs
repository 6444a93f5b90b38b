//! TLS ClientHello (RFC 8446 4.1.2, RFC 5246 7.4.1.2): the `server_name`
//! extension (RFC 6066 3) and whether `encrypted_client_hello` is offered
//! (draft-ietf-tls-esni, type 0xfe0d).
//!
//! Written here rather than taken from `tls-parser` (the reference of
//! tests/flow_tls.rs): that crate builds a `Vec` of extensions per
//! ClientHello and does not join a handshake message split over records;
//! the hot path here must not allocate. bench/benches/flow.rs measures
//! both on curl's 517-byte ClientHello: 86 ns here, 1.49 µs in tls-parser.

use super::{Bufs, Detail, Inspection, MAX_FIRST_BYTES, Protocol};

/// The record header: type, version, length.
const RECORD_HEADER: usize = 5;
/// The handshake header: type, 24-bit length.
const HANDSHAKE_HEADER: usize = 4;
const CONTENT_HANDSHAKE: u8 = 22;
const CLIENT_HELLO: u8 = 1;
const EXT_SERVER_NAME: u16 = 0;
const EXT_ECH: u16 = 0xfe0d;
/// The largest record a peer may send (RFC 8446 5.1: 2^14 plus the
/// expansion allowed for compressed TLS 1.2 records).
const MAX_RECORD: usize = (1 << 14) + 2048;

/// Whether `bytes` may begin a TLS record carrying a handshake: what
/// [`super::inspect`] tries first over TCP.
pub(super) fn looks_like(bytes: &[u8]) -> bool {
    matches!(bytes, [CONTENT_HANDSHAKE] | [CONTENT_HANDSHAKE, 3, ..])
}

/// The ClientHello that the TLS records in `bytes` carry.
pub(super) fn inspect<'a>(bytes: &'a [u8], bufs: Bufs<'a, '_>) -> Inspection<'a> {
    let bytes = bytes.get(..MAX_FIRST_BYTES).unwrap_or(bytes);
    // The common case: the whole ClientHello in the first record, read
    // where it lies.
    if let Some((header, rest)) = bytes.split_first_chunk::<RECORD_HEADER>() {
        let Some(len) = record_len(header) else {
            return Inspection::NotRecognised;
        };
        let payload = rest.get(..len).unwrap_or(rest);
        if let Some(total) = handshake_total(payload) {
            if total <= payload.len() {
                return named(Protocol::Tls, payload.get(..total).unwrap_or_default());
            }
        }
    }
    join(bytes, bufs)
}

/// A record header's length if it is a handshake record of a TLS
/// version this reads (SSL 3.0 to TLS 1.3 record versions 3.0..=3.4).
fn record_len(header: &[u8; RECORD_HEADER]) -> Option<usize> {
    let [kind, major, minor, hi, lo] = *header;
    if kind != CONTENT_HANDSHAKE || major != 3 || minor > 4 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    (len > 0 && len <= MAX_RECORD).then_some(len)
}

/// The length of the handshake message starting `payload`, header
/// included, once its header is there; `None` before that. A message
/// other than a ClientHello, or one over the bound, gives `Some(usize::MAX)`.
fn handshake_total(payload: &[u8]) -> Option<usize> {
    let [kind, a, b, c] = *payload.first_chunk::<HANDSHAKE_HEADER>()?;
    let len = u32::from_be_bytes([0, a, b, c]) as usize;
    if kind != CLIENT_HELLO || HANDSHAKE_HEADER + len > MAX_FIRST_BYTES {
        return Some(usize::MAX);
    }
    Some(HANDSHAKE_HEADER + len)
}

/// Joins the handshake message from successive records into the scratch.
fn join<'a>(bytes: &'a [u8], bufs: Bufs<'a, '_>) -> Inspection<'a> {
    let joined = bufs.joined;
    let mut have = 0usize;
    let mut at = 0usize;
    loop {
        let rest = bytes.get(at..).unwrap_or_default();
        let Some((header, body)) = rest.split_first_chunk::<RECORD_HEADER>() else {
            // Inside a record header: its missing bytes, and at least the
            // rest of the handshake header.
            if !rest
                .iter()
                .zip([CONTENT_HANDSHAKE, 3])
                .all(|(a, b)| *a == b)
            {
                return Inspection::NotRecognised;
            }
            let missing = handshake_total(joined.get(..have).unwrap_or_default())
                .unwrap_or(HANDSHAKE_HEADER)
                .saturating_sub(have);
            return need(at + rest.len(), RECORD_HEADER - rest.len() + missing.max(1));
        };
        let Some(len) = record_len(header) else {
            return Inspection::NotRecognised;
        };
        let avail = body.get(..len).unwrap_or(body);
        let mut used = 0;
        // The handshake header first, then the rest of the message.
        let total = loop {
            let want = match handshake_total(joined.get(..have).unwrap_or_default()) {
                Some(usize::MAX) => return Inspection::NotRecognised,
                Some(t) if t == have => {
                    return named(Protocol::Tls, joined.get(..have).unwrap_or_default());
                }
                Some(t) => t - have,
                None => HANDSHAKE_HEADER - have,
            };
            let take = want.min(avail.len() - used);
            if take == 0 {
                break have + want;
            }
            let (Some(dst), Some(src)) = (
                joined.get_mut(have..have + take),
                avail.get(used..used + take),
            ) else {
                bufs.overflow.set(true);
                return Inspection::NotRecognised;
            };
            dst.copy_from_slice(src);
            have += take;
            used += take;
        };
        if used < len {
            // This record goes on past the bytes there are: the rest of
            // the message, and another record header if this record ends
            // first. Before the handshake header is whole, `total` is only
            // that header's end.
            let missing = total - have;
            let next_header = if len - used < missing {
                RECORD_HEADER
            } else {
                0
            };
            return need(at + RECORD_HEADER + used, missing + next_header);
        }
        at += RECORD_HEADER + len;
    }
}

/// `NeedMore` when `have + more` stays within the bound.
fn need(have: usize, more: usize) -> Inspection<'static> {
    if have.saturating_add(more) > MAX_FIRST_BYTES {
        return Inspection::NotRecognised;
    }
    Inspection::NeedMore {
        protocol: Protocol::Tls,
        need: more,
    }
}

/// The answer for a complete ClientHello handshake message, header
/// included.
pub(super) fn named(protocol: Protocol, message: &[u8]) -> Inspection<'_> {
    let body = match message {
        [CLIENT_HELLO, _, _, _, body @ ..] => body,
        _ => return Inspection::NotRecognised,
    };
    match client_hello(body) {
        Some(Hello {
            sni: Some(host),
            ech,
        }) => Inspection::Name {
            protocol,
            host,
            url: None,
            ech,
            detail: Detail::None,
        },
        Some(Hello { sni: None, .. }) => Inspection::NoName { protocol },
        None => Inspection::NotRecognised,
    }
}

/// What a ClientHello names.
#[derive(Debug, PartialEq, Eq)]
struct Hello<'a> {
    /// The first `host_name` of `server_name`, if any and not empty.
    sni: Option<&'a [u8]>,
    /// `encrypted_client_hello` is offered.
    ech: bool,
}

/// A bounds-checked reader over a ClientHello.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
    }
    /// A vector with a 1-byte length.
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    /// A vector with a 2-byte length.
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
}

/// Reads a ClientHello body (after the handshake header); `None` if it is
/// malformed.
fn client_hello(body: &[u8]) -> Option<Hello<'_>> {
    let mut r = Reader(body);
    let _version = r.u16()?;
    let _random = r.take(32)?;
    if r.vec8()?.len() > 32 {
        return None;
    }
    // Empty suite or compression lists are wrong, but the name is still
    // there to read (as tls-parser reads it).
    if r.vec16()?.len() % 2 != 0 {
        return None;
    }
    r.vec8()?;
    let mut hello = Hello {
        sni: None,
        ech: false,
    };
    if r.0.is_empty() {
        // No extensions at all (SSL 3.0 style).
        return Some(hello);
    }
    let mut exts = Reader(r.vec16()?);
    while !exts.0.is_empty() {
        let kind = exts.u16()?;
        let data = exts.vec16()?;
        match kind {
            EXT_SERVER_NAME => hello.sni = server_name(data)?,
            // An outer ClientHello (type 0); a GREASE ECH looks the same.
            EXT_ECH => hello.ech = data.first() == Some(&0),
            _ => {}
        }
    }
    Some(hello)
}

/// The first `host_name` entry of a `server_name` extension; an empty
/// extension (as a server sends it) names nothing.
fn server_name(data: &[u8]) -> Option<Option<&[u8]>> {
    if data.is_empty() {
        return Some(None);
    }
    // Bytes after the list are ignored (as tls-parser does).
    let mut list = Reader(Reader(data).vec16()?);
    // A damaged entry ends the list (as tls-parser reads it): no name.
    while let (Some(kind), Some(name)) = (list.u8(), list.vec16()) {
        if kind == 0 {
            return Some((!name.is_empty()).then_some(name));
        }
    }
    Some(None)
}
