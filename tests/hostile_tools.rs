//! What comes from tools, credentials and the cache, when it is hostile or broken, end to end: the
//! real plumb binary, the real pinned helm (3 and 4) and kubectl, real Git repositories, the fake
//! API server. A tool's stderr never carries a secret into any output; a failing credential
//! plugin costs its environment, not the audit; the render cache is private and checked; a Git
//! submodule is followed or said, never skipped.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use support::fake_apiserver::{FakeApiServer, Switches, kubeconfig};
use support::{Repo, demo_repo, fixtures, stdout_json, tool, write_script};

/// Every byte plumb printed, and every file it wrote, must be free of `marker`.
fn assert_nowhere(marker: &str, output: &Output, files: &[PathBuf], what: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stdout.contains(marker),
        "{what}: stdout holds {marker}:\n{stdout}"
    );
    assert!(
        !stderr.contains(marker),
        "{what}: stderr holds {marker}:\n{stderr}"
    );
    for file in files {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("{what}: {} was not written: {e}", file.display()));
        assert!(
            !text.contains(marker),
            "{what}: {} holds {marker}",
            file.display()
        );
    }
}

const LIVE: &str = r#"{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "ConfigMap",
   "metadata": {"name": "settings", "namespace": "shop"}, "data": {"region": "eu"}}]}"#;

/// A repository whose `staging` has a plain manifest and `extra` (a source given by the test).
fn repo_with_source(source: &str) -> Repo {
    let repo = Repo::new();
    repo.write(
        "plumb.yaml",
        &format!(
            "version: 1\nenvironments:\n  staging:\n    namespace: shop\n    sources:\n      - manifests: base\n      - {source}\n    live: {{snapshot: live.json}}\n"
        ),
    )
    .write(
        "base/settings.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {region: eu}\n",
    )
    .write("live.json", LIVE)
    .write(
        "chart/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    )
    .write(
        "chart/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: \"{{ .Values.a }}\"}\n",
    );
    repo.commit("fixture");
    repo
}

/// Runs every command and format that prints a render error, at every verbosity, with `--report` and
/// `--metrics` files, and checks that `marker` is nowhere while the render error itself is
/// reported (`expect` in the JSON report's error message).
fn assert_render_error_never_leaks(repo: &Repo, helm: &Path, marker: &str, expect: &str) {
    let plumb = || {
        let mut cmd = repo.plumb();
        cmd.env("PLUMB_HELM", helm)
            .env("PLUMB_KUSTOMIZE", tool("kubectl"));
        cmd
    };
    let out_dir = tempfile::tempdir().unwrap();
    let report = stdout_json(
        &plumb()
            .args(["drift", "staging", "-o", "json"])
            .output()
            .unwrap(),
    );
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["kind"], "render");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains(expect), "{expect:?} not in {message}");
    assert!(message.contains("[redacted]"), "{message}");
    for format in ["table", "json", "markdown", "sarif", "junit"] {
        for verbosity in [None, Some("-v"), Some("-vv")] {
            let file = out_dir.path().join(format!("report.{format}"));
            let metrics = out_dir.path().join("metrics.prom");
            let mut args = vec!["drift", "staging", "-o", format];
            args.extend(verbosity);
            let output = plumb().args(&args).output().unwrap();
            assert_eq!(output.status.code(), Some(3), "{args:?}");
            assert_nowhere(marker, &output, &[], &format!("{args:?}"));
            let file_arg = file.display().to_string();
            let metrics_arg = metrics.display().to_string();
            let report_arg = format!("{format}={file_arg}");
            args.extend(["--report", &report_arg, "--metrics", &metrics_arg]);
            let output = plumb().args(&args).output().unwrap();
            assert_eq!(output.status.code(), Some(3), "{args:?}");
            assert_nowhere(marker, &output, &[file, metrics], &format!("{args:?}"));
        }
    }
    for args in [
        vec!["audit", "-o", "json", "-vv"],
        vec!["audit", "-o", "markdown"],
        vec!["render", "staging", "-vv"],
        vec!["render", "staging"],
    ] {
        let output = plumb().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(3), "{args:?}");
        assert_nowhere(marker, &output, &[], &format!("{args:?}"));
    }
    // The debug log does show the tool's stderr — scrubbed.
    let output = plumb().args(["render", "staging", "-vv"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("stderr of the failed render (scrubbed)"),
        "{stderr}"
    );
}

#[test]
fn a_mistyped_secret_generator_literal_never_leaves_through_kustomize_stderr() {
    let repo = repo_with_source("kustomize: apps/secret");
    repo.write(
        "apps/secret/kustomization.yaml",
        "secretGenerator:\n  - name: db\n    literals: [\"password:hunter2-marker\"]\n",
    );
    repo.commit("typo");
    // Without the scrubber kustomize's own message would carry it: make sure it still fails so.
    let direct = std::process::Command::new(tool("kubectl"))
        .args(["kustomize", "apps/secret"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&direct.stderr).contains("hunter2-marker"));
    assert_render_error_never_leaks(
        &repo,
        &tool("helm4"),
        "hunter2-marker",
        "invalid literal source",
    );
}

#[test]
fn secret_generator_env_files_and_secret_manifests_are_scrubbed_too() {
    let repo = repo_with_source("kustomize: apps/secret");
    repo.write(
        "apps/secret/kustomization.yaml",
        "resources: [secret.yaml]\nsecretGenerator:\n  - name: db\n    envs: [db.env]\n    files: [key.pem]\n",
    )
    .write("apps/secret/db.env", "PASSWORD=env-file-marker-1\n")
    .write("apps/secret/key.pem", "file-marker-3\n")
    .write(
        "apps/secret/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: manifest-marker-2}\ndata: {b: ZGF0YS1tYXJrZXItNA==}\n",
    );
    repo.commit("env");
    // A kustomize that fails echoing every input it read, as a tool may.
    let bin = tempfile::tempdir().unwrap();
    let echoing = write_script(
        bin.path(),
        "kubectl",
        &format!(
            "if [ \"$1\" = version ]; then exec {} \"$@\"; fi\ncat apps/secret/* >&2\necho data-marker-4 >&2\nexit 1\n",
            tool("kubectl").display()
        ),
    );
    let output = repo
        .plumb()
        .env("PLUMB_KUSTOMIZE", &echoing)
        .args(["render", "staging", "-vv"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("kind: Secret"));
    for marker in [
        "env-file-marker-1",
        "manifest-marker-2",
        "file-marker-3",
        "data-marker-4",
        "ZGF0YS1tYXJrZXItNA",
    ] {
        assert_nowhere(marker, &output, &[], "render");
    }
}

#[test]
fn a_malformed_set_key_never_leaves_through_helm_stderr_with_helm_4_and_3() {
    let repo = repo_with_source(
        "helm: {chart: chart, set: {\"a[x]\": \"helm-marker-value\", b: {nested: \"nested-marker\"}}}",
    );
    for helm in [tool("helm4"), tool("helm3")] {
        // helm echoes the value itself.
        let direct = std::process::Command::new(&helm)
            .args([
                "template",
                "w",
                "chart",
                "--set-json",
                "a[x]=\"helm-marker-value\"",
            ])
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&direct.stderr).contains("helm-marker-value"));
        assert_render_error_never_leaks(&repo, &helm, "helm-marker-value", "helm failed");
    }
}

/// The demo reading staging and production from fake clusters; production's kubeconfig user
/// given by the test.
struct Clusters {
    repo: Repo,
    _staging: FakeApiServer,
    _production: FakeApiServer,
}

fn demo_objects(env: &str) -> Vec<Value> {
    let text =
        std::fs::read_to_string(fixtures().join(format!("demo/snapshots/{env}.json"))).unwrap();
    let list: Value = serde_json::from_str(&text).unwrap();
    list["items"].as_array().unwrap().clone()
}

impl Clusters {
    fn start(production_user: &str) -> Clusters {
        let repo = demo_repo();
        let staging = FakeApiServer::start(demo_objects("staging"), Switches::default());
        let production = FakeApiServer::start(demo_objects("production"), Switches::default());
        let config = std::fs::read_to_string(repo.path().join("plumb.yaml"))
            .unwrap()
            .replace("snapshot: snapshots/staging.json", "context: staging")
            .replace("snapshot: snapshots/production.json", "context: production");
        repo.write("plumb.yaml", &config);
        let kubeconfig = kubeconfig(&[
            ("staging", &staging.url()),
            ("production", &production.url()),
        ])
        .replace(
            "cluster: production\n      user: tester",
            "cluster: production\n      user: production-user",
        ) + &format!("  - name: production-user\n    user:\n{production_user}");
        repo.write("kubeconfig", &kubeconfig);
        Clusters {
            repo,
            _staging: staging,
            _production: production,
        }
    }

    fn plumb(&self, args: &[&str]) -> Output {
        self.repo
            .plumb()
            .env("KUBECONFIG", self.repo.path().join("kubeconfig"))
            .args(args)
            .output()
            .unwrap()
    }
}

#[test]
fn a_failing_credential_plugin_is_an_auth_error_of_its_environment_and_the_audit_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = write_script(
        dir.path(),
        "credential-plugin",
        "echo 'error: token expired, log in again' >&2\n\
         echo 'refresh token sk-live-PLUGINMARKER9f8e7d6c rejected' >&2\n\
         echo 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJNQVJLRVIifQ.c2ln' >&2\n\
         echo '{\"status\": {\"token\": \"STDOUTMARKER-123456\"}}'\n\
         exit 1\n",
    );
    let clusters = Clusters::start(&format!(
        "      exec:\n        apiVersion: client.authentication.k8s.io/v1\n        command: {}\n        args: [--secret-arg, ARGMARKER-424242]\n        interactiveMode: Never\n",
        plugin.display()
    ));
    let staging_alone = stdout_json(&clusters.plumb(&["drift", "staging", "-o", "json"]));
    for verbosity in ["-q", "-v", "-vv"] {
        let output = clusters.plumb(&["audit", "-o", "json", verbosity]);
        assert_eq!(
            output.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        for marker in [
            "PLUGINMARKER",
            "eyJhbGciOiJIUzI1NiJ9",
            "STDOUTMARKER",
            "ARGMARKER",
        ] {
            assert_nowhere(marker, &output, &[], &format!("audit {verbosity}"));
        }
        let report = stdout_json(&output);
        let errors = report["errors"].as_array().unwrap();
        let auth: Vec<&Value> = errors.iter().filter(|e| e["kind"] == "auth").collect();
        assert_eq!(auth.len(), 1, "{errors:#?}");
        assert_eq!(auth[0]["env"], "production");
        let message = auth[0]["message"].as_str().unwrap();
        assert!(message.contains("token expired"), "{message}");
        assert!(message.contains("context") || message.contains("cluster `production`"));
        assert!(
            errors.iter().all(|e| e["env"] == "production"),
            "{errors:#?}"
        );
        // Staging is still read and reported in full.
        let ids = support::texts_of(&report["findings"], "id");
        let staging_drift: Vec<&Value> = staging_alone["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "drift")
            .collect();
        assert!(!staging_drift.is_empty());
        for finding in staging_drift {
            assert!(ids.contains(&finding["id"].as_str().unwrap()), "{finding}");
        }
    }
    // And drift of production alone is incomplete, not bad input.
    let output = clusters.plumb(&["drift", "production", "-o", "table"]);
    assert_eq!(output.status.code(), Some(3));
    assert_nowhere("PLUGINMARKER", &output, &[], "drift production");
}

#[test]
fn a_malformed_kubeconfig_names_file_line_and_key_never_the_token() {
    for (case, user) in [
        ("wrong type", "      token: [TOKENMARKER-wrong-type]\n"),
        ("bad yaml", "      token: \"TOKENMARKER-unclosed\n"),
        (
            "a later bad key",
            "      token: TOKENMARKER-plain\n      tokenFile: {a: 1}\n",
        ),
    ] {
        let clusters = Clusters::start(user);
        for verbosity in ["-q", "-vv"] {
            let output = clusters.plumb(&["drift", "production", "-o", "json", verbosity]);
            assert_eq!(output.status.code(), Some(2), "{case}");
            assert_nowhere("TOKENMARKER", &output, &[], case);
            let stderr = String::from_utf8_lossy(&output.stderr);
            if verbosity == "-q" {
                continue;
            }
            assert!(stderr.contains("kubeconfig"), "{case}: {stderr}");
            assert!(stderr.contains("line "), "{case}: {stderr}");
            assert!(
                stderr.contains("key `token`") || stderr.contains("key `tokenFile`"),
                "{case}: {stderr}"
            );
        }
    }
}

/// helm wrapped to log each `helm template` to `calls.log`.
fn counting_helm(dir: &Path) -> (PathBuf, PathBuf) {
    let log = dir.join("calls.log");
    let helm = write_script(
        dir,
        "helm",
        &format!(
            "echo \"helm $1\" >> {}\nexec {} \"$@\"\n",
            log.display(),
            tool("helm4").display()
        ),
    );
    (helm, log)
}

fn templates(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| *l == "helm template")
        .count()
}

#[test]
fn a_tampered_cache_entry_is_rendered_again_and_an_open_cache_dir_is_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let repo = repo_with_source("helm: {chart: chart, set: {a: cached}}");
    let bin = tempfile::tempdir().unwrap();
    let (helm, log) = counting_helm(bin.path());
    let cache = repo.cache_dir();
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let render = || {
        let output = repo
            .plumb()
            .env("PLUMB_HELM", &helm)
            .args(["render", "staging"])
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let first = render();
    assert!(first.contains("a: cached"), "{first}");
    assert_eq!(templates(&log), 1);
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    assert_eq!(render(), first);
    assert_eq!(templates(&log), 1, "the second run comes from the cache");
    // Someone edits the cached output: the entry no longer matches its digest.
    let entries: Vec<PathBuf> = support::walk(&cache.join("renders"));
    assert_eq!(entries.len(), 1, "{entries:?}");
    let stored = std::fs::read_to_string(&entries[0]).unwrap();
    assert!(stored.contains("cached"));
    std::fs::write(&entries[0], stored.replace("cached", "planted")).unwrap();
    let third = render();
    assert_eq!(third, first, "the tampered entry is not believed");
    assert_eq!(templates(&log), 2, "a tampered entry is a miss");
    assert_eq!(render(), first);
    assert_eq!(templates(&log), 2, "the re-rendered entry is good again");
}

/// A repository whose `vendor/shared` is a submodule added as `git submodule add` does, holding
/// `deploy/shared.yaml` and a kustomization in `overlay/`; `staging` reads both.
fn repo_with_submodule() -> (Repo, Repo) {
    let upstream = Repo::new();
    upstream
        .write(
            "deploy/shared.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared-plain}\ndata: {a: b}\n",
        )
        .write(
            "overlay/kustomization.yaml",
            "resources: [cm.yaml]\nnamePrefix: kustomized-\n",
        )
        .write(
            "overlay/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {c: d}\n",
        );
    upstream.commit("shared");
    let repo = Repo::new();
    repo.write(
        "plumb.yaml",
        "version: 1\nenvironments:\n  staging:\n    namespace: shop\n    sources:\n      - manifests: vendor/shared/deploy\n      - kustomize: vendor/shared/overlay\n",
    );
    repo.commit("config");
    let git = git2::Repository::open(repo.path()).unwrap();
    let url = format!("file://{}", upstream.path().display());
    let mut sub = git
        .submodule(&url, Path::new("vendor/shared"), true)
        .unwrap();
    sub.clone(None).unwrap();
    sub.add_finalize().unwrap();
    let mut index = git.index().unwrap();
    let tree = git.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@example.invalid").unwrap();
    let head = git.head().unwrap().peel_to_commit().unwrap();
    git.commit(Some("HEAD"), &sig, &sig, "submodule", &tree, &[&head])
        .unwrap();
    (repo, upstream)
}

#[test]
fn a_submodule_is_followed_when_its_commit_is_there_and_an_error_when_not() {
    let (repo, upstream) = repo_with_submodule();
    let render = || {
        repo.plumb()
            .env("PLUMB_KUSTOMIZE", tool("kubectl"))
            .args(["render", "staging", "--no-cache"])
            .output()
            .unwrap()
    };
    let output = render();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("name: shared-plain"), "{stdout}");
    assert!(stdout.contains("name: kustomized-shared"), "{stdout}");
    // The submodule's objects gone (a clone without `--recurse-submodules`).
    std::fs::remove_dir_all(repo.path().join(".git/modules")).unwrap();
    std::fs::remove_dir_all(repo.path().join("vendor/shared")).unwrap();
    drop(upstream);
    let output = render();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for source in [
        "manifests: vendor/shared/deploy",
        "kustomize: vendor/shared/overlay",
    ] {
        assert!(stderr.contains(source), "{source} not in {stderr}");
    }
    assert!(
        stderr.contains("`vendor/shared` is a Git submodule"),
        "{stderr}"
    );
    repo.write("live.json", LIVE);
    let output = repo
        .plumb()
        .env("PLUMB_KUSTOMIZE", tool("kubectl"))
        .args(["drift", "staging", "--live", "live.json", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let report = stdout_json(&output);
    assert_eq!(report["summary"]["complete"], false);
    let kinds = support::texts_of(&report["errors"], "kind");
    assert_eq!(kinds, ["render", "render"]);
}
