//! Lab 04: the API server, the cluster's single entry point.
//!
//! Every component (kubelet, scheduler, controllers, proxy, kubectl) talks to the cluster
//! through this server, over REST paths shaped like Kubernetes' own. The server authenticates
//! and authorizes each request, validates objects, keeps them in [`storage`] with a resource
//! version, and streams every change to watchers.

pub mod client;
pub mod http;
pub mod kubeconfig;
pub mod request;
pub mod storage;
pub mod tls;
