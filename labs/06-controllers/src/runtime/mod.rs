//! The controller runtime every controller of this lab is built on: a work queue with
//! de-duplication and per-key back-off ([`WorkQueue`], [`RateLimiter`]), informers that keep a
//! local cache in sync by list + watch ([`Informer`]), and the [`Controller`] trait with its
//! [`Runner`]. The queue and the rate limiter are sans-IO: they take `now`.

mod controller;
mod informer;
mod key;
mod queue;
mod rate_limiter;
mod runner;

pub use controller::{Action, Controller, ReconcileError};
pub use informer::{Delta, Informer, InformerStats};
pub use key::Key;
pub use queue::WorkQueue;
pub use rate_limiter::{DEFAULT_BASE_DELAY, DEFAULT_MAX_DELAY, RateLimiter, backoff_delay};
pub use runner::{Outcome, Runner};
