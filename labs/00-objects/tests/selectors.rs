//! Graded tests for `objects-label-selector`: set-based requirements match as in Kubernetes.

use std::collections::BTreeMap;

use api::{LabelSelector, LabelSelectorRequirement, SelectorOperator};

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn requirement(key: &str, operator: SelectorOperator, values: &[&str]) -> LabelSelectorRequirement {
    LabelSelectorRequirement {
        key: key.to_string(),
        operator,
        values: values.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn in_needs_the_label_with_a_listed_value() {
    let tier_in = requirement("tier", SelectorOperator::In, &["frontend", "cache"]);
    assert!(tier_in.matches(&labels(&[("tier", "cache")])));
    assert!(!tier_in.matches(&labels(&[("tier", "backend")])));
    assert!(!tier_in.matches(&labels(&[("app", "web")])), "absent label");
}

#[test]
fn not_in_matches_absent_labels_too() {
    let not_backend = requirement("tier", SelectorOperator::NotIn, &["backend"]);
    assert!(not_backend.matches(&labels(&[("tier", "frontend")])));
    assert!(
        not_backend.matches(&labels(&[])),
        "no tier label is not a backend tier"
    );
    assert!(!not_backend.matches(&labels(&[("tier", "backend")])));
}

#[test]
fn exists_and_does_not_exist_ignore_values() {
    let exists = requirement("canary", SelectorOperator::Exists, &[]);
    let absent = requirement("canary", SelectorOperator::DoesNotExist, &[]);
    let canary = labels(&[("canary", "")]);
    let stable = labels(&[("app", "web")]);
    assert!(exists.matches(&canary) && !exists.matches(&stable));
    assert!(absent.matches(&stable) && !absent.matches(&canary));
}

#[test]
fn a_selector_needs_every_pair_and_every_expression() {
    let mut selector = LabelSelector::from_pairs([("app", "web")]);
    selector
        .match_expressions
        .push(requirement("env", SelectorOperator::NotIn, &["test"]));
    assert!(selector.matches(&labels(&[("app", "web"), ("env", "prod")])));
    assert!(!selector.matches(&labels(&[("app", "web"), ("env", "test")])));
    assert!(!selector.matches(&labels(&[("app", "api"), ("env", "prod")])));
}

#[test]
fn the_empty_selector_matches_everything() {
    let everything = LabelSelector::default();
    assert!(everything.is_empty());
    assert!(everything.matches(&labels(&[])));
    assert!(everything.matches(&labels(&[("app", "web")])));
}
