//! A real etcd for the tests that compare skiff with it: lab 07's gateway conformance, and
//! lab 04's storage table (which includes this file by path). Needs the `etcd` binary
//! (Debian: `apt-get install etcd-server`); without it a test says it is skipped and passes,
//! unless `SKIFF_REQUIRE_ETCD` is set, as in CI.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A one-member etcd process, killed when dropped.
pub struct Etcd {
    child: Child,
    /// The port it serves clients on (127.0.0.1).
    pub client_port: u16,
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two distinct free ports: both listeners are held until both ports are known.
fn free_ports() -> (u16, u16) {
    let first = TcpListener::bind("127.0.0.1:0").unwrap();
    let second = TcpListener::bind("127.0.0.1:0").unwrap();
    (
        first.local_addr().unwrap().port(),
        second.local_addr().unwrap().port(),
    )
}

/// Spawns a one-member etcd called `name` with its data in `dir`, on free ports; `None` if
/// there is no etcd binary. It may not serve yet: the caller waits with its own client.
pub fn spawn(dir: &Path, name: &str) -> Option<Etcd> {
    let (client_port, peer) = free_ports();
    let client_url = format!("http://127.0.0.1:{client_port}");
    let peer_url = format!("http://127.0.0.1:{peer}");
    let child = Command::new("etcd")
        .args(["--name", name, "--data-dir", dir.to_str().unwrap()])
        .args([
            "--listen-client-urls",
            &client_url,
            "--advertise-client-urls",
            &client_url,
        ])
        .args([
            "--listen-peer-urls",
            &peer_url,
            "--initial-advertise-peer-urls",
            &peer_url,
        ])
        .args(["--initial-cluster", &format!("{name}={peer_url}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    Some(Etcd { child, client_port })
}

/// [`spawn`], or `None` after saying the test is skipped; a missing etcd fails the test when
/// `SKIFF_REQUIRE_ETCD` is set.
pub fn spawn_or_skip(dir: &Path, name: &str) -> Option<Etcd> {
    let spawned = spawn(dir, name);
    if spawned.is_none() {
        assert!(
            std::env::var("SKIFF_REQUIRE_ETCD").is_err(),
            "SKIFF_REQUIRE_ETCD is set but the etcd binary was not found"
        );
        println!("skipped: no etcd binary on PATH (apt-get install etcd-server)");
    }
    spawned
}
