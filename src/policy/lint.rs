//! `plumb policy lint`: what is wrong with policy files that still parse — rules that can never
//! match because an earlier rule takes everything they would, waivers that expired or name no rule
//! (warnings), and conditions or assertions estimated to cost more than one evaluation may
//! (errors: policy::cost).

use super::expr::Expression;
use super::rules::{Match, Origin, PolicyFile, Rule, RuleScope};
use crate::diff::Path;
use crate::limits::{ASSUMED_LIST_SIZE, ASSUMED_STRING_LENGTH, MAX_CEL_COST};

/// How bad a lint finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The policy must be fixed before it is used (`plumb policy lint` exits 2): Kubernetes
    /// rejects such a rule when it is created, and lint is plumb's equivalent of creation.
    Error,
    /// The policy works, but not as its author probably meant (exit 1).
    Warning,
}

/// One lint finding, at a place in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintFinding {
    pub level: Level,
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl LintFinding {
    fn warning(origin: &Origin, message: String) -> LintFinding {
        LintFinding {
            level: Level::Warning,
            file: origin.file.clone(),
            line: origin.line,
            column: origin.column,
            message,
        }
    }
}

impl std::fmt::Display for LintFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.level {
            Level::Error => "error: ",
            Level::Warning => "",
        };
        write!(
            f,
            "{}:{}:{}: {level}{}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// The environments and pairs of a config, for finding selections that match none of them.
pub struct Estate<'a> {
    pub environments: &'a [String],
    /// Ordered (left, right) pairs the config compares: edges and peer pairs.
    pub pairs: &'a [(String, String)],
}

/// Lints policy files in the order a run would read them. `today` is days since 1970-01-01; with
/// `estate` (the files a config names), selections by environment or pair that match none of its
/// environments or pairs are reported too.
pub fn lint(files: &[PolicyFile], today: i64, estate: Option<&Estate<'_>>) -> Vec<LintFinding> {
    let rules: Vec<&Rule> = files.iter().flat_map(|f| &f.rules).collect();
    let mut out = Vec::new();
    if let Some(estate) = estate {
        let selections = files.iter().flat_map(|f| {
            let rules = f
                .rules
                .iter()
                .map(|r| ("rule", &r.id, &r.matcher, &r.origin));
            let checks = f
                .checks
                .iter()
                .map(|c| ("check", &c.id, &c.matcher, &c.origin));
            let waivers = f
                .waivers
                .iter()
                .map(|w| ("waiver for", &w.rule, &w.matcher, &w.origin));
            rules.chain(checks).chain(waivers)
        });
        for (what, id, matcher, origin) in selections {
            if let Some(problem) = selects_nothing(matcher, estate) {
                out.push(LintFinding::warning(
                    origin,
                    format!("{what} `{id}` can never apply: {problem}"),
                ));
            }
        }
    }
    for (i, later) in rules.iter().enumerate() {
        if let Some(earlier) = rules[..i].iter().find(|earlier| shadows(earlier, later)) {
            out.push(LintFinding::warning(
                &later.origin,
                format!(
                    "rule `{}` can never apply: rule `{}` at {}:{} comes first and matches everything it does",
                    later.id, earlier.id, earlier.origin.file, earlier.origin.line
                ),
            ));
        }
    }
    for waiver in files.iter().flat_map(|f| &f.waivers) {
        let at = |message: String| LintFinding::warning(&waiver.origin, message);
        let known = rules.iter().any(|r| r.id == waiver.rule)
            || files
                .iter()
                .flat_map(|f| &f.checks)
                .any(|c| c.id == waiver.rule);
        if !known {
            out.push(at(format!(
                "waiver for {} names `{}`, which no policy file defines as a rule or check",
                waiver.owner, waiver.rule
            )));
        }
        if waiver.expires_day < today {
            out.push(at(format!(
                "waiver for {} on rule `{}` expired on {}: its violations fire again",
                waiver.owner, waiver.rule, waiver.expires
            )));
        }
    }
    for file in files {
        let conditions = file.rules.iter().filter_map(|rule| {
            let condition = rule.condition.as_ref()?;
            Some((
                format!("the condition of rule `{}`", rule.id),
                condition,
                &rule.origin,
            ))
        });
        let assertions = file.checks.iter().map(|check| {
            (
                format!("the assertion of check `{}`", check.id),
                &check.assert,
                &check.origin,
            )
        });
        out.extend(
            conditions
                .chain(assertions)
                .filter_map(|(what, expression, origin)| too_costly(&what, expression, origin)),
        );
    }
    out
}

/// What makes `matcher` select nothing in `estate`, if anything does.
fn selects_nothing(matcher: &Match, estate: &Estate<'_>) -> Option<String> {
    let glob = |g: &str| globset::Glob::new(g).ok().map(|g| g.compile_matcher());
    for pattern in &matcher.envs {
        let glob = glob(pattern)?;
        if !estate.environments.iter().any(|e| glob.is_match(e)) {
            return Some(format!(
                "`envs` names `{pattern}`, which matches none of the environments ({})",
                estate.environments.join(", ")
            ));
        }
    }
    for pair in &matcher.pairs {
        let (Some(left), Some(right)) = (glob(pair.first()?), glob(pair.get(1)?)) else {
            continue;
        };
        if !estate
            .pairs
            .iter()
            .any(|(l, r)| left.is_match(l) && right.is_match(r))
        {
            return Some(format!(
                "`pairs` names [{}, {}], which matches none of the pairs plumb.yaml compares ({})",
                pair[0],
                pair[1],
                estate
                    .pairs
                    .iter()
                    .map(|(l, r)| format!("{l}, {r}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
    }
    None
}

/// An error when `expression` is estimated to cost more than limits::MAX_CEL_COST.
fn too_costly(what: &str, expression: &Expression, origin: &Origin) -> Option<LintFinding> {
    let cost = expression.estimated_cost;
    (cost > MAX_CEL_COST).then(|| LintFinding {
        level: Level::Error,
        file: origin.file.clone(),
        line: origin.line,
        column: origin.column,
        message: format!(
            "{what} is estimated to cost {} on one object, over the limit of {MAX_CEL_COST} \
             (lists are assumed to hold {ASSUMED_LIST_SIZE} entries, strings {ASSUMED_STRING_LENGTH} characters, \
             and each comprehension multiplies the cost of its body by the size of its list); \
             bound the nesting of comprehensions, range over a short literal list, or use a cheaper expression",
            if cost == u64::MAX {
                "more than 18446744073709551615".to_string()
            } else {
                cost.to_string()
            }
        ),
    })
}

/// Does `earlier` match every difference `later` would (so `later` is unreachable)?
fn shadows(earlier: &Rule, later: &Rule) -> bool {
    let scope = earlier.scope == RuleScope::All || earlier.scope == later.scope;
    let paths = earlier.paths.is_empty()
        || (!later.paths.is_empty()
            && later.paths.iter().all(|l| {
                earlier
                    .paths
                    .iter()
                    .any(|e| e.text == l.text || Path::parse(&l.text).is_ok_and(|p| e.matches(&p)))
            }));
    earlier.condition.is_none() && scope && paths && covers(&earlier.matcher, &later.matcher)
}

fn covers(wide: &Match, narrow: &Match) -> bool {
    let kinds = wide.kinds.is_empty()
        || (!narrow.kinds.is_empty()
            && narrow.kinds.iter().all(|k| {
                let bare = k.rsplit('/').next().unwrap_or(k);
                wide.kinds.iter().any(|w| w == k || w == bare)
            }));
    let globs = |w: &[String], n: &[String]| {
        w.is_empty()
            || w.iter().any(|g| g == "*")
            || (!n.is_empty() && n.iter().all(|x| w.contains(x)))
    };
    let labels = wide
        .labels
        .iter()
        .all(|(k, v)| narrow.labels.get(k).is_some_and(|nv| v == "*" || nv == v));
    let annotations = wide.annotations.iter().all(|(k, v)| {
        narrow
            .annotations
            .get(k)
            .is_some_and(|nv| v == "*" || nv == v)
    });
    let targeted_by = wide.targeted_by.is_empty()
        || (!narrow.targeted_by.is_empty()
            && narrow
                .targeted_by
                .iter()
                .all(|k| wide.targeted_by.contains(k)));
    let pairs = wide.pairs.is_empty()
        || (!narrow.pairs.is_empty() && narrow.pairs.iter().all(|p| wide.pairs.contains(p)));
    let edges = wide.edges.is_none() || wide.edges == narrow.edges;
    let findings = wide.findings.is_empty()
        || (!narrow.findings.is_empty()
            && narrow.findings.iter().all(|f| wide.findings.contains(f)));
    kinds
        && globs(&wide.namespaces, &narrow.namespaces)
        && globs(&wide.names, &narrow.names)
        && globs(&wide.envs, &narrow.envs)
        && labels
        && annotations
        && targeted_by
        && pairs
        && edges
        && findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::rules::parse;

    #[test]
    fn shadowed_rules_and_stale_waivers() {
        let text = r#"version: 1
rules:
  - id: all-images
    paths: ["**.image"]
    action: allow
  - id: api-image
    match: {kinds: [apps/Deployment], names: [api]}
    paths: ["spec.template.spec.containers[name=api].image"]
    action: deny
  - id: replicas
    scope: parity
    paths: [spec.replicas]
    action: allow
  - id: drift-replicas
    scope: drift
    paths: [spec.replicas]
    action: deny
waivers:
  - rule: api-image
    owner: team-a
    reason: r
    expires: 2020-01-01
  - rule: no-such-rule
    owner: team-b
    reason: r
    expires: 2999-01-01
"#;
        let file = parse(text, "p.yaml").unwrap();
        let findings: Vec<String> = lint(
            &[file],
            crate::timestamp::parse_date("2024-01-01").unwrap(),
            None,
        )
        .iter()
        .map(|f| f.to_string())
        .collect();
        assert_eq!(findings.len(), 3, "{findings:#?}");
        assert!(
            findings[0].starts_with("p.yaml:6:")
                && findings[0].contains("`api-image` can never apply: rule `all-images`")
        );
        assert!(findings[1].contains("expired on 2020-01-01"));
        assert!(findings[2].contains("names `no-such-rule`, which no policy file defines"));
    }

    #[test]
    fn selections_by_environment_or_pair_that_match_nothing_are_reported() {
        let text = r#"version: 1
rules:
  - id: prod-only
    match: {envs: ["prod-*"]}
    action: allow
  - id: typo
    match: {envs: ["produciton"]}
    action: allow
  - id: backwards
    match: {pairs: [["prod", "staging"]]}
    action: allow
checks:
  - id: staging-check
    match: {envs: [staging]}
    assert: "true"
"#;
        let file = parse(text, "p.yaml").unwrap();
        let environments = ["staging".to_string(), "prod-eu".to_string()];
        let pairs = [("staging".to_string(), "prod-eu".to_string())];
        let estate = Estate {
            environments: &environments,
            pairs: &pairs,
        };
        let messages: Vec<String> = lint(&[file], 0, Some(&estate))
            .into_iter()
            .map(|f| f.message)
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("rule `typo` can never apply: `envs` names `produciton`"));
        assert!(
            messages[1].contains("rule `backwards` can never apply: `pairs` names [prod, staging]")
        );
    }

    #[test]
    fn conditions_and_assertions_estimated_over_the_limit_are_errors() {
        let text = r#"version: 1
rules:
  - id: cheap
    paths: [spec.replicas]
    action: allow
    condition: "right >= left"
  - id: costly-condition
    paths: [spec.replicas]
    action: allow
    condition: "object.a.all(x, object.a.all(y, object.a.all(z, x == y)))"
checks:
  - id: pinned
    assert: "object.spec.containers.all(c, !c.image.endsWith(':latest'))"
  - id: costly-check
    assert: "object.spec.items.all(a, object.spec.items.all(b, object.spec.items.all(c, object.spec.items.all(d, true))))"
"#;
        let findings = lint(&[parse(text, "p.yaml").unwrap()], 0, None);
        assert_eq!(findings.len(), 2, "{findings:#?}");
        assert!(findings.iter().all(|f| f.level == Level::Error));
        let lines: Vec<String> = findings.iter().map(|f| f.to_string()).collect();
        assert!(
            lines[0].starts_with(
                "p.yaml:7:9: error: the condition of rule `costly-condition` is estimated to cost"
            ),
            "{lines:#?}"
        );
        assert!(
            lines[1].starts_with("p.yaml:14:9: error: the assertion of check `costly-check`")
                && lines[1].contains("over the limit of 10000000")
                && lines[1].contains("bound the nesting of comprehensions"),
            "{lines:#?}"
        );
    }
}
