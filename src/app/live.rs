//! Where a command's live state comes from — a cluster (`live.context`, `--context`), a snapshot
//! file or `kubectl get` List (`live.snapshot`, `--live`) — and `plumb snapshot`, which writes one.

use super::estate::{open_tree, read_desired};
use super::{AppError, Context, environment, write_output};
use crate::config::{Environment, LoadedConfig};
use crate::exit::Exit;
use crate::live::cluster::{self, ClusterState, ReadRequest};
use crate::live::snapshot::{self, LiveFile};
use crate::model::{RunError, Scopes, split_api_version};
use crate::yaml::Document;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where to read an environment's live state from.
pub enum LiveSource {
    File(PathBuf),
    Context(String),
}

impl LiveSource {
    /// `--live FILE` wins, then `--context`, then the environment's `live.snapshot`, then its
    /// `live.context`.
    pub fn resolve(
        config: &LoadedConfig,
        name: &str,
        live_file: Option<&Path>,
        context: Option<&str>,
    ) -> Result<LiveSource, AppError> {
        let live = environment(config, name)?.live.clone().unwrap_or_default();
        if let Some(file) = live_file {
            return Ok(LiveSource::File(file.to_path_buf()));
        }
        if let Some(context) = context {
            return Ok(LiveSource::Context(context.to_string()));
        }
        match (live.snapshot, live.context) {
            (Some(snapshot), _) => Ok(LiveSource::File(config.dir.join(snapshot))),
            (None, Some(context)) => Ok(LiveSource::Context(context)),
            (None, None) => Err(AppError::NoLiveState {
                env: name.to_string(),
                config: config.path.display().to_string(),
            }),
        }
    }

    /// How the report names it.
    pub fn describe(&self) -> String {
        match self {
            LiveSource::File(path) => path.display().to_string(),
            LiveSource::Context(context) => format!("context {context}"),
        }
    }
}

/// The namespaces and kinds a live read must cover for these desired documents.
pub struct LiveScope {
    pub namespaces: BTreeSet<String>,
    pub kinds: BTreeSet<(String, String)>,
}

impl LiveScope {
    /// `live.namespaces` when set, else the namespaces the desired state uses (namespaced objects
    /// without one take the environment's); the desired state's kinds.
    pub fn of(env: &Environment, documents: &[Document]) -> LiveScope {
        let scopes = Scopes::default();
        let mut namespaces = BTreeSet::new();
        let mut kinds = BTreeSet::new();
        for document in documents {
            let value = &document.value;
            let (group, _) = split_api_version(value["apiVersion"].as_str().unwrap_or(""));
            let kind = value["kind"].as_str().unwrap_or("");
            kinds.insert((group.to_string(), kind.to_string()));
            if scopes.is_cluster_scoped(group, kind) {
                continue;
            }
            let namespace = value["metadata"]["namespace"]
                .as_str()
                .map(str::to_string)
                .or_else(|| env.namespace.clone());
            namespaces.extend(namespace);
        }
        let configured = env
            .live
            .as_ref()
            .map(|l| l.namespaces.clone())
            .unwrap_or_default();
        if !configured.is_empty() {
            namespaces = configured.into_iter().collect();
        }
        LiveScope { namespaces, kinds }
    }
}

/// Reads live state from `source`. A cluster that cannot be reached is an `unreachable` error in
/// the result (exit 3), not bad input.
pub fn read(
    source: &LiveSource,
    name: &str,
    scope: &LiveScope,
    context: &Context<'_>,
) -> Result<LiveFile, AppError> {
    let (normalizer, progress) = (&context.normalizer, &context.progress);
    match source {
        LiveSource::File(path) => {
            progress.note(&format!(
                "reading live state of {name} from {}",
                path.display()
            ));
            let file =
                snapshot::read(&path.display().to_string(), name, &normalizer.fingerprinter)?;
            tracing::info!(env = name, objects = file.documents.len(), path = %path.display(), "read live state");
            Ok(file)
        }
        LiveSource::Context(cluster_context) => {
            Ok(read_cluster(context, cluster_context, name, scope)?.live)
        }
    }
}

fn read_cluster(
    context: &Context<'_>,
    cluster_context: &str,
    name: &str,
    scope: &LiveScope,
) -> Result<ClusterState, AppError> {
    let state = cluster::read(
        &ReadRequest {
            env: name,
            context: cluster_context,
            namespaces: &scope.namespaces,
            desired_kinds: &scope.kinds,
            timeout: context.common.request_timeout,
            kubeconfig: context.common.kubeconfig.as_deref(),
        },
        &context.progress,
    )?;
    tracing::info!(
        env = name,
        objects = state.live.documents.len(),
        errors = state.live.errors.len(),
        "read the cluster"
    );
    Ok(state)
}

/// `plumb snapshot ENV -o FILE`: the environment's live state as a PlumbSnapshot (docs/live.md),
/// Secret values fingerprinted before anything is written. The environment's desired state (read
/// as the estate reads it) sets the namespaces and kinds to list. Exit 0, or 3 when something
/// could not be read (the snapshot says what in `errors`).
pub fn snapshot(
    context: &Context<'_>,
    config: &LoadedConfig,
    name: &str,
    cluster_context: Option<&str>,
    git_ref: Option<&str>,
    out_file: Option<&Path>,
) -> Result<Exit, AppError> {
    let env = environment(config, name)?;
    let cluster_context = cluster_context
        .map(str::to_string)
        .or_else(|| env.live.as_ref().and_then(|l| l.context.clone()))
        .ok_or_else(|| AppError::NoContext {
            env: name.to_string(),
            config: config.path.display().to_string(),
        })?;
    let tree = open_tree(config, git_ref)?;
    let documents = read_desired(context, config, &tree, name, false)?.documents;
    let scope = LiveScope::of(env, &documents);
    let state = read_cluster(context, &cluster_context, name, &scope)?;
    if context.settings.fingerprint_key.is_none() {
        tracing::warn!(
            "PLUMB_FINGERPRINT_KEY is not set: this snapshot's Secret fingerprints use a key of this run only, \
             so later runs cannot compare its Secrets; set the same key when taking and reading snapshots"
        );
    }
    let normalizer = &context.normalizer;
    let objects: Vec<Value> = state
        .live
        .documents
        .into_iter()
        .map(|document| {
            let mut object = document.value;
            normalizer.redact(&mut object);
            object
        })
        .collect();
    let errors: Vec<Value> = state.live.errors.iter().map(error_entry).collect();
    let text = serde_json::to_string_pretty(&json!({
        "version": 1,
        "kind": "PlumbSnapshot",
        "taken_at": crate::timestamp::now_rfc3339(),
        "fingerprint_key_id": normalizer.fingerprinter.key_id(),
        "cluster": {"context": cluster_context, "server": state.server, "version": state.version},
        "namespaces": scope.namespaces,
        "resources": state.resources,
        "errors": errors,
        "objects": objects,
    }))
    .map_err(|e| AppError::Write {
        path: "snapshot".into(),
        source: std::io::Error::other(e),
    })?;
    write_output(out_file, &(text + "\n"))?;
    Ok(Exit::incomplete_if(!state.live.errors.is_empty()))
}

fn error_entry(error: &RunError) -> Value {
    json!({"kind": error.kind, "resource": error.resource, "message": error.message})
}
