//! create (POST): decode, check against the path, validate, assign identity, store.

use serde_json::Value;

use super::object::{
    FieldValidation, check_identity, encode, meta_str, parse_body, set_resource_version, typed,
};
use super::{Call, Context, storage_error};
use crate::status::StatusError;
use crate::storage::StorageError;

/// How many fresh names `generateName` tries before giving up.
const GENERATE_ATTEMPTS: usize = 5;

// ANCHOR: create
/// Creates the object in the request body and returns it as stored.
pub async fn create(ctx: &Context, call: &Call) -> Result<Value, StatusError> {
    let resource = call.route.resource;
    let mode = FieldValidation::from_query(&call.query)?;
    let mut body = parse_body(&call.body)?;
    check_identity(
        &call.route,
        resource.kind,
        &resource.api_version(),
        &mut body,
    )?;
    let generate = meta_str(&body, "name").is_none_or(str::is_empty)
        && meta_str(&body, "generateName").is_some_and(|g| !g.is_empty());
    for _ in 0..GENERATE_ATTEMPTS {
        let mut object = body.clone();
        if generate {
            let prefix = meta_str(&object, "generateName").unwrap_or("").to_string();
            object["metadata"]["name"] = Value::String(format!("{prefix}{}", ctx.ids.suffix()));
        }
        let mut object = typed(resource, object, mode)?;
        let namespace = meta_str(&object, "namespace").map(str::to_string);
        let name = meta_str(&object, "name").unwrap_or("").to_string();
        if resource.namespaced {
            let namespace = namespace.as_deref().unwrap_or("default");
            ensure_namespace(ctx, call, namespace, &name).await?;
        }
        prepare_for_create(ctx, &mut object);
        ctx.admit(call, None, Some(&object))?;
        let hooks: Vec<_> = ctx.mutations_for(resource.plural).collect();
        for (done, hook) in hooks.iter().enumerate() {
            if let Err(error) = hook.on_create(&mut object).await {
                // The hooks that did run may have taken something: give it back.
                for earlier in &hooks[..done] {
                    earlier.on_delete(&object).await;
                }
                return Err(error);
            }
        }
        let key = resource.key(namespace.as_deref(), &name);
        let result = ctx.storage.create(&key, encode(&object)).await;
        if result.is_err() {
            // Give back what the hooks took for an object that was never stored.
            for hook in &hooks {
                hook.on_delete(&object).await;
            }
        }
        match result {
            Ok(stored) => {
                set_resource_version(&mut object, stored.mod_revision);
                return Ok(object);
            }
            Err(StorageError::AlreadyExists { .. }) if generate => continue,
            Err(StorageError::AlreadyExists { .. }) => {
                return Err(StatusError::already_exists(
                    resource.group,
                    resource.plural,
                    &name,
                ));
            }
            Err(other) => return Err(storage_error(call, other)),
        }
    }
    Err(StatusError::new(
        500,
        "AlreadyExists",
        "failed to generate a unique name from generateName; try again",
    ))
}
// ANCHOR_END: create

/// The fields only the server sets: uid, creationTimestamp, generation; no deletion marks.
fn prepare_for_create(ctx: &Context, object: &mut Value) {
    let meta = &mut object["metadata"];
    meta["uid"] = Value::String(ctx.ids.uid());
    meta["creationTimestamp"] = serde_json::to_value(ctx.now()).unwrap_or(Value::Null);
    meta["generation"] = Value::from(1);
    if let Some(map) = meta.as_object_mut() {
        for field in [
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            map.remove(field);
        }
    }
    if object["kind"] == "Pod" && object["status"]["phase"].is_null() {
        if !object["status"].is_object() {
            object["status"] = Value::Object(Default::default());
        }
        object["status"]["phase"] = Value::String("Pending".to_string());
    }
    if object["kind"] == "Namespace" {
        object["status"] = serde_json::json!({"phase": "Active"});
    }
}

/// A namespaced object needs its namespace to exist and not be terminating, as Kubernetes'
/// NamespaceLifecycle admission plugin checks.
pub async fn ensure_namespace(
    ctx: &Context,
    call: &Call,
    namespace: &str,
    name: &str,
) -> Result<(), StatusError> {
    let namespaces = crate::resources::namespaces();
    let stored = ctx
        .storage
        .get(&namespaces.key(None, namespace))
        .await
        .map_err(|e| storage_error(call, e))?;
    let Some(stored) = stored else {
        return Err(StatusError::not_found("", "namespaces", namespace));
    };
    let object = super::object::decode(&stored)?;
    if object["status"]["phase"] == "Terminating" {
        let resource = call.route.resource;
        return Err(StatusError::forbidden(
            format!(
                "{} {name:?} is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
                resource.plural,
            ),
            resource.group,
            resource.plural,
            name,
        ));
    }
    Ok(())
}
