//! `skiff-chaos`: runs the deterministic simulation for many seeds (what `cargo xtask chaos`
//! calls), or replays one seed and prints its timeline.

use std::process::ExitCode;

use skiff::sim::{Scenario, run};

const USAGE: &str = "\
skiff-chaos: the whole cluster under seeded chaos, on virtual time

Usage: skiff-chaos [--seeds N] [--from S]    run seeds S, S+1, ... (N of them; default 16 from 1)
       skiff-chaos --seed S                  replay one seed and print its timeline
";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// Run `count` seeds from `from`.
    Many { from: u64, count: u64 },
    /// Replay one seed, printing its timeline.
    One(u64),
}

fn number(args: &[String], i: usize, flag: &str) -> Result<u64, String> {
    let value = args
        .get(i + 1)
        .ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|_| format!("{flag}: `{value}` is not a whole number"))
}

fn parse(args: &[String]) -> Result<Plan, String> {
    let (mut from, mut count, mut one) = (1, 16, None);
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--seeds" => count = number(args, i, "--seeds")?,
            "--from" => from = number(args, i, "--from")?,
            "--seed" => one = Some(number(args, i, "--seed")?),
            other => return Err(format!("unknown option `{other}`\n\n{USAGE}")),
        }
        i += 2;
    }
    Ok(match one {
        Some(seed) => Plan::One(seed),
        None => Plan::Many { from, count },
    })
}

async fn chaos(plan: Plan) -> ExitCode {
    let scenario = Scenario::default();
    let seeds = match plan {
        Plan::One(seed) => seed..seed + 1,
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
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let plan = match parse(&args) {
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
