//! Validation of Deployments, ReplicaSets and their label selectors.

use super::meta::{SUBDOMAIN, validate_labels, validate_object_meta};
use super::names::qualified_name;
use super::pod::validate_pod_spec;
use super::{FieldError, FieldPath, Validate, invalid_each, non_negative, one_of};
use crate::apps::{Deployment, DeploymentStrategy, PodTemplateSpec, ReplicaSet};
use crate::int_or_string::IntOrString;
use crate::meta::Resource;
use crate::selector::{LabelSelector, SelectorOperator};

impl Validate for Deployment {
    fn field_errors(&self) -> Vec<FieldError> {
        let spec = FieldPath::root("spec");
        let mut errors = validate_object_meta(&self.metadata, Deployment::NAMESPACED, SUBDOMAIN);
        let replicas = self.spec.replicas.map(i64::from);
        non_negative(&mut errors, &spec.child("replicas"), replicas);
        errors.extend(validate_selected_template(
            &self.spec.selector,
            &self.spec.template,
            "deployment",
        ));
        if let Some(strategy) = &self.spec.strategy {
            errors.extend(validate_strategy(strategy, &spec.child("strategy")));
        }
        errors
    }
}

impl Validate for ReplicaSet {
    fn field_errors(&self) -> Vec<FieldError> {
        let spec = FieldPath::root("spec");
        let mut errors = validate_object_meta(&self.metadata, ReplicaSet::NAMESPACED, SUBDOMAIN);
        let replicas = self.spec.replicas.map(i64::from);
        non_negative(&mut errors, &spec.child("replicas"), replicas);
        errors.extend(validate_selected_template(
            &self.spec.selector,
            &self.spec.template,
            "replicaset",
        ));
        errors
    }
}

// ANCHOR: selector_matches_template
/// A controller's selector must be non-empty and must select its own template's Pods;
/// otherwise it would create Pods it cannot see, and create more, forever.
fn validate_selected_template(
    selector: &LabelSelector,
    template: &PodTemplateSpec,
    kind: &str,
) -> Vec<FieldError> {
    let spec = FieldPath::root("spec");
    let mut errors = validate_label_selector(selector, &spec.child("selector"));
    if selector.is_empty() {
        let detail = format!("empty selector is invalid for {kind}");
        errors.push(FieldError::invalid(
            &spec.child("selector"),
            &selector.match_labels,
            &detail,
        ));
    } else if !selector.matches(&template.metadata.labels) {
        let labels = &template.metadata.labels;
        let path = spec.child("template").child("metadata").child("labels");
        errors.push(FieldError::invalid(
            &path,
            labels,
            "`selector` does not match template `labels`",
        ));
    }
    let template_spec = spec.child("template").child("spec");
    errors.extend(validate_pod_spec(&template.spec, &template_spec));
    // A controller replaces Pods that exit; a template that says they should stay dead
    // contradicts it.
    let restart_policy = template.spec.restart_policy.as_deref();
    one_of(
        &mut errors,
        &template_spec.child("restartPolicy"),
        restart_policy,
        &["Always"],
    );
    errors
}
// ANCHOR_END: selector_matches_template

/// Keys must be label keys; `In`/`NotIn` need values, `Exists`/`DoesNotExist` must have none.
pub(super) fn validate_label_selector(
    selector: &LabelSelector,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = validate_labels(&selector.match_labels, &path.child("matchLabels"));
    for (i, requirement) in selector.match_expressions.iter().enumerate() {
        let path = path.child("matchExpressions").index(i);
        invalid_each(
            &mut errors,
            &path.child("key"),
            &requirement.key,
            qualified_name(&requirement.key),
        );
        let values = path.child("values");
        match requirement.operator {
            SelectorOperator::In | SelectorOperator::NotIn if requirement.values.is_empty() => {
                let detail = "must be specified when `operator` is 'In' or 'NotIn'";
                errors.push(FieldError::required(&values, detail));
            }
            SelectorOperator::Exists | SelectorOperator::DoesNotExist
                if !requirement.values.is_empty() =>
            {
                let detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'";
                errors.push(FieldError::forbidden(&values, detail));
            }
            _ => {}
        }
    }
    errors
}

fn validate_strategy(strategy: &DeploymentStrategy, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let strategy_type = strategy.strategy_type.as_deref();
    one_of(
        &mut errors,
        &path.child("type"),
        strategy_type,
        &["Recreate", "RollingUpdate"],
    );
    let Some(rolling) = &strategy.rolling_update else {
        return errors;
    };
    if strategy_type == Some("Recreate") {
        let detail = "may not be specified when strategy `type` is 'Recreate'";
        errors.push(FieldError::forbidden(&path.child("rollingUpdate"), detail));
    }
    let path = path.child("rollingUpdate");
    let bounds = [
        ("maxUnavailable", &rolling.max_unavailable),
        ("maxSurge", &rolling.max_surge),
    ];
    for (field, bound) in bounds {
        if let Some(bound) = bound {
            errors.extend(validate_int_or_percent(bound, &path.child(field)));
        }
    }
    let is_zero = |b: &Option<IntOrString>| {
        matches!(b, Some(IntOrString::Int(0)))
            || matches!(b, Some(IntOrString::String(s)) if s == "0%")
    };
    if is_zero(&rolling.max_unavailable) && is_zero(&rolling.max_surge) {
        let value = rolling
            .max_unavailable
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let detail = "may not be 0 when `maxSurge` is 0";
        errors.push(FieldError::invalid(
            &path.child("maxUnavailable"),
            &value,
            detail,
        ));
    }
    errors
}

/// A non-negative count, or a percentage such as `25%`.
fn validate_int_or_percent(value: &IntOrString, path: &FieldPath) -> Vec<FieldError> {
    match value {
        IntOrString::Int(n) if *n < 0 => {
            vec![FieldError::invalid(
                path,
                n,
                "must be greater than or equal to 0",
            )]
        }
        IntOrString::Int(_) => Vec::new(),
        IntOrString::String(s) => {
            let digits = s
                .strip_suffix('%')
                .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
            match digits {
                None => vec![FieldError::invalid(
                    path,
                    s,
                    "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                )],
                Some(d) if d.parse::<u64>().is_ok_and(|p| p > 100) => {
                    vec![FieldError::invalid(
                        path,
                        s,
                        "must not be greater than 100%",
                    )]
                }
                Some(_) => Vec::new(),
            }
        }
    }
}
