//! The text of the plumb.yaml `plumb init` writes: what it found, what it guessed and what
//! plumb cannot follow said in comments, every environment in a promotion edge or a parity pair.

use super::layout::kustomize_namespace;
use super::promotion::{guess_upstreams, promotion_order, stage_of};
use super::repositories::ThisRepository;
use super::{Findings, Found, Here};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub(super) fn render_config(here: &Here, findings: &Findings, this: &ThisRepository) -> String {
    let envs = &findings.sources;
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
            "# `{}` is no stage plumb knows by name: compared with `{}` as a peer. Give it\n\
             # an `upstream:` if changes reach it from another environment.",
            one_line(peer),
            one_line(anchor)
        );
    }
    if !findings.left_out.is_empty() {
        let _ = writeln!(
            out,
            "# Left out, as Argo CD or Flux objects below already read them: {}.",
            findings
                .left_out
                .iter()
                .map(|(env, found)| format!("{} ({})", one_line(found.path()), one_line(env)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for warning in findings.warnings.iter().filter(|w| w.env.is_none()) {
        let _ = writeln!(out, "# plumb cannot follow: {}", one_line(&warning.text));
    }
    out.push_str("version: 1\n");
    write_repositories(&mut out, findings, this);
    out.push_str("environments:\n");
    for env in &order {
        let _ = writeln!(out, "  {}:", yaml_key(env));
        for warning in findings
            .warnings
            .iter()
            .filter(|w| w.env.as_deref() == Some(env.as_str()))
        {
            let _ = writeln!(
                out,
                "    # plumb cannot follow: {}",
                one_line(&warning.text)
            );
        }
        if let Some(up) = upstream.get(env) {
            let _ = writeln!(out, "    upstream: {}", yaml_key(up));
        }
        let _ = writeln!(out, "    sources:");
        let mut sources = envs[env].clone();
        sources.sort();
        for source in sources {
            write_source(&mut out, &source);
        }
    }
    write_pairs(&mut out, here, findings, &order, &upstream, peers);
    out
}

/// `repositories:` when controller objects are followed: the `origin` remote's URLs, else the
/// ones guessed, each said.
fn write_repositories(out: &mut String, findings: &Findings, this: &ThisRepository) {
    let controllers = findings
        .sources
        .values()
        .flatten()
        .any(Found::is_controller);
    if !controllers {
        return;
    }
    let urls = this.urls();
    if urls.is_empty() {
        out.push_str(
            "# repositories: [URL]  # no `origin` remote: list the URLs Argo CD and Flux use for this\n\
             #   repository, so that plumb follows their sources here\n",
        );
        return;
    }
    if this.origin.is_empty() {
        out.push_str(
            "# No `origin` remote: these URLs are guessed from the Argo CD and Flux objects whose\n\
             # paths exist here. Check them: plumb follows the sources of these repositories only.\n",
        );
    } else {
        out.push_str(
            "# This repository's own URLs (its `origin` remote): Argo CD and Flux sources naming\n\
             # them are followed here.\n",
        );
    }
    let quoted: Vec<String> = urls.iter().map(|u| quote(u)).collect();
    let _ = writeln!(out, "repositories: [{}]", quoted.join(", "));
}

fn write_source(out: &mut String, source: &Found) {
    match source {
        Found::Manifests(path) => {
            let _ = writeln!(out, "      - manifests: {}", quote(path));
        }
        Found::Kustomize(path) => {
            let _ = writeln!(out, "      - kustomize: {}", quote(path));
        }
        Found::Helm { chart, values } => {
            let release = chart.rsplit('/').next().unwrap_or(chart).to_string();
            let _ = writeln!(out, "      - helm:");
            let _ = writeln!(out, "          chart: {}", quote(chart));
            let _ = writeln!(out, "          release: {}", quote(&release));
            let values: Vec<String> = values.iter().map(|v| quote(v)).collect();
            let _ = writeln!(out, "          values: [{}]", values.join(", "));
        }
        Found::Argocd { file, name } => {
            let _ = writeln!(out, "      - argocd: {}", quote(file));
            if let Some(name) = name {
                let _ = writeln!(out, "        name: {}", quote(name));
            }
        }
        Found::Flux(path) => {
            let _ = writeln!(out, "      - flux: {}", quote(path));
        }
    }
}

/// Each edge and peer pair, with the namespace map the environments' single namespaces give
/// (Kustomize's `namespace:`, else Argo CD's `destination.namespace`); an edge is written only
/// when it has a map (an edge is a pair without an entry).
fn write_pairs(
    out: &mut String,
    here: &Here,
    findings: &Findings,
    order: &[String],
    upstream: &BTreeMap<String, String>,
    peers: Vec<(String, String)>,
) {
    let namespace = |env: &String| {
        kustomize_namespace(&here.root, &findings.sources[env]).or_else(|| {
            let namespaces = findings.namespaces.get(env)?;
            (namespaces.len() == 1).then(|| namespaces.iter().next().cloned())?
        })
    };
    let mut entries = String::new();
    let edges = order
        .iter()
        .filter_map(|down| Some((upstream.get(down)?.clone(), down.clone())));
    for (edge, (left, right)) in edges
        .map(|p| (true, p))
        .chain(peers.into_iter().map(|p| (false, p)))
    {
        let map = match (namespace(&left), namespace(&right)) {
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
                    "    # namespaces: {{{}-namespace: {}-namespace}}",
                    one_line(&left),
                    one_line(&right)
                );
            }
        }
    }
    if !entries.is_empty() {
        out.push_str("parity:\n");
        out.push_str(&entries);
    }
}

/// Text for a comment: control characters (a line break in a file name would end the comment
/// and start YAML) written as escapes.
pub(super) fn one_line(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn yaml_key(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !text.is_empty()
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

    #[test]
    fn comments_stay_one_line() {
        assert_eq!(one_line("a\nversion: 2"), "a\\nversion: 2");
        assert_eq!(yaml_key("prod eu"), "\"prod eu\"");
        assert_eq!(yaml_key(""), "\"\"");
    }
}
