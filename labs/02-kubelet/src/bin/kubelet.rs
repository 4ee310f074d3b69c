//! `kubelet --node n1 --manifests DIR`: a real kubelet on this machine, on the real runtime,
//! talking to an in-memory API until the API server exists (lab 04).

use std::sync::Arc;

use api::client::InMemoryApi;
use kubelet::cli::{Args, Command, USAGE, default_image_binary, parse};
use kubelet::{Kubelet, RealProber};
use runtime::{RealRuntime, RuntimeConfig, SystemClock};
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
    let root = args.root.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("skiff-kubelet-{}", std::process::id()))
    });
    let mut config = RuntimeConfig::new(&root);
    config.node_name = Some(args.config.node_name.clone());
    config.image_binary = args.image_binary.clone().or_else(default_image_binary);
    config.use_cgroups = !args.no_cgroups;
    if let Some(range) = args.pod_range {
        config.pod_range = range;
    }
    let runtime =
        Arc::new(RealRuntime::new(config).map_err(|e| format!("starting the runtime: {e}"))?);
    let api = InMemoryApi::new();
    // Pods' volumes live under the runtime's root, and go with it when it is a temp dir.
    let mut kubelet_config = args.config.clone();
    kubelet_config.pods_dir = root.join("pods");
    let mut kubelet = Kubelet::new(
        kubelet_config,
        runtime.clone(),
        api,
        RealProber,
        Arc::new(SystemClock),
    );
    // Install the handlers before anything runs: a SIGTERM that arrives before them would
    // kill the kubelet on the spot and leave its containers behind.
    let stop = stop_signal().map_err(|e| format!("installing signal handlers: {e}"))?;
    kubelet.run(stop).await;
    drop(kubelet);
    if let Ok(runtime) = Arc::try_unwrap(runtime) {
        drop(runtime); // kills and reaps anything left, removes cgroups
    }
    if args.root.is_none() {
        let _ = std::fs::remove_dir_all(&root);
    }
    Ok(())
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
