//! `plumb matrix` end to end, on a one-commit repository: dev → staging → production, and
//! production-eu (a peer region of production, also downstream of staging). Different images
//! (one digest-pinned), a Flux HelmRelease chart version, a `promotion_paths` value, live state
//! from a snapshot. With one commit every environment's history is that commit, so a downstream
//! value that differs from upstream's is `unvalidated` (multi-commit cases live with the history
//! walk's tests).

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use support::{Repo, text};

const CONFIG: &str = "\
version: 1
environments:
  production-eu:
    upstream: staging
    namespace: shop-eu
    sources: [{manifests: envs/production-eu}]
  production:
    upstream: staging
    namespace: shop
    sources: [{manifests: envs/production}]
    live: {snapshot: snapshots/production.json}
  staging:
    upstream: dev
    namespace: shop-staging
    sources: [{manifests: envs/staging}]
  dev:
    namespace: shop-dev
    sources: [{manifests: envs/dev}]
parity:
  - between: [production, production-eu]
promotion_paths: [data.release]
";

/// Promotion order: file order within a stage, so production-eu (written first) before production.
const ORDER: [&str; 4] = ["dev", "staging", "production-eu", "production"];

/// An environment's manifests: api (with a migrate init container), an optional worker, a Flux
/// HelmRelease and the release ConfigMap.
fn manifests(api: &str, worker: Option<&str>, chart: &str, release: &str) -> String {
    let mut text = format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: api}}
spec:
  template:
    spec:
      initContainers: [{{name: migrate, image: ghcr.io/example/migrate:1.0}}]
      containers: [{{name: api, image: \"{api}\"}}]
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {{name: cache}}
spec:
  interval: 10m
  chart:
    spec:
      chart: redis
      version: \"{chart}\"
      sourceRef: {{kind: HelmRepository, name: bitnami}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: release}}
data: {{release: \"{release}\"}}
"
    );
    if let Some(worker) = worker {
        text.push_str(&format!(
            "---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: worker}}
spec:
  template:
    spec:
      containers: [{{name: worker, image: \"{worker}\"}}]
"
        ));
    }
    text
}

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// What production's cluster runs: api one version behind Git, the worker as Git says, no
/// HelmRelease, the ConfigMap as Git says.
fn production_snapshot() -> String {
    let deployment = |name: &str, image: &str| {
        serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "shop", "uid": name},
            "spec": {"template": {"spec": {"containers": [{"name": name, "image": image}]}}}
        })
    };
    serde_json::json!({
        "apiVersion": "v1", "kind": "List", "metadata": {},
        "items": [
            deployment("api", "ghcr.io/example/api:2.4.0"),
            deployment("worker", "ghcr.io/example/worker:3.0-hotfix"),
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "release", "namespace": "shop", "uid": "c"},
             "data": {"release": "2026.11"}}
        ]
    })
    .to_string()
}

fn estate() -> (Repo, String) {
    let repo = Repo::new();
    repo.write("plumb.yaml", CONFIG)
        .write(
            "envs/dev/all.yaml",
            &manifests(
                "ghcr.io/example/api:2.5.0",
                Some("ghcr.io/example/worker:3.1"),
                "18.1.0",
                "2026.12",
            ),
        )
        .write(
            "envs/staging/all.yaml",
            &manifests(
                "ghcr.io/example/api:2.4.1",
                Some("ghcr.io/example/worker:3.1"),
                "18.0.0",
                "2026.11",
            ),
        )
        .write(
            "envs/production/all.yaml",
            &manifests(
                "ghcr.io/example/api:2.4.1",
                Some("ghcr.io/example/worker:3.0-hotfix"),
                "18.0.0",
                "2026.11",
            ),
        )
        .write(
            "envs/production-eu/all.yaml",
            &manifests(
                &format!("ghcr.io/example/api:2.4.1@{DIGEST}"),
                None,
                "17.9.0",
                "2026.11",
            ),
        )
        .write("snapshots/production.json", &production_snapshot());
    let commit = repo.commit("the estate");
    (repo, commit)
}

/// `kind namespace/name detail` → per environment `value state` (or `-` where absent).
fn cells(report: &Value) -> BTreeMap<String, Vec<String>> {
    let envs: Vec<&str> = report["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let r = &row["resource"];
            let detail = row["container"]
                .as_str()
                .or(row["chart"].as_str())
                .unwrap_or(text(row, "path"));
            let label = format!(
                "{} {}/{} {detail}",
                text(r, "kind"),
                text(r, "namespace"),
                text(r, "name")
            );
            let cells = envs
                .iter()
                .map(|env| {
                    let cell = &row["cells"][*env];
                    match cell["value"].as_str() {
                        Some(value) => format!("{value} {}", text(cell, "state")),
                        None => format!("- {}", text(cell, "state")),
                    }
                })
                .collect();
            (label, cells)
        })
        .collect()
}

fn expected_cells() -> BTreeMap<String, Vec<String>> {
    let api = "ghcr.io/example/api";
    // Cells in promotion order: dev, staging, production-eu, production. Rows are named as the
    // last environment with the object names it: production, in namespace shop.
    let rows: [(&str, [String; 4]); 5] = [
        (
            "ConfigMap shop/release data.release",
            [
                "2026.12 origin".into(),
                "2026.11 unvalidated".into(),
                "2026.11 same".into(),
                "2026.11 same".into(),
            ],
        ),
        (
            "Deployment shop/api api",
            [
                format!("{api}:2.5.0 origin"),
                format!("{api}:2.4.1 unvalidated"),
                // Pinned by digest, the same tag: the same version.
                format!("{api}:2.4.1@{DIGEST} same"),
                format!("{api}:2.4.1 same"),
            ],
        ),
        (
            "Deployment shop/api migrate",
            [
                "ghcr.io/example/migrate:1.0 origin".into(),
                "ghcr.io/example/migrate:1.0 same".into(),
                "ghcr.io/example/migrate:1.0 same".into(),
                "ghcr.io/example/migrate:1.0 same".into(),
            ],
        ),
        (
            "Deployment shop/worker worker",
            [
                "ghcr.io/example/worker:3.1 origin".into(),
                "ghcr.io/example/worker:3.1 same".into(),
                "- absent".into(),
                "ghcr.io/example/worker:3.0-hotfix unvalidated".into(),
            ],
        ),
        (
            "HelmRelease shop/cache redis",
            [
                "18.1.0 origin".into(),
                "18.0.0 unvalidated".into(),
                "17.9.0 unvalidated".into(),
                "18.0.0 same".into(),
            ],
        ),
    ];
    // Nothing else: objects without a version path have no row.
    rows.into_iter()
        .map(|(label, cells)| (label.to_string(), cells.to_vec()))
        .collect()
}

/// `envs path` of each finding, sorted.
fn finding_lines(report: &Value) -> Vec<String> {
    support::sorted_findings(report, |f| {
        assert_eq!(text(f, "kind"), "promotion", "{f}");
        let envs: Vec<&str> = f["envs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        format!(
            "{} {} {} {} {}",
            envs.join("→"),
            text(&f["resource"], "name"),
            text(f, "path"),
            text(&f["promotion"], "state"),
            text(f, "severity")
        )
    })
}

#[test]
fn json_cells_are_exactly_as_planted_in_promotion_order() {
    let (repo, commit) = estate();
    // Unvalidated versions are errors: exit 1.
    let report = repo.report(&["matrix", "-o", "json"], 1);
    assert_eq!(text(&report, "command"), "matrix");
    assert_eq!(report["version"], 1);
    assert_eq!(report["environments"], serde_json::json!(ORDER));
    assert_eq!(cells(&report), expected_cells());
    assert_eq!(report["summary"]["complete"], true);
    assert_eq!(report["summary"]["rows"], 5);
    assert_eq!(report["summary"]["cells"]["unvalidated"], 5);
    assert_eq!(report["summary"]["cells"]["absent"], 1);
    assert_eq!(report["errors"], serde_json::json!([]));
    // Each present cell's run of its value began at the one commit; images are taken apart.
    for row in report["rows"].as_array().unwrap() {
        for env in ORDER {
            let cell = &row["cells"][env];
            if cell["state"] == "absent" {
                assert!(cell.get("since_commit").is_none(), "{cell}");
                continue;
            }
            assert_eq!(text(cell, "since_commit"), commit, "{row}");
            assert!(text(cell, "since_time").ends_with('Z'), "{cell}");
            assert!(cell.get("live").is_none(), "no --live: {cell}");
        }
    }
    let eu_api = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["container"] == "api")
        .unwrap();
    assert_eq!(
        eu_api["cells"]["production-eu"]["image"],
        serde_json::json!({"repository": "ghcr.io/example/api", "tag": "2.4.1", "digest": DIGEST})
    );
    assert_eq!(
        eu_api["path"],
        "spec.template.spec.containers[name=api].image"
    );
    // The findings are exactly the unvalidated cells, judged by the engine's defaults.
    assert_eq!(
        finding_lines(&report),
        [
            "dev→staging api spec.template.spec.containers[name=api].image unvalidated error",
            "dev→staging cache spec.chart.spec.version unvalidated error",
            "dev→staging release data.release unvalidated error",
            "staging→production worker spec.template.spec.containers[name=worker].image unvalidated error",
            "staging→production-eu cache spec.chart.spec.version unvalidated error",
        ]
    );
    // Nothing gates below error when told so.
    repo.report(&["matrix", "-o", "json", "--fail-on", "never"], 0);
}

#[test]
fn the_matrix_and_parity_report_the_same_promotion_findings() {
    let (repo, _) = estate();
    let matrix = repo.report(&["matrix", "staging", "production", "-o", "json"], 1);
    assert_eq!(
        matrix["environments"],
        serde_json::json!(["staging", "production"])
    );
    let parity = repo.report(&["parity", "staging", "production", "-o", "json"], 1);
    let promotion = |report: &Value| -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "promotion")
            .map(|f| (text(f, "id").to_string(), text(f, "message").to_string()))
            .collect();
        found.sort();
        found
    };
    assert_eq!(promotion(&matrix), promotion(&parity));
    assert_eq!(promotion(&matrix).len(), 1, "{matrix}");
    // Staging's upstream is not shown: its cells have nothing to compare with.
    for row in matrix["rows"].as_array().unwrap() {
        assert_eq!(row["cells"]["staging"]["state"], "origin", "{row}");
    }
}

#[test]
fn live_cells_say_where_the_cluster_differs_from_git() {
    let (repo, _) = estate();
    let report = repo.report(&["matrix", "--live", "-o", "json"], 1);
    let live: BTreeMap<String, Value> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            // Only production has live state.
            for env in ["dev", "staging", "production-eu"] {
                assert!(row["cells"][env].get("live").is_none(), "{row}");
            }
            let label = row["container"]
                .as_str()
                .or(row["chart"].as_str())
                .unwrap_or(text(row, "path"))
                .to_string();
            (label, row["cells"]["production"]["live"].clone())
        })
        .collect();
    assert_eq!(
        live["api"],
        serde_json::json!({"value": "ghcr.io/example/api:2.4.0", "differs": true})
    );
    assert_eq!(
        live["worker"],
        serde_json::json!({"value": "ghcr.io/example/worker:3.0-hotfix", "differs": false})
    );
    assert_eq!(
        live["migrate"],
        serde_json::json!({"value": null, "differs": true})
    );
    assert_eq!(
        live["redis"],
        serde_json::json!({"value": null, "differs": true})
    );
    assert_eq!(
        live["data.release"],
        serde_json::json!({"value": "2026.11", "differs": false})
    );
    assert_eq!(report["summary"]["live_differs"], 3);
    assert_eq!(
        report["inputs"]["environments"][3]["live"]
            .as_str()
            .map(|s| s.ends_with("snapshots/production.json")),
        Some(true)
    );
    // Named without live state: bad input, as `parity --live`.
    let output = repo
        .plumb()
        .args(["matrix", "staging", "production", "--live"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("`staging` has no live state"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_table_fits_120_columns_names_every_environment_and_abbreviates_registries() {
    let (repo, _) = estate();
    let output = repo.plumb().args(["matrix", "--live"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let table = String::from_utf8(output.stdout).unwrap();
    for line in table.lines() {
        assert!(line.chars().count() <= 120, "{line}");
    }
    let header = table.lines().nth(1).unwrap();
    for env in ORDER {
        assert!(header.contains(env), "{header}");
    }
    let row = |start: &str| {
        table
            .lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no row {start}:\n{table}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        row("Deployment shop/worker worker"),
        "Deployment shop/worker worker worker:3.1 worker:3.1 = - worker:3.0-hotfix !"
    );
    // Production's cluster runs another api: marked `~`.
    assert_eq!(
        row("Deployment shop/api api"),
        "Deployment shop/api api api:2.5.0 api:2.4.1 ! api:2.4.1 = api:2.4.1 =~"
    );
    assert!(!table.contains("ghcr.io"), "{table}");
    assert!(table.contains("legend: = same as upstream"), "{table}");
    assert!(table.contains("5 promotion finding(s):"), "{table}");
    assert!(
        table.contains("production runs worker:3.0-hotfix, which staging never ran"),
        "{table}"
    );
}

#[test]
fn markdown_is_a_table_for_a_pull_request() {
    let (repo, _) = estate();
    let output = repo
        .plumb()
        .args(["matrix", "-o", "markdown"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.starts_with("## plumb matrix — 5 finding(s) fail the run"),
        "{text}"
    );
    assert!(
        text.contains(
            "| workload | dev | staging | production-eu | production |\n|---|---|---|---|---|\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "| `Deployment shop/worker` worker | `worker:3.1` | `worker:3.1` same | — absent | `worker:3.0-hotfix` unvalidated |"
        ),
        "{text}"
    );
    assert!(text.contains("### Promotion findings"), "{text}");
}

#[test]
fn formats_the_matrix_cannot_write_are_refused_with_the_ones_it_can() {
    let (repo, _) = estate();
    let report = repo.path().join("matrix.out").display().to_string();
    for (format, args) in [
        ("sarif", vec!["-o", "sarif"]),
        ("junit", vec!["-o", "junit"]),
        ("sarif", vec!["--report", &format!("sarif={report}")]),
    ] {
        let output = repo.plumb().arg("matrix").args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{format}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("does not write {format}"))
                && stderr.contains("-o table, -o json or -o markdown"),
            "{stderr}"
        );
        assert!(output.stdout.is_empty(), "refused before any work");
    }
    // The formats it writes go into files too, from the same run.
    let output = repo
        .plumb()
        .args(["matrix", "-o", "json", "--fail-on", "never"])
        .args(["--report", &format!("markdown={report}")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(support::stdout_json(&output)["command"], "matrix");
    assert!(std::fs::read_to_string(&report).unwrap().contains('|'));
    let output = repo.plumb().args(["matrix", "qa"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown environment `qa`"));
}

#[test]
fn a_source_that_cannot_be_read_makes_the_matrix_incomplete() {
    let (repo, _) = estate();
    // production-eu gains a Helm chart that fails to render: exit 3 whatever --fail-on says.
    repo.write(
        "plumb.yaml",
        &CONFIG.replace(
            "sources: [{manifests: envs/production-eu}]",
            "sources: [{manifests: envs/production-eu}, {helm: {chart: charts/broken}}]",
        ),
    )
    .write(
        "charts/broken/Chart.yaml",
        "apiVersion: v2\nname: broken\nversion: 0.1.0\n",
    )
    .write("charts/broken/templates/x.yaml", "{{ fail \"no\" }}\n");
    repo.commit("a broken source");
    let report = repo.report(&["matrix", "-o", "json", "--fail-on", "never"], 3);
    assert_eq!(report["summary"]["complete"], false);
    let errors = report["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["env"] == "production-eu" && e["kind"] == "render"),
        "{errors:?}"
    );
}
