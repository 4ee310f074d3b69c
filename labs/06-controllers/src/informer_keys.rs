//! Event-handler helpers: mapping an object to the key of the controller that owns it.

use api::Resource;

use crate::pods::controller_of;
use crate::runtime::Key;

/// The key of `object`'s controlling owner, if that owner is of kind `kind` (owners live in
/// the same namespace as what they own).
pub fn owner_key<K: Resource>(object: &K, kind: &str) -> Option<Key> {
    let owner = controller_of(object).filter(|r| r.kind == kind)?;
    let namespace = object.metadata().namespace.as_deref().unwrap_or("default");
    Some(Key::new(namespace, &owner.name))
}
