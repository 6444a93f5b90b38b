//! `indset serve` when things go wrong: the destination is down, a client
//! resets in the middle of its ClientHello, a client sends nothing, and
//! 10,000 flows arrive at once against a cap of 32. After each, the
//! engine must still serve, report what happened, stay within its memory
//! and never panic.
#![cfg(feature = "serve")]

mod serve_support;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serve_support::*;

/// The engine's peak resident memory must stay under this, whatever the
/// clients do (the set here is tiny: this is the engine's own memory).
const PEAK_RSS_LIMIT_KIB: u64 = 64 * 1024;

/// A ClientHello for `name`, as a rustls client writes it.
fn client_hello(config: &Arc<rustls::ClientConfig>, name: &str) -> Vec<u8> {
    let server_name = rustls::pki_types::ServerName::try_from(name.to_owned()).unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::clone(config), server_name).unwrap();
    let mut hello = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut hello).unwrap();
    }
    hello
}

fn no_panic(engine: &Engine) {
    assert!(
        !engine.stderr().iter().any(|l| l.contains("panicked")),
        "{:?}",
        engine.stderr()
    );
}

#[test]
fn faults_leave_the_engine_serving() {
    let dir = tempfile::tempdir().unwrap();
    let set = compile(dir.path(), "set.indset", INDICATORS);
    let http = HttpServer::start();
    let tls = TlsServer::start(dir.path());
    // A port nothing listens on: bound, then closed.
    let down = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut args = vec![
        "--set".into(),
        set.display().to_string(),
        "--proxy".into(),
        "127.0.0.1:0".into(),
        "--handshake-timeout".into(),
        "1".into(),
        "--connect-timeout".into(),
        "2".into(),
        "--max-flows".into(),
        "32".into(),
    ];
    args.extend(resolve_args(&[http.port, tls.port, down]));
    let mut engine = Engine::start(dir.path(), &args);
    let proxy = engine.proxy.unwrap();
    let config = client_config(&tls.cert_der);
    let alive = |engine: &Engine| {
        let url = format!("http://plain.test:{}/alive", http.port);
        let (code, body) = http_get_via(proxy, &url).expect("the engine stopped answering");
        assert_eq!(
            (code, String::from_utf8_lossy(&body).into_owned()),
            (200, "<p>page /alive from plain.test</p>\n".into())
        );
        no_panic(engine);
    };

    // The destination is down: plain HTTP gets a 502 that says so, a
    // tunnel is closed; both are reported with the error.
    let (code, body) = http_get_via(proxy, &format!("http://plain.test:{down}/")).unwrap();
    assert_eq!(code, 502);
    assert!(String::from_utf8_lossy(&body).contains("cannot reach plain.test"));
    let (_, got) = tls_get_via(proxy, &config, "allowed.test", down, "/");
    assert!(got.is_err());
    let report = engine.wait_for_report(2, Duration::from_secs(10));
    assert_eq!(report.len(), 2);
    for line in &report {
        assert!(
            line["error"].as_str().unwrap().contains("cannot reach"),
            "{line}"
        );
    }
    alive(&engine);

    // A client resets in the middle of its ClientHello: reported as closed,
    // and the destination is never contacted.
    let hello = client_hello(&config, "allowed.test");
    let served = tls.served.load(Ordering::Relaxed);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(proxy).await.unwrap();
        let connect = format!(
            "CONNECT allowed.test:{0} HTTP/1.1\r\nHost: allowed.test:{0}\r\n\r\n",
            tls.port
        );
        stream.write_all(connect.as_bytes()).await.unwrap();
        let mut answer = [0u8; 39];
        stream.read_exact(&mut answer).await.unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 200"));
        stream.write_all(&hello[..hello.len() / 2]).await.unwrap();
        stream.set_zero_linger().unwrap();
        drop(stream);
    });
    let report = engine.wait_for_report(4, Duration::from_secs(10));
    let reset = &report[3];
    assert_eq!(reset["status"], "closed", "{reset}");
    assert!(
        reset["error"].as_str().unwrap().contains("closed before"),
        "{reset}"
    );
    assert_eq!(tls.served.load(Ordering::Relaxed), served);
    alive(&engine);

    // A client that sends nothing is let go after the handshake timeout.
    let mut silent = TcpStream::connect(proxy).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let waited = Instant::now();
    let mut nothing = Vec::new();
    let n = silent.read_to_end(&mut nothing).unwrap_or(0);
    assert_eq!(n, 0);
    let waited = waited.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    let report = engine.wait_for_report(6, Duration::from_secs(10));
    assert!(
        report.iter().any(|l| l["status"] == "silent"),
        "{report:#?}"
    );
    alive(&engine);

    // 10,000 flows, 500 at a time, against a cap of 32 (and 40 silent
    // clients holding permits until their timeout): every one is served,
    // in order of arrival, in bounded memory.
    let before = engine.report().len();
    let silent_clients: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(proxy).unwrap())
        .collect();
    const STORM: usize = 10_000;
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    runtime.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let gate = Arc::new(tokio::sync::Semaphore::new(500));
        let mut tasks = Vec::with_capacity(STORM);
        for i in 0..STORM {
            let permit = Arc::clone(&gate).acquire_owned().await.unwrap();
            let (ok, failed) = (Arc::clone(&ok), Arc::clone(&failed));
            let port = http.port;
            tasks.push(tokio::spawn(async move {
                let flow = async {
                    let mut stream = tokio::net::TcpStream::connect(proxy).await.ok()?;
                    let request = format!(
                        "GET http://plain.test:{port}/s{i} HTTP/1.1\r\nHost: plain.test:{port}\r\n\r\n"
                    );
                    stream.write_all(request.as_bytes()).await.ok()?;
                    let mut response = Vec::new();
                    stream.read_to_end(&mut response).await.ok()?;
                    let (code, body) = split_response(&response)?;
                    let want = format!("<p>page /s{i} from plain.test</p>\n");
                    (code == 200 && body == want.as_bytes()).then_some(())
                };
                match tokio::time::timeout(Duration::from_secs(120), flow).await {
                    Ok(Some(())) => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
                drop(permit);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
    let elapsed = started.elapsed();
    let peak = engine.peak_rss_kib();
    eprintln!(
        "{STORM} flows against a cap of 32 in {elapsed:.2?} ({:.0} flows/s); engine peak RSS {peak} KiB",
        STORM as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(failed.load(Ordering::Relaxed), 0);
    assert_eq!(ok.load(Ordering::Relaxed), STORM);
    assert!(peak < PEAK_RSS_LIMIT_KIB, "peak RSS {peak} KiB");
    // The last silent clients were accepted as the first ones timed out:
    // let their timeout pass too before closing them.
    std::thread::sleep(Duration::from_millis(1500));
    drop(silent_clients);
    let report = engine.wait_for_report(before + STORM + 40, Duration::from_secs(20));
    let storm_lines = report[before..]
        .iter()
        .filter(|l| l["status"] == "checked")
        .count();
    assert_eq!(storm_lines, STORM);
    assert_eq!(
        report[before..]
            .iter()
            .filter(|l| l["status"] == "silent")
            .count(),
        40
    );
    alive(&engine);
    assert!(engine.stop().success());
    no_panic(&engine);
}

#[test]
fn a_dns_upstream_that_is_down_is_reported_and_blocking_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let set = compile(dir.path(), "set.indset", INDICATORS);
    // A UDP port nothing listens on.
    let down = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let args = vec![
        "--set".into(),
        set.display().to_string(),
        "--dns".into(),
        "127.0.0.1:0".into(),
        "--dns-upstream".into(),
        down.to_string(),
        "--connect-timeout".into(),
        "1".into(),
    ];
    let mut engine = Engine::start(dir.path(), &args);
    let dns = engine.dns.unwrap();
    let dig = |name: &str| {
        std::process::Command::new("dig")
            .arg(format!("@{}", dns.ip()))
            .args([
                "-p",
                &dns.port().to_string(),
                "+time=2",
                "+tries=1",
                "+short",
                name,
                "A",
            ])
            .output()
            .unwrap()
    };
    // No answer for a name the upstream would have to answer...
    let out = dig("plain.test");
    assert!(!out.status.success() || out.stdout.is_empty(), "{out:?}");
    // ...while blocked names are still answered.
    let out = dig("blocked.test");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0.0.0.0");
    let report = engine.wait_for_report(2, Duration::from_secs(10));
    let failed = report.iter().find(|l| l["decision"] == "none").unwrap();
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains(&format!("upstream {down}")),
        "{failed}"
    );
    assert!(engine.stop().success());
    no_panic(&engine);
}
