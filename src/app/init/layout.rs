//! Environments that folder layouts describe, for `plumb init`: Kustomize overlays under
//! `*/overlays/<env>`, folders under `envs/<env>` or `environments/<env>`, Helm
//! `values-<env>.yaml` beside a chart (docs/sources.md, "`plumb init`").

use super::{Found, Here};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub(super) const KUSTOMIZATIONS: &[&str] =
    &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Every file below `root`, in path order, leaving out hidden entries, build output and
/// symbolic links (a link to a parent directory would walk forever; plumb reads Git, where a
/// link is no directory).
pub(super) fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(listing) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in listing.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "target" || name == "node_modules" {
                continue;
            }
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(entry.path()),
                Ok(kind) if kind.is_file() => out.push(entry.path()),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// The folder-layout sources of each environment. Files holding controller objects
/// (`controller_files`) are no evidence of plain manifests: they are `argocd:`/`flux:` sources.
pub(super) fn find(
    here: &Here,
    files: &[PathBuf],
    controller_files: &BTreeSet<&str>,
) -> Vec<(String, Found)> {
    let mut out: Vec<(String, Found)> = Vec::new();
    let mut add = |env: &str, found: Found| {
        let entry = (env.to_string(), found);
        if !out.contains(&entry) {
            out.push(entry);
        }
    };
    for file in files {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some(dir) = file.parent() else { continue };
        let parent_name = |d: &Path| {
            d.parent()
                .and_then(|p| p.file_name())
                .and_then(|n| n.to_str())
                .map(str::to_string)
        };
        // overlays/<env>/kustomization.yaml
        if KUSTOMIZATIONS.contains(&name)
            && parent_name(dir).as_deref() == Some("overlays")
            && let Some(env) = dir.file_name().and_then(|n| n.to_str())
        {
            add(env, Found::Kustomize(here.relative(dir)));
        }
        // <chart>/values-<env>.yaml beside a Chart.yaml
        if let Some(env) = name
            .strip_prefix("values-")
            .and_then(|n| n.strip_suffix(".yaml").or_else(|| n.strip_suffix(".yml")))
            && dir.join("Chart.yaml").is_file()
        {
            let mut values = Vec::new();
            if dir.join("values.yaml").is_file() {
                values.push(here.relative(&dir.join("values.yaml")));
            }
            values.push(here.relative(file));
            add(
                env,
                Found::Helm {
                    chart: here.relative(dir),
                    values,
                },
            );
        }
        // envs/<env>/*.yaml, environments/<env>/*.yaml: plain manifests (or a kustomization);
        // values files kept there are not manifests, nor are controller objects.
        let relative = here.relative(file);
        if let Some(env_dir) = super::folder_under(&relative, &["envs", "environments"])
            && !controller_files.contains(relative.as_str())
            && (KUSTOMIZATIONS.contains(&name) || is_manifest(file))
        {
            let env = env_dir.rsplit('/').next().unwrap_or(&env_dir).to_string();
            let source = if KUSTOMIZATIONS
                .iter()
                .any(|k| here.root.join(&env_dir).join(k).is_file())
            {
                Found::Kustomize(env_dir)
            } else {
                Found::Manifests(env_dir)
            };
            add(&env, source);
        }
    }
    out
}

/// Does `file` hold a Kubernetes object (a top-level `apiVersion` and `kind`)?
fn is_manifest(file: &Path) -> bool {
    let Ok(text) = crate::input_file::read_text(file, crate::input_file::InputKind::Manifest)
    else {
        return false;
    };
    let starts = |key: &str| text.lines().any(|line| line.starts_with(key));
    starts("apiVersion:") && starts("kind:")
}

/// The one namespace an environment's Kustomize sources set (`namespace:` in the kustomization).
pub(super) fn kustomize_namespace(root: &Path, sources: &[Found]) -> Option<String> {
    let mut found: Option<String> = None;
    for source in sources {
        let Found::Kustomize(path) = source else {
            continue;
        };
        let text = KUSTOMIZATIONS.iter().find_map(|k| {
            crate::input_file::read_text(
                &root.join(path).join(k),
                crate::input_file::InputKind::Manifest,
            )
            .ok()
        })?;
        let value: Value = crate::yaml::from_str(&text, path).ok()?;
        let namespace = value["namespace"].as_str()?.to_string();
        match &found {
            Some(other) if *other != namespace => return None,
            _ => found = Some(namespace),
        }
    }
    found
}
