//! Field selectors (`?fieldSelector=spec.nodeName=node-1,status.phase!=Failed`): filtering a
//! list or watch by a few fields of the object, the way a kubelet asks only for its own pods.
//!
//! Unlike labels, fields are not free-form: each resource supports a fixed set (Kubernetes'
//! `GetAttrs`/`AddFieldLabelConversionFunc` per kind), so `metadata.name` and
//! `metadata.namespace` work everywhere, `spec.nodeName` only on pods. Every field is
//! compared as a string, and an absent field is the empty string, so `spec.nodeName=` selects
//! the pods no scheduler has bound yet.

use serde_json::Value;

/// How one requirement compares the field with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOperator {
    /// `=` or `==`: the field equals the value.
    Equals,
    /// `!=`: the field differs from the value.
    NotEquals,
}

/// One `field<op>value` term of a field selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    /// The field path, e.g. `spec.nodeName`.
    pub field: String,
    /// The comparison.
    pub operator: FieldOperator,
    /// The value compared with (unescaped).
    pub value: String,
}

/// A parsed field selector for one resource: every requirement must hold (comma = AND).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSelector {
    resource: String,
    requirements: Vec<FieldRequirement>,
}

/// The fields every resource supports.
const COMMON_FIELDS: &[&str] = &["metadata.name", "metadata.namespace"];

// ANCHOR: supported_fields
/// The extra fields a resource supports, as in Kubernetes' per-kind field label conversions.
fn resource_fields(resource: &str) -> &'static [&'static str] {
    match resource {
        "pods" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        "events" => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        "secrets" => &["type"],
        "nodes" => &["spec.unschedulable"],
        "namespaces" => &["status.phase"],
        "replicasets" | "replicationcontrollers" => &["status.replicas"],
        "jobs" => &["status.successful"],
        "services" => &["spec.clusterIP", "spec.type"],
        _ => &[],
    }
}
// ANCHOR_END: supported_fields

impl FieldSelector {
    /// Parses `text` (terms `field=value`, `field==value` or `field!=value`, joined by commas;
    /// `\,` `\=` `\!` and `\\` escape) for `resource` (plural). An empty text selects everything.
    ///
    /// Errors: `field label not supported: <field>` for a field the resource does not have
    /// (Kubernetes' words, a 400), `invalid selector: ...` for a term without an operator.
    pub fn parse(resource: &str, text: &str) -> Result<FieldSelector, String> {
        let mut requirements = Vec::new();
        for term in split_unescaped(text, ',') {
            if term.trim().is_empty() {
                continue;
            }
            let (field, operator, value) = split_term(&term).ok_or_else(|| {
                format!(
                    "invalid selector: '{text}'; can't understand '{term}' (expected field=value, field==value or field!=value)"
                )
            })?;
            let field = field.trim().to_string();
            if !COMMON_FIELDS.contains(&field.as_str())
                && !resource_fields(resource).contains(&field.as_str())
            {
                return Err(format!("field label not supported: {field}"));
            }
            requirements.push(FieldRequirement {
                field,
                operator,
                value: unescape(value),
            });
        }
        Ok(FieldSelector {
            resource: resource.to_string(),
            requirements,
        })
    }

    /// The selector's requirements, in the order given.
    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.requirements
    }

    /// True when the selector has no requirement (and so matches everything).
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// True when `object` satisfies every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        self.requirements.iter().all(|r| {
            let actual = field_value(&self.resource, object, &r.field);
            match r.operator {
                FieldOperator::Equals => actual == r.value,
                FieldOperator::NotEquals => actual != r.value,
            }
        })
    }
}

/// The value of a supported field as a string; absent is `""` (booleans default to `false`).
pub fn field_value(resource: &str, object: &Value, field: &str) -> String {
    let path: Vec<&str> = match (resource, field) {
        ("pods", "status.podIP") => {
            let ip = object
                .pointer("/status/podIP")
                .and_then(Value::as_str)
                .or_else(|| {
                    object
                        .pointer("/status/podIPs/0/ip")
                        .and_then(Value::as_str)
                });
            return ip.unwrap_or("").to_string();
        }
        ("events", "source") => vec!["source", "component"],
        ("events", "reportingComponent") => vec!["reportingController"],
        _ => field.split('.').collect(),
    };
    let value = path.iter().try_fold(object, |value, key| value.get(*key));
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Null) | None => match field {
            "spec.hostNetwork" | "spec.unschedulable" => "false".to_string(),
            "status.replicas" | "status.successful" => "0".to_string(),
            _ => String::new(),
        },
        Some(other) => other.to_string(),
    }
}

/// Splits on `sep` where it is not escaped by a backslash (escapes are kept for `unescape`).
fn split_unescaped(text: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let last = parts.last_mut().expect("never empty");
            last.push(c);
            if let Some(next) = chars.next() {
                last.push(next);
            }
        } else if c == sep {
            parts.push(String::new());
        } else {
            parts.last_mut().expect("never empty").push(c);
        }
    }
    parts
}

/// Splits one term at its first unescaped operator: `!=`, `==` or `=`.
fn split_term(term: &str) -> Option<(&str, FieldOperator, &str)> {
    let bytes = term.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'!' if bytes.get(i + 1) == Some(&b'=') => {
                return Some((&term[..i], FieldOperator::NotEquals, &term[i + 2..]));
            }
            b'=' if bytes.get(i + 1) == Some(&b'=') => {
                return Some((&term[..i], FieldOperator::Equals, &term[i + 2..]));
            }
            b'=' => return Some((&term[..i], FieldOperator::Equals, &term[i + 1..])),
            _ => i += 1,
        }
    }
    None
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}
