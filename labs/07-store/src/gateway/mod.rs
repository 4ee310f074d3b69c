//! A subset of etcd's v3 JSON gateway, so that etcd's own clients (`curl`, and later the API
//! server of lab 04) can talk to the store over HTTP.
//!
//! Every call is `POST /v3/<service>/<method>` with a JSON body; see [`decode`] and [`encode`]
//! for the mapping. Watch, lease keepalive and snapshot are streams ([`stream`]): one chunked
//! response holding one JSON message per chunk. Errors come back as etcd's do: `{"error", "code", "message"}` with the gRPC
//! code and the matching HTTP status.

pub mod decode;
pub mod encode;
pub mod http;
pub mod stream;

use serde_json::{Value, json};

use crate::durable::DurableStore;
use crate::error::{Result, StoreError};
use encode::Object;

/// The paths the gateway answers.
pub const PATHS: &[&str] = &[
    "/v3/kv/range",
    "/v3/kv/put",
    "/v3/kv/deleterange",
    "/v3/kv/txn",
    "/v3/kv/compaction",
    "/v3/lease/grant",
    "/v3/lease/revoke",
    "/v3/lease/timetolive",
    "/v3/maintenance/status",
];

/// An HTTP status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// The JSON body.
    pub body: Value,
}

// ANCHOR: handle
/// Answers one gateway call.
pub fn handle(store: &DurableStore, path: &str, body: &[u8]) -> Reply {
    let request: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(error) => return failure(3, 400, format!("invalid JSON body: {error}")),
        }
    };
    if !request.is_object() {
        return failure(3, 400, "the body must be a JSON object".into());
    }
    match route(store, path, &request) {
        Ok(Some(body)) => Reply { status: 200, body },
        Ok(None) => failure(5, 404, format!("no such method: {path}")),
        Err(error) => error_reply(&error),
    }
}
// ANCHOR_END: handle

/// Calls the store; `None` for an unknown path.
fn route(store: &DurableStore, path: &str, body: &Value) -> Result<Option<Value>> {
    let reply = match path {
        "/v3/kv/range" => encode::range(&store.range(&decode::range(body, "")?)?),
        "/v3/kv/put" => encode::put(&store.put(&decode::put(body, "")?)?),
        "/v3/kv/deleterange" => {
            encode::delete_range(&store.delete_range(&decode::delete_range(body, "")?)?)
        }
        "/v3/kv/txn" => encode::txn(&store.txn(&decode::txn(body)?)?),
        "/v3/kv/compaction" => {
            store.compact(decode::int(body, "revision", "")?)?;
            Object::with_header(store.status().revision).into_value()
        }
        "/v3/lease/grant" => lease_grant(store, body)?,
        "/v3/lease/revoke" => {
            let revision = store.lease_revoke(decode::int(body, "ID", "")?)?;
            Object::with_header(revision).into_value()
        }
        "/v3/lease/timetolive" => lease_time_to_live(store, body)?,
        "/v3/maintenance/status" => {
            let mut status = Object::with_header(store.status().revision);
            status.value("version", Value::String(env!("CARGO_PKG_VERSION").into()));
            status.into_value()
        }
        _ => return Ok(None),
    };
    Ok(Some(reply))
}

fn lease_grant(store: &DurableStore, body: &Value) -> Result<Value> {
    let ttl = decode::int(body, "TTL", "")?;
    let id = store.lease_grant(decode::int(body, "ID", "")?, ttl)?;
    let mut reply = Object::with_header(store.status().revision);
    reply.int("ID", id).int("TTL", ttl);
    Ok(reply.into_value())
}

/// etcd answers a missing lease with `TTL: -1`, not an error.
fn lease_time_to_live(store: &DurableStore, body: &Value) -> Result<Value> {
    let id = decode::int(body, "ID", "")?;
    let with_keys = decode::boolean(body, "keys", "")?;
    let mut reply = Object::with_header(store.status().revision);
    reply.int("ID", id);
    match store.lease_time_to_live(id) {
        Ok(status) => {
            let keys = status
                .keys
                .iter()
                .map(|key| Value::String(b64(key)))
                .collect();
            reply
                .int("TTL", status.ttl)
                .int("grantedTTL", status.granted_ttl)
                .list("keys", if with_keys { keys } else { Vec::new() });
        }
        Err(StoreError::LeaseNotFound(_)) => {
            reply.int("TTL", -1);
        }
        Err(other) => return Err(other),
    }
    Ok(reply.into_value())
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

// ANCHOR: error_reply
/// A store error as etcd's gateway reports it: gRPC code, HTTP status, etcd's message.
pub fn error_reply(error: &StoreError) -> Reply {
    let (code, status) = match error {
        StoreError::Compacted { .. } | StoreError::FutureRevision { .. } => (11, 400),
        StoreError::Invalid { .. } => (3, 400),
        StoreError::LeaseNotFound(_) => (5, 404),
        StoreError::LeaseExists(_) => (9, 400),
        StoreError::Io(_) | StoreError::Corrupt { .. } => (14, 503),
    };
    let message = match error {
        StoreError::Compacted { .. } | StoreError::FutureRevision { .. } => {
            format!("etcdserver: {error}")
        }
        // etcd's own validation messages are kept as they are; ours name the field.
        StoreError::Invalid { reason, .. } if reason.starts_with("etcdserver: ") => reason.clone(),
        other => other.to_string(),
    };
    failure(code, status, message)
}
// ANCHOR_END: error_reply

fn failure(code: i64, status: u16, message: String) -> Reply {
    Reply {
        status,
        body: json!({ "error": message, "code": code, "message": message }),
    }
}
