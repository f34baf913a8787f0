//! The documentation's examples are checked against the binary, so the docs cannot drift from
//! it: every `plumb.yaml` in README.md and docs/*.md loads (its configuration parses and
//! validates), every policy file passes `plumb policy lint`, and each is valid against the JSON
//! Schema `plumb schema` prints (python-jsonschema), so editors do not flag what the docs show.

mod support;

use std::path::{Path, PathBuf};
use support::Repo;
use support::python::{json_schema_errors, yaml_to_json};

/// A fenced ```yaml block of a Markdown file, with the line its text starts on.
struct Example {
    file: String,
    line: usize,
    text: String,
}

impl Example {
    fn place(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    fn has_key(&self, key: &str) -> bool {
        self.text
            .lines()
            .any(|line| line.starts_with(&format!("{key}:")))
    }

    /// A configuration: `version:` and `environments:` at the top level.
    fn is_config(&self) -> bool {
        self.has_key("version") && self.has_key("environments")
    }

    /// A policy file: `version:` and any of `rules:`, `checks:` or `waivers:` at the top level.
    fn is_policy(&self) -> bool {
        self.has_key("version")
            && !self.has_key("environments")
            && ["rules", "checks", "waivers"]
                .iter()
                .any(|key| self.has_key(key))
    }
}

fn markdown_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

fn yaml_examples() -> Vec<Example> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut examples = Vec::new();
    for path in markdown_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let file = path.strip_prefix(root).unwrap().display().to_string();
        let mut open: Option<Example> = None;
        for (index, line) in text.lines().enumerate() {
            match open.take() {
                None if line.trim_start().starts_with("```yaml") => {
                    open = Some(Example {
                        file: file.clone(),
                        line: index + 2,
                        text: String::new(),
                    });
                }
                None => {}
                Some(example) if line.trim_start().starts_with("```") => examples.push(example),
                Some(mut example) => {
                    example.text.push_str(line);
                    example.text.push('\n');
                    open = Some(example);
                }
            }
        }
    }
    examples
}

#[test]
fn every_plumb_yaml_in_the_docs_loads() {
    let configs: Vec<Example> = yaml_examples()
        .into_iter()
        .filter(Example::is_config)
        .collect();
    // docs/config.md holds one at least: an extractor finding none would check nothing.
    assert!(
        configs.iter().any(|c| c.file == "docs/config.md"),
        "{} configurations",
        configs.len()
    );
    let mut failures = Vec::new();
    for example in &configs {
        let repo = Repo::new();
        repo.write("plumb.yaml", &example.text);
        repo.commit("the example");
        // `policy lint` loads plumb.yaml, then the policy files it names: the cheapest command
        // that validates the whole configuration. The example's own paths (policy directories,
        // charts) do not exist here, so a failure to read one of them is not the example's fault;
        // a configuration error names plumb.yaml with its line.
        let output = repo.plumb().args(["policy", "lint"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.code() == Some(2) && stderr.contains("plumb.yaml") {
            failures.push(format!("{}: {stderr}", example.place()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_policy_file_in_the_docs_passes_lint() {
    let policies: Vec<Example> = yaml_examples()
        .into_iter()
        .filter(Example::is_policy)
        .collect();
    assert!(!policies.is_empty(), "no policy example found");
    let mut failures = Vec::new();
    for example in &policies {
        let repo = Repo::new();
        repo.write("policy.yaml", &example.text);
        // Alone: an example is read as a whole file, so a waiver names a rule the example defines.
        let output = repo
            .plumb()
            .args(["policy", "lint", "policy.yaml"])
            .output()
            .unwrap();
        if output.status.code() != Some(0) {
            failures.push(format!(
                "{}: exit {:?}\n{}{}",
                example.place(),
                output.status.code(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_plumb_yaml_and_policy_in_the_docs_is_valid_against_its_schema() {
    let examples = yaml_examples();
    for (kind, is_kind) in [
        ("config", Example::is_config as fn(&Example) -> bool),
        ("policy", Example::is_policy),
    ] {
        let instances: Vec<(String, serde_json::Value)> = examples
            .iter()
            .filter(|e| is_kind(e))
            .map(|e| (e.place(), yaml_to_json(&e.text)))
            .collect();
        assert!(!instances.is_empty(), "no {kind} example found");
        let output = support::plumb().args(["schema", kind]).output().unwrap();
        let schema = serde_json::from_slice(&output.stdout).unwrap();
        let invalid: Vec<String> = json_schema_errors(&schema, &instances)
            .into_iter()
            .filter(|(_, errors)| !errors.is_empty())
            .map(|(place, errors)| format!("{place}:\n  {}", errors.join("\n  ")))
            .collect();
        assert!(invalid.is_empty(), "{}", invalid.join("\n"));
    }
}
