//! Just enough HTTP/1.1 for the gateway: `POST` with a `Content-Length` body, JSON back,
//! keep-alive. One thread per connection, as the store itself is thread-based.
//!
//! A full HTTP stack (hyper, axum) would bring a dozen crates to compile for four headers;
//! lab 04's API server, which needs the real thing, brings it.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use serde_json::json;

use super::{Reply, handle};
use crate::durable::DurableStore;

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
fn serve_connection(stream: TcpStream, store: &DurableStore) -> io::Result<()> {
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
    write!(
        writer,
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n{body}",
        reply.status,
        reason(reply.status),
        body.len()
    )?;
    writer.flush()
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
