//! Validation, as the API server runs it before storing an object.
//!
//! Parsing checks the *shape* of a manifest (known fields, right types); validation checks the
//! *rules* (names, ranges, cross-field consistency). It reports every broken rule at once, each
//! with its field path, so a user fixes a manifest in one round trip instead of ten.

mod apps;
mod field;
mod kinds;
mod meta;
pub mod names;
mod pod;

use std::fmt;

pub use field::{ErrorKind, FieldError, FieldPath};

use crate::object::{Object, each_kind};

/// Implemented by every kind: checks the object against Kubernetes' validation rules.
pub trait Validate {
    /// Every rule the object breaks, in field order; empty when it is valid.
    fn field_errors(&self) -> Vec<FieldError>;

    /// `Ok` when the object is valid, otherwise all the errors at once.
    fn validate(&self) -> Result<(), ValidationErrors> {
        let errors = self.field_errors();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errors))
        }
    }
}

impl Validate for Object {
    fn field_errors(&self) -> Vec<FieldError> {
        each_kind!(self, o => o.field_errors())
    }
}

/// All the validation errors of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    /// One error per line, like `kubectl apply` prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for ValidationErrors {}

/// Turns each broken rule of a value into an `Invalid` error at `path`.
fn invalid_each(
    errors: &mut Vec<FieldError>,
    path: &FieldPath,
    value: &(impl fmt::Debug + ?Sized),
    rules: Vec<String>,
) {
    errors.extend(
        rules
            .iter()
            .map(|rule| FieldError::invalid(path, value, rule)),
    );
}

/// Checks an optional string against a fixed set of values.
fn one_of(
    errors: &mut Vec<FieldError>,
    path: &FieldPath,
    value: Option<&str>,
    allowed: &[&'static str],
) {
    if let Some(value) = value
        && !allowed.contains(&value)
    {
        errors.push(FieldError::not_supported(path, value, allowed));
    }
}

/// Checks that an optional number is not negative.
fn non_negative(errors: &mut Vec<FieldError>, path: &FieldPath, value: Option<i64>) {
    if let Some(value) = value
        && value < 0
    {
        errors.push(FieldError::invalid(
            path,
            &value,
            "must be greater than or equal to 0",
        ));
    }
}
