//! What every real-process test of lab 09 shares: a `skiff` process that a failing assertion
//! cannot leave running, a poll with a deadline, and the `/proc` lookups that prove no process
//! was left behind.
//!
//! Every wait polls with a generous deadline as a safety net; nothing asserts a duration.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use api::client::ApiClient;
use api::{Node, Pod};
use apiserver::client::HttpApi;

/// The safety net for each wait: far longer than any step takes, even on a busy machine.
pub const DEADLINE: Duration = Duration::from_secs(180);
/// How often a wait looks again.
pub const POLL: Duration = Duration::from_millis(250);

/// The Deployment `web` in `default`: 3 echo servers (image `skiff/echo`, container `echo`),
/// their pods labelled `app: web`.
pub const WEB_DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: echo
        image: skiff/echo
";

/// The Service `web` in `default`: port 8080 of every pod labelled `app: web`.
pub const WEB_SERVICE: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
spec:
  selector:
    app: web
  ports:
  - port: 8080
    targetPort: 8080
";

/// A running `skiff` process (`skiff up`, `skiff join`) writing to a file. Dropping it (say,
/// when an assertion fails) stops it as Ctrl-C would; after a failure it also prints what the
/// process and, for `skiff up`, each component's log said.
pub struct Skiff {
    child: Option<Child>,
    output: PathBuf,
    /// `skiff up`'s data directory, whose `logs/` a failure prints.
    data_dir: Option<PathBuf>,
    /// Processes the test stopped with SIGSTOP: continued before the cluster stops.
    stopped: Vec<i32>,
}

impl Skiff {
    /// `skiff ARGS...`, its stdout and stderr going to `output`.
    pub fn start(args: &[&str], output: PathBuf) -> Skiff {
        let log = std::fs::File::create(&output).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_skiff"))
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting skiff");
        Skiff {
            child: Some(child),
            output,
            data_dir: None,
            stopped: Vec::new(),
        }
    }

    /// `skiff up --listen 127.0.0.1:0 FLAGS... --data-dir DATA_DIR`: a cluster on a free port.
    pub fn up(data_dir: &Path, flags: &[&str], output: PathBuf) -> Skiff {
        let data = data_dir.display().to_string();
        let mut args = vec!["up", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(flags);
        args.extend(["--data-dir", data.as_str()]);
        let mut skiff = Skiff::start(&args, output);
        skiff.data_dir = Some(data_dir.to_path_buf());
        skiff
    }

    /// Everything the process printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    /// Panics with the output if the process has exited (it should still be running).
    pub fn assert_running(&mut self) {
        if let Some(child) = self.child.as_mut()
            && let Some(status) = child.try_wait().unwrap()
        {
            self.child = None;
            panic!("skiff exited early ({status}):\n{}", self.output());
        }
    }

    /// Hangs process `pid` (SIGSTOP); remembered so that it can be continued.
    pub fn hang(&mut self, pid: i32) {
        // SAFETY: a plain system call with integer arguments.
        assert_eq!(
            unsafe { libc::kill(pid, libc::SIGSTOP) },
            0,
            "SIGSTOP {pid}"
        );
        self.stopped.push(pid);
    }

    /// Continues every process hung by [`Skiff::hang`].
    pub fn resume_all(&mut self) {
        for pid in self.stopped.drain(..) {
            // SAFETY: a plain system call with integer arguments.
            unsafe { libc::kill(pid, libc::SIGCONT) };
        }
    }

    /// SIGKILL: the process gets no chance to stop anything itself.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Ctrl-C, and panics with the output unless `what` (say, "skiff up") exits cleanly;
    /// returns everything it printed.
    pub fn stop(&mut self, what: &str) -> String {
        assert!(self.interrupt(), "{what} exits cleanly:\n{}", self.output());
        self.output()
    }

    /// SIGINT, as Ctrl-C would; returns whether the process exited successfully.
    pub fn interrupt(&mut self) -> bool {
        self.resume_all();
        let Some(mut child) = self.child.take() else {
            return false;
        };
        // SAFETY: a plain system call with integer arguments.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Skiff {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.interrupt();
        }
        if std::thread::panicking() {
            // What the cluster said, for whoever reads the failure (the data dir is removed).
            eprintln!("--- skiff said:\n{}", self.output());
            let Some(data_dir) = &self.data_dir else {
                return;
            };
            for entry in std::fs::read_dir(data_dir.join("logs"))
                .into_iter()
                .flatten()
                .flatten()
            {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = &lines[lines.len().saturating_sub(15)..];
                eprintln!("--- {}:\n{}", entry.path().display(), tail.join("\n"));
            }
        }
    }
}

/// Polls `check` until it gives a value; panics with `what` after the deadline.
pub async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// The admin's client of the cluster in `data_dir`, once its API server has written its URL.
pub async fn connect(data_dir: &Path) -> HttpApi {
    let url_file = data_dir.join("apiserver.url");
    let kubeconfig = data_dir.join("kubeconfigs/admin.kubeconfig");
    eventually("the API server's URL file", || async {
        url_file.exists().then_some(())
    })
    .await;
    HttpApi::from_kubeconfig(&kubeconfig).unwrap()
}

/// Whether node `node`'s Ready condition is True (`None` if it cannot be read).
pub async fn node_ready(api: &HttpApi, node: &str) -> Option<bool> {
    let node: Node = api.get(None, node).await.ok()?;
    Some(
        node.status?
            .conditions
            .iter()
            .any(|c| c.condition_type == "Ready" && c.status == "True"),
    )
}

/// The pid of the kubelet of node `node` in the cluster of `data_dir`; panics unless there is
/// exactly one.
pub fn kubelet_pid(data_dir: &Path, node: &str) -> i32 {
    let flag = format!("\0--node\0{node}\0");
    let kubelets: Vec<i32> = pids_matching(&format!("kubelet --kubeconfig {}", data_dir.display()))
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&flag))
        })
        .collect();
    assert_eq!(kubelets.len(), 1, "one kubelet for {node}: {kubelets:?}");
    kubelets[0]
}

/// A stored pod's name.
pub fn name(pod: &Pod) -> String {
    pod.metadata.name.clone().unwrap()
}

/// A running pod's IP.
pub fn ip(pod: &Pod) -> String {
    pod.status.as_ref().unwrap().pod_ip.clone().unwrap()
}

/// How many times the pod's first container was restarted.
pub fn restart_count(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.first())
        .map_or(0, |c| c.restart_count)
}

/// Each process as its pid, its command line and its working directory.
fn processes() -> impl Iterator<Item = (i32, String, Option<PathBuf>)> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<i32>().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline"))
                .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
                .unwrap_or_default();
            let cwd = std::fs::read_link(entry.path().join("cwd")).ok();
            Some((pid, cmdline, cwd))
        })
}

/// Every process whose command line or working directory mentions `dir`, as "pid: cmdline".
pub fn processes_under(dir: &Path) -> Vec<String> {
    let needle = dir.display().to_string();
    processes()
        .filter_map(|(pid, cmdline, cwd)| {
            let cwd = cwd.map(|p| p.display().to_string()).unwrap_or_default();
            (cmdline.contains(&needle) || cwd.contains(&needle))
                .then(|| format!("{pid}: {cmdline} (in {cwd})"))
        })
        .collect()
}

/// Panics with the list unless no process's command line or working directory mentions
/// `dir`: nothing a test started under `dir` is left running.
pub fn assert_no_process_under(dir: &Path) {
    let left = processes_under(dir);
    assert!(left.is_empty(), "processes left behind: {left:#?}");
}

/// The pid of the container process of the pod with IP `ip` (the runtime gives each
/// container `POD_IP` in its environment and runs it in the pod's directory under `dir`).
pub fn container_pid(dir: &Path, ip: &str) -> Option<i32> {
    let wanted = format!("POD_IP={ip}");
    processes().find_map(|(pid, _, cwd)| {
        let in_dir = cwd.is_some_and(|p| p.starts_with(dir));
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let has_ip = environ
            .split(|b| *b == 0)
            .any(|var| var == wanted.as_bytes());
        (in_dir && has_ip).then_some(pid)
    })
}

/// The pids of the processes whose command line contains `needle`.
pub fn pids_matching(needle: &str) -> Vec<i32> {
    processes()
        .filter(|(_, cmdline, _)| cmdline.contains(needle))
        .map(|(pid, _, _)| pid)
        .collect()
}
