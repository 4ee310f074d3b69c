//! Just enough HTTP/1.1 for the gateway: `POST` with a `Content-Length` body, JSON back,
//! keep-alive; and for the streaming calls (watch, keepalive, snapshot) a chunked response,
//! one JSON message per chunk. One thread per connection, as the store itself is
//! thread-based, plus one per watch of a watch stream.
//!
//! A full HTTP stack (hyper, axum) would bring a dozen crates to compile for four headers;
//! lab 04's API server, which needs the real thing, brings it.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use serde_json::{Value, json};

use super::stream::{self, STREAM_PATHS};
use super::{Reply, error_reply, handle};
use crate::durable::DurableStore;
use crate::error::StoreError;
use crate::watch::{WatchPoll, WatchRequest, Watcher};

/// How often an idle watch stream checks that its client is still there, and how often a
/// watch's forwarding thread checks that its stream still is.
const IDLE_CHECK: Duration = Duration::from_millis(200);

/// The largest request body accepted (etcd's default request limit is 1.5 MiB).
pub const MAX_BODY: usize = 4 << 20;
/// The longest request line or header line accepted.
const MAX_LINE: usize = 8 << 10;

/// A parsed request.
struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
    keep_alive: bool,
}

/// Serves the gateway on `listener` until it fails.
pub fn serve(listener: TcpListener, store: Arc<DurableStore>) -> io::Result<()> {
    for stream in listener.incoming() {
        let stream = stream?;
        // Answers are written whole; waiting to coalesce them only adds latency.
        stream.set_nodelay(true)?;
        let store = store.clone();
        std::thread::spawn(move || {
            if let Err(error) = serve_connection(stream, &store) {
                tracing::debug!(%error, "connection ended");
            }
        });
    }
    Ok(())
}

/// Answers requests on one connection until the client closes it or asks to.
fn serve_connection(stream: TcpStream, store: &Arc<DurableStore>) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let (reply, keep_alive) = match read_request(&mut reader) {
            Ok(None) => return Ok(()),
            Ok(Some(request)) if request.method != "POST" => (
                error(
                    405,
                    format!("method {} not allowed; use POST", request.method),
                ),
                request.keep_alive,
            ),
            Ok(Some(request)) if STREAM_PATHS.contains(&request.path.as_str()) => {
                match serve_stream(&mut writer, store, &request.path, &request.body)? {
                    Some(reply) => (reply, request.keep_alive),
                    None if request.keep_alive => continue,
                    None => return Ok(()),
                }
            }
            Ok(Some(request)) => (
                handle(store, &request.path, &request.body),
                request.keep_alive,
            ),
            Err(message) => (error(400, message), false),
        };
        write_reply(&mut writer, &reply, keep_alive)?;
        if !keep_alive {
            return Ok(());
        }
    }
}

/// Reads one request; `Ok(None)` when the client closed the connection between requests.
fn read_request(reader: &mut impl BufRead) -> Result<Option<Request>, String> {
    let Some(line) = read_line(reader)? else {
        return Ok(None);
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(path), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("malformed request line {line:?}"));
    };
    let mut keep_alive = version == "HTTP/1.1";
    let mut length = 0usize;
    loop {
        let header = read_line(reader)?.ok_or("connection closed inside the headers")?;
        if header.is_empty() {
            break;
        }
        let (name, value) = header
            .split_once(':')
            .ok_or(format!("malformed header {header:?}"))?;
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => {
                length = value
                    .parse()
                    .map_err(|_| format!("bad Content-Length {value:?}"))?;
            }
            "transfer-encoding" => {
                return Err("chunked bodies are not supported; send Content-Length".into());
            }
            "connection" => keep_alive = !value.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    if length > MAX_BODY {
        return Err(format!(
            "body of {length} bytes is over the limit of {MAX_BODY}"
        ));
    }
    let mut body = vec![0; length];
    reader
        .read_exact(&mut body)
        .map_err(|error| format!("short body: {error}"))?;
    Ok(Some(Request {
        method: method.to_string(),
        path: path.to_string(),
        body,
        keep_alive,
    }))
}

/// One CRLF-terminated line, without the CRLF; `None` at end of stream before any byte.
fn read_line(reader: &mut impl BufRead) -> Result<Option<String>, String> {
    let mut line = Vec::new();
    let read = reader
        .take(MAX_LINE as u64 + 2)
        .read_until(b'\n', &mut line)
        .map_err(|error| error.to_string())?;
    if read == 0 {
        return Ok(None);
    }
    if !line.ends_with(b"\n") {
        return Err("line too long or cut short".into());
    }
    let text = String::from_utf8(line).map_err(|_| "request line is not UTF-8".to_string())?;
    Ok(Some(text.trim_end_matches(['\r', '\n']).to_string()))
}

fn write_reply(writer: &mut impl Write, reply: &Reply, keep_alive: bool) -> io::Result<()> {
    let body = reply.body.to_string();
    let connection = if keep_alive { "keep-alive" } else { "close" };
    // One buffer, one write: `write!` straight to a socket sends each piece of the format as
    // its own packet, and Nagle's algorithm then holds the last one for the client's delayed
    // ACK (40 ms a request).
    let response = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n{body}",
        reply.status,
        reason(reply.status),
        body.len()
    );
    writer.write_all(response.as_bytes())?;
    writer.flush()
}

// ANCHOR: serve_stream
/// Serves a streaming call. A request that cannot be decoded gets an ordinary error reply
/// (returned); otherwise the answer is streamed and `None` returned. A watch stream only
/// ends when its client goes away, so its connection is closed afterwards.
fn serve_stream(
    writer: &mut TcpStream,
    store: &Arc<DurableStore>,
    path: &str,
    body: &[u8],
) -> io::Result<Option<Reply>> {
    let messages = match stream::messages(body) {
        Ok(messages) => messages,
        Err(error) => return Ok(Some(error_reply(&error))),
    };
    match path {
        "/v3/watch" => match stream::watch_requests(&messages) {
            Ok(requests) => serve_watch(writer, store, requests).map(|()| None),
            Err(error) => Ok(Some(error_reply(&error))),
        },
        "/v3/lease/keepalive" => {
            let ids: Result<Vec<i64>, StoreError> = messages
                .iter()
                .enumerate()
                .map(|(index, message)| stream::keepalive_id(message, index))
                .collect();
            let ids = match ids {
                Ok(ids) => ids,
                Err(error) => return Ok(Some(error_reply(&error))),
            };
            write_stream_head(writer)?;
            for id in ids {
                let message = match store.lease_keep_alive(id) {
                    Ok(ttl) => stream::keepalive_answer(store.status().revision, id, Some(ttl)),
                    Err(StoreError::LeaseNotFound(_)) => {
                        stream::keepalive_answer(store.status().revision, id, None)
                    }
                    Err(error) => stream_error(&error),
                };
                write_chunk(writer, &message)?;
            }
            write_stream_end(writer).map(|()| None)
        }
        _ => {
            let snapshot = match store.snapshot() {
                Ok(snapshot) => snapshot,
                Err(error) => return Ok(Some(error_reply(&error))),
            };
            write_stream_head(writer)?;
            for message in stream::snapshot_messages(&snapshot.encode()) {
                write_chunk(writer, &message)?;
            }
            write_stream_end(writer).map(|()| None)
        }
    }
}
// ANCHOR_END: serve_stream

// ANCHOR: serve_watch
/// Starts each requested watch and streams their messages until the client goes away. One
/// thread per watch waits on it and forwards its responses; this thread writes them.
fn serve_watch(
    writer: &mut TcpStream,
    store: &Arc<DurableStore>,
    requests: Vec<WatchRequest>,
) -> io::Result<()> {
    write_stream_head(writer)?;
    let (sender, messages) = mpsc::channel::<Value>();
    let stopped = Arc::new(AtomicBool::new(false));
    for (watch_id, request) in (0i64..).zip(requests) {
        let revision = store.status().revision;
        match store.watch(&request) {
            Ok(watcher) => {
                write_chunk(writer, &stream::watch_created(revision, watch_id))?;
                let (store, sender, stopped) = (store.clone(), sender.clone(), stopped.clone());
                std::thread::spawn(move || forward(watcher, watch_id, &store, &sender, &stopped));
            }
            Err(StoreError::Compacted { compact_revision }) => {
                write_chunk(writer, &stream::watch_created(revision, watch_id))?;
                write_chunk(writer, &stream::watch_compacted(watch_id, compact_revision))?;
            }
            Err(error) => {
                write_chunk(writer, &stream::watch_refused(revision, &error.to_string()))?
            }
        }
    }
    drop(sender);
    let outcome = loop {
        match messages.recv_timeout(IDLE_CHECK) {
            Ok(message) => {
                if let Err(error) = write_chunk(writer, &message) {
                    break Err(error);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) if client_gone(writer) => break Ok(()),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // Every watch was cancelled: the stream has nothing more to say.
            Err(mpsc::RecvTimeoutError::Disconnected) => break write_stream_end(writer),
        }
    };
    stopped.store(true, Ordering::Relaxed);
    let _ = writer.shutdown(std::net::Shutdown::Both);
    outcome
}

/// Forwards one watcher's responses as messages, each with every response already waiting
/// (a catch-up arrives as one message, as in etcd), until it is cancelled or the stream ends.
fn forward(
    watcher: Watcher,
    watch_id: i64,
    store: &DurableStore,
    sender: &mpsc::Sender<Value>,
    stopped: &AtomicBool,
) {
    while !stopped.load(Ordering::Relaxed) {
        let mut events = Vec::new();
        let mut canceled = None;
        let mut poll = watcher.next_timeout(IDLE_CHECK);
        loop {
            match poll {
                WatchPoll::Response(response) => events.extend(response.events),
                WatchPoll::Empty => break,
                WatchPoll::Canceled(reason) => {
                    canceled = Some(reason);
                    break;
                }
            }
            poll = watcher.try_next();
        }
        if let Some(last) = events.last() {
            let revision = store.status().revision.max(last.revision());
            if sender
                .send(stream::watch_events(revision, watch_id, &events))
                .is_err()
            {
                return;
            }
        }
        if let Some(canceled) = canceled {
            let revision = store.status().revision;
            let _ = sender.send(stream::watch_canceled(revision, watch_id, &canceled.reason));
            return;
        }
    }
}
// ANCHOR_END: serve_watch

/// True when the client has closed its end: a read would return end of stream.
fn client_gone(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let mut byte = [0u8; 1];
    let gone = match stream.peek(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(error) => error.kind() != io::ErrorKind::WouldBlock,
    };
    gone || stream.set_nonblocking(false).is_err()
}

/// The head of a streamed answer: its length is unknown, so the body is chunked.
fn write_stream_head(writer: &mut impl Write) -> io::Result<()> {
    writer.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    )?;
    writer.flush()
}

/// One message: a chunk holding the JSON object and a newline, flushed at once.
fn write_chunk(writer: &mut impl Write, message: &Value) -> io::Result<()> {
    let line = format!("{message}\n");
    let chunk = format!("{:x}\r\n{line}\r\n", line.len());
    writer.write_all(chunk.as_bytes())?;
    writer.flush()
}

/// The last chunk of a stream.
fn write_stream_end(writer: &mut impl Write) -> io::Result<()> {
    writer.write_all(b"0\r\n\r\n")?;
    writer.flush()
}

/// An error inside a stream, after the 200 has been sent: grpc-gateway's stream error shape.
fn stream_error(error: &StoreError) -> Value {
    let reply = error_reply(error);
    json!({ "error": {
        "grpc_code": reply.body["code"],
        "http_code": reply.status,
        "message": reply.body["message"],
        "http_status": reason(reply.status),
    }})
}

fn error(status: u16, message: String) -> Reply {
    Reply {
        status,
        body: json!({ "error": message, "code": 3, "message": message }),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Error",
    }
}
