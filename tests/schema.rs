//! `plumb schema config|policy|policy-test` checked with a real JSON Schema validator
//! (python-jsonschema's Draft202012Validator, tests/data/check_formats.py): each schema is valid
//! draft 2020-12, every plumb.yaml, policy and policy test file of the repository validates, and
//! files plumb rejects for an unknown key or a wrong type are rejected by the schema too.

mod support;

use serde_json::Value;
use std::path::Path;
use support::python::{json_schema_errors, yaml_to_json};
use support::{Repo, plumb, walk};

/// plumb's schema for `kind`, from the binary.
fn schema(kind: &str) -> Value {
    let output = plumb().args(["schema", kind]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "plumb schema {kind}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Which file a YAML document is, from its top-level keys: plumb's own files carry `version`
/// and no `apiVersion` (a Kubernetes Role has `rules:` too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Config,
    Policy,
    PolicyTest,
}

fn kind_of(document: &Value) -> Option<Kind> {
    let object = document.as_object()?;
    if !object.contains_key("version") || object.contains_key("apiVersion") {
        return None;
    }
    if object.contains_key("environments") {
        Some(Kind::Config)
    } else if object.contains_key("cases") {
        Some(Kind::PolicyTest)
    } else if ["rules", "checks", "waivers", "defaults"]
        .iter()
        .any(|k| object.contains_key(*k))
    {
        Some(Kind::Policy)
    } else {
        None
    }
}

/// Every plumb file below fixtures/ and policies/ (shipped policies and their tests), and any
/// plumb.yaml below tests/, found by walking, as JSON.
fn repository_files() -> Vec<(Kind, String, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = walk(&root.join("fixtures"));
    files.extend(walk(&root.join("policies")));
    files.extend(
        walk(&root.join("tests"))
            .into_iter()
            .filter(|p| p.file_name().is_some_and(|n| n == "plumb.yaml")),
    );
    let mut out = Vec::new();
    for path in files {
        let name = path.strip_prefix(root).unwrap().display().to_string();
        if !(name.ends_with(".yaml") || name.ends_with(".yml")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // plumb's files are one document with `version:` at the top; manifests may be several.
        if !text.lines().any(|l| l.starts_with("version:")) || text.contains("\n---") {
            continue;
        }
        let Ok(document) = serde_saphyr::from_str::<Value>(&text) else {
            continue;
        };
        if let Some(kind) = kind_of(&document) {
            out.push((kind, name, document));
        }
    }
    out
}

fn assert_all_valid(kind: &str, instances: &[(String, Value)]) {
    let errors = json_schema_errors(&schema(kind), instances);
    let invalid: Vec<String> = errors
        .iter()
        .filter(|(_, e)| !e.is_empty())
        .map(|(name, e)| format!("{name}:\n  {}", e.join("\n  ")))
        .collect();
    assert!(invalid.is_empty(), "{}", invalid.join("\n"));
}

#[test]
fn every_plumb_file_in_the_repository_is_valid_against_its_schema() {
    let files = repository_files();
    let of = |kind: Kind| -> Vec<(String, Value)> {
        files
            .iter()
            .filter(|(k, ..)| *k == kind)
            .map(|(_, name, value)| (name.clone(), value.clone()))
            .collect()
    };
    let (configs, policies, tests) = (of(Kind::Config), of(Kind::Policy), of(Kind::PolicyTest));
    // A walk that found nothing would check nothing: the fixtures' five configurations, the four
    // shipped policies and the demo's, the shipped policies' tests and the demo's.
    assert!(configs.len() >= 5, "{configs:?}");
    for expected in ["policies/security.yaml", "fixtures/demo/policies/shop.yaml"] {
        assert!(policies.iter().any(|(n, _)| n == expected), "{expected}");
    }
    assert!(
        tests
            .iter()
            .any(|(n, _)| n == "fixtures/demo/policy-tests/shop.yaml")
    );
    assert!(tests.iter().any(|(n, _)| n.starts_with("policies/tests/")));
    assert_all_valid("config", &configs);
    assert_all_valid("policy", &policies);
    assert_all_valid("policy-test", &tests);
}

/// A file plumb rejects and the schema rejects too: the validator's errors for `text`, and plumb's
/// exit code on the same file.
fn rejected_by_both(kind: &str, text: &str) -> (Vec<String>, String) {
    let errors = json_schema_errors(&schema(kind), &[("file".into(), yaml_to_json(text))]);
    let repo = Repo::new();
    let args: Vec<&str> = match kind {
        "config" => {
            repo.write("plumb.yaml", text);
            repo.write(
                "envs/a/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
            );
            repo.commit("config");
            vec!["policy", "lint"]
        }
        "policy" => {
            repo.write("policy.yaml", text);
            vec!["policy", "lint", "policy.yaml"]
        }
        _ => {
            repo.write("case.yaml", text);
            repo.write("policy.yaml", "version: 1\n");
            vec!["policy", "test", "case.yaml"]
        }
    };
    let output = repo.plumb().args(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "plumb accepted it: {stderr}");
    (errors["file"].clone(), stderr)
}

const CONFIG: &str = "version: 1
environments:
  a:
    sources: [{manifests: envs/a}]
    live: {snapshot: a.json}
";

const POLICY: &str = "version: 1
rules:
  - id: replicas
    paths: [spec.replicas]
    action: allow
";

#[test]
fn the_valid_bases_of_the_negative_cases_are_accepted() {
    // So that each rejection below is the change's doing.
    for (kind, text) in [("config", CONFIG), ("policy", POLICY)] {
        let errors = json_schema_errors(&schema(kind), &[("file".into(), yaml_to_json(text))]);
        assert_eq!(errors["file"], Vec::<String>::new(), "{kind}");
    }
    let repo = Repo::new();
    repo.write("policy.yaml", POLICY);
    repo.plumb()
        .args(["policy", "lint", "policy.yaml"])
        .assert()
        .code(0);
}

#[test]
fn an_unknown_key_in_plumb_yaml_is_rejected_by_the_schema_and_by_plumb() {
    let text = CONFIG.replace("live:", "liv:");
    let (errors, stderr) = rejected_by_both("config", &text);
    assert!(errors.iter().any(|e| e.contains("'liv'")), "{errors:?}");
    assert!(stderr.contains("liv"), "{stderr}");
}

#[test]
fn a_misspelled_rule_field_is_rejected_by_the_schema_and_by_plumb() {
    let text = POLICY.replace("action:", "actoin:");
    let (errors, stderr) = rejected_by_both("policy", &text);
    assert!(errors.iter().any(|e| e.contains("'actoin'")), "{errors:?}");
    assert!(stderr.contains("actoin"), "{stderr}");
}

#[test]
fn a_string_where_a_list_goes_is_rejected_by_the_schema_and_by_plumb() {
    let text = POLICY.replace("paths: [spec.replicas]", "paths: spec.replicas");
    let (errors, _) = rejected_by_both("policy", &text);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("'paths'") && e.contains("not of type 'array'")),
        "{errors:?}"
    );
    let text = CONFIG.replace("sources: [{manifests: envs/a}]", "sources: envs/a");
    let (errors, _) = rejected_by_both("config", &text);
    assert!(
        errors.iter().any(|e| e.contains("not of type 'array'")),
        "{errors:?}"
    );
}

#[test]
fn values_plumb_refuses_are_refused_by_the_schema() {
    for (kind, text, expected) in [
        // Both live sources, which plumb refuses (`live` is a Live or null: neither matches).
        (
            "config",
            CONFIG.replace("{snapshot: a.json}", "{snapshot: a.json, context: a}"),
            "['environments', 'a', 'live']: {'snapshot': 'a.json', 'context': 'a'} is not valid under any",
        ),
        // A source naming two kinds.
        (
            "config",
            CONFIG.replace("{manifests: envs/a}", "{manifests: envs/a, kustomize: envs/a}"),
            "is valid under each of",
        ),
        ("config", CONFIG.replace("version: 1", "version: 2"), "1 was expected"),
        (
            "policy",
            POLICY.replace("action: allow", "action: permit"),
            "'permit'",
        ),
        (
            "policy-test",
            "version: 1\npolicies: [policy.yaml]\ncases:\n  - name: x\n    object: {}\n    expect: {a: passes}\n".into(),
            "'passes'",
        ),
    ] {
        let (errors, _) = rejected_by_both(kind, &text);
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{kind}: {expected}: {errors:?}\n{text}"
        );
    }
}

#[test]
fn schema_writes_draft_2020_12_titled_with_the_file_kind_to_stdout_or_a_file() {
    for (kind, title) in [
        ("config", "plumb.yaml"),
        ("policy", "plumb policy file"),
        ("policy-test", "plumb policy test file"),
    ] {
        let schema = schema(kind);
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["title"], title);
        assert!(schema.get("$id").is_none());
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plumb.schema.json");
    let output = plumb()
        .args(["schema", "config", "--out-file"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written, schema("config"));
}

#[test]
fn an_unknown_schema_is_a_usage_error() {
    let output = plumb().args(["schema", "nonsense"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("config, policy, policy-test"), "{stderr}");
}
