//! Manifests from files and directories on disk, for `plumb compare` (no config, no Git).

use super::ManifestFile;
use super::manifests::{self, ManifestError};
use crate::input_file::{InputFileError, InputKind};
use crate::limits::MAX_FILES_PER_SOURCE;
use crate::yaml::{Document, YamlError};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Input(#[from] InputFileError),
    #[error(transparent)]
    Manifests(ManifestError),
    #[error("{0}\n  help: fix the file")]
    Yaml(YamlError),
    #[error(
        "{path} has no manifests\n  help: pass a file or a directory holding YAML or JSON objects"
    )]
    Empty { path: String },
    #[error(
        "{path} holds more than {MAX_FILES_PER_SOURCE} files, plumb's limit for one source\n  help: pass the directory that holds the manifests"
    )]
    TooManyFiles { path: String },
}

impl From<ManifestError> for DiskError {
    fn from(error: ManifestError) -> Self {
        match error {
            // The Git wording ("commit it") does not fit a file on disk.
            ManifestError::Yaml(e) => DiskError::Yaml(e),
            other => DiskError::Manifests(other),
        }
    }
}

/// Every manifest under a path on disk: a file, or every non-hidden file below a directory (kubectl
/// diff's directories name files without an extension). Files are read through
/// [`crate::input_file`]: regular files only, each bounded in size.
pub fn read(path: &Path) -> Result<Vec<Document>, DiskError> {
    let mut files = Vec::new();
    collect_files(path, true, &mut files).map_err(|source| DiskError::Read {
        path: path.display().to_string(),
        source,
    })?;
    if files.len() > MAX_FILES_PER_SOURCE {
        return Err(DiskError::TooManyFiles {
            path: path.display().to_string(),
        });
    }
    files.sort();
    let loaded: Result<Vec<ManifestFile>, DiskError> = files
        .into_iter()
        .map(|p| {
            let bytes = crate::input_file::read_bytes(&p, InputKind::Manifest)?;
            Ok(ManifestFile {
                path: p.display().to_string(),
                bytes,
            })
        })
        .collect();
    let documents = manifests::parse_files(loaded?)?;
    if documents.is_empty() {
        return Err(DiskError::Empty {
            path: path.display().to_string(),
        });
    }
    Ok(documents)
}

/// The files below `path`. The path given is followed if it is a link; links found inside a
/// directory are not followed into directories (a link to a parent would never end).
fn collect_files(path: &Path, given: bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let is_dir = if given {
        path.is_dir()
    } else {
        std::fs::symlink_metadata(path)?.is_dir()
    };
    if is_dir {
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            collect_files(&entry.path(), false, out)?;
            if out.len() > MAX_FILES_PER_SOURCE {
                return Ok(());
            }
        }
    } else {
        std::fs::symlink_metadata(path)?;
        out.push(path.to_path_buf());
    }
    Ok(())
}
