//! The audit log: one JSON line per mutating request, in Kubernetes' audit Event shape, and
//! never a body.

use std::sync::Arc;

use api::MicroTime;
use apiserver::audit::{AuditEntry, AuditLog, is_audited};
use apiserver::auth::Attributes;
use apiserver::request::User;

fn at(micros: i64) -> MicroTime {
    MicroTime::from_unix_micros(micros)
}

fn alice() -> User {
    User::new("alice", &["system:masters", "system:authenticated"])
}

#[test]
fn only_mutating_verbs_are_audited() {
    let audited: Vec<&str> = [
        "get",
        "list",
        "watch",
        "create",
        "update",
        "patch",
        "delete",
        "deletecollection",
    ]
    .into_iter()
    .filter(|v| is_audited(v))
    .collect();
    assert_eq!(
        audited,
        ["create", "update", "patch", "delete", "deletecollection"]
    );
}

#[test]
fn an_entry_copies_the_attributes_and_the_code() {
    let user = User::new("system:node:n1", &["system:nodes"]);
    let a = Attributes::new(&user, "update", "pods")
        .ns("default")
        .named("web")
        .subresource("status");
    let entry = AuditEntry::new(&a, 200, at(1_700_000_000_000_000));
    assert_eq!(
        entry,
        AuditEntry {
            user: "system:node:n1".into(),
            groups: vec!["system:nodes".into()],
            verb: "update".into(),
            api_group: "".into(),
            resource: "pods".into(),
            subresource: "status".into(),
            namespace: "default".into(),
            name: "web".into(),
            code: 200,
            timestamp: at(1_700_000_000_000_000),
        }
    );
}

#[test]
fn the_line_is_a_kubernetes_audit_event_at_level_metadata() {
    let user = alice();
    let a = Attributes::new(&user, "delete", "deployments")
        .group("apps")
        .ns("default")
        .named("web");
    let entry = AuditEntry::new(&a, 200, at(1_700_000_000_123_456));
    let json = serde_json::to_string_pretty(&entry.to_json()).unwrap();
    insta::assert_snapshot!(json);
    // Empty fields are left out, as Kubernetes' omitempty does.
    let bob = User::new("bob", &[]);
    let create = Attributes::new(&bob, "create", "namespaces");
    let line = AuditEntry::new(&create, 403, at(0)).to_json();
    assert_eq!(
        line["objectRef"],
        serde_json::json!({"resource": "namespaces"})
    );
    assert_eq!(line["user"]["groups"], serde_json::json!([]));
}

#[test]
fn an_in_memory_log_keeps_entries_in_order() {
    let log = AuditLog::in_memory();
    let user = alice();
    let create = Attributes::new(&user, "create", "pods").ns("default");
    let delete = create.named("web");
    let delete = Attributes {
        verb: "delete",
        ..delete
    };
    log.record(AuditEntry::new(&create, 201, at(1)));
    log.record(AuditEntry::new(&delete, 200, at(2)));
    let entries = log.entries();
    let summary: Vec<(String, String, u16)> = entries
        .iter()
        .map(|e| (e.verb.clone(), e.name.clone(), e.code))
        .collect();
    assert_eq!(
        summary,
        [
            ("create".into(), "".into(), 201),
            ("delete".into(), "web".into(), 200)
        ]
    );
}

#[test]
fn a_file_log_writes_one_json_line_per_entry_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::to_file(&path).unwrap();
    let user = alice();
    let entries = [
        AuditEntry::new(
            &Attributes::new(&user, "create", "pods").ns("default"),
            201,
            at(1_000_001),
        ),
        AuditEntry::new(
            &Attributes::new(&user, "patch", "nodes").named("n1"),
            404,
            at(2_000_002),
        ),
        AuditEntry::new(
            &Attributes::new(&user, "update", "deployments")
                .group("apps")
                .ns("prod")
                .named("web")
                .subresource("scale"),
            409,
            at(3_000_003),
        ),
    ];
    for entry in entries.clone() {
        log.record(entry);
    }
    // A file log keeps nothing in memory: the file is the record.
    assert!(log.entries().is_empty());
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(text.ends_with('\n'));
    let read: Vec<AuditEntry> = lines
        .iter()
        .map(|l| AuditEntry::from_json_line(l).unwrap())
        .collect();
    assert_eq!(read, entries);
}

#[test]
fn reopening_a_file_log_appends() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let user = alice();
    let a = Attributes::new(&user, "delete", "pods")
        .ns("default")
        .named("web");
    AuditLog::to_file(&path)
        .unwrap()
        .record(AuditEntry::new(&a, 200, at(1)));
    AuditLog::to_file(&path)
        .unwrap()
        .record(AuditEntry::new(&a, 404, at(2)));
    let codes: Vec<u16> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| AuditEntry::from_json_line(l).unwrap().code)
        .collect();
    assert_eq!(codes, [200, 404]);
}

#[test]
fn a_secret_value_never_reaches_the_file() {
    // The core audits from the request's attributes and the response code; this is the whole
    // of what a Secret's create leaves in the log.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::to_file(&path).unwrap();
    let secret_value = "hunter2-s3cr3t-p4ssw0rd";
    let body = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "db", "namespace": "default"},
        "stringData": {"password": secret_value}
    });
    let user = alice();
    let a = Attributes::new(&user, "create", "secrets").ns("default");
    // What the core has in hand when it records: the body is there, and is not passed on.
    assert!(body.to_string().contains(secret_value));
    log.record(AuditEntry::new(&a, 201, at(5)));
    let update = a.named("db");
    let update = Attributes {
        verb: "update",
        ..update
    };
    log.record(AuditEntry::new(&update, 200, at(6)));
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert_eq!(text.matches(secret_value).count(), 0);
    assert_eq!(text.matches("\"resource\":\"secrets\"").count(), 2);
}

#[test]
fn concurrent_writers_never_interleave_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = Arc::new(AuditLog::to_file(&path).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let user = User::new(format!("user-{t}"), &["g"]);
                for i in 0..50 {
                    let name = format!("pod-{i}");
                    let a = Attributes::new(&user, "create", "pods")
                        .ns("default")
                        .named(&name);
                    log.record(AuditEntry::new(&a, 201, at(i)));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let entries: Vec<AuditEntry> = text
        .lines()
        .map(|l| AuditEntry::from_json_line(l).expect("every line is one whole entry"))
        .collect();
    assert_eq!(entries.len(), 400);
    for t in 0..8 {
        let user = format!("user-{t}");
        assert_eq!(entries.iter().filter(|e| e.user == user).count(), 50);
    }
}

#[test]
fn a_log_that_cannot_be_opened_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = AuditLog::to_file(dir.path().join("missing-dir").join("audit.log")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}

#[test]
fn a_bad_line_names_the_field() {
    let good = AuditEntry::new(
        &Attributes::new(&alice(), "create", "pods").ns("default"),
        201,
        at(0),
    )
    .to_json();
    let mut no_code = good.clone();
    no_code["responseStatus"] = serde_json::json!({});
    let mut bad_time = good.clone();
    bad_time["stageTimestamp"] = serde_json::json!("yesterday");
    let mut bad_groups = good.clone();
    bad_groups["user"]["groups"] = serde_json::json!([1]);
    let mut no_verb = good.clone();
    no_verb.as_object_mut().unwrap().remove("verb");
    let errors: Vec<String> = [
        "not json".to_string(),
        no_code.to_string(),
        bad_time.to_string(),
        bad_groups.to_string(),
        no_verb.to_string(),
    ]
    .iter()
    .map(|line| AuditEntry::from_json_line(line).unwrap_err())
    .collect();
    insta::assert_snapshot!(errors.join("\n"));
}

#[test]
fn now_stamps_the_current_time() {
    let user = alice();
    let a = Attributes::new(&user, "create", "pods").ns("default");
    let entry = AuditEntry::now(&a, 201);
    // After 2020-01-01: the clock was read, not left at zero.
    assert!(entry.timestamp.unix_micros() > 1_577_836_800_000_000);
}
