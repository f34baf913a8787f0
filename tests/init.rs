//! `plumb init`: a starting plumb.yaml from what a repository says about its environments, which
//! `plumb audit` then accepts — on the project's fixtures and on real GitOps repositories.

mod support;

use std::path::Path;
use support::{Repo, walk};

/// A copy of `dir` as a fresh Git repository.
fn repo_of(dir: &Path) -> Repo {
    let repo = Repo::new();
    for file in walk(dir) {
        let relative = file
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if relative == "plumb.yaml" || relative.starts_with(".git/") {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(&file) {
            repo.write(&relative, &text);
        }
    }
    repo.commit("copied");
    repo
}

/// Runs `plumb init`, then `plumb audit`; returns the config and the audit's exit code.
fn init_then_audit(repo: &Repo) -> (String, Option<i32>) {
    let output = repo.plumb().arg("init").output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let config = std::fs::read_to_string(repo.path().join("plumb.yaml")).unwrap();
    let audit = repo
        .plumb()
        .env("PATH", tools_path())
        .args(["audit", "-f", "json"])
        .output()
        .unwrap();
    assert_ne!(
        audit.status.code(),
        Some(2),
        "audit refused the config:\n{config}\n{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    (config, audit.status.code())
}

/// PATH with the pinned helm and kubectl first.
fn tools_path() -> String {
    let tools = support::tool("kubectl");
    format!(
        "{}:{}",
        tools.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn init_finds_the_demo_and_render_fixture_environments() {
    let demo = repo_of(&support::fixtures().join("demo"));
    let (config, code) = init_then_audit(&demo);
    assert!(
        config.contains(
            "  production:\n    upstream: staging\n    sources:\n      - manifests: \"envs/production\""
        ),
        "{config}"
    );
    assert_eq!(
        code,
        Some(0),
        "the demo has no live state in the new config: parity only, warnings"
    );
    let render = repo_of(&support::fixtures().join("render"));
    let (config, _) = init_then_audit(&render);
    assert!(
        config.contains("kustomize: \"apps/api/overlays/staging\""),
        "{config}"
    );
    // Refuses to overwrite, says how.
    let output = render.plumb().arg("init").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--force"));
}

fn realworld(name: &str) -> Repo {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/realworld")
        .join(name);
    assert!(
        dir.is_dir(),
        "{} is missing: .ci/run runs this where ../shared exists",
        dir.display()
    );
    repo_of(&dir)
}

#[test]
#[ignore = "needs ../shared/realworld; .ci/run runs it"]
fn init_on_podinfo_maps_the_overlays_and_their_namespaces() {
    let repo = realworld("podinfo");
    let (config, code) = init_then_audit(&repo);
    for env in ["dev", "staging", "production"] {
        assert!(
            config.contains(&format!("kustomize: \"overlays/{env}\"")),
            "{config}"
        );
    }
    assert!(
        config.contains(
            "values: [\"charts/podinfo/values.yaml\", \"charts/podinfo/values-prod.yaml\"]"
        ),
        "{config}"
    );
    assert!(
        config.contains("namespaces: {staging: production}"),
        "{config}"
    );
    assert_eq!(code, Some(0));
    // With the namespaces mapped, the overlays differ in the environment label only.
    let report = repo.report(&["parity", "staging", "production", "-f", "json"], 0);
    let paths: std::collections::BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths.into_iter().collect::<Vec<_>>(),
        ["metadata.labels[\"app.kubernetes.io/environment\"]"]
    );
}

#[test]
#[ignore = "needs ../shared/realworld; .ci/run runs it"]
fn init_on_the_flux_example_follows_its_kustomizations() {
    let repo = realworld("flux2-kustomize-helm-example");
    let (config, code) = init_then_audit(&repo);
    assert!(config.contains("kustomize: \"apps/staging\""), "{config}");
    assert!(
        config.contains("kustomize: \"infrastructure/controllers\""),
        "{config}"
    );
    assert_eq!(code, Some(0));
}

#[test]
fn init_on_an_estate_writes_the_promotion_chain_and_audit_accepts_it() {
    let estate = repo_of(&support::fixtures().join("estate"));
    let (config, code) = init_then_audit(&estate);
    for (env, upstream) in [
        ("qa", "dev"),
        ("staging-eu", "qa"),
        ("staging-us", "qa"),
        ("prod-eu", "staging-eu"),
        ("prod-us", "staging-us"),
    ] {
        assert!(
            config.contains(&format!("  {env}:\n    upstream: {upstream}\n")),
            "{env} should follow {upstream}:\n{config}"
        );
    }
    assert!(!config.contains("  dev:\n    upstream"), "{config}");
    // The comment says what was guessed; environments are written in promotion order.
    assert!(config.contains("# Promotion order guessed"), "{config}");
    let position = |env: &str| config.find(&format!("\n  {env}:\n")).unwrap();
    assert!(position("dev") < position("qa") && position("qa") < position("staging-eu"));
    assert!(position("staging-us") < position("prod-eu"));
    // Parity only, nothing fails at error severity in the chain's gaps.
    assert_ne!(code, Some(3), "{config}");
}
