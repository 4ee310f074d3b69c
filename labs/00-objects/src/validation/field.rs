//! Field paths and field errors, printed the way the Kubernetes API server prints them.

use std::fmt;

/// A path to a field, built while walking an object: `spec.containers[0].resources.limits[cpu]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldPath(String);

impl FieldPath {
    /// The path of a top-level field, e.g. `FieldPath::root("spec")`.
    pub fn root(name: &str) -> Self {
        FieldPath(name.to_string())
    }

    /// A field of this one: `spec` → `spec.containers`.
    pub fn child(&self, name: &str) -> Self {
        FieldPath(format!("{}.{name}", self.0))
    }

    /// An element of this list: `spec.containers` → `spec.containers[0]`.
    pub fn index(&self, index: usize) -> Self {
        FieldPath(format!("{}[{index}]", self.0))
    }

    /// An entry of this map: `limits` → `limits[cpu]`.
    pub fn key(&self, key: &str) -> Self {
        FieldPath(format!("{}[{key}]", self.0))
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One validation failure: where, and which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field at fault.
    pub path: FieldPath,
    /// What is wrong with it.
    pub kind: ErrorKind,
}

/// The kinds of validation failure, as Kubernetes' `field.ErrorType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// A required field is missing or empty.
    Required {
        /// Why it is required (may be empty).
        detail: String,
    },
    /// The value breaks a rule.
    Invalid {
        /// The value, rendered as Kubernetes does: strings quoted, numbers bare.
        value: String,
        /// The rule, in Kubernetes' words.
        detail: String,
    },
    /// The value must be unique and is not.
    Duplicate {
        /// The repeated value, rendered like `Invalid`'s.
        value: String,
    },
    /// The value is not one of a fixed set.
    NotSupported {
        /// The value given.
        value: String,
        /// The allowed values.
        supported: Vec<&'static str>,
    },
    /// The value refers to something that does not exist (e.g. a volume).
    NotFound {
        /// The dangling reference.
        value: String,
    },
    /// The value is too big.
    TooLong {
        /// The limit, e.g. "must have at most 1048576 bytes".
        detail: String,
    },
    /// The field may not be set here.
    Forbidden {
        /// Why not.
        detail: String,
    },
}

impl FieldError {
    /// A required field is missing.
    pub fn required(path: &FieldPath, detail: &str) -> Self {
        let detail = detail.to_string();
        FieldError::at(path, ErrorKind::Required { detail })
    }

    /// A value breaks a rule.
    ///
    /// The value is rendered with `Debug`, which quotes strings and leaves numbers bare, as
    /// Kubernetes prints them (`Invalid value: "Web"`, `Invalid value: -1`).
    pub fn invalid(path: &FieldPath, value: &(impl fmt::Debug + ?Sized), detail: &str) -> Self {
        let (value, detail) = (format!("{value:?}"), detail.to_string());
        FieldError::at(path, ErrorKind::Invalid { value, detail })
    }

    /// A value appears twice.
    pub fn duplicate(path: &FieldPath, value: &(impl fmt::Debug + ?Sized)) -> Self {
        let value = format!("{value:?}");
        FieldError::at(path, ErrorKind::Duplicate { value })
    }

    /// A value is not in the allowed set.
    pub fn not_supported(path: &FieldPath, value: &str, supported: &[&'static str]) -> Self {
        let (value, supported) = (value.to_string(), supported.to_vec());
        FieldError::at(path, ErrorKind::NotSupported { value, supported })
    }

    /// A reference points at nothing.
    pub fn not_found(path: &FieldPath, value: &str) -> Self {
        let value = value.to_string();
        FieldError::at(path, ErrorKind::NotFound { value })
    }

    /// A value is over its size limit.
    pub fn too_long(path: &FieldPath, detail: &str) -> Self {
        let detail = detail.to_string();
        FieldError::at(path, ErrorKind::TooLong { detail })
    }

    /// A field is set where it may not be.
    pub fn forbidden(path: &FieldPath, detail: &str) -> Self {
        let detail = detail.to_string();
        FieldError::at(path, ErrorKind::Forbidden { detail })
    }

    fn at(path: &FieldPath, kind: ErrorKind) -> Self {
        FieldError {
            path: path.clone(),
            kind,
        }
    }
}

// ANCHOR: field_error_display
impl fmt::Display for FieldError {
    /// `metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain must ...`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.path)?;
        match &self.kind {
            ErrorKind::Required { detail } if detail.is_empty() => f.write_str("Required value"),
            ErrorKind::Required { detail } => write!(f, "Required value: {detail}"),
            ErrorKind::Invalid { value, detail } => write!(f, "Invalid value: {value}: {detail}"),
            ErrorKind::Duplicate { value } => write!(f, "Duplicate value: {value}"),
            ErrorKind::NotSupported { value, supported } => {
                let quoted: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
                write!(
                    f,
                    "Unsupported value: {value:?}: supported values: {}",
                    quoted.join(", ")
                )
            }
            ErrorKind::TooLong { detail } => write!(f, "Too long: {detail}"),
            ErrorKind::NotFound { value } => write!(f, "Not found: {value:?}"),
            ErrorKind::Forbidden { detail } => write!(f, "Forbidden: {detail}"),
        }
    }
}
// ANCHOR_END: field_error_display
