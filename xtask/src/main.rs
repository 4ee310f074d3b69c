//! `cargo xtask <task>`: see `cargo xtask help`.

use std::path::PathBuf;
use std::process::ExitCode;

use xtask::{bench, book, check, grade, serve, starter, workspace};

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  book                     build the book into target/book (fails on a missing include,
                           anchor or internal link, naming the chapter)
  serve [--port N]         build the book and serve it on http://127.0.0.1:N/ (default 3000)
  starter DIR [--lab N]    write a learner workspace into DIR: every exercise (or only lab N's)
                           replaced by todo!(\"<id>: <hint>\")
  check [--lab N]          run your graded tests: progress per exercise, and the hint and
                           failing assertion of the first exercise still to do
  hint <id>                the hint for one exercise, where it is, and how to test it
  grade [--lab N] [--format md|json|junit] [--repeat K] [--hidden DIR]
        [--submission DIR] [--out FILE]
                           score a workspace (default: this one) per lab and exercise, in a
                           copy; protected files (graded tests, snapshots, grading.toml) are
                           restored there and every change to them is reported
  bench [--lab N]          run every lab's benchmark (`*-bench` binaries) in release mode and
                           print measured numbers beside the Kubernetes/etcd reference figures
  chaos [--seeds N] [--from S] [--seed S]
                           run the whole-cluster simulation under seeded chaos for N seeds
                           (default 16, from seed 1) in release mode; --seed S replays one
                           seed and prints its timeline
  exercises                list every exercise: id, lab, file and hint
  help                     this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("book") => run_book().map(|_| ()),
        Some("serve") => run_serve(&args[1..]),
        Some("starter") => run_starter(&args[1..]),
        Some("exercises") => run_exercises(),
        Some("check") => run_check(&args[1..]),
        Some("hint") => run_hint(&args[1..]),
        Some("grade") => run_grade(&args[1..]),
        Some("bench") => run_bench(&args[1..]),
        Some("chaos") => run_chaos(&args[1..]),
        Some("help") | Some("--help") | Some("-h") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run_book() -> Result<book::Built, String> {
    let root = workspace::root();
    match book::build(&root) {
        Ok(built) => {
            println!(
                "Built {} chapters ({} listings included from the labs) into {}",
                built.chapters,
                built.includes,
                built.output.display()
            );
            if !built.external_links.is_empty() {
                println!("External links (listed, not fetched):");
                for link in &built.external_links {
                    println!("  {link}");
                }
            }
            Ok(built)
        }
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
            Err(format!("the book is broken:\n{}", lines.join("\n")))
        }
    }
}

fn run_serve(args: &[String]) -> Result<(), String> {
    let port = match option_value(args, "--port")? {
        Some(p) => p
            .parse()
            .map_err(|_| format!("--port: `{p}` is not a port number"))?,
        None => 3000,
    };
    let built = run_book()?;
    serve::serve(&built.output, port).map_err(|e| format!("serve on port {port}: {e}"))
}

fn run_starter(args: &[String]) -> Result<(), String> {
    let dest = args
        .iter()
        .find(|a| !a.starts_with("--") && Some(*a) != option_value(args, "--lab").ok().flatten())
        .ok_or("starter: give the directory to write, e.g. `cargo xtask starter ../my-skiff`")?;
    let selection = match lab_option(args)? {
        Some(n) => starter::Selection::Lab(n),
        None => starter::Selection::AllLabs,
    };
    let dest = PathBuf::from(dest);
    let summary = starter::write(&workspace::root(), &dest, selection)?;
    println!(
        "Wrote a starter workspace to {} ({} files, {} exercises to do):",
        dest.display(),
        summary.files,
        summary.stripped.len()
    );
    for region in &summary.stripped {
        println!("  {:<32} {}", region.id, region.file.display());
    }
    println!(
        "\nNext: cd {} && cargo test -p <lab package>",
        dest.display()
    );
    Ok(())
}

fn run_exercises() -> Result<(), String> {
    let regions = workspace::regions(&workspace::root()).map_err(|e| e.to_string())?;
    for region in regions {
        println!(
            "{:<32} {}:{}\n{:<32} hint: {}",
            region.id,
            region.file.display(),
            region.open_line,
            "",
            region.hint
        );
    }
    Ok(())
}

fn run_check(args: &[String]) -> Result<(), String> {
    let lab = lab_option(args)?;
    let progress = check::check(&workspace::root(), lab)?;
    print!("{}", progress.render());
    if progress.all_done() {
        Ok(())
    } else {
        Err("some exercises are still to do".into())
    }
}

fn run_hint(args: &[String]) -> Result<(), String> {
    let id = args
        .first()
        .ok_or("hint: give an exercise id, e.g. `cargo xtask hint objects-quantity` (see `cargo xtask exercises`)")?;
    print!("{}", check::hint(&workspace::root(), id)?);
    Ok(())
}

fn run_grade(args: &[String]) -> Result<(), String> {
    let root = workspace::root();
    let submission = match option_value(args, "--submission")? {
        Some(dir) => PathBuf::from(dir),
        None => root.clone(),
    };
    let repeat = match option_value(args, "--repeat")? {
        Some(k) => k
            .parse()
            .ok()
            .filter(|k| *k >= 1)
            .ok_or_else(|| format!("--repeat: `{k}` is not a positive number"))?,
        None => 1,
    };
    // A reference checkout restores protected files from itself; a starter from the
    // originals it saved when it was written.
    let originals = if root.join(starter::MANIFEST).exists() {
        root.join(starter::ORIGINALS)
    } else {
        root.clone()
    };
    let options = grade::Options {
        submission,
        reference: root.clone(),
        originals,
        labs: lab_option(args)?.into_iter().collect(),
        repeat,
        hidden: option_value(args, "--hidden")?.map(PathBuf::from),
        work_dir: root.join("target/grade/work"),
        target_dir: root.join("target/grade/target"),
        variant: 0,
    };
    eprintln!(
        "Grading {} (a copy in {}) ...",
        options.submission.display(),
        options.work_dir.display()
    );
    let report = grade::grade(&options)?;
    let text = match option_value(args, "--format")?.map(String::as_str) {
        None | Some("md") => report.markdown(),
        Some("json") => report.json(),
        Some("junit") => report.junit(),
        Some(other) => return Err(format!("--format: `{other}` is not one of md, json, junit")),
    };
    match option_value(args, "--out")? {
        Some(file) => std::fs::write(file, text).map_err(|e| format!("--out {file}: {e}"))?,
        None => print!("{text}"),
    }
    Ok(())
}

fn run_bench(args: &[String]) -> Result<(), String> {
    let root = workspace::root();
    let benches = bench::find(&root, lab_option(args)?)?;
    if benches.is_empty() {
        return Err("no benchmark binaries (`labs/*/src/bin/*-bench.rs`) found".into());
    }
    println!("# skiff benchmarks (release builds, this machine)");
    let failed = bench::run(&root, &benches);
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("benchmarks failed: {}", failed.join(", ")))
    }
}

/// `cargo xtask chaos`: the `skiff-chaos` binary of lab 09, in release mode, with the
/// options checked here so a typo fails before the build.
fn run_chaos(args: &[String]) -> Result<(), String> {
    let mut forwarded = Vec::new();
    for flag in ["--seeds", "--from", "--seed"] {
        if let Some(value) = option_value(args, flag)? {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: `{value}` is not a whole number"))?;
            forwarded.extend([flag.to_string(), value.clone()]);
        }
    }
    let known = ["--seeds", "--from", "--seed"];
    let mut i = 0;
    while i < args.len() {
        if !known.contains(&args[i].as_str()) {
            return Err(format!("chaos: unknown option `{}`\n\n{USAGE}", args[i]));
        }
        i += 2;
    }
    let status =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(workspace::root())
            .args([
                "run",
                "--quiet",
                "--release",
                "-p",
                "skiff",
                "--bin",
                "skiff-chaos",
                "--",
            ])
            .args(&forwarded)
            .status()
            .map_err(|e| format!("running cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("chaos: some seeds failed (each is printed above with its replay command)".into())
    }
}

fn lab_option(args: &[String]) -> Result<Option<u32>, String> {
    option_value(args, "--lab")?
        .map(|n| {
            n.parse()
                .map_err(|_| format!("--lab: `{n}` is not a lab number"))
        })
        .transpose()
}

/// The value after `--name`, if the flag is present.
fn option_value<'a>(args: &'a [String], name: &str) -> Result<Option<&'a String>, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => args
            .get(i + 1)
            .map(Some)
            .ok_or_else(|| format!("{name} needs a value")),
    }
}
