//! `indset serve` driven by real clients on loopback: curl through the
//! proxy (HTTPS via CONNECT to a local server with a self-signed
//! certificate, plain HTTP), dig against the DNS forwarder, the managed
//! app configuration's three settings, a set replaced while serving, and
//! a clean stop on SIGTERM.
#![cfg(feature = "serve")]

mod serve_support;

use std::time::Duration;

use serde_json::Value;
use serve_support::*;

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn one<'a>(report: &'a [Value], checked: &str) -> &'a Value {
    let lines = lines_for(report, checked);
    assert_eq!(lines.len(), 1, "one report line for {checked}: {report:#?}");
    lines[0]
}

#[test]
fn https_through_the_proxy_passes_untouched_or_is_refused() {
    let dir = tempdir();
    let set = compile(dir.path(), "set.indset", INDICATORS);
    let server = TlsServer::start(dir.path());
    let mut args = vec![
        "--set".into(),
        set.display().to_string(),
        "--proxy".into(),
        "127.0.0.1:0".into(),
    ];
    args.extend(resolve_args(&[server.port]));
    let mut engine = Engine::start(dir.path(), &args);
    let proxy = engine.proxy_url();
    let pem = server.cert_pem.display().to_string();
    let url = |name: &str, path: &str| format!("https://{name}:{}{path}", server.port);

    // Allowed, no indicator, warned, audited: the server's bytes, intact
    // (the certificate verifies, so nothing sat in the middle).
    for name in ["allowed.test", "plain.test", "warned.test", "audited.test"] {
        let (code, body, err) = curl(&[
            "--proxy",
            &proxy,
            "--cacert",
            &pem,
            &url(name, "/bytes/300000"),
        ]);
        assert_eq!(code, 0, "{name}: {err}");
        assert!(
            body == pattern(name, 300_000),
            "{name}: the body differs from what the server sent"
        );
    }
    let served = server.served.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(served, 4);

    // Blocked: the handshake fails with the alert, and the server never
    // sees the connection.
    let (code, body, err) = curl(&[
        "--proxy",
        &proxy,
        "--cacert",
        &pem,
        &url("blocked.test", "/"),
    ]);
    assert_ne!(
        code,
        0,
        "a blocked site loaded: {}",
        String::from_utf8_lossy(&body)
    );
    assert!(body.is_empty());
    assert!(
        err.contains("alert") && err.contains("access denied"),
        "curl said: {err}"
    );
    assert_eq!(
        server.served.load(std::sync::atomic::Ordering::Relaxed),
        served
    );

    let report = engine.wait_for_report(5, Duration::from_secs(10));
    assert_eq!(report.len(), 5, "{report:#?}");
    for (name, decision, id) in [
        ("allowed.test", "allow", Some("ind-allow")),
        ("plain.test", "none", None),
        ("warned.test", "warn", Some("ind-warn")),
        ("audited.test", "audit", None),
        ("blocked.test", "block", Some("ind-block")),
    ] {
        let line = one(&report, name);
        assert_eq!(line["decision"], decision, "{line}");
        assert_eq!(line["protocol"], "tls", "{line}");
        assert_eq!(line["from"], "sni", "{line}");
        assert_eq!(line["transport"], "tcp");
        assert_eq!(line["listener"], "proxy");
        assert_eq!(line["status"], "checked");
        assert_eq!(line["target"], format!("{name}:{}", server.port));
        assert_eq!(line["indicator"]["id"].as_str(), id, "{line}");
        assert!(line["client"].as_str().unwrap().starts_with("127.0.0.1:"));
        assert!(line["time"].as_str().unwrap().ends_with('Z'));
    }
    let audited = one(&report, "audited.test");
    assert_eq!(audited["audit"]["id"], "ind-audit");
    assert_eq!(audited["audit"]["title"], "Test audited host");
    assert_eq!(
        one(&report, "blocked.test")["indicator"]["title"],
        "Test malware host"
    );
    assert!(engine.stop().success());
}

#[test]
fn plain_http_gets_the_page_or_the_block_page() {
    let dir = tempdir();
    let set = compile(dir.path(), "set.indset", INDICATORS);
    let server = HttpServer::start();
    let mut args = vec![
        "--set".into(),
        set.display().to_string(),
        "--proxy".into(),
        "127.0.0.1:0".into(),
    ];
    args.extend(resolve_args(&[server.port]));
    let mut engine = Engine::start(dir.path(), &args);
    let proxy = engine.proxy_url();
    let url = |name: &str, path: &str| format!("http://{name}:{}{path}", server.port);

    let (code, body, err) = curl(&["--proxy", &proxy, &url("allowed.test", "/a?b=1")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        String::from_utf8_lossy(&body),
        "<p>page /a?b=1 from allowed.test</p>\n"
    );
    let (code, body, _) = curl(&["--proxy", &proxy, &url("plain.test", "/bytes/100000")]);
    assert_eq!(code, 0);
    assert!(body == pattern("plain.test", 100_000));
    // Domain mode (unsupervised): a path indicator does not apply.
    let (code, body, _) = curl(&["--proxy", &proxy, &url("paths.test", "/bad")]);
    assert_eq!(code, 0);
    assert_eq!(
        String::from_utf8_lossy(&body),
        "<p>page /bad from paths.test</p>\n"
    );

    let (code, body, _) = curl(&[
        "--proxy",
        &proxy,
        "--write-out",
        "\n%{http_code}",
        &url("blocked.test", "/x"),
    ]);
    assert_eq!(code, 0);
    let body = String::from_utf8_lossy(&body);
    assert!(body.ends_with("\n403"), "{body}");
    assert!(body.contains("Test malware host"), "{body}");
    assert!(body.contains("blocked.test"), "{body}");
    assert_eq!(server.served.load(std::sync::atomic::Ordering::Relaxed), 3);

    let report = engine.wait_for_report(4, Duration::from_secs(10));
    assert_eq!(report.len(), 4, "{report:#?}");
    for line in &report {
        assert_eq!(line["protocol"], "http", "{line}");
        assert_eq!(line["from"], "http", "{line}");
    }
    // Domain mode checks the Host (with its port), not the URL.
    let blocked = one(&report, &format!("blocked.test:{}", server.port));
    assert_eq!(blocked["decision"], "block");
    assert_eq!(blocked["indicator"]["id"], "ind-block");
    assert_eq!(
        one(&report, &format!("allowed.test:{}", server.port))["decision"],
        "allow"
    );
    assert_eq!(
        one(&report, &format!("paths.test:{}", server.port))["decision"],
        "none"
    );
    assert!(engine.stop().success());
}

#[test]
fn app_config_sets_the_mode_the_switch_and_the_report_privacy() {
    let dir = tempdir();
    let set = compile(dir.path(), "set.indset", INDICATORS);
    let server = HttpServer::start();
    let start = |name: &str, json: &str| {
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).unwrap();
        let config = sub.join("managed.json");
        std::fs::write(&config, json).unwrap();
        let mut args = vec![
            "--set".into(),
            set.display().to_string(),
            "--proxy".into(),
            "127.0.0.1:0".into(),
            "--app-config".into(),
            config.display().to_string(),
        ];
        args.extend(resolve_args(&[server.port]));
        Engine::start(&sub, &args)
    };
    let url = |name: &str, path: &str| format!("http://{name}:{}{path}", server.port);

    // Supervised: full URLs, so the path indicator blocks /bad only.
    let mut full = start("full", r#"{"issupervised": true}"#);
    let proxy = full.proxy;
    let (code, body) = http_get_via(proxy.unwrap(), &url("paths.test", "/bad")).unwrap();
    assert_eq!(code, 403);
    assert!(String::from_utf8_lossy(&body).contains("Test bad path"));
    let (code, _) = http_get_via(proxy.unwrap(), &url("paths.test", "/good")).unwrap();
    assert_eq!(code, 200);
    let report = full.wait_for_report(2, Duration::from_secs(10));
    let bad = one(&report, &url("paths.test", "/bad"));
    assert_eq!(bad["decision"], "block");
    assert_eq!(bad["indicator"]["value"], "paths.test/bad");
    assert_eq!(
        one(&report, &url("paths.test", "/good"))["decision"],
        "none"
    );
    assert!(full.stop().success());

    // Web protection off: everything passes, and is still reported.
    let mut off = start("off", r#"{"WebProtection": "false"}"#);
    let (code, body) = http_get_via(off.proxy.unwrap(), &url("blocked.test", "/")).unwrap();
    assert_eq!(code, 200);
    assert_eq!(
        String::from_utf8_lossy(&body),
        "<p>page / from blocked.test</p>\n"
    );
    let report = off.wait_for_report(1, Duration::from_secs(10));
    assert_eq!(report.len(), 1);
    assert_eq!(report[0]["decision"], "none");
    assert!(off.stop().success());

    // URLs excluded from reports: the decision and the indicator's id and
    // title stay; names, URLs and values are hidden.
    let mut private = start("private", r#"{"DefenderExcludeURLInReport": true}"#);
    let (code, _) = http_get_via(private.proxy.unwrap(), &url("blocked.test", "/secret")).unwrap();
    assert_eq!(code, 403);
    let report = private.wait_for_report(1, Duration::from_secs(10));
    assert_eq!(report.len(), 1);
    let line = &report[0];
    assert_eq!(line["decision"], "block");
    assert_eq!(line["checked"], "hidden");
    assert_eq!(line["target"], "hidden");
    assert_eq!(line["indicator"]["value"], "hidden");
    assert_eq!(line["indicator"]["id"], "ind-block");
    let raw = std::fs::read_to_string(&private.report).unwrap();
    assert!(
        !raw.contains("blocked.test") && !raw.contains("secret"),
        "{raw}"
    );
    assert!(private.stop().success());
}

fn dig(server: std::net::SocketAddr, extra: &[&str]) -> String {
    let out = std::process::Command::new("dig")
        .arg(format!("@{}", server.ip()))
        .args(["-p", &server.port().to_string(), "+time=5", "+tries=1"])
        .args(extra)
        .output()
        .expect("dig is needed for the serve tests (apt-get install bind9-dnsutils)");
    assert!(
        out.status.success(),
        "dig {extra:?}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn dig_gets_the_blocking_answer_or_the_upstreams() {
    let dir = tempdir();
    let set = compile(dir.path(), "set.indset", INDICATORS);
    let upstream = DnsServer::start();
    let args = vec![
        "--set".into(),
        set.display().to_string(),
        "--dns".into(),
        "127.0.0.1:0".into(),
        "--dns-upstream".into(),
        upstream.addr.to_string(),
    ];
    let mut engine = Engine::start(dir.path(), &args);
    let dns = engine.dns.unwrap();
    let queries = |n| upstream.queries.load(std::sync::atomic::Ordering::Relaxed) == n;

    assert_eq!(dig(dns, &["plain.test", "A", "+short"]), "192.0.2.7");
    assert_eq!(
        dig(dns, &["warned.test", "A", "+short", "+tcp"]),
        "192.0.2.7"
    );
    assert!(queries(2));
    assert_eq!(dig(dns, &["blocked.test", "A", "+short"]), "0.0.0.0");
    assert_eq!(dig(dns, &["www.Blocked.test", "AAAA", "+short"]), "::");
    assert_eq!(
        dig(dns, &["blocked.test", "A", "+short", "+tcp"]),
        "0.0.0.0"
    );
    let full = dig(dns, &["blocked.test", "MX"]);
    assert!(
        full.contains("status: NOERROR") && full.contains("ANSWER: 0"),
        "{full}"
    );
    // dig asks with EDNS, and the blocking answer carries it back.
    assert!(
        full.contains("OPT PSEUDOSECTION") && full.contains("udp: 1232"),
        "{full}"
    );
    // No blocked query reached the upstream.
    assert!(queries(2));

    let report = engine.wait_for_report(6, Duration::from_secs(10));
    assert_eq!(report.len(), 6, "{report:#?}");
    let decisions: Vec<(String, &str, &str)> = report
        .iter()
        .map(|l| {
            (
                l["checked"]
                    .as_str()
                    .unwrap()
                    .trim_end_matches('.')
                    .to_ascii_lowercase(),
                l["transport"].as_str().unwrap(),
                l["decision"].as_str().unwrap(),
            )
        })
        .collect();
    for expected in [
        ("plain.test".to_string(), "udp", "none"),
        ("warned.test".to_string(), "tcp", "warn"),
        ("blocked.test".to_string(), "udp", "block"),
        ("www.blocked.test".to_string(), "udp", "block"),
        ("blocked.test".to_string(), "tcp", "block"),
    ] {
        assert!(
            decisions.contains(&expected),
            "{expected:?} not in {decisions:?}"
        );
    }
    for line in &report {
        assert_eq!(line["listener"], "dns");
        assert_eq!(line["protocol"], "dns");
        assert_eq!(line["from"], "dns");
    }
    assert!(engine.stop().success());

    // The other blocking answer.
    let sub = dir.path().join("nx");
    std::fs::create_dir(&sub).unwrap();
    let mut args = args.clone();
    args.extend(["--dns-block-answer".into(), "nxdomain".into()]);
    let mut engine = Engine::start(&sub, &args);
    let answer = dig(engine.dns.unwrap(), &["blocked.test", "A"]);
    assert!(answer.contains("status: NXDOMAIN"), "{answer}");
    assert!(engine.stop().success());
}

#[test]
fn a_replaced_set_is_swapped_in_and_a_damaged_one_refused() {
    let dir = tempdir();
    let set = compile(dir.path(), "set.indset", INDICATORS);
    let more = format!("{INDICATORS}DomainName,later.test,Block,Blocked later,ind-later\n");
    let next = compile(dir.path(), "next.indset", &more);
    let server = HttpServer::start();
    let mut args = vec![
        "--set".into(),
        set.display().to_string(),
        "--proxy".into(),
        "127.0.0.1:0".into(),
        "--poll-ms".into(),
        "20".into(),
    ];
    args.extend(resolve_args(&[server.port]));
    let mut engine = Engine::start(dir.path(), &args);
    let proxy = engine.proxy.unwrap();
    let later = format!("http://later.test:{}/", server.port);
    assert_eq!(http_get_via(proxy, &later).unwrap().0, 200);

    replace_by_rename(&next, &set);
    engine.wait_for_stderr("loaded the new", Duration::from_secs(10));
    let (code, body) = http_get_via(proxy, &later).unwrap();
    assert_eq!(code, 403);
    assert!(String::from_utf8_lossy(&body).contains("Blocked later"));

    // A damaged file: one byte changed, so its checksum fails.
    let mut bytes = std::fs::read(&next).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    let damaged = dir.path().join("damaged.indset");
    std::fs::write(&damaged, &bytes).unwrap();
    replace_by_rename(&damaged, &set);
    engine.wait_for_stderr("refused the new", Duration::from_secs(10));
    let refusal = engine
        .stderr()
        .into_iter()
        .find(|l| l.contains("refused"))
        .unwrap();
    assert!(
        refusal.contains("still serving the previous set"),
        "{refusal}"
    );
    // The set loaded before stays.
    assert_eq!(http_get_via(proxy, &later).unwrap().0, 403);
    assert_eq!(engine.count_stderr("loaded the new"), 1);

    let status = engine.stop();
    assert!(status.success());
    let report = engine.report();
    let stopped = engine
        .stderr()
        .into_iter()
        .find(|l| l.contains("stopped;"))
        .unwrap();
    assert!(
        stopped.contains(&format!("{} report lines written", report.len())),
        "{stopped}"
    );
    assert_eq!(report.len(), 3);
}

#[test]
fn refuses_to_listen_beyond_loopback_unless_asked() {
    let dir = tempdir();
    let set = compile(dir.path(), "set.indset", INDICATORS);
    let out = std::process::Command::new(BIN)
        .args(["serve", "--set"])
        .arg(&set)
        .args(["--proxy", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a loopback address") && err.contains("--allow-remote"),
        "{err}"
    );
}

#[test]
fn sigint_lets_running_flows_finish_within_the_grace_then_stops() {
    let dir = tempdir();
    let set = compile(dir.path(), "set.indset", INDICATORS);
    // A destination that accepts and then says nothing: the flow through
    // it stays open until the engine closes it.
    let mute = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = mute.local_addr().unwrap().port();
    let mut args = vec![
        "--set".into(),
        set.display().to_string(),
        "--proxy".into(),
        "127.0.0.1:0".into(),
        "--grace".into(),
        "1".into(),
    ];
    args.extend(resolve_args(&[port]));
    let mut engine = Engine::start(dir.path(), &args);
    let mut tunnel = connect_via(engine.proxy.unwrap(), "plain.test", port).unwrap();
    std::io::Write::write_all(&mut tunnel, b"GET / HTTP/1.1\r\nHost: plain.test\r\n\r\n").unwrap();
    let (_held, _) = mute.accept().unwrap();
    engine.wait_for_report(1, Duration::from_secs(10));

    let started = std::time::Instant::now();
    std::process::Command::new("kill")
        .args(["-INT", &engine.pid().to_string()])
        .status()
        .unwrap();
    // `stop` sends SIGTERM: only once SIGINT has been taken, or the engine
    // may see SIGTERM first and name it.
    engine.wait_for_stderr("SIGINT: no new flows", Duration::from_secs(10));
    let status = engine.stop();
    let took = started.elapsed();
    assert!(status.success(), "{status}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(10),
        "{took:?}"
    );
    let stderr = engine.stderr();
    assert!(
        stderr.iter().any(|l| l.contains("SIGINT: no new flows")),
        "{stderr:?}"
    );
    assert!(
        stderr.iter().any(|l| l.contains("1 flows still running")),
        "{stderr:?}"
    );
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("stopped; 1 report lines written")),
        "{stderr:?}"
    );
    // The tunnel was closed by the engine.
    let mut rest = Vec::new();
    tunnel
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(
        std::io::Read::read_to_end(&mut tunnel, &mut rest).unwrap_or(0),
        0
    );
}

#[test]
fn help_teaches_with_examples() {
    let out = std::process::Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for wanted in [
        "Examples:",
        "indset serve --set set.indset --proxy 127.0.0.1:8080",
        "chromium --proxy-server=http://127.0.0.1:8080",
        "--dns-upstream",
        "--resolve shop.test:443:127.0.0.1",
    ] {
        assert!(help.contains(wanted), "{wanted:?} not in: {help}");
    }
}
