//! What a names-only reader sees of a Secret.

use apiserver::auth::{Rbac, redact_secret_data};
use apiserver::request::User;
use serde_json::json;

#[test]
fn values_and_their_keys_are_removed_and_the_rest_kept() {
    let value = "aHVudGVyMg=="; // "hunter2"
    let mut secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": "db",
            "namespace": "default",
            "resourceVersion": "7",
            "labels": {"app": "db"},
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration":
                    format!("{{\"data\":{{\"password\":\"{value}\"}}}}"),
                "owner": "team-a"
            }
        },
        "data": {"password": value, "user": "YWRtaW4="},
        "stringData": {"token": "plain-text-token"}
    });
    redact_secret_data(&mut secret);
    assert_eq!(
        secret,
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": "db",
                "namespace": "default",
                "resourceVersion": "7",
                "labels": {"app": "db"},
                "annotations": {"owner": "team-a"}
            }
        })
    );
    let text = secret.to_string();
    assert!(!text.contains(value) && !text.contains("plain-text-token"));
}

#[test]
fn a_secret_without_values_is_left_as_it_is() {
    let mut secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "empty"}});
    let before = secret.clone();
    redact_secret_data(&mut secret);
    assert_eq!(secret, before);
    // Not an object at all: nothing to do, and no panic.
    let mut odd = json!("not a secret");
    redact_secret_data(&mut odd);
    assert_eq!(odd, json!("not a secret"));
}

#[test]
fn the_core_redacts_for_exactly_the_users_rbac_says() {
    // The decision and the redaction together, as the core applies them to each Secret.
    let rbac = Rbac::builtin();
    let stored = json!({"kind": "Secret", "metadata": {"name": "db"}, "data": {"k": "dg=="}});
    let seen_by = |user: &User| {
        let mut copy = stored.clone();
        if !rbac.can_read_secret_data(user, "default") {
            redact_secret_data(&mut copy);
        }
        copy.get("data").cloned()
    };
    assert_eq!(
        seen_by(&User::new("alice", &["system:masters"])),
        Some(json!({"k": "dg=="}))
    );
    assert_eq!(seen_by(&User::new("victor", &["skiff:viewers"])), None);
}

#[test]
fn the_builtin_roles_and_bindings_are_all_there() {
    let rbac = Rbac::builtin();
    let roles: Vec<&str> = rbac.roles().map(|r| r.name.as_str()).collect();
    let mut expected = apiserver::auth::BUILTIN_ROLES.to_vec();
    expected.sort();
    assert_eq!(roles, expected);
    let bindings: Vec<(String, usize)> = rbac
        .bindings()
        .map(|b| (b.name.clone(), b.subjects.len()))
        .collect();
    assert_eq!(bindings.len(), 7);
    assert!(bindings.iter().all(|(_, subjects)| *subjects == 1));
}
