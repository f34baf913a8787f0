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
        .args(["audit", "-o", "json"])
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
        Some(1),
        "the demo has no live state in the new config: parity only, and in this one-commit copy \
         production runs an api image staging never ran (an error of promotion order)"
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
    let report = repo.report(&["parity", "staging", "production", "-o", "json"], 0);
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
fn init_on_the_flux_example_writes_its_cluster_folders_as_flux_sources() {
    let repo = realworld("flux2-kustomize-helm-example");
    let (config, stderr) = init(&repo);
    assert!(
        config.contains(
            "  staging:\n    sources:\n      - flux: \"clusters/staging\"\n  production:\n    upstream: staging\n    sources:\n      - flux: \"clusters/production\"\n"
        ),
        "{config}"
    );
    // What the Kustomizations read is theirs: no kustomize source restates it.
    assert!(!config.contains("kustomize:"), "{config}");
    // Its OCI charts are named, with the mirror that would make them followable.
    for (release, mirror) in [
        ("cert-manager/cert-manager", "oci://quay.io/jetstack/charts"),
        (
            "envoy-gateway-system/envoy-gateway",
            "oci://docker.io/envoyproxy",
        ),
    ] {
        for text in [&config, &stderr] {
            assert!(
                text.contains(&format!("HelmRelease `{release}`"))
                    && text.contains(&format!("\"{mirror}\": \"http://")),
                "{release}: {text}"
            );
        }
    }
    assert_loads(&repo, &config);
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

/// Runs `plumb init` (expecting success); returns the plumb.yaml it wrote and its stderr.
fn init(repo: &Repo) -> (String, String) {
    let output = repo.plumb().arg("init").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let config = std::fs::read_to_string(repo.path().join("plumb.yaml")).unwrap();
    (config, stderr)
}

/// The written config loads: `plumb policy lint` reads and validates plumb.yaml (sources,
/// edges, pairs) and renders nothing.
fn assert_loads(repo: &Repo, config: &str) {
    let output = repo.plumb().args(["policy", "lint"]).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "the written config does not load:\n{config}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Sets the repository's `origin` remote, as a clone has it.
fn set_origin(repo: &Repo, url: &str) {
    git2::Repository::open(repo.path())
        .unwrap()
        .remote("origin", url)
        .unwrap();
}

fn application(name: &str, repo_url: &str, path: &str, namespace: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
  namespace: argocd
spec:
  project: default
  source:
    repoURL: {repo_url}
    targetRevision: main
    path: {path}
  destination:
    server: https://kubernetes.default.svc
    namespace: {namespace}
"
    )
}

fn config_map(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  LOG_LEVEL: info\n"
    )
}

const SHOP: &str = "https://github.com/example/shop.git";

#[test]
fn init_writes_argocd_sources_for_applications_and_their_edge() {
    let repo = Repo::new();
    repo.write(
        "argocd/staging.yaml",
        &application("shop-staging", SHOP, "envs/staging", "shop-staging"),
    )
    .write(
        "argocd/production.yaml",
        &application(
            "shop-production",
            "git@github.com:example/shop",
            "envs/production",
            "shop",
        ),
    )
    // The folders the Applications read: the layout alone would make them manifests sources.
    .write("envs/staging/config.yaml", &config_map("app-config"))
    .write("envs/production/config.yaml", &config_map("app-config"));
    repo.commit("argo cd");
    // A CI clone's origin carries a token: it never reaches plumb.yaml or the terminal.
    set_origin(
        &repo,
        "https://gitlab-ci-token:glcbt-64_s3cr3tT0kenValue@github.com/example/shop.git",
    );
    let (config, stderr) = init(&repo);
    assert!(
        config.contains(
            "  staging:\n    sources:\n      - argocd: \"argocd/staging.yaml\"\n  production:\n    upstream: staging\n    sources:\n      - argocd: \"argocd/production.yaml\"\n"
        ),
        "{config}"
    );
    assert!(
        config.contains("repositories: [\"https://github.com/example/shop.git\"]"),
        "{config}"
    );
    assert!(
        !config.contains("s3cr3t") && !stderr.contains("s3cr3t"),
        "{config}\n{stderr}"
    );
    // No duplicate source for what the Applications read; the comment says why.
    assert!(!config.contains("manifests:"), "{config}");
    assert!(
        config.contains("# Left out, as Argo CD or Flux objects below already read them: envs/production (production), envs/staging (staging)."),
        "{config}"
    );
    // The destinations' namespaces map the pair.
    assert!(
        config
            .contains("  - between: [staging, production]\n    namespaces: {shop-staging: shop}\n"),
        "{config}"
    );
    assert!(!stderr.contains("warning"), "{stderr}");
    assert_loads(&repo, &config);
    let audit = repo.plumb().args(["audit", "-o", "json"]).output().unwrap();
    assert_ne!(
        audit.status.code(),
        Some(2),
        "audit refused the config:\n{config}\n{}",
        String::from_utf8_lossy(&audit.stderr)
    );
}

#[test]
fn init_expands_applicationsets_into_one_named_source_per_environment() {
    let repo = Repo::new();
    repo.write(
        "argocd/shop.yaml",
        &format!(
            "apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: shop
spec:
  generators:
    - list:
        elements:
          - env: staging
            namespace: shop-staging
          - env: production
            namespace: shop
  template:
    metadata:
      name: 'shop-{{{{env}}}}'
    spec:
      source:
        repoURL: {SHOP}
        path: 'shop/{{{{env}}}}'
      destination:
        namespace: '{{{{namespace}}}}'
---
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: db
spec:
  goTemplate: true
  generators:
    - git:
        repoURL: {SHOP}
        directories:
          - path: db/*
          - path: db/base
            exclude: true
  template:
    metadata:
      name: 'db-{{{{ .path.basename }}}}'
    spec:
      source:
        repoURL: {SHOP}
        path: '{{{{ .path.path }}}}'
      destination:
        namespace: db
"
        ),
    );
    for dir in [
        "shop/staging",
        "shop/production",
        "db/base",
        "db/staging",
        "db/production",
    ] {
        repo.write(&format!("{dir}/config.yaml"), &config_map("config"));
    }
    repo.commit("application sets");
    set_origin(&repo, SHOP);
    let (config, stderr) = init(&repo);
    for env in ["staging", "production"] {
        assert!(
            config.contains(&format!(
                "      - argocd: \"argocd/shop.yaml\"\n        name: \"db-{env}\"\n      - argocd: \"argocd/shop.yaml\"\n        name: \"shop-{env}\"\n"
            )),
            "{env}: {config}"
        );
    }
    assert!(!config.contains("db-base"), "excluded directory: {config}");
    assert!(config.contains("    upstream: staging\n"), "{config}");
    assert!(!stderr.contains("warning"), "{stderr}");
    assert_loads(&repo, &config);
}

#[test]
fn init_warns_about_what_plumb_cannot_follow_naming_it() {
    let repo = Repo::new();
    let other = "https://github.com/example/platform-team.git";
    let mut production = application("shop-production", SHOP, "envs/production", "shop");
    production.push_str("---\n");
    production.push_str(&application(
        "ingress-production",
        other,
        "ingress/prod",
        "ingress",
    ));
    production.push_str(
        "---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: cache-production
spec:
  source:
    repoURL: registry-1.docker.io/bitnamicharts
    chart: redis
    targetRevision: 20.1.0
  destination:
    namespace: cache
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: secrets-production
spec:
  source:
    repoURL: https://github.com/example/shop.git
    path: secrets/production
    plugin:
      name: sops
  destination:
    namespace: shop
",
    );
    repo.write(
        "argocd/staging.yaml",
        &application("shop-staging", SHOP, "envs/staging", "shop-staging"),
    )
    .write("argocd/production.yaml", &production)
    .write("envs/staging/config.yaml", &config_map("app-config"))
    .write(
        "envs/production/kustomization.yaml",
        "resources:\n  - config.yaml\n  - https://github.com/example/bases//monitoring?ref=v1.2.0\n",
    )
    .write("envs/production/config.yaml", &config_map("app-config"))
    .write("secrets/production/secret.enc.yaml", "sops: {}\n");
    repo.commit("argo cd");
    set_origin(&repo, SHOP);
    let (config, stderr) = init(&repo);
    let expected = [
        "Application `argocd/ingress-production` (argocd/production.yaml:16) reads `https://github.com/example/platform-team.git`, which is not this repository",
        "Application `cache-production` (argocd/production.yaml:31) takes chart `redis` from the OCI registry `registry-1.docker.io/bitnamicharts`",
        "\"oci://registry-1.docker.io/bitnamicharts\": \"http://YOUR-CHART-REPOSITORY\"",
        "Application `secrets-production` (argocd/production.yaml:43) renders with the config management plugin `sops`",
        "envs/production/kustomization.yaml refers to the remote base `https://github.com/example/bases//monitoring?ref=v1.2.0`",
    ];
    for text in expected {
        assert!(stderr.contains(text), "stderr lacks {text}:\n{stderr}");
        assert!(config.contains(text), "plumb.yaml lacks {text}:\n{config}");
    }
    // Said in the environment they concern, and the sources are still written: the run that
    // reads them reports each as a render error rather than passing without looking.
    let production = &config[config.find("\n  production:\n").unwrap()..];
    assert!(
        production.contains("    # plumb cannot follow: Application `argocd/ingress-production`"),
        "{config}"
    );
    for name in [
        "cache-production",
        "ingress-production",
        "secrets-production",
        "shop-production",
    ] {
        assert!(
            production.contains(&format!("        name: \"{name}\"\n")),
            "{name}: {config}"
        );
    }
    assert_loads(&repo, &config);
}

#[test]
fn init_writes_flux_sources_for_cluster_folders_and_leaves_out_what_they_read() {
    let repo = Repo::new();
    let fleet = "https://github.com/example/fleet";
    for env in ["staging", "production"] {
        repo.write(
            &format!("clusters/{env}/flux-system/gotk-sync.yaml"),
            &format!(
                "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  url: {fleet}
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./clusters/{env}
"
            ),
        )
        .write(
            &format!("clusters/{env}/apps.yaml"),
            &format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./apps/overlays/{env}
"
            ),
        )
        .write(
            &format!("apps/overlays/{env}/kustomization.yaml"),
            &format!("namespace: shop-{env}\nresources:\n  - ../../base\n"),
        );
    }
    repo.write(
        "apps/base/kustomization.yaml",
        "resources:\n  - config.yaml\n",
    )
    .write("apps/base/config.yaml", &config_map("app-config"))
    .write(
        "clusters/production/reports.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: reports
  namespace: flux-system
spec:
  sourceRef:
    kind: Bucket
    name: reports
  path: ./
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: platform
  namespace: flux-system
spec:
  url: https://github.com/example/platform-team
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: platform
  namespace: flux-system
spec:
  sourceRef:
    kind: GitRepository
    name: platform
  path: ./deploy
",
    );
    repo.commit("flux");
    // No origin: the bootstrap's GitRepository says which URL this repository goes by.
    let (config, stderr) = init(&repo);
    assert!(
        config.contains(
            "  staging:\n    sources:\n      - flux: \"clusters/staging\"\n  production:\n"
        ),
        "{config}"
    );
    assert!(
        config.contains(
            "    upstream: staging\n    sources:\n      - flux: \"clusters/production\"\n"
        ),
        "{config}"
    );
    assert!(
        config.contains("repositories: [\"https://github.com/example/fleet\"]"),
        "{config}"
    );
    assert!(!config.contains("kustomize:"), "{config}");
    assert!(
        config.contains("# Left out, as Argo CD or Flux objects below already read them: apps/overlays/production (production), apps/overlays/staging (staging)."),
        "{config}"
    );
    for text in [
        "Kustomization `flux-system/reports` (clusters/production/reports.yaml:1) reads Bucket `reports`",
        "Kustomization `flux-system/platform` (clusters/production/reports.yaml:20) reads GitRepository `flux-system/platform` (clusters/production/reports.yaml:12) at `https://github.com/example/platform-team`, which is not this repository",
    ] {
        assert!(stderr.contains(text), "stderr lacks {text}:\n{stderr}");
        assert!(config.contains(text), "plumb.yaml lacks {text}:\n{config}");
    }
    assert_loads(&repo, &config);
}

/// init's plumb.yaml names its schema on the first line (yaml-language-server's comment), and
/// writes that schema beside it: an editor finds it with no network. The schema validates the
/// written plumb.yaml (python-jsonschema); init never clobbers a schema it did not write.
#[test]
fn init_writes_the_schema_its_first_line_names_and_never_clobbers_it() {
    use support::python::{json_schema_errors, yaml_to_json};
    let demo = repo_of(&support::fixtures().join("demo"));
    let (config, stderr) = init(&demo);
    let first = config.lines().next().unwrap();
    assert_eq!(
        first, "# yaml-language-server: $schema=plumb.schema.json",
        "{config}"
    );
    assert!(stderr.contains("plumb.schema.json"), "{stderr}");
    let schema_path = demo.path().join("plumb.schema.json");
    let schema_text = std::fs::read_to_string(&schema_path).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&schema_text).unwrap();
    let printed = demo.plumb().args(["schema", "config"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&printed.stdout), schema_text);
    let errors = json_schema_errors(&schema, &[("plumb.yaml".into(), yaml_to_json(&config))]);
    assert_eq!(errors["plumb.yaml"], Vec::<String>::new(), "{config}");

    // A second init refuses, and leaves both files as they were.
    let output = demo.plumb().arg("init").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    // Without plumb.yaml, a schema file that is not plumb's own is not replaced either.
    std::fs::remove_file(demo.path().join("plumb.yaml")).unwrap();
    std::fs::write(&schema_path, "{\"mine\": true}\n").unwrap();
    let output = demo.plumb().arg("init").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("plumb.schema.json exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&schema_path).unwrap(),
        "{\"mine\": true}\n"
    );
    assert!(!demo.path().join("plumb.yaml").exists());
    // --force replaces it with the schema.
    let output = demo.plumb().args(["init", "--force"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&schema_path).unwrap(), schema_text);

    // To stdout: the comment still names the file, and stderr says how to create it; nothing
    // is written.
    let other = repo_of(&support::fixtures().join("demo"));
    let output = other
        .plumb()
        .args(["init", "--out-file", "-"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .starts_with("# yaml-language-server: $schema=plumb.schema.json\n")
    );
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("plumb schema config --out-file plumb.schema.json")
    );
    assert!(!other.path().join("plumb.schema.json").exists());
}
