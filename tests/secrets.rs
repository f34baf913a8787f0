//! No raw Secret value in any output, error or file plumb writes: the demo's known secret values
//! (fixtures/demo/SECRETS.txt), raw and base64-encoded, are searched for in everything.

mod support;

use base64::Engine;
use support::{demo_repo, fixtures, walk};

fn secret_values() -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join("demo/SECRETS.txt")).unwrap();
    let raw: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    assert!(raw.len() >= 3, "the demo must hold known secret values");
    let encoded = raw
        .iter()
        .map(|v| base64::engine::general_purpose::STANDARD.encode(v));
    raw.iter().cloned().chain(encoded).collect()
}

fn assert_clean(what: &str, text: &str) {
    for secret in secret_values() {
        assert!(
            !text.contains(&secret),
            "{what} leaks a secret value ({} chars):\n{text}",
            secret.len()
        );
    }
}

#[test]
fn the_demo_really_holds_the_secret_values() {
    // Guards the test below: if the fixtures stopped holding them, it would pass vacuously.
    let staging =
        std::fs::read_to_string(fixtures().join("demo/envs/staging/config.yaml")).unwrap();
    assert!(secret_values().iter().any(|s| staging.contains(s)));
}

#[test]
fn no_command_and_no_format_prints_a_secret() {
    let repo = demo_repo();
    let runs: Vec<Vec<&str>> = vec![
        vec!["render", "staging"],
        vec!["render", "production"],
        vec!["parity", "staging", "production"],
        vec!["parity", "staging", "production", "--live"],
        vec!["drift", "staging"],
        vec!["drift", "production"],
        vec!["audit"],
        vec![
            "compare",
            "--mode",
            "drift",
            "envs/production",
            "snapshots/production.json",
        ],
        vec![
            "compare",
            "--mode",
            "parity",
            "snapshots/staging.json",
            "snapshots/production.json",
        ],
    ];
    for args in runs {
        let formats: &[&str] = if args[0] == "render" {
            &["yaml", "json"]
        } else {
            &["table", "json", "markdown", "sarif", "junit", "html"]
        };
        for &format in formats {
            for color in ["never", "always"] {
                let output = repo
                    .plumb()
                    .args(&args)
                    .args(["-o", format, "--color", color, "-v"])
                    .output()
                    .unwrap();
                let code = output.status.code();
                assert!(
                    matches!(code, Some(0) | Some(1)),
                    "{args:?} exited {code:?}: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                assert_clean(
                    &format!("{args:?} -f {format} stdout"),
                    &String::from_utf8_lossy(&output.stdout),
                );
                assert_clean(
                    &format!("{args:?} -f {format} stderr"),
                    &String::from_utf8_lossy(&output.stderr),
                );
            }
        }
    }
    let out = repo.path().join("rendered");
    repo.plumb()
        .args(["render", "production", "--out-dir"])
        .arg(&out)
        .assert()
        .success();
    let files = walk(&out);
    assert!(files.len() > 10);
    for file in files {
        assert_clean(
            &file.display().to_string(),
            &std::fs::read_to_string(&file).unwrap(),
        );
    }
    let report = repo.path().join("report.json");
    repo.plumb()
        .args(["drift", "production"])
        .arg(format!("--report=json={}", report.display()))
        .assert()
        .code(1);
    assert_clean("report file", &std::fs::read_to_string(report).unwrap());
    // Markdown parts and the metrics file, written beside the report.
    for args in [
        vec!["drift", "production"],
        vec!["parity", "staging", "production"],
    ] {
        let comment = repo.path().join("comment.md");
        let metrics = repo.path().join("plumb.prom");
        repo.plumb()
            .args(&args)
            .arg(format!("--report=markdown={}", comment.display()))
            .arg("--metrics")
            .arg(&metrics)
            .assert()
            .code(1);
        let comment = std::fs::read_to_string(&comment).unwrap();
        if args[0] == "parity" {
            // The Secret's differences are there, as fingerprints.
            assert!(comment.contains("hmac-sha256:"), "{comment}");
        }
        assert_clean(&format!("{args:?} comment.md"), &comment);
        let metrics = std::fs::read_to_string(&metrics).unwrap();
        assert!(metrics.contains("plumb_findings{"), "{metrics}");
        assert_clean(&format!("{args:?} metrics"), &metrics);
    }
}

#[test]
fn errors_about_secrets_do_not_quote_their_values() {
    let repo = demo_repo();
    // A broken Secret manifest: the parse error must not echo the value around it.
    repo.write(
        "envs/staging/config.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  password: \"demo-not-a-real-password-42\n  user: [shop_staging\n",
    );
    repo.commit("broken secret");
    let output = repo.plumb().args(["render", "staging"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_clean("parse error", &String::from_utf8_lossy(&output.stderr));
    // Two Secrets with one identity: the message names places, not values.
    repo.write(
        "envs/staging/config.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {p: demo-not-a-real-password-42}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {p: shop_staging}\n",
    );
    repo.commit("duplicate secret");
    let output = repo.plumb().args(["render", "staging"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_clean("duplicate error", &String::from_utf8_lossy(&output.stderr));
}

#[test]
fn fingerprints_say_equal_or_different_without_values() {
    let repo = demo_repo();
    let output = repo
        .plumb()
        .args(["parity", "staging", "production", "-o", "json"])
        .output()
        .unwrap();
    let report = support::stdout_json(&output);
    let secret_findings: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"]["kind"] == "Secret")
        .collect();
    // Usernames differ; so do the hosts, as written (a pair's equivalents never reach Secret
    // values: they are compared as fingerprints alone); the password is shared, which the demo's
    // policy requires to differ.
    let by_path = |path: &str| *secret_findings.iter().find(|f| f["path"] == path).unwrap();
    assert_eq!(secret_findings.len(), 3, "{secret_findings:?}");
    let username = by_path("data.username");
    assert_eq!(username["change"], "changed");
    assert_ne!(username["left"], username["right"]);
    let host = by_path("data.host");
    assert_eq!(host["change"], "changed");
    let password = by_path("data.password");
    assert_eq!(password["change"], "equal");
    assert_eq!(password["status"], "violation");
    assert_eq!(password["left"], password["right"]);
    for finding in [username, host, password] {
        for side in ["left", "right"] {
            assert!(finding[side].as_str().unwrap().starts_with("hmac-sha256:"));
        }
    }
}

#[test]
fn policies_that_read_secrets_see_and_print_only_fingerprints() {
    let repo = demo_repo();
    // A condition and a check over Secret data: both fail to evaluate on purpose (comparing a
    // string with a number), so the value they read ends up in an error message — as a fingerprint.
    repo.write(
        "policies/zz-secrets.yaml",
        "version: 1\nrules:\n  - id: read-secret\n    match: {kinds: [Secret]}\n    paths: [data.*]\n    action: allow\n    condition: \"left > 5\"\nchecks:\n  - id: secret-size\n    match: {kinds: [Secret]}\n    assert: \"object.data.password > 5\"\n",
    );
    for args in [
        vec!["parity", "staging", "production"],
        vec!["drift", "production"],
    ] {
        let output = repo
            .plumb()
            .args(&args)
            .args(["-o", "json"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(3), "{args:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        if args[0] == "parity" {
            assert!(stdout.contains("hmac-sha256:"), "{stdout}");
        }
        assert_clean(&format!("{args:?} stdout"), &stdout);
        assert_clean(
            &format!("{args:?} stderr"),
            &String::from_utf8_lossy(&output.stderr),
        );
    }
    // Policy tests with a Secret case: the output names paths and outcomes only.
    let secret = |password: &str| {
        format!(
            "{{apiVersion: v1, kind: Secret, metadata: {{name: db}}, stringData: {{password: \"{password}\"}}}}"
        )
    };
    let raw = secret_values()[0].clone();
    repo.write(
        "policy-tests/secrets.yaml",
        &format!(
            "version: 1\npolicies: [../policies/shop.yaml]\ncases:\n  - name: shared\n    left: {}\n    right: {}\n    expect: {{data.password: expected}}\n",
            secret(&raw),
            secret(&raw)
        ),
    );
    let output = repo
        .plumb()
        .args(["policy", "test", "policy-tests"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "the shared password is a violation"
    );
    assert_clean(
        "policy test stdout",
        &String::from_utf8_lossy(&output.stdout),
    );
    assert_clean(
        "policy test stderr",
        &String::from_utf8_lossy(&output.stderr),
    );
}

#[test]
fn promotion_paths_into_secrets_never_reach_a_report_or_the_history_cache() {
    let repo = demo_repo();
    // A config that asks for versions everywhere, Secrets' data included.
    let config = std::fs::read_to_string(repo.path().join("plumb.yaml")).unwrap();
    repo.write(
        "plumb.yaml",
        &format!("{config}promotion_paths: [\"data.*\", \"stringData.*\"]\n"),
    );
    repo.commit("versions everywhere");
    for args in [
        vec!["matrix", "-o", "json"],
        vec!["matrix", "-o", "markdown"],
        vec!["matrix", "--color", "always"],
        vec!["parity", "staging", "production", "-o", "json", "-v"],
    ] {
        let output = repo.plumb().args(&args).output().unwrap();
        assert!(
            matches!(output.status.code(), Some(0) | Some(1)),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_clean(
            &format!("{args:?} stdout"),
            &String::from_utf8_lossy(&output.stdout),
        );
        assert_clean(
            &format!("{args:?} stderr"),
            &String::from_utf8_lossy(&output.stderr),
        );
        if args[0] == "matrix" && args[2] == "json" {
            // ConfigMap data became versions (so the paths were really read).
            let text = String::from_utf8_lossy(&output.stdout);
            assert!(text.contains("data.LOG_LEVEL"), "{text}");
        }
    }
    // The history cache holds versions per commit: none from a Secret.
    let history: Vec<_> = walk(&repo.cache_dir())
        .into_iter()
        .filter(|f| f.to_string_lossy().contains("history"))
        .collect();
    assert!(!history.is_empty(), "the history cache was written");
    for file in history {
        assert_clean(
            &file.display().to_string(),
            &String::from_utf8_lossy(&std::fs::read(&file).unwrap()),
        );
    }
}
