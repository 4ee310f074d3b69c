//! Helpers shared by the gateway tests: a store served on a free port, and a tiny HTTP client.

#![allow(dead_code)] // each test file uses a different part

pub mod etcd;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use store::{DurableOptions, DurableStore};

/// Serves a fresh store in `dir` on a free loopback port; returns the address.
pub fn serve_store(dir: &Path) -> String {
    let store = Arc::new(DurableStore::open(dir, DurableOptions::default()).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || store::gateway::http::serve(listener, store));
    address
}

/// Sends raw bytes and returns the HTTP status and the body as JSON.
pub fn raw(address: &str, request: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(address).unwrap();
    // A safety net, not a timing assertion: a server bug fails the test instead of hanging it.
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8(response).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("a header block");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Joins the chunks of a chunked body (etcd's Go server sends its errors that way).
fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        if size == 0 {
            break;
        }
        body += &after[..size];
        rest = after[size..].trim_start_matches("\r\n");
    }
    body
}

/// `POST path` with a JSON body.
pub fn post(address: &str, path: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    raw(address, request.as_bytes())
}

/// Base64 of a string, as the gateway wants keys and values.
pub fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A streamed answer being read message by message: the chunked body of a watch, keepalive
/// or snapshot call, one JSON object per line.
pub struct Stream {
    /// The HTTP status.
    pub status: u16,
    reader: std::io::BufReader<TcpStream>,
    queued: std::collections::VecDeque<Value>,
    ended: bool,
}

/// `POST path` with a body that may hold several JSON messages; returns the open stream.
pub fn post_stream(address: &str, path: &str, body: &str) -> Stream {
    use std::io::BufRead;
    let mut stream = TcpStream::connect(address).unwrap();
    // A safety net, not a timing assertion: a missing message fails the test instead of
    // hanging it.
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut reader = std::io::BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut chunked = false;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        if header.trim().is_empty() {
            break;
        }
        chunked |= header
            .to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked");
    }
    assert!(chunked, "a stream is sent chunked ({status_line:?})");
    Stream {
        status,
        reader,
        queued: Default::default(),
        ended: false,
    }
}

impl Stream {
    /// The next message; `None` once the stream has ended.
    pub fn next(&mut self) -> Option<Value> {
        use std::io::BufRead;
        while self.queued.is_empty() && !self.ended {
            let mut size = String::new();
            self.reader.read_line(&mut size).unwrap();
            let size = usize::from_str_radix(size.trim(), 16)
                .unwrap_or_else(|_| panic!("a chunk size, got {size:?}"));
            let mut chunk = vec![0; size + 2];
            self.reader.read_exact(&mut chunk).unwrap();
            assert!(chunk.ends_with(b"\r\n"), "a chunk ends with CRLF");
            if size == 0 {
                self.ended = true;
            }
            let text = String::from_utf8(chunk[..size].to_vec()).unwrap();
            for line in text.lines().filter(|line| !line.trim().is_empty()) {
                self.queued.push_back(serde_json::from_str(line).unwrap());
            }
        }
        self.queued.pop_front()
    }

    /// Every message until the stream ends.
    pub fn rest(&mut self) -> Vec<Value> {
        std::iter::from_fn(|| self.next()).collect()
    }
}
