//! Moving bytes between the client and the endpoint, both ways at once.

use std::io;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The buffer each direction copies through. `tokio::io::copy` would use 8 KiB; on loopback a
/// bulk transfer through 64 KiB buffers makes an eighth of the read and write system calls,
/// which is most of what a userspace proxy costs (see the lab's `proxy-bench`).
pub const COPY_BUFFER: usize = 64 * 1024;

/// How many bytes went each way through one proxied connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transferred {
    /// Bytes from the client to the endpoint.
    pub sent: u64,
    /// Bytes from the endpoint back to the client.
    pub received: u64,
}

// ANCHOR: copy_both_ways
/// Copies `client` to `backend` and `backend` to `client` at the same time, until both
/// directions have ended.
///
/// When one side finishes sending (it half-closes: shuts down its write side), the proxy
/// passes that on by shutting down its own write side towards the other peer, and keeps the
/// opposite direction open. A client that sends a request, half-closes and then waits for
/// the reply is common (HTTP/1.0, many test tools); closing both directions at the first EOF
/// would cut its reply off.
pub async fn copy_both_ways(client: TcpStream, backend: TcpStream) -> io::Result<Transferred> {
    // EXERCISE(proxy-copy-both-ways): split both streams; copy each way until EOF, then shut down that way's writer; run both at once
    let (client_read, mut client_write) = client.into_split();
    let (backend_read, mut backend_write) = backend.into_split();
    let mut client_read = BufReader::with_capacity(COPY_BUFFER, client_read);
    let mut backend_read = BufReader::with_capacity(COPY_BUFFER, backend_read);
    let upstream = async {
        let bytes = tokio::io::copy_buf(&mut client_read, &mut backend_write).await?;
        backend_write.shutdown().await?;
        Ok::<u64, io::Error>(bytes)
    };
    let downstream = async {
        let bytes = tokio::io::copy_buf(&mut backend_read, &mut client_write).await?;
        client_write.shutdown().await?;
        Ok::<u64, io::Error>(bytes)
    };
    let (sent, received) = tokio::try_join!(upstream, downstream)?;
    Ok(Transferred { sent, received })
    // END EXERCISE
}
// ANCHOR_END: copy_both_ways
