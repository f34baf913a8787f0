//! Remote Helm charts (docs/rendering.md, "Remote charts"): pulled with the real helm (4 and 3)
//! from a chart repository the test serves on 127.0.0.1, resolved, remapped by `charts.mirrors`,
//! cached, and refused clearly when they cannot be had.

mod support;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};
use support::chart_repo::{ChartRepo, unreachable_url};
use support::{Repo, counting_tool, stdout_json, tool, tool_calls};

/// A repository serving the chart `demo` at 1.2.0, 1.3.0, 2.0.0 and the prerelease 1.4.0-rc.1.
fn served(helm: &Path) -> ChartRepo {
    let charts = ChartRepo::start();
    for version in ["1.2.0", "1.3.0", "2.0.0", "1.4.0-rc.1"] {
        charts.add_chart(helm, "demo", version);
    }
    charts
}

/// A Git repository whose plumb.yaml has `staging` and `production`, each with one `helm:`
/// source (`chart:` as given, YAML flow), and `extra` at the end of the file.
fn config_repo(staging_chart: &str, production_chart: &str, extra: &str) -> Repo {
    let repo = Repo::new();
    repo.write(
        "plumb.yaml",
        &format!(
            "version: 1\nenvironments:\n  staging:\n    namespace: shop\n    sources:\n      - helm: {{chart: {staging_chart}, release: demo}}\n  production:\n    namespace: shop\n    sources:\n      - helm: {{chart: {production_chart}, release: demo}}\n{extra}"
        ),
    );
    repo.commit("config");
    repo
}

fn remote(url: &str, version: &str) -> String {
    json!({"repo": url, "chart": "demo", "version": version}).to_string()
}

fn run(repo: &Repo, helm: &Path, args: &[&str]) -> Output {
    repo.plumb()
        .env("PLUMB_HELM", helm)
        .env_remove("PLUMB_OFFLINE")
        .args(args)
        .output()
        .unwrap()
}

fn parity(repo: &Repo, helm: &Path, extra: &[&str], code: i32) -> Value {
    let mut args = vec![
        "parity",
        "staging",
        "production",
        "-o",
        "json",
        "--fail-on",
        "never",
    ];
    args.extend_from_slice(extra);
    let output = run(repo, helm, &args);
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}\n{}",
        stderr(&output),
        String::from_utf8_lossy(&output.stdout)
    );
    stdout_json(&output)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A wrapper around `real` that logs `helm <first argument>` to `calls.log` beside it.
fn counting_helm(dir: &Path, real: &Path) -> (PathBuf, PathBuf) {
    let log = dir.join("calls.log");
    (counting_tool(dir, "helm", real, &log), log)
}

fn calls(log: &Path) -> Vec<String> {
    let mut calls = tool_calls(log);
    calls.sort();
    calls
}

fn version_finding(report: &Value) -> &Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"]["kind"] == "ConfigMap" && f["path"] == "data.version")
        .unwrap_or_else(|| panic!("no data.version finding in {report:#}"))
}

/// An exact version and a range render; the report says which version each resolved to; the
/// second run pulls nothing and renders nothing.
fn exact_and_range(real_helm: &Path) {
    let charts = served(real_helm);
    let url = charts.url("charts");
    let repo = config_repo(&remote(&url, "1.2.0"), &remote(&url, "^1.0"), "");
    let bin = tempfile::tempdir().unwrap();
    let (helm, log) = counting_helm(bin.path(), real_helm);

    let cold = parity(&repo, &helm, &[], 0);
    let finding = version_finding(&cold);
    assert_eq!(
        (finding["left"].as_str(), finding["right"].as_str()),
        (Some("1.2.0"), Some("1.3.0"))
    );
    assert_eq!(
        cold["inputs"]["charts"],
        json!([
            {"env": "production", "source": format!("helm: demo ^1.0 from {url}"), "chart": "demo", "repo": url, "requested": "^1.0", "resolved": "1.3.0"},
            {"env": "staging", "source": format!("helm: demo 1.2.0 from {url}"), "chart": "demo", "repo": url, "requested": "1.2.0", "resolved": "1.2.0"}
        ])
    );
    // One index for the run, one archive per version.
    let mut paths = charts.paths();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/charts/demo-1.2.0.tgz",
            "/charts/demo-1.3.0.tgz",
            "/charts/index.yaml"
        ]
    );
    let cold_calls = calls(&log);
    assert_eq!(
        cold_calls.iter().filter(|c| *c == "helm template").count(),
        2,
        "{cold_calls:?}"
    );
    assert_eq!(
        cold_calls.iter().filter(|c| *c == "helm pull").count(),
        2,
        "{cold_calls:?}"
    );

    // Warm: the range asks the index what it resolves to now (one request, one helm call); no
    // archive is pulled, nothing is rendered.
    let warm = parity(&repo, &helm, &[], 0);
    assert_eq!(warm["inputs"]["charts"], cold["inputs"]["charts"]);
    assert_eq!(version_finding(&warm)["right"], "1.3.0");
    assert_eq!(charts.paths()[3..], ["/charts/index.yaml"]);
    let warm_calls = calls(&log);
    let count = |calls: &[String], call: &str| calls.iter().filter(|c| *c == call).count();
    assert_eq!(warm_calls.len(), cold_calls.len() + 1, "{warm_calls:?}");
    assert_eq!(
        count(&warm_calls, "helm repo"),
        count(&cold_calls, "helm repo") + 1
    );

    // A new release inside the range is picked up: pulled and rendered, nothing else.
    charts.add_chart(real_helm, "demo", "1.5.0");
    let newer = parity(&repo, &helm, &[], 0);
    assert_eq!(version_finding(&newer)["right"], "1.5.0");
    assert_eq!(
        charts.paths()[4..],
        ["/charts/index.yaml", "/charts/demo-1.5.0.tgz"]
    );
}

#[test]
fn helm_4_renders_exact_versions_and_ranges_and_pulls_each_once() {
    exact_and_range(&tool("helm4"));
}

#[test]
fn helm_3_renders_exact_versions_and_ranges_and_pulls_each_once() {
    exact_and_range(&tool("helm3"));
}

#[test]
fn exact_versions_on_a_warm_cache_fetch_nothing_and_start_no_tool() {
    let real = tool("helm4");
    let charts = served(&real);
    let url = charts.url("charts");
    let repo = config_repo(&remote(&url, "1.2.0"), &remote(&url, "2.0.0"), "");
    let bin = tempfile::tempdir().unwrap();
    let (helm, log) = counting_helm(bin.path(), &real);
    let cold = parity(&repo, &helm, &[], 0);
    assert_eq!(version_finding(&cold)["right"], "2.0.0");
    let (requests, tool_calls) = (charts.paths().len(), calls(&log).len());
    assert_eq!(requests, 3, "{:?}", charts.paths());
    let warm = parity(&repo, &helm, &[], 0);
    assert_eq!(charts.paths().len(), requests, "a warm run fetches nothing");
    assert_eq!(calls(&log).len(), tool_calls, "a warm run starts no tool");
    assert_eq!(warm["findings"], cold["findings"]);
    assert_eq!(warm["inputs"]["charts"], cold["inputs"]["charts"]);
}

#[test]
fn mirrors_remap_an_https_repository_and_an_oci_prefix() {
    let helm = tool("helm4");
    let charts = served(&helm);
    let repo = config_repo(
        &remote("https://charts.example.invalid/stable", "1.2.0"),
        "\"oci://registry.example.invalid/team/demo\"",
        &format!(
            "charts:\n  mirrors:\n    \"https://charts.example.invalid/\": \"{}\"\n    \"oci://registry.example.invalid\": \"{}/\"\n",
            charts.url("mirror"),
            charts.url("from-oci")
        ),
    );
    let report = parity(&repo, &helm, &[], 0);
    let finding = version_finding(&report);
    // No version on the OCI chart: the latest release, never the prerelease.
    assert_eq!(
        (finding["left"].as_str(), finding["right"].as_str()),
        (Some("1.2.0"), Some("2.0.0"))
    );
    let charts_input = &report["inputs"]["charts"];
    assert_eq!(
        charts_input[0]["repo"],
        "oci://registry.example.invalid/team"
    );
    assert_eq!(charts_input[0]["mirror"], charts.url("from-oci/team"));
    assert_eq!(charts_input[0]["requested"], Value::Null);
    assert_eq!(charts_input[0]["resolved"], "2.0.0");
    assert_eq!(
        charts_input[1]["repo"],
        "https://charts.example.invalid/stable"
    );
    assert_eq!(charts_input[1]["mirror"], charts.url("mirror/stable"));
    let mut paths = charts.paths();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/from-oci/team/demo-2.0.0.tgz",
            "/from-oci/team/index.yaml",
            "/mirror/stable/demo-1.2.0.tgz",
            "/mirror/stable/index.yaml"
        ]
    );
}

#[test]
fn an_oci_chart_without_a_mirror_is_a_render_error_naming_it() {
    let helm = tool("helm4");
    let charts = served(&helm);
    let repo = config_repo(
        &remote(&charts.url("charts"), "1.2.0"),
        "\"oci://quay.io/jetstack/charts/cert-manager\"",
        "",
    );
    let report = parity(&repo, &helm, &[], 3);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["kind"], "render");
    assert_eq!(errors[0]["env"], "production");
    assert_eq!(
        errors[0]["source"],
        "helm: oci://quay.io/jetstack/charts/cert-manager"
    );
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains("cert-manager")
            && message.contains("oci://quay.io/jetstack/charts")
            && message.contains("charts.mirrors"),
        "{message}"
    );
    assert_eq!(report["summary"]["complete"], false);
}

#[test]
fn offline_renders_from_a_warm_cache_and_refuses_to_fetch_into_a_cold_one() {
    let helm = tool("helm4");
    let charts = served(&helm);
    let url = charts.url("charts");
    let repo = config_repo(&remote(&url, "1.2.0"), &remote(&url, "1.x"), "");

    let cold = parity(&repo, &helm, &["--offline"], 3);
    assert!(
        charts.paths().is_empty(),
        "--offline fetched {:?}",
        charts.paths()
    );
    let errors = cold["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    for error in errors {
        assert_eq!(error["kind"], "render");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains("--offline") && message.contains("demo"),
            "{message}"
        );
    }

    parity(&repo, &helm, &[], 0);
    let fetched = charts.paths().len();
    // Offline, through the variable too: the range resolves against the index the online run
    // kept, the archives come from the cache.
    let output = repo
        .plumb()
        .env("PLUMB_HELM", &helm)
        .env("PLUMB_OFFLINE", "1")
        .args([
            "parity",
            "staging",
            "production",
            "-o",
            "json",
            "--fail-on",
            "never",
            "--no-cache",
        ])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "--no-cache has no cache to be offline from"
    );
    let warm = parity(&repo, &helm, &["--offline"], 0);
    assert_eq!(
        charts.paths().len(),
        fetched,
        "--offline fetched {:?}",
        charts.paths()
    );
    assert_eq!(version_finding(&warm)["right"], "1.3.0");
    // Renders cached: the archives are used only when a render is not. Drop the renders.
    std::fs::remove_dir_all(repo.cache_dir().join("renders")).unwrap();
    let output = repo
        .plumb()
        .env("PLUMB_HELM", &helm)
        .env("PLUMB_OFFLINE", "1")
        .args([
            "parity",
            "staging",
            "production",
            "-o",
            "json",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(version_finding(&stdout_json(&output))["right"], "1.3.0");
    assert_eq!(charts.paths().len(), fetched);
}

/// A repository that fails is a render error of the source that needs it, quickly, and its
/// credentials appear nowhere.
#[test]
fn failing_or_unreachable_repositories_are_render_errors_of_their_source() {
    let helm = tool("helm4");
    let charts = served(&helm);
    let secret = "hunter2-s3cret-token";
    let with_credentials = charts.url_with_credentials("bob", secret, "charts");
    let unreachable = unreachable_url();
    for (case, status) in [("404", 404), ("500", 500), ("unreachable", 0)] {
        let staging_url = if status == 0 {
            unreachable.clone()
        } else {
            with_credentials.clone()
        };
        charts.answer_with(status);
        let repo = config_repo(
            &remote(&staging_url, "1.x"),
            &remote(&charts.url("charts"), "1.2.0"),
            "",
        );
        let started = Instant::now();
        let output = run(
            &repo,
            &helm,
            &[
                "parity",
                "staging",
                "production",
                "-o",
                "json",
                "--fail-on",
                "never",
                "-vv",
            ],
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{case}: took {:?}",
            started.elapsed()
        );
        assert_eq!(output.status.code(), Some(3), "{case}: {}", stderr(&output));
        let everything = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            stderr(&output)
        );
        assert!(
            !everything.contains(secret),
            "{case}: the password leaked:\n{everything}"
        );
        let report = stdout_json(&output);
        let errors: Vec<&Value> = report["errors"].as_array().unwrap().iter().collect();
        let staging: Vec<&&Value> = errors.iter().filter(|e| e["env"] == "staging").collect();
        assert_eq!(staging.len(), 1, "{case}: {errors:#?}");
        assert_eq!(staging[0]["kind"], "render");
        let source = staging[0]["source"].as_str().unwrap();
        assert!(
            source.starts_with("helm: demo 1.x from http://127.0.0.1:"),
            "{case}: {source}"
        );
        let message = staging[0]["message"].as_str().unwrap();
        assert!(message.contains("index"), "{case}: {message}");
        if status == 500 {
            // The failure is the repository's; production (served while forced too) fails as well.
            assert_eq!(errors.len(), 2, "{case}: {errors:#?}");
        }
    }
    // The credentials reached the repository, as basic authentication.
    let sent = charts
        .requests()
        .into_iter()
        .filter_map(|r| r.authorization)
        .collect::<Vec<_>>();
    assert!(!sent.is_empty(), "no request carried the credentials");
}
