//! Desired state: what Git says each environment should run.

pub mod git;
pub mod manifests;

use crate::config::{Environment, Source};
use crate::model::RunError;
use crate::yaml::Document;
use git::GitTree;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum DesiredError {
    #[error("environment `{env}`, source `{source_name}`: {error}")]
    Source {
        env: String,
        source_name: String,
        #[source]
        error: manifests::ManifestError,
    },
    #[error(transparent)]
    Git(#[from] git::GitError),
}

/// The documents of one environment, and what could not be rendered.
pub struct DesiredState {
    pub documents: Vec<Document>,
    pub errors: Vec<RunError>,
}

/// Reads every source of `env` from the tree. Bad input (a missing path, malformed YAML) is an
/// error; a source kind this build cannot render is recorded as a render error, so the run is
/// incomplete rather than silently missing objects.
pub fn read_environment(
    tree: &GitTree,
    config_dir: &Path,
    name: &str,
    env: &Environment,
) -> Result<DesiredState, DesiredError> {
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    for source in &env.sources {
        match source {
            Source::Manifests(path) => {
                let repo_path = tree.repo_path(config_dir, path)?;
                let docs =
                    manifests::read(tree, &repo_path).map_err(|error| DesiredError::Source {
                        env: name.to_string(),
                        source_name: source.describe(),
                        error,
                    })?;
                documents.extend(docs);
            }
            Source::Kustomize(_) | Source::Helm(_) => errors.push(RunError {
                env: name.to_string(),
                kind: "render".into(),
                source: Some(source.describe()),
                resource: None,
                message:
                    "this build of plumb cannot render Helm charts or Kustomize overlays yet; \
                          the objects of this source were not compared"
                        .into(),
            }),
        }
    }
    Ok(DesiredState { documents, errors })
}
