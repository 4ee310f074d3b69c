//! Role-based access control: rules, roles, bindings, and the decision.
//!
//! The model is Kubernetes' own, trimmed to what the decision needs:
//!
//! - a [`Rule`] allows some verbs on some resources in some API groups (optionally only on
//!   some names);
//! - a [`Role`] is a named list of rules, either a *ClusterRole* (no namespace) or a namespaced
//!   *Role*;
//! - a [`Binding`] grants a role to subjects (users and groups), either everywhere (a
//!   *ClusterRoleBinding*) or inside one namespace (a *RoleBinding*).
//!
//! Everything is an allow: there are no deny rules, so the order of roles and bindings never
//! matters, and adding a binding can only ever grant more.

use std::collections::BTreeMap;
use std::fmt;

use super::{Attributes, Decision, roles};
use crate::request::User;

// ANCHOR: rule
/// One rule: these verbs on these resources in these API groups, optionally only on these
/// names. `*` in any list means "all".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `get`, `list`, ..., or `*`.
    pub verbs: Vec<String>,
    /// `""` (core), `apps`, ..., or `*`.
    pub api_groups: Vec<String>,
    /// `pods`, `pods/status` (a subresource is a resource of its own), `*/scale` (that
    /// subresource of every resource), or `*` (everything, subresources included).
    pub resources: Vec<String>,
    /// When not empty, only objects with these names (so never `list`, `watch` or `create`,
    /// whose requests carry no name).
    pub resource_names: Vec<String>,
}
// ANCHOR_END: rule

impl Rule {
    /// A rule allowing `verbs` on `resources` in `api_groups`, for every name.
    pub fn new(verbs: &[&str], api_groups: &[&str], resources: &[&str]) -> Rule {
        let owned = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        Rule {
            verbs: owned(verbs),
            api_groups: owned(api_groups),
            resources: owned(resources),
            resource_names: Vec::new(),
        }
    }

    /// The same rule, limited to objects with these names.
    pub fn named(mut self, names: &[&str]) -> Rule {
        self.resource_names = names.iter().map(|s| s.to_string()).collect();
        self
    }

    // ANCHOR: matches
    /// True when this rule covers the request: its verb, its API group, its resource (with the
    /// subresource) and, when the rule lists names, its name.
    pub fn matches(&self, a: &Attributes) -> bool {
        // EXERCISE(apiserver-rbac-rule-matches): verb, group, "resource/sub" (or "*", or "*/sub"), then names if any
        let any = |list: &[String], wanted: &str| list.iter().any(|x| x == "*" || x == wanted);
        if !any(&self.verbs, a.verb) || !any(&self.api_groups, a.api_group) {
            return false;
        }
        // A subresource is matched as "pods/status": a rule for "pods" does not cover it.
        let combined = if a.subresource.is_empty() {
            a.resource.to_string()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        let resource_ok = self.resources.iter().any(|r| {
            r == "*"
                || *r == combined
                || (!a.subresource.is_empty() && r.strip_prefix("*/") == Some(a.subresource))
        });
        if !resource_ok {
            return false;
        }
        // No names listed means every name; names listed never match a nameless request.
        self.resource_names.is_empty() || self.resource_names.iter().any(|n| n == a.name)
        // END EXERCISE
    }
    // ANCHOR_END: matches

    /// Checks the rule; `field` is where it sits (`rules[0]`), for the error's path.
    pub fn validate(&self, field: &str) -> Result<(), RbacError> {
        if self.verbs.is_empty() {
            return Err(RbacError::new(
                format!("{field}.verbs"),
                "Required value: at least one verb",
            ));
        }
        for (i, verb) in self.verbs.iter().enumerate() {
            if verb != "*" && !roles::VERBS.contains(&verb.as_str()) {
                let supported: Vec<String> = roles::VERBS
                    .iter()
                    .chain(std::iter::once(&"*"))
                    .map(|v| format!("{v:?}"))
                    .collect();
                return Err(RbacError::new(
                    format!("{field}.verbs[{i}]"),
                    format!(
                        "Unsupported value: {verb:?}: supported values: {}",
                        supported.join(", ")
                    ),
                ));
            }
        }
        if self.api_groups.is_empty() {
            return Err(RbacError::new(
                format!("{field}.apiGroups"),
                "Required value: at least one API group (\"\" is the core group)",
            ));
        }
        if self.resources.is_empty() {
            return Err(RbacError::new(
                format!("{field}.resources"),
                "Required value: at least one resource",
            ));
        }
        for (i, resource) in self.resources.iter().enumerate() {
            let valid = !resource.is_empty()
                && resource.split('/').count() <= 2
                && resource.split('/').all(|part| !part.is_empty())
                && resource
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "*/-.".contains(c));
            if !valid {
                return Err(RbacError::new(
                    format!("{field}.resources[{i}]"),
                    format!(
                        "Invalid value: {resource:?}: a plural lower-case resource, \
                         \"resource/subresource\", \"*/subresource\" or \"*\""
                    ),
                ));
            }
        }
        for (i, name) in self.resource_names.iter().enumerate() {
            if name.is_empty() {
                return Err(RbacError::new(
                    format!("{field}.resourceNames[{i}]"),
                    "Invalid value: \"\": a name must not be empty",
                ));
            }
        }
        Ok(())
    }
}

/// A named list of rules: a ClusterRole when `namespace` is `None`, a Role otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// The role's name.
    pub name: String,
    /// `None` for a ClusterRole; `Some(ns)` for a Role that exists only in `ns`.
    pub namespace: Option<String>,
    /// What the role allows.
    pub rules: Vec<Rule>,
    /// Whether the role's `get`/`list`/`watch` on Secrets shows their values. True for every
    /// role except skiff's built-in `viewer`, which sees Secrets' names only (see
    /// [`Rbac::can_read_secret_data`]). On API objects it is the annotation
    /// `skiff.dev/secret-data: "names-only"`.
    pub secret_data: bool,
}

impl Role {
    /// A ClusterRole named `name` with `rules`.
    pub fn cluster(name: &str, rules: Vec<Rule>) -> Role {
        Role {
            name: name.to_string(),
            namespace: None,
            rules,
            secret_data: true,
        }
    }

    /// A Role named `name` in `namespace` with `rules`.
    pub fn namespaced(namespace: &str, name: &str, rules: Vec<Rule>) -> Role {
        Role {
            namespace: Some(namespace.to_string()),
            ..Role::cluster(name, rules)
        }
    }

    /// The same role, showing Secrets' names but never their values.
    pub fn secret_names_only(self) -> Role {
        Role {
            secret_data: false,
            ..self
        }
    }

    fn validate(&self) -> Result<(), RbacError> {
        check_name("metadata.name", &self.name)?;
        if let Some(ns) = &self.namespace {
            check_name("metadata.namespace", ns)?;
        }
        for (i, rule) in self.rules.iter().enumerate() {
            rule.validate(&format!("rules[{i}]"))?;
        }
        Ok(())
    }

    fn kind(&self) -> &'static str {
        if self.namespace.is_some() {
            "role"
        } else {
            "clusterrole"
        }
    }
}

/// Which role a binding grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleRef {
    /// A ClusterRole, by name. From a RoleBinding, its rules apply in the binding's namespace
    /// only: the usual way to reuse one role definition in many namespaces.
    ClusterRole(String),
    /// A Role in the binding's own namespace (only a RoleBinding may refer to one).
    Role(String),
}

/// Who a binding grants its role to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The user with this name.
    User(String),
    /// Every user in this group.
    Group(String),
}

impl Subject {
    /// True when `user` is this subject or belongs to it.
    pub fn includes(&self, user: &User) -> bool {
        match self {
            Subject::User(name) => *name == user.name,
            Subject::Group(group) => user.in_group(group),
        }
    }
}

/// Grants one role to some subjects: a ClusterRoleBinding (everywhere) when `namespace` is
/// `None`, a RoleBinding (inside that namespace only) otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The binding's name.
    pub name: String,
    /// `None` for a ClusterRoleBinding; `Some(ns)` for a RoleBinding in `ns`.
    pub namespace: Option<String>,
    /// The role granted.
    pub role_ref: RoleRef,
    /// Who gets it.
    pub subjects: Vec<Subject>,
}

impl Binding {
    /// A ClusterRoleBinding granting ClusterRole `role` to `subjects` everywhere.
    pub fn cluster(name: &str, role: &str, subjects: Vec<Subject>) -> Binding {
        Binding {
            name: name.to_string(),
            namespace: None,
            role_ref: RoleRef::ClusterRole(role.to_string()),
            subjects,
        }
    }

    /// A RoleBinding in `namespace` granting `role_ref` to `subjects` there.
    pub fn namespaced(
        namespace: &str,
        name: &str,
        role_ref: RoleRef,
        subjects: Vec<Subject>,
    ) -> Binding {
        Binding {
            name: name.to_string(),
            namespace: Some(namespace.to_string()),
            role_ref,
            subjects,
        }
    }

    fn validate(&self) -> Result<(), RbacError> {
        check_name("metadata.name", &self.name)?;
        if let Some(ns) = &self.namespace {
            check_name("metadata.namespace", ns)?;
        }
        let role = match &self.role_ref {
            RoleRef::ClusterRole(role) => role,
            RoleRef::Role(role) => {
                if self.namespace.is_none() {
                    return Err(RbacError::new(
                        "roleRef.kind",
                        "Unsupported value: \"Role\": a ClusterRoleBinding can only refer to a \
                         ClusterRole",
                    ));
                }
                role
            }
        };
        check_name("roleRef.name", role)?;
        if self.subjects.is_empty() {
            return Err(RbacError::new(
                "subjects",
                "Required value: at least one subject",
            ));
        }
        for (i, subject) in self.subjects.iter().enumerate() {
            let (Subject::User(name) | Subject::Group(name)) = subject;
            if name.is_empty() {
                return Err(RbacError::new(
                    format!("subjects[{i}].name"),
                    "Required value: a subject needs a name",
                ));
            }
        }
        Ok(())
    }
}

fn check_name(field: &str, name: &str) -> Result<(), RbacError> {
    if name.is_empty() {
        return Err(RbacError::new(field, "Required value: name is required"));
    }
    if name.contains('/') || name == "." || name == ".." {
        return Err(RbacError::new(
            field,
            format!("Invalid value: {name:?}: may not contain '/' or be '.' or '..'"),
        ));
    }
    Ok(())
}

/// A role, binding or RBAC object that cannot be used, with the field that is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RbacError {
    /// The field's path, e.g. `rules[0].verbs[1]`.
    pub field: String,
    /// What is wrong with it, in Kubernetes' validation wording.
    pub message: String,
}

impl RbacError {
    /// An error on `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        RbacError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error inside a larger object: `prefix` goes in front of the field's path.
    pub fn within(self, prefix: &str) -> Self {
        RbacError {
            field: format!("{prefix}{}", self.field),
            message: self.message,
        }
    }
}

impl fmt::Display for RbacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for RbacError {}

/// The group whose members may do anything, whatever the roles say.
pub const MASTERS_GROUP: &str = "system:masters";

/// A role that applies to a request, and the binding that grants it.
struct Grant<'s> {
    binding: &'s Binding,
    role: &'s Role,
}

/// The authorizer: every role and binding, and the decision.
#[derive(Debug, Clone, Default)]
pub struct Rbac {
    /// ClusterRoles by name.
    cluster_roles: BTreeMap<String, Role>,
    /// Roles by (namespace, name).
    roles: BTreeMap<(String, String), Role>,
    /// Bindings by (namespace or "", name), so re-adding one replaces it.
    bindings: BTreeMap<(String, String), Binding>,
}

impl Rbac {
    /// No roles and no bindings: every request is denied.
    pub fn empty() -> Rbac {
        Rbac::default()
    }

    /// Skiff's built-in roles (`admin`, `viewer`, `node`, `scheduler`, `controller-manager`,
    /// `proxy`) bound to the built-in identities.
    pub fn builtin() -> Rbac {
        let mut rbac = Rbac::empty();
        for role in roles::builtin_roles() {
            rbac.add_role(role).expect("the built-in roles are valid");
        }
        for binding in roles::builtin_bindings() {
            rbac.add_binding(binding)
                .expect("the built-in bindings are valid");
        }
        rbac
    }

    /// Adds (or replaces) a role, after checking it.
    pub fn add_role(&mut self, role: Role) -> Result<(), RbacError> {
        role.validate()?;
        match &role.namespace {
            None => {
                self.cluster_roles.insert(role.name.clone(), role);
            }
            Some(ns) => {
                self.roles.insert((ns.clone(), role.name.clone()), role);
            }
        }
        Ok(())
    }

    /// Adds (or replaces) a binding, after checking it. The role it refers to need not exist
    /// yet (as in Kubernetes); until it does, the binding grants nothing.
    pub fn add_binding(&mut self, binding: Binding) -> Result<(), RbacError> {
        binding.validate()?;
        let key = (
            binding.namespace.clone().unwrap_or_default(),
            binding.name.clone(),
        );
        self.bindings.insert(key, binding);
        Ok(())
    }

    /// The same authorizer with one more role (builder style, for tests and instructors).
    pub fn with_role(mut self, role: Role) -> Result<Rbac, RbacError> {
        self.add_role(role)?;
        Ok(self)
    }

    /// The same authorizer with one more binding (builder style).
    pub fn with_binding(mut self, binding: Binding) -> Result<Rbac, RbacError> {
        self.add_binding(binding)?;
        Ok(self)
    }

    /// Every ClusterRole and Role, ClusterRoles first, each group by name.
    pub fn roles(&self) -> impl Iterator<Item = &Role> {
        self.cluster_roles.values().chain(self.roles.values())
    }

    /// Every binding, ClusterRoleBindings first, each group by name.
    pub fn bindings(&self) -> impl Iterator<Item = &Binding> {
        self.bindings.values()
    }

    // ANCHOR: applicable_roles
    /// The roles that apply to `user` for a request in `namespace` (`""`: cluster-wide), each
    /// with the binding that grants it, and the roles bindings refer to that do not exist.
    ///
    /// A ClusterRoleBinding applies everywhere. A RoleBinding applies only to requests inside
    /// its own namespace, so it can never grant anything cluster-wide, even when it refers to
    /// a ClusterRole.
    fn applicable_roles<'s>(
        &'s self,
        user: &User,
        namespace: &str,
    ) -> (Vec<Grant<'s>>, Vec<String>) {
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for binding in self.bindings.values() {
            if let Some(ns) = &binding.namespace
                && ns != namespace
            {
                continue;
            }
            if !binding.subjects.iter().any(|s| s.includes(user)) {
                continue;
            }
            let role = match &binding.role_ref {
                RoleRef::ClusterRole(name) => self.cluster_roles.get(name),
                RoleRef::Role(name) => {
                    let ns = binding.namespace.clone().unwrap_or_default();
                    self.roles.get(&(ns, name.clone()))
                }
            };
            match role {
                Some(role) => found.push(Grant { binding, role }),
                None => {
                    let (kind, name) = match &binding.role_ref {
                        RoleRef::ClusterRole(name) => ("clusterrole", name),
                        RoleRef::Role(name) => ("role", name),
                    };
                    missing.push(format!(
                        "{kind}.rbac.authorization.k8s.io {name:?} not found"
                    ));
                }
            }
        }
        (found, missing)
    }
    // ANCHOR_END: applicable_roles

    // ANCHOR: authorize
    /// Allows the request when some rule of some role bound to the user covers it. Members of
    /// `system:masters` are allowed everything before any rule is looked at, as in Kubernetes:
    /// the cluster's administrators must not be locked out by a broken role.
    pub fn authorize(&self, a: &Attributes) -> Decision {
        if a.user.in_group(MASTERS_GROUP) {
            return Decision::Allow;
        }
        let (grants, missing) = self.applicable_roles(a.user, a.namespace);
        if grants
            .iter()
            .any(|g| g.role.rules.iter().any(|rule| rule.matches(a)))
        {
            return Decision::Allow;
        }
        let mut reason = if grants.is_empty() {
            format!("RBAC: no role is bound to User {:?}", a.user.name)
        } else {
            let names: Vec<String> = grants
                .iter()
                .map(|g| format!("{} {:?}", g.role.kind(), g.role.name))
                .collect();
            format!("RBAC: no rule of {} allows it", names.join(", "))
        };
        if !missing.is_empty() {
            reason.push_str(&format!(" ({})", missing.join(", ")));
        }
        Decision::Deny { reason }
    }
    // ANCHOR_END: authorize

    /// Why a request is allowed, in the words of Kubernetes' RBAC authorizer (`RBAC: allowed
    /// by ClusterRoleBinding "admin" of ClusterRole "admin" to Group "system:masters"`), or
    /// `None` when it is not. The first binding in name order that allows it is named.
    pub fn allowed_by(&self, a: &Attributes) -> Option<String> {
        let (grants, _) = self.applicable_roles(a.user, a.namespace);
        let grant = grants
            .into_iter()
            .find(|g| g.role.rules.iter().any(|rule| rule.matches(a)))?;
        let binding = grant.binding;
        let subject = binding.subjects.iter().find(|s| s.includes(a.user))?;
        let (binding_kind, binding_name) = match &binding.namespace {
            None => ("ClusterRoleBinding", binding.name.clone()),
            Some(ns) => ("RoleBinding", format!("{}/{ns}", binding.name)),
        };
        let (role_kind, role_name) = match &binding.role_ref {
            RoleRef::ClusterRole(name) => ("ClusterRole", name),
            RoleRef::Role(name) => ("Role", name),
        };
        let (subject_kind, subject_name) = match subject {
            Subject::User(name) => ("User", name),
            Subject::Group(name) => ("Group", name),
        };
        Some(format!(
            "RBAC: allowed by {binding_kind} {binding_name:?} of {role_kind} {role_name:?} to \
             {subject_kind} {subject_name:?}"
        ))
    }

    // ANCHOR: can_read_secret_data
    /// True when `user` may see the values (`data`, `stringData`) of the Secrets in
    /// `namespace`: some role that is not names-only lets them `get` every Secret there.
    ///
    /// Kubernetes has no such check: whoever may get or list Secrets reads their values, which
    /// is why its `view` role leaves Secrets out entirely. Skiff's `viewer` may list Secrets
    /// and the core removes their values when this returns false.
    pub fn can_read_secret_data(&self, user: &User, namespace: &str) -> bool {
        if user.in_group(MASTERS_GROUP) {
            return true;
        }
        let get_all = Attributes::new(user, "get", "secrets").ns(namespace);
        let (grants, _) = self.applicable_roles(user, namespace);
        grants
            .iter()
            .filter(|g| g.role.secret_data)
            .any(|g| g.role.rules.iter().any(|rule| rule.matches(&get_all)))
    }
    // ANCHOR_END: can_read_secret_data
}
