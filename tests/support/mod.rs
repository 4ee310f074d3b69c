//! Helpers shared by the workspace-level tests in `tests/` (each includes it as `mod support;`).
#![allow(dead_code)] // each test file uses a different subset

use std::path::PathBuf;

use xtask::grading::{self, Exercise};
use xtask::workspace::{self, Lab};

/// The workspace root (this package's manifest directory).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch directory under `target/`, emptied first. Tests that build a second workspace
/// (a starter, a copy of the book) use their own target dir under it, so they never wait on
/// the lock of the `cargo test` that runs them.
pub fn scratch(name: &str) -> PathBuf {
    let dir = root().join("target").join("workspace-tests").join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("clear the scratch dir");
    }
    std::fs::create_dir_all(&dir).expect("create the scratch dir");
    dir
}

/// The target dir shared by every nested build of these tests (dependencies compile once).
pub fn nested_target_dir() -> PathBuf {
    root().join("target").join("workspace-tests").join("target")
}

/// Every lab with the exercises its `grading.toml` lists (none for a lab without one).
pub fn graded_labs() -> Vec<(Lab, Vec<Exercise>)> {
    let root = root();
    workspace::labs(&root)
        .unwrap()
        .into_iter()
        .map(|lab| {
            let file = grading::load(&root, &lab).unwrap_or_else(|e| panic!("{e}"));
            (lab, file.exercise)
        })
        .collect()
}

/// Whether this workspace is a learner's starter rather than the reference.
pub fn is_starter() -> bool {
    root().join(xtask::starter::MANIFEST).exists()
}
