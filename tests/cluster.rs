//! Live state read over the Kubernetes API, end to end: the real plumb binary, a kubeconfig with
//! `staging` and `production` contexts, and fake API servers speaking real HTTP
//! (support/fake_apiserver.rs) — with the ways real servers misbehave switched on one at a time.

mod support;

use serde_json::Value;
use support::fake_apiserver::{FakeApiServer, Switches, kubeconfig};
use support::{Repo, demo_repo, finding_lines, fixtures, stdout_json};

/// The objects of the demo's snapshot of `env`: what its fake cluster serves.
fn demo_objects(env: &str) -> Vec<Value> {
    let text =
        std::fs::read_to_string(fixtures().join(format!("demo/snapshots/{env}.json"))).unwrap();
    let list: Value = serde_json::from_str(&text).unwrap();
    list["items"].as_array().unwrap().clone()
}

/// The demo, reading both environments from fake clusters through a kubeconfig.
struct Clusters {
    repo: Repo,
    staging: FakeApiServer,
    production: FakeApiServer,
}

impl Clusters {
    fn start(production: Switches) -> Clusters {
        let repo = demo_repo();
        let staging = FakeApiServer::start(demo_objects("staging"), Switches::default());
        let production = FakeApiServer::start(demo_objects("production"), production);
        let config = std::fs::read_to_string(repo.path().join("plumb.yaml"))
            .unwrap()
            .replace("snapshot: snapshots/staging.json", "context: staging")
            .replace("snapshot: snapshots/production.json", "context: production");
        repo.write("plumb.yaml", &config);
        repo.write(
            "kubeconfig",
            &kubeconfig(&[
                ("staging", &staging.url()),
                ("production", &production.url()),
            ]),
        );
        Clusters {
            repo,
            staging,
            production,
        }
    }

    /// `drift production -f json`: expects exit `code` and returns the report.
    fn drift_production(&self, code: i32) -> Value {
        let output = self.plumb(&["drift", "production", "-o", "json"]);
        let report = stdout_json(&output);
        assert_eq!(output.status.code(), Some(code), "{:?}", errors(&report));
        report
    }

    fn plumb(&self, args: &[&str]) -> std::process::Output {
        self.repo
            .plumb()
            .env("KUBECONFIG", self.repo.path().join("kubeconfig"))
            .args(args)
            .output()
            .unwrap()
    }
}

/// What `drift production` finds against the demo's snapshot file.
fn drift_from_snapshot() -> Vec<String> {
    let repo = demo_repo();
    let output = repo
        .plumb()
        .args(["drift", "production", "-o", "json"])
        .output()
        .unwrap();
    finding_lines(&stdout_json(&output))
}

fn errors(report: &Value) -> Vec<String> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["kind"].as_str().unwrap(),
                e["resource"].as_str().unwrap_or("-"),
                e["message"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn drift_over_the_api_equals_drift_over_the_snapshot_with_either_discovery() {
    let expected = drift_from_snapshot();
    assert!(expected.len() >= 4, "{expected:?}");
    for pre_aggregated in [false, true] {
        let clusters = Clusters::start(Switches {
            pre_aggregated,
            ..Default::default()
        });
        let output = clusters.plumb(&["drift", "production", "-o", "json"]);
        let report = stdout_json(&output);
        assert_eq!(output.status.code(), Some(1), "{:?}", errors(&report));
        assert_eq!(
            finding_lines(&report),
            expected,
            "pre_aggregated={pre_aggregated}"
        );
        let requests = clusters.production.requests();
        // Aggregated discovery needs no per-group documents; a pre-1.26 server makes plumb read them.
        let per_group = requests.iter().any(|r| r == "GET /apis/apps/v1");
        assert_eq!(per_group, pre_aggregated, "{requests:#?}");
        // Read-only: nothing but GET.
        assert!(
            requests.iter().all(|r| r.starts_with("GET ")),
            "{requests:#?}"
        );
        assert!(
            clusters.staging.requests().is_empty(),
            "drift production reads production only"
        );
    }
}

#[test]
fn snapshot_then_drift_from_the_file_equals_drift_against_the_server() {
    let clusters = Clusters::start(Switches::default());
    let direct = stdout_json(&clusters.plumb(&["drift", "production", "-o", "json"]));
    let file = clusters.repo.path().join("production-snapshot.json");
    let output = clusters.plumb(&[
        "snapshot",
        "production",
        "--out-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let snapshot: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(snapshot["kind"], "PlumbSnapshot");
    assert_eq!(snapshot["cluster"]["context"], "production");
    assert_eq!(snapshot["cluster"]["version"], "v1.33.2");
    let from_file = stdout_json(&clusters.plumb(&[
        "drift",
        "production",
        "-o",
        "json",
        "--live",
        file.to_str().unwrap(),
    ]));
    let ids = |report: &Value| -> Vec<String> {
        let mut ids: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f["id"].as_str().unwrap(),
                    f["status"].as_str().unwrap()
                )
            })
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&from_file), ids(&direct));
    assert!(!ids(&direct).is_empty());
}

#[test]
fn no_raw_secret_value_in_a_snapshot() {
    let clusters = Clusters::start(Switches::default());
    let file = clusters.repo.path().join("s.json");
    clusters.plumb(&["snapshot", "staging", "--out-file", file.to_str().unwrap()]);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("hmac-sha256:"), "Secrets are in the snapshot");
    let secrets = std::fs::read_to_string(fixtures().join("demo/SECRETS.txt")).unwrap();
    for secret in secrets.lines().filter(|l| !l.trim().is_empty()) {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(secret);
        assert!(
            !text.contains(secret) && !text.contains(&encoded),
            "{secret} leaked"
        );
    }
}

#[test]
fn lists_are_paged_and_an_expired_continue_token_restarts_the_list_once() {
    let expected = drift_from_snapshot();
    let clusters = Clusters::start(Switches {
        page_size: Some(2),
        expire_continue: true,
        ..Default::default()
    });
    let report = clusters.drift_production(1);
    assert_eq!(finding_lines(&report), expected);
    let requests = clusters.production.requests();
    let deployments: Vec<&String> = requests
        .iter()
        .filter(|r| r.starts_with("GET /apis/apps/v1/namespaces/shop/deployments"))
        .collect();
    // 4 deployments in pages of 2: first page, an expired token (410), the list again, page two.
    assert_eq!(deployments.len(), 4, "{deployments:#?}");
    assert!(
        deployments[1].contains("continue=offset-2"),
        "{deployments:#?}"
    );
    assert!(!deployments[2].contains("continue="), "{deployments:#?}");
}

#[test]
fn a_forbidden_kind_is_reported_and_never_missing() {
    let clusters = Clusters::start(Switches {
        forbidden: vec!["services".into()],
        ..Default::default()
    });
    let report = clusters.drift_production(3);
    let errors = errors(&report);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]
            .starts_with("forbidden Service cannot list Service in cluster `production`: HTTP 403"),
        "{errors:?}"
    );
    // The Service the cluster lacks (worker-metrics) is unknown now, not missing.
    let lines = finding_lines(&report);
    assert!(!lines.iter().any(|l| l.contains("Service/")), "{lines:?}");
    assert!(lines.contains(&"unmanaged Deployment/debug-shell ".to_string()));
    assert_eq!(report["summary"]["complete"], false);
}

#[test]
fn a_broken_aggregated_api_costs_a_few_requests_and_nothing_else() {
    let expected = drift_from_snapshot();
    let clusters = Clusters::start(Switches {
        pre_aggregated: true,
        broken_aggregated_api: true,
        ..Default::default()
    });
    let output = clusters.plumb(&["drift", "production", "-o", "json"]);
    let report = stdout_json(&output);
    // No desired kind lives in the broken group: the run is complete, and says so on stderr.
    assert_eq!(output.status.code(), Some(1), "{:?}", errors(&report));
    assert_eq!(finding_lines(&report), expected);
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("cannot discover API group metrics.k8s.io")
    );
    let tries = clusters
        .production
        .requests()
        .iter()
        .filter(|r| r.contains("metrics.k8s.io"))
        .count();
    assert!(
        (1..=3).contains(&tries),
        "bounded retries, not minutes of them: {tries}"
    );
}

#[test]
fn a_missing_namespace_is_said_not_read_as_everything_deleted() {
    let clusters = Clusters::start(Switches::default());
    let config = std::fs::read_to_string(clusters.repo.path().join("plumb.yaml"))
        .unwrap()
        .replace(
            "context: production",
            "context: production\n      namespaces: [shop, shop-old]",
        );
    clusters.repo.write("plumb.yaml", &config);
    let report = clusters.drift_production(3);
    let errors = errors(&report);
    assert!(
        errors.iter().any(|e| e.starts_with(
            "namespace - namespace `shop-old` does not exist in cluster `production`"
        )),
        "{errors:?}"
    );
}

#[test]
fn an_unreachable_cluster_is_incomplete_and_names_context_and_server() {
    let clusters = Clusters::start(Switches::default());
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    clusters.repo.write(
        "kubeconfig",
        &kubeconfig(&[("staging", &clusters.staging.url()), ("production", &url)]),
    );
    let report = clusters.drift_production(3);
    let errors = errors(&report);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]
            .starts_with("unreachable - cannot reach cluster `production` at http://127.0.0.1:"),
        "{errors:?}"
    );
    // Nothing is compared with the cluster; only the desired state's own checks run.
    let kinds = support::texts_of(&report["findings"], "kind");
    assert!(kinds.iter().all(|k| *k == "check"), "{kinds:?}");
    // A context the kubeconfig does not have is bad input.
    let output = clusters.plumb(&["drift", "production", "--context", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot use kubeconfig context `nope`")
    );
}

#[test]
fn an_unreachable_cluster_is_said_once_by_plumb_not_by_the_kube_client() {
    let clusters = Clusters::start(Switches::default());
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    clusters.repo.write(
        "kubeconfig",
        &kubeconfig(&[("staging", &clusters.staging.url()), ("production", &url)]),
    );
    let output = clusters.plumb(&["drift", "production"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    // The client's own `ERROR failed with error client error (Connect)` lines stay out of stderr...
    assert!(!stderr.contains("client error"), "{stderr}");
    assert!(!stderr.contains("ERROR"), "{stderr}");
    // ...and plumb's own message, naming the context and the server, is in the report.
    assert!(
        stdout.contains("cannot reach cluster `production` at http://127.0.0.1:"),
        "{stdout}"
    );
    // `-vv` is for debugging the connection: the client's logs are shown there.
    let output = clusters.plumb(&["drift", "production", "-vv"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("client error (Connect)"));
}

#[test]
fn a_kubeconfig_that_cannot_be_read_is_named_once_unquoted() {
    let clusters = Clusters::start(Switches::default());
    let missing = clusters.repo.path().join("no-such-kubeconfig");
    let output = clusters.plumb(&[
        "drift",
        "production",
        "--kubeconfig",
        missing.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    // kube's own message reads `from '"/path"'`: the path quoted twice.
    assert!(
        stderr.contains(&format!(
            "cannot read the kubeconfig {}: ",
            missing.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("'\""), "{stderr}");
}

#[test]
fn parity_live_compares_two_clusters() {
    let clusters = Clusters::start(Switches::default());
    let over_api =
        stdout_json(&clusters.plumb(&["parity", "staging", "production", "--live", "-o", "json"]));
    let repo = demo_repo();
    let over_files = stdout_json(
        &repo
            .plumb()
            .args(["parity", "staging", "production", "--live", "-o", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(finding_lines(&over_api), finding_lines(&over_files));
    assert!(!clusters.staging.requests().is_empty() && !clusters.production.requests().is_empty());
}

#[test]
fn a_server_too_slow_to_answer_is_a_timeout_not_a_hang() {
    let clusters = Clusters::start(Switches {
        delay: std::time::Duration::from_millis(1500),
        ..Default::default()
    });
    let output = clusters
        .repo
        .plumb()
        .env("KUBECONFIG", clusters.repo.path().join("kubeconfig"))
        .env("PLUMB_REQUEST_TIMEOUT", "0.5")
        .args(["drift", "production", "-o", "json", "-v"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let errors = errors(&stdout_json(&output));
    assert!(
        errors.iter().any(|e| e.contains("no answer within 0.5 s")),
        "{errors:?}"
    );
}

#[test]
fn exec_credential_plugins_run() {
    let clusters = Clusters::start(Switches::default());
    let marker = clusters.repo.path().join("plugin-ran");
    let plugin = clusters.repo.path().join("credential-plugin");
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\ntouch '{}'\necho '{{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", \"status\": {{\"token\": \"t0ken\"}}}}'\n",
            marker.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = kubeconfig(&[("production", &clusters.production.url())]).replace(
        "    user: {}\n",
        &format!(
            "    user:\n      exec:\n        apiVersion: client.authentication.k8s.io/v1\n        command: {}\n        interactiveMode: Never\n",
            plugin.display()
        ),
    );
    clusters.repo.write("kubeconfig", &config);
    let output = clusters.plumb(&["drift", "production", "-o", "json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(marker.exists(), "the exec plugin was not run");
}
