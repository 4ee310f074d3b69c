//! `skiff-chaos`: runs the deterministic simulation for many seeds (what `cargo xtask chaos`
//! calls), or replays one seed and prints its timeline.

use std::process::ExitCode;

use skiff::sim::{Plan, Scenario, run};

async fn chaos(plan: Plan) -> ExitCode {
    let scenario = Scenario::default();
    let seeds = match plan {
        Plan::One(seed) => seed..seed.saturating_add(1),
        Plan::Many { from, count } => from..from.saturating_add(count),
    };
    let verbose = matches!(plan, Plan::One(_));
    let mut failed = Vec::new();
    for seed in seeds {
        match run(seed, &scenario).await {
            Ok(report) => {
                if verbose {
                    for line in &report.timeline {
                        println!("{line}");
                    }
                }
                println!(
                    "seed {seed}: ok, {} faults, {} acknowledged writes, healed by {}s",
                    report.faults,
                    report.acknowledged,
                    report.end.as_secs()
                );
            }
            Err(failure) => {
                if verbose {
                    for line in &failure.timeline {
                        println!("{line}");
                    }
                }
                println!("{failure}");
                failed.push(seed);
            }
        }
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("failing seeds: {failed:?}");
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{}", skiff::sim::USAGE);
        return ExitCode::SUCCESS;
    }
    let plan = match Plan::parse(&args) {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("skiff-chaos: {message}");
            return ExitCode::from(2);
        }
    };
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(chaos(plan)),
        Err(e) => {
            eprintln!("skiff-chaos: starting the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
