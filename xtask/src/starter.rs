//! `cargo xtask starter DIR [--lab N]`: the learner's workspace.
//!
//! A copy of the reference workspace in which every exercise region (or only lab N's) is
//! replaced by `todo!("<id>: <hint>")`. The copy records what it stripped and a hash of every
//! protected file (graded tests, snapshots, grading files) in [`MANIFEST`], so that grading can
//! tell which of them a learner changed.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::exercises::{self, Region};
use crate::workspace::{self, Lab};

/// The file, at a starter's root, that describes it.
pub const MANIFEST: &str = ".skiff/starter.json";

/// Where a starter keeps the originals of its protected files, so that `cargo xtask grade`
/// run by the learner can restore them. (An instructor grades with their own reference
/// checkout instead, which a learner cannot edit.)
pub const ORIGINALS: &str = ".skiff/originals";

/// What a starter records about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// The labs whose regions were stripped.
    pub stripped_labs: Vec<u32>,
    /// The exercise ids that were stripped.
    pub stripped_exercises: Vec<String>,
    /// SHA-256 of each protected file, by path relative to the root.
    pub protected: BTreeMap<String, String>,
}

/// What `write` did, for the command's summary.
#[derive(Debug)]
pub struct Summary {
    /// Files written.
    pub files: usize,
    /// The stripped regions.
    pub stripped: Vec<Region>,
}

/// Which regions to strip.
#[derive(Debug, Clone, Copy)]
pub enum Selection {
    /// Every lab's regions.
    AllLabs,
    /// Only this lab's regions; earlier and later labs stay solved.
    Lab(u32),
}

/// Writes a starter workspace for `root` into `dest`, which must not exist or be empty.
pub fn write(root: &Path, dest: &Path, selection: Selection) -> Result<Summary, String> {
    prepare_destination(root, dest)?;
    let labs = workspace::labs(root).map_err(|e| e.to_string())?;
    if let Selection::Lab(n) = selection
        && !labs.iter().any(|lab| lab.number == n)
    {
        let known: Vec<String> = labs.iter().map(|l| l.number.to_string()).collect();
        return Err(format!(
            "--lab {n}: no such lab (labs: {})",
            known.join(", ")
        ));
    }
    let selected = |lab: &Lab| match selection {
        Selection::AllLabs => true,
        Selection::Lab(n) => lab.number == n,
    };

    let files = workspace::files(root).map_err(|e| e.to_string())?;
    let mut stripped = Vec::new();
    for file in &files {
        let text = fs::read(root.join(file)).map_err(|e| format!("{}: {e}", file.display()))?;
        let lab = workspace::lab_of(&labs, file);
        let output = match (lab, std::str::from_utf8(&text)) {
            (Some(lab), Ok(source)) if selected(lab) && is_rust(file) => {
                let regions = exercises::scan(file, source).map_err(|e| e.to_string())?;
                stripped.extend(regions.iter().cloned());
                exercises::strip(source, &regions, |_| true).into_bytes()
            }
            _ => text,
        };
        write_file(&dest.join(file), &output)?;
    }

    let manifest = Manifest {
        stripped_labs: labs
            .iter()
            .filter(|l| selected(l))
            .map(|l| l.number)
            .collect(),
        stripped_exercises: stripped.iter().map(|r| r.id.clone()).collect(),
        protected: protected_hashes(root, &labs, &files)?,
    };
    for file in files.iter().filter(|f| is_protected(&labs, f)) {
        let bytes = fs::read(root.join(file)).map_err(|e| format!("{}: {e}", file.display()))?;
        write_file(&dest.join(ORIGINALS).join(file), &bytes)?;
    }
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
    write_file(&dest.join(MANIFEST), format!("{json}\n").as_bytes())?;
    Ok(Summary {
        files: files.len(),
        stripped,
    })
}

fn prepare_destination(root: &Path, dest: &Path) -> Result<(), String> {
    if dest.exists() {
        let mut entries = fs::read_dir(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
        if entries.next().is_some() {
            return Err(format!(
                "{} already exists and is not empty; choose a new directory",
                dest.display()
            ));
        }
    }
    let root = root.canonicalize().map_err(|e| e.to_string())?;
    // A relative DIR is relative to where the command runs, which may be inside the workspace.
    let absolute = workspace::lexically_normal(
        &std::env::current_dir()
            .map_err(|e| format!("current directory: {e}"))?
            .join(dest),
    );
    if absolute.starts_with(&root) && !absolute.starts_with(root.join("target")) {
        return Err(format!(
            "{} is inside the workspace; put the starter outside it (or under target/)",
            dest.display()
        ));
    }
    Ok(())
}

fn is_rust(file: &Path) -> bool {
    file.extension().is_some_and(|e| e == "rs")
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Files a learner must not change: each lab's `tests/` (graded tests and their snapshots)
/// and its `grading.toml`.
pub fn is_protected(labs: &[Lab], file: &Path) -> bool {
    labs.iter()
        .any(|lab| file.starts_with(lab.dir.join("tests")) || file == lab.dir.join("grading.toml"))
}

fn protected_hashes(
    root: &Path,
    labs: &[Lab],
    files: &[PathBuf],
) -> Result<BTreeMap<String, String>, String> {
    let mut hashes = BTreeMap::new();
    for file in files.iter().filter(|f| is_protected(labs, f)) {
        let bytes = fs::read(root.join(file)).map_err(|e| format!("{}: {e}", file.display()))?;
        hashes.insert(file.to_string_lossy().into_owned(), sha256_hex(&bytes));
    }
    Ok(hashes)
}

/// The SHA-256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads the manifest of the starter at `root`, if `root` is a starter.
pub fn read_manifest(root: &Path) -> Option<Manifest> {
    let text = fs::read_to_string(root.join(MANIFEST)).ok()?;
    serde_json::from_str(&text).ok()
}
