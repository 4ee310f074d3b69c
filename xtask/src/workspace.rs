//! The workspace on disk: its root, its labs, and its files.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::exercises::{self, MarkerError, Region};

/// Directories never copied into a starter nor scanned for exercises.
const SKIPPED_DIRS: &[&str] = &["target", ".git", "node_modules"];

/// The root of the workspace this xtask was built in (the learner's, in a starter).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// One lab crate under `labs/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lab {
    /// The lab number, from the directory name (`01-runtime` → 1).
    pub number: u32,
    /// The directory, relative to the workspace root (`labs/01-runtime`).
    pub dir: PathBuf,
    /// The Cargo package name (`skiff-runtime`).
    pub package: String,
}

impl Lab {
    /// The directory name, e.g. `01-runtime`.
    pub fn dir_name(&self) -> String {
        self.dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    }
}

/// Lists the labs in book order.
pub fn labs(root: &Path) -> io::Result<Vec<Lab>> {
    let mut labs = Vec::new();
    for entry in fs::read_dir(root.join("labs"))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(number) = name.split('-').next().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let manifest = entry.path().join("Cargo.toml");
        if !manifest.exists() {
            continue;
        }
        labs.push(Lab {
            number,
            dir: Path::new("labs").join(&name),
            package: package_name(&manifest)?,
        });
    }
    labs.sort_by_key(|lab| lab.number);
    Ok(labs)
}

/// Reads `[package] name` from a Cargo.toml.
fn package_name(manifest: &Path) -> io::Result<String> {
    let text = fs::read_to_string(manifest)?;
    let value: toml::Table = toml::from_str(&text)
        .map_err(|e| io::Error::other(format!("{}: {e}", manifest.display())))?;
    value
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_string)
        .ok_or_else(|| io::Error::other(format!("{}: no [package] name", manifest.display())))
}

/// Every file below `dir`, relative to it, sorted, skipping build output and VCS data.
pub fn files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    walk(dir, Path::new(""), &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(base: &Path, relative: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(base.join(relative))? {
        let entry = entry?;
        let name = entry.file_name();
        let path = relative.join(&name);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if !SKIPPED_DIRS.contains(&name.to_string_lossy().as_ref()) {
                walk(base, &path, out)?;
            }
        } else if kind.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// Every exercise region in the workspace's Rust sources under `labs/`.
pub fn regions(root: &Path) -> Result<Vec<Region>, Box<dyn std::error::Error>> {
    let mut all = Vec::new();
    for file in files(&root.join("labs"))? {
        if file.extension().is_some_and(|e| e == "rs") {
            let relative = Path::new("labs").join(&file);
            let text = fs::read_to_string(root.join(&relative))?;
            all.extend(exercises::scan(&relative, &text)?);
        }
    }
    check_unique(&all)?;
    Ok(all)
}

fn check_unique(regions: &[Region]) -> Result<(), MarkerError> {
    for (i, a) in regions.iter().enumerate() {
        if let Some(b) = regions[..i].iter().find(|b| b.id == a.id) {
            return Err(MarkerError {
                file: a.file.clone(),
                line: a.open_line,
                reason: format!(
                    "exercise id `{}` is already used at {}:{}",
                    a.id,
                    b.file.display(),
                    b.open_line
                ),
            });
        }
    }
    Ok(())
}

/// The lab a file belongs to, if it is under `labs/NN-name/`.
pub fn lab_of<'a>(labs: &'a [Lab], file: &Path) -> Option<&'a Lab> {
    labs.iter().find(|lab| file.starts_with(&lab.dir))
}

/// Resolves `.` and `..` without touching the file system (the path may not exist yet).
pub fn lexically_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
