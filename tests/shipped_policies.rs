//! The shipped policies on realistic environments: builtin:security catches a staging environment
//! missing production's NetworkPolicy, secrets shared between environments and unpinned images;
//! builtin:parity-baseline tells sizing from behaviour. Checks run on desired and live objects.

mod support;

use support::{Repo, stdout_json, text};

const CONFIG: &str = "version: 1
environments:
  staging:
    namespace: shop-staging
    sources:
      - manifests: envs/staging
    live:
      snapshot: live/staging.yaml
  production:
    namespace: shop
    sources:
      - manifests: envs/production
parity:
  - between: [staging, production]
    namespaces: {shop-staging: shop}
    equivalents: [[shop-staging, shop]]
policies: [builtin:parity-baseline, builtin:security]
";

fn workload(namespace: &str, replicas: u32, image: &str, password: &str, api_key: &str) -> String {
    format!(
        "apiVersion: v1
kind: Namespace
metadata:
  name: {namespace}
  labels: {{pod-security.kubernetes.io/enforce: {level}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api}}
spec:
  replicas: {replicas}
  template:
    spec:
      containers:
        - name: api
          image: {image}
          resources: {{requests: {{cpu: {replicas}00m}}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: db}}
stringData: {{password: {password}, api-key: {api_key}}}
",
        level = if namespace == "shop" {
            "restricted"
        } else {
            "baseline"
        }
    )
}

const DENY_ALL: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny}
spec:
  podSelector: {}
  policyTypes: [Ingress]
";

fn repo() -> Repo {
    let repo = Repo::new();
    repo.write("plumb.yaml", CONFIG)
        .write(
            "envs/staging/all.yaml",
            &workload(
                "shop-staging",
                1,
                "registry.example.com/api:latest",
                "s3cret",
                "stage-key",
            ),
        )
        .write(
            "envs/production/all.yaml",
            &workload(
                "shop",
                4,
                "registry.example.com/api:1.4.0",
                "s3cret",
                "prod-key",
            ),
        )
        .write("envs/production/netpol.yaml", DENY_ALL)
        .commit("environments");
    repo
}

fn lines(report: &serde_json::Value) -> Vec<String> {
    support::sorted_findings(report, |f| {
        let envs: Vec<&str> = f["envs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        format!(
            "{} {} {}/{} {} {} {}",
            envs.join(","),
            text(f, "kind"),
            text(&f["resource"], "kind"),
            text(&f["resource"], "name"),
            text(f, "path"),
            text(f, "status"),
            text(f, "rule")
        )
    })
}

#[test]
fn security_and_baseline_judge_a_realistic_pair() {
    let repo = repo();
    let report = repo.report(&["parity", "staging", "production", "-o", "json"], 1);
    assert_eq!(
        lines(&report),
        [
            "staging check Deployment/api  violation security-pinned-images",
            "staging,production only-in NetworkPolicy/default-deny  violation security-network-policies",
            "staging,production parity Deployment/api spec.replicas expected baseline-replicas",
            "staging,production parity Deployment/api spec.template.spec.containers[name=api].image violation baseline-same-images",
            "staging,production parity Deployment/api spec.template.spec.containers[name=api].resources.requests.cpu expected baseline-resource-sizing",
            "staging,production parity Namespace/shop metadata.labels[\"pod-security.kubernetes.io/enforce\"] violation security-pod-security-labels",
            "staging,production parity Secret/db data.api-key expected security-distinct-secrets",
            "staging,production parity Secret/db data.password violation security-distinct-secrets",
        ]
    );
    let text = report.to_string();
    assert!(
        !text.contains("s3cret") && !text.contains("czNjcmV0"),
        "a secret value leaked"
    );
    let shared = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "data.password")
        .unwrap();
    assert_eq!(shared["left"], shared["right"]);
    assert!(shared["left"].as_str().unwrap().starts_with("hmac-sha256:"));
}

#[test]
fn checks_run_on_live_objects_and_merge_with_desired() {
    let repo = repo();
    // The cluster runs an unpinned image where Git pins one: the check fails on live only.
    let live = |image: &str| {
        format!(
            "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {{name: api, namespace: shop-staging}}\n    spec:\n      replicas: 1\n      template:\n        spec:\n          containers:\n            - name: api\n              image: {image}\n              resources: {{requests: {{cpu: 100m}}}}\n"
        )
    };
    let check_line = |report: &serde_json::Value| -> Vec<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "check")
            .map(|f| {
                format!(
                    "{} {}",
                    f["status"].as_str().unwrap(),
                    f["message"].as_str().unwrap()
                )
            })
            .collect()
    };
    repo.write(
        "live/staging.yaml",
        &live("registry.example.com/api:latest"),
    );
    repo.write(
        "envs/staging/all.yaml",
        &workload(
            "shop-staging",
            1,
            "registry.example.com/api:1.4.0",
            "a",
            "b",
        ),
    )
    .commit("pin staging");
    let run = || {
        stdout_json(
            &repo
                .plumb()
                .args(["drift", "staging", "-o", "json"])
                .output()
                .unwrap(),
        )
    };
    let checks = check_line(&run());
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert!(
        checks[0].starts_with("violation fails in the live state"),
        "{checks:?}"
    );
    // Unpinned in Git and live: one finding that says both.
    repo.write(
        "envs/staging/all.yaml",
        &workload("shop-staging", 1, "registry.example.com/api", "a", "b"),
    )
    .commit("unpin staging");
    let checks = check_line(&run());
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert!(
        checks[0].starts_with("violation fails in the desired and the live state"),
        "{checks:?}"
    );
}

#[test]
fn a_check_that_cannot_be_evaluated_makes_the_run_incomplete() {
    let repo = repo();
    repo.write(
        "policies/team.yaml",
        "version: 1\nchecks:\n  - id: replicas-set\n    match: {kinds: [Deployment]}\n    assert: \"object.spec.replicas > object.spec.minimum\"\n",
    )
    .write(
        "plumb.yaml",
        &CONFIG.replace("policies: [builtin:parity-baseline, builtin:security]", "policies: [policies/]"),
    )
    .commit("a check reading a field no object has");
    let output = repo
        .plumb()
        .args(["parity", "staging", "production", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let report = stdout_json(&output);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "one per environment: {errors:?}");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("check `replicas-set` could not be evaluated")
    );
    assert_eq!(report["summary"]["complete"], false);
}

/// The shipped policies' own `plumb policy test` cases (policies/tests/): builtin:promotion's
/// recipes and builtin:parity-baseline's image rule, peers only.
#[test]
fn shipped_policy_tests_pass() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/tests");
    let output = support::plumb()
        .arg("policy")
        .arg("test")
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("9 case(s): 9 passed, 0 failed"), "{stdout}");
}
