//! ConfigMaps and Secrets handed to containers: as environment variables and as files.
//!
//! Everything here is pure except [`write_atomically`]: the driver fetches the ConfigMaps and
//! Secrets a pod refers to into [`ConfigSources`], then [`resolve_env`] gives a container's
//! environment and [`volume_files`] a volume's files. A missing object or key is a
//! [`ConfigError`] worded as Kubernetes words it (`couldn't find key X in ConfigMap ns/name`),
//! unless the reference is `optional`.
//!
//! Files are written the way Kubernetes' AtomicWriter does, so that a reader never sees half
//! an update: the files go into a fresh hidden directory, a symlink `..data` is switched to it
//! in one `rename`, and each visible name is a symlink through `..data`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use api::{ConfigMap, Container, Pod, Secret, Volume};

/// The waiting reason of a container whose configuration cannot be assembled.
pub const CONFIG_ERROR_REASON: &str = "CreateContainerConfigError";

/// The file mode of projected files when neither `defaultMode` nor an item's `mode` is set:
/// `0644`, Kubernetes' default for both ConfigMap and Secret volumes.
pub const DEFAULT_MODE: u32 = 0o644;

/// The ConfigMaps and Secrets of one namespace that a pod refers to, as fetched; a name that
/// is absent was not found.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// The namespace (error messages say `namespace/name`).
    pub namespace: String,
    /// ConfigMaps by name.
    pub config_maps: BTreeMap<String, ConfigMap>,
    /// Secrets by name.
    pub secrets: BTreeMap<String, Secret>,
}

/// Why a container's configuration cannot be assembled. The message names the object and the
/// key, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Kubernetes' message, e.g. `couldn't find key db-url in ConfigMap default/web-config`.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

fn error(message: String) -> ConfigError {
    ConfigError { message }
}

/// The names a pod refers to: (ConfigMaps, Secrets), from every container's `env`, `envFrom`
/// and the pod's volumes.
pub fn referenced_names(pod: &Pod) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut config_maps, mut secrets) = (BTreeSet::new(), BTreeSet::new());
    let spec = &pod.spec;
    for container in spec.init_containers.iter().chain(&spec.containers) {
        for var in &container.env {
            if let Some(from) = &var.value_from {
                if let Some(r) = &from.config_map_key_ref {
                    config_maps.insert(r.name.clone());
                }
                if let Some(r) = &from.secret_key_ref {
                    secrets.insert(r.name.clone());
                }
            }
        }
        for from in &container.env_from {
            if let Some(r) = &from.config_map_ref {
                config_maps.insert(r.name.clone());
            }
            if let Some(r) = &from.secret_ref {
                secrets.insert(r.name.clone());
            }
        }
    }
    for volume in &spec.volumes {
        if let Some(source) = &volume.config_map {
            config_maps.insert(source.name.clone());
        }
        if let Some(source) = &volume.secret {
            secrets.insert(source.secret_name.clone());
        }
    }
    (config_maps, secrets)
}

/// Does the container take anything from a ConfigMap or a Secret in its environment?
pub fn refers_to_sources(container: &Container) -> bool {
    !container.env_from.is_empty()
        || container.env.iter().any(|v| {
            v.value_from
                .as_ref()
                .is_some_and(|f| f.config_map_key_ref.is_some() || f.secret_key_ref.is_some())
        })
}

impl ConfigSources {
    /// The value of `key` in ConfigMap `name`: `Ok(None)` when missing and `optional`.
    fn config_map_key(
        &self,
        name: &str,
        key: &str,
        optional: bool,
    ) -> Result<Option<String>, ConfigError> {
        let Some(map) = self.config_maps.get(name) else {
            return if optional {
                Ok(None)
            } else {
                Err(error(format!("configmap \"{name}\" not found")))
            };
        };
        match map.data.get(key) {
            Some(value) => Ok(Some(value.clone())),
            None if optional => Ok(None),
            None => Err(error(format!(
                "couldn't find key {key} in ConfigMap {}/{name}",
                self.namespace
            ))),
        }
    }

    /// The value of `key` in Secret `name` (as text): `Ok(None)` when missing and `optional`.
    fn secret_key(
        &self,
        name: &str,
        key: &str,
        optional: bool,
    ) -> Result<Option<String>, ConfigError> {
        let Some(secret) = self.secrets.get(name) else {
            return if optional {
                Ok(None)
            } else {
                Err(error(format!("secret \"{name}\" not found")))
            };
        };
        match secret_values(secret).remove(key) {
            Some(value) => Ok(Some(String::from_utf8_lossy(&value).into_owned())),
            None if optional => Ok(None),
            None => Err(error(format!(
                "couldn't find key {key} in Secret {}/{name}",
                self.namespace
            ))),
        }
    }
}

/// A Secret's values: `data`, with `stringData` on top (the API server normally merges them
/// on write; a static pod's Secret may still carry both).
fn secret_values(secret: &Secret) -> BTreeMap<String, Vec<u8>> {
    let mut values: BTreeMap<String, Vec<u8>> = secret
        .data
        .iter()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect();
    for (k, v) in &secret.string_data {
        values.insert(k.clone(), v.clone().into_bytes());
    }
    values
}

/// Sets `name` to `value`: a later setting replaces an earlier one, in its earlier place.
fn set(env: &mut Vec<(String, String)>, name: String, value: String) {
    match env.iter_mut().find(|(n, _)| *n == name) {
        Some(slot) => slot.1 = value,
        None => env.push((name, value)),
    }
}

// ANCHOR: resolve_env
/// A container's environment from its `envFrom` and `env`, in Kubernetes' order: every
/// `envFrom` source first (with its `prefix`), then `env` entries, a later name replacing an
/// earlier one. A reference that is not `optional` to a missing object or key is an error.
pub fn resolve_env(
    container: &Container,
    sources: &ConfigSources,
) -> Result<Vec<(String, String)>, ConfigError> {
    // EXERCISE(kubelet-env-from-configmap): for each envFrom add every key of the ConfigMap (data) or Secret with the prefix (skip a missing optional source, error on a missing required one), then each env entry: a literal value, or a configMapKeyRef/secretKeyRef looked up with config_map_key/secret_key; use set() so later names win
    let mut env = Vec::new();
    for from in &container.env_from {
        let prefix = from.prefix.as_deref().unwrap_or("");
        if let Some(r) = &from.config_map_ref {
            match sources.config_maps.get(&r.name) {
                Some(map) => {
                    for (key, value) in &map.data {
                        set(&mut env, format!("{prefix}{key}"), value.clone());
                    }
                }
                None if r.optional == Some(true) => {}
                None => return Err(error(format!("configmap \"{}\" not found", r.name))),
            }
        }
        if let Some(r) = &from.secret_ref {
            match sources.secrets.get(&r.name) {
                Some(secret) => {
                    for (key, value) in secret_values(secret) {
                        let value = String::from_utf8_lossy(&value).into_owned();
                        set(&mut env, format!("{prefix}{key}"), value);
                    }
                }
                None if r.optional == Some(true) => {}
                None => return Err(error(format!("secret \"{}\" not found", r.name))),
            }
        }
    }
    for var in &container.env {
        let value = match (&var.value, &var.value_from) {
            (_, Some(from)) if from.config_map_key_ref.is_some() => {
                let r = from.config_map_key_ref.as_ref().expect("checked");
                sources.config_map_key(&r.name, &r.key, r.optional == Some(true))?
            }
            (_, Some(from)) if from.secret_key_ref.is_some() => {
                let r = from.secret_key_ref.as_ref().expect("checked");
                sources.secret_key(&r.name, &r.key, r.optional == Some(true))?
            }
            (Some(value), _) => Some(value.clone()),
            _ => None,
        };
        if let Some(value) = value {
            set(&mut env, var.name.clone(), value);
        }
    }
    Ok(env)
    // END EXERCISE
}
// ANCHOR_END: resolve_env

/// One file of a projected volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectedFile {
    /// The path relative to the volume's directory (e.g. `app.conf` or `certs/tls.key`).
    pub path: String,
    /// The bytes.
    pub data: Vec<u8>,
    /// The file mode, e.g. `0o644`.
    pub mode: u32,
}

/// Checks a projected path: relative, no `..`, not empty, not starting with `..` (the
/// writer's own names).
fn check_path(path: &str) -> Result<(), ConfigError> {
    let bad = path.is_empty()
        || path.starts_with("..")
        || Path::new(path)
            .components()
            .any(|c| !matches!(c, Component::Normal(_)));
    if bad {
        return Err(error(format!(
            "invalid path {path:?}: must be relative, without '..' components"
        )));
    }
    Ok(())
}

fn check_mode(field: &str, mode: Option<i32>) -> Result<Option<u32>, ConfigError> {
    match mode {
        None => Ok(None),
        Some(m) if (0..=0o777).contains(&m) => Ok(Some(m as u32)),
        Some(m) => Err(error(format!(
            "{field}: {m} is not a file mode (0 to 0777, i.e. 511)"
        ))),
    }
}

/// The files of a `configMap` or `secret` volume; `Ok(None)` for other kinds (e.g. emptyDir).
/// All keys when `items` is empty, else just the listed ones at their paths. A missing object
/// gives an empty volume when `optional`, else an error; so does a listed key that is missing.
pub fn volume_files(
    volume: &Volume,
    sources: &ConfigSources,
) -> Result<Option<Vec<ProjectedFile>>, ConfigError> {
    let (kind, name, items, default_mode, optional, values) =
        if let Some(source) = &volume.config_map {
            let values = sources.config_maps.get(&source.name).map(|map| {
                let mut values: BTreeMap<String, Vec<u8>> = map
                    .data
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
                    .collect();
                values.extend(
                    map.binary_data
                        .iter()
                        .map(|(k, v)| (k.clone(), v.0.clone())),
                );
                values
            });
            let (items, mode, optional) = (&source.items, source.default_mode, source.optional);
            ("ConfigMap", &source.name, items, mode, optional, values)
        } else if let Some(source) = &volume.secret {
            let values = sources.secrets.get(&source.secret_name).map(secret_values);
            let (items, mode, optional) = (&source.items, source.default_mode, source.optional);
            ("Secret", &source.secret_name, items, mode, optional, values)
        } else {
            return Ok(None);
        };
    let optional = optional == Some(true);
    let default_mode = check_mode(
        &format!("volume {}: defaultMode", volume.name),
        default_mode,
    )?
    .unwrap_or(DEFAULT_MODE);
    let Some(values) = values else {
        return if optional {
            Ok(Some(Vec::new()))
        } else {
            Err(error(format!(
                "{} \"{name}\" not found",
                kind.to_lowercase()
            )))
        };
    };
    let mut files = Vec::new();
    if items.is_empty() {
        for (key, data) in values {
            check_path(&key)?;
            files.push(ProjectedFile {
                path: key,
                data,
                mode: default_mode,
            });
        }
    } else {
        for item in items {
            check_path(&item.path)?;
            let mode = check_mode(
                &format!("volume {}: items {}: mode", volume.name, item.key),
                item.mode,
            )?
            .unwrap_or(default_mode);
            match values.get(&item.key) {
                Some(data) => files.push(ProjectedFile {
                    path: item.path.clone(),
                    data: data.clone(),
                    mode,
                }),
                None if optional => {}
                None => {
                    return Err(error(format!(
                        "couldn't find key {} in {kind} {}/{name}",
                        item.key, sources.namespace
                    )));
                }
            }
        }
    }
    Ok(Some(files))
}

/// The symlink that names the current version of a volume's files.
pub const DATA_LINK: &str = "..data";

// ANCHOR: write_atomically
/// Makes `dir` hold exactly `files`, atomically for readers: the files are written to a new
/// hidden directory `..<version>`, then the symlink `..data` is switched to it with one
/// `rename` (a reader sees the old set or the new set, never a mix), then the old version is
/// removed. Each top-level name is a symlink `name -> ..data/name`. Returns whether anything
/// changed (an unchanged set writes nothing).
pub fn write_atomically(dir: &Path, files: &[ProjectedFile]) -> io::Result<bool> {
    std::fs::create_dir_all(dir)?;
    let data_link = dir.join(DATA_LINK);
    let old_version = std::fs::read_link(&data_link).ok();
    if let Some(old) = &old_version
        && same_files(&dir.join(old), files)?
    {
        return Ok(false);
    }
    // 1. The new version, complete, under a name no reader looks at.
    let version = new_version_name(dir);
    let version_dir = dir.join(&version);
    std::fs::create_dir(&version_dir)?;
    for file in files {
        let path = version_dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &file.data)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(file.mode))?;
    }
    // 2. The switch: a new symlink renamed over `..data`.
    let tmp_link = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp_link);
    std::os::unix::fs::symlink(&version, &tmp_link)?;
    std::fs::rename(&tmp_link, &data_link)?;
    // 3. The visible names, through `..data`; names no longer projected go.
    let top: BTreeSet<String> = files.iter().map(|f| top_name(&f.path)).collect();
    for name in &top {
        let link = dir.join(name);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(Path::new(DATA_LINK).join(name), &link)?;
        }
    }
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if !name.starts_with("..") && !top.contains(&name) {
            std::fs::remove_file(dir.join(&name))?;
        }
    }
    // 4. The old version, which no name points to any more.
    if let Some(old) = old_version {
        std::fs::remove_dir_all(dir.join(old))?;
    }
    Ok(true)
}
// ANCHOR_END: write_atomically

/// The first component of a relative path.
fn top_name(path: &str) -> String {
    path.split('/').next().unwrap_or(path).to_string()
}

/// A version directory name not yet used in `dir`: `..1`, `..2`, ...
fn new_version_name(dir: &Path) -> PathBuf {
    let mut n = 1u64;
    loop {
        let name = PathBuf::from(format!("..{n}"));
        if std::fs::symlink_metadata(dir.join(&name)).is_err() {
            return name;
        }
        n += 1;
    }
}

/// Does `version_dir` hold exactly `files` (same paths, bytes and modes)?
fn same_files(version_dir: &Path, files: &[ProjectedFile]) -> io::Result<bool> {
    let mut count = 0;
    for file in files {
        let path = version_dir.join(&file.path);
        let Ok(meta) = std::fs::metadata(&path) else {
            return Ok(false);
        };
        if meta.permissions().mode() & 0o777 != file.mode || std::fs::read(&path)? != file.data {
            return Ok(false);
        }
        count += 1;
    }
    Ok(count_files(version_dir)? == count)
}

fn count_files(dir: &Path) -> io::Result<usize> {
    let mut count = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            count += count_files(&entry.path())?;
        } else {
            count += 1;
        }
    }
    Ok(count)
}

// ANCHOR: volume_mounts
/// Where a container's volumes appear: one [`runtime::Mount`] per `volumeMounts` entry, from
/// the volume's directory `<volumes_dir>/<volume name>` (or the `subPath` inside it) to
/// `mountPath`. A mount path that is not absolute, contains `..` or is used twice, a volume
/// that does not exist or is of a kind skiff cannot mount, and a bad `subPath` are errors
/// naming the field.
pub fn volume_mounts(
    container: &Container,
    volumes: &[Volume],
    volumes_dir: &Path,
) -> Result<Vec<runtime::Mount>, ConfigError> {
    let mut mounts: Vec<runtime::Mount> = Vec::new();
    for (i, mount) in container.volume_mounts.iter().enumerate() {
        let field = format!("container {}: volumeMounts[{i}]", container.name);
        let container_path = PathBuf::from(&mount.mount_path);
        let inside = runtime::config::mount_relative_path(&container_path)
            .map_err(|reason| error(format!("{field}.mountPath: {reason}")))?;
        let taken = mounts.iter().any(|m| {
            runtime::config::mount_relative_path(&m.container_path).ok() == Some(inside.clone())
        });
        if taken {
            return Err(error(format!(
                "{field}.mountPath: {:?} must be unique",
                mount.mount_path
            )));
        }
        let Some(volume) = volumes.iter().find(|v| v.name == mount.name) else {
            return Err(error(format!(
                "{field}.name: volume {:?} not found",
                mount.name
            )));
        };
        if volume.config_map.is_none() && volume.secret.is_none() && volume.empty_dir.is_none() {
            return Err(error(format!(
                "{field}.name: volume {:?} has no kind skiff can mount (configMap, secret, emptyDir)",
                mount.name
            )));
        }
        let mut host_path = volumes_dir.join(&volume.name);
        if let Some(sub_path) = mount.sub_path.as_deref().filter(|p| !p.is_empty()) {
            check_path(sub_path).map_err(|e| error(format!("{field}.subPath: {e}")))?;
            host_path.push(sub_path);
        }
        mounts.push(runtime::Mount {
            host_path,
            container_path,
        });
    }
    Ok(mounts)
}
// ANCHOR_END: volume_mounts
