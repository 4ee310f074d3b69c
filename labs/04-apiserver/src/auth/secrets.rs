//! Blanking a Secret's values for a user who may see only its name.

use serde_json::Value;

/// The annotation where `kubectl apply` keeps the whole manifest it last applied, values
/// included.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

// ANCHOR: redact_secret_data
/// Removes everything that could reveal a Secret's values, keeping what a viewer may see: the
/// metadata (name, labels, other annotations, timestamps) and the type.
///
/// Three places hold values: `data` (base64), `stringData` (plain text, accepted on writes),
/// and, easy to forget, the `last-applied-configuration` annotation, where `kubectl apply`
/// stores the manifest it sent, values and all. The keys go with the values: a key such as
/// `prod-root-password` says more than a viewer needs.
pub fn redact_secret_data(secret: &mut Value) {
    let Some(object) = secret.as_object_mut() else {
        return;
    };
    object.remove("data");
    object.remove("stringData");
    if let Some(Value::Object(annotations)) = object
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
    {
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
}
// ANCHOR_END: redact_secret_data
