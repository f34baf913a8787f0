//! The stages every comparison goes through, each written once (docs/architecture.md): prepare
//! (normalize, then take out the noise the policies name), compare (drift or parity), judge (each
//! difference against the policies). The commands run them over a loaded estate (app/estate.rs);
//! `plumb compare` over two directories; `plumb policy test` (policy/testing.rs) over a case's
//! two objects. Pure: no I/O, no clock, no environment.

use crate::compare::Difference;
use crate::compare::pairing::Mapping;
use crate::compare::parity::{ParityError, ParityRun, Sides};
use crate::compare::targets::Targets;
use crate::model::{Inventory, Resource};
use crate::normalize::Normalizer;
use crate::policy::checks::{CheckResults, Side};
use crate::policy::eval::{Decided, Judgement, Policies};
use crate::policy::suppressors::Suppressor;
use crate::policy::{Place, Scope, Verdict};
use rayon::prelude::*;

pub use crate::compare::drift::{DeclaredSource, Drift, DriftScope, drift};

/// Normalizes every object (live objects keep their history aside for drift to read).
pub fn normalize(inventory: &mut Inventory, normalizer: &Normalizer, live: bool) {
    inventory
        .resources
        .par_iter_mut()
        .for_each(|(_, r)| normalizer.normalize(r, live));
}

/// Takes out the fields the policies' noise rules remove for `scope`.
pub fn remove_noise(inventory: &mut Inventory, policies: &Policies, scope: Scope) {
    inventory
        .resources
        .par_iter_mut()
        .for_each(|(_, r)| policies.remove_noise(r, scope));
}

/// Both preparation stages, for inventories used once.
pub fn prepare(
    inventory: &mut Inventory,
    normalizer: &Normalizer,
    policies: &Policies,
    scope: Scope,
    live: bool,
) {
    normalize(inventory, normalizer, live);
    remove_noise(inventory, policies, scope);
}

/// Parity of two prepared inventories: every differing field, every unpaired object, and the
/// fields a `require-different` rule (of this place) finds equal.
pub fn parity(
    left: &Inventory,
    right: &Inventory,
    mapping: &Mapping,
    sides: Sides<'_>,
    policies: &Policies,
    place: &Place<'_>,
) -> Result<Vec<Difference>, ParityError> {
    let equal_values = |l: &Resource, r: &Resource| policies.equal_values(l, r, place);
    let mut run = ParityRun::new(left, mapping, sides)?.with_pair_check(&equal_values);
    let mut differences = run.add_right(right.resources.values())?;
    differences.extend(run.finish());
    let targets = [Targets::of(left), Targets::of(right)];
    if targets.iter().any(|t| !t.is_empty()) {
        for difference in &mut differences {
            let id = &difference.resource.id;
            difference.resource.targeted_by =
                targets.iter().flat_map(|t| t.kinds_targeting(id)).collect();
        }
    }
    Ok(differences)
}

/// What the policies made of a set of differences or check results.
#[derive(Default)]
pub struct Judged {
    pub findings: Vec<(Difference, Verdict)>,
    /// Differences an `ignore` rule covered: reports count them, policy tests name them.
    pub ignored: Vec<Difference>,
    /// Conditions or checks that could not be evaluated (the run is incomplete).
    pub errors: Vec<String>,
    /// Every rule and waiver of the policies that can hide a difference, in policy file order,
    /// with how many of these differences or check results it hid (ignored, expected, waived)
    /// and how many it flagged without hiding (a `require-different` rule's equal values).
    pub suppressions: Vec<(Suppressor, usize, usize)>,
}

impl Judged {
    /// Empty, ready to count against `policies`' suppressors.
    fn new(policies: &Policies) -> Judged {
        Judged {
            suppressions: policies
                .suppressors()
                .iter()
                .map(|s| (s.clone(), 0, 0))
                .collect(),
            ..Judged::default()
        }
    }

    fn count(&mut self, decided: Option<Decided>) {
        let (index, hid) = match decided {
            Some(Decided::Hid(index)) => (index, true),
            Some(Decided::Flagged(index)) => (index, false),
            None => return,
        };
        if let Some((_, hidden, flagged)) = self.suppressions.get_mut(index) {
            *if hid { hidden } else { flagged } += 1;
        }
    }
}

/// Judges each difference found at `place`: the first matching rule decides.
pub fn judge(differences: Vec<Difference>, policies: &Policies, place: &Place<'_>) -> Judged {
    let mut judged = Judged::new(policies);
    for difference in differences {
        let (judgement, suppressor) =
            policies.judge_decided(&difference, place, &mut judged.errors);
        judged.count(suppressor);
        match judgement {
            Judgement::Ignored => judged.ignored.push(difference),
            Judgement::Finding(verdict) => judged.findings.push((difference, verdict)),
        }
    }
    judged
}

/// Runs every check on one environment's objects — desired, and live where given — and judges
/// what failed: one finding per check, resource and environment.
pub fn check(
    desired: Option<&Inventory>,
    live: Option<&Inventory>,
    policies: &Policies,
    place: &Place<'_>,
) -> Judged {
    let mut results = CheckResults::default();
    if let Some(desired) = desired {
        results.add(policies, desired.par_values(), Side::Desired, place);
    }
    if let Some(live) = live {
        results.add(policies, live.par_values(), Side::Live, place);
    }
    let mut judged = Judged::new(policies);
    for (difference, verdict, waiver) in results.judge(policies, place, &mut judged.errors) {
        judged.count(waiver.map(Decided::Hid));
        judged.findings.push((difference, verdict));
    }
    judged
}
