//! Deciding what each difference means: the first matching rule wins, in the order the policy
//! files were given; a violation under a live waiver is waived; what no rule covers is unreviewed
//! at the scope's default severity (docs/policies.md).

use super::builtin;
use super::pattern::PathPattern;
use super::rules::{Action, Check, PolicyFile, Rule, RuleScope, Waiver};
use super::selector::Selector;
use super::suppressors::Suppressor;
use super::{Defaults, Place, Scope, Severity, Status, Verdict, scope_of};
use crate::compare::promotion::{Promotion, PromotionState};
use crate::compare::{Difference, FindingKind, ResourceRef};
use crate::diff::{Change, ChangeOp};
use crate::model::Resource;
use serde_json::Value;
use std::sync::Arc;

/// What a difference comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// An `ignore` rule covers it: counted, not listed.
    Ignored,
    Finding(Verdict),
}

/// Which of [`Policies::suppressors`] a judgement involved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    /// It hid the difference: ignored, expected, or waived.
    Hid(usize),
    /// It matched without hiding: a `require-different` rule's equal values, a violation.
    Flagged(usize),
}

/// Every rule and waiver of a run, in order, ready to judge differences.
pub struct Policies {
    rules: Vec<CompiledRule>,
    waivers: Vec<CompiledWaiver>,
    /// The fields `builtin:noise` removes before comparison.
    noise: Vec<NoiseField>,
    pub(super) checks: Vec<CompiledCheck>,
    /// The `require-different` rules that look for equal values: parity-scoped, no condition (a
    /// rule with a condition decides differences; it has no difference to test it on here).
    equal_rules: Vec<usize>,
    pub defaults: Defaults,
    /// Days since 1970-01-01: waivers hold through their expiry day (and policy tests count the
    /// age of their promotion findings to it).
    pub(super) today: i64,
    /// The files these were made from, for [`Policies::preceded_by`].
    files: Vec<PolicyFile>,
    /// The rules and waivers that hide differences, in policy file order (docs/report.md).
    suppressors: Vec<Suppressor>,
    /// Per rule (by index): its place in `suppressors`, for rules that hide differences.
    rule_suppressor: Vec<Option<usize>>,
    /// Per waiver (by index): its place in `suppressors`.
    waiver_suppressor: Vec<usize>,
}

struct CompiledRule {
    rule: Rule,
    matcher: Selector,
}

/// One path of an unconditional `builtin:noise` rule, and the earlier rules that name it (and so
/// keep it for themselves to judge).
struct NoiseField {
    rule: usize,
    path: usize,
    named_by: Vec<usize>,
}

pub(super) struct CompiledCheck {
    pub(super) check: Check,
    pub(super) matcher: Selector,
}

struct CompiledWaiver {
    waiver: Waiver,
    matcher: Selector,
}

impl Policies {
    /// Rules from `files` in order. The first file that sets `defaults` sets them.
    pub fn new(files: Vec<PolicyFile>, today: i64) -> Policies {
        let kept = files.clone();
        let mut defaults = Defaults::default();
        let (mut parity_set, mut drift_set) = (false, false);
        let mut rules = Vec::new();
        let mut waivers = Vec::new();
        let mut noise = Vec::new();
        let mut checks = Vec::new();
        let mut suppressors = Vec::new();
        let mut rule_suppressor = Vec::new();
        let mut waiver_suppressor = Vec::new();
        for file in files {
            let is_noise = file.name == builtin::NOISE;
            if let (Some(severity), false) = (file.parity_default, parity_set) {
                defaults.parity = severity;
                parity_set = true;
            }
            if let (Some(severity), false) = (file.drift_default, drift_set) {
                defaults.drift = severity;
                drift_set = true;
            }
            for rule in file.rules {
                let matcher = Selector::new(&rule.matcher);
                let before_comparison = is_noise
                    && rule.action == Action::Ignore
                    && rule.condition.is_none()
                    && matcher.is_universal();
                rule_suppressor.push(Suppressor::of_rule(&rule, before_comparison).map(
                    |suppressor| {
                        suppressors.push(suppressor);
                        suppressors.len() - 1
                    },
                ));
                // A noise field is removed before comparison only where its rule applies to every
                // object in every view; a rule that selects objects (controller-owned fields:
                // `targeted_by`, `annotations`, kinds) or places judges the differences instead,
                // so what it hides is counted as ignored.
                if before_comparison {
                    for (path, pattern) in rule.paths.iter().enumerate() {
                        let named_by = rules
                            .iter()
                            .enumerate()
                            .filter(|(_, earlier): &(usize, &CompiledRule)| {
                                earlier.rule.paths.iter().any(|p| p.names_within(pattern))
                            })
                            .map(|(i, _)| i)
                            .collect();
                        noise.push(NoiseField {
                            rule: rules.len(),
                            path,
                            named_by,
                        });
                    }
                }
                rules.push(CompiledRule { matcher, rule });
            }
            checks.extend(file.checks.into_iter().map(|check| CompiledCheck {
                matcher: Selector::new(&check.matcher),
                check,
            }));
            for waiver in file.waivers {
                let matcher = Selector::new(&waiver.matcher);
                suppressors.push(Suppressor::of_waiver(&waiver, &matcher, today));
                waiver_suppressor.push(suppressors.len() - 1);
                waivers.push(CompiledWaiver { matcher, waiver });
            }
        }
        let equal_rules = rules
            .iter()
            .enumerate()
            .filter(|(_, r): &(usize, &CompiledRule)| {
                r.rule.action == Action::RequireDifferent
                    && r.rule.scope != RuleScope::Drift
                    && r.rule.condition.is_none()
            })
            .map(|(i, _)| i)
            .collect();
        Policies {
            equal_rules,
            rules,
            waivers,
            noise,
            checks,
            defaults,
            today,
            files: kept,
            suppressors,
            rule_suppressor,
            waiver_suppressor,
        }
    }

    /// The rules and waivers that hide differences, in policy file order: what
    /// [`Policies::judge_decided`] counts against.
    pub fn suppressors(&self) -> &[Suppressor] {
        &self.suppressors
    }

    /// These policies with `rules` judged first: the rules an environment's sources declare for
    /// their own objects (Argo CD `ignoreDifferences`) come before the user's.
    pub fn preceded_by(&self, name: &str, rules: Vec<Rule>) -> Policies {
        let mut files = Vec::with_capacity(self.files.len() + 1);
        files.push(PolicyFile {
            name: name.to_string(),
            rules,
            ..PolicyFile::default()
        });
        files.extend(self.files.iter().cloned());
        Policies::new(files, self.today)
    }

    /// No policy files: every difference unreviewed at the default severities.
    pub fn none() -> Policies {
        Policies::new(Vec::new(), 0)
    }

    /// Removes the fields `builtin:noise` ignores from `resource` (and from the last-applied
    /// configuration it carries), before comparison — except where an earlier rule that applies to
    /// this object names the field: then its differences are judged like any other, and reach the
    /// noise rule only if no earlier rule decides them.
    pub fn remove_noise(&self, resource: &mut Resource, scope: Scope) {
        if self.noise.is_empty() {
            return;
        }
        // Most noise rules match every object: the object's labels are read only when asked for.
        let target = std::cell::OnceCell::new();
        // A rule scoped to environments or pairs may apply in some view of this object: it keeps
        // the field for judging.
        let applies_here = |rule: &CompiledRule| {
            scope_allows(rule.rule.scope, scope)
                && (rule.matcher.is_universal()
                    || !rule.matcher.is_everywhere()
                    || rule.matcher.selects_by_surroundings()
                    || rule
                        .matcher
                        .matches_object(target.get_or_init(|| ResourceRef::of(resource))))
        };
        let removable: Vec<&PathPattern> = self
            .noise
            .iter()
            .filter(|field| {
                applies_here(&self.rules[field.rule])
                    && !field.named_by.iter().any(|&i| applies_here(&self.rules[i]))
            })
            .map(|field| &self.rules[field.rule].rule.paths[field.path])
            .collect();
        for pattern in removable {
            pattern.remove_from(&mut resource.object);
            if let Some(applied) = resource
                .history
                .as_mut()
                .and_then(|h| h.last_applied.as_mut())
            {
                pattern.remove_from(applied);
            }
        }
    }

    /// What `difference` comes to. A condition that fails to evaluate leaves it unreviewed, with
    /// the error in its message and in `errors` (the run is then incomplete).
    pub fn judge(
        &self,
        difference: &Difference,
        place: &Place<'_>,
        errors: &mut Vec<String>,
    ) -> Judgement {
        self.judge_decided(difference, place, errors).0
    }

    /// [`Policies::judge`], and which of [`Policies::suppressors`] decided the difference: the
    /// `ignore` rule that ignored it, the `allow` or `require-different` rule that expected it,
    /// or the waiver that waived it hid it; a `require-different` rule whose equal values stand
    /// as a violation flagged it. Other violations and unreviewed differences involve none.
    pub fn judge_decided(
        &self,
        difference: &Difference,
        place: &Place<'_>,
        errors: &mut Vec<String>,
    ) -> (Judgement, Option<Decided>) {
        let scope = scope_of(difference.kind);
        let default = || match &difference.promotion {
            Some(promotion) => engine_verdict(promotion),
            None => Verdict {
                status: Status::Unreviewed,
                severity: match scope {
                    Scope::Drift => self.defaults.drift,
                    Scope::Parity => self.defaults.parity,
                },
                rule: None,
                note: None,
            },
        };
        let mut decided = None;
        for (index, compiled) in self
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| applies(r, difference, scope, place))
        {
            let rule = &compiled.rule;
            if let Some(condition) = &rule.condition {
                let null = Value::Null;
                let mut variables = vec![
                    ("left", difference.left.as_ref().unwrap_or(&null)),
                    ("right", difference.right.as_ref().unwrap_or(&null)),
                    ("object", difference.object.as_deref().unwrap_or(&null)),
                ];
                let promotion = difference.promotion.as_deref().map(promotion_variables);
                if let Some(values) = &promotion {
                    variables.extend(PROMOTION_VARIABLES.iter().copied().zip(values));
                }
                match condition.evaluate(&variables) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        let message = format!(
                            "{}:{}: the condition of rule `{}` could not be evaluated on {} at `{}`: {e}",
                            rule.origin.file,
                            rule.origin.line,
                            rule.id,
                            difference.resource.id,
                            difference.path
                        );
                        errors.push(message.clone());
                        let verdict = Verdict {
                            note: Some(message),
                            ..default()
                        };
                        return (Judgement::Finding(verdict), None);
                    }
                }
            }
            decided = Some(index);
            break;
        }
        let Some(index) = decided else {
            return (Judgement::Finding(default()), None);
        };
        let rule = &self.rules[index].rule;
        let suppressor = self.rule_suppressor.get(index).copied().flatten();
        let hid = suppressor.map(Decided::Hid);
        let rule_id = Some(rule.id.clone());
        let description = rule.description.as_ref().map(|d| place.fill(d));
        // A violation, unless a waiver holds it (the waiver then hid it).
        let violation = || {
            let severity = rule.severity.unwrap_or(Severity::Error);
            let (verdict, waiver) = self.waive_decided(
                &rule.id,
                description.as_ref(),
                (&difference.resource, difference.kind, place),
                severity,
            );
            (Judgement::Finding(verdict), waiver.map(Decided::Hid))
        };
        match rule.action {
            Action::Ignore => (Judgement::Ignored, hid),
            // Equal values under `require-different` are the violation; a difference is what it asks for.
            Action::RequireDifferent if difference.op == Some(ChangeOp::Equal) => {
                let (judgement, waiver) = violation();
                (judgement, waiver.or(suppressor.map(Decided::Flagged)))
            }
            Action::Allow | Action::RequireDifferent => (
                Judgement::Finding(Verdict {
                    status: Status::Expected,
                    severity: Severity::Info,
                    rule: rule_id,
                    note: description,
                }),
                hid,
            ),
            Action::Deny => violation(),
        }
    }

    /// Fields that `require-different` rules name and that hold the same value on both sides of a
    /// parity pair (`left` and `right` normalized, secrets as fingerprints).
    pub fn equal_values(
        &self,
        left: &Resource,
        right: &Resource,
        place: &Place<'_>,
    ) -> Vec<Difference> {
        let mut out = Vec::new();
        if self.equal_rules.is_empty() {
            return out;
        }
        let resource = ResourceRef::of(right);
        let object = std::sync::OnceLock::new();
        for CompiledRule { rule, matcher } in self.equal_rules.iter().map(|&i| &self.rules[i]) {
            if !matcher.matches(&resource, FindingKind::Parity, place) {
                continue;
            }
            for pattern in &rule.paths {
                for (path, value) in pattern.find(&right.object) {
                    if path.resolve(&left.object) == Some(value)
                        && !out.iter().any(|d: &Difference| d.path == path)
                    {
                        let object = object.get_or_init(|| Arc::new(left.object_with_identity()));
                        let change = Change {
                            path,
                            op: ChangeOp::Equal,
                            left: Some(value.clone()),
                            right: Some(value.clone()),
                        };
                        let source = left.source.clone().or_else(|| right.source.clone());
                        out.push(Difference::field(
                            FindingKind::Parity,
                            resource.clone(),
                            change,
                            source,
                            object.clone(),
                        ));
                    }
                }
            }
        }
        out
    }

    /// A violation of rule or check `id`, unless a waiver holds it on the finding's resource, kind
    /// and place; and the waiver's place in [`Policies::suppressors`] when one waived it.
    pub(super) fn waive_decided(
        &self,
        id: &str,
        description: Option<&String>,
        (resource, kind, place): (&ResourceRef, FindingKind, &Place<'_>),
        severity: Severity,
    ) -> (Verdict, Option<usize>) {
        let violation = |note: Option<String>| Verdict {
            status: Status::Violation,
            severity,
            rule: Some(id.to_string()),
            note,
        };
        let waiver = self
            .waivers
            .iter()
            .enumerate()
            .find(|(_, w)| w.waiver.rule == id && w.matcher.matches(resource, kind, place));
        match waiver {
            None => (violation(description.cloned()), None),
            Some((index, CompiledWaiver { waiver, .. })) if waiver.expires_day >= self.today => (
                Verdict {
                    status: Status::Waived,
                    severity,
                    rule: Some(id.to_string()),
                    note: Some(format!(
                        "waived for {} until {}: {}",
                        waiver.owner, waiver.expires, waiver.reason
                    )),
                },
                self.waiver_suppressor.get(index).copied(),
            ),
            Some((_, CompiledWaiver { waiver, .. })) => (
                violation(Some(format!(
                    "the waiver for {} lapsed on {} ({}); renew it or fix this",
                    waiver.owner, waiver.expires, waiver.reason
                ))),
                None,
            ),
        }
    }
}

fn scope_allows(rule: RuleScope, scope: Scope) -> bool {
    match rule {
        RuleScope::All => true,
        RuleScope::Parity => scope == Scope::Parity,
        RuleScope::Drift => scope == Scope::Drift,
    }
}

/// What a promotion finding comes to when no rule naming `findings: [promotion]` decides it
/// (docs/promotion.md): a lag within `max_lag` is expected; past it, or a reverted value, a
/// warning; a value upstream never ran, an error.
fn engine_verdict(promotion: &Promotion) -> Verdict {
    let (status, severity) = match promotion.state {
        PromotionState::Lag if !promotion.overdue => (Status::Expected, Severity::Info),
        PromotionState::Lag | PromotionState::Reverted => (Status::Violation, Severity::Warning),
        PromotionState::Unvalidated => (Status::Violation, Severity::Error),
    };
    Verdict {
        status,
        severity,
        rule: None,
        note: None,
    }
}

/// The names promotion conditions see beside `left`, `right` and `object`.
const PROMOTION_VARIABLES: [&str; 4] = ["state", "upstream_value", "since_time", "age_days"];

/// Their values, in [`PROMOTION_VARIABLES`]' order.
fn promotion_variables(promotion: &Promotion) -> [Value; 4] {
    [
        Value::from(promotion.state.as_str()),
        Value::from(promotion.upstream_value.clone()),
        Value::from(crate::timestamp::format_unix(
            promotion.since_time.max(0) as u64
        )),
        Value::from(promotion.age_days),
    ]
}

fn applies(
    compiled: &CompiledRule,
    difference: &Difference,
    scope: Scope,
    place: &Place<'_>,
) -> bool {
    let rule = &compiled.rule;
    let scope_ok = scope_allows(rule.scope, scope);
    // A rule without paths covers the whole object; a rule with paths covers the fields it names.
    let path_ok = rule.paths.is_empty()
        || (!difference.path.is_root() && rule.paths.iter().any(|p| p.matches(&difference.path)));
    scope_ok
        && path_ok
        && compiled
            .matcher
            .matches(&difference.resource, difference.kind, place)
        && compiled
            .matcher
            .matches_manager(difference.changed_by.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{ChangeOp, Path};

    use crate::policy::rules::parse;

    const DAY: i64 = 20_000; // 2024-10-04

    fn difference(kind: FindingKind, resource_kind: &str, name: &str, path: &str) -> Difference {
        let mut d = crate::compare::test_support::field_difference(
            kind,
            ("apps", resource_kind, name),
            path,
            None,
            None,
        );
        d.resource.labels = [("tier".to_string(), "web".to_string())].into();
        d
    }

    fn policies(text: &str) -> Policies {
        Policies::new(vec![parse(text, "p.yaml").unwrap()], DAY)
    }

    /// Drift findings in `production`, parity findings of the pair staging, production.
    fn verdict(p: &Policies, d: &Difference) -> (Status, Severity, Option<String>) {
        let envs: &[&str] = match scope_of(d.kind) {
            Scope::Drift => &["production"],
            Scope::Parity => &["staging", "production"],
        };
        verdict_at(p, d, &Place::of(envs))
    }

    fn verdict_at(
        p: &Policies,
        d: &Difference,
        place: &Place<'_>,
    ) -> (Status, Severity, Option<String>) {
        match p.judge(d, place, &mut Vec::new()) {
            Judgement::Finding(v) => (v.status, v.severity, v.rule),
            Judgement::Ignored => panic!("ignored"),
        }
    }

    #[test]
    fn rules_and_waivers_select_by_environment_pair_edge_and_finding_kind() {
        let p = policies(
            r#"version: 1
rules:
  - id: prod-images
    match: {envs: ["prod-*"], findings: [drift]}
    paths: [spec.replicas]
    action: deny
    severity: warning
  - id: promotion-replicas
    match: {pairs: [["staging-*", "prod-*"]], edges: true}
    paths: [spec.replicas]
    action: allow
    description: "{downstream} is sized apart from {upstream}"
  - id: peers-replicas
    match: {edges: false}
    paths: [spec.replicas]
    action: deny
waivers:
  - rule: peers-replicas
    match: {envs: ["prod-eu", "prod-us"]}
    owner: sre
    reason: capacity differs per region
    expires: 2999-01-01
"#,
        );
        let drift = difference(FindingKind::Drift, "Deployment", "api", "spec.replicas");
        let parity = difference(FindingKind::Parity, "Deployment", "api", "spec.replicas");
        let at = |envs: &'static [&'static str], edge| Place { envs, edge };
        // Drift in a prod environment: the env-scoped rule; elsewhere, nothing decides.
        assert_eq!(
            verdict_at(&p, &drift, &at(&["prod-eu"], false))
                .2
                .as_deref(),
            Some("prod-images")
        );
        assert_eq!(
            verdict_at(&p, &drift, &at(&["dev"], false)).0,
            Status::Unreviewed
        );
        // A promotion edge into prod: the pair-scoped rule, its message naming the pair.
        let edge = at(&["staging-eu", "prod-eu"], true);
        assert_eq!(
            verdict_at(&p, &parity, &edge).2.as_deref(),
            Some("promotion-replicas")
        );
        let mut errors = Vec::new();
        let Judgement::Finding(v) = p.judge(&parity, &edge, &mut errors) else {
            panic!("ignored")
        };
        assert_eq!(
            v.note.as_deref(),
            Some("prod-eu is sized apart from staging-eu")
        );
        // The same two environments in the other order are no such pair, and no edge.
        let reversed = at(&["prod-eu", "staging-eu"], false);
        assert_eq!(
            verdict_at(&p, &parity, &reversed).2.as_deref(),
            Some("peers-replicas")
        );
        // Peers: the env-scoped rule names `drift` only, so two prod environments' parity finding
        // reaches the peers rule: denied, and waived where both environments are the waiver's.
        let peers = at(&["prod-eu", "prod-us"], false);
        assert_eq!(verdict_at(&p, &parity, &peers).0, Status::Waived);
        let other_peers = at(&["qa-a", "qa-b"], false);
        assert_eq!(verdict_at(&p, &parity, &other_peers).0, Status::Violation);
    }

    const RULES: &str = r#"version: 1
rules:
  - id: replicas
    scope: parity
    match: {kinds: [apps/Deployment]}
    paths: [spec.replicas]
    action: allow
  - id: images
    match: {kinds: [Deployment], labels: {tier: web}}
    paths: ["spec.template.spec.containers[*].image"]
    action: deny
    severity: warning
  - id: noisy
    paths: [metadata.annotations]
    action: ignore
  - id: everything-else-in-legacy
    match: {names: ["legacy-*"]}
    action: deny
waivers:
  - rule: everything-else-in-legacy
    match: {names: [legacy-api]}
    owner: payments-team
    reason: PAY-123
    expires: 2024-10-04
defaults: {parity: info}
"#;

    #[test]
    fn first_matching_rule_decides() {
        let p = policies(RULES);
        let replicas = difference(FindingKind::Parity, "Deployment", "api", "spec.replicas");
        assert_eq!(
            verdict(&p, &replicas),
            (Status::Expected, Severity::Info, Some("replicas".into()))
        );
        let image = difference(
            FindingKind::Parity,
            "Deployment",
            "api",
            "spec.template.spec.containers[name=api].image",
        );
        assert_eq!(
            verdict(&p, &image),
            (Status::Violation, Severity::Warning, Some("images".into()))
        );
        let annotation = difference(
            FindingKind::Drift,
            "Deployment",
            "api",
            "metadata.annotations.x",
        );
        assert_eq!(
            p.judge(
                &annotation,
                &Place::of(&["staging", "production"]),
                &mut Vec::new()
            ),
            Judgement::Ignored
        );
        let other = difference(FindingKind::Parity, "Deployment", "api", "spec.paused");
        assert_eq!(
            verdict(&p, &other),
            (Status::Unreviewed, Severity::Info, None)
        );
        let drift_other = difference(FindingKind::Drift, "Deployment", "api", "spec.paused");
        assert_eq!(
            verdict(&p, &drift_other),
            (Status::Unreviewed, Severity::Error, None)
        );
    }

    #[test]
    fn judging_says_which_rule_or_waiver_hid_a_difference() {
        let p = policies(RULES);
        // `images` is a deny rule: not a suppressor. Order: replicas, noisy, then the waiver.
        let labels: Vec<String> = p
            .suppressors()
            .iter()
            .map(|s| format!("{:?}@{}", s.kind, s.line))
            .collect();
        assert_eq!(labels.len(), 3, "{labels:?}");
        let decided = |d: &Difference| {
            p.judge_decided(d, &Place::of(&["staging", "production"]), &mut Vec::new())
                .1
        };
        let replicas = difference(FindingKind::Parity, "Deployment", "api", "spec.replicas");
        assert_eq!(decided(&replicas), Some(Decided::Hid(0)), "allowed");
        let noisy = difference(
            FindingKind::Parity,
            "Deployment",
            "api",
            "metadata.annotations.x",
        );
        assert_eq!(decided(&noisy), Some(Decided::Hid(1)), "ignored");
        let legacy = difference(FindingKind::OnlyIn, "Deployment", "legacy-api", "");
        assert_eq!(decided(&legacy), Some(Decided::Hid(2)), "waived");
        assert!(p.suppressors()[2].expiring, "expires on the day judged");
        let image = difference(
            FindingKind::Parity,
            "Deployment",
            "api",
            "spec.template.spec.containers[name=api].image",
        );
        assert_eq!(decided(&image), None, "a violation hides nothing");
        let other = difference(FindingKind::OnlyIn, "Deployment", "legacy-worker", "");
        assert_eq!(decided(&other), None, "the waiver names legacy-api only");
    }

    #[test]
    fn require_different_hides_what_differs_and_flags_what_is_equal() {
        let p = policies(
            "version: 1\nrules:\n  - id: secrets-differ\n    match: {kinds: [Secret]}\n    paths: [\"data.*\"]\n    action: require-different\n",
        );
        assert!(!p.suppressors()[0].broad);
        let mut d = difference(FindingKind::Parity, "Secret", "db", "data.password");
        let place = Place::of(&["staging", "production"]);
        d.op = Some(ChangeOp::Changed);
        assert_eq!(
            p.judge_decided(&d, &place, &mut Vec::new()).1,
            Some(Decided::Hid(0))
        );
        d.op = Some(ChangeOp::Equal);
        assert_eq!(
            p.judge_decided(&d, &place, &mut Vec::new()).1,
            Some(Decided::Flagged(0))
        );
    }

    #[test]
    fn scopes_restrict_rules() {
        let p = policies(RULES);
        // `replicas` is a parity rule: drift of replicas is not covered by it.
        let drift = difference(FindingKind::Drift, "Deployment", "api", "spec.replicas");
        assert_eq!(verdict(&p, &drift).0, Status::Unreviewed);
    }

    #[test]
    fn rules_without_paths_cover_whole_objects_and_waivers_expire() {
        let p = policies(RULES);
        let only_in = difference(FindingKind::OnlyIn, "Deployment", "legacy-api", "");
        assert_eq!(
            verdict(&p, &only_in).0,
            Status::Waived,
            "the waiver holds through its expiry day"
        );
        let later = Policies::new(vec![parse(RULES, "p.yaml").unwrap()], DAY + 1);
        let Judgement::Finding(v) = later.judge(
            &only_in,
            &Place::of(&["staging", "production"]),
            &mut Vec::new(),
        ) else {
            panic!()
        };
        assert_eq!(v.status, Status::Violation);
        assert!(v.note.unwrap().contains("lapsed on 2024-10-04"));
        let unwaived = difference(FindingKind::OnlyIn, "Deployment", "legacy-worker", "");
        assert_eq!(verdict(&p, &unwaived).0, Status::Violation);
        // A path rule never decides a whole-object finding.
        let whole = difference(FindingKind::OnlyIn, "Deployment", "api", "");
        assert_eq!(verdict(&p, &whole).0, Status::Unreviewed);
    }

    #[test]
    fn labels_must_match() {
        let p = policies(RULES);
        let mut image = difference(
            FindingKind::Parity,
            "Deployment",
            "api",
            "spec.template.spec.containers[name=api].image",
        );
        image.resource.labels.clear();
        assert_eq!(verdict(&p, &image).0, Status::Unreviewed);
    }

    #[test]
    fn conditions_decide_whether_a_rule_applies_and_failures_are_reported() {
        let p = policies(
            "version: 1\nrules:\n  - id: grow-only\n    paths: [spec.replicas]\n    condition: \"right >= left\"\n    action: allow\n  - id: labelled\n    paths: [spec.paused]\n    condition: \"object.metadata.labels.tier == 'web'\"\n    action: deny\n",
        );
        let mut d = difference(FindingKind::Parity, "Deployment", "api", "spec.replicas");
        d.left = Some(1.into());
        d.right = Some(3.into());
        assert_eq!(
            verdict(&p, &d).0,
            Status::Expected,
            "condition true: the rule applies"
        );
        d.right = Some(0.into());
        assert_eq!(
            verdict(&p, &d).0,
            Status::Unreviewed,
            "condition false: no rule applies"
        );
        let mut paused = difference(FindingKind::Parity, "Deployment", "api", "spec.paused");
        paused.object = Some(std::sync::Arc::new(serde_json::json!({"spec": {}})));
        let mut errors = Vec::new();
        let Judgement::Finding(v) =
            p.judge(&paused, &Place::of(&["staging", "production"]), &mut errors)
        else {
            panic!()
        };
        assert_eq!(v.status, Status::Unreviewed);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("p.yaml:7:") && errors[0].contains("labelled"),
            "{}",
            errors[0]
        );
        assert_eq!(v.note.as_deref(), Some(errors[0].as_str()));
    }

    #[test]
    fn require_different_flags_equal_values_and_accepts_differences() {
        use crate::model::test_support::resource;
        use serde_json::json;
        let p = policies(
            "version: 1\nrules:\n  - id: secrets-differ\n    match: {kinds: [Secret]}\n    paths: [\"data.*\"]\n    action: require-different\n",
        );
        let left = resource(
            "Secret",
            "a",
            "db",
            json!({"data": {"password": "hmac-sha256:aaaaaaaaaaaa", "user": "hmac-sha256:bbbbbbbbbbbb"}}),
        );
        let right = resource(
            "Secret",
            "a",
            "db",
            json!({"data": {"password": "hmac-sha256:aaaaaaaaaaaa", "user": "hmac-sha256:cccccccccccc"}}),
        );
        let equal = p.equal_values(&left, &right, &Place::of(&["staging", "production"]));
        assert_eq!(equal.len(), 1);
        assert_eq!(equal[0].path.to_string(), "data.password");
        assert_eq!(
            verdict(&p, &equal[0]),
            (
                Status::Violation,
                Severity::Error,
                Some("secrets-differ".into())
            )
        );
        let mut changed = equal[0].clone();
        changed.path = Path::parse("data.user").unwrap();
        changed.op = Some(ChangeOp::Changed);
        assert_eq!(verdict(&p, &changed).0, Status::Expected);
        // Not a Secret: the rule does not look at it.
        let config = resource("ConfigMap", "a", "db", json!({"data": {"password": "x"}}));
        assert!(
            p.equal_values(&config, &config, &Place::of(&["staging", "production"]))
                .is_empty()
        );
    }

    /// A promotion finding on the edge staging → production at an image path.
    fn promotion_finding(state: PromotionState, age_days: i64, overdue: bool) -> Difference {
        let mut d = difference(
            FindingKind::Promotion,
            "Deployment",
            "api",
            "spec.template.spec.containers[name=api].image",
        );
        d.left = Some("r/api:2.4.1".into());
        d.right = Some("r/api:2.3.0".into());
        d.promotion = Some(Box::new(Promotion {
            state,
            upstream_value: "r/api:2.4.1".into(),
            since_commit: "3f2a9c1".repeat(5) + "00000",
            since_time: 1_795_000_000,
            searched_commits: 200,
            searched_since: 1_780_000_000,
            age_days,
            overdue,
        }));
        d
    }

    fn on_edge(p: &Policies, d: &Difference) -> (Status, Severity, Option<String>) {
        verdict_at(
            p,
            d,
            &Place {
                envs: &["staging", "production"],
                edge: true,
            },
        )
    }

    #[test]
    fn promotion_findings_take_the_engines_verdict_without_a_rule() {
        let p = Policies::none();
        let verdicts: Vec<_> = [
            (PromotionState::Lag, false),
            (PromotionState::Lag, true),
            (PromotionState::Unvalidated, false),
            (PromotionState::Reverted, false),
        ]
        .into_iter()
        .map(|(state, overdue)| on_edge(&p, &promotion_finding(state, 3, overdue)))
        .collect();
        assert_eq!(
            verdicts,
            [
                (Status::Expected, Severity::Info, None),
                (Status::Violation, Severity::Warning, None),
                (Status::Violation, Severity::Error, None),
                (Status::Violation, Severity::Warning, None),
            ]
        );
    }

    #[test]
    fn only_rules_naming_promotion_findings_decide_them() {
        // A parity rule covering every image, with no `findings`: it decides the plain parity
        // finding and never the promotion one, whose lag stays expected.
        let p = policies(
            r#"version: 1
rules:
  - id: same-images
    paths: ["spec.template.spec.containers[*].image"]
    action: deny
"#,
        );
        let lag = promotion_finding(PromotionState::Lag, 3, false);
        assert_eq!(on_edge(&p, &lag), (Status::Expected, Severity::Info, None));
        let mut parity = lag.clone();
        parity.kind = FindingKind::Parity;
        parity.promotion = None;
        assert_eq!(on_edge(&p, &parity).2.as_deref(), Some("same-images"));
        // Naming `promotion` in `findings` decides it.
        let p = policies(
            r#"version: 1
rules:
  - id: no-lag
    match: {findings: [promotion]}
    action: deny
    severity: warning
"#,
        );
        assert_eq!(
            on_edge(&p, &lag),
            (Status::Violation, Severity::Warning, Some("no-lag".into()))
        );
    }

    #[test]
    fn promotion_conditions_see_state_upstream_value_since_time_and_age_days() {
        let p = policies(
            r#"version: 1
rules:
  - id: old-hotfix
    match: {findings: [promotion]}
    condition: "state == 'unvalidated' && age_days > 7"
    action: deny
  - id: upstream-of-the-2-4-line
    match: {findings: [promotion]}
    condition: "upstream_value.endsWith(':2.4.1') && since_time.startsWith('2026-11-18')"
    action: allow
"#,
        );
        let old = promotion_finding(PromotionState::Unvalidated, 8, false);
        assert_eq!(on_edge(&p, &old).2.as_deref(), Some("old-hotfix"));
        // Seven days is not more than seven: the next rule reads the upstream value and time.
        let young = promotion_finding(PromotionState::Unvalidated, 7, false);
        assert_eq!(
            on_edge(&p, &young),
            (
                Status::Expected,
                Severity::Info,
                Some("upstream-of-the-2-4-line".into())
            )
        );
        let mut elsewhere = young.clone();
        if let Some(promotion) = elsewhere.promotion.as_mut() {
            promotion.upstream_value = "r/api:3.0.0".into();
        }
        // No rule applies: the engine's verdict (unvalidated is an error).
        assert_eq!(
            on_edge(&p, &elsewhere),
            (Status::Violation, Severity::Error, None)
        );
    }
}
