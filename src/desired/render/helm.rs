//! `helm:` sources: `helm template` over a chart in the checked-out tree, and its output split back
//! into the chart's template files.
//!
//! The arguments are the ones Argo CD passes, minus what needs a cluster: release name, namespace,
//! values files in order (later ones win), `set` values, CRDs included, test hooks skipped. `set`
//! values go through `--set-json`, so a YAML string stays a string and a number a number, exactly
//! as written in plumb.yaml (plain `--set` would turn `"true"` into a boolean). Helm 3 (3.10 or
//! later) and Helm 4 take the same arguments.

use super::cache::{CachedFile, KeyBuilder};
use super::charts::ResolvedChart;
use crate::desired::git::{GitError, GitTree};
use crate::scrub::Scrubber;
use std::path::Path;

pub use crate::config::RemoteChart;

#[derive(Debug, thiserror::Error)]
pub enum HelmError {
    #[error(transparent)]
    Git(#[from] GitError),
}

/// One `helm template` run: repository paths, as in plumb.yaml resolved against its directory.
#[derive(Debug, Clone)]
pub struct HelmJob {
    pub chart: ChartLocation,
    pub release: String,
    pub namespace: Option<String>,
    /// Values files in Git, in order.
    pub values: Vec<String>,
    /// Values written inline (Argo CD `values`/`valuesObject`, Flux `values`), after the files,
    /// each a mapping.
    pub inline_values: Vec<serde_json::Value>,
    /// What of those values came from Secrets (Flux `valuesFrom` a Secret): scrubbed from
    /// whatever the tool prints, like `set` values. Values written in Git in the open are not.
    pub secret_values: Vec<serde_json::Value>,
    /// `key=json` pairs, in key order.
    pub set: Vec<(String, String)>,
    /// Leave the chart's CRDs out (Argo CD `helm.skipCrds`): no `--include-crds`.
    pub skip_crds: bool,
    /// Kustomizations applied in order to helm's output (Flux `postRenderers`), each a set of
    /// kustomization fields as kustomize spells them (`patches`, `images`), inline only: nothing
    /// in them names a file, so the fields alone key the render.
    pub post_render: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// Where a chart is: a directory in Git, or a chart in a remote repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartLocation {
    Git(String),
    Remote(RemoteChart),
}

impl ChartLocation {
    /// The directory findings name for the chart's templates: its path in Git, else
    /// `<chart>-<version>` (a remote chart has no place in Git).
    pub fn display_dir(&self) -> String {
        match self {
            ChartLocation::Git(path) => path.clone(),
            ChartLocation::Remote(remote) => match &remote.version {
                Some(version) => format!("{}-{version}", remote.chart),
                None => remote.chart.clone(),
            },
        }
    }
}

impl HelmJob {
    /// The arguments of `helm template`, with repository paths under `root`, the chart at
    /// `chart_dir` and the inline values in `inline_files` (both written by the renderer).
    pub fn args(
        &self,
        root: &Path,
        chart_dir: &Path,
        inline_files: &[std::path::PathBuf],
    ) -> Vec<String> {
        let mut args = vec![
            "template".to_string(),
            self.release.clone(),
            chart_dir.display().to_string(),
        ];
        if !self.skip_crds {
            args.push("--include-crds".into());
        }
        args.push("--skip-tests".into());
        if let Some(ns) = &self.namespace {
            args.extend(["--namespace".into(), ns.clone()]);
        }
        for values in &self.values {
            args.extend(["--values".into(), root.join(values).display().to_string()]);
        }
        for file in inline_files {
            args.extend(["--values".into(), file.display().to_string()]);
        }
        for (key, json) in &self.set {
            args.extend(["--set-json".into(), format!("{key}={json}")]);
        }
        args
    }

    /// The `set` values, which helm echoes when it cannot parse one (`failed parsing --set-json
    /// data KEY=VALUE`): each as passed, and every string and number inside it.
    pub fn secrets(&self, scrubber: &mut Scrubber) {
        if let ChartLocation::Remote(remote) = &self.chart {
            super::charts::credentials_into(&remote.repo, scrubber);
        }
        for value in &self.secret_values {
            scrubber.add_value(value);
        }
        // A post-render patch of a Secret holds its values, and kustomize quotes the patch's
        // nodes when it cannot apply it; targets and images name no secret.
        for patch in self
            .post_render
            .iter()
            .filter_map(|step| step.get("patches")?.as_array())
            .flatten()
            .filter_map(|patch| patch["patch"].as_str())
        {
            scrubber.add(patch);
            if let Ok(parsed) = crate::yaml::from_str_holding_secrets::<serde_json::Value>(
                patch,
                "post-render patch",
            ) {
                scrubber.add_value(&parsed);
            }
        }
        for (key, json) in &self.set {
            scrubber.add(json);
            scrubber.add(&format!("{key}={json}"));
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(json) {
                scrubber.add_value(&value);
            }
        }
    }

    /// Feeds what this render reads into a cache key: its arguments, the chart directory's tree
    /// id (templates, values.yaml, vendored subcharts in `charts/`) and each values file's blob id.
    /// A remote chart is keyed by `resolved`: repository, chart and exact version.
    pub fn key_parts(
        &self,
        tree: &GitTree,
        resolved: Option<&ResolvedChart>,
        key: &mut KeyBuilder,
    ) -> Result<(), HelmError> {
        key.part("release", &self.release)
            .part("namespace", self.namespace.as_deref().unwrap_or(""));
        if self.skip_crds {
            key.part("skip-crds", "true");
        }
        match &self.chart {
            ChartLocation::Git(chart) => {
                tree.check_submodules(chart)?;
                let chart_id = tree.object_id(chart)?;
                key.part("chart", chart)
                    .part("chart-id", &format!("{chart_id:?}"));
            }
            ChartLocation::Remote(remote) => match resolved {
                Some(chart) => chart.key_parts(key),
                None => {
                    key.part("chart-unresolved", &remote.describe());
                }
            },
        }
        for values in &self.values {
            let id = tree.object_id(values)?;
            key.part("values", values)
                .part("values-id", &format!("{id:?}"));
        }
        for value in &self.inline_values {
            key.part("inline-values", &value.to_string());
        }
        for (k, v) in &self.set {
            key.part("set", k).part("set-value", v);
        }
        for step in &self.post_render {
            key.part(
                "post-render",
                &serde_json::Value::Object(step.clone()).to_string(),
            );
        }
        Ok(())
    }
}

/// Splits `helm template` output by its `# Source: <chart>/templates/x.yaml` comments into one
/// file per template, named by its path in Git (`<chart dir>/templates/x.yaml`), so a finding
/// points at the template that made the object. Documents without a comment are put under the
/// chart's `Chart.yaml`.
pub fn split_output(stdout: &str, chart_dir: &str) -> Vec<CachedFile> {
    let mut files: Vec<CachedFile> = Vec::new();
    let mut current: Option<String> = None;
    let mut text = String::new();
    let mut flush = |path: Option<String>, text: &mut String| {
        if text.trim().is_empty() {
            text.clear();
            return;
        }
        let path = path.unwrap_or_else(|| chart_file(chart_dir));
        let doc = std::mem::take(text);
        match files.iter_mut().find(|f| f.path == path) {
            Some(file) => {
                file.text.push_str("---\n");
                file.text.push_str(&doc);
            }
            None => files.push(CachedFile { path, text: doc }),
        }
    };
    for line in stdout.split_inclusive('\n') {
        let bare = line.trim_end();
        if bare == "---" || bare.starts_with("--- ") {
            flush(current.take(), &mut text);
            continue;
        }
        if let Some(source) = bare.strip_prefix("# Source: ")
            && text.trim().is_empty()
        {
            current = Some(git_path(chart_dir, source.trim()));
        }
        text.push_str(line);
    }
    flush(current.take(), &mut text);
    files
}

/// Whether `path`, a file [`split_output`] made for the chart at `chart_dir`, holds CRDs of the
/// chart's or a subchart's `crds/` directory: helm installs those before the release and never
/// hands them to a post renderer.
pub fn is_crd_file(chart_dir: &str, path: &str) -> bool {
    let rest = if chart_dir.is_empty() {
        Some(path)
    } else {
        path.strip_prefix(chart_dir)
            .and_then(|rest| rest.strip_prefix('/'))
    };
    let mut segments = rest.into_iter().flat_map(|rest| rest.split('/'));
    loop {
        match segments.next() {
            Some("crds") => return true,
            // A subchart: `charts/<name>/`.
            Some("charts") if segments.next().is_some() => {}
            _ => return false,
        }
    }
}

/// The chart's `Chart.yaml`, where findings point for an object no template can be named for.
pub fn chart_file(chart_dir: &str) -> String {
    git_path(chart_dir, "chart/Chart.yaml")
}

/// `web/templates/a.yaml` of the chart at `charts/web` is `charts/web/templates/a.yaml` in Git;
/// Helm names the chart by its `name`, not its directory, so the first segment is replaced.
fn git_path(chart_dir: &str, source: &str) -> String {
    let rest = source.split_once('/').map_or(source, |(_, rest)| rest);
    if chart_dir.is_empty() {
        rest.to_string()
    } else {
        format!("{chart_dir}/{rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_in_order() {
        let job = HelmJob {
            chart: ChartLocation::Git("charts/web".into()),
            release: "web".into(),
            namespace: Some("shop".into()),
            values: vec!["charts/web/values.yaml".into(), "envs/prod.yaml".into()],
            inline_values: vec![serde_json::json!({"a": 1})],
            secret_values: Vec::new(),
            set: vec![("image.tag".into(), "\"1.4.0\"".into())],
            skip_crds: false,
            post_render: Vec::new(),
        };
        assert_eq!(
            job.args(
                Path::new("/t"),
                Path::new("/t/charts/web"),
                &["/t/.plumb-render/0/values-0.yaml".into()]
            ),
            [
                "template",
                "web",
                "/t/charts/web",
                "--include-crds",
                "--skip-tests",
                "--namespace",
                "shop",
                "--values",
                "/t/charts/web/values.yaml",
                "--values",
                "/t/envs/prod.yaml",
                "--values",
                "/t/.plumb-render/0/values-0.yaml",
                "--set-json",
                "image.tag=\"1.4.0\""
            ]
        );
    }

    #[test]
    fn post_render_patches_are_scrubbed_but_not_their_targets() {
        let step = serde_json::json!({"patches": [{
            "patch": "kind: Secret\nmetadata: {name: db}\nstringData:\n  password: [s3cret-in-a-patch]\n",
            "target": {"kind": "Deployment"}
        }]});
        let job = HelmJob {
            chart: ChartLocation::Git("charts/db".into()),
            release: "db".into(),
            namespace: None,
            values: Vec::new(),
            inline_values: Vec::new(),
            secret_values: Vec::new(),
            set: Vec::new(),
            skip_crds: false,
            post_render: vec![step.as_object().unwrap().clone()],
        };
        let mut scrubber = Scrubber::new();
        job.secrets(&mut scrubber);
        let message = scrubber.scrub("node contents:\n[s3cret-in-a-patch] of Deployment db");
        assert!(!message.contains("s3cret-in-a-patch"), "{message}");
        assert!(message.contains("Deployment"), "{message}");
    }

    #[test]
    fn crd_files_are_told_apart_from_templates() {
        assert!(is_crd_file("charts/web", "charts/web/crds/a.yaml"));
        assert!(is_crd_file(
            "charts/web",
            "charts/web/charts/db/crds/b.yaml"
        ));
        assert!(is_crd_file("", "crds/a.yaml"));
        assert!(!is_crd_file("charts/web", "charts/web/templates/crds.yaml"));
        assert!(!is_crd_file(
            "charts/web",
            "charts/web/templates/crds/a.yaml"
        ));
        assert!(!is_crd_file(
            "charts/web",
            "charts/web/charts/db/templates/a.yaml"
        ));
        assert!(!is_crd_file("charts/web", "charts/webx/crds/a.yaml"));
        assert!(!is_crd_file("charts/web", "charts/web/Chart.yaml"));
    }

    #[test]
    fn output_is_split_by_template() {
        let out = "---\n# Source: web/templates/svc.yaml\nkind: Service\n---\n# Source: web/charts/db/templates/sts.yaml\nkind: StatefulSet\n---\n# Source: web/templates/svc.yaml\nkind: Service\nmetadata: {name: b}\n";
        let files = split_output(out, "charts/web");
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "charts/web/templates/svc.yaml",
                "charts/web/charts/db/templates/sts.yaml"
            ]
        );
        assert_eq!(
            files[0].text,
            "# Source: web/templates/svc.yaml\nkind: Service\n---\n# Source: web/templates/svc.yaml\nkind: Service\nmetadata: {name: b}\n"
        );
        assert_eq!(split_output("kind: X\n", "")[0].path, "Chart.yaml");
        assert_eq!(split_output("kind: X\n", "c/w")[0].path, "c/w/Chart.yaml");
    }
}
