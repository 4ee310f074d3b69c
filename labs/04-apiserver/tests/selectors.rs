//! Field and label selectors from query strings.

use std::collections::BTreeMap;

use api::{LabelSelector, LabelSelectorRequirement, SelectorOperator};
use apiserver::fieldselector::FieldSelector;
use apiserver::labelselector::{format_label_selector, parse_label_selector};
use serde_json::{Value, json};

fn pod(name: &str, node: Option<&str>, phase: &str) -> Value {
    let mut pod = json!({
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"restartPolicy": "Always", "containers": [{"name": "c", "image": "i"}]},
        "status": {"phase": phase}
    });
    if let Some(node) = node {
        pod["spec"]["nodeName"] = json!(node);
    }
    pod
}

#[test]
fn field_selectors_filter_pods() {
    let pods = [
        pod("a", Some("node-1"), "Running"),
        pod("b", Some("node-2"), "Running"),
        pod("c", None, "Pending"),
        pod("d", Some("node-1"), "Failed"),
    ];
    let cases = [
        ("", vec!["a", "b", "c", "d"]),
        ("spec.nodeName=node-1", vec!["a", "d"]),
        ("spec.nodeName==node-1", vec!["a", "d"]),
        ("spec.nodeName!=node-1", vec!["b", "c"]),
        // An absent field is the empty string: how to ask for pods not yet scheduled.
        ("spec.nodeName=", vec!["c"]),
        ("spec.nodeName!=", vec!["a", "b", "d"]),
        ("spec.nodeName=node-1,status.phase!=Failed", vec!["a"]),
        ("metadata.name=b", vec!["b"]),
        (
            "metadata.namespace=default,spec.restartPolicy=Always",
            vec!["a", "b", "c", "d"],
        ),
        ("status.phase=Pending", vec!["c"]),
    ];
    for (text, expected) in cases {
        let selector = FieldSelector::parse("pods", text).unwrap();
        let got: Vec<&str> = pods
            .iter()
            .filter(|p| selector.matches(p))
            .map(|p| p["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(got, expected, "{text}");
    }
}

#[test]
fn field_selectors_for_events_secrets_and_nodes() {
    let event = json!({
        "metadata": {"name": "e1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
        "reason": "Scheduled", "type": "Normal", "source": {"component": "default-scheduler"}
    });
    for (text, expected) in [
        ("involvedObject.kind=Pod,involvedObject.name=web", true),
        ("involvedObject.name=db", false),
        ("reason=Scheduled,type!=Warning", true),
        ("source=default-scheduler", true),
    ] {
        assert_eq!(
            FieldSelector::parse("events", text)
                .unwrap()
                .matches(&event),
            expected,
            "{text}"
        );
    }
    let secret = json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls"});
    assert!(
        FieldSelector::parse("secrets", "type=kubernetes.io/tls")
            .unwrap()
            .matches(&secret)
    );
    let node = json!({"metadata": {"name": "n"}, "spec": {}});
    assert!(
        FieldSelector::parse("nodes", "spec.unschedulable=false")
            .unwrap()
            .matches(&node)
    );
}

#[test]
fn field_selector_escapes() {
    let cm = json!({"metadata": {"name": "a,b=c"}});
    let selector = FieldSelector::parse("configmaps", r"metadata.name=a\,b\=c").unwrap();
    assert_eq!(selector.requirements().len(), 1);
    assert_eq!(selector.requirements()[0].value, "a,b=c");
    assert!(selector.matches(&cm));
}

#[test]
fn field_selector_errors() {
    let cases = [
        (
            "pods",
            "spec.foo=bar",
            "field label not supported: spec.foo",
        ),
        (
            "configmaps",
            "spec.nodeName=n",
            "field label not supported: spec.nodeName",
        ),
        (
            "secrets",
            "status.phase=Running",
            "field label not supported: status.phase",
        ),
        (
            "pods",
            "spec.nodeName",
            "invalid selector: 'spec.nodeName'; can't understand 'spec.nodeName'",
        ),
        ("pods", "metadata.name=a,oops", "can't understand 'oops'"),
    ];
    for (resource, text, expected) in cases {
        let err = FieldSelector::parse(resource, text).unwrap_err();
        assert!(err.contains(expected), "{text}: {err}");
    }
}

fn req(key: &str, operator: SelectorOperator, values: &[&str]) -> LabelSelectorRequirement {
    LabelSelectorRequirement {
        key: key.to_string(),
        operator,
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

#[test]
fn label_selectors_parse_every_form() {
    use SelectorOperator::*;
    let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let cases: Vec<(&str, LabelSelector)> = vec![
        ("", LabelSelector::default()),
        ("app=web", LabelSelector::from_pairs([("app", "web")])),
        ("app==web", LabelSelector::from_pairs([("app", "web")])),
        (
            "app = web , tier!=db",
            LabelSelector {
                match_labels: labels(&[("app", "web")]),
                match_expressions: vec![req("tier", NotIn, &["db"])],
            },
        ),
        (
            "tier in (front, cache),env notin (prod)",
            LabelSelector {
                match_labels: BTreeMap::new(),
                match_expressions: vec![
                    req("tier", In, &["front", "cache"]),
                    req("env", NotIn, &["prod"]),
                ],
            },
        ),
        (
            "app,!canary",
            LabelSelector {
                match_labels: BTreeMap::new(),
                match_expressions: vec![req("app", Exists, &[]), req("canary", DoesNotExist, &[])],
            },
        ),
        (
            "example.com/team=a,app=x,app=y",
            LabelSelector {
                match_labels: labels(&[("example.com/team", "a"), ("app", "x")]),
                match_expressions: vec![req("app", In, &["y"])],
            },
        ),
        ("app=", LabelSelector::from_pairs([("app", "")])),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_label_selector(text).unwrap(), expected, "{text:?}");
    }
}

#[test]
fn parsed_label_selectors_match() {
    let labels: BTreeMap<String, String> = [("app", "web"), ("tier", "front")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (text, expected) in [
        ("app=web", true),
        ("app!=web", false),
        ("app!=db", true),
        ("missing!=x", true),
        ("tier in (front,cache)", true),
        ("tier notin (front)", false),
        ("app,tier", true),
        ("!canary", true),
        ("!app", false),
        ("app=web,tier=back", false),
    ] {
        assert_eq!(
            parse_label_selector(text).unwrap().matches(&labels),
            expected,
            "{text}"
        );
    }
}

#[test]
fn label_selector_errors_say_where_and_why() {
    let cases = [
        (
            "app in web",
            "unable to parse requirement: at position 7 of \"app in web\": found identifier 'web', expected: '(' after in/notin",
        ),
        ("app in (a,b", "found end of input, expected: ',' or ')'"),
        (
            "app=web,",
            "found end of input, expected: identifier (a label key)",
        ),
        (
            "=web",
            "at position 0 of \"=web\": found '=', expected: identifier (a label key)",
        ),
        (
            "app web",
            "found identifier 'web', expected: '=', '==', '!=', 'in', 'notin', ',' or end of input",
        ),
        ("app>3", "found '>'"),
        ("!", "expected: identifier (a label key) after '!'"),
        (
            "app in ()",
            "for 'in', 'notin' operators, values set can't be empty",
        ),
        (
            "app=a b",
            "found identifier 'b', expected: ',' or end of input",
        ),
        ("-app=x", "invalid label key \"-app\""),
        ("app=-x", "invalid label value \"-x\" for key \"app\""),
        (
            "Bad_Prefix/app=x",
            "invalid label key \"Bad_Prefix/app\": the prefix must be a DNS subdomain",
        ),
    ];
    for (text, expected) in cases {
        let err = parse_label_selector(text).unwrap_err();
        assert!(err.contains(expected), "{text:?}: got {err:?}");
    }
    let long = format!("app={}", "a".repeat(64));
    assert!(
        parse_label_selector(&long)
            .unwrap_err()
            .contains("no more than 63 characters")
    );
}

#[test]
fn selectors_format_back_sorted_by_key() {
    for (text, formatted) in [
        (
            "tier in (front,cache),app=web",
            "app=web,tier in (cache,front)",
        ),
        ("!canary,app", "app,!canary"),
        ("env!=prod", "env!=prod"),
        ("", "<none>"),
    ] {
        assert_eq!(
            format_label_selector(&parse_label_selector(text).unwrap()),
            formatted
        );
    }
}
