//! Hostile input meets plumb's outputs, end to end with the real binary: names that try to be
//! paths, files that would overwrite each other, symbolic links planted in an output directory,
//! control characters bound for a terminal, a report nobody receives, and Secrets fingerprinted
//! under another key.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use support::fake_apiserver::{FakeApiServer, Switches, kubeconfig};
use support::{Repo, stdout_json, walk};

const CONFIG: &str = "version: 1
environments:
  prod:
    namespace: shop
    sources:
      - manifests: envs/prod
";

/// A repository whose `prod` environment is `manifests`, committed.
fn repo_with(manifests: &str) -> Repo {
    let repo = Repo::new();
    repo.write("plumb.yaml", CONFIG)
        .write("envs/prod/objects.yaml", manifests);
    repo.commit("objects");
    repo
}

fn run(repo: &Repo, args: &[&str]) -> std::process::Output {
    repo.plumb().args(args).output().expect("plumb runs")
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every file below `dir`, relative to it.
fn files_below(dir: &Path) -> Vec<String> {
    if !dir.exists() {
        return Vec::new();
    }
    walk(dir)
        .iter()
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// render --out-dir

#[test]
fn names_that_are_paths_are_bad_input_naming_the_file_line_kind_and_rule() {
    let cases = [
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: /etc\n",
            "ConfigMap `a`: metadata.namespace `/etc`",
            "a namespace must be a DNS-1123 label",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ../../x\n",
            "ConfigMap `../../x`: metadata.name `../../x`",
            "a ConfigMap name must be a DNS-1123 subdomain",
        ),
        (
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: a.b\n",
            "Service `a.b`",
            "a Service name must be a DNS-1123 label",
        ),
        (
            "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: ..\n",
            "example.com/Widget `..`",
            "must be a path segment",
        ),
    ];
    for (manifest, what, rule) in cases {
        let repo = repo_with(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ok}}\n---\n{manifest}"
        ));
        let out = repo.path().join("rendered");
        for args in [
            vec!["render", "prod", "--out-dir", out.to_str().unwrap()],
            vec!["render", "prod", "--out-dir", out.to_str().unwrap()],
        ] {
            let output = run(&repo, &args);
            let text = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{manifest}: {text}");
            assert!(text.contains("envs/prod/objects.yaml:5"), "{text}");
            assert!(text.contains(what), "{what}: {text}");
            assert!(text.contains(rule), "{rule}: {text}");
            assert_eq!(files_below(&out), Vec::<String>::new(), "nothing written");
        }
        assert!(!repo.path().join("x").exists() && !repo.path().join("../x").exists());
    }
}

#[test]
fn a_name_kubernetes_allows_but_a_path_cannot_hold_is_refused_by_the_writer() {
    // RBAC names follow the path-segment rule, which allows `\` (a separator on Windows).
    let repo = repo_with(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: 'a\\..\\..\\x'\n",
    );
    let out = repo.path().join("rendered");
    let output = run(
        &repo,
        &["render", "prod", "--out-dir", out.to_str().unwrap()],
    );
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("refusing to write")
            && text.contains("cannot be part of a file path: it holds a path separator"),
        "{text}"
    );
    assert_eq!(files_below(&out), Vec::<String>::new());
    // The same file under stdout is fine: the name is valid, only the path is not.
    let output = run(&repo, &["render", "prod"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn kinds_that_share_a_name_across_api_groups_get_a_file_each() {
    let repo = repo_with(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {core: 'yes'}\n---\n\
         apiVersion: example.com/v1\nkind: ConfigMap\nmetadata: {name: settings}\nspec: {custom: 'yes'}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: 'system:reader'}\n",
    );
    // DIR and its parents are created.
    let out = repo.path().join("deep/rendered");
    let output = run(
        &repo,
        &["render", "prod", "--out-dir", out.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let mut files = files_below(&out);
    files.sort();
    assert_eq!(
        files,
        [
            "_cluster/clusterrole.rbac.authorization.k8s.io-system:reader.yaml",
            "shop/configmap-settings.yaml",
            "shop/configmap.example.com-settings.yaml",
        ]
    );
    let core = std::fs::read_to_string(out.join("shop/configmap-settings.yaml")).unwrap();
    let custom =
        std::fs::read_to_string(out.join("shop/configmap.example.com-settings.yaml")).unwrap();
    assert!(core.contains("core:") && !core.contains("custom"), "{core}");
    assert!(
        custom.contains("custom:") && custom.contains("example.com/v1"),
        "{custom}"
    );
    // Rendering again replaces the files of the earlier render.
    let output = run(
        &repo,
        &["render", "prod", "--out-dir", out.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(files_below(&out).len(), 3);
}

#[cfg(unix)]
#[test]
fn symbolic_links_planted_in_the_output_directory_are_never_followed() {
    let repo = repo_with("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n");
    let elsewhere = tempfile::tempdir().unwrap();
    let victim = elsewhere.path().join("victim");
    std::fs::write(&victim, "untouched").unwrap();

    // A namespace folder that is a link to another directory.
    let out = repo.path().join("linked-folder");
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), out.join("shop")).unwrap();
    let output = run(
        &repo,
        &["render", "prod", "--out-dir", out.to_str().unwrap()],
    );
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("it is a symbolic link"), "{text}");
    assert_eq!(files_below(elsewhere.path()), ["victim"]);

    // A file that is a link to a file elsewhere.
    let out = repo.path().join("linked-file");
    std::fs::create_dir_all(out.join("shop")).unwrap();
    std::os::unix::fs::symlink(&victim, out.join("shop/configmap-a.yaml")).unwrap();
    let output = run(
        &repo,
        &["render", "prod", "--out-dir", out.to_str().unwrap()],
    );
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("it is a symbolic link"), "{text}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
}

#[test]
fn live_objects_are_never_refused_for_their_names() {
    let repo = Repo::new();
    repo.write(
        "git/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\n",
    )
    .write(
        "live/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\n---\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Legacy_Name, namespace: shop}\n",
    );
    let output = run(
        &repo,
        &["compare", "git", "live", "--mode", "drift", "-o", "json"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = stdout_json(&output);
    assert_eq!(report["findings"][0]["kind"], "unmanaged");
    assert_eq!(report["findings"][0]["resource"]["name"], "Legacy_Name");
    // The same object declared in Git is bad input.
    let output = run(
        &repo,
        &["compare", "live", "git", "--mode", "drift", "-o", "json"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("`Legacy_Name`"));
}

// ---------------------------------------------------------------------------------------------
// The table on a terminal

#[test]
fn the_table_never_writes_control_characters_from_input() {
    let repo = Repo::new();
    let configmap = |value: &str, multi: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg, namespace: shop}}\ndata: {{plain: {}, \"key\\e[31m\": {}, text: {}}}\n",
            serde_json::to_string(value).unwrap(),
            serde_json::to_string(value).unwrap(),
            serde_json::to_string(multi).unwrap(),
        )
    };
    repo.write("left/cm.yaml", &configmap("calm", "a=1\nb=2\nc=3\n"))
        .write(
            "right/cm.yaml",
            &configmap("x\u{1b}[2J\rhidden", "a=1\nb=\u{1b}[2J\r5\nc=3\n"),
        )
        // A live-only object whose name holds an escape: live names are never refused.
        .write(
            "right/odd.yaml",
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: \"w\\e]0;owned\\a\", namespace: shop}\n",
        );
    let output = run(
        &repo,
        &[
            "compare",
            "left",
            "right",
            "--mode",
            "drift",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\r') && !text.contains('\u{7}'),
        "{text:?}"
    );
    // A value with control characters is shown as its JSON string, as in every format.
    assert!(text.contains(r#"live: "x\u001b[2J\rhidden""#), "{text}");
    assert!(text.contains(r#"data["key\u001b[31m"]"#), "{text}");
    // Multi-line values are still a line diff; the controls inside a line are made visible.
    assert!(
        text.contains("- b=2") && text.contains(r"+ b=\u{001b}[2J\u{000d}"),
        "{text}"
    );
    assert!(text.contains(r"w\u{001b}]0;owned\u{0007}"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// A report nobody receives

/// `plumb compare` of two differing files, stdout connected to `stdout`.
fn compare_into(stdout: Stdio) -> std::process::Output {
    let repo = Repo::new();
    repo.write(
        "l.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: '1'}\n",
    )
    .write(
        "r.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: '2'}\n",
    );
    std::process::Command::new(env!("CARGO_BIN_EXE_plumb"))
        .current_dir(repo.path())
        .env("PLUMB_FINGERPRINT_KEY", "test-key")
        .args(["compare", "l.yaml", "r.yaml", "--fail-on", "never"])
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("plumb runs")
}

fn assert_lost(output: &std::process::Output) {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("cannot write the report to stdout:"),
        "{text}"
    );
}

#[test]
fn a_report_that_cannot_be_written_is_exit_2_not_success() {
    // stdout is the read end of a pipe: writing fails with EBADF.
    let (reader, _writer) = std::io::pipe().unwrap();
    assert_lost(&compare_into(Stdio::from(reader)));
    // Nobody reads the pipe any more (`| head` that has exited): EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    assert_lost(&compare_into(Stdio::from(writer)));
    // Without the report on stdout, the same run is fine.
    assert_eq!(compare_into(Stdio::null()).status.code(), Some(0));
}

#[cfg(target_os = "linux")]
#[test]
fn a_closed_stdout_is_exit_2_not_success() {
    let repo = Repo::new();
    repo.write(
        "l.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    );
    let output = std::process::Command::new("sh")
        .current_dir(repo.path())
        .arg("-c")
        .arg(format!(
            "exec {} compare l.yaml l.yaml >&-",
            env!("CARGO_BIN_EXE_plumb")
        ))
        .output()
        .expect("sh runs");
    assert_lost(&output);
    assert!(stderr(&output).contains("it was closed when plumb started"));
}

// ---------------------------------------------------------------------------------------------
// Secrets fingerprinted under another key

#[test]
fn a_snapshot_taken_under_another_key_compares_no_secret_values() {
    let secret = |labels: Value, data: Value| {
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "db", "namespace": "shop", "labels": labels},
               "type": "Opaque", "data": data})
    };
    // base64 of `s3cret` and `other`.
    let live = vec![
        secret(
            json!({"tier": "hand-edited"}),
            json!({"PASSWORD": "czNjcmV0", "USER": "b3RoZXI="}),
        ),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop"}, "data": {"a": "1"}}),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
    ];
    let server = FakeApiServer::start(live, Switches::default());
    let repo = Repo::new();
    repo.write(
        "plumb.yaml",
        "version: 1\nenvironments:\n  prod:\n    namespace: shop\n    sources:\n      - manifests: envs/prod\n    live:\n      context: prod\n",
    )
    .write(
        "envs/prod/objects.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db, labels: {tier: db}}\ntype: Opaque\nstringData: {PASSWORD: s3cret, USER: other}\n---\n\
         apiVersion: v1\nkind: Secret\nmetadata: {name: gone}\nstringData: {TOKEN: t}\n---\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: '1'}\n",
    )
    .write("kubeconfig", &kubeconfig(&[("prod", &server.url())]));
    repo.commit("objects");
    let plumb = |key: &str, args: &[&str]| {
        repo.plumb()
            .env("KUBECONFIG", repo.path().join("kubeconfig"))
            .env("PLUMB_FINGERPRINT_KEY", key)
            .args(args)
            .output()
            .unwrap()
    };
    let file = repo.path().join("snapshot.json");
    let output = plumb(
        "key-one",
        &["snapshot", "prod", "--out-file", file.to_str().unwrap()],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}\n{}",
        stderr(&output),
        std::fs::read_to_string(&file).unwrap_or_default()
    );
    let drift = |key: &str, code: i32| {
        let output = plumb(
            key,
            &[
                "drift",
                "prod",
                "--live",
                file.to_str().unwrap(),
                "-o",
                "json",
            ],
        );
        assert_eq!(output.status.code(), Some(code), "{}", stderr(&output));
        let report = stdout_json(&output);
        let mut findings: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {} {}",
                    f["kind"].as_str().unwrap(),
                    f["resource"]["name"].as_str().unwrap(),
                    f["path"].as_str().unwrap_or("")
                )
            })
            .collect();
        findings.sort();
        (report, findings)
    };
    // The same key: the values compare, and they are equal.
    let (same, findings) = drift("key-one", 1);
    assert_eq!(
        findings,
        ["drift db metadata.labels.tier", "missing gone "],
        "{same}"
    );
    assert_eq!(same["errors"], json!([]));
    // Another key: one `fingerprint` error, incomplete (exit 3); no Secret value is compared, the
    // Secrets still pair (the label drifts, `gone` is missing).
    let (other, findings) = drift("key-two", 3);
    assert_eq!(
        findings,
        ["drift db metadata.labels.tier", "missing gone "],
        "{other}"
    );
    let errors = other["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{other}");
    assert_eq!(errors[0]["kind"], "fingerprint");
    assert_eq!(other["summary"]["complete"], false);
}
