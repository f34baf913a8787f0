//! An environment's history for promotion order (docs/promotion.md, History): its desired state's
//! versions at each first-parent commit that changed what it reads, newest first, at most
//! `--history N` of them.
//!
//! Reading an environment is deterministic in the content of what it reads, and every read goes
//! through the Git tree, which records the paths it was asked about. So walking back from the
//! estate's commit, a parent whose object ids at those paths are the ones the child has holds the
//! same desired state, and only a parent where one differs (or appears, or goes) is read again —
//! renders through the render cache, and the versions it found stored in the same cache directory
//! by commit, so a second run reads no old tree and runs no tool.

use super::estate::{self, Environment, Revision};
use super::{AppError, Context};
use crate::compare::promotion::{History, HistoryEnd, HistoryEntry, Versions};
use crate::config::LoadedConfig;
use crate::desired::git::GitTree;
use crate::desired::render::cache::{Key, KeyBuilder};
use crate::desired::{self};
use crate::limits::MAX_HISTORY_WALK;
use crate::model::Scopes;
use git2::Oid;

/// The cache kind of an environment's versions at one commit.
const CACHE_KIND: &str = "history";

/// What reading an environment at one commit found, as cached: the paths it read (to compare
/// with the commit's parent) and its versions. Versions never hold a Secret's value (version
/// paths skip Secrets), so neither does the cache.
#[derive(serde::Serialize, serde::Deserialize)]
struct Cached {
    reads: Vec<String>,
    entry: HistoryEntry,
}

/// Reads `env`'s history at the estate's revision. The newest entry is the state already loaded,
/// never read again. An old commit that cannot be read (a file that did not parse then, a render
/// that fails, a path not there yet) ends the history at the commit after it, with a log line:
/// today's run is not incomplete because of last year's broken file.
pub fn read(
    context: &Context<'_>,
    config: &LoadedConfig,
    revision: &Revision,
    env: &str,
    loaded: &Environment,
) -> Result<History, AppError> {
    context
        .progress
        .note(&format!("reading the history of {env} from Git"));
    let tree = GitTree::open(&config.dir, &revision.commit.to_string())?;
    let limit = context.common.history as usize;
    let mut entries: Vec<HistoryEntry> = Vec::new();
    let mut versions = loaded.versions.clone();
    let mut reads = loaded.reads.clone();
    let mut ids = tree.ids_at(revision.commit, &reads)?;
    // The oldest commit known to hold the current state.
    let mut begin = revision.commit;
    let mut walked = 1usize;
    let mut read_again = 0usize;
    let mut ended = HistoryEnd::Window;
    loop {
        let parent = if walked >= MAX_HISTORY_WALK {
            tracing::info!(env, walked, "history walk reached its limit");
            None
        } else {
            parent_of(&tree, begin, env)
        };
        let parent_ids = match parent {
            Some(parent) => match tree.ids_at(parent, &reads) {
                Ok(found) => Some((parent, found)),
                Err(e) => {
                    tracing::warn!(env, commit = %parent, error = %e, "history stops: the commit cannot be read from Git");
                    ended = HistoryEnd::Unreadable;
                    None
                }
            },
            None => {
                // A shallow clone's oldest commit has no parent either: say which it is, since a
                // shallow window makes every older version look unvalidated.
                ended = if walked >= MAX_HISTORY_WALK {
                    HistoryEnd::Window
                } else if tree.is_shallow() {
                    HistoryEnd::Shallow
                } else {
                    HistoryEnd::Root
                };
                None
            }
        };
        walked += 1;
        let Some((parent, parent_ids)) = parent_ids else {
            entries.push(entry(&tree, begin, versions)?);
            break;
        };
        if parent_ids == ids {
            begin = parent;
            continue;
        }
        entries.push(entry(&tree, begin, std::mem::take(&mut versions))?);
        if entries.len() >= limit {
            break;
        }
        match versions_at(context, config, &tree, parent, env) {
            Ok(found) => {
                read_again += 1;
                versions = found.entry.versions;
                reads = found.reads;
                ids = tree.ids_at(parent, &reads)?;
                begin = parent;
            }
            Err(Stop::Began) => {
                tracing::debug!(env, commit = %parent, "history begins: the environment's sources are not there before");
                ended = HistoryEnd::Root;
                break;
            }
            Err(Stop::Unreadable(why)) => {
                tracing::warn!(env, commit = %parent, reason = %why, "history stops: the environment cannot be read at this commit");
                ended = HistoryEnd::Unreadable;
                break;
            }
        }
    }
    tracing::info!(
        env,
        entries = entries.len(),
        walked,
        read_again,
        "read history"
    );
    Ok(History { entries, ended })
}

/// `commit`'s first parent, none at the root — or where the clone does not hold it (a shallow
/// clone): the history then ends there, and says how far it searched.
fn parent_of(tree: &GitTree, commit: Oid, env: &str) -> Option<Oid> {
    match tree.first_parent(commit) {
        Ok(parent) => parent,
        Err(e) => {
            tracing::warn!(env, %commit, error = %e, "history stops: the parent commit is not in this clone");
            None
        }
    }
}

fn entry(tree: &GitTree, commit: Oid, versions: Versions) -> Result<HistoryEntry, AppError> {
    Ok(HistoryEntry {
        commit: commit.to_string(),
        time: tree.commit_time(commit)?,
        versions,
    })
}

/// Why an older commit of an environment's history is not read.
enum Stop {
    /// Its sources are not there yet (a path missing, no objects): the environment's history
    /// begins after it — as ordinary as the first commit of a repository.
    Began,
    /// It is there but cannot be read (a file that did not parse then, a render that failed):
    /// said without any file's content, since it is logged.
    Unreadable(String),
}

impl From<String> for Stop {
    fn from(why: String) -> Stop {
        Stop::Unreadable(why)
    }
}

/// `env`'s versions and read paths at `commit`, from the cache or read as the estate reads an
/// environment.
fn versions_at(
    context: &Context<'_>,
    config: &LoadedConfig,
    tree: &GitTree,
    commit: Oid,
    env: &str,
) -> Result<Cached, Stop> {
    let cache = context.renderer.cache();
    let key = cache_key(config, env, commit)?;
    if let Some(found) = cache
        .read(CACHE_KIND, &key)
        .and_then(|bytes| serde_json::from_slice::<Cached>(&bytes).ok())
        .filter(|found| found.entry.commit == commit.to_string())
    {
        return Ok(found);
    }
    let found = read_at(context, config, tree, commit, env)?;
    match serde_json::to_vec(&found) {
        Ok(bytes) => cache.store(CACHE_KIND, &key, &bytes),
        Err(e) => tracing::debug!(error = %e, "history cache: cannot encode entry"),
    }
    Ok(found)
}

/// Reads `env` at `commit` from Git: its sources, renders (through the render cache), inventory
/// and versions — the path [`estate::Estate::load`] takes. Kind scopes are learnt from the
/// commit's own CRDs, so the result depends on the commit alone and can be cached by it.
fn read_at(
    context: &Context<'_>,
    config: &LoadedConfig,
    tree: &GitTree,
    commit: Oid,
    env: &str,
) -> Result<Cached, Stop> {
    let definition = super::environment(config, env).map_err(|e| e.to_string())?;
    let old = tree.at_commit(commit).map_err(|e| e.to_string())?;
    let reading = desired::Reading {
        tree: &old,
        renderer: &context.renderer,
        config,
    };
    let state = match desired::read_environment(&reading, env, definition) {
        Ok(state) => state,
        Err(desired::DesiredError::Source {
            error: desired::manifests::ManifestError::MissingPath { .. },
            ..
        }) => return Err(Stop::Began),
        Err(e) => return Err(Stop::Unreadable(e.to_string())),
    };
    if !state.errors.is_empty() {
        // Render errors may quote a tool's output, which may quote a file: name the sources only.
        let sources: Vec<&str> = state
            .errors
            .iter()
            .filter_map(|e| e.source.as_deref())
            .collect();
        return Err(Stop::Unreadable(format!(
            "sources could not be rendered: {}",
            sources.join(", ")
        )));
    }
    if state.documents.is_empty() {
        return Err(Stop::Began);
    }
    let reads = old.take_reads();
    let mut scopes = Scopes::default();
    scopes.learn_from_crds(state.documents.iter().map(|d| &d.value));
    let inventory = estate::desired_inventory(context, config, env, state.documents, &scopes)
        .map_err(|e| e.to_string())?;
    Ok(Cached {
        reads,
        entry: HistoryEntry {
            commit: commit.to_string(),
            time: old.commit_time(commit).map_err(|e| e.to_string())?,
            versions: config.version_paths().of_inventory(&inventory),
        },
    })
}

/// The cache key of `env`'s versions at `commit`: plumb's version (in every key), the commit,
/// and everything of the configuration that reading the environment depends on — its own
/// definition (namespace, sources), where versions are (`promotion_paths`), the chart mirrors, the
/// URLs naming this repository, and the directory its paths are relative to.
fn cache_key(config: &LoadedConfig, env: &str, commit: Oid) -> Result<Key, String> {
    let definition = super::environment(config, env).map_err(|e| e.to_string())?;
    let mut key = KeyBuilder::new(CACHE_KIND);
    key.part("env", env)
        .part("namespace", definition.namespace.as_deref().unwrap_or(""))
        .part("sources", &format!("{:?}", definition.sources))
        .part(
            "promotion-paths",
            &format!("{:?}", config.config.promotion_paths),
        )
        .part("mirrors", &format!("{:?}", config.config.charts.mirrors))
        .part("repositories", &format!("{:?}", config.config.repositories))
        .part("config-dir", &config.dir.display().to_string())
        .part("commit", &commit.to_string());
    Ok(key.finish())
}
