//! `plumb diff --base REV [--head REV] [ENV...]`: what a change does to each environment, without a
//! cluster. Both revisions are loaded once each; each environment's objects are compared base
//! against head (a `change` finding per changed field, added or removed object), the checks run on
//! the head, and each pair's parity at both revisions gives the gaps the change opens (listed as
//! findings) or closes (listed under `resolved`).

use super::estate::{Estate, Need, Side, Want};
use super::views::{self, Checked, View};
use super::{AppError, Context, Project, inputs};
use crate::compare::FindingKind;
use crate::compare::pairing::Mapping;
use crate::compare::parity::Sides as PairSides;
use crate::pipeline;
use crate::policy::eval::Policies;
use crate::policy::{Place, Scope, Severity, Status, Verdict};
use crate::report::Report;
use crate::report::baseline::Resolved;
use std::collections::HashSet;

/// The revisions and environments a diff covers.
pub struct DiffRequest<'a> {
    pub base: &'a str,
    pub head: Option<&'a str>,
    pub envs: &'a [String],
}

pub fn diff(
    context: &Context<'_>,
    project: &Project,
    request: &DiffRequest<'_>,
) -> Result<Report, AppError> {
    let config = &project.config;
    let names: Vec<String> = if request.envs.is_empty() {
        config.promotion_order()
    } else {
        for name in request.envs {
            project.environment(name)?;
        }
        request.envs.to_vec()
    };
    let wanted = || names.iter().map(|n| Want::desired(n)).collect::<Vec<_>>();
    // An environment a revision does not have yet (or any more) has no objects there.
    let mut base = Estate::load(context, config, Some(request.base), wanted(), true)?;
    let mut head = Estate::load(context, config, request.head, wanted(), true)?;
    let pairs: Vec<_> = config
        .pairs()
        .into_iter()
        .filter(|p| names.contains(&p.left) && names.contains(&p.right))
        .collect();
    // Each environment compared base against head as parity reads it (desired, parity's noise
    // out); the head's checks; each pair's parity at both revisions.
    let compared: Vec<Need> = names
        .iter()
        .map(|name| Need {
            env: name,
            side: Side::Desired,
            scope: Scope::Parity,
            policies: &project.policies,
        })
        .collect();
    let gaps: Vec<View> = pairs
        .iter()
        .map(|pair| View::Parity { pair, live: false })
        .collect();
    let checks: Vec<View> = names
        .iter()
        .map(|name| View::Checks(name, Checked::Desired))
        .collect();
    views::prepare(context, project, &mut base, &gaps, &compared)?;
    views::prepare(
        context,
        project,
        &mut head,
        &[gaps.clone(), checks.clone()].concat(),
        &compared,
    )?;
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut report = Report::new("diff", inputs(context, &head, project, &name_refs));
    let unchanged = Verdict {
        status: Status::Expected,
        severity: Severity::Info,
        rule: None,
        note: None,
    };
    let no_rules = Policies::none();
    for (name, need) in names.iter().zip(&compared) {
        let before = base.prepared(need)?;
        let after = head.prepared(need)?;
        let sides = PairSides {
            left: "base",
            right: "head",
        };
        let envs = [name.as_str()];
        let place = Place::of(&envs);
        let changes = pipeline::parity(
            &before,
            &after,
            &Mapping::default(),
            sides,
            &no_rules,
            &place,
        )?;
        for mut change in changes {
            change.kind = FindingKind::Change;
            report.add(change, &[name], unchanged.clone());
        }
        report.summary.resources.insert(name.clone(), after.len());
        for error in &head.env(name)?.errors {
            if !report.errors.contains(error) {
                report.errors.push(error.clone());
            }
        }
    }
    for part in views::run(project, &head, &checks)? {
        report.merge(part);
    }
    let before_gaps = views::run(project, &base, &gaps)?;
    let after_gaps = views::run(project, &head, &gaps)?;
    for (before, after) in before_gaps.into_iter().zip(after_gaps) {
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
        let opened: Vec<_> = after
            .findings
            .iter()
            .filter(|gap| !before_ids.contains(gap.id.as_str()))
            .cloned()
            .map(|mut gap| {
                gap.message = format!("{} (opened by this change)", gap.message);
                gap
            })
            .collect();
        report.findings.extend(opened);
        report.resolved.get_or_insert_with(Vec::new).extend(closed);
        for error in after.errors {
            if !report.errors.contains(&error) {
                report.errors.push(error);
            }
        }
    }
    Ok(report)
}
