//! Kubernetes' strategic merge patch, for the kinds skiff serves.
//!
//! A merge patch replaces lists whole, which is wrong for a Pod's containers: `kubectl apply`
//! changing one container's image would have to resend every container. Kubernetes' Go types
//! carry struct tags (`patchStrategy:"merge" patchMergeKey:"name"`) saying which lists are
//! sets of objects keyed by a field; [`list_strategy`] is skiff's copy of those tags, and the
//! merge follows `k8s.io/apimachinery/pkg/util/strategicpatch`, directives included:
//!
//! - `$patch: replace` (in a map: replace it; as a list element: replace the list),
//!   `$patch: delete` (in a map: empty it; as a list element: delete the element with that key),
//!   `$patch: merge` (the default);
//! - `$retainKeys: [..]`: drop every key of the stored map that is not listed;
//! - `$deleteFromPrimitiveList/<field>: [..]`: remove these values from a set of scalars;
//! - `$setElementOrder/<field>: [..]`: the order the merged list must have (sent by
//!   `kubectl apply`), server-only elements keeping their relative place.
//!
//! Without `$setElementOrder`, a merged list puts the patch's elements (in the patch's order)
//! before the elements only the server had, interleaving the ones both know by their stored
//! position: apimachinery's `normalizeElementOrder`, which is why a hand-written patch adding
//! a container puts it first.

use serde_json::{Map, Value};

use super::PatchError;

/// How a list field is patched, from Kubernetes' `patchStrategy`/`patchMergeKey` tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStrategy {
    /// No merge strategy (`+listType=atomic`): the patch's list replaces the stored one.
    Replace,
    /// A list of objects merged element by element, matched by this key field.
    MergeByKey(&'static str),
    /// A set of scalars (`patchStrategy:"merge"` on `[]string`): union, no duplicates.
    Set,
}

/// Where a resource keeps its pod spec (`None` if it has none).
fn pod_spec_prefix(resource: &str) -> Option<&'static [&'static str]> {
    match resource {
        "pods" => Some(&["spec"]),
        "deployments"
        | "replicasets"
        | "statefulsets"
        | "daemonsets"
        | "jobs"
        | "replicationcontrollers" => Some(&["spec", "template", "spec"]),
        "podtemplates" => Some(&["template", "spec"]),
        "cronjobs" => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

// ANCHOR: list_strategy
/// The strategy for the list at `path` (field names from the object's root, list indices
/// left out: `["spec", "containers", "ports"]`) in an object of `resource`.
///
/// Copied from the `patchStrategy`/`patchMergeKey` tags of `k8s.io/api` (core/v1 and apps/v1).
pub fn list_strategy(resource: &str, path: &[&str]) -> ListStrategy {
    use ListStrategy::*;
    // Metadata, wherever it is (the object's own or a template's).
    match path {
        [.., "metadata", "ownerReferences"] => return MergeByKey("uid"),
        [.., "metadata", "finalizers"] => return Set,
        [.., "status", "conditions"] => return MergeByKey("type"),
        _ => {}
    }
    if let Some(rest) = pod_spec_prefix(resource).and_then(|prefix| path.strip_prefix(prefix)) {
        return match rest {
            ["containers" | "initContainers" | "ephemeralContainers"] => MergeByKey("name"),
            [
                "containers" | "initContainers" | "ephemeralContainers",
                field,
            ] => match *field {
                "ports" => MergeByKey("containerPort"),
                "env" => MergeByKey("name"),
                "volumeMounts" => MergeByKey("mountPath"),
                "volumeDevices" => MergeByKey("devicePath"),
                // command, args, envFrom, resizePolicy...: atomic
                _ => Replace,
            },
            ["volumes" | "imagePullSecrets" | "schedulingGates" | "resourceClaims"] => {
                MergeByKey("name")
            }
            ["hostAliases"] => MergeByKey("ip"),
            ["topologySpreadConstraints"] => MergeByKey("topologyKey"),
            // tolerations, readinessGates, ...: no patch strategy in k8s.io/api: atomic
            _ => Replace,
        };
    }
    match (resource, path) {
        ("pods", ["status", "podIPs" | "hostIPs"]) => MergeByKey("ip"),
        ("nodes", ["status", "addresses"]) => MergeByKey("type"),
        ("nodes", ["spec", "podCIDRs"]) => Set,
        ("services", ["spec", "ports"]) => MergeByKey("port"),
        _ => Replace,
    }
}
// ANCHOR_END: list_strategy

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ORDER_PREFIX: &str = "$setElementOrder/";
const DELETE_PRIMITIVE_PREFIX: &str = "$deleteFromPrimitiveList/";

/// Applies a strategic merge patch (an object) to `target`.
pub(super) fn apply(resource: &str, target: &Value, patch: &Value) -> Result<Value, PatchError> {
    let Value::Object(patch) = patch else {
        return Err(PatchError::new(
            "strategic merge patch: the patch must be a JSON object",
        ));
    };
    let original = match target {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    let mut path = Vec::new();
    merge_map(resource, &mut path, original, patch).map(Value::Object)
}

fn at(path: &[String]) -> String {
    if path.is_empty() {
        "the object".to_string()
    } else {
        path.join(".")
    }
}

fn error(path: &[String], reason: impl std::fmt::Display) -> PatchError {
    PatchError::new(format!("strategic merge patch: {}: {reason}", at(path)))
}

fn merge_map(
    resource: &str,
    path: &mut Vec<String>,
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        match directive.as_str() {
            Some("replace") => {
                // The patch (minus the directive), processed against nothing.
                let mut rest = patch.clone();
                rest.remove(DIRECTIVE);
                return merge_map(resource, path, Map::new(), &rest);
            }
            Some("delete") => return Ok(Map::new()),
            Some("merge") => {}
            _ => {
                return Err(error(
                    path,
                    format!(
                        "unknown $patch directive {directive} (expected replace, delete or merge)"
                    ),
                ));
            }
        }
    }
    if let Some(retain) = patch.get(RETAIN_KEYS) {
        let keys = string_list(retain)
            .ok_or_else(|| error(path, "$retainKeys must be a list of field names"))?;
        original.retain(|key, _| keys.iter().any(|k| k == key));
    }
    // Scalars to remove from primitive lists come first, so a patch may remove and add.
    for (key, value) in patch {
        if let Some(field) = key.strip_prefix(DELETE_PRIMITIVE_PREFIX) {
            let Value::Array(remove) = value else {
                return Err(error(path, format!("{key} must be a list")));
            };
            if let Some(Value::Array(items)) = original.get_mut(field) {
                items.retain(|item| !remove.contains(item));
            }
        }
    }
    for (key, value) in patch {
        if key == DIRECTIVE
            || key == RETAIN_KEYS
            || key.starts_with(DELETE_PRIMITIVE_PREFIX)
            || key.starts_with(SET_ORDER_PREFIX)
        {
            continue;
        }
        if key.starts_with('$') {
            return Err(error(path, format!("unknown directive {key}")));
        }
        path.push(key.clone());
        let order = patch.get(&format!("{SET_ORDER_PREFIX}{key}"));
        let merged = match (original.remove(key), value) {
            (_, Value::Null) => None,
            (Some(Value::Object(old)), Value::Object(new)) => {
                Some(Value::Object(merge_map(resource, path, old, new)?))
            }
            (None, Value::Object(new)) => {
                Some(Value::Object(merge_map(resource, path, Map::new(), new)?))
            }
            (Some(Value::Array(old)), Value::Array(new)) => {
                Some(Value::Array(merge_list(resource, path, old, new, order)?))
            }
            (None, Value::Array(new)) => Some(Value::Array(merge_list(
                resource,
                path,
                Vec::new(),
                new,
                order,
            )?)),
            (_, other) => Some(other.clone()),
        };
        path.pop();
        if let Some(merged) = merged {
            original.insert(key.clone(), merged);
        }
    }
    // A $setElementOrder for a list the patch did not touch still reorders it.
    for (key, order) in patch {
        if let Some(field) = key.strip_prefix(SET_ORDER_PREFIX) {
            if patch.contains_key(field) {
                continue;
            }
            if let Some(Value::Array(items)) = original.remove(field) {
                path.push(field.to_string());
                let strategy = list_strategy(
                    resource,
                    &path.iter().map(String::as_str).collect::<Vec<_>>(),
                );
                let ordered = reorder(path, strategy, items.clone(), &items, order)?;
                path.pop();
                original.insert(field.to_string(), Value::Array(ordered));
            }
        }
    }
    Ok(original)
}

fn string_list(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn merge_list(
    resource: &str,
    path: &mut Vec<String>,
    original: Vec<Value>,
    patch: &[Value],
    order: Option<&Value>,
) -> Result<Vec<Value>, PatchError> {
    let strategy = list_strategy(
        resource,
        &path.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let merged = match strategy {
        ListStrategy::Replace => {
            // An atomic list is replaced, but directives inside its elements still go.
            let mut out = Vec::with_capacity(patch.len());
            for item in patch {
                out.push(match item {
                    Value::Object(map) => {
                        Value::Object(merge_map(resource, path, Map::new(), map)?)
                    }
                    other => other.clone(),
                });
            }
            return Ok(out);
        }
        ListStrategy::Set => {
            let mut out = original.clone();
            for item in patch {
                if item.is_object() || item.is_array() {
                    return Err(error(path, "a set of scalars cannot hold objects or lists"));
                }
                if !out.contains(item) {
                    out.push(item.clone());
                }
            }
            out
        }
        ListStrategy::MergeByKey(key) => merge_keyed(resource, path, key, &original, patch)?,
    };
    let fallback = Value::Array(patch.to_vec());
    reorder(
        path,
        strategy,
        merged,
        &original,
        order.unwrap_or(&fallback),
    )
}

// ANCHOR: merge_keyed
/// Merges a list of objects keyed by `key`: each patch element is merged into the stored
/// element with the same key, or appended; `{"$patch": "delete", key: ..}` removes one,
/// `{"$patch": "replace"}` makes the patch's elements the whole list.
fn merge_keyed(
    resource: &str,
    path: &mut Vec<String>,
    key: &str,
    original: &[Value],
    patch: &[Value],
) -> Result<Vec<Value>, PatchError> {
    let mut merged = original.to_vec();
    let mut replace = false;
    let mut elements = Vec::new();
    for item in patch {
        let Value::Object(element) = item else {
            return Err(error(
                path,
                format!("list elements must be objects with the merge key {key:?}"),
            ));
        };
        let directive = element.get(DIRECTIVE).map(|d| d.as_str().unwrap_or("?"));
        match directive {
            None => elements.push(element),
            // Kubernetes' words: a list element cannot ask to be merged explicitly.
            Some("merge") => {
                return Err(error(
                    path,
                    "merging lists cannot yet be specified in the patch",
                ));
            }
            Some("delete") => {
                let id = element.get(key).ok_or_else(|| {
                    error(
                        path,
                        format!("a $patch: delete element has no merge key {key:?}"),
                    )
                })?;
                merged.retain(|old| old.get(key) != Some(id));
            }
            Some("replace") => replace = true,
            _ => {
                return Err(error(
                    path,
                    format!("unsupported $patch directive in a list element: {item}"),
                ));
            }
        }
    }
    if replace {
        merged.clear();
    }
    for element in elements {
        let id = element.get(key).ok_or_else(|| {
            error(
                path,
                format!(
                    "an element has no merge key {key:?}: {}",
                    Value::Object(element.clone())
                ),
            )
        })?;
        match merged.iter_mut().find(|old| old.get(key) == Some(id)) {
            Some(old) => {
                let old_map = match old.take() {
                    Value::Object(map) => map,
                    _ => Map::new(),
                };
                *old = Value::Object(merge_map(resource, path, old_map, element)?);
            }
            None => merged.push(Value::Object(merge_map(
                resource,
                path,
                Map::new(),
                element,
            )?)),
        }
    }
    Ok(merged)
}
// ANCHOR_END: merge_keyed

/// The identity of a list element for ordering: its merge key's value, or itself for scalars.
fn identity(strategy: ListStrategy, item: &Value) -> Option<&Value> {
    match strategy {
        ListStrategy::MergeByKey(key) => item.get(key),
        _ => Some(item),
    }
}

/// Orders `merged` like apimachinery's `normalizeElementOrder`: the elements named in
/// `order` come in that order, the others (server-only) keep their stored order, and the
/// two sequences interleave by their positions in the stored list.
fn reorder(
    path: &[String],
    strategy: ListStrategy,
    merged: Vec<Value>,
    original: &[Value],
    order: &Value,
) -> Result<Vec<Value>, PatchError> {
    if strategy == ListStrategy::Replace {
        return Ok(merged);
    }
    let Value::Array(order) = order else {
        return Err(error(path, "$setElementOrder must be a list"));
    };
    let order_ids: Vec<&Value> = order
        .iter()
        .filter(|o| o.get(DIRECTIVE).is_none())
        .filter_map(|o| identity(strategy, o))
        .collect();
    let position = |ids: &[&Value], item: &Value| {
        identity(strategy, item).and_then(|id| ids.iter().position(|o| *o == id))
    };
    let (mut left, right): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|item| position(&order_ids, item).is_some());
    left.sort_by_key(|item| position(&order_ids, item));
    let server_ids: Vec<&Value> = original
        .iter()
        .filter_map(|o| identity(strategy, o))
        .collect();
    // mergeSortedSlice: take from the left unless both are stored and the right comes first.
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut left, mut right) = (left.into_iter().peekable(), right.into_iter().peekable());
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => match (position(&server_ids, l), position(&server_ids, r)) {
                (Some(li), Some(ri)) => li < ri,
                _ => true,
            },
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    Ok(out)
}
