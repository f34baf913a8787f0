//! The headless browser the HTML report tests drive: the system Chromium (scripts/install-browser)
//! through puppeteer-core, pinned in tests/data/html-npm/ and installed with `npm ci` once per
//! target directory (as the Python parsers are, python.rs), and tests/data/check_html.js, which
//! opens a page and prints what it saw as JSON.

use super::python::data;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The Chromium binary: `PLUMB_TEST_CHROMIUM`, else `chromium` on PATH. A missing browser fails
/// the test, naming the script that installs it: browser tests never skip.
pub fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("PLUMB_TEST_CHROMIUM") {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "chromium is missing: run scripts/install-browser (scripts/test does), or set PLUMB_TEST_CHROMIUM"
            )
        })
}

/// FNV-1a of the pinned files: a new pin installs into a new directory.
fn fingerprint(files: &[PathBuf]) -> u64 {
    files
        .iter()
        .flat_map(|f| std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())))
        .fold(0xcbf29ce484222325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
        })
}

/// `npm ci` of the pinned package.json and package-lock.json in tests/data/`pins`/, into a
/// directory of the target's temporary directory, once: its `node_modules` parent.
pub fn npm_packages(pins: &str) -> PathBuf {
    let files = [
        data(&format!("{pins}/package.json")),
        data(&format!("{pins}/package-lock.json")),
    ];
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{pins}-{:016x}", fingerprint(&files)));
    if dir.join(".complete").is_file() {
        return dir;
    }
    let staging = dir.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).unwrap();
    for file in &files {
        std::fs::copy(file, staging.join(file.file_name().unwrap())).unwrap();
    }
    let output = Command::new("npm")
        .args([
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--prefix",
        ])
        .arg(&staging)
        // puppeteer-core never downloads a browser; this says so to any install step too.
        .env("PUPPETEER_SKIP_DOWNLOAD", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run npm ({e}): install node and npm"));
    assert!(
        output.status.success(),
        "npm ci in tests/data/{pins} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(staging.join(".complete"), "").unwrap();
    // Another test binary may have finished first: either copy will do.
    if std::fs::rename(&staging, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    assert!(dir.join(".complete").is_file());
    dir
}

/// puppeteer-core, installed on first use.
fn puppeteer() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| npm_packages("html-npm"))
}

/// Opens `page` in Chromium with tests/data/check_html.js and returns what it saw. `options`
/// are the script's (filter text, a toggle, screenshots, texts to look for).
pub fn check_html(page: &Path, mut options: Value) -> Value {
    options["chromium"] = Value::String(chromium().to_string_lossy().into_owned());
    let output = Command::new("node")
        .arg(data("check_html.js"))
        .arg(page)
        .arg(options.to_string())
        .env("NODE_PATH", puppeteer().join("node_modules"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): install node"));
    assert!(
        output.status.success(),
        "check_html.js failed on {}:\n{}",
        page.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "check_html.js printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}
