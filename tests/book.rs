//! The book builds, and a broken one fails `cargo test` with a message naming the chapter.

use std::fs;
use std::path::Path;

mod support;

use support::{root, scratch};
use xtask::book;

#[test]
fn the_book_builds_with_every_include_and_link_resolved() {
    let built = book::build(&root()).unwrap_or_else(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        panic!("the book is broken:\n{}", lines.join("\n"))
    });
    assert!(
        built.chapters >= 5,
        "only {} chapters were built",
        built.chapters
    );
    assert!(built.includes > 0, "no chapter includes code from the labs");
    assert!(built.output.join("index.html").exists());
    assert!(built.output.join("print.html").exists());
}

/// A miniature workspace with one chapter that includes one anchor from one lab file.
fn tiny_book(dir: &Path, source: &str) {
    fs::create_dir_all(dir.join("book")).unwrap();
    fs::create_dir_all(dir.join("labs/00-demo/src")).unwrap();
    fs::write(
        dir.join("book/SUMMARY.md"),
        "# Summary\n\n- [Demo](demo.md)\n- [Planned]()\n",
    )
    .unwrap();
    fs::write(
        dir.join("book/demo.md"),
        "# Demo\n\n```rust\n{{#include ../labs/00-demo/src/lib.rs:answer}}\n```\n",
    )
    .unwrap();
    fs::write(dir.join("labs/00-demo/src/lib.rs"), source).unwrap();
}

#[test]
fn a_deleted_anchor_names_the_chapter_and_the_anchor() {
    let dir = scratch("book-missing-anchor");
    tiny_book(
        &dir,
        "// ANCHOR: answer\npub const ANSWER: u32 = 42;\n// ANCHOR_END: answer\n",
    );
    assert_eq!(book::check_includes(&dir, Path::new("demo.md")), Ok(1));

    fs::write(
        dir.join("labs/00-demo/src/lib.rs"),
        "pub const ANSWER: u32 = 42;\n",
    )
    .unwrap();
    let errors = book::check_includes(&dir, Path::new("demo.md")).unwrap_err();
    let message = errors[0].to_string();
    assert!(message.contains("chapter demo.md"), "{message}");
    assert!(message.contains("anchor `answer`"), "{message}");
}

#[test]
fn a_missing_include_file_names_the_chapter_and_the_file() {
    let dir = scratch("book-missing-file");
    tiny_book(&dir, "");
    fs::remove_file(dir.join("labs/00-demo/src/lib.rs")).unwrap();
    let errors = book::check_includes(&dir, Path::new("demo.md")).unwrap_err();
    let message = errors[0].to_string();
    assert!(message.contains("chapter demo.md"), "{message}");
    assert!(message.contains("../labs/00-demo/src/lib.rs"), "{message}");
    assert!(message.contains("does not exist"), "{message}");
}

#[test]
fn a_broken_internal_link_fails_the_build_naming_the_chapter() {
    let dir = scratch("book-broken-link");
    tiny_book(&dir, "// ANCHOR: answer\n// ANCHOR_END: answer\n");
    fs::write(
        dir.join("book.toml"),
        "[book]\ntitle = \"t\"\nsrc = \"book\"\n\n[build]\nbuild-dir = \"target/book\"\n",
    )
    .unwrap();
    let demo = dir.join("book/demo.md");
    let mut text = fs::read_to_string(&demo).unwrap();
    text.push_str("\nSee [the missing page](missing.md) and [a heading](#no-such-heading).\n");
    fs::write(&demo, text).unwrap();
    let errors = book::build(&dir).unwrap_err();
    let messages: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("chapter demo.md") && m.contains("missing.html")),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("no id `no-such-heading`")),
        "{messages:#?}"
    );
}
