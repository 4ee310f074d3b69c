//! skiffctl's pure parts: the table layout, apply's create-or-patch decision, and the rollout
//! status messages (the three exercises), plus the command-line parser.

use serde_json::{Value, json};
use skiff::ctl::apply::{ApplyAction, decide};
use skiff::ctl::args::{OutputFormat, parse};
use skiff::ctl::output::{Rows, format_table};
use skiff::ctl::rollout::{Progress, rollout_progress};

fn rows(headers: &[&str], rows: &[&[&str]]) -> Rows {
    Rows {
        headers: headers.iter().map(|s| s.to_string()).collect(),
        rows: rows
            .iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect(),
    }
}

#[test]
fn columns_are_as_wide_as_their_widest_cell_plus_three_spaces() {
    let table = rows(
        &["NAME", "READY", "STATUS"],
        &[&["web-1", "1/1", "Running"], &["a", "0/1", "Pending"]],
    );
    assert_eq!(
        format_table(&table, true),
        "NAME    READY   STATUS\n\
         web-1   1/1     Running\n\
         a       0/1     Pending\n"
    );
}

#[test]
fn the_last_column_is_not_padded_and_lines_have_no_trailing_spaces() {
    let table = rows(&["NAME", "MESSAGE"], &[&["x", "short"], &["y", ""]]);
    assert_eq!(
        format_table(&table, true),
        "NAME   MESSAGE\nx      short\ny\n"
    );
}

#[test]
fn without_headers_only_the_rows_are_measured() {
    let table = rows(&["NAMESPACE", "NAME"], &[&["a", "b"], &["ccc", "d"]]);
    assert_eq!(format_table(&table, false), "a     b\nccc   d\n");
}

#[test]
fn wide_characters_count_as_one_column_each() {
    let table = rows(&["NAME", "X"], &[&["café", "1"]]);
    assert_eq!(format_table(&table, true), "NAME   X\ncafé   1\n");
}

#[test]
fn apply_creates_what_does_not_exist() {
    let desired = json!({"metadata": {"name": "web"}, "data": {"a": "1"}});
    assert_eq!(decide(None, &desired), ApplyAction::Create);
}

#[test]
fn apply_leaves_an_object_that_already_says_it_all_unchanged() {
    let live = json!({"metadata": {"name": "web", "uid": "u", "resourceVersion": "7"},
                      "data": {"a": "1", "b": "2"}});
    let desired = json!({"metadata": {"name": "web"}, "data": {"a": "1"}});
    assert_eq!(decide(Some(&live), &desired), ApplyAction::Unchanged);
}

#[test]
fn apply_patches_with_the_document_when_it_changes_something() {
    let live = json!({"metadata": {"name": "web"}, "spec": {"replicas": 2, "paused": false}});
    let desired = json!({"metadata": {"name": "web"}, "spec": {"replicas": 5}});
    assert_eq!(
        decide(Some(&live), &desired),
        ApplyAction::Patch(desired.clone())
    );
}

fn deployment(generation: i64, observed: i64, status: Value) -> Value {
    let mut status = status;
    status["observedGeneration"] = json!(observed);
    json!({"metadata": {"name": "web", "generation": generation},
           "spec": {"replicas": 3}, "status": status})
}

fn waiting(text: &str) -> Progress {
    Progress::Waiting(text.to_string())
}

#[test]
fn rollout_waits_for_the_controller_to_see_the_spec() {
    let d = deployment(
        2,
        1,
        json!({"replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}),
    );
    assert_eq!(
        rollout_progress(&d),
        waiting("Waiting for deployment spec update to be observed...")
    );
}

#[test]
fn rollout_messages_follow_kubectls_order() {
    let d = deployment(
        1,
        1,
        json!({"replicas": 4, "updatedReplicas": 1, "availableReplicas": 3}),
    );
    assert_eq!(
        rollout_progress(&d),
        waiting(
            "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated..."
        )
    );
    let d = deployment(
        1,
        1,
        json!({"replicas": 4, "updatedReplicas": 3, "availableReplicas": 3}),
    );
    assert_eq!(
        rollout_progress(&d),
        waiting(
            "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination..."
        )
    );
    let d = deployment(
        1,
        1,
        json!({"replicas": 3, "updatedReplicas": 3, "availableReplicas": 1}),
    );
    assert_eq!(
        rollout_progress(&d),
        waiting(
            "Waiting for deployment \"web\" rollout to finish: 1 of 3 updated replicas are available..."
        )
    );
}

#[test]
fn rollout_is_done_when_every_replica_is_updated_and_available() {
    let d = deployment(
        1,
        1,
        json!({"replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}),
    );
    assert_eq!(
        rollout_progress(&d),
        Progress::Done("deployment \"web\" successfully rolled out".into())
    );
}

#[test]
fn rollout_fails_past_the_progress_deadline() {
    let d = deployment(
        1,
        1,
        json!({"replicas": 3, "updatedReplicas": 1,
        "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}),
    );
    assert_eq!(
        rollout_progress(&d),
        Progress::Failed("deployment \"web\" exceeded its progress deadline".into())
    );
}

fn args(line: &str) -> Vec<String> {
    line.split_whitespace().map(String::from).collect()
}

#[test]
fn flags_parse_like_kubectls() {
    let inv = parse(&args("get pods -n shop -o wide -l app=web -w")).unwrap();
    assert_eq!(inv.words, ["get", "pods"]);
    assert_eq!(inv.namespace.as_deref(), Some("shop"));
    assert_eq!(inv.output, OutputFormat::Wide);
    assert_eq!(inv.selector.as_deref(), Some("app=web"));
    assert!(inv.watch);
    let inv = parse(&args("logs -f web-1 -c app")).unwrap();
    assert!(inv.follow && inv.files.is_empty());
    let inv = parse(&args("apply -f a.yaml --filename=b.yaml -f -")).unwrap();
    assert_eq!(inv.files, ["a.yaml", "b.yaml", "-"]);
    let inv = parse(&args("delete pod web --wait=false --timeout 2m")).unwrap();
    assert!(!inv.wait);
    assert_eq!(inv.timeout.as_secs(), 120);
}

#[test]
fn bad_flags_name_the_flag_and_the_reason() {
    assert_eq!(
        parse(&args("get pods -o xml")).unwrap_err(),
        "error: unable to match a printer suitable for the output format \"xml\", allowed formats are: json,name,wide,yaml"
    );
    assert_eq!(
        parse(&args("scale deploy/web --replicas=-1")).unwrap_err(),
        "error: --replicas: must be 0 or more, got -1"
    );
    assert_eq!(
        parse(&args("scale deploy/web --replicas many")).unwrap_err(),
        "error: --replicas: expected a whole number, got \"many\""
    );
    assert_eq!(
        parse(&args("delete pod x --wait=maybe")).unwrap_err(),
        "error: --wait: expected true or false, got \"maybe\""
    );
    assert_eq!(
        parse(&args("get pods -n")).unwrap_err(),
        "error: flag needs an argument: -n"
    );
    assert_eq!(
        parse(&args("rollout status deploy/web --timeout 5d")).unwrap_err(),
        "error: --timeout: unknown unit \"d\" in \"5d\" (use s, m or h)"
    );
}
