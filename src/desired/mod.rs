//! Desired state: what Git says each environment should run.

pub mod argocd;
pub mod disk;
pub mod flux;
pub mod git;
pub mod manifests;
pub mod render;
pub mod repository;

use crate::config::{ChartSpec, Environment, HelmSource, LoadedConfig, Source};
use crate::model::{Origin, Owner, RunError};
use crate::yaml::Document;
use git::GitTree;
use rayon::prelude::*;
use render::{Job, JobKind, Renderer};
use std::path::Path;
use std::sync::Arc;

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
    #[error("environment `{env}`, source `{source_name}`: {error}")]
    Argocd {
        env: String,
        source_name: String,
        // Not `#[source]`: the message already holds it.
        error: argocd::ArgocdError,
    },
    /// A `flux:` path that holds no Flux object to follow, or a file there that does not parse.
    #[error("environment `{env}`, source `{source_name}`: {error}")]
    Flux {
        env: String,
        source_name: String,
        // Not `#[source]`: the message already holds it.
        error: flux::FluxError,
    },
}

/// The documents of one environment, and what could not be rendered.
pub struct DesiredState {
    pub documents: Vec<Document>,
    pub errors: Vec<RunError>,
    /// Who applies the objects of each source: live objects these owners mark are this
    /// environment's to judge (docs/sources.md, live ownership).
    pub owners: Vec<DeclaredOwner>,
    /// Drift `ignore` rules the sources declare for their own objects (Argo CD
    /// `ignoreDifferences`), judged before the user's rules in this environment's drift.
    pub rules: Vec<crate::policy::rules::Rule>,
}

/// An owner of live objects that one of the environment's sources declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredOwner {
    /// The source as plumb.yaml names it (`flux: clusters/production`); its `render` errors carry
    /// the same text.
    pub source: String,
    pub owner: Owner,
    /// Its objects could not be rendered (a `render` error of `source` says why): its live objects
    /// are not judged.
    pub failed: bool,
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
    /// Who applies the file's objects and their namespace, where the source says.
    pub origin: Option<Arc<Origin>>,
}

/// The files of an environment, not yet parsed, and what could not be rendered.
pub struct EnvironmentFiles {
    pub env: String,
    pub files: Vec<SourceFile>,
    pub errors: Vec<RunError>,
    pub owners: Vec<DeclaredOwner>,
    pub rules: Vec<crate::policy::rules::Rule>,
}

/// What reading an environment's sources needs beyond the environment itself.
pub struct Reading<'a> {
    pub tree: &'a GitTree,
    pub renderer: &'a Renderer,
    pub config: &'a LoadedConfig,
}

/// Reads every source of `env` from the tree and parses it.
pub fn read_environment(
    reading: &Reading<'_>,
    name: &str,
    env: &Environment,
) -> Result<DesiredState, DesiredError> {
    let EnvironmentFiles {
        env: name,
        files,
        errors,
        owners,
        rules,
    } = environment_files(reading, name, env)?;
    let mut parsed = parse(&name, files)?;
    parsed.errors.splice(0..0, errors);
    parsed.owners = owners;
    parsed.rules = rules;
    Ok(parsed)
}

/// What following an `argocd:` or `flux:` source found: files (rendered or plain), render errors
/// and the owners that mark its live objects.
#[derive(Default)]
pub struct Followed {
    pub files: Vec<SourceFile>,
    pub errors: Vec<RunError>,
    pub owners: Vec<DeclaredOwner>,
    /// Renders still to run: they join the environment's other renders, so following a
    /// controller object starts no tool a hand-written source would not.
    pub jobs: Vec<Job>,
    /// Drift `ignore` rules for the followed objects (Argo CD `ignoreDifferences`).
    pub rules: Vec<crate::policy::rules::Rule>,
}

/// Collects the files of every source of `env`, rendering `helm:` and `kustomize:` sources.
/// Bad input (a missing path) is an error; a render that fails is recorded as a render error, so
/// the run is incomplete rather than silently missing objects, and the other sources go on.
pub fn environment_files(
    reading: &Reading<'_>,
    name: &str,
    env: &Environment,
) -> Result<EnvironmentFiles, DesiredError> {
    let (tree, renderer) = (reading.tree, reading.renderer);
    renderer.use_chart_mirrors(&reading.config.config.charts.mirrors);
    let config_dir = reading.config.dir.as_path();
    // Each source's files keep the source's place in the list, renders included.
    let mut slots: Vec<Vec<SourceFile>> = Vec::with_capacity(env.sources.len());
    let mut jobs: Vec<(usize, Job)> = Vec::new();
    let mut source_errors = Vec::new();
    let mut owners = Vec::new();
    let mut rules = Vec::new();
    for (index, source) in env.sources.iter().enumerate() {
        let mut files = Vec::new();
        let plain = |found: Vec<ManifestFile>| {
            found.into_iter().map(|file| SourceFile {
                source: source.describe(),
                file,
                rendered: false,
                origin: None,
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
                    kind: JobKind::Kustomize(render::kustomize::KustomizeJob::new(dir)),
                    origin: None,
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
            Source::Helm(helm) => {
                let job = helm_job(tree, config_dir, name, env, source, helm)?;
                let origin = Origin {
                    owner: Some(Owner::HelmRelease {
                        namespace: job.namespace.clone().unwrap_or_else(|| "default".into()),
                        name: job.release.clone(),
                    }),
                    namespace: None,
                };
                owners.extend(origin.owner.clone().map(|owner| DeclaredOwner {
                    source: source.describe(),
                    owner,
                    failed: false,
                }));
                jobs.push((
                    index,
                    Job {
                        source: source.describe(),
                        kind: JobKind::Helm(job),
                        origin: Some(Arc::new(origin)),
                    },
                ));
            }
            Source::Argocd(controller) => {
                let followed = argocd::follow(reading, name, env, source, controller)?;
                files.extend(followed.files);
                source_errors.extend(followed.errors);
                owners.extend(followed.owners);
                jobs.extend(followed.jobs.into_iter().map(|job| (index, job)));
                rules.extend(followed.rules);
            }
            Source::Flux(controller) => {
                let followed = flux::follow(reading, name, env, source, controller)?;
                files.extend(followed.files);
                source_errors.extend(followed.errors);
                owners.extend(followed.owners);
            }
        }
        slots.push(files);
    }
    let mut errors = source_errors;
    let only_jobs: Vec<Job> = jobs.iter().map(|(_, j)| j.clone()).collect();
    for ((index, job), result) in jobs.iter().zip(renderer.render(tree, name, &only_jobs)) {
        match result {
            Ok(files) => slots[*index].extend(files),
            Err(e) => {
                let owner = job.origin.as_ref().and_then(|o| o.owner.as_ref());
                for declared in owners.iter_mut().filter(|d| Some(&d.owner) == owner) {
                    declared.failed = true;
                }
                errors.push(e)
            }
        }
    }
    Ok(EnvironmentFiles {
        env: name.to_string(),
        files: slots.into_iter().flatten().collect(),
        errors,
        owners,
        rules,
    })
}

/// A source that could not be read from Git (a submodule whose commit is not in the clone): a
/// `render` error of that source, so the run is incomplete rather than missing its objects.
fn unreadable(env: &str, source: &Source, error: &git::GitError) -> RunError {
    RunError::render(env, &source.describe(), error)
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
    let chart = match &helm.chart {
        // `chart: oci://registry/charts/web`: the repository and the chart in one string.
        ChartSpec::Path(path) if path.contains("://") => {
            let (repo, chart) = path
                .trim_end_matches('/')
                .rsplit_once('/')
                .unwrap_or((path, ""));
            render::helm::ChartLocation::Remote(crate::config::RemoteChart {
                repo: repo.to_string(),
                chart: chart.to_string(),
                version: None,
            })
        }
        ChartSpec::Path(path) => render::helm::ChartLocation::Git(resolve(path)?),
        ChartSpec::Remote(remote) => render::helm::ChartLocation::Remote(remote.clone()),
    };
    let values = helm
        .values
        .iter()
        .map(|v| resolve(v))
        .collect::<Result<Vec<_>, _>>()?;
    let release = helm.release.clone().unwrap_or_else(|| match &chart {
        render::helm::ChartLocation::Git(path) => path
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .unwrap_or("release")
            .to_string(),
        render::helm::ChartLocation::Remote(remote) => remote.chart.clone(),
    });
    Ok(render::helm::HelmJob {
        chart,
        release,
        namespace: helm.namespace.clone().or_else(|| env.namespace.clone()),
        values,
        inline_values: Vec::new(),
        secret_values: Vec::new(),
        set: helm
            .set
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect(),
        skip_crds: false,
        post_render: Vec::new(),
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
                 origin,
             }| {
                let path = file.path.clone();
                match manifests::parse_file(file) {
                    Ok(mut documents) => {
                        for document in &mut documents {
                            if rendered {
                                // A line of rendered output is no line of the file in Git.
                                document.line = 0;
                            }
                            document.origin = origin.clone();
                        }
                        Ok(Ok(documents))
                    }
                    Err(error) if rendered => Ok(Err(RunError::render(
                        env,
                        &source,
                        format_args!(
                            "the rendered output for {path} does not parse: {}\n  help: the chart or overlay renders invalid YAML; fix the template that writes it",
                            rendered_parse_error(&error)
                        ),
                    ))),
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
        owners: Vec::new(),
        rules: Vec::new(),
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
