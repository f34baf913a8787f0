//! Rendering Helm charts and Kustomize overlays with the real, pinned tools (scripts/install-tools):
//! Helm 4 and Helm 3, kubectl's kustomize. A missing tool fails these tests; they never skip.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Output;
use support::{
    Repo, counting_tools, finding_lines, fixtures, line_holding, stdout_json, tool, tool_calls,
    write_script,
};

/// A Git repository holding a copy of fixtures/render.
fn fixture_repo() -> Repo {
    let repo = Repo::new();
    repo.copy_dir(&fixtures().join("render"), "");
    repo.commit("render fixture");
    repo
}

fn run(repo: &Repo, helm: &Path, args: &[&str]) -> Output {
    repo.plumb()
        .env("PLUMB_HELM", helm)
        .env("PLUMB_KUSTOMIZE", tool("kubectl"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn finding<'a>(report: &'a Value, kind: &str, name: &str, path: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["resource"]["kind"] == kind && f["resource"]["name"] == name && f["path"] == path
        })
        .unwrap_or_else(|| panic!("no finding {kind}/{name} {path} in {report:#}"))
}

/// What the fixture's staging and production differ in, rendered by either Helm.
fn parity_of_the_fixture(helm: &Path, helm_version: &str) {
    let repo = fixture_repo();
    let output = run(
        &repo,
        helm,
        &[
            "parity",
            "staging",
            "production",
            "-o",
            "json",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = stdout_json(&output);
    assert_eq!(report["errors"], serde_json::json!([]));
    assert_eq!(report["summary"]["complete"], true);
    assert_eq!(report["summary"]["resources"]["staging"], 7);
    assert_eq!(report["summary"]["resources"]["production"], 8);
    // The hash-suffixed ConfigMaps pair (their LOG_LEVEL differs, so their suffixes do); namePrefix
    // per environment pairs through the equivalents; the hostname is an equivalent; the test hook is
    // not rendered; the vendored subchart is on only in production.
    assert_eq!(
        finding_lines(&report),
        [
            "only-in StatefulSet/shop-cache ",
            "parity ConfigMap/prod-api-config-7247bmgbt2 data.LOG_LEVEL",
            "parity Deployment/prod-api spec.replicas",
            "parity Deployment/shop-web spec.replicas",
            "parity Deployment/shop-web spec.template.spec.containers[name=web].env[name=LOG_LEVEL].value",
            "parity Deployment/shop-web spec.template.spec.containers[name=web].image",
            "parity Deployment/shop-web spec.template.spec.containers[name=web].resources.requests.cpu",
            "parity Deployment/shop-web spec.template.spec.containers[name=web].resources.requests.memory",
        ]
    );
    let image = finding(
        &report,
        "Deployment",
        "shop-web",
        "spec.template.spec.containers[name=web].image",
    );
    assert_eq!(
        image["left"], "registry.example.com/shop/web:1.4.0",
        "--set image.tag"
    );
    assert_eq!(image["right"], "registry.example.com/shop/web:1.3.9");
    let log = finding(
        &report,
        "Deployment",
        "shop-web",
        "spec.template.spec.containers[name=web].env[name=LOG_LEVEL].value",
    );
    assert_eq!(
        (&log["left"], &log["right"]),
        (&"debug".into(), &"info".into()),
        "values files layered in order"
    );
    // Findings point at files in Git: the template, the subchart's template, the kustomization
    // that generated the ConfigMap, the base file of a patched Deployment.
    let source = |kind: &str, name: &str, path: &str| {
        finding(&report, kind, name, path)["source"]["file"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        source("Deployment", "shop-web", "spec.replicas"),
        "charts/shop/templates/deployment.yaml"
    );
    assert_eq!(
        source("StatefulSet", "shop-cache", ""),
        "charts/shop/charts/cache/templates/statefulset.yaml"
    );
    assert_eq!(
        source("ConfigMap", "prod-api-config-7247bmgbt2", "data.LOG_LEVEL"),
        "apps/api/base/kustomization.yaml"
    );
    assert_eq!(
        source("Deployment", "prod-api", "spec.replicas"),
        "apps/api/base/deployment.yaml"
    );
    assert_eq!(report["inputs"]["tools"]["helm"], helm_version);
    assert_eq!(
        report["inputs"]["tools"]["kubectl kustomize"],
        "kubectl v1.35.2 (kustomize v5.7.1)"
    );
}

#[test]
fn helm_4_and_kustomize_render_the_fixture() {
    parity_of_the_fixture(&tool("helm4"), "v4.1.4");
}

#[test]
fn helm_3_and_kustomize_render_the_fixture() {
    parity_of_the_fixture(&tool("helm3"), "v3.17.2");
}

#[test]
fn render_writes_one_file_per_object_without_tool_annotations() {
    let repo = fixture_repo();
    let out = repo.path().join("out");
    let output = run(
        &repo,
        &tool("helm4"),
        &["render", "production", "--out-dir", out.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let mut files: Vec<String> = support::walk(&out)
        .iter()
        .map(|p| p.strip_prefix(&out).unwrap().display().to_string())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "shop/configmap-prod-api-config-7247bmgbt2.yaml",
            "shop/deployment.apps-prod-api.yaml",
            "shop/deployment.apps-shop-web.yaml",
            "shop/secret-prod-api-token-dtc9fhgfm5.yaml",
            "shop/service-prod-api-metrics.yaml",
            "shop/service-prod-api.yaml",
            "shop/service-shop-web.yaml",
            "shop/statefulset.apps-shop-cache.yaml",
        ]
    );
    let all: String = support::walk(&out)
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(!all.contains("config.kubernetes.io/origin"), "{all}");
    // A generated Secret: its value never leaves plumb, raw or base64.
    assert!(!all.contains("s3cr3t-render-token") && !all.contains("czNjcjN0LXJlbmRlci10b2tlbg"));
    assert!(all.contains("API_TOKEN: hmac-sha256:"), "{all}");
    assert!(!all.contains("test-connection"), "test hooks are skipped");
    let cache = std::fs::read_to_string(out.join("shop/statefulset.apps-shop-cache.yaml")).unwrap();
    assert!(
        cache.contains("memory: 256Mi"),
        "parent values reach the subchart: {cache}"
    );
    let api = std::fs::read_to_string(out.join("shop/deployment.apps-prod-api.yaml")).unwrap();
    assert!(
        api.contains("prometheus.io/scrape"),
        "the component's patch applies: {api}"
    );
    assert!(
        api.contains("replicas: 4"),
        "the overlay's patch applies: {api}"
    );

    // `-o -`: one multi-document stream of the same objects.
    let output = run(&repo, &tool("helm4"), &["render", "production"]);
    assert_eq!(output.status.code(), Some(0));
    let stream = String::from_utf8(output.stdout).unwrap();
    let documents = plumb::yaml::parse_documents(&stream, "stdout").unwrap();
    assert_eq!(documents.len(), 8);
    assert!(!stream.contains("czNjcjN0LXJlbmRlci10b2tlbg"));
}

#[test]
fn failed_renders_are_errors_of_their_source_and_the_rest_is_still_compared() {
    let repo = fixture_repo();
    repo.write(
        "live.json",
        r#"{"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "platform-settings", "namespace": "shop-broken"},
             "data": {"region": "us-east-1"}}]}"#,
    );
    let output = run(
        &repo,
        &tool("helm4"),
        &["drift", "broken", "--live", "live.json", "-o", "json"],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let report = stdout_json(&output);
    assert_eq!(report["summary"]["complete"], false);
    assert_eq!(
        finding_lines(&report),
        ["drift ConfigMap/platform-settings data.region"]
    );
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    for e in errors {
        assert_eq!(e["env"], "broken");
        assert_eq!(e["kind"], "render");
    }
    assert_eq!(errors[0]["source"], "helm: charts/broken");
    let helm = errors[0]["message"].as_str().unwrap();
    for needle in [
        "environment `broken`",
        "helm: charts/broken",
        "helm failed",
        "broken: .Values.endpoint is required",
    ] {
        assert!(helm.contains(needle), "{needle:?} not in {helm}");
    }
    assert!(
        !helm.contains("plumb-render-"),
        "temporary paths are not shown: {helm}"
    );
    assert_eq!(errors[1]["source"], "kustomize: apps/remote");
    let remote = errors[1]["message"].as_str().unwrap();
    for needle in [
        "environment `broken`",
        "kustomize",
        "https://github.com/example-org/shop-bases//api?ref=v1.0.0",
        "apps/remote/kustomization.yaml",
    ] {
        assert!(remote.contains(needle), "{needle:?} not in {remote}");
    }
}

#[test]
fn a_missing_tool_is_a_render_error_not_a_crash() {
    let repo = fixture_repo();
    let output = run(
        &repo,
        Path::new("/nonexistent/helm"),
        &["render", "staging"],
    );
    assert_eq!(output.status.code(), Some(3));
    let err = stderr(&output);
    assert!(
        err.contains("helm was not found") && err.contains("PLUMB_HELM"),
        "{err}"
    );
    // The kustomize source still rendered.
    assert!(String::from_utf8_lossy(&output.stdout).contains("name: staging-api"));
}

#[test]
fn a_render_past_its_timeout_is_stopped_and_reported() {
    let repo = fixture_repo();
    let bin = tempfile::tempdir().unwrap();
    let slow = write_script(
        bin.path(),
        "helm",
        &format!(
            "if [ \"$1\" = version ]; then exec {} \"$@\"; fi\nsleep 60\n",
            tool("helm4").display()
        ),
    );
    let output = repo
        .plumb()
        .env("PLUMB_HELM", &slow)
        .env("PLUMB_KUSTOMIZE", tool("kubectl"))
        .env("PLUMB_RENDER_TIMEOUT", "1")
        .args(["render", "staging"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let err = stderr(&output);
    assert!(
        err.contains("helm: charts/shop") && err.contains("did not finish within 1s"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("name: staging-api"));
}

#[test]
fn the_cache_starts_no_tool_for_unchanged_inputs_and_one_for_one_changed_values_file() {
    let repo = fixture_repo();
    let bin = tempfile::tempdir().unwrap();
    let (helm, kubectl, log) = counting_tools(bin.path());
    let parity = |extra: &[&str]| {
        let output = repo
            .plumb()
            .env("PLUMB_HELM", &helm)
            .env("PLUMB_KUSTOMIZE", &kubectl)
            .args([
                "parity",
                "staging",
                "production",
                "-o",
                "json",
                "--fail-on",
                "never",
            ])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stdout_json(&output)
    };
    let cold = parity(&[]);
    let mut first = tool_calls(&log);
    first.sort();
    assert_eq!(
        first,
        [
            "helm template",
            "helm template",
            "helm version",
            "kubectl kustomize",
            "kubectl kustomize",
            "kubectl version"
        ]
    );

    let warm = parity(&[]);
    assert_eq!(
        tool_calls(&log).len(),
        6,
        "a warm run starts no tool, not even for its version"
    );
    assert_eq!(finding_lines(&warm), finding_lines(&cold));
    assert_eq!(warm["inputs"]["tools"], cold["inputs"]["tools"]);

    // One values file changes: only the render that reads it runs again.
    repo.write(
        "envs/staging/shop.yaml",
        "host: staging.shop.example.com\nlogLevel: warn\n",
    );
    repo.commit("staging logs less");
    let changed = parity(&[]);
    assert_eq!(tool_calls(&log)[6..], ["helm template"]);
    let log_level = finding(
        &changed,
        "Deployment",
        "shop-web",
        "spec.template.spec.containers[name=web].env[name=LOG_LEVEL].value",
    );
    assert_eq!(log_level["left"], "warn");

    // A file of the shared base changes: both overlays read it (through `resources: ../../base`).
    repo.write(
        "apps/api/base/app.properties",
        "cache.ttl=120\nfeature.search=true\n",
    );
    repo.commit("longer cache");
    parity(&[]);
    assert_eq!(
        tool_calls(&log)[7..],
        ["kubectl kustomize", "kubectl kustomize"]
    );

    // --no-cache renders everything again.
    parity(&["--no-cache"]);
    let after: Vec<String> = tool_calls(&log)[9..].to_vec();
    assert_eq!(
        after.iter().filter(|c| *c == "helm template").count(),
        2,
        "{after:?}"
    );
    assert_eq!(
        after.iter().filter(|c| *c == "kubectl kustomize").count(),
        2,
        "{after:?}"
    );
}

#[test]
fn ref_renders_an_older_commit_whatever_the_working_tree_holds() {
    let repo = fixture_repo();
    repo.tag("v1");
    repo.write(
        "envs/staging/shop.yaml",
        "host: staging.shop.example.com\nlogLevel: warn\n",
    );
    repo.commit("v2");
    // Uncommitted edits: never rendered.
    repo.write(
        "envs/staging/shop.yaml",
        "host: staging.shop.example.com\nlogLevel: trace\n",
    );
    repo.remove("charts/shop/templates/service.yaml");
    let render = |rev: &[&str]| {
        let out = repo.path().join(format!("out-{}", rev.len()));
        let mut args = vec!["render", "staging", "--out-dir", out.to_str().unwrap()];
        args.extend(rev);
        let output = run(&repo, &tool("helm4"), &args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let deployment =
            std::fs::read_to_string(out.join("shop-staging/deployment.apps-shop-web.yaml"))
                .unwrap();
        (
            deployment,
            out.join("shop-staging/service-shop-web.yaml").is_file(),
        )
    };
    let (old, old_service) = render(&["--ref", "v1"]);
    assert!(old.contains("value: debug"), "{old}");
    assert!(old_service);
    let (head, head_service) = render(&[]);
    assert!(head.contains("value: warn"), "{head}");
    assert!(head_service, "the working tree's deletion is not committed");
    assert!(!old.contains("trace") && !head.contains("trace"));
}

#[test]
fn a_kustomize_directory_without_a_kustomization_is_read_the_way_flux_reads_it() {
    let repo = Repo::new();
    repo.write(
        "plumb.yaml",
        "version: 1\nenvironments:\n  a:\n    namespace: ns\n    sources:\n      - kustomize: clusters/a\n",
    )
    .write("clusters/a/app.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n")
    .write("clusters/a/sub/more.yml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: more}\n")
    .write("clusters/a/notes.txt", "not a manifest\n")
    .write("clusters/a/system/kustomization.yaml", "namePrefix: built-\nresources: [cm.yaml]\n")
    .write("clusters/a/system/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n");
    repo.commit("flux layout");
    let output = run(&repo, &tool("helm4"), &["render", "a"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let documents =
        plumb::yaml::parse_documents(&String::from_utf8(output.stdout).unwrap(), "stdout").unwrap();
    let mut names: Vec<&str> = documents
        .iter()
        .map(|d| d.value["metadata"]["name"].as_str().unwrap())
        .collect();
    names.sort();
    // The subdirectory with a kustomization is built (its prefix applies), not read file by file.
    assert_eq!(names, ["app", "built-cm", "more"]);
}

#[test]
fn a_chart_values_file_or_overlay_missing_at_the_revision_is_bad_input() {
    let repo = fixture_repo();
    let config = std::fs::read_to_string(repo.path().join("plumb.yaml")).unwrap();
    repo.write(
        "plumb.yaml",
        &config.replace("envs/staging/shop.yaml", "envs/staging/gone.yaml"),
    );
    let output = run(&repo, &tool("helm4"), &["render", "staging"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("envs/staging/gone.yaml"),
        "{}",
        stderr(&output)
    );
    repo.write(
        "plumb.yaml",
        &config.replace("apps/api/overlays/production", "apps/api/overlays/gone"),
    );
    let output = run(&repo, &tool("helm4"), &["render", "production"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("apps/api/overlays/gone"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_remote_chart_is_a_render_error_of_its_source() {
    let repo = fixture_repo();
    let config = std::fs::read_to_string(repo.path().join("plumb.yaml")).unwrap();
    repo.write(
        "plumb.yaml",
        &config.replace(
            "      - manifests: platform\n",
            "      - manifests: platform\n      - helm: {chart: \"oci://registry.example.com/charts/web\"}\n",
        ),
    );
    let output = run(&repo, &tool("helm4"), &["render", "broken"]);
    assert_eq!(output.status.code(), Some(3));
    let err = stderr(&output);
    assert!(
        err.contains("oci://registry.example.com/charts/web") && err.contains("remote"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("platform-settings"));
}

/// Two environments, one small overlay each: no Helm involved.
fn overlay_repo() -> Repo {
    let repo = Repo::new();
    repo.write(
        "plumb.yaml",
        "version: 1\nenvironments:\n  a:\n    sources: [{kustomize: o/a}]\n  b:\n    sources: [{kustomize: o/b}]\n",
    )
    .write("base/kustomization.yaml", "resources: [cm.yaml]\n")
    .write("base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, labels: {app: x}}\ndata: {x: '1'}\n")
    .write("o/a/kustomization.yaml", "resources: [../../base]\n")
    .write("o/b/kustomization.yaml", "resources: [../../base]\ncommonLabels: {env: b}\n");
    repo.commit("overlays");
    repo
}

#[test]
fn kustomize_is_found_on_path_else_kubectl_kustomize_and_its_version_reported() {
    let repo = overlay_repo();
    let parity = |cmd: &mut assert_cmd::Command| {
        let output = cmd
            .env_remove("PLUMB_KUSTOMIZE")
            .args(["parity", "a", "b", "-o", "json", "--fail-on", "never"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stdout_json(&output)
    };
    // Only kubectl on PATH: `kubectl kustomize`.
    let only_kubectl = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(tool("kubectl"), only_kubectl.path().join("kubectl")).unwrap();
    let report = parity(repo.plumb().env("PATH", only_kubectl.path()));
    assert_eq!(
        report["inputs"]["tools"],
        serde_json::json!({"kubectl kustomize": "kubectl v1.35.2 (kustomize v5.7.1)"})
    );
    assert_eq!(
        finding_lines(&report),
        ["parity ConfigMap/cm metadata.labels.env"]
    );

    // A `kustomize` binary on PATH comes first, run as `kustomize build DIR`.
    let with_kustomize = tempfile::tempdir().unwrap();
    write_script(
        with_kustomize.path(),
        "kustomize",
        &format!(
            "if [ \"$1\" = version ]; then echo v5.7.1; exit 0; fi\n[ \"$1\" = build ] || exit 9\nshift\nexec {} kustomize \"$@\"\n",
            tool("kubectl").display()
        ),
    );
    std::os::unix::fs::symlink(tool("kubectl"), with_kustomize.path().join("kubectl")).unwrap();
    let path = format!("{}:/bin:/usr/bin", with_kustomize.path().display());
    let report = parity(repo.plumb().env("PATH", path));
    assert_eq!(
        report["inputs"]["tools"],
        serde_json::json!({"kustomize": "v5.7.1"})
    );
    assert_eq!(
        finding_lines(&report),
        ["parity ConfigMap/cm metadata.labels.env"]
    );
}

/// A rendered object has no line of its own, but its field does: SARIF points at the `image:` line
/// of the Helm template (read as text) and at `replicas:` in the Kustomize base the origin
/// annotation named (found by kind, under a namePrefix that renamed it), on both sides of a parity
/// pair.
#[test]
fn sarif_points_rendered_objects_at_the_field_in_their_template_or_base() {
    let repo = fixture_repo();
    let output = run(
        &repo,
        &tool("helm4"),
        &[
            "parity",
            "staging",
            "production",
            "-o",
            "sarif",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let log: Value = serde_json::from_slice(&output.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let region_of = |resource: &str, path: &str| -> (String, Value, Value) {
        let result = results
            .iter()
            .find(|r| {
                let text = r["message"]["text"].as_str().unwrap();
                text.contains(resource) && text.contains(&format!("] {path} "))
            })
            .unwrap_or_else(|| panic!("no result for {resource} {path}: {log:#}"));
        let physical = &result["locations"][0]["physicalLocation"];
        let related = &result["relatedLocations"][0]["physicalLocation"];
        (
            physical["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string(),
            physical["region"]["startLine"].clone(),
            related["region"]["startLine"].clone(),
        )
    };
    let template = "charts/shop/templates/deployment.yaml";
    let image = line_holding(&repo, template, "image: \"{{");
    assert_eq!(
        region_of(
            "shop/shop-web",
            "spec.template.spec.containers[name=web].image"
        ),
        (template.to_string(), image.into(), image.into())
    );
    let base = "apps/api/base/deployment.yaml";
    let replicas = line_holding(&repo, base, "replicas:");
    assert_eq!(
        region_of("shop/prod-api", "spec.replicas"),
        (base.to_string(), replicas.into(), replicas.into())
    );
}

/// Each object of a `kind: List` file has its own line, and its fields theirs.
#[test]
fn list_items_are_located_at_their_own_lines_and_fields() {
    let repo = Repo::new();
    let list = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: first, namespace: app}\n    data: {LEVEL: info}\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: second, namespace: app}\n    data:\n      LEVEL: LEVEL_VALUE\n";
    repo.write(
        "plumb.yaml",
        "version: 1\nenvironments:\n  a: {sources: [{manifests: a}]}\n  b: {sources: [{manifests: b}]}\n",
    )
    .write("a/list.yaml", &list.replace("LEVEL_VALUE", "debug"))
    .write("b/list.yaml", &list.replace("LEVEL_VALUE", "warn"));
    repo.commit("lists");
    let output = repo
        .plumb()
        .args(["parity", "a", "b", "-o", "sarif", "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let log: Value = serde_json::from_slice(&output.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{log:#}");
    let level = line_holding(&repo, "a/list.yaml", "LEVEL: debug");
    assert_eq!(level, 12);
    let physical = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(physical["region"]["startLine"], level, "{log:#}");
    // The table names the item's own line, not the List's.
    let output = repo
        .plumb()
        .args(["parity", "a", "b", "--fail-on", "never", "--color", "never"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("a/list.yaml:8"), "{table}");
}
