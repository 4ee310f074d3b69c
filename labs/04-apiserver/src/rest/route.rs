//! Route parsing: from a Kubernetes path to the resource, namespace, name and subresource.
//!
//! ```text
//! /api/v1/namespaces/default/pods/web/status
//! └─ group "" ─┘└ namespace ┘└res┘└name┘└ sub ┘
//! /apis/apps/v1/deployments            (all namespaces)
//! /api/v1/nodes/n1                     (cluster-scoped)
//! ```

use crate::resources::{self, ResourceInfo, Subresource};
use crate::status::StatusError;

/// A request path that names a resource.
#[derive(Debug, Clone)]
pub struct Route {
    /// The resource.
    pub resource: &'static ResourceInfo,
    /// The namespace from the path; `None` for cluster-scoped resources and for lists and
    /// watches across all namespaces.
    pub namespace: Option<String>,
    /// The object's name; `None` for list, watch, create and deletecollection.
    pub name: Option<String>,
    /// The subresource, e.g. `status`.
    pub subresource: Option<&'static Subresource>,
}

// ANCHOR: parse_path
/// Parses a resource path; `Ok(None)` when the path is not under `/api/v1` or `/apis/{g}/{v}`
/// (discovery and other paths), a 404 Status when it is but names nothing served.
pub fn parse_path(path: &str) -> Result<Option<Route>, StatusError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api", version, rest @ ..] if !rest.is_empty() => ("", *version, rest),
        ["apis", group, version, rest @ ..] if !rest.is_empty() => (*group, *version, rest),
        _ => return Ok(None),
    };
    let not_found = || StatusError::path_not_found(path);
    // `namespaces/{ns}/{plural}...` is a namespaced path unless it is a namespace's own
    // subresource (`namespaces/{name}/status`).
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, rest @ ..]
            if resources::find(group, version, plural).is_some_and(|r| r.namespaced) =>
        {
            (Some(ns.to_string()), [&[*plural][..], rest].concat())
        }
        _ => (None, rest.to_vec()),
    };
    let (plural, name, sub) = match rest.as_slice() {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(*name), None),
        [plural, name, sub] => (*plural, Some(*name), Some(*sub)),
        _ => return Err(not_found()),
    };
    let resource = resources::find(group, version, plural).ok_or_else(not_found)?;
    if name.is_some_and(str::is_empty) {
        return Err(not_found());
    }
    let subresource = match sub {
        Some(sub) => Some(resource.subresource(sub).ok_or_else(not_found)?),
        None => None,
    };
    Ok(Some(Route {
        resource,
        namespace: namespace.filter(|_| resource.namespaced),
        name: name.map(str::to_string),
        subresource,
    }))
}
// ANCHOR_END: parse_path

/// The parameters of a query string, percent-decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses `a=1&b=x%3Dy`.
    pub fn parse(query: &str) -> Query {
        Query(
            query
                .split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (percent_decode(key), percent_decode(value))
                })
                .collect(),
        )
    }

    /// The value of a parameter, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of a parameter if present and non-empty.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// True for `key=true` or `key=1`.
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }

    /// An integer parameter; a 400 naming the parameter when it is not one.
    pub fn integer(&self, key: &str) -> Result<Option<i64>, StatusError> {
        match self.non_empty(key) {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                StatusError::bad_request(format!(
                    "{key}: Invalid value: {text:?}: must be an integer"
                ))
            }),
        }
    }
}

/// Decodes `%XX` escapes and `+` (a space in query strings).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of one hexadecimal digit.
fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_namespaced_cluster_and_subresource_paths() {
        let r = parse_path("/api/v1/namespaces/default/pods/web/status")
            .unwrap()
            .unwrap();
        assert_eq!(r.resource.plural, "pods");
        assert_eq!(r.namespace.as_deref(), Some("default"));
        assert_eq!(r.name.as_deref(), Some("web"));
        assert_eq!(r.subresource.unwrap().name, "status");
        let r = parse_path("/api/v1/namespaces/kube-system")
            .unwrap()
            .unwrap();
        assert_eq!(r.resource.plural, "namespaces");
        assert_eq!(r.name.as_deref(), Some("kube-system"));
        let r = parse_path("/apis/apps/v1/deployments").unwrap().unwrap();
        assert_eq!((r.namespace, r.name), (None, None));
        assert!(parse_path("/api/v1/widgets").is_err());
        assert!(parse_path("/api/v1/namespaces/a/pods/b/nope").is_err());
        assert!(parse_path("/version").unwrap().is_none());
        assert_eq!(crate::resources::namespaces().plural, "namespaces");
    }

    #[test]
    fn decodes_query_escapes() {
        let q = Query::parse("labelSelector=app%3Dweb%2Ctier+in+(a)&watch=1&x=%zz");
        assert_eq!(q.get("labelSelector"), Some("app=web,tier in (a)"));
        assert!(q.flag("watch"));
        assert_eq!(q.get("x"), Some("%zz"));
    }
}
