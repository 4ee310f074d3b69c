//! Conformance: the same gateway calls against real etcd and against skiff-store, side by side.
//!
//! Needs the `etcd` binary (Debian: `apt-get install etcd-server`). Without it the test says
//! so and passes, unless `SKIFF_REQUIRE_ETCD=1`, as in CI, where a missing etcd is a failure.
//! Run with `--nocapture` to see the table.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use common::{b64, post, serve_store};
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

/// A child process killed when dropped.
struct Etcd(Child);

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Two distinct free ports: both listeners are held until both ports are known.
fn free_ports() -> (u16, u16) {
    let first = TcpListener::bind("127.0.0.1:0").unwrap();
    let second = TcpListener::bind("127.0.0.1:0").unwrap();
    (
        first.local_addr().unwrap().port(),
        second.local_addr().unwrap().port(),
    )
}

/// Starts a one-member etcd in `dir`; returns it and its client address once it answers.
fn start_etcd(dir: &std::path::Path) -> Option<(Etcd, String)> {
    let (client, peer) = free_ports();
    let client_url = format!("http://127.0.0.1:{client}");
    let peer_url = format!("http://127.0.0.1:{peer}");
    let child = Command::new("etcd")
        .args(["--name", "conformance", "--data-dir", dir.to_str().unwrap()])
        .args([
            "--listen-client-urls",
            &client_url,
            "--advertise-client-urls",
            &client_url,
        ])
        .args([
            "--listen-peer-urls",
            &peer_url,
            "--initial-advertise-peer-urls",
            &peer_url,
        ])
        .args(["--initial-cluster", &format!("conformance={peer_url}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let etcd = Etcd(child);
    let address = format!("127.0.0.1:{client}");
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
    let Some((_etcd, etcd)) = start_etcd(&work.path().join("etcd")) else {
        assert!(
            std::env::var("SKIFF_REQUIRE_ETCD").is_err(),
            "SKIFF_REQUIRE_ETCD is set but the etcd binary was not found"
        );
        println!("skipped: no etcd binary on PATH (apt-get install etcd-server)");
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
