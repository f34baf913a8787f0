//! `manifests:` sources: a file, a directory (recursive `*.yaml|*.yml|*.json`) or a glob, read from
//! the Git tree and parsed in parallel.

use super::ManifestFile;
use super::git::{GitError, GitTree};
use crate::yaml::{Document, YamlError, parse_documents};
use rayon::prelude::*;

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(
        "`{path}` does not exist at {rev} ({commit})\n  help: check the path in plumb.yaml (it is read from Git, not the working tree: commit new files first)"
    )]
    MissingPath {
        path: String,
        rev: String,
        commit: String,
    },
    #[error("the glob `{pattern}` matches no manifest at {rev}")]
    EmptyGlob { pattern: String, rev: String },
    #[error("invalid glob `{pattern}`: {message}")]
    BadGlob { pattern: String, message: String },
    #[error("{0}\n  help: fix the file and commit it; plumb reads it from Git")]
    Yaml(YamlError),
    #[error("{path} is not UTF-8 text")]
    NotText { path: String },
}

// Not `#[from]`: that would make the YAML error this one's source, and the message twice.
impl From<YamlError> for ManifestError {
    fn from(error: YamlError) -> Self {
        ManifestError::Yaml(error)
    }
}

/// Is this a manifest file by its name? Kustomize's own files are not manifests.
pub fn is_manifest_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    let kustomization = matches!(
        lower.as_str(),
        "kustomization.yaml" | "kustomization.yml" | "kustomization"
    );
    !kustomization
        && (lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json"))
}

fn is_glob(path: &str) -> bool {
    path.contains(['*', '?', '[', '{'])
}

/// The files of one `manifests:` source at `path` (repository-relative), read from the tree.
pub fn files(tree: &GitTree, path: &str) -> Result<Vec<ManifestFile>, ManifestError> {
    let files = if is_glob(path) {
        let matcher = globset::GlobBuilder::new(path)
            .literal_separator(true)
            .build()
            .map_err(|e| ManifestError::BadGlob {
                pattern: path.to_string(),
                message: e.to_string(),
            })?
            .compile_matcher();
        let prefix: String = path
            .split('/')
            .take_while(|part| !is_glob(part))
            .collect::<Vec<_>>()
            .join("/");
        let files = tree.files_under(&prefix, |p| matcher.is_match(p) && is_manifest_file(p))?;
        if files.is_empty() {
            return Err(ManifestError::EmptyGlob {
                pattern: path.to_string(),
                rev: tree.rev.clone(),
            });
        }
        files
    } else {
        match tree.kind_of(path)? {
            Some(git2::ObjectType::Blob) => vec![tree.read(path)?],
            Some(git2::ObjectType::Tree) => tree.files_under(path, is_manifest_file)?,
            _ => {
                return Err(ManifestError::MissingPath {
                    path: path.to_string(),
                    rev: tree.rev.clone(),
                    commit: tree.commit.to_string()[..12].to_string(),
                });
            }
        }
    };
    Ok(files)
}

/// Parses one file.
pub fn parse_file(file: ManifestFile) -> Result<Vec<Document>, ManifestError> {
    let text = String::from_utf8(file.bytes).map_err(|_| ManifestError::NotText {
        path: file.path.clone(),
    })?;
    Ok(parse_documents(&text, &file.path)?)
}

/// Parses files in parallel, keeping their order.
pub fn parse_files(files: Vec<ManifestFile>) -> Result<Vec<Document>, ManifestError> {
    let parsed: Vec<Result<Vec<Document>, ManifestError>> =
        files.into_par_iter().map(parse_file).collect();
    let mut documents = Vec::new();
    for result in parsed {
        documents.extend(result?);
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_file_names() {
        assert!(is_manifest_file("a/b.yaml"));
        assert!(is_manifest_file("a/b.JSON"));
        assert!(!is_manifest_file("a/kustomization.yaml"));
        assert!(!is_manifest_file("a/README.md"));
    }
}
