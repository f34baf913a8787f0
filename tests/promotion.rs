//! Promotion order read from a real Git history (docs/promotion.md, History): an upstream
//! environment's versions at each first-parent commit that changed what it reads, with dates
//! relative to now, judged against what downstream runs.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Output;
use support::{Repo, counting_tools, stdout_json, tool_calls};

const DAY: i64 = 86_400;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

const CONFIG: &str = "version: 1
environments:
  staging:
    namespace: shop
    sources: [{manifests: envs/staging}]
  production:
    upstream: staging
    namespace: shop
    sources: [{manifests: envs/production}]
";

fn deployment(name: &str, image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: {name}
          image: {image}
"
    )
}

const REGISTRY: &str = "registry.example.com/shop";
const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

/// Writes `env`'s Deployment `name` running `REGISTRY/name:tag` (`tag` may end in a digest).
fn set(repo: &Repo, env: &str, name: &str, tag: &str) {
    repo.write(
        &format!("envs/{env}/{name}.yaml"),
        &deployment(name, &format!("{REGISTRY}/{name}:{tag}")),
    );
}

/// The scripted history, oldest first (days ago):
/// - 60: both environments run api 1.0, web 1.0, cache 1.0 pinned by digest; production's worker
///   runs 1.0-hotfix, which staging never runs.
/// - 40: staging web 2.0.      - 35: production web 2.0 (promoted).
/// - 30: staging api 2.0.      - 25: a README (nobody reads it).
/// - 20: staging rolls web back to 1.0.
/// - 5: production's cache moves to another tag of the same digest.
///
/// So: api lags since the 30-day commit, web is reverted (since the 20-day rollback), worker is
/// unvalidated, cache is equal by digest. Returns the repository and the commits by age.
fn scripted() -> (Repo, BTreeMap<i64, String>) {
    let repo = Repo::new();
    let now = now();
    let mut commits = BTreeMap::new();
    repo.write("plumb.yaml", CONFIG);
    for env in ["staging", "production"] {
        set(&repo, env, "api", "1.0");
        set(&repo, env, "web", "1.0");
    }
    set(&repo, "staging", "worker", "1.0");
    set(&repo, "production", "worker", "1.0-hotfix");
    set(&repo, "staging", "cache", &format!("1.0@{DIGEST}"));
    set(&repo, "production", "cache", &format!("1.0@{DIGEST}"));
    commits.insert(60, repo.commit_at("start", now - 60 * DAY));
    set(&repo, "staging", "web", "2.0");
    commits.insert(40, repo.commit_at("staging web 2.0", now - 40 * DAY));
    set(&repo, "production", "web", "2.0");
    commits.insert(35, repo.commit_at("production web 2.0", now - 35 * DAY));
    set(&repo, "staging", "api", "2.0");
    commits.insert(30, repo.commit_at("staging api 2.0", now - 30 * DAY));
    repo.write("README.md", "the shop\n");
    commits.insert(25, repo.commit_at("readme", now - 25 * DAY));
    set(&repo, "staging", "web", "1.0");
    commits.insert(
        20,
        repo.commit_at("staging web back to 1.0", now - 20 * DAY),
    );
    set(&repo, "production", "cache", &format!("rebuilt@{DIGEST}"));
    commits.insert(5, repo.commit_at("production cache retag", now - 5 * DAY));
    (repo, commits)
}

fn parity(repo: &Repo, extra: &[&str], code: i32) -> (Value, Output) {
    let output = repo
        .plumb()
        .args(["parity", "staging", "production", "-o", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (stdout_json(&output), output)
}

/// The promotion findings by Deployment name.
fn promotions(report: &Value) -> BTreeMap<String, Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "promotion")
        .map(|f| {
            (
                f["resource"]["name"].as_str().unwrap().to_string(),
                f.clone(),
            )
        })
        .collect()
}

/// Whole days from an RFC 3339 time to now.
fn age_days(time: &Value) -> i64 {
    let text = time.as_str().unwrap();
    let seconds = chrono_free_parse(text);
    (now() - seconds) / DAY
}

/// `2026-11-18T03:29:18Z` as seconds since the epoch (civil-from-days, no date crate).
fn chrono_free_parse(text: &str) -> i64 {
    let n = |range: std::ops::Range<usize>| text[range].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    let (hh, mm, ss) = (n(11..13), n(14..16), n(17..19));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * DAY + hh * 3600 + mm * 60 + ss
}

#[test]
fn a_scripted_history_gives_exactly_its_planted_lag_unvalidated_and_reverted() {
    let (repo, commits) = scripted();
    let (report, _) = parity(&repo, &[], 1);
    assert_eq!(report["summary"]["complete"], true, "{report:#}");
    let found = promotions(&report);
    assert_eq!(
        found.keys().collect::<Vec<_>>(),
        ["api", "web", "worker"],
        "{report:#}"
    );
    // Staging changed what it reads at 4 commits (60, 40, 30, 20 days ago): the production-only
    // commits and the README are not states of staging.
    for finding in found.values() {
        assert_eq!(finding["promotion"]["searched_commits"], 4, "{finding:#}");
        assert_eq!(age_days(&finding["promotion"]["searched_since"]), 60);
    }
    let api = &found["api"];
    assert_eq!(api["promotion"]["state"], "lag");
    assert_eq!(api["promotion"]["since_commit"], commits[&30].as_str());
    assert_eq!(age_days(&api["promotion"]["since_time"]), 30);
    assert_eq!(
        api["promotion"]["upstream_value"],
        format!("{REGISTRY}/api:2.0")
    );
    assert_eq!(api["status"], "expected");
    let message = api["message"].as_str().unwrap();
    assert!(
        message.contains(&commits[&30][..7]) && message.contains("30 days"),
        "{message}"
    );
    let web = &found["web"];
    assert_eq!(web["promotion"]["state"], "reverted");
    assert_eq!(web["promotion"]["since_commit"], commits[&20].as_str());
    assert_eq!(web["severity"], "warning");
    let worker = &found["worker"];
    assert_eq!(worker["promotion"]["state"], "unvalidated");
    assert_eq!(worker["severity"], "error");
    assert_eq!(worker["status"], "violation");
    // The cache image differs in its tag only: the same digest is the same version, no finding
    // of any kind.
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["resource"]["name"] == "cache"),
        "{report:#}"
    );
}

#[test]
fn history_n_narrows_the_window_and_the_report_says_how_far_it_searched() {
    let (repo, commits) = scripted();
    let (report, _) = parity(&repo, &["--history", "2"], 1);
    let found = promotions(&report);
    for finding in found.values() {
        assert_eq!(finding["promotion"]["searched_commits"], 2, "{finding:#}");
        // The two newest states of staging: from 20 and 30 days ago.
        assert_eq!(age_days(&finding["promotion"]["searched_since"]), 30);
    }
    // api 1.0 was staging's 40 days ago, outside the window: no longer lag but unvalidated.
    assert_eq!(found["api"]["promotion"]["state"], "unvalidated");
    let message = found["api"]["message"].as_str().unwrap();
    assert!(message.contains("searched 2 commits"), "{message}");
    // web 2.0 is in the window, the 1.0 before it is not: a lag since the rollback.
    assert_eq!(found["web"]["promotion"]["state"], "lag");
    assert_eq!(
        found["web"]["promotion"]["since_commit"],
        commits[&20].as_str()
    );
    // One entry: only the loaded state.
    let (report, _) = parity(&repo, &["--history", "1"], 1);
    let found = promotions(&report);
    assert_eq!(found["api"]["promotion"]["searched_commits"], 1);
    assert_eq!(found["web"]["promotion"]["state"], "unvalidated");
}

const CHART: &str = "apiVersion: v2
name: app
version: 0.1.0
";

const TEMPLATE: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
        - name: app
          image: registry.example.com/shop/app:{{ .Values.tag }}
";

fn chart(repo: &Repo, env: &str, tag: &str) {
    repo.write(&format!("charts/{env}/Chart.yaml"), CHART)
        .write(&format!("charts/{env}/templates/app.yaml"), TEMPLATE)
        .write(
            &format!("charts/{env}/values.yaml"),
            &format!("tag: \"{tag}\"\n"),
        );
}

#[test]
fn renders_run_only_for_commits_that_changed_the_charts_inputs_and_never_when_warm() {
    let repo = Repo::new();
    let now = now();
    repo.write(
        "plumb.yaml",
        "version: 1
environments:
  staging:
    namespace: shop
    sources: [{helm: {chart: charts/staging, release: app}}]
  production:
    upstream: staging
    namespace: shop
    sources: [{helm: {chart: charts/production, release: app}}]
",
    );
    chart(&repo, "staging", "1.0");
    chart(&repo, "production", "1.0");
    repo.commit_at("start", now - 50 * DAY);
    chart(&repo, "staging", "1.1");
    repo.commit_at("staging 1.1", now - 40 * DAY);
    for day in [35, 30, 25] {
        repo.write("README.md", &format!("day {day}\n"));
        repo.commit_at("readme", now - day * DAY);
    }
    chart(&repo, "production", "1.1");
    repo.commit_at("production 1.1", now - 20 * DAY);
    chart(&repo, "staging", "1.2");
    let lag = repo.commit_at("staging 1.2", now - 10 * DAY);
    let bin = tempfile::tempdir().unwrap();
    let (helm, kubectl, log) = counting_tools(bin.path());
    let run = |extra: &[&str]| {
        std::fs::remove_file(&log).ok();
        let output = repo
            .plumb()
            .env("PLUMB_HELM", &helm)
            .env("PLUMB_KUSTOMIZE", &kubectl)
            .args(["parity", "staging", "production", "-o", "json"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let templates = tool_calls(&log)
            .iter()
            .filter(|c| *c == "helm template")
            .count();
        (stdout_json(&output), templates, tool_calls(&log))
    };
    let check = |report: &Value| {
        let found = promotions(report);
        assert_eq!(found["app"]["promotion"]["state"], "lag", "{report:#}");
        assert_eq!(found["app"]["promotion"]["since_commit"], lag.as_str());
        assert_eq!(found["app"]["promotion"]["searched_commits"], 3);
    };
    // Cold, no cache at all: the two environments at the ref, then staging at the two older
    // commits that changed its chart — not at the five that did not.
    let (report, templates, _) = run(&["--no-cache"]);
    check(&report);
    assert_eq!(templates, 4);
    // Cold with a cache, then warm: the second run starts no tool at all.
    let (report, templates, _) = run(&[]);
    check(&report);
    assert_eq!(templates, 4);
    let (report, _, calls) = run(&[]);
    check(&report);
    assert_eq!(calls, Vec::<String>::new());
}

#[test]
fn a_broken_file_in_old_history_ends_the_history_there_and_the_run_stays_complete() {
    let repo = Repo::new();
    let now = now();
    repo.write("plumb.yaml", CONFIG);
    set(&repo, "staging", "api", "1.0");
    set(&repo, "production", "api", "1.0");
    repo.commit_at("start", now - 30 * DAY);
    repo.write(
        "envs/staging/broken.yaml",
        "kind: ConfigMap\nmetadata: {name: [oops\ndata: {token: do-not-print-me}\n",
    );
    repo.commit_at("broken", now - 20 * DAY);
    repo.remove("envs/staging/broken.yaml");
    set(&repo, "staging", "api", "2.0");
    repo.commit_at("fixed, api 2.0", now - 10 * DAY);
    let (report, output) = parity(&repo, &["-v"], 1);
    assert_eq!(report["summary"]["complete"], true, "{report:#}");
    assert_eq!(report["errors"], serde_json::json!([]));
    let found = promotions(&report);
    // Staging's api 1.0 is behind the broken commit: not seen, so production's 1.0 is
    // unvalidated, and the report says only one commit was searched.
    let api = &found["api"]["promotion"];
    assert_eq!(api["state"], "unvalidated", "{report:#}");
    assert_eq!(api["searched_commits"], 1);
    assert_eq!(age_days(&api["searched_since"]), 10);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("history stops"), "{stderr}");
    assert!(!stderr.contains("do-not-print-me"), "{stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("do-not-print-me"));
}

#[test]
fn the_matrix_shows_the_scripted_history_as_parity_judges_it() {
    let (repo, commits) = scripted();
    let output = repo
        .plumb()
        .args(["matrix", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "the worker is unvalidated");
    let matrix = stdout_json(&output);
    assert_eq!(
        matrix["environments"],
        serde_json::json!(["staging", "production"])
    );
    let cell = |name: &str, env: &str| -> Value {
        matrix["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"]["name"] == name)
            .unwrap_or_else(|| panic!("no row {name}: {matrix:#}"))["cells"][env]
            .clone()
    };
    let states: Vec<(String, String, String)> = ["api", "cache", "web", "worker"]
        .iter()
        .map(|name| {
            (
                name.to_string(),
                cell(name, "staging")["state"].as_str().unwrap().to_string(),
                cell(name, "production")["state"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    let expected = [
        ("api", "origin", "lag"),
        ("cache", "origin", "same"),
        ("web", "origin", "reverted"),
        ("worker", "origin", "unvalidated"),
    ]
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
    assert_eq!(states, expected);
    // Each cell's run began where its own environment's history says: staging's api at the 30-day
    // commit, its web at the 20-day rollback; production's web at the 35-day promotion.
    assert_eq!(
        cell("api", "staging")["since_commit"],
        commits[&30].as_str()
    );
    assert_eq!(
        cell("web", "staging")["since_commit"],
        commits[&20].as_str()
    );
    assert_eq!(
        cell("web", "production")["since_commit"],
        commits[&35].as_str()
    );
    // The matrix's findings are parity's, id for id.
    let (report, _) = parity(&repo, &[], 1);
    let ids = |findings: &Value| -> Vec<String> {
        let mut ids: Vec<String> = findings
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "promotion")
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&matrix["findings"]), ids(&report["findings"]));
    // The table marks the same states on each row (its legend names every state, so the rows
    // are read, not the whole text).
    let table = repo
        .plumb()
        .args(["matrix", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    let row = |name: &str| -> String {
        text.lines()
            .find(|l| l.contains(&format!("shop/{name} ")))
            .unwrap_or_else(|| panic!("no row {name}:\n{text}"))
            .to_string()
    };
    assert!(row("api").trim_end().ends_with("<30d"), "{text}");
    assert!(row("web").trim_end().ends_with('↺'), "{text}");
    assert!(row("worker").trim_end().ends_with('!'), "{text}");
    assert!(row("cache").trim_end().ends_with('='), "{text}");
}

#[test]
fn a_shallow_clone_says_its_history_ends_where_the_clone_does() {
    let (repo, _) = scripted();
    let clone = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1"])
        .arg(format!("file://{}", repo.path().display()))
        .arg(clone.path())
        .status()
        .expect("git runs (the tests need the git command for a shallow clone)");
    assert!(status.success());
    let output = support::plumb()
        .current_dir(clone.path())
        .args(["parity", "staging", "production", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report = stdout_json(&output);
    let found = promotions(&report);
    // One commit in the clone: api 1.0 is behind it, so unvalidated — and the message says why
    // and what to do.
    let api = &found["api"];
    assert_eq!(api["promotion"]["state"], "unvalidated", "{report:#}");
    assert_eq!(api["promotion"]["searched_commits"], 1);
    let message = api["message"].as_str().unwrap();
    assert!(
        message.contains("shallow clone") && message.contains("fetch-depth: 0"),
        "{message}"
    );
    // The full repository's history ends at its root: no such hint.
    let (report, _) = parity(&repo, &["--history", "1"], 1);
    let message = promotions(&report)["api"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!message.contains("shallow"), "{message}");
}

#[test]
fn an_environment_added_mid_history_begins_there_without_a_warning() {
    let repo = Repo::new();
    let now = now();
    repo.write("README.md", "before the environments\n");
    repo.commit_at("readme", now - 40 * DAY);
    repo.write("plumb.yaml", CONFIG);
    set(&repo, "staging", "api", "1.0");
    set(&repo, "production", "api", "1.0");
    repo.commit_at("the environments", now - 30 * DAY);
    set(&repo, "staging", "api", "2.0");
    let bump = repo.commit_at("staging api 2.0", now - 10 * DAY);
    let (report, output) = parity(&repo, &[], 0);
    let api = &promotions(&report)["api"]["promotion"];
    assert_eq!(api["state"], "lag", "{report:#}");
    assert_eq!(api["since_commit"], bump.as_str());
    assert_eq!(api["searched_commits"], 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("WARN"), "{stderr}");
}
