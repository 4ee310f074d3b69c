//! Reading manifests: JSON or (multi-document) YAML in, typed objects out, strictly.
//!
//! Strict means an unknown field is an error, not silently dropped: a misspelled
//! `imagePullPolicyy` would otherwise be ignored and the Pod would run with the default policy.
//! And every error names the field by its full path, so the user knows where to look.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::meta::Resource;
use crate::object::Object;

/// Why a manifest could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Which document of the input (0-based) failed. A syntax error is reported against
    /// document 0, because the input could not be split into documents; the JSON or YAML
    /// parser's message then gives the position.
    pub document: usize,
    /// The full path of the offending field, e.g. `spec.containers[0].image`; empty when the
    /// document as a whole is at fault (not YAML, not an object).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "document {}: ", self.document)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

/// A field path and a message, split out of a deserialization error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldLocation {
    /// The full path, e.g. `spec.containers[0].imagePullPolicyy`.
    pub path: String,
    /// The message without the field's name, e.g. `unknown field`.
    pub message: String,
}

// ANCHOR: parse_manifests
/// Parses one or more manifests: a JSON object, or YAML documents separated by `---`.
pub fn parse_manifests(text: &str) -> Result<Vec<Object>, ParseError> {
    let documents = split_documents(text)?;
    documents
        .into_iter()
        .enumerate()
        .map(|(index, document)| {
            parse_object(document).map_err(|(path, message)| ParseError {
                document: index,
                path,
                message,
            })
        })
        .collect()
}
// ANCHOR_END: parse_manifests

/// Reads the text into untyped documents. JSON goes to serde_json for its precise messages;
/// everything else is YAML (of which JSON is a subset, so nothing is refused twice).
fn split_documents(text: &str) -> Result<Vec<Value>, ParseError> {
    let whole_input = |message: String| ParseError {
        document: 0,
        path: String::new(),
        message,
    };
    if text.trim_start().starts_with('{') {
        let value =
            serde_json::from_str(text).map_err(|e| whole_input(format!("invalid JSON: {e}")))?;
        return Ok(vec![value]);
    }
    // Kubernetes reads YAML 1.1, where `defaultMode: 0644` is octal (420): manifests rely on it.
    let options = serde_saphyr::options! { legacy_octal_numbers: true };
    serde_saphyr::from_multiple_with_options(text, options)
        .map_err(|e| whole_input(format!("invalid YAML: {e}")))
}

// ANCHOR: dispatch
/// Turns one untyped document into a typed object, choosing the type by apiVersion and kind.
fn parse_object(document: Value) -> Result<Object, (String, String)> {
    let api_version = required_string(&document, "apiVersion")?;
    let kind = required_string(&document, "kind")?;
    Ok(match (api_version.as_str(), kind.as_str()) {
        ("v1", "Pod") => Object::Pod(decode(document)?),
        ("v1", "Service") => Object::Service(decode(document)?),
        ("v1", "Endpoints") => Object::Endpoints(decode(document)?),
        ("v1", "ConfigMap") => Object::ConfigMap(decode(document)?),
        ("v1", "Secret") => Object::Secret(decode(document)?),
        ("v1", "Node") => Object::Node(decode(document)?),
        ("v1", "Namespace") => Object::Namespace(decode(document)?),
        ("apps/v1", "Deployment") => Object::Deployment(decode(document)?),
        ("apps/v1", "ReplicaSet") => Object::ReplicaSet(decode(document)?),
        ("v1", "Event") => Object::Event(decode(document)?),
        ("coordination.k8s.io/v1", "Lease") => Object::Lease(decode(document)?),
        _ => {
            let message = format!("no kind {kind:?} is registered for version {api_version:?}");
            return Err(("kind".to_string(), message));
        }
    })
}
// ANCHOR_END: dispatch

fn required_string(document: &Value, field: &str) -> Result<String, (String, String)> {
    if !document.is_object() {
        return Err((
            String::new(),
            "a manifest must be a mapping (an object)".to_string(),
        ));
    }
    match document.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) | None => Err((field.to_string(), "Required value".to_string())),
        Some(other) => Err((field.to_string(), format!("must be a string, not {other}"))),
    }
}

// ANCHOR: decode
/// Deserializes a typed object, keeping track of the path to whatever fails.
fn decode<T: Resource + DeserializeOwned>(document: Value) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(document).map_err(|error| {
        let FieldLocation { path, message } =
            locate_error(&error.path().to_string(), &error.inner().to_string());
        (path, message)
    })
}
// ANCHOR_END: decode

// ANCHOR: locate_error
/// Splits a deserialization error into the field path and a message fit for a user.
///
/// `serde_path_to_error` reports the path of the value being read when the error happened
/// (`.` for the document itself). Reading a `serde_json::Value`, that path already ends with an
/// unknown field's name; serde's message ("unknown field `x`, expected one of `a`, `b`, ...")
/// would repeat it and list forty alternatives, so it is shortened to what Kubernetes says.
pub fn locate_error(path: &str, serde_message: &str) -> FieldLocation {
    let path = if path == "." { "" } else { path };
    let message = if serde_message.starts_with("unknown field `") {
        "unknown field"
    } else {
        serde_message
    };
    FieldLocation {
        path: path.to_string(),
        message: message.to_string(),
    }
}
// ANCHOR_END: locate_error
