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
        ["openapi", "v3"] => Some(openapi_v3_root()),
        ["openapi", "v3", "api", "v1"] => Some(openapi_v3("", "v1")),
        ["openapi", "v3", "apis", name, version] => GROUPS
            .iter()
            .any(|(g, v)| g == name && v == version)
            .then(|| openapi_v3(name, version)),
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

/// The media type of the OpenAPI v2 document kubectl asks for (protobuf).
pub const OPENAPI_V2_PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

// ANCHOR: openapi
/// `/openapi/v3`: where the OpenAPI v3 document of each group version is.
///
/// Skiff publishes no schemas. kubectl (`apply`, `create`) only needs to learn from OpenAPI
/// that the server validates objects itself: every PATCH operation lists the `fieldValidation`
/// parameter, so kubectl sends `?fieldValidation=Strict` and leaves validation to the server,
/// and computes strategic merge patches from its own compiled-in types.
pub fn openapi_v3_root() -> Value {
    let mut paths = serde_json::Map::new();
    let mut add = |group: &str, version: &str| {
        let path = if group.is_empty() {
            format!("api/{version}")
        } else {
            format!("apis/{group}/{version}")
        };
        let url = format!(
            "/openapi/v3/{path}?hash={}",
            GIT_VERSION.trim_start_matches('v')
        );
        paths.insert(path, json!({"serverRelativeURL": url}));
    };
    add("", "v1");
    for (group, version) in GROUPS {
        add(group, version);
    }
    json!({"paths": paths})
}

/// The OpenAPI v3 document of one group version: one PATCH operation per resource, carrying
/// its group-version-kind and the `fieldValidation` parameter.
pub fn openapi_v3(group: &str, version: &str) -> Value {
    let mut paths = serde_json::Map::new();
    for resource in resources::in_group_version(group, version) {
        let base = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let path = if resource.namespaced {
            format!(
                "{base}/namespaces/{{namespace}}/{}/{{name}}",
                resource.plural
            )
        } else {
            format!("{base}/{}/{{name}}", resource.plural)
        };
        let patch = json!({
            "operationId": format!("patch{}", resource.kind),
            "parameters": [
                {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
            ],
            "responses": {"200": {"description": "OK"}},
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": resource.kind},
        });
        paths.insert(path, json!({"patch": patch}));
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": GIT_VERSION},
        "paths": paths,
    })
}
// ANCHOR_END: openapi
