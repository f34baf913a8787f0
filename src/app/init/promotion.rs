//! Environment names and the promotion order they suggest: dev → test/qa → staging/uat →
//! prod, a region suffix keeping its own branch (docs/sources.md, "`plumb init`").

use std::collections::BTreeMap;

/// The promotion stage a word names: 0 dev, 1 test, 2 staging, 3 production.
fn stage_word(word: &str) -> Option<u8> {
    match word {
        "dev" | "develop" | "development" => Some(0),
        "test" | "testing" | "qa" | "int" | "integration" | "load" | "perf" => Some(1),
        "stage" | "staging" | "stg" | "uat" | "preprod" => Some(2),
        "prod" | "production" | "prd" | "live" => Some(3),
        _ => None,
    }
}

/// Words that name a region beside a stage word (`shop-prod-eu`): only these, so that
/// `shop-staging-api` stays `staging` rather than becoming an environment `staging-api`.
const REGIONS: &[&str] = &[
    "eu", "us", "uk", "ap", "apac", "emea", "amer", "asia", "au", "ca", "jp", "in", "de", "fr",
    "br", "sg",
];

/// Where a name places an environment in promotion: its stage (0 dev, 1 test, 2 staging, 3
/// production) and the region that keeps its own branch (`staging-eu` → (2, "eu")).
pub(super) fn stage_of(name: &str) -> Option<(u8, String)> {
    let lower = name.to_ascii_lowercase();
    let lower = lower
        .strip_prefix("pre-")
        .or_else(|| lower.strip_prefix("pre_"))
        .map(|rest| format!("preprod{}", rest.strip_prefix("prod").unwrap_or(rest)))
        .unwrap_or(lower);
    let parts: Vec<&str> = lower.split(['-', '_']).filter(|p| !p.is_empty()).collect();
    let (first, last) = (parts.first()?, parts.last()?);
    if let Some(s) = stage_word(first) {
        return Some((s, parts[1..].join("-")));
    }
    stage_word(last).map(|s| (s, parts[..parts.len() - 1].join("-")))
}

/// The environment a controller object's name (or namespace, cluster, folder) speaks of:
/// `shop-staging` → `staging`, `shop-prod-eu` → `prod-eu`, `eu-prod-shop` → `eu-prod`.
pub(super) fn environment_in(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split(['-', '_', '.', '/']).collect();
    let at = parts.iter().position(|p| stage_word(p).is_some())?;
    let stage = parts[at];
    if let Some(region) = parts.get(at + 1).filter(|r| REGIONS.contains(r)) {
        return Some(format!("{stage}-{region}"));
    }
    if let Some(region) = at
        .checked_sub(1)
        .map(|i| parts[i])
        .filter(|r| REGIONS.contains(r))
    {
        return Some(format!("{region}-{stage}"));
    }
    Some(stage.to_string())
}

/// The promotion edges the names suggest: each environment's upstream is the environment of the
/// nearest earlier stage in its own region, else one without a region, else any.
pub(super) fn guess_upstreams(names: &[String]) -> BTreeMap<String, String> {
    let staged: Vec<(&String, u8, String)> = names
        .iter()
        .filter_map(|n| stage_of(n).map(|(s, r)| (n, s, r)))
        .collect();
    let mut upstream = BTreeMap::new();
    for (name, stage, region) in &staged {
        let earlier = |keep: &dyn Fn(&str) -> bool| {
            staged
                .iter()
                .filter(|(_, s, r)| s < stage && keep(r))
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
                .map(|(n, _, _)| (*n).clone())
        };
        let found = earlier(&|r| r == region.as_str())
            .or_else(|| earlier(&|r| r.is_empty()))
            .or_else(|| earlier(&|_| true));
        if let Some(up) = found {
            upstream.insert((*name).clone(), up);
        }
    }
    upstream
}

/// `names` in promotion order under `upstream`: stage by stage from the roots, names in order
/// within a stage, then the rest.
pub(super) fn promotion_order(
    names: &[String],
    upstream: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    let mut stage: Vec<String> = names
        .iter()
        .filter(|n| !upstream.contains_key(*n) && upstream.values().any(|u| u == *n))
        .cloned()
        .collect();
    while !stage.is_empty() {
        order.extend(stage.iter().cloned());
        stage = names
            .iter()
            .filter(|n| !order.contains(n) && upstream.get(*n).is_some_and(|u| stage.contains(u)))
            .cloned()
            .collect();
    }
    let rest: Vec<String> = names
        .iter()
        .filter(|n| !order.contains(n))
        .cloned()
        .collect();
    order.extend(rest);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn stages_and_regions_come_from_the_usual_names() {
        assert_eq!(stage_of("dev"), Some((0, String::new())));
        assert_eq!(stage_of("QA"), Some((1, String::new())));
        assert_eq!(stage_of("staging-eu"), Some((2, "eu".into())));
        assert_eq!(stage_of("eu-prod"), Some((3, "eu".into())));
        assert_eq!(stage_of("pre-prod"), Some((2, String::new())));
        assert_eq!(stage_of("production"), Some((3, String::new())));
        assert_eq!(stage_of("sandbox"), None);
    }

    #[test]
    fn controller_object_names_give_their_environment() {
        assert_eq!(environment_in("shop-staging").as_deref(), Some("staging"));
        assert_eq!(environment_in("shop-prod-eu").as_deref(), Some("prod-eu"));
        assert_eq!(environment_in("eu-prod-shop").as_deref(), Some("eu-prod"));
        assert_eq!(
            environment_in("shop-staging-api").as_deref(),
            Some("staging"),
            "only known regions extend a stage"
        );
        assert_eq!(
            environment_in("apps/production/shop.yaml").as_deref(),
            Some("production")
        );
        assert_eq!(environment_in("shop"), None);
    }

    #[test]
    fn regions_keep_their_own_branch() {
        let envs = names(&[
            "dev",
            "prod-eu",
            "prod-us",
            "qa",
            "staging-eu",
            "staging-us",
        ]);
        let up = guess_upstreams(&envs);
        let edges: Vec<String> = up.iter().map(|(d, u)| format!("{u}->{d}")).collect();
        assert_eq!(
            edges,
            [
                "staging-eu->prod-eu",
                "staging-us->prod-us",
                "dev->qa",
                "qa->staging-eu",
                "qa->staging-us"
            ]
        );
        assert_eq!(
            promotion_order(&envs, &up),
            [
                "dev",
                "qa",
                "staging-eu",
                "staging-us",
                "prod-eu",
                "prod-us"
            ]
        );
    }
}
