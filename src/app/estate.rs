//! The estate: every environment a command needs, each read from Git and rendered once, its live
//! state read once, and both normalized once — however many views (drift, parity pairs, edges,
//! checks, diff) then use them (docs/architecture.md).
//!
//! Loading goes in three steps. Each environment is read: its desired documents (one environment
//! after another, each one's renders in parallel), then every live state in parallel (its scope
//! set by the desired documents). The scopes of kinds (cluster or namespaced) are
//! then learnt from everything read — CRDs, snapshots, live objects — once for the whole estate, so
//! every environment agrees on them. Last, each environment's inventories are built and normalized.
//! Noise removal depends on the view's scope and policies, so it happens per view, once per
//! (environment, side, scope, policy set), on a copy the estate keeps for the next view.

use super::live::{self, LiveSource};
use super::{AppError, Context};
use crate::config::LoadedConfig;
use crate::desired::{self, git::GitTree};
use crate::inventory;
use crate::live::snapshot::LiveFile;
use crate::model::{Inventory, RunError, Scopes};
use crate::pipeline;
use crate::policy::Scope;
use crate::policy::eval::Policies;
use crate::yaml::Document;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

/// One environment a command needs, and where its live state comes from (none: desired only).
pub struct Want {
    pub env: String,
    pub live: Option<LiveSource>,
}

impl Want {
    pub fn desired(env: &str) -> Want {
        Want {
            env: env.to_string(),
            live: None,
        }
    }
}

/// Which of an environment's states a view reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Desired,
    Live,
}

/// Every environment of one revision a command needs, loaded.
pub struct Estate {
    pub revision: Revision,
    envs: BTreeMap<String, Environment>,
    prepared: Mutex<HashMap<PreparedKey, Arc<OnceLock<Arc<Inventory>>>>>,
}

/// Which revision an estate was read at, for the report's inputs.
pub struct Revision {
    pub workdir: std::path::PathBuf,
    pub rev: String,
    pub commit: git2::Oid,
}

/// One environment, loaded: normalized, noise not yet removed.
pub struct Environment {
    pub desired: Inventory,
    /// What could not be rendered.
    pub errors: Vec<RunError>,
    pub live: Option<LiveState>,
}

pub struct LiveState {
    /// Where it came from, as the report names it.
    pub source: String,
    pub inventory: Inventory,
    /// What could not be read (an unreachable cluster, a forbidden kind, a snapshot's errors).
    pub errors: Vec<RunError>,
    /// The namespaces a snapshot says it covered.
    pub namespaces: Option<Vec<String>>,
}

impl LiveState {
    /// The cluster could not be read at all: no drift can be judged.
    pub fn unreachable(&self) -> bool {
        self.errors
            .iter()
            .any(|e| matches!(e.kind.as_str(), "unreachable" | "auth") && e.resource.is_none())
    }
}

/// A prepared copy: environment, side, scope, and which policy set removed the noise (by address:
/// a run's policy sets live as long as the run).
type PreparedKey = (String, Side, ScopeKey, usize);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ScopeKey {
    Drift,
    Parity,
}

/// What one environment's read brought, before inventories are built.
struct Read {
    env: String,
    documents: Vec<Document>,
    errors: Vec<RunError>,
    live: Option<(String, LiveFile)>,
}

impl Estate {
    /// Opens the revision and loads every wanted environment. An environment with no objects and
    /// no render error is bad input (exit 2), unless `allow_empty` (a revision before the
    /// environment existed, for `plumb diff`).
    pub fn load(
        context: &Context<'_>,
        config: &LoadedConfig,
        rev: Option<&str>,
        wanted: Vec<Want>,
        allow_empty: bool,
    ) -> Result<Estate, AppError> {
        let tree = open_tree(config, rev)?;
        // Desired state one environment after another (a Git repository handle is not shared
        // between threads; each environment's renders run in parallel), then every live state
        // in parallel (cluster reads wait on the network).
        let mut desired = Vec::with_capacity(wanted.len());
        for want in wanted {
            let (documents, errors) = read_desired(context, config, &tree, &want.env, allow_empty)?;
            desired.push((want, documents, errors));
        }
        let reads: Vec<Result<Read, AppError>> = desired
            .into_par_iter()
            .map(|(want, documents, errors)| read_live(context, config, want, documents, errors))
            .collect();
        let reads: Vec<Read> = reads.into_iter().collect::<Result<_, _>>()?;
        let mut scopes = Scopes::default();
        for read in &reads {
            scopes.learn_from_crds(read.documents.iter().map(|d| &d.value));
            if let Some((_, live)) = &read.live {
                scopes.merge(&live.scopes);
                scopes.learn_from_live(live.documents.iter().map(|d| &d.value));
            }
        }
        let built: Vec<Result<(String, Environment), AppError>> = reads
            .into_par_iter()
            .map(|read| build(context, config, read, &scopes))
            .collect();
        let envs = built.into_iter().collect::<Result<_, _>>()?;
        Ok(Estate {
            revision: Revision {
                workdir: tree.workdir.clone(),
                rev: tree.rev.clone(),
                commit: tree.commit,
            },
            envs,
            prepared: Mutex::new(HashMap::new()),
        })
    }

    /// A loaded environment. Views ask only for what their command loaded: anything else is a
    /// bug in the command, reported as an unknown environment rather than a panic.
    pub fn env(&self, name: &str) -> Result<&Environment, AppError> {
        self.envs
            .get(name)
            .ok_or_else(|| AppError::NotLoaded { env: name.into() })
    }

    /// The environment's `side`, with the noise `policies` name for `scope` taken out; made once
    /// per (environment, side, scope, policy set) and shared by every view that asks again.
    pub fn prepared(
        &self,
        name: &str,
        side: Side,
        scope: Scope,
        policies: &Policies,
    ) -> Result<Arc<Inventory>, AppError> {
        let env = self.env(name)?;
        let source = match side {
            Side::Desired => &env.desired,
            Side::Live => match &env.live {
                Some(live) => &live.inventory,
                None => return Err(AppError::NotLoaded { env: name.into() }),
            },
        };
        let scope_key = match scope {
            Scope::Drift => ScopeKey::Drift,
            Scope::Parity => ScopeKey::Parity,
        };
        let key = (
            name.to_string(),
            side,
            scope_key,
            policies as *const Policies as usize,
        );
        let slot = {
            // A poisoned lock means a view panicked while inserting: the map itself is intact.
            let mut map = self
                .prepared
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            map.entry(key).or_default().clone()
        };
        Ok(slot
            .get_or_init(|| {
                let mut copy = source.clone();
                pipeline::remove_noise(&mut copy, policies, scope);
                Arc::new(copy)
            })
            .clone())
    }
}

/// Opens the repository holding the config at `rev` (else the config's `ref`, else HEAD).
pub fn open_tree(config: &LoadedConfig, rev: Option<&str>) -> Result<GitTree, AppError> {
    let rev = rev.or(config.config.git_ref.as_deref()).unwrap_or("HEAD");
    Ok(GitTree::open(&config.dir, rev)?)
}

/// An environment's desired documents, read from Git and rendered, and what could not be
/// rendered. No objects and no render error is bad input unless `allow_empty`.
pub fn read_desired(
    context: &Context<'_>,
    config: &LoadedConfig,
    tree: &GitTree,
    name: &str,
    allow_empty: bool,
) -> Result<(Vec<Document>, Vec<RunError>), AppError> {
    let env = super::environment(config, name)?;
    context.progress.note(&format!(
        "reading {name} from Git at {} ({})",
        tree.rev,
        &tree.commit.to_string()[..12]
    ));
    let state = desired::read_environment(tree, &context.renderer, &config.dir, name, env)?;
    tracing::info!(
        env = name,
        documents = state.documents.len(),
        errors = state.errors.len(),
        "read desired state"
    );
    if state.documents.is_empty() && state.errors.is_empty() && !allow_empty {
        return Err(AppError::EmptyEnvironment {
            env: name.to_string(),
            config: config.path.display().to_string(),
        });
    }
    Ok((state.documents, state.errors))
}

/// The live state of a wanted environment, whose scope its desired documents set.
fn read_live(
    context: &Context<'_>,
    config: &LoadedConfig,
    want: Want,
    documents: Vec<Document>,
    errors: Vec<RunError>,
) -> Result<Read, AppError> {
    let live = match &want.live {
        Some(source) => {
            let env = super::environment(config, &want.env)?;
            let scope = live::LiveScope::of(env, &documents);
            let file = live::read(source, &want.env, &scope, context)?;
            Some((source.describe(), file))
        }
        None => None,
    };
    Ok(Read {
        env: want.env,
        documents,
        errors,
        live,
    })
}

fn build(
    context: &Context<'_>,
    config: &LoadedConfig,
    read: Read,
    scopes: &Scopes,
) -> Result<(String, Environment), AppError> {
    let env = super::environment(config, &read.env)?;
    let mut desired =
        inventory::build(&read.env, read.documents, env.namespace.as_deref(), scopes)?;
    pipeline::normalize(&mut desired, &context.normalizer, false);
    let live = match read.live {
        Some((source, live)) => {
            let mut inventory = inventory::build_live(&read.env, live.documents, scopes)?;
            pipeline::normalize(&mut inventory, &context.normalizer, true);
            Some(LiveState {
                source,
                inventory,
                errors: live.errors,
                namespaces: live.namespaces,
            })
        }
        None => None,
    };
    Ok((
        read.env,
        Environment {
            desired,
            errors: read.errors,
            live,
        },
    ))
}
