//! get and list: reading one object, or a consistent page of many.
//!
//! A paginated list (`?limit=`) reads every page at the revision of the first one, so that
//! the pages together are one snapshot even while others write. The `continue` token carries
//! that revision and the last key returned; once the revision is compacted away, the token is
//! too old (410 Expired) and the client starts over.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::filter::Filter;
use super::object::decode;
use super::{Call, Context, read_stored, storage_error};
use crate::status::StatusError;
use crate::storage::{ListRequest, StorageError};

/// Reads the named object.
pub async fn get(ctx: &Context, call: &Call) -> Result<Value, StatusError> {
    let (_, object) = read_stored(ctx, call).await?;
    Ok(object)
}

/// One page of a list: the matching objects, the revision read, and the token for the next
/// page (none after the last).
#[derive(Debug, Clone, PartialEq)]
pub struct ListResult {
    /// The objects that passed the filter, in key order.
    pub items: Vec<Value>,
    /// The revision the list was read at.
    pub revision: i64,
    /// The `continue` token, when more objects remain.
    pub continue_token: Option<String>,
}

// ANCHOR: continue_token
/// The `continue` token: the revision the list is read at and the last key returned,
/// base64-encoded JSON as Kubernetes makes it (opaque to clients).
pub fn encode_continue(revision: i64, last_key: &str) -> String {
    let token = json!({"v": "meta.k8s.io/v1", "rv": revision, "start": last_key});
    URL_SAFE_NO_PAD.encode(token.to_string())
}

/// Reads a `continue` token back into (revision, last key); a 400 when it is not one of ours
/// or does not belong to the list's `prefix`.
pub fn decode_continue(token: &str, prefix: &str) -> Result<(i64, String), StatusError> {
    // EXERCISE(apiserver-continue): decode the base64, parse the JSON, check "v", read "rv" (a positive integer) and "start" (a key under prefix); any failure is a 400 "continue key is not valid"
    let invalid = |why: &str| StatusError::bad_request(format!("continue key is not valid: {why}"));
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| invalid("not base64"))?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| invalid("not JSON"))?;
    if value["v"] != "meta.k8s.io/v1" {
        return Err(invalid("unknown version"));
    }
    let revision = value["rv"]
        .as_i64()
        .filter(|rv| *rv > 0)
        .ok_or_else(|| invalid("no revision"))?;
    let start = value["start"]
        .as_str()
        .ok_or_else(|| invalid("no start key"))?;
    if !start.starts_with(prefix) {
        return Err(invalid("it belongs to another list"));
    }
    Ok((revision, start.to_string()))
    // END EXERCISE
}
// ANCHOR_END: continue_token

// ANCHOR: list
/// Lists the objects under the route's prefix that pass `filter`, honouring `limit`,
/// `continue` and `resourceVersion` (with `resourceVersionMatch=Exact`).
pub async fn list(ctx: &Context, call: &Call, filter: &Filter) -> Result<ListResult, StatusError> {
    let resource = call.route.resource;
    let prefix = resource.prefix(call.route.namespace.as_deref());
    let limit = match call.query.integer("limit")? {
        Some(n) if n > 0 => Some(n as usize),
        _ => None,
    };
    let continuing = call.query.non_empty("continue");
    let (mut revision, mut start_after) = match continuing {
        Some(token) => {
            let (rv, key) = decode_continue(token, &prefix)?;
            (Some(rv), Some(key))
        }
        None => (exact_revision(call)?, None),
    };
    let mut items = Vec::new();
    loop {
        let request = ListRequest {
            prefix: prefix.clone(),
            start_after: start_after.clone(),
            limit: limit.map(|l| l - items.len()),
            revision,
        };
        let page = ctx.storage.list(&request).await.map_err(|error| match error {
            StorageError::Compacted { .. } if continuing.is_some() => StatusError::expired(
                "continue token too old: the provided continue parameter is too old to display a \
                 consistent list result; start a new list without the continue parameter",
            ),
            other => storage_error(call, other),
        })?;
        revision = Some(page.revision);
        for stored in &page.items {
            let object = decode(stored)?;
            if filter.matches(&object) {
                items.push(object);
            }
            start_after = Some(stored.key.clone());
        }
        let full = limit.is_some_and(|l| items.len() >= l);
        if !page.more || page.items.is_empty() || full {
            let continue_token = match (&start_after, page.more) {
                (Some(last), true) => Some(encode_continue(page.revision, last)),
                _ => None,
            };
            return Ok(ListResult {
                items,
                revision: page.revision,
                continue_token,
            });
        }
    }
}
// ANCHOR_END: list

/// The revision of `resourceVersion=N&resourceVersionMatch=Exact`; other lists read now.
fn exact_revision(call: &Call) -> Result<Option<i64>, StatusError> {
    match (
        call.query.non_empty("resourceVersion"),
        call.query.non_empty("resourceVersionMatch"),
    ) {
        (Some(rv), Some("Exact")) => rv.parse().map(Some).map_err(|_| {
            StatusError::bad_request(format!(
                "resourceVersion: Invalid value: {rv:?}: must be an integer"
            ))
        }),
        _ => Ok(None),
    }
}

/// The `<Kind>List` object of a list result.
pub fn list_object(call: &Call, result: ListResult) -> Value {
    let resource = call.route.resource;
    let mut metadata = json!({"resourceVersion": result.revision.to_string()});
    if let Some(token) = result.continue_token {
        metadata["continue"] = Value::String(token);
    }
    json!({
        "kind": format!("{}List", resource.kind),
        "apiVersion": resource.api_version(),
        "metadata": metadata,
        "items": result.items,
    })
}
