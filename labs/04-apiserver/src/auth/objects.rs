//! Reading Kubernetes' RBAC objects (`rbac.authorization.k8s.io/v1` Role, ClusterRole,
//! RoleBinding, ClusterRoleBinding) into [`Rbac`], so an instructor can write a manifest like
//! on a real cluster and every mistake in it is an error naming the field.

use serde_json::Value;

use super::rbac::{Binding, Rbac, RbacError, Role, RoleRef, Rule, Subject};

/// The API group and version of RBAC objects.
const RBAC_API_VERSION: &str = "rbac.authorization.k8s.io/v1";
/// The annotation that makes a role show Secrets' names only (skiff's extension).
const SECRET_DATA_ANNOTATION: &str = "skiff.dev/secret-data";

impl Rbac {
    /// The built-in roles and bindings plus `objects`, each an RBAC object as JSON. The first
    /// bad object stops it, with the error's field prefixed by its index: `objects[1].rules[0].verbs[2]`.
    pub fn from_objects(objects: &[Value]) -> Result<Rbac, RbacError> {
        let mut rbac = Rbac::builtin();
        for (i, object) in objects.iter().enumerate() {
            rbac.add_object(object)
                .map_err(|e| e.within(&format!("objects[{i}].")))?;
        }
        Ok(rbac)
    }

    /// The built-in roles and bindings plus the RBAC objects in `text`: one JSON object, a JSON
    /// array of them, or a `List` (`{"kind": "List", "items": [...]}`, what
    /// `kubectl get -o json` prints), as an instructor's policy file would hold.
    pub fn from_json_str(text: &str) -> Result<Rbac, RbacError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| RbacError::new("(file)", format!("not JSON: {e}")))?;
        match value {
            Value::Array(objects) => Rbac::from_objects(&objects),
            Value::Object(ref map) if map.contains_key("items") => match map.get("items") {
                Some(Value::Array(items)) => Rbac::from_objects(items).map_err(|e| {
                    RbacError::new(e.field.replacen("objects", "items", 1), e.message)
                }),
                _ => Err(RbacError::new(
                    "items",
                    "Invalid value: must be a list of objects",
                )),
            },
            object => Rbac::from_objects(std::slice::from_ref(&object)),
        }
    }

    /// Adds one Role, ClusterRole, RoleBinding or ClusterRoleBinding, given as JSON.
    pub fn add_object(&mut self, object: &Value) -> Result<(), RbacError> {
        let api_version = string_at(object, "apiVersion")?;
        if api_version != RBAC_API_VERSION {
            return Err(RbacError::new(
                "apiVersion",
                format!(
                    "Unsupported value: {api_version:?}: supported values: {RBAC_API_VERSION:?}"
                ),
            ));
        }
        let kind = string_at(object, "kind")?;
        let name = string_at(object, "metadata.name")?;
        let namespaced = matches!(kind, "Role" | "RoleBinding");
        let namespace = if namespaced {
            Some(string_at(object, "metadata.namespace")?)
        } else {
            None
        };
        match kind {
            "Role" | "ClusterRole" => {
                let role = Role {
                    name: name.to_string(),
                    namespace: namespace.map(str::to_string),
                    rules: rules(object)?,
                    secret_data: secret_data(object)?,
                };
                self.add_role(role)
            }
            "RoleBinding" | "ClusterRoleBinding" => {
                let binding = Binding {
                    name: name.to_string(),
                    namespace: namespace.map(str::to_string),
                    role_ref: role_ref(object)?,
                    subjects: subjects(object)?,
                };
                self.add_binding(binding)
            }
            other => Err(RbacError::new(
                "kind",
                format!(
                    "Unsupported value: {other:?}: supported values: \"Role\", \"ClusterRole\", \
                     \"RoleBinding\", \"ClusterRoleBinding\""
                ),
            )),
        }
    }
}

/// The value at a dotted path (`metadata.name`), if there is one.
fn at<'v>(object: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(object, |v, key| v.get(key))
}

/// The string at `path`, required.
fn string_at<'v>(object: &'v Value, path: &str) -> Result<&'v str, RbacError> {
    match at(object, path) {
        None | Some(Value::Null) => Err(RbacError::new(path, "Required value")),
        Some(Value::String(s)) if s.is_empty() => Err(RbacError::new(path, "Required value")),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(RbacError::new(
            path,
            format!("Invalid value: {other}: must be a string"),
        )),
    }
}

/// The list of strings at `key` in `object` (reported as `field.key`); absent is empty.
fn strings(object: &Value, field: &str, key: &str) -> Result<Vec<String>, RbacError> {
    let path = format!("{field}.{key}");
    match object.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(RbacError::new(
                    format!("{path}[{i}]"),
                    format!("Invalid value: {other}: must be a string"),
                )),
            })
            .collect(),
        Some(other) => Err(RbacError::new(
            path,
            format!("Invalid value: {other}: must be a list of strings"),
        )),
    }
}

fn rules(object: &Value) -> Result<Vec<Rule>, RbacError> {
    let items = match object.get("rules") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(RbacError::new(
                "rules",
                format!("Invalid value: {other}: must be a list of rules"),
            ));
        }
    };
    let mut rules = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = format!("rules[{i}]");
        if !item.is_object() {
            return Err(RbacError::new(
                field,
                format!("Invalid value: {item}: must be a rule object"),
            ));
        }
        if item.get("nonResourceURLs").is_some() {
            return Err(RbacError::new(
                format!("{field}.nonResourceURLs"),
                "Forbidden: skiff authorizes resource requests only (health, version and \
                 discovery paths are open to every authenticated user)",
            ));
        }
        let rule = Rule {
            verbs: strings(item, &field, "verbs")?,
            api_groups: strings(item, &field, "apiGroups")?,
            resources: strings(item, &field, "resources")?,
            resource_names: strings(item, &field, "resourceNames")?,
        };
        // Checked here too (add_role checks again) so the error names this rule.
        rule.validate(&field)?;
        rules.push(rule);
    }
    Ok(rules)
}

fn secret_data(object: &Value) -> Result<bool, RbacError> {
    let Some(value) = object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(SECRET_DATA_ANNOTATION))
    else {
        return Ok(true);
    };
    match value.as_str() {
        Some("names-only") => Ok(false),
        Some("full") => Ok(true),
        _ => Err(RbacError::new(
            format!("metadata.annotations[{SECRET_DATA_ANNOTATION}]"),
            format!("Unsupported value: {value}: supported values: \"names-only\", \"full\""),
        )),
    }
}

fn role_ref(object: &Value) -> Result<RoleRef, RbacError> {
    let group = at(object, "roleRef.apiGroup").and_then(Value::as_str);
    if let Some(group) = group
        && group != "rbac.authorization.k8s.io"
    {
        return Err(RbacError::new(
            "roleRef.apiGroup",
            format!(
                "Unsupported value: {group:?}: supported values: \"rbac.authorization.k8s.io\""
            ),
        ));
    }
    let kind = string_at(object, "roleRef.kind")?;
    let name = string_at(object, "roleRef.name")?.to_string();
    match kind {
        "ClusterRole" => Ok(RoleRef::ClusterRole(name)),
        "Role" => Ok(RoleRef::Role(name)),
        other => Err(RbacError::new(
            "roleRef.kind",
            format!("Unsupported value: {other:?}: supported values: \"Role\", \"ClusterRole\""),
        )),
    }
}

fn subjects(object: &Value) -> Result<Vec<Subject>, RbacError> {
    let items = match object.get("subjects") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(RbacError::new(
                "subjects",
                format!("Invalid value: {other}: must be a list of subjects"),
            ));
        }
    };
    let mut subjects = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = format!("subjects[{i}]");
        let kind = string_at(item, "kind").map_err(|e| e.within(&format!("{field}.")))?;
        let name = string_at(item, "name").map_err(|e| e.within(&format!("{field}.")))?;
        subjects.push(match kind {
            "User" => Subject::User(name.to_string()),
            "Group" => Subject::Group(name.to_string()),
            // A service account authenticates as this user name.
            "ServiceAccount" => {
                let ns =
                    string_at(item, "namespace").map_err(|e| e.within(&format!("{field}.")))?;
                Subject::User(format!("system:serviceaccount:{ns}:{name}"))
            }
            other => {
                return Err(RbacError::new(
                    format!("{field}.kind"),
                    format!(
                        "Unsupported value: {other:?}: supported values: \"User\", \"Group\", \
                         \"ServiceAccount\""
                    ),
                ));
            }
        });
    }
    Ok(subjects)
}
