//! The built-in demo finds exactly what was planted in it (fixtures/demo).

mod support;

use support::{demo_repo, finding_lines, stdout_json};

fn run(args: &[&str]) -> (Option<i32>, Vec<String>, serde_json::Value) {
    let repo = demo_repo();
    let output = repo
        .plumb()
        .args(args)
        .args(["-o", "json"])
        .output()
        .unwrap();
    let report = stdout_json(&output);
    (output.status.code(), finding_lines(&report), report)
}

#[test]
fn staging_and_production_differ_where_they_were_made_to() {
    let (code, lines, report) = run(&["parity", "staging", "production"]);
    assert_eq!(code, Some(1), "the shared password is a violation");
    let containers = |d: &str, c: &str, f: &str| {
        format!("parity Deployment/{d} spec.template.spec.containers[name={c}].{f}")
    };
    let mut expected = vec![
        // The demo's check: a worker without a readiness probe, once per environment.
        "check Deployment/worker ".to_string(),
        "check Deployment/worker ".to_string(),
        "only-in NetworkPolicy/default-deny ".to_string(),
        "parity ConfigMap/app-config data.FEATURE_NEW_CHECKOUT".into(),
        "parity ConfigMap/app-config data.LOG_LEVEL".into(),
        "parity ConfigMap/app-config data[\"application.properties\"]".into(),
        "parity Deployment/api spec.replicas".into(),
        // Production runs the api staging ran before: a lag, judged by promotion order.
        "promotion Deployment/api spec.template.spec.containers[name=api].image".into(),
        "parity Deployment/worker spec.replicas".into(),
        "parity HorizontalPodAutoscaler/web spec.maxReplicas".into(),
        "parity HorizontalPodAutoscaler/web spec.minReplicas".into(),
        // Secret values are compared as fingerprints, never through the pair's equivalents: the
        // database hosts differ as written (db.staging.shop.example.com, db.shop.example.com).
        "parity Secret/db-credentials data.host".into(),
        "parity Secret/db-credentials data.password".into(),
        "parity Secret/db-credentials data.username".into(),
    ];
    for (d, c) in [("api", "api"), ("web", "web"), ("worker", "worker")] {
        for f in [
            "limits.cpu",
            "limits.memory",
            "requests.cpu",
            "requests.memory",
        ] {
            expected.push(containers(d, c, &format!("resources.{f}")));
        }
    }
    expected.sort();
    assert_eq!(lines, expected);
    // The demo's policy (fixtures/demo/policies/shop.yaml) gives every status.
    let status = |path: &str| {
        let finding = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap();
        format!(
            "{} {}",
            finding["status"].as_str().unwrap(),
            finding["rule"].as_str().unwrap_or("-")
        )
    };
    assert_eq!(status("spec.replicas"), "expected sized-per-environment");
    assert_eq!(
        status("spec.template.spec.containers[name=api].image"),
        "expected -"
    );
    let image = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "promotion")
        .unwrap();
    assert_eq!(image["promotion"]["state"], "lag");
    let message = image["message"].as_str().unwrap();
    assert!(
        message.starts_with("staging has run shop-api:1.9.0 since ")
            && message.ends_with("production still runs shop-api:1.8.0"),
        "{message}"
    );
    assert_eq!(
        status("data.FEATURE_NEW_CHECKOUT"),
        "waived feature-flags-match"
    );
    assert_eq!(status("data.LOG_LEVEL"), "unreviewed -");
    assert_eq!(status("data.password"), "violation secrets-differ");
}

#[test]
fn production_drift_is_the_hotfix_the_edit_the_stray_and_the_missing() {
    let (code, lines, report) = run(&["drift", "production"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        lines,
        [
            "check Deployment/worker ",
            "drift ConfigMap/app-config data.LOG_LEVEL",
            "drift Deployment/api spec.template.spec.containers[name=api].image",
            "missing Service/worker-metrics ",
            "unmanaged Deployment/debug-shell ",
        ]
    );
    let managers: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["changed_by"]["manager"].as_str())
        .collect();
    assert_eq!(managers, ["kubectl-edit", "kubectl-set"]);
}

#[test]
fn staging_drift_is_the_variable_removed_from_git() {
    let (code, lines, _) = run(&["drift", "staging"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        lines,
        [
            "check Deployment/worker ",
            "drift Deployment/worker spec.template.spec.containers[name=worker].env[name=QUEUE_LEGACY_MODE]"
        ]
    );
}
