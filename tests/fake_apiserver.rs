//! The fake API server held to reality: what it serves against the real discovery captures in
//! `../shared/kube-api/` (run by .ci/run when that folder exists: `--ignored`), and, with real
//! kubectl, `kubectl api-resources` and a chunked `kubectl get` must accept it and see what
//! `plumb snapshot` captures.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use support::fake_apiserver::{FakeApiServer, RESOURCES, Switches, kubeconfig};

const JSON: &str = "application/json";
const AGGREGATED: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

fn captures() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/kube-api/discovery");
    assert!(
        dir.is_dir(),
        "{} is missing: this test runs where ../shared exists (.ci/run)",
        dir.display()
    );
    dir
}

fn capture(name: &str) -> Value {
    let path = captures().join(name);
    serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

/// The fields of a legacy resource entry the fake models.
fn legacy_facts(entry: &Value) -> String {
    let mut verbs: Vec<&str> = entry["verbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    verbs.sort();
    format!(
        "{} kind={} namespaced={} singular={} verbs={:?} short={} hash={} gv={}/{}",
        entry["name"].as_str().unwrap(),
        entry["kind"],
        entry["namespaced"],
        entry["singularName"],
        verbs,
        entry["shortNames"],
        entry["storageVersionHash"],
        entry["group"],
        entry["version"],
    )
}

#[test]
#[ignore = "needs ../shared/kube-api; .ci/run runs it"]
fn legacy_discovery_matches_the_real_captures() {
    let fake = FakeApiServer::start(Vec::new(), Switches::default());
    let mut group_versions: Vec<(String, String)> = RESOURCES
        .iter()
        .map(|r| (r.group.to_string(), r.version.to_string()))
        .collect();
    group_versions.dedup();
    let mut mismatches = Vec::new();
    for (group, version) in group_versions {
        let (path, file) = if group.is_empty() {
            ("/api/v1".to_string(), "ga/api__v1.json".to_string())
        } else {
            (
                format!("/apis/{group}/{version}"),
                format!("ga/apis__{group}__{version}.json"),
            )
        };
        let (status, _, served) = fake.get(&path, JSON);
        assert_eq!(status, 200, "{path}");
        let real = capture(&file);
        assert_eq!(
            served.get("apiVersion").is_some(),
            real.get("apiVersion").is_some(),
            "{path}: apiVersion presence"
        );
        assert_eq!(served["kind"], real["kind"]);
        assert_eq!(served["groupVersion"], real["groupVersion"]);
        for entry in served["resources"].as_array().unwrap() {
            let name = entry["name"].as_str().unwrap();
            match real["resources"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["name"] == name)
            {
                Some(real_entry) if legacy_facts(real_entry) == legacy_facts(entry) => {}
                Some(real_entry) => mismatches.push(format!(
                    "{path}:\n  fake {}\n  real {}",
                    legacy_facts(entry),
                    legacy_facts(real_entry)
                )),
                None => mismatches.push(format!("{path}: {name} is not in the capture")),
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
#[ignore = "needs ../shared/kube-api; .ci/run runs it"]
fn aggregated_discovery_matches_the_real_captures() {
    let fake = FakeApiServer::start(Vec::new(), Switches::default());
    let mut mismatches = Vec::new();
    for (path, file) in [
        ("/apis", "ga/aggregated_v2.json"),
        ("/api", "derived/aggregated_v2_api.json"),
    ] {
        let (status, content_type, served) = fake.get(path, AGGREGATED);
        assert_eq!(status, 200);
        assert_eq!(
            content_type,
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        );
        let real = capture(file);
        assert_eq!(served["kind"], real["kind"]);
        assert_eq!(served["apiVersion"], real["apiVersion"]);
        for item in served["items"].as_array().unwrap() {
            let group = &item["metadata"]["name"];
            let Some(real_item) = real["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["metadata"]["name"] == *group)
            else {
                mismatches.push(format!("{path}: group {group} is not in the capture"));
                continue;
            };
            for version in item["versions"].as_array().unwrap() {
                let real_version = real_item["versions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|v| v["version"] == version["version"])
                    .expect("version in capture");
                assert_eq!(version["freshness"], real_version["freshness"]);
                for resource in version["resources"].as_array().unwrap() {
                    let real_resource = real_version["resources"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|r| r["resource"] == resource["resource"]);
                    let facts = |r: &Value| {
                        let mut r = r.clone();
                        if let Some(map) = r.as_object_mut() {
                            map.remove("categories");
                        }
                        r
                    };
                    match real_resource {
                        Some(real_resource) if facts(real_resource) == facts(resource) => {}
                        Some(real_resource) => mismatches.push(format!(
                            "{path} {group}:\n  fake {}\n  real {}",
                            facts(resource),
                            facts(real_resource)
                        )),
                        None => mismatches.push(format!(
                            "{path} {group}: {} is not in the capture",
                            resource["resource"]
                        )),
                    }
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// kubectl binaries to hold the fake to: the pinned one, and the system's when KUBECTL_SYSTEM names it.
fn kubectls() -> Vec<PathBuf> {
    let mut out = vec![support::tool("kubectl")];
    if let Some(system) = std::env::var_os("KUBECTL_SYSTEM") {
        out.push(PathBuf::from(system));
    }
    out
}

#[test]
fn kubectl_accepts_the_fake_and_sees_what_plumb_snapshots() {
    let repo = support::demo_repo();
    let objects: Value = serde_json::from_str(
        &std::fs::read_to_string(support::fixtures().join("demo/snapshots/production.json"))
            .unwrap(),
    )
    .unwrap();
    let fake = FakeApiServer::start(
        objects["items"].as_array().unwrap().clone(),
        Switches::default(),
    );
    repo.write("kubeconfig", &kubeconfig(&[("production", &fake.url())]));
    let kubeconfig_path = repo.path().join("kubeconfig");
    // What plumb captures.
    let snapshot = repo.path().join("snapshot.json");
    let output = repo
        .plumb()
        .env("KUBECONFIG", &kubeconfig_path)
        .args([
            "snapshot",
            "production",
            "--context",
            "production",
            "--out-file",
        ])
        .arg(&snapshot)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(&snapshot).unwrap()).unwrap();
    let identity = |o: &Value| {
        let (group, _) = o["apiVersion"]
            .as_str()
            .unwrap()
            .rsplit_once('/')
            .unwrap_or(("", ""));
        format!(
            "{group} {} {} {}",
            o["kind"].as_str().unwrap(),
            o["metadata"]["namespace"].as_str().unwrap_or("-"),
            o["metadata"]["name"].as_str().unwrap()
        )
    };
    let captured: BTreeSet<String> = snapshot["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(identity)
        .collect();
    // `plural.group` of every kind captured, as kubectl takes them.
    let kinds: BTreeSet<String> = snapshot["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let (group, _) = o["apiVersion"]
                .as_str()
                .unwrap()
                .rsplit_once('/')
                .unwrap_or(("", ""));
            let resource = snapshot["resources"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["group"] == group && r["kind"] == o["kind"])
                .expect("every captured kind was discovered");
            let plural = resource["plural"].as_str().unwrap();
            if group.is_empty() {
                plural.to_string()
            } else {
                format!("{plural}.{group}")
            }
        })
        .collect();
    assert!(kinds.len() >= 4, "{kinds:?}");
    for kubectl in kubectls() {
        let run = |args: &[&str]| {
            let output = std::process::Command::new(&kubectl)
                .env("KUBECONFIG", &kubeconfig_path)
                .args(args)
                .output()
                .unwrap_or_else(|e| panic!("{}: {e}", kubectl.display()));
            assert!(
                output.status.success(),
                "{} {args:?}: {}",
                kubectl.display(),
                String::from_utf8_lossy(&output.stderr)
            );
            output.stdout
        };
        let resources = String::from_utf8(run(&["api-resources"])).unwrap();
        assert!(
            resources.contains("deployments") && resources.contains("networkpolicies"),
            "{resources}"
        );
        let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
        let listed: Value = serde_json::from_slice(&run(&[
            "get",
            &kinds.join(","),
            "-A",
            "-o",
            "json",
            "--chunk-size=2",
        ]))
        .unwrap();
        let seen: BTreeSet<String> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(identity)
            .collect();
        assert_eq!(seen, captured, "{}", kubectl.display());
    }
}
