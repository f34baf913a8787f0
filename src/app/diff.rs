//! `plumb diff --base REV [--head REV] [ENV...]`: what a change does to each environment, without a
//! cluster — both revisions rendered, each environment's objects compared base against head
//! (a `change` finding per changed field, added or removed object), the checks run on the head, and
//! the parity gaps the change opens (listed as findings) or closes (listed under `resolved`).

use super::{
    AppError, Preparation, add_checks, environment, environment_inputs, inputs, load_config,
    load_policies, open_tree, parity_command, read_desired, scopes_of,
};
use crate::cli::Common;
use crate::compare::FindingKind;
use crate::compare::pairing::Mapping;
use crate::compare::parity::{ParityRun, Sides};
use crate::config::LoadedConfig;
use crate::desired::git::GitTree;
use crate::desired::render::Renderer;
use crate::inventory;
use crate::model::{Inventory, Scopes};
use crate::normalize::Normalizer;
use crate::policy::checks::{CheckResults, Side};
use crate::policy::{Scope, Severity, Status, Verdict};
use crate::progress::Progress;
use crate::report::Report;
use crate::report::baseline::Resolved;
use std::collections::HashSet;

/// The revisions and environments a diff covers.
pub struct DiffRequest<'a> {
    pub base: &'a str,
    pub head: Option<&'a str>,
    pub envs: &'a [String],
}

pub fn diff_command(
    common: &Common,
    normalizer: &Normalizer,
    request: &DiffRequest<'_>,
    progress: &Progress,
    renderer: &Renderer,
) -> Result<Report, AppError> {
    let config = load_config(common)?;
    let policies = load_policies(&config.config.policy_entries(), &config.dir)?;
    let base = open_tree(&config, Some(request.base))?;
    let head = open_tree(&config, request.head)?;
    let names: Vec<String> = if request.envs.is_empty() {
        config.config.environments.keys().cloned().collect()
    } else {
        request.envs.to_vec()
    };
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut report = Report::new("diff", inputs(Some(&head), environment_inputs(&name_refs)));
    let prepare = Preparation {
        normalizer,
        policies: &policies,
        scope: Scope::Parity,
    };
    let unchanged = Verdict {
        status: Status::Expected,
        severity: Severity::Info,
        rule: None,
        note: None,
    };
    for name in &names {
        let mut before = desired_inventory(&config, &base, renderer, name, progress, &mut report)?;
        let mut after = desired_inventory(&config, &head, renderer, name, progress, &mut report)?;
        prepare.prepare(&mut before, false);
        prepare.prepare(&mut after, false);
        let mapping = Mapping::default();
        let sides = Sides {
            left: "base",
            right: "head",
        };
        let mut run = ParityRun::new(&before, &mapping, sides)?;
        let mut changes = run.add_right(after.resources.values())?;
        changes.extend(run.finish());
        for mut change in changes {
            change.kind = FindingKind::Change;
            report.add(change, &[name], unchanged.clone());
        }
        let mut checks = CheckResults::default();
        checks.add(&policies, after.par_values(), Side::Desired);
        add_checks(&mut report, checks, name, &policies);
        report.summary.resources.insert(name.clone(), after.len());
    }
    for pair in &config.config.parity {
        let [left, right] = pair.between.as_slice() else {
            continue;
        };
        if !names.contains(left) || !names.contains(right) {
            continue;
        }
        let gaps = |rev: &str| {
            parity_command(
                common,
                normalizer,
                left,
                right,
                false,
                Some(rev),
                progress,
                renderer,
            )
        };
        let before = gaps(&base.commit.to_string())?;
        let after = gaps(&head.commit.to_string())?;
        let before_ids: HashSet<&str> = before.findings.iter().map(|f| f.id.as_str()).collect();
        let after_ids: HashSet<&str> = after.findings.iter().map(|f| f.id.as_str()).collect();
        let closed: Vec<Resolved> = before
            .findings
            .iter()
            .filter(|f| !after_ids.contains(f.id.as_str()))
            .map(|f| Resolved {
                id: f.id.clone(),
                kind: f.kind.as_str().to_string(),
                envs: f.envs.clone(),
                resource: f.resource.clone(),
                path: f.path.clone(),
                rule: f.rule.clone(),
                first_seen: None,
            })
            .collect();
        for mut gap in after.findings {
            if gap.kind != FindingKind::Check && !before_ids.contains(gap.id.as_str()) {
                gap.message = format!("{} (opened by this change)", gap.message);
                report.findings.push(gap);
            }
        }
        report.resolved.get_or_insert_with(Vec::new).extend(closed);
        for error in after.errors {
            if !report.errors.contains(&error) {
                report.errors.push(error);
            }
        }
    }
    Ok(report)
}

/// An environment's desired objects at one revision (render errors go to the report).
fn desired_inventory(
    config: &LoadedConfig,
    tree: &GitTree,
    renderer: &Renderer,
    name: &str,
    progress: &Progress,
    report: &mut Report,
) -> Result<Inventory, AppError> {
    let env = environment(config, name)?;
    let desired = match read_desired(config, tree, renderer, name, progress) {
        Ok(desired) => desired,
        // An environment the revision does not have yet (or any more) has no objects.
        Err(AppError::EmptyEnvironment { .. }) => return Ok(Inventory::default()),
        Err(e) => return Err(e),
    };
    for error in desired.errors {
        if !report.errors.contains(&error) {
            report.errors.push(error);
        }
    }
    let scopes = scopes_of(Scopes::default(), &desired.documents, &[]);
    Ok(inventory::build(
        name,
        desired.documents,
        env.namespace.as_deref(),
        &scopes,
    )?)
}
