//! The headless browser the HTML report tests drive: the system Chromium (scripts/install-browser)
//! through puppeteer-core, pinned in tests/data/html-npm/ and installed with `npm ci` once per
//! target directory (as the Python parsers are, python.rs), and tests/data/check_html.js, which
//! opens a page and prints what it saw as JSON.

use super::pinned::{installed_once, npm_ci, npm_pins};
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

/// `npm ci` of the pinned package.json and package-lock.json in tests/data/`pins`/, into a
/// directory of the target's temporary directory, once: its `node_modules` parent.
pub fn npm_packages(pins: &str) -> PathBuf {
    installed_once(pins, &npm_pins(pins), |staging| npm_ci(pins, staging))
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
