//! The real thing: three pods on two nodes, a proxy per node, 300 connections, one pod killed.
//!
//! Connections are made one at a time, so round robin makes the distribution exact and the
//! snapshot deterministic: no timing is involved anywhere.

mod support;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::SocketAddr;

use insta::assert_snapshot;
use proxy::{Endpoint, Proxy};
use support::{Pod, answered_by, request};

const SERVICE: &str = "web";

/// One proxy per node, each on its own loopback IP (the per-node service address).
struct Nodes {
    node_a: Proxy,
    node_b: Proxy,
    address_a: SocketAddr,
    address_b: SocketAddr,
}

impl Nodes {
    async fn start() -> Nodes {
        let mut node_a = Proxy::new("node-a").unwrap();
        let mut node_b = Proxy::new("node-b").unwrap();
        let address_a = node_a
            .add_service(SERVICE, "127.3.1.1:0".parse().unwrap())
            .await
            .unwrap();
        let address_b = node_b
            .add_service(SERVICE, "127.3.1.2:0".parse().unwrap())
            .await
            .unwrap();
        Nodes {
            node_a,
            node_b,
            address_a,
            address_b,
        }
    }

    /// What the endpoints controller would do: tell every node's proxy the new list.
    fn update(&mut self, endpoints: Vec<Endpoint>) {
        self.node_a.update(SERVICE, endpoints.clone()).unwrap();
        self.node_b.update(SERVICE, endpoints).unwrap();
    }
}

/// Counts of (client node, pod that answered), plus failed connections per client node.
#[derive(Default)]
struct Tally {
    answered: BTreeMap<(&'static str, String), u32>,
    failed: BTreeMap<&'static str, u32>,
}

impl Tally {
    fn render(&self, title: &str, out: &mut String) {
        writeln!(out, "{title}").unwrap();
        for ((client, pod), count) in &self.answered {
            writeln!(out, "  {client} clients -> {pod}: {count}").unwrap();
        }
        writeln!(out, "  failed: {}", self.failed.values().sum::<u32>()).unwrap();
    }

    /// The pods `client`'s connections reached.
    fn pods_reached_from(&self, client: &str) -> Vec<&str> {
        self.answered
            .keys()
            .filter(|(c, _)| *c == client)
            .map(|(_, p)| p.as_str())
            .collect()
    }
}

/// 75 sequential connections: two of every three from a pod on node-a, one from node-b,
/// each through its own node's proxy.
async fn run_phase(nodes: &Nodes, phase: u32) -> Tally {
    let mut tally = Tally::default();
    for i in 0..75 {
        let (client, address) = if i % 3 == 2 {
            ("node-b", nodes.address_b)
        } else {
            ("node-a", nodes.address_a)
        };
        let line = format!("phase {phase} request {i} from {client}");
        match request(address, &line)
            .await
            .map(|reply| answered_by(&reply, &line))
        {
            Ok(Some(pod)) => *tally.answered.entry((client, pod)).or_default() += 1,
            _ => *tally.failed.entry(client).or_default() += 1,
        }
    }
    tally
}

#[tokio::test]
async fn three_hundred_connections_prefer_the_local_node_and_survive_a_killed_pod() {
    let a1 = Pod::start("pod-a1", "127.3.0.11").await;
    let a2 = Pod::start("pod-a2", "127.3.0.12").await;
    let b1 = Pod::start("pod-b1", "127.3.0.13").await;
    let mut nodes = Nodes::start().await;
    let mut report = String::new();

    nodes.update(vec![
        a1.endpoint("node-a", true),
        a2.endpoint("node-a", true),
        b1.endpoint("node-b", true),
    ]);
    let all_ready = run_phase(&nodes, 1).await;
    all_ready.render("1. all three pods ready", &mut report);
    assert_eq!(
        all_ready.pods_reached_from("node-a"),
        ["pod-a1", "pod-a2"],
        "node-a stays local"
    );
    assert_eq!(
        all_ready.pods_reached_from("node-b"),
        ["pod-b1"],
        "node-b stays local"
    );

    // Kill pod-a2 but do not tell the proxies yet: node-a's proxy still picks it every other
    // time, the dial is refused, and the dial retry takes the next endpoint instead.
    let a2_endpoint = a2.endpoint("node-a", true);
    a2.kill().await;
    let before_update = run_phase(&nodes, 2).await;
    before_update.render(
        "2. pod-a2 killed, proxies not yet told (dial retry)",
        &mut report,
    );
    assert!(
        before_update.failed.is_empty(),
        "a dial retry hides the dead pod"
    );

    nodes.update(vec![
        a1.endpoint("node-a", true),
        b1.endpoint("node-b", true),
    ]);
    let after_update = run_phase(&nodes, 3).await;
    after_update.render("3. proxies told: pod-a2 removed", &mut report);
    assert!(after_update.failed.is_empty());
    assert_eq!(after_update.pods_reached_from("node-a"), ["pod-a1"]);

    // pod-a1 fails its readiness probe: node-a has no local ready pod, so it falls back.
    nodes.update(vec![
        a1.endpoint("node-a", false),
        b1.endpoint("node-b", true),
    ]);
    let fallback = run_phase(&nodes, 4).await;
    fallback.render(
        "4. pod-a1 not ready: node-a falls back to node-b",
        &mut report,
    );
    assert_eq!(fallback.pods_reached_from("node-a"), ["pod-b1"]);

    assert!(
        !report.contains(&a2_endpoint.addr.to_string()),
        "no port in the snapshot"
    );
    assert_snapshot!(report);
}
