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

use super::render::kustomize::KustomizeJob;
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
    #[error(
        "cannot read the repository to look up referenced Flux objects: {0}\n  help: plumb looks for GitRepositories, ArtifactGenerators, ConfigMaps and Secrets in every manifest at the ref"
    )]
    Repository(String),
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

/// Refuses the first `spec` field of `object` that plumb neither follows nor may ignore: it
/// changes what Flux applies, so following the object without it would be a wrong answer.
pub(crate) fn only_known_fields(
    object: &FluxObject,
    followed: &[&str],
    harmless: &[&str],
) -> Result<(), FluxError> {
    let unknown = object.spec().as_object().and_then(|map| {
        map.keys()
            .find(|k| !harmless.contains(&k.as_str()) && !followed.contains(&k.as_str()))
    });
    match unknown {
        Some(field) => Err(not_followed(
            object,
            &format!("spec.{field}"),
            "changes what Flux applies, and plumb does not follow it",
            "see docs/sources.md for the fields plumb follows",
        )),
        None => Ok(()),
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
        let mut planned: Vec<Planned> = Vec::new();
        let mut jobs: Vec<(usize, Job)> = Vec::new();
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
            let namespace = match object.kind {
                Kind::HelmRelease => Some(helmrelease::release_namespace(&object)),
                _ => object.spec()["targetNamespace"]
                    .as_str()
                    .map(str::to_string),
            };
            let origin = Arc::new(Origin {
                owner: Some(owner.clone()),
                namespace,
            });
            let job = |kind| Job {
                source: state.source.clone(),
                kind,
                origin: Some(origin.clone()),
            };
            let plan = match object.kind {
                Kind::Kustomization => kustomization::job(&resolver, &object).and_then(|k| {
                    plain_or_built(tree, k).map(|(plain, built)| {
                        (
                            plain,
                            built
                                .into_iter()
                                .map(|k| job(JobKind::Kustomize(k)))
                                .collect(),
                        )
                    })
                }),
                _ => helmrelease::job(&resolver, &object)
                    .map(|h| (Vec::new(), vec![job(JobKind::Helm(h))])),
            };
            match plan {
                Ok((plain, object_jobs)) => {
                    state.declare(owner, false);
                    jobs.extend(object_jobs.into_iter().map(|j| (planned.len(), j)));
                    planned.push(Planned {
                        object,
                        depth,
                        origin,
                        files: plain.into_iter().map(Ok).collect(),
                        failed: false,
                    });
                }
                Err(error) => state.fail(owner, &error),
            }
        }
        let only_jobs: Vec<Job> = jobs.iter().map(|(_, job)| job.clone()).collect();
        let results = reading.renderer.render(tree, env, &only_jobs);
        for ((index, _), result) in jobs.iter().zip(results) {
            let entry = &mut planned[*index];
            match result {
                Ok(files) => entry.files.extend(files.into_iter().map(|f| Err(f.file))),
                Err(mut error) => {
                    entry.failed = true;
                    // The renderer names the source; the object that failed is named too.
                    let named = format!("source `{}`: ", state.source);
                    error.message = error.message.replacen(
                        &named,
                        &format!("{named}{}: ", entry.object.describe()),
                        1,
                    );
                    state.followed.errors.push(error);
                }
            }
        }
        // Every output first, so a Kustomization may substitute from a sibling's ConfigMap.
        let mut rendered: Vec<(Planned, Vec<Output>)> = Vec::new();
        for mut entry in planned {
            let owner = owner_of(&entry.object);
            if entry.failed {
                state.mark_failed(&owner);
                continue;
            }
            match parse_output(&entry.object, std::mem::take(&mut entry.files)) {
                Ok(outputs) => {
                    let default_ns = entry
                        .origin
                        .namespace
                        .clone()
                        .unwrap_or_else(|| default_namespace.to_string());
                    for output in &outputs {
                        for value in &output.objects {
                            known.output.extend(FluxObject::new(
                                value.clone(),
                                &output.path,
                                &default_ns,
                            ));
                        }
                    }
                    rendered.push((entry, outputs));
                }
                Err(error) => state.fail(owner, &error),
            }
        }
        let mut next = Vec::new();
        for (entry, mut outputs) in rendered {
            let owner = owner_of(&entry.object);
            if entry.object.kind == Kind::Kustomization {
                match substitute(&known, &entry.object, &mut outputs) {
                    Ok(true) => outputs.iter_mut().for_each(|o| o.original = None),
                    Ok(false) => {}
                    Err(error) => {
                        state.fail(owner, &error);
                        continue;
                    }
                }
                let default_ns = entry
                    .origin
                    .namespace
                    .clone()
                    .unwrap_or_else(|| default_namespace.to_string());
                for output in &outputs {
                    for value in &output.objects {
                        if let Some(found) =
                            FluxObject::new(value.clone(), &output.path, &default_ns)
                            && matches!(found.kind, Kind::Kustomization | Kind::HelmRelease)
                        {
                            next.push(Pending {
                                object: found,
                                depth: entry.depth + 1,
                            });
                        }
                    }
                }
            }
            for output in outputs {
                let (bytes, rendered) = match output.original {
                    // A file of Git left as it is keeps its lines.
                    Some(bytes) => (bytes, false),
                    None => {
                        let mut text = String::new();
                        for value in output.objects {
                            text.push_str(&value.to_string());
                            text.push('\n');
                        }
                        (text.into_bytes(), true)
                    }
                };
                state.followed.files.push(SourceFile {
                    source: state.source.clone(),
                    file: ManifestFile {
                        path: output.path,
                        bytes,
                    },
                    rendered,
                    origin: Some(entry.origin.clone()),
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
        self.followed
            .errors
            .push(RunError::render(self.env, &self.source, error));
    }
}

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

/// A followed object's files: `Ok` a file of Git read as it is, `Err` a file a tool rendered.
type FileOf = Result<ManifestFile, ManifestFile>;

/// One followed object, planned: its render jobs run in the round's batch.
struct Planned {
    object: FluxObject,
    depth: usize,
    origin: Arc<Origin>,
    files: Vec<FileOf>,
    failed: bool,
}

/// One file a followed object produced, parsed.
struct Output {
    path: String,
    objects: Vec<serde_json::Value>,
    /// The bytes of a file of Git, kept while nothing changed them (its lines stay true).
    original: Option<Vec<u8>>,
}

/// A Kustomization's build: a directory with no kustomization and nothing to add is read as
/// plain files (and its subdirectories with a kustomization built), as a `kustomize:` source
/// reads it — the same objects as the kustomization Flux would generate, without a tool run.
fn plain_or_built(
    tree: &super::git::GitTree,
    job: KustomizeJob,
) -> Result<(Vec<ManifestFile>, Vec<KustomizeJob>), FluxError> {
    use super::render::kustomize::{Target, kustomization_file, target};
    if !job.overlay.is_empty() || kustomization_file(tree, &job.dir)?.is_some() {
        return Ok((Vec::new(), vec![job]));
    }
    match target(tree, &job.dir) {
        Ok(Target::Plain {
            files,
            kustomizations,
        }) => Ok((
            files,
            kustomizations.into_iter().map(KustomizeJob::new).collect(),
        )),
        Ok(_) => Ok((Vec::new(), vec![job])),
        Err(error) => Err(FluxError::Output {
            object: job.dir.clone(),
            message: error.to_string(),
        }),
    }
}

/// A followed object's files as objects, per file.
fn parse_output(object: &FluxObject, files: Vec<FileOf>) -> Result<Vec<Output>, FluxError> {
    files
        .into_iter()
        .map(|file| {
            let (file, original) = match file {
                Ok(file) => (file, true),
                Err(file) => (file, false),
            };
            let text = String::from_utf8_lossy(&file.bytes);
            let values =
                crate::yaml::parse_values(&text, &file.path).map_err(|e| FluxError::Output {
                    object: object.describe(),
                    message: e.message,
                })?;
            Ok(Output {
                objects: values.into_iter().map(|(v, _)| v).collect(),
                original: original.then(|| file.bytes.clone()),
                path: file.path,
            })
        })
        .collect()
}

/// Applies a Kustomization's `postBuild` substitution to its objects; whether it had any.
fn substitute(
    known: &Known<'_>,
    object: &FluxObject,
    outputs: &mut [Output],
) -> Result<bool, FluxError> {
    let Some(vars) = kustomization::variables(known, object)? else {
        return Ok(false);
    };
    let wrap = |error| FluxError::Substitution {
        object: object.describe(),
        error,
    };
    substitution::check_names(&vars).map_err(wrap)?;
    for output in outputs.iter_mut() {
        for value in output.objects.iter_mut() {
            substitution::substitute_object(value, &vars).map_err(wrap)?;
        }
    }
    Ok(!vars.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::git::GitTree;
    use crate::desired::render::{RenderOptions, Renderer};
    use std::path::{Path, PathBuf};

    /// A pinned tool (`PLUMB_TEST_*` overrides the place scripts/install-tools puts it); a missing
    /// one fails the test.
    fn tool(variable: &str, default: &str) -> String {
        let path = std::env::var_os(variable)
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(default));
        assert!(
            path.is_file(),
            "{} is missing: run scripts/install-tools",
            path.display()
        );
        path.display().to_string()
    }

    /// fixtures/flux committed to a new Git repository.
    fn fixture_repository() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/flux");
        let mut stack = vec![from.clone()];
        while let Some(current) = stack.pop() {
            for entry in std::fs::read_dir(&current).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let target = dir.path().join(path.strip_prefix(&from).unwrap());
                    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                    std::fs::copy(&path, target).unwrap();
                }
            }
        }
        let repo = git2::Repository::init(dir.path()).unwrap();
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("test", "test@example.invalid").unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "fixture", &tree, &[])
            .unwrap();
        dir
    }

    #[test]
    fn each_followed_object_owns_what_it_produces() {
        let dir = fixture_repository();
        let config = crate::config::load(&dir.path().join("plumb.yaml")).unwrap();
        let tree = GitTree::open(dir.path(), "HEAD").unwrap();
        let renderer = Renderer::new(RenderOptions {
            cache_dir: None,
            timeout: std::time::Duration::from_secs(120),
            helm: Some(tool("PLUMB_TEST_HELM4", ".tools/bin/helm")),
            kustomize: Some(tool("PLUMB_TEST_KUBECTL", ".tools/bin/kubectl")),
            progress: crate::progress::Progress::off(),
            offline: true,
        });
        let reading = Reading {
            tree: &tree,
            renderer: &renderer,
            config: &config,
        };
        let environment = &config.config.environments["production"];
        let source = &environment.sources[0];
        let Source::Flux(controller) = source else {
            panic!("the fixture's production source is a flux: source");
        };
        let followed = follow(&reading, "production", environment, source, controller).unwrap();
        assert!(followed.errors.is_empty(), "{:?}", followed.errors);
        let kustomization = |name: &str| Owner::FluxKustomization {
            namespace: "flux-system".into(),
            name: name.into(),
        };
        let release = Owner::FluxHelmRelease {
            namespace: "web".into(),
            name: "cache".into(),
        };
        let mut owners: Vec<(Owner, bool)> = followed
            .owners
            .iter()
            .map(|d| (d.owner.clone(), d.failed))
            .collect();
        owners.sort();
        assert_eq!(
            owners,
            [
                (kustomization("apps"), false),
                (kustomization("infrastructure"), false),
                (kustomization("workers"), false),
                (release.clone(), false),
            ]
        );
        assert!(
            followed
                .owners
                .iter()
                .all(|d| d.source == "flux: clusters/production")
        );
        let owner_of_file = |path: &str| -> Origin {
            let file = followed
                .files
                .iter()
                .find(|f| f.file.path == path)
                .unwrap_or_else(|| panic!("no file {path}"));
            (**file.origin.as_ref().unwrap()).clone()
        };
        // Nested objects are followed: the HelmRelease apps produced renders, and owns its chart's
        // objects, in its namespace; the Kustomization apps produced owns the workers.
        assert_eq!(
            owner_of_file("charts/cache/templates/deployment.yaml"),
            Origin {
                owner: Some(release),
                namespace: Some("web".into())
            }
        );
        assert_eq!(
            owner_of_file("workers/worker.yaml").owner,
            Some(kustomization("workers"))
        );
        assert_eq!(
            owner_of_file("workers/batch/nightly.yaml").owner,
            Some(kustomization("workers"))
        );
        assert_eq!(
            owner_of_file("apps/base/cache/release.yaml").owner,
            Some(kustomization("apps"))
        );
        assert_eq!(
            owner_of_file("infrastructure/configs/cluster-issuer.yaml").owner,
            Some(kustomization("infrastructure"))
        );
        // The config-named Kustomizations are sources, not desired objects.
        assert!(
            !followed
                .files
                .iter()
                .any(|f| f.file.path.starts_with("clusters/"))
        );
        // A plain file of Git keeps its bytes (and lines); substituted output does not.
        let worker = followed
            .files
            .iter()
            .find(|f| f.file.path == "workers/worker.yaml")
            .unwrap();
        assert!(!worker.rendered);
    }
}
