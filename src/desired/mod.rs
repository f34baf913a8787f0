//! Desired state: what Git says each environment should run.

pub mod disk;
pub mod git;
pub mod manifests;
pub mod render;

use crate::config::{Environment, HelmSource, Source};
use crate::model::RunError;
use crate::yaml::Document;
use git::GitTree;
use rayon::prelude::*;
use render::{Job, JobKind, Renderer};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum DesiredError {
    #[error("environment `{env}`, source `{source_name}`: {error}")]
    Source {
        env: String,
        source_name: String,
        // Not `#[source]`: the message already holds it, and miette would print it twice.
        error: manifests::ManifestError,
    },
    #[error(transparent)]
    Git(#[from] git::GitError),
    #[error("environment `{env}`, source `{source_name}`: {error}")]
    Kustomization {
        env: String,
        source_name: String,
        // Not `#[source]`: the message already holds it.
        error: render::kustomize::KustomizeError,
    },
}

/// The documents of one environment, and what could not be rendered.
pub struct DesiredState {
    pub documents: Vec<Document>,
    pub errors: Vec<RunError>,
}

/// A manifest file's path (in Git, or on disk) and contents.
pub struct ManifestFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// A manifest file and the source that brought it.
pub struct SourceFile {
    pub source: String,
    pub file: ManifestFile,
    /// Rendered by helm or kustomize: `file.path` names the template or file in Git the objects
    /// came from, but lines in the rendered text are not lines of that file.
    pub rendered: bool,
}

/// The files of an environment, not yet parsed, and what could not be rendered.
pub struct EnvironmentFiles {
    pub env: String,
    pub files: Vec<SourceFile>,
    pub errors: Vec<RunError>,
}

/// Reads every source of `env` from the tree and parses it.
pub fn read_environment(
    tree: &GitTree,
    renderer: &Renderer,
    config_dir: &Path,
    name: &str,
    env: &Environment,
) -> Result<DesiredState, DesiredError> {
    let EnvironmentFiles {
        env: name,
        files,
        errors,
    } = environment_files(tree, renderer, config_dir, name, env)?;
    let mut parsed = parse(&name, files)?;
    parsed.errors.splice(0..0, errors);
    Ok(parsed)
}

/// Collects the files of every source of `env`, rendering `helm:` and `kustomize:` sources.
/// Bad input (a missing path) is an error; a render that fails is recorded as a render error, so
/// the run is incomplete rather than silently missing objects, and the other sources go on.
pub fn environment_files(
    tree: &GitTree,
    renderer: &Renderer,
    config_dir: &Path,
    name: &str,
    env: &Environment,
) -> Result<EnvironmentFiles, DesiredError> {
    // Each source's files keep the source's place in the list, renders included.
    let mut slots: Vec<Vec<SourceFile>> = Vec::with_capacity(env.sources.len());
    let mut jobs: Vec<(usize, Job)> = Vec::new();
    let mut source_errors = Vec::new();
    for (index, source) in env.sources.iter().enumerate() {
        let mut files = Vec::new();
        let plain = |found: Vec<ManifestFile>| {
            found.into_iter().map(|file| SourceFile {
                source: source.describe(),
                file,
                rendered: false,
            })
        };
        match source {
            Source::Manifests(path) => {
                let repo_path = tree.repo_path(config_dir, path)?;
                match manifests::files(tree, &repo_path) {
                    Ok(found) => files.extend(plain(found)),
                    Err(manifests::ManifestError::Git(
                        error @ git::GitError::SubmoduleUnavailable { .. },
                    )) => source_errors.push(unreadable(name, source, &error)),
                    Err(error) => {
                        return Err(DesiredError::Source {
                            env: name.to_string(),
                            source_name: source.describe(),
                            error,
                        });
                    }
                }
            }
            Source::Kustomize(path) => {
                let repo_path = tree.repo_path(config_dir, path)?;
                let target = match render::kustomize::target(tree, &repo_path) {
                    Ok(target) => target,
                    Err(render::kustomize::KustomizeError::Git(
                        error @ git::GitError::SubmoduleUnavailable { .. },
                    )) => {
                        source_errors.push(unreadable(name, source, &error));
                        slots.push(files);
                        continue;
                    }
                    Err(error) => {
                        return Err(DesiredError::Kustomization {
                            env: name.to_string(),
                            source_name: source.describe(),
                            error,
                        });
                    }
                };
                let job = |dir: String| Job {
                    source: source.describe(),
                    kind: JobKind::Kustomize(dir),
                };
                match target {
                    render::kustomize::Target::Kustomization(dir) => jobs.push((index, job(dir))),
                    render::kustomize::Target::Plain {
                        files: found,
                        kustomizations,
                    } => {
                        files.extend(plain(found));
                        jobs.extend(kustomizations.into_iter().map(|d| (index, job(d))));
                    }
                    render::kustomize::Target::Missing => {
                        return Err(missing_path(tree, name, source, &repo_path));
                    }
                }
            }
            Source::Helm(helm) if helm.chart.contains("://") => {
                // `oci://…`, `https://…`: nothing in Git to render, and plumb does not fetch.
                source_errors.push(RunError {
                    env: name.to_string(),
                    kind: "render".into(),
                    source: Some(source.describe()),
                    resource: None,
                    message: format!(
                        "environment `{name}`, source `{}`: helm: the chart `{}` is remote and plumb renders offline, from Git alone\n  help: vendor the chart into the repository (helm pull --untar) and point `chart:` at its directory",
                        source.describe(),
                        helm.chart
                    ),
                });
            }
            Source::Helm(helm) => {
                let job = helm_job(tree, config_dir, name, env, source, helm)?;
                jobs.push((
                    index,
                    Job {
                        source: source.describe(),
                        kind: JobKind::Helm(job),
                    },
                ));
            }
        }
        slots.push(files);
    }
    let mut errors = source_errors;
    let only_jobs: Vec<Job> = jobs.iter().map(|(_, j)| j.clone()).collect();
    for ((index, _), result) in jobs.iter().zip(renderer.render(tree, name, &only_jobs)) {
        match result {
            Ok(files) => slots[*index].extend(files),
            Err(e) => errors.push(e),
        }
    }
    Ok(EnvironmentFiles {
        env: name.to_string(),
        files: slots.into_iter().flatten().collect(),
        errors,
    })
}

/// A source that could not be read from Git (a submodule whose commit is not in the clone): a
/// `render` error of that source, so the run is incomplete rather than missing its objects.
fn unreadable(env: &str, source: &Source, error: &git::GitError) -> RunError {
    RunError {
        env: env.to_string(),
        kind: "render".into(),
        source: Some(source.describe()),
        resource: None,
        message: format!(
            "environment `{env}`, source `{}`: {error}",
            source.describe()
        ),
    }
}

fn missing_path(tree: &GitTree, env: &str, source: &Source, path: &str) -> DesiredError {
    DesiredError::Source {
        env: env.to_string(),
        source_name: source.describe(),
        error: manifests::ManifestError::MissingPath {
            path: path.to_string(),
            rev: tree.rev.clone(),
            commit: tree.commit.to_string()[..12].to_string(),
        },
    }
}

/// A `helm:` source as a render job: paths resolved to repository paths and checked to exist at
/// the revision (a missing one is bad input), release and namespace filled in (the chart
/// directory's name; the source's namespace, else the environment's).
fn helm_job(
    tree: &GitTree,
    config_dir: &Path,
    name: &str,
    env: &Environment,
    source: &Source,
    helm: &HelmSource,
) -> Result<render::helm::HelmJob, DesiredError> {
    let resolve = |p: &str| -> Result<String, DesiredError> {
        let repo_path = tree.repo_path(config_dir, p)?;
        match tree.kind_of(&repo_path)? {
            Some(_) => Ok(repo_path),
            None => Err(missing_path(tree, name, source, &repo_path)),
        }
    };
    let chart = resolve(&helm.chart)?;
    let values = helm
        .values
        .iter()
        .map(|v| resolve(v))
        .collect::<Result<Vec<_>, _>>()?;
    let release = helm.release.clone().unwrap_or_else(|| {
        chart
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .unwrap_or("release")
            .to_string()
    });
    Ok(render::helm::HelmJob {
        chart,
        release,
        namespace: helm.namespace.clone().or_else(|| env.namespace.clone()),
        values,
        set: helm
            .set
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect(),
    })
}

/// Parses files in parallel, keeping their order; a parse error names the source it came from.
///
/// A file a tool rendered that does not parse (a duplicate key in Helm's output, a depth or alias
/// limit reached) is a defect of that render, not a mistake in a file the user can point at: it
/// is a `render` error for its source (the run is incomplete, exit 3) and its objects are left
/// out. A file from Git that does not parse is bad input (exit 2).
pub fn parse(env: &str, files: Vec<SourceFile>) -> Result<DesiredState, DesiredError> {
    let parsed: Vec<Result<Result<Vec<Document>, RunError>, DesiredError>> = files
        .into_par_iter()
        .map(
            |SourceFile {
                 source,
                 file,
                 rendered,
             }| {
                let path = file.path.clone();
                match manifests::parse_file(file) {
                    Ok(mut documents) => {
                        if rendered {
                            // A line of rendered output is no line of the file in Git: unknown.
                            documents.iter_mut().for_each(|d| d.line = 0);
                        }
                        Ok(Ok(documents))
                    }
                    Err(error) if rendered => Ok(Err(RunError {
                        env: env.to_string(),
                        kind: "render".into(),
                        message: format!(
                            "environment `{env}`, source `{source}`: the rendered output for {path} does not parse: {}\n  help: the chart or overlay renders invalid YAML; fix the template that writes it",
                            rendered_parse_error(&error)
                        ),
                        source: Some(source),
                        resource: None,
                    })),
                    Err(error) => Err(DesiredError::Source {
                        env: env.to_string(),
                        source_name: source,
                        error,
                    }),
                }
            },
        )
        .collect();
    let mut state = DesiredState {
        documents: Vec::new(),
        errors: Vec::new(),
    };
    for result in parsed {
        match result? {
            Ok(documents) => state.documents.extend(documents),
            Err(error) => state.errors.push(error),
        }
    }
    Ok(state)
}

/// What went wrong in a rendered file, without its line: lines of rendered output are no lines of
/// a file the user has.
fn rendered_parse_error(error: &manifests::ManifestError) -> String {
    match error {
        manifests::ManifestError::Yaml(e) => e.message.clone(),
        other => other.to_string(),
    }
}
