//! HTTP/1.x request heads, read by `httparse`: the method, the target and
//! the Host header, and the URL they make (RFC 9112 3.2, 3.3).

use super::{Bufs, Detail, Inspection, MAX_FIRST_BYTES, Protocol};

/// Headers read per request; a head with more is not recognised.
const MAX_HEADERS: usize = 100;
/// The longest method a partial head may start with and still be taken
/// for HTTP (`PROPPATCH`, `MKCALENDAR`, ...).
const MAX_METHOD: usize = 16;

/// Whether `bytes` may begin an HTTP/1.x request: a method (upper-case
/// letters, `-`, `_`) and, once there, a space.
pub(super) fn looks_like(bytes: &[u8]) -> bool {
    let method = bytes
        .iter()
        .take_while(|b| b.is_ascii_uppercase() || **b == b'-' || **b == b'_')
        .count();
    method > 0
        && method <= MAX_METHOD
        && match bytes.get(method) {
            None => true,
            Some(b) => *b == b' ',
        }
}

/// The request head at the start of `bytes`.
pub(super) fn inspect<'a>(bytes: &'a [u8], bufs: Bufs<'a, '_>) -> Inspection<'a> {
    let bytes = bytes.get(..MAX_FIRST_BYTES).unwrap_or(bytes);
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(bytes) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) if bytes.len() < MAX_FIRST_BYTES => {
            // The head ends with an empty line: "\n\n" at least (httparse
            // takes a bare LF), one byte if a line end is there.
            let need = if bytes.ends_with(b"\n") || bytes.ends_with(b"\r") {
                1
            } else {
                2
            };
            return Inspection::NeedMore {
                protocol: Protocol::Http,
                need,
            };
        }
        Ok(httparse::Status::Partial) | Err(_) => return Inspection::NotRecognised,
    }
    let (Some(method), Some(target)) = (req.method, req.path) else {
        return Inspection::NotRecognised;
    };
    let detail = Detail::Http {
        method: method.as_bytes(),
        target: target.as_bytes(),
    };
    let target = target.as_bytes();
    let host_header = req
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("host"))
        .map(|h| h.value.trim_ascii());
    if method == "CONNECT" {
        // The target is the authority: host:port.
        return name(target, None, detail);
    }
    if let Some(authority) = absolute_authority(target) {
        // Absolute form: the target is the URL, and its authority wins
        // over Host (RFC 9112 3.2.2).
        return name(authority, Some(target), detail);
    }
    let Some(host) = host_header.filter(|h| !h.is_empty()) else {
        return Inspection::NoName {
            protocol: Protocol::Http,
        };
    };
    if !target.starts_with(b"/") {
        // Asterisk form (`OPTIONS *`), or nonsense: the host alone.
        return name(host, None, detail);
    }
    let url_len = b"http://".len() + host.len() + target.len();
    let Some(url) = bufs.joined.get_mut(..url_len) else {
        bufs.overflow.set(true);
        return Inspection::NotRecognised;
    };
    let (scheme, rest) = url.split_at_mut(b"http://".len());
    scheme.copy_from_slice(b"http://");
    let (h, t) = rest.split_at_mut(host.len());
    h.copy_from_slice(host);
    t.copy_from_slice(target);
    name(host, Some(url), detail)
}

fn name<'a>(host: &'a [u8], url: Option<&'a [u8]>, detail: Detail<'a>) -> Inspection<'a> {
    if host.is_empty() {
        return Inspection::NoName {
            protocol: Protocol::Http,
        };
    }
    Inspection::Name {
        protocol: Protocol::Http,
        host,
        url,
        ech: false,
        detail,
    }
}

/// The authority of an absolute-form target (`scheme://authority/...`),
/// without any userinfo.
fn absolute_authority(target: &[u8]) -> Option<&[u8]> {
    let colon = target.iter().position(|b| *b == b':')?;
    let scheme = target.get(..colon)?;
    if scheme.is_empty()
        || !scheme.first()?.is_ascii_alphabetic()
        || !scheme
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        return None;
    }
    let rest = target.get(colon + 1..)?.strip_prefix(b"//")?;
    let end = rest
        .iter()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    let host = match authority.iter().rposition(|b| *b == b'@') {
        Some(at) => authority.get(at + 1..)?,
        None => authority,
    };
    Some(host)
}
