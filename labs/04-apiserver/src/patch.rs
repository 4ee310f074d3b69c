//! PATCH: the three patch formats kubectl sends, applied to a stored object.
//!
//! - **JSON patch** (RFC 6902, `application/json-patch+json`): a list of operations on JSON
//!   pointers; `kubectl patch --type=json`.
//! - **JSON merge patch** (RFC 7386, `application/merge-patch+json`): a partial object; `null`
//!   deletes a key, objects merge, everything else (lists too) replaces; `kubectl patch
//!   --type=merge`.
//! - **Strategic merge patch** (`application/strategic-merge-patch+json`): a merge patch that
//!   knows, per field, whether a list is a set of objects keyed by a field (containers by
//!   `name`, ports by `containerPort`) and so merges it element by element instead of replacing
//!   it. What `kubectl apply`, `label`, `annotate`, `scale` and plain `kubectl patch` send.
//!
//! Server-side apply (`application/apply-patch+yaml`) is not supported: the caller answers 415.

use std::fmt;

use serde_json::{Map, Value};

mod json;
mod strategic;

pub use strategic::{ListStrategy, list_strategy};

/// The patch formats the server accepts, chosen by the request's `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    /// RFC 6902 JSON patch: a list of operations.
    Json,
    /// RFC 7386 JSON merge patch: a partial object.
    Merge,
    /// Kubernetes' strategic merge patch: a merge patch with per-field list merge keys.
    StrategicMerge,
}

impl PatchKind {
    /// The patch kind for a `Content-Type` header (parameters such as `; charset=utf-8` are
    /// ignored); `None` for anything else, including server-side apply's
    /// `application/apply-patch+yaml` (the caller answers 415 Unsupported Media Type).
    pub fn from_content_type(content_type: &str) -> Option<PatchKind> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        match media.to_ascii_lowercase().as_str() {
            "application/json-patch+json" => Some(PatchKind::Json),
            "application/merge-patch+json" => Some(PatchKind::Merge),
            "application/strategic-merge-patch+json" => Some(PatchKind::StrategicMerge),
            _ => None,
        }
    }

    /// The media type this kind is sent with.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchKind::Json => "application/json-patch+json",
            PatchKind::Merge => "application/merge-patch+json",
            PatchKind::StrategicMerge => "application/strategic-merge-patch+json",
        }
    }
}

/// Why a patch could not be applied; the message names the path (the caller answers 400 for
/// a malformed patch, 422 when the patched object is invalid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchError {
    /// What went wrong and where, e.g. `json patch: test failed at /spec/replicas`.
    pub message: String,
}

impl PatchError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        PatchError {
            message: message.into(),
        }
    }
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PatchError {}

// ANCHOR: apply_patch
/// Applies `patch` (the request body) of the given kind to `target`, the stored object of
/// resource `resource` (plural, e.g. `deployments`), and returns the patched object.
///
/// The caller validates the result like an update (and keeps the server-owned metadata).
pub fn apply_patch(
    kind: PatchKind,
    resource: &str,
    target: &Value,
    patch: &[u8],
) -> Result<Value, PatchError> {
    let patch: Value = serde_json::from_slice(patch)
        .map_err(|e| PatchError::new(format!("the patch is not valid JSON: {e}")))?;
    match kind {
        PatchKind::Json => json::apply(target, &patch),
        PatchKind::Merge => {
            if !patch.is_object() {
                return Err(PatchError::new(
                    "merge patch: the patch must be a JSON object",
                ));
            }
            Ok(merge_patch(target, &patch))
        }
        PatchKind::StrategicMerge => {
            if !patch.is_object() {
                return Err(PatchError::new(
                    "strategic merge patch: the patch must be a JSON object",
                ));
            }
            strategic::apply(resource, target, &patch)
        }
    }
}
// ANCHOR_END: apply_patch

// ANCHOR: merge_patch
/// RFC 7386 JSON merge patch: when `patch` is an object, each of its keys is merged into
/// `target` (a `null` value removes the key, any other value is merged recursively); any
/// other `patch` (string, number, list, ...) replaces `target` whole.
pub fn merge_patch(target: &Value, patch: &Value) -> Value {
    // EXERCISE(apiserver-merge-patch): a non-object patch replaces the target; otherwise start from the target's keys (or an empty object), remove the keys patched with null, and merge every other key recursively
    let Value::Object(patch) = patch else {
        return patch.clone();
    };
    let mut result = match target {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    for (key, value) in patch {
        if value.is_null() {
            result.remove(key);
        } else {
            let merged = merge_patch(result.get(key).unwrap_or(&Value::Null), value);
            result.insert(key.clone(), merged);
        }
    }
    Value::Object(result)
    // END EXERCISE
}
// ANCHOR_END: merge_patch

/// Computes a merge patch that turns `from` into `to` (the inverse of [`merge_patch`]): keys
/// removed become `null`, changed objects recurse, any other change is the new value.
///
/// A `null` stored in `to` cannot be expressed by a merge patch (it means "delete"), the one
/// limit of RFC 7386.
pub fn merge_diff(from: &Value, to: &Value) -> Value {
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            let mut patch = Map::new();
            for (key, old) in a {
                match b.get(key) {
                    None => {
                        patch.insert(key.clone(), Value::Null);
                    }
                    Some(new) if new != old => {
                        patch.insert(key.clone(), merge_diff(old, new));
                    }
                    Some(_) => {}
                }
            }
            for (key, new) in b {
                if !a.contains_key(key) {
                    patch.insert(key.clone(), merge_diff(&Value::Null, new));
                }
            }
            Value::Object(patch)
        }
        _ => to.clone(),
    }
}
