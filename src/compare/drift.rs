//! Drift: does the cluster still run what Git says (docs/architecture.md, comparison)?
//!
//! Read-only and exact without a dry run: every field Git declares must match live; fields only
//! the cluster has (defaults, controller-set values) are not drift — unless the live object's
//! last-applied configuration or a configured field manager shows Git put them there and Git no
//! longer has them.

use super::targets::Targets;
use super::{Difference, FindingKind, ResourceRef, made_by_cluster, managed};
use crate::diff::{Change, ChangeOp, Path, Segment, diff};
use crate::model::{Inventory, LiveHistory, Owner, Resource};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

/// Namespaces every cluster has, which no environment's Namespace objects ever make its own.
const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// What the live side covers.
#[derive(Debug, Clone, Default)]
pub struct DriftScope {
    /// Namespaces in which a live object no desired object explains is `unmanaged`.
    pub namespaces: BTreeSet<String>,
    /// `(group, kind)` pairs that could not be read live: no `missing`/`unmanaged` for them.
    pub unseen_kinds: HashSet<(String, String)>,
    /// Managers that apply from Git (server-side apply).
    pub field_managers: Vec<String>,
    /// The live Secret values cannot be compared (fingerprinted under another key): Secrets
    /// still pair and their other fields compare, but nothing under `data` or `stringData` does.
    pub skip_secret_values: bool,
    /// The owners the environment's sources declare (docs/sources.md, live ownership): live
    /// objects they mark are this environment's to judge, unless their source failed.
    pub owners: BTreeMap<Owner, DeclaredSource>,
    /// Sources whose render failed, as their `render` errors name them: while any did, live
    /// objects no rendered source claims are not judged.
    pub failed_sources: Vec<String>,
}

/// The source that declares an owner, and whether it rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredSource {
    pub source: String,
    pub rendered: bool,
}

/// What drift found, and what it could not judge.
#[derive(Debug, Default)]
pub struct Drift {
    pub differences: Vec<Difference>,
    /// Live objects owned by an Argo CD Application, Flux object or Helm release the config does
    /// not name: another team's business, never `unmanaged`.
    pub managed_elsewhere: usize,
    /// Per failed source: the live objects left unjudged because it could not be rendered (those
    /// its owner marks, and those no rendered source claims).
    pub unjudged: BTreeMap<String, usize>,
}

/// What becomes of a live object no desired object explains.
enum Unexplained {
    Unmanaged,
    ManagedElsewhere,
    /// Not judged: its source failed (`Some`), or some source did and no rendered one claims it.
    Unjudged(Option<String>),
    OutOfScope,
}

/// Drift of `live` from `desired`: field drift, `missing` and `unmanaged` objects, each
/// difference marked with the live objects that target its object (for `match.targeted_by`).
pub fn drift(desired: &Inventory, live: &Inventory, scope: &DriftScope) -> Drift {
    let mut out = Drift::default();
    let desired_kinds: HashSet<(&str, &str)> = desired
        .resources
        .keys()
        .map(|id| (id.group.as_str(), id.kind.as_str()))
        .collect();
    let unseen = |r: &Resource| {
        scope
            .unseen_kinds
            .contains(&(r.id.group.clone(), r.id.kind.clone()))
    };
    for resource in desired.resources.values() {
        match live.resources.get(&resource.id) {
            Some(live_resource) => {
                compare_object(resource, live_resource, scope, &mut out.differences)
            }
            None if unseen(resource) => {}
            None => out
                .differences
                .push(Difference::whole(FindingKind::Missing, resource)),
        }
    }
    for resource in live.resources.values() {
        if desired.resources.contains_key(&resource.id)
            || unseen(resource)
            || made_by_cluster(resource, live)
        {
            continue;
        }
        let in_scope = match &resource.id.namespace {
            Some(ns) => scope.namespaces.contains(ns),
            None if is_namespace(resource) => {
                desired_kinds.contains(&("", "Namespace"))
                    && scope.namespaces.contains(&resource.id.name)
                    && !SYSTEM_NAMESPACES.contains(&resource.id.name.as_str())
            }
            None => {
                desired_kinds.contains(&(resource.id.group.as_str(), resource.id.kind.as_str()))
            }
        };
        match unexplained(resource, in_scope, scope) {
            Unexplained::Unmanaged => out
                .differences
                .push(Difference::whole(FindingKind::Unmanaged, resource)),
            Unexplained::ManagedElsewhere => out.managed_elsewhere += 1,
            Unexplained::Unjudged(Some(source)) => *out.unjudged.entry(source).or_default() += 1,
            Unexplained::Unjudged(None) => {
                for source in &scope.failed_sources {
                    *out.unjudged.entry(source.clone()).or_default() += 1;
                }
            }
            Unexplained::OutOfScope => {}
        }
    }
    let targets = Targets::of(live);
    if !targets.is_empty() {
        for difference in &mut out.differences {
            difference.resource.targeted_by = targets.kinds_targeting(&difference.resource.id);
        }
    }
    out
}

fn is_namespace(resource: &Resource) -> bool {
    resource.id.group.is_empty() && resource.id.kind == "Namespace"
}

/// A live object no desired object explains, by who applied it (docs/sources.md, live
/// ownership): one of the environment's own sources (`unmanaged` wherever it is, or unjudged
/// while that source fails), someone the config does not name (managed elsewhere), or nobody
/// (`unmanaged` in scope, unless a failed source might have rendered it).
///
/// A Flux object nobody declares may be one a failed Kustomization would have produced (its
/// output, never rendered, is where plumb would have found it): while one of the environment's
/// Kustomizations fails, such objects are unjudged and counted in its source's error, not
/// managed elsewhere.
fn unexplained(resource: &Resource, in_scope: bool, scope: &DriftScope) -> Unexplained {
    match &resource.owner {
        Some(owner) => match scope.owners.get(owner) {
            Some(declared) if declared.rendered => Unexplained::Unmanaged,
            Some(declared) => Unexplained::Unjudged(Some(declared.source.clone())),
            None => match failed_kustomization(owner, scope) {
                Some(source) => Unexplained::Unjudged(Some(source.to_string())),
                None if in_scope => Unexplained::ManagedElsewhere,
                None => Unexplained::OutOfScope,
            },
        },
        None if !in_scope => Unexplained::OutOfScope,
        None if scope.failed_sources.is_empty() => Unexplained::Unmanaged,
        None => Unexplained::Unjudged(None),
    }
}

/// For an object a Flux controller applied: the source of a declared Flux Kustomization of the
/// environment that failed to render, whose output might have declared `owner`.
fn failed_kustomization<'a>(owner: &Owner, scope: &'a DriftScope) -> Option<&'a str> {
    if !matches!(
        owner,
        Owner::FluxKustomization { .. } | Owner::FluxHelmRelease { .. }
    ) {
        return None;
    }
    scope.owners.iter().find_map(|(declared, source)| {
        (matches!(declared, Owner::FluxKustomization { .. }) && !source.rendered)
            .then_some(source.source.as_str())
    })
}

fn compare_object(
    desired: &Resource,
    live: &Resource,
    scope: &DriftScope,
    out: &mut Vec<Difference>,
) {
    let history = live.history.as_deref();
    // One copy of the desired object, shared by its differences, for policy conditions.
    let object = std::sync::OnceLock::new();
    let push = |out: &mut Vec<Difference>, change: Change, note: Option<&str>| {
        let changed_by = history.and_then(|h| managed::changed_by(&h.managed_fields, &change.path));
        let object = object.get_or_init(|| Arc::new(desired.object_with_identity()));
        out.push(Difference {
            changed_by,
            note: note.map(str::to_string),
            ..Difference::field(
                FindingKind::Drift,
                ResourceRef::of(desired),
                change,
                desired.source.clone(),
                object.clone(),
            )
        })
    };
    let skip_values = scope.skip_secret_values && is_secret(desired);
    for change in diff(&desired.object, &live.object) {
        if skip_values && is_secret_value(&change.path) {
            continue;
        }
        match change.op {
            ChangeOp::Changed | ChangeOp::Removed => push(out, change, None),
            ChangeOp::Equal => {}
            // A live-only entry of a positional list changes a list Git declares whole.
            ChangeOp::Added if matches!(change.path.0.last(), Some(Segment::Index(_))) => {
                push(
                    out,
                    change,
                    Some("the cluster's list has entries Git does not declare"),
                );
            }
            ChangeOp::Added => {
                let Some(history) = history else { continue };
                let from_git = GitOrigin {
                    history,
                    field_managers: &scope.field_managers,
                };
                let mut path = change.path.clone();
                let mut found = Vec::new();
                if let Some(value) = &change.right {
                    from_git.removed_fields(&mut path, value, &mut found);
                }
                for (path, value, note) in found {
                    push(
                        out,
                        Change {
                            path,
                            op: ChangeOp::Added,
                            left: None,
                            right: Some(value),
                        },
                        Some(note),
                    );
                }
            }
        }
    }
}

fn is_secret(resource: &Resource) -> bool {
    resource.id.group.is_empty() && resource.id.kind == "Secret"
}

/// `data` and `stringData` of a Secret, or anything below them.
fn is_secret_value(path: &Path) -> bool {
    matches!(path.0.first(), Some(Segment::Key(key)) if key == "data" || key == "stringData")
}

/// What a live object's history says Git applied.
struct GitOrigin<'a> {
    history: &'a LiveHistory,
    field_managers: &'a [String],
}

impl GitOrigin<'_> {
    fn note(&self, path: &Path) -> Option<&'static str> {
        if self
            .history
            .last_applied
            .as_ref()
            .is_some_and(|applied| path.resolve(applied).is_some())
        {
            Some("removed from Git but still in the cluster (last-applied-configuration has it)")
        } else if managed::owned_by_any(&self.history.managed_fields, path, self.field_managers) {
            Some("removed from Git but still in the cluster (a Git field manager applied it)")
        } else {
            None
        }
    }

    /// The parts of a live-only value that Git once applied, as deep as they go: a live-only
    /// `metadata` holding one label that last-applied had is drift at that label, not at `metadata`.
    /// A list entry (`env[name=X]`) is one unit and is reported whole.
    fn removed_fields(
        &self,
        path: &mut Path,
        value: &Value,
        out: &mut Vec<(Path, Value, &'static str)>,
    ) {
        let Some(note) = self.note(path) else { return };
        let is_entry = matches!(path.0.last(), Some(Segment::Select(_) | Segment::Index(_)));
        match value {
            Value::Object(map) if !map.is_empty() && !is_entry => {
                for (key, child) in map {
                    path.push(Segment::Key(key.clone()));
                    self.removed_fields(path, child, out);
                    path.pop();
                }
            }
            _ => out.push((path.clone(), value.clone(), note)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::resource;
    use serde_json::json;

    fn res(kind: &str, name: &str, object: Value) -> Resource {
        resource(kind, "ns", name, object)
    }

    fn inv(resources: Vec<Resource>) -> Inventory {
        Inventory::from_resources(resources)
    }

    fn scope() -> DriftScope {
        DriftScope {
            namespaces: ["ns".to_string()].into(),
            ..Default::default()
        }
    }

    #[test]
    fn live_only_fields_are_not_drift_unless_git_put_them_there() {
        let desired = inv(vec![res("ConfigMap", "a", json!({"data": {"x": "1"}}))]);
        let mut live_cm = res(
            "ConfigMap",
            "a",
            json!({"data": {"x": "1", "y": "2", "z": "3"}}),
        );
        live_cm.history = Some(Box::new(LiveHistory {
            last_applied: Some(json!({"data": {"x": "1", "z": "3"}})),
            managed_fields: vec![],
        }));
        let found = drift(&desired, &inv(vec![live_cm]), &scope()).differences;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path.to_string(), "data.z");
    }

    #[test]
    fn a_live_only_subtree_is_drift_only_where_git_applied_it() {
        let desired = inv(vec![res("ConfigMap", "a", json!({"data": {"x": "1"}}))]);
        let mut live_cm = res(
            "ConfigMap",
            "a",
            json!({"data": {"x": "1"}, "metadata": {"labels": {"old": "y", "added-by-controller": "z"}}}),
        );
        live_cm.history = Some(Box::new(LiveHistory {
            last_applied: Some(json!({"data": {"x": "1"}, "metadata": {"labels": {"old": "y"}}})),
            managed_fields: vec![],
        }));
        let found = drift(&desired, &inv(vec![live_cm]), &scope()).differences;
        let paths: Vec<String> = found.iter().map(|d| d.path.to_string()).collect();
        assert_eq!(paths, ["metadata.labels.old"]);
    }

    #[test]
    fn configured_field_managers_mark_fields_from_git() {
        let desired = inv(vec![res("ConfigMap", "a", json!({"data": {"x": "1"}}))]);
        let mut live_cm = res(
            "ConfigMap",
            "a",
            json!({"data": {"x": "1", "y": "2", "z": "3"}}),
        );
        live_cm.history = Some(Box::new(LiveHistory {
            last_applied: None,
            managed_fields: vec![crate::model::ManagedFields {
                manager: "argocd-controller".into(),
                operation: "Apply".into(),
                time: None,
                fields: json!({"f:data": {"f:x": {}, "f:y": {}}}),
            }],
        }));
        let mut s = scope();
        assert!(
            drift(&desired, &inv(vec![live_cm.clone()]), &s)
                .differences
                .is_empty()
        );
        s.field_managers = vec!["argocd-controller".into()];
        let found = drift(&desired, &inv(vec![live_cm]), &s).differences;
        let paths: Vec<String> = found.iter().map(|d| d.path.to_string()).collect();
        assert_eq!(paths, ["data.y"]);
    }

    #[test]
    fn missing_unmanaged_and_explained() {
        let desired = inv(vec![
            res("ConfigMap", "a", json!({})),
            res("Service", "svc", json!({})),
        ]);
        let live = inv(vec![
            res("Service", "svc", json!({})),
            res("ConfigMap", "stray", json!({})),
            res("ConfigMap", "kube-root-ca.crt", json!({})),
            res("Endpoints", "svc", json!({})),
            res(
                "Pod",
                "p",
                json!({"metadata": {"ownerReferences": [{"kind": "ReplicaSet"}]}}),
            ),
        ]);
        let found: Vec<_> = drift(&desired, &live, &scope())
            .differences
            .iter()
            .map(|d| (d.kind, d.resource.id.name.clone()))
            .collect();
        assert_eq!(
            found,
            [
                (FindingKind::Missing, "a".to_string()),
                (FindingKind::Unmanaged, "stray".to_string())
            ]
        );
    }

    #[test]
    fn unseen_kinds_are_never_missing() {
        let desired = inv(vec![res("ConfigMap", "a", json!({}))]);
        let mut s = scope();
        s.unseen_kinds.insert((String::new(), "ConfigMap".into()));
        assert!(
            drift(&desired, &Inventory::default(), &s)
                .differences
                .is_empty()
        );
    }

    #[test]
    fn secret_values_that_cannot_be_compared_are_skipped_and_the_rest_compares() {
        let desired = inv(vec![res(
            "Secret",
            "db",
            json!({"type": "Opaque", "data": {"A": "hmac-sha256:111111111111", "B": "hmac-sha256:222222222222"}}),
        )]);
        let live = inv(vec![res(
            "Secret",
            "db",
            json!({"type": "kubernetes.io/basic-auth", "data": {"A": "hmac-sha256:333333333333"}}),
        )]);
        let paths = |s: &DriftScope| -> Vec<String> {
            drift(&desired, &live, s)
                .differences
                .iter()
                .map(|d| d.path.to_string())
                .collect()
        };
        assert_eq!(paths(&scope()), ["type", "data.A", "data.B"]);
        let blind = DriftScope {
            skip_secret_values: true,
            ..scope()
        };
        assert_eq!(paths(&blind), ["type"]);
    }
}
