//! `indset serve`: the engine's whole path on this machine, for real
//! clients. An HTTP proxy (`CONNECT` tunnels and absolute-form requests)
//! and a DNS forwarder (UDP and TCP) decide each flow from its first bytes
//! with the library's flow functions, block or pass it untouched, write one
//! report line for it, and swap in a new set when its file is replaced.
//!
//! The layout follows a flow: `proxy` and `dns` take connections and
//! datagrams, `rule` turns first bytes into a decision, `relay` carries a
//! passed flow, `report` writes the lines, `reload` watches the set file,
//! `upstream` says where an allowed flow goes (`--resolve` first).
//!
//! Bounds: at most `--max-flows` flows at once (a semaphore; a listener
//! takes a permit before it accepts, so excess clients wait in the
//! kernel's accept queue rather than in memory), first bytes held up to
//! the flow functions' bound, a deadline for a client's first bytes, an
//! idle timeout for relays, and a grace period at shutdown.

mod dns;
mod proxy;
mod relay;
mod reload;
mod report;
mod rule;
mod upstream;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use indset::{AppConfig, SharedSet};
use tokio::sync::{Semaphore, watch};

use crate::Status;
use crate::output::{MappedSet, open_set};

/// Run a loopback web-protection engine: an HTTP proxy and a DNS forwarder
/// that decide every flow with a set.
///
/// The proxy takes `CONNECT host:port` (HTTPS) and absolute-form requests
/// (plain HTTP). It reads the client's first bytes (the TLS ClientHello's
/// server name, or the HTTP request), decides with the set, and then either
/// passes the flow to its destination untouched (no TLS interception) or
/// blocks it: plain HTTP gets a small block page naming the indicator,
/// TLS gets an `access_denied` alert and the connection closed. Warn and
/// audit pass and are reported. The DNS forwarder answers blocked names
/// itself and forwards the rest to `--dns-upstream`.
///
/// One JSON line per flow goes to `--report` (stdout by default): time,
/// client, transport, protocol, what was checked, the decision, the
/// deciding and audit indicators, and the flow's status. When the set file
/// is replaced (by a rename, as `indset compile` writes it), the new set is
/// verified and swapped in; flows already decided keep the old one; a
/// damaged file is refused with a message on stderr and the old set stays.
///
/// Listens on loopback addresses only unless `--allow-remote` is given.
/// SIGINT or SIGTERM stops accepting, lets running flows finish for
/// `--grace` seconds, writes the last report lines and exits 0.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  indset serve --set set.indset --proxy 127.0.0.1:8080
  chromium --proxy-server=http://127.0.0.1:8080 https://example.com/
  curl -x http://127.0.0.1:8080 https://example.com/
  indset serve --set set.indset --dns 127.0.0.1:5353 --dns-upstream 192.0.2.53:53 --report flows.jsonl
  dig @127.0.0.1 -p 5353 bad.example A
  indset serve --set set.indset --app-config managed.json --proxy 127.0.0.1:0 \\
      --resolve shop.test:443:127.0.0.1 --resolve shop.test:80:127.0.0.1")]
pub struct Args {
    /// The compiled set (`indset compile -o FILE`); watched for
    /// replacement.
    #[arg(long, value_name = "FILE")]
    set: PathBuf,
    /// Managed app configuration (a JSON object of `WebProtection`,
    /// `issupervised`, `DefenderExcludeURLInReport`). `issupervised` checks
    /// plain HTTP by full URL (else by host name), `WebProtection=false`
    /// passes everything, `DefenderExcludeURLInReport` hides names and URLs
    /// in the report.
    #[arg(long, value_name = "FILE.json")]
    app_config: Option<PathBuf>,
    /// Where the HTTP proxy listens. Default: 127.0.0.1:8080 when `--dns`
    /// is not given. Port 0 picks a free port (printed on stderr).
    #[arg(long, value_name = "ADDR")]
    proxy: Option<SocketAddr>,
    /// Where the DNS forwarder listens, UDP and TCP on the same port.
    #[arg(long, value_name = "ADDR", requires = "dns_upstream")]
    dns: Option<SocketAddr>,
    /// The DNS server that answers names that are not blocked.
    #[arg(long, value_name = "ADDR")]
    dns_upstream: Option<SocketAddr>,
    /// What the DNS forwarder answers for a blocked name: `unspecified`
    /// (0.0.0.0 for A, :: for AAAA, no records otherwise) or `nxdomain`.
    #[arg(long, value_name = "ANSWER", default_value = "unspecified", value_parser = rule::parse_block_answer)]
    dns_block_answer: rule::BlockAnswer,
    /// The report: one JSON line per flow. `-` is stdout.
    #[arg(long, value_name = "FILE", default_value = "-")]
    report: PathBuf,
    /// Send flows for HOST:PORT to ADDR instead of resolving HOST, like
    /// curl's `--resolve` (repeatable; ADDR may be `[::1]`).
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = upstream::parse_resolve)]
    resolve: Vec<upstream::Resolve>,
    /// Connect allowed flows only where a `--resolve` entry says; a flow to
    /// any other host:port is reported with an error and closed, and the
    /// system resolver is never asked (for sandboxes and tests).
    #[arg(long)]
    resolve_only: bool,
    /// At most this many flows at once (proxy connections, DNS queries);
    /// more wait until one ends.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_flows: u32,
    /// Seconds a client has to send the bytes a decision needs (the proxy
    /// request, then the ClientHello or the HTTP request).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    handshake_timeout: Duration,
    /// Seconds a passed flow may stay silent both ways before it is closed.
    #[arg(long, value_name = "SECS", default_value = "300", value_parser = parse_secs)]
    idle_timeout: Duration,
    /// Seconds to connect to a destination, or to wait for the DNS
    /// upstream's answer.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    connect_timeout: Duration,
    /// How often to look at the set file for a replacement, in
    /// milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    poll_ms: u64,
    /// Seconds running flows get to finish after SIGINT or SIGTERM.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_secs)]
    grace: Duration,
    /// Worker threads. Default: one per core.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
    /// Allow listening on addresses other than loopback. Anyone who can
    /// reach the port can then use the proxy.
    #[arg(long)]
    allow_remote: bool,
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 86_400.0 => {
            Ok(Duration::from_secs_f64(secs))
        }
        _ => Err(format!(
            "`{s}` is not a number of seconds; write one between 0 and 86400, like 10 or 0.5"
        )),
    }
}

/// The time limits of a flow.
#[derive(Clone, Copy)]
pub struct Limits {
    pub handshake: Duration,
    pub idle: Duration,
    pub connect: Duration,
}

/// What every flow shares.
pub struct Engine {
    pub set: SharedSet<MappedSet>,
    pub config: AppConfig,
    pub upstream: upstream::Upstream,
    pub limits: Limits,
    pub report: report::Reporter,
    pub dns_block_answer: rule::BlockAnswer,
}

pub fn run(args: Args) -> Result<Status> {
    let config = match &args.app_config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            AppConfig::from_json(&text)
                .with_context(|| format!("bad managed app configuration in {}", path.display()))?
        }
        None => AppConfig::default(),
    };
    let proxy_addr = match (args.proxy, args.dns) {
        (Some(addr), _) => Some(addr),
        (None, None) => Some(SocketAddr::from(([127, 0, 0, 1], 8080))),
        (None, Some(_)) => None,
    };
    for addr in proxy_addr.iter().chain(args.dns.iter()) {
        if !addr.ip().is_loopback() && !args.allow_remote {
            bail!(
                "{addr} is not a loopback address: listen on 127.0.0.1 or [::1], or add --allow-remote to serve other machines"
            );
        }
    }
    let set = open_set(&args.set)?;
    let indicators = set.len();
    let (report, writer) = report::open(&args.report)?;
    let flows = Arc::new(Semaphore::new(args.max_flows as usize));
    let engine = Arc::new(Engine {
        set: SharedSet::new(set),
        config,
        upstream: upstream::Upstream::new(args.resolve, args.resolve_only),
        limits: Limits {
            handshake: args.handshake_timeout,
            idle: args.idle_timeout,
            connect: args.connect_timeout,
        },
        report,
        dns_block_answer: args.dns_block_answer,
    });
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(2, |n| n.get()),
        usize::from,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let watcher = reload::watch(
        Arc::clone(&engine),
        args.set.clone(),
        Duration::from_millis(args.poll_ms),
    )?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let served = runtime.block_on(async {
        let mut tasks = Vec::new();
        if let Some(addr) = proxy_addr {
            let listener =
                listen(addr).with_context(|| format!("cannot listen on {addr} for the proxy"))?;
            let bound = listener.local_addr()?;
            eprintln!("indset: serve: proxy on {bound}");
            tasks.push(tokio::spawn(proxy::serve(
                Arc::clone(&engine),
                listener,
                Arc::clone(&flows),
                stop_rx.clone(),
            )));
        }
        if let (Some(addr), Some(upstream)) = (args.dns, args.dns_upstream) {
            let (udp, tcp) = dns::bind(addr).await?;
            eprintln!(
                "indset: serve: dns on {} (udp and tcp), upstream {upstream}",
                udp.local_addr()?
            );
            tasks.extend(dns::serve(
                Arc::clone(&engine),
                udp,
                tcp,
                upstream,
                Arc::clone(&flows),
                stop_rx.clone(),
            ));
        }
        eprintln!(
            "indset: serve: {} indicators from {}, {} mode{}",
            indicators,
            args.set.display(),
            engine.config.mode(),
            if engine.config.web_protection {
                ""
            } else {
                ", web protection off (everything passes)"
            }
        );
        let signal = wait_for_signal().await?;
        eprintln!("indset: serve: {signal}: no new flows; finishing the running ones");
        let _ = stop_tx.send(true);
        for task in tasks {
            let _ = task.await;
        }
        // Every running flow holds a permit: all of them back means all
        // flows have ended.
        if tokio::time::timeout(args.grace, flows.acquire_many(args.max_flows))
            .await
            .is_err()
        {
            eprintln!(
                "indset: serve: {} flows still running after {:?}: closing them",
                args.max_flows as usize - flows.available_permits(),
                args.grace
            );
        }
        anyhow::Ok(())
    });
    // Dropping the runtime drops the flows still running and with them
    // their handles on the report.
    runtime.shutdown_timeout(Duration::from_secs(1));
    drop(watcher);
    drop(engine);
    let written = writer.finish();
    served?;
    let lines = written.context("cannot write the report")?;
    eprintln!("indset: serve: stopped; {lines} report lines written");
    Ok(Status::Ok)
}

/// Clients past `--max-flows` wait in the kernel's accept queue: this
/// long a queue (the kernel caps it at `net.core.somaxconn`) keeps a burst
/// from being dropped and retried after a second.
const ACCEPT_QUEUE: u32 = 4096;

/// A TCP listener on `addr` with the long accept queue.
pub fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_QUEUE)
}

/// Waits for SIGINT or SIGTERM and names it.
async fn wait_for_signal() -> Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    Ok(tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    })
}
