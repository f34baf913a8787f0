//! The views over a loaded estate: drift of one environment, parity of one pair, the checks of
//! one environment. A command names its views; [`prepare`] has the estate make what they read,
//! each once, and [`run`] runs them in parallel, each returning a partial [`Report`] the command
//! merges into its own. A view reads what the estate loaded and never loads anything itself.

use super::estate::{Estate, Need, Side};
use super::{AppError, Context, Project};
use crate::compare::equivalents::Equivalents;
use crate::compare::made_by_cluster;
use crate::compare::pairing::Mapping;
use crate::compare::parity::Sides as PairSides;
use crate::compare::promotion;
use crate::compare::{Difference, FindingKind};
use crate::config::Pair;
use crate::model::{Inventory, Owner, RunError};
use crate::pipeline::{self, DeclaredSource, DriftScope, Judged};
use crate::policy::{Place, Scope};
use crate::report::{EnvironmentInput, Report};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// One view of a command over its estate.
#[derive(Clone, Copy)]
pub enum View<'a> {
    Drift(&'a str),
    Parity { pair: &'a Pair, live: bool },
    Checks(&'a str, Checked),
}

impl<'a> View<'a> {
    /// What the view reads, for [`Estate::prepare`].
    fn needs(&self, project: &'a Project, estate: &Estate) -> Result<Vec<Need<'a>>, AppError> {
        Ok(match *self {
            View::Drift(env) => drift_needs(project, env).to_vec(),
            View::Parity { pair, live } => parity_needs(project, pair, live).to_vec(),
            View::Checks(env, checked) => checks_needs(project, estate, env, checked)?,
        })
    }

    fn run(&self, project: &Project, estate: &Estate) -> Result<Report, AppError> {
        match *self {
            View::Drift(env) => drift(project, estate, env),
            View::Parity { pair, live } => parity(project, estate, pair, live),
            View::Checks(env, checked) => checks(project, estate, env, checked),
        }
    }
}

/// Has the estate prepare what `views` read, and `more` besides (a command's own comparison), each
/// once: the histories of the upstream environments of the edges they compare (promotion order),
/// then the prepared inventories.
pub fn prepare<'a>(
    context: &Context<'_>,
    project: &'a Project,
    estate: &mut Estate,
    views: &[View<'a>],
    more: &[Need<'a>],
) -> Result<(), AppError> {
    let mut upstreams: Vec<String> = Vec::new();
    for view in views {
        if let View::Parity { pair, live: false } = view
            && pair.edge
            && !upstreams.contains(&pair.left)
        {
            upstreams.push(pair.left.clone());
        }
    }
    estate.read_histories(context, &project.config, &upstreams)?;
    let mut needs = more.to_vec();
    for view in views {
        needs.extend(view.needs(project, estate)?);
    }
    estate.prepare(&needs)
}

/// Runs `views` over a prepared estate, in parallel: their reports, in order.
pub fn run(
    project: &Project,
    estate: &Estate,
    views: &[View<'_>],
) -> Result<Vec<Report>, AppError> {
    views
        .par_iter()
        .map(|view| view.run(project, estate))
        .collect()
}

/// What [`drift`] of `env` reads: its desired and live state, drift's noise out.
fn drift_needs<'a>(project: &'a Project, env: &'a str) -> [Need<'a>; 2] {
    [Side::Desired, Side::Live].map(|side| Need {
        env,
        side,
        scope: Scope::Drift,
        policies: &project.policies,
    })
}

/// Drift of `env`: its desired state against its live state.
fn drift(project: &Project, estate: &Estate, env: &str) -> Result<Report, AppError> {
    let loaded = estate.env(env)?;
    let live = loaded.live.as_ref().ok_or_else(|| AppError::NoLiveState {
        env: env.to_string(),
        config: project.config.path.display().to_string(),
    })?;
    let policies = &project.policies;
    let [desired_need, live_need] = drift_needs(project, env);
    let desired = estate.prepared(&desired_need)?;
    let live_inventory = estate.prepared(&live_need)?;
    let configured = project.environment(env)?.live.clone().unwrap_or_default();
    let namespaces: BTreeSet<String> = if !configured.namespaces.is_empty() {
        configured.namespaces.iter().cloned().collect()
    } else if let Some(ns) = &live.namespaces {
        ns.iter().cloned().collect()
    } else {
        desired.namespaces()
    };
    let mut errors: Vec<RunError> = loaded.errors.clone();
    errors.extend(live.errors.iter().cloned());
    let mut scope = DriftScope {
        namespaces,
        field_managers: configured.field_managers.clone(),
        ..Default::default()
    };
    for e in &errors {
        // Fingerprints made under another key: the Secrets were seen, only their values cannot
        // be compared.
        if e.kind == "fingerprint" {
            scope.skip_secret_values = true;
            continue;
        }
        if let Some(kind) = &e.resource {
            let (group, kind) = kind.rsplit_once('/').unwrap_or(("", kind));
            scope
                .unseen_kinds
                .insert((group.to_string(), kind.to_string()));
        }
    }
    for declared in &loaded.owners {
        let entry = scope
            .owners
            .entry(declared.owner.clone())
            .or_insert_with(|| DeclaredSource {
                source: declared.source.clone(),
                rendered: true,
            });
        // An owner two sources declare is judged only while both rendered.
        if declared.failed {
            *entry = DeclaredSource {
                source: declared.source.clone(),
                rendered: false,
            };
        }
    }
    scope.failed_sources = loaded
        .errors
        .iter()
        .filter(|e| e.kind == "render")
        .filter_map(|e| e.source.clone())
        .fold(Vec::new(), |mut sources, source| {
            if !sources.contains(&source) {
                sources.push(source);
            }
            sources
        });
    let drift = if live.unreachable() {
        pipeline::Drift::default()
    } else {
        pipeline::drift(&desired, &live_inventory, &scope)
    };
    // A source with several render errors: its count goes on the first.
    let mut counted = BTreeSet::new();
    for error in errors.iter_mut().filter(|e| e.kind == "render") {
        if let Some(source) = &error.source
            && !live.unreachable()
            && counted.insert(source.clone())
        {
            error.unjudged = Some(drift.unjudged.get(source).copied().unwrap_or(0));
        }
    }
    let mut report = partial("drift");
    if drift.managed_elsewhere > 0 {
        report
            .summary
            .managed_elsewhere
            .insert(env.to_string(), drift.managed_elsewhere);
    }
    report.inputs.environments.push(EnvironmentInput {
        name: env.to_string(),
        live: Some(live.source.clone()),
        drift: true,
        ..Default::default()
    });
    report
        .summary
        .resources
        .insert(env.to_string(), desired.len());
    report
        .summary
        .live_resources
        .insert(env.to_string(), live_inventory.len());
    let envs = [env];
    let place = Place::of(&envs);
    // Rules the environment's sources declare for their own objects come first.
    let declared;
    let judging = if loaded.drift_rules.is_empty() {
        policies
    } else {
        declared = policies.preceded_by(env, loaded.drift_rules.clone());
        &declared
    };
    add_judged(
        &mut report,
        pipeline::judge(drift.differences, judging, &place),
        &envs,
    );
    report.errors.extend(errors);
    Ok(report)
}

/// What [`parity`] of `pair` reads: both environments' desired (or live) state, parity's noise
/// out by the pair's policies.
fn parity_needs<'a>(project: &'a Project, pair: &'a Pair, live: bool) -> [Need<'a>; 2] {
    let side = if live { Side::Live } else { Side::Desired };
    [pair.left.as_str(), pair.right.as_str()].map(|env| Need {
        env,
        side,
        scope: Scope::Parity,
        policies: project.policies_for(pair),
    })
}

/// Parity of `pair`: desired against desired, or live against live (what the clusters make
/// themselves left out: their names are generated per cluster, so they never pair).
fn parity(project: &Project, estate: &Estate, pair: &Pair, live: bool) -> Result<Report, AppError> {
    let policies = project.policies_for(pair);
    let (left, right) = (pair.left.as_str(), pair.right.as_str());
    let [left_need, right_need] = parity_needs(project, pair, live);
    let mut left_inventory = estate.prepared(&left_need)?;
    let mut right_inventory = estate.prepared(&right_need)?;
    if live {
        left_inventory = std::sync::Arc::new(without_cluster_made(&left_inventory));
        right_inventory = std::sync::Arc::new(without_cluster_made(&right_inventory));
    }
    let mapping = Mapping {
        namespaces: pair.namespaces.clone(),
        equivalents: Equivalents::new(&pair.equivalents),
    };
    let envs = [left, right];
    let place = Place {
        envs: &envs,
        edge: pair.edge,
    };
    let differences = pipeline::parity(
        &left_inventory,
        &right_inventory,
        &mapping,
        PairSides { left, right },
        policies,
        &place,
    )?;
    let (mut differences, unjudged) = if live {
        (differences, Vec::new())
    } else {
        withhold_unrenderable(differences, estate, pair)?
    };
    // On an edge, versions are judged by promotion order, from the upstream's history.
    if pair.edge && !live {
        let history = estate.history(left).ok_or_else(|| AppError::NotLoaded {
            env: format!("{left} (history)"),
        })?;
        let edge = promotion::Edge {
            upstream: left,
            downstream: right,
            history,
            equivalents: &mapping.equivalents,
            paths: &project.config.version_paths(),
            now: estate.now,
            max_lag_minutes: pair.max_lag_minutes,
        };
        differences = promotion::promote(differences, &left_inventory, &right_inventory, &edge);
    }
    let mut report = partial("parity");
    for env in [left, right] {
        report.inputs.environments.push(EnvironmentInput {
            name: env.to_string(),
            pairs: vec![pair.label()],
            ..Default::default()
        });
    }
    report
        .summary
        .resources
        .insert(left.to_string(), left_inventory.len());
    report
        .summary
        .resources
        .insert(right.to_string(), right_inventory.len());
    add_judged(
        &mut report,
        pipeline::judge(differences, policies, &place),
        &[left, right],
    );
    for env in [left, right] {
        let loaded = estate.env(env)?;
        let first = report.errors.len();
        report.errors.extend(loaded.errors.iter().cloned());
        for withheld in unjudged.iter().filter(|u| u.env == env) {
            if let Some(error) = report.errors[first..].iter_mut().find(|e| {
                e.kind == "render" && e.source.as_deref() == Some(withheld.source.as_str())
            }) {
                *error.unjudged.get_or_insert(0) += withheld.count;
            }
        }
        if live && let Some(state) = &loaded.live {
            report.errors.extend(state.errors.iter().cloned());
        }
    }
    Ok(report)
}

/// Takes out the `only-in` findings of objects whose counterpart could not be rendered: the
/// object's owner (a Helm release, a Flux object, an Argo CD Application), mapped to the other
/// environment's namespaces, is one the other environment declares and failed to render. Saying
/// "only in staging" there would be a guess (docs/sources.md, live ownership); each is counted in
/// the failed source's error instead.
fn withhold_unrenderable(
    differences: Vec<Difference>,
    estate: &Estate,
    pair: &Pair,
) -> Result<(Vec<Difference>, Vec<Unjudged>), AppError> {
    let failed = |env: &str| -> Result<Vec<(Owner, String)>, AppError> {
        Ok(estate
            .env(env)?
            .owners
            .iter()
            .filter(|d| d.failed)
            .map(|d| (d.owner.clone(), d.source.clone()))
            .collect())
    };
    let (left_failed, right_failed) = (failed(&pair.left)?, failed(&pair.right)?);
    if left_failed.is_empty() && right_failed.is_empty() {
        return Ok((differences, Vec::new()));
    }
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut kept = Vec::with_capacity(differences.len());
    for difference in differences {
        let withheld_by = match (
            &difference.kind,
            &difference.resource.owner,
            difference.only_in.as_deref(),
        ) {
            (FindingKind::OnlyIn, Some(owner), Some(only_in)) => {
                let (other, failed, to_other): (&str, &[(Owner, String)], bool) =
                    if only_in == pair.left {
                        (&pair.right, &right_failed, true)
                    } else {
                        (&pair.left, &left_failed, false)
                    };
                let mapped = owner_in_other(owner, &pair.namespaces, to_other);
                failed
                    .iter()
                    .find(|(o, _)| *o == mapped)
                    .map(|(_, source)| (other.to_string(), source.clone()))
            }
            _ => None,
        };
        match withheld_by {
            Some(key) => *counts.entry(key).or_default() += 1,
            None => kept.push(difference),
        }
    }
    let unjudged = counts
        .into_iter()
        .map(|((env, source), count)| Unjudged { env, source, count })
        .collect();
    Ok((kept, unjudged))
}

/// Objects of a pair not judged because the other environment's `source` failed to render.
struct Unjudged {
    env: String,
    source: String,
    count: usize,
}

/// `owner` as the other environment of a pair would name it: its namespace through the pair's
/// map (left to right, or back).
fn owner_in_other(owner: &Owner, namespaces: &BTreeMap<String, String>, to_right: bool) -> Owner {
    let map = |namespace: &String| -> String {
        if to_right {
            namespaces.get(namespace).cloned()
        } else {
            namespaces
                .iter()
                .find(|(_, r)| *r == namespace)
                .map(|(l, _)| l.clone())
        }
        .unwrap_or_else(|| namespace.clone())
    };
    match owner {
        Owner::ArgoApplication(name) => Owner::ArgoApplication(name.clone()),
        Owner::FluxKustomization { namespace, name } => Owner::FluxKustomization {
            namespace: map(namespace),
            name: name.clone(),
        },
        Owner::FluxHelmRelease { namespace, name } => Owner::FluxHelmRelease {
            namespace: map(namespace),
            name: name.clone(),
        },
        Owner::HelmRelease { namespace, name } => Owner::HelmRelease {
            namespace: map(namespace),
            name: name.clone(),
        },
    }
}

/// Which of an environment's states its checks run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    Desired,
    Live,
    /// Desired, and live where it was loaded.
    Both,
}

/// What [`checks`] of `env` reads: the objects drift compares where live state was loaded, else
/// those parity compares — so checks add no copy of their own.
fn checks_needs<'a>(
    project: &'a Project,
    estate: &Estate,
    env: &'a str,
    checked: Checked,
) -> Result<Vec<Need<'a>>, AppError> {
    let has_live = estate.env(env)?.live.is_some();
    let scope = if has_live {
        Scope::Drift
    } else {
        Scope::Parity
    };
    let need = |side| Need {
        env,
        side,
        scope,
        policies: &project.policies,
    };
    let mut needs = Vec::new();
    if matches!(checked, Checked::Desired | Checked::Both) {
        needs.push(need(Side::Desired));
    }
    if matches!(checked, Checked::Live | Checked::Both) && has_live {
        needs.push(need(Side::Live));
    }
    Ok(needs)
}

/// The checks of `env`: one finding per check, resource and environment, desired and live
/// failing together being one finding.
fn checks(
    project: &Project,
    estate: &Estate,
    env: &str,
    checked: Checked,
) -> Result<Report, AppError> {
    let policies = &project.policies;
    let (mut desired, mut live) = (None, None);
    for need in checks_needs(project, estate, env, checked)? {
        let inventory = Some(estate.prepared(&need)?);
        match need.side {
            Side::Desired => desired = inventory,
            Side::Live => live = inventory,
        }
    }
    let mut report = partial("checks");
    let envs = [env];
    let place = Place::of(&envs);
    add_judged(
        &mut report,
        pipeline::check(desired.as_deref(), live.as_deref(), policies, &place),
        &envs,
    );
    Ok(report)
}

/// A report a view fills, for its command to merge.
fn partial(command: &str) -> Report {
    Report::new(command, Default::default())
}

/// Adds judged findings to `report`; conditions and checks that failed to evaluate make it
/// incomplete.
pub fn add_judged(report: &mut Report, judged: Judged, envs: &[&str]) {
    tracing::info!(envs = ?envs, findings = judged.findings.len(), ignored = judged.ignored.len(), "judged");
    report.summary.ignored += judged.ignored.len();
    let place = envs.join(",");
    crate::report::suppressions::record(&mut report.suppressions, judged.suppressions, &place);
    for (difference, verdict) in judged.findings {
        report.add(difference, envs, verdict);
    }
    record_policy_errors(report, &place, judged.errors);
}

/// Conditions and checks that could not be evaluated: the run is incomplete.
fn record_policy_errors(report: &mut Report, env: &str, messages: Vec<String>) {
    report
        .errors
        .extend(messages.into_iter().map(|message| RunError {
            env: env.to_string(),
            kind: "policy".into(),
            source: None,
            resource: None,
            message,
            unjudged: None,
        }));
}

fn without_cluster_made(inventory: &Inventory) -> Inventory {
    Inventory::from_resources(
        inventory
            .resources
            .values()
            .filter(|r| !made_by_cluster(r, inventory))
            .cloned(),
    )
}
