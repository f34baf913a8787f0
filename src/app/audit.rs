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
use crate::report::{Finding, Report};
use std::collections::BTreeMap;

pub fn audit(
    context: &Context<'_>,
    project: &Project,
    git_ref: Option<&str>,
) -> Result<Report, AppError> {
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
    let mut wanted = Vec::new();
    for name in &order {
        let env = project.environment(name)?;
        let has_live = env
            .live
            .as_ref()
            .is_some_and(|l| l.snapshot.is_some() || l.context.is_some());
        wanted.push(Want {
            env: name.clone(),
            live: if has_live {
                Some(LiveSource::resolve(config, name, None, None)?)
            } else {
                None
            },
        });
    }
    let drifted: Vec<String> = wanted
        .iter()
        .filter(|w| w.live.is_some())
        .map(|w| w.env.clone())
        .collect();
    let mut estate = Estate::load(context, config, git_ref, wanted, false)?;
    let pairs = config.pairs();
    let mut units: Vec<View> = drifted.iter().map(|e| View::Drift(e)).collect();
    units.extend(pairs.iter().map(|pair| View::Parity { pair, live: false }));
    units.extend(order.iter().map(|e| View::Checks(e, Checked::Both)));
    views::prepare(context, project, &mut estate, &units, &[])?;
    context.progress.note(&format!(
        "auditing {} environments: {} drift, {} parity, {} checks",
        order.len(),
        drifted.len(),
        pairs.len(),
        order.len()
    ));
    let parts = views::run(project, &estate, &units)?;
    let names: Vec<&str> = order.iter().map(String::as_str).collect();
    let mut report = Report::new("audit", inputs(context, &estate, project, &names));
    for part in parts {
        report.merge(part);
    }
    cross_reference(&mut report.findings, &pairs);
    Ok(report)
}

/// Where a drift finding and a pair's parity meet, the drift finding says so.
fn cross_reference(findings: &mut [Finding], pairs: &[Pair]) {
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
        for pair in pairs {
            let (left, right) = (&pair.left, &pair.right);
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
