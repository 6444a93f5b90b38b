//! Host canonicalisation. Preliminary: ASCII hosts and dotted-quad IPv4 only.

use std::net::Ipv4Addr;

use super::{CanonError, HOST_BUF_LEN, HostKind, MAX_HOST_LEN};
use crate::diag::Code;

const INVALID: CanonError = CanonError {
    code: Code::InvalidHost,
    reason: "not a valid host name",
};

pub(super) fn host(
    input: &[u8],
    out: &mut [u8; HOST_BUF_LEN],
) -> Result<(HostKind, usize), CanonError> {
    let input = input.trim_ascii();
    if input.contains(&b'*') {
        return Err(CanonError {
            code: Code::Wildcard,
            reason: "wildcards are not supported",
        });
    }
    let mut n = 0;
    for &b in input {
        if b == b'.' && (n == 0 || out[n - 1] == b'.') {
            continue;
        }
        if b <= b' ' || b >= 0x7f || n >= MAX_HOST_LEN {
            return Err(INVALID);
        }
        out[n] = b.to_ascii_lowercase();
        n += 1;
    }
    while n > 0 && out[n - 1] == b'.' {
        n -= 1;
    }
    if n == 0 {
        return Err(INVALID);
    }
    if let Ok(s) = std::str::from_utf8(&out[..n]) {
        if let Ok(a) = s.parse::<Ipv4Addr>() {
            return Ok((HostKind::Ipv4(a), n));
        }
    }
    Ok((HostKind::Domain, n))
}

pub(super) fn query_host(
    input: &[u8],
    out: &mut [u8; HOST_BUF_LEN],
) -> Result<(HostKind, usize), CanonError> {
    let mut s = input.trim_ascii();
    if let Some(i) = s.windows(3).position(|w| w == b"://") {
        s = &s[i + 3..];
    }
    let end = s
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#' | b':'))
        .unwrap_or(s.len());
    host(&s[..end], out)
}
