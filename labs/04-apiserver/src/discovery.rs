//! Discovery: the documents that tell kubectl which groups, versions and resources exist.
//!
//! kubectl first asks `/api` and `/apis` (it offers to accept the aggregated
//! `apidiscovery.k8s.io/v2` format, and falls back to these classic documents when the answer
//! is plain `application/json`), then `/api/v1` and `/apis/{group}/{version}` for each
//! resource's kind, verbs, short names and whether it is namespaced. Everything comes from
//! the one table in [`crate::resources`].

use serde_json::{Value, json};

use crate::resources::{self, GROUPS, ResourceInfo};

/// The version this server reports: Kubernetes 1.32's API, as kubectl 1.32 expects.
pub const GIT_VERSION: &str = "v1.32.0-skiff";

/// The discovery document at `path`, if `path` is a discovery path.
pub fn document(path: &str) -> Option<Value> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["version"] => Some(version()),
        ["api"] => Some(json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
        })),
        ["api", "v1"] => Some(resource_list("", "v1")),
        ["apis"] => Some(json!({
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": GROUPS.iter().map(|(g, v)| group(g, v)).collect::<Vec<_>>(),
        })),
        ["apis", name] => GROUPS.iter().find(|(g, _)| g == name).map(|(g, v)| {
            let mut document = group(g, v);
            document["kind"] = json!("APIGroup");
            document["apiVersion"] = json!("v1");
            document
        }),
        ["apis", name, version] => GROUPS
            .iter()
            .any(|(g, v)| g == name && v == version)
            .then(|| resource_list(name, version)),
        _ => None,
    }
}

/// `/version`.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "rust",
        "compiler": "rustc",
        "platform": "linux/amd64",
    })
}

fn group(name: &str, version: &str) -> Value {
    let group_version = json!({"groupVersion": format!("{name}/{version}"), "version": version});
    json!({
        "name": name,
        "versions": [group_version.clone()],
        "preferredVersion": group_version,
    })
}

// ANCHOR: resource_list
/// The `APIResourceList` of one group version: each resource, then its subresources as
/// `pods/status` entries.
fn resource_list(group: &str, version: &str) -> Value {
    let mut entries = Vec::new();
    for resource in resources::in_group_version(group, version) {
        entries.push(entry(resource));
        for sub in resource.subresources {
            let mut sub_entry = json!({
                "name": format!("{}/{}", resource.plural, sub.name),
                "singularName": "",
                "namespaced": resource.namespaced,
                "kind": sub.kind,
                "verbs": sub.verbs,
            });
            if sub.group != resource.group {
                sub_entry["group"] = json!(sub.group);
                sub_entry["version"] = json!(sub.version);
            }
            entries.push(sub_entry);
        }
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": entries,
    })
}
// ANCHOR_END: resource_list

fn entry(resource: &ResourceInfo) -> Value {
    let mut entry = json!({
        "name": resource.plural,
        "singularName": resource.singular,
        "namespaced": resource.namespaced,
        "kind": resource.kind,
        "verbs": resource.verbs,
    });
    if !resource.short_names.is_empty() {
        entry["shortNames"] = json!(resource.short_names);
    }
    if !resource.categories.is_empty() {
        entry["categories"] = json!(resource.categories);
    }
    entry
}
