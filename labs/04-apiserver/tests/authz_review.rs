//! "May I?": why a request is allowed, and `SelfSubjectAccessReview` as `kubectl auth can-i`
//! sends it.

use apiserver::auth::{Attributes, Binding, Rbac, RoleRef, Subject, access_review};
use apiserver::request::User;
use serde_json::{Value, json};

fn review(attributes: Value) -> Value {
    json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes}
    })
}

#[test]
fn allowed_by_names_the_binding_the_role_and_the_subject() {
    let rbac = Rbac::builtin()
        .with_binding(Binding::namespaced(
            "dev",
            "bob-admin",
            RoleRef::ClusterRole("admin".into()),
            vec![Subject::User("bob".into())],
        ))
        .unwrap();
    let alice = User::new("alice", &["system:masters"]);
    let bob = User::new("bob", &[]);
    let n1 = User::new("system:node:n1", &["system:nodes"]);
    let cases = [
        Attributes::new(&alice, "delete", "nodes").named("n1"),
        Attributes::new(&bob, "delete", "pods")
            .ns("dev")
            .named("web"),
        Attributes::new(&n1, "update", "pods")
            .ns("default")
            .named("web")
            .subresource("status"),
        Attributes::new(&bob, "delete", "pods")
            .ns("prod")
            .named("web"),
    ];
    let reasons: Vec<String> = cases
        .iter()
        .map(|a| {
            rbac.allowed_by(a)
                .unwrap_or_else(|| "(not allowed)".to_string())
        })
        .collect();
    assert_eq!(
        reasons,
        [
            r#"RBAC: allowed by ClusterRoleBinding "admin" of ClusterRole "admin" to Group "system:masters""#,
            r#"RBAC: allowed by RoleBinding "bob-admin/dev" of ClusterRole "admin" to User "bob""#,
            r#"RBAC: allowed by ClusterRoleBinding "node" of ClusterRole "node" to Group "system:nodes""#,
            "(not allowed)",
        ]
    );
}

#[test]
fn can_i_answers_yes_and_no_like_the_authorizer() {
    let rbac = Rbac::builtin();
    let viewer = User::new("victor", &["skiff:viewers"]);
    let yes = access_review(
        &rbac,
        &viewer,
        &review(json!({"namespace": "default", "verb": "list", "resource": "pods"})),
    )
    .unwrap();
    assert_eq!(yes["status"]["allowed"], true);
    assert_eq!(yes["kind"], "SelfSubjectAccessReview");
    assert_eq!(yes["spec"]["resourceAttributes"]["verb"], "list");
    let no = access_review(
        &rbac,
        &viewer,
        &review(
            json!({"namespace": "default", "verb": "delete", "resource": "pods", "name": "web"}),
        ),
    )
    .unwrap();
    assert_eq!(
        no["status"],
        json!({"allowed": false, "reason": "RBAC: no rule of clusterrole \"viewer\" allows it"})
    );
    // Group and subresource are part of the question.
    let scale = review(json!({
        "namespace": "default", "verb": "update", "group": "apps",
        "resource": "deployments", "subresource": "scale", "name": "web"
    }));
    let cm = User::new("system:kube-controller-manager", &[]);
    assert_eq!(
        access_review(&rbac, &cm, &scale).unwrap()["status"]["allowed"],
        true
    );
    assert_eq!(
        access_review(&rbac, &viewer, &scale).unwrap()["status"]["allowed"],
        false
    );
}

#[test]
fn every_answer_agrees_with_authorize() {
    let rbac = Rbac::builtin();
    let users = [
        User::new("alice", &["system:masters"]),
        User::new("victor", &["skiff:viewers"]),
        User::new("system:node:n1", &["system:nodes"]),
        User::new("system:kube-scheduler", &[]),
        User::new("bob", &[]),
    ];
    for user in &users {
        for verb in ["get", "list", "create", "update", "delete", "*"] {
            for (group, resource) in [("", "pods"), ("apps", "deployments"), ("", "secrets")] {
                let a = Attributes::new(user, verb, resource)
                    .group(group)
                    .ns("default");
                let answer = access_review(
                    &rbac,
                    user,
                    &review(json!({"namespace": "default", "verb": verb, "group": group, "resource": resource})),
                )
                .unwrap();
                assert_eq!(
                    answer["status"]["allowed"],
                    rbac.authorize(&a).is_allowed(),
                    "{} {verb} {resource}",
                    user.name
                );
            }
        }
    }
}

#[test]
fn a_bad_review_names_the_field() {
    let rbac = Rbac::builtin();
    let bob = User::new("bob", &[]);
    let errors: Vec<String> = [
        json!({"apiVersion": "v1", "kind": "SelfSubjectAccessReview", "spec": {}}),
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {}}),
        review(json!({"resource": "pods"})),
        review(json!({"verb": "get", "resource": ["pods"]})),
    ]
    .iter()
    .map(|r| access_review(&rbac, &bob, r).unwrap_err())
    .collect();
    insta::assert_snapshot!(errors.join("\n"));
}

#[test]
fn non_resource_questions_are_answered_no() {
    let rbac = Rbac::builtin();
    let alice = User::new("alice", &["system:masters"]);
    let question = json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"nonResourceAttributes": {"path": "/metrics", "verb": "get"}}
    });
    let answer = access_review(&rbac, &alice, &question).unwrap();
    assert_eq!(answer["status"]["allowed"], false);
}
