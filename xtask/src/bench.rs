//! `cargo xtask bench`: run every lab's benchmark binary in release mode.
//!
//! Speed targets are measured here, never asserted in tests: a benchmark is a binary named
//! `<something>-bench` in a lab's `src/bin/`, which prints a Markdown table of what it measured
//! beside the reference figure (Kubernetes' or etcd's) and skiff's goal.

use std::path::Path;
use std::process::Command;

use crate::workspace::{self, Lab};

/// A benchmark binary of a lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bench {
    /// The lab that owns it.
    pub lab: Lab,
    /// The binary name, e.g. `proxy-bench`.
    pub name: String,
}

/// Every benchmark binary, in lab order (or only lab `only`'s).
pub fn find(root: &Path, only: Option<u32>) -> Result<Vec<Bench>, String> {
    let mut benches = Vec::new();
    for lab in workspace::labs(root).map_err(|e| e.to_string())? {
        if only.is_some_and(|n| n != lab.number) {
            continue;
        }
        let bin_dir = root.join(&lab.dir).join("src/bin");
        let Ok(entries) = std::fs::read_dir(&bin_dir) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter_map(|n| n.strip_suffix(".rs").map(str::to_string))
            .filter(|n| n.ends_with("-bench"))
            .collect();
        names.sort();
        benches.extend(names.into_iter().map(|name| Bench {
            lab: lab.clone(),
            name,
        }));
    }
    Ok(benches)
}

/// Runs each benchmark in release mode, streaming its table to stdout; returns the names of
/// the ones that failed.
pub fn run(root: &Path, benches: &[Bench]) -> Vec<String> {
    let mut failed = Vec::new();
    for bench in benches {
        println!("\n## {} ({})\n", bench.name, bench.lab.package);
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(root)
            .args([
                "run",
                "--quiet",
                "--release",
                "--locked",
                "-p",
                &bench.lab.package,
                "--bin",
                &bench.name,
            ])
            .status();
        if !status.is_ok_and(|s| s.success()) {
            failed.push(bench.name.clone());
        }
    }
    failed
}
