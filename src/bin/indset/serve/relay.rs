//! Carrying a passed flow both ways, untouched, until both sides are done,
//! one side fails, or neither sends anything for the idle timeout.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Bytes read at a time in each direction: two of these per relayed flow.
const CHUNK: usize = 16 * 1024;

/// Relays between `client` and `server` until the flow ends; returns the
/// bytes sent each way (client to server, server to client). An error or
/// the idle timeout ends both directions.
pub async fn relay(client: TcpStream, server: TcpStream, idle: Duration) -> io::Result<(u64, u64)> {
    let start = Instant::now();
    // Milliseconds since `start` of the last byte either way.
    let last = AtomicU64::new(0);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    tokio::try_join!(
        pump(cr, sw, &last, start, idle),
        pump(sr, cw, &last, start, idle)
    )
}

async fn pump<R, W>(
    mut from: R,
    mut to: W,
    last: &AtomicU64,
    start: Instant,
    idle: Duration,
) -> io::Result<u64>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    let since_start = || u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    loop {
        let n = match timeout(idle, from.read(&mut buf)).await {
            Ok(read) => read?,
            Err(_) => {
                // Quiet this way; the flow is idle only if the other way
                // is quiet too.
                let quiet = since_start().saturating_sub(last.load(Ordering::Relaxed));
                if Duration::from_millis(quiet) >= idle {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "idle"));
                }
                continue;
            }
        };
        if n == 0 {
            break;
        }
        last.store(since_start(), Ordering::Relaxed);
        match timeout(idle, to.write_all(&buf[..n])).await {
            Ok(written) => written?,
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "peer not reading")),
        }
        total += n as u64;
    }
    // Half-close: the other direction may still have bytes to carry.
    let _ = to.shutdown().await;
    Ok(total)
}
