//! Objects the simulation tests share.
#![allow(dead_code)]

use api::{Deployment, DeploymentStrategy, IntOrString, Pod, Quantity, RollingUpdateDeployment};
use controllers::pods;
use controllers::sim::{World, web_deployment};

/// A Deployment `web` of `replicas` pods running `image`, each requesting one CPU (`1`).
pub fn deployment(replicas: i32, image: &str) -> Deployment {
    web_deployment(replicas, image, Quantity::parse("1").unwrap())
}

/// A RollingUpdate strategy with these bounds.
pub fn rolling(max_surge: IntOrString, max_unavailable: IntOrString) -> DeploymentStrategy {
    DeploymentStrategy {
        strategy_type: Some("RollingUpdate".into()),
        rolling_update: Some(RollingUpdateDeployment {
            max_surge: Some(max_surge),
            max_unavailable: Some(max_unavailable),
        }),
    }
}

/// The image of a pod's first container.
pub fn image_of(pod: &Pod) -> &str {
    pod.spec.containers.first().map_or("", |c| c.image.as_str())
}

/// Active pods (not terminating, not finished).
pub fn active(world: &World) -> Vec<&Pod> {
    world.pods.iter().filter(|p| pods::is_active(p)).collect()
}

/// Active, ready pods.
pub fn available(world: &World) -> Vec<&Pod> {
    active(world)
        .into_iter()
        .filter(|p| pods::is_ready(p))
        .collect()
}

/// True when `replicas` pods run `image`, all ready, no other pod is left at all, and every
/// Deployment's status says so (for the generation it has now).
pub fn settled_on(world: &World, replicas: usize, image: &str) -> bool {
    let n = replicas as i32;
    let reported = world.deployments.iter().all(|d| {
        d.status.as_ref().is_some_and(|s| {
            s.observed_generation == d.metadata.generation
                && (s.replicas, s.updated_replicas, s.available_replicas) == (n, n, n)
        })
    });
    reported
        && world.pods.len() == replicas
        && world
            .pods
            .iter()
            .all(|p| image_of(p) == image && pods::is_ready(p) && pods::is_active(p))
}
