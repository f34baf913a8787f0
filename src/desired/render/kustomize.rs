//! `kustomize:` sources: what a kustomization reads (for cache keys and for refusing remote bases
//! up front), the wrapper that asks kustomize where each object came from, and the reading of its
//! output back into files in Git.
//!
//! Kustomize can say where each object was written (`buildMetadata: [originAnnotations]`), but only
//! when the kustomization asks. plumb never edits the user's files: it builds a small wrapper
//! kustomization in the temporary tree whose only resource is the user's directory, reads the
//! `config.kubernetes.io/origin` annotation off each object, and takes it away again so it never
//! shows up as a difference.

use super::cache::{CachedFile, KeyBuilder};
use super::join_repo;
use crate::desired::ManifestFile;
use crate::desired::git::{GitError, GitTree};
use crate::scrub::Scrubber;
use git2::ObjectType;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The names kustomize recognises, in its order of preference.
pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The annotation `originAnnotations` adds.
pub const ORIGIN: &str = "config.kubernetes.io/origin";

#[derive(Debug, thiserror::Error)]
pub enum KustomizeError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(
        "{file} refers to the remote `{reference}`, which plumb cannot fetch: it renders offline, from Git alone\n  help: vendor the base into the repository and refer to it by a relative path"
    )]
    RemoteReference { file: String, reference: String },
    #[error(
        "{file} refers to `{reference}`, which is outside the repository\n  help: plumb renders from Git alone; keep what a kustomization reads inside the repository"
    )]
    OutsideRepository { file: String, reference: String },
    #[error("{file} is not a valid kustomization: {message}")]
    BadKustomization { file: String, message: String },
    #[error("the output of kustomize is not YAML: {0}")]
    Output(String),
}

/// What a `kustomize:` path holds at the revision.
pub enum Target {
    /// A directory with a kustomization.
    Kustomization(String),
    /// A directory without one, read the way Flux reads it: its YAML files as plain manifests,
    /// and each subdirectory that has a kustomization built as one (not descended into).
    Plain {
        files: Vec<ManifestFile>,
        kustomizations: Vec<String>,
    },
    Missing,
}

/// The kustomization file in `dir`, if any.
pub fn kustomization_file(tree: &GitTree, dir: &str) -> Result<Option<String>, GitError> {
    for name in FILE_NAMES {
        let path = join_file(dir, name);
        if tree.kind_of(&path)? == Some(ObjectType::Blob) {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

fn join_file(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn is_kustomization_name(path: &str) -> bool {
    FILE_NAMES.contains(&path.rsplit('/').next().unwrap_or(path))
}

/// Classifies a `kustomize:` path (a directory, or a kustomization file in one).
pub fn target(tree: &GitTree, path: &str) -> Result<Target, KustomizeError> {
    match tree.kind_of(path)? {
        Some(ObjectType::Tree) => {
            if kustomization_file(tree, path)?.is_some() {
                return Ok(Target::Kustomization(path.to_string()));
            }
            let mut kustomizations: Vec<String> = tree
                .files_under(path, is_kustomization_name)?
                .into_iter()
                .filter_map(|f| f.path.rsplit_once('/').map(|(dir, _)| dir.to_string()))
                .collect();
            kustomizations.sort();
            kustomizations.dedup();
            // Only the outermost: Flux does not descend into a directory it builds.
            let outermost: Vec<String> = kustomizations
                .iter()
                .filter(|d| {
                    !kustomizations
                        .iter()
                        .any(|o| o != *d && d.starts_with(&format!("{o}/")))
                })
                .cloned()
                .collect();
            let inside_built = |p: &str| outermost.iter().any(|d| p.starts_with(&format!("{d}/")));
            let files = tree.files_under(path, |p| {
                let lower = p.to_ascii_lowercase();
                (lower.ends_with(".yaml") || lower.ends_with(".yml"))
                    && !is_kustomization_name(p)
                    && !inside_built(p)
            })?;
            Ok(Target::Plain {
                files,
                kustomizations: outermost,
            })
        }
        Some(ObjectType::Blob) if is_kustomization_name(path) => Ok(Target::Kustomization(
            path.rsplit_once('/').map_or("", |(d, _)| d).to_string(),
        )),
        _ => Ok(Target::Missing),
    }
}

/// Feeds what building `dir` reads into a cache key: the Git ids of its directory and of every
/// local file or directory its kustomization refers to — resources, components, bases, patches,
/// generators' files, transformers, replacements — followed through the kustomizations found
/// there. A remote reference is an error: the render could not be reproduced from Git alone.
pub fn key_parts(
    tree: &GitTree,
    job: &KustomizeJob,
    key: &mut KeyBuilder,
) -> Result<(), KustomizeError> {
    let dir = job.dir.as_str();
    let mut inputs = BTreeMap::new();
    let mut visited = BTreeSet::new();
    follow(tree, dir, &mut inputs, &mut visited, &mut |_, _| {})?;
    for component in job
        .overlay
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        follow(tree, component, &mut inputs, &mut visited, &mut |_, _| {})?;
    }
    key.part("dir", dir);
    if !job.overlay.is_empty() {
        key.part("overlay", &Value::Object(job.overlay.clone()).to_string());
    }
    for (path, id) in inputs {
        key.part("input", &path).part("id", &id);
    }
    Ok(())
}

/// Walks the kustomizations building `dir` reads, recording each input's Git id in `inputs` and
/// showing each kustomization (its directory and contents) to `visit`.
fn follow(
    tree: &GitTree,
    dir: &str,
    inputs: &mut BTreeMap<String, String>,
    visited: &mut BTreeSet<String>,
    visit: &mut dyn FnMut(&str, &Value),
) -> Result<(), KustomizeError> {
    if !visited.insert(dir.to_string()) {
        return Ok(());
    }
    tree.check_submodules(dir)?;
    if let Some((_, id)) = tree.object_id(dir)? {
        inputs.insert(dir.to_string(), id.to_string());
    }
    let Some(file) = kustomization_file(tree, dir)? else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&tree.read(&file)?.bytes).into_owned();
    let kustomization: Value =
        crate::yaml::from_str(&text, &file).map_err(|e| KustomizeError::BadKustomization {
            file: file.clone(),
            message: e.to_string(),
        })?;
    visit(dir, &kustomization);
    for reference in references(&kustomization) {
        if is_url(&reference) {
            return Err(KustomizeError::RemoteReference { file, reference });
        }
        let Some(path) = join_repo(dir, &reference) else {
            return Err(KustomizeError::OutsideRepository { file, reference });
        };
        match tree.object_id(&path)? {
            Some((ObjectType::Tree, id)) => {
                inputs.insert(path.clone(), id.to_string());
                follow(tree, &path, inputs, visited, visit)?;
            }
            Some((_, id)) => {
                inputs.insert(path, id.to_string());
            }
            None if looks_like_host_path(&reference) => {
                return Err(KustomizeError::RemoteReference { file, reference });
            }
            None => {
                inputs.insert(format!("missing:{path}"), String::new());
            }
        }
    }
    Ok(())
}

/// The secrets building `dir` hands to kustomize, which it may echo in an error: every
/// `secretGenerator`'s literals, the contents of its files and env files, and the values of the
/// Secret objects in the files the kustomizations read. Best effort: what cannot be read is
/// skipped (the render fails on it anyway, and says so).
pub fn secrets(tree: &GitTree, dir: &str, scrubber: &mut Scrubber) {
    let mut visit = |dir: &str, kustomization: &Value| {
        let read = |reference: &str| -> Option<String> {
            let path = join_repo(dir, reference.trim())?;
            let file = tree.read(&path).ok()?;
            Some(String::from_utf8_lossy(&file.bytes).into_owned())
        };
        let list = |value: &Value, key: &str| -> Vec<String> {
            value
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        };
        for generator in kustomization
            .get("secretGenerator")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for literal in list(generator, "literals") {
                scrubber.add_entry(&literal);
            }
            for file in list(generator, "files") {
                let path = file.split_once('=').map_or(file.as_str(), |(_, p)| p);
                if let Some(text) = read(path) {
                    scrubber.add(&text);
                }
            }
            let mut envs = list(generator, "envs");
            envs.extend(generator["env"].as_str().map(str::to_string));
            for env in envs {
                for line in read(&env).unwrap_or_default().lines() {
                    if !line.trim_start().starts_with('#') {
                        scrubber.add_entry(line.trim());
                    }
                }
            }
        }
        for reference in references(kustomization) {
            let lower = reference.to_ascii_lowercase();
            if !(lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json")) {
                continue;
            }
            if let Some(text) = read(&reference).filter(|t| t.contains("Secret")) {
                for (object, _) in crate::yaml::parse_values(&text, &reference).unwrap_or_default()
                {
                    secret_values(&object, scrubber);
                }
            }
        }
    };
    let _ = follow(
        tree,
        dir,
        &mut BTreeMap::new(),
        &mut BTreeSet::new(),
        &mut visit,
    );
}

/// The values of a Secret object: `stringData` as written, `data` as written and decoded.
fn secret_values(object: &Value, scrubber: &mut Scrubber) {
    if object["kind"] != "Secret" {
        return;
    }
    for value in object["stringData"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        scrubber.add_value(value);
    }
    for value in object["data"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        if let Some(encoded) = value.as_str() {
            scrubber.add(encoded);
            use base64::Engine;
            if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) {
                scrubber.add(&String::from_utf8_lossy(&decoded));
            }
        }
    }
}

/// Every file or directory a kustomization names (inline patches and inline transformer
/// configurations are not references).
fn references(k: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |v: &Value| {
        if let Some(s) = v.as_str()
            && !s.contains('\n')
            && !s.trim().is_empty()
        {
            out.push(s.trim().to_string());
        }
    };
    let list = |key: &str| k.get(key).and_then(Value::as_array).into_iter().flatten();
    for key in [
        "resources",
        "bases",
        "components",
        "crds",
        "configurations",
        "transformers",
        "generators",
        "validators",
        "patchesStrategicMerge",
    ] {
        list(key).for_each(&mut push);
    }
    for key in ["patches", "patchesJson6902", "replacements"] {
        list(key).for_each(|entry| push(&entry["path"]));
    }
    for key in ["configMapGenerator", "secretGenerator"] {
        for generator in list(key) {
            for file in generator
                .get("files")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                // `key=path` or `path`
                if let Some(s) = file.as_str() {
                    push(&Value::from(s.split_once('=').map_or(s, |(_, p)| p)));
                }
            }
            generator
                .get("envs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .for_each(&mut push);
            push(&generator["env"]);
        }
    }
    push(&k["openapi"]["path"]);
    out
}

fn is_url(reference: &str) -> bool {
    reference.contains("://") || reference.starts_with("git@") || reference.starts_with("ssh:")
}

/// `github.com/org/repo//base?ref=v1`: kustomize fetches a reference that is not a local path
/// and whose first segment is a host name.
fn looks_like_host_path(reference: &str) -> bool {
    let Some((first, _)) = reference.split_once('/') else {
        return false;
    };
    let lower = first.to_ascii_lowercase();
    first.contains('.')
        && !first.starts_with('.')
        && !lower.ends_with(".yaml")
        && !lower.ends_with(".yml")
        && !lower.ends_with(".json")
}

/// Writes the kustomization kustomize-controller generates for a directory that has none (Flux
/// builds any directory): every `.yaml` and `.yml` file below it, and each subdirectory that has a
/// kustomization, not descended into (fluxcd/pkg's kustomize generator). Written in the tree
/// written out for rendering, never the user's; a directory that has one is left alone. Every job
/// over the directory writes the same text, so concurrent jobs may race harmlessly: each writes a
/// temporary file and renames it into place.
pub fn generate_missing(root: &std::path::Path, dir: &str) -> std::io::Result<()> {
    let full = root.join(dir);
    if FILE_NAMES.iter().any(|name| full.join(name).is_file()) {
        return Ok(());
    }
    let mut resources = Vec::new();
    collect_resources(&full, "", dir.is_empty(), &mut resources)?;
    let kustomization = serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    });
    let mut file = tempfile::NamedTempFile::new_in(&full)?;
    std::io::Write::write_all(&mut file, kustomization.to_string().as_bytes())?;
    file.persist(full.join(FILE_NAMES[0]))
        .map_err(|e| e.error)?;
    Ok(())
}

/// The resources of a generated kustomization below `base`/`relative`, in walk order.
fn collect_resources(
    base: &std::path::Path,
    relative: &str,
    at_root: bool,
    out: &mut Vec<String>,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(base.join(relative))?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if relative.is_empty() {
            name.clone()
        } else {
            format!("{relative}/{name}")
        };
        let kind = entry.file_type()?;
        if kind.is_dir() {
            // The renderer's own wrappers live at the root of the written-out tree.
            if at_root && relative.is_empty() && name == ".plumb-render" {
                continue;
            }
            if FILE_NAMES.iter().any(|f| entry.path().join(f).is_file()) {
                out.push(path);
            } else {
                collect_resources(base, &path, at_root, out)?;
            }
        } else if kind.is_file() && (name.ends_with(".yaml") || name.ends_with(".yml")) {
            out.push(path);
        }
        if out.len() > crate::limits::MAX_FILES_PER_SOURCE {
            return Err(std::io::Error::other(format!(
                "more than {} files to list in a generated kustomization",
                crate::limits::MAX_FILES_PER_SOURCE
            )));
        }
    }
    Ok(())
}

/// One `kustomize build`: a directory in Git (a kustomization, or plain files a generated one
/// lists), and what a GitOps controller adds on top of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KustomizeJob {
    /// The directory (repository path).
    pub dir: String,
    /// Kustomization fields the controller applies over the directory's own (`namePrefix`,
    /// `namespace`, `images`, `patches`, `labels`, `commonAnnotations`, ...), as kustomize spells
    /// them. `components` entries are repository paths.
    pub overlay: serde_json::Map<String, Value>,
}

impl KustomizeJob {
    pub fn new(dir: String) -> KustomizeJob {
        KustomizeJob {
            dir,
            overlay: Default::default(),
        }
    }
}

/// The wrapper kustomization, `up` levels below the repository root, that builds `dir` (a
/// repository path) with the job's overlay and asks for origin annotations.
pub fn wrapper(job: &KustomizeJob, up: &str) -> String {
    let relative = |path: &str| {
        let path = path.trim_end_matches('/');
        if path.is_empty() {
            up.trim_end_matches('/').to_string()
        } else {
            format!("{up}{path}")
        }
    };
    let mut kustomization = serde_json::Map::new();
    kustomization.insert(
        "apiVersion".into(),
        "kustomize.config.k8s.io/v1beta1".into(),
    );
    kustomization.insert("kind".into(), "Kustomization".into());
    kustomization.insert("resources".into(), vec![relative(&job.dir)].into());
    for (key, value) in &job.overlay {
        let value = match (key.as_str(), value) {
            ("components", Value::Array(paths)) => Value::Array(
                paths
                    .iter()
                    .map(|p| p.as_str().map_or(p.clone(), |p| relative(p).into()))
                    .collect(),
            ),
            _ => value.clone(),
        };
        kustomization.insert(key.clone(), value);
    }
    kustomization.insert("buildMetadata".into(), vec!["originAnnotations"].into());
    // JSON is YAML: kustomize reads it as written.
    Value::Object(kustomization).to_string()
}

/// Reads `kustomize build` output of the wrapper at `wrapper_dir` (repository-relative): each
/// object goes to the file its origin annotation names (the kustomization file, for generated
/// objects), the annotation removed. Objects are written as JSON, one per line: already parsed
/// once here, they parse again fastest that way.
pub fn split_output(
    stdout: &str,
    wrapper_dir: &str,
    fallback: &str,
) -> Result<Vec<CachedFile>, KustomizeError> {
    split_by_origin(stdout, |origin| {
        origin
            .and_then(|o| join_repo(wrapper_dir, &o))
            .unwrap_or_else(|| fallback.to_string())
    })
}

/// Reads kustomize's output into files, each object in the file `place` gives for the path its
/// origin annotation names (none when it has no annotation), the annotation removed.
fn split_by_origin(
    stdout: &str,
    place: impl Fn(Option<String>) -> String,
) -> Result<Vec<CachedFile>, KustomizeError> {
    let values = crate::yaml::parse_values(stdout, "kustomize output")
        .map_err(|e| KustomizeError::Output(e.to_string()))?;
    let mut files: Vec<CachedFile> = Vec::new();
    for (mut object, _) in values {
        let path = place(take_origin(&mut object));
        let json =
            serde_json::to_string(&object).map_err(|e| KustomizeError::Output(e.to_string()))?;
        match files.iter_mut().find(|f| f.path == path) {
            Some(file) => {
                file.text.push_str(&json);
                file.text.push('\n');
            }
            None => files.push(CachedFile {
                path,
                text: json + "\n",
            }),
        }
    }
    Ok(files)
}

/// A post-render of helm's output written out for `kustomize build`: the directory to build and
/// the path in Git of each file of helm's output, by its path in the render's directory.
pub struct PostRender {
    /// The last step's directory, relative to the render's directory.
    pub top: String,
    written: BTreeMap<String, String>,
}

/// Writes a post-render of `output` (helm's, split by template) under the render's own directory
/// `dir`, as helm-controller runs it: the first step's kustomization takes helm's output as its
/// resources, each later one the step before it, so the steps apply in order, each with its
/// fields (`patches`, `images`) as kustomize applies them in one kustomization. Each template's
/// output is a file of its own, so origin annotations, asked for at the last step, say which
/// template each object came from.
pub fn write_post_render(
    dir: &std::path::Path,
    output: &[CachedFile],
    steps: &[serde_json::Map<String, Value>],
) -> std::io::Result<PostRender> {
    let step_dir = |i: usize| format!("post-render-{i}");
    let mut written = BTreeMap::new();
    let mut resources = Vec::new();
    std::fs::create_dir_all(dir.join(step_dir(0)))?;
    for (i, file) in output.iter().enumerate() {
        let name = format!("helm-output-{i}.yaml");
        std::fs::write(dir.join(step_dir(0)).join(&name), &file.text)?;
        written.insert(format!("{}/{name}", step_dir(0)), file.path.clone());
        resources.push(Value::from(name));
    }
    let last = steps.len().saturating_sub(1);
    for (i, fields) in steps.iter().enumerate() {
        let mut kustomization = serde_json::Map::new();
        kustomization.insert(
            "apiVersion".into(),
            "kustomize.config.k8s.io/v1beta1".into(),
        );
        kustomization.insert("kind".into(), "Kustomization".into());
        let step_resources = if i == 0 {
            std::mem::take(&mut resources)
        } else {
            vec![Value::from(format!("../{}", step_dir(i - 1)))]
        };
        kustomization.insert("resources".into(), step_resources.into());
        for (key, value) in fields {
            kustomization.insert(key.clone(), value.clone());
        }
        if i == last {
            kustomization.insert("buildMetadata".into(), vec!["originAnnotations"].into());
        }
        std::fs::create_dir_all(dir.join(step_dir(i)))?;
        // JSON is YAML: kustomize reads it as written.
        std::fs::write(
            dir.join(step_dir(i)).join(FILE_NAMES[0]),
            Value::Object(kustomization).to_string(),
        )?;
    }
    Ok(PostRender {
        top: step_dir(last),
        written,
    })
}

impl PostRender {
    /// Reads the post-render's output back: each object into the template file it came from,
    /// else (a patch that replaced its annotations took the origin away) into `fallback`.
    pub fn split_output(
        &self,
        stdout: &str,
        fallback: &str,
    ) -> Result<Vec<CachedFile>, KustomizeError> {
        split_by_origin(stdout, |origin| {
            origin
                .and_then(|o| join_repo(&self.top, &o))
                .and_then(|path| self.written.get(&path).cloned())
                .unwrap_or_else(|| fallback.to_string())
        })
    }
}

/// The values of the Secrets among rendered `files`, which a failed post-render may echo.
pub fn rendered_secrets(files: &[CachedFile], scrubber: &mut Scrubber) {
    for file in files.iter().filter(|f| f.text.contains("Secret")) {
        for (object, _) in crate::yaml::parse_values(&file.text, &file.path).unwrap_or_default() {
            secret_values(&object, scrubber);
        }
    }
}

/// Removes the origin annotation (and an annotations map it leaves empty) and returns the path it
/// named: `path:` for a resource file, `configuredIn:` for a generated object.
fn take_origin(object: &mut Value) -> Option<String> {
    let annotations = object
        .get_mut("metadata")?
        .get_mut("annotations")?
        .as_object_mut()?;
    let origin = annotations.remove(ORIGIN)?;
    if annotations.is_empty()
        && let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut)
    {
        metadata.remove("annotations");
    }
    let text = origin.as_str()?;
    let parsed: Value = crate::yaml::from_str(text, ORIGIN).ok()?;
    parsed
        .get("path")
        .or_else(|| parsed.get("configuredIn"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_of_a_kustomization() {
        let k = json!({
            "resources": ["../../base", "deploy.yaml"],
            "components": ["../../components/x"],
            "patches": [{"path": "patch.yaml"}, {"patch": "inline"}],
            "patchesStrategicMerge": ["psm.yaml", "apiVersion: v1\nkind: X\n"],
            "configMapGenerator": [{"name": "c", "files": ["a.conf", "k=b.conf"], "envs": ["e.env"]}],
            "secretGenerator": [{"name": "s", "env": "s.env"}],
            "transformers": ["labels.yaml"]
        });
        assert_eq!(
            references(&k),
            [
                "../../base",
                "deploy.yaml",
                "../../components/x",
                "labels.yaml",
                "psm.yaml",
                "patch.yaml",
                "a.conf",
                "b.conf",
                "e.env",
                "s.env"
            ]
        );
    }

    #[test]
    fn a_directory_without_a_kustomization_gets_the_one_flux_generates() {
        let root = tempfile::tempdir().unwrap();
        let write = |path: &str| {
            let full = root.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(
                full,
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
            )
            .unwrap();
        };
        for path in [
            "plain/b.yaml",
            "plain/a.yml",
            "plain/README.md",
            "plain/nested/c.yaml",
            "plain/built/kustomization.yaml",
            "plain/built/inside.yaml",
            "kustomized/kustomization.yaml",
            ".plumb-render/0/kustomization.yaml",
            "top.yaml",
        ] {
            write(path);
        }
        let generated = |dir: &str| -> Value {
            let text =
                std::fs::read_to_string(root.path().join(dir).join("kustomization.yaml")).unwrap();
            serde_json::from_str::<Value>(&text).unwrap()["resources"].clone()
        };
        generate_missing(root.path(), "plain").unwrap();
        assert_eq!(
            generated("plain"),
            serde_json::json!(["a.yml", "b.yaml", "built", "nested/c.yaml"])
        );
        // A kustomization of the user's own is left alone.
        generate_missing(root.path(), "kustomized").unwrap();
        let own =
            std::fs::read_to_string(root.path().join("kustomized/kustomization.yaml")).unwrap();
        assert!(own.starts_with("apiVersion: v1\nkind: ConfigMap"), "{own}");
        // At the root, the renderer's own wrappers are no resource.
        generate_missing(root.path(), "").unwrap();
        assert_eq!(
            generated(""),
            serde_json::json!(["kustomized", "plain", "top.yaml"])
        );
    }

    #[test]
    fn remote_references() {
        assert!(is_url("https://github.com/org/repo//base?ref=v1"));
        assert!(is_url("git@github.com:org/repo.git"));
        assert!(!is_url("../base"));
        assert!(looks_like_host_path("github.com/org/repo/base?ref=v1"));
        assert!(!looks_like_host_path("../base"));
        assert!(!looks_like_host_path("deploy.yaml"));
        assert!(!looks_like_host_path("conf.d.yaml/x"));
    }

    #[test]
    fn a_post_render_chains_one_kustomization_per_step_and_reads_objects_back_by_template() {
        let dir = tempfile::tempdir().unwrap();
        let output = [
            CachedFile {
                path: "charts/cache/templates/deployment.yaml".into(),
                text: "# Source: cache/templates/deployment.yaml\nkind: Deployment\n".into(),
            },
            CachedFile {
                path: "charts/cache/templates/svc.yaml".into(),
                text: "# Source: cache/templates/svc.yaml\nkind: Service\n".into(),
            },
        ];
        let images = json!({"images": [{"name": "redis", "newTag": "7.4"}]});
        let patches = json!({"patches": [{"patch": "[]", "target": {"kind": "Service"}}]});
        let steps = [
            images.as_object().unwrap().clone(),
            patches.as_object().unwrap().clone(),
        ];
        let written = write_post_render(dir.path(), &output, &steps).unwrap();
        assert_eq!(written.top, "post-render-1");
        let read = |path: &str| -> Value {
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(path)).unwrap()).unwrap()
        };
        let first = read("post-render-0/kustomization.yaml");
        assert_eq!(
            first["resources"],
            json!(["helm-output-0.yaml", "helm-output-1.yaml"])
        );
        assert_eq!(first["images"], images["images"]);
        assert!(first.get("buildMetadata").is_none());
        let last = read("post-render-1/kustomization.yaml");
        assert_eq!(last["resources"], json!(["../post-render-0"]));
        assert_eq!(last["patches"], patches["patches"]);
        assert_eq!(last["buildMetadata"], json!(["originAnnotations"]));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("post-render-0/helm-output-1.yaml")).unwrap(),
            output[1].text
        );
        // Origins are relative to the last step; one a patch took away goes to the fallback.
        let stdout = "kind: Service\nmetadata:\n  name: s\n  annotations:\n    config.kubernetes.io/origin: |\n      path: ../post-render-0/helm-output-1.yaml\n---\nkind: Deployment\nmetadata:\n  name: d\n  annotations:\n    config.kubernetes.io/origin: |\n      configuredIn: kustomization.yaml\n";
        let files = written
            .split_output(stdout, "charts/cache/Chart.yaml")
            .unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "charts/cache/templates/svc.yaml");
        assert_eq!(
            files[0].text,
            "{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"}}\n"
        );
        assert_eq!(files[1].path, "charts/cache/Chart.yaml");
    }

    #[test]
    fn rendered_secret_values_are_scrubbed() {
        let mut scrubber = Scrubber::new();
        let files = [CachedFile {
            path: "c/templates/s.yaml".into(),
            text:
                "kind: Secret\nstringData: {token: hunter2-token}\ndata: {key: aHVudGVyMi1rZXk=}\n"
                    .into(),
        }];
        rendered_secrets(&files, &mut scrubber);
        let scrubbed = scrubber.scrub("got hunter2-token and hunter2-key and aHVudGVyMi1rZXk=");
        assert!(!scrubbed.contains("hunter2"), "{scrubbed}");
        assert!(!scrubbed.contains("aHVudGVyMi1rZXk="), "{scrubbed}");
    }

    #[test]
    fn output_goes_back_to_its_origin_without_the_annotation() {
        let out = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a-7h2k9m5f8t\n  annotations:\n    config.kubernetes.io/origin: |\n      configuredIn: ../../apps/x/kustomization.yaml\n      configuredBy:\n        kind: ConfigMapGenerator\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  annotations:\n    keep: me\n    config.kubernetes.io/origin: |\n      path: ../../base/svc.yaml\n";
        let files = split_output(out, ".plumb-render/1", "apps/x/kustomization.yaml").unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "apps/x/kustomization.yaml");
        assert_eq!(
            files[0].text,
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a-7h2k9m5f8t\"}}\n"
        );
        assert_eq!(files[1].path, "base/svc.yaml");
        assert!(files[1].text.contains("\"annotations\":{\"keep\":\"me\"}"));
        assert!(!files[1].text.contains("origin"));
    }
}
