//! `plumb compare LEFT RIGHT`: two files or directories, no config (also kubectl's external
//! differ). No estate: the two sides are read from disk, then go through the same stages
//! (pipeline.rs) as every other command.

use super::policies::load_policies;
use super::views::add_judged;
use super::{AppError, Context};
use crate::cli::Mode;
use crate::compare::pairing::Mapping;
use crate::compare::parity::Sides;
use crate::desired;
use crate::inventory;
use crate::model::Scopes;
use crate::pipeline::{self, DriftScope};
use crate::policy::{Place, Scope};
use crate::report::{EnvironmentInput, Inputs, Report};
use std::path::{Path, PathBuf};

/// What `plumb compare` was asked.
pub struct CompareRequest<'a> {
    pub left: &'a Path,
    pub right: &'a Path,
    pub policy_files: &'a [PathBuf],
    pub mode: Mode,
    pub field_managers: &'a [String],
    pub namespace: Option<&'a str>,
}

pub(super) fn compare(
    context: &Context<'_>,
    request: &CompareRequest<'_>,
) -> Result<Report, AppError> {
    let (left_name, right_name) = (
        request.left.display().to_string(),
        request.right.display().to_string(),
    );
    let mut left_docs = desired::disk::read(request.left)?;
    let right_docs = desired::disk::read(request.right)?;
    let mut scopes = Scopes::default();
    match request.mode {
        Mode::Drift => {
            scopes.learn_from_crds(left_docs.iter().map(|d| &d.value));
            scopes.learn_from_live(right_docs.iter().map(|d| &d.value));
        }
        Mode::Parity => {
            scopes.learn_from_crds(left_docs.iter().chain(&right_docs).map(|d| &d.value));
        }
    }
    // Policy files named on the command line are relative to where plumb runs.
    let entries: Vec<String> = request
        .policy_files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let policies = load_policies(&entries, Path::new(""), context.today)?;
    let names = [left_name.as_str(), right_name.as_str()];
    let mut report = Report::new(
        "compare",
        Inputs {
            environments: names
                .iter()
                .map(|name| EnvironmentInput {
                    name: name.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        },
    );
    let normalizer = &context.normalizer;
    match request.mode {
        Mode::Drift => {
            if request.namespace.is_none() {
                inventory::adopt_live_namespaces(&mut left_docs, &right_docs, &scopes);
            }
            let mut desired = inventory::build(&left_name, left_docs, request.namespace, &scopes)?;
            let mut live = inventory::build_live(&right_name, right_docs, &scopes)?;
            crate::compare::ownership::attribute_live(&mut live, []);
            pipeline::prepare(&mut desired, normalizer, &policies, Scope::Drift, false);
            pipeline::prepare(&mut live, normalizer, &policies, Scope::Drift, true);
            let scope = DriftScope {
                namespaces: desired.namespaces(),
                field_managers: request.field_managers.to_vec(),
                ..Default::default()
            };
            report
                .summary
                .resources
                .insert(left_name.clone(), desired.len());
            report
                .summary
                .live_resources
                .insert(left_name.clone(), live.len());
            let envs = [left_name.as_str()];
            let place = Place::of(&envs);
            let drift = pipeline::drift(&desired, &live, &scope);
            if drift.managed_elsewhere > 0 {
                report
                    .summary
                    .managed_elsewhere
                    .insert(left_name.clone(), drift.managed_elsewhere);
            }
            add_judged(
                &mut report,
                pipeline::judge(drift.differences, &policies, &place),
                &envs,
            );
            let checked = pipeline::check(Some(&desired), Some(&live), &policies, &place);
            add_judged(&mut report, checked, &envs);
        }
        Mode::Parity => {
            let mut left = inventory::build(&left_name, left_docs, request.namespace, &scopes)?;
            let mut right = inventory::build(&right_name, right_docs, request.namespace, &scopes)?;
            pipeline::prepare(&mut left, normalizer, &policies, Scope::Parity, false);
            pipeline::prepare(&mut right, normalizer, &policies, Scope::Parity, false);
            let sides = Sides {
                left: &left_name,
                right: &right_name,
            };
            let envs = [left_name.as_str(), right_name.as_str()];
            let place = Place::of(&envs);
            let differences =
                pipeline::parity(&left, &right, &Mapping::default(), sides, &policies, &place)?;
            report
                .summary
                .resources
                .insert(left_name.clone(), left.len());
            report
                .summary
                .resources
                .insert(right_name.clone(), right.len());
            add_judged(
                &mut report,
                pipeline::judge(differences, &policies, &place),
                &envs,
            );
            for (inventory, env) in [(&left, &left_name), (&right, &right_name)] {
                let envs = [env.as_str()];
                let checked = pipeline::check(Some(inventory), None, &policies, &Place::of(&envs));
                add_judged(&mut report, checked, &envs);
            }
        }
    }
    Ok(report)
}
