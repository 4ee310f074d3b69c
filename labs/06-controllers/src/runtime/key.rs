//! `Key`: how a work queue names an object, `namespace/name` like client-go's
//! `MetaNamespaceKeyFunc`.

use std::fmt;

use api::Resource;

/// The name of an object in a work queue: its namespace (empty for cluster-scoped kinds) and
/// its name. The queue holds keys, never objects: by the time a key is processed the object
/// may have changed again, and the controller reads its latest state from the informer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// The namespace; empty for cluster-scoped objects such as Nodes.
    pub namespace: String,
    /// The object's name.
    pub name: String,
}

impl Key {
    /// The key of the object `name` in `namespace`.
    pub fn new(namespace: &str, name: &str) -> Self {
        Key {
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// The key of a cluster-scoped object.
    pub fn cluster(name: &str) -> Self {
        Key::new("", name)
    }

    /// The key of `object`, from its metadata (a namespaced object without a namespace is in
    /// `default`, as the API stores it).
    pub fn of<K: Resource>(object: &K) -> Self {
        let meta = object.metadata();
        let namespace = match (K::NAMESPACED, meta.namespace.as_deref()) {
            (false, _) => "",
            (true, Some(ns)) => ns,
            (true, None) => "default",
        };
        Key::new(namespace, meta.name.as_deref().unwrap_or(""))
    }

    /// The namespace as the API client wants it: `None` for cluster-scoped keys.
    pub fn namespace(&self) -> Option<&str> {
        (!self.namespace.is_empty()).then_some(self.namespace.as_str())
    }

    /// Parses `namespace/name` or `name` (cluster-scoped), rejecting empty parts.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (namespace, name) = match text.split_once('/') {
            Some(("", _)) => {
                return Err(format!("key {text:?}: namespace must not be empty"));
            }
            Some((ns, name)) => (ns, name),
            None => ("", text),
        };
        if name.is_empty() || name.contains('/') {
            return Err(format!("key {text:?}: name must be one non-empty segment"));
        }
        Ok(Key::new(namespace, name))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}/{}", self.namespace, self.name)
        }
    }
}
