//! The report formats read back by real parsers: Markdown (size limit, splitting, escaping), SARIF
//! (the 2.1.0 schema, locations at real lines), JUnit (junitparser) and Prometheus metrics
//! (prometheus_client's text parser). The Python parsers are installed by this test, once per
//! target directory, from the pinned tests/data/python-requirements.txt; a missing python3 or pip
//! fails the tests.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::python::python_packages;
use support::{Repo, demo_repo, line_holding};

const LIMIT: usize = 65_536;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Runs tests/data/check_formats.py with `args` and returns the JSON it printed.
fn check(args: &[&str]) -> Value {
    let output = std::process::Command::new("python3")
        .arg(data("check_formats.py"))
        .args(args)
        .env("PYTHONPATH", python_packages())
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "check_formats.py {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// plumb's stdout for `args`, which must exit `code`.
fn run(repo: &Repo, args: &[&str], code: i32) -> String {
    let output = repo.plumb().args(args).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(code),
        "plumb {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn statuses(report: &Value) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for f in report["findings"].as_array().unwrap() {
        *out.entry(f["status"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Markdown

#[test]
fn markdown_summarises_every_status_under_the_limit() {
    let repo = demo_repo();
    let report = repo.report(&["parity", "staging", "production", "-o", "json"], 1);
    let counts = statuses(&report);
    for status in ["violation", "unreviewed", "waived", "expected"] {
        assert!(
            counts.contains_key(status),
            "the demo has every status: {counts:?}"
        );
    }
    // `--show expected`: every status listed (by default expected findings are only counted).
    let text = run(
        &repo,
        &[
            "parity",
            "staging",
            "production",
            "-o",
            "markdown",
            "--show",
            "expected",
        ],
        1,
    );
    assert!(text.len() <= LIMIT);
    assert!(
        text.starts_with("### plumb parity · staging ↔ production\n"),
        "{text}"
    );
    // The summary table comes first, with a row for the pair counting its findings by status.
    let table = text.find("| | resources |").expect("a summary table");
    assert!(
        table < text.find("<details>").expect("details sections"),
        "{text}"
    );
    let pair_findings: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["envs"].as_array().unwrap().len() == 2)
        .collect();
    let count = |s: &str| pair_findings.iter().filter(|f| f["status"] == s).count();
    let row = format!(
        "| **staging ↔ production** | {} / {} | {} | {} | {} | {} | {} |",
        report["summary"]["resources"]["staging"],
        report["summary"]["resources"]["production"],
        pair_findings.len(),
        count("violation"),
        count("unreviewed"),
        count("waived"),
        count("expected"),
    );
    assert!(text.contains(&row), "{row}\n{text}");
    // Every table row has as many cells as the header.
    let header_cells = text
        .lines()
        .find(|l| l.starts_with("| | resources"))
        .unwrap()
        .matches('|')
        .count();
    for line in text.lines().filter(|l| l.starts_with("| ")) {
        assert_eq!(
            line.matches('|').count() - line.matches("\\|").count(),
            header_cells,
            "{line}"
        );
    }
    for status in ["violation", "unreviewed", "waived", "expected"] {
        assert!(text.contains(&format!("**{status}**")), "{status}\n{text}");
    }
    assert_eq!(
        text.matches("<details>").count(),
        text.matches("</details>").count()
    );
    // The Secret's username differs: shown as two different fingerprints.
    let username = text
        .lines()
        .find(|l| l.contains("`data.username`"))
        .expect("the Secret's username difference");
    assert_eq!(username.matches("`hmac-sha256:").count(), 2, "{username}");
    // --report writes the comment to a file, the same text.
    let file = repo.path().join("comment.md");
    repo.plumb()
        .args(["parity", "staging", "production", "--show", "expected"])
        .arg(format!("--report=markdown={}", file.display()))
        .assert()
        .code(1);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    assert!(!repo.path().join("comment-2.md").exists());
}

#[test]
fn markdown_drift_names_who_changed_a_field() {
    let repo = demo_repo();
    let text = run(&repo, &["drift", "production", "-o", "markdown"], 1);
    assert!(text.contains("changed by `"), "{text}");
    for kind in ["drift", "missing", "unmanaged"] {
        assert!(text.contains(&format!("· {kind}")), "{kind}\n{text}");
    }
}

/// Two directories of ConfigMaps that differ in every key, for `compare --mode parity`.
fn large_pair(repo: &Repo, maps: usize, keys: usize) {
    for side in ["left", "right"] {
        let mut text = String::new();
        for m in 0..maps {
            text.push_str(&format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg-{m:03}, namespace: app}}\ndata:\n"
            ));
            for k in 0..keys {
                text.push_str(&format!(
                    "  key-{k:02}: \"{side}-{m}-{k}-{}\"\n",
                    "v".repeat(120)
                ));
            }
        }
        repo.write(&format!("{side}/maps.yaml"), &text);
    }
}

#[test]
fn markdown_splits_a_large_report_into_parts_under_the_limit() {
    let repo = Repo::new();
    large_pair(&repo, 60, 10);
    // Parts left by an earlier, longer run are removed.
    for n in 2..=12 {
        repo.write(&format!("out/comment-{n}.md"), "stale");
    }
    let out = repo.path().join("out/comment.md");
    let output = repo
        .plumb()
        .args(["compare", "left", "right", "--fail-on", "never"])
        .arg(format!("--report=markdown={}", out.display()))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut parts = vec![std::fs::read_to_string(&out).unwrap()];
    for n in 2.. {
        match std::fs::read_to_string(repo.path().join(format!("out/comment-{n}.md"))) {
            Ok(text) => parts.push(text),
            Err(_) => break,
        }
    }
    let total = parts.len();
    assert!(
        total >= 3,
        "600 findings of ~300 characters take several parts: {total}"
    );
    assert!(total < 12, "{total}");
    for part in &parts {
        assert_ne!(part, "stale");
    }
    for (i, part) in parts.iter().enumerate() {
        assert!(
            part.len() <= LIMIT,
            "part {} has {} bytes",
            i + 1,
            part.len()
        );
        assert_eq!(
            part.matches("<details>").count(),
            part.matches("</details>").count(),
            "part {}",
            i + 1
        );
        if i > 0 {
            assert!(
                part.contains(&format!("part {} of {total}", i + 1)),
                "{part}"
            );
            assert!(
                !part.contains("| | resources |"),
                "the summary is only in the first part"
            );
        }
    }
    let first = &parts[0];
    assert!(first.contains("| | resources |"));
    assert!(
        first.contains(&format!("This report is split into {total} parts")),
        "{first}"
    );
    assert!(
        first.contains(&format!("part {total}: left ↔ right (continued)")),
        "{first}"
    );
    // Every finding is in exactly one part.
    let all = parts.concat();
    for m in 0..60 {
        for k in 0..10 {
            let value = format!("`left-{m}-{k}-");
            assert_eq!(all.matches(&value).count(), 1, "{value}");
        }
    }
}

#[test]
fn markdown_values_cannot_break_the_layout_or_inject_html() {
    let repo = Repo::new();
    let nasty = "a|b</details><script>alert(1)</script>``x``";
    repo.write(
        "left/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata:\n  one: plain\n  two: \"line 1\\nline 2\\n```\\nline 3\\n\"\n",
    );
    repo.write(
        "right/cm.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg}}\ndata:\n  one: {}\n  two: \"line 1\\nline 2 changed\\n```\\nline 3\\n\"\n",
            serde_json::to_string(nasty).unwrap()
        ),
    );
    let text = run(&repo, &["compare", "left", "right", "-o", "markdown"], 0);
    // Outside code spans and code blocks (where GitHub and GitLab show text as it is) there is
    // no tag a value brought in.
    let prose = without_code(&text);
    assert!(
        !prose.contains("<script>") && !prose.contains("a|b"),
        "{prose}"
    );
    assert_eq!(prose.matches("</details>").count(), 1, "{prose}");
    // The value sits whole in one code span whose fence is longer than its backtick runs (padded,
    // as it ends with a backtick).
    assert!(text.contains(&format!("``` {nasty} ```")), "{text}");
    // The multi-line value is a diff block whose fence outlasts the ``` inside it.
    assert!(text.contains("````diff\n"), "{text}");
    assert!(
        text.contains("- line 2\n") && text.contains("+ line 2 changed\n"),
        "{text}"
    );
}

/// `text` without its fenced code blocks and code spans, as CommonMark delimits them.
fn without_code(text: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(open) = &fence {
            if trimmed.starts_with(open.as_str()) && trimmed.trim_end().chars().all(|c| c == '`') {
                fence = None;
            }
            continue;
        }
        if trimmed.starts_with("```") {
            fence = Some(trimmed.chars().take_while(|c| *c == '`').collect());
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '`' {
                let run = chars[i..].iter().take_while(|c| **c == '`').count();
                // The closing run: the next run of exactly the same length.
                let mut j = i + run;
                let mut close = None;
                while j < chars.len() {
                    if chars[j] == '`' {
                        let other = chars[j..].iter().take_while(|c| **c == '`').count();
                        if other == run {
                            close = Some(j + other);
                            break;
                        }
                        j += other;
                    } else {
                        j += 1;
                    }
                }
                match close {
                    Some(end) => i = end,
                    None => {
                        out.extend(&chars[i..i + run]);
                        i += run;
                    }
                }
            } else {
                out.push(chars[i]);
                i += 1;
            }
        }
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// SARIF

#[test]
fn sarif_validates_and_points_at_the_lines_that_declare_resources() {
    let repo = demo_repo();
    for (args, code) in [
        (vec!["parity", "staging", "production"], 1),
        (vec!["drift", "production"], 1),
    ] {
        let report = repo.report(&[args.clone(), vec!["-o", "json"]].concat(), code);
        let text = run(&repo, &[args.clone(), vec!["-o", "sarif"]].concat(), code);
        let file = repo.path().join("out.sarif");
        std::fs::write(&file, &text).unwrap();
        let verdict = check(&[
            "sarif",
            file.to_str().unwrap(),
            data("sarif-schema-2.1.0.json").to_str().unwrap(),
        ]);
        assert_eq!(verdict["errors"], serde_json::json!([]), "{args:?}: {text}");

        let log: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        let results = run["results"].as_array().unwrap();
        let findings = report["findings"].as_array().unwrap();
        let reported: Vec<&Value> = findings
            .iter()
            .filter(|f| f["status"] != "expected")
            .collect();
        assert_eq!(results.len(), reported.len(), "{args:?}");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        for (result, finding) in results.iter().zip(&reported) {
            assert_eq!(
                result["partialFingerprints"]["plumbFindingId/v1"],
                finding["id"]
            );
            let rule_id = finding["rule"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("plumb/{}", finding["kind"].as_str().unwrap()));
            assert_eq!(result["ruleId"], rule_id.as_str());
            let rule = &rules[result["ruleIndex"].as_u64().unwrap() as usize];
            assert_eq!(rule["id"], rule_id.as_str());
            assert!(
                !rule["shortDescription"]["text"]
                    .as_str()
                    .unwrap()
                    .is_empty()
            );
            let level = match finding["severity"].as_str().unwrap() {
                "error" => "error",
                "warning" => "warning",
                _ => "note",
            };
            assert_eq!(result["level"], level);
            assert_eq!(
                result["suppressions"].is_array(),
                finding["status"] == "waived"
            );
        }
        // Code scanning rejects an upload with a result that has no file: every result has one,
        // the unmanaged object (not in Git) the plumb.yaml that defines its environment.
        for result in results {
            let uri =
                result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str();
            assert!(uri.is_some_and(|u| !u.is_empty()), "{result}");
            if result["properties"]["kind"] == "unmanaged" {
                assert_eq!(uri, Some("plumb.yaml"), "{result}");
            }
        }
        if args[0] == "drift" {
            assert!(
                results
                    .iter()
                    .any(|r| r["properties"]["kind"] == "unmanaged")
            );
        }
        let mut located = 0;
        for result in results {
            let physical = &result["locations"][0]["physicalLocation"];
            let Some(line) = physical["region"]["startLine"].as_u64() else {
                continue;
            };
            located += 1;
            let uri = physical["artifactLocation"]["uri"].as_str().unwrap();
            let resource = &result["properties"]["resource"];
            let whole = result["properties"]["path"] == "";
            declares(&repo, uri, line as usize, resource, whole);
        }
        assert!(located > 0, "{args:?}: some results point at a line");
    }
    // A policy rule's description reaches the rule.
    let text = run(
        &repo,
        &["parity", "staging", "production", "-o", "sarif"],
        1,
    );
    let log: Value = serde_json::from_str(&text).unwrap();
    let policies = std::fs::read_to_string(repo.path().join("policies/shop.yaml")).unwrap();
    let described = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["id"].as_str().unwrap().starts_with("plumb/"))
        .filter(|r| policies.contains(r["shortDescription"]["text"].as_str().unwrap()))
        .count();
    assert!(described > 0, "{text}");
}

/// The YAML document of `file` around `line` declares `resource` (kind and name); for a finding
/// about a `whole` object, `line` starts the declaration.
fn declares(repo: &Repo, file: &str, line: usize, resource: &Value, whole: bool) {
    let text = std::fs::read_to_string(repo.path().join(file)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(line >= 1 && line <= lines.len(), "{file}:{line}");
    let start = lines[..line - 1]
        .iter()
        .rposition(|l| l.trim_end() == "---")
        .map_or(0, |i| i + 1);
    let end = lines[line - 1..]
        .iter()
        .position(|l| l.trim_end() == "---")
        .map_or(lines.len(), |i| i + line - 1);
    let document = lines[start..end].join("\n");
    let kind = resource["kind"].as_str().unwrap();
    let name = resource["name"].as_str().unwrap();
    assert!(
        document.contains(&format!("kind: {kind}")),
        "{file}:{line} is not in a {kind}:\n{document}"
    );
    assert!(
        document.contains(&format!("name: {name}")),
        "{file}:{line} is not {name}:\n{document}"
    );
    // The line itself starts the object's declaration, not some line inside another object.
    assert!(
        !whole || line - 1 <= start + 3,
        "{file}:{line} is far from the document's start ({})",
        start + 1
    );
}

/// The SARIF result of the finding at `path` (one).
fn result_at<'a>(log: &'a Value, path: &str) -> &'a Value {
    let results: Vec<&Value> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["properties"]["path"] == path)
        .collect();
    assert_eq!(results.len(), 1, "{path}: {log}");
    results[0]
}

/// Code scanning annotates the line of the field that differs, found in the YAML as written (not
/// the document's first line), and a parity result also names the other environment's file.
#[test]
fn sarif_points_at_the_field_and_names_the_other_environment() {
    let repo = demo_repo();
    let image = "spec.template.spec.containers[name=api].image";
    let log: Value =
        serde_json::from_str(&run(&repo, &["drift", "production", "-o", "sarif"], 1)).unwrap();
    let physical = &result_at(&log, image)["locations"][0]["physicalLocation"];
    assert_eq!(
        physical["artifactLocation"]["uri"],
        "envs/production/api.yaml"
    );
    let image_line = line_holding(
        &repo,
        "envs/production/api.yaml",
        "image: ghcr.io/example/shop-api",
    );
    assert!(image_line > 3, "the image is not the document's first line");
    assert_eq!(physical["region"]["startLine"], image_line, "{physical}");

    // Parity: the left environment's file and line, the right one's in relatedLocations — in
    // either order of the two.
    for (left, right) in [("staging", "production"), ("production", "staging")] {
        let text = run(&repo, &["parity", left, right, "-o", "sarif"], 1);
        let log: Value = serde_json::from_str(&text).unwrap();
        let result = result_at(&log, "data.LOG_LEVEL");
        let file = |env: &str| format!("envs/{env}/config.yaml");
        let physical = &result["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], file(left).as_str());
        assert_eq!(
            physical["region"]["startLine"],
            line_holding(&repo, &file(left), "LOG_LEVEL:")
        );
        let related = result["relatedLocations"].as_array().unwrap();
        assert_eq!(related.len(), 1, "{result}");
        let other = &related[0]["physicalLocation"];
        assert_eq!(other["artifactLocation"]["uri"], file(right).as_str());
        assert_eq!(
            other["region"]["startLine"],
            line_holding(&repo, &file(right), "LOG_LEVEL:")
        );
        assert_eq!(
            related[0]["message"]["text"],
            format!("{right} declares it here")
        );
        let sarif = repo.path().join("related.sarif");
        std::fs::write(&sarif, &text).unwrap();
        let verdict = check(&[
            "sarif",
            sarif.to_str().unwrap(),
            data("sarif-schema-2.1.0.json").to_str().unwrap(),
        ]);
        assert_eq!(verdict["errors"], serde_json::json!([]), "{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// JUnit

#[test]
fn junit_parses_back_with_failures_following_fail_on() {
    let repo = demo_repo();
    let report = repo.report(&["parity", "staging", "production", "-o", "json"], 1);
    let findings = report["findings"].as_array().unwrap();
    for (fail_on, code) in [("error", 1), ("warning", 1), ("never", 0)] {
        let text = run(
            &repo,
            &[
                "parity",
                "staging",
                "production",
                "-o",
                "junit",
                "--fail-on",
                fail_on,
            ],
            code,
        );
        let file = repo.path().join(format!("junit-{fail_on}.xml"));
        std::fs::write(&file, &text).unwrap();
        let parsed = check(&["junit", file.to_str().unwrap()]);
        let suites = parsed["suites"].as_array().unwrap();
        let names: Vec<&str> = suites.iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"staging ↔ production"), "{names:?}");
        let threshold = match fail_on {
            "error" => 2,
            "warning" => 1,
            _ => 9,
        };
        let rank = |s: &str| match s {
            "error" => 2,
            "warning" => 1,
            _ => 0,
        };
        for suite in suites {
            let envs: Vec<String> = suite["name"]
                .as_str()
                .unwrap()
                .split(" ↔ ")
                .map(str::to_string)
                .collect();
            let mut resources: BTreeMap<String, bool> = BTreeMap::new();
            for f in findings
                .iter()
                .filter(|f| f["envs"] == serde_json::json!(envs))
            {
                let r = &f["resource"];
                let kind = if r["group"] == "" {
                    r["kind"].as_str().unwrap().to_string()
                } else {
                    format!(
                        "{}/{}",
                        r["group"].as_str().unwrap(),
                        r["kind"].as_str().unwrap()
                    )
                };
                let name = match r["namespace"].as_str() {
                    Some(ns) => format!("{ns}/{}", r["name"].as_str().unwrap()),
                    None => r["name"].as_str().unwrap().to_string(),
                };
                let fails = f["status"] == "violation"
                    || (f["status"] == "unreviewed"
                        && rank(f["severity"].as_str().unwrap()) >= threshold);
                *resources.entry(format!("{kind} {name}")).or_default() |= fails;
            }
            let cases = suite["cases"].as_array().unwrap();
            if resources.is_empty() {
                assert_eq!(
                    cases.len(),
                    1,
                    "a clean environment still has one passing case"
                );
                assert_eq!(cases[0]["results"], serde_json::json!([]));
                continue;
            }
            assert_eq!(
                cases.len(),
                resources.len(),
                "one case per resource in {:?}",
                suite["name"]
            );
            for case in cases {
                let name = case["name"].as_str().unwrap();
                let failed = case["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == "Failure");
                assert_eq!(failed, resources[name], "{fail_on}: {name}");
            }
            assert_eq!(
                suite["failures"].as_u64().unwrap() as usize,
                resources.values().filter(|f| **f).count()
            );
        }
        if fail_on == "never" {
            // Violations fail their case even when they cannot fail the run.
            assert!(parsed["failures"].as_u64().unwrap() > 0);
        }
    }
}

#[test]
fn junit_escapes_what_xml_cannot_hold() {
    let repo = Repo::new();
    let nasty = "<a href=\"x\">&amp;</a> ' \u{1} ]]>";
    repo.write(
        "left/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {one: plain}\n",
    );
    repo.write(
        "right/cm.yaml",
        &format!(
            // U+FFFE (which XML cannot hold, and which quick-junit lets through) as a YAML escape.
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg}}\ndata: {{one: {}, two: \"\\uFFFE\"}}\n",
            serde_json::to_string(nasty).unwrap()
        ),
    );
    let text = run(
        &repo,
        &[
            "compare",
            "left",
            "right",
            "-o",
            "junit",
            "--fail-on",
            "info",
        ],
        1,
    );
    let file = repo.path().join("junit.xml");
    std::fs::write(&file, &text).unwrap();
    let parsed = check(&["junit", file.to_str().unwrap()]);
    let pair = parsed["suites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "left ↔ right")
        .unwrap();
    let case = &pair["cases"][0];
    assert_eq!(case["results"], serde_json::json!(["Failure"]), "{parsed}");
    // The value comes back as it was (the control character as its JSON escape).
    assert!(
        case["failure"]
            .as_str()
            .unwrap()
            .contains("\"<a href=\\\"x\\\">&amp;</a> ' \\u0001 ]]>\""),
        "{parsed}"
    );
    // Shown, not dropped and not written raw (an XML parser would reject the file).
    assert!(
        case["failure"].as_str().unwrap().contains("\\u{fffe}"),
        "{parsed}"
    );
}

// ---------------------------------------------------------------------------------------------
// Metrics

fn samples(families: &Value, name: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    families
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["samples"].as_array().unwrap().iter())
        .filter(|s| s["name"] == name)
        .map(|s| {
            (
                serde_json::from_value(s["labels"].clone()).unwrap(),
                s["value"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn metrics_parse_back_and_count_what_the_report_counts() {
    let repo = demo_repo();
    let metrics = repo.path().join("plumb.prom");
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let output = repo
        .plumb()
        .args(["drift", "production", "-o", "json", "--metrics"])
        .arg(&metrics)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report = support::stdout_json(&output);
    let families = check(&["prom", metrics.to_str().unwrap()]);
    for family in families.as_array().unwrap() {
        assert_eq!(family["type"], "gauge");
        assert!(!family["help"].as_str().unwrap().is_empty());
    }
    let findings = samples(&families, "plumb_findings");
    let total: f64 = findings.iter().map(|(_, v)| v).sum();
    assert_eq!(
        total as u64,
        report["summary"]["findings"]["total"].as_u64().unwrap()
    );
    for (labels, value) in &findings {
        assert_eq!(labels["env"], "production");
        assert_eq!(labels["command"], "drift");
        assert_eq!(labels["envs"], "production");
        let expected = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                f["kind"] == labels["kind"].as_str()
                    && f["status"] == labels["status"].as_str()
                    && f["severity"] == labels["severity"].as_str()
            })
            .count();
        assert_eq!(*value as usize, expected, "{labels:?}");
    }
    let resources = samples(&families, "plumb_resources");
    assert_eq!(resources.len(), 1);
    assert_eq!(
        resources[0].1 as u64,
        report["summary"]["resources"]["production"]
            .as_u64()
            .unwrap()
    );
    assert_eq!(samples(&families, "plumb_run_complete")[0].1, 1.0);
    let duration = samples(&families, "plumb_run_duration_seconds")[0].1;
    assert!(duration > 0.0 && duration < 300.0, "{duration}");
    let last = samples(&families, "plumb_last_complete_run_timestamp_seconds")[0].1;
    assert!(
        last >= before.floor() && last < before + 300.0,
        "{last} vs {before}"
    );

    // An incomplete run (a policy condition that cannot be evaluated) rewrites the file and keeps
    // the last complete run's time; `--report metrics=FILE` is `--metrics FILE`.
    repo.write(
        "policies/zz-broken.yaml",
        "version: 1\nchecks:\n  - id: broken\n    match: {kinds: [Secret]}\n    assert: \"object.data.password > 5\"\n",
    );
    let output = repo
        .plumb()
        .args(["drift", "production", "-o", "json", "--report"])
        .arg(format!("metrics={}", metrics.display()))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let families = check(&["prom", metrics.to_str().unwrap()]);
    assert_eq!(samples(&families, "plumb_run_complete")[0].1, 0.0);
    assert_eq!(
        samples(&families, "plumb_last_complete_run_timestamp_seconds")[0].1,
        last
    );
    assert!(
        !std::fs::read_dir(repo.path()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".tmp"))
    );
}

/// `-o metrics` prints the run's metrics, for every command with a report, the matrix too.
#[test]
fn metrics_on_stdout_parse_back_for_a_report_and_the_matrix() {
    let repo = demo_repo();
    // The matrix's one finding, production's lag behind staging, is expected: exit 0.
    for (args, findings, code) in [
        (
            &["parity", "staging", "production", "-o", "metrics"][..],
            26.0,
            1,
        ),
        (&["matrix", "-o", "metrics"][..], 1.0, 0),
    ] {
        let output = repo.plumb().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(code), "{args:?}");
        let file = repo.path().join("stdout.prom");
        std::fs::write(&file, &output.stdout).unwrap();
        let families = check(&["prom", file.to_str().unwrap()]);
        let total: f64 = samples(&families, "plumb_findings")
            .iter()
            .map(|(_, v)| v)
            .sum();
        assert_eq!(total, findings, "{args:?}: {families}");
    }
}

#[test]
fn sarif_with_a_baseline_says_which_results_are_new() {
    let repo = demo_repo();
    let baseline = repo.path().join("baseline.json");
    let written = repo
        .plumb()
        .args(["drift", "production"])
        .arg(format!("--report=json={}", baseline.display()))
        .output()
        .unwrap();
    assert_eq!(written.status.code(), Some(1));
    let text = run(
        &repo,
        &[
            "drift",
            "production",
            "-o",
            "sarif",
            "--baseline",
            baseline.to_str().unwrap(),
        ],
        1,
    );
    let file = repo.path().join("out.sarif");
    std::fs::write(&file, &text).unwrap();
    let verdict = check(&[
        "sarif",
        file.to_str().unwrap(),
        data("sarif-schema-2.1.0.json").to_str().unwrap(),
    ]);
    assert_eq!(verdict["errors"], serde_json::json!([]), "{text}");
    let log: Value = serde_json::from_str(&text).unwrap();
    let states: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["baselineState"].as_str().unwrap())
        .collect();
    assert!(
        !states.is_empty() && states.iter().all(|s| *s == "unchanged"),
        "{states:?}"
    );
}
