//! The helpers' command lines: built by the runtime, parsed by the helper.

use std::path::PathBuf;

use crate::error::{Result, RuntimeError};
use crate::isolation::namespaces::Namespace;

/// What `pod-sandbox` is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxArgs {
    /// The namespaces to create (or, for `net` with `netns`, to join).
    pub namespaces: Vec<Namespace>,
    /// The pod's host name, set in its UTS namespace.
    pub hostname: String,
    /// A network namespace prepared by the runtime (`/var/run/netns/<name>`), joined instead
    /// of creating an empty one.
    pub netns: Option<PathBuf>,
}

/// What `pod-enter` is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterArgs {
    /// The host pid of the pod's init; its `/proc/<pid>/ns/*` are joined.
    pub pod_pid: i32,
    /// The pod's namespaces, in any order (joined in [`join_order`]).
    pub namespaces: Vec<Namespace>,
    /// The image's root file system (the overlay's read-only layer).
    pub image: PathBuf,
    /// The directory that holds the container's writable layer (a tmpfs is mounted on it).
    pub layer_dir: PathBuf,
    /// The directory the program starts in, inside the container.
    pub workdir: PathBuf,
    /// Host files and directories bound into the container: (host path, path inside).
    pub mounts: Vec<(PathBuf, PathBuf)>,
    /// The program (a path inside the image) and its arguments.
    pub command: Vec<String>,
}

impl SandboxArgs {
    /// The helper's command line (after `pod-sandbox`).
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            "--namespaces".into(),
            Namespace::format_list(&self.namespaces),
            "--hostname".into(),
            self.hostname.clone(),
        ];
        if let Some(netns) = &self.netns {
            args.extend(["--netns".into(), netns.display().to_string()]);
        }
        args
    }

    /// Parses the helper's command line, naming the flag that is wrong.
    pub fn parse(args: &[String]) -> Result<Self> {
        let flags = Flags::parse(args, &["--namespaces", "--hostname", "--netns"])?;
        Ok(SandboxArgs {
            namespaces: Namespace::parse_list(flags.required("--namespaces")?)?,
            hostname: flags.required("--hostname")?.to_string(),
            netns: flags.optional("--netns").map(PathBuf::from),
        })
    }
}

impl EnterArgs {
    /// The helper's command line (after `pod-enter`).
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            "--pod-pid".into(),
            self.pod_pid.to_string(),
            "--namespaces".into(),
            Namespace::format_list(&self.namespaces),
            "--image".into(),
            self.image.display().to_string(),
            "--layer-dir".into(),
            self.layer_dir.display().to_string(),
            "--workdir".into(),
            self.workdir.display().to_string(),
        ];
        for (host, inside) in &self.mounts {
            args.push("--mount".into());
            args.push(format!("{}={}", host.display(), inside.display()));
        }
        args.push("--".into());
        args.extend(self.command.iter().cloned());
        args
    }

    /// Parses the helper's command line, naming the flag that is wrong.
    pub fn parse(args: &[String]) -> Result<Self> {
        let split = args.iter().position(|arg| arg == "--");
        let (flags, command) = match split {
            Some(at) => (&args[..at], args[at + 1..].to_vec()),
            None => (args, Vec::new()),
        };
        if command.is_empty() {
            return Err(RuntimeError::invalid(
                "pod-enter --",
                "must be followed by the program to run",
            ));
        }
        let known = [
            "--pod-pid",
            "--namespaces",
            "--image",
            "--layer-dir",
            "--workdir",
            "--mount",
        ];
        let flags = Flags::parse(flags, &known)?;
        let pod_pid = flags.required("--pod-pid")?;
        Ok(EnterArgs {
            pod_pid: pod_pid.parse().ok().filter(|pid| *pid > 0).ok_or_else(|| {
                RuntimeError::invalid(
                    "--pod-pid",
                    format!("must be a positive pid, got {pod_pid:?}"),
                )
            })?,
            namespaces: Namespace::parse_list(flags.required("--namespaces")?)?,
            image: PathBuf::from(flags.required("--image")?),
            layer_dir: PathBuf::from(flags.required("--layer-dir")?),
            workdir: PathBuf::from(flags.optional("--workdir").unwrap_or("/")),
            mounts: flags
                .all("--mount")
                .map(|value| {
                    value
                        .split_once('=')
                        .map(|(host, inside)| (PathBuf::from(host), PathBuf::from(inside)))
                        .ok_or_else(|| {
                            RuntimeError::invalid(
                                "--mount",
                                format!("must be <host path>=<container path>, got {value:?}"),
                            )
                        })
                })
                .collect::<Result<_>>()?,
            command,
        })
    }
}

/// `--flag value` pairs.
struct Flags<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Flags<'a> {
    fn parse(args: &'a [String], known: &[&str]) -> Result<Self> {
        let mut pairs = Vec::new();
        let mut rest = args.iter();
        while let Some(flag) = rest.next() {
            if !known.contains(&flag.as_str()) {
                return Err(RuntimeError::invalid(
                    flag.clone(),
                    format!("unknown flag; expected one of {}", known.join(", ")),
                ));
            }
            let value = rest
                .next()
                .ok_or_else(|| RuntimeError::invalid(flag.clone(), "needs a value"))?;
            pairs.push((flag.as_str(), value.as_str()));
        }
        Ok(Flags(pairs))
    }

    fn optional(&self, flag: &str) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(name, _)| *name == flag)
            .map(|(_, value)| *value)
    }

    fn all<'s>(&'s self, flag: &'s str) -> impl Iterator<Item = &'a str> + 's {
        self.0
            .iter()
            .filter(move |(name, _)| *name == flag)
            .map(|(_, value)| *value)
    }

    fn required(&self, flag: &str) -> Result<&'a str> {
        self.optional(flag)
            .ok_or_else(|| RuntimeError::invalid(flag, "is required"))
    }
}
