//! `RealProber`: probes that really run commands and open connections.

use std::net::SocketAddrV4;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::Command;
use tokio::time::timeout;

use super::{ProbeHandler, ProbeOutcome, ProbeRequest, ProbeRunner};

/// Runs exec, TCP and HTTP probes against real processes and sockets.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealProber;

impl ProbeRunner for RealProber {
    async fn run(&self, request: ProbeRequest) -> (ProbeOutcome, String) {
        let limit = request.spec.timeout;
        let attempt = async {
            match &request.spec.handler {
                ProbeHandler::Exec { command } => exec(command, &request.env).await,
                ProbeHandler::Tcp { port } => tcp(SocketAddrV4::new(request.pod_ip, *port)).await,
                ProbeHandler::Http { port, path } => {
                    http(SocketAddrV4::new(request.pod_ip, *port), path).await
                }
            }
        };
        match timeout(limit, attempt).await {
            Ok(Ok(message)) => (ProbeOutcome::Success, message),
            Ok(Err(message)) => (ProbeOutcome::Failure, message),
            Err(_) => (
                ProbeOutcome::Failure,
                format!("timed out after {}", seconds(limit)),
            ),
        }
    }
}

// ANCHOR: exec
/// Runs the command with the container's environment. skiff's runtime has no `exec` into a
/// running container (no namespaces to enter), so the command runs beside it, seeing what
/// the container sees: the same variables, the same pod IP on loopback.
async fn exec(command: &[String], env: &[(String, String)]) -> Result<String, String> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| "exec.command: must not be empty".to_string())?;
    let status = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status()
        .await
        .map_err(|error| format!("exec {program:?}: {error}"))?;
    match status.code() {
        Some(0) => Ok("exit code 0".to_string()),
        Some(code) => Err(format!("command exited with code {code}")),
        None => Err("command was killed by a signal".to_string()),
    }
}
// ANCHOR_END: exec

/// Succeeds when a TCP connection opens.
async fn tcp(address: SocketAddrV4) -> Result<String, String> {
    TcpStream::connect(address)
        .await
        .map(|_| format!("connected to {address}"))
        .map_err(|error| format!("dial tcp {address}: {error}"))
}

// ANCHOR: http
/// Sends a minimal HTTP/1.0 GET and reads the status line: 200–399 is success.
async fn http(address: SocketAddrV4, path: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect(address)
        .await
        .map_err(|error| format!("dial tcp {address}: {error}"))?;
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: {address}\r\nUser-Agent: skiff-probe\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|error| format!("sending request: {error}"))?;
    let mut head = vec![0u8; 256];
    let read = stream
        .read(&mut head)
        .await
        .map_err(|error| format!("reading response: {error}"))?;
    let status_line = String::from_utf8_lossy(&head[..read]);
    let code: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {:?}", status_line.lines().next()))?;
    if (200..400).contains(&code) {
        Ok(format!("HTTP {code}"))
    } else {
        Err(format!("HTTP probe failed with statuscode: {code}"))
    }
}
// ANCHOR_END: http

fn seconds(duration: Duration) -> String {
    format!("{}s", duration.as_secs())
}
