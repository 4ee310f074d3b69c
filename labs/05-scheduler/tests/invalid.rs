//! Malformed pods are refused with an error naming the field, before any node is examined.

mod common;

use std::sync::Arc;

use api::Quantity;
use common::{pod, with_host_port};
use scheduler::PodInfo;

#[test]
fn a_negative_request_is_refused() {
    let mut p = pod("p", "", "");
    let requests = &mut p.spec.containers[0].resources.requests;
    requests.insert("cpu".to_string(), Quantity::parse("-1").unwrap());
    let error = PodInfo::new(Arc::new(p)).unwrap_err();
    assert_eq!(error.field, "spec.containers[0].resources.requests.cpu");
    assert_eq!(error.reason, "must be greater than or equal to 0, got -1");
}

#[test]
fn a_host_port_out_of_range_is_refused() {
    let error = PodInfo::new(Arc::new(with_host_port(pod("p", "", ""), 70000))).unwrap_err();
    assert_eq!(
        error.to_string(),
        "spec.containers[0].ports[0].hostPort: must be between 1 and 65535, inclusive, got 70000"
    );
}

#[test]
fn a_preferred_weight_out_of_range_is_refused() {
    let mut p = pod("p", "", "");
    p.spec.affinity = Some(api::Affinity {
        node_affinity: Some(api::NodeAffinity {
            required: None,
            preferred: vec![api::PreferredSchedulingTerm {
                weight: 0,
                preference: api::NodeSelectorTerm::default(),
            }],
        }),
    });
    let error = PodInfo::new(Arc::new(p)).unwrap_err();
    assert_eq!(
        error.field,
        "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"
    );
}

fn with_field_requirement(key: &str, operator: &str) -> api::Pod {
    let mut p = pod("p", "", "");
    p.spec.affinity = Some(api::Affinity {
        node_affinity: Some(api::NodeAffinity {
            required: Some(api::NodeSelector {
                node_selector_terms: vec![api::NodeSelectorTerm {
                    match_expressions: vec![],
                    match_fields: vec![api::NodeSelectorRequirement {
                        key: key.to_string(),
                        operator: operator.to_string(),
                        values: vec!["n1".to_string()],
                    }],
                }],
            }),
            preferred: vec![],
        }),
    });
    p
}

const FIELD: &str = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0]";

#[test]
fn match_fields_only_know_metadata_name() {
    let error = PodInfo::new(Arc::new(with_field_requirement("spec.unschedulable", "In")));
    let error = error.unwrap_err();
    assert_eq!(error.field, format!("{FIELD}.key"));
    assert_eq!(
        error.reason,
        "not a supported field selector: \"spec.unschedulable\""
    );
}

#[test]
fn match_fields_only_take_in_and_not_in() {
    let mut p = with_field_requirement("metadata.name", "Exists");
    let affinity = p
        .spec
        .affinity
        .as_mut()
        .unwrap()
        .node_affinity
        .as_mut()
        .unwrap();
    let terms = &mut affinity.required.as_mut().unwrap().node_selector_terms;
    terms[0].match_fields[0].values.clear();
    let error = PodInfo::new(Arc::new(p)).unwrap_err();
    assert_eq!(error.field, format!("{FIELD}.operator"));
    assert_eq!(error.reason, "must be In or NotIn for a field");
}

#[test]
fn match_fields_select_a_node_by_name() {
    use scheduler::FilterPlugin;
    let p = PodInfo::new(Arc::new(with_field_requirement("metadata.name", "In"))).unwrap();
    let cache = common::cache_of(vec![
        common::node("n1", "1", "1Gi"),
        common::node("n2", "1", "1Gi"),
    ]);
    let plugin = scheduler::plugins::NodeAffinity;
    assert!(plugin.filter(&p, cache.node("n1").unwrap()).is_ok());
    assert!(plugin.filter(&p, cache.node("n2").unwrap()).is_err());
}
