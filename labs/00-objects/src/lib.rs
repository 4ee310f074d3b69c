//! # skiff-api: the cluster's vocabulary
//!
//! Lab 00 of *Kubernetes from Scratch in Rust*. Every other component of skiff (kubelet,
//! scheduler, controllers, API server, proxy) exchanges the objects defined here: Pods,
//! Services, Deployments and the rest, shaped exactly like Kubernetes' own, so that a manifest
//! that works on skiff works on a real cluster.
//!
//! - [`parse_manifests`] reads JSON or YAML strictly: unknown fields are errors, and every error
//!   names its field path (`spec.containers[0].imagePullPolicyy: unknown field`).
//! - [`Validate`] checks the rules the API server enforces and reports all violations at once,
//!   in Kubernetes' own words.
//! - [`Quantity`] parses resource amounts (`500m`, `1Gi`) exactly, without floats.
//! - [`LabelSelector`] is how objects find each other.
//! - [`client::ApiClient`] is how components talk to the API; [`client::InMemoryApi`] is an
//!   API in one process, for tests and for the labs that come before the API server.

mod apps;
pub mod client;
mod config;
mod container;
mod events;
mod int_or_string;
mod meta;
mod node;
mod object;
mod parse;
mod pod;
mod quantity;
mod selector;
mod service;
mod time;
pub mod validation;

pub use apps::{
    Deployment, DeploymentSpec, DeploymentStatus, DeploymentStrategy, PodTemplateSpec, ReplicaSet,
    ReplicaSetSpec, ReplicaSetStatus, RollingUpdateDeployment,
};
pub use config::{Bytes, ConfigMap, Secret};
pub use container::{
    Container, ContainerPort, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, EnvFromSource, EnvVar, EnvVarSource, ExecAction,
    HttpGetAction, HttpHeader, KeySelector, NameReference, ObjectFieldSelector, Probe,
    ResourceRequirements, TcpSocketAction, VolumeMount,
};
pub use events::{Event, EventNames, EventSource, Lease, LeaseSpec};
pub use int_or_string::IntOrString;
pub use meta::{Condition, ObjectMeta, ObjectReference, OwnerReference, Resource};
pub use node::{
    DaemonEndpoint, Namespace, NamespaceSpec, NamespaceStatus, Node, NodeAddress,
    NodeDaemonEndpoints, NodeSpec, NodeStatus, NodeSystemInfo, Taint,
};
pub use object::Object;
pub use parse::{FieldLocation, ParseError, locate_error, parse_manifests};
pub use pod::{
    Affinity, ConfigMapVolumeSource, EmptyDirVolumeSource, KeyToPath, NodeAffinity, NodeSelector,
    NodeSelectorRequirement, NodeSelectorTerm, Pod, PodIp, PodPhase, PodSecurityContext, PodSpec,
    PodStatus, PreferredSchedulingTerm, SecretVolumeSource, Toleration, Volume,
};
pub use quantity::{Quantity, QuantityError, Scale, parse_suffix};
pub use selector::{LabelSelector, LabelSelectorRequirement, SelectorOperator};
pub use service::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, LoadBalancerIngress,
    LoadBalancerStatus, Service, ServicePort, ServiceSpec, ServiceStatus,
};
pub use time::{MicroTime, Time, TimeError};
pub use validation::{ErrorKind, FieldError, FieldPath, Validate, ValidationErrors};
