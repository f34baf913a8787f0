//! The policies of a run: loaded from files and shipped policies, and applied to its differences and checks.

use super::AppError;
use crate::policy::eval::Policies;
use crate::policy::{self, builtin};
use std::path::{Path, PathBuf};

/// The policies of a run: the named policy files in order, then `builtin:noise`, with waivers
/// judged on `today` (days since 1970-01-01).
pub(super) fn load_policies(
    entries: &[String],
    base: &Path,
    today: i64,
) -> Result<Policies, AppError> {
    let mut files = read_policy_files(entries, base)?;
    files.push(noise()?);
    Ok(Policies::new(files, today))
}

/// `builtin:noise`, which every run loads last.
pub(super) fn noise() -> Result<policy::rules::PolicyFile, AppError> {
    let shipped = builtin::load(builtin::NOISE);
    // The catalogue is embedded in the binary; a shipped file that is missing or does not parse is
    // a build defect, and tests/shipped_policies.rs loads every one.
    Ok(shipped.ok_or_else(|| AppError::UnknownBuiltin {
        name: builtin::NOISE.to_string(),
        known: builtin::names().collect::<Vec<_>>().join(", "),
    })??)
}

/// Parses policy files in order: files, directories (their `*.yaml`/`*.yml`, by name), and shipped
/// policies by name.
pub(super) fn read_policy_files(
    entries: &[String],
    base: &Path,
) -> Result<Vec<policy::rules::PolicyFile>, AppError> {
    let mut files = Vec::new();
    for entry in entries {
        if entry.starts_with("builtin:") {
            // builtin:noise always comes last, wherever it is named (load_policies adds it).
            if entry != builtin::NOISE {
                let file = builtin::load(entry).ok_or_else(|| AppError::UnknownBuiltin {
                    name: entry.clone(),
                    known: builtin::names().collect::<Vec<_>>().join(", "),
                })??;
                files.push(file);
            }
            continue;
        }
        for path in policy_paths(entry, base)? {
            let name = path.display().to_string();
            let text = crate::input_file::read_text(&path, crate::input_file::InputKind::Config)?;
            files.push(policy::rules::parse(&text, &name)?);
        }
    }
    Ok(files)
}

/// The files a policy entry that is not a shipped policy names: the file, or a directory's
/// `*.yaml`/`*.yml` by name.
pub(super) fn policy_paths(entry: &str, base: &Path) -> Result<Vec<PathBuf>, AppError> {
    let path = base.join(entry);
    let mut paths = Vec::new();
    if path.is_dir() {
        let listing = std::fs::read_dir(&path).map_err(|source| AppError::Read {
            path: path.display().to_string(),
            source,
        })?;
        for item in listing.flatten() {
            let p = item.path();
            if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                paths.push(p);
            }
        }
        paths.sort();
    } else {
        paths.push(path);
    }
    Ok(paths)
}
