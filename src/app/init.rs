//! `plumb init`: a starting `plumb.yaml` from what a repository already says about its
//! environments — Kustomize overlays under `*/overlays/<env>`, folders under `envs/<env>` or
//! `environments/<env>`, Helm `values-<env>.yaml` files beside a chart, Flux `Kustomization` and
//! `HelmRelease` objects under `clusters/<env>/`, and Argo CD `Application` objects. The user then
//! edits it: namespaces, live state, parity maps.

use super::{AppError, write_output};
use crate::config::FILE_NAME;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A source found for an environment, as plumb.yaml writes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Found {
    Manifests(String),
    Kustomize(String),
    Helm { chart: String, values: Vec<String> },
}

const KUSTOMIZATIONS: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

pub fn init(root: &Path, force: bool, output: Option<&Path>) -> Result<u8, AppError> {
    let target = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.join(FILE_NAME));
    let to_stdout = output == Some(Path::new("-"));
    if !to_stdout && target.exists() && !force {
        return Err(AppError::ConfigExists {
            path: target.display().to_string(),
        });
    }
    let files = walk(root);
    let mut envs: BTreeMap<String, Vec<Found>> = BTreeMap::new();
    let mut add = |env: &str, found: Found| {
        let sources = envs.entry(env.to_string()).or_default();
        if !sources.contains(&found) {
            sources.push(found);
        }
    };
    let relative = |p: &Path| -> String {
        p.strip_prefix(root)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/")
    };
    for file in &files {
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
            add(env, Found::Kustomize(relative(dir)));
        }
        // <chart>/values-<env>.yaml beside a Chart.yaml
        if let Some(env) = name
            .strip_prefix("values-")
            .and_then(|n| n.strip_suffix(".yaml").or_else(|| n.strip_suffix(".yml")))
            && dir.join("Chart.yaml").is_file()
        {
            let mut values = Vec::new();
            if dir.join("values.yaml").is_file() {
                values.push(relative(&dir.join("values.yaml")));
            }
            values.push(relative(file));
            add(
                env,
                Found::Helm {
                    chart: relative(dir),
                    values,
                },
            );
        }
        // envs/<env>/*.yaml, environments/<env>/*.yaml: plain manifests (or a kustomization);
        // values files kept there are not manifests.
        if let Some(env_dir) = ancestor_under(file, root, &["envs", "environments"])
            && (KUSTOMIZATIONS.contains(&name) || is_manifest(file))
        {
            let env = env_dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let source = if KUSTOMIZATIONS.iter().any(|k| env_dir.join(k).is_file()) {
                Found::Kustomize(relative(&env_dir))
            } else {
                Found::Manifests(relative(&env_dir))
            };
            add(&env, source);
        }
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            for (env, found) in from_objects(file, root) {
                add(&env, found);
            }
        }
    }
    if envs.is_empty() {
        return Err(AppError::NothingToInit {
            root: root.display().to_string(),
        });
    }
    let text = render_config(&envs, root);
    if to_stdout {
        write_output(None, &text)?;
    } else {
        std::fs::write(&target, &text).map_err(|source| AppError::Write {
            path: target.display().to_string(),
            source,
        })?;
        eprintln!(
            "plumb: wrote {} with {} environment(s): {}\n  next: set each environment's namespace and live state, then run `plumb audit`",
            target.display(),
            envs.len(),
            envs.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(0)
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

/// The `<env>` folder when `file` is below `<root>/…/<one of names>/<env>/`.
fn ancestor_under(file: &Path, root: &Path, names: &[&str]) -> Option<PathBuf> {
    let mut current = file.parent()?;
    while current.starts_with(root) && current != root {
        let parent = current.parent()?;
        if parent
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| names.contains(&n))
        {
            return Some(current.to_path_buf());
        }
        current = parent;
    }
    None
}

/// Sources that Flux and Argo CD objects in `file` point at, by environment.
fn from_objects(file: &Path, root: &Path) -> Vec<(String, Found)> {
    let Ok(text) = crate::input_file::read_text(file, crate::input_file::InputKind::Manifest)
    else {
        return Vec::new();
    };
    if !(text.contains("toolkit.fluxcd.io") || text.contains("argoproj.io")) {
        return Vec::new();
    }
    let Ok(documents) = crate::yaml::parse_documents(&text, &file.display().to_string()) else {
        return Vec::new();
    };
    // Flux keeps each cluster's objects under clusters/<env>/.
    let cluster_env = ancestor_under(file, root, &["clusters"])
        .and_then(|d| d.file_name().and_then(|n| n.to_str()).map(str::to_string));
    let mut out = Vec::new();
    for document in documents {
        let o = &document.value;
        let api = o["apiVersion"].as_str().unwrap_or("");
        let kind = o["kind"].as_str().unwrap_or("");
        let local = |path: &str| {
            let path = path.trim_start_matches("./").trim_end_matches('/');
            (!path.is_empty() && root.join(path).is_dir()).then(|| path.to_string())
        };
        if api.starts_with("kustomize.toolkit.fluxcd.io/") && kind == "Kustomization" {
            // `path` is relative to the source artifact; in a monorepo that is often the folder
            // named like the source (`sourceRef: {name: apps}`, `path: ./staging` → apps/staging).
            let spec_path = o["spec"]["path"].as_str().unwrap_or("");
            let path = local(spec_path).or_else(|| {
                let source = o["spec"]["sourceRef"]["name"].as_str()?;
                local(&format!("{source}/{}", spec_path.trim_start_matches("./")))
            });
            let (Some(env), Some(path)) = (cluster_env.clone(), path) else {
                continue;
            };
            let is_kustomization = KUSTOMIZATIONS
                .iter()
                .any(|k| root.join(&path).join(k).is_file());
            out.push((
                env,
                if is_kustomization {
                    Found::Kustomize(path)
                } else {
                    Found::Manifests(path)
                },
            ));
        } else if api.starts_with("argoproj.io/") && kind == "Application" {
            let source = &o["spec"]["source"];
            let Some(path) = source["path"].as_str().and_then(local) else {
                continue;
            };
            let name = o["metadata"]["name"].as_str().unwrap_or("");
            let env = o["spec"]["destination"]["namespace"]
                .as_str()
                .and_then(env_word)
                .or_else(|| env_word(name))
                .unwrap_or(name)
                .to_string();
            let found = if root.join(&path).join("Chart.yaml").is_file() {
                let values = source["helm"]["valueFiles"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str())
                    .map(|v| format!("{path}/{v}"))
                    .collect();
                Found::Helm {
                    chart: path,
                    values,
                }
            } else if KUSTOMIZATIONS
                .iter()
                .any(|k| root.join(&path).join(k).is_file())
            {
                Found::Kustomize(path)
            } else {
                Found::Manifests(path)
            };
            out.push((env, found));
        }
    }
    out
}

/// The environment a name speaks of: `shop-staging` → `staging`.
fn env_word(name: &str) -> Option<&str> {
    [
        "production",
        "staging",
        "prod",
        "stage",
        "dev",
        "qa",
        "test",
    ]
    .into_iter()
    .find(|word| name.split(['-', '_', '.']).any(|part| part == *word))
}

fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(listing) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in listing.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "target" || name == "node_modules" {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The one namespace an environment's Kustomize sources set (`namespace:` in the kustomization).
fn kustomize_namespace(root: &Path, sources: &[Found]) -> Option<String> {
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

fn render_config(envs: &BTreeMap<String, Vec<Found>>, root: &Path) -> String {
    let mut out = String::from(
        "# Written by `plumb init` from what this repository says about its environments.\n\
         # Check each environment's sources, set its namespace and live state (live.context or\n\
         # live.snapshot), and the parity pairs' namespace maps. docs/config.md has every key.\n\
         version: 1\nenvironments:\n",
    );
    for (env, sources) in envs {
        let _ = writeln!(out, "  {}:", yaml_key(env));
        let _ = writeln!(out, "    sources:");
        let mut sources = sources.clone();
        sources.sort();
        for source in sources {
            match source {
                Found::Manifests(path) => {
                    let _ = writeln!(out, "      - manifests: {}", quote(&path));
                }
                Found::Kustomize(path) => {
                    let _ = writeln!(out, "      - kustomize: {}", quote(&path));
                }
                Found::Helm { chart, values } => {
                    let release = chart.rsplit('/').next().unwrap_or(&chart).to_string();
                    let _ = writeln!(out, "      - helm:");
                    let _ = writeln!(out, "          chart: {}", quote(&chart));
                    let _ = writeln!(out, "          release: {}", quote(&release));
                    let values: Vec<String> = values.iter().map(|v| quote(v)).collect();
                    let _ = writeln!(out, "          values: [{}]", values.join(", "));
                }
            }
        }
    }
    let names: Vec<&String> = envs.keys().collect();
    let pick = |candidates: &[&str]| {
        candidates
            .iter()
            .find(|c| envs.contains_key(**c))
            .map(|c| c.to_string())
    };
    let pair = match (pick(&["staging", "stage"]), pick(&["production", "prod"])) {
        (Some(a), Some(b)) => Some((a, b)),
        _ if names.len() == 2 => Some((names[0].clone(), names[1].clone())),
        _ => None,
    };
    if let Some((left, right)) = pair {
        let _ = writeln!(
            out,
            "parity:\n  - between: [{}, {}]",
            yaml_key(&left),
            yaml_key(&right)
        );
        let namespaces = (
            kustomize_namespace(root, &envs[&left]),
            kustomize_namespace(root, &envs[&right]),
        );
        match namespaces {
            (Some(a), Some(b)) if a != b => {
                let _ = writeln!(
                    out,
                    "    namespaces: {{{}: {}}}",
                    yaml_key(&a),
                    yaml_key(&b)
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "    # namespaces: {{{left}-namespace: {right}-namespace}}"
                );
            }
        }
    }
    out
}

fn yaml_key(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        text.to_string()
    } else {
        quote(text)
    }
}

fn quote(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}
