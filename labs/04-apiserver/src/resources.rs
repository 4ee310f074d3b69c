//! The served resources: one table that routing, discovery and storage keys all read.
//!
//! Each row says what Kubernetes' discovery says about a resource (group, version, kind,
//! plural, namespaced, short names, verbs, subresources, categories) and how to decode and
//! validate its objects with the typed structs of lab 00.

use serde::de::DeserializeOwned;
use serde_json::Value;

use api::client::ApiResource;
use api::validation::FieldError;
use api::{
    ConfigMap, Deployment, Endpoints, Event, Lease, Namespace, Node, Pod, ReplicaSet, Secret,
    Service,
};

/// A subresource of a resource, e.g. `pods/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subresource {
    /// The name after the object's name in the path: `status`, `binding`, `log`, `scale`.
    pub name: &'static str,
    /// The kind its body has: the parent's for `status`, `Scale`, `Binding`, ...
    pub kind: &'static str,
    /// The group of that kind (`autoscaling` for Scale) when it differs from the parent's.
    pub group: &'static str,
    /// The version of that kind.
    pub version: &'static str,
    /// The verbs it serves.
    pub verbs: &'static [&'static str],
}

/// Decodes a JSON object into the resource's typed struct and back, so that defaults and the
/// shape are lab 00's. Errors carry the failing field's path and serde's message.
pub type Decoder = fn(&Value) -> Result<Typed, serde_path_to_error::Error<serde_json::Error>>;

/// An object that decoded: its normalized JSON and every validation error.
#[derive(Debug, Clone)]
pub struct Typed {
    /// The object as the typed struct serializes it.
    pub value: Value,
    /// What lab 00's `Validate` says about it (empty when valid).
    pub errors: Vec<FieldError>,
}

/// One served resource.
#[derive(Debug, Clone, Copy)]
pub struct ResourceInfo {
    /// The API group, `""` for the core group.
    pub group: &'static str,
    /// The version, e.g. `v1`.
    pub version: &'static str,
    /// The kind, e.g. `Pod`.
    pub kind: &'static str,
    /// The plural used in paths, e.g. `pods`.
    pub plural: &'static str,
    /// The singular, e.g. `pod`.
    pub singular: &'static str,
    /// True when objects live in a namespace.
    pub namespaced: bool,
    /// kubectl's abbreviations, e.g. `po`.
    pub short_names: &'static [&'static str],
    /// The verbs served on the resource itself.
    pub verbs: &'static [&'static str],
    /// The subresources served.
    pub subresources: &'static [Subresource],
    /// Discovery categories (`all` makes `kubectl get all` include it).
    pub categories: &'static [&'static str],
    /// Decodes and validates an object of this kind.
    pub decode: Decoder,
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const STATUS_VERBS: &[&str] = &["get", "patch", "update"];

const fn status(kind: &'static str, group: &'static str) -> Subresource {
    Subresource {
        name: "status",
        kind,
        group,
        version: "v1",
        verbs: STATUS_VERBS,
    }
}

const fn scale() -> Subresource {
    Subresource {
        name: "scale",
        kind: "Scale",
        group: "autoscaling",
        version: "v1",
        verbs: STATUS_VERBS,
    }
}

fn decoder<K: ApiResource + DeserializeOwned>(
    value: &Value,
) -> Result<Typed, serde_path_to_error::Error<serde_json::Error>> {
    let object: K = serde_path_to_error::deserialize(value)?;
    let errors = object.field_errors();
    let value = serde_json::to_value(&object).unwrap_or(Value::Null);
    Ok(Typed { value, errors })
}

// ANCHOR: resources
/// Every resource the server serves, in discovery order.
pub static RESOURCES: &[ResourceInfo] = &[
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Namespace",
        plural: "namespaces",
        singular: "namespace",
        namespaced: false,
        short_names: &["ns"],
        verbs: &[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ],
        subresources: &[status("Namespace", "")],
        categories: &[],
        decode: decoder::<Namespace>,
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Pod",
        plural: "pods",
        singular: "pod",
        namespaced: true,
        short_names: &["po"],
        verbs: ALL_VERBS,
        subresources: &[
            status("Pod", ""),
            Subresource {
                name: "binding",
                kind: "Binding",
                group: "",
                version: "v1",
                verbs: &["create"],
            },
            Subresource {
                name: "log",
                kind: "Pod",
                group: "",
                version: "v1",
                verbs: &["get"],
            },
        ],
        categories: &["all"],
        decode: decoder::<Pod>,
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Node",
        plural: "nodes",
        singular: "node",
        namespaced: false,
        short_names: &["no"],
        verbs: ALL_VERBS,
        subresources: &[status("Node", "")],
        categories: &[],
        decode: decoder::<Node>,
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Service",
        plural: "services",
        singular: "service",
        namespaced: true,
        short_names: &["svc"],
        verbs: ALL_VERBS,
        subresources: &[status("Service", "")],
        categories: &["all"],
        decode: decoder::<Service>,
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Endpoints",
        plural: "endpoints",
        singular: "endpoints",
        namespaced: true,
        short_names: &["ep"],
        verbs: ALL_VERBS,
        subresources: &[],
        categories: &[],
        decode: decoder::<Endpoints>,
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "ConfigMap",
        plural: "configmaps",
        singular: "configmap",
        namespaced: true,
        short_names: &["cm"],
        verbs: ALL_VERBS,
        subresources: &[],
        categories: &[],
        decode: decoder::<ConfigMap>,
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Secret",
        plural: "secrets",
        singular: "secret",
        namespaced: true,
        short_names: &[],
        verbs: ALL_VERBS,
        subresources: &[],
        categories: &[],
        decode: decoder::<Secret>,
    },
    ResourceInfo {
        group: "",
        version: "v1",
        kind: "Event",
        plural: "events",
        singular: "event",
        namespaced: true,
        short_names: &["ev"],
        verbs: ALL_VERBS,
        subresources: &[],
        categories: &[],
        decode: decoder::<Event>,
    },
    ResourceInfo {
        group: "apps",
        version: "v1",
        kind: "Deployment",
        plural: "deployments",
        singular: "deployment",
        namespaced: true,
        short_names: &["deploy"],
        verbs: ALL_VERBS,
        subresources: &[status("Deployment", "apps"), scale()],
        categories: &["all"],
        decode: decoder::<Deployment>,
    },
    ResourceInfo {
        group: "apps",
        version: "v1",
        kind: "ReplicaSet",
        plural: "replicasets",
        singular: "replicaset",
        namespaced: true,
        short_names: &["rs"],
        verbs: ALL_VERBS,
        subresources: &[status("ReplicaSet", "apps"), scale()],
        categories: &["all"],
        decode: decoder::<ReplicaSet>,
    },
    ResourceInfo {
        group: "coordination.k8s.io",
        version: "v1",
        kind: "Lease",
        plural: "leases",
        singular: "lease",
        namespaced: true,
        short_names: &[],
        verbs: ALL_VERBS,
        subresources: &[],
        categories: &[],
        decode: decoder::<Lease>,
    },
];
// ANCHOR_END: resources

/// The groups served, each with its one version, in discovery order.
pub const GROUPS: &[(&str, &str)] = &[("apps", "v1"), ("coordination.k8s.io", "v1")];

/// The `namespaces` resource (the first row of [`RESOURCES`]), which create and bootstrap use.
pub fn namespaces() -> &'static ResourceInfo {
    &RESOURCES[0]
}

/// The resource served at `group`/`version` under `plural`.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resources of one group and version.
pub fn in_group_version<'a>(
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static ResourceInfo> + 'a {
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

impl ResourceInfo {
    /// The `apiVersion` objects carry: `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The subresource called `name`, if served.
    pub fn subresource(&self, name: &str) -> Option<&'static Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// True when `verb` is served on the resource itself.
    pub fn allows(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    // ANCHOR: keys
    /// The storage prefix of the resource's objects: in one namespace, or all of them.
    ///
    /// `/registry/pods/default/` for core resources, as Kubernetes lays out etcd;
    /// `/registry/apps/deployments/default/` for the others.
    pub fn prefix(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/registry/{}/", self.plural)
        } else {
            format!("/registry/{}/{}/", self.group, self.plural)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{base}{ns}/"),
            _ => base,
        }
    }

    /// The storage key of one object.
    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        format!("{}{name}", self.prefix(namespace))
    }
    // ANCHOR_END: keys
}
