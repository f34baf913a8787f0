//! Policy files (docs/policies.md): parsed, validated, and located, so every mistake in one is reported
//! with its file, line and column — a policy that does not parse is never silently skipped.

use super::Severity;
use super::expr::Expression;
use super::pattern::PathPattern;
use crate::diagnostic::LocatedError;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PolicyError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(#[from] Box<LocatedError>),
    #[error("cannot read policy file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// Which comparisons a rule judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleScope {
    /// Differences between two environments.
    Parity,
    /// Differences between Git and a cluster.
    Drift,
    /// Both.
    #[default]
    All,
}

/// What a rule decides about the differences it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Not a finding at all: the path is noise (managed fields, status).
    Ignore,
    /// Expected: reported as `expected`, severity info.
    Allow,
    /// A violation at the rule's severity.
    Deny,
    /// The two sides must differ (parity): the same value is a violation.
    RequireDifferent,
}

/// Which objects a rule, waiver or check applies to. Empty lists match everything.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// `Kind` (any group) or `group/Kind`.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Globs over namespaces.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Globs over names.
    #[serde(default)]
    pub names: Vec<String>,
    /// Labels the object must carry, with these values (`*` for any value).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Annotations the object must carry, each value a glob (`*`: present with any value, the
    /// empty one included).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Objects another object of the same side targets through `spec.scaleTargetRef`, by the
    /// targeting object's kind (`Kind` or `group/Kind`, as in `kinds`): live state for drift,
    /// desired state for parity.
    #[serde(default)]
    pub targeted_by: Vec<String>,
    /// Globs over environment names: a drift finding, a change or a check matches when its
    /// environment does; a parity finding when both of its environments do.
    #[serde(default)]
    pub envs: Vec<String>,
    /// Ordered pairs of globs `[left, right]`: parity findings of such a pair, nothing else.
    #[serde(default)]
    #[schemars(inner(length(min = 2, max = 2)))]
    pub pairs: Vec<Vec<String>>,
    /// Pairs that are (`true`) or are not (`false`) promotion edges; matches pairs only.
    #[serde(default)]
    pub edges: Option<bool>,
    /// Finding kinds: drift, missing, unmanaged, parity, only-in, check, change, promotion.
    #[serde(default)]
    #[schemars(with = "Vec<FindingKindName>")]
    pub findings: Vec<String>,
    /// Objects one of these sources applies (rules a source declares for its own objects, such
    /// as Argo CD `ignoreDifferences`); never written in a policy file.
    #[serde(skip)]
    pub owners: Vec<crate::model::Owner>,
    /// Drift at a field whose live manager (`changed_by.manager`) is one of these (Argo CD
    /// `managedFieldsManagers`); never written in a policy file.
    #[serde(skip)]
    pub managers: Vec<String>,
}

/// The schema of one `match.findings` entry: [`FINDING_KINDS`] (a test checks they agree).
#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(
    rename = "FindingKind",
    description = "A kind of finding: drift, missing, unmanaged, parity, only-in, check, change, promotion."
)]
#[allow(dead_code)]
enum FindingKindName {
    Drift,
    Missing,
    Unmanaged,
    Parity,
    OnlyIn,
    Check,
    Change,
    Promotion,
}

/// The finding kinds `match.findings` may name.
pub const FINDING_KINDS: &[&str] = &[
    "drift",
    "missing",
    "unmanaged",
    "parity",
    "only-in",
    "check",
    "change",
    "promotion",
];

/// A policy file: rules that decide what differences mean, waivers for accepted violations,
/// and checks every object must pass (docs/policies.md).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PolicyFile")]
struct RawFile {
    /// The file format's version: `1`.
    #[schemars(with = "u32", extend("const" = 1))]
    version: Spanned<u32>,
    /// Rules, in order: the first rule that matches a difference decides it.
    #[serde(default)]
    rules: Vec<RawRule>,
    /// Accepted violations of a rule or check, each with an owner, a reason and an expiry.
    #[serde(default)]
    waivers: Vec<RawWaiver>,
    /// Assertions every matching object must pass, in CEL over `object`.
    #[serde(default)]
    checks: Vec<RawCheck>,
    /// The severity of differences no rule decides (`unreviewed`; default: drift error, parity
    /// warning).
    #[serde(default)]
    defaults: Option<RawDefaults>,
}

/// A rule: which differences it matches and what it decides about them.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Rule")]
struct RawRule {
    /// The rule's id, unique in the file: reports and waivers name it.
    #[schemars(with = "String")]
    id: Spanned<String>,
    /// Why the rule exists, shown in reports.
    #[serde(default)]
    description: Option<String>,
    /// Which comparisons the rule judges (default: all).
    #[serde(default)]
    scope: RuleScope,
    /// Which objects the rule applies to (default: every object).
    #[serde(default, rename = "match")]
    matcher: Match,
    /// The fields the rule decides: plumb paths (`spec.containers[*].image`, `data.*`,
    /// `metadata.**`) or JSON Pointers (`/spec/replicas`). None: the whole object.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    paths: Vec<Spanned<String>>,
    /// What the rule decides about the differences it matches.
    action: Action,
    /// A CEL expression over `left`, `right` and `object`: the rule applies only where it holds
    /// (`right >= left`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    condition: Option<Spanned<String>>,
    /// How serious a violation of the rule is (`deny`, `require-different`; default: error).
    #[serde(default)]
    severity: Option<Severity>,
}

/// An accepted violation: the rule's findings on the matching objects are `waived` until the
/// day after `expires`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Waiver")]
struct RawWaiver {
    /// The id of the rule or check waived.
    #[schemars(with = "String")]
    rule: Spanned<String>,
    /// Which objects the waiver covers (default: every object).
    #[serde(default, rename = "match")]
    matcher: Match,
    /// Who answers for the waiver.
    owner: String,
    /// Why the violation is accepted (a ticket, a plan).
    reason: String,
    /// The last day the waiver holds, `YYYY-MM-DD`.
    #[schemars(
        with = "String",
        regex(pattern = r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*$")
    )]
    expires: Spanned<String>,
}

/// A check: a CEL assertion every matching object must pass.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Check")]
struct RawCheck {
    /// The check's id, unique among the file's rules and checks: reports and waivers name it.
    #[schemars(with = "String")]
    id: Spanned<String>,
    /// Why the check exists, shown in reports.
    #[serde(default)]
    description: Option<String>,
    /// Which objects the check applies to (default: every object).
    #[serde(default, rename = "match")]
    matcher: Match,
    /// A CEL expression over `object` that must hold
    /// (`object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest'))`).
    #[schemars(with = "String")]
    assert: Spanned<String>,
    /// How serious a failed check is (default: error).
    #[serde(default)]
    severity: Option<Severity>,
}

/// The severity of differences no rule decides.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Defaults")]
struct RawDefaults {
    /// Of parity differences.
    #[serde(default)]
    parity: Option<Severity>,
    /// Of drift.
    #[serde(default)]
    drift: Option<Severity>,
}

/// The policy file's schema (`plumb schema policy`).
pub(crate) fn json_schema(kind: crate::schema::FileKind) -> serde_json::Value {
    crate::schema::generate::<RawFile>(kind)
}

/// Where something was written: file, line, column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: u64,
    pub column: u64,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub description: Option<String>,
    pub scope: RuleScope,
    pub matcher: Match,
    /// Empty: the rule covers the whole object (and so decides `only-in` findings).
    pub paths: Vec<PathPattern>,
    pub action: Action,
    pub condition: Option<Expression>,
    pub severity: Option<Severity>,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Waiver {
    pub rule: String,
    pub matcher: Match,
    pub owner: String,
    pub reason: String,
    /// `YYYY-MM-DD`; the waiver holds through that day.
    pub expires: String,
    /// Days since 1970-01-01 of `expires`.
    pub expires_day: i64,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub id: String,
    pub description: Option<String>,
    pub matcher: Match,
    pub assert: Expression,
    pub severity: Option<Severity>,
    pub origin: Origin,
}

/// One parsed and validated policy file.
#[derive(Debug, Clone, Default)]
pub struct PolicyFile {
    pub name: String,
    pub rules: Vec<Rule>,
    pub waivers: Vec<Waiver>,
    pub checks: Vec<Check>,
    pub parity_default: Option<Severity>,
    pub drift_default: Option<Severity>,
}

/// Parses a policy file's text. `name` is how messages name it (a path, or `builtin:noise`).
pub fn parse(text: &str, name: &str) -> Result<PolicyFile, PolicyError> {
    let raw: RawFile = crate::yaml::from_str(text, name).map_err(|e| {
        let help = if e.message.contains("unknown field") {
            "docs/policies.md lists every key; check the spelling"
        } else if e.message.contains("unknown variant") {
            "action is one of ignore, allow, deny, require-different; scope one of parity, drift, all; severity one of error, warning, info"
        } else {
            "fix the YAML at this place"
        };
        Box::new(LocatedError::new(name, text, e.line, e.column, e.message).with_help(help))
    })?;
    let at = |line: u64, column: u64, message: String, help: &str| -> PolicyError {
        PolicyError::Invalid(Box::new(
            LocatedError::new(name, text, line, column, message).with_help(help),
        ))
    };
    let origin = |spanned_line: u64, spanned_column: u64| Origin {
        file: name.to_string(),
        line: spanned_line,
        column: spanned_column,
    };
    if raw.version.value != 1 {
        return Err(at(
            raw.version.referenced.line(),
            raw.version.referenced.column(),
            format!("unsupported policy version {}", raw.version.value),
            "this plumb reads `version: 1`",
        ));
    }
    let mut file = PolicyFile {
        name: name.to_string(),
        ..Default::default()
    };
    let mut seen_ids = BTreeMap::new();
    for rule in raw.rules {
        let (line, column) = (rule.id.referenced.line(), rule.id.referenced.column());
        if let Some(first) = seen_ids.insert(rule.id.value.clone(), line) {
            return Err(at(
                line,
                column,
                format!(
                    "rule id `{}` is already used at line {first}",
                    rule.id.value
                ),
                "give each rule its own id",
            ));
        }
        let mut paths = Vec::with_capacity(rule.paths.len());
        for path in &rule.paths {
            let pattern = PathPattern::parse(&path.value).map_err(|e| {
                at(path.referenced.line(), path.referenced.column(), e.to_string(), "paths use plumb's path syntax (spec.containers[*].image, data.*, metadata.**) or a JSON Pointer (/spec/replicas)")
            })?;
            paths.push(pattern);
        }
        validate_match(&rule.matcher).map_err(|message| {
            at(
                line,
                column,
                message,
                "kinds are `Kind` or `group/Kind`; namespaces and names are globs",
            )
        })?;
        let condition = match &rule.condition {
            Some(c) => Some(Expression::compile(&c.value).map_err(|e| {
                at(
                    c.referenced.line(),
                    c.referenced.column(),
                    format!("the condition does not compile: {e}"),
                    "conditions are CEL over `left`, `right` and `object`",
                )
            })?),
            None => None,
        };
        file.rules.push(Rule {
            id: rule.id.value,
            description: rule.description,
            scope: rule.scope,
            matcher: rule.matcher,
            paths,
            action: rule.action,
            condition,
            severity: rule.severity,
            origin: origin(line, column),
        });
    }
    for waiver in raw.waivers {
        let expires_day = crate::timestamp::parse_date(&waiver.expires.value).ok_or_else(|| {
            at(
                waiver.expires.referenced.line(),
                waiver.expires.referenced.column(),
                format!("`{}` is not a date", waiver.expires.value),
                "write the expiry as YYYY-MM-DD, e.g. 2027-01-31",
            )
        })?;
        let (line, column) = (
            waiver.rule.referenced.line(),
            waiver.rule.referenced.column(),
        );
        validate_match(&waiver.matcher)
            .map_err(|message| at(line, column, message, "kinds are `Kind` or `group/Kind`"))?;
        file.waivers.push(Waiver {
            rule: waiver.rule.value,
            matcher: waiver.matcher,
            owner: waiver.owner,
            reason: waiver.reason,
            expires: waiver.expires.value,
            expires_day,
            origin: origin(line, column),
        });
    }
    for check in raw.checks {
        let (line, column) = (check.id.referenced.line(), check.id.referenced.column());
        if let Some(first) = seen_ids.insert(check.id.value.clone(), line) {
            return Err(at(
                line,
                column,
                format!("id `{}` is already used at line {first}", check.id.value),
                "give each rule and check its own id: waivers name them",
            ));
        }
        validate_match(&check.matcher)
            .map_err(|message| at(line, column, message, "kinds are `Kind` or `group/Kind`"))?;
        let assert = Expression::compile(&check.assert.value).map_err(|e| {
            at(
                check.assert.referenced.line(),
                check.assert.referenced.column(),
                format!("the assertion does not compile: {e}"),
                "checks are CEL over `object`",
            )
        })?;
        file.checks.push(Check {
            id: check.id.value,
            description: check.description,
            matcher: check.matcher,
            assert,
            severity: check.severity,
            origin: origin(line, column),
        });
    }
    if let Some(defaults) = raw.defaults {
        file.parity_default = defaults.parity;
        file.drift_default = defaults.drift;
    }
    Ok(file)
}

fn validate_match(matcher: &Match) -> Result<(), String> {
    for kind in matcher.kinds.iter().chain(&matcher.targeted_by) {
        let name = kind.rsplit('/').next().unwrap_or(kind);
        if name.is_empty() || kind.matches('/').count() > 1 {
            return Err(format!("`{kind}` is not a kind"));
        }
    }
    for pair in &matcher.pairs {
        if pair.len() != 2 {
            return Err(format!(
                "`pairs` entries are two globs, [left, right]; found {} ({})",
                pair.len(),
                pair.join(", ")
            ));
        }
    }
    let globs = matcher
        .namespaces
        .iter()
        .chain(&matcher.names)
        .chain(&matcher.envs)
        .chain(matcher.annotations.values())
        .chain(matcher.pairs.iter().flatten());
    for glob in globs {
        globset::Glob::new(glob).map_err(|e| format!("`{glob}` is not a valid glob: {e}"))?;
    }
    for kind in &matcher.findings {
        if !FINDING_KINDS.contains(&kind.as_str()) {
            return Err(format!(
                "`{kind}` is not a finding kind (one of {})",
                FINDING_KINDS.join(", ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"version: 1
rules:
  - id: replicas-sized-per-env
    description: Replica counts are sized per environment.
    scope: parity
    match: {kinds: [Deployment, apps/StatefulSet], namespaces: ["*"], names: ["*"], labels: {}}
    paths: [spec.replicas]
    action: allow
    condition: "right >= left"
    severity: warning
  - id: session-affinity
    paths: [/spec/sessionAffinity]
    action: ignore
waivers:
  - rule: same-images
    match: {kinds: [Deployment], names: [legacy-api]}
    owner: payments-team
    reason: migration tracked in PAY-123
    expires: 2027-01-31
checks:
  - id: pinned-images
    match: {kinds: [Deployment, StatefulSet, DaemonSet, CronJob]}
    assert: "object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest'))"
    severity: error
defaults: {parity: warning, drift: error}
"#;

    fn error(text: &str) -> LocatedError {
        match parse(text, "p.yaml").unwrap_err() {
            PolicyError::Invalid(e) => *e,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn the_schema_names_every_finding_kind() {
        let schema = json_schema(crate::schema::FileKind::Policy);
        let names = &schema["$defs"]["FindingKind"]["enum"];
        assert_eq!(names, &serde_json::json!(FINDING_KINDS), "{schema:#}");
    }

    #[test]
    fn parses_the_design_example() {
        let file = parse(GOOD, "p.yaml").unwrap();
        assert_eq!(file.rules.len(), 2);
        let rule = &file.rules[0];
        assert_eq!(rule.scope, RuleScope::Parity);
        assert_eq!(rule.action, Action::Allow);
        assert_eq!(
            rule.condition.as_ref().map(|c| c.text.as_str()),
            Some("right >= left")
        );
        assert_eq!(rule.origin.line, 3);
        assert_eq!(file.rules[1].scope, RuleScope::All);
        assert_eq!(
            file.waivers[0].expires_day,
            crate::timestamp::parse_date("2027-01-31").unwrap()
        );
        assert_eq!(file.checks[0].severity, Some(Severity::Error));
        assert_eq!(file.drift_default, Some(Severity::Error));
    }

    #[test]
    fn unknown_keys_actions_and_scopes_are_located() {
        let e = error(&GOOD.replace("    action: ignore", "    actoin: ignore"));
        assert_eq!(e.line, 13, "{e}");
        let e = error(&GOOD.replace("action: allow", "action: permit"));
        assert_eq!(e.line, 8, "{e}");
        assert!(e.message.contains("permit"), "{e}");
        let e = error(&GOOD.replace("scope: parity", "scope: everywhere"));
        assert_eq!(e.line, 5, "{e}");
    }

    #[test]
    fn bad_dates_paths_and_duplicate_ids_are_located() {
        let e = error(&GOOD.replace("expires: 2027-01-31", "expires: next year"));
        assert_eq!((e.line, e.column), (19, 14), "{e}");
        let e = error(&GOOD.replace("expires: 2027-01-31", "expires: 2027-02-30"));
        assert_eq!(e.line, 19, "{e}");
        let e = error(&GOOD.replace("paths: [spec.replicas]", "paths: [\"spec.[replicas\"]"));
        assert_eq!(e.line, 7, "{e}");
        let e = error(&GOOD.replace("id: session-affinity", "id: replicas-sized-per-env"));
        assert_eq!(e.line, 11, "{e}");
        assert!(e.message.contains("already used at line 3"), "{e}");
        let e = error(&GOOD.replace("right >= left", "right >="));
        assert_eq!(e.line, 9, "{e}");
        assert!(e.message.contains("does not compile"), "{e}");
        let e = error(&GOOD.replace("version: 1", "version: 2"));
        assert_eq!(e.line, 1, "{e}");
    }
}
