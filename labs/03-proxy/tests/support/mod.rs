//! Test pods: tiny echo servers on their own loopback IPs, and a client that talks to them.
//!
//! Every wait here is bounded by [`BOUND`], generous enough never to fire on a slow machine:
//! it turns a bug that would hang a test into a clear failure.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use proxy::Endpoint;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The upper bound on any single wait in these tests.
pub const BOUND: Duration = Duration::from_secs(10);

/// A fake pod: answers every line it receives with `<name>: <line>`.
pub struct Pod {
    /// The pod's name, which it puts in every answer.
    pub name: String,
    /// Where it listens.
    pub addr: SocketAddr,
    server: JoinHandle<()>,
}

impl Pod {
    /// Starts a pod named `name` listening on `ip` (a free port is chosen).
    pub async fn start(name: &str, ip: &str) -> Pod {
        let listener = TcpListener::bind((ip, 0))
            .await
            .expect("bind a pod address");
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(listener, name.to_string()));
        Pod {
            name: name.to_string(),
            addr,
            server,
        }
    }

    /// This pod as an endpoint on `node`.
    pub fn endpoint(&self, node: &str, ready: bool) -> Endpoint {
        Endpoint {
            addr: self.addr,
            node: node.to_string(),
            ready,
        }
    }

    /// Kills the pod: when this returns its listener is closed, so dials to it are refused.
    pub async fn kill(self) {
        self.server.abort();
        let _ = self.server.await; // a cancelled task has dropped its listener
    }
}

async fn serve(listener: TcpListener, name: String) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(echo_lines(stream, name.clone()));
    }
}

async fn echo_lines(stream: TcpStream, name: String) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if write
            .write_all(format!("{name}: {line}\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}

/// Sends one line to `addr`, half-closes, and returns everything the other side sent back
/// before closing. A refused, reset or silent connection is an `Err`.
pub async fn request(addr: SocketAddr, line: &str) -> io::Result<String> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(format!("{line}\n").as_bytes()).await?;
        stream.shutdown().await?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await?;
        Ok(reply)
    };
    tokio::time::timeout(BOUND, exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no reply within the bound"))?
}

/// The name of the pod that answered `reply` (the part before `: `), if it is well formed.
pub fn answered_by(reply: &str, line: &str) -> Option<String> {
    let (pod, echoed) = reply.strip_suffix('\n')?.split_once(": ")?;
    (echoed == line).then(|| pod.to_string())
}

/// An address on `ip` that nothing listens on: bound, then released, so dials are refused.
pub async fn dead_address(ip: &str) -> SocketAddr {
    let listener = TcpListener::bind((ip, 0)).await.expect("bind");
    listener.local_addr().unwrap()
}
