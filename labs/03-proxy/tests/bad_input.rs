//! Bad input gets an error naming the field and the reason, or a refused connection: never a
//! panic.

mod support;

use proxy::addressing::node_proxy_ip;
use proxy::{Endpoint, Proxy, ProxyError};
use support::{Pod, request};

fn message(result: Result<impl std::fmt::Debug, ProxyError>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn an_unparsable_endpoint_address_names_the_field() {
    let error = message(Endpoint::parse("127.1.0.7", "node-a", true));
    assert_eq!(error, "addr: \"127.1.0.7\" is not an ip:port address");
}

#[test]
fn an_endpoint_with_port_zero_is_rejected() {
    let error = message(Endpoint::parse("127.1.0.7:0", "node-a", true));
    assert_eq!(error, "addr: port must not be 0 in 127.1.0.7:0");
}

#[test]
fn an_endpoint_on_the_unspecified_address_is_rejected() {
    let error = message(Endpoint::parse("0.0.0.0:80", "node-a", true));
    assert_eq!(
        error,
        "addr: 0.0.0.0 is unspecified; an endpoint needs a pod IP"
    );
}

#[test]
fn an_endpoint_without_a_node_is_rejected() {
    let error = message(Endpoint::parse("127.1.0.7:80", " ", true));
    assert_eq!(error, "node: must not be empty");
}

#[test]
fn a_proxy_needs_a_node_name() {
    assert_eq!(message(Proxy::new("")), "node: must not be empty");
}

#[test]
fn node_proxy_ips_are_distinct_and_bounded() {
    assert_eq!(node_proxy_ip(0).unwrap().to_string(), "127.2.0.1");
    assert_eq!(node_proxy_ip(300).unwrap().to_string(), "127.2.1.45");
    assert_eq!(
        message(node_proxy_ip(u16::MAX)),
        "node_index: must be below 65535, got 65535"
    );
}

#[tokio::test]
async fn update_rejects_a_bad_list_and_keeps_the_old_one() {
    let pod = Pod::start("pod-a1", "127.3.5.1").await;
    let mut proxy = Proxy::new("node-a").unwrap();
    let address = proxy
        .add_service("web", "127.3.5.10:0".parse().unwrap())
        .await
        .unwrap();
    proxy
        .update("web", vec![pod.endpoint("node-a", true)])
        .unwrap();

    let duplicate = vec![pod.endpoint("node-a", true), pod.endpoint("node-b", true)];
    let error = message(proxy.update("web", duplicate));
    assert_eq!(
        error,
        format!(
            "endpoints[1].addr: {} is already listed as endpoints[0]",
            pod.addr
        )
    );
    let nameless = vec![
        pod.endpoint("node-a", true),
        Endpoint {
            node: String::new(),
            ..pod.endpoint("x", true)
        },
    ];
    assert_eq!(
        message(proxy.update("web", nameless)),
        "endpoints[1].node: must not be empty"
    );

    let reply = request(address, "still served").await.unwrap();
    assert_eq!(
        reply, "pod-a1: still served\n",
        "the rejected updates changed nothing"
    );
}

#[tokio::test]
async fn unknown_and_duplicate_services_are_errors() {
    let mut proxy = Proxy::new("node-a").unwrap();
    assert_eq!(
        message(proxy.update("web", vec![])),
        "service: no service named \"web\" on this proxy"
    );
    assert_eq!(
        message(proxy.remove_service("web")),
        "service: no service named \"web\" on this proxy"
    );
    proxy
        .add_service("web", "127.3.5.11:0".parse().unwrap())
        .await
        .unwrap();
    let again = proxy
        .add_service("web", "127.3.5.12:0".parse().unwrap())
        .await;
    assert_eq!(
        message(again),
        "service: \"web\" is already served by this proxy"
    );
    let unnamed = proxy.add_service("", "127.3.5.12:0".parse().unwrap()).await;
    assert_eq!(message(unnamed), "service: must not be empty");
}

#[tokio::test]
async fn an_address_in_use_is_a_bind_error_naming_the_address() {
    let mut first = Proxy::new("node-a").unwrap();
    let taken = first
        .add_service("web", "127.3.5.13:0".parse().unwrap())
        .await
        .unwrap();
    let mut second = Proxy::new("node-b").unwrap();
    let error = message(second.add_service("web", taken).await);
    assert!(
        error.starts_with(&format!(
            "listen: cannot bind {taken} for service \"web\": "
        )),
        "{error}"
    );
}

#[tokio::test]
async fn a_service_without_ready_endpoints_refuses_connections() {
    let mut proxy = Proxy::new("node-a").unwrap();
    let address = proxy
        .add_service("web", "127.3.5.14:0".parse().unwrap())
        .await
        .unwrap();
    assert!(
        request(address, "nobody home").await.is_err(),
        "no endpoints at all"
    );

    let pod = Pod::start("pod-a1", "127.3.5.2").await;
    proxy
        .update("web", vec![pod.endpoint("node-a", false)])
        .unwrap();
    assert!(
        request(address, "nobody ready").await.is_err(),
        "only a not-ready endpoint"
    );
}
