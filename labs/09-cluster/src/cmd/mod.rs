//! The components as subcommands of `skiff`, each a process that runs alone.
//!
//! The logic stays in each lab; a subcommand only parses its flags, connects to the API server
//! with its own identity's kubeconfig, and runs the lab's driver until SIGINT or SIGTERM.

pub mod apiserver;
pub mod controller_manager;
pub mod kubelet;
pub mod proxy;
pub mod scheduler;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ::apiserver::client::HttpApi;
use tokio::signal::unix::{SignalKind, signal};

/// How long a component waits before retrying after the API server failed it.
pub const RETRY: Duration = Duration::from_secs(1);

/// Sends `tracing` output to stderr, filtered by `RUST_LOG` (default `default_level`: `info`
/// for a component, whose stderr is its log file; `warn` for `skiff up`, whose terminal shows
/// the progress display).
pub fn init_tracing(default_level: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_level.into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: under `skiff up`, stderr is a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// A future that completes on the first SIGINT or SIGTERM, listening from the call on (so
/// install it before starting anything that a signal must not interrupt half-way).
pub fn stop_signal() -> Result<impl Future<Output = ()> + Send, String> {
    let error = |e: std::io::Error| format!("installing signal handlers: {e}");
    let mut interrupt = signal(SignalKind::interrupt()).map_err(error)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(error)?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("signal received: stopping");
    })
}

/// The API client of a component, from its kubeconfig; the error names the flag and file.
pub fn connect(kubeconfig: &Path) -> Result<HttpApi, String> {
    HttpApi::from_kubeconfig(kubeconfig)
        .map_err(|e| format!("--kubeconfig {}: {e}", kubeconfig.display()))
}

/// Writes `contents` to `path` atomically (a temporary file renamed over it), so a reader
/// polling for the file never sees half of it.
pub fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, contents)?;
    std::fs::rename(&temporary, path)
}

/// Creates the ready marker, if the component was given one.
pub fn mark_ready(ready_file: Option<&Path>) {
    if let Some(path) = ready_file
        && let Err(error) = write_atomically(path, "ready\n")
    {
        tracing::warn!("--ready-file {}: {error}", path.display());
    }
}

/// The flags every API client component shares: `--kubeconfig` and `--ready-file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientArgs {
    /// The kubeconfig of the component's identity.
    pub kubeconfig: PathBuf,
    /// Created once the component has synced with the API.
    pub ready_file: Option<PathBuf>,
}

/// The current wall-clock time as an API `Time` (controllers stamp their writes with it).
pub fn wall_clock_now() -> api::Time {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    api::Time(i64::try_from(seconds).unwrap_or(i64::MAX))
}
