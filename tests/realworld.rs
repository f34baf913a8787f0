//! Rendering and parity over real GitOps repositories (`../shared/realworld`, read-only, copied
//! into temporary Git repositories). They are not part of this repository, so these tests are
//! marked ignored and `.ci/run` runs them (`-- --ignored`) whenever `../shared/realworld` is
//! there; run by hand, a missing directory fails them.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use support::{Repo, finding_lines, stdout_json, tool};

fn realworld(name: &str) -> PathBuf {
    let root = std::env::var_os("PLUMB_REALWORLD")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realworld"));
    let dir = root.join(name);
    assert!(
        dir.is_dir(),
        "{} is missing (set PLUMB_REALWORLD to the realworld directory)",
        dir.display()
    );
    dir
}

fn repo_of(name: &str, config: &str) -> Repo {
    let repo = Repo::new();
    repo.copy_dir(&realworld(name), "");
    repo.write("plumb.yaml", config);
    repo.commit(name);
    repo
}

fn run(repo: &Repo, helm: &Path, args: &[&str]) -> Output {
    let output = repo
        .plumb()
        .env("PLUMB_HELM", helm)
        .env("PLUMB_KUSTOMIZE", tool("kubectl"))
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "plumb {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

const PODINFO: &str = "version: 1
environments:
  dev:
    sources: [{kustomize: overlays/dev}]
  staging:
    sources: [{kustomize: overlays/staging}]
  production:
    sources: [{kustomize: overlays/production}]
  chart:
    namespace: podinfo
    sources:
      - helm: {chart: charts/podinfo, release: podinfo, values: [charts/podinfo/values.yaml]}
  chart-prod:
    namespace: podinfo
    sources:
      - helm: {chart: charts/podinfo, release: podinfo, values: [charts/podinfo/values-prod.yaml]}
parity:
  - between: [staging, production]
    namespaces: {staging: production}
";

#[test]
#[ignore = "needs ../shared/realworld; .ci/run runs it"]
fn podinfo_overlays_render_25_objects_each() {
    let repo = repo_of("podinfo", PODINFO);
    for env in ["dev", "staging", "production"] {
        let output = run(&repo, &tool("helm4"), &["render", env]);
        let text = String::from_utf8(output.stdout).unwrap();
        let documents = plumb::yaml::parse_documents(&text, "stdout").unwrap();
        assert_eq!(documents.len(), 25, "{env}");
        assert!(
            documents
                .iter()
                .all(|d| { d.value["metadata"]["labels"]["app.kubernetes.io/environment"] == env })
        );
        assert!(!text.contains("config.kubernetes.io/origin"));
    }
}

#[test]
#[ignore = "needs ../shared/realworld; .ci/run runs it"]
fn podinfo_staging_and_production_differ_only_in_the_environment_label() {
    let repo = repo_of("podinfo", PODINFO);
    let output = run(
        &repo,
        &tool("helm4"),
        &[
            "parity",
            "staging",
            "production",
            "-o",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let report = stdout_json(&output);
    assert_eq!(report["summary"]["complete"], true);
    assert_eq!(report["summary"]["resources"]["staging"], 25);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 25, "one label change per object");
    for f in findings {
        assert_eq!(f["kind"], "parity", "{f:#}");
        assert_eq!(
            f["path"],
            "metadata.labels[\"app.kubernetes.io/environment\"]"
        );
        assert_eq!(
            (&f["left"], &f["right"]),
            (&"staging".into(), &"production".into())
        );
        assert!(
            f["source"]["file"]
                .as_str()
                .unwrap()
                .starts_with("overlays/staging/")
                || f["source"]["file"].as_str().unwrap().starts_with("bases/"),
            "{f:#}"
        );
    }
}

fn podinfo_chart_values(helm: &Path) {
    let repo = repo_of("podinfo", PODINFO);
    let output = run(
        &repo,
        helm,
        &[
            "parity",
            "chart",
            "chart-prod",
            "-o",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let report = stdout_json(&output);
    assert_eq!(report["summary"]["resources"]["chart"], 2, "no test hooks");
    assert_eq!(report["summary"]["resources"]["chart-prod"], 6);
    let containers = "spec.template.spec.containers[name=podinfo]";
    let mut expected = vec![
        "only-in ConfigMap/podinfo-redis ".to_string(),
        "only-in Deployment/podinfo-redis ".into(),
        "only-in HorizontalPodAutoscaler/podinfo ".into(),
        "only-in Service/podinfo-redis ".into(),
        "parity Deployment/podinfo spec.replicas".into(),
    ];
    // `command` has no merge key: it is aligned as a sequence, so `--cache-server` inserted at 7
    // is one `added` finding, and what follows it is not reported as changed.
    expected.push(format!("parity Deployment/podinfo {containers}.command[7]"));
    for p in [
        "resources.limits",
        "resources.requests.cpu",
        "resources.requests.memory",
    ] {
        expected.push(format!("parity Deployment/podinfo {containers}.{p}"));
    }
    expected.sort();
    assert_eq!(finding_lines(&report), expected);
    let value = |path: &str| {
        let f = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap();
        (f["left"].clone(), f["right"].clone())
    };
    assert_eq!(value("spec.replicas").1, serde_json::Value::Null);
    assert_eq!(
        value(&format!("{containers}.command[7]")),
        (
            serde_json::Value::Null,
            "--cache-server=tcp://podinfo-redis:6379".into()
        )
    );
    assert_eq!(
        value(&format!("{containers}.resources.requests.cpu")).1,
        "100m"
    );
    assert_eq!(
        value(&format!("{containers}.resources.requests.memory")).1,
        "64Mi"
    );
    assert_eq!(
        value(&format!("{containers}.resources.limits")).1,
        serde_json::json!({"memory": "256Mi"})
    );
}

#[test]
#[ignore = "needs ../shared/realworld; .ci/run runs it"]
fn podinfo_chart_values_against_prod_values_with_helm_4() {
    podinfo_chart_values(&tool("helm4"));
}

#[test]
#[ignore = "needs ../shared/realworld; .ci/run runs it"]
fn podinfo_chart_values_against_prod_values_with_helm_3() {
    podinfo_chart_values(&tool("helm3"));
}

const FLUX: &str = "version: 1
environments:
  staging:
    sources: [{kustomize: apps/staging}]
  production:
    sources: [{kustomize: apps/production}]
  cluster-staging:
    sources: [{kustomize: clusters/staging}]
  cluster-production:
    sources: [{kustomize: clusters/production}]
";

#[test]
#[ignore = "needs ../shared/realworld; .ci/run runs it"]
fn flux_apps_staging_and_production_differ_in_version_range_tests_and_hostname() {
    let repo = repo_of("flux2-kustomize-helm-example", FLUX);
    let output = run(
        &repo,
        &tool("helm4"),
        &[
            "parity",
            "staging",
            "production",
            "-o",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let report = stdout_json(&output);
    assert_eq!(report["summary"]["complete"], true);
    assert_eq!(report["summary"]["resources"]["staging"], 3);
    assert_eq!(report["summary"]["resources"]["production"], 3);
    assert_eq!(
        finding_lines(&report),
        [
            "parity HelmRelease/podinfo spec.chart.spec.version",
            "parity HelmRelease/podinfo spec.test",
            "parity HelmRelease/podinfo spec.values.httpRoute.hostnames[0]",
        ]
    );
    let f = |path: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap()
            .clone()
    };
    assert_eq!(f("spec.chart.spec.version")["left"], ">=1.0.0-alpha");
    assert_eq!(f("spec.chart.spec.version")["right"], ">=1.0.0");
    assert_eq!(f("spec.test")["left"], serde_json::json!({"enable": false}));
    assert_eq!(
        f("spec.values.httpRoute.hostnames[0]")["right"],
        "podinfo.production"
    );
    assert_eq!(
        f("spec.test")["source"]["file"],
        "apps/base/podinfo/release.yaml"
    );
}

#[test]
#[ignore = "needs ../shared/realworld; .ci/run runs it"]
fn flux_cluster_directories_without_a_kustomization_render_as_plain_manifests() {
    let repo = repo_of("flux2-kustomize-helm-example", FLUX);
    for env in ["cluster-staging", "cluster-production"] {
        let output = run(&repo, &tool("helm4"), &["render", env]);
        let text = String::from_utf8(output.stdout).unwrap();
        let documents = plumb::yaml::parse_documents(&text, "stdout").unwrap();
        let mut objects: Vec<String> = documents
            .iter()
            .map(|d| {
                format!(
                    "{}/{}",
                    d.value["kind"].as_str().unwrap(),
                    d.value["metadata"]["name"].as_str().unwrap()
                )
            })
            .collect();
        objects.sort();
        assert_eq!(
            objects,
            [
                "ArtifactGenerator/flux-system",
                "Kustomization/apps",
                "Kustomization/infra-configs",
                "Kustomization/infra-controllers"
            ],
            "{env}"
        );
    }
    let output = run(
        &repo,
        &tool("helm4"),
        &[
            "parity",
            "cluster-staging",
            "cluster-production",
            "-o",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let report = stdout_json(&output);
    assert_eq!(report["summary"]["complete"], true);
    let lines = finding_lines(&report);
    assert!(
        lines.contains(&"parity Kustomization/apps spec.path".to_string()),
        "{lines:?}"
    );
}
