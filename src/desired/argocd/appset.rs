//! An Argo CD ApplicationSet expanded into its Applications: `list` and `git` directory
//! generators, templates in the default `{{param}}` syntax or Go templates (`goTemplate: true`)
//! with the common field references. Anything else is an error naming it (a `render` error of the
//! source), never a silently missing Application.

use super::check_revision;
use crate::desired::git::GitTree;
use crate::desired::repository::is_this_repository;
use crate::limits::MAX_GENERATED_APPLICATIONS;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeSet;

/// `spec` fields of an ApplicationSet that change no Application it generates.
const HARMLESS: &[&str] = &[
    "generators",
    "template",
    "goTemplate",
    "goTemplateOptions",
    "syncPolicy",
    "strategy",
    "preservedFields",
    "ignoreApplicationDifferences",
    "applyNestedSelectors",
];

/// Where a `git` directory generator's directories come from: Git at the ref for a run
/// ([`TreeDirectories`]), the working tree for `plumb init` — so both expand an ApplicationSet
/// the same way.
pub(crate) trait Directories {
    /// The directories (repository paths, in path order) of the repository the generator `git`
    /// (at `field`) reads that `matches` accepts, or why they cannot be listed.
    fn list(
        &mut self,
        field: &str,
        git: &Value,
        matches: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, String>;
}

/// The directories of this repository at the ref: a generator of another repository or revision
/// is not followed.
pub(super) struct TreeDirectories<'a> {
    pub(super) tree: &'a GitTree,
    pub(super) repositories: &'a [String],
}

impl Directories for TreeDirectories<'_> {
    fn list(
        &mut self,
        field: &str,
        git: &Value,
        matches: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, String> {
        let url = git["repoURL"].as_str().unwrap_or("");
        if !is_this_repository(url, self.repositories) {
            return Err(format!(
                "`{field}.repoURL` {url} is another repository, which plumb does not read"
            ));
        }
        check_revision(
            self.tree,
            &format!("{field}.revision"),
            git["revision"].as_str().unwrap_or(""),
        )?;
        // Every directory of the tree, from the paths of its files (no file is read).
        let directories = RefCell::new(BTreeSet::new());
        self.tree
            .files_under("", |path| {
                let mut dirs = directories.borrow_mut();
                let mut rest = path;
                while let Some((dir, _)) = rest.rsplit_once('/') {
                    if !dirs.insert(dir.to_string()) {
                        break;
                    }
                    rest = dir;
                }
                false
            })
            .map_err(|e| e.to_string())?;
        Ok(directories
            .into_inner()
            .into_iter()
            .filter(|dir| matches(dir))
            .collect())
    }
}

/// The Applications `set` generates, in generator order, or why it cannot be expanded.
pub(crate) fn expand(set: &Value, directories: &mut dyn Directories) -> Result<Vec<Value>, String> {
    let spec = &set["spec"];
    for key in spec.as_object().into_iter().flat_map(|m| m.keys()) {
        if !HARMLESS.contains(&key.as_str()) {
            return Err(format!("`spec.{key}` is not followed"));
        }
    }
    let go = spec["goTemplate"].as_bool().unwrap_or(false);
    let template = &spec["template"];
    if !template.is_object() {
        return Err("`spec.template` is missing".into());
    }
    let mut applications = Vec::new();
    for (i, generator) in spec["generators"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let field = format!("spec.generators[{i}]");
        let keys: Vec<&String> = generator
            .as_object()
            .into_iter()
            .flat_map(|m| m.keys())
            .collect();
        let params = match keys.as_slice() {
            [key] if key.as_str() == "list" => list(&field, &generator["list"])?,
            [key] if key.as_str() == "git" => git(&field, &generator["git"], directories, go)?,
            [key] => {
                return Err(format!(
                    "`{field}.{key}`: only `list` and `git` directory generators are followed"
                ));
            }
            _ => {
                return Err(format!(
                    "`{field}` is not one generator (it holds {})",
                    keys.iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        };
        for param in params {
            if applications.len() >= MAX_GENERATED_APPLICATIONS {
                return Err(format!(
                    "it generates more than {MAX_GENERATED_APPLICATIONS} Applications, plumb's limit"
                ));
            }
            let rendered = render_value(template, &param, go)?;
            applications.push(application(set, rendered));
        }
    }
    Ok(applications)
}

/// A generated Application: the template's metadata and spec, in the set's namespace unless the
/// template names one.
fn application(set: &Value, template: Value) -> Value {
    let mut metadata = template["metadata"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    if !metadata.contains_key("namespace")
        && let Some(namespace) = set["metadata"]["namespace"].as_str()
    {
        metadata.insert("namespace".into(), namespace.into());
    }
    serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": metadata,
        "spec": template["spec"],
    })
}

/// A `list` generator's elements: each one's keys are its parameters.
fn list(field: &str, list: &Value) -> Result<Vec<Value>, String> {
    for key in list.as_object().into_iter().flat_map(|m| m.keys()) {
        if key != "elements" {
            return Err(format!("`{field}.list.{key}` is not followed"));
        }
    }
    list["elements"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, element)| match element {
            Value::Object(_) => Ok(element.clone()),
            _ => Err(format!("`{field}.list.elements[{i}]` is not a mapping")),
        })
        .collect()
}

/// A `git` directory generator: every directory some `path` glob matches and no `exclude: true`
/// glob does, in path order (Argo CD's `path.Match`: `*` stays within one directory).
fn git(
    field: &str,
    git: &Value,
    directories: &mut dyn Directories,
    go: bool,
) -> Result<Vec<Value>, String> {
    let field = format!("{field}.git");
    for key in git.as_object().into_iter().flat_map(|m| m.keys()) {
        if !["repoURL", "revision", "directories", "requeueAfterSeconds"].contains(&key.as_str()) {
            return Err(format!("`{field}.{key}` is not followed"));
        }
    }
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for (i, entry) in git["directories"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(pattern) = entry["path"].as_str() else {
            return Err(format!("`{field}.directories[{i}].path` is missing"));
        };
        let glob = globset::GlobBuilder::new(pattern.trim_start_matches("./"))
            .literal_separator(true)
            .build()
            .map_err(|e| format!("`{field}.directories[{i}].path` {pattern}: {e}"))?
            .compile_matcher();
        if entry["exclude"].as_bool().unwrap_or(false) {
            exclude.push(glob);
        } else {
            include.push(glob);
        }
    }
    let matches = |dir: &str| {
        include.iter().any(|g| g.is_match(dir)) && !exclude.iter().any(|g| g.is_match(dir))
    };
    Ok(directories
        .list(&field, git, &matches)?
        .iter()
        .map(|dir| directory_params(dir, go))
        .collect())
}

/// The parameters of one generated directory: `path`, `path.basename`,
/// `path.basenameNormalized`, `path[N]` (flat), or `.path.path`, `.path.basename`,
/// `.path.basenameNormalized`, `.path.segments` (Go templates).
fn directory_params(dir: &str, go: bool) -> Value {
    let segments: Vec<&str> = dir.split('/').collect();
    let basename = segments.last().copied().unwrap_or("");
    let normalized: String = basename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if go {
        return serde_json::json!({"path": {
            "path": dir,
            "basename": basename,
            "basenameNormalized": normalized,
            "segments": segments,
        }});
    }
    let mut params = Map::new();
    params.insert("path".into(), dir.into());
    params.insert("path.basename".into(), basename.into());
    params.insert("path.basenameNormalized".into(), normalized.into());
    for (i, segment) in segments.iter().enumerate() {
        params.insert(format!("path[{i}]"), (*segment).into());
    }
    Value::Object(params)
}

/// `template` with every string rendered against `params`.
fn render_value(template: &Value, params: &Value, go: bool) -> Result<Value, String> {
    Ok(match template {
        Value::String(text) => Value::String(render(text, params, go)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_value(v, params, go))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((render(k, params, go)?, render_value(v, params, go)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// One string of the template. Default syntax: `{{ key }}` is the flat parameter `key`; an
/// unknown key is left as written, as Argo CD leaves it. Go templates: `{{ .a.b }}` and
/// `{{ index .a.b N }}`; anything else, or a missing value, is an error naming it.
fn render(text: &str, params: &Value, go: bool) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(format!("`{text}` has an unclosed `{{{{`"));
        };
        let inner = after[..end]
            .trim()
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        if go {
            out.push_str(&go_expression(inner, params).ok_or_else(|| {
                format!("the Go template `{{{{{inner}}}}}` is not a field reference plumb renders (`.a.b`, `index .a.b N`) or names no parameter")
            })?);
        } else {
            match params.get(inner).and_then(scalar) {
                Some(value) => out.push_str(&value),
                None => out.push_str(&rest[start..start + 2 + end + 2]),
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn go_expression(inner: &str, params: &Value) -> Option<String> {
    let words: Vec<&str> = inner.split_whitespace().collect();
    match words.as_slice() {
        [reference] => scalar(go_field(reference, params)?),
        ["index", reference, index] => {
            let list = go_field(reference, params)?;
            scalar(list.get(index.parse::<usize>().ok()?)?)
        }
        _ => None,
    }
}

fn go_field<'a>(reference: &str, params: &'a Value) -> Option<&'a Value> {
    let path = reference.strip_prefix('.')?;
    path.split('.')
        .try_fold(params, |value, key| value.as_object()?.get(key))
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_templates_fill_flat_parameters() {
        let params = directory_params("apps/api/overlays/staging", false);
        assert_eq!(
            render(
                "api-{{path.basename}} {{ path[2] }} {{path}} {{unknown}}",
                &params,
                false
            )
            .unwrap(),
            "api-staging overlays apps/api/overlays/staging {{unknown}}"
        );
        let element = json!({"env": "prod", "replicas": 3});
        assert_eq!(
            render("{{env}}-{{replicas}}", &element, false).unwrap(),
            "prod-3"
        );
    }

    #[test]
    fn go_templates_fill_field_references_and_refuse_the_rest() {
        let params = directory_params("apps/web_Prod", true);
        assert_eq!(
            render("{{.path.basename}}/{{ .path.path }}/{{index .path.segments 0}}/{{.path.basenameNormalized}}", &params, true).unwrap(),
            "web_Prod/apps/web_Prod/apps/web-prod"
        );
        assert!(render("{{ .path.basename | upper }}", &params, true).is_err());
        assert!(render("{{ .missing }}", &params, true).is_err());
        assert_eq!(
            render("{{.name}}", &json!({"name": "x"}), true).unwrap(),
            "x"
        );
    }

    #[test]
    fn list_sets_expand_and_other_generators_are_named() {
        /// List generators read no directory.
        struct NoDirectories;
        impl Directories for NoDirectories {
            fn list(
                &mut self,
                _: &str,
                _: &Value,
                _: &dyn Fn(&str) -> bool,
            ) -> Result<Vec<String>, String> {
                Err("no directories here".into())
            }
        }
        let tree_less = |set: &Value| expand(set, &mut NoDirectories);
        let set = json!({
            "metadata": {"name": "shop", "namespace": "argocd"},
            "spec": {
                "generators": [{"list": {"elements": [{"env": "staging"}, {"env": "production"}]}}],
                "template": {"metadata": {"name": "shop-{{env}}"}, "spec": {"destination": {"namespace": "shop-{{env}}"}}}
            }
        });
        let apps = tree_less(&set).unwrap();
        assert_eq!(apps.len(), 2);
        assert_eq!(
            apps[1]["metadata"],
            json!({"name": "shop-production", "namespace": "argocd"})
        );
        assert_eq!(
            apps[1]["spec"]["destination"]["namespace"],
            "shop-production"
        );

        let mut clusters = set.clone();
        clusters["spec"]["generators"] = json!([{"clusters": {}}]);
        let error = tree_less(&clusters).unwrap_err();
        assert!(error.contains("`spec.generators[0].clusters`"), "{error}");

        let mut many = set.clone();
        let elements: Vec<Value> = (0..=MAX_GENERATED_APPLICATIONS)
            .map(|i| json!({"env": i}))
            .collect();
        many["spec"]["generators"] = json!([{"list": {"elements": elements}}]);
        let error = tree_less(&many).unwrap_err();
        assert!(error.contains("more than"), "{error}");
    }
}
