//! Authorization: may this user do this to that object?
//!
//! Authentication (the HTTP shell) has already said *who* is asking: a [`User`] with a name and
//! groups. The core then describes *what* the request wants as [`Attributes`] (a verb, a
//! resource, a namespace, a name) and asks two questions, in this order:
//!
//! 1. [`Rbac::authorize`]: does any role bound to the user have a rule that covers the
//!    request? This looks only at the attributes, never at an object, so it is cheap and runs
//!    for every request. A deny becomes a 403 with [`Attributes::forbidden_message`].
//! 2. [`node_restriction`]: for a kubelet (`system:node:<n>`), does the object it writes belong
//!    to node `<n>`? RBAC can say "a node may update pod status", but only the object can say
//!    *whose* pod it is.
//!
//! Reading a Secret adds a third, skiff-only question, [`Rbac::can_read_secret_data`]: a viewer
//! may see that a Secret exists, but the core removes its values with [`redact_secret_data`]
//! unless the answer is yes.

use crate::request::User;

mod node;
mod objects;
mod rbac;
mod review;
mod roles;
mod secrets;

pub use node::{MIRROR_POD_ANNOTATION, NODE_LEASE_NAMESPACE, node_restriction};
pub use rbac::{Binding, MASTERS_GROUP, Rbac, RbacError, Role, RoleRef, Rule, Subject};
pub use review::access_review;
pub use roles::{BUILTIN_ROLES, VERBS, builtin_bindings, builtin_roles};
pub use secrets::{LAST_APPLIED_ANNOTATION, redact_secret_data};

// ANCHOR: attributes
/// What a request wants to do, in the words RBAC rules are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attributes<'a> {
    /// Who is asking.
    pub user: &'a User,
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete` or `deletecollection`.
    pub verb: &'a str,
    /// The API group: `""` for the core group (`/api/v1`), `apps`, `coordination.k8s.io`, ...
    pub api_group: &'a str,
    /// The resource, plural and lower-case: `pods`, `deployments`.
    pub resource: &'a str,
    /// `""`, or a subresource such as `status`, `binding`, `log` or `scale`.
    pub subresource: &'a str,
    /// The namespace; `""` for a cluster-scoped resource or a request across all namespaces.
    pub namespace: &'a str,
    /// The object's name; `""` for `list`, `watch`, `create` and `deletecollection`.
    pub name: &'a str,
}
// ANCHOR_END: attributes

impl<'a> Attributes<'a> {
    /// A request by `user` to `verb` the core-group `resource`, cluster-wide and unnamed;
    /// narrow it with [`Attributes::group`], [`Attributes::subresource`], [`Attributes::ns`] and
    /// [`Attributes::named`].
    pub fn new(user: &'a User, verb: &'a str, resource: &'a str) -> Self {
        Attributes {
            user,
            verb,
            api_group: "",
            resource,
            subresource: "",
            namespace: "",
            name: "",
        }
    }

    /// The same request in API group `api_group`.
    pub fn group(self, api_group: &'a str) -> Self {
        Attributes { api_group, ..self }
    }

    /// The same request on subresource `subresource`.
    pub fn subresource(self, subresource: &'a str) -> Self {
        Attributes {
            subresource,
            ..self
        }
    }

    /// The same request in namespace `namespace`.
    pub fn ns(self, namespace: &'a str) -> Self {
        Attributes { namespace, ..self }
    }

    /// The same request on the object named `name`.
    pub fn named(self, name: &'a str) -> Self {
        Attributes { name, ..self }
    }

    /// True for the verbs that change something (and so are audited and pass through
    /// [`node_restriction`]'s object checks).
    pub fn is_write(&self) -> bool {
        !matches!(self.verb, "get" | "list" | "watch")
    }

    // ANCHOR: forbidden_message
    /// The message of the 403 `Status` for a denied request, in Kubernetes' exact words:
    ///
    /// `pods "web" is forbidden: User "bob" cannot delete resource "pods" in API group "" in the
    /// namespace "default"`.
    ///
    /// The first part is the group-qualified resource (`deployments.apps`) and the name, when
    /// there is one; the resource in the sentence carries the subresource (`pods/status`); the
    /// scope is `in the namespace "<ns>"` or `at the cluster scope`.
    pub fn forbidden_message(&self) -> String {
        let qualified = if self.api_group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.api_group)
        };
        let subject = if self.name.is_empty() {
            qualified
        } else {
            format!("{qualified} {}", quote(self.name))
        };
        let resource = if self.subresource.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        };
        let scope = if self.namespace.is_empty() {
            "at the cluster scope".to_string()
        } else {
            format!("in the namespace {}", quote(self.namespace))
        };
        format!(
            "{subject} is forbidden: User {} cannot {} resource {} in API group {} {scope}",
            quote(&self.user.name),
            self.verb,
            quote(&resource),
            quote(self.api_group),
        )
    }
    // ANCHOR_END: forbidden_message
}

/// Quotes like Go's `%q` does for the printable text Kubernetes names are made of.
fn quote(text: &str) -> String {
    format!("{text:?}")
}

/// The answer of an authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Some rule covers the request.
    Allow,
    /// Nothing allows it.
    Deny {
        /// Why, for the server's log (the client sees only [`Attributes::forbidden_message`]).
        reason: String,
    },
}

impl Decision {
    /// True for [`Decision::Allow`].
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }
}
