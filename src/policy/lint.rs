//! `plumb policy lint`: what is wrong with policy files that still parse — rules that can never
//! match because an earlier rule takes everything they would, waivers that expired or name no rule.

use super::rules::{Match, PolicyFile, Rule, RuleScope};
use crate::diff::Path;

/// One lint finding, at a place in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintFinding {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl std::fmt::Display for LintFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Lints policy files in the order a run would read them. `today` is days since 1970-01-01.
pub fn lint(files: &[PolicyFile], today: i64) -> Vec<LintFinding> {
    let rules: Vec<&Rule> = files.iter().flat_map(|f| &f.rules).collect();
    let mut out = Vec::new();
    for (i, later) in rules.iter().enumerate() {
        if let Some(earlier) = rules[..i].iter().find(|earlier| shadows(earlier, later)) {
            out.push(LintFinding {
                file: later.origin.file.clone(),
                line: later.origin.line,
                column: later.origin.column,
                message: format!(
                    "rule `{}` can never apply: rule `{}` at {}:{} comes first and matches everything it does",
                    later.id, earlier.id, earlier.origin.file, earlier.origin.line
                ),
            });
        }
    }
    for waiver in files.iter().flat_map(|f| &f.waivers) {
        let at = |message: String| LintFinding {
            file: waiver.origin.file.clone(),
            line: waiver.origin.line,
            column: waiver.origin.column,
            message,
        };
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
    out
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
    kinds
        && globs(&wide.namespaces, &narrow.namespaces)
        && globs(&wide.names, &narrow.names)
        && labels
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
        let findings: Vec<String> =
            lint(&[file], crate::timestamp::parse_date("2024-01-01").unwrap())
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
}
