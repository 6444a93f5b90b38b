//! How much `indset serve` costs a flow: latency per flow and flows per
//! second through the proxy against a direct connection to the same local
//! server, in the same run. A measurement, not a test: it asserts only
//! that the flows succeeded, and runs when asked:
//!
//! ```sh
//! cargo test --release --test serve_bench -- --ignored --nocapture
//! ```
#![cfg(feature = "serve")]

mod serve_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use serve_support::*;

/// Sequential flows per latency figure.
const SEQUENTIAL: usize = 2000;
/// Concurrent clients and flows per throughput figure.
const CLIENTS: usize = 32;
const FLOWS: usize = 8000;

/// One plain HTTP flow: a GET of 100 bytes, over `via` as a proxy or
/// straight to `direct`.
fn http_flow(via: Option<SocketAddr>, server: SocketAddr, name: &str) -> bool {
    let target = via.unwrap_or(server);
    let Ok(mut stream) = TcpStream::connect(target) else {
        return false;
    };
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let path = "/bytes/100";
    let request = match via {
        Some(_) => format!(
            "GET http://{name}:{}{path} HTTP/1.1\r\nHost: {name}:{}\r\n\r\n",
            server.port(),
            server.port()
        ),
        None => format!(
            "GET {path} HTTP/1.1\r\nHost: {name}:{}\r\nConnection: close\r\n\r\n",
            server.port()
        ),
    };
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = Vec::new();
    if stream.read_to_end(&mut response).is_err() {
        return false;
    }
    split_response(&response).is_some_and(|(code, body)| code == 200 && body == pattern(name, 100))
}

/// One HTTPS flow (handshake, GET, close) through the proxy, or direct.
fn tls_flow(via: Option<SocketAddr>, port: u16, config: &Arc<rustls::ClientConfig>) -> bool {
    match via {
        Some(proxy) => {
            matches!(tls_get_via(proxy, config, "plain.test", port, "/bytes/100").1, Ok((200, body)) if body == pattern("plain.test", 100))
        }
        None => {
            let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) else {
                return false;
            };
            let _ = stream.set_nodelay(true);
            let name = rustls::pki_types::ServerName::try_from("plain.test").unwrap();
            let conn = rustls::ClientConnection::new(Arc::clone(config), name).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, stream);
            if tls
                .write_all(
                    b"GET /bytes/100 HTTP/1.1\r\nHost: plain.test\r\nConnection: close\r\n\r\n",
                )
                .is_err()
            {
                return false;
            }
            let mut response = Vec::new();
            let _ = tls.read_to_end(&mut response);
            split_response(&response)
                .is_some_and(|(code, body)| code == 200 && body == pattern("plain.test", 100))
        }
    }
}

/// Median and 99th percentile, in µs, of `n` sequential runs of each of
/// `a` and `b`, taken in turn so that the machine's load falls on both
/// alike.
fn latency(n: usize, a: impl Fn() -> bool, b: impl Fn() -> bool) -> ((f64, f64), (f64, f64)) {
    let time = |flow: &dyn Fn() -> bool| {
        let start = Instant::now();
        assert!(flow());
        start.elapsed().as_secs_f64() * 1e6
    };
    let (mut ta, mut tb) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        ta.push(time(&a));
        tb.push(time(&b));
    }
    let figures = |mut t: Vec<f64>| {
        t.sort_by(f64::total_cmp);
        (t[n / 2], t[n * 99 / 100])
    };
    (figures(ta), figures(tb))
}

/// Flows per second with `CLIENTS` clients running `FLOWS` flows.
fn throughput(flow: impl Fn() -> bool + Send + Sync + 'static) -> f64 {
    let flow = Arc::new(flow);
    let start = Instant::now();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let flow = Arc::clone(&flow);
            thread::spawn(move || (0..FLOWS / CLIENTS).all(|_| flow()))
        })
        .collect();
    for t in threads {
        assert!(t.join().unwrap());
    }
    FLOWS as f64 / start.elapsed().as_secs_f64()
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture"]
fn serve_flow_costs() {
    let dir = tempfile::tempdir().unwrap();
    let set = compile(dir.path(), "set.indset", INDICATORS);
    let http = HttpServer::start();
    let tls = TlsServer::start(dir.path());
    let mut args = vec![
        "--set".into(),
        set.display().to_string(),
        "--proxy".into(),
        "127.0.0.1:0".into(),
    ];
    args.extend(resolve_args(&[http.port, tls.port]));
    let mut engine = Engine::start(dir.path(), &args);
    let proxy = engine.proxy.unwrap();
    let server: SocketAddr = ([127, 0, 0, 1], http.port).into();
    let config = client_config(&tls.cert_der);

    // Warm both paths.
    for _ in 0..200 {
        assert!(http_flow(None, server, "plain.test"));
        assert!(http_flow(Some(proxy), server, "plain.test"));
    }
    let (direct, proxied) = latency(
        SEQUENTIAL,
        || http_flow(None, server, "plain.test"),
        || http_flow(Some(proxy), server, "plain.test"),
    );
    let url = format!("http://blocked.test:{}/", http.port);
    let (_, blocked) = latency(
        SEQUENTIAL,
        || true,
        || http_get_via(proxy, &url).is_some_and(|(code, _)| code == 403),
    );
    let (tls_direct, tls_proxied) = latency(
        SEQUENTIAL / 4,
        || tls_flow(None, tls.port, &config),
        || tls_flow(Some(proxy), tls.port, &config),
    );
    let rate_direct = throughput(move || http_flow(None, server, "plain.test"));
    let rate_proxied = throughput(move || http_flow(Some(proxy), server, "plain.test"));
    let port = http.port;
    let rate_blocked = throughput(move || {
        http_get_via(proxy, &format!("http://blocked.test:{port}/"))
            .is_some_and(|(code, _)| code == 403)
    });
    let peak = engine.peak_rss_kib();
    assert!(engine.stop().success());

    println!("| flow (loopback, 100-byte response) | median µs | p99 µs |");
    println!("|---|---:|---:|");
    for (what, (median, p99)) in [
        ("plain HTTP, direct", direct),
        ("plain HTTP, through the proxy", proxied),
        ("plain HTTP, blocked by the proxy (block page)", blocked),
        ("HTTPS, direct (TLS 1.3 handshake + GET)", tls_direct),
        ("HTTPS, through a CONNECT tunnel", tls_proxied),
    ] {
        println!("| {what} | {median:.0} | {p99:.0} |");
    }
    println!();
    println!(
        "added latency per flow: plain HTTP {:.0} µs (median), HTTPS {:.0} µs (median)",
        proxied.0 - direct.0,
        tls_proxied.0 - tls_direct.0
    );
    println!();
    println!("| {CLIENTS} clients, {FLOWS} flows | flows/s |");
    println!("|---|---:|");
    println!("| plain HTTP, direct | {rate_direct:.0} |");
    println!("| plain HTTP, through the proxy | {rate_proxied:.0} |");
    println!("| plain HTTP, blocked by the proxy | {rate_blocked:.0} |");
    println!();
    println!("engine peak RSS over the run: {peak} KiB");
}
