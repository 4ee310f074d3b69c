//! Objects on their way in and out: decoding a body, checking it against the path, typed
//! decoding with lab 00's structs (defaults, validation), and the stored form.

use serde_json::Value;
use serde_path_to_error::Segment;

use super::route::{Query, Route};
use crate::resources::ResourceInfo;
use crate::status::StatusError;
use crate::storage::Stored;

/// What to do with fields the typed struct does not know (`?fieldValidation=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    /// Drop them silently (the default, as Kubernetes).
    Ignore,
    /// Drop them (Kubernetes would also send a warning header).
    Warn,
    /// Refuse the request with a 400 naming every unknown field.
    Strict,
}

impl FieldValidation {
    /// Reads `fieldValidation` from the query; a 400 for an unsupported value.
    pub fn from_query(query: &Query) -> Result<FieldValidation, StatusError> {
        match query.non_empty("fieldValidation") {
            None | Some("Ignore") => Ok(FieldValidation::Ignore),
            Some("Warn") => Ok(FieldValidation::Warn),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some(other) => Err(StatusError::bad_request(format!(
                "fieldValidation: Unsupported value: {other:?}: supported values: \"Ignore\", \"Warn\", \"Strict\""
            ))),
        }
    }
}

/// Parses a request body as a JSON object; a 400 with the decoder's line and column if it is
/// not one.
pub fn parse_body(body: &[u8]) -> Result<Value, StatusError> {
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        StatusError::bad_request(format!("error decoding the request body as JSON: {error}"))
    })?;
    if !value.is_object() {
        return Err(StatusError::bad_request(
            "error decoding the request body: the body must be a JSON object",
        ));
    }
    Ok(value)
}

/// Checks `apiVersion` and `kind` against the path (filling them in when absent), the
/// namespace against the path's (defaulting it), and the name against the path's (if any).
pub fn check_identity(
    route: &Route,
    kind: &str,
    api_version: &str,
    object: &mut Value,
) -> Result<(), StatusError> {
    for (field, expected) in [("apiVersion", api_version), ("kind", kind)] {
        match object.get(field) {
            None | Some(Value::Null) => object[field] = Value::String(expected.to_string()),
            Some(Value::String(given)) if given == expected => {}
            Some(given) => {
                return Err(StatusError::bad_request(format!(
                    "{field}: Invalid value: {given}: the {field} of the object does not match the path, which expects {expected:?}"
                )));
            }
        }
    }
    if !object.get("metadata").is_some_and(Value::is_object) {
        if object.get("metadata").is_some_and(|m| !m.is_null()) {
            return Err(StatusError::bad_request(
                "metadata: Invalid value: must be an object",
            ));
        }
        object["metadata"] = Value::Object(Default::default());
    }
    let meta = &mut object["metadata"];
    if route.resource.namespaced {
        let path_ns = route.namespace.as_deref().unwrap_or("default");
        match meta.get("namespace").and_then(Value::as_str) {
            None | Some("") => meta["namespace"] = Value::String(path_ns.to_string()),
            Some(ns) if ns == path_ns => {}
            Some(ns) => {
                return Err(StatusError::bad_request(format!(
                    "metadata.namespace: Invalid value: {ns:?}: the namespace of the provided object does not match the namespace sent on the request ({path_ns:?})"
                )));
            }
        }
    } else if let Some(map) = meta.as_object_mut() {
        map.remove("namespace");
    }
    if let Some(path_name) = &route.name {
        match meta.get("name").and_then(Value::as_str) {
            None | Some("") => meta["name"] = Value::String(path_name.clone()),
            Some(name) if name == path_name => {}
            Some(name) => {
                return Err(StatusError::bad_request(format!(
                    "metadata.name: Invalid value: {name:?}: the name of the object does not match the name on the URL ({path_name:?})"
                )));
            }
        }
    }
    Ok(())
}

// ANCHOR: typed
/// Decodes an object with lab 00's typed struct: unknown fields are dropped (or refused with
/// `Strict`), a wrong type is a 400 naming the field, broken rules are a 422 listing them all.
/// Returns the normalized object.
pub fn typed(
    resource: &ResourceInfo,
    mut object: Value,
    mode: FieldValidation,
) -> Result<Value, StatusError> {
    let mut unknown = Vec::new();
    loop {
        match (resource.decode)(&object) {
            Ok(typed) => {
                if mode == FieldValidation::Strict && !unknown.is_empty() {
                    let listed: Vec<String> = unknown
                        .iter()
                        .map(|f| format!("unknown field {f:?}"))
                        .collect();
                    return Err(StatusError::bad_request(format!(
                        "strict decoding error: {}",
                        listed.join(", ")
                    )));
                }
                if !typed.errors.is_empty() {
                    let name = object["metadata"]["name"].as_str().unwrap_or("");
                    return Err(StatusError::invalid(
                        resource.group,
                        resource.kind,
                        name,
                        &typed.errors,
                    ));
                }
                return Ok(typed.value);
            }
            Err(error) => {
                let segments: Vec<Segment> = error.path().iter().cloned().collect();
                let message = error.inner().to_string();
                if message.starts_with("unknown field")
                    && remove_at(&mut object, &segments)
                    && unknown.len() < 100
                {
                    unknown.push(error.path().to_string());
                    continue;
                }
                return Err(StatusError::bad_request(format!(
                    "{} in version {:?} cannot be handled as a {}: {}: {}",
                    resource.kind,
                    resource.api_version(),
                    resource.kind,
                    error.path(),
                    message
                        .split(", expected one of")
                        .next()
                        .unwrap_or(&message)
                )));
            }
        }
    }
}
// ANCHOR_END: typed

/// Removes the field at `path`; false when there is nothing there.
fn remove_at(object: &mut Value, path: &[Segment]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut current = object;
    for segment in parents {
        current = match segment {
            Segment::Map { key } => match current.get_mut(key.as_str()) {
                Some(next) => next,
                None => return false,
            },
            Segment::Seq { index } => match current.get_mut(*index) {
                Some(next) => next,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, current.as_object_mut()) {
        (Segment::Map { key }, Some(map)) => map.remove(key).is_some(),
        _ => false,
    }
}

/// The stored form of an object: JSON without `resourceVersion`, which the storage revision
/// supplies on every read.
pub fn encode(object: &Value) -> Vec<u8> {
    let mut object = object.clone();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
    }
    serde_json::to_vec(&object).unwrap_or_default()
}

/// A stored object as clients see it: `metadata.resourceVersion` is the key's revision.
pub fn decode(stored: &Stored) -> Result<Value, StatusError> {
    let mut object: Value = serde_json::from_slice(&stored.value).map_err(|error| {
        StatusError::internal(format!(
            "the object stored at {} does not decode: {error}",
            stored.key
        ))
    })?;
    set_resource_version(&mut object, stored.mod_revision);
    Ok(object)
}

/// Sets `metadata.resourceVersion`.
pub fn set_resource_version(object: &mut Value, revision: i64) {
    if object.get("metadata").is_none_or(|m| !m.is_object()) {
        object["metadata"] = Value::Object(Default::default());
    }
    object["metadata"]["resourceVersion"] = Value::String(revision.to_string());
}

/// A string field of `metadata`.
pub fn meta_str<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object.get("metadata")?.get(field)?.as_str()
}

/// The finalizers of an object.
pub fn finalizers(object: &Value) -> Vec<String> {
    object["metadata"]["finalizers"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
