//! patch: apply a JSON, merge or strategic-merge patch to the stored object, then validate
//! and write it exactly like an update.

use serde_json::Value;

use super::object::{FieldValidation, check_identity, typed};
use super::subresources::{scale_of, write_scale};
use super::update::{Part, replace};
use super::{Call, Context};
use crate::patch::{PatchKind, apply_patch};
use crate::status::StatusError;

/// The patch format of the request, or a 415 naming its content type.
fn kind_of(call: &Call) -> Result<PatchKind, StatusError> {
    PatchKind::from_content_type(&call.content_type)
        .ok_or_else(|| StatusError::unsupported_media_type(&call.content_type))
}

fn patch_error(error: crate::patch::PatchError) -> StatusError {
    StatusError::bad_request(error.message)
}

// ANCHOR: patch
/// Patches the named object (or its status). A patch that does not set a resourceVersion is
/// retried on conflict, like an unconditional update; one that does is checked against it.
pub async fn patch(ctx: &Context, call: &Call, part: Part) -> Result<Value, StatusError> {
    let kind = kind_of(call)?;
    let mode = FieldValidation::from_query(&call.query)?;
    let resource = call.route.resource;
    let api_version = resource.api_version();
    replace(ctx, call, part, |current| {
        let mut patched =
            apply_patch(kind, resource.plural, current, &call.body).map_err(patch_error)?;
        check_identity(&call.route, resource.kind, &api_version, &mut patched)?;
        if patched["metadata"]["resourceVersion"] == current["metadata"]["resourceVersion"] {
            patched["metadata"]["resourceVersion"] = Value::String(String::new());
        }
        typed(resource, patched, mode)
    })
    .await
}
// ANCHOR_END: patch

/// Patches the Scale of a deployment or replicaset.
pub async fn patch_scale(ctx: &Context, call: &Call) -> Result<Value, StatusError> {
    let kind = kind_of(call)?;
    let current = super::list::get(ctx, call).await?;
    let mut scale = scale_of(&current);
    scale = apply_patch(kind, "scale", &scale, &call.body).map_err(patch_error)?;
    if scale["metadata"]["resourceVersion"] == current["metadata"]["resourceVersion"] {
        scale["metadata"]["resourceVersion"] = Value::String(String::new());
    }
    write_scale(ctx, call, scale).await
}
