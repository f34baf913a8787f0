//! Which objects other objects of the same side target through `spec.scaleTargetRef` (a
//! HorizontalPodAutoscaler, a KEDA ScaledObject): what `match.targeted_by` selects
//! (docs/policies.md). Computed from an inventory, pure.

use crate::model::{Inventory, ResourceId, split_api_version};
use std::collections::{BTreeMap, BTreeSet};

/// A targeted object as a reference names it: `(namespace, kind, name)`.
type TargetKey = (String, String, String);
/// One reference to it: the group it names (if it names one), and `group/Kind` of the object
/// that holds it.
type Reference = (Option<String>, String);

/// The objects an inventory's objects target, by the namespace, kind and name the reference
/// gives.
#[derive(Debug, Default)]
pub(crate) struct Targets {
    by_target: BTreeMap<TargetKey, Vec<Reference>>,
}

impl Targets {
    /// Every `spec.scaleTargetRef` among `inventory`'s namespaced objects. A reference without
    /// `kind` targets a Deployment (KEDA's default); one without `apiVersion` targets that kind
    /// in any group.
    pub(crate) fn of(inventory: &Inventory) -> Targets {
        let mut targets = Targets::default();
        for resource in inventory.resources.values() {
            let Some(namespace) = &resource.id.namespace else {
                continue;
            };
            let reference = &resource.object["spec"]["scaleTargetRef"];
            let Some(name) = reference["name"].as_str() else {
                continue;
            };
            let kind = reference["kind"].as_str().unwrap_or("Deployment");
            let group = reference["apiVersion"]
                .as_str()
                .map(|v| split_api_version(v).0.to_string());
            targets
                .by_target
                .entry((namespace.clone(), kind.to_string(), name.to_string()))
                .or_default()
                .push((group, resource.id.group_kind()));
        }
        targets
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_target.is_empty()
    }

    /// The kinds (`group/Kind`, as `match.kinds` writes them) of the objects that target `id`.
    pub(crate) fn kinds_targeting(&self, id: &ResourceId) -> BTreeSet<String> {
        let Some(namespace) = &id.namespace else {
            return BTreeSet::new();
        };
        self.by_target
            .get(&(namespace.clone(), id.kind.clone(), id.name.clone()))
            .into_iter()
            .flatten()
            .filter(|(group, _)| group.as_ref().is_none_or(|g| *g == id.group))
            .map(|(_, by)| by.clone())
            .collect()
    }
}

/// `kind` as `match.kinds` writes it (`Kind` or `group/Kind`) names `group`/`kind_name`.
pub(crate) fn kind_matches(pattern: &str, group: &str, kind_name: &str) -> bool {
    match pattern.rsplit_once('/') {
        Some((g, k)) => g == group && k == kind_name,
        None => pattern == kind_name,
    }
}

/// `group/Kind` of a targeting object matches a `match.targeted_by` entry.
pub(crate) fn targeting_kind_matches(pattern: &str, targeting: &str) -> bool {
    let (group, kind) = targeting.rsplit_once('/').unwrap_or(("", targeting));
    kind_matches(pattern, group, kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::resource;
    use serde_json::json;

    fn id(group: &str, kind: &str, name: &str) -> ResourceId {
        ResourceId {
            group: group.into(),
            kind: kind.into(),
            namespace: Some("shop".into()),
            name: name.into(),
        }
    }

    #[test]
    fn hpa_and_scaled_object_targets() {
        let mut hpa = resource(
            "HorizontalPodAutoscaler",
            "shop",
            "api",
            json!({"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}}}),
        );
        hpa.id.group = "autoscaling".into();
        let mut keda = resource(
            "ScaledObject",
            "shop",
            "worker",
            json!({"spec": {"scaleTargetRef": {"name": "worker"}}}),
        );
        keda.id.group = "keda.sh".into();
        let other_namespace = resource(
            "HorizontalPodAutoscaler",
            "other",
            "web",
            json!({"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}),
        );
        let targets = Targets::of(&Inventory::from_resources([hpa, keda, other_namespace]));
        assert_eq!(
            targets.kinds_targeting(&id("apps", "Deployment", "api")),
            BTreeSet::from(["autoscaling/HorizontalPodAutoscaler".to_string()])
        );
        assert_eq!(
            targets.kinds_targeting(&id("apps", "Deployment", "worker")),
            BTreeSet::from(["keda.sh/ScaledObject".to_string()])
        );
        // Another group's kind of the same name, and another namespace's object, are not targeted.
        assert!(
            targets
                .kinds_targeting(&id("example.com", "Deployment", "api"))
                .is_empty()
        );
        assert!(
            targets
                .kinds_targeting(&id("apps", "Deployment", "web"))
                .is_empty()
        );
        assert!(targeting_kind_matches(
            "autoscaling/HorizontalPodAutoscaler",
            "autoscaling/HorizontalPodAutoscaler"
        ));
        assert!(targeting_kind_matches(
            "HorizontalPodAutoscaler",
            "autoscaling/HorizontalPodAutoscaler"
        ));
        assert!(!targeting_kind_matches(
            "keda.sh/ScaledObject",
            "autoscaling/HorizontalPodAutoscaler"
        ));
    }
}
