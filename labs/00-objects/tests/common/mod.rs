//! What several of lab 00's test files build (lab 04's http_binding includes it by path).

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use api::{Container, ObjectMeta, Pod};

/// The pod `namespace/name`: one container `app` running `skiff/sleeper:1`.
pub fn pod(namespace: &str, name: &str) -> Pod {
    let mut pod = Pod {
        metadata: ObjectMeta::namespaced(namespace, name),
        ..Pod::default()
    };
    pod.spec.containers.push(Container {
        name: "app".into(),
        image: "skiff/sleeper:1".into(),
        ..Container::default()
    });
    pod
}
