//! `plumb audit`: the nightly job. Drift for every environment that has live state, parity for every
//! configured pair, checks everywhere — one report, one exit code. Environments are audited in
//! parallel; one that cannot be read makes the run incomplete without hiding the others.
//!
//! In the merged report drift and parity meet: a drifted field says when the cluster runs what the
//! other environment declares, or when Git agrees between the two and only the cluster differs.

use super::{AppError, drift_command, load_config, parity_command};
use crate::cli::Common;
use crate::compare::FindingKind;
use crate::config::LoadedConfig;
use crate::desired::render::Renderer;
use crate::diff::ChangeOp;
use crate::normalize::Normalizer;
use crate::progress::Progress;
use crate::report::{Finding, Report};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};

enum Task {
    Drift(String),
    Parity(String, String),
}

pub fn audit(
    common: &Common,
    normalizer: &Normalizer,
    git_ref: Option<&str>,
    progress: &Progress,
    renderer: &Renderer,
) -> Result<Report, AppError> {
    let config = load_config(common)?;
    let mut tasks: Vec<Task> = config
        .config
        .environments
        .iter()
        .filter(|(_, env)| {
            env.live
                .as_ref()
                .is_some_and(|l| l.snapshot.is_some() || l.context.is_some())
        })
        .map(|(name, _)| Task::Drift(name.clone()))
        .collect();
    for pair in &config.config.parity {
        if let [left, right] = pair.between.as_slice() {
            tasks.push(Task::Parity(left.clone(), right.clone()));
        }
    }
    progress.note(&format!("auditing: {} drift and parity runs", tasks.len()));
    let reports: Vec<Result<Report, AppError>> = tasks
        .par_iter()
        .map(|task| match task {
            Task::Drift(env) => drift_command(
                common, normalizer, env, git_ref, None, None, progress, renderer,
            ),
            Task::Parity(left, right) => parity_command(
                common, normalizer, left, right, false, git_ref, progress, renderer,
            ),
        })
        .collect();
    let mut merged = Report::new("audit", Default::default());
    for report in reports {
        merge(&mut merged, report?);
    }
    cross_reference(&mut merged.findings, &config);
    Ok(merged)
}

/// Adds `report` to `merged`. A check finding both runs made (same id) is kept once: the first,
/// which is drift's, since drift also checks the live objects.
fn merge(merged: &mut Report, report: Report) {
    let inputs = &mut merged.inputs;
    inputs.repo = inputs.repo.take().or(report.inputs.repo);
    inputs.git_ref = inputs.git_ref.take().or(report.inputs.git_ref);
    inputs.commit = inputs.commit.take().or(report.inputs.commit);
    inputs.tools.extend(report.inputs.tools);
    for env in report.inputs.environments {
        match inputs.environments.iter_mut().find(|e| e.name == env.name) {
            Some(known) => known.live = known.live.take().or(env.live),
            None => inputs.environments.push(env),
        }
    }
    let summary = &mut merged.summary;
    summary.resources.extend(report.summary.resources);
    summary.live_resources.extend(report.summary.live_resources);
    summary.ignored += report.summary.ignored;
    let seen: HashSet<String> = merged.findings.iter().map(|f| f.id.clone()).collect();
    merged.findings.extend(
        report
            .findings
            .into_iter()
            .filter(|f| !seen.contains(&f.id)),
    );
    for error in report.errors {
        if !merged.errors.contains(&error) {
            merged.errors.push(error);
        }
    }
}

/// Where a drift finding and the pair's parity meet, the drift finding says so.
fn cross_reference(findings: &mut [Finding], config: &LoadedConfig) {
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
        for pair in &config.config.parity {
            let [left, right] = pair.between.as_slice() else {
                continue;
            };
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
            let note = match parity.get(&key).map(|&p| &findings[p]) {
                Some(gap) => {
                    let other_value = if other == left { &gap.left } else { &gap.right };
                    (other_value.is_some() && *other_value == f.right)
                        .then(|| format!("the cluster runs what {other} declares in Git here"))
                }
                None => Some(format!(
                    "Git agrees between {env} and {other} here: this drift is a parity gap between the clusters only"
                )),
            };
            if let Some(note) = note {
                notes.push((i, note));
            }
        }
    }
    for (i, note) in notes {
        findings[i].message = format!("{} ({note})", findings[i].message);
    }
}
