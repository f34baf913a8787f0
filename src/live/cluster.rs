//! Live state read from a cluster through the Kubernetes API — read-only: discovery and LIST, and
//! a GET per scoped namespace, nothing else (docs/live.md).
//!
//! Real API servers misbehave, and a run must neither hang nor lie: every request has a timeout and
//! a short retry budget of plumb's own (kube's default policy retries a 503 for minutes), lists are
//! paged with continue tokens and restarted once when a token expires (410), a 403 marks the kind
//! `forbidden`, a missing namespace is said out loud (a list there is an empty 200), and whatever
//! could not be read becomes an entry in `errors`, so the run is incomplete — never "no drift".

use super::snapshot::LiveFile;
use crate::model::{RunError, Scopes};
use crate::progress::Progress;
use crate::scrub::Scrubber;
use crate::yaml::Document;
use futures::stream::{self, StreamExt};
use regex::Regex;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// The context name that means "the cluster this pod runs in, as its service account".
pub const IN_CLUSTER: &str = "in-cluster";

/// Attempts per request for answers worth retrying (429, 5xx, timeouts): a broken aggregated API
/// costs seconds, not minutes.
const ATTEMPTS: u32 = 3;
/// Requests in flight at once.
const CONCURRENCY: usize = 8;
/// Items per LIST page.
const PAGE: usize = 500;

const AGGREGATED_ACCEPT: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/// Kinds read in every scoped namespace besides the desired state's own: what someone could have
/// created by hand (docs/live.md). What controllers make (Pods, ReplicaSets, Endpoints) is left out.
const COMMON_KINDS: &[(&str, &str)] = &[
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("", "PersistentVolumeClaim"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("policy", "PodDisruptionBudget"),
];

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "cannot use kubeconfig context `{context}`: {message}\n  help: check `kubectl config get-contexts` (KUBECONFIG is honoured) and live.context in plumb.yaml"
    )]
    Kubeconfig { context: String, message: String },
    #[error("cannot start the runtime that talks to the cluster: {0}")]
    Runtime(std::io::Error),
}

/// A resource the server serves and plumb can list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServedResource {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl ServedResource {
    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    fn group_kind(&self) -> String {
        crate::model::group_kind(&self.group, &self.kind)
    }

    fn list_path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{base}/namespaces/{ns}/{}", self.plural),
            _ => format!("{base}/{}", self.plural),
        }
    }
}

/// Which cluster, and what plumb was asked to read of it.
pub struct ReadRequest<'a> {
    pub env: &'a str,
    pub context: &'a str,
    pub namespaces: &'a BTreeSet<String>,
    /// `(group, kind)` of the desired state: always read, cluster-scoped ones included.
    pub desired_kinds: &'a BTreeSet<(String, String)>,
    /// How long one request may take before it is abandoned (`--request-timeout`).
    pub timeout: Duration,
    /// `--kubeconfig FILE`: read instead of `$KUBECONFIG` (as kubectl does).
    pub kubeconfig: Option<&'a std::path::Path>,
}

/// What was read: the objects, what could not be read, and where they came from.
pub struct ClusterState {
    pub live: LiveFile,
    pub server: String,
    /// `gitVersion` of the server, when it answered.
    pub version: Option<String>,
    pub resources: Vec<ServedResource>,
}

/// Reads the live state `request` asks for. Kubeconfig problems are errors (bad input); anything
/// the cluster does, and credentials that cannot be had, are recorded in the state's `errors`.
pub fn read(request: &ReadRequest<'_>, progress: &Progress) -> Result<ClusterState, ClusterError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ClusterError::Runtime)?;
    runtime.block_on(read_async(request, progress))
}

async fn read_async(
    request: &ReadRequest<'_>,
    progress: &Progress,
) -> Result<ClusterState, ClusterError> {
    let kubeconfig_error = |message: String| ClusterError::Kubeconfig {
        context: request.context.to_string(),
        message,
    };
    let mut config = if request.context == IN_CLUSTER {
        kube::Config::incluster().map_err(|e| kubeconfig_error(scrubbed(&e)))?
    } else {
        let options = kube::config::KubeConfigOptions {
            context: Some(request.context.to_string()),
            ..Default::default()
        };
        let files = kubeconfig_files(request.kubeconfig);
        let loaded = match request.kubeconfig {
            Some(file) => match kube::config::Kubeconfig::read_from(file) {
                Ok(kubeconfig) => kube::Config::from_custom_kubeconfig(kubeconfig, &options).await,
                Err(e) => Err(e),
            },
            None => kube::Config::from_kubeconfig(&options).await,
        };
        loaded.map_err(|e| kubeconfig_error(kubeconfig_message(&e, &files)))?
    };
    config.default_retry = false;
    // The timeout around each request (below) is the one that counts; kube's own read timeout
    // would fire first with an opaque "client error".
    config.connect_timeout = Some(request.timeout);
    config.read_timeout = None;
    let server = config.cluster_url.to_string();
    let mut state = ClusterState {
        live: LiveFile::default(),
        server: server.clone(),
        version: None,
        resources: Vec::new(),
    };
    let client = match kube::Client::try_from(config) {
        Ok(client) => client,
        // Credentials that cannot be had (an exec plugin that fails, an expired login) are this
        // environment's cluster not being readable, not bad input: the other environments of an
        // audit are still read and reported.
        Err(kube::Error::Auth(error)) => {
            state.live.errors.push(RunError {
                env: request.env.to_string(),
                kind: "auth".into(),
                source: None,
                resource: None,
                message: format!(
                    "cannot get credentials for cluster `{}` at {server}: {}; nothing of it was compared\n  help: log in again (the kubeconfig user's credentials), then re-run",
                    request.context,
                    auth_message(&error)
                ),
                unjudged: None,
            });
            return Ok(state);
        }
        Err(e) => return Err(kubeconfig_error(scrubbed(&e))),
    };
    let api = Api {
        client,
        env: request.env.to_string(),
        timeout: request.timeout,
    };
    progress.note(&format!(
        "reading live state of {} from {} ({server})",
        request.env, request.context
    ));
    match api.get("/version", None).await {
        Ok(version) => state.version = version["gitVersion"].as_str().map(str::to_string),
        Err(failure) => {
            let (kind, what) = match failure {
                Failure::Auth(_) | Failure::Status(401, _) => ("auth", "cannot log in to"),
                _ => ("unreachable", "cannot reach"),
            };
            state.live.errors.push(api.error(
                kind,
                None,
                format!(
                    "{what} cluster `{}` at {server}: {}; nothing of it was compared",
                    request.context,
                    failure.message()
                ),
            ));
            return Ok(state);
        }
    }
    let discovery = api.discover().await;
    state.live.errors.extend(discovery.errors);
    let failed_groups = discovery.failed_groups;
    state.resources = discovery.resources;
    state.live.scopes = scopes_of(&state.resources);
    let (lists, unserved) = plan(&state.resources, request);
    for (group, kind) in unserved {
        let group_kind = crate::model::group_kind(&group, &kind);
        let error = match failed_groups.iter().find(|(failed, _)| *failed == group) {
            Some((_, why)) => api.error(
                "unreachable",
                Some(group_kind.clone()),
                format!("cannot read {group_kind}: discovery of API group {group} failed: {why}"),
            ),
            None => api.error(
                "unserved",
                Some(group_kind.clone()),
                format!(
                    "the cluster does not serve {group_kind} (is its CustomResourceDefinition installed?)"
                ),
            ),
        };
        state.live.errors.push(error);
    }
    for namespace in request.namespaces {
        let path = format!("/api/v1/namespaces/{namespace}");
        if let Err(Failure::Status(404, _)) = api.get(&path, None).await {
            state.live.errors.push(api.error(
                "namespace",
                None,
                format!(
                    "namespace `{namespace}` does not exist in cluster `{}`: everything declared in it is missing",
                    request.context
                ),
            ));
        }
    }
    progress.note(&format!(
        "{}: listing {} kinds in {} namespaces",
        request.env,
        lists.len(),
        request.namespaces.len()
    ));
    let jobs: Vec<(&ServedResource, Option<&str>)> = lists
        .iter()
        .flat_map(|resource| -> Vec<(&ServedResource, Option<&str>)> {
            if resource.namespaced {
                request
                    .namespaces
                    .iter()
                    .map(|ns| (*resource, Some(ns.as_str())))
                    .collect()
            } else {
                vec![(*resource, None)]
            }
        })
        .collect();
    let results: Vec<(&ServedResource, Result<Vec<Value>, Failure>)> = stream::iter(jobs)
        .map(|(resource, namespace)| {
            let api = &api;
            async move { (resource, api.list_all(resource, namespace).await) }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut failed_kinds = BTreeSet::new();
    for (resource, result) in results {
        match result {
            Ok(items) => state
                .live
                .documents
                .extend(items.into_iter().map(|value| Document {
                    value,
                    file: format!("{} (context {})", server, request.context),
                    line: 0,
                    origin: None,
                })),
            Err(failure) => {
                if failed_kinds.insert(resource.group_kind()) {
                    let kind = match failure {
                        Failure::Status(403, _) => "forbidden",
                        Failure::Status(401, _) | Failure::Auth(_) => "auth",
                        Failure::Timeout(_) => "timeout",
                        _ => "unreachable",
                    };
                    state.live.errors.push(api.error(
                        kind,
                        Some(resource.group_kind()),
                        format!(
                            "cannot list {} in cluster `{}`: {}",
                            resource.group_kind(),
                            request.context,
                            failure.message()
                        ),
                    ));
                }
            }
        }
    }
    let namespaces: Vec<String> = request.namespaces.iter().cloned().collect();
    state.live.namespaces = Some(namespaces);
    Ok(state)
}

/// The resources to list, and the desired kinds the server does not serve.
fn plan<'r>(
    resources: &'r [ServedResource],
    request: &ReadRequest<'_>,
) -> (Vec<&'r ServedResource>, Vec<(String, String)>) {
    let mut wanted: BTreeSet<(String, String)> = request.desired_kinds.clone();
    let mut unserved = Vec::new();
    for (group, kind) in COMMON_KINDS {
        wanted.insert((group.to_string(), kind.to_string()));
    }
    let mut lists = Vec::new();
    for (group, kind) in &wanted {
        match resources
            .iter()
            .find(|r| &r.group == group && &r.kind == kind)
        {
            Some(resource) => lists.push(resource),
            None if request
                .desired_kinds
                .contains(&(group.clone(), kind.clone())) =>
            {
                unserved.push((group.clone(), kind.clone()))
            }
            None => {}
        }
    }
    (lists, unserved)
}

/// Why a request gave no answer.
#[derive(Debug)]
enum Failure {
    /// The server answered with an error status.
    Status(u16, String),
    /// No answer within this long.
    Timeout(Duration),
    /// No answer: connection refused, reset, TLS, ….
    Transport(String),
    /// Credentials could not be had (a token refresh through an exec plugin failed).
    Auth(String),
}

impl Failure {
    fn message(&self) -> String {
        match self {
            Failure::Status(code, message) => format!("HTTP {code}: {message}"),
            Failure::Timeout(limit) => format!("no answer within {} s", limit.as_secs_f64()),
            Failure::Transport(message) | Failure::Auth(message) => message.clone(),
        }
    }

    fn worth_retrying(&self) -> bool {
        match self {
            Failure::Status(code, _) => *code == 429 || *code >= 500,
            Failure::Timeout(_) | Failure::Transport(_) => true,
            Failure::Auth(_) => false,
        }
    }
}

struct Api {
    client: kube::Client,
    env: String,
    timeout: Duration,
}

/// What discovery found, and which groups it could not read.
struct Discovery {
    resources: Vec<ServedResource>,
    errors: Vec<RunError>,
    /// Groups whose discovery failed (a broken aggregated API), with why.
    failed_groups: Vec<(String, String)>,
}

impl Api {
    fn error(&self, kind: &str, resource: Option<String>, message: String) -> RunError {
        RunError {
            env: self.env.clone(),
            kind: kind.into(),
            source: None,
            resource,
            message,
            unjudged: None,
        }
    }

    /// GETs `path` as JSON, with a timeout and the retry budget.
    async fn get(&self, path: &str, accept: Option<&str>) -> Result<Value, Failure> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.get_once(path, accept).await;
            match result {
                Err(failure) if failure.worth_retrying() && attempt < ATTEMPTS => {
                    tracing::info!(path, attempt, "retrying: {}", failure.message());
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                }
                other => return other,
            }
        }
    }

    async fn get_once(&self, path: &str, accept: Option<&str>) -> Result<Value, Failure> {
        tracing::info!("GET {path}");
        let mut builder = http::Request::get(path);
        if let Some(accept) = accept {
            builder = builder.header(http::header::ACCEPT, accept);
        }
        let request = builder
            .body(Vec::new())
            .map_err(|e| Failure::Transport(e.to_string()))?;
        let text = match tokio::time::timeout(self.timeout, self.client.request_text(request)).await
        {
            Err(_) => return Err(Failure::Timeout(self.timeout)),
            Ok(Err(kube::Error::Api(status))) => {
                return Err(Failure::Status(
                    status.code,
                    Scrubber::new().scrub(&status.message),
                ));
            }
            Ok(Err(kube::Error::Auth(e))) => return Err(Failure::Auth(auth_message(&e))),
            Ok(Err(e)) => return Err(Failure::Transport(scrubbed(&e))),
            Ok(Ok(text)) => text,
        };
        serde_json::from_str(&text).map_err(|e| {
            Failure::Transport(format!("{path} answered something other than JSON: {e}"))
        })
    }

    /// Aggregated discovery, falling back to per-group discovery when the aggregated answer holds
    /// no groups (servers before 1.26 answer that way, without an error).
    async fn discover(&self) -> Discovery {
        let mut discovery = Discovery {
            resources: Vec::new(),
            errors: Vec::new(),
            failed_groups: Vec::new(),
        };
        let core = self.get("/api", Some(AGGREGATED_ACCEPT)).await;
        let groups = self.get("/apis", Some(AGGREGATED_ACCEPT)).await;
        match (core, groups) {
            (Ok(core), Ok(groups))
                if groups["kind"] == "APIGroupDiscoveryList"
                    && groups["items"].as_array().is_some_and(|i| !i.is_empty()) =>
            {
                for document in [&core, &groups] {
                    discovery.resources.extend(aggregated_resources(document));
                }
                if core["kind"] != "APIGroupDiscoveryList" {
                    // A server that aggregates groups but not the core API: read it the old way.
                    self.legacy_version("", "v1", &mut discovery).await;
                }
            }
            _ => self.legacy(&mut discovery).await,
        }
        discovery
    }

    async fn legacy(&self, discovery: &mut Discovery) {
        self.legacy_version("", "v1", discovery).await;
        let groups = match self.get("/apis", None).await {
            Ok(groups) => groups,
            Err(failure) => {
                discovery.errors.push(self.error(
                    "unreachable",
                    None,
                    format!("cannot list the API groups: {}", failure.message()),
                ));
                return;
            }
        };
        let versions: Vec<(String, String)> = groups["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| {
                let name = g["name"].as_str()?;
                let version = g["preferredVersion"]["version"]
                    .as_str()
                    .or_else(|| g["versions"][0]["version"].as_str())?;
                Some((name.to_string(), version.to_string()))
            })
            .collect();
        let found: Vec<(String, Result<Value, Failure>)> = stream::iter(versions)
            .map(|(group, version)| async move {
                let path = format!("/apis/{group}/{version}");
                (group, self.get(&path, None).await)
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        for (group, result) in found {
            match result {
                Ok(list) => discovery.resources.extend(legacy_resources(&list)),
                // A group that cannot be discovered (a broken aggregated API) is reported; its
                // kinds are unknown, and `unserved` errors name any the desired state needs.
                Err(failure) => {
                    tracing::warn!("cannot discover API group {group}: {}", failure.message());
                    discovery.failed_groups.push((group, failure.message()));
                }
            }
        }
    }

    async fn legacy_version(&self, group: &str, version: &str, discovery: &mut Discovery) {
        let path = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        match self.get(&path, None).await {
            Ok(list) => discovery.resources.extend(legacy_resources(&list)),
            Err(failure) => discovery.errors.push(self.error(
                "unreachable",
                None,
                format!("cannot discover {path}: {}", failure.message()),
            )),
        }
    }

    /// Every page of a list; a 410 on a continue token restarts the list once.
    async fn list_all(
        &self,
        resource: &ServedResource,
        namespace: Option<&str>,
    ) -> Result<Vec<Value>, Failure> {
        let path = resource.list_path(namespace);
        let mut restarted = false;
        'list: loop {
            let mut items = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut url = format!("{path}?limit={PAGE}");
                if let Some(token) = &token {
                    url.push_str("&continue=");
                    url.push_str(&percent_encode(token));
                }
                let page = match self.get(&url, None).await {
                    Err(Failure::Status(410, _)) if token.is_some() && !restarted => {
                        tracing::info!(
                            path,
                            "continue token expired; listing again from the start"
                        );
                        restarted = true;
                        continue 'list;
                    }
                    other => other?,
                };
                let api_version = resource.api_version();
                if let Some(Value::Array(page_items)) = page.get("items") {
                    for item in page_items {
                        let mut item = item.clone();
                        if let Some(map) = item.as_object_mut() {
                            // Built-in lists omit apiVersion and kind on their items.
                            map.insert("apiVersion".into(), Value::String(api_version.clone()));
                            map.insert("kind".into(), Value::String(resource.kind.clone()));
                        }
                        items.push(item);
                    }
                }
                match page["metadata"]["continue"].as_str() {
                    Some(next) if !next.is_empty() => token = Some(next.to_string()),
                    _ => return Ok(items),
                }
            }
        }
    }
}

/// Why credentials could not be had, without what the credential plugin printed beyond a
/// scrubbed excerpt of its stderr (never its stdout, where a token would be, nor its command
/// line, whose arguments may hold one).
fn auth_message(error: &kube::client::AuthError) -> String {
    match error {
        kube::client::AuthError::AuthExecRun { out, .. } => {
            let stderr = Scrubber::strict().excerpt(&out.stderr);
            let status = out
                .status
                .code()
                .map_or("a signal".to_string(), |c| format!("status {c}"));
            if stderr.is_empty() {
                format!("the kubeconfig user's exec credential plugin exited with {status}")
            } else {
                format!(
                    "the kubeconfig user's exec credential plugin exited with {status}: {stderr}"
                )
            }
        }
        other => scrubbed(other),
    }
}

/// A kubeconfig error that names the file and the place, never a value: the YAML parser's
/// message quotes the offending line (a `token:`), and a type error quotes the value.
fn kubeconfig_message(
    error: &kube::config::KubeconfigError,
    files: &[std::path::PathBuf],
) -> String {
    use kube::config::{KubeconfigError, LoadDataError};
    // kube quotes these paths twice ('"/root/.kube/config"'); plumb names a path once.
    match error {
        KubeconfigError::ReadConfig(source, path) => {
            return format!("cannot read the kubeconfig {}: {source}", path.display());
        }
        KubeconfigError::LoadCertificateAuthority(LoadDataError::ReadFile(source, path))
        | KubeconfigError::LoadClientCertificate(LoadDataError::ReadFile(source, path))
        | KubeconfigError::LoadClientKey(LoadDataError::ReadFile(source, path)) => {
            return read_file_message(error, source, path);
        }
        KubeconfigError::Parse(_) => {}
        _ => return scrubbed(error),
    }
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let text = error.to_string();
    let place = Regex::new(r"line (\d+) column (\d+)")
        .ok()
        .and_then(|re| re.captures(&text))
        .and_then(|c| Some((c[1].parse::<usize>().ok()?, c[2].to_string())));
    let Some((line, column)) = place else {
        return format!(
            "{} is not a valid kubeconfig (the parser's message is not shown: it may quote a credential)",
            names.join(", ")
        );
    };
    // The key on that line, when the line is `key: …` or `- key: …`.
    let key = files.iter().find_map(|file| {
        let text = std::fs::read_to_string(file).ok()?;
        let entry = text.lines().nth(line.checked_sub(1)?)?;
        let (key, _) = entry
            .trim_start()
            .trim_start_matches("- ")
            .split_once(':')?;
        let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
        (!key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .then(|| key.to_string())
    });
    let key = key.map_or(String::new(), |k| format!(", key `{k}`"));
    format!(
        "{}: not a valid kubeconfig at line {line} column {column}{key} (the value is not shown)",
        names.join(", ")
    )
}

/// A certificate or key file the kubeconfig names that cannot be read, its path said once.
fn read_file_message(
    error: &kube::config::KubeconfigError,
    source: &std::io::Error,
    path: &std::path::Path,
) -> String {
    let what = match error {
        kube::config::KubeconfigError::LoadCertificateAuthority(_) => "certificate authority",
        kube::config::KubeconfigError::LoadClientCertificate(_) => "client certificate",
        _ => "client key",
    };
    format!("cannot read the {what} file {}: {source}", path.display())
}

/// The kubeconfig files kube reads: `--kubeconfig FILE`, else `KUBECONFIG`'s list, else
/// `~/.kube/config`.
fn kubeconfig_files(given: Option<&std::path::Path>) -> Vec<std::path::PathBuf> {
    if let Some(file) = given {
        return vec![file.to_path_buf()];
    }
    match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(list) => std::env::split_paths(&list).collect(),
        None => std::env::var_os("HOME")
            .map(|home| std::path::PathBuf::from(home).join(".kube/config"))
            .into_iter()
            .collect(),
    }
}

/// An error and its causes, scrubbed of credential shapes.
fn scrubbed(error: &dyn std::error::Error) -> String {
    Scrubber::new().scrub(&error_chain(error))
}

/// An error and its causes, `: `-separated: kube's own message ("client error (Connect)") says
/// little without them ("Connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Listable resources of an aggregated discovery document, first version of a group first.
fn aggregated_resources(document: &Value) -> Vec<ServedResource> {
    let mut out: Vec<ServedResource> = Vec::new();
    for item in document["items"].as_array().into_iter().flatten() {
        let group = item["metadata"]["name"].as_str().unwrap_or("");
        for version in item["versions"].as_array().into_iter().flatten() {
            let version_name = version["version"].as_str().unwrap_or("");
            for r in version["resources"].as_array().into_iter().flatten() {
                let kind = r["responseKind"]["kind"].as_str().unwrap_or("");
                let listable = r["verbs"]
                    .as_array()
                    .is_some_and(|v| v.iter().any(|verb| verb == "list"));
                let (Some(plural), false) = (r["resource"].as_str(), kind.is_empty()) else {
                    continue;
                };
                if !listable || out.iter().any(|o| o.group == group && o.kind == kind) {
                    continue;
                }
                out.push(ServedResource {
                    group: group.to_string(),
                    version: version_name.to_string(),
                    kind: kind.to_string(),
                    plural: plural.to_string(),
                    namespaced: r["scope"] == "Namespaced",
                });
            }
        }
    }
    out
}

/// Listable resources of a legacy APIResourceList (`/api/v1`, `/apis/<g>/<v>`), no subresources.
fn legacy_resources(list: &Value) -> Vec<ServedResource> {
    let group_version = list["groupVersion"].as_str().unwrap_or("v1");
    let (group, version) = crate::model::split_api_version(group_version);
    list["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let plural = r["name"].as_str()?;
            let listable = r["verbs"]
                .as_array()
                .is_some_and(|v| v.iter().any(|verb| verb == "list"));
            (!plural.contains('/') && listable).then(|| ServedResource {
                group: group.to_string(),
                version: version.to_string(),
                kind: r["kind"].as_str().unwrap_or_default().to_string(),
                plural: plural.to_string(),
                namespaced: r["namespaced"].as_bool().unwrap_or(true),
            })
        })
        .collect()
}

/// Declares the scope of every served kind, for inventories built from what was read.
fn scopes_of(resources: &[ServedResource]) -> Scopes {
    let mut scopes = Scopes::default();
    for r in resources {
        scopes.declare(&r.group, &r.kind, !r.namespaced);
    }
    scopes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn discovery_documents_give_listable_resources_without_subresources() {
        let legacy = json!({"kind": "APIResourceList", "groupVersion": "apps/v1", "resources": [
            {"name": "deployments", "namespaced": true, "kind": "Deployment", "verbs": ["get", "list"]},
            {"name": "deployments/scale", "namespaced": true, "kind": "Scale", "verbs": ["get"]},
            {"name": "bindings", "namespaced": true, "kind": "Binding", "verbs": ["create"]}]});
        let found = legacy_resources(&legacy);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].list_path(Some("shop")),
            "/apis/apps/v1/namespaces/shop/deployments"
        );
        let aggregated = json!({"kind": "APIGroupDiscoveryList", "items": [{"metadata": {"name": ""},
            "versions": [{"version": "v1", "resources": [
                {"resource": "namespaces", "responseKind": {"group": "", "version": "", "kind": "Namespace"},
                 "scope": "Cluster", "verbs": ["get", "list"]}]}]}]});
        let found = aggregated_resources(&aggregated);
        assert_eq!(found[0].list_path(None), "/api/v1/namespaces");
        assert!(!found[0].namespaced);
    }

    #[test]
    fn continue_tokens_are_escaped() {
        assert_eq!(percent_encode("a+b/c=="), "a%2Bb%2Fc%3D%3D");
    }
}
