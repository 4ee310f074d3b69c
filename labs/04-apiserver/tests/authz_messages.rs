//! The words of a 403, and the reasons node restriction gives, exactly as Kubernetes writes
//! them.

use apiserver::auth::{Attributes, node_restriction};
use apiserver::request::User;
use serde_json::json;

#[test]
fn the_interface_example_word_for_word() {
    let bob = User::new("bob", &["system:authenticated"]);
    let a = Attributes::new(&bob, "delete", "pods")
        .ns("default")
        .named("web");
    assert_eq!(
        a.forbidden_message(),
        r#"pods "web" is forbidden: User "bob" cannot delete resource "pods" in API group "" in the namespace "default""#
    );
}

#[test]
fn forbidden_messages_for_every_shape_of_request() {
    let bob = User::new("bob", &["system:authenticated"]);
    let node = User::new("system:node:n1", &["system:nodes"]);
    let cases = [
        (
            "namespaced, named",
            Attributes::new(&bob, "get", "pods")
                .ns("default")
                .named("web"),
        ),
        (
            "namespaced list",
            Attributes::new(&bob, "list", "pods").ns("dev"),
        ),
        (
            "create (no name yet)",
            Attributes::new(&bob, "create", "configmaps").ns("dev"),
        ),
        ("all namespaces", Attributes::new(&bob, "watch", "pods")),
        (
            "cluster-scoped, named",
            Attributes::new(&bob, "delete", "nodes").named("n1"),
        ),
        (
            "cluster-scoped list",
            Attributes::new(&bob, "list", "namespaces"),
        ),
        (
            "subresource",
            Attributes::new(&node, "update", "pods")
                .ns("default")
                .named("web")
                .subresource("status"),
        ),
        (
            "cluster-scoped subresource",
            Attributes::new(&bob, "patch", "nodes")
                .named("n2")
                .subresource("status"),
        ),
        (
            "named API group",
            Attributes::new(&bob, "delete", "deployments")
                .group("apps")
                .ns("default")
                .named("web"),
        ),
        (
            "named API group, subresource",
            Attributes::new(&bob, "update", "deployments")
                .group("apps")
                .ns("default")
                .named("web")
                .subresource("scale"),
        ),
        (
            "dotted API group list",
            Attributes::new(&bob, "list", "leases")
                .group("coordination.k8s.io")
                .ns("kube-node-lease"),
        ),
    ];
    let rendered: Vec<String> = cases
        .iter()
        .map(|(label, a)| format!("{label}:\n  {}", a.forbidden_message()))
        .collect();
    insta::assert_snapshot!(rendered.join("\n"));
}

#[test]
fn node_restriction_reasons() {
    let n1 = User::new("system:node:n1", &["system:nodes"]);
    let node2 = json!({"metadata": {"name": "n2"}});
    let pod_on_n2 = json!({"metadata": {"name": "web"}, "spec": {"nodeName": "n2"}});
    let lease_n2 = json!({"metadata": {"name": "n2", "namespace": "kube-node-lease"}});
    let lease = |verb| Attributes::new(&n1, verb, "leases").group("coordination.k8s.io");
    let cases = [
        (
            "update another node",
            node_restriction(
                &Attributes::new(&n1, "update", "nodes").named("n2"),
                Some(&node2),
                Some(&node2),
            ),
        ),
        (
            "create another node",
            node_restriction(&Attributes::new(&n1, "create", "nodes"), None, Some(&node2)),
        ),
        (
            "update another node's pod's status",
            node_restriction(
                &Attributes::new(&n1, "update", "pods")
                    .ns("default")
                    .named("web")
                    .subresource("status"),
                Some(&pod_on_n2),
                Some(&pod_on_n2),
            ),
        ),
        (
            "delete another node's pod",
            node_restriction(
                &Attributes::new(&n1, "delete", "pods")
                    .ns("default")
                    .named("web"),
                Some(&pod_on_n2),
                None,
            ),
        ),
        (
            "renew another node's lease",
            node_restriction(
                &lease("update").ns("kube-node-lease").named("n2"),
                Some(&lease_n2),
                Some(&lease_n2),
            ),
        ),
        (
            "a lease outside kube-node-lease",
            node_restriction(
                &lease("create").ns("default"),
                None,
                Some(&json!({"metadata": {"name": "n1"}})),
            ),
        ),
        (
            "update a pod's spec",
            node_restriction(
                &Attributes::new(&n1, "update", "pods")
                    .ns("default")
                    .named("web"),
                Some(&pod_on_n2),
                Some(&pod_on_n2),
            ),
        ),
        (
            "create a pod that is not a mirror pod",
            node_restriction(
                &Attributes::new(&n1, "create", "pods").ns("default"),
                None,
                Some(&pod_on_n2),
            ),
        ),
        (
            "create a mirror pod for another node",
            node_restriction(
                &Attributes::new(&n1, "create", "pods").ns("default"),
                None,
                Some(&json!({
                    "metadata": {"name": "static-web",
                                 "annotations": {"kubernetes.io/config.mirror": "abc"}},
                    "spec": {"nodeName": "n2"}
                })),
            ),
        ),
        (
            "in system:nodes without a node name",
            node_restriction(
                &Attributes::new(&User::new("kubelet", &["system:nodes"]), "create", "events")
                    .ns("default"),
                None,
                None,
            ),
        ),
    ];
    let rendered: Vec<String> = cases
        .iter()
        .map(|(label, result)| match result {
            Ok(()) => format!("{label}:\n  allowed"),
            Err(reason) => format!("{label}:\n  {reason}"),
        })
        .collect();
    insta::assert_snapshot!(rendered.join("\n"));
}
