//! What `cargo package` would publish: everything the build reads, and none of the repository's
//! test data, tools or CI files. The files the build needs are found by scanning the sources for
//! `include_str!`/`include_bytes!`, so a new embedded file that Cargo.toml's `include` misses fails
//! here rather than in a `cargo install` from crates.io.

use std::path::{Component, Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `cargo package --list --locked --allow-dirty`: the crate's files, relative to the root.
fn packaged_files() -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args(["package", "--list", "--locked", "--allow-dirty"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo package --list failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Every `.rs` file under `dir`.
fn rust_sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// `a/b/../c` as `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The files `include_str!("…")` and `include_bytes!("…")` name in src/ and build.rs, relative to
/// the root (the macros resolve a path against the file they are in).
fn embedded_files() -> Vec<String> {
    let mut sources = rust_sources(&root().join("src"));
    sources.push(root().join("build.rs"));
    let mut embedded = Vec::new();
    for source in sources {
        let text = std::fs::read_to_string(&source).unwrap();
        for macro_name in ["include_str!(", "include_bytes!("] {
            for (at, _) in text.match_indices(macro_name) {
                let rest = text[at + macro_name.len()..].trim_start();
                let Some(literal) = rest.strip_prefix('"') else {
                    continue; // a path built by concat!/env!: not in this crate's sources today
                };
                let relative = &literal[..literal.find('"').unwrap()];
                let file = normalize(&source.parent().unwrap().join(relative));
                let file = file.strip_prefix(root()).unwrap_or_else(|_| {
                    panic!("{} embeds {relative}, outside the crate", source.display())
                });
                embedded.push(file.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    embedded.sort();
    embedded.dedup();
    embedded
}

#[test]
fn the_crate_holds_every_file_the_build_reads() {
    let packaged = packaged_files();
    let embedded = embedded_files();
    // The shipped policies are embedded today: a scan finding nothing would check nothing.
    assert!(
        embedded.iter().any(|f| f.starts_with("policies/")),
        "no embedded file found: {embedded:?}"
    );
    let mut needed: Vec<String> = embedded;
    needed.extend(
        [
            "Cargo.toml",
            "Cargo.lock",
            "build.rs",
            "README.md",
            "LICENSE-MIT",
            "LICENSE-APACHE",
        ]
        .map(String::from),
    );
    needed.extend(rust_sources(&root().join("src")).iter().map(|f| {
        f.strip_prefix(root())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/")
    }));
    let missing: Vec<&String> = needed.iter().filter(|f| !packaged.contains(f)).collect();
    assert!(missing.is_empty(), "not in the crate: {missing:?}");
}

#[test]
fn the_crate_holds_no_tests_fixtures_tools_or_ci_files() {
    let packaged = packaged_files();
    let forbidden = [
        "tests/",
        "fixtures/",
        ".tools/",
        "target/",
        "scripts/",
        ".github/",
    ];
    let stray: Vec<&String> = packaged
        .iter()
        .filter(|f| forbidden.iter().any(|dir| f.starts_with(dir)))
        .collect();
    assert!(stray.is_empty(), "in the crate but not for it: {stray:?}");
    // The policies' own tests are test data, not something the binary embeds.
    assert!(
        !packaged.iter().any(|f| f.starts_with("policies/tests/")),
        "{packaged:?}"
    );
}
