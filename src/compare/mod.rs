//! Comparison: pairing objects by identity and turning field changes into differences — drift
//! (desired vs live) and parity (environment vs environment). Pure code, no I/O.

pub mod drift;
pub mod equivalents;
pub mod managed;
pub mod matrix;
pub(crate) mod ownership;
pub mod pairing;
pub mod parity;
pub mod promotion;
pub(crate) mod targets;

use crate::diff::{Change, ChangeOp, Path};
use crate::model::{Inventory, Resource, ResourceId, SourceLocation};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What kind of finding a difference is (docs/report.md).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    Drift,
    Missing,
    Unmanaged,
    Parity,
    OnlyIn,
    Promotion,
    Check,
    Change,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Drift => "drift",
            FindingKind::Missing => "missing",
            FindingKind::Unmanaged => "unmanaged",
            FindingKind::Parity => "parity",
            FindingKind::OnlyIn => "only-in",
            FindingKind::Promotion => "promotion",
            FindingKind::Check => "check",
            FindingKind::Change => "change",
        }
    }
}

/// Who last wrote a drifted field, from managedFields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ChangedBy {
    pub manager: String,
    pub operation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

/// The resource a difference is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRef {
    pub id: ResourceId,
    pub version: String,
    /// The object's labels, for policies that match on them.
    pub labels: BTreeMap<String, String>,
    /// The object's annotations, for `match.annotations` (shared: differences of one object
    /// carry one copy).
    pub annotations: Arc<BTreeMap<String, String>>,
    /// The kinds (`group/Kind`) of the objects of the same side that target this one through
    /// `spec.scaleTargetRef`, for `match.targeted_by`; filled in by the comparison that knows the
    /// side (compare/targets.rs).
    pub targeted_by: BTreeSet<String>,
    /// Who applies it (rules a source declares for its own objects match on it).
    pub owner: Option<crate::model::Owner>,
}

impl ResourceRef {
    pub fn of(resource: &Resource) -> Self {
        let strings = |key: &str| -> BTreeMap<String, String> {
            resource.object["metadata"][key]
                .as_object()
                .map(|map| {
                    map.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default()
        };
        ResourceRef {
            id: resource.id.clone(),
            version: resource.version.clone(),
            labels: strings("labels"),
            annotations: Arc::new(strings("annotations")),
            targeted_by: BTreeSet::new(),
            owner: resource.owner.clone(),
        }
    }
}

/// One difference, before policy decides what it means.
#[derive(Debug, Clone)]
pub struct Difference {
    pub kind: FindingKind,
    pub resource: ResourceRef,
    /// `""` (root) for findings about a whole object.
    pub path: Path,
    /// For field changes: changed, added (right only) or removed (left only).
    pub op: Option<ChangeOp>,
    pub left: Option<Value>,
    pub right: Option<Value>,
    pub source: Option<SourceLocation>,
    /// For a parity change: the other side's source (`source` is the left one's, when it has one).
    pub other_source: Option<SourceLocation>,
    pub changed_by: Option<ChangedBy>,
    /// For `only-in`: the environment that has the object.
    pub only_in: Option<String>,
    /// Why a live-only field counts as drift, when it does.
    pub note: Option<String>,
    /// The (normalized) object the difference is about — the left or desired one when there is
    /// one — for policy conditions. Attached only when a policy has conditions.
    pub object: Option<Arc<Value>>,
    /// For a parity change: the left object's own identity (`resource` is the right one's).
    pub counterpart: Option<ResourceId>,
    /// For a `promotion` finding: how downstream's version stands against upstream's history.
    pub promotion: Option<Box<promotion::Promotion>>,
}

impl Difference {
    /// A change at one field of `resource`; `object` is the object conditions see.
    pub fn field(
        kind: FindingKind,
        resource: ResourceRef,
        change: Change,
        source: Option<SourceLocation>,
        object: Arc<Value>,
    ) -> Self {
        Difference {
            kind,
            resource,
            path: change.path,
            op: Some(change.op),
            left: change.left,
            right: change.right,
            source,
            other_source: None,
            changed_by: None,
            only_in: None,
            note: None,
            object: Some(object),
            counterpart: None,
            promotion: None,
        }
    }

    pub fn whole(kind: FindingKind, resource: &Resource) -> Self {
        Difference {
            kind,
            resource: ResourceRef::of(resource),
            path: Path::default(),
            op: None,
            left: None,
            right: None,
            source: resource.source.clone(),
            other_source: None,
            changed_by: None,
            only_in: None,
            note: None,
            object: Some(Arc::new(resource.object_with_identity())),
            counterpart: None,
            promotion: None,
        }
    }
}

/// Live objects the cluster makes itself, or that another object owns: never `unmanaged`, and left
/// out of live-against-live parity (their names are generated per cluster).
pub fn made_by_cluster(resource: &Resource, live: &Inventory) -> bool {
    let id = &resource.id;
    let object = &resource.object;
    if object["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|o| !o.is_empty())
    {
        return true;
    }
    match (id.group.as_str(), id.kind.as_str()) {
        ("", "Event") | ("events.k8s.io", "Event") => true,
        ("coordination.k8s.io", "Lease") | ("apps", "ControllerRevision") => true,
        ("", "ServiceAccount") => id.name == "default",
        // Helm's record of each release revision, written by helm (or Flux) beside what it applies.
        ("", "Secret") => object["type"] == "helm.sh/release.v1",
        ("", "ConfigMap") => id.name == "kube-root-ca.crt",
        ("", "Endpoints") | ("discovery.k8s.io", "EndpointSlice") => {
            let service = if id.kind == "Endpoints" {
                Some(id.name.clone())
            } else {
                object["metadata"]["labels"]["kubernetes.io/service-name"]
                    .as_str()
                    .map(str::to_string)
            };
            service.is_some_and(|name| {
                live.resources.keys().any(|other| {
                    other.group.is_empty()
                        && other.kind == "Service"
                        && other.namespace == id.namespace
                        && other.name == name
                })
            })
        }
        ("rbac.authorization.k8s.io", _) => {
            // Kubernetes' own bootstrap RBAC.
            object["metadata"]["labels"]["kubernetes.io/bootstrapping"] == "rbac-defaults"
        }
        _ => false,
    }
}

/// Test builders shared by the modules that judge and render differences.
#[cfg(test)]
pub mod test_support {
    use super::{Difference, FindingKind, ResourceRef};
    use crate::diff::{ChangeOp, Path};
    use crate::model::ResourceId;
    use serde_json::Value;

    /// A changed field of `group`/`kind` `name` in namespace `shop`.
    pub fn field_difference(
        kind: FindingKind,
        (group, resource_kind, name): (&str, &str, &str),
        path: &str,
        left: Option<Value>,
        right: Option<Value>,
    ) -> Difference {
        Difference {
            kind,
            resource: ResourceRef {
                id: ResourceId {
                    group: group.into(),
                    kind: resource_kind.into(),
                    namespace: Some("shop".into()),
                    name: name.into(),
                },
                version: "v1".into(),
                labels: Default::default(),
                annotations: Default::default(),
                targeted_by: Default::default(),
                owner: None,
            },
            path: Path::parse(path).expect("a test path parses"),
            op: Some(ChangeOp::Changed),
            left,
            right,
            source: None,
            other_source: None,
            changed_by: None,
            only_in: None,
            note: None,
            object: None,
            counterpart: None,
            promotion: None,
        }
    }
}
