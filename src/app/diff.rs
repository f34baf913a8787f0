//! `plumb diff --base REV [--head REV] [ENV...]`: what a change does to each environment, without a
//! cluster. Both revisions are loaded once each; each environment's objects are compared base
//! against head (a `change` finding per changed field, added or removed object), the checks run on
//! the head (each marked pre-existing when the base fails it too, else introduced), and each
//! pair's parity at both revisions gives the gaps the change opens (listed as findings) or closes
//! (listed under `closed`; `resolved` is `--baseline`'s alone). A gap that makes a downstream environment run
//! a version its upstream never ran is the report's headline (docs/promotion.md, the pull-request
//! case): a PR that bumps production directly.

use super::estate::{Estate, Need, Side, Want};
use super::views::{self, Checked, View};
use super::{AppError, Context, Project, inputs};
use crate::compare::FindingKind;
use crate::compare::equivalents::Equivalents;
use crate::compare::pairing::Mapping;
use crate::compare::parity::Sides as PairSides;
use crate::compare::promotion::{self, PromotionState};
use crate::model::ResourceId;
use crate::pipeline;
use crate::policy::eval::Policies;
use crate::policy::{Place, Scope, Severity, Status, Verdict};
use crate::report::baseline::Resolved;
use crate::report::{ByChange, Finding, Headline, Report, RevisionInput};
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
    // The base's checks too: a check failing there already is pre-existing, not this change's.
    let base_views = [gaps.clone(), checks.clone()].concat();
    views::prepare(context, project, &mut base, &base_views, &compared)?;
    views::prepare(
        context,
        project,
        &mut head,
        &[gaps.clone(), checks.clone()].concat(),
        &compared,
    )?;
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut report = Report::new("diff", inputs(context, &head, project, &name_refs));
    report.inputs.base = Some(RevisionInput {
        git_ref: base.revision.rev.clone(),
        commit: base.revision.commit.to_string(),
    });
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
    let failing_before: HashSet<String> = views::run(project, &base, &checks)?
        .into_iter()
        .flat_map(|part| part.findings)
        .map(|f| f.id)
        .collect();
    for mut part in views::run(project, &head, &checks)? {
        for check in &mut part.findings {
            let (by_change, words) = if failing_before.contains(&check.id) {
                (ByChange::PreExisting, "failing before this change too")
            } else {
                (ByChange::Introduced, "introduced by this change")
            };
            check.by_change = Some(by_change);
            check.message = format!("{} ({words})", check.message);
        }
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
            .filter(|gap| {
                !before_ids.contains(gap.id.as_str()) || introduces_unvalidated(gap, &base)
            })
            .cloned()
            .map(|mut gap| {
                if introduces_unvalidated(&gap, &base) {
                    gap.message = introduced_message(&gap);
                    report.headlines.push(Headline {
                        finding: gap.id.clone(),
                        message: gap.message.clone(),
                    });
                } else {
                    gap.message = format!("{} (opened by this change)", gap.message);
                }
                gap.by_change = Some(ByChange::Introduced);
                gap
            })
            .collect();
        report.findings.extend(opened);
        report.closed.extend(closed);
        for error in after.errors {
            if !report.errors.contains(&error) {
                report.errors.push(error);
            }
        }
    }
    Ok(report)
}

/// Whether `gap`, a finding of the head's parity, says the change makes a downstream environment
/// run a version its upstream never ran: an `unvalidated` promotion finding at a version the
/// change gave downstream. Downstream's value at the base tells: the same version there (an
/// unchanged production that a change elsewhere left unvalidated) is not this change's doing;
/// another value or none (a new workload) is, whatever the base's parity said of it.
fn introduces_unvalidated(gap: &Finding, base: &Estate) -> bool {
    let unvalidated = gap
        .promotion
        .as_ref()
        .is_some_and(|p| p.state == PromotionState::Unvalidated);
    let (true, Some(serde_json::Value::String(now)), [_, downstream]) =
        (unvalidated, &gap.right, gap.envs.as_slice())
    else {
        return false;
    };
    let id = ResourceId {
        group: gap.resource.group.clone(),
        kind: gap.resource.kind.clone(),
        namespace: gap.resource.namespace.clone(),
        name: gap.resource.name.clone(),
    };
    // An environment the base does not have yet ran nothing there.
    let before = base
        .env(downstream)
        .ok()
        .and_then(|env| env.versions.get(&id))
        .and_then(|versions| versions.get(&gap.path));
    !before.is_some_and(|before| {
        promotion::same_version(&gap.path, before, now, &Equivalents::default())
    })
}

/// The headline's words: "this change makes production run api:1.7.3-hotfix, which staging
/// never ran (searched 200 commits back to 2026-06-01)". A promotion finding's environments are
/// its edge's, upstream first.
fn introduced_message(gap: &Finding) -> String {
    let (Some(promotion), [upstream, downstream]) = (&gap.promotion, gap.envs.as_slice()) else {
        return gap.message.clone();
    };
    let downstream_value = match &gap.right {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    promotion::introduced_message(
        upstream,
        downstream,
        &gap.path,
        &downstream_value,
        promotion,
    )
}
