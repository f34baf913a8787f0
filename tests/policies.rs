//! Policy files end to end: rules decide statuses, waivers hold until they lapse, bad policy files
//! are located errors.

mod support;

use support::{Repo, stdout_json, text};

const CONFIG: &str = "version: 1
environments:
  staging:
    namespace: shop-staging
    sources:
      - manifests: envs/staging
  production:
    namespace: shop
    sources:
      - manifests: envs/production
parity:
  - between: [staging, production]
    namespaces: {shop-staging: shop}
policies: [policies/]
";

fn deployment(name: &str, replicas: u32, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  labels: {{tier: web}}\nspec:\n  replicas: {replicas}\n  template:\n    metadata:\n      annotations: {{build: \"{replicas}\"}}\n    spec:\n      containers:\n        - name: app\n          image: {image}\n"
    )
}

fn repo(policies: &[(&str, &str)]) -> Repo {
    let repo = Repo::new();
    repo.write("plumb.yaml", CONFIG)
        .write(
            "envs/staging/app.yaml",
            &(deployment("api", 1, "api:2") + "---\n" + &deployment("legacy", 1, "legacy:2")),
        )
        .write(
            "envs/production/app.yaml",
            &(deployment("api", 3, "api:1") + "---\n" + &deployment("legacy", 1, "legacy:1")),
        );
    for (name, text) in policies {
        repo.write(&format!("policies/{name}"), text);
    }
    repo.commit("c");
    repo
}

fn statuses(report: &serde_json::Value) -> Vec<String> {
    support::sorted_findings(report, |f| {
        format!(
            "{} {} {} {} {}",
            text(&f["resource"], "name"),
            text(f, "path"),
            text(f, "status"),
            text(f, "severity"),
            text(f, "rule")
        )
    })
}

const TEAM: &str = r#"version: 1
rules:
  - id: replicas-sized-per-env
    description: Replica counts are sized per environment.
    scope: parity
    match: {kinds: [apps/Deployment]}
    paths: [spec.replicas]
    action: allow
  - id: same-images
    match: {kinds: [Deployment], labels: {tier: web}}
    paths: ["spec.template.spec.containers[*].image"]
    action: deny
    severity: error
  - id: build-annotations
    paths: [spec.template.metadata.annotations]
    action: ignore
waivers:
  - rule: same-images
    match: {names: [legacy]}
    owner: payments-team
    reason: migration tracked in PAY-123
    expires: 2999-01-31
"#;

#[test]
fn every_status_and_the_rule_that_decided_it() {
    let repo = repo(&[("team.yaml", TEAM)]);
    let report = repo.report(&["parity", "staging", "production", "-o", "json"], 1);
    assert_eq!(
        statuses(&report),
        [
            "api spec.replicas expected info replicas-sized-per-env",
            "api spec.template.spec.containers[name=app].image violation error same-images",
            "legacy spec.template.spec.containers[name=app].image waived error same-images",
        ]
    );
    // The build annotation differs on api (1 vs 3): ignored, counted, not listed.
    assert_eq!(report["summary"]["ignored"], 1);
    let waived = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["status"] == "waived")
        .unwrap();
    assert!(
        waived["message"]
            .as_str()
            .unwrap()
            .contains("payments-team until 2999-01-31"),
        "{waived}"
    );
}

#[test]
fn a_lapsed_waiver_fires_again_and_says_so() {
    let repo = repo(&[("team.yaml", &TEAM.replace("2999-01-31", "2020-01-31"))]);
    let report = stdout_json(
        &repo
            .plumb()
            .args(["parity", "staging", "production", "-o", "json"])
            .output()
            .unwrap(),
    );
    let legacy = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"]["name"] == "legacy")
        .unwrap();
    assert_eq!(legacy["status"], "violation");
    assert!(
        legacy["message"]
            .as_str()
            .unwrap()
            .contains("lapsed on 2020-01-31"),
        "{legacy}"
    );
}

#[test]
fn files_are_read_in_order_and_the_first_matching_rule_wins() {
    // 10-first.yaml allows every image difference; 20-team.yaml would deny it.
    let first = "version: 1\nrules:\n  - id: images-may-differ\n    paths: [\"**.image\"]\n    action: allow\n";
    let repo = repo(&[("10-first.yaml", first), ("20-team.yaml", TEAM)]);
    let output = repo
        .plumb()
        .args(["parity", "staging", "production", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let lines = statuses(&stdout_json(&output));
    assert!(
        lines
            .iter()
            .filter(|l| l.contains(".image "))
            .all(|l| l.ends_with("expected info images-may-differ")),
        "{lines:?}"
    );
}

#[test]
fn bad_policy_files_are_exit_2_with_file_line_and_column() {
    for (bad, needle) in [
        (
            TEAM.replace("action: deny", "action: forbid"),
            "team.yaml:12:",
        ),
        (
            TEAM.replace("    scope: parity", "    scope: sometimes"),
            "team.yaml:5:",
        ),
        (
            TEAM.replace(
                "    severity: error",
                "    severity: error\n    colour: red",
            ),
            "team.yaml:14:",
        ),
        (
            TEAM.replace("expires: 2999-01-31", "expires: someday"),
            "team.yaml:22:14",
        ),
        (
            TEAM.replace("paths: [spec.replicas]", "paths: [\"spec.[replicas\"]"),
            "team.yaml:7:",
        ),
        ("version: 1\nrules: [\n".to_string(), "team.yaml:"),
        (
            TEAM.replace(
                "    action: allow",
                "    condition: \"right >=\"\n    action: allow",
            ),
            "team.yaml:8:",
        ),
    ] {
        let repo = repo(&[("team.yaml", &bad)]);
        let output = repo
            .plumb()
            .args(["parity", "staging", "production"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(needle), "missing {needle} in:\n{stderr}");
    }
}

#[test]
fn conditions_decide_and_a_failing_condition_makes_the_run_incomplete() {
    // Production may only scale up from staging: 1 -> 3 is expected.
    let grow = TEAM.replace(
        "    action: allow",
        "    condition: \"right >= left\"\n    action: allow",
    );
    let report = stdout_json(
        &repo(&[("team.yaml", &grow)])
            .plumb()
            .args(["parity", "staging", "production", "-o", "json"])
            .output()
            .unwrap(),
    );
    assert!(
        statuses(&report)
            .contains(&"api spec.replicas expected info replicas-sized-per-env".to_string())
    );
    // Scaling down is not covered by the rule: unreviewed.
    let shrink = TEAM.replace(
        "    action: allow",
        "    condition: \"right < left\"\n    action: allow",
    );
    let report = stdout_json(
        &repo(&[("team.yaml", &shrink)])
            .plumb()
            .args(["parity", "staging", "production", "-o", "json"])
            .output()
            .unwrap(),
    );
    assert!(
        statuses(&report).contains(&"api spec.replicas unreviewed warning -".to_string()),
        "{:?}",
        statuses(&report)
    );
    // A condition that fails on an object: unreviewed, listed in errors, exit 3.
    let broken = TEAM.replace(
        "    action: allow",
        "    condition: \"object.spec.noSuchField > 1\"\n    action: allow",
    );
    let output = repo(&[("team.yaml", &broken)])
        .plumb()
        .args([
            "parity",
            "staging",
            "production",
            "-o",
            "json",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let report = stdout_json(&output);
    assert_eq!(report["errors"][0]["kind"], "policy");
    assert!(
        report["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("replicas-sized-per-env")
    );
    assert!(statuses(&report).contains(&"api spec.replicas unreviewed warning -".to_string()));
}

#[test]
fn unknown_shipped_policies_are_bad_input() {
    let repo = repo(&[]);
    repo.write(
        "plumb.yaml",
        &CONFIG.replace("policies: [policies/]", "policies: [builtin:sekurity]"),
    );
    let output = repo
        .plumb()
        .args(["parity", "staging", "production"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("builtin:sekurity"));
}

#[test]
fn compare_takes_policy_files_like_argo_cd_ignore_differences() {
    let dir = tempfile::tempdir().unwrap();
    let svc = |affinity: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: s, namespace: a}}\nspec:\n  sessionAffinity: {affinity}\n  ports: [{{port: 80}}]\n"
        )
    };
    std::fs::write(dir.path().join("desired.yaml"), svc("ClientIP")).unwrap();
    std::fs::write(dir.path().join("live.yaml"), svc("None")).unwrap();
    std::fs::write(dir.path().join("ignore.yaml"), "version: 1\nrules:\n  - id: affinity\n    match: {kinds: [Service]}\n    paths: [/spec/sessionAffinity]\n    action: ignore\n").unwrap();
    let run = |with_policy: bool| {
        let mut cmd = support::plumb();
        cmd.args(["compare", "--mode", "drift"])
            .arg(dir.path().join("desired.yaml"))
            .arg(dir.path().join("live.yaml"));
        if with_policy {
            cmd.arg("--policy").arg(dir.path().join("ignore.yaml"));
        }
        cmd.output().unwrap().status.code()
    };
    assert_eq!(run(false), Some(1));
    assert_eq!(run(true), Some(0));
}

#[test]
fn policy_lint_reports_unreachable_rules_and_stale_waivers() {
    let clean = repo(&[("team.yaml", TEAM)]);
    let output = clean.plumb().args(["policy", "lint"]).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("no problems"));

    let shadowing = "version: 1\nrules:\n  - id: anything-goes\n    action: allow\n";
    let stale = TEAM.replace("2999-01-31", "2020-01-31");
    let repo = repo(&[("10-first.yaml", shadowing), ("20-team.yaml", &stale)]);
    let output = repo.plumb().args(["policy", "lint"]).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("20-team.yaml:3:")
            && text.contains("`replicas-sized-per-env` can never apply"),
        "{text}"
    );
    assert!(text.contains("expired on 2020-01-31"), "{text}");

    // Files named on the command line; a broken one is exit 2 with its place.
    let broken = repo.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "version: 1\nrules:\n  - id: x\n    action: maybe\n",
    )
    .unwrap();
    let output = repo
        .plumb()
        .args(["policy", "lint"])
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("broken.yaml:4:"));
}

/// Two live objects as a cluster returns them, for `compare --mode parity`.
fn live_pair(dir: &std::path::Path) {
    let deployment = |uid: &str, ready: u32, generation: u32| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\n  uid: {uid}\n  resourceVersion: \"{ready}{generation}\"\n  generation: {generation}\n  creationTimestamp: \"2026-0{generation}-01T00:00:00Z\"\n  annotations:\n    deployment.kubernetes.io/revision: \"{generation}\"\n  managedFields:\n    - manager: kubectl\n      operation: Update\n      fieldsV1: {{f:spec: {{}}}}\nspec:\n  replicas: 3\nstatus:\n  readyReplicas: {ready}\n  observedGeneration: {generation}\n"
        )
    };
    let services = |ip: &str, headless: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: shop}}\nspec:\n  clusterIP: {ip}\n  clusterIPs: [{ip}]\n  ports: [{{port: 80}}]\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: db, namespace: shop}}\nspec:\n  clusterIP: {headless}\n  ports: [{{port: 5432}}]\n"
        )
    };
    std::fs::write(
        dir.join("a.yaml"),
        deployment("u-1", 3, 4) + "---\n" + &services("10.0.0.1", "None"),
    )
    .unwrap();
    std::fs::write(
        dir.join("b.yaml"),
        deployment("u-2", 1, 7) + "---\n" + &services("10.9.0.1", "10.9.0.2"),
    )
    .unwrap();
}

fn compare_parity(dir: &std::path::Path, policy: Option<&str>) -> serde_json::Value {
    let mut cmd = support::plumb();
    cmd.args(["compare", "--mode", "parity", "-o", "json"])
        .arg(dir.join("a.yaml"))
        .arg(dir.join("b.yaml"));
    if let Some(text) = policy {
        std::fs::write(dir.join("policy.yaml"), text).unwrap();
        cmd.arg("--policy").arg(dir.join("policy.yaml"));
    }
    stdout_json(&cmd.output().unwrap())
}

#[test]
fn builtin_noise_goes_unless_a_rule_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    live_pair(dir.path());
    // No policy of the user's: status, bookkeeping and allocated cluster IPs are noise, but a
    // headless Service against one with an IP is a real difference.
    let report = compare_parity(dir.path(), None);
    assert_eq!(
        statuses(&report),
        ["db spec.clusterIP unreviewed warning -"]
    );
    // Naming a field inside status brings status back for the objects the rule matches; what the
    // rule does not decide still falls to builtin:noise, and is counted as ignored.
    let report = compare_parity(
        dir.path(),
        Some(
            "version: 1\nrules:\n  - id: ready\n    match: {kinds: [Deployment]}\n    paths: [status.readyReplicas]\n    action: deny\n",
        ),
    );
    assert_eq!(
        statuses(&report),
        [
            "api status.readyReplicas violation error ready",
            "db spec.clusterIP unreviewed warning -"
        ]
    );
    // status.observedGeneration, and web's allocated clusterIP and clusterIPs[0] (judged after the
    // comparison, since that noise rule has a condition).
    assert_eq!(report["summary"]["ignored"], 3);
    // Wide rules do not bring noise back: `metadata.**` allows declared metadata, nothing else.
    let report = compare_parity(
        dir.path(),
        Some("version: 1\nrules:\n  - id: meta\n    paths: [metadata.**]\n    action: allow\n"),
    );
    assert_eq!(
        statuses(&report),
        ["db spec.clusterIP unreviewed warning -"]
    );
}

#[test]
fn policy_test_runs_cases_and_reports_what_failed() {
    // The demo's own policy tests pass.
    let output = support::plumb()
        .current_dir(support::fixtures().join("demo"))
        .args(["policy", "test", "policy-tests"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("6 case(s): 6 passed, 0 failed"), "{stdout}");

    // The same waiver, judged after it lapsed, and a case that expects the wrong thing.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("team.yaml"), TEAM).unwrap();
    let cases = r#"version: 1
policies: [team.yaml]
today: 3000-01-01
cases:
  - name: legacy images under a lapsed waiver
    left: {apiVersion: apps/v1, kind: Deployment, metadata: {name: legacy, labels: {tier: web}}, spec: {template: {spec: {containers: [{name: app, image: "legacy:1"}]}}}}
    right: {apiVersion: apps/v1, kind: Deployment, metadata: {name: legacy, labels: {tier: web}}, spec: {template: {spec: {containers: [{name: app, image: "legacy:2"}]}}}}
    expect:
      spec.template.spec.containers[name=app].image: waived
  - name: replicas
    left: {apiVersion: apps/v1, kind: Deployment, metadata: {name: api}, spec: {replicas: 1}}
    right: {apiVersion: apps/v1, kind: Deployment, metadata: {name: api}, spec: {replicas: 2}}
    expect:
      spec.replicas: expected
"#;
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    std::fs::write(
        dir.path().join("tests/cases.yaml"),
        cases.replace("[team.yaml]", "[../team.yaml]"),
    )
    .unwrap();
    let output = support::plumb()
        .current_dir(dir.path())
        .args(["policy", "test", "tests"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAILED  legacy images under a lapsed waiver (line 5)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("line 9: spec.template.spec.containers[name=app].image: expected waived, got violation (rule `same-images`)"),
        "{stdout}"
    );
    assert!(stdout.contains("ok      replicas"), "{stdout}");
    assert!(stdout.contains("2 case(s): 1 passed, 1 failed"), "{stdout}");

    // A case that is neither a pair nor an object, and an unknown outcome, are located bad input.
    for (bad, line) in [
        (cases.replace("    left: {apiVersion: apps/v1, kind: Deployment, metadata: {name: api}, spec: {replicas: 1}}\n    right: {apiVersion: apps/v1, kind: Deployment, metadata: {name: api}, spec: {replicas: 2}}\n", ""), 10),
        (cases.replace("spec.replicas: expected", "spec.replicas: fine"), 14),
    ] {
        std::fs::write(dir.path().join("bad.yaml"), bad).unwrap();
        let output = support::plumb()
            .current_dir(dir.path())
            .args(["policy", "test", "bad.yaml"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&format!("bad.yaml:{line}")), "{stderr}");
    }
}

/// A case's `promotion` block: bad input is located (a state that is none, a date that is not
/// one, an object case that can have no promotion finding); a good one makes the differing image
/// a promotion finding that only a rule naming `findings: [promotion]` decides.
#[test]
fn policy_test_promotion_blocks_are_checked_and_decide_version_findings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("promotion.yaml"),
        "version: 1\nrules:\n  - id: all-images-alike\n    paths: [\"spec.template.spec.containers[*].image\"]\n    action: deny\n  - id: old-hotfix\n    match: {findings: [promotion]}\n    condition: \"state == 'unvalidated' && age_days > 7\"\n    action: deny\n    severity: warning\n",
    )
    .unwrap();
    let deployment = |image: &str| {
        format!(
            "{{apiVersion: apps/v1, kind: Deployment, metadata: {{name: api}}, spec: {{template: {{spec: {{containers: [{{name: api, image: \"{image}\"}}]}}}}}}}}"
        )
    };
    let case = |promotion: &str, expect: &str| {
        format!(
            "version: 1\npolicies: [promotion.yaml]\ntoday: 2026-11-27\ncases:\n  - name: a case\n    envs: [staging, production]\n{promotion}    left: {}\n    right: {}\n    expect:\n      spec.template.spec.containers[name=api].image: {expect}\n",
            deployment("api:2.4.1"),
            deployment("api:1.7.3-hotfix")
        )
    };
    let run = |text: &str| {
        std::fs::write(dir.path().join("case.yaml"), text).unwrap();
        let output = support::plumb()
            .current_dir(dir.path())
            .args(["policy", "test", "case.yaml"])
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    // Without a promotion block the pair is plain parity: the broad rule decides.
    let (code, stdout, _) = run(&case("", "violation"));
    assert_eq!(code, Some(0), "{stdout}");
    // Ten days unvalidated: the promotion rule decides (a warning violation); the broad rule,
    // naming no `findings`, cannot.
    let (code, stdout, _) = run(&case(
        "    promotion: {state: unvalidated, since: 2026-11-17}\n",
        "violation",
    ));
    assert_eq!(code, Some(0), "{stdout}");
    // A lag of two days: no rule decides, plumb's own verdict (expected) stands, and the case
    // expecting a violation fails.
    let (code, stdout, _) = run(&case(
        "    promotion: {state: lag, since: 2026-11-25}\n",
        "violation",
    ));
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("expected violation, got expected (no rule matched)"),
        "{stdout}"
    );
    for (bad, line) in [
        ("    promotion: {state: late}\n", 7),
        ("    promotion: {state: lag, since: last week}\n", 7),
    ] {
        let (code, _, stderr) = run(&case(bad, "violation"));
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains(&format!("case.yaml:{line}")), "{stderr}");
    }
    let object_case = "version: 1\npolicies: [promotion.yaml]\ncases:\n  - name: one object\n    promotion: {state: lag}\n    object: {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n    expect: {}\n";
    let (code, _, stderr) = run(object_case);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("case.yaml:4") && stderr.contains("no parity case"),
        "{stderr}"
    );
}

/// Eight comprehensions, each nested in the previous one, over `object.spec.items`: 10^8
/// iterations on a list of ten, which ran for minutes before evaluations had a cost budget.
fn nested_alls(depth: usize) -> String {
    let mut text = "true".to_string();
    for i in (0..depth).rev() {
        text = format!("object.spec.items.all(v{i}, {text})");
    }
    text
}

fn costly_policy() -> String {
    format!(
        "version: 1\nrules:\n  - id: costly-condition\n    paths: [spec.replicas]\n    action: allow\n    condition: \"{}\"\nchecks:\n  - id: costly-check\n    assert: \"{}\"\n",
        nested_alls(8),
        nested_alls(8)
    )
}

/// `compare --mode drift` of one Widget whose `spec.items` holds `items` entries, desired with one
/// replica and live with two, under [`costly_policy`].
fn compare_costly(items: usize) -> (std::process::Output, std::time::Duration) {
    let dir = tempfile::tempdir().unwrap();
    let widget = |replicas: u32| {
        format!(
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w, namespace: a}}\nspec:\n  replicas: {replicas}\n  items: {:?}\n",
            (0..items).collect::<Vec<_>>()
        )
    };
    std::fs::write(dir.path().join("desired.yaml"), widget(1)).unwrap();
    std::fs::write(dir.path().join("live.yaml"), widget(2)).unwrap();
    std::fs::write(dir.path().join("costly.yaml"), costly_policy()).unwrap();
    let start = std::time::Instant::now();
    let output = support::plumb()
        .args(["compare", "--mode", "drift", "-o", "json"])
        .arg(dir.path().join("desired.yaml"))
        .arg(dir.path().join("live.yaml"))
        .arg("--policy")
        .arg(dir.path().join("costly.yaml"))
        .output()
        .unwrap();
    (output, start.elapsed())
}

#[test]
fn an_evaluation_over_its_cost_budget_is_stopped_and_the_run_is_incomplete() {
    let (output, elapsed) = compare_costly(10);
    // Debug build, on a shared machine: the budget stops each evaluation well within this.
    assert!(elapsed.as_secs() < 60, "took {elapsed:?}");
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = stdout_json(&output);
    assert_eq!(report["summary"]["complete"], false);
    assert_eq!(
        statuses(&report),
        [
            "w  unreviewed error costly-check",
            "w spec.replicas unreviewed error -",
        ]
    );
    let errors: Vec<String> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", text(e, "kind"), text(e, "message")))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors.iter().all(|e| e.starts_with("policy ")
            && e.contains("costly.yaml:")
            && e.contains("stopped after a cost of 1000000 on this object")),
        "{errors:#?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("rule `costly-condition`")),
        "{errors:#?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("check `costly-check`")),
        "{errors:#?}"
    );

    // The same policy on a short list is evaluated: a run judges the real cost, not the estimate.
    let (output, _) = compare_costly(2);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let report = stdout_json(&output);
    assert_eq!(report["errors"], serde_json::json!([]));
    assert_eq!(report["summary"]["complete"], true);
}

#[test]
fn policy_lint_rejects_expressions_estimated_over_the_cost_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("costly.yaml");
    std::fs::write(&path, costly_policy()).unwrap();
    let output = support::plumb()
        .args(["policy", "lint"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(
            "costly.yaml:3:9: error: the condition of rule `costly-condition` is estimated to cost"
        ) && stdout.contains("costly.yaml:8:9: error: the assertion of check `costly-check`")
            && stdout.contains("bound the nesting of comprehensions"),
        "{stdout}"
    );
}
