//! Containers as OS processes: spawning one into its own process group and cgroups, signalling
//! the group, stopping it gracefully, and making sure nothing is left behind.

use std::ffi::CString;
use std::io;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::sync::watch;

use crate::cgroup::ContainerCgroup;
use crate::image::ResolvedCommand;

/// Everything needed to start a container's main process, prepared before forking.
#[derive(Debug, Clone)]
pub struct SpawnPlan {
    /// Program and arguments.
    pub command: ResolvedCommand,
    /// The complete environment (nothing is inherited from the runtime).
    pub env: Vec<(String, String)>,
    /// The directory the process starts in.
    pub working_dir: PathBuf,
    /// `cgroup.procs` files the process joins before it executes the program.
    pub cgroup_procs: Vec<CString>,
    /// rlimits to set where cgroups cannot enforce a limit: (resource, value).
    pub rlimits: Vec<(RlimitResource, u64)>,
}

/// An rlimit resource, as libc's constant: glibc gives it a type of its own, musl an int.
#[cfg(target_env = "gnu")]
pub type RlimitResource = libc::__rlimit_resource_t;
/// An rlimit resource, as libc's constant: glibc gives it a type of its own, musl an int.
#[cfg(not(target_env = "gnu"))]
pub type RlimitResource = libc::c_int;

// ANCHOR: spawn
/// Starts the main process of a container, stdout and stderr piped to the runtime.
///
/// The closure given to `pre_exec` runs in the child between `fork` and `exec`, where only
/// async-signal-safe calls are allowed: no allocation, no locks. Everything it needs (the
/// C strings of the cgroup files) was prepared by the parent.
pub fn spawn(plan: &SpawnPlan) -> io::Result<tokio::process::Child> {
    let mut command = tokio::process::Command::new(&plan.command.program);
    command
        .args(&plan.command.args)
        .env_clear()
        .envs(plan.env.iter().map(|(name, value)| (name, value)))
        .current_dir(&plan.working_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let procs = plan.cgroup_procs.clone();
    let rlimits = plan.rlimits.clone();
    // SAFETY: the closure only makes async-signal-safe system calls on memory prepared before
    // the fork (see `prepare_child`).
    unsafe {
        let runtime_pid = libc::getpid();
        command.pre_exec(move || prepare_child(runtime_pid, &procs, &rlimits));
    }
    command.spawn()
}

/// Runs in the forked child, before `exec`.
fn prepare_child(
    runtime_pid: i32,
    procs: &[CString],
    rlimits: &[(RlimitResource, u64)],
) -> io::Result<()> {
    // SAFETY: plain system calls with valid arguments; no allocation happens here.
    unsafe {
        // Own process group (pgid = pid): one signal to `-pid` reaches the container's whole
        // process tree, and nothing else.
        if libc::setpgid(0, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
        // If the runtime dies (even by SIGKILL), the kernel kills this process. It only covers
        // this process, not its children; the cgroup and the subreaper cover those.
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        );
        if libc::getppid() != runtime_pid {
            // The runtime died before the prctl above took effect: do not start at all.
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        for file in procs {
            join_cgroup(file)?;
        }
        for &(resource, value) in rlimits {
            let limit = libc::rlimit {
                rlim_cur: value,
                rlim_max: value,
            };
            if libc::setrlimit(resource, &limit) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}
// ANCHOR_END: spawn

/// Writes "0" (meaning "the calling process") into a `cgroup.procs` file.
///
/// # Safety
/// Async-signal-safe: only `open`, `write` and `close` on a prepared C string.
unsafe fn join_cgroup(procs_file: &CString) -> io::Result<()> {
    // SAFETY: `procs_file` is a valid NUL-terminated path; the buffer is a static byte string.
    unsafe {
        let fd = libc::open(procs_file.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let written = libc::write(fd, b"0".as_ptr().cast(), 1);
        libc::close(fd);
        if written != 1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A container's process group, named by its id (the main process's pid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessGroup(pub i32);

impl ProcessGroup {
    /// Sends `signal` to every process of the group. A group that is already gone is not an
    /// error: the goal (the processes are signalled or dead) is reached either way.
    pub fn signal(self, signal: i32) {
        // SAFETY: killpg takes plain integers.
        unsafe {
            libc::killpg(self.0, signal);
        }
    }

    /// True while at least one process (or zombie) is still in the group.
    pub fn is_alive(self) -> bool {
        // SAFETY: signal 0 only checks for existence.
        unsafe { libc::killpg(self.0, 0) == 0 }
    }
}

/// How a graceful stop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// The container exited within the grace period after SIGTERM.
    ExitedAfterSigterm,
    /// The grace period ran out and the container was killed with SIGKILL.
    Killed,
}

// ANCHOR: stop_gracefully
/// Stops a container the way Kubernetes does: SIGTERM to the whole process group, up to
/// `grace` for it to exit, then SIGKILL. `exited` turns true once the main process has been
/// reaped; this function returns only after that, so the caller can read the exit status.
pub async fn stop_gracefully(
    group: ProcessGroup,
    exited: &mut watch::Receiver<bool>,
    grace: Duration,
) -> StopOutcome {
    // EXERCISE(runtime-graceful-stop): SIGTERM the group, wait for `exited` up to `grace` (tokio::time::timeout), else SIGKILL and wait again
    group.signal(libc::SIGTERM);
    if tokio::time::timeout(grace, wait_until_exited(exited))
        .await
        .is_ok()
    {
        return StopOutcome::ExitedAfterSigterm;
    }
    group.signal(libc::SIGKILL);
    wait_until_exited(exited).await;
    StopOutcome::Killed
    // END EXERCISE
}
// ANCHOR_END: stop_gracefully

/// Waits until the watched flag is true. If the sender is gone, the monitor is gone too (the
/// runtime is shutting down), and there is nothing left to wait for.
pub async fn wait_until_exited(exited: &mut watch::Receiver<bool>) {
    let _ = exited.wait_for(|done| *done).await;
}

// ANCHOR: kill_and_reap
/// Kills what is left of a container whose main process has ended (or must end now), and
/// reaps the processes that became our children, so that no zombie is left behind.
///
/// Blocking: call it from `spawn_blocking` or from `Drop`.
pub fn kill_and_reap(group: ProcessGroup, cgroup: Option<&ContainerCgroup>) {
    group.signal(libc::SIGKILL);
    let stragglers = cgroup.map(ContainerCgroup::pids).unwrap_or_default();
    for &pid in &stragglers {
        // SAFETY: plain integers. These are processes that left the process group (setsid);
        // the cgroup still knows them.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    // With PR_SET_CHILD_SUBREAPER set, orphans of the container were re-parented to us: wait for
    // them until the kernel says we have no such child left (ECHILD).
    // SAFETY: waitpid with a null status pointer is allowed.
    while unsafe { libc::waitpid(-group.0, std::ptr::null_mut(), 0) } > 0 {}
    for pid in stragglers {
        // SAFETY: as above; ECHILD (not our child) is fine.
        unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
    }
}
// ANCHOR_END: kill_and_reap

/// Makes this process the "subreaper" of its descendants: when a container's process dies, its
/// orphaned children are re-parented to the runtime instead of to init, so the runtime can kill
/// and reap them. Process-wide, and harmless to call twice.
pub fn become_child_subreaper() -> io::Result<()> {
    // SAFETY: prctl with integer arguments.
    let result = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Pids of this process's living or zombie children, read from `/proc`. With the subreaper set,
/// "no children" means "no descendants at all": every orphan would have become our child.
pub fn child_pids() -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut children: Vec<i32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| parent_of(*pid) == Some(me))
        .collect();
    children.sort_unstable();
    children
}

/// The parent pid of `pid`, from `/proc/<pid>/stat` (`pid (comm) state ppid ...`).
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: parse from the last ')'.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(1)?.parse().ok()
}
