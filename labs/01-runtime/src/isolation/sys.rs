//! Thin, safe wrappers around the system calls of namespaces and mounts.
//!
//! Each one turns a C return value into an `io::Result`. They are meant for the single-threaded
//! helper process: `unshare(CLONE_NEWUSER)` and `setns` into a user namespace fail in a
//! multi-threaded process, and `fork` in one is only safe until `exec`.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A path as a C string; paths with a NUL byte cannot exist, so that is an error.
fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

fn c_text(text: &str) -> io::Result<CString> {
    CString::new(text)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "text contains a NUL byte"))
}

/// Turns `-1` into the error in `errno`.
fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

/// `unshare(2)`: moves this process into new namespaces (new pid namespaces: its children).
pub fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: unshare takes an integer.
    check(unsafe { libc::unshare(flags) }).map(drop)
}

/// `setns(2)`: joins the namespace `file` (a `/proc/<pid>/ns/*` file) refers to.
pub fn setns(file: &std::fs::File, flag: libc::c_int) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for as long as `file` lives.
    check(unsafe { libc::setns(file.as_raw_fd(), flag) }).map(drop)
}

/// This process's real user and group ids.
pub fn user_ids() -> (libc::uid_t, libc::gid_t) {
    // SAFETY: getuid and getgid take no arguments and cannot fail.
    unsafe { (libc::getuid(), libc::getgid()) }
}

/// `sethostname(2)`, in this process's UTS namespace.
pub fn sethostname(name: &str) -> io::Result<()> {
    // SAFETY: pointer and length describe `name`.
    check(unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) }).map(drop)
}

/// `mount -t <fstype> <fstype> <target> -o <options>`.
pub fn mount_fs(fstype: &str, target: &Path, options: &str) -> io::Result<()> {
    let (source, fstype, target) = (c_text(fstype)?, c_text(fstype)?, c_path(target)?);
    let options = c_text(options)?;
    // SAFETY: every pointer is a valid C string that outlives the call.
    check(unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            options.as_ptr().cast(),
        )
    })
    .map(drop)
}

/// `mount --bind <source> <target>`.
pub fn bind_mount(source: &Path, target: &Path) -> io::Result<()> {
    let (source, target) = (c_path(source)?, c_path(target)?);
    // SAFETY: valid C strings; null fstype and data are allowed for a bind mount.
    check(unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND,
            std::ptr::null(),
        )
    })
    .map(drop)
}

/// `mount --make-rprivate <path>`.
pub fn mount_private_recursive(path: &Path) -> io::Result<()> {
    let path = c_path(path)?;
    // SAFETY: valid C string; a propagation change takes no source, type or data.
    check(unsafe {
        libc::mount(
            std::ptr::null(),
            path.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    })
    .map(drop)
}

/// Makes `new_root` the root and detaches the old one. Uses the `pivot_root(".", ".")` idiom:
/// after it the old root is stacked on top of the new one at `/`, and unmounting `/` once
/// removes it, with no temporary directory to create and delete.
pub fn pivot_root(new_root: &Path) -> io::Result<()> {
    std::env::set_current_dir(new_root)?;
    let dot = c_text(".")?;
    // SAFETY: valid C strings; pivot_root has no libc wrapper, so it goes through syscall().
    check(unsafe {
        libc::syscall(libc::SYS_pivot_root, dot.as_ptr(), dot.as_ptr()) as libc::c_int
    })?;
    // SAFETY: valid C string.
    check(unsafe { libc::umount2(dot.as_ptr(), libc::MNT_DETACH) })?;
    std::env::set_current_dir("/")
}

/// `fork(2)`: `Ok(0)` in the child, `Ok(child pid)` in the parent.
pub fn fork() -> io::Result<libc::pid_t> {
    // SAFETY: the helper is single-threaded, so the child starts in a consistent state.
    check(unsafe { libc::fork() })
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildEnd {
    /// It exited with this code.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
}

/// Waits for `pid` to end, retrying when a signal interrupts the wait.
pub fn wait_for(pid: libc::pid_t) -> io::Result<ChildEnd> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer.
        let result = unsafe { libc::waitpid(pid, &mut status, 0) };
        if result == pid {
            break;
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
    if libc::WIFSIGNALED(status) {
        Ok(ChildEnd::Signaled(libc::WTERMSIG(status)))
    } else {
        Ok(ChildEnd::Exited(libc::WEXITSTATUS(status)))
    }
}

/// Reaps every child that has already ended, without blocking.
pub fn reap_ended_children() {
    // SAFETY: waitpid with a null status pointer is allowed.
    while unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) } > 0 {}
}

/// Asks the kernel to SIGKILL this process when its parent dies.
pub fn die_with_parent() {
    // SAFETY: prctl with integer arguments.
    unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        );
    }
}

extern "C" fn ignore_signal(_signal: libc::c_int) {}

/// Survives SIGTERM and SIGINT with a handler that does nothing. Unlike `SIG_IGN`, a handler is
/// reset by `exec`, so a child that later execs its program gets the default behaviour back.
pub fn outlive_termination_signals() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: installs a handler that does nothing (trivially async-signal-safe).
        unsafe {
            libc::signal(signal, ignore_signal as *const () as libc::sighandler_t);
        }
    }
}

/// Ends this process the same way a child ended, so that whoever waits for us sees the child's
/// exit code or signal (the runtime turns a signal into 128 + n, and SIGKILL plus an OOM event
/// into OOMKilled).
pub fn end_like(end: ChildEnd) -> ! {
    match end {
        ChildEnd::Exited(code) => std::process::exit(code),
        ChildEnd::Signaled(signal) => {
            // SAFETY: resetting to the default disposition and raising a signal at ourselves.
            unsafe {
                libc::signal(signal, libc::SIG_DFL);
                libc::raise(signal);
            }
            std::process::exit(128 + signal)
        }
    }
}

/// Blocks `signals` and waits for one of them; with them blocked, none can slip by between two
/// waits (the race a plain `pause()` loop has).
pub fn wait_for_signal(signals: &[libc::c_int]) -> libc::c_int {
    // SAFETY: sigset operations on a local, zero-initialised set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &signal in signals {
            libc::sigaddset(&mut set, signal);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        let mut received = 0;
        libc::sigwait(&set, &mut received);
        received
    }
}
