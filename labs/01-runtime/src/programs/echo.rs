//! `echo`: a tiny HTTP server that answers every request with who it is.
//!
//! It listens on `$POD_IP:$PORT` (defaults 127.0.0.1 and 8080), so two echo pods on one machine
//! can both use port 8080, each on its own loopback address.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::signals::{catch_sigterm, term_received};

/// Serves until SIGTERM; returns 0 then, or 1 if it cannot listen.
pub fn run(_args: &[String]) -> i32 {
    let ip = env_or("POD_IP", "127.0.0.1");
    let port = env_or("PORT", "8080");
    let listener = match TcpListener::bind(format!("{ip}:{port}")) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("echo: cannot listen on {ip}:{port}: {error}");
            return 1;
        }
    };
    catch_sigterm();
    // Non-blocking accept, so the loop notices SIGTERM between connections.
    if listener.set_nonblocking(true).is_err() {
        return 1;
    }
    println!("echo: listening on {ip}:{port}");
    while !term_received() {
        match listener.accept() {
            Ok((stream, _)) => answer(stream),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    println!("received SIGTERM, shutting down");
    drain(&listener);
    0
}

// ANCHOR: drain
/// Graceful shutdown. SIGTERM and the pod's removal from its Service's endpoints happen at
/// the same time, so proxies may still send connections for a moment: keep answering for
/// `$SHUTDOWN_DELAY_MS` (default 0), then answer the connections already queued, and only
/// then close the listener (closing it resets every connection still in its queue).
fn drain(listener: &TcpListener) {
    let delay = env_or("SHUTDOWN_DELAY_MS", "0").parse().unwrap_or(0);
    let until = Instant::now() + Duration::from_millis(delay);
    loop {
        match listener.accept() {
            Ok((stream, _)) => answer(stream),
            Err(_) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => return,
        }
    }
}
// ANCHOR_END: drain

/// Reads the request head and answers with the pod's identity.
fn answer(mut stream: TcpStream) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    let request_line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    println!("echo: {request_line}");
    let body = format!(
        "hello from pod {} in namespace {} at {} on node {}\n",
        env_or("POD_NAME", "?"),
        env_or("POD_NAMESPACE", "?"),
        env_or("POD_IP", "?"),
        env_or("NODE_NAME", "?"),
    );
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}
