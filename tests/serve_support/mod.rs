//! What the `indset serve` tests share: a compiled set, the engine as a
//! child process, and local servers (HTTPS with a self-signed
//! certificate, plain HTTP, DNS) on loopback. Everything listens on
//! 127.0.0.1 port 0 and stops with the test process.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_indset");

/// The indicators every serve test uses: one of each action, a URL
/// indicator for full mode, titles the block page must show.
pub const INDICATORS: &str = "\
IndicatorType,IndicatorValue,Action,Title,Id
DomainName,blocked.test,Block,Test malware host,ind-block
DomainName,warned.test,Warn,Test warned host,ind-warn
DomainName,audited.test,Audit,Test audited host,ind-audit
DomainName,allowed.test,Allowed,Test allowed host,ind-allow
Url,http://paths.test/bad,Block,Test bad path,ind-path
";

/// The names the local servers answer for.
pub const NAMES: [&str; 8] = [
    "page.test",
    "blocked.test",
    "warned.test",
    "audited.test",
    "allowed.test",
    "plain.test",
    "paths.test",
    "later.test",
];

/// Compiles `csv` into `dir/name`; panics with compile's stderr on failure.
pub fn compile(dir: &Path, name: &str, csv: &str) -> PathBuf {
    let input = dir.join(format!("{name}.csv"));
    std::fs::write(&input, csv).unwrap();
    let out = dir.join(name);
    let run = Command::new(BIN)
        .args(["compile", "--allow-empty", "-o"])
        .arg(&out)
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "compile failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

/// Replaces `target` by renaming `source` over it, as `indset compile`
/// does.
pub fn replace_by_rename(source: &Path, target: &Path) {
    let tmp = target.with_extension("incoming");
    std::fs::copy(source, &tmp).unwrap();
    std::fs::rename(&tmp, target).unwrap();
}

/// A running `indset serve`.
pub struct Engine {
    child: Option<Child>,
    stderr: Arc<Mutex<Vec<String>>>,
    pub proxy: Option<SocketAddr>,
    pub dns: Option<SocketAddr>,
    pub report: PathBuf,
}

impl Engine {
    /// Starts `indset serve` with `args` (the report goes to
    /// `dir/report.jsonl`) and waits until it listens.
    pub fn start(dir: &Path, args: &[String]) -> Engine {
        let report = dir.join("report.jsonl");
        let mut child = Command::new(BIN)
            .arg("serve")
            // Nothing leaves the machine: names without a --resolve entry
            // (a browser's background requests) are not looked up.
            .arg("--resolve-only")
            .args(args)
            .arg("--report")
            .arg(&report)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let pipe = child.stderr.take().unwrap();
        let lines = Arc::clone(&stderr);
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                lines.lock().unwrap().push(line);
            }
        });
        let mut engine = Engine {
            child: Some(child),
            stderr,
            proxy: None,
            dns: None,
            report,
        };
        let wants_dns = args.iter().any(|a| a == "--dns");
        let wants_proxy = args.iter().any(|a| a == "--proxy") || !wants_dns;
        engine.wait_for_stderr("indicators from", Duration::from_secs(20));
        for line in engine.stderr() {
            if let Some(rest) = line.strip_prefix("indset: serve: proxy on ") {
                engine.proxy = rest.trim().parse().ok();
            }
            if let Some(rest) = line.strip_prefix("indset: serve: dns on ") {
                engine.dns = rest.split(' ').next().and_then(|a| a.parse().ok());
            }
        }
        assert_eq!(engine.proxy.is_some(), wants_proxy, "{:?}", engine.stderr());
        assert_eq!(engine.dns.is_some(), wants_dns, "{:?}", engine.stderr());
        engine
    }

    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.proxy.unwrap())
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// The engine's stderr so far.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until a stderr line contains `text`; panics after `limit`.
    pub fn wait_for_stderr(&mut self, text: &str, limit: Duration) {
        let start = Instant::now();
        loop {
            if self.stderr().iter().any(|l| l.contains(text)) {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("the engine exited ({status}): {:?}", self.stderr());
            }
            assert!(
                start.elapsed() < limit,
                "no stderr line with {text:?} within {limit:?}: {:?}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// How many stderr lines contain `text`.
    pub fn count_stderr(&self, text: &str) -> usize {
        self.stderr().iter().filter(|l| l.contains(text)).count()
    }

    /// The report lines written so far, parsed.
    pub fn report(&self) -> Vec<Value> {
        read_report(&self.report)
    }

    /// Waits until the report has at least `n` lines; returns them.
    pub fn wait_for_report(&self, n: usize, limit: Duration) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let lines = self.report();
            if lines.len() >= n || start.elapsed() > limit {
                return lines;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The engine's peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// Sends SIGTERM and waits (at most 20 s) for the engine to exit.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                // Let the stderr reader take the last lines.
                thread::sleep(Duration::from_millis(50));
                return status;
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                panic!("the engine did not stop on SIGTERM: {:?}", self.stderr());
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn read_report(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad report line {l:?}: {e}")))
        .collect()
}

/// The `--resolve` arguments that send each of `NAMES` on `port` to
/// 127.0.0.1.
pub fn resolve_args(ports: &[u16]) -> Vec<String> {
    let mut args = Vec::new();
    for port in ports {
        for name in NAMES {
            args.push("--resolve".into());
            args.push(format!("{name}:{port}:127.0.0.1"));
        }
    }
    args
}

/// The body a local server sends for `/bytes/N`: N bytes that depend on
/// the position and on the name served, so that a mix-up or a lost byte
/// shows.
pub fn pattern(name: &str, n: usize) -> Vec<u8> {
    let seed: u32 = name
        .bytes()
        .fold(7, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    (0..n)
        .map(|i| (seed.wrapping_add((i as u32).wrapping_mul(2_654_435_761)) >> 13) as u8)
        .collect()
}

/// What a local server answers to `GET path` for `host`: `/bytes/N` the
/// pattern, anything else a small page naming the host and path.
fn respond(host: &str, path: &str) -> (String, Vec<u8>) {
    if let Some(n) = path
        .strip_prefix("/bytes/")
        .and_then(|n| n.parse::<usize>().ok())
    {
        return (
            "application/octet-stream".into(),
            pattern(host, n.min(64 << 20)),
        );
    }
    if let Some(rest) = path.strip_prefix("/file/") {
        let kind = if rest.ends_with(".js") {
            "text/javascript"
        } else if rest.ends_with(".css") {
            "text/css"
        } else {
            "text/plain"
        };
        return (kind.into(), format!("/* {host}{path} */\n").into_bytes());
    }
    (
        "text/html; charset=utf-8".into(),
        format!("<p>page {path} from {host}</p>\n").into_bytes(),
    )
}

/// Reads a request head from `stream`; returns (host without port, path).
fn read_request(stream: &mut impl Read) -> Option<(String, String)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 64 * 1024 || stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let path = text.split(' ').nth(1)?.to_owned();
    let host = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("host").then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    let host = host
        .rsplit_once(':')
        .map_or(host.clone(), |(h, _)| h.to_owned());
    Some((host, path))
}

fn write_response(stream: &mut impl Write, kind: &str, body: &[u8]) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nAccess-Control-Allow-Origin: *\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

/// A local HTTPS server with a self-signed certificate for every name in
/// `NAMES`; counts the requests it served.
pub struct TlsServer {
    pub port: u16,
    pub cert_pem: PathBuf,
    pub cert_der: Vec<u8>,
    pub served: Arc<AtomicU64>,
}

impl TlsServer {
    pub fn start(dir: &Path) -> TlsServer {
        let names: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
        let key = rcgen::generate_simple_self_signed(names).unwrap();
        let cert_pem = dir.join("server-cert.pem");
        std::fs::write(&cert_pem, key.cert.pem()).unwrap();
        let cert_der = key.cert.der().to_vec();
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![key.cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::try_from(key.signing_key.serialize_der())
                    .unwrap(),
            )
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let served = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&served);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let _ = stream.set_nodelay(true);
                let config = Arc::clone(&config);
                let count = Arc::clone(&count);
                thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    let Ok(conn) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    let mut tls = rustls::StreamOwned::new(conn, stream);
                    let Some((_, path)) = read_request(&mut tls) else {
                        return;
                    };
                    let sni = tls.conn.server_name().unwrap_or("").to_owned();
                    let (kind, body) = respond(&sni, &path);
                    if write_response(&mut tls, &kind, &body).is_ok() {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                });
            }
        });
        TlsServer {
            port,
            cert_pem,
            cert_der,
            served,
        }
    }
}

// The ring provider is deprecated for lacking post-quantum key exchange,
// which a local test server does not need; aws-lc-rs would add a C++
// build to every test run.
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS client configuration that trusts only `cert_der`.
pub fn client_config(cert_der: &[u8]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(cert_der.to_vec()))
        .unwrap();
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A response's status and body, or why there is none.
pub type Response = Result<(u16, Vec<u8>), String>;

/// Opens a `CONNECT name:port` tunnel through the proxy; returns the
/// stream once the proxy said 200.
pub fn connect_via(proxy: SocketAddr, name: &str, port: u16) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(proxy).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    // A TLS client writes its handshake in several small writes.
    let _ = stream.set_nodelay(true);
    write!(
        stream,
        "CONNECT {name}:{port} HTTP/1.1\r\nHost: {name}:{port}\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return Err("the proxy closed before answering CONNECT".into()),
        }
    }
    if !head.starts_with(b"HTTP/1.1 200") {
        return Err(format!(
            "CONNECT answered {}",
            String::from_utf8_lossy(&head)
        ));
    }
    Ok(stream)
}

/// An HTTPS GET of `path` on `name:port` through a `CONNECT` tunnel, TLS
/// verified against `config`: (the client's local address, then the
/// status and body, or the TLS error).
pub fn tls_get_via(
    proxy: SocketAddr,
    config: &Arc<rustls::ClientConfig>,
    name: &str,
    port: u16,
    path: &str,
) -> (Option<SocketAddr>, Response) {
    let stream = match connect_via(proxy, name, port) {
        Ok(stream) => stream,
        Err(e) => return (None, Err(e)),
    };
    let local = stream.local_addr().ok();
    let server_name = rustls::pki_types::ServerName::try_from(name.to_owned()).unwrap();
    let conn = rustls::ClientConnection::new(Arc::clone(config), server_name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, stream);
    let result = (|| {
        write!(
            tls,
            "GET {path} HTTP/1.1\r\nHost: {name}:{port}\r\nConnection: close\r\n\r\n"
        )
        .map_err(|e| e.to_string())?;
        let mut response = Vec::new();
        match tls.read_to_end(&mut response) {
            Ok(_) => {}
            // The server's close_notify may race its TCP close.
            Err(e) if !response.is_empty() && e.kind() == std::io::ErrorKind::UnexpectedEof => {}
            Err(e) => return Err(e.to_string()),
        }
        split_response(&response).ok_or_else(|| "no HTTP response".to_string())
    })();
    (local, result)
}

/// (status code, body) of a whole HTTP response.
pub fn split_response(response: &[u8]) -> Option<(u16, Vec<u8>)> {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&response[..end]).into_owned();
    let code = head.split(' ').nth(1)?.parse().ok()?;
    Some((code, response[end + 4..].to_vec()))
}

/// A local plain HTTP server; counts the requests it served.
pub struct HttpServer {
    pub port: u16,
    pub served: Arc<AtomicU64>,
    page: Arc<Mutex<Option<(String, String)>>>,
}

impl HttpServer {
    /// Makes the server answer `GET path` with `html`.
    pub fn set_page(&self, path: &str, html: &str) {
        *self.page.lock().unwrap() = Some((path.to_owned(), html.to_owned()));
    }

    pub fn start() -> HttpServer {
        let page: Arc<Mutex<Option<(String, String)>>> = Arc::default();
        let pages = Arc::clone(&page);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let served = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&served);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_nodelay(true);
                let count = Arc::clone(&count);
                let page = Arc::clone(&pages);
                thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    let Some((host, path)) = read_request(&mut stream) else {
                        return;
                    };
                    let custom = page
                        .lock()
                        .unwrap()
                        .as_ref()
                        .filter(|(p, _)| *p == path)
                        .map(|(_, html)| html.clone().into_bytes());
                    let (kind, body) = match custom {
                        Some(html) => ("text/html; charset=utf-8".into(), html),
                        None => respond(&host, &path),
                    };
                    if write_response(&mut stream, &kind, &body).is_ok() {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        HttpServer { port, served, page }
    }
}

/// The address the local DNS upstream answers for every A question.
pub const UPSTREAM_A: [u8; 4] = [192, 0, 2, 7];

/// A local DNS server, UDP and TCP, that answers every A question with
/// `UPSTREAM_A` (built with `simple-dns`, independent of the engine's
/// code); counts the queries it got.
pub struct DnsServer {
    pub addr: SocketAddr,
    pub queries: Arc<AtomicU64>,
}

fn dns_reply(query: &[u8]) -> Option<Vec<u8>> {
    use simple_dns::rdata::{A, RData};
    use simple_dns::{CLASS, Packet, ResourceRecord};
    let packet = Packet::parse(query).ok()?;
    let mut reply = Packet::new_reply(packet.id());
    for q in &packet.questions {
        reply.questions.push(q.clone());
        reply.answers.push(ResourceRecord::new(
            q.qname.clone(),
            CLASS::IN,
            300,
            RData::A(A {
                address: u32::from_be_bytes(UPSTREAM_A),
            }),
        ));
    }
    reply.build_bytes_vec().ok()
}

impl DnsServer {
    pub fn start() -> DnsServer {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = udp.local_addr().unwrap();
        let tcp = TcpListener::bind(addr).unwrap();
        let queries = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&queries);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok((n, peer)) = udp.recv_from(&mut buf) {
                count.fetch_add(1, Ordering::Relaxed);
                if let Some(reply) = dns_reply(&buf[..n]) {
                    let _ = udp.send_to(&reply, peer);
                }
            }
        });
        let count = Arc::clone(&queries);
        thread::spawn(move || {
            for stream in tcp.incoming() {
                let Ok(mut stream) = stream else { continue };
                let count = Arc::clone(&count);
                thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    loop {
                        let mut len = [0u8; 2];
                        if stream.read_exact(&mut len).is_err() {
                            return;
                        }
                        let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
                        if stream.read_exact(&mut query).is_err() {
                            return;
                        }
                        count.fetch_add(1, Ordering::Relaxed);
                        let Some(reply) = dns_reply(&query) else {
                            return;
                        };
                        let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
                        framed.extend_from_slice(&reply);
                        if stream.write_all(&framed).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        DnsServer { addr, queries }
    }
}

/// A plain HTTP GET of `url` through the proxy at `proxy`, with a raw
/// socket: (status code, body). `None` when the proxy closed without a
/// response.
pub fn http_get_via(proxy: SocketAddr, url: &str) -> Option<(u16, Vec<u8>)> {
    http_get_from(proxy, url).1
}

/// Like `http_get_via`, with the client's local address.
pub fn http_get_from(proxy: SocketAddr, url: &str) -> (Option<SocketAddr>, Option<(u16, Vec<u8>)>) {
    let Ok(stream) = TcpStream::connect(proxy) else {
        return (None, None);
    };
    let local = stream.local_addr().ok();
    (local, http_get_on(stream, url))
}

fn http_get_on(mut stream: TcpStream, url: &str) -> Option<(u16, Vec<u8>)> {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .ok()?;
    let host = url.trim_start_matches("http://").split('/').next()?;
    write!(
        stream,
        "GET {url} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: serve-test\r\n\r\n"
    )
    .ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    split_response(&response)
}

/// Runs curl with `args`: (exit code, stdout, stderr).
pub fn curl(args: &[&str]) -> (i32, Vec<u8>, String) {
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl is needed for the serve tests (apt-get install curl)");
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The report lines whose `checked` equals `checked`.
pub fn lines_for<'a>(report: &'a [Value], checked: &str) -> Vec<&'a Value> {
    report
        .iter()
        .filter(|l| l["checked"].as_str() == Some(checked))
        .collect()
}
