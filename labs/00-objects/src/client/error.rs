//! `ApiError`: what the API answers when it says no, shaped like Kubernetes' `Status` reasons.

use std::fmt;

use crate::validation::{FieldError, ValidationErrors};

// ANCHOR: api_error
/// Why an API call failed. Each variant is one of Kubernetes' `StatusReason`s, so that the HTTP
/// client of lab 04 can map a `Status` body to the same value the in-memory API returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 404: no object of this kind has this name (in this namespace).
    NotFound {
        /// The plural resource name, e.g. `pods`.
        resource: &'static str,
        /// The object's name.
        name: String,
    },
    /// 409: `create` found an object with the same name already stored.
    AlreadyExists {
        /// The plural resource name, e.g. `pods`.
        resource: &'static str,
        /// The object's name.
        name: String,
    },
    /// 409: the update carried a stale `resourceVersion`; re-read and try again.
    Conflict {
        /// The plural resource name, e.g. `pods`.
        resource: &'static str,
        /// The object's name.
        name: String,
    },
    /// 409: the operation cannot be done to the object as it stands, for a reason that
    /// re-reading and retrying does not fix, e.g. binding a pod already assigned to a node.
    Unfulfillable {
        /// The (sub)resource, e.g. `pods/binding`.
        resource: &'static str,
        /// The object's name.
        name: String,
        /// Why, in the API server's words: `pod web is already assigned to node "n1"`.
        cause: String,
    },
    /// 422: the object breaks validation rules; every broken rule is listed.
    Invalid {
        /// The kind, e.g. `Pod` (Kubernetes names the kind, not the resource, here).
        kind: &'static str,
        /// The object's name (may be empty when the name itself is missing).
        name: String,
        /// Every broken rule, each naming its field.
        errors: Vec<FieldError>,
    },
    /// 410: a watch asked to resume from a `resourceVersion` older than the history kept.
    Gone {
        /// The version that was asked for, and the oldest one still available.
        message: String,
    },
    /// 400: the request itself is malformed (e.g. a resourceVersion that is not a number).
    BadRequest {
        /// What is wrong with the request.
        message: String,
    },
    /// 401: the request carried no valid credentials (HTTP client only).
    Unauthorized {
        /// The server's message.
        message: String,
    },
    /// 403: the user may not do this (HTTP client only; the server's RBAC said no).
    Forbidden {
        /// The server's message, e.g. `pods "web" is forbidden: User "bob" cannot ...`.
        message: String,
    },
    /// 500: the server failed (e.g. a stored object that no longer decodes).
    Internal {
        /// What failed.
        message: String,
    },
}
// ANCHOR_END: api_error

impl ApiError {
    /// The HTTP status code the API server answers with.
    pub fn code(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } => 404,
            ApiError::AlreadyExists { .. }
            | ApiError::Conflict { .. }
            | ApiError::Unfulfillable { .. } => 409,
            ApiError::Invalid { .. } => 422,
            ApiError::Gone { .. } => 410,
            ApiError::BadRequest { .. } => 400,
            ApiError::Unauthorized { .. } => 401,
            ApiError::Forbidden { .. } => 403,
            ApiError::Internal { .. } => 500,
        }
    }

    /// The machine-readable `reason` of Kubernetes' `Status` object.
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Conflict { .. } | ApiError::Unfulfillable { .. } => "Conflict",
            ApiError::Invalid { .. } => "Invalid",
            ApiError::Gone { .. } => "Expired",
            ApiError::BadRequest { .. } => "BadRequest",
            ApiError::Unauthorized { .. } => "Unauthorized",
            ApiError::Forbidden { .. } => "Forbidden",
            ApiError::Internal { .. } => "InternalError",
        }
    }

    /// True for [`ApiError::NotFound`]: callers often treat "already gone" as success.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::NotFound { .. })
    }

    /// True for [`ApiError::Conflict`]: the caller should re-read and retry. (Not for
    /// [`ApiError::Unfulfillable`], which a retry does not cure.)
    pub fn is_conflict(&self) -> bool {
        matches!(self, ApiError::Conflict { .. })
    }
}

impl fmt::Display for ApiError {
    /// The `message` of the `Status` object, in the API server's own words.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::NotFound { resource, name } => write!(f, "{resource} {name:?} not found"),
            ApiError::AlreadyExists { resource, name } => {
                write!(f, "{resource} {name:?} already exists")
            }
            ApiError::Conflict { resource, name } => write!(
                f,
                "Operation cannot be fulfilled on {resource} {name:?}: the object has been \
                 modified; please apply your changes to the latest version and try again"
            ),
            ApiError::Unfulfillable {
                resource,
                name,
                cause,
            } => write!(
                f,
                "Operation cannot be fulfilled on {resource} {name:?}: {cause}"
            ),
            ApiError::Invalid { kind, name, errors } => {
                let details = ValidationErrors(errors.clone())
                    .to_string()
                    .replace('\n', ", ");
                write!(f, "{kind} {name:?} is invalid: {details}")
            }
            ApiError::Gone { message }
            | ApiError::BadRequest { message }
            | ApiError::Unauthorized { message }
            | ApiError::Forbidden { message }
            | ApiError::Internal { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for ApiError {}
