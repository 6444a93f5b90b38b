//! Where an allowed flow goes: the `--resolve` entries first (like curl's
//! flag, so tests and demos need no DNS), the system resolver otherwise.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpStream;

/// One `--resolve HOST:PORT:ADDR`.
#[derive(Clone, Debug)]
pub struct Resolve {
    host: String,
    port: u16,
    addr: IpAddr,
}

/// Parses `HOST:PORT:ADDR`; ADDR may be bracketed (`[::1]`).
pub fn parse_resolve(s: &str) -> Result<Resolve, String> {
    let bad = || {
        format!(
            "`{s}` is not HOST:PORT:ADDR; write it like shop.test:443:127.0.0.1 or shop.test:443:[::1]"
        )
    };
    let (host, rest) = s.split_once(':').ok_or_else(bad)?;
    let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let addr = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr);
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    if host.is_empty() {
        return Err(bad());
    }
    Ok(Resolve {
        host: host.to_ascii_lowercase(),
        port,
        addr,
    })
}

/// Connects allowed flows to their destination.
pub struct Upstream {
    resolve: HashMap<(String, u16), IpAddr>,
    /// Only the `--resolve` entries: the system resolver is never asked.
    only: bool,
}

impl Upstream {
    pub fn new(entries: Vec<Resolve>, only: bool) -> Upstream {
        Upstream {
            only,
            resolve: entries
                .into_iter()
                .map(|r| ((r.host, r.port), r.addr))
                .collect(),
        }
    }

    /// Connects to `host:port` within `limit`: the `--resolve` address, or
    /// each address the system resolver gives in turn.
    pub async fn connect(&self, host: &str, port: u16, limit: Duration) -> io::Result<TcpStream> {
        let key = (host.to_ascii_lowercase(), port);
        let attempt = async {
            if let Some(&ip) = self.resolve.get(&key) {
                return TcpStream::connect(SocketAddr::new(ip, port)).await;
            }
            if self.only {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no --resolve entry for {host}:{port} (--resolve-only)"),
                ));
            }
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            let mut last = None;
            for addr in tokio::net::lookup_host((host, port)).await? {
                match TcpStream::connect(addr).await {
                    Ok(stream) => return Ok(stream),
                    Err(e) => last = Some(e),
                }
            }
            Err(last.unwrap_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"))
            }))
        };
        match tokio::time::timeout(limit, attempt).await {
            Ok(result) => {
                let stream = result?;
                stream.set_nodelay(true)?;
                Ok(stream)
            }
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no connection within {limit:?}"),
            )),
        }
    }
}

/// Splits a proxy target `host:port` (`[v6]:port`); `default_port` when
/// there is none.
pub fn split_authority(authority: &str, default_port: u16) -> Option<(&str, u16)> {
    if authority.is_empty() {
        return None;
    }
    if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &authority[..end + 2];
        return match &rest[end + 1..] {
            "" => Some((host, default_port)),
            port => Some((host, port.strip_prefix(':')?.parse().ok()?)),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            Some((host, port.parse().ok()?)).filter(|(h, _)| !h.is_empty())
        }
        Some(_) => None,
        None => Some((authority, default_port)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities() {
        assert_eq!(split_authority("a.test:443", 80), Some(("a.test", 443)));
        assert_eq!(split_authority("a.test", 80), Some(("a.test", 80)));
        assert_eq!(split_authority("[::1]:8443", 80), Some(("[::1]", 8443)));
        assert_eq!(split_authority("[::1]", 80), Some(("[::1]", 80)));
        assert_eq!(split_authority("a.test:x", 80), None);
        assert_eq!(split_authority(":443", 80), None);
        assert_eq!(split_authority("::1:443", 80), None);
        assert_eq!(split_authority("", 80), None);
    }

    #[test]
    fn resolves() {
        let r = parse_resolve("Shop.Test:443:[::1]").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("shop.test", 443));
        assert_eq!(r.addr, "::1".parse::<IpAddr>().unwrap());
        assert!(parse_resolve("shop.test:443").is_err());
        assert!(parse_resolve("shop.test:x:127.0.0.1").is_err());
        assert!(parse_resolve(":443:127.0.0.1").is_err());
    }
}
