//! The bootstrap token of `skiff join` (group `system:bootstrappers`): it may create a
//! `nodecredentials` in API group `skiff.dev`, and nothing else, anywhere.

use apiserver::auth::{Attributes, BUILTIN_ROLES, Rbac, VERBS};
use apiserver::request::User;

fn bootstrapper() -> User {
    User::new(
        "system:bootstrap:abcdef",
        &["system:bootstrappers", "system:authenticated"],
    )
}

/// Every (group, resource) of the authorization matrix, and skiff's own.
const RESOURCES: &[(&str, &str, &str)] = &[
    ("", "pods", ""),
    ("", "pods", "status"),
    ("", "pods", "binding"),
    ("", "pods", "log"),
    ("", "nodes", ""),
    ("", "nodes", "status"),
    ("", "services", ""),
    ("", "endpoints", ""),
    ("", "configmaps", ""),
    ("", "secrets", ""),
    ("", "namespaces", ""),
    ("", "events", ""),
    ("coordination.k8s.io", "leases", ""),
    ("apps", "deployments", ""),
    ("apps", "replicasets", ""),
    ("skiff.dev", "nodecredentials", ""),
];

#[test]
fn a_bootstrapper_may_only_create_node_credentials() {
    let rbac = Rbac::builtin();
    let user = bootstrapper();
    let mut allowed = Vec::new();
    for (group, resource, sub) in RESOURCES {
        for namespace in ["", "default", "kube-system"] {
            for verb in VERBS {
                let attributes = Attributes::new(&user, verb, resource)
                    .group(group)
                    .subresource(sub)
                    .ns(namespace);
                if rbac.authorize(&attributes).is_allowed() {
                    allowed.push(format!("{verb} {group}/{resource}/{sub} in {namespace:?}"));
                }
            }
        }
    }
    // Cluster-wide, and (since the role is a ClusterRole bound cluster-wide) in any namespace.
    assert_eq!(
        allowed,
        [
            "create skiff.dev/nodecredentials/ in \"\"",
            "create skiff.dev/nodecredentials/ in \"default\"",
            "create skiff.dev/nodecredentials/ in \"kube-system\"",
        ]
    );
}

#[test]
fn nodecredentials_are_for_bootstrappers_and_admins_only() {
    let rbac = Rbac::builtin();
    let ask = |user: &User| {
        rbac.authorize(&Attributes::new(user, "create", "nodecredentials").group("skiff.dev"))
            .is_allowed()
    };
    assert!(ask(&bootstrapper()));
    assert!(ask(&User::new("alice", &["system:masters"])));
    // A node cannot mint the credential of another node; nor can the other components.
    for user in [
        User::new("system:node:n1", &["system:nodes", "system:authenticated"]),
        User::new("system:kube-scheduler", &["system:authenticated"]),
        User::new("system:kube-controller-manager", &["system:authenticated"]),
        User::new("system:kube-proxy", &["system:authenticated"]),
        User::new("victor", &["skiff:viewers", "system:authenticated"]),
        User::anonymous(),
    ] {
        assert!(!ask(&user), "{} may not create nodecredentials", user.name);
    }
    // The denial reads like Kubernetes'.
    let user = bootstrapper();
    let denied = Attributes::new(&user, "list", "pods").ns("default");
    assert!(!rbac.authorize(&denied).is_allowed());
    assert_eq!(
        denied.forbidden_message(),
        "pods is forbidden: User \"system:bootstrap:abcdef\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
    );
    assert!(BUILTIN_ROLES.contains(&"node-bootstrapper"));
}
