//! delete: graceful deletion for pods, finalizers, and propagation policies.
//!
//! Deleting is often a process, not an instant:
//! - a **pod on a node** is only *marked* (`deletionTimestamp`, `deletionGracePeriodSeconds`):
//!   the kubelet stops its containers, then deletes it for good with `gracePeriodSeconds=0`;
//! - an object with **finalizers** is only marked; it goes when an update clears the last one;
//! - the **propagation policy** says what happens to dependents: `Background` (the default)
//!   deletes the owner now and lets the garbage collector delete the dependents; `Foreground`
//!   adds the `foregroundDeletion` finalizer (dependents first); `Orphan` adds the `orphan`
//!   finalizer (dependents lose their owner reference and stay).

use serde_json::Value;

use super::object::{decode, encode, finalizers, set_resource_version};
use super::{Call, Context, read_stored, storage_error};
use crate::status::StatusError;
use crate::storage::StorageError;

/// The grace period of a pod that does not say (Kubernetes' default).
pub const DEFAULT_GRACE_SECONDS: i64 = 30;

/// What to do with an object's dependents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Delete the dependents first, then the owner.
    Foreground,
    /// Delete the owner now, the dependents afterwards.
    Background,
    /// Keep the dependents, without their owner.
    Orphan,
}

/// The options of a delete: from the `DeleteOptions` body, or the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteOptions {
    /// `gracePeriodSeconds`: 0 deletes a pod at once.
    pub grace_period_seconds: Option<i64>,
    /// `propagationPolicy`.
    pub propagation: Propagation,
    /// `preconditions.resourceVersion`: delete only this version.
    pub resource_version: Option<String>,
    /// `preconditions.uid`: delete only this incarnation.
    pub uid: Option<String>,
}

impl DeleteOptions {
    /// Reads the options: the body (a `DeleteOptions` object) wins over the query.
    pub fn from_call(call: &Call) -> Result<DeleteOptions, StatusError> {
        let body: Value = if call.body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            super::object::parse_body(&call.body)?
        };
        let grace = match body.get("gracePeriodSeconds") {
            Some(Value::Null) | None => call.query.integer("gracePeriodSeconds")?,
            Some(value) => Some(value.as_i64().ok_or_else(|| {
                StatusError::bad_request(format!(
                    "gracePeriodSeconds: Invalid value: {value}: must be an integer"
                ))
            })?),
        };
        if grace.is_some_and(|g| g < 0) {
            return Err(StatusError::bad_request(
                "gracePeriodSeconds: Invalid value: must be greater than or equal to 0",
            ));
        }
        let policy = body
            .get("propagationPolicy")
            .and_then(Value::as_str)
            .or_else(|| call.query.non_empty("propagationPolicy"));
        let orphan_dependents = body
            .get("orphanDependents")
            .and_then(Value::as_bool)
            .or_else(|| {
                call.query
                    .non_empty("orphanDependents")
                    .map(|v| v == "true")
            });
        let propagation = match (policy, orphan_dependents) {
            (Some("Foreground"), _) => Propagation::Foreground,
            (Some("Background"), _) => Propagation::Background,
            (Some("Orphan"), _) => Propagation::Orphan,
            (Some(other), _) => {
                return Err(StatusError::bad_request(format!(
                    "propagationPolicy: Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\""
                )));
            }
            (None, Some(true)) => Propagation::Orphan,
            (None, _) => Propagation::Background,
        };
        let preconditions = body.get("preconditions");
        let text = |field: &str| {
            preconditions
                .and_then(|p| p.get(field))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Ok(DeleteOptions {
            grace_period_seconds: grace,
            propagation,
            resource_version: text("resourceVersion"),
            uid: text("uid"),
        })
    }
}

// ANCHOR: graceful
/// `Some(grace)` when deleting this object only marks it for a graceful shutdown: a pod that
/// is on a node (someone must stop its containers) and a grace period that is not zero. The
/// grace period comes from the delete options, else the pod's
/// `spec.terminationGracePeriodSeconds`, else 30 seconds.
pub fn graceful_period(object: &Value, options: &DeleteOptions) -> Option<i64> {
    // EXERCISE(apiserver-graceful-delete): only Pods with a non-empty spec.nodeName are graceful; options, then spec.terminationGracePeriodSeconds, then DEFAULT_GRACE_SECONDS; a grace of 0 is not graceful
    if object["kind"] != "Pod" {
        return None;
    }
    let node = object["spec"]["nodeName"].as_str().unwrap_or("");
    if node.is_empty() {
        return None;
    }
    let grace = options
        .grace_period_seconds
        .or_else(|| object["spec"]["terminationGracePeriodSeconds"].as_i64())
        .unwrap_or(DEFAULT_GRACE_SECONDS);
    (grace > 0).then_some(grace)
    // END EXERCISE
}
// ANCHOR_END: graceful

// ANCHOR: delete
/// Deletes (or marks) the named object; returns its state after the request.
pub async fn delete(
    ctx: &Context,
    call: &Call,
    options: &DeleteOptions,
) -> Result<Value, StatusError> {
    let key = call.key();
    loop {
        let (stored, mut object) = read_stored(ctx, call).await?;
        check_preconditions(call, &object, options)?;
        ctx.admit(call, Some(&object), None)?;
        let meta = &mut object["metadata"];
        let already_marked = !meta["deletionTimestamp"].is_null();
        let mut changed = false;
        let finalizer = match options.propagation {
            Propagation::Foreground => Some("foregroundDeletion"),
            Propagation::Orphan => Some("orphan"),
            Propagation::Background => None,
        };
        let mut list = finalizers(&object);
        if let Some(finalizer) = finalizer
            && !list.iter().any(|f| f == finalizer)
        {
            list.push(finalizer.to_string());
            object["metadata"]["finalizers"] = Value::from(list.clone());
            changed = true;
        }
        let grace = graceful_period(&object, options);
        if grace.is_none() && list.is_empty() {
            // Nothing to wait for: the object goes now.
            let (_, revision) = match ctx.storage.delete(&key, Some(stored.mod_revision)).await {
                Err(StorageError::Conflict { .. }) => continue,
                other => other.map_err(|e| storage_error(call, e))?,
            };
            for hook in ctx.mutations_for(call.route.resource.plural) {
                hook.on_delete(&object).await;
            }
            set_resource_version(&mut object, revision);
            return Ok(object);
        }
        if !already_marked {
            let grace = grace.unwrap_or(0);
            let when = api::Time(ctx.now().0 + grace);
            object["metadata"]["deletionTimestamp"] =
                serde_json::to_value(when).unwrap_or(Value::Null);
            object["metadata"]["deletionGracePeriodSeconds"] = Value::from(grace);
            changed = true;
        }
        if !changed {
            return Ok(object);
        }
        match ctx
            .storage
            .update(&key, encode(&object), stored.mod_revision)
            .await
        {
            Ok(written) => {
                set_resource_version(&mut object, written.mod_revision);
                return Ok(object);
            }
            Err(StorageError::Conflict { .. }) => continue,
            Err(other) => return Err(storage_error(call, other)),
        }
    }
}
// ANCHOR_END: delete

fn check_preconditions(
    call: &Call,
    object: &Value,
    options: &DeleteOptions,
) -> Result<(), StatusError> {
    let failed = |field: &str, wanted: &str, actual: &str| {
        let resource = call.route.resource;
        StatusError::conflict_because(
            resource.group,
            resource.plural,
            call.name(),
            &format!("Precondition failed: {field}: {wanted}, {field} in object meta: {actual}"),
        )
    };
    let meta = &object["metadata"];
    if let Some(uid) = &options.uid {
        let actual = meta["uid"].as_str().unwrap_or("");
        if uid != actual {
            return Err(failed("UID", uid, actual));
        }
    }
    if let Some(rv) = &options.resource_version {
        let actual = meta["resourceVersion"].as_str().unwrap_or("");
        if rv != actual {
            return Err(failed("ResourceVersion", rv, actual));
        }
    }
    Ok(())
}

/// Namespaces that always exist and may not be deleted.
pub const PROTECTED_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public"];

// ANCHOR: delete_namespace
/// Deletes a namespace: marks it `Terminating` (no new content may be created in it), deletes
/// everything in it, then the namespace itself. Returns the namespace as marked.
pub async fn delete_namespace(ctx: &Context, call: &Call) -> Result<Value, StatusError> {
    let name = call.name().to_string();
    if PROTECTED_NAMESPACES.contains(&name.as_str()) {
        return Err(StatusError::forbidden(
            format!("namespaces {name:?} is forbidden: this namespace may not be deleted"),
            "",
            "namespaces",
            &name,
        ));
    }
    let now = serde_json::to_value(ctx.now()).unwrap_or(Value::Null);
    let key = call.key();
    let mut object = loop {
        let (stored, mut object) = read_stored(ctx, call).await?;
        ctx.admit(call, Some(&object), None)?;
        object["status"]["phase"] = Value::String("Terminating".to_string());
        if object["metadata"]["deletionTimestamp"].is_null() {
            object["metadata"]["deletionTimestamp"] = now.clone();
        }
        match ctx
            .storage
            .update(&key, encode(&object), stored.mod_revision)
            .await
        {
            Ok(written) => {
                set_resource_version(&mut object, written.mod_revision);
                break object;
            }
            Err(StorageError::Conflict { .. }) => continue,
            Err(other) => return Err(storage_error(call, other)),
        }
    };
    for resource in crate::resources::RESOURCES.iter().filter(|r| r.namespaced) {
        let request = crate::storage::ListRequest {
            prefix: resource.prefix(Some(&name)),
            ..Default::default()
        };
        let page = ctx
            .storage
            .list(&request)
            .await
            .map_err(|e| storage_error(call, e))?;
        for stored in page.items {
            match ctx.storage.delete(&stored.key, None).await {
                Ok(_) => {
                    for hook in ctx.mutations_for(resource.plural) {
                        hook.on_delete(&decode(&stored)?).await;
                    }
                }
                Err(StorageError::NotFound { .. }) => {}
                Err(other) => return Err(storage_error(call, other)),
            }
        }
    }
    match ctx.storage.delete(&key, None).await {
        Ok((_, revision)) => set_resource_version(&mut object, revision),
        Err(StorageError::NotFound { .. }) => {}
        Err(other) => return Err(storage_error(call, other)),
    }
    Ok(object)
}
// ANCHOR_END: delete_namespace
