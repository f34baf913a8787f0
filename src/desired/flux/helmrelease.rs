//! A Flux HelmRelease as a `helm template`: its chart (a directory of this repository, a
//! HelmRepository's or an OCIRepository's chart), its values merged as helm-controller merges them,
//! its release name and namespace (docs/sources.md, flux).

use super::artifacts::{Reference, Resolver};
use super::kustomization::data_of;
use super::objects::{FluxObject, Kind};
use super::{FluxError, not_followed, only_known_fields};
use crate::config::RemoteChart;
use crate::desired::render::helm::{ChartLocation, HelmJob};
use crate::desired::render::join_repo;
use serde_json::{Map, Value};
use sha2::Digest;

/// Fields that change when or how Flux applies, not what: ignored.
const HARMLESS: [&str; 17] = [
    "interval",
    "timeout",
    "dependsOn",
    "suspend",
    "serviceAccountName",
    "storageNamespace",
    "maxHistory",
    "persistentClient",
    "install",
    "upgrade",
    "test",
    "rollback",
    "uninstall",
    "driftDetection",
    "chart",
    "chartRef",
    "values",
];

/// Fields plumb turns into the render.
const FOLLOWED: [&str; 4] = [
    "valuesFrom",
    "targetNamespace",
    "releaseName",
    "postRenderers",
];

/// The fields of a post renderer's `kustomize`: helm-controller's, and the deprecated ones of its
/// v2beta1 and v2beta2 APIs, which plumb writes as `patches`.
const POST_RENDER_FIELDS: [&str; 4] = [
    "patches",
    "images",
    "patchesStrategicMerge",
    "patchesJson6902",
];

/// The fields of a patch's `target` (Flux's selector, spelled as kustomize spells it).
const SELECTOR_FIELDS: [&str; 7] = [
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "labelSelector",
    "annotationSelector",
];

/// The fields of an `images` entry.
const IMAGE_FIELDS: [&str; 4] = ["name", "newName", "newTag", "digest"];

/// Helm's longest release name.
const MAX_RELEASE_NAME: usize = 53;

/// The release name helm-controller uses: `releaseName`, else `[targetNamespace-]name`, shortened
/// past 53 characters to its first 40 and 12 hex digits of its SHA-256.
pub(crate) fn release_name(object: &FluxObject) -> String {
    let spec = object.spec();
    let name = match (
        spec["releaseName"].as_str(),
        spec["targetNamespace"].as_str(),
    ) {
        (Some(release), _) if !release.is_empty() => release.to_string(),
        (_, Some(target)) if !target.is_empty() => format!("{target}-{}", object.name),
        _ => object.name.clone(),
    };
    if name.len() <= MAX_RELEASE_NAME {
        return name;
    }
    let sum = hex(&sha2::Sha256::digest(name.as_bytes()));
    format!("{}-{}", &name[..MAX_RELEASE_NAME - 13], &sum[..12])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The namespace the release's objects go to: `targetNamespace`, else the HelmRelease's own.
pub(crate) fn release_namespace(object: &FluxObject) -> String {
    object.spec()["targetNamespace"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map_or_else(|| object.namespace.clone(), str::to_string)
}

/// The `helm template` that renders `object`.
pub(crate) fn job(resolver: &Resolver<'_, '_>, object: &FluxObject) -> Result<HelmJob, FluxError> {
    let spec = object.spec();
    only_known_fields(object, &FOLLOWED, &HARMLESS)?;
    let (chart, values_files) = if spec["chart"]["spec"].is_object() {
        chart_spec(resolver, object, &spec["chart"]["spec"], "spec.chart.spec")?
    } else if spec["chartRef"].is_object() {
        chart_ref(resolver, object)?
    } else {
        return Err(not_followed(
            object,
            "spec.chart",
            "is missing, and so is spec.chartRef",
            "name the chart",
        ));
    };
    let mut values = Value::Object(Map::new());
    let mut secret_values = Vec::new();
    for (index, reference) in spec["valuesFrom"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        values_from(
            resolver,
            object,
            reference,
            index,
            &mut values,
            &mut secret_values,
        )?;
    }
    if let Some(inline) = spec["values"].as_object() {
        merge(&mut values, &Value::Object(inline.clone()));
    }
    let inline_values = match &values {
        Value::Object(map) if map.is_empty() => Vec::new(),
        _ => vec![values],
    };
    Ok(HelmJob {
        chart,
        release: release_name(object),
        namespace: Some(release_namespace(object)),
        values: values_files,
        inline_values,
        secret_values,
        set: Vec::new(),
        // Flux installs a chart's CRDs (`install.crds: Create`, its default).
        skip_crds: false,
        post_render: post_renderers(object)?,
    })
}

/// A `chart.spec` (or a HelmChart's spec): a chart path in a GitRepository of this repository, or a
/// chart of a HelmRepository; and its `valuesFiles`.
fn chart_spec(
    resolver: &Resolver<'_, '_>,
    object: &FluxObject,
    spec: &Value,
    field: &str,
) -> Result<(ChartLocation, Vec<String>), FluxError> {
    let chart = spec["chart"].as_str().unwrap_or("");
    let reference = Reference::at(object, &spec["sourceRef"], &format!("{field}.sourceRef"))?;
    let mut files: Vec<&str> = spec["valuesFiles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    files.extend(spec["valuesFile"].as_str());
    match Kind::named(&reference.kind) {
        Some(Kind::GitRepository) => {
            let root = resolver.directory(object, &reference, &format!("{field}.sourceRef"))?;
            let resolve = |path: &str, what: &str| -> Result<String, FluxError> {
                match join_repo(&root, path) {
                    Some(p) if resolver.tree.kind_of(&p)?.is_some() => Ok(p),
                    _ => Err(not_followed(
                        object,
                        &format!("{field}.{what}"),
                        &format!("`{path}` is not in the repository at the ref"),
                        "fix the path, or commit the chart",
                    )),
                }
            };
            let chart_dir = resolve(chart, "chart")?;
            let values = files
                .iter()
                .map(|f| resolve(f, "valuesFiles"))
                .collect::<Result<Vec<_>, _>>()?;
            // Flux's valuesFiles replace the chart's values.yaml; helm layers values files over
            // it. The two agree when the list starts with it (or the chart has none).
            let default = format!("{chart_dir}/values.yaml");
            if values.first().is_some_and(|first| *first != default)
                && resolver.tree.kind_of(&default)?.is_some()
            {
                return Err(not_followed(
                    object,
                    &format!("{field}.valuesFiles"),
                    "replaces the chart's values.yaml, which plumb cannot leave out of `helm template`",
                    &format!("list `{default}` first: Flux then merges the same values"),
                ));
            }
            Ok((ChartLocation::Git(chart_dir), values))
        }
        Some(Kind::HelmRepository) => {
            let repository = resolver
                .known
                .find(Kind::HelmRepository, &reference.namespace, &reference.name)?
                .ok_or_else(|| missing(object, &format!("{field}.sourceRef"), &reference))?;
            if !files.is_empty() {
                return Err(not_followed(
                    object,
                    &format!("{field}.valuesFiles"),
                    "names values files inside a remote chart, which plumb does not read",
                    "move the values into spec.values or a values file in Git",
                ));
            }
            let url = repository.spec()["url"].as_str().unwrap_or("").to_string();
            let version = spec["version"]
                .as_str()
                .filter(|v| *v != "*" && !v.is_empty());
            Ok((
                ChartLocation::Remote(RemoteChart {
                    repo: url,
                    chart: chart.to_string(),
                    version: version.map(str::to_string),
                }),
                Vec::new(),
            ))
        }
        _ => Err(not_followed(
            object,
            &format!("{field}.sourceRef"),
            &format!(
                "refers to the {}, a chart source plumb does not follow",
                reference.describe()
            ),
            "plumb follows charts in GitRepositories of this repository and in HelmRepositories",
        )),
    }
}

/// `chartRef`: an OCIRepository's chart (the URL up to the chart's name, the chart, the tag or
/// semver range), or a HelmChart.
fn chart_ref(
    resolver: &Resolver<'_, '_>,
    object: &FluxObject,
) -> Result<(ChartLocation, Vec<String>), FluxError> {
    let reference = Reference::at(object, &object.spec()["chartRef"], "spec.chartRef")?;
    match Kind::named(&reference.kind) {
        Some(Kind::OCIRepository) => {
            let repository = resolver
                .known
                .find(Kind::OCIRepository, &reference.namespace, &reference.name)?
                .ok_or_else(|| missing(object, "spec.chartRef", &reference))?;
            let spec = repository.spec();
            let url = spec["url"].as_str().unwrap_or("").trim_end_matches('/');
            let Some((repo, chart)) = url.rsplit_once('/') else {
                return Err(not_followed(
                    repository,
                    "spec.url",
                    &format!("`{url}` names no chart"),
                    "write the URL as oci://registry/path/chart",
                ));
            };
            let version = spec["ref"]["tag"]
                .as_str()
                .or_else(|| spec["ref"]["semver"].as_str())
                .map(str::to_string);
            if spec["ref"]["digest"].is_string() && version.is_none() {
                return Err(not_followed(
                    repository,
                    "spec.ref.digest",
                    "pins a digest, which plumb cannot resolve to a chart version",
                    "pin a tag or a semver range",
                ));
            }
            Ok((
                ChartLocation::Remote(RemoteChart {
                    repo: repo.to_string(),
                    chart: chart.to_string(),
                    version,
                }),
                Vec::new(),
            ))
        }
        Some(Kind::HelmChart) => {
            let chart = resolver
                .known
                .find(Kind::HelmChart, &reference.namespace, &reference.name)?
                .ok_or_else(|| missing(object, "spec.chartRef", &reference))?;
            // The HelmChart's own source reference is relative to the HelmChart's namespace.
            chart_spec(resolver, chart, chart.spec(), "spec")
        }
        _ => Err(not_followed(
            object,
            "spec.chartRef",
            &format!(
                "refers to the {}, which is not an OCIRepository or a HelmChart",
                reference.describe()
            ),
            "refer to an OCIRepository or a HelmChart",
        )),
    }
}

fn missing(object: &FluxObject, field: &str, reference: &Reference) -> FluxError {
    not_followed(
        object,
        field,
        &format!(
            "refers to the {}, which is neither in the rendered output nor anywhere in the repository at the ref",
            reference.describe()
        ),
        "commit the object it refers to",
    )
}

/// One `valuesFrom` entry merged into `values`: the ConfigMap's or Secret's `valuesKey` (default
/// `values.yaml`) as YAML values, or, with `targetPath`, as the string at that path.
fn values_from(
    resolver: &Resolver<'_, '_>,
    object: &FluxObject,
    reference: &Value,
    index: usize,
    values: &mut Value,
    secret_values: &mut Vec<Value>,
) -> Result<(), FluxError> {
    let field = format!("spec.valuesFrom[{index}]");
    let kind = match reference["kind"].as_str() {
        Some("ConfigMap") => Kind::ConfigMap,
        Some("Secret") => Kind::Secret,
        _ => {
            return Err(not_followed(
                object,
                &field,
                "is not a ConfigMap or a Secret",
                "refer to a ConfigMap or a Secret",
            ));
        }
    };
    let name = reference["name"].as_str().unwrap_or("");
    let key = reference["valuesKey"].as_str().unwrap_or("values.yaml");
    let optional = reference["optional"].as_bool().unwrap_or(false);
    let Some(found) = resolver.known.find(kind, &object.namespace, name)? else {
        if optional {
            return Ok(());
        }
        return Err(not_followed(
            object,
            &field,
            &format!(
                "refers to the {} {}/{name}, which is neither in the rendered output nor in the repository at the ref",
                kind.name(),
                object.namespace
            ),
            "commit it, or mark the reference `optional: true`",
        ));
    };
    let data = data_of(found)?;
    if kind == Kind::Secret {
        secret_values.extend(data.values().map(|v| Value::String(v.clone())));
    }
    let Some(text) = data.get(key) else {
        if optional {
            return Ok(());
        }
        return Err(not_followed(
            object,
            &field,
            &format!(
                "names the key `{key}`, which {} does not hold",
                found.describe()
            ),
            "fix valuesKey",
        ));
    };
    match reference["targetPath"].as_str().filter(|p| !p.is_empty()) {
        Some(path) => {
            if path.contains(['[', '\\']) {
                return Err(not_followed(
                    object,
                    &format!("{field}.targetPath"),
                    "uses list indexes or escapes, which plumb does not follow",
                    "use a dotted path of keys",
                ));
            }
            let mut leaf = values;
            for part in path.split('.') {
                if !leaf.is_object() {
                    *leaf = Value::Object(Map::new());
                }
                leaf = leaf
                    .as_object_mut()
                    .map(|m| m.entry(part.to_string()).or_insert(Value::Null))
                    .unwrap_or_else(|| unreachable!("made an object just above"));
            }
            *leaf = Value::String(text.clone());
        }
        None => {
            // The values themselves never go into a message: they may be a Secret's.
            let parsed: Value =
                crate::yaml::from_str_holding_secrets(text, &found.file).map_err(|_| {
                    not_followed(
                        object,
                        &field,
                        &format!(
                            "reads `{key}` of {}, which is not a YAML mapping",
                            found.describe()
                        ),
                        "store values as YAML",
                    )
                })?;
            if !parsed.is_object() && !parsed.is_null() {
                return Err(not_followed(
                    object,
                    &field,
                    &format!(
                        "reads `{key}` of {}, which is not a YAML mapping",
                        found.describe()
                    ),
                    "store values as YAML",
                ));
            }
            if kind == Kind::Secret {
                secret_values.push(parsed.clone());
            }
            merge(values, &parsed);
        }
    }
    Ok(())
}

/// `postRenderers`, as helm-controller builds them: for each entry with a `kustomize`, in order,
/// the kustomization fields applied to the chart's output — `patches` (inline strategic merge or
/// JSON 6902, with a `target`) and `images`. The deprecated `patchesStrategicMerge` and
/// `patchesJson6902` become `patches` in the order kustomize applies them (strategic merge first,
/// then `patches`, then JSON 6902), which is the same result without kustomize's deprecation
/// warnings. Anything else is not followed.
fn post_renderers(object: &FluxObject) -> Result<Vec<Map<String, Value>>, FluxError> {
    let field = "spec.postRenderers";
    let entries = match &object.spec()["postRenderers"] {
        Value::Null => return Ok(Vec::new()),
        Value::Array(entries) => entries,
        _ => return Err(shape(object, field, "a list of post renderers")),
    };
    if entries.len() > crate::limits::MAX_POST_RENDERERS {
        return Err(FluxError::Limit {
            object: object.describe(),
            what: "post renderers of one HelmRelease",
            limit: crate::limits::MAX_POST_RENDERERS,
        });
    }
    let mut steps = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let entry = entry
            .as_object()
            .ok_or_else(|| shape(object, &at, "a mapping with `kustomize`"))?;
        if let Some(other) = entry.keys().find(|k| *k != "kustomize") {
            return Err(unknown(object, &format!("{at}.{other}")));
        }
        // helm-controller skips an entry without a kustomization.
        let kustomize = match &entry.get("kustomize") {
            None | Some(Value::Null) => continue,
            Some(Value::Object(kustomize)) => kustomize,
            Some(_) => return Err(shape(object, &format!("{at}.kustomize"), "a mapping")),
        };
        let at = format!("{at}.kustomize");
        if let Some(other) = kustomize
            .keys()
            .find(|k| !POST_RENDER_FIELDS.contains(&k.as_str()))
        {
            return Err(unknown(object, &format!("{at}.{other}")));
        }
        let list = |name: &str| -> Result<&[Value], FluxError> {
            match kustomize.get(name) {
                None | Some(Value::Null) => Ok(&[]),
                Some(Value::Array(items)) => Ok(items),
                Some(_) => Err(shape(object, &format!("{at}.{name}"), "a list")),
            }
        };
        let mut patches = Vec::new();
        for (j, patch) in list("patchesStrategicMerge")?.iter().enumerate() {
            let text = match patch {
                Value::String(text) => text.clone(),
                Value::Object(_) => patch.to_string(),
                _ => {
                    return Err(shape(
                        object,
                        &format!("{at}.patchesStrategicMerge[{j}]"),
                        "an object to merge",
                    ));
                }
            };
            patches.push(serde_json::json!({ "patch": text }));
        }
        for (j, patch) in list("patches")?.iter().enumerate() {
            let at = format!("{at}.patches[{j}]");
            let patch = patch
                .as_object()
                .ok_or_else(|| shape(object, &at, "a mapping with `patch` and `target`"))?;
            if let Some(other) = patch.keys().find(|k| *k != "patch" && *k != "target") {
                return Err(unknown(object, &format!("{at}.{other}")));
            }
            let text = patch
                .get("patch")
                .and_then(Value::as_str)
                .ok_or_else(|| shape(object, &format!("{at}.patch"), "the patch, as a string"))?;
            let mut out = Map::new();
            out.insert("patch".into(), text.into());
            if let Some(target) = patch.get("target").filter(|t| !t.is_null()) {
                out.insert(
                    "target".into(),
                    selector(object, &format!("{at}.target"), target)?,
                );
            }
            patches.push(Value::Object(out));
        }
        for (j, patch) in list("patchesJson6902")?.iter().enumerate() {
            let at = format!("{at}.patchesJson6902[{j}]");
            let operations = match &patch["patch"] {
                Value::Array(_) => patch["patch"].to_string(),
                _ => {
                    return Err(shape(
                        object,
                        &format!("{at}.patch"),
                        "a list of operations",
                    ));
                }
            };
            if let Some(other) = patch
                .as_object()
                .and_then(|p| p.keys().find(|k| *k != "patch" && *k != "target"))
            {
                return Err(unknown(object, &format!("{at}.{other}")));
            }
            patches.push(serde_json::json!({
                "patch": operations,
                "target": selector(object, &format!("{at}.target"), &patch["target"])?,
            }));
        }
        let mut images = Vec::new();
        for (j, image) in list("images")?.iter().enumerate() {
            let at = format!("{at}.images[{j}]");
            let image = image
                .as_object()
                .ok_or_else(|| shape(object, &at, "a mapping with `name`"))?;
            if let Some(other) = image.keys().find(|k| !IMAGE_FIELDS.contains(&k.as_str())) {
                return Err(unknown(object, &format!("{at}.{other}")));
            }
            images.push(Value::Object(image.clone()));
        }
        let mut step = Map::new();
        if !patches.is_empty() {
            step.insert("patches".into(), patches.into());
        }
        if !images.is_empty() {
            step.insert("images".into(), images.into());
        }
        if !step.is_empty() {
            steps.push(step);
        }
    }
    Ok(steps)
}

/// A patch's `target`: a mapping of selector fields.
fn selector(object: &FluxObject, field: &str, target: &Value) -> Result<Value, FluxError> {
    let map = target
        .as_object()
        .ok_or_else(|| shape(object, field, "a mapping of `kind`, `name`, ..."))?;
    if let Some(other) = map.keys().find(|k| !SELECTOR_FIELDS.contains(&k.as_str())) {
        return Err(unknown(object, &format!("{field}.{other}")));
    }
    Ok(target.clone())
}

fn shape(object: &FluxObject, field: &str, expected: &str) -> FluxError {
    not_followed(
        object,
        field,
        &format!("is not {expected}"),
        "write it as helm-controller's HelmRelease API has it",
    )
}

fn unknown(object: &FluxObject, field: &str) -> FluxError {
    not_followed(
        object,
        field,
        "is not a field plumb follows in a post renderer",
        "see docs/sources.md for the fields plumb follows",
    )
}

/// Helm's merge of values: mappings merge key by key, anything else replaces.
fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value)
                    }
                    _ => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, over) if !over.is_null() => *base = over.clone(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn release(name: &str, spec: Value) -> FluxObject {
        FluxObject::new(
            json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                   "metadata": {"name": name, "namespace": "apps"}, "spec": spec}),
            "r.yaml",
            "default",
        )
        .unwrap()
    }

    #[test]
    fn release_names_default_as_flux_does() {
        assert_eq!(release_name(&release("web", json!({}))), "web");
        assert_eq!(
            release_name(&release("web", json!({"targetNamespace": "shop"}))),
            "shop-web"
        );
        assert_eq!(
            release_name(&release(
                "web",
                json!({"releaseName": "front", "targetNamespace": "shop"})
            )),
            "front"
        );
        assert_eq!(release_namespace(&release("web", json!({}))), "apps");
        assert_eq!(
            release_namespace(&release("web", json!({"targetNamespace": "shop"}))),
            "shop"
        );
        // helm-controller's ShortenName: 40 characters, a dash, 12 hex digits of the SHA-256.
        let long = "a-very-long-target-namespace-for-this-team";
        let name = release_name(&release(
            "and-an-even-longer-release",
            json!({"targetNamespace": long}),
        ));
        let full = format!("{long}-and-an-even-longer-release");
        assert_eq!(name.len(), 53);
        assert_eq!(&name[..41], &format!("{}-", &full[..40]));
        assert_eq!(
            &name[41..],
            &hex(&sha2::Sha256::digest(full.as_bytes()))[..12]
        );
    }

    #[test]
    fn post_renderers_become_kustomize_steps_in_order() {
        let object = release(
            "web",
            json!({"postRenderers": [
                {"kustomize": {
                    "images": [{"name": "redis", "newTag": "7.4"}],
                    "patchesJson6902": [{
                        "target": {"kind": "Deployment", "name": "web"},
                        "patch": [{"op": "add", "path": "/spec/paused", "value": true}]
                    }],
                    "patches": [{"patch": "- op: remove\n  path: /x", "target": {"kind": "Service"}}],
                    "patchesStrategicMerge": [
                        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
                    ]
                }},
                {},
                {"kustomize": {"images": [{"name": "nginx", "digest": "sha256:00"}]}}
            ]}),
        );
        let steps = post_renderers(&object).unwrap();
        assert_eq!(
            steps.len(),
            2,
            "an entry without `kustomize` is skipped: {steps:?}"
        );
        // Strategic merge first, then `patches`, then JSON 6902: kustomize's own order for them.
        assert_eq!(
            Value::Object(steps[0].clone()),
            json!({
                "patches": [
                    {"patch": "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}"},
                    {"patch": "- op: remove\n  path: /x", "target": {"kind": "Service"}},
                    {"patch": "[{\"op\":\"add\",\"path\":\"/spec/paused\",\"value\":true}]",
                     "target": {"kind": "Deployment", "name": "web"}}
                ],
                "images": [{"name": "redis", "newTag": "7.4"}]
            })
        );
        assert_eq!(
            Value::Object(steps[1].clone()),
            json!({"images": [{"name": "nginx", "digest": "sha256:00"}]})
        );
        assert!(
            post_renderers(&release("web", json!({})))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn post_renderer_fields_plumb_does_not_follow_are_named() {
        let field_of = |post: Value| -> String {
            match post_renderers(&release("web", json!({ "postRenderers": post }))) {
                Err(FluxError::NotFollowed { field, .. }) => field,
                other => panic!("not refused: {other:?}"),
            }
        };
        assert_eq!(
            field_of(json!([{"kustomize": {"patches": [{"path": "p.yaml"}]}}])),
            "spec.postRenderers[0].kustomize.patches[0].path"
        );
        assert_eq!(
            field_of(json!([{}, {"kustomize": {"replicas": []}}])),
            "spec.postRenderers[1].kustomize.replicas"
        );
        assert_eq!(
            field_of(
                json!([{"kustomize": {"patches": [{"patch": "{}", "target": {"kinds": "X"}}]}}])
            ),
            "spec.postRenderers[0].kustomize.patches[0].target.kinds"
        );
        assert_eq!(
            field_of(json!([{"kustomize": {"patches": [{"patch": {"a": 1}}]}}])),
            "spec.postRenderers[0].kustomize.patches[0].patch"
        );
        assert_eq!(
            field_of(json!([{"kustomize": {"images": [{"name": "a", "newTags": "1"}]}}])),
            "spec.postRenderers[0].kustomize.images[0].newTags"
        );
        assert_eq!(field_of(json!({"kustomize": {}})), "spec.postRenderers");
        assert_eq!(
            field_of(json!([{"helm": {}}])),
            "spec.postRenderers[0].helm"
        );
        let many = vec![json!({"kustomize": {}}); crate::limits::MAX_POST_RENDERERS + 1];
        assert!(matches!(
            post_renderers(&release("web", json!({ "postRenderers": many }))),
            Err(FluxError::Limit { .. })
        ));
    }

    #[test]
    fn values_merge_as_helm_merges() {
        let mut base = json!({"a": {"b": 1, "c": 2}, "list": [1, 2]});
        merge(&mut base, &json!({"a": {"c": 3}, "list": [3], "d": true}));
        assert_eq!(base, json!({"a": {"b": 1, "c": 3}, "list": [3], "d": true}));
    }
}
