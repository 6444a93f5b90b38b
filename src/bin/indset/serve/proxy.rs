//! The HTTP proxy: `CONNECT host:port` tunnels and absolute-form plain
//! HTTP requests.
//!
//! A tunnel is answered `200` at once, so that the client sends its first
//! bytes (a TLS ClientHello); the flow is decided on them and only then is
//! the destination contacted: a blocked site never sees a connection. A
//! plain HTTP request is rewritten to the origin form a server expects,
//! with `Connection: close`, so that every request is a flow of its own
//! (a client reusing a proxy connection would otherwise reach a second
//! host through the first host's decision), and the rewritten head, the
//! bytes the server will see, is what the flow functions decide on.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use indset::Decision;
use indset::flow::Transport;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, timeout_at};

use super::Engine;
use super::relay::relay;
use super::report::{Flow, Status};
use super::rule::{MAX_FIRST_BYTES, Ruling, Step, rule};
use super::upstream::split_authority;

/// The most headers a proxy request may have.
const MAX_HEADERS: usize = 128;

/// A fatal `access_denied` alert in a TLS record: what a blocked TLS flow
/// gets before the connection closes, so that the client says why
/// (curl: "tlsv1 alert access denied") instead of reporting a dropped
/// connection.
const TLS_ACCESS_DENIED: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 49];

/// Accepts clients until `stop`, one task per client, each holding one of
/// `flows`' permits for its life.
pub async fn serve(
    engine: Arc<Engine>,
    listener: TcpListener,
    flows: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    let mut told = false;
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&flows).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            _ = stop.changed() => return,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most likely: wait for some
                    // flows to end rather than spin.
                    if !told {
                        eprintln!("indset: serve: cannot accept a proxy client: {e}; retrying");
                        told = true;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let engine = Arc::clone(&engine);
        tokio::spawn(async move {
            handle(&engine, stream, peer).await;
            drop(permit);
        });
    }
}

/// Why the proxy request head could not be read.
enum HeadError {
    /// Nothing (or not a whole head) before the deadline.
    Silent,
    /// The client closed or reset first.
    Closed,
    /// Larger than the bound.
    TooLong,
}

/// Reads until the end of the request head (`\r\n\r\n`) into `buf`;
/// returns the head's length (bytes after it stay in `buf`).
async fn read_head(
    client: &mut TcpStream,
    buf: &mut Vec<u8>,
    deadline: Instant,
) -> Result<usize, HeadError> {
    let mut searched = 0;
    loop {
        if let Some(end) = find_head_end(buf, searched) {
            return Ok(end);
        }
        searched = buf.len().saturating_sub(3);
        if buf.len() >= MAX_FIRST_BYTES {
            return Err(HeadError::TooLong);
        }
        let room = (MAX_FIRST_BYTES - buf.len()) as u64;
        match timeout_at(deadline, (&mut *client).take(room).read_buf(buf)).await {
            Err(_) => return Err(HeadError::Silent),
            Ok(Ok(0)) | Ok(Err(_)) => return Err(HeadError::Closed),
            Ok(Ok(_)) => {}
        }
    }
}

fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(&buf[from..], b"\r\n\r\n").map(|at| from + at + 4)
}

/// The parts of a proxy request the proxy needs, owned.
struct Request {
    method: String,
    target: String,
    minor_version: u8,
    /// The headers to pass on (hop-by-hop ones left out).
    headers: Vec<(String, Vec<u8>)>,
}

fn parse_request(head: &[u8]) -> Result<Request, &'static str> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err("an incomplete request head"),
        Err(httparse::Error::TooManyHeaders) => return Err("more than 128 headers"),
        Err(_) => return Err("not an HTTP request"),
    }
    let (Some(method), Some(target), Some(minor_version)) = (req.method, req.path, req.version)
    else {
        return Err("not an HTTP request");
    };
    // Hop-by-hop headers, and those the Connection header names, are for
    // this hop only (RFC 9110, 7.6.1).
    let named: Vec<String> = req
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("connection"))
        .flat_map(|h| {
            String::from_utf8_lossy(h.value)
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .collect();
    const HOP: [&str; 7] = [
        "host",
        "connection",
        "proxy-connection",
        "proxy-authorization",
        "keep-alive",
        "te",
        "upgrade",
    ];
    let headers = req
        .headers
        .iter()
        .filter(|h| {
            let name = h.name.to_ascii_lowercase();
            !HOP.contains(&name.as_str()) && !named.contains(&name)
        })
        .map(|h| (h.name.to_owned(), h.value.to_vec()))
        .collect();
    Ok(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        minor_version,
        headers,
    })
}

/// One client of the proxy, from its request to the end of its flow.
async fn handle(engine: &Engine, mut client: TcpStream, peer: SocketAddr) {
    let _ = client.set_nodelay(true);
    let deadline = Instant::now() + engine.limits.handshake;
    let mut buf = Vec::with_capacity(2048);
    let head_len = match read_head(&mut client, &mut buf, deadline).await {
        Ok(len) => len,
        Err(e) => {
            let (status, error) = match e {
                HeadError::Silent => (Status::Silent, "no proxy request in time"),
                HeadError::Closed => (Status::Closed, "closed before a whole proxy request"),
                HeadError::TooLong => {
                    let _ = client
                        .write_all(&simple_response(
                            431,
                            "Request Header Fields Too Large",
                            "The request head is larger than the proxy reads.\n",
                        ))
                        .await;
                    (Status::BadRequest, "request head over the bound")
                }
            };
            report(engine, peer, None, None, status, Some(error)).await;
            return;
        }
    };
    let request = match parse_request(&buf[..head_len]) {
        Ok(request) => request,
        Err(why) => {
            let _ = client
                .write_all(&simple_response(400, "Bad Request", &format!("{why}\n")))
                .await;
            report(engine, peer, None, None, Status::BadRequest, Some(why)).await;
            return;
        }
    };
    buf.drain(..head_len);
    if request.method.eq_ignore_ascii_case("CONNECT") {
        tunnel(engine, client, peer, request, buf, deadline).await;
    } else {
        forward(engine, client, peer, request, buf).await;
    }
}

/// `CONNECT host:port`: decide on the first bytes sent through the tunnel.
async fn tunnel(
    engine: &Engine,
    mut client: TcpStream,
    peer: SocketAddr,
    request: Request,
    mut first: Vec<u8>,
    deadline: Instant,
) {
    let target = request.target;
    let Some((host, port)) = split_authority(&target, 443) else {
        let _ = client
            .write_all(&simple_response(
                400,
                "Bad Request",
                "CONNECT needs host:port\n",
            ))
            .await;
        report(
            engine,
            peer,
            Some(&target),
            None,
            Status::BadRequest,
            Some("CONNECT target is not host:port"),
        )
        .await;
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_err()
    {
        report(
            engine,
            peer,
            Some(&target),
            None,
            Status::Closed,
            Some("closed before the tunnel opened"),
        )
        .await;
        return;
    }
    // How the reading ended, when it ended before a decision: the client
    // closed (nothing to pass on), or went quiet (decided on the target,
    // so that protocols where the server speaks first still pass).
    let mut closed = false;
    let mut quiet = false;
    let (ruling, status) = loop {
        let complete = closed || quiet || first.len() >= MAX_FIRST_BYTES;
        if !first.is_empty() || complete {
            let step = {
                let set = engine.set.load();
                rule(
                    &set,
                    &engine.config,
                    &first,
                    Transport::Tcp,
                    Some(host),
                    complete,
                )
            };
            if let Step::Ruled(ruling, status) = step {
                break (ruling, status);
            }
        }
        let room = (MAX_FIRST_BYTES - first.len()) as u64;
        match timeout_at(deadline, (&mut client).take(room).read_buf(&mut first)).await {
            Ok(Ok(n)) if n > 0 => {}
            Ok(Ok(_)) | Ok(Err(_)) => closed = true,
            Err(_) => quiet = true,
        }
    };
    let status = match (closed, quiet && first.is_empty()) {
        (true, _) => Status::Closed,
        (false, true) => Status::Silent,
        (false, false) => status,
    };
    if ruling.verdict.decision == Decision::Block {
        match ruling.protocol {
            Some("tls") => {
                let _ = client.write_all(&TLS_ACCESS_DENIED).await;
            }
            Some("http") => {
                let _ = client.write_all(&block_page(&ruling)).await;
            }
            _ => {}
        }
        let _ = client.shutdown().await;
        report(engine, peer, Some(&target), Some(&ruling), status, None).await;
        return;
    }
    if closed {
        // Gone before its first bytes were whole: nothing to pass on.
        let error = "the client closed before its first bytes were complete";
        report(
            engine,
            peer,
            Some(&target),
            Some(&ruling),
            status,
            Some(error),
        )
        .await;
        return;
    }
    let server = match engine
        .upstream
        .connect(host, port, engine.limits.connect)
        .await
    {
        Ok(server) => server,
        Err(e) => {
            let error = format!("cannot reach {target}: {e}");
            report(
                engine,
                peer,
                Some(&target),
                Some(&ruling),
                status,
                Some(&error),
            )
            .await;
            return;
        }
    };
    report(engine, peer, Some(&target), Some(&ruling), status, None).await;
    pass(engine, client, server, &first).await;
}

/// An absolute-form plain HTTP request.
async fn forward(
    engine: &Engine,
    mut client: TcpStream,
    peer: SocketAddr,
    request: Request,
    body: Vec<u8>,
) {
    let Some((authority, origin)) = split_http_url(&request.target) else {
        let why = if request.target.starts_with('/') {
            "indset serve is a proxy: send absolute-form requests (http://host/path) or CONNECT"
        } else {
            "the proxy passes http:// URLs and CONNECT tunnels only"
        };
        let _ = client
            .write_all(&simple_response(400, "Bad Request", &format!("{why}\n")))
            .await;
        report(engine, peer, None, None, Status::BadRequest, Some(why)).await;
        return;
    };
    let Some((host, port)) = split_authority(authority, 80) else {
        let _ = client
            .write_all(&simple_response(
                400,
                "Bad Request",
                "the URL has no host:port\n",
            ))
            .await;
        report(
            engine,
            peer,
            Some(authority),
            None,
            Status::BadRequest,
            Some("the URL has no host"),
        )
        .await;
        return;
    };
    let mut first = origin_head(&request, authority, origin);
    first.extend_from_slice(&body);
    let ruled = {
        let set = engine.set.load();
        rule(
            &set,
            &engine.config,
            &first,
            Transport::Tcp,
            Some(host),
            true,
        )
    };
    let Step::Ruled(ruling, status) = ruled else {
        // `complete` rules out NeedMore.
        return;
    };
    if ruling.verdict.decision == Decision::Block {
        let _ = client.write_all(&block_page(&ruling)).await;
        let _ = client.shutdown().await;
        report(engine, peer, Some(authority), Some(&ruling), status, None).await;
        return;
    }
    let server = match engine
        .upstream
        .connect(host, port, engine.limits.connect)
        .await
    {
        Ok(server) => server,
        Err(e) => {
            let error = format!("cannot reach {authority}: {e}");
            let _ = client
                .write_all(&simple_response(502, "Bad Gateway", &format!("{error}\n")))
                .await;
            report(
                engine,
                peer,
                Some(authority),
                Some(&ruling),
                status,
                Some(&error),
            )
            .await;
            return;
        }
    };
    report(engine, peer, Some(authority), Some(&ruling), status, None).await;
    pass(engine, client, server, &first).await;
}

/// Sends the first bytes on, then relays the rest both ways.
async fn pass(engine: &Engine, client: TcpStream, mut server: TcpStream, first: &[u8]) {
    if server.write_all(first).await.is_err() {
        return;
    }
    let _ = relay(client, server, engine.limits.idle).await;
}

async fn report(
    engine: &Engine,
    client: SocketAddr,
    target: Option<&str>,
    ruling: Option<&Ruling>,
    status: Status,
    error: Option<&str>,
) {
    let flow = Flow {
        client,
        listener: "proxy",
        transport: "tcp",
        target,
        ruling,
        status,
        error,
    };
    engine
        .report
        .send(flow, engine.config.exclude_url_in_report)
        .await;
}

/// `http://authority/path?query` to (authority, `/path?query`); `None` for
/// anything else. The user info (`user@`) is dropped.
fn split_http_url(target: &str) -> Option<(&str, &str)> {
    let scheme = target.get(..7)?;
    if !scheme.eq_ignore_ascii_case("http://") {
        return None;
    }
    let rest = &target[7..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let origin = match &rest[end..] {
        "" => "/",
        path => path,
    };
    Some((authority, origin))
}

/// The request head a server gets: origin form, the URL's authority as
/// `Host`, the end-to-end headers, and `Connection: close`.
fn origin_head(request: &Request, authority: &str, origin: &str) -> Vec<u8> {
    let origin = origin.split('#').next().unwrap_or(origin);
    let mut head = Vec::with_capacity(256);
    head.extend_from_slice(request.method.as_bytes());
    head.push(b' ');
    head.extend_from_slice(origin.as_bytes());
    head.extend_from_slice(
        format!(
            " HTTP/1.{}\r\nHost: {authority}\r\n",
            request.minor_version.min(1)
        )
        .as_bytes(),
    );
    for (name, value) in &request.headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    head
}

/// The page a blocked plain HTTP request gets: what was blocked, and the
/// indicator's title (its id when it has none).
fn block_page(ruling: &Ruling) -> Vec<u8> {
    let what = ruling.checked.as_deref().unwrap_or("this site");
    let why = ruling
        .indicator
        .as_ref()
        .map(|i| {
            i.meta
                .title
                .clone()
                .unwrap_or_else(|| format!("indicator {}", i.id))
        })
        .unwrap_or_default();
    let mut body = String::with_capacity(512);
    body.push_str("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Blocked</title></head>\n<body>\n<h1>Blocked by your organisation</h1>\n<p>");
    escape_html(&mut body, what);
    body.push_str(" is blocked");
    if !why.is_empty() {
        body.push_str(": ");
        escape_html(&mut body, &why);
    }
    body.push_str(".</p>\n</body></html>\n");
    let mut out = format!(
        "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

fn escape_html(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

fn simple_response(code: u16, reason: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_urls() {
        assert_eq!(
            split_http_url("http://a.test/x?y"),
            Some(("a.test", "/x?y"))
        );
        assert_eq!(split_http_url("HTTP://a.test:81"), Some(("a.test:81", "/")));
        assert_eq!(
            split_http_url("http://u:p@a.test?q"),
            Some(("a.test", "?q"))
        );
        assert_eq!(split_http_url("https://a.test/"), None);
        assert_eq!(split_http_url("/x"), None);
    }

    #[test]
    fn rewritten_head() {
        let head = b"GET http://a.test/p HTTP/1.1\r\nHost: evil.test\r\nProxy-Connection: keep-alive\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nAccept: */*\r\n\r\n";
        let request = parse_request(head).unwrap();
        let (authority, origin) = split_http_url(&request.target).unwrap();
        let out = origin_head(&request, authority, origin);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GET /p HTTP/1.1\r\nHost: a.test\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn escapes() {
        let mut out = String::new();
        escape_html(&mut out, "<a href='x'>&\u{7}");
        assert_eq!(out, "&lt;a href=&#39;x&#39;&gt;&amp;&#7;");
    }
}
