//! The estate: every environment a command needs, each read from Git and rendered once, its live
//! state read once, and both normalized once — however many views (drift, parity pairs, edges,
//! checks, diff) then use them (docs/architecture.md).
//!
//! Loading goes in three steps. Each environment is read: its desired documents (one environment
//! after another, each one's renders in parallel), then every live state in parallel (its scope
//! set by the desired documents). The scopes of kinds (cluster or namespaced) are
//! then learnt from everything read — CRDs, snapshots, live objects — once for the whole estate, so
//! every environment agrees on them. Last, each environment's inventories are built and normalized.
//! Noise removal depends on the view's scope and policies, so a command first says what its views
//! will read ([`Need`]s) and the estate prepares each once: in place where one environment's side
//! is read one way only, on a copy only where two views read it differently (drift and parity of
//! the same environment) — so a run holds one copy of each environment, not two.

use super::live::{self, LiveSource};
use super::{AppError, Context};
use crate::compare::ownership;
use crate::compare::promotion::{History, Versions};
use crate::config::LoadedConfig;
use crate::desired::{self, DeclaredOwner, DesiredState, git::GitTree};
use crate::inventory;
use crate::live::snapshot::LiveFile;
use crate::model::{Inventory, RunError, Scopes};
use crate::pipeline;
use crate::policy::Scope;
use crate::policy::eval::Policies;
use crate::yaml::Document;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    Desired,
    Live,
}

/// Every environment of one revision a command needs, loaded.
pub struct Estate {
    pub revision: Revision,
    /// The run's time (seconds since the epoch): ages of promotion findings are counted to it.
    pub now: i64,
    envs: BTreeMap<String, Environment>,
    prepared: HashMap<PreparedKey, Arc<Inventory>>,
    /// Environments' histories, for promotion order ([`Estate::read_histories`]).
    histories: BTreeMap<String, History>,
}

/// What a view reads: an environment's side, with the noise a policy set removes for a scope
/// taken out.
#[derive(Clone, Copy)]
pub struct Need<'a> {
    pub env: &'a str,
    pub side: Side,
    pub scope: Scope,
    pub policies: &'a Policies,
}

impl Need<'_> {
    fn key(&self) -> PreparedKey {
        let scope = match self.scope {
            Scope::Drift => ScopeKey::Drift,
            Scope::Parity => ScopeKey::Parity,
        };
        (
            self.env.to_string(),
            self.side,
            scope,
            self.policies as *const Policies as usize,
        )
    }
}

/// Which revision an estate was read at, for the report's inputs.
pub struct Revision {
    pub workdir: std::path::PathBuf,
    pub rev: String,
    pub commit: git2::Oid,
}

/// One environment, loaded: normalized, noise not yet removed (its inventories are handed to the
/// prepared copies by [`Estate::prepare`]).
pub struct Environment {
    /// Taken by [`Estate::prepare`].
    desired: Option<Inventory>,
    /// What could not be rendered.
    pub errors: Vec<RunError>,
    /// The owners its sources declare: which live objects are its to judge (docs/sources.md,
    /// live ownership).
    pub owners: Vec<DeclaredOwner>,
    pub live: Option<LiveState>,
    /// Drift `ignore` rules the environment's sources declare (Argo CD `ignoreDifferences`):
    /// its drift is judged with them before the user's rules.
    pub drift_rules: Vec<crate::policy::rules::Rule>,
    /// The versions its desired state holds (images, chart versions, `promotion_paths`): the
    /// newest entry of its history.
    pub versions: Versions,
    /// Every repository path reading its desired state asked about: a commit that changes none
    /// of them leaves its desired state as it was (its history, docs/promotion.md).
    pub reads: Vec<String>,
}

pub struct LiveState {
    /// Where it came from, as the report names it.
    pub source: String,
    /// Taken by [`Estate::prepare`].
    inventory: Option<Inventory>,
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
    owners: Vec<DeclaredOwner>,
    live: Option<(String, LiveFile)>,
    drift_rules: Vec<crate::policy::rules::Rule>,
    reads: Vec<String>,
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
        tree.take_reads();
        for want in wanted {
            let state = read_desired(context, config, &tree, &want.env, allow_empty)?;
            desired.push((want, state, tree.take_reads()));
        }
        let reads: Vec<Result<Read, AppError>> = desired
            .into_par_iter()
            .map(|(want, state, reads)| read_live(context, config, want, state, reads))
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
            now: context.now,
            envs,
            prepared: HashMap::new(),
            histories: BTreeMap::new(),
        })
    }

    /// Reads the history of each of `envs` (loaded environments) from Git, newest first, at most
    /// `--history N` commits each (docs/promotion.md).
    pub fn read_histories(
        &mut self,
        context: &Context<'_>,
        config: &LoadedConfig,
        envs: &[String],
    ) -> Result<(), AppError> {
        for env in envs {
            if self.histories.contains_key(env) {
                continue;
            }
            let loaded = self.env(env)?;
            let history = super::history::read(context, config, &self.revision, env, loaded)?;
            self.histories.insert(env.clone(), history);
        }
        Ok(())
    }

    /// An environment's history, where [`Estate::read_histories`] read it.
    pub fn history(&self, env: &str) -> Option<&History> {
        self.histories.get(env)
    }

    /// A loaded environment. Views ask only for what their command loaded: anything else is a
    /// bug in the command, reported as an unknown environment rather than a panic.
    pub fn env(&self, name: &str) -> Result<&Environment, AppError> {
        self.envs
            .get(name)
            .ok_or_else(|| AppError::NotLoaded { env: name.into() })
    }

    /// Makes every copy `needs` asks for, each once, in parallel. An environment's side that one
    /// need reads is prepared in place; one that several read differently is copied for all but
    /// the last. Afterwards the loaded inventories are gone: views read only prepared copies.
    pub fn prepare(&mut self, needs: &[Need<'_>]) -> Result<(), AppError> {
        let mut groups: BTreeMap<(String, Side), Vec<Need<'_>>> = BTreeMap::new();
        for need in needs {
            let group = groups.entry((need.env.to_string(), need.side)).or_default();
            if !group.iter().any(|known| known.key() == need.key())
                && !self.prepared.contains_key(&need.key())
            {
                group.push(*need);
            }
        }
        let mut work = Vec::new();
        for ((env, side), group) in groups {
            if group.is_empty() {
                continue;
            }
            let loaded = self
                .envs
                .get_mut(&env)
                .ok_or_else(|| AppError::NotLoaded { env: env.clone() })?;
            // A side prepared before has no base left to copy: a command prepares once.
            let base = match side {
                Side::Desired => loaded.desired.take(),
                Side::Live => loaded.live.as_mut().and_then(|live| live.inventory.take()),
            };
            let Some(base) = base else {
                return Err(AppError::NotLoaded { env });
            };
            work.push((base, group));
        }
        let prepared: Vec<Vec<(PreparedKey, Arc<Inventory>)>> = work
            .into_par_iter()
            .map(|(base, group)| {
                let last = group.len() - 1;
                let mut base = Some(base);
                group
                    .iter()
                    .enumerate()
                    .map(|(i, need)| {
                        let mut copy = if i == last {
                            base.take().unwrap_or_default()
                        } else {
                            base.clone().unwrap_or_default()
                        };
                        pipeline::remove_noise(&mut copy, need.policies, need.scope);
                        (need.key(), Arc::new(copy))
                    })
                    .collect()
            })
            .collect();
        self.prepared.extend(prepared.into_iter().flatten());
        Ok(())
    }

    /// A copy [`Estate::prepare`] made. Asking for one no need named is a bug in the command,
    /// reported as an error rather than read from an empty inventory.
    pub fn prepared(&self, need: &Need<'_>) -> Result<Arc<Inventory>, AppError> {
        self.prepared
            .get(&need.key())
            .cloned()
            .ok_or_else(|| AppError::NotLoaded {
                env: need.env.to_string(),
            })
    }
}

/// Opens the repository holding the config at `rev` (else the config's `ref`, else HEAD).
pub fn open_tree(config: &LoadedConfig, rev: Option<&str>) -> Result<GitTree, AppError> {
    let rev = rev.or(config.config.git_ref.as_deref()).unwrap_or("HEAD");
    Ok(GitTree::open(&config.dir, rev)?)
}

/// An environment's desired documents, read from Git and rendered, what could not be rendered,
/// and the owners its sources declare. No objects and no render error is bad input unless
/// `allow_empty`.
pub fn read_desired(
    context: &Context<'_>,
    config: &LoadedConfig,
    tree: &GitTree,
    name: &str,
    allow_empty: bool,
) -> Result<DesiredState, AppError> {
    let env = super::environment(config, name)?;
    context.progress.note(&format!(
        "reading {name} from Git at {} ({})",
        tree.rev,
        &tree.commit.to_string()[..12]
    ));
    let reading = desired::Reading {
        tree,
        renderer: &context.renderer,
        config,
    };
    let state = desired::read_environment(&reading, name, env)?;
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
    Ok(state)
}

/// The live state of a wanted environment, whose scope its desired documents set.
fn read_live(
    context: &Context<'_>,
    config: &LoadedConfig,
    want: Want,
    state: DesiredState,
    reads: Vec<String>,
) -> Result<Read, AppError> {
    let DesiredState {
        documents,
        errors,
        owners,
        rules,
    } = state;
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
        owners,
        live,
        drift_rules: rules,
        reads,
    })
}

fn build(
    context: &Context<'_>,
    config: &LoadedConfig,
    read: Read,
    scopes: &Scopes,
) -> Result<(String, Environment), AppError> {
    let desired = desired_inventory(context, config, &read.env, read.documents, scopes)?;
    let versions = config.version_paths().of_inventory(&desired);
    let live = match read.live {
        Some((source, live)) => {
            let mut inventory = inventory::build_live(&read.env, live.documents, scopes)?;
            ownership::attribute_live(&mut inventory, read.owners.iter().map(|d| &d.owner));
            pipeline::normalize(&mut inventory, &context.normalizer, true);
            Some(LiveState {
                source,
                inventory: Some(inventory),
                errors: live.errors,
                namespaces: live.namespaces,
            })
        }
        None => None,
    };
    Ok((
        read.env,
        Environment {
            desired: Some(desired),
            errors: read.errors,
            owners: read.owners,
            live,
            drift_rules: read.drift_rules,
            versions,
            reads: read.reads,
        },
    ))
}

/// An environment's desired documents as a normalized inventory (noise not yet removed): the
/// one way both a loaded environment and an old commit of its history are built.
pub fn desired_inventory(
    context: &Context<'_>,
    config: &LoadedConfig,
    name: &str,
    documents: Vec<Document>,
    scopes: &Scopes,
) -> Result<Inventory, AppError> {
    let env = super::environment(config, name)?;
    let mut desired = inventory::build(name, documents, env.namespace.as_deref(), scopes)?;
    pipeline::normalize(&mut desired, &context.normalizer, false);
    Ok(desired)
}
