//! Who applied a live object, read from the marks Argo CD, Flux and Helm leave on what they apply
//! (docs/sources.md, live ownership). Pure: reads the object as the cluster returned it, before
//! normalization and noise removal take those marks out.

use crate::model::{Inventory, Owner, ResourceId, split_api_version};
use serde_json::Value;
use std::collections::BTreeSet;

/// Argo CD's annotation-based tracking: `<app>:<group>/<kind>:<namespace>/<name>`.
pub(crate) const ARGOCD_TRACKING_ID: &str = "argocd.argoproj.io/tracking-id";
/// Argo CD's label-based tracking (its default before 3.0), which Helm charts also set: trusted
/// only where its value names a known Application.
pub(crate) const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
const FLUX_KUSTOMIZATION: (&str, &str) = (
    "kustomize.toolkit.fluxcd.io/name",
    "kustomize.toolkit.fluxcd.io/namespace",
);
const FLUX_HELM_RELEASE: (&str, &str) = (
    "helm.toolkit.fluxcd.io/name",
    "helm.toolkit.fluxcd.io/namespace",
);
const HELM_RELEASE: (&str, &str) = (
    "meta.helm.sh/release-name",
    "meta.helm.sh/release-namespace",
);

/// The Argo CD Applications an `app.kubernetes.io/instance` label may name: those the
/// environment's sources declare, and the `argoproj.io` Applications the live state holds (a
/// chart's own instance label names its release, which is no Application).
#[derive(Debug, Clone, Default)]
pub(crate) struct KnownApplications {
    names: BTreeSet<String>,
}

impl KnownApplications {
    /// Declared owners' Applications, plus the live Applications among `live` (by `name`, and by
    /// `namespace_name`, the form Argo CD writes for Applications outside its own namespace —
    /// which namespace that is the live state does not say).
    pub(crate) fn new<'a, 'b>(
        declared: impl IntoIterator<Item = &'a Owner>,
        live: impl IntoIterator<Item = &'b Value>,
    ) -> Self {
        let mut names: BTreeSet<String> = declared
            .into_iter()
            .filter_map(|owner| match owner {
                Owner::ArgoApplication(app) => Some(app.clone()),
                _ => None,
            })
            .collect();
        for object in live {
            let (group, _) = split_api_version(object["apiVersion"].as_str().unwrap_or(""));
            if group != "argoproj.io" || object["kind"] != "Application" {
                continue;
            }
            let metadata = &object["metadata"];
            let Some(name) = metadata["name"].as_str() else {
                continue;
            };
            names.insert(name.to_string());
            if let Some(namespace) = metadata["namespace"].as_str() {
                names.insert(format!("{namespace}_{name}"));
            }
        }
        KnownApplications { names }
    }

    fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

/// Sets `owner` on every live object of `live` from its marks; `declared` are the owners the
/// environment's sources declare (which Applications an instance label may name). Runs before
/// noise removal takes the marks out.
pub(crate) fn attribute_live<'a>(
    live: &mut Inventory,
    declared: impl IntoIterator<Item = &'a Owner>,
) {
    let known = KnownApplications::new(declared, live.resources.values().map(|r| &r.object));
    for resource in live.resources.values_mut() {
        resource.owner = owner_of(&resource.id, &resource.object, &known);
    }
}

/// Who applied `object` (identity `id`), by the first mark it carries, in this order: Argo CD's
/// tracking annotation (where it names this very object: a controller that copies annotations to
/// the objects it makes copies the mark too), Flux's Kustomization labels, Flux's HelmRelease
/// labels, Helm's release annotations, and the instance label where it names a known Application.
pub(crate) fn owner_of(
    id: &ResourceId,
    object: &Value,
    known: &KnownApplications,
) -> Option<Owner> {
    let metadata = &object["metadata"];
    let annotations = &metadata["annotations"];
    let labels = &metadata["labels"];
    if let Some(app) =
        non_empty(&annotations[ARGOCD_TRACKING_ID]).and_then(|t| tracked_application(t, id))
    {
        return Some(Owner::ArgoApplication(app.to_string()));
    }
    if let Some((namespace, name)) = pair(labels, FLUX_KUSTOMIZATION) {
        return Some(Owner::FluxKustomization { namespace, name });
    }
    if let Some((namespace, name)) = pair(labels, FLUX_HELM_RELEASE) {
        return Some(Owner::FluxHelmRelease { namespace, name });
    }
    if let Some((namespace, name)) = pair(annotations, HELM_RELEASE) {
        return Some(Owner::HelmRelease { namespace, name });
    }
    non_empty(&labels[INSTANCE_LABEL])
        .filter(|app| known.contains(app))
        .map(|app| Owner::ArgoApplication(app.to_string()))
}

/// `(namespace, name)` from a pair of marks, where both are set.
fn pair(marks: &Value, (name, namespace): (&str, &str)) -> Option<(String, String)> {
    Some((
        non_empty(&marks[namespace])?.to_string(),
        non_empty(&marks[name])?.to_string(),
    ))
}

fn non_empty(value: &Value) -> Option<&str> {
    value.as_str().filter(|s| !s.is_empty())
}

/// The Application of a tracking id, where the id names `id`'s group, kind and name (and its
/// namespace, for a namespaced object). A malformed or foreign id marks nothing.
fn tracked_application<'a>(tracking: &'a str, id: &ResourceId) -> Option<&'a str> {
    let (app, rest) = tracking.split_once(':')?;
    let (group_kind, namespace_name) = rest.split_once(':')?;
    let (group, kind) = group_kind.split_once('/')?;
    let (namespace, name) = namespace_name.split_once('/')?;
    let namespace_ok = match &id.namespace {
        Some(ns) => namespace == ns,
        // Argo CD has written the Application's namespace into ids of cluster-scoped objects.
        None => true,
    };
    (!app.is_empty() && group == id.group && kind == id.kind && name == id.name && namespace_ok)
        .then_some(app)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(group: &str, kind: &str, namespace: Option<&str>, name: &str) -> ResourceId {
        ResourceId {
            group: group.into(),
            kind: kind.into(),
            namespace: namespace.map(str::to_string),
            name: name.into(),
        }
    }

    fn deployment() -> ResourceId {
        id("apps", "Deployment", Some("shop"), "api")
    }

    fn argo(app: &str) -> Option<Owner> {
        Some(Owner::ArgoApplication(app.into()))
    }

    #[test]
    fn argo_tracking_id_comes_first_and_must_name_the_object() {
        let none = KnownApplications::default();
        let object = json!({"metadata": {
            "annotations": {"argocd.argoproj.io/tracking-id": "apps_shop:apps/Deployment:shop/api",
                            "meta.helm.sh/release-name": "api", "meta.helm.sh/release-namespace": "shop"},
            "labels": {"kustomize.toolkit.fluxcd.io/name": "k", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}}});
        assert_eq!(owner_of(&deployment(), &object, &none), argo("apps_shop"));
        // Copied onto another object (a Pod template's children, a generated Secret): not its mark.
        let copied = json!({"metadata": {"annotations": {
            "argocd.argoproj.io/tracking-id": "shop:apps/Deployment:shop/other",
            "meta.helm.sh/release-name": "api", "meta.helm.sh/release-namespace": "shop"}}});
        assert_eq!(
            owner_of(&deployment(), &copied, &none),
            Some(Owner::HelmRelease {
                namespace: "shop".into(),
                name: "api".into()
            })
        );
        let cluster_role = id("rbac.authorization.k8s.io", "ClusterRole", None, "reader");
        let tracked = json!({"metadata": {"annotations": {
            "argocd.argoproj.io/tracking-id": "infra:rbac.authorization.k8s.io/ClusterRole:/reader"}}});
        assert_eq!(owner_of(&cluster_role, &tracked, &none), argo("infra"));
        let core = id("", "ConfigMap", Some("shop"), "cfg");
        let tracked = json!({"metadata": {"annotations": {
            "argocd.argoproj.io/tracking-id": "shop:/ConfigMap:shop/cfg"}}});
        assert_eq!(owner_of(&core, &tracked, &none), argo("shop"));
        let malformed =
            json!({"metadata": {"annotations": {"argocd.argoproj.io/tracking-id": "shop"}}});
        assert_eq!(owner_of(&core, &malformed, &none), None);
    }

    #[test]
    fn flux_labels_then_helm_annotations() {
        let none = KnownApplications::default();
        let flux_helm = json!({"metadata": {
            "labels": {"helm.toolkit.fluxcd.io/name": "podinfo", "helm.toolkit.fluxcd.io/namespace": "flux-system"},
            "annotations": {"meta.helm.sh/release-name": "podinfo", "meta.helm.sh/release-namespace": "apps"}}});
        assert_eq!(
            owner_of(&deployment(), &flux_helm, &none),
            Some(Owner::FluxHelmRelease {
                namespace: "flux-system".into(),
                name: "podinfo".into()
            })
        );
        let kustomization = json!({"metadata": {"labels": {
            "kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
            "helm.toolkit.fluxcd.io/name": "x", "helm.toolkit.fluxcd.io/namespace": "y"}}});
        assert_eq!(
            owner_of(&deployment(), &kustomization, &none),
            Some(Owner::FluxKustomization {
                namespace: "flux-system".into(),
                name: "apps".into()
            })
        );
        // Half a pair is no mark.
        let half = json!({"metadata": {"labels": {"kustomize.toolkit.fluxcd.io/name": "apps"},
            "annotations": {"meta.helm.sh/release-name": "api"}}});
        assert_eq!(owner_of(&deployment(), &half, &none), None);
    }

    #[test]
    fn the_instance_label_counts_only_for_known_applications() {
        let object = json!({"metadata": {"labels": {"app.kubernetes.io/instance": "shop"}}});
        assert_eq!(
            owner_of(&deployment(), &object, &KnownApplications::default()),
            None
        );
        let declared = [Owner::ArgoApplication("shop".into())];
        let known = KnownApplications::new(&declared, []);
        assert_eq!(owner_of(&deployment(), &object, &known), argo("shop"));
        let application = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "shop", "namespace": "teams"}});
        let known = KnownApplications::new([], [&application]);
        assert_eq!(owner_of(&deployment(), &object, &known), argo("shop"));
        let namespaced =
            json!({"metadata": {"labels": {"app.kubernetes.io/instance": "teams_shop"}}});
        assert_eq!(
            owner_of(&deployment(), &namespaced, &known),
            argo("teams_shop")
        );
        let release = json!({"metadata": {"labels": {"app.kubernetes.io/instance": "redis"}}});
        assert_eq!(owner_of(&deployment(), &release, &known), None);
    }
}
