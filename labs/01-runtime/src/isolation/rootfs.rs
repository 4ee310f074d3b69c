//! Images as root file systems, assembled from the host's own binaries.
//!
//! A real image is a stack of tar layers pulled from a registry. skiff has no registry: the
//! "image" of a container is the smallest directory tree in which its program can run — the
//! program itself in `/bin`, the shared libraries it needs at the paths the dynamic loader
//! expects them, and empty `/proc`, `/dev` and `/tmp` to mount things on. The libraries are
//! found with `ldd`, the host's own tool for that question.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Result, RuntimeError};

/// The empty directories every image has: mount points and a place for temporary files.
pub const IMAGE_DIRS: [&str; 5] = ["bin", "dev", "proc", "tmp", "etc"];

// ANCHOR: parse_ldd
/// The files a dynamically linked program needs, from the output of `ldd <program>`.
///
/// `ldd` prints one line per library: `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)`
/// for a library it found, `/lib64/ld-linux-x86-64.so.2 (0x...)` for the dynamic loader, and
/// `linux-vdso.so.1 (0x...)` for the kernel's virtual library, which is no file at all. Only
/// absolute paths are kept. A static program prints `not a dynamic executable` (to stderr):
/// nothing to copy.
pub fn parse_ldd(output: &str) -> Vec<PathBuf> {
    // EXERCISE(containers-image-libraries): per line, take what follows "=>" (or the whole line), its first word; keep absolute paths, sorted, no duplicates
    let mut files: Vec<PathBuf> = output
        .lines()
        .filter_map(|line| {
            let path = match line.split_once("=>") {
                Some((_, found)) => found,
                None => line,
            };
            let path = path.split_whitespace().next()?;
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect();
    files.sort();
    files.dedup();
    files
    // END EXERCISE
}
// ANCHOR_END: parse_ldd

/// The libraries `program` needs, by running `ldd`. A program `ldd` cannot read is an error
/// naming it; a static program needs none.
pub fn needed_libraries(program: &Path) -> Result<Vec<PathBuf>> {
    let output = Command::new("ldd")
        .arg(program)
        .output()
        .map_err(|error| RuntimeError::io("running ldd (is it installed?)", error))?;
    Ok(parse_ldd(&String::from_utf8_lossy(&output.stdout)))
}

// ANCHOR: assemble
/// Returns the root file system for `program` under `images_dir`, assembling it first if it
/// does not exist yet. Images are cached per program and shared by every container that runs
/// it: they are only ever the read-only lower layer of an overlay, never written.
///
/// Inside, the program is `/bin/<its file name>`, which is returned with the directory.
pub fn image_rootfs(images_dir: &Path, program: &Path) -> Result<(PathBuf, PathBuf)> {
    let file_name = program.file_name().ok_or_else(|| {
        RuntimeError::invalid("command", format!("{} names no file", program.display()))
    })?;
    let inside = Path::new("/bin").join(file_name);
    let key: String = program
        .display()
        .to_string()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let rootfs = images_dir.join(key);
    if rootfs.is_dir() {
        return Ok((rootfs, inside));
    }
    // Assemble into a private directory, then rename: two containers starting at once never
    // see a half-copied image.
    let building = images_dir.join(format!("building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    assemble(&building, program, &inside)
        .inspect_err(|_| drop(std::fs::remove_dir_all(&building)))?;
    if std::fs::rename(&building, &rootfs).is_err() {
        // Someone else finished the same image first: theirs is as good as ours.
        let _ = std::fs::remove_dir_all(&building);
    }
    Ok((rootfs, inside))
}

/// Creates the directories, copies the program to `inside` and its libraries to their paths.
fn assemble(root: &Path, program: &Path, inside: &Path) -> Result<()> {
    for dir in IMAGE_DIRS {
        create_dir(&root.join(dir))?;
    }
    copy_into(root, program, inside)?;
    for library in needed_libraries(program)? {
        copy_into(root, &library, &library)?;
    }
    Ok(())
}
// ANCHOR_END: assemble

/// Copies the host file `source` to `root` + `inside` (following symbolic links, so the copy
/// is a real file even when the host's library path is a link).
fn copy_into(root: &Path, source: &Path, inside: &Path) -> Result<()> {
    let target = root.join(inside.strip_prefix("/").unwrap_or(inside));
    if let Some(parent) = target.parent() {
        create_dir(parent)?;
    }
    std::fs::copy(source, &target)
        .map(drop)
        .map_err(|error| RuntimeError::io_at("copying into an image", source, error))
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|error| RuntimeError::io_at("creating", dir, error))
}
