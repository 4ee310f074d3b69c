//! SIGTERM handling for the built-in programs: remember that it came, let the program decide.

use std::sync::atomic::{AtomicBool, Ordering};

static TERM_RECEIVED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigterm(_signal: libc::c_int) {
    // Only an atomic store: a signal handler may do nothing that could take a lock.
    TERM_RECEIVED.store(true, Ordering::SeqCst);
}

/// From now on SIGTERM sets a flag instead of killing the process.
pub fn catch_sigterm() {
    // SAFETY: installs an async-signal-safe handler.
    unsafe {
        libc::signal(libc::SIGTERM, on_sigterm as *const () as libc::sighandler_t);
    }
}

/// From now on SIGTERM is ignored (only SIGKILL can stop the process).
pub fn ignore_sigterm() {
    // SAFETY: SIG_IGN is always a valid disposition.
    unsafe {
        libc::signal(libc::SIGTERM, libc::SIG_IGN);
    }
}

/// Has SIGTERM arrived since `catch_sigterm`?
pub fn term_received() -> bool {
    TERM_RECEIVED.load(Ordering::SeqCst)
}
