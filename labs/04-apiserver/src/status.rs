//! `Status`: how the API server says no, in Kubernetes' own shape.
//!
//! Every failed request gets a JSON body like
//! `{"kind":"Status","apiVersion":"v1","status":"Failure","message":..,"reason":"NotFound",
//! "details":{"name":"web","kind":"pods"},"code":404}`; clients (kubectl, client-go, the HTTP
//! client of this lab) read `reason` and `code`, and print `message`.

use serde_json::{Map, Value, json};

use api::client::ApiError;
use api::validation::{ErrorKind, FieldError};

use crate::request::ApiResponse;

/// One field at fault, in `details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// Machine-readable, e.g. `FieldValueInvalid`.
    pub reason: String,
    /// The rule that is broken.
    pub message: String,
    /// The field path, e.g. `spec.containers[0].image`.
    pub field: String,
}

/// A failed request, ready to be sent as a `Status` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusError {
    /// The HTTP status code.
    pub code: u16,
    /// Kubernetes' `StatusReason`, e.g. `Conflict`.
    pub reason: &'static str,
    /// The human-readable message kubectl prints.
    pub message: String,
    /// `details`: the object concerned and the fields at fault (boxed: errors stay small).
    pub details: Box<Details>,
}

/// The `details` of a Status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    /// `details.name`: the object concerned (may be empty).
    pub name: String,
    /// `details.group`: its API group (empty for core).
    pub group: String,
    /// `details.kind`: the resource (plural) or, for `Invalid`, the kind.
    pub kind: String,
    /// `details.causes`: every field at fault.
    pub causes: Vec<Cause>,
}

impl StatusError {
    /// A Status with a code, a reason and a message, and no details.
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        StatusError {
            code,
            reason,
            message: message.into(),
            details: Box::default(),
        }
    }

    /// Adds `details` naming the object: its name, group and resource or kind.
    pub fn with_details(mut self, group: &str, kind: &str, name: &str) -> Self {
        self.details.group = group.to_string();
        self.details.kind = kind.to_string();
        self.details.name = name.to_string();
        self
    }

    /// 400 BadRequest: the request itself is wrong.
    pub fn bad_request(message: impl Into<String>) -> Self {
        StatusError::new(400, "BadRequest", message)
    }

    /// 401 Unauthorized: no valid credentials (the HTTP shell's answer).
    pub fn unauthorized() -> Self {
        StatusError::new(401, "Unauthorized", "Unauthorized")
    }

    /// 403 Forbidden, with the resource named in `details`.
    pub fn forbidden(message: impl Into<String>, group: &str, plural: &str, name: &str) -> Self {
        StatusError::new(403, "Forbidden", message).with_details(group, plural, name)
    }

    /// 404 NotFound: `pods "web" not found`.
    pub fn not_found(group: &str, plural: &str, name: &str) -> Self {
        StatusError::new(404, "NotFound", format!("{plural} {name:?} not found"))
            .with_details(group, plural, name)
    }

    /// 404 NotFound for a path that names no resource.
    pub fn path_not_found(path: &str) -> Self {
        StatusError::new(
            404,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        )
    }

    /// 405 MethodNotAllowed: the resource does not serve this verb.
    pub fn method_not_allowed(verb: &str, what: &str) -> Self {
        StatusError::new(
            405,
            "MethodNotAllowed",
            format!(
                "the server does not allow this method on the requested resource: {verb} is not supported on {what}"
            ),
        )
    }

    /// 409 AlreadyExists.
    pub fn already_exists(group: &str, plural: &str, name: &str) -> Self {
        StatusError::new(
            409,
            "AlreadyExists",
            format!("{plural} {name:?} already exists"),
        )
        .with_details(group, plural, name)
    }

    /// 409 Conflict: a stale resourceVersion.
    pub fn conflict(group: &str, plural: &str, name: &str) -> Self {
        let qualified = qualified(group, plural);
        StatusError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {qualified} {name:?}: the object has been \
                 modified; please apply your changes to the latest version and try again"
            ),
        )
        .with_details(group, plural, name)
    }

    /// 409 Conflict with a message of its own (e.g. a pod already bound).
    pub fn conflict_because(group: &str, plural: &str, name: &str, why: &str) -> Self {
        let qualified = qualified(group, plural);
        StatusError::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {qualified} {name:?}: {why}"),
        )
        .with_details(group, plural, name)
    }

    /// 410 Expired: a resourceVersion or continue token older than the history kept.
    pub fn expired(message: impl Into<String>) -> Self {
        StatusError::new(410, "Expired", message)
    }

    /// 413 RequestEntityTooLarge (the HTTP shell's body limit).
    pub fn too_large(limit: usize) -> Self {
        StatusError::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
        )
    }

    /// 415 UnsupportedMediaType.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        StatusError::unsupported_body(
            content_type,
            "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json",
        )
    }

    /// 415 UnsupportedMediaType for a body that is not in one of the `accepted` types.
    pub fn unsupported_body(content_type: &str, accepted: &str) -> Self {
        StatusError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {accepted} (got {content_type:?})"
            ),
        )
    }

    // ANCHOR: invalid
    /// 422 Invalid: every broken rule listed as a cause, each naming its field.
    pub fn invalid(group: &str, kind: &str, name: &str, errors: &[FieldError]) -> Self {
        let causes = errors
            .iter()
            .map(|error| Cause {
                reason: cause_reason(&error.kind).to_string(),
                message: error
                    .to_string()
                    .trim_start_matches(&format!("{}: ", error.path))
                    .to_string(),
                field: error.path.to_string(),
            })
            .collect();
        let listed: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let listed = match listed.as_slice() {
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        let message = format!("{kind} {name:?} is invalid: {listed}");
        let mut error = StatusError::new(422, "Invalid", message).with_details(group, kind, name);
        error.details.causes = causes;
        error
    }
    // ANCHOR_END: invalid

    /// 500 InternalError.
    pub fn internal(message: impl Into<String>) -> Self {
        StatusError::new(500, "InternalError", message)
    }

    /// 503 ServiceUnavailable (storage down, no log proxy configured).
    pub fn unavailable(message: impl Into<String>) -> Self {
        StatusError::new(503, "ServiceUnavailable", message)
    }

    /// Lab 00's [`ApiError`], in the group of the resource it concerns.
    pub fn from_api_error(error: &ApiError, group: &str) -> Self {
        match error {
            ApiError::NotFound { resource, name } => StatusError::not_found(group, resource, name),
            ApiError::AlreadyExists { resource, name } => {
                StatusError::already_exists(group, resource, name)
            }
            ApiError::Conflict { resource, name } => StatusError::conflict(group, resource, name),
            ApiError::Unfulfillable {
                resource,
                name,
                cause,
            } => StatusError::conflict_because(group, resource, name, cause),
            ApiError::Invalid { kind, name, errors } => {
                StatusError::invalid(group, kind, name, errors)
            }
            ApiError::Gone { message } => StatusError::expired(message.clone()),
            ApiError::BadRequest { message } => StatusError::bad_request(message.clone()),
            ApiError::Internal { message } => StatusError::internal(message.clone()),
            ApiError::Unauthorized { message } => {
                StatusError::new(401, "Unauthorized", message.clone())
            }
            ApiError::Forbidden { message } => StatusError::new(403, "Forbidden", message.clone()),
        }
    }

    /// The `Status` object.
    pub fn to_json(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        let mut details = Map::new();
        for (field, value) in [
            ("name", &self.details.name),
            ("group", &self.details.group),
            ("kind", &self.details.kind),
        ] {
            if !value.is_empty() {
                details.insert(field.to_string(), Value::String(value.clone()));
            }
        }
        if !self.details.causes.is_empty() {
            let causes = self
                .details
                .causes
                .iter()
                .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                .collect();
            details.insert("causes".to_string(), Value::Array(causes));
        }
        if !details.is_empty() {
            status["details"] = Value::Object(details);
        }
        status
    }

    /// The HTTP response carrying the `Status`.
    pub fn response(&self) -> ApiResponse {
        ApiResponse::json(self.code, &self.to_json())
    }
}

impl std::fmt::Display for StatusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.reason, self.code, self.message)
    }
}

impl std::error::Error for StatusError {}

/// `pods` or `deployments.apps`, as Kubernetes names a resource in messages.
fn qualified(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

/// Kubernetes' `CauseType` for each kind of field error.
fn cause_reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Required { .. } => "FieldValueRequired",
        ErrorKind::Invalid { .. } => "FieldValueInvalid",
        ErrorKind::Duplicate { .. } => "FieldValueDuplicate",
        ErrorKind::NotSupported { .. } => "FieldValueNotSupported",
        ErrorKind::NotFound { .. } => "FieldValueNotFound",
        ErrorKind::TooLong { .. } => "FieldValueTooLong",
        ErrorKind::Forbidden { .. } => "FieldValueForbidden",
    }
}

/// A `Status` for success, as some deletes answer.
pub fn success(group: &str, plural: &str, name: &str) -> Value {
    let mut details = json!({"name": name, "kind": plural});
    if !group.is_empty() {
        details["group"] = Value::String(group.to_string());
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}
