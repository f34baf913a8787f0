//! The pinned Python packages the tests read plumb's output back with (tests/data/
//! python-requirements.txt), and tests/data/check_formats.py, which runs them.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A file of tests/data.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The directory holding the pinned Python packages, installed on first use.
pub fn python_packages() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        super::pinned::installed_once("python", &[data("python-requirements.txt")], |staging| {
            super::pinned::pip_install("python-requirements.txt", staging, false)
        })
    })
}

/// A YAML file's single document as JSON, read by serde-saphyr as plumb reads it, for the
/// validator (so Python needs no YAML parser).
pub fn yaml_to_json(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap()
}

/// Validates each instance against `schema` with python-jsonschema's Draft202012Validator, after
/// checking the schema itself against the draft's metaschema (a bad schema fails the test).
/// Returns each instance's errors by name (empty: valid).
pub fn json_schema_errors(
    schema: &Value,
    instances: &[(String, Value)],
) -> BTreeMap<String, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let schema_path = dir.path().join("schema.json");
    std::fs::write(&schema_path, schema.to_string()).unwrap();
    let mut command = std::process::Command::new("python3");
    command
        .arg(data("check_formats.py"))
        .arg("jsonschema")
        .arg(&schema_path);
    let mut names = BTreeMap::new();
    for (index, (name, instance)) in instances.iter().enumerate() {
        let path = dir.path().join(format!("{index}.json"));
        std::fs::write(&path, instance.to_string()).unwrap();
        names.insert(path.display().to_string(), name.clone());
        command.arg(&path);
    }
    let output = command
        .env("PYTHONPATH", python_packages())
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "check_formats.py jsonschema failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let by_path: BTreeMap<String, Vec<String>> = serde_json::from_slice(&output.stdout).unwrap();
    by_path
        .into_iter()
        .map(|(path, errors)| (names[&path].clone(), errors))
        .collect()
}
