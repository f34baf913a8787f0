//! Manifests from files and directories on disk, for `plumb compare` (no config, no Git).

use super::ManifestFile;
use super::manifests::{self, ManifestError};
use crate::yaml::Document;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Manifests(#[from] ManifestError),
    #[error(
        "{path} has no manifests\n  help: pass a file or a directory holding YAML or JSON objects"
    )]
    Empty { path: String },
}

/// Every manifest under a path on disk: a file, or every non-hidden file below a directory (kubectl
/// diff's directories name files without an extension).
pub fn read(path: &Path) -> Result<Vec<Document>, DiskError> {
    let mut files = Vec::new();
    collect_files(path, &mut files).map_err(|source| DiskError::Read {
        path: path.display().to_string(),
        source,
    })?;
    files.sort();
    let loaded: Result<Vec<ManifestFile>, DiskError> = files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).map_err(|source| DiskError::Read {
                path: p.display().to_string(),
                source,
            })?;
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

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            collect_files(&entry.path(), out)?;
        }
    } else {
        std::fs::metadata(path)?;
        out.push(path.to_path_buf());
    }
    Ok(())
}
