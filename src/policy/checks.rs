//! Checks (docs/policies.md): single-environment assertions in CEL over each object, run on an
//! environment's desired objects and on its live ones where the run reads them. One finding per
//! check, resource and environment: desired and live failing together are one finding that says so.

use super::eval::Policies;
use super::{Place, Severity, Status, Verdict};
use crate::compare::{Difference, FindingKind, ResourceRef};
use crate::diff::Path;
use crate::model::{Resource, ResourceId, SourceLocation};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Where an object a check ran on came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Desired state, from Git.
    Desired,
    /// Live state, from a cluster or a snapshot.
    Live,
}

/// The checks that failed on one environment's objects so far.
#[derive(Default)]
pub struct CheckResults {
    outcomes: BTreeMap<(usize, ResourceId), Outcome>,
}

struct Outcome {
    resource: ResourceRef,
    source: Option<SourceLocation>,
    failed_desired: bool,
    failed_live: bool,
    /// Why the assertion could not be evaluated, when it could not.
    error: Option<String>,
}

/// One check on one object: failed (`Ok`) or could not be evaluated (`Err`).
type Failure = (usize, Result<(), String>);

impl CheckResults {
    /// Runs every check of `policies` on `resources` (in parallel) and keeps what failed.
    pub fn add<'a>(
        &mut self,
        policies: &Policies,
        resources: impl IntoParallelIterator<Item = &'a Resource>,
        side: Side,
        place: &Place<'_>,
    ) {
        if policies.checks.is_empty() {
            return;
        }
        let failed: Vec<(&Resource, Vec<Failure>)> = resources
            .into_par_iter()
            .filter_map(|resource| {
                let failures = failures(policies, resource, place);
                (!failures.is_empty()).then_some((resource, failures))
            })
            .collect();
        for (resource, failures) in failed {
            for (check, result) in failures {
                let outcome = self
                    .outcomes
                    .entry((check, resource.id.clone()))
                    .or_insert_with(|| Outcome {
                        resource: ResourceRef::of(resource),
                        source: None,
                        failed_desired: false,
                        failed_live: false,
                        error: None,
                    });
                if side == Side::Desired {
                    outcome.source = resource.source.clone();
                }
                match result {
                    Ok(()) if side == Side::Desired => outcome.failed_desired = true,
                    Ok(()) => outcome.failed_live = true,
                    Err(e) => outcome.error = Some(e),
                }
            }
        }
    }

    /// The findings: a failed check is a violation at the check's severity (default error), or
    /// waived under a live waiver naming the check; a check that could not be evaluated is
    /// unreviewed, and its error goes to `errors` (the run is then incomplete). Each finding
    /// comes with the waiver that waived it, by its place in [`Policies::suppressors`].
    pub fn judge(
        self,
        policies: &Policies,
        place: &Place<'_>,
        errors: &mut Vec<String>,
    ) -> Vec<(Difference, Verdict, Option<usize>)> {
        let mut out = Vec::new();
        for ((index, _), outcome) in self.outcomes {
            let check = &policies.checks[index].check;
            let severity = check.severity.unwrap_or(Severity::Error);
            let seen_in = match (outcome.failed_desired, outcome.failed_live) {
                (true, true) => Some("in the desired and the live state"),
                (true, false) => Some("in the desired state"),
                (false, true) => Some("in the live state"),
                (false, false) => None,
            };
            let (verdict, waiver) = match (seen_in, &outcome.error) {
                (Some(_), _) => policies.waive_decided(
                    &check.id,
                    Some(&place.fill(check.description.as_ref().unwrap_or(&check.assert.text))),
                    (&outcome.resource, FindingKind::Check, place),
                    severity,
                ),
                (None, error) => {
                    let message = format!(
                        "{}:{}: check `{}` could not be evaluated on {}: {}",
                        check.origin.file,
                        check.origin.line,
                        check.id,
                        outcome.resource.id,
                        error.as_deref().unwrap_or("no result")
                    );
                    errors.push(message.clone());
                    let verdict = Verdict {
                        status: Status::Unreviewed,
                        severity,
                        rule: Some(check.id.clone()),
                        note: Some(message),
                    };
                    (verdict, None)
                }
            };
            out.push((
                Difference {
                    kind: FindingKind::Check,
                    resource: outcome.resource,
                    path: Path::default(),
                    op: None,
                    left: None,
                    right: None,
                    source: outcome.source,
                    other_source: None,
                    changed_by: None,
                    only_in: None,
                    note: Some(seen_in.unwrap_or("cannot be evaluated").to_string()),
                    object: None,
                    counterpart: None,
                    promotion: None,
                },
                verdict,
                waiver,
            ));
        }
        out
    }
}

/// The checks that fail, or cannot be evaluated, on `resource`.
fn failures(policies: &Policies, resource: &Resource, place: &Place<'_>) -> Vec<Failure> {
    let target = ResourceRef::of(resource);
    let mut out = Vec::new();
    for (index, compiled) in policies.checks.iter().enumerate() {
        if !compiled.matcher.matches(&target, FindingKind::Check, place) {
            continue;
        }
        // Only what the assertion reads is copied, then the identity normalization took out.
        let assert = &compiled.check.assert;
        let mut object = assert.project("object", &resource.object);
        resource.write_identity(&mut object);
        let result = assert.evaluate(&[("object", &object)]);
        match result {
            Ok(true) => {}
            Ok(false) => out.push((index, Ok(()))),
            Err(e) => out.push((index, Err(e))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::resource;
    use crate::policy::rules::parse;
    use serde_json::{Value, json};

    const CHECKS: &str = r#"version: 1
checks:
  - id: has-owner
    match: {kinds: [Deployment]}
    assert: "has(object.metadata.labels) && 'team' in object.metadata.labels"
    severity: warning
  - id: named
    assert: "object.metadata.name.startsWith('shop-')"
  - id: waived-check
    match: {names: [legacy]}
    assert: "false"
waivers:
  - rule: waived-check
    owner: ops
    reason: retiring
    expires: 2999-01-01
"#;

    fn run(desired: &[Resource], live: &[Resource]) -> (Vec<String>, Vec<String>) {
        let policies = Policies::new(vec![parse(CHECKS, "c.yaml").unwrap()], 0);
        let mut results = CheckResults::default();
        results.add(&policies, desired, Side::Desired, &Place::of(&["env"]));
        results.add(&policies, live, Side::Live, &Place::of(&["env"]));
        let mut errors = Vec::new();
        let mut lines: Vec<String> = results
            .judge(&policies, &Place::of(&["env"]), &mut errors)
            .into_iter()
            .map(|(d, v, _)| {
                format!(
                    "{} {} {} {}",
                    d.resource.id.name,
                    v.rule.unwrap(),
                    v.status.as_str(),
                    d.note.unwrap()
                )
            })
            .collect();
        lines.sort();
        (lines, errors)
    }

    #[test]
    fn desired_and_live_failing_together_are_one_finding() {
        let deployment = |name: &str, labels: Value| {
            resource(
                "Deployment",
                "shop",
                name,
                json!({"metadata": {"labels": labels}, "spec": {}}),
            )
        };
        let desired = [
            deployment("shop-api", json!({"team": "a"})),
            deployment("shop-web", json!({"tier": "x"})),
        ];
        let live = [
            deployment("shop-api", json!({"tier": "x"})),
            deployment("shop-web", json!({"tier": "x"})),
            deployment("legacy", json!({"team": "b"})),
        ];
        let (lines, errors) = run(&desired, &live);
        assert_eq!(
            lines,
            [
                "legacy named violation in the live state",
                "legacy waived-check waived in the live state",
                "shop-api has-owner violation in the live state",
                "shop-web has-owner violation in the desired and the live state",
            ]
        );
        assert!(errors.is_empty());
    }

    #[test]
    fn an_assertion_that_cannot_be_evaluated_is_unreviewed_and_an_error() {
        let bad = resource(
            "Deployment",
            "shop",
            "shop-x",
            json!({"metadata": {"labels": "not-a-map"}}),
        );
        let (lines, errors) = run(&[bad], &[]);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("shop-x has-owner unreviewed"),
            "{lines:?}"
        );
        assert!(
            errors[0].contains("c.yaml:3: check `has-owner`"),
            "{errors:?}"
        );
    }
}
