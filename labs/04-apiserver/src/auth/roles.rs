//! Skiff's built-in roles and the bindings that give them to the built-in identities.
//!
//! Each component gets the least it needs, as in Kubernetes, where each has its own
//! `system:` ClusterRole. The table in the chapter and `tests/authz_matrix.rs` are written from
//! this file; a change here shows up as a changed row there.

use super::rbac::{Binding, Role, Rule, Subject};

/// The verbs a rule may name (besides `*`), as the API server uses them.
pub const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

/// The names of the built-in ClusterRoles.
pub const BUILTIN_ROLES: &[&str] = &[
    "admin",
    "viewer",
    "node",
    "scheduler",
    "controller-manager",
    "proxy",
    "node-bootstrapper",
];

const READ: &[&str] = &["get", "list", "watch"];
const CORE: &[&str] = &[""];
const APPS: &[&str] = &["apps"];
const LEASES: &[&str] = &["coordination.k8s.io"];
/// Events live in the core group and, in their newer form, in `events.k8s.io`.
const EVENT_GROUPS: &[&str] = &["", "events.k8s.io"];
/// Skiff's own API group: node credentials for `skiff join`.
const SKIFF: &[&str] = &["skiff.dev"];

// ANCHOR: builtin_roles
/// The built-in ClusterRoles.
pub fn builtin_roles() -> Vec<Role> {
    vec![
        // Everything, everywhere: Kubernetes' cluster-admin.
        Role::cluster("admin", vec![Rule::new(&["*"], &["*"], &["*"])]),
        // Read everything; Secrets by name only (the core removes their values).
        Role::cluster("viewer", vec![Rule::new(READ, &["*"], &["*"])]).secret_names_only(),
        // A kubelet. RBAC says which kinds of objects; node_restriction says whose.
        Role::cluster(
            "node",
            vec![
                Rule::new(
                    READ,
                    CORE,
                    &[
                        "pods",
                        "nodes",
                        "services",
                        "endpoints",
                        "configmaps",
                        "secrets",
                    ],
                ),
                Rule::new(
                    &["create", "update", "patch"],
                    CORE,
                    &["nodes", "nodes/status"],
                ),
                Rule::new(&["update", "patch"], CORE, &["pods/status"]),
                // Create: mirror pods for its static pods; delete: finish graceful deletion.
                Rule::new(&["create", "delete"], CORE, &["pods"]),
                Rule::new(&["get", "create", "update", "patch"], LEASES, &["leases"]),
                Rule::new(&["create", "update", "patch"], EVENT_GROUPS, &["events"]),
            ],
        ),
        Role::cluster(
            "scheduler",
            vec![
                Rule::new(READ, CORE, &["pods", "nodes"]),
                // Like Kubernetes' scheduler, it never writes a pod itself: it creates a
                // Binding, and writes the status (`PodScheduled=False` while no node fits).
                Rule::new(&["create"], CORE, &["pods/binding"]),
                Rule::new(&["update", "patch"], CORE, &["pods/status"]),
                Rule::new(&["create", "update", "patch"], EVENT_GROUPS, &["events"]),
                // Leader election.
                Rule::new(&["get", "create", "update"], LEASES, &["leases"]),
            ],
        ),
        Role::cluster(
            "controller-manager",
            vec![
                Rule::new(
                    &[
                        "get", "list", "watch", "create", "update", "patch", "delete",
                    ],
                    CORE,
                    &["pods", "endpoints", "namespaces"],
                ),
                Rule::new(&["update", "patch"], CORE, &["pods/status"]),
                Rule::new(
                    &[
                        "get", "list", "watch", "create", "update", "patch", "delete",
                    ],
                    APPS,
                    &[
                        "deployments",
                        "deployments/status",
                        "deployments/scale",
                        "replicasets",
                        "replicasets/status",
                        "replicasets/scale",
                    ],
                ),
                // The endpoints controller reads Services; node lifecycle taints nodes and
                // marks them unknown, but never creates or deletes one.
                Rule::new(READ, CORE, &["services"]),
                Rule::new(
                    &["get", "list", "watch", "update", "patch"],
                    CORE,
                    &["nodes", "nodes/status"],
                ),
                Rule::new(
                    &["get", "list", "watch", "create", "update", "patch"],
                    EVENT_GROUPS,
                    &["events"],
                ),
                Rule::new(
                    &[
                        "get", "list", "watch", "create", "update", "patch", "delete",
                    ],
                    LEASES,
                    &["leases"],
                ),
            ],
        ),
        Role::cluster(
            "proxy",
            vec![Rule::new(
                READ,
                CORE,
                &["services", "endpoints", "nodes", "pods"],
            )],
        ),
        // A bootstrap token (`skiff join`): ask for a node's own credential, nothing else.
        // Kubernetes' `system:node-bootstrapper` creates CertificateSigningRequests instead.
        Role::cluster(
            "node-bootstrapper",
            vec![Rule::new(&["create"], SKIFF, &["nodecredentials"])],
        ),
    ]
}
// ANCHOR_END: builtin_roles

// ANCHOR: builtin_bindings
/// The built-in ClusterRoleBindings: who gets which role.
pub fn builtin_bindings() -> Vec<Binding> {
    let group = |g: &str| vec![Subject::Group(g.to_string())];
    let user = |u: &str| vec![Subject::User(u.to_string())];
    vec![
        Binding::cluster("admin", "admin", group("system:masters")),
        Binding::cluster("viewer", "viewer", group("skiff:viewers")),
        Binding::cluster("node", "node", group("system:nodes")),
        Binding::cluster("scheduler", "scheduler", user("system:kube-scheduler")),
        Binding::cluster(
            "controller-manager",
            "controller-manager",
            user("system:kube-controller-manager"),
        ),
        Binding::cluster("proxy", "proxy", user("system:kube-proxy")),
        Binding::cluster(
            "node-bootstrapper",
            "node-bootstrapper",
            group("system:bootstrappers"),
        ),
    ]
}
// ANCHOR_END: builtin_bindings
