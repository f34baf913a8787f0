//! `argocd:` sources: an Argo CD Application, or one Application an ApplicationSet generates,
//! followed as Argo CD would (docs/sources.md, section `argocd:`).
//!
//! The file is read from Git at the ref and parsed like any other YAML. Which Application the
//! environment is must be unambiguous (`name:` picks one), or the file is bad input (exit 2).
//! Each of its sources in this repository becomes a render job (helm, kustomize) or plain
//! manifest files, marked with the Application as their owner and its destination namespace;
//! everything plumb does not follow is a `render` error of the source naming the field, and the
//! Application's live objects are then not judged.

mod application;
pub(crate) mod appset;
mod ignore;

use super::git::GitError;
use super::{DeclaredOwner, DesiredError, Followed, Reading};
use crate::config::{ControllerSource, Environment, Source};
use crate::model::{Owner, RunError};
use git2::ObjectType;
use serde_json::Value;

/// Why an `argocd:` file cannot be used at all: bad input the user must fix (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ArgocdError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(
        "`{path}` does not exist at {rev}\n  help: check the `argocd:` path in plumb.yaml (it is read from Git, not the working tree: commit new files first)"
    )]
    Missing { path: String, rev: String },
    #[error("{0}\n  help: fix the file and commit it; plumb reads it from Git")]
    Yaml(crate::yaml::YamlError),
    #[error("{file}:{line}: {message}\n  help: {help}")]
    Unusable {
        file: String,
        line: u64,
        message: String,
        help: String,
    },
}

/// One Application the file holds or an ApplicationSet in it generates, and where it is written.
struct Candidate {
    application: Value,
    line: u64,
    /// The ApplicationSet that generated it.
    generated_by: Option<String>,
}

impl Candidate {
    fn name(&self) -> &str {
        self.application["metadata"]["name"].as_str().unwrap_or("")
    }
}

/// Follows the Argo CD Application (or generated Application) `controller` names in environment
/// `env`: its render jobs, plain files, owner and drift rules, or the `render` errors saying what
/// could not be followed.
pub fn follow(
    reading: &Reading<'_>,
    env: &str,
    _environment: &Environment,
    source: &Source,
    controller: &ControllerSource,
) -> Result<Followed, DesiredError> {
    let wrap = |error: ArgocdError| DesiredError::Argocd {
        env: env.to_string(),
        source_name: source.describe(),
        error,
    };
    let tree = reading.tree;
    let path = tree.repo_path(&reading.config.dir, &controller.path)?;
    if tree.kind_of(&path)? != Some(ObjectType::Blob) {
        return Err(wrap(ArgocdError::Missing {
            path,
            rev: tree.rev.clone(),
        }));
    }
    let bytes = tree.read(&path)?.bytes;
    let text = String::from_utf8(bytes).map_err(|_| {
        wrap(ArgocdError::Unusable {
            file: path.clone(),
            line: 0,
            message: "is not UTF-8 text".into(),
            help: "an `argocd:` source names a YAML file of Argo CD Applications".into(),
        })
    })?;
    let documents =
        crate::yaml::parse_values(&text, &path).map_err(|e| wrap(ArgocdError::Yaml(e)))?;
    let repositories = this_repository(reading);
    let mut candidates = Vec::new();
    // ApplicationSets that could not be expanded: (name, line, why).
    let mut unexpanded: Vec<(String, u64, String)> = Vec::new();
    for (document, line) in documents {
        let api = document["apiVersion"].as_str().unwrap_or("");
        if !api.starts_with("argoproj.io/") {
            continue;
        }
        match document["kind"].as_str() {
            Some("Application") => {
                if !document["metadata"]["name"].is_string() {
                    return Err(wrap(unusable(
                        &path,
                        line,
                        "an Application without `metadata.name`",
                        "give the Application a name, as Argo CD requires",
                    )));
                }
                candidates.push(Candidate {
                    application: document,
                    line,
                    generated_by: None,
                });
            }
            Some("ApplicationSet") => {
                let set_name = document["metadata"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                let mut directories = appset::TreeDirectories {
                    tree,
                    repositories: &repositories,
                };
                match appset::expand(&document, &mut directories) {
                    Ok(generated) => {
                        candidates.extend(generated.into_iter().map(|application| Candidate {
                            application,
                            line,
                            generated_by: Some(set_name.clone()),
                        }))
                    }
                    Err(why) => unexpanded.push((set_name, line, why)),
                }
            }
            // AppProjects and other Argo CD objects beside the Application: not sources.
            _ => {}
        }
    }
    let names = || {
        candidates
            .iter()
            .map(|c| c.name().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let picked = match &controller.name {
        Some(name) => match candidates.iter().position(|c| c.name() == name) {
            Some(index) => index,
            None if !unexpanded.is_empty() => {
                // The named Application may be one the unexpanded sets would generate: what
                // could not be followed is said, and its live objects are not judged.
                return Ok(not_expanded(env, source, &path, name, unexpanded));
            }
            None => {
                let held = if candidates.is_empty() {
                    "no Application".to_string()
                } else {
                    format!("only {}", names())
                };
                return Err(wrap(unusable(
                    &path,
                    candidates.first().map_or(1, |c| c.line),
                    &format!("no Application named `{name}`: the file holds {held}"),
                    "set `name:` of this source in plumb.yaml to one of the Applications the file holds or generates",
                )));
            }
        },
        None => match (candidates.len(), unexpanded.is_empty()) {
            (1, true) => 0,
            (0, true) => {
                return Err(wrap(unusable(
                    &path,
                    1,
                    "holds no Argo CD Application or ApplicationSet (apiVersion argoproj.io/v1alpha1)",
                    "point the `argocd:` source at the file that declares the environment's Application",
                )));
            }
            (0, false) => {
                return Ok(not_expanded(env, source, &path, "", unexpanded));
            }
            (n, _) => {
                let line = candidates.get(1).map_or(1, |c| c.line);
                return Err(wrap(unusable(
                    &path,
                    line,
                    &format!(
                        "holds {n} Applications ({}), and the source does not say which one this environment is",
                        names()
                    ),
                    "add `name: <Application>` beside `argocd:` in plumb.yaml",
                )));
            }
        },
    };
    let candidate = &candidates[picked];
    tracing::info!(
        env,
        file = %path,
        application = candidate.name(),
        generated_by = candidate.generated_by.as_deref().unwrap_or(""),
        "following an Argo CD Application"
    );
    Ok(application::follow(
        &application::Context {
            reading,
            env,
            source,
            file: &path,
            line: candidate.line,
            repositories: &repositories,
        },
        &candidate.application,
    ))
}

fn unusable(file: &str, line: u64, message: &str, help: &str) -> ArgocdError {
    ArgocdError::Unusable {
        file: file.to_string(),
        line,
        message: message.to_string(),
        help: help.to_string(),
    }
}

/// The URLs that name this repository: plumb.yaml's `repositories:`, else the URL of the
/// `origin` remote of the repository plumb reads (none: every Git source is another repository).
fn this_repository(reading: &Reading<'_>) -> Vec<String> {
    if reading.config.config.repositories.is_empty() {
        reading.tree.remote_url("origin").into_iter().collect()
    } else {
        reading.config.config.repositories.clone()
    }
}

/// ApplicationSets that could not be expanded: a `render` error each, and the Application the
/// source names (if any) an owner whose live objects are not judged.
fn not_expanded(
    env: &str,
    source: &Source,
    file: &str,
    name: &str,
    unexpanded: Vec<(String, u64, String)>,
) -> Followed {
    let errors = unexpanded
        .into_iter()
        .map(|(set, line, why)| {
            render_error(
                env,
                source,
                &format!("ApplicationSet `{set}` ({file}:{line}) cannot be expanded: {why}"),
            )
        })
        .collect();
    let owners = if name.is_empty() {
        Vec::new()
    } else {
        vec![DeclaredOwner {
            source: source.describe(),
            owner: Owner::ArgoApplication(name.to_string()),
            failed: true,
        }]
    };
    Followed {
        errors,
        owners,
        ..Followed::default()
    }
}

/// A `render` error of `source`: what could not be followed, so the run is incomplete.
fn render_error(env: &str, source: &Source, message: &str) -> RunError {
    RunError::render(env, &source.describe(), message)
}

/// Whether `revision` (an Argo CD `targetRevision` or a git generator's `revision`) is the
/// audited one: empty and `HEAD` are; a branch or tag name is taken as the audited revision (CI
/// checks out bare commits); a commit must be the resolved one.
fn check_revision(tree: &super::git::GitTree, field: &str, revision: &str) -> Result<(), String> {
    let revision = revision.trim();
    if revision.is_empty() || revision == "HEAD" {
        return Ok(());
    }
    let is_commit =
        (7..=40).contains(&revision.len()) && revision.chars().all(|c| c.is_ascii_hexdigit());
    let commit = tree.commit.to_string();
    if is_commit {
        if commit.starts_with(&revision.to_ascii_lowercase()) {
            return Ok(());
        }
        return Err(format!(
            "`{field}` is the commit {revision}, but plumb audits {} ({}): the Application deploys another revision than the one read\n  help: audit that commit (--ref {revision}), or point targetRevision at a branch or tag",
            tree.rev,
            &commit[..12]
        ));
    }
    tracing::info!(
        field,
        revision,
        audited = %tree.rev,
        commit = &commit[..12],
        "targetRevision names a branch or tag: taken as the audited revision"
    );
    Ok(())
}
