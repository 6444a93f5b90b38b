//! The report: one JSON line per flow, written by a thread of its own.
//!
//! Flows hand their line to a bounded queue and wait when it is full, so a
//! slow disk slows flows down instead of dropping lines or growing memory:
//! every decided flow is reported. The writer flushes whenever the queue
//! runs dry, so a reader of the file is at most one burst behind.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use indset::Timestamp;
use indset::ingest::format_timestamp;
use serde::Serialize;
use tokio::sync::mpsc;

use super::rule::Ruling;
use crate::output::IndicatorJson;

/// Lines waiting for the writer; a flow that finds the queue full waits.
const QUEUE: usize = 4096;

/// Where flows send their lines. Cloned into each flow through the engine.
pub struct Reporter {
    tx: mpsc::Sender<Vec<u8>>,
}

/// The thread that writes the lines.
pub struct Writer {
    thread: JoinHandle<io::Result<u64>>,
}

/// Opens the report (`-` is stdout) and starts its writer.
pub fn open(path: &Path) -> Result<(Reporter, Writer)> {
    let out: Box<dyn Write + Send> = if path == Path::new("-") {
        Box::new(io::stdout())
    } else {
        Box::new(
            File::create(path)
                .with_context(|| format!("cannot create the report {}", path.display()))?,
        )
    };
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(QUEUE);
    let shown = path.display().to_string();
    let thread = std::thread::Builder::new()
        .name("indset-report".into())
        .spawn(move || {
            let mut out = BufWriter::with_capacity(64 * 1024, out);
            let mut lines = 0u64;
            let written = (|| {
                while let Some(line) = rx.blocking_recv() {
                    out.write_all(&line)?;
                    lines += 1;
                    while let Ok(line) = rx.try_recv() {
                        out.write_all(&line)?;
                        lines += 1;
                    }
                    out.flush()?;
                }
                out.flush()
            })();
            match written {
                Ok(()) => Ok(lines),
                // Flows that cannot be reported must not be served: the
                // engine stops. A reader that closed the pipe
                // (`indset serve | head`) ends it quietly.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
                Err(e) => {
                    eprintln!(
                        "indset: error: cannot write the report {shown}: {e}; stopping, since flows could no longer be reported"
                    );
                    std::process::exit(2)
                }
            }
        })
        .context("cannot start the report writer")?;
    Ok((Reporter { tx }, Writer { thread }))
}

impl Writer {
    /// Waits until every `Reporter` is gone and the last line is written;
    /// returns how many lines were written.
    pub fn finish(self) -> io::Result<u64> {
        match self.thread.join() {
            Ok(result) => result,
            Err(_) => Err(io::Error::other("the report writer stopped")),
        }
    }
}

/// How a flow ended up, beside its decision.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
    /// The first bytes named the destination and the set was asked.
    Checked,
    /// The flow's protocol was recognised but carried no name (TLS without
    /// SNI); the proxy's target decided.
    NoName,
    /// The first bytes were not TLS, HTTP or DNS; the proxy's target
    /// decided.
    NotRecognised,
    /// The first bytes were still incomplete when the client went quiet
    /// or they reached the bound; the proxy's target decided.
    Incomplete,
    /// The client sent nothing in time (for a tunnel: nothing after
    /// `CONNECT`, and the target decided).
    Silent,
    /// The client closed before sending what a decision needs; nothing
    /// was passed on.
    Closed,
    /// The request was not a proxy request, or was larger than the bound.
    BadRequest,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Checked => "checked",
            Status::NoName => "no-name",
            Status::NotRecognised => "not-recognised",
            Status::Incomplete => "incomplete",
            Status::Silent => "silent",
            Status::Closed => "closed",
            Status::BadRequest => "bad-request",
        }
    }
}

/// One report line.
#[derive(Serialize)]
struct Line<'a> {
    time: &'a str,
    client: SocketAddr,
    /// `proxy` or `dns`.
    listener: &'static str,
    /// `tcp` or `udp`.
    transport: &'static str,
    /// `tls`, `http`, `dns`, or null when not recognised.
    protocol: Option<&'static str>,
    /// The proxy's target (`host:port`) or null (DNS).
    target: Option<&'a str>,
    /// The name or URL looked up, or null when nothing was.
    checked: Option<&'a str>,
    /// Where `checked` came from: `sni`, `http`, `dns`, `target`.
    from: Option<&'static str>,
    /// Whether the ClientHello carried ECH (the name is then the outer one).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    ech: bool,
    decision: &'static str,
    indicator: Option<IndicatorJson<'a>>,
    audit: Option<IndicatorJson<'a>>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// What a flow tells the report.
pub struct Flow<'a> {
    pub client: SocketAddr,
    pub listener: &'static str,
    pub transport: &'static str,
    pub target: Option<&'a str>,
    pub ruling: Option<&'a Ruling>,
    pub status: Status,
    pub error: Option<&'a str>,
}

impl Reporter {
    /// Writes the flow's line; waits while the queue is full. `hide`
    /// (`DefenderExcludeURLInReport`) replaces the target, the checked
    /// name or URL and the indicators' values with `"hidden"`.
    pub async fn send(&self, flow: Flow<'_>, hide: bool) {
        let line = render(&flow, hide);
        // The writer only goes away at shutdown, after the flows.
        let _ = self.tx.send(line).await;
    }
}

fn render(flow: &Flow<'_>, hide: bool) -> Vec<u8> {
    let time = now_rfc3339();
    let ruling = flow.ruling;
    let hidden = |s: Option<&str>| s.map(|_| "hidden");
    let line = Line {
        time: &time,
        client: flow.client,
        listener: flow.listener,
        transport: flow.transport,
        protocol: ruling.and_then(|r| r.protocol),
        target: if hide {
            hidden(flow.target)
        } else {
            flow.target
        },
        checked: match ruling.and_then(|r| r.checked.as_deref()) {
            Some(_) if hide => Some("hidden"),
            c => c,
        },
        from: ruling.and_then(|r| r.checked.as_ref().map(|_| r.from)),
        ech: ruling.is_some_and(|r| r.ech),
        decision: ruling.map_or("none", |r| r.verdict.decision.as_str()),
        indicator: ruling
            .and_then(|r| r.indicator.as_ref())
            .map(|i| IndicatorJson::new(i, hide)),
        audit: ruling
            .and_then(|r| r.audit.as_ref())
            .map(|i| IndicatorJson::new(i, hide)),
        status: flow.status.as_str(),
        error: flow.error,
    };
    let mut out = serde_json::to_vec(&line).unwrap_or_default();
    out.push(b'\n');
    out
}

/// The time now, RFC 3339 UTC with milliseconds.
fn now_rfc3339() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
    let whole = format_timestamp(Timestamp(secs));
    let stem = whole.strip_suffix('Z').unwrap_or(&whole);
    format!("{stem}.{:03}Z", since.subsec_millis())
}
