//! The helper process: `skiff-image pod-sandbox ...` and `skiff-image pod-enter ...`.
//!
//! The runtime is a multi-threaded tokio process, and there `unshare(CLONE_NEWUSER)` fails
//! (the kernel wants a single-threaded caller) and `fork` is risky. So the runtime spawns this
//! small single-threaded helper instead, which sets up the namespaces, forks once (a new pid
//! namespace only takes effect for children) and waits, or execs the container's program.

mod args;
mod enter;
mod sandbox;

pub use args::{EnterArgs, SandboxArgs};

use crate::error::{Result, RuntimeError};

/// The helper's sub-commands, dispatched by [`crate::programs::run`].
pub const HELPER_COMMANDS: [&str; 2] = ["pod-sandbox", "pod-enter"];

/// The line `pod-sandbox` prints once the pod's namespaces exist: `ready <pid>`, with the
/// host pid of the pod's init, whose `/proc/<pid>/ns/*` containers join.
pub const READY_PREFIX: &str = "ready ";

/// Entry point of both sub-commands; returns the exit code when it does not exec or mirror a
/// child's end.
pub fn run(command: &str, args: &[String]) -> i32 {
    let outcome = match command {
        "pod-sandbox" => SandboxArgs::parse(args).and_then(|args| sandbox::run(&args)),
        _ => EnterArgs::parse(args).and_then(|args| enter::run(&args)),
    };
    match outcome {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("skiff-image {command}: {error}");
            127
        }
    }
}

/// Wraps a failed system call with what the helper was doing.
pub(super) fn step<T>(what: impl std::fmt::Display, result: std::io::Result<T>) -> Result<T> {
    result.map_err(|error| RuntimeError::io(what.to_string(), error))
}
