//! `Status` bodies back to [`ApiError`]s, so a caller of the HTTP client sees the same errors
//! as a caller of the in-memory API.

use api::client::ApiError;
use api::validation::{ErrorKind, FieldError, FieldPath};

/// One `details.causes[]` entry back to a field error (Kubernetes' cause reasons are
/// `FieldValueRequired`, `FieldValueInvalid`, ...; the message repeats the value and the rule).
fn field_error(cause: &serde_json::Value) -> FieldError {
    let field = cause["field"].as_str().unwrap_or("");
    let message = cause["message"].as_str().unwrap_or("");
    let path = FieldPath::root(field);
    let kind = match cause["reason"].as_str().unwrap_or("") {
        "FieldValueRequired" => ErrorKind::Required {
            detail: message
                .strip_prefix("Required value")
                .map(|rest| rest.trim_start_matches(": ").to_string())
                .unwrap_or_else(|| message.to_string()),
        },
        "FieldValueForbidden" => ErrorKind::Forbidden {
            detail: message
                .strip_prefix("Forbidden: ")
                .unwrap_or(message)
                .to_string(),
        },
        "FieldValueDuplicate" => ErrorKind::Duplicate {
            value: message
                .strip_prefix("Duplicate value: ")
                .unwrap_or(message)
                .to_string(),
        },
        "FieldValueNotFound" => ErrorKind::NotFound {
            value: message
                .strip_prefix("Not found: ")
                .unwrap_or(message)
                .trim_matches('"')
                .to_string(),
        },
        "FieldValueTooLong" => ErrorKind::TooLong {
            detail: message
                .strip_prefix("Too long: ")
                .unwrap_or(message)
                .to_string(),
        },
        _ => {
            let rest = message.strip_prefix("Invalid value: ").unwrap_or(message);
            // `"Web": a lowercase ...`: the value is up to the first ": " after it.
            match rest.split_once(": ") {
                Some((value, detail)) if message.starts_with("Invalid value: ") => {
                    ErrorKind::Invalid {
                        value: value.to_string(),
                        detail: detail.to_string(),
                    }
                }
                _ => ErrorKind::Invalid {
                    value: String::new(),
                    detail: message.to_string(),
                },
            }
        }
    };
    FieldError { path, kind }
}

// ANCHOR: error_from_status
/// The [`ApiError`] for a failed response: its code, and the `Status` body when there is one.
/// `resource` and `kind` describe what the request was about; `name` the object, if any.
pub fn error_from_status(
    code: u16,
    body: &[u8],
    resource: &'static str,
    kind: &'static str,
    name: &str,
) -> ApiError {
    let status: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let message = status["message"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
    let reason = status["reason"].as_str().unwrap_or("");
    let name = status["details"]["name"]
        .as_str()
        .unwrap_or(name)
        .to_string();
    match code {
        404 => ApiError::NotFound { resource, name },
        409 if reason == "AlreadyExists" => ApiError::AlreadyExists { resource, name },
        409 => match message.split_once(&format!("{name:?}: ")) {
            // `conflict_because`: a reason of its own rather than a stale resourceVersion.
            Some((_, cause)) if !cause.starts_with("the object has been modified") => {
                ApiError::Unfulfillable {
                    resource,
                    name,
                    cause: cause.to_string(),
                }
            }
            _ => ApiError::Conflict { resource, name },
        },
        422 => ApiError::Invalid {
            kind,
            name,
            errors: status["details"]["causes"]
                .as_array()
                .map(|causes| causes.iter().map(field_error).collect())
                .unwrap_or_default(),
        },
        410 => ApiError::Gone { message },
        401 => ApiError::Unauthorized { message },
        403 => ApiError::Forbidden { message },
        400..=499 => ApiError::BadRequest {
            message: format!("{code} {reason}: {message}"),
        },
        _ => ApiError::Internal {
            message: format!("{code} {reason}: {message}"),
        },
    }
}
// ANCHOR_END: error_from_status
