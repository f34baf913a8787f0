//! Desired state: what Git says each environment should run.

pub mod disk;
pub mod git;
pub mod manifests;

use crate::config::{Environment, Source};
use crate::model::RunError;
use crate::yaml::Document;
use git::GitTree;
use rayon::prelude::*;
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

/// A manifest file's path (in Git, or on disk) and contents.
pub struct ManifestFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// A manifest file and the source that brought it.
pub struct SourceFile {
    pub source: String,
    pub file: ManifestFile,
}

/// The files of an environment, not yet parsed (so a large environment can be parsed in batches),
/// and what could not be rendered.
pub struct EnvironmentFiles {
    pub env: String,
    pub files: Vec<SourceFile>,
    pub errors: Vec<RunError>,
}

/// Reads every source of `env` from the tree and parses it.
pub fn read_environment(
    tree: &GitTree,
    config_dir: &Path,
    name: &str,
    env: &Environment,
) -> Result<DesiredState, DesiredError> {
    let EnvironmentFiles {
        env: name,
        files,
        errors,
    } = environment_files(tree, config_dir, name, env)?;
    let documents = parse(&name, files)?;
    Ok(DesiredState { documents, errors })
}

/// Collects the files of every source of `env`. Bad input (a missing path) is an error; a source
/// kind this build cannot render is recorded as a render error, so the run is incomplete rather
/// than silently missing objects.
pub fn environment_files(
    tree: &GitTree,
    config_dir: &Path,
    name: &str,
    env: &Environment,
) -> Result<EnvironmentFiles, DesiredError> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for source in &env.sources {
        match source {
            Source::Manifests(path) => {
                let repo_path = tree.repo_path(config_dir, path)?;
                let found =
                    manifests::files(tree, &repo_path).map_err(|error| DesiredError::Source {
                        env: name.to_string(),
                        source_name: source.describe(),
                        error,
                    })?;
                files.extend(found.into_iter().map(|file| SourceFile {
                    source: source.describe(),
                    file,
                }));
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
    Ok(EnvironmentFiles {
        env: name.to_string(),
        files,
        errors,
    })
}

/// Parses files in parallel, keeping their order; a parse error names the source it came from.
pub fn parse(env: &str, files: Vec<SourceFile>) -> Result<Vec<Document>, DesiredError> {
    let parsed: Vec<Result<Vec<Document>, DesiredError>> = files
        .into_par_iter()
        .map(|SourceFile { source, file }| {
            manifests::parse_file(file).map_err(|error| DesiredError::Source {
                env: env.to_string(),
                source_name: source,
                error,
            })
        })
        .collect();
    let mut documents = Vec::new();
    for result in parsed {
        documents.extend(result?);
    }
    Ok(documents)
}

/// Files in batches of about `batch_bytes` of manifests, for reading a large environment a part at
/// a time; CustomResourceDefinitions come first, so that the scope of a custom kind is known before
/// its objects arrive.
pub fn batches(mut files: Vec<SourceFile>, batch_bytes: usize) -> Vec<Vec<SourceFile>> {
    let declares_crd =
        |f: &SourceFile| memchr::memmem::find(&f.file.bytes, b"CustomResourceDefinition").is_some();
    files.sort_by_key(|f| !declares_crd(f));
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut size = 0;
    for file in files {
        size += file.file.bytes.len();
        current.push(file);
        if size >= batch_bytes {
            out.push(std::mem::take(&mut current));
            size = 0;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> SourceFile {
        SourceFile {
            source: "manifests: x".into(),
            file: ManifestFile {
                path: name.into(),
                bytes: text.as_bytes().to_vec(),
            },
        }
    }

    #[test]
    fn batches_bound_their_size_and_put_crds_first() {
        let files = vec![
            file("a", "0123456789"),
            file("b", "0123456789"),
            file("crd", "kind: CustomResourceDefinition"),
            file("c", "01"),
        ];
        let names: Vec<Vec<String>> = batches(files, 20)
            .iter()
            .map(|b| b.iter().map(|f| f.file.path.clone()).collect())
            .collect();
        assert_eq!(
            names,
            [
                vec!["crd".to_string()],
                vec!["a".into(), "b".into()],
                vec!["c".into()]
            ]
        );
    }
}
