//! `plumb init`: a starting `plumb.yaml` from what a repository already says about its
//! environments (docs/sources.md, "`plumb init`"). Argo CD Applications and ApplicationSets
//! become `argocd:` sources and Flux Kustomizations and HelmReleases under `clusters/<env>/`
//! become `flux:` sources; then folder layouts — Kustomize overlays under `*/overlays/<env>`,
//! folders under `envs/<env>` or `environments/<env>`, Helm `values-<env>.yaml` beside a chart —
//! give the rest, leaving out what a controller object already reads. What plumb cannot follow
//! is said on stderr and as comments in the written file. The user then edits it: namespaces,
//! live state, parity maps.

mod argocd;
mod flux;
mod layout;
mod promotion;
mod remote_bases;
mod repositories;
mod writer;

use super::{AppError, write_output};
use crate::config::FILE_NAME;
use crate::exit::Exit;
use crate::schema::{CONFIG_SCHEMA_FILE, FileKind};
use repositories::ThisRepository;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A source found for an environment, as plumb.yaml writes it. Paths are relative to the
/// directory init writes plumb.yaml in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Found {
    Manifests(String),
    Kustomize(String),
    Helm {
        chart: String,
        values: Vec<String>,
    },
    /// An Argo CD Application (or one an ApplicationSet generates): its file and, when the file
    /// holds several, its name.
    Argocd {
        file: String,
        name: Option<String>,
    },
    /// A directory (or file) of Flux objects.
    Flux(String),
}

impl Found {
    /// The path this source reads, for telling whether two sources overlap.
    fn path(&self) -> &str {
        match self {
            Found::Manifests(p) | Found::Kustomize(p) | Found::Flux(p) => p,
            Found::Helm { chart, .. } => chart,
            Found::Argocd { file, .. } => file,
        }
    }

    fn is_controller(&self) -> bool {
        matches!(self, Found::Argocd { .. } | Found::Flux(_))
    }
}

/// Something plumb cannot follow, said on stderr and as a comment: in its environment's entry
/// when it belongs to one, else at the top of the file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Warning {
    env: Option<String>,
    text: String,
}

/// What init found, by environment.
#[derive(Debug, Default)]
struct Findings {
    sources: BTreeMap<String, Vec<Found>>,
    /// Namespaces the environment's controller objects deploy to (Argo CD's
    /// `destination.namespace`), for the parity pairs' namespace maps.
    namespaces: BTreeMap<String, BTreeSet<String>>,
    /// Paths (relative to the config's directory) that a controller object reads: folder-layout
    /// sources overlapping one are left out, as the controller's source already covers them.
    covered: BTreeSet<String>,
    warnings: Vec<Warning>,
    /// Folder-layout sources left out because a controller object reads them.
    left_out: Vec<(String, Found)>,
}

impl Findings {
    fn add(&mut self, env: &str, found: Found) {
        let sources = self.sources.entry(env.to_string()).or_default();
        if !sources.contains(&found) {
            sources.push(found);
        }
    }

    fn warn(&mut self, env: Option<&str>, text: String) {
        let warning = Warning {
            env: env.map(str::to_string),
            text,
        };
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }
}

/// A Kubernetes object in a file of the repository (a controller's object: Argo CD or Flux).
#[derive(Debug, Clone)]
struct Object {
    value: Value,
    /// Relative to the config's directory.
    file: String,
    line: u64,
}

impl Object {
    fn api_version(&self) -> &str {
        self.value["apiVersion"].as_str().unwrap_or("")
    }

    fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }

    fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("")
    }

    fn namespace(&self) -> Option<&str> {
        self.value["metadata"]["namespace"].as_str()
    }

    fn is(&self, group: &str, kind: &str) -> bool {
        self.api_version().starts_with(&format!("{group}/")) && self.kind() == kind
    }

    /// `Kind namespace/name (file:line)`, as warnings name it.
    fn describe(&self) -> String {
        let name = match self.namespace() {
            Some(ns) => format!("{ns}/{}", self.name()),
            None => self.name().to_string(),
        };
        format!("{} `{name}` ({}:{})", self.kind(), self.file, self.line)
    }
}

/// Where init runs: the directory plumb.yaml goes in, inside the Git repository whose root
/// controller objects' paths are relative to.
#[derive(Debug)]
struct Here {
    root: PathBuf,
    /// The repository's working tree (the root itself outside Git).
    repo_root: PathBuf,
}

impl Here {
    fn new(root: &Path) -> Here {
        let repo_root = git2::Repository::discover(root)
            .ok()
            .and_then(|r| r.workdir().map(Path::to_path_buf))
            .and_then(|w| w.canonicalize().ok())
            .unwrap_or_else(|| root.to_path_buf());
        Here {
            root: root.canonicalize().unwrap_or_else(|_| root.to_path_buf()),
            repo_root,
        }
    }

    /// A path relative to the config's directory.
    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }

    /// A repository path (as Argo CD and Flux write them: `./apps/staging`, `apps/staging/`)
    /// cleaned and made relative to the config's directory; `None` for one that leaves the
    /// repository.
    fn repository_path(&self, path: &str) -> Option<String> {
        let mut parts: Vec<&str> = Vec::new();
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop()?;
                }
                other => parts.push(other),
            }
        }
        let absolute = self.repo_root.join(parts.join("/"));
        match absolute.strip_prefix(&self.root) {
            Ok(rest) => Some(rest.to_string_lossy().replace('\\', "/")),
            // Above the config's directory: `../` for each level up.
            Err(_) => {
                let below = self.root.strip_prefix(&self.repo_root).ok()?;
                let up = "../".repeat(below.components().count());
                Some(format!("{up}{}", parts.join("/")))
            }
        }
    }

    /// Whether a path relative to the config's directory exists in the working tree.
    fn exists(&self, relative: &str) -> bool {
        !relative.is_empty() && self.root.join(relative).exists()
    }
}

pub fn init(root: &Path, force: bool, output: Option<&Path>) -> Result<Exit, AppError> {
    let target = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.join(FILE_NAME));
    let to_stdout = output == Some(Path::new("-"));
    if !to_stdout && target.exists() && !force {
        return Err(AppError::ConfigExists {
            path: target.display().to_string(),
        });
    }
    let schema_text = FileKind::Config.schema_text();
    let schema_path = target
        .parent()
        .unwrap_or(Path::new(""))
        .join(CONFIG_SCHEMA_FILE);
    // The same schema already there is left as it is; another one (an older plumb's, or a file of
    // the user's) is replaced only with --force, as plumb.yaml is.
    let schema_is_current = std::fs::read_to_string(&schema_path).is_ok_and(|t| t == schema_text);
    if !to_stdout && schema_path.exists() && !schema_is_current && !force {
        return Err(AppError::ConfigExists {
            path: schema_path.display().to_string(),
        });
    }
    let here = Here::new(root);
    let files = layout::walk(&here.root);
    let objects = controller_objects(&here, &files);
    let mut this = ThisRepository::discover(&here.root);
    let mut findings = Findings::default();
    argocd::find(&here, &files, &objects, &mut this, &mut findings);
    flux::find(&here, &objects, &mut this, &mut findings);
    let controller_files: BTreeSet<&str> = objects.iter().map(|o| o.file.as_str()).collect();
    for (env, found) in layout::find(&here, &files, &controller_files) {
        if overlaps_covered(&findings, &found) {
            findings.left_out.push((env, found));
        } else {
            findings.add(&env, found);
        }
    }
    remote_bases::check(&here, &files, &mut findings);
    if findings.sources.is_empty() {
        return Err(AppError::NothingToInit {
            root: root.display().to_string(),
        });
    }
    let text = format!(
        "{}{}",
        schema_comment(),
        writer::render_config(&here, &findings, &this)
    );
    for warning in &findings.warnings {
        let env = warning
            .env
            .as_ref()
            .map(|e| format!("environment `{e}`: "))
            .unwrap_or_default();
        eprintln!("plumb: warning: {env}{}", writer::one_line(&warning.text));
    }
    if to_stdout {
        write_output(None, &text)?;
        eprintln!(
            "plumb: the first line names {CONFIG_SCHEMA_FILE} for editors: write it beside the file with `plumb schema config --out-file {CONFIG_SCHEMA_FILE}`"
        );
    } else {
        if !schema_is_current {
            std::fs::write(&schema_path, &schema_text).map_err(|source| AppError::Write {
                path: schema_path.display().to_string(),
                source,
            })?;
        }
        std::fs::write(&target, &text).map_err(|source| AppError::Write {
            path: target.display().to_string(),
            source,
        })?;
        eprintln!(
            "plumb: wrote {} with {} environment(s): {}\n  next: set each environment's namespace and live state, then run `plumb audit`",
            target.display(),
            findings.sources.len(),
            findings
                .sources
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
        if !schema_is_current {
            eprintln!(
                "plumb: wrote {}, the schema its first line names for editors",
                schema_path.display()
            );
        }
    }
    Ok(Exit::Clean)
}

/// The first lines of the written plumb.yaml: the `yaml-language-server` comment naming the
/// schema file beside it (a relative path, so editors find it with no network and no published
/// URL), and how to refresh that file after an upgrade (docs/config.md, "Schemas").
fn schema_comment() -> String {
    format!(
        "# yaml-language-server: $schema={CONFIG_SCHEMA_FILE}\n\
         # {CONFIG_SCHEMA_FILE} beside this file is its schema, for editors; after upgrading plumb,\n\
         # refresh it with `plumb schema config --out-file {CONFIG_SCHEMA_FILE}`.\n"
    )
}

/// Whether a folder-layout source reads what a controller object reads (the same path, one
/// inside the other) or holds a controller source's file: writing both would declare the same
/// objects twice.
fn overlaps_covered(findings: &Findings, found: &Found) -> bool {
    let path = found.path();
    let controller_paths = findings
        .sources
        .values()
        .flatten()
        .filter(|f| f.is_controller())
        .map(Found::path);
    findings
        .covered
        .iter()
        .map(String::as_str)
        .chain(controller_paths)
        .any(|covered| is_within(path, covered) || is_within(covered, path))
}

/// Whether `path` is `dir` or below it (both relative, `/`-separated).
fn is_within(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    dir.is_empty()
        || path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Every Argo CD and Flux object in the repository's YAML files. Files that do not parse are
/// passed over: init guesses a starting point, and the run that reads them reports them.
fn controller_objects(here: &Here, files: &[PathBuf]) -> Vec<Object> {
    let mut objects = Vec::new();
    for file in files {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !(name.ends_with(".yaml") || name.ends_with(".yml")) {
            continue;
        }
        let Ok(text) = crate::input_file::read_text(file, crate::input_file::InputKind::Manifest)
        else {
            continue;
        };
        if !(text.contains("fluxcd.io") || text.contains("argoproj.io")) {
            continue;
        }
        let relative = here.relative(file);
        let Ok(documents) = crate::yaml::parse_documents(&text, &relative) else {
            continue;
        };
        for document in documents {
            let api = document.value["apiVersion"].as_str().unwrap_or("");
            if api.contains("fluxcd.io/") || api.starts_with("argoproj.io/") {
                objects.push(Object {
                    value: document.value,
                    file: relative.clone(),
                    line: document.line,
                });
            }
        }
    }
    objects
}

/// The `<env>` folder when `relative` (a path relative to the config's directory) is below
/// `…/<one of names>/<env>/`: `clusters/staging/apps.yaml` → `clusters/staging`.
fn folder_under(relative: &str, names: &[&str]) -> Option<String> {
    let parts: Vec<&str> = relative.split('/').collect();
    // The last part is the file itself: the environment folder is a directory above it.
    let dirs = parts.len().checked_sub(1)?;
    (1..dirs)
        .rev()
        .find(|&i| names.contains(&parts[i - 1]))
        .map(|i| parts[..=i].join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_folders_and_overlaps() {
        assert_eq!(
            folder_under("clusters/staging/apps.yaml", &["clusters"]).as_deref(),
            Some("clusters/staging")
        );
        assert_eq!(
            folder_under(
                "gitops/clusters/prod-eu/flux-system/gotk-sync.yaml",
                &["clusters"]
            )
            .as_deref(),
            Some("gitops/clusters/prod-eu")
        );
        assert_eq!(folder_under("clusters/apps.yaml", &["clusters"]), None);
        assert!(is_within("envs/staging/app", "envs/staging"));
        assert!(is_within("envs/staging", "envs/staging/"));
        assert!(!is_within("envs/staging-eu", "envs/staging"));
    }
}
