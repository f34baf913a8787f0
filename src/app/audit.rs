//! `plumb audit`: the nightly job. Every environment is loaded once; then drift for every
//! environment that has live state, parity for every edge and pair, and the checks of every
//! environment run as views over that one estate, in parallel — one report, one exit code. An
//! environment that cannot be read makes the run incomplete without hiding the others; a config
//! that leaves an environment compared with nothing is refused, so an audit never passes on
//! nothing.
//!
//! In the merged report drift and parity meet: a drifted field says when the cluster runs what the
//! other environment declares, or when Git agrees between the two and only the cluster differs.

use super::estate::{Estate, Want};
use super::live::LiveSource;
use super::views::{self, Checked, View};
use super::{AppError, Context, Project, inputs};
use crate::compare::FindingKind;
use crate::config::Pair;
use crate::diff::ChangeOp;
use crate::report::{Finding, Report, shard};
use std::collections::BTreeMap;

pub fn audit(
    context: &Context<'_>,
    project: &Project,
    git_ref: Option<&str>,
) -> Result<Report, AppError> {
    let audited = run_units(context, project, git_ref, None)?;
    let mut report = Report::new("audit", audited.inputs);
    for (_, part) in audited.units {
        report.merge(part);
    }
    cross_reference(&mut report.findings, &pair_names(&project.config.pairs()));
    Ok(report)
}

/// What [`run_units`] ran: the audit's inputs, every unit's name in the order a run combines them
/// (the plan), and the reports of the units it ran, in that order.
pub struct Audited {
    pub inputs: crate::report::Inputs,
    pub plan: Vec<String>,
    pub units: Vec<(String, Report)>,
}

/// Runs the units of the audit a shard owns (`shard`: its 1-based index and the count), or all:
/// only the environments those units read are loaded (docs/scale.md).
pub fn run_units(
    context: &Context<'_>,
    project: &Project,
    git_ref: Option<&str>,
    shard: Option<(u32, u32)>,
) -> Result<Audited, AppError> {
    let config = &project.config;
    let nothing = config.compared_with_nothing();
    if let Some(first) = nothing.first() {
        return Err(AppError::ComparedWithNothing {
            config: config.path.display().to_string(),
            line: config.environment_line(first),
            envs: nothing
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", "),
            first: first.clone(),
        });
    }
    let order = config.promotion_order();
    let mut has_live = BTreeMap::new();
    for name in &order {
        let env = project.environment(name)?;
        let live = env
            .live
            .as_ref()
            .is_some_and(|l| l.snapshot.is_some() || l.context.is_some());
        has_live.insert(name.clone(), live);
    }
    let drifted: Vec<String> = order.iter().filter(|e| has_live[*e]).cloned().collect();
    let pairs = config.pairs();
    // The units, in the order a single run combines them: drift, parity, checks.
    let mut all: Vec<(String, View)> = drifted
        .iter()
        .map(|e| (shard::drift_unit(e), View::Drift(e)))
        .collect();
    all.extend(pairs.iter().map(|pair| {
        (
            shard::parity_unit(&pair.left, &pair.right),
            View::Parity { pair, live: false },
        )
    }));
    all.extend(
        order
            .iter()
            .map(|e| (shard::checks_unit(e), View::Checks(e, Checked::Both))),
    );
    let plan: Vec<String> = all.iter().map(|(name, _)| name.clone()).collect();
    let units: Vec<(String, View)> = match shard {
        Some((index, count)) => {
            let assignment = shard::Assignment::new(plan.iter().map(String::as_str), count);
            all.into_iter()
                .filter(|(name, _)| assignment.shard_of(name) == Some(index))
                .collect()
        }
        None => all,
    };
    // The environments these units read: drift and checks read live state where there is one;
    // parity reads desired state only.
    let mut wanted: Vec<Want> = Vec::new();
    for name in &order {
        let mut desired = false;
        let mut live = false;
        for (_, view) in &units {
            match view {
                View::Drift(env) | View::Checks(env, _) if *env == name.as_str() => {
                    desired = true;
                    live |= has_live[name];
                }
                View::Parity { pair, .. } if pair.left == *name || pair.right == *name => {
                    desired = true;
                }
                _ => {}
            }
        }
        if desired {
            wanted.push(Want {
                env: name.clone(),
                live: if live {
                    Some(LiveSource::resolve(config, name, None, None)?)
                } else {
                    None
                },
            });
        }
    }
    let loaded = wanted.len();
    let mut estate = Estate::load(context, config, git_ref, wanted, false)?;
    let views: Vec<View> = units.iter().map(|(_, view)| *view).collect();
    views::prepare(context, project, &mut estate, &views, &[])?;
    let count = |f: fn(&View) -> bool| views.iter().filter(|v| f(v)).count();
    context.progress.note(&format!(
        "auditing {loaded} environments: {} drift, {} parity, {} checks",
        count(|v| matches!(v, View::Drift(_))),
        count(|v| matches!(v, View::Parity { .. })),
        count(|v| matches!(v, View::Checks(..)))
    ));
    let reports = views::run(project, &estate, &views)?;
    let names: Vec<&str> = order.iter().map(String::as_str).collect();
    Ok(Audited {
        inputs: inputs(context, &estate, project, &names),
        plan,
        units: units
            .into_iter()
            .map(|(name, _)| name)
            .zip(reports)
            .collect(),
    })
}

/// The pairs of a config as (left, right), for [`cross_reference`].
pub fn pair_names(pairs: &[Pair]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|p| (p.left.clone(), p.right.clone()))
        .collect()
}

/// Where a drift finding and a pair's parity meet, the drift finding says so. `pairs` are
/// (left, right), in the config's order; `plumb merge` reads them from the parts' plan.
pub fn cross_reference(findings: &mut [Finding], pairs: &[(String, String)]) {
    // Parity field findings by (left env, right env, kind, name, path).
    let mut parity: BTreeMap<(String, String, String, String, String), usize> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if f.kind == FindingKind::Parity
            && let [left, right] = f.envs.as_slice()
        {
            parity.insert(
                (
                    left.clone(),
                    right.clone(),
                    f.resource.kind.clone(),
                    f.resource.name.clone(),
                    f.path.clone(),
                ),
                i,
            );
        }
    }
    let mut notes: Vec<(usize, String)> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        if f.kind != FindingKind::Drift || f.change != Some(ChangeOp::Changed) {
            continue;
        }
        let [env] = f.envs.as_slice() else { continue };
        // What each pair of this environment says: the cluster runs the other side's value, or
        // Git agrees between the two. One note per finding, naming every environment it concerns.
        let (mut runs_other, mut agrees) = (Vec::new(), Vec::new());
        for (left, right) in pairs {
            let other = if env == left {
                right
            } else if env == right {
                left
            } else {
                continue;
            };
            let key = (
                left.clone(),
                right.clone(),
                f.resource.kind.clone(),
                f.resource.name.clone(),
                f.path.clone(),
            );
            match parity.get(&key).map(|&p| &findings[p]) {
                Some(gap) => {
                    let other_value = if other == left { &gap.left } else { &gap.right };
                    if other_value.is_some() && *other_value == f.right {
                        runs_other.push(other.as_str());
                    }
                }
                None => agrees.push(other.as_str()),
            }
        }
        let mut parts = Vec::new();
        if !runs_other.is_empty() {
            parts.push(format!(
                "the cluster runs what {} declares in Git here",
                runs_other.join(" and ")
            ));
        }
        if !agrees.is_empty() {
            parts.push(format!(
                "Git agrees between {env} and {} here: this drift is a parity gap between the clusters only",
                agrees.join(", ")
            ));
        }
        if !parts.is_empty() {
            notes.push((i, parts.join("; ")));
        }
    }
    for (i, note) in notes {
        findings[i].message = format!("{} ({note})", findings[i].message);
    }
}
