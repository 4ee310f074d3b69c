//! Storage over etcd's v3 JSON gateway: a real etcd cluster, or a remote `skiff-store serve`.
//!
//! Every [`Storage`] call is one etcd request, and every write is one transaction whose
//! compare makes it safe without locks: create puts only if the key's `mod_revision` is 0 (it
//! does not exist), update only if it is still the revision the caller read, delete likewise.
//! The transactions are built by the functions of this module ([`create_txn`],
//! [`update_txn`], [`delete_txn`]), which the embedded backend uses too: the same etcd
//! requests, sent in-process instead of over HTTP.
//!
//! The HTTP side is hyper's HTTP/1.1 client over plain TCP, a few idle connections kept for
//! reuse; a watch is one long `/v3/watch` response read message by message, reopened from the
//! last revision seen if the connection breaks.
//!
//! TLS: a production etcd listens on `https://` with client certificates (`--cert-file`,
//! `--client-cert-auth`), because whoever reaches etcd reads every Secret. This backend speaks
//! plain `http://` only, for a loopback or lab network; wrapping the TCP stream in
//! `tokio-rustls` (as the API server's own listener does) is the missing step.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use store::range::prefix_end;
use store::{
    Compare, CompareResult, CompareTarget, DeleteRangeRequest, KeyValue, PutRequest, RangeRequest,
    RangeResponse, RequestOp, ResponseOp, StoreError, TxnRequest, TxnResponse,
};
use tokio::sync::mpsc;

use super::{
    ListRequest, Page, Storage, StorageError, StorageEvent, StorageFuture, StorageWatch, Stored,
};

/// How many events a watch may have waiting for its reader.
pub const WATCH_BUFFER: usize = 256;
/// How many idle connections are kept for reuse; more are closed after their answer.
const MAX_IDLE: usize = 16;
/// How many times a broken watch stream is reopened before the watch gives up.
const WATCH_RETRIES: u32 = 5;

// ---------------------------------------------------------------------------------------
// The transactions: the same for every backend that speaks etcd.
// ---------------------------------------------------------------------------------------

/// `mod_revision(key) == revision`: 0 means "the key does not exist".
fn mod_revision_is(key: &str, revision: i64) -> Compare {
    Compare {
        key: key.as_bytes().to_vec(),
        result: CompareResult::Equal,
        target: CompareTarget::ModRevision(revision),
    }
}

/// Put `value` at `key`, returning the key as it was (for its create revision).
fn put_op(key: &str, value: Vec<u8>) -> RequestOp {
    RequestOp::Put(PutRequest {
        key: key.as_bytes().to_vec(),
        value,
        lease: 0,
        prev_kv: true,
    })
}

/// Read `key`, to tell the caller why a compare failed.
fn get_op(key: &str) -> RequestOp {
    RequestOp::Range(RangeRequest::key(key))
}

// ANCHOR: create_txn
/// Create: put only if the key does not exist (`mod_revision == 0`); else read it.
pub fn create_txn(key: &str, value: Vec<u8>) -> TxnRequest {
    TxnRequest {
        compare: vec![mod_revision_is(key, 0)],
        success: vec![put_op(key, value)],
        failure: vec![get_op(key)],
    }
}
// ANCHOR_END: create_txn

// ANCHOR: update_txn
/// Update (compare-and-swap): put only if the key's `mod_revision` is still `expected`, the
/// revision the caller read; else read the key, to say what it is now.
pub fn update_txn(key: &str, value: Vec<u8>, expected: i64) -> TxnRequest {
    // EXERCISE(apiserver-etcd-cas-update): one compare (mod_revision == expected), a put with prev_kv on success, a range of the key on failure
    TxnRequest {
        compare: vec![mod_revision_is(key, expected)],
        success: vec![put_op(key, value)],
        failure: vec![get_op(key)],
    }
    // END EXERCISE
}
// ANCHOR_END: update_txn

// ANCHOR: delete_txn
/// Delete: if `expected` is given, only if the key's `mod_revision` is that; the delete
/// returns the last value. On failure, read the key.
pub fn delete_txn(key: &str, expected: Option<i64>) -> TxnRequest {
    TxnRequest {
        compare: expected
            .map(|revision| mod_revision_is(key, revision))
            .into_iter()
            .collect(),
        success: vec![RequestOp::DeleteRange(DeleteRangeRequest {
            key: key.as_bytes().to_vec(),
            range_end: Vec::new(),
            prev_kv: true,
        })],
        failure: vec![get_op(key)],
    }
}
// ANCHOR_END: delete_txn

// ANCHOR: list_range
/// A page of a list: the keys under the prefix, strictly after `start_after`, at most
/// `limit`, at `revision`.
pub fn list_range(request: &ListRequest) -> RangeRequest {
    let prefix = request.prefix.as_bytes();
    let mut start = prefix.to_vec();
    if let Some(after) = &request.start_after {
        // The smallest key greater than `after` is `after` followed by a zero byte.
        let mut next = after.as_bytes().to_vec();
        next.push(0);
        start = start.max(next);
    }
    RangeRequest {
        key: start,
        range_end: prefix_end(prefix),
        limit: request.limit.map_or(0, |limit| limit as i64),
        revision: request.revision.unwrap_or(0),
        count_only: false,
        keys_only: false,
    }
}
// ANCHOR_END: list_range

/// A store key-value as a [`Stored`].
pub fn stored(kv: &KeyValue) -> Stored {
    Stored {
        key: String::from_utf8_lossy(&kv.key).into_owned(),
        value: kv.value.clone(),
        create_revision: kv.create_revision,
        mod_revision: kv.mod_revision,
    }
}

/// The key-value a failed transaction read (its failure branch is one range).
fn read_on_failure(response: &TxnResponse) -> Option<&KeyValue> {
    match response.responses.first() {
        Some(ResponseOp::Range(range)) => range.kvs.first(),
        _ => None,
    }
}

/// What a [`create_txn`] did.
pub fn created(key: &str, value: Vec<u8>, response: &TxnResponse) -> Result<Stored, StorageError> {
    if !response.succeeded {
        return Err(StorageError::AlreadyExists { key: key.into() });
    }
    Ok(Stored {
        key: key.into(),
        value,
        create_revision: response.header_revision,
        mod_revision: response.header_revision,
    })
}

// ANCHOR: updated
/// What an [`update_txn`] did. A key that is gone is [`StorageError::NotFound`]; one that
/// changed is a [`StorageError::Conflict`] with its current revision.
pub fn updated(key: &str, value: Vec<u8>, response: &TxnResponse) -> Result<Stored, StorageError> {
    if !response.succeeded {
        return Err(match read_on_failure(response) {
            Some(current) => StorageError::Conflict {
                key: key.into(),
                current: current.mod_revision,
            },
            None => StorageError::NotFound { key: key.into() },
        });
    }
    let create_revision = match response.responses.first() {
        Some(ResponseOp::Put(put)) => put.prev_kv.as_ref().map(|kv| kv.create_revision),
        _ => None,
    };
    Ok(Stored {
        key: key.into(),
        value,
        // The key existed (the compare held), so its previous value is there.
        create_revision: create_revision.unwrap_or(response.header_revision),
        mod_revision: response.header_revision,
    })
}
// ANCHOR_END: updated

/// What a [`delete_txn`] did: the last value and the revision of the delete.
pub fn deleted(key: &str, response: &TxnResponse) -> Result<(Stored, i64), StorageError> {
    if !response.succeeded {
        return Err(match read_on_failure(response) {
            Some(current) => StorageError::Conflict {
                key: key.into(),
                current: current.mod_revision,
            },
            None => StorageError::NotFound { key: key.into() },
        });
    }
    match response.responses.first() {
        Some(ResponseOp::DeleteRange(delete)) => match delete.prev_kvs.first() {
            Some(previous) => Ok((stored(previous), response.header_revision)),
            None => Err(StorageError::NotFound { key: key.into() }),
        },
        _ => Err(StorageError::Unavailable {
            message: "a delete transaction answered without its delete".into(),
        }),
    }
}

/// The page a [`list_range`] read.
pub fn page(request: &ListRequest, response: &RangeResponse) -> Page {
    Page {
        items: response.kvs.iter().map(stored).collect(),
        revision: request.revision.unwrap_or(response.header_revision),
        more: response.more,
    }
}

/// A store error as a storage error; `requested` is the revision the call asked for.
pub fn storage_error(error: StoreError, requested: i64) -> StorageError {
    match error {
        StoreError::Compacted { compact_revision } => StorageError::Compacted {
            requested,
            compacted: compact_revision,
        },
        StoreError::FutureRevision { current_revision } => StorageError::FutureRevision {
            requested,
            current: current_revision,
        },
        other => StorageError::Unavailable {
            message: other.to_string(),
        },
    }
}

/// A watch event (from the store or decoded from etcd's JSON) as a storage event.
pub fn storage_event(event: &store::Event) -> StorageEvent {
    match event.kind {
        store::EventType::Put => StorageEvent::Put {
            current: stored(&event.kv),
            prev: event.prev_kv.as_ref().map(stored),
        },
        store::EventType::Delete => StorageEvent::Delete {
            // etcd sends prev_kv when asked, unless that version was compacted away.
            prev: event.prev_kv.as_ref().map_or_else(
                || Stored {
                    key: String::from_utf8_lossy(&event.kv.key).into_owned(),
                    value: Vec::new(),
                    create_revision: 0,
                    mod_revision: 0,
                },
                stored,
            ),
            revision: event.kv.mod_revision,
        },
    }
}

// ---------------------------------------------------------------------------------------
// etcd's JSON, both ways.
// ---------------------------------------------------------------------------------------

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

fn range_json(request: &RangeRequest) -> Value {
    json!({
        "key": b64(&request.key),
        "range_end": b64(&request.range_end),
        "limit": request.limit.to_string(),
        "revision": request.revision.to_string(),
    })
}

/// A transaction as the gateway's JSON.
pub fn txn_json(request: &TxnRequest) -> Value {
    let compare: Vec<Value> = request
        .compare
        .iter()
        .map(|compare| {
            let result = match compare.result {
                CompareResult::Equal => "EQUAL",
                CompareResult::NotEqual => "NOT_EQUAL",
                CompareResult::Less => "LESS",
                CompareResult::Greater => "GREATER",
            };
            let (target, field, value) = match &compare.target {
                CompareTarget::Version(v) => ("VERSION", "version", json!(v.to_string())),
                CompareTarget::CreateRevision(r) => {
                    ("CREATE", "create_revision", json!(r.to_string()))
                }
                CompareTarget::ModRevision(r) => ("MOD", "mod_revision", json!(r.to_string())),
                CompareTarget::Value(v) => ("VALUE", "value", json!(b64(v))),
            };
            json!({"key": b64(&compare.key), "result": result, "target": target, field: value})
        })
        .collect();
    let ops = |ops: &[RequestOp]| -> Vec<Value> {
        ops.iter()
            .map(|op| match op {
                RequestOp::Range(range) => json!({ "request_range": range_json(range) }),
                RequestOp::Put(put) => json!({"request_put": {
                    "key": b64(&put.key), "value": b64(&put.value),
                    "lease": put.lease.to_string(), "prev_kv": put.prev_kv}}),
                RequestOp::DeleteRange(delete) => json!({"request_delete_range": {
                    "key": b64(&delete.key), "range_end": b64(&delete.range_end),
                    "prev_kv": delete.prev_kv}}),
            })
            .collect()
    };
    json!({
        "compare": compare,
        "success": ops(&request.success),
        "failure": ops(&request.failure),
    })
}

fn invalid(what: &str) -> StorageError {
    StorageError::Unavailable {
        message: format!("etcd answered with an unexpected body: {what}"),
    }
}

fn int(value: &Value, field: &str) -> Result<i64, StorageError> {
    store::gateway::decode::int(value, field, "").map_err(|error| invalid(&error.to_string()))
}

fn bytes_field(value: &Value, field: &str) -> Result<Vec<u8>, StorageError> {
    store::gateway::decode::bytes(value, field, "").map_err(|error| invalid(&error.to_string()))
}

fn key_value(value: &Value) -> Result<KeyValue, StorageError> {
    Ok(KeyValue {
        key: bytes_field(value, "key")?,
        create_revision: int(value, "create_revision")?,
        mod_revision: int(value, "mod_revision")?,
        version: int(value, "version")?,
        value: bytes_field(value, "value")?,
        lease: int(value, "lease")?,
    })
}

fn key_values(value: &Value, field: &str) -> Result<Vec<KeyValue>, StorageError> {
    match value.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(key_value).collect(),
        Some(other) => Err(invalid(&format!("{field} is {other}"))),
    }
}

fn header_revision(value: &Value) -> Result<i64, StorageError> {
    int(value.get("header").unwrap_or(&Value::Null), "revision")
}

/// A range answer.
pub fn range_response(value: &Value) -> Result<RangeResponse, StorageError> {
    Ok(RangeResponse {
        header_revision: header_revision(value)?,
        kvs: key_values(value, "kvs")?,
        more: value.get("more") == Some(&Value::Bool(true)),
        count: int(value, "count")?,
    })
}

/// A transaction answer.
pub fn txn_response(value: &Value) -> Result<TxnResponse, StorageError> {
    let mut responses = Vec::new();
    for op in value
        .get("responses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        responses.push(if let Some(range) = op.get("response_range") {
            ResponseOp::Range(range_response(range)?)
        } else if let Some(put) = op.get("response_put") {
            ResponseOp::Put(store::PutResponse {
                header_revision: header_revision(put)?,
                prev_kv: put.get("prev_kv").map(key_value).transpose()?,
            })
        } else if let Some(delete) = op.get("response_delete_range") {
            ResponseOp::DeleteRange(store::DeleteRangeResponse {
                header_revision: header_revision(delete)?,
                deleted: int(delete, "deleted")?,
                prev_kvs: key_values(delete, "prev_kvs")?,
            })
        } else {
            return Err(invalid(&format!("response op {op}")));
        });
    }
    Ok(TxnResponse {
        header_revision: header_revision(value)?,
        succeeded: value.get("succeeded") == Some(&Value::Bool(true)),
        responses,
    })
}

/// One event of a watch message.
pub fn watch_event(value: &Value) -> Result<store::Event, StorageError> {
    let kind = match value.get("type").and_then(Value::as_str) {
        None | Some("PUT") => store::EventType::Put,
        Some("DELETE") => store::EventType::Delete,
        Some(other) => return Err(invalid(&format!("event type {other}"))),
    };
    Ok(store::Event {
        kind,
        kv: key_value(value.get("kv").unwrap_or(&Value::Null))?,
        prev_kv: value.get("prev_kv").map(key_value).transpose()?,
    })
}

// ---------------------------------------------------------------------------------------
// The HTTP client.
// ---------------------------------------------------------------------------------------

/// What an error answer says: etcd's gRPC code and message.
struct Failure {
    code: i64,
    message: String,
}

/// A [`Storage`] over etcd's JSON gateway. Cloning it shares its connections.
#[derive(Clone)]
pub struct EtcdStorage {
    client: Arc<Client>,
}

/// The HTTP side: where etcd is, and the connections to it.
struct Client {
    /// `host:port`.
    address: String,
    /// Idle connections, ready for another request.
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
}

impl EtcdStorage {
    /// Connects to `url` (`http://host:port`) and checks that it answers as etcd does.
    pub async fn connect(url: &str) -> Result<EtcdStorage, StorageError> {
        let address = if let Some(rest) = url.strip_prefix("http://") {
            rest.trim_end_matches('/')
        } else if url.starts_with("https://") {
            return Err(StorageError::Unavailable {
                message: format!(
                    "etcd url {url:?}: https is not supported by this backend; use http:// on a trusted network"
                ),
            });
        } else {
            return Err(StorageError::Unavailable {
                message: format!("etcd url {url:?}: must start with http://"),
            });
        };
        if address.is_empty() || address.contains('/') {
            return Err(StorageError::Unavailable {
                message: format!("etcd url {url:?}: expected http://host:port"),
            });
        }
        let client = Client {
            address: address.to_string(),
            idle: Mutex::new(Vec::new()),
        };
        client.revision_now().await?;
        Ok(EtcdStorage {
            client: Arc::new(client),
        })
    }

    /// Compacts the store's history at `revision` (etcd's `/v3/kv/compaction`): reads and
    /// watches below it are refused from now on.
    pub async fn compact(&self, revision: i64) -> Result<(), StorageError> {
        let body = json!({ "revision": revision.to_string() });
        match self.client.post("/v3/kv/compaction", &body).await? {
            Ok(_) => Ok(()),
            Err(failure) => Err(self.client.revision_error(failure, revision).await),
        }
    }
}

impl Client {
    /// Opens a connection.
    async fn open(&self) -> Result<SendRequest<Full<Bytes>>, StorageError> {
        let stream = tokio::net::TcpStream::connect(&self.address)
            .await
            .map_err(|error| self.unreachable(&error))?;
        // Each request is written whole; Nagle's algorithm would only delay it.
        stream
            .set_nodelay(true)
            .map_err(|error| self.unreachable(&error))?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|error| self.unreachable(&error))?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "etcd connection ended");
            }
        });
        Ok(sender)
    }

    fn unreachable(&self, error: &dyn std::fmt::Display) -> StorageError {
        StorageError::Unavailable {
            message: format!("etcd at {}: {error}", self.address),
        }
    }

    /// Sends `POST path` on an idle connection (or a new one); returns the response.
    async fn send(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<
        (
            SendRequest<Full<Bytes>>,
            hyper::Response<hyper::body::Incoming>,
        ),
        StorageError,
    > {
        let build = || {
            hyper::Request::post(path)
                .header(hyper::header::HOST, &self.address)
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body.to_string())))
                .map_err(|error| self.unreachable(&error))
        };
        let reused = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        if let Some(mut sender) = reused
            && sender.ready().await.is_ok()
        {
            match sender.send_request(build()?).await {
                Ok(response) => return Ok((sender, response)),
                // The server closed the idle connection before the request went out:
                // nothing was sent, so sending it on a new connection is safe.
                Err(error) if error.is_canceled() => {}
                Err(error) => return Err(self.unreachable(&error)),
            }
        }
        let mut sender = self.open().await?;
        let response = sender
            .send_request(build()?)
            .await
            .map_err(|error| self.unreachable(&error))?;
        Ok((sender, response))
    }

    /// A unary call: `Ok(Ok(body))` for a 200, `Ok(Err(failure))` for etcd's error answer.
    async fn post(&self, path: &str, body: &Value) -> Result<Result<Value, Failure>, StorageError> {
        let (sender, response) = self.send(path, body).await?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|error| self.unreachable(&error))?
            .to_bytes();
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(sender);
        }
        drop(idle);
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|error| invalid(&format!("{error}: {}", String::from_utf8_lossy(&bytes))))?;
        if status.is_success() {
            return Ok(Ok(value));
        }
        Ok(Err(Failure {
            code: value.get("code").and_then(Value::as_i64).unwrap_or(2),
            message: value
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        }))
    }

    /// A range, with etcd's revision errors as storage errors.
    async fn range(&self, request: &RangeRequest) -> Result<RangeResponse, StorageError> {
        match self.post("/v3/kv/range", &range_json(request)).await? {
            Ok(value) => range_response(&value),
            Err(failure) => Err(self.revision_error(failure, request.revision).await),
        }
    }

    async fn txn(&self, request: &TxnRequest) -> Result<TxnResponse, StorageError> {
        match self.post("/v3/kv/txn", &txn_json(request)).await? {
            Ok(value) => txn_response(&value),
            Err(failure) => Err(unavailable(&failure)),
        }
    }

    /// etcd's "compacted" and "future revision" errors carry no revisions: ask for them.
    async fn revision_error(&self, failure: Failure, requested: i64) -> StorageError {
        if failure.code == 11 && failure.message.contains("compacted") {
            return match self.compact_revision().await {
                Ok(compacted) => StorageError::Compacted {
                    requested,
                    compacted,
                },
                Err(error) => error,
            };
        }
        if failure.code == 11 && failure.message.contains("future revision") {
            return match self.revision_now().await {
                Ok(current) => StorageError::FutureRevision { requested, current },
                Err(error) => error,
            };
        }
        unavailable(&failure)
    }

    // ANCHOR: compact_revision
    /// The compaction revision. etcd reports it only when it cancels a watch that starts
    /// below it, so start one at revision 1 and read the cancellation.
    async fn compact_revision(&self) -> Result<i64, StorageError> {
        let mut stream = self.open_watch("\0", 1).await?;
        loop {
            match stream.next_message().await? {
                None => return Ok(0),
                Some(message) => {
                    let result = message.get("result").unwrap_or(&Value::Null);
                    if result.get("canceled") == Some(&Value::Bool(true)) {
                        return int(result, "compact_revision");
                    }
                    if result.get("events").is_some() {
                        return Ok(0); // history from revision 1 is still there
                    }
                }
            }
        }
    }
    // ANCHOR_END: compact_revision

    /// Starts a watch of every key under `prefix` from `start` (a revision).
    async fn open_watch(&self, prefix: &str, start: i64) -> Result<WatchStream, StorageError> {
        let body = json!({"create_request": {
            "key": b64(prefix.as_bytes()),
            "range_end": b64(&prefix_end(prefix.as_bytes())),
            "start_revision": start.to_string(),
            "prev_kv": true,
        }});
        let (_, response) = self.send("/v3/watch", &body).await?;
        if !response.status().is_success() {
            return Err(self.unreachable(&format!("watch answered {}", response.status())));
        }
        Ok(WatchStream {
            body: response.into_body(),
            buffer: Vec::new(),
        })
    }

    // ANCHOR: run_watch
    /// Forwards a watch's events to `sender` until the reader goes away. A broken stream is
    /// reopened from the revision after the last event sent, so nothing is missed or repeated.
    async fn run_watch(
        self: Arc<Self>,
        prefix: String,
        mut stream: WatchStream,
        mut after: i64,
        sender: mpsc::Sender<Result<StorageEvent, StorageError>>,
    ) {
        let mut failures = 0u32;
        loop {
            let outcome = tokio::select! {
                () = sender.closed() => return,
                outcome = forward_messages(&mut stream, &mut after, &sender) => outcome,
            };
            match outcome {
                Forwarded::ReaderGone => return,
                Forwarded::Compacted(compacted) => {
                    let error = StorageError::Compacted {
                        requested: after,
                        compacted,
                    };
                    let _ = sender.send(Err(error)).await;
                    return;
                }
                Forwarded::Broken(error) => {
                    let mut last_error = error;
                    loop {
                        failures += 1;
                        tracing::debug!(%last_error, failures, "etcd watch broke; reopening");
                        if failures > WATCH_RETRIES {
                            let _ = sender.send(Err(last_error)).await;
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(50 << failures)).await;
                        match self.open_watch(&prefix, after + 1).await {
                            Ok(reopened) => {
                                stream = reopened;
                                failures = 0;
                                break;
                            }
                            Err(error) => last_error = error,
                        }
                    }
                }
            }
        }
    }
    // ANCHOR_END: run_watch
}

/// etcd's error answer as an unavailable storage.
fn unavailable(failure: &Failure) -> StorageError {
    StorageError::Unavailable {
        message: format!("etcd error {}: {}", failure.code, failure.message),
    }
}

/// How a watch stream stopped.
enum Forwarded {
    ReaderGone,
    Compacted(i64),
    Broken(StorageError),
}

/// Reads messages and sends their events, advancing `after` to the last revision sent.
async fn forward_messages(
    stream: &mut WatchStream,
    after: &mut i64,
    sender: &mpsc::Sender<Result<StorageEvent, StorageError>>,
) -> Forwarded {
    loop {
        let message = match stream.next_message().await {
            Ok(Some(message)) => message,
            Ok(None) => {
                return Forwarded::Broken(StorageError::Unavailable {
                    message: "the watch stream ended".into(),
                });
            }
            Err(error) => return Forwarded::Broken(error),
        };
        let result = message.get("result").unwrap_or(&Value::Null);
        if result.get("canceled") == Some(&Value::Bool(true)) {
            return match int(result, "compact_revision") {
                Ok(compacted) if compacted > 0 => Forwarded::Compacted(compacted),
                _ => Forwarded::Broken(StorageError::Unavailable {
                    message: format!("etcd canceled the watch: {result}"),
                }),
            };
        }
        for event in result
            .get("events")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let event = match watch_event(event) {
                Ok(event) => storage_event(&event),
                Err(error) => return Forwarded::Broken(error),
            };
            let revision = event.revision();
            if revision <= *after {
                continue; // already sent before a reconnect
            }
            if sender.send(Ok(event)).await.is_err() {
                return Forwarded::ReaderGone;
            }
            *after = revision;
        }
    }
}

/// A `/v3/watch` response being read: one JSON message per line.
struct WatchStream {
    body: hyper::body::Incoming,
    buffer: Vec<u8>,
}

impl WatchStream {
    /// The next message; `None` when the response ended.
    async fn next_message(&mut self) -> Result<Option<Value>, StorageError> {
        loop {
            if let Some(end) = self.buffer.iter().position(|&byte| byte == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return serde_json::from_slice(&line)
                    .map(Some)
                    .map_err(|error| invalid(&format!("watch message: {error}")));
            }
            match self.body.frame().await {
                None => return Ok(None),
                Some(Err(error)) => {
                    return Err(StorageError::Unavailable {
                        message: format!("watch stream: {error}"),
                    });
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

impl Storage for EtcdStorage {
    fn get<'a>(&'a self, key: &'a str) -> StorageFuture<'a, Option<Stored>> {
        Box::pin(async move {
            let response = self.client.range(&RangeRequest::key(key)).await?;
            Ok(response.kvs.first().map(stored))
        })
    }

    fn list<'a>(&'a self, request: &'a ListRequest) -> StorageFuture<'a, Page> {
        Box::pin(async move {
            let response = self.client.range(&list_range(request)).await?;
            Ok(page(request, &response))
        })
    }

    fn create<'a>(&'a self, key: &'a str, value: Vec<u8>) -> StorageFuture<'a, Stored> {
        Box::pin(async move {
            let response = self.client.txn(&create_txn(key, value.clone())).await?;
            created(key, value, &response)
        })
    }

    fn update<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        expected: i64,
    ) -> StorageFuture<'a, Stored> {
        Box::pin(async move {
            let response = self
                .client
                .txn(&update_txn(key, value.clone(), expected))
                .await?;
            updated(key, value, &response)
        })
    }

    fn delete<'a>(
        &'a self,
        key: &'a str,
        expected: Option<i64>,
    ) -> StorageFuture<'a, (Stored, i64)> {
        Box::pin(async move {
            let response = self.client.txn(&delete_txn(key, expected)).await?;
            deleted(key, &response)
        })
    }

    fn watch<'a>(&'a self, prefix: &'a str, after: i64) -> StorageFuture<'a, StorageWatch> {
        Box::pin(async move {
            // A watch below the compaction revision is canceled asynchronously by etcd; a
            // read says so at once. The trait's rule: `after` itself must still be readable.
            let current = self.client.revision_now().await?;
            if after < current {
                let probe = RangeRequest {
                    limit: 1,
                    count_only: true,
                    revision: after.max(1),
                    ..RangeRequest::key(prefix)
                };
                if let Err(StorageError::Compacted { compacted, .. }) =
                    self.client.range(&probe).await
                {
                    return Err(StorageError::Compacted {
                        requested: after,
                        compacted,
                    });
                }
            }
            let stream = self.client.open_watch(prefix, after + 1).await?;
            let (sender, receiver) = mpsc::channel(WATCH_BUFFER);
            tokio::spawn(
                self.client
                    .clone()
                    .run_watch(prefix.to_string(), stream, after, sender),
            );
            Ok(receiver)
        })
    }

    fn revision(&self) -> StorageFuture<'_, i64> {
        Box::pin(self.client.revision_now())
    }
}

impl Client {
    /// The current revision (from `/v3/maintenance/status`).
    async fn revision_now(&self) -> Result<i64, StorageError> {
        match self.post("/v3/maintenance/status", &json!({})).await? {
            Ok(value) => header_revision(&value),
            Err(failure) => Err(unavailable(&failure)),
        }
    }
}
