//! The gateway's three streaming calls, as etcd's grpc-gateway serves them: `/v3/watch`,
//! `/v3/lease/keepalive` and `/v3/maintenance/snapshot`.
//!
//! A gRPC stream becomes one long HTTP response with chunked transfer encoding: each message
//! is one JSON object `{"result": {...}}` followed by a newline, in a chunk of its own. The
//! request body may hold several JSON objects one after the other (grpc-gateway reads the
//! request stream the same way): two `create_request`s start two watches on one stream, two
//! `{"ID"}`s are two keepalives.
//!
//! This module is sans-IO: it decodes requests and builds the messages; [`super::http`] does
//! the writing, and the waiting for watch events.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::decode;
use super::encode::{Object, key_value};
use crate::error::{Result, StoreError};
use crate::kv::{Event, EventType, LeaseId, Revision};
use crate::watch::WatchRequest;

/// The streaming paths.
pub const STREAM_PATHS: &[&str] = &[
    "/v3/watch",
    "/v3/lease/keepalive",
    "/v3/maintenance/snapshot",
];

/// The size of a snapshot chunk, etcd's: 32 KiB.
pub const SNAPSHOT_CHUNK: usize = 32 * 1024;

/// The JSON objects of a request stream, in order; an empty body is one empty object.
pub fn messages(body: &[u8]) -> Result<Vec<Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(vec![json!({})]);
    }
    let mut messages = Vec::new();
    for (index, message) in serde_json::Deserializer::from_slice(body)
        .into_iter::<Value>()
        .enumerate()
    {
        let message = message.map_err(|error| {
            StoreError::invalid(
                format!("body[{index}]"),
                format!("invalid JSON message: {error}"),
            )
        })?;
        if !message.is_object() {
            return Err(StoreError::invalid(
                format!("body[{index}]"),
                "each message must be a JSON object",
            ));
        }
        messages.push(message);
    }
    Ok(messages)
}

/// What the messages of a `/v3/watch` body ask for, in order: one watch per `create_request`.
/// `cancel_request` and `progress_request` are accepted and ignored (closing the stream cancels
/// its watches).
pub fn watch_requests(messages: &[Value]) -> Result<Vec<WatchRequest>> {
    let mut requests = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        let Some(create) = message.get("create_request") else {
            continue;
        };
        let path = format!("body[{index}].create_request.");
        if !create.is_object() {
            return Err(StoreError::invalid(
                path.trim_end_matches('.'),
                "must be an object",
            ));
        }
        let filters = match create.get("filters") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.iter().collect(),
            Some(_) => {
                return Err(StoreError::invalid(
                    format!("{path}filters"),
                    "must be a list",
                ));
            }
        };
        let mut request = WatchRequest {
            key: decode::bytes(create, "key", &path)?,
            range_end: decode::bytes(create, "range_end", &path)?,
            start_revision: decode::int(create, "start_revision", &path)?,
            prev_kv: decode::boolean(create, "prev_kv", &path)?,
            no_put: false,
            no_delete: false,
        };
        for filter in filters {
            match filter.as_str() {
                Some("NOPUT") => request.no_put = true,
                Some("NODELETE") => request.no_delete = true,
                _ => {
                    return Err(StoreError::invalid(
                        format!("{path}filters"),
                        format!("unknown filter {filter}; expected NOPUT or NODELETE"),
                    ));
                }
            }
        }
        decode::boolean(create, "progress_notify", &path)?;
        requests.push(request);
    }
    Ok(requests)
}

/// Wraps a message as grpc-gateway does: `{"result": message}`.
pub fn result(message: Value) -> Value {
    json!({ "result": message })
}

/// The first message of a watch: it exists, from the store at `revision`.
pub fn watch_created(revision: Revision, watch_id: i64) -> Value {
    let mut object = Object::with_header(revision);
    object.int("watch_id", watch_id).flag("created", true);
    result(object.into_value())
}

// ANCHOR: watch_event
/// One event as etcd's JSON writes it: `type` is left out for a PUT (the enum's zero value),
/// and `prev_kv` only appears when the watcher asked for it and the key had one.
pub fn watch_event(event: &Event) -> Value {
    // EXERCISE(store-watch-stream-encode): build {"type"?, "kv", "prev_kv"?} with Object; PUT is the zero value, so it is left out
    let mut object = Object::default();
    if event.kind == EventType::Delete {
        object.value("type", Value::String("DELETE".into()));
    }
    object.value("kv", key_value(&event.kv));
    if let Some(previous) = &event.prev_kv {
        object.value("prev_kv", key_value(previous));
    }
    object.into_value()
    // END EXERCISE
}
// ANCHOR_END: watch_event

/// A message carrying events, sent while the store is at `revision`.
pub fn watch_events(revision: Revision, watch_id: i64, events: &[Event]) -> Value {
    let mut object = Object::with_header(revision);
    object
        .int("watch_id", watch_id)
        .list("events", events.iter().map(watch_event).collect());
    result(object.into_value())
}

// ANCHOR: watch_compacted
/// The watch started below the compaction revision: etcd cancels it and says where history
/// now begins, so that the client can list again and watch from there. Like etcd, the
/// header carries no revision.
pub fn watch_compacted(watch_id: i64, compact_revision: Revision) -> Value {
    let mut object = Object::with_header(0);
    object
        .int("watch_id", watch_id)
        .flag("canceled", true)
        .int("compact_revision", compact_revision);
    result(object.into_value())
}
// ANCHOR_END: watch_compacted

/// A watch that could not start (its request is invalid): etcd answers with watch id -1.
pub fn watch_refused(revision: Revision, reason: &str) -> Value {
    let mut object = Object::with_header(revision);
    object
        .int("watch_id", -1)
        .flag("created", true)
        .flag("canceled", true)
        .value("cancel_reason", Value::String(reason.to_string()));
    result(object.into_value())
}

/// The store cancelled a running watch (it fell too far behind).
pub fn watch_canceled(revision: Revision, watch_id: i64, reason: &str) -> Value {
    let mut object = Object::with_header(revision);
    object
        .int("watch_id", watch_id)
        .flag("canceled", true)
        .value("cancel_reason", Value::String(reason.to_string()));
    result(object.into_value())
}

/// The lease id of one keepalive message.
pub fn keepalive_id(message: &Value, index: usize) -> Result<LeaseId> {
    decode::int(message, "ID", &format!("body[{index}]."))
}

/// The answer to one keepalive: `ttl` is `None` when the lease does not exist (expired or
/// revoked); etcd then leaves `TTL` out (zero), it is not an error.
pub fn keepalive_answer(revision: Revision, id: LeaseId, ttl: Option<i64>) -> Value {
    let mut object = Object::with_header(revision);
    object.int("ID", id).int("TTL", ttl.unwrap_or(0));
    result(object.into_value())
}

// ANCHOR: snapshot_messages
/// A snapshot file's bytes as etcd streams a database: chunks of 32 KiB, each saying how
/// many bytes remain after it, then one last message whose blob is the SHA-256 of them all
/// (which the client checks and strips).
pub fn snapshot_messages(bytes: &[u8]) -> Vec<Value> {
    let mut messages = Vec::new();
    let mut sent = 0;
    for chunk in bytes.chunks(SNAPSHOT_CHUNK) {
        sent += chunk.len();
        let mut object = Object::default();
        object
            .int("remaining_bytes", (bytes.len() - sent) as i64)
            .bytes("blob", chunk);
        messages.push(result(object.into_value()));
    }
    let mut checksum = Object::default();
    checksum.bytes("blob", &Sha256::digest(bytes));
    messages.push(result(checksum.into_value()));
    messages
}
// ANCHOR_END: snapshot_messages

/// Joins the blobs of a snapshot stream and checks the SHA-256 at its end: what
/// `etcdctl snapshot save` does with the stream. Returns the snapshot file's bytes.
pub fn join_snapshot(messages: &[Value]) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        let result = message.get("result").ok_or_else(|| {
            StoreError::invalid(format!("message[{index}]"), "has no result field")
        })?;
        bytes.extend(decode::bytes(
            result,
            "blob",
            &format!("message[{index}].result."),
        )?);
    }
    if bytes.len() < 32 {
        return Err(StoreError::invalid(
            "snapshot stream",
            format!("{} bytes is too short to end with a SHA-256", bytes.len()),
        ));
    }
    let data_len = bytes.len() - 32;
    if Sha256::digest(&bytes[..data_len]).as_slice() != &bytes[data_len..] {
        return Err(StoreError::invalid(
            "snapshot stream",
            "the SHA-256 at its end does not match its data",
        ));
    }
    bytes.truncate(data_len);
    Ok(bytes)
}

// ANCHOR: fetch_snapshot
/// Downloads a snapshot from a running server (skiff-store or etcd) at `address`
/// (`host:port`) through `/v3/maintenance/snapshot`, as `etcdctl snapshot save` does: reads the
/// chunked stream, joins the blobs and checks the SHA-256. Returns the snapshot's bytes.
pub fn fetch_snapshot(address: &str) -> Result<Vec<u8>> {
    use std::io::{BufRead, BufReader, Read, Write};
    let failed = |what: &str, error: &dyn std::fmt::Display| {
        StoreError::Io(format!("snapshot from {address}: {what}: {error}"))
    };
    let mut stream =
        std::net::TcpStream::connect(address).map_err(|error| failed("connect", &error))?;
    let request = format!(
        "POST /v3/maintenance/snapshot HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|error| failed("send", &error))?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let read_line = |reader: &mut BufReader<_>, line: &mut String| {
        line.clear();
        reader
            .read_line(line)
            .map_err(|error| failed("read", &error))
    };
    read_line(&mut reader, &mut line)?;
    let status = line.split(' ').nth(1).unwrap_or("").to_string();
    let mut chunked = false;
    loop {
        read_line(&mut reader, &mut line)?;
        let header = line.trim().to_ascii_lowercase();
        if header.is_empty() {
            break;
        }
        chunked |= header == "transfer-encoding: chunked";
    }
    if status != "200" || !chunked {
        let mut body = String::new();
        let _ = reader.read_to_string(&mut body);
        return Err(failed(
            "the server refused",
            &format!("status {status}: {}", body.trim()),
        ));
    }
    let mut body = Vec::new();
    loop {
        read_line(&mut reader, &mut line)?;
        let size = usize::from_str_radix(line.trim(), 16)
            .map_err(|_| failed("bad chunk size", &format!("{:?}", line.trim())))?;
        let mut chunk = vec![0; size + 2];
        reader
            .read_exact(&mut chunk)
            .map_err(|error| failed("stream cut short", &error))?;
        if size == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..size]);
    }
    join_snapshot(&messages(&body)?)
}
// ANCHOR_END: fetch_snapshot
