//! Lab 06: the controller manager, where the cluster heals itself.
//!
//! - [`runtime`] is the machinery every controller shares: the work queue, the rate limiter,
//!   informers, the [`runtime::Controller`] trait and its [`runtime::Runner`].

#![warn(missing_docs)]

pub mod runtime;
