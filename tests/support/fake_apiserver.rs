//! A fake Kubernetes API server for tests: real HTTP/1.1 on 127.0.0.1 (an ephemeral port), enough
//! of the API for discovery and paginated LIST, with switches for the ways real servers misbehave.
//!
//! Discovery is written from one table of API facts ([`RESOURCES`]: group, version, resource, kind,
//! scope, verbs, short names, subresources); the aggregated (`apidiscovery.k8s.io/v2`) and the
//! legacy documents (`/api`, `/api/v1`, `/apis`, `/apis/<g>`, `/apis/<g>/<v>`) are both derived
//! from it, so they cannot disagree. The shapes follow the real captures described in
//! `../shared/kube-api/README.md`: the core resource list has no `apiVersion`, subresources are
//! separate legacy entries with an empty `singularName`, aggregated `responseKind` leaves `group`
//! and `version` empty when they are the parent's, and the aggregated answer carries its own
//! Content-Type. Listed built-in items come without `apiVersion` and `kind`, as real lists do.
//!
//! Also used by `examples/fake-apiserver.rs` (the demo's fake cluster, and CI's check of the fake
//! with real kubectl).

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One resource of the API, as discovery describes it.
pub struct ApiResource {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub verbs: &'static [&'static str],
    pub short_names: &'static [&'static str],
    /// Subresources (`status`, `scale`, `log`): never listed.
    pub subresources: &'static [&'static str],
}

const RW: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const NO_COLLECTION: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
const CREATE_ONLY: &[&str] = &["create"];

macro_rules! resource {
    ($group:expr, $version:expr, $plural:expr, $singular:expr, $kind:expr, $namespaced:expr, $verbs:expr, [$($short:expr),*], [$($sub:expr),*]) => {
        ApiResource {
            group: $group,
            version: $version,
            plural: $plural,
            singular: $singular,
            kind: $kind,
            namespaced: $namespaced,
            verbs: $verbs,
            short_names: &[$($short),*],
            subresources: &[$($sub),*],
        }
    };
}

/// The API this fake serves: the common GA resources of a 1.33 cluster, in server priority order.
pub const RESOURCES: &[ApiResource] = &[
    resource!(
        "",
        "v1",
        "bindings",
        "binding",
        "Binding",
        true,
        CREATE_ONLY,
        [],
        []
    ),
    resource!(
        "",
        "v1",
        "configmaps",
        "configmap",
        "ConfigMap",
        true,
        RW,
        ["cm"],
        []
    ),
    resource!(
        "",
        "v1",
        "endpoints",
        "endpoints",
        "Endpoints",
        true,
        RW,
        ["ep"],
        []
    ),
    resource!("", "v1", "events", "event", "Event", true, RW, ["ev"], []),
    resource!(
        "",
        "v1",
        "limitranges",
        "limitrange",
        "LimitRange",
        true,
        RW,
        ["limits"],
        []
    ),
    resource!(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        false,
        NO_COLLECTION,
        ["ns"],
        ["finalize", "status"]
    ),
    resource!(
        "",
        "v1",
        "nodes",
        "node",
        "Node",
        false,
        RW,
        ["no"],
        ["proxy", "status"]
    ),
    resource!(
        "",
        "v1",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        true,
        RW,
        ["pvc"],
        ["status"]
    ),
    resource!(
        "",
        "v1",
        "persistentvolumes",
        "persistentvolume",
        "PersistentVolume",
        false,
        RW,
        ["pv"],
        ["status"]
    ),
    resource!(
        "",
        "v1",
        "pods",
        "pod",
        "Pod",
        true,
        RW,
        ["po"],
        [
            "attach",
            "binding",
            "ephemeralcontainers",
            "eviction",
            "exec",
            "log",
            "portforward",
            "proxy",
            "status"
        ]
    ),
    resource!(
        "",
        "v1",
        "resourcequotas",
        "resourcequota",
        "ResourceQuota",
        true,
        RW,
        ["quota"],
        ["status"]
    ),
    resource!("", "v1", "secrets", "secret", "Secret", true, RW, [], []),
    resource!(
        "",
        "v1",
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        true,
        RW,
        ["sa"],
        ["token"]
    ),
    resource!(
        "",
        "v1",
        "services",
        "service",
        "Service",
        true,
        RW,
        ["svc"],
        ["proxy", "status"]
    ),
    resource!(
        "apps",
        "v1",
        "controllerrevisions",
        "controllerrevision",
        "ControllerRevision",
        true,
        RW,
        [],
        []
    ),
    resource!(
        "apps",
        "v1",
        "daemonsets",
        "daemonset",
        "DaemonSet",
        true,
        RW,
        ["ds"],
        ["status"]
    ),
    resource!(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        true,
        RW,
        ["deploy"],
        ["scale", "status"]
    ),
    resource!(
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        true,
        RW,
        ["rs"],
        ["scale", "status"]
    ),
    resource!(
        "apps",
        "v1",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        true,
        RW,
        ["sts"],
        ["scale", "status"]
    ),
    resource!(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        "SelfSubjectAccessReview",
        false,
        CREATE_ONLY,
        [],
        []
    ),
    resource!(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        "HorizontalPodAutoscaler",
        true,
        RW,
        ["hpa"],
        ["status"]
    ),
    resource!(
        "batch",
        "v1",
        "cronjobs",
        "cronjob",
        "CronJob",
        true,
        RW,
        ["cj"],
        ["status"]
    ),
    resource!(
        "batch",
        "v1",
        "jobs",
        "job",
        "Job",
        true,
        RW,
        [],
        ["status"]
    ),
    resource!(
        "coordination.k8s.io",
        "v1",
        "leases",
        "lease",
        "Lease",
        true,
        RW,
        [],
        []
    ),
    resource!(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "endpointslice",
        "EndpointSlice",
        true,
        RW,
        [],
        []
    ),
    resource!(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "ingress",
        "Ingress",
        true,
        RW,
        ["ing"],
        ["status"]
    ),
    resource!(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "networkpolicy",
        "NetworkPolicy",
        true,
        RW,
        ["netpol"],
        []
    ),
    resource!(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        "PodDisruptionBudget",
        true,
        RW,
        ["pdb"],
        ["status"]
    ),
    resource!(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "clusterrolebinding",
        "ClusterRoleBinding",
        false,
        RW,
        [],
        []
    ),
    resource!(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "clusterrole",
        "ClusterRole",
        false,
        RW,
        [],
        []
    ),
    resource!(
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "rolebinding",
        "RoleBinding",
        true,
        RW,
        [],
        []
    ),
    resource!(
        "rbac.authorization.k8s.io",
        "v1",
        "roles",
        "role",
        "Role",
        true,
        RW,
        [],
        []
    ),
];

/// An aggregated API (an APIService backed by another server), for the broken-aggregated-API switch.
pub const METRICS: ApiResource = resource!(
    "metrics.k8s.io",
    "v1beta1",
    "pods",
    "pod",
    "PodMetrics",
    true,
    &["get", "list"],
    [],
    []
);

/// How the fake misbehaves.
#[derive(Debug, Clone, Default)]
pub struct Switches {
    /// Answer like a server before 1.26: no aggregated discovery (a plain APIGroupList even when
    /// the aggregated form is asked for).
    pub pre_aggregated: bool,
    /// Resources (`plural` or `group/plural`) whose LIST answers 403.
    pub forbidden: Vec<String>,
    /// The first continue token of each list expires: 410 Gone, once per resource.
    pub expire_continue: bool,
    /// `metrics.k8s.io` is served by an APIService that answers 503.
    pub broken_aggregated_api: bool,
    /// The most items a page holds, whatever `limit` asks (short pages).
    pub page_size: Option<usize>,
    /// Wait this long before every answer.
    pub delay: Duration,
}

struct State {
    objects: Vec<Value>,
    switches: Switches,
    log: Vec<String>,
    expired: Vec<String>,
}

/// A running fake API server; it stops when dropped.
pub struct FakeApiServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl FakeApiServer {
    /// Serves `objects` (each with apiVersion, kind and metadata) on an ephemeral port.
    pub fn start(objects: Vec<Value>, switches: Switches) -> FakeApiServer {
        Self::start_on("127.0.0.1:0", objects, switches)
    }

    /// [`Self::start`] on a chosen address.
    pub fn start_on(address: &str, objects: Vec<Value>, switches: Switches) -> FakeApiServer {
        let listener = TcpListener::bind(address).expect("bind the fake API server");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State {
            objects,
            switches,
            log: Vec::new(),
            expired: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (state2, stop2) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let state = state2.clone();
                std::thread::spawn(move || serve_connection(stream, &state));
            }
        });
        FakeApiServer { addr, state, stop }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, as `GET /path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().expect("state").log.clone()
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// A kubeconfig with one context per (name, server), no credentials (the fake asks for none).
pub fn kubeconfig(contexts: &[(&str, &str)]) -> String {
    let mut clusters = String::new();
    let mut entries = String::new();
    for (name, server) in contexts {
        clusters.push_str(&format!(
            "  - name: {name}\n    cluster:\n      server: {server}\n"
        ));
        entries.push_str(&format!(
            "  - name: {name}\n    context:\n      cluster: {name}\n      user: tester\n"
        ));
    }
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n{clusters}contexts:\n{entries}current-context: {}\nusers:\n  - name: tester\n    user: {{}}\n",
        contexts.first().map(|(n, _)| *n).unwrap_or("none")
    )
}

fn serve_connection(stream: TcpStream, state: &Mutex<State>) {
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut stream = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = BTreeMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
            }
        }
        let mut parts = request_line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
        let (status, content_type, body) = {
            let mut state = state.lock().expect("state");
            state.log.push(format!("{method} {target}"));
            let delay = state.switches.delay;
            let answer = if method == "GET" {
                route(
                    &mut state,
                    target,
                    headers.get("accept").map(String::as_str),
                )
            } else {
                status_error(405, "MethodNotAllowed", "this fake server is read-only")
            };
            drop(state);
            std::thread::sleep(delay);
            answer
        };
        let reason = match status {
            200 => "OK",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            410 => "Gone",
            503 => "Service Unavailable",
            _ => "Error",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        // One write, and no Nagle: a head and a body written apart wait out a delayed ACK.
        let mut response = head.into_bytes();
        response.extend_from_slice(&body);
        if stream.write_all(&response).is_err() {
            return;
        }
    }
}

type Answer = (u16, String, Vec<u8>);

fn json_answer(status: u16, value: &Value) -> Answer {
    (
        status,
        "application/json".into(),
        serde_json::to_vec(value).expect("JSON"),
    )
}

fn status_error(code: u16, reason: &str, message: &str) -> Answer {
    json_answer(
        code,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}),
    )
}

const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

fn route(state: &mut State, target: &str, accept: Option<&str>) -> Answer {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query: BTreeMap<String, String> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect();
    let wants_aggregated = accept.is_some_and(|a| a.contains("as=APIGroupDiscoveryList"));
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let broken = state.switches.broken_aggregated_api;
    match segments.as_slice() {
        ["version"] => json_answer(
            200,
            &json!({"major": "1", "minor": "33", "emulationMajor": "1", "emulationMinor": "33",
                "minCompatibilityMajor": "1", "minCompatibilityMinor": "32",
                "gitVersion": "v1.33.2", "gitCommit": "0000000000000000000000000000000000000000",
                "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24.4",
                "compiler": "gc", "platform": "linux/amd64"}),
        ),
        ["api"] if wants_aggregated && !state.switches.pre_aggregated => (
            200,
            AGGREGATED.into(),
            serde_json::to_vec(&aggregated(true, broken)).expect("JSON"),
        ),
        ["api"] => json_answer(
            200,
            &json!({"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}),
        ),
        ["apis"] if wants_aggregated && !state.switches.pre_aggregated => (
            200,
            AGGREGATED.into(),
            serde_json::to_vec(&aggregated(false, broken)).expect("JSON"),
        ),
        ["apis"] => json_answer(200, &group_list(broken)),
        ["api", "v1"] => json_answer(200, &resource_list("", "v1", broken)),
        ["apis", "metrics.k8s.io", ..] if broken => status_error(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        ),
        ["apis", group] => match groups(broken).into_iter().find(|(g, _)| g == group) {
            Some((name, version)) => json_answer(200, &api_group(&name, &version)),
            None => status_error(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ),
        },
        ["apis", group, version]
            if groups(broken)
                .iter()
                .any(|(g, v)| g == group && v == version) =>
        {
            json_answer(200, &resource_list(group, version, broken))
        }
        ["api", "v1", "namespaces", name] => {
            match state.objects.iter().find(|o| {
                o["kind"] == "Namespace"
                    && o["apiVersion"] == "v1"
                    && o["metadata"]["name"] == *name
            }) {
                Some(namespace) => json_answer(200, namespace),
                None => status_error(404, "NotFound", &format!("namespaces \"{name}\" not found")),
            }
        }
        ["api", "v1", "namespaces", namespace, plural] => {
            list(state, "", "v1", plural, Some(namespace), &query)
        }
        ["api", "v1", plural] => list(state, "", "v1", plural, None, &query),
        ["apis", group, version, "namespaces", namespace, plural] => {
            list(state, group, version, plural, Some(namespace), &query)
        }
        ["apis", group, version, plural] => list(state, group, version, plural, None, &query),
        _ => status_error(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ),
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn served(broken: bool) -> impl Iterator<Item = &'static ApiResource> {
    RESOURCES.iter().chain(broken.then_some(&METRICS))
}

/// Groups in priority order, each with its one version.
fn groups(broken: bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for r in served(broken).filter(|r| !r.group.is_empty()) {
        if !out.iter().any(|(g, _)| g == r.group) {
            out.push((r.group.to_string(), r.version.to_string()));
        }
    }
    out
}

fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn api_group(group: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": group_version(group, version), "version": version});
    json!({"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": [gv.clone()],
        "preferredVersion": gv})
}

fn group_list(broken: bool) -> Value {
    let groups: Vec<Value> = groups(broken)
        .iter()
        .map(|(g, v)| {
            let mut group = api_group(g, v);
            let map = group.as_object_mut().expect("object");
            map.remove("kind");
            map.remove("apiVersion");
            group
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// Resources stored in another version than the one served first.
const STORAGE_VERSIONS: &[(&str, &str, &str)] = &[("discovery.k8s.io", "EndpointSlice", "v1beta1")];

/// Base64 of the first 8 bytes of sha256("group/version/Kind") of the storage version, as servers
/// compute it.
fn storage_version_hash(r: &ApiResource) -> String {
    use base64::Engine;
    use sha2::Digest;
    let version = STORAGE_VERSIONS
        .iter()
        .find(|(group, kind, _)| *group == r.group && *kind == r.kind)
        .map_or(r.version, |(_, _, version)| *version);
    let digest = sha2::Sha256::digest(format!("{}/{version}/{}", r.group, r.kind).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&digest[..8])
}

/// The group, version and kind a subresource answers with (group and version empty: the parent's).
fn subresource_kind(r: &ApiResource, sub: &str) -> (&'static str, &'static str, String) {
    match sub {
        "scale" => ("autoscaling", "v1", "Scale".into()),
        "eviction" => ("policy", "v1", "Eviction".into()),
        "token" => ("authentication.k8s.io", "v1", "TokenRequest".into()),
        "binding" => ("", "", "Binding".into()),
        "attach" => ("", "", "PodAttachOptions".into()),
        "exec" => ("", "", "PodExecOptions".into()),
        "portforward" => ("", "", "PodPortForwardOptions".into()),
        "proxy" => ("", "", format!("{}ProxyOptions", r.kind)),
        _ => ("", "", r.kind.to_string()),
    }
}

fn subresource_verbs(sub: &str) -> Value {
    match sub {
        "status" | "scale" | "ephemeralcontainers" => json!(["get", "patch", "update"]),
        "log" => json!(["get"]),
        "finalize" => json!(["update"]),
        "proxy" => json!(["create", "delete", "get", "patch", "update"]),
        "attach" | "exec" | "portforward" => json!(["create", "get"]),
        _ => json!(["create"]),
    }
}

fn resource_list(group: &str, version: &str, broken: bool) -> Value {
    let mut resources = Vec::new();
    for r in served(broken).filter(|r| r.group == group && r.version == version) {
        let mut entry = json!({"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
            "kind": r.kind, "verbs": r.verbs});
        if !r.short_names.is_empty() {
            entry["shortNames"] = json!(r.short_names);
        }
        if r.verbs.contains(&"list") {
            entry["storageVersionHash"] = json!(storage_version_hash(r));
        }
        resources.push(entry);
        for sub in r.subresources {
            let (g, v, kind) = subresource_kind(r, sub);
            let mut entry = json!({"name": format!("{}/{sub}", r.plural), "singularName": "",
                "namespaced": r.namespaced, "kind": kind, "verbs": subresource_verbs(sub)});
            if !g.is_empty() {
                entry["group"] = json!(g);
                entry["version"] = json!(v);
            }
            resources.push(entry);
        }
    }
    let mut list = json!({"kind": "APIResourceList", "groupVersion": group_version(group, version),
        "resources": resources});
    // The core list has no apiVersion; group lists do.
    if !group.is_empty() {
        list["apiVersion"] = json!("v1");
    }
    list
}

fn aggregated(core: bool, broken: bool) -> Value {
    let names: Vec<(String, String)> = if core {
        vec![(String::new(), "v1".into())]
    } else {
        groups(broken)
    };
    let items: Vec<Value> = names
        .iter()
        .map(|(group, version)| {
            let resources: Vec<Value> = served(broken)
                .filter(|r| r.group == group && r.version == version)
                .map(|r| {
                    let subresources: Vec<Value> = r
                        .subresources
                        .iter()
                        .map(|sub| {
                            let (g, v, kind) = subresource_kind(r, sub);
                            json!({"subresource": sub,
                                "responseKind": {"group": g, "version": v, "kind": kind},
                                "verbs": subresource_verbs(sub)})
                        })
                        .collect();
                    let mut entry = json!({"resource": r.plural,
                        "responseKind": {"group": "", "version": "", "kind": r.kind},
                        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                        "singularResource": r.singular, "verbs": r.verbs});
                    if !r.short_names.is_empty() {
                        entry["shortNames"] = json!(r.short_names);
                    }
                    if !subresources.is_empty() {
                        entry["subresources"] = json!(subresources);
                    }
                    entry
                })
                .collect();
            let freshness = if *group == "metrics.k8s.io" {
                "Stale"
            } else {
                "Current"
            };
            // The core group's item has no name.
            let metadata = if group.is_empty() {
                json!({})
            } else {
                json!({"name": group})
            };
            json!({"metadata": metadata,
                "versions": [{"version": version, "resources": resources, "freshness": freshness}]})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {}, "items": items})
}

fn list(
    state: &mut State,
    group: &str,
    version: &str,
    plural: &str,
    namespace: Option<&str>,
    query: &BTreeMap<String, String>,
) -> Answer {
    let Some(resource) = served(state.switches.broken_aggregated_api)
        .find(|r| r.group == group && r.version == version && r.plural == plural)
    else {
        return status_error(
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
    };
    if !resource.verbs.contains(&"list") {
        return status_error(
            405,
            "MethodNotAllowed",
            "the server does not allow this method",
        );
    }
    let qualified = group_version(group, plural);
    if state.switches.forbidden.iter().any(|f| {
        *f == plural || (!group.is_empty() && *f == format!("{group}/{plural}")) || *f == qualified
    }) {
        return status_error(
            403,
            "Forbidden",
            &format!(
                "{plural}{} is forbidden: User \"tester\" cannot list resource \"{plural}\" in API group \"{group}\"",
                if group.is_empty() {
                    String::new()
                } else {
                    format!(".{group}")
                }
            ),
        );
    }
    let api_version = group_version(group, version);
    let mut items: Vec<&Value> = state
        .objects
        .iter()
        .filter(|o| {
            o["apiVersion"] == api_version.as_str()
                && o["kind"] == resource.kind
                && namespace.is_none_or(|ns| o["metadata"]["namespace"] == ns)
        })
        .collect();
    items.sort_by_key(|o| {
        (
            o["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            o["metadata"]["name"].as_str().unwrap_or("").to_string(),
        )
    });
    let start = match query.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => {
            if state.switches.expire_continue && !state.expired.contains(&qualified) {
                state.expired.push(qualified);
                return status_error(
                    410,
                    "Expired",
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                );
            }
            match token
                .strip_prefix("offset-")
                .and_then(|n| n.parse::<usize>().ok())
            {
                Some(offset) => offset,
                None => return status_error(400, "BadRequest", "invalid continue token"),
            }
        }
        None => 0,
    };
    let mut limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    if let Some(page) = state.switches.page_size {
        limit = limit.min(page);
    }
    let end = start.saturating_add(limit).min(items.len());
    let page: Vec<Value> = items[start.min(items.len())..end]
        .iter()
        .map(|o| {
            // Built-in lists omit apiVersion and kind on their items.
            let fields = o.as_object().into_iter().flatten();
            Value::Object(
                fields
                    .filter(|(k, _)| *k != "apiVersion" && *k != "kind")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )
        })
        .collect();
    let mut metadata = json!({"resourceVersion": "1000"});
    if end < items.len() {
        metadata["continue"] = json!(format!("offset-{end}"));
        metadata["remainingItemCount"] = json!(items.len() - end);
    }
    json_answer(
        200,
        &json!({"kind": format!("{}List", resource.kind), "apiVersion": api_version,
            "metadata": metadata, "items": page}),
    )
}

impl FakeApiServer {
    /// GETs `path` from this server over a fresh connection: the Content-Type and the JSON body.
    pub fn get(&self, path: &str, accept: &str) -> (u16, String, Value) {
        use std::io::Read;
        let mut stream = TcpStream::connect(self.addr).expect("connect to the fake");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .expect("send");
        // The server keeps the connection open; read exactly one response.
        let mut reader = BufReader::new(&mut stream);
        let mut status_line = String::new();
        reader.read_line(&mut status_line).expect("status line");
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let (mut content_type, mut length) = (String::new(), 0usize);
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("header");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                match name.to_ascii_lowercase().as_str() {
                    "content-type" => content_type = value.trim().to_string(),
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("body");
        (
            status,
            content_type,
            serde_json::from_slice(&body).expect("JSON body"),
        )
    }
}
