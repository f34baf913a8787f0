//! An estate of six environments (fixtures/estate): dev → qa → staging-eu, staging-us → prod-eu,
//! prod-us, the two production regions compared as peers. Every edge's and the peer pair's gaps,
//! exactly; a check scoped to production; a rule scoped to the peer pair; promotion order in every
//! format; an environment compared with nothing refused; each environment rendered once per run.

mod support;

use std::path::Path;
use support::{Repo, fixtures, sorted_findings, text, tool};

/// The estate, with the history its promotion order reads: dev and qa first ran api 1.8.0 — what
/// staging and production run — then moved on to 1.9.0.
fn estate_repo() -> Repo {
    let repo = Repo::new();
    repo.copy_dir(&fixtures().join("estate"), "");
    for env in ["dev", "qa"] {
        let app = format!("envs/{env}/app.yaml");
        let text = std::fs::read_to_string(repo.path().join(&app)).unwrap();
        repo.write(&app, &text.replace("shop-api:1.9.0", "shop-api:1.8.0"));
    }
    repo.commit("the estate runs api 1.8.0");
    repo.copy_dir(&fixtures().join("estate"), "");
    repo.commit("dev and qa run api 1.9.0");
    repo
}

const PROMOTION_ORDER: [&str; 6] = [
    "dev",
    "qa",
    "staging-us",
    "staging-eu",
    "prod-us",
    "prod-eu",
];

/// `kind envs resource path status rule` for each finding, sorted.
fn lines(report: &serde_json::Value) -> Vec<String> {
    sorted_findings(report, |f| {
        let envs: Vec<&str> = f["envs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        format!(
            "{} {} {}/{} {} {} {}",
            text(f, "kind"),
            envs.join(","),
            text(&f["resource"], "kind"),
            text(&f["resource"], "name"),
            text(f, "path"),
            text(f, "status"),
            text(f, "rule")
        )
    })
}

#[test]
fn an_audit_compares_every_edge_and_the_peer_pair_exactly() {
    let repo = estate_repo();
    let report = repo.report(&["audit", "-o", "json"], 1);
    let image = "spec.template.spec.containers[name=api].image";
    let mut expected = vec![
        // dev → qa: the log level only (replicas and images are equal).
        "parity dev,qa ConfigMap/app-config data.LOG_LEVEL unreviewed -".to_string(),
        // qa → each staging region: a region appears, replicas grow, the image lags (promotion
        // order: staging runs what qa ran before), and the NetworkPolicy first appears.
        "parity qa,staging-eu ConfigMap/app-config data.REGION unreviewed -".into(),
        "parity qa,staging-eu Deployment/api spec.replicas expected sized-per-env".into(),
        format!("promotion qa,staging-eu Deployment/api {image} expected -"),
        "only-in qa,staging-eu NetworkPolicy/default-deny  unreviewed -".into(),
        "parity qa,staging-us ConfigMap/app-config data.REGION unreviewed -".into(),
        "parity qa,staging-us Deployment/api spec.replicas expected sized-per-env".into(),
        format!("promotion qa,staging-us Deployment/api {image} expected -"),
        "only-in qa,staging-us NetworkPolicy/default-deny  unreviewed -".into(),
        // staging → production, per region.
        "parity staging-eu,prod-eu Deployment/api spec.replicas expected sized-per-env".into(),
        "only-in staging-us,prod-us NetworkPolicy/default-deny  unreviewed -".into(),
        // The peers: REGION allowed by the pair's own policy file, the NetworkPolicy prod-us
        // lacks.
        "parity prod-eu,prod-us ConfigMap/app-config data.REGION expected regions-differ".into(),
        "parity prod-eu,prod-us Deployment/api spec.replicas expected sized-per-env".into(),
        "only-in prod-eu,prod-us NetworkPolicy/default-deny  unreviewed -".into(),
        // The check scoped to production fires in prod-us only (dev runs one replica too).
        "check prod-us Deployment/api  violation prod-has-headroom".into(),
        // Drift of prod-eu, the one environment with live state.
        format!("drift prod-eu Deployment/api {image} unreviewed -"),
        "unmanaged prod-eu ConfigMap/debug-overrides  unreviewed -".into(),
    ];
    expected.sort();
    assert_eq!(lines(&report), expected);
    // The peer rule's message names the pair; the edge rule's names upstream and downstream.
    let message = |rule: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(
        message("regions-differ").contains("prod-eu and prod-us serve different regions"),
        "{}",
        message("regions-differ")
    );
    let lag = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "promotion" && f["envs"][1] == "staging-eu")
        .unwrap();
    let message = lag["message"].as_str().unwrap();
    assert!(
        message.starts_with("qa has run shop-api:1.9.0 since ")
            && message.ends_with("staging-eu still runs shop-api:1.8.0"),
        "{message}"
    );
    assert_eq!(lag["promotion"]["state"], "lag");
    // prod-eu's drift meets both of its pairs, which agree in Git: one note names them both.
    let drift = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "drift")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        drift.ends_with(
            "(Git agrees between prod-eu and staging-eu, prod-us here: this drift is a parity gap between the clusters only)"
        ),
        "{drift}"
    );
    // Environments in promotion order, each saying what the audit did with it.
    let environments = report["inputs"]["environments"].as_array().unwrap();
    let names: Vec<&str> = environments
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, PROMOTION_ORDER);
    let audited = |name: &str| {
        let e = environments.iter().find(|e| e["name"] == name).unwrap();
        (
            e["drift"].as_bool().unwrap_or(false),
            e["pairs"]
                .as_array()
                .map(|p| p.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                .unwrap_or_else(Vec::new),
        )
    };
    assert_eq!(audited("dev"), (false, vec!["dev→qa".to_string()]));
    assert_eq!(
        audited("prod-eu"),
        (
            true,
            vec!["staging-eu→prod-eu".to_string(), "prod-eu↔prod-us".into()]
        )
    );
}

/// Where each name first appears in `text`, for checking order.
fn first_positions(text: &str, names: &[&str]) -> Vec<usize> {
    names
        .iter()
        .map(|name| {
            text.find(name)
                .unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
        })
        .collect()
}

fn assert_in_order(what: &str, text: &str, names: &[&str]) {
    let positions = first_positions(text, names);
    let mut sorted = positions.clone();
    sorted.sort();
    assert_eq!(
        positions, sorted,
        "{what} lists {names:?} out of order:\n{text}"
    );
}

#[test]
fn every_format_lists_environments_in_promotion_order() {
    let repo = estate_repo();
    let run = |format: &str| {
        let output = repo
            .plumb()
            .args(["audit", "-o", format, "--fail-on", "never"])
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    // The table's summary: one row per environment, in promotion order, saying what was audited.
    let table = run("table");
    let summary_rows: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with('│'))
        .skip(1)
        .collect();
    let row_names: Vec<&str> = summary_rows
        .iter()
        .map(|l| l.trim_start_matches('│').split('┆').next().unwrap().trim())
        .collect();
    assert_eq!(row_names, PROMOTION_ORDER, "{table}");
    assert!(
        summary_rows[5].contains("drift, staging-eu→prod-eu, prod-eu↔prod-us"),
        "{table}"
    );
    // Sections follow the same order, each pair after its left environment: dev↔qa before qa's
    // edges, before staging's; each environment's section has its summary line.
    assert_in_order(
        "the table",
        &table,
        &[
            "\n▸ dev: 3 resources · no findings\n",
            "\n▸ dev ↔ qa: ",
            "\n▸ qa: ",
            "\n▸ qa ↔ staging-us: ",
            "\n▸ qa ↔ staging-eu: ",
            "\n▸ staging-us: ",
            "\n▸ staging-us ↔ prod-us: ",
            "\n▸ prod-us: ",
            "\n▸ prod-eu (drift): 4 resources · 5 live · 2 findings: 2 errors\n",
            "\n▸ prod-eu ↔ prod-us: ",
        ],
    );
    let markdown = run("markdown");
    assert_in_order(
        "the markdown summary",
        &markdown,
        &[
            "**dev**",
            "**qa**",
            "**staging-us**",
            "**staging-eu**",
            "**prod-us**",
            "**prod-eu**",
        ],
    );
    let junit = run("junit");
    assert_in_order(
        "the JUnit suites",
        &junit,
        &[
            "testsuite name=\"dev\"",
            "testsuite name=\"qa\"",
            "testsuite name=\"staging-us\"",
            "testsuite name=\"staging-eu\"",
            "testsuite name=\"prod-us\"",
            "testsuite name=\"prod-eu\"",
        ],
    );
    let sarif: serde_json::Value = serde_json::from_str(&run("sarif")).unwrap();
    let result_envs: Vec<String> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["properties"]["envs"][0]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let rank = |env: &str| PROMOTION_ORDER.iter().position(|e| *e == env);
    let ranks: Vec<Option<usize>> = result_envs.iter().map(|e| rank(e)).collect();
    let mut sorted = ranks.clone();
    sorted.sort();
    assert_eq!(
        ranks, sorted,
        "SARIF results out of promotion order: {result_envs:?}"
    );
}

#[test]
fn an_environment_compared_with_nothing_is_refused_by_audit_only() {
    let repo = estate_repo();
    let config = std::fs::read_to_string(repo.path().join("plumb.yaml")).unwrap();
    repo.write(
        "plumb.yaml",
        &format!("{config}\n").replace(
            "  dev:\n",
            "  sandbox:\n    sources: [{manifests: envs/dev}]\n  dev:\n",
        ),
    );
    let output = repo.plumb().args(["audit"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`sandbox` are compared with nothing"),
        "{stderr}"
    );
    assert!(stderr.contains("upstream: ENV"), "{stderr}");
    // Other commands still run on it.
    let render = repo.plumb().args(["render", "sandbox"]).output().unwrap();
    assert_eq!(render.status.code(), Some(0));
}

#[test]
fn a_promotion_cycle_is_bad_input_with_its_line() {
    let repo = estate_repo();
    let config = std::fs::read_to_string(repo.path().join("plumb.yaml")).unwrap();
    repo.write(
        "plumb.yaml",
        &config.replace(
            "  dev:\n    namespace: shop-dev\n",
            "  dev:\n    upstream: prod-us\n    namespace: shop-dev\n",
        ),
    );
    let output = repo.plumb().args(["audit"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`upstream` forms a cycle"), "{stderr}");
    assert!(stderr.contains("plumb.yaml:"), "{stderr}");
}

/// A wrapper around the real helm that logs each `helm template` to `calls.log` beside it.
fn counting_helm(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let log = dir.join("calls.log");
    let path = dir.join("helm");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\n[ \"$1\" = template ] && echo template >> {}\nexec {} \"$@\"\n",
            log.display(),
            tool("helm4").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    (path, log)
}

#[test]
fn an_audit_renders_each_environment_once_and_a_warm_one_renders_nothing() {
    let repo = estate_repo();
    repo.copy_dir(&fixtures().join("render/charts/shop"), "charts/shop");
    let config = std::fs::read_to_string(repo.path().join("plumb.yaml")).unwrap();
    // Every environment gains a Helm source: six renders in all.
    let mut with_helm = String::new();
    for line in config.lines() {
        with_helm.push_str(line);
        with_helm.push('\n');
        if let Some(name) = line.strip_prefix("    sources: [{manifests: envs/") {
            let env = name.trim_end_matches("}]");
            with_helm.pop();
            with_helm.truncate(with_helm.len() - 1);
            with_helm.push_str(&format!(
                ", {{helm: {{chart: charts/shop, release: shop-{env}, values: [charts/shop/values.yaml]}}}}]\n"
            ));
        }
    }
    repo.write("plumb.yaml", &with_helm);
    repo.commit("helm everywhere");
    let bin = tempfile::tempdir().unwrap();
    let (helm, log) = counting_helm(bin.path());
    let audit = |extra: &[&str]| {
        let output = repo
            .plumb()
            .env("PLUMB_HELM", &helm)
            .args(["audit", "-o", "json", "--fail-on", "never"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let renders = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .count()
    };
    // Six environments, five edges, one peer pair, one drift: each environment rendered once.
    audit(&["--no-cache"]);
    assert_eq!(renders(), 6, "one render per environment, not per pair");
    audit(&[]);
    assert_eq!(
        renders(),
        12,
        "a cold cache renders each environment once more"
    );
    audit(&[]);
    assert_eq!(renders(), 12, "a warm audit starts no tool");
}

#[test]
fn policy_lint_names_selections_that_match_no_environment_or_pair() {
    let repo = estate_repo();
    let policy = std::fs::read_to_string(repo.path().join("policies/estate.yaml")).unwrap();
    repo.write(
        "policies/estate.yaml",
        &policy.replace(
            "rules:\n",
            "rules:\n  - id: typo\n    match: {envs: [produciton]}\n    action: allow\n  - id: backwards\n    match: {pairs: [[prod-eu, staging-eu]]}\n    action: allow\n",
        ),
    );
    let output = repo.plumb().args(["policy", "lint"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("rule `typo` can never apply: `envs` names `produciton`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("rule `backwards` can never apply: `pairs` names [prod-eu, staging-eu]"),
        "{stdout}"
    );
    // The environment- and pair-scoped rules the fixture really has select something.
    assert!(!stdout.contains("prod-has-headroom"), "{stdout}");
    assert!(!stdout.contains("regions-differ"), "{stdout}");
}
