//! The JSON gateway: etcd's request and response shapes over HTTP, and its errors.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{b64, post, raw, serve_store};
use serde_json::json;

#[test]
fn skiff_store_serve_answers_on_the_address_it_prints() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_skiff-store"))
        .args([
            "serve",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let address = first_line
        .trim()
        .strip_prefix("serving etcd's JSON gateway on http://")
        .unwrap_or_else(|| panic!("unexpected banner {first_line:?}"))
        .to_string();
    let (status, put) = post(
        &address,
        "/v3/kv/put",
        &json!({"key": b64("a"), "value": b64("1")}),
    );
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!((status, put), (200, json!({"header": {"revision": "2"}})));
}

#[test]
fn put_then_range_speaks_etcds_json() {
    let dir = tempfile::tempdir().unwrap();
    let address = serve_store(dir.path());
    let (status, put) = post(
        &address,
        "/v3/kv/put",
        &json!({"key": b64("a"), "value": b64("1")}),
    );
    assert_eq!((status, put), (200, json!({"header": {"revision": "2"}})));
    let (_, range) = post(&address, "/v3/kv/range", &json!({"key": b64("a")}));
    let expected = json!({
        "header": {"revision": "2"},
        "kvs": [{"key": b64("a"), "create_revision": "2", "mod_revision": "2",
                 "version": "1", "value": b64("1")}],
        "count": "1"
    });
    assert_eq!(range, expected);
}

#[test]
fn a_txn_takes_etcds_compare_and_op_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let address = serve_store(dir.path());
    let create = json!({
        "compare": [{"key": b64("k"), "target": "CREATE", "result": "EQUAL", "create_revision": "0"}],
        "success": [{"request_put": {"key": b64("k"), "value": b64("v")}}],
        "failure": [{"request_range": {"key": b64("k")}}]
    });
    let (_, first) = post(&address, "/v3/kv/txn", &create);
    assert_eq!(first["succeeded"], json!(true));
    let (_, second) = post(&address, "/v3/kv/txn", &create);
    assert_eq!(
        second.get("succeeded"),
        None,
        "false is a zero value and is left out"
    );
    assert_eq!(
        second["responses"][0]["response_range"]["kvs"][0]["value"],
        json!(b64("v"))
    );
}

#[test]
fn store_errors_come_back_with_etcds_code_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let address = serve_store(dir.path());
    let (status, body) = post(
        &address,
        "/v3/kv/range",
        &json!({"key": b64("a"), "revision": "9"}),
    );
    assert_eq!(status, 400);
    assert_eq!(body["code"], json!(11));
    assert_eq!(
        body["message"],
        json!("etcdserver: mvcc: required revision is a future revision")
    );
    let (status, body) = post(&address, "/v3/kv/put", &json!({"value": b64("1")}));
    assert_eq!(
        (status, body["message"].clone()),
        (400, json!("etcdserver: key is not provided"))
    );
    let (status, body) = post(&address, "/v3/lease/revoke", &json!({"ID": "42"}));
    assert_eq!((status, body["code"].clone()), (404, json!(5)));
}

#[test]
fn bad_fields_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let address = serve_store(dir.path());
    let (status, body) = post(&address, "/v3/kv/put", &json!({"key": "not base64!"}));
    assert_eq!(status, 400);
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("key: invalid base64"), "{message}");
    let bad_txn = json!({"compare": [{"key": b64("k"), "target": "SIZE"}]});
    let (_, body) = post(&address, "/v3/kv/txn", &bad_txn);
    assert_eq!(
        body["message"],
        json!(
            "compare[0].target: unknown value \"SIZE\"; expected one of VERSION, CREATE, MOD, VALUE"
        )
    );
    let (_, body) = post(
        &address,
        "/v3/kv/range",
        &json!({"key": b64("k"), "limit": "ten"}),
    );
    assert_eq!(body["message"], json!("limit: must be a 64-bit integer"));
}

#[test]
fn leases_over_the_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let address = serve_store(dir.path());
    let (_, grant) = post(
        &address,
        "/v3/lease/grant",
        &json!({"ID": "7", "TTL": "60"}),
    );
    assert_eq!(
        grant,
        json!({"header": {"revision": "1"}, "ID": "7", "TTL": "60"})
    );
    post(
        &address,
        "/v3/kv/put",
        &json!({"key": b64("n"), "value": b64("up"), "lease": "7"}),
    );
    let (_, alive) = post(
        &address,
        "/v3/lease/timetolive",
        &json!({"ID": "7", "keys": true}),
    );
    assert_eq!(alive["grantedTTL"], json!("60"));
    assert_eq!(alive["keys"], json!([b64("n")]));
    let (_, revoked) = post(&address, "/v3/lease/revoke", &json!({"ID": "7"}));
    assert_eq!(revoked, json!({"header": {"revision": "3"}}));
    let (_, gone) = post(&address, "/v3/lease/timetolive", &json!({"ID": "7"}));
    assert_eq!(
        gone,
        json!({"header": {"revision": "3"}, "ID": "7", "TTL": "-1"})
    );
}

#[test]
fn malformed_http_and_json_get_400_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let address = serve_store(dir.path());
    let (status, body) = raw(
        &address,
        b"POST /v3/kv/range HTTP/1.1\r\nConnection: close\r\nContent-Length: 5\r\n\r\n{oops",
    );
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid JSON body")
    );
    let (status, _) = raw(&address, b"GARBAGE\r\n\r\n");
    assert_eq!(status, 400);
    let (status, _) = raw(
        &address,
        b"GET /v3/kv/range HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 405);
    let (status, body) = post(&address, "/v3/nope", &json!({}));
    assert_eq!(
        (status, body["message"].clone()),
        (404, json!("no such method: /v3/nope"))
    );
}
