//! Hostile input at the parsing boundary: every file plumb reads may be written by an attacker (a
//! manifest in a pull request, a snapshot, a policy). Each must end in a clear error with exit 2
//! (or 3 for a tool's output), never a crash, a hang, a silently changed meaning, or a leak.

mod support;

use clap::Parser;
use plumb::limits::MAX_DEPTH;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;
use std::time::Duration;
use support::{Repo, tool};

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
            plumb::app::run(cli)
                .unwrap_or_else(|e| panic!("plumb failed: {e}"))
                .code()
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
                "compare",
                &path("left.yaml"),
                &path("right.json"),
                "--policy",
                &path("deep.yaml"),
                "--report",
                &format!("{format}={}", path("report")),
            ]
            .map(String::from)
            .to_vec(),
        );
        assert_eq!(code, 1, "{format}: the deep difference is denied");
    }
    let json_report = {
        run_on_small_stack(
            [
                "plumb",
                "-q",
                "compare",
                &path("left.yaml"),
                &path("right.json"),
                "--policy",
                &path("deep.yaml"),
                "--report",
                &format!("json={}", path("report.json")),
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
            "render",
            "dev",
            "--out-dir",
            &path("rendered"),
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
            "drift",
            "dev",
            "--live",
            &path("live.json"),
            "--report",
            &format!("json={}", path("drift.json")),
        ]
        .map(String::from)
        .to_vec(),
    );
    assert_eq!(code, 1, "the deep drift is denied");
}

/// A YAML value nested `containers` deep in block style (`k:` and `- ` alternating), as a
/// hand-written file would be: the form that overflowed the parser's stack.
fn nested_block(containers: usize, indent: usize) -> String {
    let mut text = String::new();
    for level in 0..containers {
        let pad = " ".repeat(indent + 2 * level);
        text.push_str(&if level % 2 == 0 {
            format!("{pad}k:\n")
        } else {
            format!("{pad}-\n")
        });
    }
    text.push_str(&format!("{}1\n", " ".repeat(indent + 2 * containers)));
    text
}

/// A ConfigMap whose `data` is nested 600 deep, its nesting starting at line 5.
fn deep_manifest() -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: deep}}\ndata:\n{}",
        nested_block(600, 2)
    )
}

const CONFIG: &str = "version: 1\nenvironments:\n  staging:\n    namespace: shop\n    sources:\n      - manifests: envs/staging\n    live:\n      snapshot: live/staging.json\n  production:\n    namespace: shop\n    sources:\n      - manifests: envs/production\n    live:\n      snapshot: live/production.json\nparity:\n  - between: [staging, production]\npolicies: [policies/]\n";

const CONFIG_MAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {a: \"1\"}\n";

const EMPTY_LIST: &str =
    "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"metadata\": {}, \"items\": []}\n";

/// A repository with two environments, live state in files and a policy: every command runs.
fn shop() -> Repo {
    let repo = Repo::new();
    repo.write("plumb.yaml", CONFIG)
        .write("envs/staging/app.yaml", CONFIG_MAP)
        .write("envs/production/app.yaml", CONFIG_MAP)
        .write("live/staging.json", EMPTY_LIST)
        .write("live/production.json", EMPTY_LIST)
        .write(
            "policies/p.yaml",
            "version: 1\nrules:\n  - id: r\n    paths: [data.a]\n    action: deny\n",
        );
    repo.commit("shop");
    repo
}

fn run(repo: &Repo, args: &[&str]) -> Output {
    repo.plumb()
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Exit 2 and an error that says `says`.
fn bad_input(output: &Output, says: &[&str]) -> String {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    for s in says {
        assert!(err.contains(s), "expected {s:?} in:\n{err}");
    }
    err
}

const COMMANDS: [&[&str]; 5] = [
    &["render", "staging"],
    &["drift", "staging"],
    &["parity", "staging", "production"],
    &["audit"],
    &["diff", "--base", "HEAD"],
];

#[test]
fn deep_nesting_in_git_is_bad_input_on_every_command() {
    let repo = shop();
    repo.write("envs/staging/deep.yaml", &deep_manifest());
    repo.commit("deep");
    let too_deep = format!("nested more than {MAX_DEPTH} levels deep");
    for args in COMMANDS {
        let output = run(&repo, args);
        bad_input(&output, &["envs/staging/deep.yaml:", &too_deep]);
    }
    // On disk (`compare`) and as live state.
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("deep.yaml");
    std::fs::write(&deep, deep_manifest()).unwrap();
    let deep_arg = deep.display().to_string();
    let output = run(&repo, &["compare", &deep_arg, &deep_arg]);
    bad_input(&output, &[&format!("{deep_arg}:"), &too_deep]);
    let live = dir.path().join("live.yaml");
    std::fs::write(
        &live,
        format!(
            "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {{name: app}}\n    data:\n{}",
            nested_block(600, 6)
        ),
    )
    .unwrap();
    let live_arg = live.display().to_string();
    let output = run(&shop(), &["drift", "staging", "--live", &live_arg]);
    bad_input(&output, &[&format!("{live_arg}:"), &too_deep]);
}

#[test]
fn deep_nesting_in_config_policies_and_policy_tests_is_bad_input() {
    let too_deep = format!("nested more than {MAX_DEPTH} levels deep");
    let repo = shop();
    // A policy file has no free-form value: its parser stops at the first level of the wrong type.
    repo.write(
        "policies/p.yaml",
        &format!("version: 1\nrules:\n{}", nested_block(600, 2)),
    );
    let output = run(&repo, &["policy", "lint"]);
    bad_input(&output, &["policies/p.yaml:"]);
    repo.write(
        "tests/t.yaml",
        &format!(
            "version: 1\ncases:\n  - name: a\n    object:\n{}",
            nested_block(600, 6)
        ),
    );
    let output = run(&repo, &["policy", "test", "tests/t.yaml"]);
    bad_input(&output, &["tests/t.yaml:", &too_deep]);
    // `set:` takes any value.
    repo.write(
        "plumb.yaml",
        &CONFIG.replace(
            "      - manifests: envs/staging\n",
            &format!(
                "      - manifests: envs/staging\n      - helm:\n          chart: c\n          set:\n{}",
                nested_block(600, 12)
            ),
        ),
    );
    let output = run(&repo, &["drift", "staging"]);
    bad_input(&output, &["plumb.yaml:", &too_deep]);
}

#[test]
fn a_duplicate_key_is_bad_input_in_every_file_plumb_reads() {
    // In a manifest: the second `a` would hide the first.
    let repo = shop();
    repo.write(
        "envs/staging/app.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata:\n  a: \"1\"\n  a: \"2\"\n",
    );
    repo.commit("duplicate");
    let output = run(&repo, &["drift", "staging"]);
    bad_input(
        &output,
        &["envs/staging/app.yaml:6:", "the key `a` is written twice"],
    );
    // In a policy file: `action: deny` then `action: ignore` would hide the drift.
    let repo = shop();
    repo.write(
        "policies/p.yaml",
        "version: 1\nrules:\n  - id: r\n    paths: [data.a]\n    action: deny\n    action: ignore\n",
    );
    let output = run(&repo, &["drift", "staging"]);
    bad_input(
        &output,
        &["policies/p.yaml:6:", "the key `action` is written twice"],
    );
    // In plumb.yaml: a second `policies:` would replace the first.
    let repo = shop();
    repo.write("plumb.yaml", &format!("{CONFIG}policies: []\n"));
    let output = run(&repo, &["drift", "staging"]);
    bad_input(
        &output,
        &["plumb.yaml:18:", "the key `policies` is written twice"],
    );
    // In a policy test, and in a live file (JSON).
    let repo = shop();
    repo.write(
        "tests/t.yaml",
        "version: 1\ncases:\n  - name: a\n    object: {kind: ConfigMap}\n    expect: {}\n    expect: {}\n",
    );
    let output = run(&repo, &["policy", "test", "tests/t.yaml"]);
    bad_input(
        &output,
        &["tests/t.yaml:6:", "the key `expect` is written twice"],
    );
    repo.write(
        "live/staging.json",
        "{\"apiVersion\": \"v1\", \"kind\": \"List\",\n \"items\": [],\n \"items\": [{}]}\n",
    );
    let output = run(&repo, &["drift", "staging"]);
    bad_input(
        &output,
        &["live/staging.json:3:", "the key `items` is written twice"],
    );
}

#[test]
fn a_duplicate_key_in_helm_output_is_a_render_error_not_bad_input() {
    let repo = Repo::new();
    repo.write(
        "plumb.yaml",
        "version: 1\nenvironments:\n  dev:\n    namespace: shop\n    sources:\n      - helm: {chart: chart}\n      - manifests: app.yaml\n    live: {snapshot: live.json}\n",
    )
    .write("app.yaml", CONFIG_MAP)
    .write("live.json", EMPTY_LIST)
    .write("chart/Chart.yaml", "apiVersion: v2\nname: chart\nversion: 0.1.0\n")
    .write(
        "chart/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rendered\ndata:\n  a: \"1\"\n  a: \"2\"\n",
    );
    repo.commit("chart");
    let output = repo
        .plumb()
        .env("PLUMB_HELM", tool("helm4"))
        .args(["drift", "dev", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let report = support::stdout_json(&output);
    let errors = report["errors"].as_array().unwrap();
    let render = errors
        .iter()
        .find(|e| e["kind"] == "render")
        .unwrap_or_else(|| panic!("no render error: {report:#}"));
    assert_eq!(render["source"], "helm: chart", "{render:#}");
    let message = render["message"].as_str().unwrap();
    assert!(
        message.contains("the key `a` is written twice"),
        "{message}"
    );
    assert!(message.contains("chart/templates/cm.yaml"), "{message}");
}

#[test]
fn an_alias_bomb_is_refused_in_plain_words() {
    let mut bomb = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\nx:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for (previous, name) in "abcdefgh".chars().zip("bcdefghi".chars()) {
        let uses = vec![format!("*{previous}"); 9].join(", ");
        bomb.push_str(&format!("  {name}: &{name} [{uses}]\n"));
    }
    let repo = shop();
    repo.write("envs/staging/bomb.yaml", &bomb);
    repo.commit("bomb");
    let output = run(&repo, &["drift", "staging"]);
    let err = bad_input(
        &output,
        &[
            "envs/staging/bomb.yaml:",
            &format!(
                "aliases here expand to more than {} values",
                plumb::limits::MAX_YAML_ALIAS_EXPANSION
            ),
        ],
    );
    assert!(
        !err.contains("RecordedAnchorEvents"),
        "no debug struct: {err}"
    );
}

#[test]
fn a_name_yaml_reads_as_a_boolean_is_called_so() {
    let repo = shop();
    repo.write(
        "envs/staging/app.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n",
    );
    repo.commit("y");
    let output = run(&repo, &["drift", "staging"]);
    let err = bad_input(
        &output,
        &[
            "envs/staging/app.yaml:1:",
            "metadata.name is a boolean (true), not a string",
            "quote it",
        ],
    );
    assert!(!err.contains("has no metadata.name"), "{err}");
}

/// Makes a FIFO at `path` (nothing ever writes to it: reading it would block forever).
fn fifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.display().to_string()).unwrap();
    // SAFETY: mkfifo reads a NUL-terminated path that lives across the call.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
}

#[test]
fn pipes_and_devices_given_as_files_are_refused_without_hanging() {
    let repo = shop();
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("pipe.yaml");
    fifo(&pipe);
    let manifest = dir.path().join("app.yaml");
    std::fs::write(&manifest, CONFIG_MAP).unwrap();
    let (pipe, manifest) = (pipe.display().to_string(), manifest.display().to_string());
    for input in [pipe.as_str(), "/dev/zero"] {
        let what = if input == "/dev/zero" {
            "a device"
        } else {
            "a named pipe (FIFO)"
        };
        let says = [input, "is not a regular file", what];
        for args in [
            vec!["compare", input, manifest.as_str()],
            vec![
                "compare",
                manifest.as_str(),
                manifest.as_str(),
                "--policy",
                input,
            ],
            vec!["drift", "staging", "--live", input],
            vec!["-c", input, "drift", "staging"],
            vec!["drift", "staging", "--baseline", input],
            vec!["policy", "test", input],
        ] {
            let output = run(&repo, &args);
            bad_input(&output, &says);
        }
    }
}

#[test]
fn a_live_file_without_its_items_is_bad_input_not_an_empty_cluster() {
    let repo = shop();
    for (file, text, says) in [
        (
            "live/staging.json",
            "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"metadata\": {}}\n",
            "missing field `items`",
        ),
        (
            "live/staging.json",
            "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"metadata\": {}, \"itmes\": []}\n",
            "unknown field `itmes`",
        ),
        (
            "live/staging.json",
            "{\"version\": 1, \"kind\": \"PlumbSnapshot\", \"namespaces\": [\"shop\"]}\n",
            "missing field `objects`",
        ),
        (
            "live/staging.json",
            "{\"version\": 1, \"kind\": \"PlumbSnapshot\", \"objects\": [], \"object\": []}\n",
            "unknown field `object`",
        ),
    ] {
        repo.write(file, text);
        let output = run(&repo, &["drift", "staging"]);
        bad_input(&output, &["live/staging.json:1:", says]);
    }
}

const MARKER: &str = "hunter2-MARKER-7f3a";

#[test]
fn a_policy_test_that_does_not_parse_shows_none_of_its_secrets() {
    let repo = shop();
    let secret = format!(
        "version: 1\ncases:\n  - name: secret\n    object:\n      apiVersion: v1\n      kind: Secret\n      metadata: {{name: s}}\n      stringData:\n        password: {MARKER}\n        token: \"{MARKER}"
    );
    for text in [
        // A syntax error on the Secret's lines (an unclosed quote).
        format!("{secret}\n    expect: {{}}\n"),
        // A type error whose value is the secret.
        format!("{secret}\"\n    expect: {{readiness: {MARKER}}}\n"),
        format!("version: {MARKER}\ncases: []\n"),
        format!("{secret}\"\n    expect: {{}}\n    scope: {MARKER}\n"),
    ] {
        repo.write("tests/t.yaml", &text);
        let output = run(&repo, &["policy", "test", "tests/t.yaml"]);
        let err = bad_input(&output, &["tests/t.yaml:"]);
        let out = String::from_utf8_lossy(&output.stdout);
        assert!(
            !err.contains(MARKER) && !out.contains(MARKER),
            "the secret leaked:\n{err}{out}"
        );
    }
    // Nor does a manifest or a live file.
    repo.write(
        "envs/staging/app.yaml",
        &format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ndata: !!int {MARKER}\n"),
    );
    repo.commit("secret");
    repo.write(
        "live/staging.json",
        &format!("{{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": \"{MARKER}\"}}\n"),
    );
    let output = run(&repo, &["render", "staging"]);
    let err = bad_input(&output, &["envs/staging/app.yaml:4:"]);
    assert!(!err.contains(MARKER), "the secret leaked:\n{err}");
    let output = run(&repo, &["drift", "staging", "--ref", "HEAD~1"]);
    let err = bad_input(&output, &["live/staging.json:1:"]);
    assert!(!err.contains(MARKER), "the secret leaked:\n{err}");
}

#[test]
fn policy_files_named_in_plumb_yaml_stay_inside_the_repository() {
    let outside = tempfile::tempdir().unwrap();
    // Reading any of these would hang: the error must come first.
    let pipe = outside.path().join("policy.yaml");
    fifo(&pipe);
    let pipe = pipe.display().to_string();
    let repo = shop();
    std::os::unix::fs::symlink(&pipe, repo.path().join("policies/linked.yaml")).unwrap();
    std::os::unix::fs::symlink(outside.path(), repo.path().join("elsewhere")).unwrap();
    let escape = format!(
        "../{}/policy.yaml",
        outside.path().file_name().unwrap().to_string_lossy()
    );
    for (entry, says) in [
        (pipe.as_str(), "is an absolute path"),
        (escape.as_str(), "leaves the repository"),
        ("policies/", "resolves through a link to"),
        ("elsewhere/policy.yaml", "resolves through a link to"),
    ] {
        repo.write(
            "plumb.yaml",
            &CONFIG.replace(
                "policies: [policies/]",
                &format!("policies:\n  - builtin:noise\n  - \"{entry}\""),
            ),
        );
        let output = run(&repo, &["drift", "staging"]);
        bad_input(
            &output,
            &[
                "plumb.yaml:19:",
                &format!("the policy entry `{entry}` {says}"),
            ],
        );
    }
    // On the command line, a policy file may be anywhere.
    let policy = outside.path().join("p.yaml");
    std::fs::write(&policy, "version: 1\nrules: []\n").unwrap();
    let manifest = repo
        .path()
        .join("envs/staging/app.yaml")
        .display()
        .to_string();
    let output = run(
        &repo,
        &[
            "compare",
            &manifest,
            &manifest,
            "--policy",
            &policy.display().to_string(),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}
