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
}
