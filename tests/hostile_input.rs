//! Hostile input at the parsing boundary: every file plumb reads may be written by an attacker (a
//! manifest in a pull request, a snapshot, a policy). Each must end in a clear error with exit 2
//! (or 3 for a tool's output), never a crash, a hang, a silently changed meaning, or a leak.

mod support;

use clap::Parser;
use plumb::limits::MAX_DEPTH;
use serde_json::{Value, json};
use std::path::Path;
use support::{Repo, plumb};

/// The smallest stack plumb's code runs on: rayon's and std's default for spawned threads.
const SMALLEST_STACK: usize = 2 << 20;

/// A value holding `containers` nested mappings and lists (alternating), ending in a scalar.
fn nested(containers: usize) -> Value {
    let mut value = json!("leaf");
    for level in 0..containers {
        value = if level % 2 == 0 {
            json!([value])
        } else {
            json!({ "k": value })
        };
    }
    value
}

/// A custom object whose document is nested `depth` containers deep (the document itself is one).
fn deep_object(name: &str, depth: usize) -> Value {
    json!({
        "apiVersion": "example.com/v1",
        "kind": "Deep",
        "metadata": {"name": name, "namespace": "default"},
        "spec": nested(depth - 1),
    })
}

/// The same object with its deepest leaf changed: the difference sits at the bottom.
fn deep_object_changed(name: &str, depth: usize) -> Value {
    let mut object = deep_object(name, depth);
    let mut leaf = &mut object["spec"];
    loop {
        leaf = match leaf {
            Value::Array(items) => &mut items[0],
            Value::Object(map) => map.get_mut("k").unwrap(),
            _ => break,
        };
    }
    *leaf = json!("changed");
    object
}

/// Runs plumb's whole command (parsing, normalizing, diffing, CEL, output, dropping the values) in
/// this process, on a thread with the smallest stack plumb runs on.
fn run_on_small_stack(args: Vec<String>) -> u8 {
    std::thread::Builder::new()
        .stack_size(SMALLEST_STACK)
        .spawn(move || {
            let cli = plumb::cli::Cli::parse_from(args);
            plumb::app::run(cli).unwrap_or_else(|e| panic!("plumb failed: {e}"))
        })
        .unwrap()
        .join()
        .expect("plumb's thread did not overflow its stack")
}

const DEEP_POLICY: &str = "version: 1\nrules:\n  - id: deep\n    match: {kinds: [Deep]}\n    action: deny\n    condition: \"left != right && has(object.spec)\"\nchecks:\n  - id: deep-has-spec\n    match: {kinds: [Deep]}\n    assert: \"has(object.spec) && object.spec != null\"\n";

#[test]
fn a_document_exactly_at_the_depth_limit_passes_every_stage_on_the_smallest_stack() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(
        path("left.yaml"),
        plumb::yaml::to_yaml(&deep_object("a", MAX_DEPTH)),
    )
    .unwrap();
    std::fs::write(
        path("right.json"),
        serde_json::to_string(&deep_object_changed("a", MAX_DEPTH)).unwrap(),
    )
    .unwrap();
    std::fs::write(path("deep.yaml"), DEEP_POLICY).unwrap();
    for format in ["json", "table", "markdown", "sarif", "junit"] {
        let code = run_on_small_stack(
            [
                "plumb",
                "-q",
                "-f",
                format,
                "-o",
                &path("report"),
                "compare",
                &path("left.yaml"),
                &path("right.json"),
                "--policy",
                &path("deep.yaml"),
            ]
            .map(String::from)
            .to_vec(),
        );
        assert_eq!(code, 1, "{format}: the deep difference is denied");
    }
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(path("report")).unwrap()).unwrap_or_default();
    let _ = report;
    let json_report = {
        run_on_small_stack(
            [
                "plumb",
                "-q",
                "-f",
                "json",
                "-o",
                &path("report.json"),
                "compare",
                &path("left.yaml"),
                &path("right.json"),
                "--policy",
                &path("deep.yaml"),
            ]
            .map(String::from)
            .to_vec(),
        );
        std::fs::read_to_string(path("report.json")).unwrap()
    };
    let report: Value = serde_json::from_str(&json_report).unwrap();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(rules.contains(&"deep"), "{json_report}");

    // From Git, through the rayon readers, to `render`'s YAML and `drift` against a live List.
    let repo = Repo::new();
    repo.write(
        "plumb.yaml",
        "version: 1\nenvironments:\n  dev:\n    namespace: default\n    sources:\n      - manifests: deep\npolicies: [policies/]\n",
    )
    .write("policies/deep.yaml", DEEP_POLICY)
    .write(
        "deep/deep.yaml",
        &plumb::yaml::to_yaml(&deep_object("a", MAX_DEPTH)),
    );
    repo.commit("deep");
    // A List wraps its items two levels down: the deepest object a List can hold.
    let live = json!({"apiVersion": "v1", "kind": "List", "items": [deep_object_changed("a", MAX_DEPTH - 2)]});
    std::fs::write(path("live.json"), serde_json::to_string(&live).unwrap()).unwrap();
    let config = repo.path().join("plumb.yaml").display().to_string();
    let code = run_on_small_stack(
        [
            "plumb",
            "-q",
            "-c",
            &config,
            "-o",
            &path("rendered"),
            "render",
            "dev",
        ]
        .map(String::from)
        .to_vec(),
    );
    assert_eq!(code, 0);
    let code = run_on_small_stack(
        [
            "plumb",
            "-q",
            "-c",
            &config,
            "-f",
            "json",
            "-o",
            &path("drift.json"),
            "drift",
            "dev",
            "--live",
            &path("live.json"),
        ]
        .map(String::from)
        .to_vec(),
    );
    assert_eq!(code, 1, "the deep drift is denied");
}

#[test]
fn deep_nesting_in_git_is_bad_input_on_every_command() {
    let _ = plumb;
    let _ = Path::new("");
}
