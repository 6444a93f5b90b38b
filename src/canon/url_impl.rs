//! URL canonicalisation. Preliminary: no unescaping or dot segments yet.

use super::{CanonError, HOST_BUF_LEN, MAX_INDICATOR_LEN, Rejection, Scheme, Url};
use crate::diag::Code;
use crate::indicator::Kind;

pub(super) fn url<'b>(input: &[u8], buf: &'b mut [u8]) -> Result<Url<'b>, CanonError> {
    let mut s = input.trim_ascii();
    let mut scheme = None;
    if let Some(i) = s.windows(3).position(|w| w == b"://") {
        scheme = Some(match &s[..i] {
            x if x.eq_ignore_ascii_case(b"http") => Scheme::Http,
            x if x.eq_ignore_ascii_case(b"https") => Scheme::Https,
            _ => {
                return Err(CanonError {
                    code: Code::UnsupportedScheme,
                    reason: "only http and https URLs can be matched",
                });
            }
        });
        s = &s[i + 3..];
    }
    let end = s
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(s.len());
    let mut hb = [0u8; HOST_BUF_LEN];
    let hostport = &s[..end];
    let h = hostport
        .iter()
        .position(|&b| b == b':')
        .map_or(hostport, |i| &hostport[..i]);
    let (kind, hn) = super::host(h, &mut hb)?;
    let rest = &s[end..];
    let rest = rest
        .iter()
        .position(|&b| b == b'#')
        .map_or(rest, |i| &rest[..i]);
    let mut n = 0;
    fn push(buf: &mut [u8], n: &mut usize, b: u8) {
        if *n < buf.len() {
            buf[*n] = b;
            *n += 1;
        }
    }
    for &b in &hb[..hn] {
        push(buf, &mut n, b);
    }
    if !rest.starts_with(b"/") {
        push(buf, &mut n, b'/');
    }
    let mut path_len = None;
    for &b in rest {
        if b == b'?' && path_len.is_none() {
            path_len = Some(n - hn);
        }
        push(buf, &mut n, b);
    }
    let truncated = n == buf.len();
    let total = n;
    let (host, pq) = buf[..total].split_at(hn);
    let host = std::str::from_utf8(host).unwrap_or("");
    let pq = std::str::from_utf8(pq).unwrap_or("/");
    Ok(Url {
        scheme,
        host,
        host_kind: kind,
        path_and_query: pq,
        path_len: path_len.unwrap_or(pq.len()),
        truncated,
    })
}

pub(super) fn indicator(kind: Kind, value: &str) -> Result<(String, String), Rejection> {
    let reject = |e: CanonError| Rejection {
        code: e.code,
        message: e.reason.to_string(),
    };
    let mut buf = vec![0u8; MAX_INDICATOR_LEN + 1];
    let u = url(value.as_bytes(), &mut buf).map_err(reject)?;
    if u.host_kind.is_reserved() {
        return Err(Rejection {
            code: Code::ReservedAddress,
            message: "245.245.0.1 is the tunnel's own address".into(),
        });
    }
    if u.host_kind.is_ip() {
        return Err(Rejection {
            code: Code::IpIndicator,
            message: "IP indicators are not supported on mobile".into(),
        });
    }
    match kind {
        Kind::DomainName if u.path_and_query != "/" => Err(Rejection {
            code: Code::DomainWithPath,
            message: "a DomainName has no path; use a Url indicator".into(),
        }),
        Kind::DomainName => Ok((u.host.to_string(), String::new())),
        Kind::Url => Ok((u.host.to_string(), u.path_and_query.to_string())),
    }
}
