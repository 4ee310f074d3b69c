//! Dialing an endpoint, with a bounded retry over the next candidates.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

/// How many endpoints one client connection may try before the proxy gives up on it.
///
/// Bounded so that a service whose pods are all gone fails fast instead of walking a long
/// list while the client waits; three covers "the chosen pod just died" comfortably.
pub const MAX_DIAL_ATTEMPTS: usize = 3;

/// How long one dial may take. On loopback a dead pod refuses at once; the bound is for an
/// endpoint that never answers at all, so that it cannot hold a client forever.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(2);

/// Every endpoint the dialer tried for one connection failed (or there was none to try).
#[derive(Debug)]
pub struct DialError {
    /// Each address tried, with why the dial failed, in the order tried.
    pub failures: Vec<(SocketAddr, io::Error)>,
}

impl fmt::Display for DialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.failures.is_empty() {
            return write!(f, "no ready endpoint to dial");
        }
        write!(f, "all {} dial attempts failed:", self.failures.len())?;
        for (addr, error) in &self.failures {
            write!(f, " {addr} ({error});")?;
        }
        Ok(())
    }
}

impl std::error::Error for DialError {}

/// Dials one address, giving up after [`DIAL_TIMEOUT`].
pub async fn dial_one(addr: SocketAddr) -> io::Result<TcpStream> {
    match tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(addr)).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no answer within {DIAL_TIMEOUT:?}"),
        )),
    }
}

// ANCHOR: dial_first
/// Dials the addresses of `order` one after the other, at most `max_attempts` of them, and
/// returns the first connection that succeeds with its address. Each failure is logged.
pub async fn dial_first(
    order: &[SocketAddr],
    max_attempts: usize,
) -> Result<(TcpStream, SocketAddr), DialError> {
    // EXERCISE(proxy-dial-retry): try dial_one on each of the first max_attempts addresses; return the first success, else every failure
    let mut failures = Vec::new();
    for &addr in order.iter().take(max_attempts) {
        match dial_one(addr).await {
            Ok(stream) => return Ok((stream, addr)),
            Err(error) => {
                tracing::warn!(endpoint = %addr, %error, "dial failed; trying the next endpoint");
                failures.push((addr, error));
            }
        }
    }
    Err(DialError { failures })
    // END EXERCISE
}
// ANCHOR_END: dial_first
