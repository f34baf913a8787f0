//! The HTML report (`-o html`, `--report html=FILE`; docs/report.md, HTML) opened in a real browser:
//! the system Chromium (scripts/install-browser) driven by puppeteer-core (tests/support/browser.rs,
//! tests/data/check_html.js). On the demo's audit, parity, drift, diff with a baseline and matrix,
//! and on a parity corpus of over 5,000 findings: every finding of the JSON report of the same run
//! has its row, the filter and the toggles change what is shown as the JSON says they should, the
//! page logs no error and makes no request, stays under 2 MB, and holds no raw Secret value. A
//! hostile object shows its markup as text. `PLUMB_UPDATE_SCREENSHOTS=1` rewrites docs/img/.

mod support;

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use support::browser::check_html;
use support::{Repo, demo_repo, fixtures};

/// The most a page of 5,000 findings may weigh (issue 16).
const MAX_BYTES: u64 = 2 * 1024 * 1024;

/// Runs plumb with `-o html --report json=…` in `dir`; returns the page's path and the JSON
/// report of the same run.
fn html_and_json(repo: &Repo, args: &[&str], code: i32, name: &str) -> (PathBuf, Value) {
    let page = repo.path().join(format!("{name}.html"));
    let json = repo.path().join(format!("{name}.json"));
    let output = repo
        .plumb()
        .args(args)
        .args(["-o", "html"])
        .arg(format!("--report=json={}", json.display()))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(&page, &output.stdout).unwrap();
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (page, report)
}

fn finding_ids(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// `namespace/name` of a finding's object, as its row shows it.
fn object_name(f: &Value) -> String {
    let r = &f["resource"];
    match r["namespace"].as_str() {
        Some(ns) => format!("{ns}/{}", r["name"].as_str().unwrap()),
        None => r["name"].as_str().unwrap().to_string(),
    }
}

/// A filter text naming some findings' object and appearing nowhere else in any finding (path,
/// values, rule), and how many findings it names: what the page must show once it is typed.
/// When every finding is about one object, a text naming none.
fn filter_for(report: &Value) -> (String, usize) {
    let findings = report["findings"].as_array().unwrap();
    let elsewhere = |term: &str, f: &Value| {
        [&f["path"], &f["left"], &f["right"], &f["rule"], &f["kind"]]
            .iter()
            .any(|v| v.to_string().to_lowercase().contains(term))
    };
    let names: BTreeSet<String> = findings.iter().map(object_name).collect();
    for name in names {
        let term = name.to_lowercase();
        let named = findings
            .iter()
            .filter(|f| object_name(f).to_lowercase().contains(&term))
            .count();
        if named < findings.len() && !findings.iter().any(|f| elsewhere(&term, f)) {
            return (term, named);
        }
    }
    // Every finding is about one object: a text naming none hides them all.
    ("no-such-object".into(), 0)
}

/// The checks every page passes; returns what the browser saw.
fn check_page(page: &Path, report: &Value, screenshots: Option<&str>) -> Value {
    let size = std::fs::metadata(page).unwrap().len();
    assert!(size < MAX_BYTES, "{}: {size} bytes", page.display());
    let ids = finding_ids(report);
    let mut options = json!({});
    let (term, named) = if ids.is_empty() {
        (String::new(), 0)
    } else {
        filter_for(report)
    };
    if !ids.is_empty() {
        options["filter"] = json!(term);
        options["toggle"] = json!({"key": "s", "value": report["findings"][0]["status"]});
    }
    let update = std::env::var("PLUMB_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1");
    if let (Some(name), true) = (screenshots, update) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/img");
        std::fs::create_dir_all(&dir).unwrap();
        options["screenshots"] = json!({
            "1280": dir.join(format!("{name}-1280.png")),
            "390": dir.join(format!("{name}-390.png")),
        });
    }
    let seen = check_html(page, options);
    let shown: BTreeSet<String> = seen["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(shown, ids, "every finding of the JSON report has its row");
    assert_eq!(
        seen["ids"].as_array().unwrap().len(),
        ids.len(),
        "one row per finding"
    );
    assert_eq!(seen["consoleErrors"], json!([]), "console errors");
    assert_eq!(seen["pageErrors"], json!([]), "page errors");
    assert_eq!(seen["dialogs"], json!([]), "dialogs");
    assert_eq!(seen["refused"], json!([]), "requests other than the file");
    assert_eq!(seen["images"], 0, "no image");
    let levels: Vec<u64> = seen["headings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(levels.first(), Some(&1), "{levels:?}");
    assert!(
        levels.windows(2).all(|w| w[1] <= w[0] + 1),
        "headings skip a level: {levels:?}"
    );
    if !ids.is_empty() {
        let rows = seen["rows"].as_u64().unwrap() as usize;
        let others = rows - ids.len(); // the matrix's rows
        assert_eq!(
            seen["filtered"].as_u64().unwrap() as usize,
            named + matrix_rows_named(report, &term),
            "rows shown after typing {term:?} ({} before)",
            rows
        );
        assert_eq!(seen["cleared"].as_u64().unwrap() as usize, rows);
        let status = report["findings"][0]["status"].as_str().unwrap();
        let with_status = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["status"] == status)
            .count();
        if seen["toggled"].is_u64() {
            assert_eq!(seen["toggledStillShown"], 0, "{status} rows stay hidden");
            assert_eq!(
                seen["toggled"].as_u64().unwrap() as usize,
                ids.len() - with_status + others
            );
        }
        let details = seen["details"].as_str().unwrap();
        assert!(details.contains("finding"), "details: {details}");
    }
    let text = std::fs::read_to_string(page).unwrap();
    assert_no_secret(page, &text);
    seen
}

/// The matrix rows a filter text names (their object's `namespace/name`).
fn matrix_rows_named(report: &Value, term: &str) -> usize {
    report["rows"].as_array().map_or(0, |rows| {
        rows.iter()
            .filter(|r| object_name(r).to_lowercase().contains(term))
            .count()
    })
}

fn assert_no_secret(page: &Path, text: &str) {
    let secrets = std::fs::read_to_string(fixtures().join("demo/SECRETS.txt")).unwrap();
    for secret in secrets.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            !text.contains(secret),
            "{} holds a raw secret value",
            page.display()
        );
    }
}

#[test]
fn the_demo_pages_hold_every_finding_and_filter_offline() {
    let repo = demo_repo();
    let (page, report) = html_and_json(&repo, &["audit"], 1, "audit");
    assert!(report["findings"].as_array().unwrap().len() > 5);
    let seen = check_page(&page, &report, Some("report"));
    assert!(seen["requests"].as_array().unwrap().len() == 1, "{seen}");
    let text = std::fs::read_to_string(&page).unwrap();
    // The exit line is the table's own sentence.
    let table = repo
        .plumb()
        .args(["audit", "-o", "table"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    let exit_line = table
        .lines()
        .rev()
        .find(|l| l.starts_with("exit 1"))
        .unwrap();
    assert!(
        text.contains(&exit_line.replace('>', "&gt;")),
        "{exit_line}"
    );

    for (args, name) in [
        (vec!["parity", "staging", "production"], "parity"),
        (vec!["drift", "staging"], "drift"),
    ] {
        let (page, report) = html_and_json(&repo, &args, 1, name);
        check_page(&page, &report, None);
    }
}

/// A source links to its page on the forge the `origin` remote names, at the report's commit and
/// the object's line; plumb.yaml's `links.source` wins over the remote; credentials in the
/// remote's URL go nowhere.
#[test]
fn sources_link_to_the_forge_of_origin_or_to_links_source() {
    let repo = demo_repo();
    git2::Repository::open(repo.path())
        .unwrap()
        .remote(
            "origin",
            "https://x-access-token:ghs_TOKEN@github.com/example/shop.git",
        )
        .unwrap();
    let (page, report) = html_and_json(&repo, &["parity", "staging", "production"], 1, "links");
    let commit = report["inputs"]["commit"].as_str().unwrap();
    assert_eq!(
        report["inputs"]["source_link"],
        "https://github.com/example/shop/blob/{commit}/{file}#L{line}"
    );
    let seen = check_page(&page, &report, None);
    let links: Vec<&str> = seen["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(!links.is_empty(), "{seen}");
    let sources: BTreeSet<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| [&f["source"], &f["other_source"]])
        .filter(|s| s.is_object())
        .map(|s| {
            format!(
                "https://github.com/example/shop/blob/{commit}/{}#L{}",
                s["file"].as_str().unwrap(),
                s["line"]
            )
        })
        .collect();
    for link in &links {
        assert!(
            sources.contains(*link),
            "{link} is no source of {sources:?}"
        );
    }
    let text = std::fs::read_to_string(&page).unwrap();
    assert!(!text.contains("ghs_TOKEN"));

    let config = std::fs::read_to_string(repo.path().join("plumb.yaml")).unwrap();
    repo.write(
        "plumb.yaml",
        &format!("{config}links:\n  source: https://git.example.com/shop/-/blob/{{commit}}/{{file}}#L{{line}}\n"),
    );
    repo.commit("links");
    let (page, report) = html_and_json(&repo, &["parity", "staging", "production"], 1, "own");
    let commit = report["inputs"]["commit"].as_str().unwrap();
    let seen = check_page(&page, &report, None);
    let prefix = format!("https://git.example.com/shop/-/blob/{commit}/envs/");
    for link in seen["links"].as_array().unwrap() {
        assert!(link.as_str().unwrap().starts_with(&prefix), "{link}");
    }
}

#[test]
fn a_diff_against_a_baseline_shows_its_trends() {
    let repo = demo_repo();
    let (_, before) = html_and_json(&repo, &["diff", "--base", "HEAD~1"], 0, "before");
    let baseline = repo.path().join("before.json");
    assert!(!before["findings"].as_array().unwrap().is_empty());
    // One more change: production's api gets a replica count staging does not have.
    let api = "envs/production/api.yaml";
    let text = std::fs::read_to_string(repo.path().join(api)).unwrap();
    repo.write(api, &text.replacen("replicas: ", "replicas: 1", 1));
    repo.commit("production: more replicas");
    let (page, report) = html_and_json(
        &repo,
        &[
            "diff",
            "--base",
            "HEAD~2",
            "--baseline",
            baseline.to_str().unwrap(),
        ],
        0,
        "diff",
    );
    let seen = check_page(&page, &report, None);
    assert!(seen["rows"].as_u64().unwrap() > 0);
    let text = std::fs::read_to_string(&page).unwrap();
    let new = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["baseline"] == "new")
        .count();
    assert!(new > 0, "the change brought a new finding");
    assert!(text.contains("Against the baseline"));
    assert!(text.contains(&format!("{new} new")), "trend counts");
}

#[test]
fn the_matrix_page_shows_versions_in_promotion_order() {
    let repo = demo_repo();
    let (page, report) = html_and_json(&repo, &["matrix"], 0, "matrix");
    let seen = check_page(&page, &report, Some("matrix"));
    let rows = report["rows"].as_array().unwrap().len();
    assert!(rows > 0);
    assert_eq!(
        seen["rows"].as_u64().unwrap() as usize,
        rows + report["findings"].as_array().unwrap().len()
    );
    let text = std::fs::read_to_string(&page).unwrap();
    // Environments as columns, in promotion order; a legend of symbols.
    let envs: Vec<&str> = report["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    let at: Vec<usize> = envs
        .iter()
        .map(|e| text.find(&format!("<th scope=\"col\">{e}</th>")).unwrap())
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{envs:?}");
    assert!(text.contains("class=\"legend\""));
}

#[test]
fn a_page_of_over_5000_findings_stays_under_2_mb() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    let output = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gen-corpus"))
        .arg(&corpus)
        .arg("32000")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let page = dir.path().join("corpus.html");
    let json = dir.path().join("corpus.json");
    let run = support::plumb()
        .current_dir(&corpus)
        .args(["parity", "staging", "production", "-o", "json"])
        .arg(format!("--report=html={}", page.display()))
        .output()
        .unwrap();
    // Unreviewed parity findings are warnings: below the default --fail-on error.
    assert_eq!(run.status.code(), Some(0));
    std::fs::write(&json, &run.stdout).unwrap();
    let report: Value = serde_json::from_slice(&run.stdout).unwrap();
    let count = report["findings"].as_array().unwrap().len();
    assert!(count >= 5000, "{count} findings");
    eprintln!(
        "{count} findings: {} bytes",
        std::fs::metadata(&page).unwrap().len()
    );
    check_page(&page, &report, None);
}

#[test]
fn hostile_names_and_values_show_as_text() {
    let repo = demo_repo();
    let hostile = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
    ];
    // The same ConfigMap in both environments, each side's label and data hostile.
    let object = |namespace: &str, label: &str, data: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hostile\n  namespace: {namespace}\n  labels: {{team: '{}'}}\ndata:\n  page: '{}'\n",
            label.replace('\'', "''"),
            data.replace('\'', "''")
        )
    };
    repo.write(
        "envs/staging/hostile.yaml",
        &object("shop-staging", hostile[0], hostile[1]),
    );
    repo.write(
        "envs/production/hostile.yaml",
        &object("shop", hostile[1], hostile[0]),
    );
    repo.commit("a hostile ConfigMap");
    let (page, report) = html_and_json(&repo, &["parity", "staging", "production"], 1, "hostile");
    let text = std::fs::read_to_string(&page).unwrap();
    assert!(!text.contains(hostile[0]) && !text.contains("<img"));
    let mut options = json!({"texts": hostile});
    options["filter"] = json!("hostile");
    let seen = check_html(&page, options);
    assert_eq!(seen["dialogs"], json!([]));
    assert_eq!(seen["images"], 0);
    assert_eq!(seen["scripts"], 2, "only the page's own scripts");
    assert_eq!(seen["pageErrors"], json!([]));
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["resource"]["name"] == "hostile" && f["path"] == "data.page")
    );
    // Open, the object's details carry the values as text too.
    assert_eq!(seen["texts"], json!([true, true]), "{seen}");
}
