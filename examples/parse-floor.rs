//! The "parse floor" for plumb's benchmarks: reads and parses every file under the given
//! directories with `plumb::yaml::parse_documents` (the same YAML library and options plumb uses),
//! in parallel with rayon, and does nothing else. No plumb command can be faster than this on the
//! same files, so `scripts/bench` reports every tool's time as a ratio to it.
//!
//!     cargo run --release --example parse-floor -- DIR...
//!
//! Prints the number of documents parsed. Hidden files and directories (such as `.git`) are
//! skipped; a file that is not UTF-8 or does not parse is an error (exit 2).

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

// The same allocator as the plumb binary, so the floor measures the same parser, not a different
// malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            collect(&entry.path(), out)?;
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn main() -> ExitCode {
    let dirs: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if dirs.is_empty() {
        eprintln!("usage: parse-floor DIR...");
        return ExitCode::from(2);
    }
    let mut files = Vec::new();
    for dir in &dirs {
        if let Err(e) = collect(dir, &mut files) {
            eprintln!("parse-floor: {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    let counts: Result<Vec<usize>, String> = files
        .par_iter()
        .map(|path| {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
            let documents =
                plumb::yaml::parse_documents(&text, &name).map_err(|e| e.to_string())?;
            Ok(documents.len())
        })
        .collect();
    match counts {
        Ok(counts) => {
            println!(
                "{} documents in {} files",
                counts.iter().sum::<usize>(),
                files.len()
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("parse-floor: {message}");
            ExitCode::from(2)
        }
    }
}
