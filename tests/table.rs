//! The table, for people deciding what to fix first (docs/report.md, the table): triage order,
//! `expected` findings hidden and counted, alike findings on many objects as one entry, audit
//! sections, lines that fit 100 columns, and a last line that says why the exit code is what it
//! is. Each runs the real binary on a real Git repository; the JSON report of the same run is the
//! reference the table is checked against.

mod support;

use support::{Repo, demo_repo, stdout_json, tool};

/// The table plumb prints for `args` (plain, piped: 100 columns), and its exit code.
fn table(repo: &Repo, args: &[&str]) -> (String, i32) {
    let output = repo
        .plumb()
        .args(args)
        .args(["-o", "table", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.code() != Some(2),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (text, output.status.code().unwrap())
}

fn json(repo: &Repo, args: &[&str]) -> serde_json::Value {
    let output = repo
        .plumb()
        .args(args)
        .args(["-o", "json"])
        .output()
        .unwrap();
    stdout_json(&output)
}

/// Lines that state a finding: their tag (`[parity violation error · secrets-differ]`).
fn tagged(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| {
            ["violation", "unreviewed", "waived", "expected"]
                .iter()
                .any(|s| {
                    l.contains(&format!(" {s} error"))
                        || l.contains(&format!(" {s} warning"))
                        || l.contains(&format!(" {s} info"))
                })
        })
        .collect()
}

fn assert_fits(text: &str, width: usize) {
    for line in text.lines() {
        assert!(
            line.chars().count() <= width,
            "a line of {} columns:\n{line}\nin:\n{text}",
            line.chars().count()
        );
    }
    assert!(!text.contains(":0 ") && !text.contains(":0)"), "{text}");
}

#[test]
fn the_demo_parity_table_fits_a_screen_and_starts_with_an_error() {
    let repo = demo_repo();
    let args = ["parity", "staging", "production"];
    let (text, code) = table(&repo, &args);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.lines().count() <= 40,
        "{} lines:\n{text}",
        text.lines().count()
    );
    assert_fits(&text, 100);
    let findings = tagged(&text);
    assert!(
        findings[0].contains(" error"),
        "first finding: {}\n{text}",
        findings[0]
    );
    // Triage order: every violation or error before any other unreviewed finding, those before
    // waived ones.
    let rank = |line: &str| {
        if line.contains("violation") || line.contains(" unreviewed error") {
            0
        } else if line.contains("unreviewed") {
            1
        } else {
            2
        }
    };
    let ranks: Vec<i32> = findings.iter().map(|l| rank(l)).collect();
    let mut sorted = ranks.clone();
    sorted.sort();
    assert_eq!(ranks, sorted, "{text}");

    // Expected findings are hidden, and counted: as many as the JSON report has.
    let report = json(&repo, &args);
    let expected = report["summary"]["findings"]["by_status"]["expected"]
        .as_u64()
        .unwrap();
    assert!(expected >= 10, "{report:#}");
    assert!(!text.contains(" expected info"), "{text}");
    assert!(
        text.contains(&format!("\n{expected} expected hidden: --show expected\n")),
        "{text}"
    );
    // The exit line names the failing findings and the threshold.
    assert!(
        text.trim_end().ends_with(
            "exit 1: 1 error violation (secrets-differ on shop/db-credentials) at or above --fail-on error"
        ),
        "{text}"
    );

    // `--show all` (and `--show expected`) shows them, each once, after the others.
    for show in ["all", "expected"] {
        let mut with_show = args.to_vec();
        with_show.extend(["--show", show]);
        let (all, _) = table(&repo, &with_show);
        // Each expected finding is there: its field under its object's header (alike ones
        // share an entry).
        for f in report["findings"].as_array().unwrap() {
            if f["status"] == "expected" {
                let path = f["path"].as_str().unwrap();
                let name = format!(
                    "{}/{}",
                    f["resource"]["namespace"].as_str().unwrap(),
                    f["resource"]["name"].as_str().unwrap()
                );
                let header = all
                    .find(&format!(" {name}"))
                    .unwrap_or_else(|| panic!("{name} missing:\n{all}"));
                assert!(
                    [" ", "\n"]
                        .iter()
                        .any(|after| all[header..].contains(&format!("± {path}{after}"))),
                    "{path} of {name}:\n{all}"
                );
            }
        }
        assert!(!all.contains("expected hidden"), "{all}");
        let last_other = tagged(&all)
            .iter()
            .rposition(|l| !l.contains(" expected "))
            .unwrap();
        let first_expected = tagged(&all)
            .iter()
            .position(|l| l.contains(" expected "))
            .unwrap();
        assert!(last_other < first_expected, "{all}");
        assert_fits(&all, 100);
    }
}

/// Ten Deployments that differ between two environments in one label, and one that differs in
/// another way.
fn many_alike() -> Repo {
    let repo = Repo::new();
    repo.write(
        "plumb.yaml",
        "version: 1\nenvironments:\n  staging:\n    sources: [{manifests: staging}]\n  production:\n    upstream: staging\n    sources: [{manifests: production}]\n",
    );
    for env in ["staging", "production"] {
        let mut text = String::new();
        for i in 0..10 {
            text.push_str(&format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i:02}\n  namespace: shop\n  labels: {{tier: {}}}\nspec:\n  replicas: {}\n",
                if env == "staging" { "canary" } else { "stable" },
                if i == 9 && env == "production" { 2 } else { 1 },
            ));
        }
        repo.write(&format!("{env}/apps.yaml"), &text);
    }
    repo.commit("ten apps");
    repo
}

#[test]
fn one_difference_on_many_objects_is_one_entry() {
    let repo = many_alike();
    let args = ["parity", "staging", "production"];
    let (text, code) = table(&repo, &args);
    assert_eq!(code, 0, "{text}");
    assert_fits(&text, 100);
    assert!(
        text.contains(
            "\napps/Deployment on 10 objects: shop/app-00, shop/app-01, shop/app-02, shop/app-03, shop/app-04,\n    +5 more\n  ± metadata.labels.tier  staging: canary  ·  production: stable  [parity unreviewed warning]\n"
        ),
        "{text}"
    );
    // The label is one entry; the replicas of app-09 its own.
    assert_eq!(tagged(&text).len(), 2, "{text}");
    assert!(
        text.contains("\napps/Deployment shop/app-09  (staging/apps.yaml:"),
        "{text}"
    );
    // The JSON report keeps one finding per object.
    let report = json(&repo, &args);
    let labels = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == "metadata.labels.tier")
        .count();
    assert_eq!(labels, 10, "{report:#}");
    // The exit line: nothing at or above the threshold, and what lies below it.
    assert!(
        text.trim_end()
            .ends_with("exit 0: no finding at or above --fail-on error (11 warnings)"),
        "{text}"
    );

    // `--show all` names every object.
    let (all, _) = table(&repo, &["parity", "staging", "production", "--show", "all"]);
    assert!(all.contains("shop/app-08, shop/app-09\n"), "{all}");
    assert!(!all.contains("more"), "{all}");
    // `--fail-on warning` fails on them, and says which.
    let (failing, code) = table(
        &repo,
        &["parity", "staging", "production", "--fail-on", "warning"],
    );
    assert_eq!(code, 1);
    assert!(
        failing.contains(
            "exit 1: 11 unreviewed warnings (parity on shop/app-00, parity on shop/app-01,"
        ),
        "{failing}"
    );
    assert!(
        failing.contains("+6 more) at or above --fail-on warning"),
        "{failing}"
    );
}

#[test]
fn sources_that_cannot_be_rendered_say_why_the_run_exits_3() {
    let repo = Repo::new();
    repo.write(
        "plumb.yaml",
        "version: 1\nenvironments:\n  a:\n    sources:\n      - manifests: a\n      - helm: {chart: charts/web}\n  b:\n    sources:\n      - manifests: b\n      - helm: {chart: charts/web}\n",
    )
    .write("a/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: ns}\ndata: {k: '1'}\n")
    .write("b/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: ns}\ndata: {k: '2'}\n")
    .write("charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n")
    .write("charts/web/templates/x.yaml", "{{ fail \"no\" }}\n");
    repo.commit("c");
    let output = repo
        .plumb()
        .env("PLUMB_HELM", tool("helm4"))
        .args([
            "parity",
            "a",
            "b",
            "-o",
            "table",
            "--color",
            "never",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert_fits(&text, 100);
    assert!(text.contains("INCOMPLETE"), "{text}");
    assert!(
        text.trim_end()
            .ends_with("exit 3: incomplete — 2 sources could not be rendered"),
        "{text}"
    );
}

#[test]
fn an_audit_has_a_section_per_environment_and_pair_in_promotion_order() {
    let repo = demo_repo();
    let (text, code) = table(&repo, &["audit"]);
    assert_eq!(code, 1, "{text}");
    assert_fits(&text, 100);
    let sections: Vec<&str> = text.lines().filter(|l| l.starts_with("▸ ")).collect();
    let report = json(&repo, &["audit"]);
    let count = |envs: &[&str]| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["envs"] == serde_json::json!(envs))
            .count()
    };
    let staging = report["summary"]["resources"]["staging"].as_u64().unwrap();
    let production = report["summary"]["resources"]["production"]
        .as_u64()
        .unwrap();
    assert_eq!(sections.len(), 3, "{text}");
    assert!(
        sections[0].starts_with(&format!(
            "▸ staging (drift): {staging} resources · 25 live · {} findings",
            count(&["staging"])
        )),
        "{text}"
    );
    assert!(
        sections[1].starts_with(&format!(
            "▸ staging ↔ production: {} findings",
            count(&["staging", "production"])
        )),
        "{text}"
    );
    assert!(sections[1].ends_with(" expected hidden"), "{text}");
    assert!(
        sections[2].starts_with(&format!(
            "▸ production (drift): {production} resources · 34 live · {} findings",
            count(&["production"])
        )),
        "{text}"
    );
    // Each section holds its own findings: production's drifted image is under production.
    let production_at = text.find("\n▸ production (drift)").unwrap();
    let image = text
        .find("git: ghcr.io/example/shop-api:1.8.0  →  live: ghcr.io/example/shop-api:1.7.3-hotfix")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(image > production_at, "{text}");
    assert!(text.contains("\nexit 1: "), "{text}");
}

#[test]
fn the_markdown_comment_lists_expected_findings_only_on_show() {
    let repo = support::demo_repo();
    let markdown = |extra: &[&str]| -> String {
        let output = repo
            .plumb()
            .args(["parity", "staging", "production", "-o", "markdown"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        String::from_utf8(output.stdout).unwrap()
    };
    // The demo's 16 sizing differences are expected (sized-per-environment): counted, not listed.
    let triage = markdown(&[]);
    assert!(!triage.contains("spec.replicas"), "{triage}");
    assert!(
        triage.contains("expected not listed: --show expected"),
        "{triage}"
    );
    assert!(triage.contains("data.password"), "{triage}");
    let shown = markdown(&["--show", "expected"]);
    assert!(shown.contains("spec.replicas"), "{shown}");
    assert!(!shown.contains("expected not listed"), "{shown}");
}
