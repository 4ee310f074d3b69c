//! The pod's hosts file: how a pod finds Services by name.
//!
//! Kubernetes' kubelet writes a small `/etc/hosts` for every pod (`localhost` and the pod's own
//! name) and leaves Service names to cluster DNS. skiff runs no DNS server, so the kubelet
//! writes the Services' names into the hosts file too. Which names a Service gets, and which
//! address a pod on this node dials, is lab 08's knowledge: it reaches the kubelet through the
//! [`ServiceHosts`] hook, as the Service variables do through [`crate::ServiceEnv`]. The file
//! is written with [`crate::config_sources::write_atomically`], so a reader never sees half of
//! it, and is rewritten on every sync where a Service changed.
//!
//! The container sees it at `/etc/hosts` (a [`runtime::Mount`]): bind-mounted in namespaced
//! pods, under `$SKIFF_ROOT/etc/hosts` in `process` mode.

use std::net::IpAddr;
use std::sync::Arc;

/// Where the file appears in every container.
pub const CONTAINER_PATH: &str = "/etc/hosts";

/// The directory of the pod's directory that holds the file (`<pod dir>/etc-hosts/hosts`).
pub const HOSTS_DIR: &str = "etc-hosts";

/// The file's name in [`HOSTS_DIR`].
pub const HOSTS_FILE: &str = "hosts";

/// One line of a hosts file: an address and the names that lead to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    /// The address.
    pub address: IpAddr,
    /// Its names, the canonical one first.
    pub names: Vec<String>,
}

/// Turns every Service of the cluster into hosts-file lines for a pod in `namespace` (the first
/// argument); lab 08 provides it (`services::discovery::host_entries`).
pub type ServiceHosts = Arc<dyn Fn(&str, &[api::Service]) -> Vec<HostEntry> + Send + Sync>;

// ANCHOR: render_hosts_file
/// The text of a pod's hosts file: a header saying who manages it, `localhost`, the pod's own
/// host name at its IP (when it has one), then one line per Service entry, in the given order.
/// Each line is the address, a tab, and the names separated by spaces.
pub fn render_hosts_file(hostname: &str, pod_ip: Option<IpAddr>, services: &[HostEntry]) -> String {
    // EXERCISE(kubelet-hosts-file): write the header comment, "127.0.0.1\tlocalhost", the pod's own "<ip>\t<hostname>" line if it has an IP, then "<address>\t<names joined by spaces>" per entry, every line ending in "\n"
    let mut file =
        String::from("# Kubernetes-managed hosts file (written by the skiff kubelet).\n");
    file.push_str("127.0.0.1\tlocalhost\n");
    if let Some(ip) = pod_ip {
        file.push_str(&format!("{ip}\t{hostname}\n"));
    }
    for entry in services {
        file.push_str(&format!("{}\t{}\n", entry.address, entry.names.join(" ")));
    }
    file
    // END EXERCISE
}
// ANCHOR_END: render_hosts_file
