//! "Images": what program a container runs.
//!
//! skiff has no registry and no pulls. An image name picks a program:
//!
//! - `skiff/<program>:<tag>` runs one of the built-in programs of the `skiff-image` multi-call
//!   binary (`skiff/echo:1` runs `skiff-image echo`); the tag is accepted and ignored. The
//!   [`TOOL_PROGRAMS`] (`skiff/ps`, `skiff/hostname`, `skiff/fetch`, `skiff/cat`) are images the
//!   same way.
//! - any other name runs the host command of that name (`sh`, `/usr/bin/python3`), found on the
//!   `PATH` like a shell would; a `:tag` suffix is dropped.
//!
//! As in a Pod spec, a non-empty `command` replaces the image's entrypoint and `args` follow it.

use std::path::{Path, PathBuf};

use crate::config::ContainerConfig;
use crate::error::{Result, RuntimeError};

/// The programs of the `skiff-image` binary, i.e. the images named `skiff/<program>:<tag>`.
pub const BUILTIN_PROGRAMS: [&str; 5] = ["echo", "crasher", "sleeper", "cpu-burner", "memory-hog"];

/// Small tools of the `skiff-image` binary, also runnable as images (`skiff/ps:1`): they show
/// what a container sees from the inside (its processes, its host name, the pods it reaches,
/// its files).
pub const TOOL_PROGRAMS: [&str; 4] = ["ps", "hostname", "fetch", "cat"];

/// File name of the multi-call binary holding the built-in programs.
pub const IMAGE_BINARY_NAME: &str = "skiff-image";

/// Environment variable that overrides where `skiff-image` is.
pub const IMAGE_BINARY_ENV: &str = "SKIFF_IMAGE_BIN";

/// The program and arguments a container's process will run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedCommand {
    /// The executable.
    pub program: PathBuf,
    /// Its arguments (without `argv[0]`).
    pub args: Vec<String>,
}

// ANCHOR: locate
/// Finds the `skiff-image` binary. An explicit choice is used as is and never second-guessed:
/// the path given in the runtime config, else the `SKIFF_IMAGE_BIN` environment variable.
/// Without one, it is searched next to the current executable and one directory up (test
/// binaries live in `target/debug/deps/`, binaries in `target/debug/`).
pub fn locate_image_binary(configured: Option<&Path>) -> Result<PathBuf> {
    let explicit = configured
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os(IMAGE_BINARY_ENV).map(PathBuf::from));
    let candidates: Vec<PathBuf> = match explicit {
        Some(path) => vec![path],
        None => beside_current_exe(),
    };
    candidates.iter().find(|path| path.is_file()).cloned().ok_or_else(|| {
        let searched: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        RuntimeError::ImageNotFound {
            image: "skiff/*".to_string(),
            reason: format!(
                "no {IMAGE_BINARY_NAME} binary (looked at {}); build it with \
                 `cargo build -p skiff-runtime --bin {IMAGE_BINARY_NAME}` or set {IMAGE_BINARY_ENV}",
                searched.join(", ")
            ),
        }
    })
}

/// `<dir of the current executable>/skiff-image` and `<that dir>/../skiff-image`.
fn beside_current_exe() -> Vec<PathBuf> {
    let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    else {
        return Vec::new();
    };
    let up = dir.parent().map(|up| up.join(IMAGE_BINARY_NAME));
    std::iter::once(dir.join(IMAGE_BINARY_NAME))
        .chain(up)
        .collect()
}
// ANCHOR_END: locate

// ANCHOR: resolve
/// Turns a container config into the program to run and its arguments.
pub fn resolve(config: &ContainerConfig, image_binary: Option<&Path>) -> Result<ResolvedCommand> {
    let mut entrypoint = image_entrypoint(&config.image, image_binary)?;
    if !config.command.is_empty() {
        entrypoint = config.command.clone();
    }
    let program = find_program(&entrypoint[0]).ok_or_else(|| RuntimeError::ImageNotFound {
        image: config.image.clone(),
        reason: format!(
            "program {:?} not found on PATH or not a file",
            entrypoint[0]
        ),
    })?;
    let args = entrypoint[1..]
        .iter()
        .chain(&config.args)
        .cloned()
        .collect();
    Ok(ResolvedCommand { program, args })
}
// ANCHOR_END: resolve

/// The entrypoint an image stands for.
fn image_entrypoint(image: &str, image_binary: Option<&Path>) -> Result<Vec<String>> {
    let Some(builtin) = image.strip_prefix("skiff/") else {
        return Ok(vec![strip_tag(image).to_string()]);
    };
    let program = strip_tag(builtin);
    if !BUILTIN_PROGRAMS.contains(&program) && !TOOL_PROGRAMS.contains(&program) {
        return Err(RuntimeError::ImageNotFound {
            image: image.to_string(),
            reason: format!(
                "no built-in program {program:?}; there are {}",
                BUILTIN_PROGRAMS.join(", ")
            ),
        });
    }
    let binary = locate_image_binary(image_binary).map_err(|error| match error {
        RuntimeError::ImageNotFound { reason, .. } => RuntimeError::ImageNotFound {
            image: image.to_string(),
            reason,
        },
        other => other,
    })?;
    Ok(vec![binary.display().to_string(), program.to_string()])
}

/// `name:tag` → `name`; a colon inside a path component is left alone.
fn strip_tag(image: &str) -> &str {
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => image,
    }
}

/// A program name with a `/` is a path; otherwise it is looked up on `PATH`.
fn find_program(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let path = PathBuf::from(name);
        return path.is_file().then_some(path);
    }
    let path_var = std::env::var_os("PATH")?;
    std::env::split_paths(&path_var)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}
