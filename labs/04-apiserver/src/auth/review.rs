//! `SelfSubjectAccessReview`: "may I ...?", asked through the API, as `kubectl auth can-i`
//! does.

use serde_json::{Map, Value, json};

use super::{Attributes, Decision, Rbac};
use crate::request::User;

const API_VERSION: &str = "authorization.k8s.io/v1";
const KIND: &str = "SelfSubjectAccessReview";

// ANCHOR: access_review
/// Answers a `SelfSubjectAccessReview` (the JSON body of
/// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`) for `user`: the review comes
/// back with `status.allowed` and `status.reason` filled in. Nothing is stored.
///
/// An `Err` names the field that makes the review unanswerable (a 400 or 422 for the caller).
pub fn access_review(rbac: &Rbac, user: &User, review: &Value) -> Result<Value, String> {
    let api_version = review.get("apiVersion").and_then(Value::as_str);
    let kind = review.get("kind").and_then(Value::as_str);
    if api_version != Some(API_VERSION) || kind != Some(KIND) {
        return Err(format!(
            "apiVersion, kind: Unsupported value: {}/{}: supported values: \"{API_VERSION}/{KIND}\"",
            api_version.unwrap_or("<none>"),
            kind.unwrap_or("<none>")
        ));
    }
    let spec = review.get("spec").cloned().unwrap_or(Value::Null);
    let status = match (
        spec.get("resourceAttributes"),
        spec.get("nonResourceAttributes"),
    ) {
        (Some(resource), None) => {
            let field = |key: &str| -> Result<&str, String> {
                match resource.get(key) {
                    None | Some(Value::Null) => Ok(""),
                    Some(Value::String(s)) => Ok(s),
                    Some(other) => Err(format!(
                        "spec.resourceAttributes.{key}: Invalid value: {other}: must be a string"
                    )),
                }
            };
            let verb = field("verb")?;
            if verb.is_empty() {
                return Err("spec.resourceAttributes.verb: Required value".into());
            }
            let a = Attributes {
                user,
                verb,
                api_group: field("group")?,
                resource: field("resource")?,
                subresource: field("subresource")?,
                namespace: field("namespace")?,
                name: field("name")?,
            };
            match rbac.authorize(&a) {
                Decision::Allow => {
                    json!({"allowed": true, "reason": rbac.allowed_by(&a).unwrap_or_default()})
                }
                Decision::Deny { reason } => json!({"allowed": false, "reason": reason}),
            }
        }
        (None, Some(_)) => json!({
            "allowed": false,
            "reason": "skiff authorizes resource requests only; health and version paths are open to all"
        }),
        _ => {
            return Err(
                "spec.resourceAttributes: Invalid value: \"null\": exactly one of \
                        nonResourceAttributes or resourceAttributes must be specified"
                    .into(),
            );
        }
    };
    let mut answer = Map::new();
    answer.insert("apiVersion".into(), json!(API_VERSION));
    answer.insert("kind".into(), json!(KIND));
    answer.insert("metadata".into(), json!({"creationTimestamp": null}));
    answer.insert("spec".into(), spec);
    answer.insert("status".into(), status);
    Ok(Value::Object(answer))
}
// ANCHOR_END: access_review
