//! Project tasks for the skiff book and labs, run as `cargo xtask <task>`.
//!
//! The same functions back the workspace tests in `tests/`, so `cargo test` checks exactly
//! what `cargo xtask` does: the book builds, every include resolves, the starter is honest.

pub mod bench;
pub mod book;
pub mod check;
pub mod exercises;
pub mod grade;
pub mod grading;
pub mod runner;
pub mod serve;
pub mod starter;
pub mod workspace;
