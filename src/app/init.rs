//! `plumb init`: a starting `plumb.yaml` from what a repository already says about its
//! environments — Kustomize overlays under `*/overlays/<env>`, folders under `envs/<env>` or
//! `environments/<env>`, Helm `values-<env>.yaml` files beside a chart, Flux `Kustomization` and
//! `HelmRelease` objects under `clusters/<env>/`, and Argo CD `Application` objects. The user then
//! edits it: namespaces, live state, parity maps.

use super::{AppError, write_output};
use crate::config::FILE_NAME;
use crate::exit::Exit;
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

pub fn init(root: &Path, force: bool, output: Option<&Path>) -> Result<Exit, AppError> {
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
    Ok(Exit::Clean)
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

/// Where a name places an environment in promotion: its stage (0 dev, 1 test, 2 staging, 3
/// production) and the region that keeps its own branch (`staging-eu` → (2, "eu")).
fn stage_of(name: &str) -> Option<(u8, String)> {
    let lower = name.to_ascii_lowercase();
    let lower = lower
        .strip_prefix("pre-")
        .or_else(|| lower.strip_prefix("pre_"))
        .map(|rest| format!("preprod{}", rest.strip_prefix("prod").unwrap_or(rest)))
        .unwrap_or(lower);
    let stage = |word: &str| match word {
        "dev" | "develop" | "development" => Some(0),
        "test" | "testing" | "qa" | "int" | "integration" | "load" | "perf" => Some(1),
        "stage" | "staging" | "stg" | "uat" | "preprod" => Some(2),
        "prod" | "production" | "prd" | "live" => Some(3),
        _ => None,
    };
    let parts: Vec<&str> = lower.split(['-', '_']).filter(|p| !p.is_empty()).collect();
    let (first, last) = (parts.first()?, parts.last()?);
    if let Some(s) = stage(first) {
        return Some((s, parts[1..].join("-")));
    }
    stage(last).map(|s| (s, parts[..parts.len() - 1].join("-")))
}

/// The promotion edges the names suggest: each environment's upstream is the environment of the
/// nearest earlier stage in its own region, else one without a region, else any.
fn guess_upstreams(names: &[String]) -> BTreeMap<String, String> {
    let staged: Vec<(&String, u8, String)> = names
        .iter()
        .filter_map(|n| stage_of(n).map(|(s, r)| (n, s, r)))
        .collect();
    let mut upstream = BTreeMap::new();
    for (name, stage, region) in &staged {
        let earlier = |keep: &dyn Fn(&str) -> bool| {
            staged
                .iter()
                .filter(|(_, s, r)| s < stage && keep(r))
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
                .map(|(n, _, _)| (*n).clone())
        };
        let found = earlier(&|r| r == region.as_str())
            .or_else(|| earlier(&|r| r.is_empty()))
            .or_else(|| earlier(&|_| true));
        if let Some(up) = found {
            upstream.insert((*name).clone(), up);
        }
    }
    upstream
}

fn render_config(envs: &BTreeMap<String, Vec<Found>>, root: &Path) -> String {
    let names: Vec<String> = envs.keys().cloned().collect();
    let upstream = guess_upstreams(&names);
    // Environments no edge reaches: peers of the latest-stage environment, else of each other.
    let in_edges = |n: &String| upstream.contains_key(n) || upstream.values().any(|u| u == n);
    let last_stage = names
        .iter()
        .filter(|n| in_edges(n))
        .filter_map(|n| stage_of(n).map(|(s, _)| (s, n)))
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(a.1)))
        .map(|(_, n)| n.clone());
    let loose: Vec<&String> = names.iter().filter(|n| !in_edges(n)).collect();
    let mut peers: Vec<(String, String)> = Vec::new();
    match &last_stage {
        Some(anchor) => peers.extend(loose.iter().map(|n| (anchor.clone(), (*n).clone()))),
        None => peers.extend(loose.windows(2).map(|w| (w[0].clone(), w[1].clone()))),
    }
    let order = promotion_order(&names, &upstream);
    let mut out = String::from(
        "# Written by `plumb init` from what this repository says about its environments.\n\
         # Check each environment's sources, set its namespace and live state (live.context or\n\
         # live.snapshot), and the parity pairs' namespace maps. docs/config.md has every key.\n",
    );
    if !upstream.is_empty() {
        let _ = writeln!(
            out,
            "# Promotion order guessed from the environment names (dev, test/qa, staging/uat,\n\
             # prod; a region suffix keeps its own branch): {}. Check each `upstream:`.",
            upstream
                .iter()
                .map(|(down, up)| format!("{up} → {down}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for (anchor, peer) in &peers {
        let _ = writeln!(
            out,
            "# `{peer}` is no stage plumb knows by name: compared with `{anchor}` as a peer. Give it\n\
             # an `upstream:` if changes reach it from another environment."
        );
    }
    out.push_str("version: 1\nenvironments:\n");
    for env in &order {
        let sources = &envs[env];
        let _ = writeln!(out, "  {}:", yaml_key(env));
        if let Some(up) = upstream.get(env) {
            let _ = writeln!(out, "    upstream: {}", yaml_key(up));
        }
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
    // Each edge and peer pair, with the namespace map the overlays' namespaces give (edges only
    // when there is one to write: an edge is a pair without an entry).
    let mut entries = String::new();
    let edges = order
        .iter()
        .filter_map(|down| Some((upstream.get(down)?.clone(), down.clone())));
    for (edge, (left, right)) in edges
        .map(|p| (true, p))
        .chain(peers.into_iter().map(|p| (false, p)))
    {
        let namespaces = (
            kustomize_namespace(root, &envs[&left]),
            kustomize_namespace(root, &envs[&right]),
        );
        let map = match namespaces {
            (Some(a), Some(b)) if a != b => Some(format!("{{{}: {}}}", yaml_key(&a), yaml_key(&b))),
            _ => None,
        };
        if edge && map.is_none() {
            continue;
        }
        let _ = writeln!(
            entries,
            "  - between: [{}, {}]",
            yaml_key(&left),
            yaml_key(&right)
        );
        match map {
            Some(map) => {
                let _ = writeln!(entries, "    namespaces: {map}");
            }
            None => {
                let _ = writeln!(
                    entries,
                    "    # namespaces: {{{left}-namespace: {right}-namespace}}"
                );
            }
        }
    }
    if !entries.is_empty() {
        out.push_str("parity:\n");
        out.push_str(&entries);
    }
    out
}

/// `names` in promotion order under `upstream`: stage by stage from the roots, names in order
/// within a stage, then the rest.
fn promotion_order(names: &[String], upstream: &BTreeMap<String, String>) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    let mut stage: Vec<String> = names
        .iter()
        .filter(|n| !upstream.contains_key(*n) && upstream.values().any(|u| u == *n))
        .cloned()
        .collect();
    while !stage.is_empty() {
        order.extend(stage.iter().cloned());
        stage = names
            .iter()
            .filter(|n| !order.contains(n) && upstream.get(*n).is_some_and(|u| stage.contains(u)))
            .cloned()
            .collect();
    }
    let rest: Vec<String> = names
        .iter()
        .filter(|n| !order.contains(n))
        .cloned()
        .collect();
    order.extend(rest);
    order
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn stages_and_regions_come_from_the_usual_names() {
        assert_eq!(stage_of("dev"), Some((0, String::new())));
        assert_eq!(stage_of("QA"), Some((1, String::new())));
        assert_eq!(stage_of("staging-eu"), Some((2, "eu".into())));
        assert_eq!(stage_of("eu-prod"), Some((3, "eu".into())));
        assert_eq!(stage_of("pre-prod"), Some((2, String::new())));
        assert_eq!(stage_of("production"), Some((3, String::new())));
        assert_eq!(stage_of("sandbox"), None);
    }

    #[test]
    fn regions_keep_their_own_branch() {
        let envs = names(&[
            "dev",
            "prod-eu",
            "prod-us",
            "qa",
            "staging-eu",
            "staging-us",
        ]);
        let up = guess_upstreams(&envs);
        let edges: Vec<String> = up.iter().map(|(d, u)| format!("{u}->{d}")).collect();
        assert_eq!(
            edges,
            [
                "staging-eu->prod-eu",
                "staging-us->prod-us",
                "dev->qa",
                "qa->staging-eu",
                "qa->staging-us"
            ]
        );
        assert_eq!(
            promotion_order(&envs, &up),
            [
                "dev",
                "qa",
                "staging-eu",
                "staging-us",
                "prod-eu",
                "prod-us"
            ]
        );
    }
}
