//! Conformance: the same gateway calls against real etcd and against skiff-store, side by side.
//!
//! Needs the `etcd` binary (Debian: `apt-get install etcd-server`). Without it the test says
//! so and passes, unless `SKIFF_REQUIRE_ETCD=1`, as in CI, where a missing etcd is a failure.
//! Run with `--nocapture` to see the tables. The streaming calls (watch, keepalive,
//! snapshot) have a second test, [`the_streams_answer_like_etcd`].

mod common;

use std::process::Command;

use common::etcd::{self, Etcd};
use common::{Stream, b64, post, post_stream, serve_store};
use serde_json::{Value, json};

/// One call, and what of the answer is compared.
struct Step {
    what: &'static str,
    path: &'static str,
    body: Value,
    compare: Compared,
}

/// Which part of the answer must match.
#[derive(Clone, Copy)]
enum Compared {
    /// Status and the whole body (header identity fields aside).
    Everything,
    /// Status and the header only (the rest is server-specific, e.g. status's version).
    Header,
    /// Everything except a lease's remaining TTL, which depends on the clock.
    AllButTtl,
}

fn steps() -> Vec<Step> {
    use Compared::*;
    let step = |what, path, body, compare| Step {
        what,
        path,
        body,
        compare,
    };
    let txn_if_a_is_at = |revision: &str| {
        json!({
            "compare": [{"key": b64("a"), "target": "MOD", "result": "EQUAL", "mod_revision": revision}],
            "success": [{"request_put": {"key": b64("a"), "value": b64("3")}}],
            "failure": [{"request_range": {"key": b64("a")}}]
        })
    };
    vec![
        step(
            "range on an empty store",
            "/v3/kv/range",
            json!({"key": b64("a")}),
            Everything,
        ),
        step(
            "put a=1",
            "/v3/kv/put",
            json!({"key": b64("a"), "value": b64("1")}),
            Everything,
        ),
        step(
            "put a=2 with prev_kv",
            "/v3/kv/put",
            json!({"key": b64("a"), "value": b64("2"), "prev_kv": true}),
            Everything,
        ),
        step(
            "put b=1",
            "/v3/kv/put",
            json!({"key": b64("b"), "value": b64("1")}),
            Everything,
        ),
        step(
            "range [a, c)",
            "/v3/kv/range",
            json!({"key": b64("a"), "range_end": b64("c")}),
            Everything,
        ),
        step(
            "range all keys, limit 1",
            "/v3/kv/range",
            json!({"key": "AA==", "range_end": "AA==", "limit": "1"}),
            Everything,
        ),
        step(
            "range a at revision 2",
            "/v3/kv/range",
            json!({"key": b64("a"), "revision": "2"}),
            Everything,
        ),
        step(
            "range count_only",
            "/v3/kv/range",
            json!({"key": b64("a"), "range_end": b64("c"), "count_only": true}),
            Everything,
        ),
        step(
            "txn: a unchanged since 3 → put",
            "/v3/kv/txn",
            txn_if_a_is_at("3"),
            Everything,
        ),
        step(
            "txn again: compare fails → range",
            "/v3/kv/txn",
            txn_if_a_is_at("3"),
            Everything,
        ),
        step(
            "txn: value compare on a missing key",
            "/v3/kv/txn",
            json!({
                "compare": [{"key": b64("zz"), "target": "VALUE", "result": "NOT_EQUAL", "value": b64("x")}],
                "success": [{"request_put": {"key": b64("s"), "value": b64("1")}}]
            }),
            Everything,
        ),
        step(
            "txn: put the same key twice",
            "/v3/kv/txn",
            json!({
                "success": [{"request_put": {"key": b64("d"), "value": b64("1")}},
                            {"request_put": {"key": b64("d"), "value": b64("2")}}]
            }),
            Everything,
        ),
        step(
            "delete a missing key",
            "/v3/kv/deleterange",
            json!({"key": b64("zz")}),
            Everything,
        ),
        step(
            "delete a with prev_kv",
            "/v3/kv/deleterange",
            json!({"key": b64("a"), "prev_kv": true}),
            Everything,
        ),
        step(
            "compact at 3",
            "/v3/kv/compaction",
            json!({"revision": "3"}),
            Everything,
        ),
        step(
            "range at compacted revision 2",
            "/v3/kv/range",
            json!({"key": b64("b"), "revision": "2"}),
            Everything,
        ),
        step(
            "range at future revision 99",
            "/v3/kv/range",
            json!({"key": b64("b"), "revision": "99"}),
            Everything,
        ),
        step("range without a key", "/v3/kv/range", json!({}), Everything),
        step(
            "grant lease 1000, TTL 60",
            "/v3/lease/grant",
            json!({"ID": "1000", "TTL": "60"}),
            Everything,
        ),
        step(
            "put c with lease 1000",
            "/v3/kv/put",
            json!({"key": b64("c"), "value": b64("1"), "lease": "1000"}),
            Everything,
        ),
        step(
            "put with an unknown lease",
            "/v3/kv/put",
            json!({"key": b64("e"), "value": b64("1"), "lease": "999"}),
            Everything,
        ),
        step(
            "timetolive 1000 with keys",
            "/v3/lease/timetolive",
            json!({"ID": "1000", "keys": true}),
            AllButTtl,
        ),
        step(
            "revoke lease 1000",
            "/v3/lease/revoke",
            json!({"ID": "1000"}),
            Everything,
        ),
        step(
            "range c after the revoke",
            "/v3/kv/range",
            json!({"key": b64("c")}),
            Everything,
        ),
        step(
            "timetolive of a revoked lease",
            "/v3/lease/timetolive",
            json!({"ID": "1000"}),
            Everything,
        ),
        step(
            "revoke an unknown lease",
            "/v3/lease/revoke",
            json!({"ID": "1000"}),
            Everything,
        ),
        step("status", "/v3/maintenance/status", json!({}), Header),
    ]
}

/// Drops what identifies a server rather than describes the data.
fn normalize(value: &mut Value, compare: Compared) {
    if let Value::Object(object) = value {
        if let Some(Value::Object(header)) = object.get_mut("header") {
            header.retain(|field, _| field == "revision");
        }
        match compare {
            Compared::Header => object.retain(|field, _| field == "header"),
            Compared::AllButTtl => {
                object.remove("TTL");
            }
            Compared::Everything => {}
        }
        // grpc-gateway also sends `details: []`; skiff leaves the empty list out.
        if object.get("details") == Some(&json!([])) {
            object.remove("details");
        }
        for nested in object.values_mut() {
            normalize(nested, Compared::Everything);
        }
    } else if let Value::Array(items) = value {
        items
            .iter_mut()
            .for_each(|item| normalize(item, Compared::Everything));
    }
}

/// A real etcd in `dir` and its client address, once it answers; `None` (after saying the
/// test is skipped) without an etcd binary.
fn etcd_or_skip(dir: &std::path::Path) -> Option<(Etcd, String)> {
    let etcd = etcd::spawn_or_skip(dir, "conformance")?;
    let address = format!("127.0.0.1:{}", etcd.client_port);
    // Wait until it serves (not a timing assertion: a slow start only makes the test slower).
    for _ in 0..300 {
        if std::net::TcpStream::connect(&address).is_ok()
            && post(&address, "/v3/maintenance/status", &json!({})).0 == 200
        {
            return Some((etcd, address));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("etcd did not start serving on {address} within 30 s");
}

#[test]
fn the_gateway_answers_like_etcd() {
    let work = tempfile::tempdir().unwrap();
    let Some((_etcd, etcd)) = etcd_or_skip(&work.path().join("etcd")) else {
        return;
    };
    let skiff = serve_store(&work.path().join("skiff"));
    let mut table =
        String::from("| # | call | etcd 3.4 | skiff | same |\n|---:|---|---|---|:---:|\n");
    let mut differences = Vec::new();
    for (index, step) in steps().iter().enumerate() {
        let (etcd_status, mut etcd_body) = post(&etcd, step.path, &step.body);
        let (skiff_status, mut skiff_body) = post(&skiff, step.path, &step.body);
        normalize(&mut etcd_body, step.compare);
        normalize(&mut skiff_body, step.compare);
        let same = (etcd_status, &etcd_body) == (skiff_status, &skiff_body);
        table += &format!(
            "| {} | {} `{}` | {etcd_status} `{etcd_body}` | {skiff_status} `{skiff_body}` | {} |\n",
            index + 1,
            step.what,
            step.path,
            if same { "yes" } else { "**no**" }
        );
        if !same {
            differences.push(step.what);
        }
    }
    println!("{table}");
    assert!(
        differences.is_empty(),
        "skiff differs from etcd on: {differences:?}\n{table}"
    );
}

/// A message with its server-identity header fields dropped.
fn normalized(mut message: Value) -> Value {
    normalize(&mut message, Compared::Everything);
    message
}

/// Reads messages until `count` events have arrived; returns them in order. Servers may
/// split or batch the events of several revisions differently, so events are compared, not
/// messages.
fn events(stream: &mut Stream, count: usize) -> Value {
    let mut events = Vec::new();
    while events.len() < count {
        let message = stream.next().expect("the stream ended before its events");
        let result = &message["result"];
        assert!(
            result.get("canceled").is_none(),
            "unexpected cancel {message}"
        );
        events.extend(result["events"].as_array().cloned().unwrap_or_default());
    }
    normalized(Value::Array(events))
}

fn watch(address: &str, create: Value) -> Stream {
    post_stream(
        address,
        "/v3/watch",
        &json!({ "create_request": create }).to_string(),
    )
}

/// Polls `lease/timetolive` until the lease is gone; etcd and skiff both expire leases on
/// their own clock, so this is a wait with a generous safety deadline, not a timing claim.
fn wait_until_expired(address: &str, id: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, answer) = post(address, "/v3/lease/timetolive", &json!({ "ID": id }));
        if answer["TTL"] == json!("-1") {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "lease {id} on {address} did not expire within 30 s: {answer}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Checks a snapshot stream's shape (chunks counting down `remaining_bytes`, a final
/// SHA-256 that matches) and returns the data without the checksum.
fn well_formed_snapshot(messages: &[Value]) -> Vec<u8> {
    use base64::Engine;
    let blob_len = |message: &Value| {
        base64::engine::general_purpose::STANDARD
            .decode(message["result"]["blob"].as_str().expect("a blob"))
            .unwrap()
            .len()
    };
    let (checksum, chunks) = messages.split_last().expect("at least the checksum");
    assert_eq!(blob_len(checksum), 32, "the last blob is a SHA-256");
    let mut remaining: usize = chunks.iter().map(blob_len).sum();
    for chunk in chunks {
        remaining -= blob_len(chunk);
        let field = chunk["result"].get("remaining_bytes");
        let expected = (remaining > 0).then(|| json!(remaining.to_string()));
        assert_eq!(field, expected.as_ref(), "remaining_bytes of {chunk}");
    }
    store::gateway::stream::join_snapshot(messages).expect("the checksum matches")
}

/// The same streaming calls against one server; returns what each step saw.
fn stream_steps(address: &str) -> Vec<(&'static str, Value)> {
    let mut seen = Vec::new();
    let put = |key: &str, value: &str| {
        post(
            address,
            "/v3/kv/put",
            &json!({"key": b64(key), "value": b64(value)}),
        )
    };
    put("a", "1");
    put("a", "2");
    put("b", "1");
    post(address, "/v3/kv/deleterange", &json!({"key": b64("a")}));

    let mut past = watch(
        address,
        json!({"key": b64("a"), "start_revision": "2", "prev_kv": true}),
    );
    seen.push((
        "watch a from revision 2: created",
        normalized(past.next().unwrap()),
    ));
    seen.push((
        "watch a from revision 2: put, put, delete",
        events(&mut past, 3),
    ));

    let mut live = watch(address, json!({"key": b64("c"), "range_end": b64("d")}));
    seen.push(("watch prefix c: created", normalized(live.next().unwrap())));
    put("c1", "x");
    put("b", "2");
    put("c2", "y");
    post(address, "/v3/kv/deleterange", &json!({"key": b64("c1")}));
    seen.push((
        "watch prefix c: new writes, b left out",
        events(&mut live, 3),
    ));

    let mut future = watch(address, json!({"key": b64("a"), "start_revision": "99"}));
    seen.push((
        "watch from a future revision: created",
        normalized(future.next().unwrap()),
    ));

    post(address, "/v3/kv/compaction", &json!({"revision": "4"}));
    let mut compacted = watch(address, json!({"key": b64("a"), "start_revision": "2"}));
    seen.push((
        "watch below the compaction: created",
        normalized(compacted.next().unwrap()),
    ));
    seen.push((
        "watch below the compaction: canceled",
        normalized(compacted.next().unwrap()),
    ));
    let mut at_compaction = watch(address, json!({"key": b64("a"), "start_revision": "4"}));
    at_compaction.next().unwrap();
    seen.push((
        "watch at the compaction revision",
        events(&mut at_compaction, 1),
    ));

    post(
        address,
        "/v3/lease/grant",
        &json!({"ID": "1000", "TTL": "60"}),
    );
    let body = format!("{}{}", json!({"ID": "1000"}), json!({"ID": "1001"}));
    let answers = post_stream(address, "/v3/lease/keepalive", &body).rest();
    seen.push((
        "keepalive a live lease, then a missing one",
        normalized(Value::Array(answers)),
    ));

    post(
        address,
        "/v3/lease/grant",
        &json!({"ID": "2000", "TTL": "2"}),
    );
    wait_until_expired(address, "2000");
    let answers = post_stream(address, "/v3/lease/keepalive", r#"{"ID": "2000"}"#).rest();
    seen.push((
        "keepalive an expired lease",
        normalized(Value::Array(answers)),
    ));

    let snapshot = post_stream(address, "/v3/maintenance/snapshot", "{}").rest();
    let data = well_formed_snapshot(&snapshot);
    seen.push((
        "snapshot stream is well-formed",
        json!({"data": !data.is_empty()}),
    ));
    seen
}

#[test]
fn the_streams_answer_like_etcd() {
    let work = tempfile::tempdir().unwrap();
    let Some((_etcd, etcd)) = etcd_or_skip(&work.path().join("etcd")) else {
        return;
    };
    let skiff = serve_store(&work.path().join("skiff"));
    let etcd_seen = stream_steps(&etcd);
    let skiff_seen = stream_steps(&skiff);
    let mut table =
        String::from("| # | stream | etcd 3.4 | skiff | same |\n|---:|---|---|---|:---:|\n");
    let mut differences = Vec::new();
    for (index, ((what, etcd_value), (_, skiff_value))) in
        etcd_seen.iter().zip(&skiff_seen).enumerate()
    {
        let same = etcd_value == skiff_value;
        table += &format!(
            "| {} | {what} | `{etcd_value}` | `{skiff_value}` | {} |\n",
            index + 1,
            if same { "yes" } else { "**no**" }
        );
        if !same {
            differences.push(*what);
        }
    }
    println!("{table}");
    assert!(
        differences.is_empty(),
        "skiff differs from etcd on: {differences:?}\n{table}"
    );
}

#[test]
fn a_snapshot_streamed_by_skiff_restores_with_the_cli() {
    let work = tempfile::tempdir().unwrap();
    let skiff = serve_store(&work.path().join("skiff"));
    for n in 0..100 {
        post(
            &skiff,
            "/v3/kv/put",
            &json!({"key": b64(&format!("k{n:03}")), "value": b64(&"v".repeat(1000))}),
        );
    }
    let messages = post_stream(&skiff, "/v3/maintenance/snapshot", "{}").rest();
    assert!(messages.len() > 2, "100 kB of values take several chunks");
    let file = work.path().join("snapshot");
    std::fs::write(&file, well_formed_snapshot(&messages)).unwrap();
    let restored = work.path().join("restored");
    let output = Command::new(env!("CARGO_BIN_EXE_skiff-store"))
        .args(["snapshot", "restore"])
        .arg(&file)
        .arg("--data-dir")
        .arg(&restored)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout.trim(),
        "restored revision 101, 100 keys, 0 leases, compacted at 0"
    );
}
