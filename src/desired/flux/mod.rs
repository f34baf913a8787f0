//! `flux:` sources: Flux Kustomizations and HelmReleases, followed as Flux would
//! (docs/sources.md, flux).
//!
//! The objects a config names are sources only. Each is planned into a render job (objects.rs
//! finds what it refers to, artifacts.rs the directory its source stands for, kustomization.rs and
//! helmrelease.rs the job); the jobs of one round render together, and the Kustomizations and
//! HelmReleases a Kustomization's output holds — desired objects themselves — are the next round,
//! until none is left. Every object produced belongs to the Flux object that produced it.

mod artifacts;
mod helmrelease;
mod kustomization;
mod objects;
mod substitution;

use super::render::{Job, JobKind};
use super::{DeclaredOwner, DesiredError, Followed, ManifestFile, Reading, SourceFile};
use crate::config::{ControllerSource, Environment, Source};
use crate::limits::{MAX_FLUX_DEPTH, MAX_FLUX_OBJECTS};
use crate::model::{Origin, Owner, RunError};
use artifacts::Resolver;
use objects::{FluxObject, Kind, Known};
use std::collections::BTreeSet;
use std::sync::Arc;

/// What a `flux:` source could not follow, or why its path is bad input.
#[derive(Debug, thiserror::Error)]
pub enum FluxError {
    #[error("{object}: `{field}` {problem}\n  help: {help}")]
    NotFollowed {
        object: String,
        field: String,
        problem: String,
        help: String,
    },
    #[error(
        "{object} is defined twice, differently, in {first} and {second}\n  help: plumb cannot tell which one Flux applies; keep one definition where plumb looks first (the `flux:` path, then the rendered output, then the repository)"
    )]
    Ambiguous {
        object: String,
        first: String,
        second: String,
    },
    #[error("{object}: {error}")]
    Git {
        object: String,
        error: super::git::GitError,
    },
    #[error(
        "`{path}` holds no Flux Kustomization or HelmRelease{named}\n  help: point `flux:` at a file or directory of Flux objects (kustomize.toolkit.fluxcd.io Kustomizations, helm.toolkit.fluxcd.io HelmReleases){hint}"
    )]
    NoObjects {
        path: String,
        named: String,
        hint: String,
    },
    #[error("{0}")]
    Manifest(#[from] super::manifests::ManifestError),
    #[error(
        "{object}: {what} reach the limit of {limit}\n  help: plumb bounds how deep and how many Flux objects it follows (src/limits.rs); split the estate into several sources"
    )]
    Limit {
        object: String,
        what: &'static str,
        limit: usize,
    },
    #[error("{object}: the output of its render does not parse: {message}")]
    Output { object: String, message: String },
    #[error("{object}: postBuild substitution: {error}")]
    Substitution {
        object: String,
        error: substitution::SubstitutionError,
    },
}

impl From<super::git::GitError> for FluxError {
    fn from(error: super::git::GitError) -> Self {
        FluxError::Git {
            object: "reading the repository".into(),
            error,
        }
    }
}

/// What `object` cannot follow at `field`.
pub(crate) fn not_followed(
    object: &FluxObject,
    field: &str,
    problem: &str,
    help: &str,
) -> FluxError {
    FluxError::NotFollowed {
        object: object.describe(),
        field: field.to_string(),
        problem: problem.to_string(),
        help: help.to_string(),
    }
}

/// One Flux object to follow, and how deep it was found.
struct Pending {
    object: FluxObject,
    depth: usize,
}

/// Follows the Flux objects `controller` names in environment `env`.
pub fn follow(
    reading: &Reading<'_>,
    env: &str,
    environment: &Environment,
    source: &Source,
    controller: &ControllerSource,
) -> Result<Followed, DesiredError> {
    let tree = reading.tree;
    let bad_input = |error: FluxError| DesiredError::Flux {
        env: env.to_string(),
        source_name: source.describe(),
        error,
    };
    let path = tree.repo_path(&reading.config.dir, &controller.path)?;
    let default_namespace = environment.namespace.as_deref().unwrap_or("default");
    let config = config_objects(tree, &path, default_namespace).map_err(bad_input)?;
    let named = |o: &FluxObject| {
        controller
            .name
            .as_ref()
            .is_none_or(|n| *n == o.name || *n == format!("{}/{}", o.namespace, o.name))
    };
    let roots: Vec<FluxObject> = config
        .iter()
        .filter(|o| matches!(o.kind, Kind::Kustomization | Kind::HelmRelease) && named(o))
        .cloned()
        .collect();
    if roots.is_empty() {
        let names: Vec<String> = config
            .iter()
            .filter(|o| matches!(o.kind, Kind::Kustomization | Kind::HelmRelease))
            .map(|o| o.name.clone())
            .collect();
        return Err(bad_input(FluxError::NoObjects {
            path: path.clone(),
            named: controller
                .name
                .as_ref()
                .map_or(String::new(), |n| format!(" named `{n}`")),
            hint: if names.is_empty() {
                String::new()
            } else {
                format!("; it holds {}", names.join(", "))
            },
        }));
    }
    let mut known = Known::new(tree, config);
    let mut state = State {
        env,
        source: source.describe(),
        followed: Followed::default(),
        seen: BTreeSet::new(),
    };
    let mut round: Vec<Pending> = roots
        .into_iter()
        .map(|object| Pending { object, depth: 0 })
        .collect();
    while !round.is_empty() {
        let mut jobs: Vec<(FluxObject, usize, Job)> = Vec::new();
        for Pending { object, depth } in round {
            let identity = (object.kind, object.namespace.clone(), object.name.clone());
            // A Kustomization that applies its own definition (Flux's bootstrap does) is followed once.
            if !state.seen.insert(identity) {
                continue;
            }
            let owner = owner_of(&object);
            if depth > MAX_FLUX_DEPTH || state.seen.len() > MAX_FLUX_OBJECTS {
                let (what, limit) = if depth > MAX_FLUX_DEPTH {
                    ("Flux objects nested in each other's output", MAX_FLUX_DEPTH)
                } else {
                    ("Flux objects followed from one source", MAX_FLUX_OBJECTS)
                };
                state.fail(
                    owner,
                    &FluxError::Limit {
                        object: object.describe(),
                        what,
                        limit,
                    },
                );
                continue;
            }
            let resolver = Resolver {
                known: &known,
                tree,
                repositories: &reading.config.config.repositories,
            };
            let planned = match object.kind {
                Kind::Kustomization => {
                    kustomization::job(&resolver, &object).map(JobKind::Kustomize)
                }
                _ => helmrelease::job(&resolver, &object).map(JobKind::Helm),
            };
            match planned {
                Ok(kind) => {
                    state.declare(owner.clone(), false);
                    let namespace = match object.kind {
                        Kind::HelmRelease => Some(helmrelease::release_namespace(&object)),
                        _ => object.spec()["targetNamespace"]
                            .as_str()
                            .map(str::to_string),
                    };
                    let job = Job {
                        source: state.source.clone(),
                        kind,
                        origin: Some(Arc::new(Origin {
                            owner: Some(owner),
                            namespace,
                        })),
                    };
                    jobs.push((object, depth, job));
                }
                Err(error) => state.fail(owner, &error),
            }
        }
        let only_jobs: Vec<Job> = jobs.iter().map(|(_, _, job)| job.clone()).collect();
        let results = reading.renderer.render(tree, env, &only_jobs);
        // Every output first, so a Kustomization may substitute from a sibling's ConfigMap.
        let mut rendered: Vec<Rendered> = Vec::new();
        for ((object, depth, job), result) in jobs.into_iter().zip(results) {
            let owner = owner_of(&object);
            let origin = job.origin.clone().unwrap_or_default();
            match result {
                Ok(files) => match parse_output(&object, files) {
                    Ok(values) => {
                        let default_ns = origin
                            .namespace
                            .clone()
                            .unwrap_or_else(|| default_namespace.to_string());
                        for (file, objects) in &values {
                            for value in objects {
                                known.output.extend(FluxObject::new(
                                    value.clone(),
                                    file,
                                    &default_ns,
                                ));
                            }
                        }
                        rendered.push((object, depth, origin, values));
                    }
                    Err(error) => state.fail(owner, &error),
                },
                Err(error) => {
                    state.mark_failed(&owner);
                    state.followed.errors.push(error);
                }
            }
        }
        let mut next = Vec::new();
        for (object, depth, origin, mut values) in rendered {
            let owner = owner_of(&object);
            if object.kind == Kind::Kustomization {
                if let Err(error) = substitute(&known, &object, &mut values) {
                    state.fail(owner, &error);
                    continue;
                }
                let default_ns = origin
                    .namespace
                    .clone()
                    .unwrap_or_else(|| default_namespace.to_string());
                for (file, objects) in &values {
                    for value in objects {
                        if let Some(found) = FluxObject::new(value.clone(), file, &default_ns)
                            && matches!(found.kind, Kind::Kustomization | Kind::HelmRelease)
                        {
                            next.push(Pending {
                                object: found,
                                depth: depth + 1,
                            });
                        }
                    }
                }
            }
            for (file, objects) in values {
                let mut text = String::new();
                for value in objects {
                    text.push_str(&value.to_string());
                    text.push('\n');
                }
                state.followed.files.push(SourceFile {
                    source: state.source.clone(),
                    file: ManifestFile {
                        path: file,
                        bytes: text.into_bytes(),
                    },
                    rendered: true,
                    origin: Some(origin.clone()),
                });
            }
        }
        round = next;
    }
    Ok(state.followed)
}

/// What following one source has gathered so far.
struct State<'e> {
    env: &'e str,
    source: String,
    followed: Followed,
    seen: BTreeSet<(Kind, String, String)>,
}

impl State<'_> {
    fn declare(&mut self, owner: Owner, failed: bool) {
        match self.followed.owners.iter_mut().find(|d| d.owner == owner) {
            Some(declared) => declared.failed |= failed,
            None => self.followed.owners.push(DeclaredOwner {
                source: self.source.clone(),
                owner,
                failed,
            }),
        }
    }

    fn mark_failed(&mut self, owner: &Owner) {
        self.declare(owner.clone(), true);
    }

    /// `owner` could not be followed: a `render` error of the source, and its live objects are
    /// not judged.
    fn fail(&mut self, owner: Owner, error: &FluxError) {
        self.declare(owner, true);
        self.followed.errors.push(RunError {
            env: self.env.to_string(),
            kind: "render".into(),
            source: Some(self.source.clone()),
            resource: None,
            message: format!(
                "environment `{}`, source `{}`: {error}",
                self.env, self.source
            ),
        });
    }
}

/// A followed object's render: the object, its depth, the origin of its objects, and its
/// objects per file.
type Rendered = (
    FluxObject,
    usize,
    Arc<Origin>,
    Vec<(String, Vec<serde_json::Value>)>,
);

fn owner_of(object: &FluxObject) -> Owner {
    let (namespace, name) = (object.namespace.clone(), object.name.clone());
    match object.kind {
        Kind::HelmRelease => Owner::FluxHelmRelease { namespace, name },
        _ => Owner::FluxKustomization { namespace, name },
    }
}

/// The Flux objects (and ConfigMaps and Secrets) in the files at `path`: a file, or every manifest
/// under a directory. A file that does not parse is bad input.
fn config_objects(
    tree: &super::git::GitTree,
    path: &str,
    default_namespace: &str,
) -> Result<Vec<FluxObject>, FluxError> {
    let files = super::manifests::files(tree, path)?;
    let mut objects = Vec::new();
    for file in files {
        let text = String::from_utf8(file.bytes).map_err(|_| {
            FluxError::Manifest(super::manifests::ManifestError::NotText {
                path: file.path.clone(),
            })
        })?;
        let values = crate::yaml::parse_values(&text, &file.path)
            .map_err(|e| FluxError::Manifest(super::manifests::ManifestError::Yaml(e)))?;
        for (value, _) in values {
            objects.extend(FluxObject::new(value, &file.path, default_namespace));
        }
    }
    Ok(objects)
}

/// A render's files as objects, per file.
fn parse_output(
    object: &FluxObject,
    files: Vec<SourceFile>,
) -> Result<Vec<(String, Vec<serde_json::Value>)>, FluxError> {
    files
        .into_iter()
        .map(|f| {
            let text = String::from_utf8_lossy(&f.file.bytes);
            let values =
                crate::yaml::parse_values(&text, &f.file.path).map_err(|e| FluxError::Output {
                    object: object.describe(),
                    message: e.message,
                })?;
            Ok((f.file.path, values.into_iter().map(|(v, _)| v).collect()))
        })
        .collect()
}

/// Applies a Kustomization's `postBuild` substitution to its rendered objects.
fn substitute(
    known: &Known<'_>,
    object: &FluxObject,
    values: &mut [(String, Vec<serde_json::Value>)],
) -> Result<(), FluxError> {
    let Some(vars) = kustomization::variables(known, object)? else {
        return Ok(());
    };
    let wrap = |error| FluxError::Substitution {
        object: object.describe(),
        error,
    };
    substitution::check_names(&vars).map_err(wrap)?;
    for (_, objects) in values.iter_mut() {
        for value in objects.iter_mut() {
            substitution::substitute_object(value, &vars).map_err(wrap)?;
        }
    }
    Ok(())
}
