//! Subresources: `pods/binding` (the scheduler's decision), and `scale` (`kubectl scale`) for
//! deployments and replicasets, as an `autoscaling/v1` Scale. (`status` is an update of one
//! part, in [`super::update`]; `pods/log` is in [`super::logs`].)

use api::{ObjectMeta, ObjectReference};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::object::{meta_str, parse_body};
use super::update::{Part, replace};
use super::{Call, Context};
use crate::status::StatusError;

/// A `v1` Binding: the body of `POST pods/{name}/binding`, the scheduler's decision.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Binding {
    /// `v1`.
    pub api_version: String,
    /// `Binding`.
    pub kind: String,
    /// The pod's name (and namespace).
    pub metadata: ObjectMeta,
    /// The node: `kind: Node`, `name: <node>`.
    pub target: ObjectReference,
}

impl Binding {
    /// The binding of pod `namespace/pod` to `node`.
    pub fn new(namespace: &str, pod: &str, node: &str) -> Binding {
        Binding {
            api_version: "v1".to_string(),
            kind: "Binding".to_string(),
            metadata: ObjectMeta::namespaced(namespace, pod),
            target: ObjectReference {
                kind: Some("Node".to_string()),
                name: Some(node.to_string()),
                ..ObjectReference::default()
            },
        }
    }
}

// ANCHOR: binding
/// Binds a pod to a node: sets `spec.nodeName` once; a pod already bound is a 409.
pub async fn bind(ctx: &Context, call: &Call) -> Result<Value, StatusError> {
    let body = parse_body(&call.body)?;
    let binding: Binding = serde_path_to_error::deserialize(&body).map_err(|e| {
        StatusError::bad_request(format!(
            "Binding in version \"v1\" cannot be handled as a Binding: {}: {}",
            e.path(),
            e.inner()
        ))
    })?;
    if !(binding.kind.is_empty() || binding.kind == "Binding") {
        return Err(StatusError::bad_request(format!(
            "kind: Invalid value: {:?}: the body of pods/binding must be a Binding",
            binding.kind
        )));
    }
    if let Some(name) = binding.metadata.name.as_deref()
        && !name.is_empty()
        && name != call.name()
    {
        return Err(StatusError::bad_request(format!(
            "metadata.name: Invalid value: {name:?}: the name of the binding does not match the pod's ({:?})",
            call.name()
        )));
    }
    let node = binding.target.name.clone().unwrap_or_default();
    let kind = binding.target.kind.as_deref().unwrap_or("");
    if node.is_empty() || !(kind.is_empty() || kind == "Node") {
        let path = api::FieldPath::root("target");
        let error = if node.is_empty() {
            api::FieldError::required(&path.child("name"), "")
        } else {
            api::FieldError::not_supported(&path.child("kind"), kind, &["Node"])
        };
        return Err(StatusError::invalid("", "Binding", call.name(), &[error]));
    }
    let pod = call.name().to_string();
    let now = serde_json::to_value(ctx.now()).unwrap_or(Value::Null);
    replace(ctx, call, Part::Whole, |current| {
        let bound = current["spec"]["nodeName"].as_str().unwrap_or("");
        if !bound.is_empty() {
            return Err(StatusError::conflict_because(
                "",
                "pods/binding",
                &pod,
                &format!("pod {pod} is already assigned to node {bound:?}"),
            ));
        }
        if !current["metadata"]["deletionTimestamp"].is_null() {
            return Err(StatusError::conflict_because(
                "",
                "pods/binding",
                &pod,
                &format!("pod {pod} is being deleted, cannot be assigned to a host"),
            ));
        }
        let mut bound = current.clone();
        bound["spec"]["nodeName"] = Value::String(node.clone());
        mark_scheduled(&mut bound, &now);
        // Unconditional: the binding is checked against whatever is stored.
        bound["metadata"]["resourceVersion"] = Value::String(String::new());
        Ok(bound)
    })
    .await?;
    Ok(json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": 201,
    }))
}
// ANCHOR_END: binding

/// Sets the `PodScheduled=True` condition of a pod being bound, as Kubernetes' binding does;
/// the transition time is kept when the condition was already true.
fn mark_scheduled(pod: &mut Value, now: &Value) {
    let scheduled = json!({"type": "PodScheduled", "status": "True", "lastTransitionTime": now});
    if !pod["status"].is_object() {
        pod["status"] = json!({});
    }
    if !pod["status"]["conditions"].is_array() {
        pod["status"]["conditions"] = json!([]);
    }
    if let Some(conditions) = pod["status"]["conditions"].as_array_mut() {
        match conditions.iter_mut().find(|c| c["type"] == "PodScheduled") {
            Some(existing) if existing["status"] == "True" => {}
            Some(existing) => *existing = scheduled,
            None => conditions.push(scheduled),
        }
    }
}

// ANCHOR: scale
/// The `autoscaling/v1` Scale of a deployment or replicaset.
pub fn scale_of(object: &Value) -> Value {
    let meta = &object["metadata"];
    let mut metadata = json!({});
    for field in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if !meta[field].is_null() {
            metadata[field] = meta[field].clone();
        }
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": {"replicas": object["spec"]["replicas"].as_i64().unwrap_or(1)},
        "status": {
            "replicas": object["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": selector_string(&object["spec"]["selector"]),
        },
    })
}
// ANCHOR_END: scale

/// Writes a Scale (from a PUT, or a patched one): sets `spec.replicas` of the object, with the
/// Scale's resourceVersion as the precondition. Returns the new Scale.
pub async fn write_scale(ctx: &Context, call: &Call, scale: Value) -> Result<Value, StatusError> {
    if scale["kind"].as_str().is_some_and(|k| k != "Scale") {
        return Err(StatusError::bad_request(format!(
            "kind: Invalid value: {}: the body of the scale subresource must be a Scale",
            scale["kind"]
        )));
    }
    if let Some(name) = meta_str(&scale, "name")
        && !name.is_empty()
        && name != call.name()
    {
        return Err(StatusError::bad_request(format!(
            "metadata.name: Invalid value: {name:?}: the name of the object does not match the name on the URL ({:?})",
            call.name()
        )));
    }
    let path = api::FieldPath::root("spec").child("replicas");
    let replicas = match &scale["spec"]["replicas"] {
        Value::Null => 0,
        value => value.as_i64().ok_or_else(|| {
            let error = api::FieldError::invalid(&path, &value.to_string(), "must be an integer");
            StatusError::invalid("autoscaling", "Scale", call.name(), &[error])
        })?,
    };
    if replicas < 0 {
        let error =
            api::FieldError::invalid(&path, &replicas, "must be greater than or equal to 0");
        return Err(StatusError::invalid(
            "autoscaling",
            "Scale",
            call.name(),
            &[error],
        ));
    }
    let rv = scale["metadata"]["resourceVersion"].clone();
    let object = replace(ctx, call, Part::Main, |current| {
        let mut scaled = current.clone();
        scaled["spec"]["replicas"] = Value::from(replicas);
        scaled["metadata"]["resourceVersion"] = match &rv {
            Value::String(_) => rv.clone(),
            _ => Value::String(String::new()),
        };
        Ok(scaled)
    })
    .await?;
    Ok(scale_of(&object))
}

/// A label selector as the string `kubectl` and the HPA read: `app=web,tier in (a,b)`.
pub fn selector_string(selector: &Value) -> String {
    let mut parts: Vec<String> = selector["matchLabels"]
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    for expression in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = expression["key"].as_str().unwrap_or("");
        let values: Vec<&str> = expression["values"]
            .as_array()
            .map(|vs| vs.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        parts.push(match expression["operator"].as_str().unwrap_or("") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            _ => format!("!{key}"),
        });
    }
    parts.join(",")
}
