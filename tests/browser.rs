//! The book as a reader gets it: built, served over HTTP and opened in headless Chromium.
//!
//! The browser side is a small Node program, `tests/browser/book-test.mjs`, driving the
//! system's Chromium with playwright-core (see its header for what it checks). This test
//! builds the book, runs that program, and cross-checks its list of pages against
//! `book/SUMMARY.md`. Without Chromium, Node or the npm packages it skips with a message
//! saying what to install, except on CI (`CI=true`), where a skipped check would be a lie.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

use support::root;
use xtask::book;

/// Where the screenshots, `report.json` and `pages.tsv` go.
const SCREENSHOT_DIR: &str = "target/browser";

#[test]
fn every_chapter_reads_well_in_a_real_browser() {
    let missing = missing_prerequisites(&root());
    if !missing.is_empty() {
        let message = format!("the browser test needs:\n  - {}", missing.join("\n  - "));
        assert!(
            !on_ci(),
            "{message}\n(CI=true, so this is a failure, not a skip)"
        );
        eprintln!("SKIPPED: {message}");
        return;
    }
    let built = book::build(&root()).unwrap_or_else(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        panic!("the book is broken:\n{}", lines.join("\n"))
    });
    let screenshots = root().join(SCREENSHOT_DIR);
    run_browser_checks(&built.output, &screenshots);
    let checked = read_pages(&screenshots.join("pages.tsv")).unwrap_or_else(|e| panic!("{e}"));
    assert_pages_match_summary(&root(), &checked);
}

/// Runs the Node program and fails with its report unless every check passed.
fn run_browser_checks(book_dir: &Path, screenshots: &Path) {
    let output = Command::new("node")
        .arg(root().join("tests/browser/book-test.mjs"))
        .arg(book_dir)
        .arg(screenshots)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Printed either way: `cargo test -- --nocapture` shows the report of a passing run too.
    println!("{stdout}{stderr}");
    assert!(
        output.status.success(),
        "the browser found problems ({}):\n{stdout}{stderr}",
        output.status
    );
}

/// What this machine lacks to run the browser test, each with the command that installs it.
fn missing_prerequisites(root: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    let chromium = chromium_path();
    if !chromium.exists() {
        missing.push(format!(
            "Chromium at {} (install: apt-get install -y chromium; or set SKIFF_CHROMIUM)",
            chromium.display()
        ));
    }
    let node_runs = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node_runs {
        missing.push("Node.js 18 or later (install: apt-get install -y nodejs npm)".into());
    }
    let package = root.join("tests/browser/node_modules/playwright-core/package.json");
    if !package.exists() {
        missing.push(
            "the npm package playwright-core (install: npm ci --prefix tests/browser)".into(),
        );
    }
    missing
}

/// The Chromium binary; the Node side reads the same variable.
fn chromium_path() -> PathBuf {
    std::env::var_os("SKIFF_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Whether we run on CI, which sets `CI=true` (GitHub Actions, GitLab, `.ci/run`'s callers).
fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false" && value != "0")
}

/// One chapter as the browser saw it.
#[derive(Debug)]
struct CheckedPage {
    /// The HTML page, relative to the book's output directory.
    path: String,
    /// `<pre><code>` blocks in the chapter's `<main>`.
    code_blocks: usize,
}

/// Reads `pages.tsv`: one line per chapter, `path<TAB>code blocks`.
fn read_pages(file: &Path) -> Result<Vec<CheckedPage>, String> {
    let text = fs::read_to_string(file)
        .map_err(|e| format!("the browser wrote no {}: {e}", file.display()))?;
    text.lines()
        .enumerate()
        .map(|(index, line)| {
            let at = format!("{} line {}", file.display(), index + 1);
            let (path, blocks) = line
                .split_once('\t')
                .ok_or_else(|| format!("{at}: expected `path<TAB>code blocks`, got `{line}`"))?;
            let code_blocks = blocks
                .parse()
                .map_err(|e| format!("{at}: code blocks `{blocks}` is not a count: {e}"))?;
            Ok(CheckedPage {
                path: path.to_string(),
                code_blocks,
            })
        })
        .collect()
}

/// The browser found the chapters through the sidebar; they must be exactly SUMMARY's, and
/// each must show at least one code block per fenced block that includes code from the labs.
fn assert_pages_match_summary(root: &Path, checked: &[CheckedPage]) {
    let chapters = book::chapters(root).unwrap_or_else(|e| panic!("{e}"));
    let expected: Vec<String> = chapters
        .iter()
        .map(|c| {
            c.with_extension("html")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    let seen: Vec<&str> = checked.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        seen, expected,
        "the sidebar's chapters differ from book/SUMMARY.md's"
    );
    for (chapter, page) in chapters.iter().zip(checked) {
        let markdown = fs::read_to_string(root.join("book").join(chapter)).expect("read chapter");
        let listings = fenced_blocks_with_includes(&markdown);
        assert!(
            page.code_blocks >= listings,
            "{}: {listings} fenced blocks include code, but the page shows {} code blocks",
            page.path,
            page.code_blocks
        );
    }
}

/// Counts the fenced code blocks (```) whose body has an `{{#include ...}}` directive.
fn fenced_blocks_with_includes(markdown: &str) -> usize {
    let mut count = 0;
    let mut in_fence = false;
    let mut includes_here = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            if in_fence && includes_here {
                count += 1;
            }
            in_fence = !in_fence;
            includes_here = false;
        } else if in_fence && !book::includes(line).is_empty() {
            includes_here = true;
        }
    }
    count
}

#[test]
fn counts_only_fenced_blocks_that_include_code() {
    let markdown = "text {{#include a.rs:x}}\n\n```rust\n{{#include a.rs:x}}\n{{#include a.rs:y}}\n```\n\n```text\nplain\n```\n\n```toml\n{{#include b.toml}}\n```\n";
    assert_eq!(fenced_blocks_with_includes(markdown), 2);
}

#[test]
fn reads_the_page_list_and_names_the_line_of_a_bad_one() {
    let dir = support::scratch("browser-pages-tsv");
    let file = dir.join("pages.tsv");
    fs::write(&file, "index.html\t0\npart1/runtime.html\t24\n").unwrap();
    let pages = read_pages(&file).unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1].path, "part1/runtime.html");
    assert_eq!(pages[1].code_blocks, 24);

    fs::write(&file, "index.html\t0\npart1/runtime.html 24\n").unwrap();
    let error = read_pages(&file).unwrap_err();
    assert!(error.contains("pages.tsv line 2"), "{error}");
    assert!(error.contains("got `part1/runtime.html 24`"), "{error}");

    fs::write(&file, "index.html\tmany\n").unwrap();
    let error = read_pages(&file).unwrap_err();
    assert!(
        error.contains("line 1: code blocks `many` is not a count"),
        "{error}"
    );

    let error = read_pages(&dir.join("absent.tsv")).unwrap_err();
    assert!(error.contains("the browser wrote no"), "{error}");
}
