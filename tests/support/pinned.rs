//! Tools the tests install themselves from pinned files in tests/data (Python packages, npm
//! packages): each into a directory of the target's temporary directory named after a hash of its
//! pins, once — a new pin installs anew — staged beside it and renamed into place, so test
//! binaries installing at the same time never see half an install.

use super::python::data;
use std::path::{Path, PathBuf};
use std::process::Command;

/// FNV-1a of the pinned files' contents.
fn fingerprint(files: &[PathBuf]) -> u64 {
    files
        .iter()
        .flat_map(|f| std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())))
        .fold(0xcbf29ce484222325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
        })
}

/// The directory `install` filled for these `pins`, installing it on first use.
pub fn installed_once(name: &str, pins: &[PathBuf], install: impl FnOnce(&Path)) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{:016x}", fingerprint(pins)));
    if dir.join(".complete").is_file() {
        return dir;
    }
    let staging = dir.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).unwrap();
    install(&staging);
    std::fs::write(staging.join(".complete"), "").unwrap();
    // Another test binary may have finished first: either copy will do.
    if std::fs::rename(&staging, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    assert!(dir.join(".complete").is_file());
    dir
}

/// Runs an install step, failing the test with what to do when it cannot.
pub fn install_step(what: &str, command: &mut Command) {
    let output = command.output().unwrap_or_else(|e| {
        panic!("{what}: cannot run {command:?} ({e}); install it (python3 with pip, node with npm) and run the tests again")
    });
    assert!(
        output.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The package.json and package-lock.json of tests/data/`pins`/.
pub fn npm_pins(pins: &str) -> [PathBuf; 2] {
    [
        data(&format!("{pins}/package.json")),
        data(&format!("{pins}/package-lock.json")),
    ]
}

/// `npm ci` of tests/data/`pins`/ into `into` (its `node_modules` parent), no install scripts.
pub fn npm_ci(pins: &str, into: &Path) {
    std::fs::create_dir_all(into).unwrap();
    for file in npm_pins(pins) {
        std::fs::copy(&file, into.join(file.file_name().unwrap())).unwrap();
    }
    install_step(
        &format!("npm ci in tests/data/{pins}"),
        Command::new("npm")
            .args([
                "ci",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                "--prefix",
            ])
            .arg(into)
            // puppeteer-core never downloads a browser; this says so to any install step too.
            .env("PUPPETEER_SKIP_DOWNLOAD", "1"),
    );
}

/// `pip install` of the pinned requirements file tests/data/`requirements` into `into`, no
/// dependency resolved beyond the file, wheels only.
pub fn pip_install(requirements: &str, into: &Path, require_hashes: bool) {
    let mut command = Command::new("python3");
    command
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--no-deps",
            "--only-binary=:all:",
        ])
        .args(require_hashes.then_some("--require-hashes"))
        .arg("--target")
        .arg(into)
        .arg("-r")
        .arg(data(requirements));
    install_step(
        &format!("pip install -r tests/data/{requirements}"),
        &mut command,
    );
}
