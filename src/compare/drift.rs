//! Drift: does the cluster still run what Git says (DESIGN §5)?
//!
//! Read-only and exact without a dry run: every field Git declares must match live; fields only
//! the cluster has (defaults, controller-set values) are not drift — unless the live object's
//! last-applied configuration or a configured field manager shows Git put them there and Git no
//! longer has them.

use super::{Difference, FindingKind, ResourceRef, managed};
use crate::diff::{ChangeOp, Segment, diff};
use crate::model::{Inventory, Resource};
use std::collections::{BTreeSet, HashSet};

/// What the live side covers.
#[derive(Debug, Clone, Default)]
pub struct DriftScope {
    /// Namespaces in which a live object no desired object explains is `unmanaged`.
    pub namespaces: BTreeSet<String>,
    /// `(group, kind)` pairs that could not be read live: no `missing`/`unmanaged` for them.
    pub unseen_kinds: HashSet<(String, String)>,
    /// Managers that apply from Git (server-side apply).
    pub field_managers: Vec<String>,
}

pub fn drift(desired: &Inventory, live: &Inventory, scope: &DriftScope) -> Vec<Difference> {
    let mut out = Vec::new();
    let desired_kinds: HashSet<(&str, &str)> = desired
        .resources
        .keys()
        .map(|id| (id.group.as_str(), id.kind.as_str()))
        .collect();
    let unseen = |r: &Resource| scope.unseen_kinds.contains(&(r.id.group.clone(), r.id.kind.clone()));
    for resource in desired.resources.values() {
        match live.resources.get(&resource.id) {
            Some(live_resource) => compare_object(resource, live_resource, scope, &mut out),
            None if unseen(resource) => {}
            None => out.push(Difference::whole(FindingKind::Missing, resource)),
        }
    }
    for resource in live.resources.values() {
        if desired.resources.contains_key(&resource.id) || unseen(resource) {
            continue;
        }
        let in_scope = match &resource.id.namespace {
            Some(ns) => scope.namespaces.contains(ns),
            None => desired_kinds.contains(&(resource.id.group.as_str(), resource.id.kind.as_str())),
        };
        if in_scope && !explained(resource, live) {
            let mut d = Difference::whole(FindingKind::Unmanaged, resource);
            d.source = None;
            out.push(d);
        }
    }
    out
}

fn compare_object(desired: &Resource, live: &Resource, scope: &DriftScope, out: &mut Vec<Difference>) {
    let history = live.history.as_deref();
    for change in diff(&desired.object, &live.object) {
        let note = match change.op {
            ChangeOp::Changed | ChangeOp::Removed => None,
            ChangeOp::Added => {
                // A live-only entry of a positional list changes a list Git declares whole.
                let extends_declared_list = matches!(change.path.0.last(), Some(Segment::Index(_)));
                let in_last_applied = history
                    .and_then(|h| h.last_applied.as_ref())
                    .is_some_and(|applied| change.path.resolve(applied).is_some());
                let by_manager = history.is_some_and(|h| {
                    managed::owned_by_any(&h.managed_fields, &change.path, &scope.field_managers)
                });
                if extends_declared_list {
                    Some("the cluster's list has entries Git does not declare".to_string())
                } else if in_last_applied {
                    Some("removed from Git but still in the cluster (last-applied-configuration has it)".to_string())
                } else if by_manager {
                    Some("removed from Git but still in the cluster (a Git field manager applied it)".to_string())
                } else {
                    continue;
                }
            }
        };
        out.push(Difference {
            kind: FindingKind::Drift,
            resource: ResourceRef::of(desired),
            changed_by: history.and_then(|h| managed::changed_by(&h.managed_fields, &change.path)),
            path: change.path,
            op: Some(change.op),
            left: change.left,
            right: change.right,
            source: desired.source.clone(),
            only_in: None,
            note,
        });
    }
}

/// Live objects the cluster makes itself, or that something else owns, are not unmanaged.
fn explained(resource: &Resource, live: &Inventory) -> bool {
    let id = &resource.id;
    let object = &resource.object;
    if object["metadata"]["ownerReferences"].as_array().is_some_and(|o| !o.is_empty()) {
        return true;
    }
    match (id.group.as_str(), id.kind.as_str()) {
        ("", "Event") | ("events.k8s.io", "Event") => true,
        ("coordination.k8s.io", "Lease") | ("apps", "ControllerRevision") => true,
        ("", "ServiceAccount") => id.name == "default",
        ("", "ConfigMap") => id.name == "kube-root-ca.crt",
        ("", "Endpoints") | ("discovery.k8s.io", "EndpointSlice") => {
            let service = if id.kind == "Endpoints" {
                Some(id.name.clone())
            } else {
                object["metadata"]["labels"]["kubernetes.io/service-name"].as_str().map(str::to_string)
            };
            service.is_some_and(|name| {
                live.resources.keys().any(|other| {
                    other.group.is_empty() && other.kind == "Service" && other.namespace == id.namespace && other.name == name
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LiveHistory, ResourceId};
    use serde_json::{Value, json};

    fn res(kind: &str, name: &str, object: Value) -> Resource {
        Resource {
            id: ResourceId { group: String::new(), kind: kind.into(), namespace: Some("ns".into()), name: name.into() },
            version: "v1".into(),
            object,
            source: None,
            history: None,
        }
    }

    fn inv(resources: Vec<Resource>) -> Inventory {
        let mut i = Inventory::default();
        for r in resources {
            i.resources.insert(r.id.clone(), r);
        }
        i
    }

    fn scope() -> DriftScope {
        DriftScope { namespaces: ["ns".to_string()].into(), ..Default::default() }
    }

    #[test]
    fn live_only_fields_are_not_drift_unless_git_put_them_there() {
        let desired = inv(vec![res("ConfigMap", "a", json!({"data": {"x": "1"}}))]);
        let mut live_cm = res("ConfigMap", "a", json!({"data": {"x": "1", "y": "2", "z": "3"}}));
        live_cm.history = Some(Box::new(LiveHistory { last_applied: Some(json!({"data": {"x": "1", "z": "3"}})), managed_fields: vec![] }));
        let found = drift(&desired, &inv(vec![live_cm]), &scope());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path.to_string(), "data.z");
    }

    #[test]
    fn missing_unmanaged_and_explained() {
        let desired = inv(vec![res("ConfigMap", "a", json!({})), res("Service", "svc", json!({}))]);
        let live = inv(vec![
            res("Service", "svc", json!({})),
            res("ConfigMap", "stray", json!({})),
            res("ConfigMap", "kube-root-ca.crt", json!({})),
            res("Endpoints", "svc", json!({})),
            res("Pod", "p", json!({"metadata": {"ownerReferences": [{"kind": "ReplicaSet"}]}})),
        ]);
        let found: Vec<_> = drift(&desired, &live, &scope()).iter().map(|d| (d.kind, d.resource.id.name.clone())).collect();
        assert_eq!(found, [(FindingKind::Missing, "a".to_string()), (FindingKind::Unmanaged, "stray".to_string())]);
    }

    #[test]
    fn unseen_kinds_are_never_missing() {
        let desired = inv(vec![res("ConfigMap", "a", json!({}))]);
        let mut s = scope();
        s.unseen_kinds.insert((String::new(), "ConfigMap".into()));
        assert!(drift(&desired, &Inventory::default(), &s).is_empty());
    }
}
