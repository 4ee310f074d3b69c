//! `NodeAffinity`: `nodeSelector` and node affinity, required (a filter) and preferred (a
//! score).
//!
//! Requirements are compiled once per pod into [`Requirement`]s: the operator becomes an enum
//! and `Gt`/`Lt` operands become integers, so a malformed affinity is an error naming its
//! field, found before any node is looked at.

use std::collections::BTreeMap;

use api::{Node, NodeSelectorRequirement, NodeSelectorTerm, Pod};

use crate::cache::NodeInfo;
use crate::framework::{FilterPlugin, ScorePlugin, Unfit, scale_to_max};
use crate::pod_info::{InvalidPod, PodInfo};

/// A requirement's operator, with parsed operands for the numeric ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operator {
    /// The label's value is one of the values.
    In,
    /// The label is absent, or its value is none of the values.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
    /// The label's value, as an integer, is greater than this.
    Gt(i64),
    /// The label's value, as an integer, is less than this.
    Lt(i64),
}

/// One compiled `matchExpressions` (or `matchFields`) entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The label key (or field path).
    pub key: String,
    /// The operator.
    pub operator: Operator,
    /// The operands of `In` and `NotIn`.
    pub values: Vec<String>,
}

impl Requirement {
    // ANCHOR: requirement_matches
    /// Whether a node whose label `key` has `value` (`None`: no such label) satisfies this
    /// requirement. `Gt` and `Lt` need a label whose value parses as an integer.
    pub fn matches(&self, value: Option<&str>) -> bool {
        // EXERCISE(scheduler-node-affinity): match on the operator; NotIn and DoesNotExist hold for a missing label, Gt and Lt need the value to parse as an i64
        match (&self.operator, value) {
            (Operator::In, Some(v)) => self.values.iter().any(|x| x == v),
            (Operator::In, None) => false,
            (Operator::NotIn, Some(v)) => !self.values.iter().any(|x| x == v),
            (Operator::NotIn, None) => true,
            (Operator::Exists, found) => found.is_some(),
            (Operator::DoesNotExist, found) => found.is_none(),
            (Operator::Gt(bound), Some(v)) => v.parse::<i64>().is_ok_and(|n| n > *bound),
            (Operator::Lt(bound), Some(v)) => v.parse::<i64>().is_ok_and(|n| n < *bound),
            (Operator::Gt(_) | Operator::Lt(_), None) => false,
        }
        // END EXERCISE
    }
    // ANCHOR_END: requirement_matches
}

/// A compiled `nodeSelectorTerms` entry: all its requirements must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeTerm {
    /// Requirements on node labels.
    pub expressions: Vec<Requirement>,
    /// Requirements on node fields (only `metadata.name`).
    pub fields: Vec<Requirement>,
}

impl NodeTerm {
    /// True when every requirement holds; an empty term matches no node (as in Kubernetes).
    pub fn matches(&self, node: &Node) -> bool {
        if self.expressions.is_empty() && self.fields.is_empty() {
            return false;
        }
        let labels = &node.metadata.labels;
        let name = node.metadata.name.as_deref();
        self.expressions
            .iter()
            .all(|r| r.matches(labels.get(&r.key).map(String::as_str)))
            && self.fields.iter().all(|r| r.matches(name))
    }
}

/// True when every `nodeSelector` label is on the node with the same value.
pub fn selector_matches(selector: &BTreeMap<String, String>, node: &Node) -> bool {
    selector
        .iter()
        .all(|(key, value)| node.metadata.labels.get(key) == Some(value))
}

/// A pod's node affinity, compiled.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompiledAffinity {
    /// The required terms (`None` when there are none: every node matches).
    pub required: Option<Vec<NodeTerm>>,
    /// The preferred terms with their weights.
    pub preferred: Vec<(i64, NodeTerm)>,
}

/// Compiles the pod's required and preferred node affinity terms.
pub fn compile_affinity(pod: &Pod) -> Result<CompiledAffinity, InvalidPod> {
    let Some(affinity) = pod
        .spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
    else {
        return Ok(CompiledAffinity::default());
    };
    let base = "spec.affinity.nodeAffinity";
    let required = match &affinity.required {
        None => None,
        Some(selector) => {
            let path = format!("{base}.requiredDuringSchedulingIgnoredDuringExecution");
            let terms = selector.node_selector_terms.iter().enumerate();
            let compiled = terms
                .map(|(i, term)| compile_term(term, &format!("{path}.nodeSelectorTerms[{i}]")));
            Some(compiled.collect::<Result<Vec<_>, _>>()?)
        }
    };
    let mut preferred = Vec::new();
    for (i, term) in affinity.preferred.iter().enumerate() {
        let path = format!("{base}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
        if !(1..=100).contains(&term.weight) {
            return Err(InvalidPod {
                field: format!("{path}.weight"),
                reason: format!("must be in the range 1-100, got {}", term.weight),
            });
        }
        let compiled = compile_term(&term.preference, &format!("{path}.preference"))?;
        preferred.push((i64::from(term.weight), compiled));
    }
    Ok(CompiledAffinity {
        required,
        preferred,
    })
}

fn compile_term(term: &NodeSelectorTerm, path: &str) -> Result<NodeTerm, InvalidPod> {
    let expressions = term.match_expressions.iter().enumerate();
    let fields = term.match_fields.iter().enumerate();
    Ok(NodeTerm {
        expressions: expressions
            .map(|(i, r)| compile_requirement(r, &format!("{path}.matchExpressions[{i}]")))
            .collect::<Result<_, _>>()?,
        fields: fields
            .map(|(i, r)| compile_field(r, &format!("{path}.matchFields[{i}]")))
            .collect::<Result<_, _>>()?,
    })
}

fn compile_field(r: &NodeSelectorRequirement, path: &str) -> Result<Requirement, InvalidPod> {
    if r.key != "metadata.name" {
        return Err(invalid(
            path,
            "key",
            format!("not a supported field selector: {:?}", r.key),
        ));
    }
    let compiled = compile_requirement(r, path)?;
    match compiled.operator {
        Operator::In | Operator::NotIn => Ok(compiled),
        _ => Err(invalid(
            path,
            "operator",
            "must be In or NotIn for a field".to_string(),
        )),
    }
}

fn compile_requirement(r: &NodeSelectorRequirement, path: &str) -> Result<Requirement, InvalidPod> {
    let operator = match r.operator.as_str() {
        "In" | "NotIn" if r.values.is_empty() => {
            return Err(invalid(
                path,
                "values",
                format!("must be specified for {}", r.operator),
            ));
        }
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Exists" | "DoesNotExist" if !r.values.is_empty() => {
            return Err(invalid(
                path,
                "values",
                format!("must be empty for {}", r.operator),
            ));
        }
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        "Gt" => Operator::Gt(single_integer(r, path)?),
        "Lt" => Operator::Lt(single_integer(r, path)?),
        other => {
            let reason = format!(
                "{other:?} is not a valid operator (In, NotIn, Exists, DoesNotExist, Gt, Lt)"
            );
            return Err(invalid(path, "operator", reason));
        }
    };
    Ok(Requirement {
        key: r.key.clone(),
        operator,
        values: r.values.clone(),
    })
}

fn single_integer(r: &NodeSelectorRequirement, path: &str) -> Result<i64, InvalidPod> {
    match r.values.as_slice() {
        [one] => one.parse().map_err(|_| {
            invalid(
                path,
                "values[0]",
                format!("must be an integer for {}, got {one:?}", r.operator),
            )
        }),
        _ => Err(invalid(
            path,
            "values",
            format!("must have exactly one value for {}", r.operator),
        )),
    }
}

fn invalid(path: &str, field: &str, reason: String) -> InvalidPod {
    InvalidPod {
        field: format!("{path}.{field}"),
        reason,
    }
}

/// Filters on `nodeSelector` and required node affinity; scores preferred node affinity.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeAffinity;

impl FilterPlugin for NodeAffinity {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }

    fn filter(&self, pod: &PodInfo, node: &NodeInfo) -> Result<(), Unfit> {
        let selector_ok = selector_matches(&pod.pod.spec.node_selector, &node.node);
        // Terms are OR-ed: any one matching is enough.
        let affinity_ok = pod
            .required_terms
            .as_ref()
            .is_none_or(|terms| terms.iter().any(|term| term.matches(&node.node)));
        if selector_ok && affinity_ok {
            Ok(())
        } else {
            Err(Unfit::because(
                "node(s) didn't match Pod's node affinity/selector",
            ))
        }
    }
}

impl ScorePlugin for NodeAffinity {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }

    /// The sum of the weights of the preferred terms the node matches.
    fn score(&self, pod: &PodInfo, node: &NodeInfo) -> i64 {
        pod.preferred_terms
            .iter()
            .filter(|(_, term)| term.matches(&node.node))
            .map(|(weight, _)| weight)
            .sum()
    }

    fn normalize(&self, scores: &mut [i64]) {
        scale_to_max(scores);
    }
}
