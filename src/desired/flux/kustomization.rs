//! A Flux Kustomization as a `kustomize build`: the directory its source and `path` name, and its
//! fields as the overlay kustomize-controller writes into the kustomization it builds
//! (docs/sources.md, flux). Its `postBuild` variables are gathered after the render.

use super::artifacts::{Reference, Resolver};
use super::objects::{FluxObject, Kind, Known};
use super::{FluxError, not_followed, only_known_fields};
use crate::desired::render::join_repo;
use crate::desired::render::kustomize::KustomizeJob;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Fields that change when or how Flux applies, not what: ignored.
const HARMLESS: [&str; 14] = [
    "interval",
    "retryInterval",
    "timeout",
    "prune",
    "wait",
    "dependsOn",
    "suspend",
    "force",
    "healthChecks",
    "healthCheckExprs",
    "serviceAccountName",
    "deletionPolicy",
    "sourceRef",
    "path",
];

/// Fields plumb turns into the build.
const FOLLOWED: [&str; 9] = [
    "targetNamespace",
    "namePrefix",
    "nameSuffix",
    "images",
    "patches",
    "commonMetadata",
    "components",
    "ignoreMissingComponents",
    "postBuild",
];

/// The `kustomize build` that renders `object`.
pub(crate) fn job(
    resolver: &Resolver<'_, '_>,
    object: &FluxObject,
) -> Result<KustomizeJob, FluxError> {
    let spec = object.spec();
    only_known_fields(object, &FOLLOWED, &HARMLESS)?;
    let reference = Reference::at(object, &spec["sourceRef"], "spec.sourceRef")?;
    let root = resolver.directory(object, &reference, "spec.sourceRef")?;
    let path = spec["path"].as_str().unwrap_or("./");
    let Some(dir) = join_repo(&root, path) else {
        return Err(not_followed(
            object,
            "spec.path",
            &format!("`{path}` leaves the source"),
            "name a directory inside the source",
        ));
    };
    if resolver.tree.kind_of(&dir)? != Some(git2::ObjectType::Tree) {
        return Err(not_followed(
            object,
            "spec.path",
            &format!("`{path}` is no directory of the source (repository path `{dir}`) at the ref"),
            "fix the path, or commit the directory",
        ));
    }
    let mut overlay = Map::new();
    if let Some(namespace) = spec["targetNamespace"].as_str() {
        overlay.insert("namespace".into(), namespace.into());
    }
    for key in ["namePrefix", "nameSuffix"] {
        if let Some(text) = spec[key].as_str() {
            overlay.insert(key.into(), text.into());
        }
    }
    for key in ["images", "patches"] {
        if let Some(list) = spec[key].as_array().filter(|l| !l.is_empty()) {
            overlay.insert(key.into(), Value::Array(list.clone()));
        }
    }
    let metadata = &spec["commonMetadata"];
    if let Some(labels) = metadata["labels"].as_object().filter(|m| !m.is_empty()) {
        // Labels on every object, not selectors: what commonMetadata sets.
        overlay.insert(
            "labels".into(),
            json!([{"pairs": labels, "includeSelectors": false, "includeTemplates": false}]),
        );
    }
    if let Some(annotations) = metadata["annotations"]
        .as_object()
        .filter(|m| !m.is_empty())
    {
        overlay.insert(
            "commonAnnotations".into(),
            Value::Object(annotations.clone()),
        );
    }
    let ignore_missing = spec["ignoreMissingComponents"].as_bool().unwrap_or(false);
    let mut components = Vec::new();
    for component in spec["components"].as_array().into_iter().flatten() {
        let text = component.as_str().unwrap_or("");
        let found = match join_repo(&dir, text) {
            Some(path) => resolver.tree.kind_of(&path)?.map(|_| path),
            None => None,
        };
        match found {
            Some(path) => components.push(Value::from(path)),
            None if ignore_missing => {}
            None => {
                return Err(not_followed(
                    object,
                    "spec.components",
                    &format!("names `{text}`, which is not in the source at the ref"),
                    "fix the component path, or set ignoreMissingComponents",
                ));
            }
        }
    }
    if !components.is_empty() {
        overlay.insert("components".into(), Value::Array(components));
    }
    let post_build = &spec["postBuild"];
    if let Some(map) = post_build.as_object()
        && let Some(field) = map
            .keys()
            .find(|k| *k != "substitute" && *k != "substituteFrom")
    {
        return Err(not_followed(
            object,
            &format!("spec.postBuild.{field}"),
            "changes what Flux applies, and plumb does not follow it",
            "see docs/sources.md for the fields plumb follows",
        ));
    }
    Ok(KustomizeJob { dir, overlay })
}

/// The variables `postBuild` substitutes, as Flux gathers them: each `substituteFrom` ConfigMap's
/// and Secret's data in order (a Secret's decoded), then `substitute`, newlines removed. A missing
/// object is an error unless it is `optional`. None when the Kustomization has no `postBuild`.
pub(crate) fn variables(
    known: &Known<'_>,
    object: &FluxObject,
) -> Result<Option<BTreeMap<String, String>>, FluxError> {
    let post_build = &object.spec()["postBuild"];
    if !post_build.is_object() {
        return Ok(None);
    }
    let mut vars = BTreeMap::new();
    for (index, reference) in post_build["substituteFrom"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let field = format!("spec.postBuild.substituteFrom[{index}]");
        let name = reference["name"].as_str().unwrap_or("");
        let kind = match reference["kind"].as_str() {
            Some("ConfigMap") => Kind::ConfigMap,
            Some("Secret") => Kind::Secret,
            other => {
                return Err(not_followed(
                    object,
                    &field,
                    &format!(
                        "has kind {}, not ConfigMap or Secret",
                        other.unwrap_or("(none)")
                    ),
                    "refer to a ConfigMap or a Secret",
                ));
            }
        };
        match known.find(kind, &object.namespace, name)? {
            Some(found) => vars.extend(
                data_of(found)?
                    .into_iter()
                    .map(|(k, v)| (k, v.replace('\n', ""))),
            ),
            None if reference["optional"].as_bool().unwrap_or(false) => {}
            None => {
                return Err(not_followed(
                    object,
                    &field,
                    &format!(
                        "refers to the {} {}/{name}, which is neither in the rendered output nor in the repository at the ref",
                        kind.name(),
                        object.namespace
                    ),
                    "commit it, or mark the reference `optional: true` if it may be absent",
                ));
            }
        }
    }
    for (key, value) in post_build["substitute"].as_object().into_iter().flatten() {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        vars.insert(key.clone(), text.replace('\n', ""));
    }
    Ok(Some(vars))
}

/// The data of a ConfigMap or Secret as strings (a Secret's `data` decoded, its `stringData` as
/// written). A Secret encrypted with SOPS cannot be read.
pub(crate) fn data_of(object: &FluxObject) -> Result<BTreeMap<String, String>, FluxError> {
    let value = &object.value;
    if value.get("sops").is_some() {
        return Err(not_followed(
            object,
            "sops",
            "is encrypted with SOPS, which plumb does not decrypt",
            "keep the values plumb must read in an unencrypted ConfigMap",
        ));
    }
    let mut out = BTreeMap::new();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if object.kind == Kind::Secret {
        use base64::Engine;
        for (key, encoded) in value["data"].as_object().into_iter().flatten() {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.as_str().unwrap_or("").trim())
                .map_err(|_| {
                    not_followed(
                        object,
                        &format!("data.{key}"),
                        "is not base64",
                        "encode Secret data as base64, or use stringData",
                    )
                })?;
            out.insert(key.clone(), String::from_utf8_lossy(&decoded).into_owned());
        }
        for (key, v) in value["stringData"].as_object().into_iter().flatten() {
            out.insert(key.clone(), text(v));
        }
    } else {
        for (key, v) in value["data"].as_object().into_iter().flatten() {
            out.insert(key.clone(), text(v));
        }
    }
    Ok(out)
}
