//! The gateway's streams: watch, lease keepalive and snapshot, as etcd's grpc-gateway sends
//! them (chunked, one `{"result": ...}` JSON message per chunk).

mod common;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{b64, post, post_stream};
use serde_json::{Value, json};
use store::gateway::stream::{self, SNAPSHOT_CHUNK};
use store::{DurableOptions, DurableStore, Event, EventType, KeyValue, PutRequest};

fn kv(key: &str, value: &str, create: i64, modified: i64, version: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        create_revision: create,
        mod_revision: modified,
        version,
        value: value.into(),
        lease: 0,
    }
}

/// A store served on a free port, kept so the test can write to it directly too.
fn served() -> (tempfile::TempDir, Arc<DurableStore>, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DurableStore::open(dir.path(), DurableOptions::default()).unwrap());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let served = store.clone();
    std::thread::spawn(move || store::gateway::http::serve(listener, served));
    (dir, store, address)
}

fn put(store: &DurableStore, key: &str, value: &str) {
    store.put(&PutRequest::new(key, value)).unwrap();
}

#[test]
fn a_put_event_leaves_its_type_out_as_a_zero_value() {
    let event = Event {
        kind: EventType::Put,
        kv: kv("a", "1", 2, 2, 1),
        prev_kv: None,
    };
    assert_eq!(
        stream::watch_event(&event),
        json!({"kv": {"key": b64("a"), "create_revision": "2", "mod_revision": "2",
                      "version": "1", "value": b64("1")}})
    );
}

#[test]
fn a_delete_event_is_typed_and_carries_its_previous_value() {
    let event = Event {
        kind: EventType::Delete,
        kv: KeyValue {
            key: b"a".to_vec(),
            create_revision: 0,
            mod_revision: 4,
            version: 0,
            value: Vec::new(),
            lease: 0,
        },
        prev_kv: Some(kv("a", "2", 2, 3, 2)),
    };
    assert_eq!(
        stream::watch_event(&event),
        json!({
            "type": "DELETE",
            "kv": {"key": b64("a"), "mod_revision": "4"},
            "prev_kv": {"key": b64("a"), "create_revision": "2", "mod_revision": "3",
                        "version": "2", "value": b64("2")}
        })
    );
}

#[test]
fn a_watch_from_a_past_revision_catches_up_in_one_message_then_streams_new_writes() {
    let (_dir, store, address) = served();
    put(&store, "a", "1");
    put(&store, "a", "2");
    put(&store, "b", "1");
    let body = json!({"create_request": {"key": b64("a"), "start_revision": "2", "prev_kv": true}});
    let mut watch = post_stream(&address, "/v3/watch", &body.to_string());
    assert_eq!(watch.status, 200);
    assert_eq!(
        watch.next().unwrap(),
        json!({"result": {"header": {"revision": "4"}, "created": true}})
    );
    let catch_up = watch.next().unwrap();
    assert_eq!(catch_up["result"]["header"], json!({"revision": "4"}));
    let events = catch_up["result"]["events"].as_array().unwrap();
    let revisions: Vec<&Value> = events.iter().map(|e| &e["kv"]["mod_revision"]).collect();
    assert_eq!(revisions, [&json!("2"), &json!("3")], "b is not watched");
    assert_eq!(events[1]["prev_kv"]["value"], json!(b64("1")));
    store
        .delete_range(&store::DeleteRangeRequest::key("a"))
        .unwrap();
    assert_eq!(
        watch.next().unwrap(),
        json!({"result": {"header": {"revision": "5"}, "events": [{
            "type": "DELETE",
            "kv": {"key": b64("a"), "mod_revision": "5"},
            "prev_kv": {"key": b64("a"), "create_revision": "2", "mod_revision": "3",
                        "version": "2", "value": b64("2")}
        }]}})
    );
}

#[test]
fn two_create_requests_in_one_body_are_two_watches_with_their_own_ids() {
    let (_dir, store, address) = served();
    let body = format!(
        "{}{}",
        json!({"create_request": {"key": b64("a")}}),
        json!({"create_request": {"key": b64("b")}})
    );
    let mut watch = post_stream(&address, "/v3/watch", &body);
    assert_eq!(
        watch.next().unwrap()["result"],
        json!({"header": {"revision": "1"}, "created": true})
    );
    assert_eq!(
        watch.next().unwrap()["result"],
        json!({"header": {"revision": "1"}, "created": true, "watch_id": "1"})
    );
    put(&store, "b", "1");
    let message = watch.next().unwrap();
    assert_eq!(message["result"]["watch_id"], json!("1"));
    assert_eq!(message["result"]["events"][0]["kv"]["key"], json!(b64("b")));
}

#[test]
fn a_watch_below_the_compaction_revision_is_created_then_canceled_with_it() {
    let (_dir, store, address) = served();
    put(&store, "a", "1");
    put(&store, "a", "2");
    put(&store, "a", "3");
    store.compact(3).unwrap();
    let body = json!({"create_request": {"key": b64("a"), "start_revision": "2"}});
    let mut watch = post_stream(&address, "/v3/watch", &body.to_string());
    assert_eq!(
        watch.rest(),
        [
            json!({"result": {"header": {"revision": "4"}, "created": true}}),
            json!({"result": {"header": {}, "canceled": true, "compact_revision": "3"}}),
        ],
        "the only watch was canceled, so the stream ends"
    );
}

#[test]
fn a_watch_without_a_key_is_refused_with_watch_id_minus_one() {
    let (_dir, _store, address) = served();
    let mut watch = post_stream(&address, "/v3/watch", r#"{"create_request": {}}"#);
    let refused = watch.next().unwrap();
    assert_eq!(refused["result"]["watch_id"], json!("-1"));
    assert_eq!(refused["result"]["canceled"], json!(true));
    assert_eq!(
        refused["result"]["cancel_reason"],
        json!("watch.key: etcdserver: key is not provided")
    );
}

#[test]
fn a_malformed_watch_body_is_a_400_naming_the_message_and_field() {
    let (_dir, _store, address) = served();
    let bad = json!({"create_request": {"key": b64("a"), "start_revision": "soon"}});
    let (status, body) = common::raw(
        &address,
        format!(
            "POST /v3/watch HTTP/1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{bad}",
            bad.to_string().len()
        )
        .as_bytes(),
    );
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        json!("body[0].create_request.start_revision: must be a 64-bit integer")
    );
    let (status, body) = post(&address, "/v3/lease/keepalive", &json!([1]));
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        json!("body[0]: each message must be a JSON object")
    );
}

#[test]
fn keepalive_answers_each_message_with_the_ttl_or_none_for_a_missing_lease() {
    let (_dir, store, address) = served();
    store.lease_grant(1000, 60).unwrap();
    let body = format!("{}{}", json!({"ID": "1000"}), json!({"ID": "1001"}));
    let mut answers = post_stream(&address, "/v3/lease/keepalive", &body);
    assert_eq!(
        answers.rest(),
        [
            json!({"result": {"header": {"revision": "1"}, "ID": "1000", "TTL": "60"}}),
            json!({"result": {"header": {"revision": "1"}, "ID": "1001"}}),
        ]
    );
}

#[test]
fn snapshot_messages_are_32_kib_chunks_counting_down_then_a_sha256() {
    let bytes: Vec<u8> = (0..(2 * SNAPSHOT_CHUNK + 100))
        .map(|i| (i % 251) as u8)
        .collect();
    let messages = stream::snapshot_messages(&bytes);
    let remaining: Vec<&Value> = messages
        .iter()
        .map(|m| m["result"].get("remaining_bytes").unwrap_or(&Value::Null))
        .collect();
    let expected_first = (SNAPSHOT_CHUNK + 100).to_string();
    assert_eq!(
        remaining,
        [
            &json!(expected_first),
            &json!("100"),
            &Value::Null,
            &Value::Null
        ]
    );
    assert_eq!(stream::join_snapshot(&messages).unwrap(), bytes);
    let mut damaged = messages.clone();
    damaged[1]["result"]["blob"] = json!(b64("not what was sent"));
    assert_eq!(
        stream::join_snapshot(&damaged).unwrap_err().to_string(),
        "snapshot stream: the SHA-256 at its end does not match its data"
    );
}

#[test]
fn a_snapshot_streamed_while_writes_go_on_is_a_consistent_cut_that_restores() {
    let (dir, store, address) = served();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) || n < 50 {
                put(&store, &format!("k{n:05}"), "v");
                n += 1;
            }
        })
    };
    // Wait for some writes (a safety-netted poll, not a timing assumption).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while store.status().revision < 20 {
        assert!(std::time::Instant::now() < deadline, "the writer is stuck");
        std::thread::yield_now();
    }
    let messages = post_stream(&address, "/v3/maintenance/snapshot", "{}").rest();
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let bytes = stream::join_snapshot(&messages).unwrap();
    let file = dir.path().join("streamed.snapshot");
    std::fs::write(&file, &bytes).unwrap();
    let restored = dir.path().join("restored");
    let output = Command::new(env!("CARGO_BIN_EXE_skiff-store"))
        .args(["snapshot", "restore"])
        .arg(&file)
        .arg("--data-dir")
        .arg(&restored)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let reopened = DurableStore::open(&restored, DurableOptions::default()).unwrap();
    let revision = reopened.status().revision;
    let keys = reopened
        .range(&store::RangeRequest::prefix("k"))
        .unwrap()
        .count;
    // Each put made one revision after the first (1): a cut holds exactly the keys written
    // before it, never a torn prefix or a hole.
    assert_eq!(keys, revision - 1);
    assert!(revision >= 20);
}

#[test]
fn snapshot_save_with_an_endpoint_downloads_a_running_store_that_then_restores() {
    let (dir, store, address) = served();
    put(&store, "/pods/a", "1");
    put(&store, "/pods/b", "2");
    store.lease_grant(1000, 600).unwrap();
    let file = dir.path().join("downloaded.snapshot");
    let save = Command::new(env!("CARGO_BIN_EXE_skiff-store"))
        .args(["snapshot", "save"])
        .arg(&file)
        .args(["--endpoint", &address])
        .output()
        .unwrap();
    assert!(save.status.success(), "{save:?}");
    assert_eq!(
        String::from_utf8(save.stdout).unwrap().trim(),
        "saved revision 3, 2 keys, 1 leases, compacted at 0"
    );
    let restored = dir.path().join("restored");
    let restore = Command::new(env!("CARGO_BIN_EXE_skiff-store"))
        .args(["snapshot", "restore"])
        .arg(&file)
        .arg("--data-dir")
        .arg(&restored)
        .output()
        .unwrap();
    assert!(restore.status.success(), "{restore:?}");
    let reopened = DurableStore::open(&restored, DurableOptions::default()).unwrap();
    let range = reopened
        .range(&store::RangeRequest::prefix("/pods/"))
        .unwrap();
    let values: Vec<&[u8]> = range.kvs.iter().map(|kv| kv.value.as_slice()).collect();
    assert_eq!(values, [b"1".as_slice(), b"2".as_slice()]);
}

#[test]
fn snapshot_save_from_an_endpoint_that_does_not_answer_names_it() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("never");
    let save = Command::new(env!("CARGO_BIN_EXE_skiff-store"))
        .args(["snapshot", "save"])
        .arg(&file)
        .args(["--endpoint", &closed])
        .output()
        .unwrap();
    assert_eq!(save.status.code(), Some(1));
    let stderr = String::from_utf8(save.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!("error: io: snapshot from {closed}: connect: ")),
        "{stderr}"
    );
    assert!(!file.exists(), "nothing is written");
}
