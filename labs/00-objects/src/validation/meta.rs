//! Validation of `metadata` and of label maps, shared by every kind.

use std::collections::BTreeMap;

use super::names::{self, dns1123_label, label_value, qualified_name};
use super::{FieldError, FieldPath, invalid_each};
use crate::meta::ObjectMeta;

/// The rule an object's name must follow (it differs by kind).
pub(super) type NameRule = fn(&str) -> Vec<String>;

/// The most annotation data an object may carry, as in Kubernetes (256 KiB).
const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// Validates `metadata`: the name by `name_rule`, the namespace if the kind has one, labels and
/// annotations.
pub(super) fn validate_object_meta(
    meta: &ObjectMeta,
    namespaced: bool,
    name_rule: NameRule,
) -> Vec<FieldError> {
    let path = FieldPath::root("metadata");
    let mut errors = Vec::new();
    match (meta.name.as_deref(), meta.generate_name.as_deref()) {
        (Some(name), _) if !name.is_empty() => {
            invalid_each(&mut errors, &path.child("name"), name, name_rule(name));
        }
        // The server appends random characters to the prefix, so a trailing '-' (as in
        // `web-`) is fine; like Kubernetes, check the prefix with that dash masked.
        (_, Some(prefix)) if !prefix.is_empty() => {
            let checked = match prefix.strip_suffix('-') {
                Some(stem) => format!("{stem}a"),
                None => prefix.to_string(),
            };
            invalid_each(
                &mut errors,
                &path.child("generateName"),
                prefix,
                name_rule(&checked),
            );
        }
        _ => errors.push(FieldError::required(
            &path.child("name"),
            "name or generateName is required",
        )),
    }
    if let Some(namespace) = meta.namespace.as_deref() {
        let namespace_path = path.child("namespace");
        if !namespaced {
            errors.push(FieldError::forbidden(
                &namespace_path,
                "not allowed on this type",
            ));
        } else {
            invalid_each(
                &mut errors,
                &namespace_path,
                namespace,
                dns1123_label(namespace),
            );
        }
    }
    errors.extend(validate_labels(&meta.labels, &path.child("labels")));
    errors.extend(validate_annotations(
        &meta.annotations,
        &path.child("annotations"),
    ));
    errors
}

/// Label keys are qualified names; values are short, selector-friendly strings.
pub(super) fn validate_labels(
    labels: &BTreeMap<String, String>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (key, value) in labels {
        invalid_each(&mut errors, path, key, qualified_name(key));
        invalid_each(&mut errors, path, value, label_value(value));
    }
    errors
}

/// Annotation keys are (lower-cased) qualified names; values are free-form but bounded in
/// total, because every watcher receives them with every change.
fn validate_annotations(
    annotations: &BTreeMap<String, String>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut total_bytes = 0;
    for (key, value) in annotations {
        invalid_each(&mut errors, path, key, qualified_name(&key.to_lowercase()));
        total_bytes += key.len() + value.len();
    }
    if total_bytes > ANNOTATIONS_MAX_BYTES {
        let detail = format!("must have at most {ANNOTATIONS_MAX_BYTES} bytes");
        errors.push(FieldError::too_long(path, &detail));
    }
    errors
}

/// Names of most kinds: a DNS-1123 subdomain.
pub(super) const SUBDOMAIN: NameRule = names::dns1123_subdomain;
/// Names of Namespaces: a DNS-1123 label.
pub(super) const LABEL: NameRule = names::dns1123_label;
/// Names of Services: a DNS-1035 label.
pub(super) const DNS1035: NameRule = names::dns1035_label;
