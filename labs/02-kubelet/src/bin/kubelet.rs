//! `kubelet --node n1 --manifests DIR`: a real kubelet on this machine, on the real runtime,
//! talking to an in-memory API until the API server exists (lab 04).

use api::client::InMemoryApi;
use kubelet::cli::{Args, Command, USAGE, parse};
use tokio::signal::unix::{SignalKind, signal};

fn main() {
    kubelet::cli::serve_builtin_image();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&args) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            return;
        }
        Ok(Command::Run(args)) => args,
        Err(message) => {
            eprintln!("kubelet: {message}");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    if let Err(message) = runtime.block_on(run(*args)) {
        eprintln!("kubelet: {message}");
        std::process::exit(1);
    }
}

/// Runs the kubelet until SIGINT or SIGTERM, then stops every pod and removes its files.
async fn run(args: Args) -> Result<(), String> {
    // Install the handlers before anything runs: a SIGTERM that arrives before them would
    // kill the kubelet on the spot and leave its containers behind.
    let stop = stop_signal().map_err(|e| format!("installing signal handlers: {e}"))?;
    kubelet::cli::run_with_api(args, InMemoryApi::new(), stop).await
}

/// A future that completes on the first SIGINT (Ctrl-C) or SIGTERM, listening from now on.
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("signal received: stopping");
    })
}
