//! Custom roles and bindings, added in Rust or as Kubernetes RBAC objects, and the errors a
//! bad one gets.

use apiserver::auth::{
    Attributes, Binding, Decision, Rbac, RbacError, Role, RoleRef, Rule, Subject,
};
use apiserver::request::User;
use serde_json::{Value, json};

fn bob() -> User {
    User::new("bob", &["system:authenticated"])
}

fn allowed(rbac: &Rbac, a: Attributes) -> bool {
    rbac.authorize(&a).is_allowed()
}

/// "bob may get pods in namespace dev", with the builder.
fn bob_reads_pods_in_dev() -> Rbac {
    Rbac::builtin()
        .with_role(Role::namespaced(
            "dev",
            "pod-reader",
            vec![Rule::new(&["get"], &[""], &["pods"])],
        ))
        .unwrap()
        .with_binding(Binding::namespaced(
            "dev",
            "bob-reads-pods",
            RoleRef::Role("pod-reader".into()),
            vec![Subject::User("bob".into())],
        ))
        .unwrap()
}

#[test]
fn a_role_binding_grants_its_role_in_its_namespace_only() {
    let rbac = bob_reads_pods_in_dev();
    let bob = bob();
    assert!(allowed(
        &rbac,
        Attributes::new(&bob, "get", "pods").ns("dev").named("web")
    ));
    assert!(!allowed(
        &rbac,
        Attributes::new(&bob, "get", "pods").ns("prod").named("web")
    ));
    assert!(!allowed(
        &rbac,
        Attributes::new(&bob, "get", "pods").named("web")
    ));
    assert!(!allowed(
        &rbac,
        Attributes::new(&bob, "list", "pods").ns("dev")
    ));
    assert!(!allowed(
        &rbac,
        Attributes::new(&bob, "delete", "pods")
            .ns("dev")
            .named("web")
    ));
    let alice = User::new("alice", &[]);
    assert!(!allowed(
        &rbac,
        Attributes::new(&alice, "get", "pods")
            .ns("dev")
            .named("web")
    ));
}

#[test]
fn a_role_binding_to_a_cluster_role_is_still_confined_to_its_namespace() {
    let rbac = Rbac::builtin()
        .with_binding(Binding::namespaced(
            "dev",
            "devs-administer-dev",
            RoleRef::ClusterRole("admin".into()),
            vec![Subject::Group("devs".into())],
        ))
        .unwrap();
    let dana = User::new("dana", &["devs"]);
    assert!(allowed(
        &rbac,
        Attributes::new(&dana, "delete", "pods")
            .ns("dev")
            .named("web")
    ));
    assert!(allowed(
        &rbac,
        Attributes::new(&dana, "create", "secrets").ns("dev")
    ));
    assert!(rbac.can_read_secret_data(&dana, "dev"));
    assert!(!rbac.can_read_secret_data(&dana, "prod"));
    assert!(!allowed(
        &rbac,
        Attributes::new(&dana, "delete", "pods")
            .ns("prod")
            .named("web")
    ));
    // Cluster-wide requests (all namespaces, or cluster-scoped objects) are out of reach.
    assert!(!allowed(&rbac, Attributes::new(&dana, "list", "pods")));
    assert!(!allowed(
        &rbac,
        Attributes::new(&dana, "delete", "nodes").named("n1")
    ));
}

#[test]
fn a_role_in_one_namespace_cannot_be_bound_from_another() {
    let rbac = Rbac::builtin()
        .with_role(Role::namespaced(
            "dev",
            "pod-reader",
            vec![Rule::new(&["get"], &[""], &["pods"])],
        ))
        .unwrap()
        .with_binding(Binding::namespaced(
            "prod",
            "borrowed",
            RoleRef::Role("pod-reader".into()),
            vec![Subject::User("bob".into())],
        ))
        .unwrap();
    let bob = bob();
    assert!(!allowed(
        &rbac,
        Attributes::new(&bob, "get", "pods").ns("prod").named("web")
    ));
    match rbac.authorize(&Attributes::new(&bob, "get", "pods").ns("prod").named("web")) {
        Decision::Deny { reason } => assert_eq!(
            reason,
            "RBAC: no role is bound to User \"bob\" \
             (role.rbac.authorization.k8s.io \"pod-reader\" not found)"
        ),
        Decision::Allow => panic!("allowed through a role of another namespace"),
    }
}

#[test]
fn grants_add_up_and_never_take_away() {
    // bob is a viewer and may also delete pods in dev: both hold.
    let bob = User::new("bob", &["skiff:viewers"]);
    let rbac = bob_reads_pods_in_dev()
        .with_role(Role::cluster(
            "pod-deleter",
            vec![Rule::new(&["delete"], &[""], &["pods"])],
        ))
        .unwrap()
        .with_binding(Binding::namespaced(
            "dev",
            "bob-deletes",
            RoleRef::ClusterRole("pod-deleter".into()),
            vec![Subject::User("bob".into())],
        ))
        .unwrap();
    assert!(allowed(&rbac, Attributes::new(&bob, "list", "pods")));
    assert!(allowed(
        &rbac,
        Attributes::new(&bob, "delete", "pods")
            .ns("dev")
            .named("web")
    ));
    assert!(!allowed(
        &rbac,
        Attributes::new(&bob, "delete", "pods")
            .ns("prod")
            .named("web")
    ));
}

#[test]
fn a_custom_role_reads_secret_values_unless_it_is_names_only() {
    let rbac = Rbac::builtin()
        .with_role(Role::cluster(
            "secret-reader",
            vec![Rule::new(&["get", "list"], &[""], &["secrets"])],
        ))
        .unwrap()
        .with_role(
            Role::cluster(
                "secret-lister",
                vec![Rule::new(&["get", "list"], &[""], &["secrets"])],
            )
            .secret_names_only(),
        )
        .unwrap()
        .with_role(Role::cluster(
            "one-secret",
            vec![Rule::new(&["get"], &[""], &["secrets"]).named(&["db"])],
        ))
        .unwrap()
        .with_binding(Binding::cluster(
            "r",
            "secret-reader",
            vec![Subject::User("reader".into())],
        ))
        .unwrap()
        .with_binding(Binding::cluster(
            "l",
            "secret-lister",
            vec![Subject::User("lister".into())],
        ))
        .unwrap()
        .with_binding(Binding::cluster(
            "o",
            "one-secret",
            vec![Subject::User("one".into())],
        ))
        .unwrap();
    let reader = User::new("reader", &[]);
    let lister = User::new("lister", &[]);
    let one = User::new("one", &[]);
    assert!(rbac.can_read_secret_data(&reader, "default"));
    assert!(!rbac.can_read_secret_data(&lister, "default"));
    assert!(allowed(
        &rbac,
        Attributes::new(&lister, "list", "secrets").ns("default")
    ));
    // Values are granted namespace-wide: a rule limited to some names gets names only.
    assert!(allowed(
        &rbac,
        Attributes::new(&one, "get", "secrets")
            .ns("default")
            .named("db")
    ));
    assert!(!rbac.can_read_secret_data(&one, "default"));
}

// --- the same, as Kubernetes objects -----------------------------------------------------

fn role_json(verbs: Value) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "pod-reader", "namespace": "dev"},
        "rules": [
            {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": verbs}
        ]
    })
}

fn binding_json() -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "bob-reads-pods", "namespace": "dev"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [
            {"kind": "User", "name": "bob"},
            {"kind": "ServiceAccount", "name": "ci", "namespace": "build"}
        ]
    })
}

#[test]
fn rbac_objects_as_on_a_real_cluster() {
    let rbac =
        Rbac::from_objects(&[role_json(json!(["get", "list", "watch"])), binding_json()]).unwrap();
    let bob = bob();
    let ci = User::new(
        "system:serviceaccount:build:ci",
        &["system:serviceaccounts"],
    );
    for user in [&bob, &ci] {
        assert!(allowed(
            &rbac,
            Attributes::new(user, "list", "pods").ns("dev")
        ));
        assert!(allowed(
            &rbac,
            Attributes::new(user, "get", "pods")
                .ns("dev")
                .named("web")
                .subresource("log")
        ));
        assert!(!allowed(
            &rbac,
            Attributes::new(user, "list", "pods").ns("prod")
        ));
    }
    // The built-in roles are still there.
    let admin = User::new("alice", &["system:masters"]);
    assert!(allowed(
        &rbac,
        Attributes::new(&admin, "delete", "nodes").named("n1")
    ));
}

#[test]
fn the_names_only_annotation_on_a_cluster_role() {
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "auditor", "annotations": {"skiff.dev/secret-data": "names-only"}},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}]
    });
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "auditors"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "auditor"},
        "subjects": [{"kind": "Group", "name": "auditors"}]
    });
    let rbac = Rbac::from_objects(&[role, binding]).unwrap();
    let eve = User::new("eve", &["auditors"]);
    assert!(allowed(
        &rbac,
        Attributes::new(&eve, "get", "secrets")
            .ns("default")
            .named("db")
    ));
    assert!(!rbac.can_read_secret_data(&eve, "default"));
}

fn error_of(objects: &[Value]) -> RbacError {
    Rbac::from_objects(objects).expect_err("the objects should be refused")
}

#[test]
fn an_unknown_verb_is_refused_naming_the_field() {
    let err = error_of(&[role_json(json!(["get", "destroy"]))]);
    assert_eq!(err.field, "objects[0].rules[0].verbs[1]");
    assert_eq!(
        err.to_string(),
        "objects[0].rules[0].verbs[1]: Unsupported value: \"destroy\": supported values: \"get\", \
         \"list\", \"watch\", \"create\", \"update\", \"patch\", \"delete\", \"deletecollection\", \"*\""
    );
    // The same through the builder.
    let role = Role::cluster(
        "r",
        vec![
            Rule::new(&["get"], &[""], &["pods"]),
            Rule::new(&["Get"], &[""], &["pods"]),
        ],
    );
    let err = Rbac::builtin().with_role(role).unwrap_err();
    assert_eq!(err.field, "rules[1].verbs[0]");
}

#[test]
fn bad_objects_get_an_error_naming_the_field() {
    let mut no_namespace = role_json(json!(["get"]));
    no_namespace["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("namespace");
    let mut numbers = role_json(json!(["get"]));
    numbers["rules"][0]["resources"] = json!(["pods", 7]);
    let mut no_groups = role_json(json!(["get"]));
    no_groups["rules"][0]
        .as_object_mut()
        .unwrap()
        .remove("apiGroups");
    let mut bad_resource = role_json(json!(["get"]));
    bad_resource["rules"][0]["resources"] = json!(["Pods"]);
    let mut non_resource = role_json(json!(["get"]));
    non_resource["rules"][0]["nonResourceURLs"] = json!(["/healthz"]);
    let mut bad_subject = binding_json();
    bad_subject["subjects"][1]["kind"] = json!("Robot");
    let mut sa_without_ns = binding_json();
    sa_without_ns["subjects"][1]
        .as_object_mut()
        .unwrap()
        .remove("namespace");
    let mut cluster_binding_to_role = binding_json();
    cluster_binding_to_role["kind"] = json!("ClusterRoleBinding");
    let mut bad_ref_kind = binding_json();
    bad_ref_kind["roleRef"]["kind"] = json!("Group");
    let mut no_subjects = binding_json();
    no_subjects["subjects"] = json!([]);
    let mut bad_annotation = role_json(json!(["get"]));
    bad_annotation["metadata"]["annotations"] = json!({"skiff.dev/secret-data": "some"});
    let cases = [
        (
            "wrong apiVersion",
            json!({"apiVersion": "v1", "kind": "Role"}),
        ),
        (
            "unknown kind",
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Policy", "metadata": {"name": "p"}}),
        ),
        ("Role without a namespace", no_namespace),
        ("a resource that is not a string", numbers),
        ("no apiGroups", no_groups),
        ("an upper-case resource", bad_resource),
        ("nonResourceURLs", non_resource),
        ("an unknown subject kind", bad_subject),
        ("a ServiceAccount without a namespace", sa_without_ns),
        ("a ClusterRoleBinding to a Role", cluster_binding_to_role),
        ("a roleRef to a Group", bad_ref_kind),
        ("no subjects", no_subjects),
        ("a bad secret-data annotation", bad_annotation),
    ];
    let rendered: Vec<String> = cases
        .into_iter()
        .map(|(label, object)| format!("{label}:\n  {}", error_of(&[object])))
        .collect();
    insta::assert_snapshot!(rendered.join("\n"));
}

#[test]
fn system_masters_cannot_be_locked_out() {
    // Even with no roles at all, the administrators' group is allowed, and reads Secrets.
    let rbac = Rbac::empty();
    let admin = User::new("root", &["system:masters"]);
    assert!(allowed(
        &rbac,
        Attributes::new(&admin, "delete", "nodes").named("n1")
    ));
    assert!(allowed(
        &rbac,
        Attributes::new(&admin, "create", "secrets").ns("kube-system")
    ));
    assert!(rbac.can_read_secret_data(&admin, "kube-system"));
    let bob = bob();
    assert!(!allowed(
        &rbac,
        Attributes::new(&bob, "get", "pods").ns("default")
    ));
}

#[test]
fn a_policy_file_may_hold_one_object_an_array_or_a_list() {
    let bob = bob();
    let can_list_dev_pods =
        |rbac: &Rbac| allowed(rbac, Attributes::new(&bob, "list", "pods").ns("dev"));
    let role = role_json(json!(["list"]));
    let binding = binding_json();
    let array = Rbac::from_json_str(&json!([role, binding]).to_string()).unwrap();
    assert!(can_list_dev_pods(&array));
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [role, binding]});
    let list = Rbac::from_json_str(&list.to_string()).unwrap();
    assert!(can_list_dev_pods(&list));
    // One object alone: the Role without its binding grants nothing yet.
    let single = Rbac::from_json_str(&role.to_string()).unwrap();
    assert!(!can_list_dev_pods(&single));
    assert!(single.roles().any(|r| r.name == "pod-reader"));
}

#[test]
fn a_bad_policy_file_names_the_item() {
    let err = Rbac::from_json_str("[{\"apiVersion\": ").unwrap_err();
    assert_eq!(err.field, "(file)");
    assert!(err.message.starts_with("not JSON: "), "{err}");
    let list = json!({"kind": "List", "items": [binding_json(), role_json(json!(["fly"]))]});
    let err = Rbac::from_json_str(&list.to_string()).unwrap_err();
    assert_eq!(err.field, "items[1].rules[0].verbs[0]");
    let err = Rbac::from_json_str(&json!({"kind": "List", "items": 3}).to_string()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "items: Invalid value: must be a list of objects"
    );
}
