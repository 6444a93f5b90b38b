//! The DNS forwarder, UDP and TCP on one port: a query for a blocked name
//! gets the blocking answer from the flow functions; every other query
//! goes to the upstream server and its answer comes back as it was sent.
//!
//! Each UDP query is a flow of its own (one permit, one socket to the
//! upstream, so that only the upstream's answer to it can come back on
//! that socket); a TCP connection is one flow that may carry many queries,
//! each decided and reported.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use indset::Decision;
use indset::flow::{self, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio::time::timeout;

use super::Engine;
use super::report::{Flow, Status};
use super::rule::{Ruling, Step, rule};

/// The largest DNS message (over TCP; a UDP datagram cannot be larger).
const MAX_MESSAGE: usize = 65_535;

/// Binds UDP and TCP on `addr`; for port 0, on one free port for both.
pub async fn bind(addr: SocketAddr) -> Result<(UdpSocket, TcpListener)> {
    let mut tries = 0;
    loop {
        let udp = UdpSocket::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} (udp) for DNS"))?;
        let bound = udp.local_addr()?;
        match super::listen(bound) {
            Ok(tcp) => return Ok((udp, tcp)),
            // Another program holds the TCP side of the port picked for
            // UDP: pick again.
            Err(_) if addr.port() == 0 && tries < 20 => tries += 1,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot listen on {bound} (tcp) for DNS"));
            }
        }
    }
}

/// Starts the UDP and TCP listeners; they stop at `stop`.
pub fn serve(
    engine: Arc<Engine>,
    udp: UdpSocket,
    tcp: TcpListener,
    upstream: SocketAddr,
    flows: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    vec![
        tokio::spawn(serve_udp(
            Arc::clone(&engine),
            Arc::new(udp),
            upstream,
            Arc::clone(&flows),
            stop.clone(),
        )),
        tokio::spawn(serve_tcp(engine, tcp, upstream, flows, stop)),
    ]
}

async fn serve_udp(
    engine: Arc<Engine>,
    socket: Arc<UdpSocket>,
    upstream: SocketAddr,
    flows: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; MAX_MESSAGE];
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&flows).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            _ = stop.changed() => return,
        };
        let (n, peer) = tokio::select! {
            received = socket.recv_from(&mut buf) => match received {
                Ok(received) => received,
                // An ICMP error for an earlier answer, say: not this
                // socket's end.
                Err(_) => continue,
            },
            _ = stop.changed() => return,
        };
        let query = buf[..n].to_vec();
        let engine = Arc::clone(&engine);
        let socket = Arc::clone(&socket);
        tokio::spawn(async move {
            answer_udp(&engine, &socket, &query, peer, upstream).await;
            drop(permit);
        });
    }
}

/// The rules' decision on one DNS message (without a TCP length prefix).
fn decide(engine: &Engine, message: &[u8]) -> (Box<Ruling>, Status) {
    let set = engine.set.load();
    match rule(&set, &engine.config, message, Transport::Udp, None, true) {
        Step::Ruled(ruling, status) => (ruling, status),
        // `complete` rules out NeedMore; a message that could need more is
        // not one the set can decide.
        Step::NeedMore => (
            Box::new(super::rule::unreadable(None)),
            Status::NotRecognised,
        ),
    }
}

/// The blocking answer to `query`, or why there is none.
fn block_answer(engine: &Engine, query: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; query.len() + 64];
    match flow::dns::write_block_answer(
        query,
        Transport::Udp,
        engine.dns_block_answer.to_flow(),
        &mut out,
    ) {
        Ok(n) => {
            out.truncate(n);
            Ok(out)
        }
        Err(e) => Err(format!("no blocking answer: {e}")),
    }
}

async fn answer_udp(
    engine: &Engine,
    socket: &UdpSocket,
    query: &[u8],
    peer: SocketAddr,
    upstream: SocketAddr,
) {
    let (ruling, status) = decide(engine, query);
    let error = if ruling.verdict.decision == Decision::Block {
        match block_answer(engine, query) {
            Ok(answer) => socket
                .send_to(&answer, peer)
                .await
                .err()
                .map(|e| e.to_string()),
            Err(e) => Some(e),
        }
    } else {
        match ask_udp(query, upstream, engine.limits.connect).await {
            Ok(answer) => socket
                .send_to(&answer, peer)
                .await
                .err()
                .map(|e| e.to_string()),
            Err(e) => Some(format!("upstream {upstream}: {e}")),
        }
    };
    report(engine, peer, "udp", &ruling, status, error.as_deref()).await;
}

/// Sends `query` to the upstream from a socket of its own and waits for
/// the answer.
async fn ask_udp(query: &[u8], upstream: SocketAddr, limit: Duration) -> io::Result<Vec<u8>> {
    let local: SocketAddr = if upstream.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(upstream).await?;
    socket.send(query).await?;
    let mut answer = vec![0u8; MAX_MESSAGE];
    let n = timeout(limit, socket.recv(&mut answer))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no answer in time"))??;
    answer.truncate(n);
    Ok(answer)
}

async fn serve_tcp(
    engine: Arc<Engine>,
    listener: TcpListener,
    upstream: SocketAddr,
    flows: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
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
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let engine = Arc::clone(&engine);
        tokio::spawn(async move {
            serve_tcp_client(&engine, stream, peer, upstream).await;
            drop(permit);
        });
    }
}

/// Reads one length-prefixed message; `None` at the end of the stream, on
/// an error or after `limit` without one.
async fn read_message(stream: &mut TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let read = async {
        let len = stream.read_u16().await.ok()?;
        let mut message = vec![0u8; usize::from(len)];
        stream.read_exact(&mut message).await.ok()?;
        Some(message)
    };
    timeout(limit, read).await.ok().flatten()
}

async fn write_message(stream: &mut TcpStream, message: &[u8]) -> io::Result<()> {
    let len = u16::try_from(message.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "message over 65,535 bytes"))?;
    let mut framed = Vec::with_capacity(message.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(message);
    stream.write_all(&framed).await
}

async fn serve_tcp_client(
    engine: &Engine,
    mut client: TcpStream,
    peer: SocketAddr,
    upstream: SocketAddr,
) {
    let mut server: Option<TcpStream> = None;
    while let Some(query) = read_message(&mut client, engine.limits.handshake).await {
        let (ruling, status) = decide(engine, &query);
        let answer = if ruling.verdict.decision == Decision::Block {
            block_answer(engine, &query)
        } else {
            ask_tcp(&mut server, &query, upstream, engine.limits.connect)
                .await
                .map_err(|e| {
                    server = None;
                    format!("upstream {upstream}: {e}")
                })
        };
        let error = match &answer {
            Ok(answer) => write_message(&mut client, answer)
                .await
                .err()
                .map(|e| e.to_string()),
            Err(e) => Some(e.clone()),
        };
        report(engine, peer, "tcp", &ruling, status, error.as_deref()).await;
        if error.is_some() {
            break;
        }
    }
}

/// Asks the upstream over TCP, connecting first when `server` has no
/// connection.
async fn ask_tcp(
    server: &mut Option<TcpStream>,
    query: &[u8],
    upstream: SocketAddr,
    limit: Duration,
) -> io::Result<Vec<u8>> {
    let stream = match server {
        Some(stream) => stream,
        None => {
            let stream = timeout(limit, TcpStream::connect(upstream))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no connection in time"))??;
            server.insert(stream)
        }
    };
    write_message(stream, query).await?;
    read_message(stream, limit)
        .await
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no answer"))
}

async fn report(
    engine: &Engine,
    client: SocketAddr,
    transport: &'static str,
    ruling: &Ruling,
    status: Status,
    error: Option<&str>,
) {
    let flow = Flow {
        client,
        listener: "dns",
        transport,
        target: None,
        ruling: Some(ruling),
        status,
        error,
    };
    engine
        .report
        .send(flow, engine.config.exclude_url_in_report)
        .await;
}
