//! Lab 04: the API server, the cluster's single entry point.
//!
//! Every component (kubelet, scheduler, controllers, proxy, kubectl) talks to the cluster
//! through this server, over REST paths shaped like Kubernetes' own. The server authenticates
//! and authorizes each request, validates objects, keeps them in [`storage`] with a resource
//! version, and streams every change to watchers.

#![warn(missing_docs)]

pub mod audit;
pub mod auth;
pub mod client;
pub mod discovery;
pub mod fieldselector;
pub mod http;
pub mod kubeconfig;
pub mod labelselector;
pub mod patch;
pub mod request;
pub mod resources;
pub mod rest;
pub mod server;
pub mod status;
pub mod storage;
pub mod table;
pub mod tls;

pub use server::ApiServer;
