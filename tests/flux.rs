//! `flux:` sources end to end: the fixture's clusters (fixtures/flux) followed through their Flux
//! objects with the real helm and kustomize, and the flux2 example of `../shared/realworld`
//! (ignored in a plain `cargo test`; `.ci/run` runs them).

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use support::{Repo, counting_tools, finding_lines, fixtures, stdout_json, tool, tool_calls};

fn fixture_repo() -> Repo {
    let repo = Repo::new();
    repo.copy_dir(&fixtures().join("flux"), "");
    repo.commit("flux fixture");
    repo
}

fn run_with(repo: &Repo, helm: &Path, kustomize: &Path, args: &[&str]) -> Output {
    repo.plumb()
        .env("PLUMB_HELM", helm)
        .env("PLUMB_KUSTOMIZE", kustomize)
        .args(args)
        .output()
        .unwrap()
}

fn run(repo: &Repo, args: &[&str], code: i32) -> Output {
    let output = run_with(repo, &tool("helm4"), &tool("kubectl"), args);
    assert_eq!(
        output.status.code(),
        Some(code),
        "plumb {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The JSON report of `plumb parity staging production --fail-on never`, which exits `code`.
fn parity_report(repo: &Repo, code: i32) -> Value {
    let args = [
        "parity",
        "staging",
        "production",
        "-o",
        "json",
        "--fail-on",
        "never",
    ];
    stdout_json(&run(repo, &args, code))
}

/// The objects `plumb render ENV -o -` prints, by `Kind/name`.
fn rendered(repo: &Repo, env: &str, code: i32) -> Vec<Value> {
    let output = run(repo, &["render", env], code);
    let text = String::from_utf8(output.stdout).unwrap();
    plumb::yaml::parse_documents(&text, "stdout")
        .unwrap()
        .into_iter()
        .map(|d| d.value)
        .collect()
}

fn object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} among {}", names(objects).join(", ")))
}

fn names(objects: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn production_renders_through_its_own_cluster_directory_with_its_patches() {
    let repo = fixture_repo();
    let objects = rendered(&repo, "production", 0);
    assert_eq!(
        names(&objects),
        [
            "ClusterIssuer/letsencrypt",
            "ConfigMap/cache-values",
            "ConfigMap/web-script",
            "CronJob/nightly",
            "Deployment/cache",
            "Deployment/web",
            "Deployment/worker",
            "HelmRelease/cache",
            "Kustomization/workers",
        ]
    );
    // The infrastructure Kustomization's own patch: the production ACME server.
    assert_eq!(
        object(&objects, "ClusterIssuer", "letsencrypt")["spec"]["acme"]["server"],
        "https://acme-v02.api.letsencrypt.org/directory"
    );
    // The apps artifact is assembled from apps/base and apps/production: production's patch of the
    // HelmRelease reaches the chart's Deployment, with values from the ConfigMap (valuesFrom, and
    // a targetPath) over the chart's defaults.
    assert_eq!(
        object(&objects, "HelmRelease", "cache")["spec"]["values"]["replicas"],
        3
    );
    let cache = object(&objects, "Deployment", "cache");
    assert_eq!(cache["metadata"]["namespace"], "web");
    assert_eq!(cache["spec"]["replicas"], 3);
    let container = &cache["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["ports"][0]["containerPort"], 6379);
    assert_eq!(container["resources"]["limits"]["memory"], "128Mi");
    // The HelmRelease's post renderers, in order: the base's image tag, then production's
    // own patch (added to the HelmRelease by production's kustomization).
    assert_eq!(container["image"], "redis:7.4");
    assert_eq!(
        container["args"],
        serde_json::json!(["--maxmemory-policy", "allkeys-lru"])
    );
    let staging = rendered(&repo, "staging", 0);
    let staging_cache = &object(&staging, "Deployment", "cache")["spec"]["template"]["spec"];
    assert_eq!(staging_cache["containers"][0]["image"], "redis:7.4");
    assert!(staging_cache["containers"][0].get("args").is_none());
    assert_eq!(
        object(&staging, "ClusterIssuer", "letsencrypt")["spec"]["acme"]["server"],
        "https://acme-staging-v02.api.letsencrypt.org/directory"
    );
    assert_eq!(
        object(&staging, "Deployment", "cache")["spec"]["replicas"],
        1
    );
}

#[test]
fn substitution_follows_flux_rules_defaults_escapes_and_opt_out() {
    let repo = fixture_repo();
    let objects = rendered(&repo, "production", 0);
    let web = object(&objects, "Deployment", "web");
    // `substitute` inline, `${var:=default}` read back as the number YAML reads.
    assert_eq!(web["metadata"]["labels"]["cluster"], "production");
    assert_eq!(web["spec"]["replicas"], 2);
    let env = &web["spec"]["template"]["spec"]["containers"][0]["env"];
    let value = |name: &str| {
        env.as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap()["value"]
            .clone()
    };
    // From the cluster's ConfigMap (substituteFrom); the optional Secret is absent, and fine.
    assert_eq!(value("REGION"), "us-east-1");
    assert_eq!(value("TIER"), "standard");
    // `$${kept}` is Flux's escape for a literal `${kept}`.
    assert_eq!(value("LITERAL"), "${kept}");
    // The opt-out annotation leaves the object as written.
    assert_eq!(
        object(&objects, "ConfigMap", "web-script")["data"]["run.sh"],
        "echo \"${HOME} in ${cluster_name}\""
    );
    // A required substituteFrom object that is missing is a render error naming it.
    let repo = fixture_repo();
    repo.remove("clusters/production/cluster-vars.yaml");
    repo.remove("clusters/staging/cluster-vars.yaml");
    repo.commit("no cluster vars");
    let output = run(&repo, &["render", "production"], 3);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Kustomization flux-system/apps")
            && stderr.contains("spec.postBuild.substituteFrom[0]")
            && stderr.contains("ConfigMap flux-system/cluster-vars"),
        "{stderr}"
    );
}

#[test]
fn parity_reports_exactly_the_planted_differences() {
    let repo = fixture_repo();
    let report = parity_report(&repo, 0);
    assert_eq!(report["summary"]["complete"], true);
    assert_eq!(
        finding_lines(&report),
        [
            "parity ClusterIssuer/letsencrypt spec.acme.server",
            "parity Deployment/cache spec.replicas",
            // Production's post renderer: the HelmRelease's field, and what it does to the chart.
            "parity Deployment/cache spec.template.spec.containers[name=redis].args",
            "parity Deployment/web spec.template.spec.containers[name=web].env[name=REGION].value",
            "parity HelmRelease/cache spec.postRenderers[1]",
            "parity HelmRelease/cache spec.values.replicas",
        ]
    );
}

#[test]
fn drift_compares_what_flux_applied_with_the_followed_objects() {
    // The snapshot is production as the controllers applied it, their labels included, with the
    // web Deployment scaled by hand: that is the one drift. Substituted values compare by type
    // (`${replicas:=2}` is the number 2 in Git and live alike).
    let repo = fixture_repo();
    let output = run(&repo, &["drift", "production", "-o", "json"], 1);
    let report = stdout_json(&output);
    assert_eq!(report["summary"]["complete"], true);
    assert_eq!(report["summary"]["resources"]["production"], 9);
    assert_eq!(
        finding_lines(&report),
        ["drift Deployment/web spec.replicas"]
    );
    let finding = &report["findings"][0];
    assert_eq!(finding["left"], 2);
    assert_eq!(finding["right"], 5);
}

#[test]
fn objects_of_flux_objects_a_failed_kustomization_hides_are_unjudged_not_managed_elsewhere() {
    // production's apps Kustomization asks for SOPS decryption, which plumb does not follow: it
    // fails, so the HelmRelease and the workers Kustomization in its output are never found. The
    // live objects they applied are not another team's: they are unjudged, like apps' own.
    let repo = fixture_repo();
    let path = "clusters/production/apps.yaml";
    let text = std::fs::read_to_string(repo.path().join(path)).unwrap();
    repo.write(
        path,
        &text.replace(
            "  prune: true\n",
            "  prune: true\n  decryption:\n    provider: sops\n",
        ),
    );
    repo.commit("apps needs decryption");
    let output = run(
        &repo,
        &["drift", "production", "-o", "json", "--fail-on", "never"],
        3,
    );
    let report = stdout_json(&output);
    let lines = finding_lines(&report);
    assert!(
        !lines.iter().any(|l| l.starts_with("unmanaged")),
        "{lines:?}"
    );
    let elsewhere = report["summary"]["managed_elsewhere"]["production"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(elsewhere, 0, "{}", report["summary"]);
    let error = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["env"] == "production" && e["kind"] == "render")
        .unwrap();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("spec.decryption"),
        "{error}"
    );
    // apps' own five objects, the cache release's Deployment, the workers' Deployment and
    // CronJob.
    assert_eq!(error["unjudged"], 8, "{error}");
}

#[test]
fn a_kustomization_of_another_repository_is_a_render_error_naming_it() {
    let repo = fixture_repo();
    repo.write(
        "clusters/production/tenants.yaml",
        "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: tenants
  namespace: flux-system
spec:
  url: https://git.example.com/acme/tenants.git
  ref: {branch: main}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: tenants
  namespace: flux-system
spec:
  sourceRef: {kind: GitRepository, name: tenants}
  path: ./
",
    );
    repo.commit("a tenant repository");
    let output = run(&repo, &["parity", "staging", "production", "-o", "json"], 3);
    let report = stdout_json(&output);
    assert_eq!(report["summary"]["complete"], false);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let error = &errors[0];
    assert_eq!(error["kind"], "render");
    assert_eq!(error["env"], "production");
    assert_eq!(error["source"], "flux: clusters/production");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("Kustomization flux-system/tenants")
            && message.contains("`spec.sourceRef`")
            && message.contains("https://git.example.com/acme/tenants.git"),
        "{message}"
    );
    // The rest of production is still compared.
    assert!(
        finding_lines(&report)
            .contains(&"parity ClusterIssuer/letsencrypt spec.acme.server".to_string())
    );
}

#[test]
fn unsupported_fields_and_unfollowed_sources_are_render_errors_naming_them() {
    let repo = fixture_repo();
    repo.write(
        "clusters/production/more.yaml",
        "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: patched, namespace: web}
spec:
  chart:
    spec:
      chart: ./charts/cache
      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
  postRenderers:
    - kustomize:
        patches: [{path: ./patch.yaml, target: {kind: Deployment}}]
---
apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
metadata: {name: legacy, namespace: web}
spec:
  chart:
    spec:
      chart: ./charts/cache
      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
  postRenderers:
    - kustomize:
        patchesStrategicMerge:
          - apiVersion: apps/v1
            kind: Deployment
            metadata: {name: legacy}
            spec: {paused: true}
        patchesJson6902:
          - target: {group: apps, version: v1, kind: Deployment, name: legacy}
            patch:
              - {op: add, path: /spec/minReadySeconds, value: 5}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: replaced, namespace: web}
spec:
  chart:
    spec:
      chart: ./charts/cache
      valuesFiles: [./charts/cache/small.yaml]
      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: layered, namespace: web}
spec:
  chart:
    spec:
      chart: ./charts/cache
      valuesFiles: [./charts/cache/values.yaml, ./charts/cache/small.yaml]
      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: bucket, namespace: flux-system}
spec:
  sourceRef: {kind: Bucket, name: artifacts}
  path: ./
",
    );
    repo.write("charts/cache/small.yaml", "memory: 32Mi\n");
    repo.commit("unsupported");
    let output = run(&repo, &["render", "production"], 3);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("HelmRelease web/replaced")
            && stderr.contains("`spec.chart.spec.valuesFiles`"),
        "{stderr}"
    );
    // Starting with the chart's values.yaml, the list layers as helm layers it.
    let objects: Vec<Value> =
        plumb::yaml::parse_documents(&String::from_utf8_lossy(&output.stdout), "stdout")
            .unwrap()
            .into_iter()
            .map(|d| d.value)
            .collect();
    let layered = object(&objects, "Deployment", "layered");
    assert_eq!(
        layered["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"],
        "32Mi"
    );
    // A post-render patch read from a file is not followed (Flux's has none).
    assert!(
        stderr.contains("HelmRelease web/patched")
            && stderr.contains("`spec.postRenderers[0].kustomize.patches[0].path`"),
        "{stderr}"
    );
    // The deprecated patch lists of v2beta1 and v2beta2 are applied.
    let legacy = object(&objects, "Deployment", "legacy");
    assert_eq!(legacy["spec"]["paused"], true);
    assert_eq!(legacy["spec"]["minReadySeconds"], 5);
    assert!(
        stderr.contains("Kustomization flux-system/bucket")
            && stderr.contains("Bucket flux-system/artifacts"),
        "{stderr}"
    );
}

#[test]
fn a_directory_without_a_kustomization_is_built_as_flux_generates_it() {
    let repo = fixture_repo();
    // With something to add, the workers directory must be built: plumb writes the kustomization
    // Flux generates (every manifest below it) in the tree it renders from.
    for env in ["staging", "production"] {
        let path = format!("apps/{env}/workers.yaml");
        let text = std::fs::read_to_string(repo.path().join(&path)).unwrap();
        repo.write(
            &path,
            &text.replace(
                "  path: ./workers\n",
                "  path: ./workers\n  namePrefix: ${cluster_name}-\n",
            ),
        );
    }
    repo.commit("prefixed workers");
    let objects = rendered(&repo, "production", 0);
    object(&objects, "Deployment", "production-worker");
    object(&objects, "CronJob", "production-nightly");
    // Substituted in the apps Kustomization's output before it is followed.
    assert_eq!(
        object(&objects, "Kustomization", "workers")["spec"]["namePrefix"],
        "production-"
    );
    assert!(!repo.path().join("workers/kustomization.yaml").exists());
}

/// Tool runs, `helm template` and `kubectl kustomize` (version queries left out).
fn render_runs(log: &Path) -> Vec<String> {
    tool_calls(log)
        .into_iter()
        .filter(|l| l.ends_with(" template") || l.ends_with(" kustomize"))
        .collect()
}

#[test]
fn following_flux_objects_runs_the_tools_as_often_as_a_hand_written_config() {
    let repo = fixture_repo();
    let text = std::fs::read_to_string(repo.path().join("plumb.yaml")).unwrap();
    repo.write(
        "plumb.yaml",
        &text.replace(
            "parity:",
            "  hand-production:
    namespace: web
    sources:
      - kustomize: infrastructure/configs
      - kustomize: apps/production
      - helm: {chart: charts/cache, release: cache, namespace: web}
      - kustomize: workers
parity:",
        ),
    );
    repo.commit("hand-written production");
    let tools = tempfile::tempdir().unwrap();
    let (helm, kubectl, log) = counting_tools(tools.path());
    let count = |env: &str| {
        std::fs::remove_file(&log).ok();
        let output = repo
            .plumb()
            .env("PLUMB_HELM", &helm)
            .env("PLUMB_KUSTOMIZE", &kubectl)
            .args(["render", env, "--no-cache"])
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        render_runs(&log)
    };
    let hand = count("hand-production");
    let flux = count("production");
    assert_eq!(hand.len(), 3, "{hand:?}");
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // The cache HelmRelease's post renderers, which a hand-written `helm:` source cannot
    // express, are one `kustomize build` more: all its steps in one run.
    let mut expected = hand;
    expected.push("kubectl kustomize".to_string());
    assert_eq!(sorted(flux), sorted(expected));
}

#[test]
fn post_renders_come_from_the_cache_until_a_patch_changes() {
    let repo = fixture_repo();
    let tools = tempfile::tempdir().unwrap();
    let (helm, kubectl, log) = counting_tools(tools.path());
    let runs = |repo: &Repo| {
        std::fs::remove_file(&log).ok();
        let output = run_with(repo, &helm, &kubectl, &["render", "production"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8(output.stdout).unwrap();
        (render_runs(&log), text)
    };
    let (cold, first) = runs(&repo);
    assert!(cold.contains(&"helm template".to_string()), "{cold:?}");
    let (warm, second) = runs(&repo);
    assert_eq!(warm, Vec::<String>::new(), "a warm cache starts no tool");
    assert_eq!(first, second);
    assert!(second.contains("allkeys-lru"), "{second}");
    // Production's post-render patch changes: the apps build (its input changed) and the
    // HelmRelease's helm template and post-render run again; nothing else does.
    let path = "apps/production/kustomization.yaml";
    let text = std::fs::read_to_string(repo.path().join(path)).unwrap();
    repo.write(path, &text.replace("allkeys-lru", "volatile-lru"));
    repo.commit("another eviction policy");
    let (changed, output) = runs(&repo);
    let mut changed_sorted = changed.clone();
    changed_sorted.sort();
    assert_eq!(
        changed_sorted,
        ["helm template", "kubectl kustomize", "kubectl kustomize"],
        "{changed:?}"
    );
    assert!(output.contains("volatile-lru") && !output.contains("allkeys-lru"));
}

#[test]
fn post_renderers_leave_the_crds_of_a_charts_crds_directory_alone() {
    let repo = fixture_repo();
    // The cache chart, with a CRD of its own (the fixture's HelmReleases render the original).
    repo.copy_dir(&fixtures().join("flux/charts/cache"), "charts/widgets");
    repo.write(
        "charts/widgets/crds/widgets.yaml",
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true}]
",
    );
    let label = "- op: add\n  path: /metadata/labels\n  value: {post-rendered: \"yes\"}";
    repo.write(
        "clusters/production/more.yaml",
        &format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {{name: labelled, namespace: web}}
spec:
  chart:
    spec:
      chart: ./charts/widgets
      sourceRef: {{kind: GitRepository, name: flux-system, namespace: flux-system}}
  postRenderers:
    - kustomize:
        patches:
          - target: {{kind: CustomResourceDefinition}}
            patch: {label:?}
          - target: {{kind: Deployment}}
            patch: {label:?}
"
        ),
    );
    repo.commit("a chart with a CRD, post-rendered");
    let objects = rendered(&repo, "production", 0);
    assert_eq!(
        object(&objects, "Deployment", "labelled")["metadata"]["labels"]["post-rendered"],
        "yes"
    );
    // helm installs `crds/` before the release, past any post renderer.
    let crd = object(&objects, "CustomResourceDefinition", "widgets.example.com");
    assert!(crd["metadata"].get("labels").is_none(), "{crd}");
}

#[test]
fn a_failed_post_render_is_a_render_error_naming_the_helm_release_without_its_values() {
    let repo = fixture_repo();
    let path = "apps/production/kustomization.yaml";
    let text = std::fs::read_to_string(repo.path().join(path)).unwrap();
    // A strategic merge patch of the wrong shape: kustomize quotes the patch's node when it
    // cannot apply it, and the patch may hold what a team keeps secret.
    repo.write(
        path,
        &text.replace(
            "            patches:\n",
            "            patches:\n              - patch: |\n                  apiVersion: apps/v1\n                  kind: Deployment\n                  metadata: {name: cache}\n                  spec:\n                    replicas: [hunter2-in-a-patch]\n",
        ),
    );
    repo.commit("a broken post renderer");
    let output = run(&repo, &["drift", "production", "-o", "json"], 3);
    let report = stdout_json(&output);
    assert_eq!(report["summary"]["complete"], false);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let error = &errors[0];
    assert_eq!(error["kind"], "render");
    assert_eq!(error["env"], "production");
    assert_eq!(error["source"], "flux: clusters/production");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("HelmRelease web/cache")
            && message.contains("`spec.postRenderers`")
            && message.contains("kubectl kustomize failed")
            && message.contains("wrong node kind"),
        "{message}"
    );
    assert!(!message.contains("hunter2-in-a-patch"), "{message}");
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("hunter2-in-a-patch"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The release's live Deployment is not judged (neither drift nor unmanaged): the error
    // counts it. The HelmRelease itself is compared: its new patch is not applied yet.
    assert_eq!(error["unjudged"], 1, "{error}");
    assert_eq!(
        finding_lines(&report),
        [
            "drift Deployment/web spec.replicas",
            "drift HelmRelease/cache spec.postRenderers[1].kustomize.patches[0]"
        ]
    );
    // Parity: staging's cache objects are not "only in staging" — production's release could not
    // be rendered, so they are not judged, and production's error counts them.
    let report = parity_report(&repo, 3);
    let lines = finding_lines(&report);
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("only-in") && l.contains("/cache")),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"parity HelmRelease/cache spec.postRenderers[1]".to_string()),
        "{lines:?}"
    );
    let error = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["env"] == "production" && e["kind"] == "render")
        .unwrap();
    assert!(error["unjudged"].as_u64().unwrap() >= 1, "{error}");
}

// The flux2 example of ../shared/realworld.

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

const FLUX2: &str = "version: 1
environments:
  staging:
    sources: [{flux: clusters/staging}]
  production:
    sources: [{flux: clusters/production}]
  hand-production:
    sources:
      - kustomize: infrastructure/controllers
      - kustomize: infrastructure/configs
      - kustomize: apps/production
parity:
  - between: [staging, production]
";

fn flux2_repo() -> Repo {
    let repo = Repo::new();
    repo.copy_dir(&realworld("flux2-kustomize-helm-example"), "");
    repo.write("plumb.yaml", FLUX2);
    repo.commit("flux2-kustomize-helm-example");
    repo
}

#[test]
#[ignore = "needs ../shared/realworld; .ci/run runs it"]
fn flux2_production_renders_with_the_production_acme_server_through_its_cluster_directory() {
    let repo = flux2_repo();
    // Its charts are remote: render errors, so the run is incomplete (exit 3).
    let objects = rendered(&repo, "production", 3);
    let issuer = object(&objects, "ClusterIssuer", "letsencrypt");
    assert_eq!(
        issuer["spec"]["acme"]["server"],
        "https://acme-v02.api.letsencrypt.org/directory"
    );
    // The apps artifact holds production's patch of the podinfo HelmRelease.
    let podinfo = object(&objects, "HelmRelease", "podinfo");
    assert_eq!(
        podinfo["spec"]["values"]["httpRoute"]["hostnames"][0],
        "podinfo.production"
    );
    assert_eq!(podinfo["spec"]["chart"]["spec"]["version"], ">=1.0.0");
    let staging = rendered(&repo, "staging", 3);
    assert_eq!(
        object(&staging, "ClusterIssuer", "letsencrypt")["spec"]["acme"]["server"],
        "https://acme-staging-v02.api.letsencrypt.org/directory"
    );
}

#[test]
#[ignore = "needs ../shared/realworld; .ci/run runs it"]
fn flux2_parity_reports_the_acme_server_and_its_oci_charts_are_render_errors() {
    let repo = flux2_repo();
    let report = parity_report(&repo, 3);
    assert_eq!(report["summary"]["complete"], false);
    let lines = finding_lines(&report);
    assert!(
        lines.contains(&"parity ClusterIssuer/letsencrypt spec.acme.server".to_string()),
        "{lines:?}"
    );
    let server = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "spec.acme.server")
        .unwrap();
    assert_eq!(
        server["left"],
        "https://acme-staging-v02.api.letsencrypt.org/directory"
    );
    assert_eq!(
        server["right"],
        "https://acme-v02.api.letsencrypt.org/directory"
    );
    let messages: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["env"] == "production")
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    for (release, chart) in [
        (
            "HelmRelease cert-manager/cert-manager",
            "oci://quay.io/jetstack/charts",
        ),
        (
            "HelmRelease envoy-gateway-system/envoy-gateway",
            "oci://docker.io/envoyproxy",
        ),
    ] {
        assert!(
            messages.iter().any(|m| m.contains(release)
                && m.contains(chart)
                && m.contains("flux: clusters/production")),
            "{chart}: {messages:?}"
        );
    }
}

#[test]
#[ignore = "needs ../shared/realworld; .ci/run runs it"]
fn flux2_production_runs_the_tools_as_often_as_a_hand_written_config() {
    let repo = flux2_repo();
    let tools = tempfile::tempdir().unwrap();
    let (helm, kubectl, log) = counting_tools(tools.path());
    let count = |env: &str| {
        std::fs::remove_file(&log).ok();
        let output = repo
            .plumb()
            .env("PLUMB_HELM", &helm)
            .env("PLUMB_KUSTOMIZE", &kubectl)
            .args(["render", env, "--no-cache"])
            .output()
            .unwrap();
        assert!(output.status.code() == Some(0) || output.status.code() == Some(3));
        let mut runs = render_runs(&log);
        runs.sort();
        runs
    };
    let hand = count("hand-production");
    assert_eq!(hand.len(), 3, "{hand:?}");
    assert_eq!(count("production"), hand);
}

/// The flux2 example with its podinfo chart (the real one, from ../shared/realworld/podinfo)
/// served by a chart repository on 127.0.0.1 that `charts.mirrors` puts in place of
/// `https://stefanprodan.github.io/podinfo`.
fn flux2_with_a_podinfo_mirror() -> (Repo, support::chart_repo::ChartRepo) {
    let charts = support::chart_repo::ChartRepo::start();
    charts.add_chart_dir(&tool("helm4"), &realworld("podinfo").join("charts/podinfo"));
    let repo = Repo::new();
    repo.copy_dir(&realworld("flux2-kustomize-helm-example"), "");
    repo.write(
        "plumb.yaml",
        &format!(
            "{FLUX2}charts:\n  mirrors: {{\"https://stefanprodan.github.io/podinfo\": \"{}\"}}\n",
            charts.url("podinfo")
        ),
    );
    repo.commit("flux2-kustomize-helm-example with a chart mirror");
    (repo, charts)
}

#[test]
#[ignore = "needs ../shared/realworld; .ci/run runs it"]
fn flux2_podinfo_renders_through_a_chart_mirror_and_offline_without_a_cache_it_is_unjudged() {
    let (repo, charts) = flux2_with_a_podinfo_mirror();
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().display().to_string();
    // Online: the HelmRelease's range resolves against the mirror and the chart renders, with
    // production's values; the OCI charts (no mirror) stay render errors, so the run is exit 3.
    let output = run(
        &repo,
        &["render", "production", "--cache-dir", &cache_dir],
        3,
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let objects: Vec<Value> = plumb::yaml::parse_documents(&text, "stdout")
        .unwrap()
        .into_iter()
        .map(|d| d.value)
        .collect();
    let deployment = object(&objects, "Deployment", "podinfo");
    assert_eq!(deployment["metadata"]["namespace"], "podinfo");
    let route = object(&objects, "HTTPRoute", "podinfo");
    assert_eq!(route["spec"]["hostnames"][0], "podinfo.production");
    assert!(
        charts.paths().iter().any(|p| p.ends_with(".tgz")),
        "{:?}",
        charts.paths()
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("stefanprodan.github.io"), "{stderr}");

    // Offline with an empty cache: podinfo is a render error of its source, and the podinfo
    // objects the cluster runs (marked by Flux's helm-controller) are neither missing nor
    // unmanaged: unjudged, and counted in that error.
    let live = tempfile::tempdir().unwrap();
    let list = serde_json::json!({
        "apiVersion": "v1", "kind": "List", "metadata": {},
        "items": [
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "podinfo", "namespace": "podinfo",
                          "labels": {"helm.toolkit.fluxcd.io/name": "podinfo",
                                     "helm.toolkit.fluxcd.io/namespace": "podinfo"}},
             "spec": {"replicas": 1}},
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "podinfo", "namespace": "podinfo",
                          "labels": {"helm.toolkit.fluxcd.io/name": "podinfo",
                                     "helm.toolkit.fluxcd.io/namespace": "podinfo"}},
             "spec": {"type": "ClusterIP"}}
        ]
    });
    let list_path = live.path().join("production.json");
    std::fs::write(&list_path, list.to_string()).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let requests_before = charts.requests().len();
    let output = run(
        &repo,
        &[
            "drift",
            "production",
            "--offline",
            "--cache-dir",
            &empty.path().display().to_string(),
            "--live",
            &list_path.display().to_string(),
            "-o",
            "json",
            "--fail-on",
            "never",
        ],
        3,
    );
    assert_eq!(charts.requests().len(), requests_before, "offline fetched");
    let report = stdout_json(&output);
    let podinfo_findings: Vec<String> = finding_lines(&report)
        .into_iter()
        .filter(|l| l.contains("/podinfo"))
        .filter(|l| l.contains("Deployment/") || l.contains("Service/"))
        .collect();
    assert!(podinfo_findings.is_empty(), "{podinfo_findings:?}");
    let podinfo_error = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["message"]
                .as_str()
                .unwrap()
                .contains("HelmRelease podinfo/podinfo")
        })
        .unwrap_or_else(|| panic!("no podinfo error: {}", report["errors"]));
    assert!(
        podinfo_error["message"]
            .as_str()
            .unwrap()
            .contains("offline"),
        "{podinfo_error}"
    );
    assert!(
        podinfo_error["unjudged"].as_u64().unwrap_or(0) >= 2,
        "{podinfo_error}"
    );
}

#[test]
fn a_flux_path_without_flux_objects_or_with_broken_yaml_is_bad_input() {
    let repo = fixture_repo();
    let text = std::fs::read_to_string(repo.path().join("plumb.yaml")).unwrap();
    repo.write(
        "plumb.yaml",
        &text.replace("flux: clusters/production", "flux: infrastructure/configs"),
    );
    repo.commit("a path of plain manifests");
    let output = run(&repo, &["render", "production"], 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`infrastructure/configs` holds no Flux Kustomization or HelmRelease"),
        "{stderr}"
    );
    let repo = fixture_repo();
    repo.write("clusters/production/broken.yaml", "kind: [unclosed\n");
    repo.commit("broken");
    let output = run(&repo, &["render", "production"], 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("clusters/production/broken.yaml") && stderr.contains(":1"),
        "{stderr}"
    );
    let repo = fixture_repo();
    let text = std::fs::read_to_string(repo.path().join("plumb.yaml")).unwrap();
    repo.write(
        "plumb.yaml",
        &text.replace(
            "flux: clusters/production",
            "flux: clusters/production\n        name: nothing",
        ),
    );
    repo.commit("a name that matches nothing");
    let output = run(&repo, &["render", "production"], 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("named `nothing`") && stderr.contains("apps, infrastructure"),
        "{stderr}"
    );
}

#[test]
fn the_bootstrap_kustomization_that_applies_itself_is_followed_once() {
    let repo = fixture_repo();
    repo.write(
        "clusters/production/flux-system/gotk-sync.yaml",
        "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec:
  url: ssh://git@git.example.com/acme/fleet
  ref: {branch: main}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 10m
  sourceRef: {kind: GitRepository, name: flux-system}
  path: ./clusters/production
  prune: true
",
    );
    let text = std::fs::read_to_string(repo.path().join("plumb.yaml")).unwrap();
    repo.write(
        "plumb.yaml",
        &text.replace(
            "flux: clusters/production",
            "flux: clusters/production/flux-system/gotk-sync.yaml",
        ),
    );
    repo.commit("bootstrap");
    let objects = rendered(&repo, "production", 0);
    // The cluster directory's objects are desired objects now (the bootstrap Kustomization applies
    // them, itself included), and the Kustomizations among them are followed, once each.
    assert_eq!(
        names(&objects),
        [
            "ArtifactGenerator/flux-system",
            "ClusterIssuer/letsencrypt",
            "ConfigMap/cache-values",
            "ConfigMap/cluster-vars",
            "ConfigMap/web-script",
            "CronJob/nightly",
            "Deployment/cache",
            "Deployment/web",
            "Deployment/worker",
            "GitRepository/flux-system",
            "HelmRelease/cache",
            "Kustomization/apps",
            "Kustomization/flux-system",
            "Kustomization/infrastructure",
            "Kustomization/workers",
        ]
    );
    assert_eq!(
        object(&objects, "ClusterIssuer", "letsencrypt")["spec"]["acme"]["server"],
        "https://acme-v02.api.letsencrypt.org/directory"
    );
}

#[test]
fn followed_objects_nested_past_the_depth_limit_are_a_render_error() {
    let repo = Repo::new();
    repo.write(
        "plumb.yaml",
        "version: 1\nenvironments:\n  deep:\n    namespace: web\n    sources: [{flux: chain/0/next.yaml}]\n",
    );
    // chain/N holds the Kustomization of chain/N+1: one level of nesting each.
    let levels = 20;
    for n in 0..levels {
        repo.write(
            &format!("chain/{n}/next.yaml"),
            &format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: level-{next}, namespace: flux-system}}
spec:
  sourceRef: {{kind: GitRepository, name: flux-system}}
  path: ./chain/{next}
",
                next = n + 1
            ),
        );
    }
    repo.write(
        "chain/20/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: end}\n",
    );
    repo.commit("a chain");
    let output = run(&repo, &["render", "deep"], 3);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Kustomization flux-system/level-18")
            && stderr.contains("nested in each other's output reach the limit of 16"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("level-17") && !stdout.contains("name: end"),
        "{stdout}"
    );
}

#[test]
fn a_git_repository_is_this_one_by_its_listed_url_and_pinned_commits_must_match() {
    let repo = fixture_repo();
    repo.write(
        "clusters/production/alias.yaml",
        "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: flux-system}
spec:
  url: git@git.example.com:acme/fleet.git
  ref: {tag: v1.0.0}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: extra, namespace: flux-system}
spec:
  sourceRef: {kind: GitRepository, name: fleet}
  path: ./extra
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: pinned, namespace: flux-system}
spec:
  url: https://git.example.com/acme/fleet
  ref: {commit: 0123456789abcdef0123456789abcdef01234567}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: old, namespace: flux-system}
spec:
  sourceRef: {kind: GitRepository, name: pinned}
  path: ./extra
",
    );
    repo.write(
        "extra/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: web}\n",
    );
    repo.commit("aliases");
    let output = run(&repo, &["render", "production"], 3);
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Another spelling of a URL in `repositories:` is this repository.
    assert!(stdout.contains("name: extra"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("GitRepository flux-system/pinned")
            && stderr.contains("`spec.ref.commit`")
            && stderr.contains("0123456789abcdef"),
        "{stderr}"
    );
}

#[test]
fn values_from_a_secret_never_reach_a_message() {
    let repo = fixture_repo();
    let password = "hunter2-correct-horse";
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(password);
    repo.write(
        "charts/failing/Chart.yaml",
        "apiVersion: v2\nname: failing\nversion: 0.1.0\n",
    );
    repo.write(
        "charts/failing/templates/fail.yaml",
        "{{ fail (printf \"bad password %s\" .Values.password) }}\n",
    );
    repo.write(
        "clusters/production/failing.yaml",
        &format!(
            "apiVersion: v1
kind: Secret
metadata: {{name: creds, namespace: web}}
data:
  password: {encoded}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {{name: failing, namespace: web}}
spec:
  chart:
    spec:
      chart: ./charts/failing
      sourceRef: {{kind: GitRepository, name: flux-system, namespace: flux-system}}
  valuesFrom:
    - kind: Secret
      name: creds
      valuesKey: password
      targetPath: password
"
        ),
    );
    repo.commit("a failing chart");
    let output = run(&repo, &["parity", "staging", "production", "-o", "json"], 3);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("HelmRelease web/failing"), "{text}");
    assert!(text.contains("bad password"), "{text}");
    assert!(!text.contains(password), "{text}");
}
