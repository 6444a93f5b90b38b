//! Headless Chromium with `--proxy-server` pointed at `indset serve` loads
//! a local page (tests/browser/page.html) whose scripts come from allowed,
//! warned, audited and blocked names over plain HTTP and HTTPS. Each
//! script tag records whether it loaded; Chromium's DOM dump carries the
//! results back. The allowed ones must load, the blocked ones must not,
//! and the report must have one line per subresource with its decision.
//!
//! Chromium is Debian's `chromium` (`.ci/run` installs it); the test fails
//! when it is missing, so that CI cannot pass without a browser. It
//! accepts the local server's self-signed certificate with
//! `--ignore-certificate-errors`: the TLS session still runs end to end
//! between Chromium and the server, through the tunnel.
#![cfg(feature = "serve")]

mod serve_support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serve_support::*;

const TEMPLATE: &str = include_str!("browser/page.html");

/// Runs Chromium on `url` through `proxy` and returns its DOM dump.
fn chromium_dump_dom(proxy: &str, url: &str, profile: &std::path::Path) -> String {
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable",
            "--ignore-certificate-errors",
            "--timeout=30000",
        ])
        .arg(format!("--proxy-server={proxy}"))
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium is needed for the browser test (apt-get install chromium)");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut dom = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut dom).unwrap();
    dom
}

#[test]
fn chromium_loads_the_allowed_subresources_only() {
    let dir = tempfile::tempdir().unwrap();
    let set = compile(dir.path(), "set.indset", INDICATORS);
    let tls = TlsServer::start(dir.path());
    let http = HttpServer::start();
    let (hp, tp) = (http.port, tls.port);
    // (name, URL, the report's target, decision, whether it loads)
    let resources: Vec<(&str, String, String, &str, bool)> = vec![
        (
            "http-plain",
            format!("http://plain.test:{hp}/file/1.js"),
            format!("plain.test:{hp}"),
            "none",
            true,
        ),
        (
            "http-blocked",
            format!("http://blocked.test:{hp}/file/2.js"),
            format!("blocked.test:{hp}"),
            "block",
            false,
        ),
        (
            "http-audited",
            format!("http://audited.test:{hp}/file/3.js"),
            format!("audited.test:{hp}"),
            "audit",
            true,
        ),
        (
            "https-allowed",
            format!("https://allowed.test:{tp}/file/4.js"),
            format!("allowed.test:{tp}"),
            "allow",
            true,
        ),
        (
            "https-blocked",
            format!("https://blocked.test:{tp}/file/5.js"),
            format!("blocked.test:{tp}"),
            "block",
            false,
        ),
        (
            "https-warned",
            format!("https://warned.test:{tp}/file/6.js"),
            format!("warned.test:{tp}"),
            "warn",
            true,
        ),
        (
            "https-paths",
            format!("https://paths.test:{tp}/file/bad.js"),
            format!("paths.test:{tp}"),
            "none",
            true,
        ),
    ];
    let tags: String = resources
        .iter()
        .map(|(name, url, ..)| {
            format!("<script src=\"{url}\" onload=\"done('{name}', true)\" onerror=\"done('{name}', false)\"></script>\n")
        })
        .collect();
    http.set_page("/page.html", &TEMPLATE.replace("SUBRESOURCES", &tags));

    let mut args = vec![
        "--set".into(),
        set.display().to_string(),
        "--proxy".into(),
        "127.0.0.1:0".into(),
    ];
    args.extend(resolve_args(&[hp, tp]));
    let mut engine = Engine::start(dir.path(), &args);
    let page = format!("http://page.test:{hp}/page.html");
    let dom = chromium_dump_dom(&engine.proxy_url(), &page, &dir.path().join("profile"));

    for (name, _, _, _, loads) in &resources {
        let want = format!("{name}={}", if *loads { "loaded" } else { "failed" });
        assert!(dom.contains(&want), "{want} not in the page: {dom}");
    }
    assert!(dom.contains("<ol id=\"results\">"), "{dom}");

    // A report line per subresource, with its decision; the page too.
    // A blocked HTTPS subresource may have two: when a handshake fails,
    // Chromium tries once more with TLS 1.3 off (its version interference
    // probe), and that second ClientHello is a flow of its own, blocked
    // and reported like the first.
    let report = engine.wait_for_report(resources.len() + 1, Duration::from_secs(10));
    for (name, url, target, decision, _) in &resources {
        let lines: Vec<_> = report
            .iter()
            .filter(|l| l["target"] == target.as_str())
            .collect();
        let most = if url.starts_with("https") && *decision == "block" {
            2
        } else {
            1
        };
        assert!(
            (1..=most).contains(&lines.len()),
            "{name}: {} report lines for {target}: {report:#?}",
            lines.len()
        );
        for line in lines {
            assert_eq!(line["decision"], *decision, "{name}: {line}");
            assert_eq!(line["status"], "checked", "{name}: {line}");
        }
    }
    let page_lines: Vec<_> = report
        .iter()
        .filter(|l| l["target"] == format!("page.test:{hp}"))
        .collect();
    assert!(!page_lines.is_empty());
    assert!(engine.stop().success());
}
