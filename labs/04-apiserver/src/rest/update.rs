//! update (PUT), for an object or its status: optimistic concurrency on resourceVersion.
//!
//! A PUT carrying `metadata.resourceVersion` succeeds only if that is still the stored
//! revision (else 409 Conflict: someone else wrote first; re-read and retry). A PUT without
//! one is an unconditional update, as in Kubernetes: the server retries its own
//! compare-and-swap until it lands.

use serde_json::Value;

use super::object::{
    FieldValidation, check_identity, encode, finalizers, parse_body, set_resource_version, typed,
};
use super::{Call, Context, read_stored, storage_error};
use crate::status::StatusError;
use crate::storage::StorageError;

/// Which part of the object a write may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Everything but the status (the main resource).
    Main,
    /// Only the status (the `status` subresource).
    Status,
    /// Spec and status together (the binding: `spec.nodeName` and `PodScheduled`).
    Whole,
}

/// How many times an unconditional update retries a lost compare-and-swap.
const UNCONDITIONAL_ATTEMPTS: usize = 16;

/// Replaces the named object (or its status) with the request body.
pub async fn update(ctx: &Context, call: &Call, part: Part) -> Result<Value, StatusError> {
    let resource = call.route.resource;
    let mode = FieldValidation::from_query(&call.query)?;
    let mut body = parse_body(&call.body)?;
    check_identity(
        &call.route,
        resource.kind,
        &resource.api_version(),
        &mut body,
    )?;
    let incoming = typed(resource, body, mode)?;
    replace(ctx, call, part, |_| Ok(incoming.clone())).await
}

// ANCHOR: expected_revision
/// The revision a write must find stored: the one the client read (`given`), which must still
/// be the stored one, or for an unconditional write (no resourceVersion) whatever is stored.
pub fn expected_revision(given: Option<&str>, stored: i64) -> Result<i64, ConflictOrBad> {
    // EXERCISE(apiserver-optimistic-concurrency): no (or empty) resourceVersion means "whatever is stored"; one that is not a number is BadRequest; a number other than the stored revision is a Conflict
    match given.filter(|rv| !rv.is_empty()) {
        None => Ok(stored),
        Some(text) => match text.parse::<i64>() {
            Err(_) => Err(ConflictOrBad::Bad(format!(
                "metadata.resourceVersion: Invalid value: {text:?}: must be an integer"
            ))),
            Ok(rv) if rv == stored => Ok(rv),
            Ok(_) => Err(ConflictOrBad::Conflict),
        },
    }
    // END EXERCISE
}
// ANCHOR_END: expected_revision

/// Why a resourceVersion check failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConflictOrBad {
    /// The object changed since the client read it: 409.
    Conflict,
    /// The resourceVersion is not a revision at all: 400.
    Bad(String),
}

// ANCHOR: replace
/// Reads the stored object, lets `change` compute the new one from it, checks the
/// resourceVersion, merges according to `part`, and writes with compare-and-swap. Shared by
/// update, patch, and the status and scale subresources.
pub async fn replace(
    ctx: &Context,
    call: &Call,
    part: Part,
    change: impl Fn(&Value) -> Result<Value, StatusError>,
) -> Result<Value, StatusError> {
    let resource = call.route.resource;
    let key = call.key();
    for _ in 0..UNCONDITIONAL_ATTEMPTS {
        let (stored, current) = read_stored(ctx, call).await?;
        let incoming = change(&current)?;
        let given = incoming["metadata"]["resourceVersion"].as_str();
        let conditional = given.is_some_and(|rv| !rv.is_empty());
        let expected = expected_revision(given, stored.mod_revision).map_err(|e| match e {
            ConflictOrBad::Conflict => call.conflict(),
            ConflictOrBad::Bad(message) => StatusError::bad_request(message),
        })?;
        let merged = merge(
            part,
            &current,
            incoming,
            resource.subresource("status").is_some(),
        );
        if let Some(error) = node_name_change(&current, &merged) {
            let name = call.name();
            return Err(StatusError::invalid(
                resource.group,
                resource.kind,
                name,
                &[error],
            ));
        }
        let mut merged = typed(resource, merged, FieldValidation::Ignore)?;
        bump_generation(&current, &mut merged);
        for hook in ctx.mutations_for(resource.plural) {
            hook.on_update(&current, &mut merged)?;
        }
        ctx.admit(call, Some(&current), Some(&merged))?;
        let result = if finishes_deletion(&current, &merged) {
            ctx.storage
                .delete(&key, Some(expected))
                .await
                .map(|(_, rv)| rv)
        } else {
            ctx.storage
                .update(&key, encode(&merged), expected)
                .await
                .map(|s| s.mod_revision)
        };
        match result {
            Ok(revision) => {
                if finishes_deletion(&current, &merged) {
                    for hook in ctx.mutations_for(resource.plural) {
                        hook.on_delete(&merged).await;
                    }
                }
                set_resource_version(&mut merged, revision);
                return Ok(merged);
            }
            Err(StorageError::Conflict { .. }) if !conditional => continue,
            Err(other) => return Err(storage_error(call, other)),
        }
    }
    Err(call.conflict())
}
// ANCHOR_END: replace

/// The new object: the incoming one with the server's fields and the stored status kept
/// (`Main`), or the stored one with the incoming status (`Status`).
fn merge(part: Part, current: &Value, incoming: Value, has_status: bool) -> Value {
    let mut merged = match part {
        Part::Main => {
            let mut merged = incoming;
            if has_status {
                match current.get("status") {
                    Some(status) => merged["status"] = status.clone(),
                    None => {
                        if let Some(map) = merged.as_object_mut() {
                            map.remove("status");
                        }
                    }
                }
            }
            merged
        }
        Part::Whole => incoming,
        Part::Status => {
            let mut merged = current.clone();
            merged["status"] = incoming.get("status").cloned().unwrap_or(Value::Null);
            merged["metadata"]["resourceVersion"] = incoming["metadata"]["resourceVersion"].clone();
            merged
        }
    };
    for field in [
        "uid",
        "creationTimestamp",
        "generation",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        match current["metadata"].get(field) {
            Some(value) => merged["metadata"][field] = value.clone(),
            None => {
                if let Some(meta) = merged["metadata"].as_object_mut() {
                    meta.remove(field);
                }
            }
        }
    }
    merged
}

/// A Pod's node is chosen once (by a binding or an update from empty); moving a bound Pod to
/// another node is refused, as Kubernetes refuses most changes to a Pod's spec.
fn node_name_change(current: &Value, merged: &Value) -> Option<api::FieldError> {
    if current["kind"] != "Pod" {
        return None;
    }
    let before = current["spec"]["nodeName"].as_str().unwrap_or("");
    let after = merged["spec"]["nodeName"].as_str().unwrap_or("");
    (!before.is_empty() && before != after).then(|| {
        let path = api::FieldPath::root("spec").child("nodeName");
        api::FieldError::invalid(&path, after, "field is immutable once the pod is bound")
    })
}

/// `metadata.generation` counts changes to the desired state: +1 when `spec` changed.
fn bump_generation(current: &Value, merged: &mut Value) {
    if current.get("spec") != merged.get("spec") {
        let generation = current["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
        merged["metadata"]["generation"] = Value::from(generation);
    }
}

/// An object marked for deletion whose last finalizer this update removes is deleted now.
fn finishes_deletion(current: &Value, merged: &Value) -> bool {
    !current["metadata"]["deletionTimestamp"].is_null()
        && !finalizers(current).is_empty()
        && finalizers(merged).is_empty()
}
