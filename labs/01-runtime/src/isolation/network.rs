//! Pod networking in [`super::IsolationMode::Root`]: a network namespace per pod, wired to a
//! host bridge with a veth pair, as the CNI `bridge` plugin does for containerd.
//!
//! Every step is an `ip` command from iproute2, the same ones you would type. The plan is
//! plain data ([`PodNetwork::setup_commands`]) so it can be read and tested without root; the
//! runtime runs it when a sandbox starts and undoes it when the sandbox stops.
//!
//! The pod addresses (by default 10.88.0.0/16) exist only on the bridge and inside the pods'
//! namespaces: no default route is added, no NAT, so the pods reach each other and the host
//! and nothing else.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;

use crate::error::{Result, RuntimeError};

/// The directory where `ip netns add` pins named network namespaces.
pub const NETNS_DIR: &str = "/var/run/netns";

/// The interface name a pod sees inside its namespace.
pub const POD_INTERFACE: &str = "eth0";

/// The host bridge the pods' veth pairs are plugged into; its address is the pods' gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bridge {
    /// The interface name, e.g. `skiff0`.
    pub name: String,
    /// The bridge's own address: the first one of the pod range.
    pub address: Ipv4Addr,
    /// The pod range's prefix length.
    pub prefix_len: u8,
}

/// The network of one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodNetwork {
    /// The name of its network namespace (a file in [`NETNS_DIR`]).
    pub netns: String,
    /// The host end of its veth pair (at most 15 characters, the kernel's limit).
    pub host_veth: String,
    /// The pod's IP, on its `eth0`.
    pub ip: Ipv4Addr,
    /// The bridge it is plugged into.
    pub bridge: Bridge,
}

fn command(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| word.to_string()).collect()
}

impl Bridge {
    /// The commands that create the bridge and give it its address.
    pub fn setup_commands(&self) -> Vec<Vec<String>> {
        let cidr = format!("{}/{}", self.address, self.prefix_len);
        vec![
            command(&["ip", "link", "add", &self.name, "type", "bridge"]),
            command(&["ip", "addr", "add", &cidr, "dev", &self.name]),
            command(&["ip", "link", "set", &self.name, "up"]),
        ]
    }

    /// Does the bridge exist on this host?
    pub fn exists(&self) -> bool {
        std::path::Path::new("/sys/class/net")
            .join(&self.name)
            .exists()
    }

    /// Creates the bridge; returns `false` (and changes nothing) if it already exists, so that
    /// the runtime only removes bridges it made.
    pub fn ensure(&self) -> Result<bool> {
        if self.exists() {
            return Ok(false);
        }
        run_all(&self.setup_commands())?;
        Ok(true)
    }

    /// Deletes the bridge.
    pub fn remove(&self) {
        run_quietly(&command(&["ip", "link", "delete", &self.name]));
    }
}

impl PodNetwork {
    // ANCHOR: pod_network
    /// The commands that give the pod its namespace, its veth pair and its address.
    pub fn setup_commands(&self) -> Vec<Vec<String>> {
        let cidr = format!("{}/{}", self.ip, self.bridge.prefix_len);
        let ns = self.netns.as_str();
        vec![
            // A named, empty network namespace: only a loopback interface, down.
            command(&["ip", "netns", "add", ns]),
            // A veth pair is a virtual cable: one end stays on the host, the other goes into
            // the namespace under the name every pod sees, eth0.
            command(&[
                "ip",
                "link",
                "add",
                &self.host_veth,
                "type",
                "veth",
                "peer",
                "name",
                POD_INTERFACE,
                "netns",
                ns,
            ]),
            command(&[
                "ip",
                "link",
                "set",
                &self.host_veth,
                "master",
                &self.bridge.name,
            ]),
            command(&["ip", "link", "set", &self.host_veth, "up"]),
            command(&["ip", "-n", ns, "addr", "add", &cidr, "dev", POD_INTERFACE]),
            command(&["ip", "-n", ns, "link", "set", POD_INTERFACE, "up"]),
            command(&["ip", "-n", ns, "link", "set", "lo", "up"]),
        ]
    }

    /// The commands that undo [`PodNetwork::setup_commands`]. Deleting the namespace's name
    /// is not enough while a process still holds it, so the host end of the veth is deleted
    /// too (which takes its peer with it).
    pub fn teardown_commands(&self) -> Vec<Vec<String>> {
        vec![
            command(&["ip", "link", "delete", &self.host_veth]),
            command(&["ip", "netns", "delete", &self.netns]),
        ]
    }
    // ANCHOR_END: pod_network

    /// Where the pinned namespace is, for the sandbox helper to join.
    pub fn netns_path(&self) -> PathBuf {
        PathBuf::from(NETNS_DIR).join(&self.netns)
    }

    /// Runs the setup; on failure, undoes what was done.
    pub fn setup(&self) -> Result<()> {
        run_all(&self.setup_commands()).inspect_err(|_| self.teardown())
    }

    /// Runs the teardown. Parts that are already gone are not an error.
    pub fn teardown(&self) {
        for words in self.teardown_commands() {
            run_quietly(&words);
        }
    }
}

/// Runs commands in order, stopping at the first failure with its stderr.
fn run_all(commands: &[Vec<String>]) -> Result<()> {
    for words in commands {
        let output = Command::new(&words[0])
            .args(&words[1..])
            .output()
            .map_err(|error| {
                RuntimeError::io(
                    format!("running {} (is iproute2 installed?)", words[0]),
                    error,
                )
            })?;
        if !output.status.success() {
            return Err(RuntimeError::io(
                format!(
                    "{}: {}",
                    words.join(" "),
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
                std::io::Error::other("command failed"),
            ));
        }
    }
    Ok(())
}

/// Runs a command and ignores its outcome (for teardown, where "already gone" is success).
fn run_quietly(words: &[String]) {
    let _ = Command::new(&words[0]).args(&words[1..]).output();
}
