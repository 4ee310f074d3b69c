//! Graded: `scheduler-node-affinity`; also the affinity errors a malformed pod gets.

mod common;

use std::sync::Arc;

use api::{
    Affinity, NodeAffinity as Spec, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
};
use common::{cache_of, info, labelled, node, pod};
use scheduler::plugins::NodeAffinity;
use scheduler::plugins::node_affinity::{Operator, Requirement};
use scheduler::{FilterPlugin, PodInfo};

fn requirement(operator: Operator, values: &[&str]) -> Requirement {
    Requirement {
        key: "zone".to_string(),
        operator,
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

#[test]
fn in_and_not_in() {
    let r#in = requirement(Operator::In, &["a", "b"]);
    assert!(r#in.matches(Some("a")));
    assert!(!r#in.matches(Some("c")));
    assert!(!r#in.matches(None));
    let not_in = requirement(Operator::NotIn, &["a", "b"]);
    assert!(!not_in.matches(Some("a")));
    assert!(not_in.matches(Some("c")));
    assert!(
        not_in.matches(None),
        "NotIn holds for a node without the label"
    );
}

#[test]
fn exists_and_does_not_exist() {
    assert!(requirement(Operator::Exists, &[]).matches(Some("")));
    assert!(!requirement(Operator::Exists, &[]).matches(None));
    assert!(requirement(Operator::DoesNotExist, &[]).matches(None));
    assert!(!requirement(Operator::DoesNotExist, &[]).matches(Some("x")));
}

#[test]
fn gt_and_lt_compare_integers() {
    assert!(requirement(Operator::Gt(4), &[]).matches(Some("5")));
    assert!(!requirement(Operator::Gt(4), &[]).matches(Some("4")));
    assert!(requirement(Operator::Lt(4), &[]).matches(Some("-1")));
    assert!(!requirement(Operator::Lt(4), &[]).matches(Some("10")));
    assert!(
        !requirement(Operator::Gt(4), &[]).matches(Some("five")),
        "not an integer"
    );
    assert!(!requirement(Operator::Lt(4), &[]).matches(None));
}

fn expression(key: &str, operator: &str, values: &[&str]) -> NodeSelectorRequirement {
    NodeSelectorRequirement {
        key: key.to_string(),
        operator: operator.to_string(),
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

fn with_required(mut pod: api::Pod, terms: Vec<Vec<NodeSelectorRequirement>>) -> api::Pod {
    let terms = terms
        .into_iter()
        .map(|match_expressions| NodeSelectorTerm {
            match_expressions,
            match_fields: Vec::new(),
        })
        .collect();
    pod.spec.affinity = Some(Affinity {
        node_affinity: Some(Spec {
            required: Some(NodeSelector {
                node_selector_terms: terms,
            }),
            preferred: Vec::new(),
        }),
    });
    pod
}

#[test]
fn terms_are_ored_and_expressions_anded() {
    let cache = cache_of(vec![
        labelled(labelled(node("a", "4", "8Gi"), "zone", "z1"), "disk", "ssd"),
        labelled(node("b", "4", "8Gi"), "zone", "z1"),
        labelled(node("c", "4", "8Gi"), "gpu", "8"),
    ]);
    let pod = info(with_required(
        pod("p", "", ""),
        vec![
            vec![
                expression("zone", "In", &["z1"]),
                expression("disk", "Exists", &[]),
            ],
            vec![expression("gpu", "Gt", &["4"])],
        ],
    ));
    let fits: Vec<&str> = cache
        .nodes()
        .iter()
        .filter(|n| NodeAffinity.filter(&pod, n).is_ok())
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(fits, ["a", "c"]);
}

#[test]
fn node_selector_and_affinity_must_both_hold() {
    let cache = cache_of(vec![
        labelled(node("a", "4", "8Gi"), "zone", "z1"),
        labelled(labelled(node("b", "4", "8Gi"), "zone", "z1"), "disk", "ssd"),
    ]);
    let mut p = with_required(
        pod("p", "", ""),
        vec![vec![expression("zone", "In", &["z1"])]],
    );
    p.spec
        .node_selector
        .insert("disk".to_string(), "ssd".to_string());
    let p = info(p);
    let a = NodeAffinity.filter(&p, &cache.nodes()[0]).unwrap_err();
    assert_eq!(a.0, ["node(s) didn't match Pod's node affinity/selector"]);
    assert!(NodeAffinity.filter(&p, &cache.nodes()[1]).is_ok());
}

fn compile_error(expressions: Vec<NodeSelectorRequirement>) -> String {
    let p = with_required(pod("p", "", ""), vec![expressions]);
    PodInfo::new(Arc::new(p)).unwrap_err().to_string()
}

const TERM: &str = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]";

#[test]
fn an_unknown_operator_is_an_error_naming_the_field() {
    let error = compile_error(vec![expression("zone", "Gte", &["1"])]);
    assert_eq!(
        error,
        format!(
            "{TERM}.operator: \"Gte\" is not a valid operator (In, NotIn, Exists, DoesNotExist, Gt, Lt)"
        )
    );
}

#[test]
fn gt_needs_one_integer() {
    let error = compile_error(vec![expression("cores", "Gt", &["many"])]);
    assert_eq!(
        error,
        format!("{TERM}.values[0]: must be an integer for Gt, got \"many\"")
    );
    let error = compile_error(vec![expression("cores", "Lt", &["1", "2"])]);
    assert_eq!(
        error,
        format!("{TERM}.values: must have exactly one value for Lt")
    );
}

#[test]
fn in_needs_values_and_exists_refuses_them() {
    let error = compile_error(vec![expression("zone", "In", &[])]);
    assert_eq!(error, format!("{TERM}.values: must be specified for In"));
    let error = compile_error(vec![expression("zone", "Exists", &["x"])]);
    assert_eq!(error, format!("{TERM}.values: must be empty for Exists"));
}
