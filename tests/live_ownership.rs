//! Live ownership and controller-owned noise, end to end (docs/sources.md, live ownership;
//! docs/policies.md): the real plumb binary and the real helm on a Git repository built here,
//! live state from `kubectl get` Lists and from the fake API server.

mod support;

use serde_json::{Value, json};
use support::fake_apiserver::{FakeApiServer, Switches, kubeconfig};
use support::{Repo, finding_lines, stdout_json, tool};

const CONFIG: &str = r#"version: 1
environments:
  prod:
    namespace: shop
    sources:
      - manifests: manifests
      - helm:
          chart: charts/web
          release: web
          namespace: shop
POLICIES
"#;

const CHART: &str = "apiVersion: v2\nname: web\nversion: 1.0.0\n";

/// The chart of the environment's own `helm:` source: a Deployment and a ConfigMap.
const TEMPLATES: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  template:
    metadata:
      annotations:
        kubectl.kubernetes.io/restartedAt: "2026-01-01T00:00:00Z"
    spec:
      containers:
        - name: web
          image: web:1.0
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-settings
  namespace: shop
data:
  mode: fast
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: shop
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 10
"#;

const MANIFESTS: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: platform
  namespace: shop
data:
  tier: gold
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: shop-hook
  annotations:
    cert-manager.io/inject-ca-from: shop/shop-hook
webhooks:
  - name: check.shop.example.com
    clientConfig:
      caBundle: Cg==
      service: {name: hook, namespace: shop}
"#;

/// A repository with the environment's plain manifests and its own chart; `policies` is the
/// config's `policies:` entry (empty for none).
fn repo(policies: &str) -> Repo {
    let repo = Repo::new();
    repo.write("plumb.yaml", &CONFIG.replace("POLICIES", policies))
        .write("manifests/platform.yaml", MANIFESTS)
        .write("charts/web/Chart.yaml", CHART)
        .write("charts/web/templates/all.yaml", TEMPLATES);
    repo
}

fn helm_marks(release: &str, namespace: &str) -> Value {
    json!({"meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": namespace})
}

fn object(
    api_version: &str,
    kind: &str,
    name: &str,
    namespace: Option<&str>,
    rest: Value,
) -> Value {
    let mut object = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}});
    if let Some(ns) = namespace {
        object["metadata"]["namespace"] = json!(ns);
    }
    if let (Value::Object(target), Value::Object(more)) = (&mut object, rest) {
        for (key, value) in more {
            match (target.get_mut(&key), value) {
                (Some(Value::Object(have)), Value::Object(add)) => have.extend(add),
                (_, value) => {
                    target.insert(key, value);
                }
            }
        }
    }
    object
}

/// The live cluster: the environment's objects as its sources applied them (drifted only where
/// controllers own the field), the cluster's own Namespaces, another team's Helm release, a Flux
/// HelmRelease and an Argo CD Application of other teams, an object nobody applied, and one the
/// environment's chart applied and no longer renders.
fn live_objects() -> Vec<Value> {
    let web_marks = helm_marks("web", "shop");
    let mut objects = vec![
        object("v1", "Namespace", "shop", None, json!({})),
        object(
            "v1",
            "ConfigMap",
            "platform",
            Some("shop"),
            json!({"data": {"tier": "gold"}}),
        ),
        object(
            "apps/v1",
            "Deployment",
            "web",
            Some("shop"),
            json!({
                "metadata": {"annotations": web_marks, "labels": {"app.kubernetes.io/managed-by": "Helm"}},
                "spec": {"replicas": 7, "template": {
                    "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-03-04T05:06:07Z"}},
                    "spec": {"containers": [{"name": "web", "image": "web:1.0"}]}}}}),
        ),
        object(
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            "web",
            Some("shop"),
            json!({"metadata": {"annotations": web_marks},
                   "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                            "minReplicas": 2, "maxReplicas": 10}}),
        ),
        object(
            "v1",
            "ConfigMap",
            "web-settings",
            Some("shop"),
            json!({"metadata": {"annotations": web_marks}, "data": {"mode": "fast"}}),
        ),
        object(
            "admissionregistration.k8s.io/v1",
            "ValidatingWebhookConfiguration",
            "shop-hook",
            None,
            json!({"metadata": {"annotations": {"cert-manager.io/inject-ca-from": "shop/shop-hook"}},
                   "webhooks": [{"name": "check.shop.example.com",
                                 "clientConfig": {"caBundle": "LS0tLS1CRUdJTg==",
                                                  "service": {"name": "hook", "namespace": "shop"}}}]}),
        ),
        // The chart no longer renders it.
        object(
            "v1",
            "ConfigMap",
            "web-legacy",
            Some("shop"),
            json!({"metadata": {"annotations": web_marks}, "data": {"old": "yes"}}),
        ),
        // Nobody's.
        object(
            "v1",
            "ConfigMap",
            "stray",
            Some("shop"),
            json!({"data": {"x": "1"}}),
        ),
        // Helm's record of the release.
        object(
            "v1",
            "Secret",
            "sh.helm.release.v1.web.v1",
            Some("shop"),
            json!({"type": "helm.sh/release.v1", "data": {"release": "SDRzSUFBQUFBQUFBLw=="}}),
        ),
        // Another team's Helm release, one of a Flux HelmRelease, one of an Argo CD Application.
        object(
            "v1",
            "ConfigMap",
            "redis-config",
            Some("shop"),
            json!({"metadata": {"annotations": helm_marks("redis", "shop"),
                                "labels": {"app.kubernetes.io/managed-by": "Helm"}}}),
        ),
        object(
            "v1",
            "ConfigMap",
            "podinfo",
            Some("shop"),
            json!({"metadata": {"labels": {"helm.toolkit.fluxcd.io/name": "podinfo",
                                           "helm.toolkit.fluxcd.io/namespace": "flux-system"},
                                "annotations": helm_marks("podinfo", "shop")}}),
        ),
        object(
            "v1",
            "ConfigMap",
            "billing",
            Some("shop"),
            json!({"metadata": {"annotations": {
                "argocd.argoproj.io/tracking-id": "billing:/ConfigMap:shop/billing"}}}),
        ),
    ];
    for system in [
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "other-team",
    ] {
        objects.push(object("v1", "Namespace", system, None, json!({})));
    }
    objects
}

fn write_list(repo: &Repo, objects: &[Value]) {
    let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
    repo.write("live.json", &serde_json::to_string_pretty(&list).unwrap());
}

fn drift(repo: &Repo, code: i32) -> Value {
    let output = repo
        .plumb()
        .env("PLUMB_HELM", tool("helm4"))
        .args(["drift", "prod", "--live", "live.json", "-o", "json"])
        .output()
        .unwrap();
    let report = stdout_json(&output);
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}\n{report:#}",
        String::from_utf8_lossy(&output.stderr)
    );
    report
}

/// The differences the report's policies ignored.
fn ignored(report: &Value) -> u64 {
    report["summary"]["ignored"].as_u64().unwrap()
}

/// Ignored with no policy of the user's: the HPA-scaled replicas, the restart stamp and the
/// injected CA bundle (the controller marks are removed before comparison and not counted).
const CONTROLLER_OWNED: u64 = 3;

#[test]
fn only_the_environments_own_objects_are_unmanaged_and_controller_owned_fields_are_ignored() {
    let repo = repo("");
    write_list(&repo, &live_objects());
    repo.commit("estate");
    let report = drift(&repo, 1);
    assert_eq!(
        finding_lines(&report),
        [
            "unmanaged ConfigMap/stray ",
            "unmanaged ConfigMap/web-legacy ",
        ],
        "{report:#}"
    );
    // Another team's Helm release, Flux HelmRelease and Argo CD Application: counted, not judged.
    assert_eq!(report["summary"]["managed_elsewhere"], json!({"prod": 3}));
    assert_eq!(report["summary"]["complete"], true);
    assert_eq!(report["errors"], json!([]));
    // HPA-scaled replicas, the restart stamp and the injected CA bundle: each ignored, counted.
    assert_eq!(ignored(&report), CONTROLLER_OWNED, "{report:#}");
}

#[test]
fn a_rule_naming_a_controller_owned_path_brings_it_back() {
    let repo = repo("policies: [policies/strict.yaml]");
    repo.write(
        "policies/strict.yaml",
        r#"version: 1
rules:
  - id: replicas-as-declared
    match: {kinds: [apps/Deployment]}
    paths: [spec.replicas, 'spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]']
    action: deny
  - id: ca-as-declared
    paths: ['webhooks[*].clientConfig.caBundle']
    action: deny
"#,
    );
    write_list(&repo, &live_objects());
    repo.commit("estate");
    let report = drift(&repo, 1);
    let lines = finding_lines(&report);
    for expected in [
        "drift Deployment/web spec.replicas",
        "drift Deployment/web spec.template.metadata.annotations[\"kubectl.kubernetes.io/restartedAt\"]",
        "drift ValidatingWebhookConfiguration/shop-hook webhooks[name=\"check.shop.example.com\"].clientConfig.caBundle",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected} not in {lines:#?}"
        );
    }
    assert_eq!(ignored(&report), 0, "{report:#}");
}

#[test]
fn replicas_no_autoscaler_targets_are_still_drift() {
    let repo = repo("");
    let objects: Vec<Value> = live_objects()
        .into_iter()
        .filter(|o| o["kind"] != "HorizontalPodAutoscaler")
        .collect();
    write_list(&repo, &objects);
    repo.commit("estate");
    let report = drift(&repo, 1);
    assert!(
        finding_lines(&report)
            .iter()
            .any(|l| l == "drift Deployment/web spec.replicas"),
        "{report:#}"
    );
    assert_eq!(ignored(&report), CONTROLLER_OWNED - 1, "{report:#}");
}

#[test]
fn a_source_that_fails_to_render_leaves_its_live_objects_unjudged() {
    let repo = repo("");
    repo.write(
        "charts/web/templates/broken.yaml",
        "{{ required \"web: .Values.endpoint is required\" .Values.endpoint }}\n",
    );
    write_list(&repo, &live_objects());
    repo.commit("estate");
    let report = drift(&repo, 3);
    // Nothing of the chart's is judged: not its Deployment's fields, not web-legacy, and not the
    // unowned `stray`, which the failed chart might have rendered.
    let lines = finding_lines(&report);
    assert!(
        lines
            .iter()
            .all(|l| !l.contains("web") && !l.contains("stray")),
        "{lines:#?}"
    );
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["kind"], "render");
    assert_eq!(errors[0]["source"], "helm: charts/web");
    // web, its HPA, web-settings, web-legacy (the chart's), and stray (nobody's).
    assert_eq!(errors[0]["unjudged"], 5, "{errors:#?}");
    assert_eq!(report["summary"]["complete"], false);
    assert_eq!(report["summary"]["managed_elsewhere"], json!({"prod": 3}));
    // The table says it too.
    let output = repo
        .plumb()
        .env("PLUMB_HELM", tool("helm4"))
        .args(["drift", "prod", "--live", "live.json", "--color", "never"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("5 object(s) not judged"), "{table}");
}

#[test]
fn a_cluster_read_never_reports_the_system_namespaces() {
    let repo = repo("");
    let server = FakeApiServer::start(live_objects(), Switches::default());
    let config = CONFIG.replace("POLICIES", "").replace(
        "          namespace: shop\n",
        "          namespace: shop\n    live:\n      context: prod\n",
    );
    // The fake serves no webhook configurations: the environment declares none here.
    let manifests = &MANIFESTS[..MANIFESTS
        .find("---\napiVersion: admissionregistration")
        .unwrap()];
    repo.write("plumb.yaml", &config)
        .write("manifests/platform.yaml", manifests)
        .write("kubeconfig", &kubeconfig(&[("prod", &server.url())]));
    repo.commit("estate");
    let output = repo
        .plumb()
        .env("PLUMB_HELM", tool("helm4"))
        .env("KUBECONFIG", repo.path().join("kubeconfig"))
        .args(["drift", "prod", "-o", "json"])
        .output()
        .unwrap();
    let report = stdout_json(&output);
    assert_eq!(output.status.code(), Some(1), "{report:#}");
    let lines = finding_lines(&report);
    assert!(lines.iter().all(|l| !l.contains("Namespace")), "{lines:#?}");
    assert!(
        lines.iter().any(|l| l == "unmanaged ConfigMap/stray "),
        "{lines:#?}"
    );
    assert_eq!(
        report["summary"]["managed_elsewhere"]["prod"], 3,
        "{report:#}"
    );
}

#[test]
fn a_namespace_the_environment_scopes_is_still_unmanaged() {
    let repo = repo("");
    repo.write(
        "manifests/platform.yaml",
        &MANIFESTS.replacen("name: shop\n---", "name: shop\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: payments\n---", 1),
    );
    let mut objects = live_objects();
    objects.push(object("v1", "ConfigMap", "c", Some("payments"), json!({})));
    objects.push(object("v1", "Namespace", "payments", None, json!({})));
    write_list(&repo, &objects);
    repo.commit("estate");
    let report = drift(&repo, 1);
    let lines = finding_lines(&report);
    assert!(
        lines.iter().any(|l| l == "unmanaged Namespace/payments "),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .all(|l| !l.contains("kube-") && !l.contains("default") && !l.contains("other-team")),
        "{lines:#?}"
    );
}
