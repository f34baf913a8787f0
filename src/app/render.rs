//! `plumb render ENV`: an environment's desired objects as YAML, secrets as fingerprints — on
//! stdout, or one file per object under `--out-dir DIR`. The first two stages of the estate (read
//! and rendered, inventory built), then redaction only.

use super::estate::{open_tree, read_desired};
use super::{AppError, Context, environment, write_output};
use crate::cli::RenderFormat;
use crate::config::LoadedConfig;
use crate::exit::Exit;
use crate::inventory;
use crate::model::{Resource, ResourceId, Scopes};
use crate::names::check_path_part;
use crate::report::common::{visible_controls, visible_controls_keeping_lines};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

pub(super) fn render(
    context: &Context<'_>,
    config: &LoadedConfig,
    env: &str,
    git_ref: Option<&str>,
    format: RenderFormat,
    out_dir: Option<&Path>,
) -> Result<Exit, AppError> {
    if out_dir.is_some() && format == RenderFormat::Json {
        return Err(AppError::RenderOutDirJson);
    }
    let tree = open_tree(config, git_ref)?;
    let crate::desired::DesiredState {
        documents, errors, ..
    } = read_desired(context, config, &tree, env, false)?;
    let mut scopes = Scopes::default();
    scopes.learn_from_crds(documents.iter().map(|d| &d.value));
    let namespace = environment(config, env)?.namespace.clone();
    let mut inventory = inventory::build(env, documents, namespace.as_deref(), &scopes)?;
    for resource in inventory.resources.values_mut() {
        context.normalizer.redact(&mut resource.object);
    }
    for e in &errors {
        eprintln!(
            "plumb: incomplete: {} {}: {}",
            visible_controls(&e.env),
            visible_controls(e.source.as_deref().unwrap_or("")),
            visible_controls_keeping_lines(&e.message)
        );
    }
    match out_dir {
        Some(dir) => write_tree(dir, inventory.resources.values())?,
        // kubectl's `get -o json`: one List of the objects.
        None if format == RenderFormat::Json => {
            let items: Vec<&serde_json::Value> =
                inventory.resources.values().map(|r| &r.object).collect();
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
            let text = serde_json::to_string_pretty(&list).map_err(|e| AppError::Write {
                path: "stdout".into(),
                source: std::io::Error::other(e),
            })?;
            write_output(None, &(text + "\n"))?;
        }
        None => {
            let mut out = String::new();
            for resource in inventory.resources.values() {
                out.push_str("---\n");
                out.push_str(&crate::yaml::to_yaml(&resource.object));
            }
            write_output(None, &out)?;
        }
    }
    Ok(Exit::incomplete_if(!errors.is_empty()))
}

/// Writes each object to its file under `dir` (created if missing). Every part of a path passes
/// [`check_path_part`], the joined path must stay inside `dir`, a file is never written through a
/// symbolic link found inside `dir` (a planted `ns -> /etc`), and two objects never share a file.
/// A file left by an earlier render is replaced.
fn write_tree<'a>(
    dir: &Path,
    resources: impl Iterator<Item = &'a Resource>,
) -> Result<(), AppError> {
    std::fs::create_dir_all(dir).map_err(|source| AppError::Write {
        path: dir.display().to_string(),
        source,
    })?;
    let mut written: HashMap<PathBuf, &ResourceId> = HashMap::new();
    for resource in resources {
        let relative = relative_path(&resource.id)?;
        let path = dir.join(&relative);
        let refused = |reason: String| AppError::Refused {
            path: visible_controls(&path.display().to_string()),
            reason,
        };
        let inside = relative.components().count() == 2
            && relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
        if !inside {
            return Err(refused(format!(
                "{} would be written outside {}",
                visible_controls(&resource.id.to_string()),
                dir.display()
            )));
        }
        if let Some(first) = written.insert(relative.clone(), &resource.id) {
            return Err(refused(format!(
                "{} and {} would both be written to this file\n  help: rename one of them",
                visible_controls(&first.to_string()),
                visible_controls(&resource.id.to_string())
            )));
        }
        let folder = path.parent().unwrap_or(dir);
        real_directory(folder).map_err(|reason| AppError::Refused {
            path: folder.display().to_string(),
            reason,
        })?;
        create_fresh(&path, &crate::yaml::to_yaml(&resource.object)).map_err(|e| match e {
            Fresh::Refused(reason) => refused(reason),
            Fresh::Io(source) => AppError::Write {
                path: path.display().to_string(),
                source,
            },
        })?;
    }
    Ok(())
}

/// `<namespace>/<kind>[.<group>]-<name>.yaml` (no group for the core group, `_cluster` for
/// cluster-scoped objects), or why an identity cannot become a path.
fn relative_path(id: &ResourceId) -> Result<PathBuf, AppError> {
    let kind = id.kind.to_lowercase();
    let parts = [
        ("namespace", id.namespace.as_deref().unwrap_or("_cluster")),
        ("kind", kind.as_str()),
        ("name", id.name.as_str()),
    ]
    .into_iter()
    .chain((!id.group.is_empty()).then_some(("API group", id.group.as_str())));
    for (what, part) in parts {
        check_path_part(part).map_err(|reason| AppError::Refused {
            path: format!("the file of {}", visible_controls(&id.to_string())),
            reason: format!(
                "its {what} `{}` cannot be part of a file path: {reason}",
                visible_controls(part)
            ),
        })?;
    }
    let group = if id.group.is_empty() {
        String::new()
    } else {
        format!(".{}", id.group)
    };
    let folder = id.namespace.as_deref().unwrap_or("_cluster");
    Ok(Path::new(folder).join(format!("{kind}{group}-{}.yaml", id.name)))
}

/// Creates `folder` when missing; refuses anything there but a directory (a symbolic link to
/// elsewhere above all).
fn real_directory(folder: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(folder) {
        Ok(meta) if meta.file_type().is_symlink() => Err(
            "it is a symbolic link; plumb writes only inside the output directory\n  help: remove the link, or render into an empty directory".into(),
        ),
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err("it exists and is not a directory".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir(folder).map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}

enum Fresh {
    Refused(String),
    Io(std::io::Error),
}

/// Writes `text` to a file created here and now (`create_new`, which never follows a symbolic
/// link); a regular file of an earlier render is removed first, anything else is refused.
fn create_fresh(path: &Path, text: &str) -> Result<(), Fresh> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(Fresh::Refused(
                "it is a symbolic link; plumb writes only inside the output directory\n  help: remove the link, or render into an empty directory".into(),
            ));
        }
        Ok(meta) if meta.is_file() => std::fs::remove_file(path).map_err(Fresh::Io)?,
        Ok(_) => return Err(Fresh::Refused("it exists and is not a file".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Fresh::Io(e)),
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(Fresh::Io)?;
    file.write_all(text.as_bytes()).map_err(Fresh::Io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(group: &str, kind: &str, namespace: Option<&str>, name: &str) -> ResourceId {
        ResourceId {
            group: group.into(),
            kind: kind.into(),
            namespace: namespace.map(str::to_string),
            name: name.into(),
        }
    }

    #[test]
    fn paths_carry_the_group_except_for_the_core_group() {
        let path = |i: &ResourceId| relative_path(i).unwrap().display().to_string();
        assert_eq!(
            path(&id("", "ConfigMap", Some("shop"), "a")),
            "shop/configmap-a.yaml"
        );
        assert_eq!(
            path(&id("example.com", "ConfigMap", Some("shop"), "a")),
            "shop/configmap.example.com-a.yaml"
        );
        assert_eq!(
            path(&id(
                "rbac.authorization.k8s.io",
                "ClusterRole",
                None,
                "system:x"
            )),
            "_cluster/clusterrole.rbac.authorization.k8s.io-system:x.yaml"
        );
    }

    #[test]
    fn identities_that_would_leave_the_directory_are_refused() {
        for bad in [
            id("", "ConfigMap", Some("/etc"), "a"),
            id("", "ConfigMap", Some(".."), "a"),
            id("", "ConfigMap", Some("shop"), "../../x"),
            id("", "ConfigMap", Some("shop"), "a\\b"),
            id("", "../x", Some("shop"), "a"),
            id("a/b", "ConfigMap", Some("shop"), "a"),
            id("", "ConfigMap", Some("shop"), "a\0"),
        ] {
            assert!(relative_path(&bad).is_err(), "{bad:?}");
        }
    }
}
