//! Flux objects by kind and identity, and where plumb looks a referenced one up: the objects of
//! the `flux:` path, the objects followed Kustomizations rendered, and any file of the repository
//! at the ref (docs/sources.md, flux).

use super::FluxError;
use crate::desired::git::GitTree;
use serde_json::Value;
use std::cell::OnceCell;

/// The kinds of object a `flux:` source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    Kustomization,
    HelmRelease,
    GitRepository,
    OCIRepository,
    HelmRepository,
    HelmChart,
    Bucket,
    ExternalArtifact,
    ArtifactGenerator,
    ConfigMap,
    Secret,
}

impl Kind {
    /// The kind of a Kubernetes object, by its API group and kind; none for anything else
    /// (a `kustomize.config.k8s.io` Kustomization is a kustomize file, not a Flux object).
    pub(crate) fn of(object: &Value) -> Option<Kind> {
        let api_version = object["apiVersion"].as_str()?;
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        Some(match (group, object["kind"].as_str()?) {
            ("kustomize.toolkit.fluxcd.io", "Kustomization") => Kind::Kustomization,
            ("helm.toolkit.fluxcd.io", "HelmRelease") => Kind::HelmRelease,
            ("source.toolkit.fluxcd.io", "GitRepository") => Kind::GitRepository,
            ("source.toolkit.fluxcd.io", "OCIRepository") => Kind::OCIRepository,
            ("source.toolkit.fluxcd.io", "HelmRepository") => Kind::HelmRepository,
            ("source.toolkit.fluxcd.io", "HelmChart") => Kind::HelmChart,
            ("source.toolkit.fluxcd.io", "Bucket") => Kind::Bucket,
            ("source.toolkit.fluxcd.io", "ExternalArtifact") => Kind::ExternalArtifact,
            ("source.extensions.fluxcd.io", "ArtifactGenerator") => Kind::ArtifactGenerator,
            ("", "ConfigMap") => Kind::ConfigMap,
            ("", "Secret") => Kind::Secret,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Kustomization => "Kustomization",
            Kind::HelmRelease => "HelmRelease",
            Kind::GitRepository => "GitRepository",
            Kind::OCIRepository => "OCIRepository",
            Kind::HelmRepository => "HelmRepository",
            Kind::HelmChart => "HelmChart",
            Kind::Bucket => "Bucket",
            Kind::ExternalArtifact => "ExternalArtifact",
            Kind::ArtifactGenerator => "ArtifactGenerator",
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
        }
    }

    /// A `sourceRef.kind` or `valuesFrom.kind` as written.
    pub(crate) fn named(kind: &str) -> Option<Kind> {
        [
            Kind::Kustomization,
            Kind::HelmRelease,
            Kind::GitRepository,
            Kind::OCIRepository,
            Kind::HelmRepository,
            Kind::HelmChart,
            Kind::Bucket,
            Kind::ExternalArtifact,
            Kind::ArtifactGenerator,
            Kind::ConfigMap,
            Kind::Secret,
        ]
        .into_iter()
        .find(|k| k.name() == kind)
    }
}

/// One Flux object (or a ConfigMap or Secret one may read), where it was found.
#[derive(Debug, Clone)]
pub(crate) struct FluxObject {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub value: Value,
    /// The file in Git it was read from, or that the render that produced it names.
    pub file: String,
}

impl FluxObject {
    /// `value` as a Flux object, with `default_namespace` where it names none.
    pub(crate) fn new(value: Value, file: &str, default_namespace: &str) -> Option<FluxObject> {
        let kind = Kind::of(&value)?;
        let name = value["metadata"]["name"].as_str()?.to_string();
        let namespace = value["metadata"]["namespace"]
            .as_str()
            .unwrap_or(default_namespace)
            .to_string();
        Some(FluxObject {
            kind,
            namespace,
            name,
            value,
            file: file.to_string(),
        })
    }

    /// `Kustomization flux-system/apps`: how messages name it.
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} {}/{} ({})",
            self.kind.name(),
            self.namespace,
            self.name,
            self.file
        )
    }

    pub(crate) fn spec(&self) -> &Value {
        &self.value["spec"]
    }
}

/// Where referenced objects are looked up, nearest first: the `flux:` path's own objects, then what
/// followed Kustomizations rendered, then every manifest of the repository (read once, when first
/// needed). Within one place, two different objects of one identity are ambiguous: an error.
pub(crate) struct Known<'a> {
    tree: &'a GitTree,
    pub config: Vec<FluxObject>,
    pub output: Vec<FluxObject>,
    repository: OnceCell<Result<Vec<FluxObject>, String>>,
}

impl<'a> Known<'a> {
    pub(crate) fn new(tree: &'a GitTree, config: Vec<FluxObject>) -> Known<'a> {
        Known {
            tree,
            config,
            output: Vec::new(),
            repository: OnceCell::new(),
        }
    }

    /// The object of `kind` named `namespace/name`, where found first.
    pub(crate) fn find(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
    ) -> Result<Option<&FluxObject>, FluxError> {
        self.find_where(kind, namespace, |o| o.name == name)
            .map(|found| found.into_iter().next())
    }

    /// The objects of `kind` in `namespace` that `keep` accepts, from the nearest place that has
    /// any; two different objects of one name there are ambiguous.
    pub(crate) fn find_where(
        &self,
        kind: Kind,
        namespace: &str,
        keep: impl Fn(&FluxObject) -> bool,
    ) -> Result<Vec<&FluxObject>, FluxError> {
        for place in [&self.config[..], &self.output[..]] {
            let found: Vec<&FluxObject> = place
                .iter()
                .filter(|o| o.kind == kind && o.namespace == namespace && keep(o))
                .collect();
            if !found.is_empty() {
                return distinct(found);
            }
        }
        let found: Vec<&FluxObject> = self
            .repository()?
            .iter()
            .filter(|o| o.kind == kind && o.namespace == namespace && keep(o))
            .collect();
        distinct(found)
    }

    /// Every manifest of the repository that may hold a Flux object, a ConfigMap or a Secret
    /// (files that do not parse, such as chart templates, hold none that Flux could read). A
    /// repository that cannot be read (too many files, a submodule out of reach) is an error.
    fn repository(&self) -> Result<&[FluxObject], FluxError> {
        let scanned = self.repository.get_or_init(|| {
            let files = self
                .tree
                .files_under("", crate::desired::manifests::is_manifest_file)
                .map_err(|e| e.to_string())?;
            let mut objects = Vec::new();
            for file in files {
                let Ok(text) = std::str::from_utf8(&file.bytes) else {
                    continue;
                };
                if !(text.contains("fluxcd.io")
                    || text.contains("ConfigMap")
                    || text.contains("Secret"))
                {
                    continue;
                }
                for (value, _) in crate::yaml::parse_values(text, &file.path).unwrap_or_default() {
                    objects.extend(FluxObject::new(value, &file.path, "default"));
                }
            }
            Ok(objects)
        });
        scanned
            .as_deref()
            .map_err(|message| FluxError::Repository(message.clone()))
    }
}

/// The objects found, each identity once; two different objects of one identity are an error
/// naming both files.
fn distinct(found: Vec<&FluxObject>) -> Result<Vec<&FluxObject>, FluxError> {
    let mut out: Vec<&FluxObject> = Vec::new();
    for object in found {
        match out.iter().find(|o| o.name == object.name) {
            Some(seen) if seen.value != object.value => {
                return Err(FluxError::Ambiguous {
                    object: format!(
                        "{} {}/{}",
                        object.kind.name(),
                        object.namespace,
                        object.name
                    ),
                    first: seen.file.clone(),
                    second: object.file.clone(),
                });
            }
            Some(_) => {}
            None => out.push(object),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_by_group_and_kind() {
        let k = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization"});
        assert_eq!(Kind::of(&k), Some(Kind::Kustomization));
        let file =
            json!({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"});
        assert_eq!(Kind::of(&file), None);
        let generator = json!({"apiVersion": "source.extensions.fluxcd.io/v1beta1", "kind": "ArtifactGenerator"});
        assert_eq!(Kind::of(&generator), Some(Kind::ArtifactGenerator));
        assert_eq!(
            Kind::of(&json!({"apiVersion": "v1", "kind": "Secret"})),
            Some(Kind::Secret)
        );
        assert_eq!(Kind::named("OCIRepository"), Some(Kind::OCIRepository));
    }
}
