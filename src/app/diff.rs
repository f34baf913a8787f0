//! `plumb diff --base REV [--head REV] [ENV...]`: what a change does to each environment, without a
//! cluster. Both revisions are loaded once each; each environment's objects are compared base
//! against head (a `change` finding per changed field, added or removed object), the checks run on
//! the head, and each pair's parity at both revisions gives the gaps the change opens (listed as
//! findings) or closes (listed under `resolved`).

use super::estate::{Estate, Need, Side, Want};
use super::views::{self, Checked};
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
    // Each environment as the head's checks read it (desired, parity's noise out), in both
    // revisions; each pair as its parity reads it.
    for estate in [&mut base, &mut head] {
        let mut needs = Vec::new();
        for name in &names {
            needs.extend(views::checks_needs(
                project,
                estate,
                name,
                Checked::Desired,
            )?);
        }
        for pair in &pairs {
            needs.extend(views::parity_needs(project, pair, false));
        }
        estate.prepare(&needs)?;
    }
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut report = Report::new("diff", inputs(context, &head, project, &name_refs));
    let unchanged = Verdict {
        status: Status::Expected,
        severity: Severity::Info,
        rule: None,
        note: None,
    };
    let no_rules = Policies::none();
    for name in &names {
        let need = Need {
            env: name,
            side: Side::Desired,
            scope: Scope::Parity,
            policies: &project.policies,
        };
        let before = base.prepared(&need)?;
        let after = head.prepared(&need)?;
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
        report.merge(views::checks(project, &head, name, Checked::Desired)?);
        report.summary.resources.insert(name.clone(), after.len());
        for error in &head.env(name)?.errors {
            if !report.errors.contains(error) {
                report.errors.push(error.clone());
            }
        }
    }
    for pair in &pairs {
        let before = views::parity(project, &base, pair, false)?;
        let after = views::parity(project, &head, pair, false)?;
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
