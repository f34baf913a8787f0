//! The objects plumb compares: resource identities, where a resource came from, and the per-environment
//! inventory that every comparison reads.

use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::fmt;

/// `(group, kind, namespace, name)`: what makes two objects "the same resource". The API version is
/// deliberately not part of it — `autoscaling/v1` and `autoscaling/v2` HPAs are one object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId {
    pub group: String,
    pub kind: String,
    /// `None` for cluster-scoped kinds.
    pub namespace: Option<String>,
    pub name: String,
}

impl ResourceId {
    /// `Kind` for the core group, `group/Kind` otherwise — the form policies and messages use.
    pub fn group_kind(&self) -> String {
        group_kind(&self.group, &self.kind)
    }
}

pub fn group_kind(group: &str, kind: &str) -> String {
    if group.is_empty() {
        kind.to_string()
    } else {
        format!("{group}/{kind}")
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.group_kind(), ns, self.name),
            None => write!(f, "{} {}", self.group_kind(), self.name),
        }
    }
}

/// Splits `apps/v1` into `("apps", "v1")` and `v1` into `("", "v1")`.
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}

/// Where a desired object was declared in Git.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SourceLocation {
    pub file: String,
    /// 0 when unknown (a rendered object: its line in the tool's output is no line of the file).
    pub line: u64,
}

impl fmt::Display for SourceLocation {
    /// `file:line`, or the file alone when the line is unknown (never `:0`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => f.write_str(&self.file),
            line => write!(f, "{}:{line}", self.file),
        }
    }
}

/// One managedFields entry of a live object: who wrote which fields, when.
#[derive(Debug, Clone)]
pub struct ManagedFields {
    pub manager: String,
    pub operation: String,
    pub time: Option<String>,
    pub fields: Value,
}

/// What a live object says about its own history, taken out before normalization removes it.
#[derive(Debug, Clone, Default)]
pub struct LiveHistory {
    /// The normalized `kubectl.kubernetes.io/last-applied-configuration`, when present.
    pub last_applied: Option<Value>,
    pub managed_fields: Vec<ManagedFields>,
}

/// Who applies an object, as Argo CD, Flux and Helm mark what they apply: the key that attributes
/// live objects to the sources of an environment (docs/sources.md, live ownership).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    /// An Argo CD Application, by the name its tracking annotation or instance label carries
    /// (`namespace_name` for Applications outside Argo CD's own namespace, as Argo CD writes it).
    ArgoApplication(String),
    FluxKustomization {
        namespace: String,
        name: String,
    },
    FluxHelmRelease {
        namespace: String,
        name: String,
    },
    /// A Helm release (`helm install`, or a `helm:` source).
    HelmRelease {
        namespace: String,
        name: String,
    },
}

/// What a source says of the objects it brings: who applies them, and the namespace of those that
/// name none (an Argo CD destination, a HelmRelease's target namespace).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub owner: Option<Owner>,
    pub namespace: Option<String>,
}

/// A resource in one environment.
#[derive(Debug, Clone)]
pub struct Resource {
    pub id: ResourceId,
    pub version: String,
    /// The object. Raw as read until normalization runs; normalized afterwards.
    pub object: Value,
    pub source: Option<SourceLocation>,
    /// Who applied it: on desired objects, the source that renders it; on live objects, what the
    /// controllers' marks say (docs/sources.md, live ownership).
    pub owner: Option<Owner>,
    /// Present on live objects that carried managedFields or a last-applied annotation.
    pub history: Option<Box<LiveHistory>>,
}

impl Resource {
    /// The object with its identity written back (apiVersion, kind, metadata.name and .namespace,
    /// which normalization takes out because identity is compared apart), for policy expressions
    /// that read `object.kind` or `object.metadata.name` as they would on the real object.
    pub fn object_with_identity(&self) -> Value {
        let mut object = self.object.clone();
        self.write_identity(&mut object);
        object
    }

    /// Writes this resource's identity into `object` (see [`Self::object_with_identity`]).
    pub fn write_identity(&self, object: &mut Value) {
        if let Value::Object(map) = object {
            let api_version = if self.id.group.is_empty() {
                self.version.clone()
            } else {
                format!("{}/{}", self.id.group, self.version)
            };
            map.insert("apiVersion".into(), Value::String(api_version));
            map.insert("kind".into(), Value::String(self.id.kind.clone()));
            let metadata = map
                .entry("metadata")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Value::Object(metadata) = metadata {
                metadata.insert("name".into(), Value::String(self.id.name.clone()));
                if let Some(namespace) = &self.id.namespace {
                    metadata.insert("namespace".into(), Value::String(namespace.clone()));
                }
            }
        }
    }
}

/// Something plumb could not see or decide. It makes the run incomplete (exit 3) and is listed in
/// the report's `errors`, so a blind spot never reads as "no drift".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RunError {
    pub env: String,
    /// `render`, `forbidden`, `unreachable`, `timeout`, `policy`, `fingerprint`, `snapshot`.
    pub kind: String,
    /// The source that failed (`helm: charts/web`), where one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The kind that could not be read (`apps/Deployment`), where one could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub message: String,
    /// For a `render` error: how many live objects were left unjudged because this source could
    /// not be rendered (those its owner marks, and those no rendered source claims).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unjudged: Option<usize>,
}

impl RunError {
    /// A `render` error of `source` (as plumb.yaml names it) in `env`: the message names both.
    pub fn render(env: &str, source: &str, message: impl fmt::Display) -> RunError {
        RunError {
            env: env.to_string(),
            kind: "render".into(),
            source: Some(source.to_string()),
            resource: None,
            message: format!("environment `{env}`, source `{source}`: {message}"),
            unjudged: None,
        }
    }

    /// What a failed source left unjudged, as reports say it after the message (empty when it
    /// says nothing).
    pub fn unjudged_note(&self) -> String {
        match self.unjudged {
            Some(count) => format!(" ({count} object(s) not judged)"),
            None => String::new(),
        }
    }
}

/// Cluster-scoped kinds of the Kubernetes API, as `(group, kind)`.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "ComponentStatus"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
    ),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "ServiceCIDR"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("resource.k8s.io", "DeviceClass"),
    ("resource.k8s.io", "ResourceSlice"),
    // Cluster-scoped kinds of the CRDs GitOps repositories most often declare objects of without
    // carrying the CRD itself (it comes with a chart, or the cluster has it): desired state read
    // with no cluster must not give them a namespace. A CRD in the desired state, a snapshot or a
    // cluster's discovery says otherwise and wins (docs/decisions.md).
    ("cert-manager.io", "ClusterIssuer"),
    ("gateway.networking.k8s.io", "GatewayClass"),
    ("external-secrets.io", "ClusterSecretStore"),
    ("external-secrets.io", "ClusterExternalSecret"),
    ("kyverno.io", "ClusterPolicy"),
    ("kyverno.io", "ClusterCleanupPolicy"),
    ("templates.gatekeeper.sh", "ConstraintTemplate"),
    ("karpenter.sh", "NodePool"),
    ("karpenter.k8s.aws", "EC2NodeClass"),
    ("crd.projectcalico.org", "GlobalNetworkPolicy"),
];

/// Knows which kinds are cluster-scoped: the built-in ones, plus what CRDs, snapshots and live
/// objects reveal.
#[derive(Debug, Clone, Default)]
pub struct Scopes {
    cluster: HashSet<(String, String)>,
    namespaced: HashSet<(String, String)>,
}

impl Scopes {
    pub fn is_cluster_scoped(&self, group: &str, kind: &str) -> bool {
        let key = (group.to_string(), kind.to_string());
        if self.namespaced.contains(&key) {
            return false;
        }
        self.cluster.contains(&key) || CLUSTER_SCOPED.contains(&(group, kind))
    }

    pub fn declare(&mut self, group: &str, kind: &str, cluster_scoped: bool) {
        let key = (group.to_string(), kind.to_string());
        if cluster_scoped {
            self.namespaced.remove(&key);
            self.cluster.insert(key);
        } else {
            self.cluster.remove(&key);
            self.namespaced.insert(key);
        }
    }

    /// Adds what `other` knows (a snapshot's kinds, another environment's): one estate, one
    /// answer for each kind.
    pub fn merge(&mut self, other: &Scopes) {
        for (group, kind) in &other.cluster {
            self.declare(group, kind, true);
        }
        for (group, kind) in &other.namespaced {
            self.declare(group, kind, false);
        }
    }

    /// Learns scopes from CustomResourceDefinitions among `objects`.
    pub fn learn_from_crds<'a>(&mut self, objects: impl IntoIterator<Item = &'a Value>) {
        for object in objects {
            if object["kind"] != "CustomResourceDefinition" {
                continue;
            }
            let spec = &object["spec"];
            if let (Some(group), Some(kind), Some(scope)) = (
                spec["group"].as_str(),
                spec["names"]["kind"].as_str(),
                spec["scope"].as_str(),
            ) {
                self.declare(group, kind, scope == "Cluster");
            }
        }
    }

    /// A live object of a kind plumb does not know, listed with no namespace, is cluster-scoped:
    /// an API server always fills in the namespace of a namespaced object.
    pub fn learn_from_live<'a>(&mut self, objects: impl IntoIterator<Item = &'a Value>) {
        for object in objects {
            let (group, _) = split_api_version(object["apiVersion"].as_str().unwrap_or(""));
            let Some(kind) = object["kind"].as_str() else {
                continue;
            };
            let key = (group.to_string(), kind.to_string());
            if self.cluster.contains(&key)
                || self.namespaced.contains(&key)
                || CLUSTER_SCOPED.contains(&(group, kind))
            {
                continue;
            }
            let has_namespace = object["metadata"]["namespace"]
                .as_str()
                .is_some_and(|ns| !ns.is_empty());
            self.declare(group, kind, !has_namespace);
        }
    }
}

/// All resources of one environment, by identity.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub resources: BTreeMap<ResourceId, Resource>,
}

impl Inventory {
    /// The resources, for rayon.
    pub fn par_values(&self) -> impl rayon::iter::ParallelIterator<Item = &Resource> {
        use rayon::prelude::*;
        self.resources.par_iter().map(|(_, r)| r)
    }

    pub fn from_resources(resources: impl IntoIterator<Item = Resource>) -> Self {
        Inventory {
            resources: resources.into_iter().map(|r| (r.id.clone(), r)).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// Namespaces the resources live in.
    pub fn namespaces(&self) -> std::collections::BTreeSet<String> {
        self.resources
            .keys()
            .filter_map(|id| id.namespace.clone())
            .collect()
    }
}

/// Builders for unit tests elsewhere in the crate.
#[cfg(test)]
pub mod test_support {
    use super::*;

    /// A core-group resource.
    pub fn resource(kind: &str, namespace: &str, name: &str, object: Value) -> Resource {
        Resource {
            id: ResourceId {
                group: String::new(),
                kind: kind.into(),
                namespace: Some(namespace.into()),
                name: name.into(),
            },
            version: "v1".into(),
            object,
            source: None,
            owner: None,
            history: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn built_in_and_learned_scopes() {
        let mut scopes = Scopes::default();
        assert!(scopes.is_cluster_scoped("rbac.authorization.k8s.io", "ClusterRole"));
        assert!(!scopes.is_cluster_scoped("apps", "Deployment"));
        let crd = json!({"kind": "CustomResourceDefinition", "spec": {"group": "example.com",
            "names": {"kind": "Widget"}, "scope": "Cluster"}});
        assert!(!scopes.is_cluster_scoped("example.com", "Widget"));
        scopes.learn_from_crds([&crd]);
        assert!(scopes.is_cluster_scoped("example.com", "Widget"));
        // A common CRD's cluster kind is known without its CRD; a CRD that says otherwise wins.
        assert!(scopes.is_cluster_scoped("cert-manager.io", "ClusterIssuer"));
        let namespaced = json!({"kind": "CustomResourceDefinition", "spec": {"group": "cert-manager.io",
            "names": {"kind": "ClusterIssuer"}, "scope": "Namespaced"}});
        scopes.learn_from_crds([&namespaced]);
        assert!(!scopes.is_cluster_scoped("cert-manager.io", "ClusterIssuer"));
        let live = json!({"apiVersion": "foo.io/v1", "kind": "Foo", "metadata": {"name": "x"}});
        scopes.learn_from_live([&live]);
        assert!(scopes.is_cluster_scoped("foo.io", "Foo"));
        let live_ns = json!({"apiVersion": "bar.io/v1", "kind": "Bar", "metadata": {"name": "x", "namespace": "a"}});
        scopes.learn_from_live([&live_ns]);
        assert!(!scopes.is_cluster_scoped("bar.io", "Bar"));
    }

    #[test]
    fn a_source_line_that_is_not_known_is_not_shown() {
        let at = |line| SourceLocation {
            file: "charts/web/templates/a.yaml".into(),
            line,
        };
        assert_eq!(at(7).to_string(), "charts/web/templates/a.yaml:7");
        assert_eq!(at(0).to_string(), "charts/web/templates/a.yaml");
    }

    #[test]
    fn identity_display() {
        let id = ResourceId {
            group: "apps".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: "api".into(),
        };
        assert_eq!(id.to_string(), "apps/Deployment shop/api");
        assert_eq!(split_api_version("v1"), ("", "v1"));
        assert_eq!(split_api_version("apps/v1"), ("apps", "v1"));
    }
}
