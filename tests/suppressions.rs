//! What the policies hid (docs/report.md, suppressions): every report lists each ignore, allow and
//! require-different rule and each waiver in force, with the findings it decided per place.

mod support;

use serde_json::Value;

/// A date `days` from today, `YYYY-MM-DD` (the run judges waivers on today's date).
fn date_in(days: i64) -> String {
    let output = std::process::Command::new("date")
        .args(["-u", "-d", &format!("+{days} days"), "+%F"])
        .output()
        .expect("date runs");
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// The demo, with a restart stamp on api that differs between staging and production (a
/// difference builtin:noise judges and ignores), and a second policy file: a rule that matches
/// nothing, a broad one, and a waiver lapsing in a week.
fn demo_with_audit_policy() -> (support::Repo, String) {
    let repo = support::demo_repo();
    let expiring = date_in(7);
    for (env, time) in [
        ("staging", "2026-11-20T10:00:00Z"),
        ("production", "2026-11-02T08:00:00Z"),
    ] {
        let path = format!("envs/{env}/api.yaml");
        let text = std::fs::read_to_string(repo.path().join(&path)).unwrap();
        let stamped = text.replacen(
            "      annotations:\n",
            &format!("      annotations:\n        kubectl.kubernetes.io/restartedAt: \"{time}\"\n"),
            1,
        );
        assert_ne!(stamped, text, "{path} has pod template annotations");
        repo.write(&path, &stamped);
    }
    repo.write(
        "policies/zz-audit.yaml",
        &format!(
            r#"version: 1
rules:
  - id: legacy-cronjobs
    match: {{kinds: [batch/CronJob]}}
    paths: [spec.schedule]
    action: ignore
  - id: everything-in-sandbox
    match: {{namespaces: [sandbox]}}
    action: allow
waivers:
  - rule: readiness-probes
    match: {{names: [worker]}}
    owner: platform
    reason: the worker serves no traffic (SHOP-512)
    expires: {expiring}
"#
        ),
    );
    repo.commit("restart stamps and an audit policy");
    (repo, expiring)
}

/// The entry for rule or waiver `name` (`waiver of ID` for a waiver) in `file`.
fn entry<'a>(report: &'a Value, name: &str, file: &str) -> &'a Value {
    report["suppressions"]
        .as_array()
        .expect("suppressions is always present")
        .iter()
        .find(|s| {
            let label = match s["rule"].as_str() {
                Some(rule) => rule.to_string(),
                None => format!("waiver of {}", s["waiver"].as_str().unwrap_or("")),
            };
            label == name && s["file"] == file
        })
        .unwrap_or_else(|| {
            panic!(
                "no suppression {name} in {file}: {:#}",
                report["suppressions"]
            )
        })
}

const SHOP: &str = "policies/shop.yaml";
const AUDIT: &str = "policies/zz-audit.yaml";
const NOISE: &str = "builtin:noise";

#[test]
fn parity_says_what_each_rule_and_waiver_decided() {
    let (repo, expiring) = demo_with_audit_policy();
    let report = repo.report(&["parity", "staging", "production", "-o", "json"], 1);
    let pair = "staging,production";

    let sized = entry(&report, "sized-per-environment", SHOP);
    assert_eq!(sized["action"], "allow");
    assert_eq!(sized["line"], 4);
    assert_eq!(sized["decided"], serde_json::json!({pair: 16}));
    assert_eq!(
        (&sized["unused"], &sized["broad"]),
        (&false.into(), &false.into())
    );
    // The allow rule's count is the number of findings that name it, all expected.
    let named: usize = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "sized-per-environment" && f["status"] == "expected")
        .count();
    assert_eq!(named, 16);

    let flags = entry(&report, "waiver of feature-flags-match", SHOP);
    assert_eq!(flags["decided"], serde_json::json!({pair: 1}));
    assert_eq!(flags["expires"], "2099-12-31");
    assert!(flags.get("expiring").is_none(), "{flags}");

    // require-different flagged the shared password (a violation, listed as a finding): in use,
    // but it hid nothing.
    let secrets = entry(&report, "secrets-differ", SHOP);
    assert_eq!(secrets["decided"], serde_json::json!({}));
    assert_eq!(secrets["unused"], false);

    // builtin:noise is named as such; the restart stamp was judged and ignored by it.
    let restart = entry(&report, "noise-rollout-restart", NOISE);
    assert_eq!(restart["decided"], serde_json::json!({pair: 1}));
    assert_eq!(report["summary"]["ignored"], 1);
    // Fields taken out before comparison are not counted, and never called unused.
    let status = entry(&report, "noise-status", NOISE);
    assert_eq!(status["before_comparison"], true);
    assert_eq!(status["unused"], false);

    let cronjobs = entry(&report, "legacy-cronjobs", AUDIT);
    assert_eq!(
        (&cronjobs["unused"], &cronjobs["broad"]),
        (&true.into(), &false.into())
    );
    let sandbox = entry(&report, "everything-in-sandbox", AUDIT);
    assert_eq!(
        (&sandbox["unused"], &sandbox["broad"]),
        (&true.into(), &true.into())
    );
    let worker = entry(&report, "waiver of readiness-probes", AUDIT);
    assert_eq!(worker["expires"], expiring.as_str());
    assert_eq!(worker["expiring"], true);
    // Parity runs the checks of both environments: the worker fails in each, waived in each.
    assert_eq!(
        worker["decided"],
        serde_json::json!({"staging": 1, "production": 1})
    );

    // Policy file order: shop.yaml, then zz-audit.yaml, then builtin:noise.
    let files: Vec<&str> = report["suppressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file"].as_str().unwrap())
        .collect();
    let first = |file: &str| files.iter().position(|f| *f == file).unwrap();
    assert!(
        first(SHOP) < first(AUDIT) && first(AUDIT) < first(NOISE),
        "{files:?}"
    );
}

#[test]
fn audit_sums_counts_across_its_views() {
    let (repo, _) = demo_with_audit_policy();
    let output = repo.plumb().args(["audit", "-o", "json"]).output().unwrap();
    let report = support::stdout_json(&output);
    // The restart stamp is in Git and not in either cluster: drift of each environment, and the
    // parity of the pair, each ignored once by the same rule.
    let restart = entry(&report, "noise-rollout-restart", NOISE);
    assert_eq!(
        restart["decided"],
        serde_json::json!({"staging": 1, "production": 1, "staging,production": 1})
    );
    let sized = entry(&report, "sized-per-environment", SHOP);
    assert_eq!(
        sized["decided"],
        serde_json::json!({"staging,production": 16})
    );
    // One entry per rule as written, however many views judged with it.
    let entries = report["suppressions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["rule"] == "sized-per-environment")
        .count();
    assert_eq!(entries, 1);
}

#[test]
fn table_and_markdown_end_with_what_policies_hid() {
    let (repo, expiring) = demo_with_audit_policy();
    let table = repo
        .plumb()
        .args(["parity", "staging", "production", "--color", "never"])
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    let section: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("hidden by policy: "))
        .collect();
    // One line counts what hid findings and is not flagged; each flagged rule or waiver has a
    // line of its own, with where it is written.
    assert_eq!(
        section.first().copied(),
        Some(
            "hidden by policy: sized-per-environment 16, waiver of feature-flags-match 1, noise-rollout-restart 1"
        ),
        "{table}"
    );
    assert!(
        section.iter().any(|l| l
            .starts_with("  legacy-cronjobs (ignore)  policies/zz-audit.yaml:")
            && l.ends_with("[unused]")),
        "{section:#?}"
    );
    assert!(
        section.iter().any(|l| l
            .starts_with("  everything-in-sandbox (allow)  policies/zz-audit.yaml:")
            && l.ends_with("[unused, broad]")),
        "{section:#?}"
    );
    assert!(
        section
            .iter()
            .any(|l| l.starts_with("  waiver of readiness-probes")
                && l.ends_with(&format!("[expiring {expiring}]"))),
        "{section:#?}"
    );
    // Shipped noise rules that hid nothing stay out of the table.
    assert!(!table.contains("noise-status"), "{table}");

    let markdown = repo
        .plumb()
        .args(["parity", "staging", "production", "-o", "markdown"])
        .output()
        .unwrap();
    let markdown = String::from_utf8(markdown.stdout).unwrap();
    let start = markdown
        .find("<details><summary><b>Hidden by policy</b>")
        .unwrap_or_else(|| panic!("{markdown}"));
    let section = &markdown[start..];
    assert!(
        section.contains(
            "- sized-per-environment (allow) · policies/shop.yaml:4 · staging,production: 16\n"
        ),
        "{section}"
    );
    assert!(
        section.contains(
            "- everything-in-sandbox (allow) · policies/zz-audit.yaml:7 · **unused, broad**\n"
        ),
        "{section}"
    );
    assert!(section.trim_end().ends_with("</details>"), "{section}");
}
