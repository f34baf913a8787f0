//! `argocd:` sources end to end: the real plumb binary, the real helm and kustomize, on a real Git
//! repository built from fixtures/argocd (Applications for staging and production, an
//! ApplicationSet, live snapshots with planted drift).

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Output;
use support::{Repo, counting_tools, fixtures, stdout_json, tool};

fn fixture_repo() -> Repo {
    let repo = Repo::new();
    repo.copy_dir(&fixtures().join("argocd"), "");
    repo.commit("argocd fixture");
    repo
}

/// plumb with the pinned helm and kustomize (or the given wrappers).
fn run_with(repo: &Repo, helm: &Path, kubectl: &Path, args: &[&str]) -> Output {
    repo.plumb()
        .env("PLUMB_HELM", helm)
        .env("PLUMB_KUSTOMIZE", kubectl)
        .args(args)
        .output()
        .expect("plumb runs")
}

fn run(repo: &Repo, args: &[&str]) -> Output {
    run_with(repo, &tool("helm4"), &tool("kubectl"), args)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn report(repo: &Repo, args: &[&str], code: i32) -> Value {
    let output = run(repo, args);
    assert_eq!(
        output.status.code(),
        Some(code),
        "plumb {args:?}: {}",
        stderr(&output)
    );
    stdout_json(&output)
}

/// `kind Kind/name path left -> right` of every finding, sorted.
fn findings(report: &Value) -> Vec<String> {
    support::sorted_findings(report, |f| {
        format!(
            "{} {}/{} {} {} -> {}",
            support::text(f, "kind"),
            support::text(&f["resource"], "kind"),
            support::text(&f["resource"], "name"),
            support::text(f, "path"),
            f["left"],
            f["right"]
        )
    })
}

#[test]
fn drift_is_exactly_the_planted_drift_and_ignore_differences_hides_only_the_api_replicas() {
    let repo = fixture_repo();
    let staging = report(&repo, &["drift", "staging", "-o", "json"], 1);
    assert_eq!(
        findings(&staging),
        [
            "drift Deployment/web spec.template.spec.containers[name=web].env[name=LOG_LEVEL].value \"debug\" -> \"info\""
        ]
    );
    assert_eq!(staging["summary"]["ignored"], 0);
    assert_eq!(staging["errors"], serde_json::json!([]));
    // Objects without a namespace went to each Application's destination namespace.
    assert_eq!(
        staging["findings"][0]["resource"]["namespace"],
        "shop-staging"
    );

    let production = report(&repo, &["drift", "production", "-o", "json"], 1);
    assert_eq!(
        findings(&production),
        [
            "drift ConfigMap/shop-config data.ENV \"production\" -> \"prod\"",
            // web's replicas drifted too: api-production's ignoreDifferences is not web's.
            "drift Deployment/web spec.replicas 3 -> 4",
            "drift Deployment/web spec.template.spec.containers[name=web].image \"ghcr.io/example/web:1.0.0\" -> \"ghcr.io/example/web:1.0.1\"",
        ]
    );
    // api's replicas (2 desired, 5 live) are ignored by its Application's ignoreDifferences.
    assert_eq!(production["summary"]["ignored"], 1);
    assert_eq!(production["summary"]["complete"], true);
}

#[test]
fn without_ignore_differences_the_api_replicas_are_drift() {
    let repo = fixture_repo();
    let path = repo.path().join("argocd/production.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let cut = text.find("  ignoreDifferences:").unwrap();
    std::fs::write(&path, &text[..cut]).unwrap();
    repo.commit("no ignoreDifferences");
    let production = report(&repo, &["drift", "production", "-o", "json"], 1);
    assert!(
        findings(&production).contains(&"drift Deployment/api spec.replicas 2 -> 5".to_string()),
        "{:?}",
        findings(&production)
    );
    assert_eq!(production["summary"]["ignored"], 0);
}

#[test]
fn parity_is_exactly_the_planted_differences_with_ref_value_files_and_values_object() {
    let repo = fixture_repo();
    let parity = report(&repo, &["parity", "staging", "production", "-o", "json"], 0);
    assert_eq!(
        findings(&parity),
        [
            // The ApplicationSet generated one Application per environment; `name:` picked each.
            "parity ConfigMap/shop-config data.ENV \"staging\" -> \"production\"",
            // kustomize: the production overlay's patch, and each Application's `images`.
            "parity Deployment/api spec.replicas 1 -> 2",
            "parity Deployment/api spec.template.spec.containers[name=api].image \"ghcr.io/example/api:1.4.0\" -> \"ghcr.io/example/api:1.3.0\"",
            // helm: production's values come from `$values/envs/production/web.yaml` (a `ref:`
            // source) and `valuesObject`, staging's from a value file relative to the chart.
            "parity Deployment/web spec.replicas 1 -> 3",
            "parity Deployment/web spec.template.spec.containers[name=web].env[name=HOST].value \"staging.example.com\" -> \"example.com\"",
            "parity Deployment/web spec.template.spec.containers[name=web].env[name=LOG_LEVEL].value \"debug\" -> \"warn\"",
        ]
    );

    // The `$ref` value file is what production renders with: changing it changes production.
    repo.write(
        "envs/production/web.yaml",
        "replicas: 6\nhost: example.com\n",
    );
    repo.commit("production scales out");
    let parity = report(&repo, &["parity", "staging", "production", "-o", "json"], 0);
    assert!(
        findings(&parity).contains(&"parity Deployment/web spec.replicas 1 -> 6".to_string()),
        "{:?}",
        findings(&parity)
    );
}

#[test]
fn the_application_set_skips_excluded_and_nested_files() {
    let repo = fixture_repo();
    let output = run(&repo, &["render", "staging"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stream = String::from_utf8(output.stdout).unwrap();
    assert!(stream.contains("name: shop-config"), "{stream}");
    // `exclude: "*-local.yaml"`, and no `recurse`.
    assert!(!stream.contains("developer-overrides"), "{stream}");
    assert!(!stream.contains("next-config"), "{stream}");
}

#[test]
fn a_git_directory_application_set_with_go_templates_generates_and_name_picks() {
    let repo = fixture_repo();
    repo.write(
        "argocd/api-set.yaml",
        r#"apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: api
  namespace: argocd
spec:
  goTemplate: true
  generators:
    - git:
        repoURL: https://github.com/example/shop.git
        revision: main
        directories:
          - path: apps/api/overlays/*
          - path: apps/api/overlays/production
            exclude: true
  template:
    metadata:
      name: 'api-{{.path.basename}}'
    spec:
      project: shop
      source:
        repoURL: https://github.com/example/shop.git
        targetRevision: main
        path: '{{.path.path}}'
      destination:
        namespace: 'team-{{.path.basename}}'
"#,
    );
    repo.write(
        "plumb-set.yaml",
        "version: 1\nrepositories: [https://github.com/example/shop.git]\nenvironments:\n  staging:\n    sources:\n      - argocd: argocd/api-set.yaml\n        name: api-staging\n  production:\n    sources:\n      - argocd: argocd/api-set.yaml\n        name: api-production\n",
    );
    repo.commit("api ApplicationSet");
    let output = run(&repo, &["render", "staging", "-c", "plumb-set.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stream = String::from_utf8(output.stdout).unwrap();
    assert!(stream.contains("namespace: team-staging"), "{stream}");
    assert!(
        stream.contains("image: ghcr.io/example/api:0.0.0"),
        "{stream}"
    );
    // The production directory is excluded: the set generates no `api-production`.
    let output = run(&repo, &["render", "production", "-c", "plumb-set.yaml"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("argocd/api-set.yaml:1")
            && err.contains("no Application named `api-production`")
            && err.contains("only api-staging"),
        "{err}"
    );
}

#[test]
fn another_repository_and_an_unsupported_field_are_render_errors_naming_them() {
    let repo = fixture_repo();
    let path = repo.path().join("argocd/production.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(
            "    - repoURL: https://github.com/example/shop\n",
            "    - repoURL: https://github.com/example/shop-values\n",
        )
        .replace(
            "    kustomize:\n      images:",
            "    kustomize:\n      labelWithoutSelector: true\n      images:",
        );
    std::fs::write(&path, text).unwrap();
    repo.commit("values elsewhere, an unsupported kustomize field");
    let drift = report(&repo, &["drift", "production", "-o", "json"], 3);
    let errors: Vec<(String, String)> = drift["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(
        errors.iter().all(|(kind, _)| kind == "render"),
        "{errors:?}"
    );
    // The `$values/` file and the `ref:` source it names, each at its field.
    assert!(
        errors[0].1.contains("Application `web-production` (argocd/production.yaml:1)")
            && errors[0].1.contains("`spec.sources[0].helm.valueFiles[0]` $values/envs/production/web.yaml: `spec.sources[1]` (ref `values`) is the repository https://github.com/example/shop-values, not this one"),
        "{errors:?}"
    );
    assert!(
        errors[1].1.contains(
            "`spec.sources[1].repoURL` https://github.com/example/shop-values is another repository"
        ),
        "{errors:?}"
    );
    assert!(
        errors[2]
            .1
            .contains("Application `api-production` (argocd/production.yaml:25)")
            && errors[2]
                .1
                .contains("`spec.source.kustomize.labelWithoutSelector` is not followed"),
        "{errors:?}"
    );
    assert_eq!(drift["summary"]["complete"], false);
    // The config Application still rendered and is judged.
    assert!(
        findings(&drift).contains(
            &"drift ConfigMap/shop-config data.ENV \"production\" -> \"prod\"".to_string()
        ),
        "{:?}",
        findings(&drift)
    );
}

#[test]
fn bad_application_files_are_bad_input_naming_file_and_line() {
    let repo = fixture_repo();
    repo.write(
        "plumb.yaml",
        "version: 1\nrepositories: [https://github.com/example/shop.git]\nenvironments:\n  staging:\n    sources:\n      - argocd: argocd/staging.yaml\n",
    );
    repo.write(
        "argocd/broken.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: [unclosed\n",
    );
    repo.write(
        "plumb-broken.yaml",
        "version: 1\nenvironments:\n  staging:\n    sources:\n      - argocd: argocd/broken.yaml\n",
    );
    repo.write(
        "plumb-none.yaml",
        "version: 1\nenvironments:\n  staging:\n    sources:\n      - argocd: charts/web/values.yaml\n",
    );
    repo.commit("ambiguous, broken, empty");
    // Two Applications, no `name:`.
    let output = run(&repo, &["render", "staging"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("argocd/staging.yaml:22")
            && err.contains("holds 2 Applications (web-staging, api-staging)")
            && err.contains("add `name: <Application>`"),
        "{err}"
    );
    // YAML that does not parse.
    let output = run(&repo, &["render", "staging", "-c", "plumb-broken.yaml"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("argocd/broken.yaml:"), "{err}");
    assert!(err.contains("fix the file and commit it"), "{err}");
    // No Application at all.
    let output = run(&repo, &["render", "staging", "-c", "plumb-none.yaml"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("charts/web/values.yaml:1") && err.contains("holds no Argo CD Application"),
        "{err}"
    );
}

#[test]
fn following_applications_runs_as_many_renders_as_a_hand_written_config() {
    let repo = fixture_repo();
    // The same sources, written by hand.
    repo.write(
        "plumb-hand.yaml",
        r#"version: 1
environments:
  staging:
    namespace: shop-staging
    sources:
      - helm: {chart: charts/web, release: web, values: [envs/staging/web.yaml]}
      - kustomize: apps/api/overlays/staging
      - manifests: platform/staging/config.yaml
  production:
    namespace: shop
    sources:
      - helm: {chart: charts/web, release: web, values: [envs/production/web.yaml], set: {logLevel: warn}}
      - kustomize: apps/api/overlays/production
      - manifests: platform/production/config.yaml
parity:
  - between: [staging, production]
"#,
    );
    repo.commit("hand-written config");
    let mut counts = Vec::new();
    for config in ["plumb.yaml", "plumb-hand.yaml"] {
        let bin = tempfile::tempdir().unwrap();
        let (helm, kubectl, log) = counting_tools(bin.path());
        let args = [
            "parity",
            "staging",
            "production",
            "-c",
            config,
            "-o",
            "json",
            "--no-cache",
        ];
        let output = run_with(&repo, &helm, &kubectl, &args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{config}: {}",
            stderr(&output)
        );
        let mut calls: Vec<String> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .filter(|c| !c.ends_with(" version"))
            .map(str::to_string)
            .collect();
        calls.sort();
        counts.push(calls);
    }
    assert_eq!(
        counts[0],
        [
            "helm template",
            "helm template",
            "kubectl kustomize",
            "kubectl kustomize"
        ]
    );
    assert_eq!(counts[0], counts[1]);
}
