//! The built-in "images": small programs in one multi-call binary, `skiff-image <program> ...`.
//!
//! They live in the library (not only in `src/bin/skiff-image.rs`) so that any later lab can
//! ship the same catalogue with a three-line binary of its own.

mod echo;
mod inspect;
mod signals;

pub use inspect::{hosts_file_path, lookup_host};
mod simple;

/// Runs the program named by `args[0]` with the rest as its arguments; returns the exit code.
pub fn run(args: &[String]) -> i32 {
    let Some((program, rest)) = args.split_first() else {
        eprintln!(
            "usage: skiff-image <{}> [args...]",
            crate::image::BUILTIN_PROGRAMS.join("|")
        );
        return 2;
    };
    match program.as_str() {
        "echo" => echo::run(rest),
        "crasher" => simple::crasher(rest),
        "sleeper" => simple::sleeper(rest),
        "cpu-burner" => simple::cpu_burner(rest),
        "memory-hog" => simple::memory_hog(rest),
        "ps" => inspect::ps(rest),
        "hostname" => inspect::hostname(rest),
        "fetch" => inspect::fetch(rest),
        "cat" => inspect::cat(rest),
        helper if crate::isolation::helper::HELPER_COMMANDS.contains(&helper) => {
            crate::isolation::helper::run(helper, rest)
        }
        other => {
            eprintln!("skiff-image: unknown program {other:?}");
            2
        }
    }
}

/// Does `run` know this program? True for the images ([`crate::image::BUILTIN_PROGRAMS`]), the
/// inspection tools ([`crate::image::TOOL_PROGRAMS`]) and the isolation helper's sub-commands.
/// A binary that doubles as the image binary (like the kubelet) checks this first.
pub fn serves(program: &str) -> bool {
    crate::image::BUILTIN_PROGRAMS.contains(&program)
        || crate::image::TOOL_PROGRAMS.contains(&program)
        || crate::isolation::helper::HELPER_COMMANDS.contains(&program)
}

/// Parses the positional argument at `index`, or returns `default` when it is absent.
fn arg<T: std::str::FromStr>(args: &[String], index: usize, default: T) -> Result<T, String> {
    match args.get(index) {
        None => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| format!("argument {}: cannot parse {text:?}", index + 1)),
    }
}
