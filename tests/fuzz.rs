//! Fuzzing on stable Rust, in the test suite: every reader of hostile input, and the writers of
//! what ends up in a pull request, fed mutated inputs for a bounded number of cases.
//!
//! Each case must not panic, must not abort (stack overflow), must stay under a memory bound, and
//! any error must be *located* — name the file, and a line in it — as plumb's exit-2 errors do.
//! Cases are generated from seeds in fixtures/, policies/ and tests/data/fuzz-seeds/ by the
//! mutations in tests/fuzz/mutate.rs; the default run is deterministic (fixed seed).
//! tests/data/README.md says how to run longer, explore other seeds and reproduce a failure.

mod fuzz {
    pub mod engine;
    pub mod mutate;
}

use fuzz::engine::{self, Outcome, Target, broken};
use plumb::compare::{ChangedBy, FindingKind};
use plumb::diagnostic::LocatedError;
use plumb::diff::{ChangeOp, Path as DiffPath};
use plumb::model::{RunError, SourceLocation};
use plumb::normalize::{Fingerprinter, Normalizer};
use plumb::policy::pattern::PathPattern;
use plumb::policy::{Severity, Status};
use plumb::report::{EnvironmentInput, FailOn, Finding, Inputs, Report, ResourceInfo};
use serde_json::{Value, json};
use std::path::Path;

#[global_allocator]
static ALLOCATOR: engine::CountingAllocator = engine::CountingAllocator;

/// Cases per target in a default run, the cheap targets getting more (`PLUMB_FUZZ_CASES` sets one
/// count for all): the whole fuzz suite takes about two minutes in a debug build on two cores.
const DEFAULT_CASES: u64 = 100;

const TARGETS: &[Target] = &[
    Target {
        name: "yaml-documents",
        run: yaml_documents,
        seeds: manifest_seeds,
        cases: DEFAULT_CASES,
    },
    Target {
        name: "yaml-value",
        run: yaml_value,
        seeds: manifest_seeds,
        cases: DEFAULT_CASES,
    },
    Target {
        name: "config",
        run: config,
        seeds: config_seeds,
        cases: DEFAULT_CASES,
    },
    Target {
        name: "policy",
        run: policy,
        seeds: policy_seeds,
        cases: DEFAULT_CASES,
    },
    Target {
        name: "policy-test",
        run: policy_test,
        seeds: policy_test_seeds,
        cases: DEFAULT_CASES,
    },
    Target {
        name: "path-pattern",
        run: path_pattern,
        seeds: pattern_seeds,
        cases: DEFAULT_CASES * 20,
    },
    Target {
        name: "live-file",
        run: live_file,
        seeds: live_seeds,
        cases: DEFAULT_CASES * 2,
    },
    Target {
        name: "markdown",
        run: markdown,
        seeds: report_seeds,
        cases: DEFAULT_CASES,
    },
    Target {
        name: "sarif",
        run: sarif,
        seeds: report_seeds,
        cases: DEFAULT_CASES,
    },
    Target {
        name: "engine-selftest",
        run: engine_selftest,
        seeds: Vec::new,
        cases: 0,
    },
];

#[test]
fn fuzz_yaml_documents() {
    engine::fuzz(TARGETS, "yaml-documents");
}

#[test]
fn fuzz_yaml_value() {
    engine::fuzz(TARGETS, "yaml-value");
}

#[test]
fn fuzz_config() {
    engine::fuzz(TARGETS, "config");
}

#[test]
fn fuzz_policy() {
    engine::fuzz(TARGETS, "policy");
}

#[test]
fn fuzz_policy_test() {
    engine::fuzz(TARGETS, "policy-test");
}

#[test]
fn fuzz_path_pattern() {
    engine::fuzz(TARGETS, "path-pattern");
}

#[test]
fn fuzz_live_file() {
    engine::fuzz(TARGETS, "live-file");
}

#[test]
fn fuzz_markdown() {
    engine::fuzz(TARGETS, "markdown");
}

#[test]
fn fuzz_sarif() {
    engine::fuzz(TARGETS, "sarif");
}

/// Every input under tests/data/fuzz-regressions/TARGET/, always (KNOWN ones are skipped).
#[test]
fn fuzz_regressions() {
    engine::replay(TARGETS);
}

/// The child process the fuzz tests start (see tests/fuzz/engine.rs); does nothing on its own.
#[test]
#[ignore = "started by the fuzz tests as their worker process"]
fn fuzz_worker() {
    engine::worker(TARGETS);
}

/// The harness itself, on a planted target: a panic, a broken promise, a case over the memory
/// bound, an allocation past the hard cap and a stack overflow are each reported as a failure of
/// their class with the case that caused it, and the worker goes on after each crash.
#[test]
fn the_engine_reports_every_kind_of_failure() {
    let dir = tempfile::tempdir().unwrap();
    let inputs: Vec<std::path::PathBuf> = [
        "ok",
        "panic",
        "unlocated",
        "memory",
        "Memory",
        "stack",
        "ok",
    ]
    .iter()
    .enumerate()
    .map(|(i, text)| {
        let path = dir.path().join(format!("{i}-{text}"));
        std::fs::write(&path, text).unwrap();
        path
    })
    .collect();
    let failures = engine::run_files(TARGETS, "engine-selftest", inputs);
    let classes: Vec<(u64, &str)> = failures
        .iter()
        .map(|f| (f.case, f.class.as_str()))
        .collect();
    assert_eq!(
        classes,
        [
            (1, "panic"),
            (2, "unlocated-error"),
            (3, "memory"),
            (4, "memory-cap"),
            (5, "stack-overflow")
        ],
        "{failures:#?}"
    );
    assert!(
        failures[0].detail.contains("planted panic"),
        "{}",
        failures[0].detail
    );
}

/// The planted target of the test above; never fuzzed.
fn engine_selftest(input: &[u8]) -> Outcome {
    fn deep(n: u64) -> u64 {
        let pad = std::hint::black_box([n; 64]);
        if n == 0 {
            0
        } else {
            deep(n - 1).wrapping_add(pad[3])
        }
    }
    match input {
        b"panic" => panic!("planted panic"),
        b"unlocated" => broken("unlocated-error", "planted"),
        b"memory" => {
            std::hint::black_box(Vec::<u8>::with_capacity(engine::CASE_MEMORY_BOUND + 1));
            Ok(())
        }
        b"Memory" => {
            std::hint::black_box(Vec::<u8>::with_capacity(4 << 30));
            Ok(())
        }
        b"stack" => {
            std::hint::black_box(deep(std::hint::black_box(u64::MAX)));
            Ok(())
        }
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Targets.

fn text(input: &[u8]) -> String {
    // Files that are not UTF-8 are refused when read, naming the file; the lossy text keeps the
    // rest of a mutated input worth parsing.
    String::from_utf8_lossy(input).into_owned()
}

/// The number of lines an error may point at: every line, and the one past a final newline.
fn last_line(text: &str) -> u64 {
    text.lines().count() as u64 + 1
}

/// A located YAML error: names the file, and a line of it unless the input is empty.
fn check_yaml_error(error: &plumb::yaml::YamlError, text: &str, file: &str) -> Outcome {
    let shown = error.to_string();
    if error.file != file || !shown.starts_with(file) {
        return broken("unlocated-error", format!("does not name {file}: {shown}"));
    }
    if !text.trim().is_empty() && !(1..=last_line(text)).contains(&error.line) {
        return broken(
            "unlocated-error",
            format!("line {} is not a line of the input: {shown}", error.line),
        );
    }
    Ok(())
}

/// A located error in a file the user wrote: file, line (and column), and a rendering that
/// does not fail — it is what the user sees on exit 2.
fn check_located(error: &LocatedError, text: &str, file: &str) -> Outcome {
    let shown = error.to_string();
    if error.file != file || !shown.starts_with(file) {
        return broken("unlocated-error", format!("does not name {file}: {shown}"));
    }
    if !text.trim().is_empty() && !(1..=last_line(text)).contains(&error.line) {
        return broken(
            "unlocated-error",
            format!("line {} is not a line of the input: {shown}", error.line),
        );
    }
    let mut rendered = String::new();
    miette::GraphicalReportHandler::new()
        .render_report(&mut rendered, error)
        .map_err(|e| engine::Broken {
            class: "unrenderable-error",
            detail: format!("{e}: {shown}"),
        })?;
    Ok(())
}

fn yaml_documents(input: &[u8]) -> Outcome {
    let text = text(input);
    for file in ["fuzz.yaml", "fuzz.json"] {
        if let Err(e) = plumb::yaml::parse_documents(&text, file) {
            check_yaml_error(&e, &text, file)?;
        }
    }
    Ok(())
}

fn yaml_value(input: &[u8]) -> Outcome {
    let text = text(input);
    match plumb::yaml::from_str::<Value>(&text, "fuzz.yaml") {
        Ok(value) => {
            // What `plumb render` writes back must itself be readable.
            let _ = plumb::yaml::to_yaml(&value);
            Ok(())
        }
        Err(e) => check_yaml_error(&e, &text, "fuzz.yaml"),
    }
}

fn config(input: &[u8]) -> Outcome {
    let text = text(input);
    match plumb::config::parse(&text, "plumb.yaml") {
        Ok(_) => Ok(()),
        Err(plumb::config::ConfigError::Invalid(e)) => check_located(&e, &text, "plumb.yaml"),
        Err(other) => broken("unlocated-error", format!("not a located error: {other}")),
    }
}

fn policy(input: &[u8]) -> Outcome {
    let text = text(input);
    match plumb::policy::rules::parse(&text, "policy.yaml") {
        Ok(_) => Ok(()),
        Err(plumb::policy::rules::PolicyError::Invalid(e)) => {
            check_located(&e, &text, "policy.yaml")
        }
        Err(other) => broken("unlocated-error", format!("not a located error: {other}")),
    }
}

fn policy_test(input: &[u8]) -> Outcome {
    let text = text(input);
    match plumb::policy::testing::parse(&text, "policy-test.yaml") {
        Ok(file) => {
            // Run the cases too: their objects go through normalization, pairing and the diff.
            let policies = plumb::policy::eval::Policies::none();
            let normalizer = Normalizer::new(Fingerprinter::with_key(b"fuzz"));
            for case in &file.cases {
                let _ = plumb::policy::testing::run_case(&policies, &normalizer, case);
            }
            Ok(())
        }
        Err(plumb::policy::rules::PolicyError::Invalid(e)) => {
            check_located(&e, &text, "policy-test.yaml")
        }
        Err(other) => broken("unlocated-error", format!("not a located error: {other}")),
    }
}

/// Paths patterns are matched against, and an object they are looked up in.
const PATHS: &[&str] = &[
    "",
    "spec.replicas",
    "spec.template.spec.containers[name=api].image",
    "metadata.annotations[\"example.com/owner\"]",
    "data.FEATURE_NEW_CHECKOUT",
    "spec.ports[port=80,protocol=TCP].name",
    "spec.args[1]",
    "data[\"0\"]",
];

fn path_pattern(input: &[u8]) -> Outcome {
    let object = json!({
        "metadata": {"name": "a", "uid": "u", "annotations": {"example.com/owner": "x", "a/b": {"c": 1}}},
        "data": {"FEATURE_NEW_CHECKOUT": "true", "0": "zero", "": "empty", "~/": "odd"},
        "spec": {"replicas": 2, "args": ["p", "q"],
            "ports": [{"port": 80, "protocol": "TCP", "name": "http"}, {"port": 443}],
            "template": {"spec": {"containers": [{"name": "api", "image": "i"}, {"name": "side"}]}}}
    });
    let paths: Vec<DiffPath> = PATHS.iter().map(|p| DiffPath::parse(p).unwrap()).collect();
    let noise = PathPattern::parse("metadata.uid").unwrap();
    // One pattern per line, as a policy's `paths:` lists them.
    for line in text(input).lines() {
        // The diff's own path parser reads the keys of a policy test's `expect:`.
        match DiffPath::parse(line) {
            Ok(path) => {
                let again = path.to_string();
                if DiffPath::parse(&again).as_ref() != Ok(&path) {
                    return broken(
                        "path-round-trip",
                        format!("`{line}` prints as `{again}`, which reads back differently"),
                    );
                }
            }
            Err(e) => check_path_error(&e, line)?,
        }
        match PathPattern::parse(line) {
            Ok(pattern) => {
                for path in &paths {
                    let _ = pattern.matches(path);
                }
                let _ = pattern.names_within(&noise);
                let _ = noise.names_within(&pattern);
                let _ = pattern.find(&object);
                pattern.remove_from(&mut object.clone());
            }
            Err(e) => check_path_error(&e, line)?,
        }
    }
    Ok(())
}

/// A located path error names the pattern and a position in it (1-based; one past the end for
/// "ends too early").
fn check_path_error(error: &plumb::diff::PathError, line: &str) -> Outcome {
    if error.path != line || !(1..=line.len() + 1).contains(&error.position) {
        return broken(
            "unlocated-error",
            format!(
                "`{line}`: the error names `{}` at {}: {error}",
                error.path, error.position
            ),
        );
    }
    Ok(())
}

fn live_file(input: &[u8]) -> Outcome {
    use plumb::live::snapshot::{SnapshotError, read_text};
    let text = text(input);
    let file = "live.json";
    let fingerprinter = Fingerprinter::with_key(b"fuzz");
    match read_text(&text, file, "fuzz", &fingerprinter) {
        Ok(live) => {
            // Reading nothing must mean the file lists nothing, never that it could not say:
            // an empty read is "no objects live", which drift reports as everything missing.
            if live.documents.is_empty() && live.errors.is_empty() {
                let values = plumb::yaml::parse_values(&text, file).unwrap_or_default();
                let listed = values.first().is_some_and(|(value, _)| {
                    value.get("items").is_some_and(Value::is_array)
                        || value.get("objects").is_some_and(Value::is_array)
                });
                if !listed {
                    return broken(
                        "empty-without-items",
                        "read as no live objects, but the file has no `items`/`objects` list",
                    );
                }
            }
            Ok(())
        }
        Err(SnapshotError::Yaml(e)) => check_yaml_error(&e, &text, file),
        Err(
            e @ (SnapshotError::NotLiveState { line, .. } | SnapshotError::Malformed { line, .. }),
        ) => {
            let shown = e.to_string();
            if !shown.starts_with(file) || !(1..=last_line(&text)).contains(&line) {
                return broken("unlocated-error", shown);
            }
            Ok(())
        }
        // The version is a property of the whole file: naming the file locates it.
        Err(e @ SnapshotError::Version { .. }) if e.to_string().starts_with(file) => Ok(()),
        Err(other) => broken("unlocated-error", format!("not a located error: {other}")),
    }
}

fn markdown(input: &[u8]) -> Outcome {
    let report = report_from(input);
    // The limit plumb writes comments with; smaller ones exist for tests only.
    let limit = plumb::report::markdown::LIMIT;
    {
        let parts = plumb::report::markdown::render(
            &report,
            FailOn::Severity(Severity::Warning),
            plumb::report::table::Show::All,
        );
        if parts.is_empty() {
            return broken("markdown-empty", "no part at all");
        }
        for (i, part) in parts.iter().enumerate() {
            if part.len() > limit {
                return broken(
                    "markdown-too-large",
                    format!(
                        "part {} of {} is {} bytes, over {limit}",
                        i + 1,
                        parts.len(),
                        part.len()
                    ),
                );
            }
            if let Some(c) = part
                .chars()
                .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
            {
                return broken(
                    "markdown-control-character",
                    format!("part {} holds {:?}", i + 1, c),
                );
            }
        }
    }
    Ok(())
}

fn sarif(input: &[u8]) -> Outcome {
    let report = report_from(input);
    for fallback in [Some("plumb.yaml"), None] {
        let text = plumb::report::sarif::render(&report, fallback);
        let parsed: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => return broken("sarif-not-json", e.to_string()),
        };
        let results = parsed["runs"][0]["results"].as_array().map_or(0, Vec::len);
        let reported = report
            .findings
            .iter()
            .filter(|f| f.status != Status::Expected)
            .filter(|f| f.source.is_some() || fallback.is_some())
            .count();
        if results != reported {
            return broken(
                "sarif-results",
                format!("{results} results for {reported} findings that call for attention"),
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reports from bytes: the input is read as a stream of choices and strings, so mutating it
// changes both the report's shape and its text.

struct Choices<'a> {
    data: &'a [u8],
    at: usize,
    /// Huge strings left to make: a few per report exercise the size bounds; more would only
    /// measure how fast a debug build copies megabytes.
    huge_left: u8,
}

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    fn below(&mut self, n: u8) -> u8 {
        self.byte() % n
    }

    /// A string: the next run of input bytes up to a NUL (so any bytes, control bytes included,
    /// can become a name or a value), sometimes repeated into a huge one.
    fn string(&mut self) -> String {
        let rest = self.data.get(self.at..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(rest.len())
            .min(512);
        let piece = String::from_utf8_lossy(&rest[..len]).into_owned();
        self.at += len + 1;
        match self.below(32) {
            0 if self.huge_left > 0 => {
                self.huge_left -= 1;
                piece.repeat(100_000 / piece.len().max(1))
            }
            1 => format!("{piece}\n{piece}\r\n{piece}"),
            _ => piece,
        }
    }

    fn optional_string(&mut self) -> Option<String> {
        (self.below(3) != 0).then(|| self.string())
    }

    fn value(&mut self, depth: usize) -> Value {
        match self.below(if depth >= plumb::limits::MAX_DEPTH {
            4
        } else {
            8
        }) {
            0 => Value::Null,
            1 => json!(self.byte().is_multiple_of(2)),
            2 => json!(i64::from(self.byte()) * 1_000_000_007 - 5),
            3 => Value::String(self.string()),
            4 | 5 => {
                let n = self.below(4);
                // Deep values: one child, many levels.
                if n == 0 {
                    return json!([self.value(depth + 1)]);
                }
                Value::Array((0..n).map(|_| self.value(depth + 1)).collect())
            }
            _ => {
                let n = self.below(4).max(1);
                Value::Object(
                    (0..n)
                        .map(|_| (self.string(), self.value(depth + 1)))
                        .collect(),
                )
            }
        }
    }
}

const KINDS: [FindingKind; 7] = [
    FindingKind::Drift,
    FindingKind::Missing,
    FindingKind::Unmanaged,
    FindingKind::Parity,
    FindingKind::OnlyIn,
    FindingKind::Check,
    FindingKind::Change,
];
const STATUSES: [Status; 4] = [
    Status::Violation,
    Status::Unreviewed,
    Status::Waived,
    Status::Expected,
];
const SEVERITIES: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Error];

fn report_from(input: &[u8]) -> Report {
    let mut c = Choices {
        data: input,
        at: 0,
        huge_left: 2,
    };
    let envs: Vec<String> = (0..2).map(|_| c.string()).collect();
    let mut report = Report::new(
        "parity",
        Inputs {
            repo: c.optional_string(),
            git_ref: c.optional_string(),
            commit: c.optional_string(),
            environments: envs
                .iter()
                .map(|e| EnvironmentInput {
                    name: e.clone(),
                    ..Default::default()
                })
                .collect(),
            base: None,
            tools: Default::default(),
            charts: Default::default(),
            source_link: c.optional_string(),
        },
    );
    let findings = usize::from(c.byte()) % 40;
    for i in 0..findings {
        // Later findings reuse earlier strings sometimes, so sections and resources group.
        let scope = match c.below(3) {
            0 => vec![envs[0].clone()],
            1 => vec![envs[0].clone(), envs[1].clone()],
            _ => vec![c.string()],
        };
        let (left, right) = (
            (c.below(4) != 0).then(|| c.value(0)),
            (c.below(4) != 0).then(|| c.value(0)),
        );
        report.findings.push(Finding {
            id: format!("f{i}"),
            kind: KINDS[usize::from(c.below(7))],
            status: STATUSES[usize::from(c.below(4))],
            severity: SEVERITIES[usize::from(c.below(3))],
            envs: scope,
            resource: ResourceInfo {
                group: c.string(),
                version: c.string(),
                kind: c.string(),
                namespace: c.optional_string(),
                name: c.string(),
            },
            path: c.string(),
            change: [
                None,
                Some(ChangeOp::Changed),
                Some(ChangeOp::Added),
                Some(ChangeOp::Removed),
            ][usize::from(c.below(4))],
            left,
            right,
            rule: c.optional_string(),
            message: c.string(),
            source: (c.below(2) == 0).then(|| SourceLocation {
                file: c.string(),
                line: u64::from(c.byte()) * 1000,
            }),
            changed_by: (c.below(3) == 0).then(|| ChangedBy {
                manager: c.string(),
                operation: c.string(),
                time: c.optional_string(),
            }),
            promotion: None,
            baseline: None,
            first_seen: c.optional_string(),
            other_source: (c.below(2) == 0).then(|| SourceLocation {
                file: c.string(),
                line: u64::from(c.byte()),
            }),
            by_change: None,
            field_lines: Default::default(),
        });
    }
    for _ in 0..c.below(3) {
        report.errors.push(RunError {
            env: c.string(),
            kind: c.string(),
            source: c.optional_string(),
            resource: c.optional_string(),
            message: c.string(),
            unjudged: None,
        });
    }
    report.finish();
    report
}

// ---------------------------------------------------------------------------------------------
// Seeds.

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir` (relative to the repository) whose name ends with one of `suffixes`.
fn files(dir: &str, suffixes: &[&str]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut stack = vec![root().join(dir)];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                stack.push(path);
            } else if suffixes.iter().any(|s| path.to_string_lossy().ends_with(s)) {
                out.push(std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn seeds_of(dirs: &[&str], suffixes: &[&str]) -> Vec<Vec<u8>> {
    let seeds: Vec<Vec<u8>> = dirs.iter().flat_map(|d| files(d, suffixes)).collect();
    assert!(!seeds.is_empty(), "no seeds in {dirs:?}");
    seeds
}

fn manifest_seeds() -> Vec<Vec<u8>> {
    let mut seeds = seeds_of(
        &[
            "fixtures/demo/envs",
            "fixtures/render",
            "tests/data/fuzz-seeds/yaml",
        ],
        &[".yaml", ".yml", ".json", "Kustomization"],
    );
    seeds.extend(small_snapshots());
    seeds
}

fn config_seeds() -> Vec<Vec<u8>> {
    seeds_of(
        &[
            "fixtures/demo/plumb.yaml",
            "fixtures/render/plumb.yaml",
            "tests/data/fuzz-seeds/config",
        ],
        &[".yaml"],
    )
}

fn policy_seeds() -> Vec<Vec<u8>> {
    seeds_of(&["policies", "fixtures/demo/policies"], &[".yaml"])
}

fn policy_test_seeds() -> Vec<Vec<u8>> {
    seeds_of(
        &[
            "fixtures/demo/policy-tests",
            "tests/data/fuzz-seeds/policy-test",
        ],
        &[".yaml"],
    )
}

fn pattern_seeds() -> Vec<Vec<u8>> {
    seeds_of(&["tests/data/fuzz-seeds/path-pattern"], &[".txt"])
}

fn live_seeds() -> Vec<Vec<u8>> {
    let mut seeds = seeds_of(&["tests/data/fuzz-seeds/live"], &[".json", ".yaml"]);
    seeds.extend(small_snapshots());
    seeds
}

/// The demo's snapshots cut to their first few objects: the whole files are hundreds of KiB,
/// and mutating them case after case would spend the run copying bytes.
fn small_snapshots() -> Vec<Vec<u8>> {
    files("fixtures/demo/snapshots", &[".json"])
        .into_iter()
        .map(|bytes| {
            let mut value: Value = serde_json::from_slice(&bytes).unwrap();
            for key in ["objects", "items"] {
                if let Some(Value::Array(items)) = value.get_mut(key) {
                    items.truncate(3);
                }
            }
            serde_json::to_vec_pretty(&value).unwrap()
        })
        .collect()
}

fn report_seeds() -> Vec<Vec<u8>> {
    let mut seeds = seeds_of(&["tests/data/fuzz-seeds/report"], &[".bin", ".txt"]);
    seeds.extend(files("fixtures/demo/envs/staging", &[".yaml"]));
    seeds
}
