//! The authorization matrix: every built-in identity × every resource × every verb, against
//! one table written by hand, plus the node restriction cases.

use apiserver::auth::{Attributes, Rbac, node_restriction};
use apiserver::request::User;
use serde_json::{Value, json};

const VERBS: [&str; 8] = [
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

/// The identities, in the matrix's column order.
fn identities() -> Vec<(&'static str, User)> {
    vec![
        (
            "admin",
            User::new("alice", &["system:masters", "system:authenticated"]),
        ),
        (
            "viewer",
            User::new("victor", &["skiff:viewers", "system:authenticated"]),
        ),
        (
            "node",
            User::new("system:node:n1", &["system:nodes", "system:authenticated"]),
        ),
        (
            "scheduler",
            User::new("system:kube-scheduler", &["system:authenticated"]),
        ),
        (
            "controller-manager",
            User::new("system:kube-controller-manager", &["system:authenticated"]),
        ),
        (
            "proxy",
            User::new("system:kube-proxy", &["system:authenticated"]),
        ),
        ("bob", User::new("bob", &["system:authenticated"])),
        ("anonymous", User::anonymous()),
    ]
}

// ANCHOR: matrix
/// What RBAC allows. Each cell lists the verbs allowed, one letter per verb in the order
/// get list watch create update patch delete deletecollection (`g l w c u p d x`), `-` where
/// denied. Namespaced resources are asked about in namespace `default`.
#[rustfmt::skip]
const MATRIX: &[(&str, [&str; 8])] = &[
    // group/resource                 admin       viewer      node        scheduler   ctrl-mgr    proxy       bob         anonymous
    ("pods",                        ["glwcupdx", "glw-----", "glwc--d-", "glw-----", "glwcupd-", "glw-----", "--------", "--------"]),
    ("pods/status",                 ["glwcupdx", "glw-----", "----up--", "----up--", "----up--", "--------", "--------", "--------"]),
    ("pods/binding",                ["glwcupdx", "glw-----", "--------", "---c----", "--------", "--------", "--------", "--------"]),
    ("pods/log",                    ["glwcupdx", "glw-----", "--------", "--------", "--------", "--------", "--------", "--------"]),
    ("nodes",                       ["glwcupdx", "glw-----", "glwcup--", "glw-----", "glw-up--", "glw-----", "--------", "--------"]),
    ("nodes/status",                ["glwcupdx", "glw-----", "---cup--", "--------", "glw-up--", "--------", "--------", "--------"]),
    ("services",                    ["glwcupdx", "glw-----", "glw-----", "--------", "glw-----", "glw-----", "--------", "--------"]),
    ("endpoints",                   ["glwcupdx", "glw-----", "glw-----", "--------", "glwcupd-", "glw-----", "--------", "--------"]),
    ("configmaps",                  ["glwcupdx", "glw-----", "glw-----", "--------", "--------", "--------", "--------", "--------"]),
    ("secrets",                     ["glwcupdx", "glw-----", "glw-----", "--------", "--------", "--------", "--------", "--------"]),
    ("namespaces",                  ["glwcupdx", "glw-----", "--------", "--------", "glwcupd-", "--------", "--------", "--------"]),
    ("events",                      ["glwcupdx", "glw-----", "---cup--", "---cup--", "glwcup--", "--------", "--------", "--------"]),
    ("events.k8s.io/events",        ["glwcupdx", "glw-----", "---cup--", "---cup--", "glwcup--", "--------", "--------", "--------"]),
    ("coordination.k8s.io/leases",  ["glwcupdx", "glw-----", "g--cup--", "g--cu---", "glwcupd-", "--------", "--------", "--------"]),
    ("apps/deployments",            ["glwcupdx", "glw-----", "--------", "--------", "glwcupd-", "--------", "--------", "--------"]),
    ("apps/deployments/scale",      ["glwcupdx", "glw-----", "--------", "--------", "glwcupd-", "--------", "--------", "--------"]),
    ("apps/replicasets",            ["glwcupdx", "glw-----", "--------", "--------", "glwcupd-", "--------", "--------", "--------"]),
    ("apps/replicasets/status",     ["glwcupdx", "glw-----", "--------", "--------", "glwcupd-", "--------", "--------", "--------"]),
];
// ANCHOR_END: matrix

/// Splits `group/resource/sub` (group only when it contains a dot or is `apps`).
fn parse_row(row: &str) -> (&str, &str, &str) {
    let parts: Vec<&str> = row.split('/').collect();
    let has_group = parts[0].contains('.') || parts[0] == "apps";
    let (group, rest) = if has_group {
        (parts[0], &parts[1..])
    } else {
        ("", &parts[..])
    };
    (group, rest[0], rest.get(1).copied().unwrap_or(""))
}

fn is_cluster_scoped(resource: &str) -> bool {
    matches!(resource, "nodes" | "namespaces")
}

/// The cell RBAC actually produces for one identity and one row.
fn actual_cell(rbac: &Rbac, user: &User, row: &str) -> String {
    let (group, resource, sub) = parse_row(row);
    let namespace = if is_cluster_scoped(resource) {
        ""
    } else {
        "default"
    };
    VERBS
        .iter()
        .map(|verb| {
            let a = Attributes::new(user, verb, resource)
                .group(group)
                .subresource(sub)
                .ns(namespace);
            if rbac.authorize(&a).is_allowed() {
                verb.chars()
                    .next()
                    .map(|c| if *verb == "deletecollection" { 'x' } else { c })
                    .unwrap_or('?')
            } else {
                '-'
            }
        })
        .collect()
}

#[test]
fn every_builtin_identity_gets_exactly_the_matrix() {
    let rbac = Rbac::builtin();
    let identities = identities();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (row, expected) in MATRIX {
        for ((label, user), want) in identities.iter().zip(expected) {
            let got = actual_cell(&rbac, user, row);
            checked += VERBS.len();
            if got != *want {
                wrong.push(format!(
                    "{label:>18} on {row:<28} expected {want} got {got}"
                ));
            }
        }
    }
    assert_eq!(checked, MATRIX.len() * 8 * 8);
    assert!(
        wrong.is_empty(),
        "{} wrong cells:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn a_named_request_is_decided_like_an_unnamed_one_for_builtin_roles() {
    // No built-in rule lists resourceNames, so naming the object changes nothing.
    let rbac = Rbac::builtin();
    for (_, user) in identities() {
        for verb in VERBS {
            let unnamed = Attributes::new(&user, verb, "pods").ns("default");
            let named = unnamed.named("web");
            assert_eq!(
                rbac.authorize(&unnamed).is_allowed(),
                rbac.authorize(&named).is_allowed(),
                "{} {verb}",
                user.name
            );
        }
    }
}

#[test]
fn cluster_wide_requests_follow_the_same_clusterrole_rules() {
    let rbac = Rbac::builtin();
    let viewer = User::new("victor", &["skiff:viewers"]);
    let bob = User::new("bob", &[]);
    assert!(
        rbac.authorize(&Attributes::new(&viewer, "list", "pods"))
            .is_allowed()
    );
    assert!(
        !rbac
            .authorize(&Attributes::new(&bob, "list", "pods"))
            .is_allowed()
    );
}

#[test]
fn only_roles_that_are_not_names_only_read_secret_values() {
    let rbac = Rbac::builtin();
    let readers: Vec<(&str, bool)> = identities()
        .iter()
        .map(|(label, user)| (*label, rbac.can_read_secret_data(user, "default")))
        .collect();
    assert_eq!(
        readers,
        vec![
            ("admin", true),
            ("viewer", false),
            ("node", true),
            ("scheduler", false),
            ("controller-manager", false),
            ("proxy", false),
            ("bob", false),
            ("anonymous", false),
        ]
    );
}

#[test]
fn a_denial_says_which_roles_were_consulted() {
    let rbac = Rbac::builtin();
    let viewer = User::new("victor", &["skiff:viewers"]);
    let bob = User::new("bob", &[]);
    let delete = Attributes::new(&viewer, "delete", "pods")
        .ns("default")
        .named("web");
    match rbac.authorize(&delete) {
        apiserver::auth::Decision::Deny { reason } => {
            assert_eq!(reason, "RBAC: no rule of clusterrole \"viewer\" allows it")
        }
        other => panic!("expected a denial, got {other:?}"),
    }
    match rbac.authorize(&Attributes::new(&bob, "get", "pods").ns("default")) {
        apiserver::auth::Decision::Deny { reason } => {
            assert_eq!(reason, "RBAC: no role is bound to User \"bob\"")
        }
        other => panic!("expected a denial, got {other:?}"),
    }
}

// --- node restriction -------------------------------------------------------------------

fn n1() -> User {
    User::new("system:node:n1", &["system:nodes", "system:authenticated"])
}

fn node(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
}

fn pod(name: &str, node_name: Option<&str>) -> Value {
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "x"}]}
    });
    if let Some(n) = node_name {
        pod["spec"]["nodeName"] = json!(n);
    }
    pod
}

fn lease(name: &str) -> Value {
    json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
           "metadata": {"name": name, "namespace": "kube-node-lease"}})
}

/// RBAC and node restriction together, as the core applies them.
fn decide(
    a: &Attributes,
    existing: Option<&Value>,
    incoming: Option<&Value>,
) -> Result<(), String> {
    if let apiserver::auth::Decision::Deny { .. } = Rbac::builtin().authorize(a) {
        return Err(a.forbidden_message());
    }
    node_restriction(a, existing, incoming)
}

#[test]
fn a_node_may_write_its_own_node_and_its_status() {
    let user = n1();
    let own = node("n1");
    let create = Attributes::new(&user, "create", "nodes");
    assert_eq!(decide(&create, None, Some(&own)), Ok(()));
    let update = Attributes::new(&user, "update", "nodes").named("n1");
    assert_eq!(decide(&update, Some(&own), Some(&own)), Ok(()));
    let status = update.subresource("status");
    assert_eq!(decide(&status, Some(&own), Some(&own)), Ok(()));
    let patch = Attributes::new(&user, "patch", "nodes")
        .named("n1")
        .subresource("status");
    assert_eq!(decide(&patch, Some(&own), Some(&own)), Ok(()));
}

#[test]
fn a_node_may_not_modify_another_node() {
    let user = n1();
    let other = node("n2");
    let create = Attributes::new(&user, "create", "nodes");
    assert!(decide(&create, None, Some(&other)).is_err());
    let update = Attributes::new(&user, "update", "nodes").named("n2");
    assert!(decide(&update, Some(&other), Some(&other)).is_err());
    assert!(decide(&update.subresource("status"), Some(&other), Some(&other)).is_err());
    // Its own URL with another node's object, or the other way round.
    let own_url = Attributes::new(&user, "update", "nodes").named("n1");
    assert!(decide(&own_url, Some(&node("n1")), Some(&other)).is_err());
    assert!(decide(&update, Some(&other), Some(&node("n1"))).is_err());
    // And deleting any Node, its own included, is not in its role.
    let delete = Attributes::new(&user, "delete", "nodes").named("n1");
    assert!(decide(&delete, Some(&node("n1")), None).is_err());
}

#[test]
fn a_node_may_renew_only_its_own_lease() {
    let user = n1();
    let leases = |verb| {
        Attributes::new(&user, verb, "leases")
            .group("coordination.k8s.io")
            .ns("kube-node-lease")
    };
    assert_eq!(decide(&leases("create"), None, Some(&lease("n1"))), Ok(()));
    let renew = leases("update").named("n1");
    assert_eq!(
        decide(&renew, Some(&lease("n1")), Some(&lease("n1"))),
        Ok(())
    );
    assert!(decide(&leases("create"), None, Some(&lease("n2"))).is_err());
    let steal = leases("update").named("n2");
    assert!(decide(&steal, Some(&lease("n2")), Some(&lease("n2"))).is_err());
    let elsewhere = Attributes::new(&user, "update", "leases")
        .group("coordination.k8s.io")
        .ns("kube-system")
        .named("n1");
    assert!(decide(&elsewhere, Some(&lease("n1")), Some(&lease("n1"))).is_err());
}

#[test]
fn a_node_may_update_the_status_of_its_own_pods_only() {
    let user = n1();
    let status = Attributes::new(&user, "update", "pods")
        .ns("default")
        .named("web")
        .subresource("status");
    let mine = pod("web", Some("n1"));
    let theirs = pod("web", Some("n2"));
    let unbound = pod("web", None);
    assert_eq!(decide(&status, Some(&mine), Some(&mine)), Ok(()));
    assert!(decide(&status, Some(&theirs), Some(&theirs)).is_err());
    assert!(decide(&status, Some(&unbound), Some(&unbound)).is_err());
    // Sending a body that claims the pod is ours does not help: the stored pod decides.
    assert!(decide(&status, Some(&theirs), Some(&mine)).is_err());
    let patch = Attributes::new(&user, "patch", "pods")
        .ns("default")
        .named("web")
        .subresource("status");
    assert_eq!(decide(&patch, Some(&mine), Some(&mine)), Ok(()));
    assert!(decide(&patch, Some(&theirs), Some(&theirs)).is_err());
}

#[test]
fn a_node_may_delete_its_own_pods_only() {
    let user = n1();
    let delete = Attributes::new(&user, "delete", "pods")
        .ns("default")
        .named("web");
    assert_eq!(decide(&delete, Some(&pod("web", Some("n1"))), None), Ok(()));
    assert!(decide(&delete, Some(&pod("web", Some("n2"))), None).is_err());
    assert!(decide(&delete, Some(&pod("web", None)), None).is_err());
    assert!(decide(&delete, None, None).is_err());
}

#[test]
fn a_node_may_not_write_pod_specs_or_bind_pods() {
    let user = n1();
    let mine = pod("web", Some("n1"));
    let update = Attributes::new(&user, "update", "pods")
        .ns("default")
        .named("web");
    assert!(decide(&update, Some(&mine), Some(&mine)).is_err());
    let create = Attributes::new(&user, "create", "pods").ns("default");
    assert!(decide(&create, None, Some(&mine)).is_err());
    let bind = Attributes::new(&user, "create", "pods")
        .ns("default")
        .named("web")
        .subresource("binding");
    assert!(decide(&bind, Some(&mine), None).is_err());
}

#[test]
fn a_node_may_create_mirror_pods_bound_to_itself_only() {
    let user = n1();
    let create = Attributes::new(&user, "create", "pods").ns("default");
    let mirror = |node: Option<&str>| {
        let mut p = pod("static-web-n1", node);
        p["metadata"]["annotations"] = json!({"kubernetes.io/config.mirror": "abc123"});
        p
    };
    assert_eq!(decide(&create, None, Some(&mirror(Some("n1")))), Ok(()));
    assert!(decide(&create, None, Some(&mirror(Some("n2")))).is_err());
    assert!(decide(&create, None, Some(&mirror(None))).is_err());
    // An ordinary pod, even bound to itself: a kubelet runs what the API assigns it, it does
    // not invent workloads.
    assert!(decide(&create, None, Some(&pod("web", Some("n1")))).is_err());
}

#[test]
fn a_node_may_create_events_and_read_what_its_role_allows() {
    let user = n1();
    let event = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1"}});
    let create = Attributes::new(&user, "create", "events").ns("default");
    assert_eq!(decide(&create, None, Some(&event)), Ok(()));
    let new_style = Attributes::new(&user, "create", "events")
        .group("events.k8s.io")
        .ns("default");
    assert_eq!(decide(&new_style, None, Some(&event)), Ok(()));
    for resource in ["pods", "services", "endpoints", "configmaps", "secrets"] {
        let list = Attributes::new(&user, "list", resource).ns("default");
        assert_eq!(decide(&list, None, None), Ok(()), "list {resource}");
    }
    let get_other_node = Attributes::new(&user, "get", "nodes").named("n2");
    assert_eq!(decide(&get_other_node, Some(&node("n2")), None), Ok(()));
}

#[test]
fn node_restriction_leaves_other_users_to_rbac() {
    for user in [
        User::new("alice", &["system:masters"]),
        User::new("system:kube-scheduler", &[]),
        User::new("bob", &[]),
    ] {
        let a = Attributes::new(&user, "update", "nodes").named("n2");
        assert_eq!(
            node_restriction(&a, Some(&node("n2")), Some(&node("n2"))),
            Ok(())
        );
        let d = Attributes::new(&user, "delete", "pods")
            .ns("default")
            .named("web");
        assert_eq!(
            node_restriction(&d, Some(&pod("web", Some("n9"))), None),
            Ok(())
        );
    }
}

#[test]
fn a_half_node_identity_is_refused() {
    // In the nodes group without a node name, or a node name outside the group: Kubernetes
    // cannot tell which node it is, so it refuses every request node restriction sees.
    let pod = pod("web", Some("n1"));
    for user in [
        User::new("kubelet", &["system:nodes"]),
        User::new("system:node:", &["system:nodes"]),
        User::new("system:node:n1", &[]),
    ] {
        let a = Attributes::new(&user, "delete", "pods")
            .ns("default")
            .named("web");
        let err = node_restriction(&a, Some(&pod), None).unwrap_err();
        assert_eq!(
            err,
            format!("could not determine node from user {:?}", user.name)
        );
    }
}
