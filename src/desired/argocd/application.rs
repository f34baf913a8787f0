//! One Argo CD Application, followed field by field: its sources in this repository as render
//! jobs or plain files, its destination namespace, its `ignoreDifferences` as drift rules.
//! Whatever is not followed is collected as a problem naming the field; any problem makes the
//! whole Application a `render` error (its live objects are then not judged), never a partial
//! render that would report the rest as missing or unmanaged.

use super::{check_revision, ignore, render_error};
use crate::config::{RemoteChart, Source};
use crate::desired::render::helm::{ChartLocation, HelmJob};
use crate::desired::render::kustomize::{KustomizeJob, kustomization_file};
use crate::desired::render::{Job, JobKind, join_repo};
use crate::desired::repository::is_this_repository;
use crate::desired::{DeclaredOwner, Followed, ManifestFile, Reading, SourceFile};
use crate::model::{Origin, Owner};
use git2::ObjectType;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where the Application is followed from.
pub(super) struct Context<'a> {
    pub reading: &'a Reading<'a>,
    pub env: &'a str,
    pub source: &'a Source,
    /// The `argocd:` file (repository path) and the line of the Application (or its set).
    pub file: &'a str,
    pub line: u64,
    /// URLs that name this repository.
    pub repositories: &'a [String],
}

/// `spec` fields followed.
const SPEC_FOLLOWED: &[&str] = &["source", "sources", "destination", "ignoreDifferences"];
/// `spec` fields that change nothing plumb compares: how and when Argo CD syncs, who may, and
/// what its UI shows.
const SPEC_HARMLESS: &[&str] = &["project", "syncPolicy", "info", "revisionHistoryLimit"];
/// `destination` fields: the namespace is followed, the cluster is the environment's.
const DESTINATION_FIELDS: &[&str] = &["namespace", "server", "name"];
const SOURCE_FIELDS: &[&str] = &[
    "repoURL",
    "path",
    "targetRevision",
    "chart",
    "helm",
    "kustomize",
    "directory",
    "ref",
    "name",
];
const HELM_FIELDS: &[&str] = &[
    "valueFiles",
    "values",
    "valuesObject",
    "parameters",
    "releaseName",
    "skipCrds",
    "ignoreMissingValueFiles",
    "namespace",
    // How Argo CD reaches a chart repository and which helm it runs: not what renders.
    "passCredentials",
    "version",
    // Test hooks: plumb always leaves them out.
    "skipTests",
];
const KUSTOMIZE_FIELDS: &[&str] = &[
    "namePrefix",
    "nameSuffix",
    "images",
    "commonLabels",
    "commonAnnotations",
    "namespace",
    "patches",
    "replicas",
    "components",
    // Which kustomize binary Argo CD runs: plumb runs its own.
    "version",
];
const DIRECTORY_FIELDS: &[&str] = &["recurse", "include", "exclude", "jsonnet"];

/// What one source brings.
enum Planned {
    Job(Box<JobKind>),
    Files(Vec<ManifestFile>),
}

/// Follows `application` (an Argo CD Application object).
pub(super) fn follow(context: &Context<'_>, application: &Value) -> Followed {
    let name = application["metadata"]["name"].as_str().unwrap_or("");
    let owner = Owner::ArgoApplication(tracking_name(application));
    let spec = &application["spec"];
    let mut problems: Vec<String> = Vec::new();
    let destination_namespace = spec["destination"]["namespace"]
        .as_str()
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    for key in keys(spec) {
        if !SPEC_FOLLOWED.contains(&key) && !SPEC_HARMLESS.contains(&key) {
            problems.push(format!("`spec.{key}` is not followed"));
        }
    }
    unknown_fields(
        &spec["destination"],
        "spec.destination",
        DESTINATION_FIELDS,
        &mut problems,
    );
    let sources: Vec<(String, &Value)> = match spec["sources"].as_array() {
        Some(list) if !list.is_empty() => list
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("spec.sources[{i}]"), s))
            .collect(),
        _ if spec["source"].is_object() => vec![("spec.source".to_string(), &spec["source"])],
        _ => {
            problems.push("the Application has no `spec.source` or `spec.sources`".into());
            Vec::new()
        }
    };
    // `ref:` sources name this repository's root for `$ref/` value files of the others.
    let mut refs: BTreeMap<String, Result<(), String>> = BTreeMap::new();
    for (field, source) in &sources {
        if let Some(reference) = source["ref"].as_str() {
            let url = source["repoURL"].as_str().unwrap_or("");
            let this = is_this_repository(url, context.repositories);
            refs.insert(
                reference.to_string(),
                if this {
                    Ok(())
                } else {
                    Err(format!(
                        "`{field}` (ref `{reference}`) is the repository {url}, not this one"
                    ))
                },
            );
        }
    }
    let application_source = ApplicationSource {
        context,
        name,
        destination_namespace: destination_namespace.as_deref(),
        refs: &refs,
    };
    let mut planned = Vec::new();
    for (field, source) in &sources {
        planned.extend(application_source.plan(field, source, &mut problems));
    }
    let rules = match ignore::rules(
        &spec["ignoreDifferences"],
        name,
        &owner,
        context.file,
        context.line,
    ) {
        Ok(rules) => rules,
        Err(mut found) => {
            problems.append(&mut found);
            Vec::new()
        }
    };
    let describe = context.source.describe();
    if !problems.is_empty() {
        return Followed {
            errors: problems
                .iter()
                .map(|problem| {
                    render_error(
                        context.env,
                        context.source,
                        &format!(
                            "Application `{name}` ({}:{}): {problem}",
                            context.file, context.line
                        ),
                    )
                })
                .collect(),
            owners: vec![DeclaredOwner {
                source: describe,
                owner,
                failed: true,
            }],
            ..Followed::default()
        };
    }
    let origin = Arc::new(Origin {
        owner: Some(owner.clone()),
        namespace: destination_namespace,
    });
    let mut followed = Followed {
        owners: vec![DeclaredOwner {
            source: describe.clone(),
            owner,
            failed: false,
        }],
        rules,
        ..Followed::default()
    };
    for plan in planned {
        match plan {
            Planned::Job(kind) => followed.jobs.push(Job {
                source: describe.clone(),
                kind: *kind,
                origin: Some(origin.clone()),
            }),
            Planned::Files(files) => {
                followed
                    .files
                    .extend(files.into_iter().map(|file| SourceFile {
                        source: describe.clone(),
                        file,
                        rendered: false,
                        origin: Some(origin.clone()),
                    }))
            }
        }
    }
    followed
}

/// The name Argo CD's tracking annotation carries: the Application's name, or
/// `<namespace>_<name>` for an Application outside Argo CD's own `argocd` namespace.
pub(super) fn tracking_name(application: &Value) -> String {
    let name = application["metadata"]["name"].as_str().unwrap_or("");
    match application["metadata"]["namespace"].as_str() {
        Some(namespace) if !namespace.is_empty() && namespace != "argocd" => {
            format!("{namespace}_{name}")
        }
        _ => name.to_string(),
    }
}

fn keys(value: &Value) -> impl Iterator<Item = &str> {
    value
        .as_object()
        .into_iter()
        .flat_map(|m| m.keys())
        .map(String::as_str)
}

/// A problem for each key of `value` not in `known`.
fn unknown_fields(value: &Value, field: &str, known: &[&str], problems: &mut Vec<String>) {
    for key in keys(value) {
        if !known.contains(&key) {
            problems.push(format!("`{field}.{key}` is not followed"));
        }
    }
}

/// What following one source of an Application needs.
struct ApplicationSource<'a> {
    context: &'a Context<'a>,
    name: &'a str,
    destination_namespace: Option<&'a str>,
    refs: &'a BTreeMap<String, Result<(), String>>,
}

/// How Argo CD renders a source directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SourceType {
    Helm,
    Kustomize,
    Directory,
}

impl ApplicationSource<'_> {
    /// What `source` (written at `field`) brings; what cannot be followed goes to `problems`.
    fn plan(&self, field: &str, source: &Value, problems: &mut Vec<String>) -> Option<Planned> {
        let tree = self.context.reading.tree;
        if source.get("plugin").is_some() {
            problems.push(format!(
                "`{field}.plugin`: config management plugins run code plumb does not have"
            ));
            return None;
        }
        unknown_fields(source, field, SOURCE_FIELDS, problems);
        let url = source["repoURL"].as_str().unwrap_or("");
        let revision = source["targetRevision"].as_str().unwrap_or("");
        if let Some(chart) = source["chart"].as_str() {
            return self.remote_chart(field, source, url, chart, revision, problems);
        }
        if !is_this_repository(url, self.context.repositories) {
            let help = if self.context.repositories.is_empty() {
                "list this repository's URLs under `repositories:` in plumb.yaml (there is no `origin` remote to take it from)"
            } else {
                "if it is this repository under another URL, add that URL to `repositories:` in plumb.yaml; plumb reads only this repository"
            };
            problems.push(format!(
                "`{field}.repoURL` {url} is another repository, which plumb does not read\n  help: {help}"
            ));
            return None;
        }
        if let Err(problem) = check_revision(tree, &format!("{field}.targetRevision"), revision) {
            problems.push(problem);
            return None;
        }
        let Some(path) = source["path"].as_str() else {
            if source["ref"].is_string() {
                // Only a `$ref` for the other sources' value files.
                return None;
            }
            problems.push(format!("`{field}.path` is missing"));
            return None;
        };
        let Some(dir) = join_repo("", path) else {
            problems.push(format!("`{field}.path` {path} leaves the repository"));
            return None;
        };
        match tree.kind_of(&dir) {
            Ok(Some(ObjectType::Tree)) => {}
            Ok(_) => {
                problems.push(format!(
                    "`{field}.path` {path} is no directory at {}",
                    tree.rev
                ));
                return None;
            }
            Err(e) => {
                problems.push(format!("`{field}.path` {path}: {e}"));
                return None;
            }
        }
        let explicit: Vec<SourceType> = [
            ("helm", SourceType::Helm),
            ("kustomize", SourceType::Kustomize),
            ("directory", SourceType::Directory),
        ]
        .into_iter()
        .filter(|(key, _)| source.get(*key).is_some_and(|v| !v.is_null()))
        .map(|(_, kind)| kind)
        .collect();
        let kind = match explicit.as_slice() {
            [one] => *one,
            [] => match self.detect(&dir) {
                Ok(kind) => kind,
                Err(e) => {
                    problems.push(format!("`{field}.path` {path}: {e}"));
                    return None;
                }
            },
            _ => {
                problems.push(format!(
                    "`{field}` sets more than one of `helm`, `kustomize` and `directory`, which Argo CD refuses"
                ));
                return None;
            }
        };
        match kind {
            SourceType::Helm => self
                .helm(
                    field,
                    &source["helm"],
                    ChartLocation::Git(dir.clone()),
                    &dir,
                    problems,
                )
                .map(|job| Planned::Job(Box::new(JobKind::Helm(job)))),
            SourceType::Kustomize => self
                .kustomize(field, &source["kustomize"], &dir, problems)
                .map(|job| Planned::Job(Box::new(JobKind::Kustomize(job)))),
            SourceType::Directory => self
                .directory(field, &source["directory"], &dir, problems)
                .map(Planned::Files),
        }
    }

    /// Argo CD's detection: a kustomization file makes a Kustomize source, else a `Chart.yaml`
    /// a Helm one, else plain manifests.
    fn detect(&self, dir: &str) -> Result<SourceType, crate::desired::git::GitError> {
        let tree = self.context.reading.tree;
        if kustomization_file(tree, dir)?.is_some() {
            return Ok(SourceType::Kustomize);
        }
        let chart = if dir.is_empty() {
            "Chart.yaml".to_string()
        } else {
            format!("{dir}/Chart.yaml")
        };
        if tree.kind_of(&chart)? == Some(ObjectType::Blob) {
            return Ok(SourceType::Helm);
        }
        Ok(SourceType::Directory)
    }

    /// `chart:` from a Helm repository (or an OCI registry): a remote chart.
    fn remote_chart(
        &self,
        field: &str,
        source: &Value,
        url: &str,
        chart: &str,
        version: &str,
        problems: &mut Vec<String>,
    ) -> Option<Planned> {
        for key in ["kustomize", "directory", "path"] {
            if source.get(key).is_some() {
                problems.push(format!(
                    "`{field}.{key}` is not followed for a chart from a Helm repository"
                ));
            }
        }
        // Argo CD writes OCI registries without a scheme.
        let repo = if url.contains("://") {
            url.to_string()
        } else {
            format!("oci://{url}")
        };
        let location = ChartLocation::Remote(RemoteChart {
            repo,
            chart: chart.to_string(),
            version: Some(version.to_string()).filter(|v| !v.is_empty() && v != "*"),
        });
        self.helm(field, &source["helm"], location, "", problems)
            .map(|job| Planned::Job(Box::new(JobKind::Helm(job))))
    }

    /// A Helm source: value files (relative to the source's path, or `$ref/` to a `ref:`
    /// source's root), inline values, parameters, release name and namespace.
    fn helm(
        &self,
        field: &str,
        helm: &Value,
        chart: ChartLocation,
        dir: &str,
        problems: &mut Vec<String>,
    ) -> Option<HelmJob> {
        let tree = self.context.reading.tree;
        let field = format!("{field}.helm");
        unknown_fields(helm, &field, HELM_FIELDS, problems);
        let ignore_missing = helm["ignoreMissingValueFiles"].as_bool().unwrap_or(false);
        let mut values = Vec::new();
        for (i, entry) in helm["valueFiles"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("`{field}.valueFiles[{i}]`");
            let Some(text) = entry.as_str() else {
                problems.push(format!("{at} is not a string"));
                continue;
            };
            let path = if let Some(rest) = text.strip_prefix('$') {
                let (reference, rest) = rest.split_once('/').unwrap_or((rest, ""));
                match self.refs.get(reference) {
                    Some(Ok(())) => join_repo("", rest),
                    Some(Err(other)) => {
                        problems.push(format!("{at} {text}: {other}"));
                        continue;
                    }
                    None => {
                        problems.push(format!(
                            "{at} {text} names `${reference}`, which no source of the Application declares as `ref: {reference}`"
                        ));
                        continue;
                    }
                }
            } else if text.contains("://") {
                problems.push(format!(
                    "{at} {text} is fetched from a URL, which plumb does not do"
                ));
                continue;
            } else if matches!(chart, ChartLocation::Remote(_)) {
                problems.push(format!(
                    "{at} {text} is a file inside the remote chart, which plumb does not follow (use a `$ref/` value file)"
                ));
                continue;
            } else {
                join_repo(dir, text)
            };
            let Some(path) = path else {
                problems.push(format!("{at} {text} leaves the repository"));
                continue;
            };
            match tree.kind_of(&path) {
                Ok(Some(ObjectType::Blob)) => values.push(path),
                Ok(_) if ignore_missing => {}
                Ok(_) => problems.push(format!(
                    "{at} {text} does not exist at {}\n  help: add the file, or set `ignoreMissingValueFiles: true` as Argo CD would need",
                    tree.rev
                )),
                Err(e) => problems.push(format!("{at} {text}: {e}")),
            }
        }
        // Argo CD takes `valuesObject` over `values` when both are set.
        let mut inline_values = Vec::new();
        if let Some(object) = helm.get("valuesObject").filter(|v| !v.is_null()) {
            if object.is_object() {
                inline_values.push(object.clone());
            } else {
                problems.push(format!("`{field}.valuesObject` is not a mapping"));
            }
        } else if let Some(text) = helm["values"].as_str().filter(|t| !t.trim().is_empty()) {
            // The values may hold secrets: no error quotes them.
            match crate::yaml::from_str_holding_secrets::<Value>(text, &format!("{field}.values")) {
                Ok(object @ Value::Object(_)) => inline_values.push(object),
                Ok(_) => problems.push(format!("`{field}.values` is not a YAML mapping")),
                Err(e) => problems.push(format!("`{field}.values` is not YAML: {}", e.message)),
            }
        }
        let mut set = Vec::new();
        for (i, parameter) in helm["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("`{field}.parameters[{i}]`");
            unknown_fields(
                parameter,
                &format!("{field}.parameters[{i}]"),
                &["name", "value", "forceString"],
                problems,
            );
            let (Some(name), value) = (parameter["name"].as_str(), &parameter["value"]) else {
                problems.push(format!("{at} has no `name`"));
                continue;
            };
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            let force_string = parameter["forceString"].as_bool().unwrap_or(false);
            set.push((name.to_string(), parameter_json(&value, force_string)));
        }
        let release = helm["releaseName"]
            .as_str()
            .filter(|r| !r.is_empty())
            .unwrap_or(self.name)
            .to_string();
        let namespace = helm["namespace"]
            .as_str()
            .filter(|n| !n.is_empty())
            .or(self.destination_namespace)
            .map(str::to_string);
        Some(HelmJob {
            chart,
            release,
            namespace,
            values,
            inline_values,
            secret_values: Vec::new(),
            set,
            skip_crds: helm["skipCrds"].as_bool().unwrap_or(false),
            post_render: Vec::new(),
        })
    }

    /// A Kustomize source: the Application's `kustomize` fields as an overlay over the
    /// directory's own kustomization.
    fn kustomize(
        &self,
        field: &str,
        kustomize: &Value,
        dir: &str,
        problems: &mut Vec<String>,
    ) -> Option<KustomizeJob> {
        let tree = self.context.reading.tree;
        let field = format!("{field}.kustomize");
        unknown_fields(kustomize, &field, KUSTOMIZE_FIELDS, problems);
        let mut overlay = Map::new();
        for key in ["namePrefix", "nameSuffix", "namespace"] {
            match &kustomize[key] {
                Value::Null => {}
                Value::String(s) if s.is_empty() => {}
                Value::String(s) => {
                    overlay.insert(key.into(), s.clone().into());
                }
                _ => problems.push(format!("`{field}.{key}` is not a string")),
            }
        }
        for key in ["commonLabels", "commonAnnotations"] {
            match &kustomize[key] {
                Value::Null => {}
                Value::Object(m) if m.is_empty() => {}
                Value::Object(m) => {
                    overlay.insert(key.into(), Value::Object(m.clone()));
                }
                _ => problems.push(format!("`{field}.{key}` is not a mapping")),
            }
        }
        let images: Vec<Value> = kustomize["images"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, image)| match image.as_str().and_then(kustomize_image) {
                Some(image) => Some(image),
                None => {
                    problems.push(format!(
                        "`{field}.images[{i}]` is not an image override (`name=new:tag`, `name:tag` or `name@digest`)"
                    ));
                    None
                }
            })
            .collect();
        if !images.is_empty() {
            overlay.insert("images".into(), images.into());
        }
        let mut patches = Vec::new();
        for (i, patch) in kustomize["patches"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("{field}.patches[{i}]");
            unknown_fields(
                patch,
                &at,
                &["path", "patch", "target", "options"],
                problems,
            );
            let mut entry = patch.as_object().cloned().unwrap_or_default();
            // A patch file is read from Git and handed over inline: kustomize refuses files
            // outside the kustomization that names them, and the overlay is written elsewhere.
            if let Some(path) = patch["path"].as_str() {
                let text = join_repo(dir, path).and_then(|p| tree.read(&p).ok());
                match text.map(|f| String::from_utf8(f.bytes)) {
                    Some(Ok(text)) => {
                        entry.remove("path");
                        entry.insert("patch".into(), text.into());
                    }
                    _ => {
                        problems.push(format!("`{at}.path` {path} is no file at {}", tree.rev));
                        continue;
                    }
                }
            }
            patches.push(Value::Object(entry));
        }
        if !patches.is_empty() {
            overlay.insert("patches".into(), patches.into());
        }
        let mut replicas = Vec::new();
        for (i, entry) in kustomize["replicas"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let count = match &entry["count"] {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            };
            match (entry["name"].as_str(), count) {
                (Some(name), Some(count)) => {
                    replicas.push(serde_json::json!({"name": name, "count": count}))
                }
                _ => problems.push(format!(
                    "`{field}.replicas[{i}]` needs a `name` and a whole-number `count`"
                )),
            }
        }
        if !replicas.is_empty() {
            overlay.insert("replicas".into(), replicas.into());
        }
        let mut components = Vec::new();
        for (i, component) in kustomize["components"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            match component.as_str().and_then(|c| join_repo(dir, c)) {
                Some(path) => components.push(Value::from(path)),
                None => problems.push(format!(
                    "`{field}.components[{i}]` is not a path inside the repository"
                )),
            }
        }
        if !components.is_empty() {
            overlay.insert("components".into(), components.into());
        }
        Some(KustomizeJob {
            dir: dir.to_string(),
            overlay,
        })
    }

    /// A directory of plain manifests: `*.yaml`, `*.yml` and `*.json` at its top (every level
    /// with `recurse`), `include` and `exclude` globs over the path below the directory.
    fn directory(
        &self,
        field: &str,
        directory: &Value,
        dir: &str,
        problems: &mut Vec<String>,
    ) -> Option<Vec<ManifestFile>> {
        let tree = self.context.reading.tree;
        let field = format!("{field}.directory");
        unknown_fields(directory, &field, DIRECTORY_FIELDS, problems);
        let jsonnet_used = directory["jsonnet"].as_object().is_some_and(|j| {
            j.values()
                .any(|v| !v.is_null() && v != &Value::Array(vec![]))
        });
        if jsonnet_used {
            problems.push(format!("`{field}.jsonnet` is not followed"));
        }
        let recurse = directory["recurse"].as_bool().unwrap_or(false);
        let glob = |key: &str| -> Result<Option<globset::GlobMatcher>, String> {
            match directory[key].as_str().filter(|g| !g.is_empty()) {
                None => Ok(None),
                Some(pattern) => globset::Glob::new(pattern)
                    .map(|g| Some(g.compile_matcher()))
                    .map_err(|e| format!("`{field}.{key}` {pattern} is not a glob: {e}")),
            }
        };
        let (include, exclude) = match (glob("include"), glob("exclude")) {
            (Ok(include), Ok(exclude)) => (include, exclude),
            (include, exclude) => {
                problems.extend(include.err());
                problems.extend(exclude.err());
                return None;
            }
        };
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let keep = |path: &str| {
            let relative = path.strip_prefix(&prefix).unwrap_or(path);
            let lower = relative.to_ascii_lowercase();
            (lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json"))
                && (recurse || !relative.contains('/'))
                && include.as_ref().is_none_or(|g| g.is_match(relative))
                && !exclude.as_ref().is_some_and(|g| g.is_match(relative))
        };
        match tree.files_under(dir, keep) {
            Ok(files) => Some(files),
            Err(e) => {
                problems.push(format!("`{field}`: {e}"));
                None
            }
        }
    }
}

/// A Helm parameter as `--set-json` takes it. Argo CD passes `--set name=value`, which reads
/// `true`/`false` as booleans and whole numbers as numbers; `forceString` (`--set-string`) keeps
/// the text.
fn parameter_json(value: &str, force_string: bool) -> String {
    let typed = if force_string {
        Value::from(value)
    } else if value == "true" || value == "false" {
        Value::Bool(value == "true")
    } else if let Ok(n) = value.parse::<i64>() {
        Value::from(n)
    } else {
        Value::from(value)
    };
    typed.to_string()
}

/// An Argo CD image override as a kustomize `images` entry, read as `kustomize edit set image`
/// reads it: `name=newName[:tag|@digest]`, `name:tag`, `name@digest`.
fn kustomize_image(text: &str) -> Option<Value> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let (name, replacement) = match text.split_once('=') {
        Some((name, replacement)) => (name.to_string(), Some(replacement)),
        None => (String::new(), None),
    };
    let target = replacement.unwrap_or(text);
    let (image, digest) = match target.split_once('@') {
        Some((image, digest)) => (image, Some(digest)),
        None => (target, None),
    };
    // A tag follows the last `:` after the last `/` (a registry port is no tag).
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    let (image, tag) = match image[last_slash..].rfind(':') {
        Some(i) => (&image[..last_slash + i], Some(&image[last_slash + i + 1..])),
        None => (image, None),
    };
    let mut entry = Map::new();
    if replacement.is_some() {
        entry.insert("name".into(), name.into());
        if !image.is_empty() {
            entry.insert("newName".into(), image.into());
        }
    } else {
        entry.insert("name".into(), image.into());
    }
    if let Some(tag) = tag.filter(|t| !t.is_empty()) {
        entry.insert("newTag".into(), tag.into());
    }
    if let Some(digest) = digest.filter(|d| !d.is_empty()) {
        entry.insert("digest".into(), digest.into());
    }
    if entry["name"].as_str().is_none_or(str::is_empty) {
        return None;
    }
    Some(Value::Object(entry))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn image_overrides_read_as_kustomize_edit_set_image() {
        assert_eq!(
            kustomize_image("ghcr.io/shop/api:2.4.1"),
            Some(json!({"name": "ghcr.io/shop/api", "newTag": "2.4.1"}))
        );
        assert_eq!(
            kustomize_image("api=registry.local:5000/shop/api:2.4.1"),
            Some(
                json!({"name": "api", "newName": "registry.local:5000/shop/api", "newTag": "2.4.1"})
            )
        );
        assert_eq!(
            kustomize_image("api@sha256:abc"),
            Some(json!({"name": "api", "digest": "sha256:abc"}))
        );
        assert_eq!(
            kustomize_image("registry.local:5000/api"),
            Some(json!({"name": "registry.local:5000/api"}))
        );
        assert_eq!(kustomize_image("=x:1"), None);
    }

    #[test]
    fn parameters_are_typed_as_helm_set_types_them() {
        assert_eq!(parameter_json("3", false), "3");
        assert_eq!(parameter_json("3", true), "\"3\"");
        assert_eq!(parameter_json("true", false), "true");
        assert_eq!(parameter_json("1.2.3", false), "\"1.2.3\"");
    }

    #[test]
    fn tracking_names_carry_the_namespace_outside_argocd() {
        let app = |ns: Option<&str>| json!({"metadata": {"name": "web", "namespace": ns}});
        assert_eq!(tracking_name(&app(None)), "web");
        assert_eq!(tracking_name(&app(Some("argocd"))), "web");
        assert_eq!(tracking_name(&app(Some("team-a"))), "team-a_web");
    }
}
