//! End-to-end tests: the real plumb binary over real Git repositories.

mod support;

use predicates::prelude::*;
use serde_json::json;
use support::{Repo, finding_lines, stdout_json};

const CONFIG: &str = "version: 1
environments:
  staging:
    namespace: shop-staging
    sources:
      - manifests: envs/staging
    live:
      snapshot: live/staging.json
  production:
    namespace: shop
    sources:
      - manifests: envs/production/*.yaml
parity:
  - between: [staging, production]
    namespaces: {shop-staging: shop}
    equivalents:
      - [staging.example.com, example.com]
";

fn app(env_ns: &str, replicas: u32, image: &str, host: &str, hash: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: {replicas}
  template:
    spec:
      containers:
        - name: api
          image: {image}
          env:
            - name: DB_HOST
              value: db.{host}
          resources:
            limits: {{cpu: 1000m, memory: 1Gi}}
          volumeMounts:
            - name: config
              mountPath: /etc/app
      volumes:
        - name: config
          configMap:
            name: app-config-{hash}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config-{hash}
data:
  LOG_LEVEL: info
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: api
subjects:
  - kind: ServiceAccount
    name: api
    namespace: {env_ns}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: api}}
"
    )
}

fn shop_repo() -> Repo {
    let repo = Repo::new();
    repo.write("plumb.yaml", CONFIG)
        .write("envs/staging/app.yaml", &app("shop-staging", 1, "api:1.8.0", "staging.example.com", "7h2k9m5f8t"))
        .write("envs/production/app.yaml", &app("shop", 3, "api:1.7.2", "example.com", "g4m2bt8h6c"))
        .write(
            "envs/production/policy.yaml",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny}\nspec: {podSelector: {}}\n",
        );
    repo.commit("initial");
    repo
}

#[test]
fn parity_maps_namespaces_equivalents_and_hash_suffixes() {
    let repo = shop_repo();
    let output = repo
        .plumb()
        .args(["parity", "staging", "production", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "parity findings are warnings: exit 0"
    );
    let report = stdout_json(&output);
    assert_eq!(
        finding_lines(&report),
        [
            "only-in NetworkPolicy/default-deny ",
            "parity Deployment/api spec.replicas",
            "parity Deployment/api spec.template.spec.containers[name=api].image",
        ]
    );
    let image = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("image"))
        .unwrap();
    assert_eq!(image["left"], "api:1.8.0");
    assert_eq!(image["right"], "api:1.7.2");
    assert_eq!(image["status"], "unreviewed");
    assert_eq!(image["severity"], "warning");
    assert_eq!(image["envs"], json!(["staging", "production"]));
    assert_eq!(image["source"]["file"], "envs/staging/app.yaml");
    assert_eq!(report["summary"]["resources"]["staging"], 3);
    assert_eq!(report["summary"]["complete"], true);
    assert_eq!(report["inputs"]["commit"].as_str().unwrap().len(), 40);

    let gate = repo
        .plumb()
        .args([
            "parity",
            "staging",
            "production",
            "--fail-on",
            "warning",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(gate.status.code(), Some(1));
}

#[test]
fn finding_ids_are_stable_across_runs() {
    let repo = shop_repo();
    let ids = || {
        let report = stdout_json(
            &repo
                .plumb()
                .args(["parity", "staging", "production", "-o", "json"])
                .output()
                .unwrap(),
        );
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(), ids());
}

fn live_list(items: serde_json::Value) -> String {
    json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()
}

fn live_staging() -> serde_json::Value {
    json!([
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "shop-staging", "uid": "1",
            "resourceVersion": "9", "generation": 4,
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration":
                "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"api\",\"labels\":{\"old\":\"yes\"}},\"spec\":{\"replicas\":1}}"},
            "labels": {"old": "yes"},
            "managedFields": [
                {"manager": "kubectl-client-side-apply", "operation": "Update", "time": "2025-01-01T00:00:00Z",
                 "fieldsV1": {"f:metadata": {"f:labels": {"f:old": {}}}, "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"api\"}": {"f:image": {}}}}}}}},
                {"manager": "kubectl-set", "operation": "Update", "time": "2025-02-01T00:00:00Z",
                 "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"api\"}": {"f:image": {}}}}}}}}
            ]},
         "spec": {"replicas": 1, "progressDeadlineSeconds": 600, "template": {"spec": {
            "containers": [{"name": "api", "image": "api:1.8.1", "imagePullPolicy": "IfNotPresent",
                "env": [{"name": "DB_HOST", "value": "db.staging.example.com"}],
                "resources": {"limits": {"cpu": "1", "memory": "1024Mi"}},
                "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}]}],
            "volumes": [{"name": "config", "configMap": {"name": "app-config-7h2k9m5f8t", "defaultMode": 420}}]}}},
         "status": {"replicas": 1}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "stray", "namespace": "shop-staging"}, "data": {"a": "b"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt", "namespace": "shop-staging"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other-team", "namespace": "elsewhere"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "api", "namespace": "shop-staging"},
         "subjects": [{"kind": "ServiceAccount", "name": "api", "namespace": "shop-staging"}],
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "api"}}
    ])
}

#[test]
fn drift_reports_changes_missing_unmanaged_and_who_changed_them() {
    let repo = shop_repo();
    repo.write("live/staging.json", &live_list(live_staging()));
    let report = repo.report(&["drift", "staging", "-o", "json"], 1);
    assert_eq!(
        finding_lines(&report),
        [
            "drift Deployment/api metadata.labels.old",
            "drift Deployment/api spec.template.spec.containers[name=api].image",
            "missing ConfigMap/app-config-7h2k9m5f8t ",
            "unmanaged ConfigMap/stray ",
        ]
    );
    let findings = report["findings"].as_array().unwrap();
    let image = findings
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("image"))
        .unwrap();
    assert_eq!(image["changed_by"]["manager"], "kubectl-set");
    assert_eq!(image["left"], "api:1.8.0");
    assert_eq!(image["right"], "api:1.8.1");
    assert_eq!(image["severity"], "error");
    let label = findings
        .iter()
        .find(|f| f["path"] == "metadata.labels.old")
        .unwrap();
    assert!(
        label["message"].as_str().unwrap().contains("last-applied"),
        "{label}"
    );

    // Same result from a file passed on the command line, in YAML.
    let yaml = repo.path().join("live.yaml");
    let items: Vec<String> = live_staging()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| format!("  - {i}"))
        .collect();
    std::fs::write(
        &yaml,
        format!("apiVersion: v1\nkind: List\nitems:\n{}\n", items.join("\n")),
    )
    .unwrap();
    let again = repo
        .plumb()
        .args(["drift", "staging", "-o", "json", "--live"])
        .arg(&yaml)
        .output()
        .unwrap();
    assert_eq!(finding_lines(&stdout_json(&again)), finding_lines(&report));
}

#[test]
fn ref_reads_history_not_the_working_tree() {
    let repo = shop_repo();
    let first = repo
        .plumb()
        .args(["parity", "staging", "production", "-o", "json"])
        .output()
        .unwrap();
    let first_commit = stdout_json(&first)["inputs"]["commit"]
        .as_str()
        .unwrap()
        .to_string();
    repo.tag("v1");
    repo.write(
        "envs/staging/app.yaml",
        &app(
            "shop-staging",
            3,
            "api:1.7.2",
            "staging.example.com",
            "7h2k9m5f8t",
        ),
    );
    repo.commit("align staging");
    // Uncommitted edits in the working tree are never read.
    repo.write("envs/staging/app.yaml", "this: [is not valid yaml\n");
    let head = stdout_json(
        &repo
            .plumb()
            .args(["parity", "staging", "production", "-o", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        finding_lines(&head),
        ["only-in NetworkPolicy/default-deny "]
    );
    let old = stdout_json(
        &repo
            .plumb()
            .args([
                "parity",
                "staging",
                "production",
                "-o",
                "json",
                "--ref",
                "v1",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(old["inputs"]["commit"], first_commit.as_str());
    assert_eq!(old["inputs"]["ref"], "v1");
    assert_eq!(finding_lines(&old).len(), 3);
}

#[test]
fn render_prints_desired_state_with_namespaces_and_writes_a_tree() {
    let repo = shop_repo();
    let output = repo.plumb().args(["render", "staging"]).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        text.matches("\n---\n").count() + usize::from(text.starts_with("---\n")),
        3,
        "{text}"
    );
    assert!(text.contains("namespace: shop-staging"), "{text}");
    let out = repo.path().join("rendered");
    repo.plumb()
        .args(["render", "production", "--out-dir"])
        .arg(&out)
        .assert()
        .success();
    assert!(out.join("shop/deployment.apps-api.yaml").is_file());
    assert!(
        out.join("shop/networkpolicy.networking.k8s.io-default-deny.yaml")
            .is_file()
    );
}

#[test]
fn helm_and_kustomize_sources_that_fail_make_the_run_incomplete_not_clean() {
    let repo = Repo::new();
    repo.write(
        "plumb.yaml",
        "version: 1\nenvironments:\n  a:\n    sources:\n      - manifests: a\n      - helm: {chart: charts/web}\n  b:\n    sources:\n      - kustomize: b\n",
    )
    .write("a/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    .write("charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n")
    .write("charts/web/templates/x.yaml", "{{ fail \"no\" }}\n")
    .write("b/kustomization.yaml", "resources: [https://example.invalid/base]\n");
    repo.commit("c");
    let output = repo
        .plumb()
        .args(["parity", "a", "b", "-o", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let report = stdout_json(&output);
    assert_eq!(report["summary"]["complete"], false);
    let sources = support::texts_of(&report["errors"], "source");
    assert_eq!(sources, ["helm: charts/web", "kustomize: b"]);
}

// ---- bad input: exit 2, with file and line ----

fn fails_with(repo: &Repo, args: &[&str], needles: &[&str]) {
    let output = repo.plumb().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "missing {needle:?} in:\n{stderr}");
    }
}

#[test]
fn malformed_yaml_names_file_and_line() {
    let repo = shop_repo();
    repo.write(
        "envs/staging/broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n  labels: {}\n",
    );
    repo.commit("broken");
    fails_with(
        &repo,
        &["parity", "staging", "production"],
        &[
            "envs/staging/broken.yaml:",
            "source `manifests: envs/staging`",
        ],
    );
}

#[test]
fn unknown_config_key_names_its_line() {
    let repo = shop_repo();
    repo.write(
        "plumb.yaml",
        &CONFIG.replace(
            "    namespaces: {shop-staging: shop}",
            "    namespace_map: {shop-staging: shop}",
        ),
    );
    fails_with(
        &repo,
        &["parity", "staging", "production"],
        &[
            "plumb.yaml:15:5",
            "namespace_map",
            "expected one of between, namespaces, equivalents",
        ],
    );
}

#[test]
fn a_ref_that_does_not_exist() {
    let repo = shop_repo();
    fails_with(
        &repo,
        &["parity", "staging", "production", "--ref", "no-such-tag"],
        &["no-such-tag", "does not exist"],
    );
}

#[test]
fn a_source_path_missing_at_the_ref() {
    let repo = shop_repo();
    repo.write(
        "plumb.yaml",
        &CONFIG.replace("manifests: envs/staging", "manifests: envs/stagign"),
    );
    fails_with(
        &repo,
        &["render", "staging"],
        &["envs/stagign", "does not exist at HEAD"],
    );
    // Present in the working tree but not committed: still missing, Git is what counts.
    repo.write(
        "plumb.yaml",
        &CONFIG.replace("manifests: envs/staging", "manifests: envs/new"),
    );
    repo.write(
        "envs/new/x.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    );
    fails_with(
        &repo,
        &["render", "staging"],
        &["envs/new", "commit new files first"],
    );
}

#[test]
fn two_objects_with_one_identity() {
    let repo = shop_repo();
    repo.write("envs/staging/dup.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config-7h2k9m5f8t\n  namespace: shop-staging\n");
    repo.commit("dup");
    fails_with(
        &repo,
        &["render", "staging"],
        &[
            "declared twice",
            "envs/staging/app.yaml:",
            "envs/staging/dup.yaml:1",
        ],
    );
}

#[test]
fn a_live_file_that_is_neither_a_list_nor_a_snapshot() {
    let repo = shop_repo();
    repo.write(
        "live/staging.json",
        r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}"#,
    );
    fails_with(
        &repo,
        &["drift", "staging"],
        &["live/staging.json:1", "neither", "kubectl get"],
    );
}

#[test]
fn an_empty_environment() {
    let repo = shop_repo();
    repo.write("envs/staging/app.yaml", "# nothing here yet\n");
    repo.commit("empty");
    fails_with(
        &repo,
        &["parity", "staging", "production"],
        &["environment `staging` has no desired objects"],
    );
}

#[test]
fn an_unknown_environment() {
    let repo = shop_repo();
    fails_with(
        &repo,
        &["drift", "prod"],
        &["unknown environment `prod`", "staging, production"],
    );
}

#[test]
fn no_repository_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plumb.yaml"), CONFIG).unwrap();
    let output = support::plumb()
        .current_dir(dir.path())
        .args(["render", "staging"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not inside a Git repository"));
}

// ---- compare: no config ----

#[test]
fn compare_works_as_kubectl_external_diff() {
    // kubectl diff writes one file per object, named without an extension.
    let dir = tempfile::tempdir().unwrap();
    let (live, merged) = (dir.path().join("LIVE-1"), dir.path().join("MERGED-2"));
    std::fs::create_dir_all(&live).unwrap();
    std::fs::create_dir_all(&merged).unwrap();
    let svc = |port: u32| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\n  uid: x\nspec:\n  ports:\n  - port: {port}\n"
        )
    };
    std::fs::write(live.join("v1.Service.default.web"), svc(80)).unwrap();
    std::fs::write(merged.join("v1.Service.default.web"), svc(8080)).unwrap();
    let output = support::plumb()
        .args(["compare", "--mode", "parity", "--fail-on", "warning"])
        .arg(&live)
        .arg(&merged)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("spec.ports[port=80,protocol=TCP]"), "{text}");
    std::fs::write(merged.join("v1.Service.default.web"), svc(80)).unwrap();
    support::plumb()
        .args(["compare", "--mode", "parity", "--fail-on", "warning"])
        .arg(&live)
        .arg(&merged)
        .assert()
        .code(0);
}

#[test]
fn invalid_base64_in_secret_data_is_compared_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let secret = |v: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: s, namespace: a}}\ndata:\n  k: \"{v}\"\n"
        )
    };
    std::fs::write(dir.path().join("a.yaml"), secret("not base64 at all!")).unwrap();
    std::fs::write(dir.path().join("b.yaml"), secret("not base64 at all!")).unwrap();
    std::fs::write(dir.path().join("c.yaml"), secret("also *not* base64")).unwrap();
    support::plumb()
        .args(["compare", "--mode", "drift"])
        .arg(dir.path().join("a.yaml"))
        .arg(dir.path().join("b.yaml"))
        .assert()
        .code(0);
    let output = support::plumb()
        .args(["compare", "--mode", "drift"])
        .arg(dir.path().join("a.yaml"))
        .arg(dir.path().join("c.yaml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains("not base64") && !text.contains("*not*"),
        "{text}"
    );
    assert!(text.contains("hmac-sha256:"), "{text}");
}

#[test]
fn compare_bad_input_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), "kind: [\n").unwrap();
    std::fs::write(
        dir.path().join("ok.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    )
    .unwrap();
    support::plumb()
        .args(["compare", "--mode", "drift"])
        .arg(dir.path().join("bad.yaml"))
        .arg(dir.path().join("ok.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.yaml:"));
    support::plumb()
        .args(["compare", "--mode", "drift"])
        .arg(dir.path().join("missing.yaml"))
        .arg(dir.path().join("ok.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.yaml"));
}

#[test]
fn baselines_mark_new_recurring_and_resolved_findings() {
    let repo = support::demo_repo();
    let baseline = repo.path().join("baseline.json");
    let write = |args: &[&str], to: &std::path::Path| {
        let status = repo
            .plumb()
            .args(args)
            .arg(format!("--report=json={}", to.display()))
            .output()
            .unwrap()
            .status;
        assert_eq!(status.code(), Some(1));
    };
    write(&["drift", "production"], &baseline);
    let base: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    let statuses = |report: &serde_json::Value| -> Vec<String> {
        support::sorted_findings(report, |f| {
            format!(
                "{} {} {}",
                support::text(f, "baseline"),
                support::text(&f["resource"], "name"),
                support::text(f, "path")
            )
        })
    };
    let against = |baseline: &std::path::Path| {
        repo.report(
            &[
                "drift",
                "production",
                "-o",
                "json",
                "--baseline",
                baseline.to_str().unwrap(),
            ],
            1,
        )
    };
    // The same run again: everything recurs, first seen when the baseline was made.
    let again = against(&baseline);
    assert!(
        statuses(&again).iter().all(|l| l.starts_with("recurring ")),
        "{:?}",
        statuses(&again)
    );
    assert!(
        again["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["first_seen"] == base["generated_at"])
    );
    assert_eq!(again["resolved"], serde_json::json!([]));
    // Git catches up with the hotfixed image (resolved) and declares a new label (new).
    let api = std::fs::read_to_string(repo.path().join("envs/production/api.yaml")).unwrap();
    repo.write(
        "envs/production/api.yaml",
        &api.replace("shop-api:1.8.0", "shop-api:1.7.3-hotfix")
            .replacen("  labels:\n", "  labels:\n    audited: \"yes\"\n", 1),
    );
    repo.commit("adopt the hotfix; label api");
    let after = against(&baseline);
    let lines = statuses(&after);
    assert!(
        lines.contains(&"new api metadata.labels.audited".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.iter().filter(|l| l.starts_with("new ")).count() == 1,
        "{lines:?}"
    );
    let resolved: Vec<&str> = after["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(resolved, ["spec.template.spec.containers[name=api].image"]);
    // --fail-on-new gates on the new finding only: the label drift is an error, so exit 1; with
    // only recurring findings, exit 0.
    let new_only = |baseline: &std::path::Path| {
        repo.plumb()
            .args(["drift", "production", "--fail-on-new", "--baseline"])
            .arg(baseline)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(new_only(&baseline), Some(1));
    let newer = repo.path().join("newer.json");
    write(
        &[
            "drift",
            "production",
            "--baseline",
            baseline.to_str().unwrap(),
        ],
        &newer,
    );
    assert_eq!(new_only(&newer), Some(0));
    // first_seen survives a baseline made from a baseline.
    let carried = against(&newer);
    let unmanaged = carried["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "unmanaged")
        .unwrap();
    assert_eq!(unmanaged["first_seen"], base["generated_at"]);
}

#[test]
fn audit_is_every_drift_and_parity_in_one_report_and_they_meet() {
    let repo = support::demo_repo();
    let audit = repo.report(&["audit", "-o", "json"], 1);
    let parts: Vec<serde_json::Value> = [
        vec!["drift", "staging"],
        vec!["drift", "production"],
        vec!["parity", "staging", "production"],
    ]
    .iter()
    .map(|args| {
        let mut args = args.clone();
        args.extend(["-o", "json"]);
        repo.report(&args, 1)
    })
    .collect();
    let ids = |report: &serde_json::Value| -> std::collections::BTreeSet<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    // Every finding of the three runs, once: a check both drift and parity make (the worker's
    // readiness probe) keeps its id and appears once per environment.
    let expected: std::collections::BTreeSet<String> = parts.iter().flat_map(ids).collect();
    assert_eq!(ids(&audit), expected);
    let total: usize = parts
        .iter()
        .map(|r| r["findings"].as_array().unwrap().len())
        .sum();
    assert_eq!(audit["findings"].as_array().unwrap().len(), total - 2);
    assert_eq!(audit["command"], "audit");
    assert_eq!(audit["summary"]["resources"]["staging"], 14);
    let message = |path: &str| {
        audit["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == "drift" && f["path"] == path)
            .unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Production's LOG_LEVEL was edited live to staging's value.
    assert!(
        message("data.LOG_LEVEL").contains("the cluster runs what staging declares in Git here"),
        "{}",
        message("data.LOG_LEVEL")
    );
    // An environment that cannot be read makes the audit incomplete and hides nothing else.
    let config = std::fs::read_to_string(repo.path().join("plumb.yaml"))
        .unwrap()
        .replace("snapshot: snapshots/staging.json", "context: nowhere");
    repo.write("plumb.yaml", &config);
    repo.write("kubeconfig", "apiVersion: v1\nkind: Config\nclusters:\n  - {name: nowhere, cluster: {server: \"http://127.0.0.1:9\"}}\ncontexts:\n  - {name: nowhere, context: {cluster: nowhere, user: u}}\ncurrent-context: nowhere\nusers:\n  - {name: u, user: {}}\n");
    let output = repo
        .plumb()
        .env("KUBECONFIG", repo.path().join("kubeconfig"))
        .args(["audit", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let partial = stdout_json(&output);
    let lines = finding_lines(&partial);
    assert!(
        lines.contains(&"unmanaged Deployment/debug-shell ".to_string()),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l.starts_with("parity ")), "{lines:?}");
    assert_eq!(partial["errors"][0]["kind"], "unreachable");
}

#[test]
fn diff_shows_what_a_change_does_to_each_environment() {
    let repo = Repo::new();
    let deployment = |image: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api}}\nspec:\n  template:\n    spec:\n      containers:\n        - {{name: api, image: \"{image}\"}}\n"
        )
    };
    let secret = |keys: &str| {
        format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: db}}\nstringData: {{{keys}}}\n")
    };
    let service =
        "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n  ports: [{port: 80}]\n";
    let settings = |level: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\ndata: {{LOG_LEVEL: {level}}}\n"
        )
    };
    repo.write(
        "plumb.yaml",
        "version: 1\nenvironments:\n  staging:\n    namespace: shop-staging\n    sources: [{manifests: base}, {manifests: staging}]\n  production:\n    namespace: shop\n    sources: [{manifests: base}, {manifests: production}]\nparity:\n  - between: [staging, production]\n    namespaces: {shop-staging: shop}\n",
    )
    .write("base/api.yaml", &deployment("api:1.0"))
    .write("base/secret.yaml", &secret("password: p1"))
    .write("staging/settings.yaml", &settings("debug"))
    .write("production/settings.yaml", &settings("debug"))
    .write("production/service.yaml", service)
    .write("staging/service.yaml", service);
    let base = repo.commit("before");
    repo.write("base/api.yaml", &deployment("api:1.1"))
        .write(
            "base/secret.yaml",
            &secret("password: p1, token: t0ps3cret"),
        )
        .write("production/settings.yaml", &settings("info"));
    std::fs::remove_file(repo.path().join("production/service.yaml")).unwrap();
    repo.commit("the change");
    let report = repo.report(&["diff", "--base", &base, "-o", "json"], 0);
    let lines = support::sorted_findings(&report, |f| {
        format!(
            "{} {} {}/{} {} {}",
            f["envs"][0].as_str().unwrap(),
            support::text(f, "kind"),
            support::text(&f["resource"], "kind"),
            support::text(&f["resource"], "name"),
            support::text(f, "path"),
            support::text(f, "message")
        )
    });
    assert_eq!(
        lines,
        [
            "production change ConfigMap/settings data.LOG_LEVEL changed by this change",
            "production change Deployment/api spec.template.spec.containers[name=api].image changed by this change",
            "production change Secret/db data.token added by this change",
            "production change Service/api  removed by this change",
            "staging change Deployment/api spec.template.spec.containers[name=api].image changed by this change",
            "staging change Secret/db data.token added by this change",
            "staging only-in Service/api  only in staging (opened by this change)",
            "staging parity ConfigMap/settings data.LOG_LEVEL staging and production differ (opened by this change)",
        ]
    );
    let text = report.to_string();
    assert!(
        !text.contains("t0ps3cret") && !text.contains("dDBwczNjcmV0"),
        "a secret leaked"
    );
    let token = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "data.token")
        .unwrap();
    assert!(token["right"].as_str().unwrap().starts_with("hmac-sha256:"));
    // One environment only.
    let production = repo.report(&["diff", "--base", &base, "-o", "json", "production"], 0);
    assert!(
        production["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["envs"][0] == "production")
    );
}

/// The pull-request case (docs/promotion.md): a change that makes production run what staging
/// never ran is the report's first line, in every format, and fails the run; a change that bumps
/// staging first says nothing of the kind.
#[test]
fn diff_says_when_a_change_makes_downstream_run_what_upstream_never_ran() {
    let repo = Repo::new();
    let api = |image: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api}}\nspec:\n  template:\n    spec:\n      containers:\n        - {{name: api, image: \"registry.example.com/shop/{image}\"}}\n"
        )
    };
    repo.write(
        "plumb.yaml",
        "version: 1\nenvironments:\n  staging:\n    namespace: shop-staging\n    sources: [{manifests: staging}]\n  production:\n    upstream: staging\n    namespace: shop\n    sources: [{manifests: production}]\n",
    )
    .write("staging/api.yaml", &api("api:2.3"))
    .write("production/api.yaml", &api("api:2.3"));
    let base = repo.commit("both run 2.3");
    repo.write("production/api.yaml", &api("api:2.4"));
    let direct = repo.commit("bump production directly");
    let headline = "this change makes production run api:2.4, which staging never ran";
    let run = |base: &str, head: &str, format: &str| {
        let output = repo
            .plumb()
            .args(["diff", "--base", base, "--head", head, "-o", format])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        (output.status.code(), stdout)
    };

    // Markdown: the headline comes before the summary table, and the run fails.
    let (code, markdown) = run(&base, &direct, "markdown");
    assert_eq!(code, Some(1), "{markdown}");
    let said = markdown
        .find(headline)
        .unwrap_or_else(|| panic!("{markdown}"));
    let table = markdown.find("| |").unwrap();
    assert!(said < table, "the headline comes first:\n{markdown}");
    // JSON: the headline names its finding, an unvalidated promotion finding, an error.
    let (code, json) = run(&base, &direct, "json");
    assert_eq!(code, Some(1));
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let headlines = report["headlines"].as_array().unwrap();
    assert_eq!(headlines.len(), 1, "{headlines:?}");
    assert!(
        headlines[0]["message"]
            .as_str()
            .unwrap()
            .starts_with(headline)
    );
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == headlines[0]["finding"])
        .unwrap();
    assert_eq!(
        (
            &finding["kind"],
            &finding["status"],
            &finding["severity"],
            &finding["promotion"]["state"]
        ),
        (
            &json!("promotion"),
            &json!("violation"),
            &json!("error"),
            &json!("unvalidated")
        )
    );
    assert_eq!(finding["envs"], json!(["staging", "production"]));
    assert_eq!(
        finding["promotion"]["upstream_value"],
        "registry.example.com/shop/api:2.3"
    );
    // The table's first line; SARIF and JUnit carry it as the finding's message.
    let (_, table) = run(&base, &direct, "table");
    assert!(table.lines().next().unwrap().contains(headline), "{table}");
    for format in ["sarif", "junit"] {
        let (code, text) = run(&base, &direct, format);
        assert_eq!(code, Some(1));
        assert!(text.contains(headline), "{format}: {text}");
    }

    // Staging first: production keeps running what it ran, as promotion intends. No headline,
    // whatever the history says of production's version (its lag is the history walk's to tell).
    repo.write("production/api.yaml", &api("api:2.3"))
        .write("staging/api.yaml", &api("api:2.4"));
    let staging_first = repo.commit("bump staging first");
    let (_, markdown) = run(&base, &staging_first, "markdown");
    assert!(!markdown.contains("this change makes"), "{markdown}");
    assert!(!markdown.contains("CAUTION"), "{markdown}");
    let (_, json) = run(&base, &staging_first, "json");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(report.get("headlines").is_none(), "{report}");
    let promotions: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "promotion")
        .collect();
    assert_eq!(promotions.len(), 1, "{promotions:?}");
    assert_eq!(
        promotions[0]["promotion"]["upstream_value"],
        "registry.example.com/shop/api:2.4"
    );
    // Staging ran 2.3 before (at the base): production lags, as promotion intends — expected,
    // and the change passes.
    assert_eq!(promotions[0]["promotion"]["state"], "lag", "{report}");
    assert_eq!(promotions[0]["status"], "expected");
    let (code, _) = run(&base, &staging_first, "json");
    assert_eq!(code, Some(0), "{report}");

    // From that lag, bumping production past staging: the same place turns unvalidated, and
    // that is the headline even though the base already had a promotion finding there.
    repo.write("production/api.yaml", &api("api:2.5"));
    let past = repo.commit("bump production past staging");
    let (code, markdown) = run(&staging_first, &past, "markdown");
    assert_eq!(code, Some(1), "{markdown}");
    assert!(
        markdown.contains("this change makes production run api:2.5, which staging never ran"),
        "{markdown}"
    );
}

#[test]
fn diff_follows_a_values_change_to_the_one_environment_it_reaches() {
    let repo = Repo::new();
    repo.write(
        "plumb.yaml",
        "version: 1\nenvironments:\n  staging:\n    namespace: shop-staging\n    sources:\n      - helm: {chart: chart, release: web, namespace: shop-staging, values: [chart/values.yaml, values/staging.yaml]}\n  production:\n    namespace: shop\n    sources:\n      - helm: {chart: chart, release: web, namespace: shop, values: [chart/values.yaml, values/production.yaml]}\n",
    )
    .write("chart/Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n")
    .write("chart/values.yaml", "replicas: 1\nlogLevel: info\n")
    .write(
        "chart/templates/web.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {{ .Values.replicas }}\n  template:\n    spec:\n      containers:\n        - name: web\n          image: web:1\n          env: [{name: LOG_LEVEL, value: {{ .Values.logLevel | quote }}}]\n",
    )
    .write("values/staging.yaml", "logLevel: debug\n")
    .write("values/production.yaml", "replicas: 3\n");
    let base = repo.commit("before");
    repo.write("values/production.yaml", "replicas: 5\n");
    repo.commit("scale production");
    let output = repo
        .plumb()
        .env("PLUMB_HELM", support::tool("helm4"))
        .args(["diff", "--base", &base, "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = stdout_json(&output);
    let lines = support::sorted_findings(&report, |f| {
        format!(
            "{} {} {}: {} -> {}",
            f["envs"][0].as_str().unwrap(),
            support::text(f, "kind"),
            support::text(f, "path"),
            f["left"],
            f["right"]
        )
    });
    assert_eq!(lines, ["production change spec.replicas: 3 -> 5"]);
}

// kubectl's conventions: -o FORMAT, --report FORMAT=FILE, per-command flags, version,
// completion, policy show (README.md, commands and flags).

#[test]
fn dash_o_json_prints_the_json_report_on_stdout() {
    let repo = support::demo_repo();
    let output = repo
        .plumb()
        .args(["parity", "staging", "production", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report = stdout_json(&output);
    assert_eq!(report["command"], "parity");
    assert!(!finding_lines(&report).is_empty());
    // No file named `json` appears (what -o json did before: it wrote the table there).
    assert!(!repo.path().join("json").exists());
}

#[test]
fn dash_f_is_a_usage_error_that_names_dash_o() {
    let repo = support::demo_repo();
    for args in [
        vec!["parity", "staging", "production", "-f", "json"],
        vec!["-f", "json", "audit"],
        vec!["render", "staging", "--format", "json"],
    ] {
        let output = repo.plumb().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("use -o json"), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn three_reports_from_one_run_agree_and_render_once() {
    let repo = Repo::new();
    repo.write(
        "plumb.yaml",
        "version: 1\nenvironments:\n  a:\n    sources: [{kustomize: o/a}]\n  b:\n    sources: [{kustomize: o/b}]\nparity:\n  - between: [a, b]\n",
    )
    .write("base/kustomization.yaml", "resources: [cm.yaml]\n")
    .write(
        "base/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, labels: {app: x}}\ndata: {x: '1'}\n",
    )
    .write("o/a/kustomization.yaml", "resources: [../../base]\n")
    .write(
        "o/b/kustomization.yaml",
        "resources: [../../base]\ncommonLabels: {env: b}\n",
    );
    repo.commit("overlays");
    let bin = tempfile::tempdir().unwrap();
    let (_, kubectl, log) = support::counting_tools(bin.path());
    let out = repo.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let file = |name: &str| out.join(name).display().to_string();
    let output = repo
        .plumb()
        .env("PLUMB_KUSTOMIZE", &kubectl)
        .args([
            "parity",
            "a",
            "b",
            "--no-cache",
            "--fail-on",
            "info",
            "-o",
            "json",
        ])
        .args(["--report", &format!("json={}", file("plumb.json"))])
        .args(["--report", &format!("sarif={}", file("plumb.sarif"))])
        .args(["--report", &format!("junit={}", file("plumb.xml"))])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Each overlay rendered once, for all four outputs.
    let calls = support::tool_calls(&log);
    let renders = calls.iter().filter(|c| *c == "kubectl kustomize").count();
    assert_eq!(renders, 2, "{calls:?}");
    assert_eq!(calls.len(), 3, "one version lookup, two renders: {calls:?}");
    // The JSON file is the JSON on stdout (the same run, so the same generated_at).
    let stdout = stdout_json(&output);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file("plumb.json")).unwrap()).unwrap();
    assert_eq!(json, stdout);
    let ids: std::collections::BTreeSet<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!ids.is_empty(), "{json}");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file("plumb.sarif")).unwrap()).unwrap();
    let sarif_ids: std::collections::BTreeSet<String> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["partialFingerprints"]["plumbFindingId/v1"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(sarif_ids, ids);
    let junit = std::fs::read_to_string(file("plumb.xml")).unwrap();
    assert!(junit.contains("<failure"), "{junit}");
    assert!(junit.contains("metadata.labels.env"), "{junit}");
}

#[test]
fn a_bad_report_target_is_a_usage_error() {
    let repo = support::demo_repo();
    for (target, says) in [
        ("yaml=out.yaml", "not a report format"),
        ("json=", "names no file"),
        ("out.json", "FORMAT=FILE"),
    ] {
        let output = repo
            .plumb()
            .args(["parity", "staging", "production", "--report", target])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{target}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{target}: {stderr}");
    }
}

#[test]
fn a_flag_on_a_command_that_does_not_take_it_is_a_usage_error() {
    let repo = support::demo_repo();
    for args in [
        vec!["render", "staging", "--fail-on", "error"],
        vec!["render", "staging", "-o", "markdown"],
        vec!["drift", "staging", "--history", "5"],
        vec!["compare", "a", "b", "--no-cache"],
        vec!["policy", "lint", "--metrics", "m.prom"],
        vec!["diff", "--base", "HEAD", "--kubeconfig", "k"],
    ] {
        let output = repo.plumb().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    // The same flags where they belong are accepted.
    repo.plumb()
        .args([
            "parity",
            "staging",
            "production",
            "--history",
            "5",
            "--fail-on",
            "never",
        ])
        .assert()
        .code(0);
}

#[test]
fn render_prints_json_as_a_kubectl_list() {
    let repo = support::demo_repo();
    let output = repo
        .plumb()
        .args(["render", "staging", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let list = stdout_json(&output);
    assert_eq!(list["kind"], "List");
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"Deployment"), "{kinds:?}");
    // No Secret value: data is fingerprinted as in YAML.
    let text = String::from_utf8_lossy(&output.stdout);
    let secrets = std::fs::read_to_string(support::fixtures().join("demo/SECRETS.txt")).unwrap();
    for secret in secrets
        .lines()
        .map(str::trim)
        .filter(|l| l.len() > 6 && !l.starts_with('#'))
    {
        assert!(!text.contains(secret), "{secret}");
    }
}

#[test]
fn bash_sources_the_completion_script() {
    let plumb = env!("CARGO_BIN_EXE_plumb");
    let output = std::process::Command::new("bash")
        .args([
            "--norc",
            "-c",
            &format!("source <('{plumb}' completion bash) && complete -p plumb"),
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = String::from_utf8_lossy(&output.stdout);
    assert!(
        line.contains("complete") && line.contains("plumb"),
        "{line}"
    );
    assert!(line.contains("-F _plumb"), "{line}");
    // The other shells' scripts are generated too.
    for shell in ["zsh", "fish", "powershell"] {
        let output = support::plumb()
            .args(["completion", shell])
            .output()
            .unwrap();
        assert!(output.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("plumb"),
            "{shell}"
        );
    }
}

#[test]
fn version_names_the_build_and_the_tools_a_render_would_use() {
    let output = support::plumb()
        .env("PLUMB_HELM", support::tool("helm4"))
        .env("PLUMB_KUSTOMIZE", support::tool("kubectl"))
        .arg("version")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with(&format!("plumb {}\n", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    let commit = text
        .lines()
        .find_map(|l| l.strip_prefix("commit: "))
        .unwrap();
    assert!(
        commit == "unknown"
            || (commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("built: ")), "{text}");
    let helm = text.lines().find(|l| l.starts_with("helm: ")).unwrap();
    assert!(helm.contains("v4.") && helm.contains("helm"), "{text}");
    let kustomize = text.lines().find(|l| l.starts_with("kustomize: ")).unwrap();
    assert!(kustomize.contains("kustomize v5."), "{text}");
    // A helm that is not there is said, not an error.
    let output = support::plumb()
        .env("PLUMB_HELM", "/nonexistent/helm")
        .arg("version")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("helm: not available"));
}

#[test]
fn policy_show_prints_a_shipped_policy_that_lint_accepts() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["builtin:noise", "builtin:security"] {
        let output = support::plumb()
            .args(["policy", "show", name])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{name}");
        let file = dir.path().join("shown.yaml");
        std::fs::write(&file, &output.stdout).unwrap();
        let lint = support::plumb()
            .current_dir(dir.path())
            .args(["policy", "lint"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(
            lint.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&lint.stdout)
        );
        assert!(String::from_utf8_lossy(&lint.stdout).contains("no problems"));
    }
    let output = support::plumb()
        .args(["policy", "show", "builtin:nope"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("builtin:noise"));
}

#[test]
fn every_command_help_shows_an_example() {
    for command in [
        "init",
        "render",
        "parity",
        "drift",
        "diff",
        "matrix",
        "audit",
        "snapshot",
        "compare",
        "policy",
        "schema",
        "completion",
        "version",
    ] {
        let output = support::plumb().args([command, "--help"]).output().unwrap();
        assert!(output.status.success(), "{command}");
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(
            help.contains("Examples:\n  plumb ") || help.contains("Examples:\n  source <(plumb"),
            "{command}: {help}"
        );
    }
    // Listed in the order a user meets them.
    let help = String::from_utf8_lossy(&support::plumb().arg("--help").output().unwrap().stdout)
        .into_owned();
    let order: Vec<usize> = [
        "init", "render", "parity", "drift", "diff", "matrix", "audit", "policy", "schema",
    ]
    .iter()
    .map(|c| help.find(&format!("\n  {c} ")).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{help}");
}

#[test]
fn kubeconfig_flag_wins_over_the_environment() {
    let repo = support::demo_repo();
    let dir = tempfile::tempdir().unwrap();
    let given = dir.path().join("given-kubeconfig");
    std::fs::write(&given, "apiVersion: v1\nkind: Config\nclusters: [\n").unwrap();
    let output = repo
        .plumb()
        .env("KUBECONFIG", dir.path().join("absent"))
        .args(["drift", "staging", "--context", "nowhere", "--kubeconfig"])
        .arg(&given)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The error names the file --kubeconfig gave, not $KUBECONFIG's.
    assert!(stderr.contains("given-kubeconfig"), "{stderr}");
    assert!(!stderr.contains("absent"), "{stderr}");
}

/// The pull-request comment of `plumb diff`: the sides are the revisions as the user named them
/// (never "left"/"right"), the title names both, the gaps the change closes are listed, a check
/// failing at the base too is pre-existing and only a new one introduced, and there is no
/// baseline line without `--baseline`.
#[test]
fn diff_markdown_names_the_revisions_and_says_what_the_change_closes_and_introduces() {
    let repo = support::demo_repo();
    let base = repo.commit("nothing new");
    let api = "envs/production/api.yaml";
    let web = "envs/production/web.yaml";
    let api_text = std::fs::read_to_string(repo.path().join(api)).unwrap();
    let web_text = std::fs::read_to_string(repo.path().join(web)).unwrap();
    // Production catches up with staging (closing the promotion lag) and loses web's readiness
    // probe (a new check failure); the worker has none at the base already.
    let probe = "          readinessProbe:\n            httpGet:\n              path: /healthz\n              port: http\n            periodSeconds: 5\n";
    assert!(web_text.contains(probe));
    repo.write(api, &api_text.replace("shop-api:1.8.0", "shop-api:1.9.0"))
        .write(web, &web_text.replacen(probe, "", 1));
    let head = repo.commit("production: api 1.9.0, web without its probe");
    let output = repo
        .plumb()
        .args(["diff", "--base", &base, "--head", "HEAD", "-o", "markdown"])
        .output()
        .unwrap();
    let markdown = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{markdown}");
    let short = |commit: &str| commit[..7].to_string();
    let title = markdown.lines().next().unwrap();
    assert!(
        title.contains(&format!("{} → HEAD ({})", short(&base), short(&head))),
        "{title}"
    );
    for side in ["left", "right"] {
        assert!(!markdown.contains(side), "{side}:\n{markdown}");
    }
    // The image change, base then head, each named by its revision.
    assert!(
        markdown.contains(&format!(
            "{} `ghcr.io/example/shop-api:1.8.0` → HEAD ({}) `ghcr.io/example/shop-api:1.9.0`",
            short(&base),
            short(&head)
        )),
        "{markdown}"
    );
    // The lag the change closes.
    let closed = markdown
        .split("Closed by this change")
        .nth(1)
        .unwrap_or_else(|| panic!("no closed gaps:\n{markdown}"));
    let closed = closed.split("<details>").next().unwrap();
    assert!(
        closed.contains("`shop/api` · promotion · `spec.template.spec.containers[name=api].image`"),
        "{closed}"
    );
    // Checks: the worker failed before (pre-existing, in both environments), web is new.
    let check_lines: Vec<(&str, &str)> = markdown
        .split("\n**")
        .flat_map(|resource| {
            let name = resource.split('`').nth(1).unwrap_or("");
            resource
                .lines()
                .filter(|l| l.contains("· check ·"))
                .map(move |l| (name, l))
        })
        .collect();
    assert_eq!(check_lines.len(), 3, "{check_lines:?}");
    for (name, line) in check_lines {
        let introduced = line.contains("**introduced**");
        let pre_existing = line.contains("pre-existing");
        assert!(introduced != pre_existing, "{line}");
        assert_eq!(introduced, name == "shop/web", "{name}: {line}");
    }
    assert!(!markdown.contains("baseline"), "{markdown}");

    // The same in JSON: closed gaps under `closed`, no `resolved` without --baseline, and the
    // table has no baseline line either.
    let report = repo.report(&["diff", "--base", &base, "-o", "json"], 0);
    assert!(report.get("resolved").is_none(), "{report}");
    assert_eq!(report["closed"][0]["kind"], "promotion", "{report}");
    assert_eq!(report["inputs"]["base"]["commit"], base.as_str());
    let table = repo
        .plumb()
        .args(["diff", "--base", &base])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&table.stdout).contains("baseline"));

    // With --baseline the line is there.
    let previous = repo.path().join(".git/previous.json");
    std::fs::write(&previous, report.to_string()).unwrap();
    let output = repo
        .plumb()
        .args(["diff", "--base", &base, "-o", "markdown", "--baseline"])
        .arg(&previous)
        .output()
        .unwrap();
    let markdown = String::from_utf8(output.stdout).unwrap();
    assert!(
        markdown.contains("Against the baseline: 0 new, "),
        "{markdown}"
    );
}
