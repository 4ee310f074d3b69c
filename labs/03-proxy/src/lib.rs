//! Lab 03: kube-proxy, the part of a worker node that makes Services work.
//!
//! A Service is a stable address in front of a changing set of pods, its *endpoints*. This
//! crate is a small userspace TCP load balancer: for each service it accepts connections on a
//! per-node address and forwards each one to a ready endpoint, preferring endpoints on its own
//! node, rotating round robin among them, and retrying the next endpoint when a dial fails.
//!
//! The crate is split the way every skiff component is:
//!
//! - a **sans-IO core** ([`select`]): which endpoint gets the next connection is a pure function
//!   of the endpoint list, the proxy's node name and a round-robin cursor;
//! - a **thin IO shell** ([`Proxy`], [`dial`], [`copy`]): tokio listeners, dials and byte copies.

pub mod addressing;
pub mod copy;
pub mod dial;
pub mod endpoint;
pub mod error;
pub mod proxy;
pub mod select;
mod service;

pub use endpoint::Endpoint;
pub use error::ProxyError;
pub use proxy::Proxy;
