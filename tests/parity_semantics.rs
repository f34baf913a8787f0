//! Parity as users read it, end to end through `plumb parity` on a real Git repository:
//! equivalents map whole tokens only where two strings differ (and never Secret values), lists
//! without keys are aligned as sequences, and a subtree one side lacks is one finding at the
//! shallowest path it lacks.

mod support;

use support::{Repo, finding_lines};

const CONFIG: &str = "version: 1
environments:
  dev:
    namespace: shop-dev
    sources: [{manifests: envs/dev}]
  staging:
    namespace: shop-staging
    sources: [{manifests: envs/staging}]
parity:
  - between: [dev, staging]
    namespaces: {shop-dev: shop-staging}
    equivalents:
      - [dev, staging]
";

fn job(name: &str, args: &[&str], command: &str, labels: &str, env: &str) -> String {
    let args: Vec<String> = args.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        "apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
{labels}spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: ghcr.io/example/tool:1.0
          command: [\"sh\", \"-c\", \"{command}\"]
          args: [{}]
          env:
            - {{name: ENVIRONMENT, value: {env}}}
",
        args.join(", ")
    )
}

fn repo(dev: &str, staging: &str) -> Repo {
    let repo = Repo::new();
    repo.write("plumb.yaml", CONFIG)
        .write("envs/dev/app.yaml", dev)
        .write("envs/staging/app.yaml", staging);
    repo.commit("two environments");
    repo
}

fn parity(repo: &Repo) -> serde_json::Value {
    repo.report(
        &[
            "parity",
            "dev",
            "staging",
            "-o",
            "json",
            "--fail-on",
            "never",
        ],
        0,
    )
}

#[test]
fn equivalents_map_whole_tokens_only_where_the_strings_differ() {
    // `/dev/null` is equal on both sides and never mapped; `--env=dev` differs and maps to
    // `--env=staging`; `api.dev.example.com` maps to `api.staging.example.com`.
    let dev = job(
        "migrate",
        &["--env=dev", "--host=api.dev.example.com"],
        "run 2>/dev/null",
        "",
        "dev",
    );
    let staging = job(
        "migrate",
        &["--env=staging", "--host=api.staging.example.com"],
        "run 2>/dev/null",
        "",
        "staging",
    );
    assert_eq!(
        finding_lines(&parity(&repo(&dev, &staging))),
        Vec::<String>::new()
    );

    // A real difference next to an equivalent one: the equal `/dev/null` is left alone, and the
    // report shows each side's own text, never the mapped one.
    let staging = job(
        "migrate",
        &["--env=staging", "--host=api.staging.example.com"],
        "run 2>/dev/null --verbose",
        "",
        "staging",
    );
    let report = parity(&repo(&dev, &staging));
    assert_eq!(
        finding_lines(&report),
        ["parity Job/migrate spec.template.spec.containers[name=main].command[2]"]
    );
    let finding = &report["findings"][0];
    assert_eq!(finding["left"], "run 2>/dev/null");
    assert_eq!(finding["right"], "run 2>/dev/null --verbose");

    // A token inside a longer word is not a token: `devices` never becomes `stagingices`.
    let dev = job("devices", &["--mode=devices"], "true", "", "dev");
    let staging = job("devices", &["--mode=stagingices"], "true", "", "staging");
    let report = parity(&repo(&dev, &staging));
    assert_eq!(
        finding_lines(&report),
        ["parity Job/devices spec.template.spec.containers[name=main].args[0]"]
    );
    assert_eq!(report["findings"][0]["left"], "--mode=devices");
}

#[test]
fn equivalents_never_reach_secret_values() {
    let secret = |host: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: db}}\nstringData: {{host: {host}}}\n"
        )
    };
    let report = parity(&repo(
        &secret("db.dev.internal"),
        &secret("db.staging.internal"),
    ));
    assert_eq!(finding_lines(&report), ["parity Secret/db data.host"]);
    let finding = &report["findings"][0];
    for side in ["left", "right"] {
        assert!(
            finding[side].as_str().unwrap().starts_with("hmac-sha256:"),
            "{finding}"
        );
    }
    assert_ne!(finding["left"], finding["right"]);
}

#[test]
fn one_inserted_argument_is_one_added_finding() {
    let dev = job("migrate", &["--a", "--b", "--c", "--d"], "run", "", "dev");
    let staging = job(
        "migrate",
        &["--a", "--dry-run", "--b", "--c", "--d"],
        "run",
        "",
        "staging",
    );
    let report = parity(&repo(&dev, &staging));
    assert_eq!(
        finding_lines(&report),
        ["parity Job/migrate spec.template.spec.containers[name=main].args[1]"]
    );
    let finding = &report["findings"][0];
    assert_eq!(finding["change"], "added");
    assert_eq!(finding["right"], "--dry-run");

    // And one removed argument is one `removed` finding at its index on the left.
    let dev = job(
        "migrate",
        &["--a", "--dry-run", "--b", "--c", "--d"],
        "run",
        "",
        "dev",
    );
    let staging = job(
        "migrate",
        &["--a", "--b", "--c", "--d"],
        "run",
        "",
        "staging",
    );
    let report = parity(&repo(&dev, &staging));
    assert_eq!(
        finding_lines(&report),
        ["parity Job/migrate spec.template.spec.containers[name=main].args[1]"]
    );
    assert_eq!(report["findings"][0]["change"], "removed");
    assert_eq!(report["findings"][0]["left"], "--dry-run");
}

#[test]
fn a_subtree_one_side_lacks_is_one_finding_at_the_shallowest_missing_path() {
    let labels = "  labels:\n    team: payments\n    tier: backend\n";
    let dev = job("migrate", &["--a"], "run", labels, "dev");
    let staging = job("migrate", &["--a"], "run", "", "staging");
    let report = parity(&repo(&dev, &staging));
    assert_eq!(
        finding_lines(&report),
        ["parity Job/migrate metadata.labels"]
    );
    let finding = &report["findings"][0];
    assert_eq!(finding["change"], "removed");
    assert_eq!(
        finding["left"],
        serde_json::json!({"team": "payments", "tier": "backend"})
    );
}
