//! `indset serve` under load while its set is replaced twice, once by a
//! damaged file: 64 clients at once, 3,200 flows (plain HTTP and HTTPS
//! through CONNECT, allowed, warned and blocked names). Not one allowed
//! flow may fail, not one blocked flow may pass, every flow must have its
//! report line with the right decision, and the damaged file must be
//! refused. The names checked keep their action in every version of the
//! set, so that the answer does not depend on which set a flow met.
#![cfg(feature = "serve")]

mod serve_support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serve_support::*;

const CLIENTS: usize = 64;
const FLOWS_PER_CLIENT: usize = 50;

/// What one flow asks and what must come of it.
#[derive(Clone, Copy, Debug)]
enum Kind {
    HttpAllowed(&'static str),
    HttpBlocked,
    TlsAllowed(&'static str),
    TlsBlocked,
}

impl Kind {
    fn of(n: usize) -> Kind {
        match n % 6 {
            0 => Kind::HttpAllowed("plain.test"),
            1 => Kind::HttpBlocked,
            2 => Kind::TlsAllowed("allowed.test"),
            3 => Kind::TlsBlocked,
            4 => Kind::HttpAllowed("warned.test"),
            _ => Kind::TlsAllowed("audited.test"),
        }
    }

    fn decision(self) -> &'static str {
        match self {
            Kind::HttpAllowed("warned.test") => "warn",
            Kind::HttpAllowed(_) => "none",
            Kind::TlsAllowed("allowed.test") => "allow",
            Kind::TlsAllowed(_) => "audit",
            Kind::HttpBlocked | Kind::TlsBlocked => "block",
        }
    }
}

/// Per client address, each flow's kind and failure (if any).
type Flows = HashMap<SocketAddr, Vec<(Kind, Option<String>)>>;

#[test]
fn update_under_load_loses_nothing_and_lets_nothing_through() {
    let dir = tempfile::tempdir().unwrap();
    let set = compile(dir.path(), "set.indset", INDICATORS);
    let v2 = compile(
        dir.path(),
        "v2.indset",
        &format!("{INDICATORS}DomainName,later.test,Block,Blocked later,ind-later\n"),
    );
    let mut damaged = std::fs::read(&v2).unwrap();
    let at = damaged.len() / 3;
    damaged[at] ^= 0xff;
    let damaged_path = dir.path().join("damaged.indset");
    std::fs::write(&damaged_path, &damaged).unwrap();

    let http = HttpServer::start();
    let tls = TlsServer::start(dir.path());
    let mut args = vec![
        "--set".into(),
        set.display().to_string(),
        "--proxy".into(),
        "127.0.0.1:0".into(),
        "--poll-ms".into(),
        "20".into(),
        "--max-flows".into(),
        "256".into(),
    ];
    args.extend(resolve_args(&[http.port, tls.port]));
    let mut engine = Engine::start(dir.path(), &args);
    let proxy = engine.proxy.unwrap();
    let config = client_config(&tls.cert_der);

    let done = Arc::new(AtomicUsize::new(0));
    // client address -> (kind, failure if any) of each flow from it (the
    // kernel may give a later flow a port an earlier one had).
    let flows: Arc<Mutex<Flows>> = Arc::default();
    let unaddressed = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (done, flows, unaddressed, config) = (
                Arc::clone(&done),
                Arc::clone(&flows),
                Arc::clone(&unaddressed),
                Arc::clone(&config),
            );
            let (http_port, tls_port) = (http.port, tls.port);
            thread::spawn(move || {
                for f in 0..FLOWS_PER_CLIENT {
                    let kind = Kind::of(c + f);
                    let (local, failure) = match kind {
                        Kind::HttpAllowed(name) => {
                            let url = format!("http://{name}:{http_port}/bytes/3000");
                            let (local, got) = http_get_from(proxy, &url);
                            let ok = got.is_some_and(|(code, body)| {
                                code == 200 && body == pattern(name, 3000)
                            });
                            (local, (!ok).then(|| format!("{url} did not load")))
                        }
                        Kind::HttpBlocked => {
                            let url = format!("http://blocked.test:{http_port}/x");
                            let (local, got) = http_get_from(proxy, &url);
                            let ok = got.is_some_and(|(code, body)| {
                                code == 403
                                    && String::from_utf8_lossy(&body).contains("Test malware host")
                            });
                            (local, (!ok).then(|| format!("{url} was not blocked")))
                        }
                        Kind::TlsAllowed(name) => {
                            let (local, got) =
                                tls_get_via(proxy, &config, name, tls_port, "/bytes/3000");
                            let failure = match got {
                                Ok((200, body)) if body == pattern(name, 3000) => None,
                                Ok((code, _)) => {
                                    Some(format!("https {name}: status {code} or wrong bytes"))
                                }
                                Err(e) => Some(format!("https {name}: {e}")),
                            };
                            (local, failure)
                        }
                        Kind::TlsBlocked => {
                            let (local, got) =
                                tls_get_via(proxy, &config, "blocked.test", tls_port, "/");
                            let failure = match got {
                                Err(e) if e.contains("AccessDenied") => None,
                                other => Some(format!("https blocked.test: {other:?}")),
                            };
                            (local, failure)
                        }
                    };
                    match local {
                        Some(local) => {
                            flows
                                .lock()
                                .unwrap()
                                .entry(local)
                                .or_default()
                                .push((kind, failure));
                        }
                        None => unaddressed.lock().unwrap().push((kind, failure)),
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    let total = CLIENTS * FLOWS_PER_CLIENT;
    let wait_done = |n: usize| {
        while done.load(Ordering::Relaxed) < n {
            thread::sleep(Duration::from_millis(5));
        }
    };
    wait_done(total / 3);
    replace_by_rename(&v2, &set);
    engine.wait_for_stderr("loaded the new", Duration::from_secs(30));
    let swapped_at = done.load(Ordering::Relaxed);
    wait_done(2 * total / 3);
    replace_by_rename(&damaged_path, &set);
    engine.wait_for_stderr("refused the new", Duration::from_secs(30));
    let refused_at = done.load(Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }
    let elapsed = start.elapsed();
    eprintln!(
        "{total} flows from {CLIENTS} clients in {elapsed:.2?} ({:.0} flows/s); set swapped after {swapped_at}, damaged file refused after {refused_at}; engine peak RSS {} KiB",
        total as f64 / elapsed.as_secs_f64(),
        engine.peak_rss_kib()
    );
    assert!(
        swapped_at < total && refused_at < total,
        "the swaps came after the load"
    );

    let flows = flows.lock().unwrap();
    let unaddressed = unaddressed.lock().unwrap();
    assert!(
        unaddressed.is_empty(),
        "flows that could not connect: {unaddressed:?}"
    );
    assert_eq!(flows.values().map(Vec::len).sum::<usize>(), total);
    let failures: Vec<_> = flows
        .values()
        .flatten()
        .filter_map(|(_, f)| f.as_ref())
        .collect();
    assert!(
        failures.is_empty(),
        "{} flows failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );

    // The swapped-in set is the one serving; the damaged one was refused.
    let later = format!("http://later.test:{}/", http.port);
    assert_eq!(http_get_via(proxy, &later).unwrap().0, 403);
    assert_eq!(engine.count_stderr("loaded the new"), 1);
    assert_eq!(engine.count_stderr("refused the new"), 1);

    assert!(engine.stop().success());
    let report = engine.report();
    assert_eq!(report.len(), total + 1, "one report line per flow");
    // Per client address, the decisions reported are the decisions its
    // flows should have had, as many as there were flows.
    let mut reported: HashMap<SocketAddr, Vec<String>> = HashMap::new();
    for line in &report {
        assert_eq!(line["status"], "checked", "{line}");
        // The check after the load, from an address a load flow may have
        // had before.
        if line["checked"]
            .as_str()
            .is_some_and(|c| c.starts_with("later.test"))
        {
            continue;
        }
        let client: SocketAddr = line["client"].as_str().unwrap().parse().unwrap();
        reported
            .entry(client)
            .or_default()
            .push(line["decision"].as_str().unwrap().to_owned());
    }
    for (client, flows) in flows.iter() {
        let mut want: Vec<&str> = flows.iter().map(|(kind, _)| kind.decision()).collect();
        let mut got: Vec<&str> = reported
            .get(client)
            .map_or(Vec::new(), |d| d.iter().map(String::as_str).collect());
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want, "report lines for {client}");
    }
    assert!(
        !engine.stderr().iter().any(|l| l.contains("panicked")),
        "{:?}",
        engine.stderr()
    );
}
