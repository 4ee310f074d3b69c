//! The small built-in programs: crasher, sleeper, cpu-burner, memory-hog.

use std::time::{Duration, Instant};

use super::arg;
use super::signals::{catch_sigterm, ignore_sigterm, term_received};

const TICK: Duration = Duration::from_millis(20);

/// `crasher [CODE=1] [SECONDS=0]`: exits with CODE after SECONDS.
pub fn crasher(args: &[String]) -> i32 {
    let parsed = arg(args, 0, 1).and_then(|code| Ok((code, arg(args, 1, 0.0)?)));
    let (code, seconds): (i32, f64) = match parsed {
        Ok(values) => values,
        Err(message) => return usage("crasher [CODE] [SECONDS]", &message),
    };
    println!("crasher: will exit with code {code} after {seconds}s");
    std::thread::sleep(Duration::from_secs_f64(seconds.max(0.0)));
    eprintln!("crasher: exiting with code {code}");
    code
}

/// `sleeper [SECONDS] [--ignore-term]`: sleeps (forever without SECONDS); exits 0 on SIGTERM,
/// unless told to ignore it.
pub fn sleeper(args: &[String]) -> i32 {
    let ignore = args.iter().any(|a| a == "--ignore-term");
    let positional: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .cloned()
        .collect();
    let seconds: Option<f64> = match positional.first().map(|s| s.parse()) {
        None => None,
        Some(Ok(seconds)) => Some(seconds),
        Some(Err(_)) => {
            return usage(
                "sleeper [SECONDS] [--ignore-term]",
                "SECONDS must be a number",
            );
        }
    };
    if ignore {
        ignore_sigterm();
        println!("sleeper: sleeping, ignoring SIGTERM");
    } else {
        catch_sigterm();
        println!("sleeper: sleeping");
    }
    let deadline = seconds.map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    wait_for_term_or(deadline)
}

/// `cpu-burner [SECONDS]`: keeps one core busy (forever without SECONDS).
pub fn cpu_burner(args: &[String]) -> i32 {
    let seconds: Option<f64> = args.first().and_then(|s| s.parse().ok());
    catch_sigterm();
    println!("cpu-burner: burning one core");
    let deadline = seconds.map(|s| Instant::now() + Duration::from_secs_f64(s));
    let mut counter: u64 = 0;
    while !term_received() && deadline.is_none_or(|d| Instant::now() < d) {
        for _ in 0..1_000_000 {
            counter =
                std::hint::black_box(counter.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
    println!("cpu-burner: done");
    0
}

/// `memory-hog [STEP_MIB=16] [MAX_MIB=1024]`: allocates and touches STEP_MIB at a time up to
/// MAX_MIB, then holds it until SIGTERM. Touching every page matters: untouched pages are
/// only promised, not given, and do not count against a memory limit.
pub fn memory_hog(args: &[String]) -> i32 {
    let parsed = arg(args, 0, 16usize).and_then(|step| Ok((step, arg(args, 1, 1024usize)?)));
    let (step_mib, max_mib) = match parsed {
        Ok(values) if values.0 > 0 => values,
        Ok(_) => return usage("memory-hog [STEP_MIB] [MAX_MIB]", "STEP_MIB must be > 0"),
        Err(message) => return usage("memory-hog [STEP_MIB] [MAX_MIB]", &message),
    };
    catch_sigterm();
    let mut held: Vec<Vec<u8>> = Vec::new();
    let mut total = 0;
    while total + step_mib <= max_mib {
        let mut block = Vec::new();
        if block.try_reserve_exact(step_mib << 20).is_err() {
            // Only with the rlimit fallback: the allocation fails instead of an OOM kill.
            eprintln!("memory-hog: allocation failed after {total} MiB");
            return 1;
        }
        block.resize(step_mib << 20, 1u8);
        held.push(block);
        total += step_mib;
        println!("memory-hog: holding {total} MiB");
    }
    wait_for_term_or(None)
}

/// Sleeps in short ticks until SIGTERM (exit 0) or the deadline (exit 0).
fn wait_for_term_or(deadline: Option<Instant>) -> i32 {
    while deadline.is_none_or(|d| Instant::now() < d) {
        if term_received() {
            println!("received SIGTERM, shutting down");
            return 0;
        }
        std::thread::sleep(TICK);
    }
    0
}

fn usage(synopsis: &str, message: &str) -> i32 {
    eprintln!("usage: {synopsis}: {message}");
    2
}
