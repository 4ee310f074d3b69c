//! The selection policy, called directly: round robin, readiness, same-node preference.

use std::fmt::Write;

use insta::assert_snapshot;
use proxy::Endpoint;
use proxy::select::{RoundRobin, choose, dial_order, prefer_node, ready_endpoints};

fn endpoint(addr: &str, node: &str, ready: bool) -> Endpoint {
    Endpoint::parse(addr, node, ready).unwrap()
}

/// Two pods on node-a (one not ready), two on node-b.
fn mixed() -> Vec<Endpoint> {
    vec![
        endpoint("127.1.0.1:80", "node-a", true),
        endpoint("127.1.0.2:80", "node-a", false),
        endpoint("127.1.0.3:80", "node-b", true),
        endpoint("127.1.0.4:80", "node-b", true),
    ]
}

fn addrs(endpoints: &[&Endpoint]) -> Vec<String> {
    endpoints.iter().map(|e| e.addr.to_string()).collect()
}

#[test]
fn round_robin_cycles_through_the_candidates_in_order() {
    let mut cursor = RoundRobin::new();
    let picks: Vec<_> = (0..7).map(|_| cursor.next_index(3).unwrap()).collect();
    assert_eq!(picks, [0, 1, 2, 0, 1, 2, 0]);
}

#[test]
fn round_robin_with_no_candidates_returns_none_and_does_not_move() {
    let mut cursor = RoundRobin::new();
    assert_eq!(cursor.next_index(2), Some(0));
    assert_eq!(cursor.next_index(0), None);
    assert_eq!(
        cursor.next_index(2),
        Some(1),
        "an empty call must not advance the cursor"
    );
}

#[test]
fn ready_endpoints_skips_the_not_ready_ones_and_keeps_the_order() {
    let endpoints = mixed();
    let ready = ready_endpoints(&endpoints);
    assert_eq!(
        addrs(&ready),
        ["127.1.0.1:80", "127.1.0.3:80", "127.1.0.4:80"]
    );
}

#[test]
fn ready_endpoints_of_an_all_not_ready_list_is_empty() {
    let endpoints = vec![endpoint("127.1.0.1:80", "node-a", false)];
    assert!(ready_endpoints(&endpoints).is_empty());
}

#[test]
fn prefer_node_keeps_only_local_endpoints_when_there_are_some() {
    let endpoints = mixed();
    let all: Vec<&Endpoint> = endpoints.iter().collect();
    assert_eq!(
        addrs(&prefer_node(all.clone(), "node-b")),
        ["127.1.0.3:80", "127.1.0.4:80"]
    );
    assert_eq!(
        addrs(&prefer_node(all, "node-a")),
        ["127.1.0.1:80", "127.1.0.2:80"]
    );
}

#[test]
fn prefer_node_falls_back_to_every_endpoint_when_none_is_local() {
    let endpoints = mixed();
    let all: Vec<&Endpoint> = endpoints.iter().collect();
    assert_eq!(addrs(&prefer_node(all, "node-c")).len(), 4);
}

#[test]
fn dial_order_starts_with_the_choice_then_local_then_remote_fallbacks() {
    let endpoints = mixed();
    let mut cursor = RoundRobin::new();
    let order = |cursor: &mut RoundRobin| -> Vec<String> {
        dial_order(&endpoints, "node-b", cursor)
            .iter()
            .map(|a| a.to_string())
            .collect()
    };
    assert_eq!(
        order(&mut cursor),
        ["127.1.0.3:80", "127.1.0.4:80", "127.1.0.1:80"]
    );
    assert_eq!(
        order(&mut cursor),
        ["127.1.0.4:80", "127.1.0.3:80", "127.1.0.1:80"]
    );
}

#[test]
fn nothing_ready_means_no_choice_and_an_empty_dial_order() {
    let endpoints = vec![endpoint("127.1.0.1:80", "node-a", false)];
    let mut cursor = RoundRobin::new();
    assert!(choose(&endpoints, "node-a", &mut cursor).is_none());
    assert!(dial_order(&endpoints, "node-a", &mut cursor).is_empty());
    assert!(dial_order(&[], "node-a", &mut cursor).is_empty());
}

/// Six consecutive choices by each node's proxy over the mixed list, as a table.
#[test]
fn decisions_for_each_node() {
    let endpoints = mixed();
    let mut table = String::new();
    for node in ["node-a", "node-b", "node-c"] {
        let mut cursor = RoundRobin::new();
        let picks: Vec<String> = (0..6)
            .map(|_| {
                choose(&endpoints, node, &mut cursor)
                    .unwrap()
                    .addr
                    .to_string()
            })
            .collect();
        writeln!(table, "{node}: {}", picks.join(" ")).unwrap();
    }
    assert_snapshot!(table);
}
