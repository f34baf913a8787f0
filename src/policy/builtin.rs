//! Shipped policies, embedded in the binary (`policies/` in the repository, each documented there).
//!
//! `builtin:noise` is loaded after every file a run names, so users override it; the others apply
//! only where `plumb.yaml` names them, so no one's results change because a release added an
//! opinion.

use super::rules::{PolicyError, PolicyFile, parse};

/// The noise catalogue: always loaded, always last.
pub const NOISE: &str = "builtin:noise";

const SHIPPED: &[(&str, &str)] = &[
    (NOISE, include_str!("../../policies/noise.yaml")),
    (
        "builtin:parity-baseline",
        include_str!("../../policies/parity-baseline.yaml"),
    ),
    (
        "builtin:security",
        include_str!("../../policies/security.yaml"),
    ),
    (
        "builtin:promotion",
        include_str!("../../policies/promotion.yaml"),
    ),
];

/// The names users can write in `policies:`.
pub fn names() -> impl Iterator<Item = &'static str> {
    SHIPPED.iter().map(|(name, _)| *name)
}

/// The YAML of the shipped policy `name`, as shipped (`plumb policy show`); `None` when no
/// policy has that name.
pub fn text(name: &str) -> Option<&'static str> {
    SHIPPED
        .iter()
        .find(|(shipped, _)| *shipped == name)
        .map(|(_, text)| *text)
}

/// The shipped policy `name` (`builtin:security`), parsed; `None` when no policy has that name.
pub fn load(name: &str) -> Option<Result<PolicyFile, PolicyError>> {
    SHIPPED
        .iter()
        .find(|(shipped, _)| *shipped == name)
        .map(|(name, text)| parse(text, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_policy_parses_and_lints_clean() {
        for name in names() {
            let file = load(name)
                .unwrap()
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!file.rules.is_empty(), "{name}");
            let findings = crate::policy::lint::lint(std::slice::from_ref(&file), 0, None);
            assert!(findings.is_empty(), "{name}: {findings:?}");
        }
        assert!(load("builtin:nope").is_none());
    }

    #[test]
    fn pinned_images_means_a_tag_other_than_latest_or_a_digest() {
        let security = load("builtin:security").unwrap().unwrap();
        let check = &security.checks[0].assert;
        let pinned = |image: &str| {
            let object = serde_json::json!({"kind": "Deployment",
                "spec": {"template": {"spec": {"containers": [{"name": "a", "image": image}]}}}});
            check.evaluate(&[("object", &object)]).unwrap()
        };
        assert!(pinned("api:1.4.0"));
        assert!(pinned("registry.example.com:5000/team/api:1.4.0"));
        assert!(pinned("api@sha256:0123456789abcdef"));
        assert!(!pinned("api"));
        assert!(!pinned("api:latest"));
        assert!(!pinned("registry.example.com:5000/team/api"));
        let cronjob = serde_json::json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template":
            {"spec": {"containers": [{"name": "a", "image": "a:1"}], "initContainers": [{"name": "i", "image": "i"}]}}}}}});
        assert_eq!(check.evaluate(&[("object", &cronjob)]), Ok(false));
    }

    /// builtin:promotion's hotfix recipe: a warning while the hotfix is at most 7 days old, an
    /// error past that; rules that do not concern a finding's state leave the engine's verdict.
    #[test]
    fn hotfixes_are_warnings_for_seven_days_then_errors() {
        use crate::compare::promotion::{Promotion, PromotionState};
        use crate::compare::{FindingKind, test_support::field_difference};
        use crate::policy::eval::{Judgement, Policies};
        use crate::policy::{Place, Severity, Status};
        let policies = Policies::new(vec![load("builtin:promotion").unwrap().unwrap()], 0);
        let judged = |state, age_days| {
            let mut d = field_difference(
                FindingKind::Promotion,
                ("apps", "Deployment", "api"),
                "spec.template.spec.containers[name=api].image",
                Some("api:2.4.1".into()),
                Some("api:1.7.3-hotfix".into()),
            );
            d.promotion = Some(Box::new(Promotion {
                state,
                upstream_value: "api:2.4.1".into(),
                since_commit: String::new(),
                since_time: 0,
                searched_commits: 1,
                searched_since: 0,
                age_days,
                overdue: false,
            }));
            let place = Place {
                envs: &["staging", "production"],
                edge: true,
            };
            match policies.judge(&d, &place, &mut Vec::new()) {
                Judgement::Finding(v) => (v.status, v.severity, v.rule, v.note),
                Judgement::Ignored => panic!("ignored"),
            }
        };
        let young = judged(PromotionState::Unvalidated, 7);
        assert_eq!(
            (young.0, young.1, young.2.as_deref()),
            (
                Status::Violation,
                Severity::Warning,
                Some("promotion-hotfix-in-flight")
            )
        );
        // Messages name the real environments, never a hard-coded one.
        assert_eq!(
            young.3.as_deref(),
            Some("A hotfix staging has not run yet: back-port it to staging within 7 days.")
        );
        let old = judged(PromotionState::Unvalidated, 8);
        assert_eq!(
            (old.0, old.1, old.2.as_deref()),
            (
                Status::Violation,
                Severity::Error,
                Some("promotion-hotfix-overdue")
            )
        );
        let reverted = judged(PromotionState::Reverted, 0);
        assert_eq!(
            (reverted.1, reverted.2.as_deref()),
            (Severity::Error, Some("promotion-reverted"))
        );
        // An unlabelled lag: no recipe applies, the engine's verdict stands.
        let lag = judged(PromotionState::Lag, 30);
        assert_eq!((lag.0, lag.2), (Status::Expected, None));
    }

    #[test]
    fn shipped_policies_never_name_an_environment() {
        for name in names() {
            let file = load(name).unwrap().unwrap();
            for rule in &file.rules {
                let description = rule.description.as_deref().unwrap_or("").to_lowercase();
                let words: Vec<&str> = description.split(|c: char| !c.is_alphanumeric()).collect();
                for env in ["staging", "production", "prod", "dev", "qa"] {
                    assert!(
                        !words.contains(&env),
                        "{name}: rule `{}` names `{env}`",
                        rule.id
                    );
                }
            }
        }
    }
}
