//! `plumb policy test`: unit tests for policies, so teams test their policies in CI as they test
//! code. Each case is a pair of objects and the outcome expected at each path, or one object and
//! the outcome expected of each check. Cases run through the same normalization, comparison and
//! judgement as a real run; only the I/O is left out.

use super::eval::Policies;
use super::rules::PolicyError;
use super::{Place, Scope, Status};
use crate::compare::FindingKind;
use crate::compare::pairing::Mapping;
use crate::compare::parity::Sides;
use crate::compare::promotion::{Promotion, PromotionState, VersionPaths};
use crate::diagnostic::LocatedError;
use crate::diff::ChangeOp;
use crate::diff::Path;
use crate::inventory;
use crate::model::{Inventory, Scopes};
use crate::normalize::Normalizer;
use crate::pipeline::{self, DriftScope};
use crate::yaml::Document;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// A policy test file (`plumb policy test`): which policies, on which day, and the cases, each
/// objects and the outcome expected at each path or of each check (docs/policies.md).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PolicyTestFile")]
struct RawTestFile {
    /// The file format's version: `1`.
    #[schemars(with = "u32", extend("const" = 1))]
    version: Spanned<u32>,
    /// Policy files, directories and shipped policies, relative to the test file (default:
    /// plumb.yaml's policies).
    #[serde(default)]
    policies: Option<Vec<String>>,
    /// The day waivers are judged on (`YYYY-MM-DD`); default today.
    #[serde(default)]
    #[schemars(
        with = "Option<String>",
        regex(pattern = r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*$")
    )]
    today: Option<Spanned<String>>,
    /// The cases, each run through the same normalization, comparison and judgement as a real run.
    cases: Vec<RawCase>,
}

/// One case: a pair of objects (`left`, `right`) and the outcome expected at each path, or one
/// `object` and the outcome expected of each check.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Case")]
struct RawCase {
    /// What the case shows, printed beside ok or FAILED.
    #[schemars(with = "String")]
    name: Spanned<String>,
    /// A pair case's comparison (default: parity).
    #[serde(default)]
    scope: Option<CaseScope>,
    /// The left object: the first environment's (parity) or Git's (drift).
    #[serde(default)]
    left: Option<Value>,
    /// The right object: the second environment's (parity) or the cluster's (drift).
    #[serde(default)]
    right: Option<Value>,
    /// The one object of a check case.
    #[serde(default)]
    object: Option<Value>,
    /// The environments the case plays in, for rules scoped by `match.envs` or `pairs`: one for
    /// an object or a drift case, two (left, right) for a parity case.
    #[serde(default)]
    envs: Option<Vec<String>>,
    /// Whether the pair is a promotion edge, for rules scoped by `match.edges`.
    #[serde(default)]
    edge: bool,
    /// How the right side's versions stand against the left's history, for rules naming
    /// `findings: [promotion]`: a case has no Git history to judge promotion order from.
    #[serde(default)]
    promotion: Option<RawPromotion>,
    /// The outcome expected at each path (pair cases) or of each check id (object cases); a
    /// finding not listed fails the case.
    #[schemars(with = "BTreeMap<String, Outcome>")]
    expect: BTreeMap<String, Spanned<Outcome>>,
}

/// How a pair case's right-side versions stand against the left's history.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CasePromotion")]
struct RawPromotion {
    /// lag, unvalidated or reverted.
    state: PromotionState,
    /// When upstream began running its current value (`YYYY-MM-DD`); default: the file's day.
    #[serde(default)]
    #[schemars(
        with = "Option<String>",
        regex(pattern = r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*$")
    )]
    since: Option<Spanned<String>>,
    /// For `lag`: whether it is past the pair's `max_lag`.
    #[serde(default)]
    overdue: bool,
}

/// The policy test file's schema (`plumb schema policy-test`).
pub(crate) fn json_schema(kind: crate::schema::FileKind) -> serde_json::Value {
    crate::schema::generate::<RawTestFile>(kind)
}

/// A case's promotion block: every differing version of the pair (an image, a Flux chart
/// version) is a `promotion` finding in this state instead of a parity one.
#[derive(Debug, Clone, Copy)]
pub struct CasePromotion {
    pub state: PromotionState,
    /// Days since 1970-01-01; `None`: the day the file is judged on.
    pub since: Option<i64>,
    pub overdue: bool,
}

/// Which comparison a pair case runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CaseScope {
    /// Two environments' desired states.
    Parity,
    /// Desired state (left) against live state (right).
    Drift,
}

/// What a case expects at a path, or of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ignored,
    Expected,
    Violation,
    Waived,
    Unreviewed,
    /// For checks: the check holds.
    Pass,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ignored => "ignored",
            Outcome::Expected => "expected",
            Outcome::Violation => "violation",
            Outcome::Waived => "waived",
            Outcome::Unreviewed => "unreviewed",
            Outcome::Pass => "pass",
        }
    }

    fn of(status: Status) -> Outcome {
        match status {
            Status::Violation => Outcome::Violation,
            Status::Unreviewed => Outcome::Unreviewed,
            Status::Waived => Outcome::Waived,
            Status::Expected => Outcome::Expected,
        }
    }
}

/// A parsed test file.
#[derive(Debug)]
pub struct TestFile {
    pub name: String,
    pub policies: Option<Vec<String>>,
    /// Days since 1970-01-01, when the file fixes the day.
    pub today: Option<i64>,
    pub cases: Vec<Case>,
}

#[derive(Debug)]
pub struct Case {
    pub name: String,
    pub line: u64,
    pub input: CaseInput,
    /// Environment names (default `left` and `right` for a parity case, `left` for a drift case,
    /// `object` for a check case).
    pub envs: Vec<String>,
    pub edge: bool,
    /// For pair cases on an edge: promotion findings in this state at the differing versions.
    pub promotion: Option<CasePromotion>,
    /// Expected outcomes by path (pair cases, `""` for the whole object) or check id (object cases).
    pub expect: Vec<Expectation>,
}

#[derive(Debug)]
pub enum CaseInput {
    Pair {
        scope: CaseScope,
        left: Option<Value>,
        right: Option<Value>,
    },
    Object(Value),
}

#[derive(Debug)]
pub struct Expectation {
    /// A path in canonical form, or a check id.
    pub key: String,
    pub outcome: Outcome,
    pub line: u64,
}

/// Parses a test file's text; every mistake is located.
pub fn parse(text: &str, name: &str) -> Result<TestFile, PolicyError> {
    // A test file holds objects, Secrets among them: its errors show no snippet of it (and the
    // parser's messages quote no value).
    let raw: RawTestFile = crate::yaml::from_str_holding_secrets(text, name).map_err(|e| {
        Box::new(
            LocatedError::without_snippet(name, e.line, e.column, e.message)
                .with_help("docs/policies.md#plumb-policy-test describes test files"),
        )
    })?;
    let at = |line: u64, column: u64, message: String, help: &str| -> PolicyError {
        PolicyError::Invalid(Box::new(
            LocatedError::without_snippet(name, line, column, message).with_help(help),
        ))
    };
    if raw.version.value != 1 {
        return Err(at(
            raw.version.referenced.line(),
            raw.version.referenced.column(),
            format!("unsupported test file version {}", raw.version.value),
            "this plumb reads `version: 1`",
        ));
    }
    let today = match &raw.today {
        Some(day) => Some(crate::timestamp::parse_date(&day.value).ok_or_else(|| {
            at(
                day.referenced.line(),
                day.referenced.column(),
                format!("`{}` is not a date", day.value),
                "write the day as YYYY-MM-DD",
            )
        })?),
        None => None,
    };
    let mut cases = Vec::new();
    for case in raw.cases {
        let (line, column) = (case.name.referenced.line(), case.name.referenced.column());
        let input = match (case.object, case.left.is_some() || case.right.is_some()) {
            (Some(object), false) => CaseInput::Object(object),
            (None, true) => CaseInput::Pair {
                scope: case.scope.unwrap_or(CaseScope::Parity),
                left: case.left,
                right: case.right,
            },
            _ => {
                return Err(at(
                    line,
                    column,
                    format!(
                        "case `{}` needs `left` and/or `right` (rules), or `object` (checks)",
                        case.name.value
                    ),
                    "a pair of objects tests rules; one object tests checks",
                ));
            }
        };
        let mut expect = Vec::new();
        for (key, outcome) in case.expect {
            let line = outcome.referenced.line();
            let key = match input {
                CaseInput::Pair { .. } => Path::parse(&key)
                    .map_err(|e| {
                        at(
                            line,
                            outcome.referenced.column(),
                            format!("`{key}` is not a path: {e}"),
                            "write paths as plumb reports them: spec.template.spec.containers[name=api].image; \"\" for the whole object",
                        )
                    })?
                    .to_string(),
                CaseInput::Object(_) => key,
            };
            expect.push(Expectation {
                key,
                outcome: outcome.value,
                line,
            });
        }
        let envs = case.envs.unwrap_or_else(|| {
            let names: &[&str] = match &input {
                CaseInput::Pair {
                    scope: CaseScope::Parity,
                    ..
                } => &["left", "right"],
                CaseInput::Pair { .. } => &["left"],
                CaseInput::Object(_) => &["object"],
            };
            names.iter().map(|n| n.to_string()).collect()
        });
        let wanted = match &input {
            CaseInput::Pair {
                scope: CaseScope::Parity,
                ..
            } => 2,
            _ => 1,
        };
        if envs.len() != wanted {
            return Err(at(
                line,
                column,
                format!(
                    "case `{}` names {} environment(s) in `envs`; it plays in {wanted}",
                    case.name.value,
                    envs.len()
                ),
                "a parity case names two environments (left, right); a drift or object case one",
            ));
        }
        let promotion = match case.promotion {
            None => None,
            Some(raw) => {
                if !matches!(
                    input,
                    CaseInput::Pair {
                        scope: CaseScope::Parity,
                        ..
                    }
                ) {
                    return Err(at(
                        line,
                        column,
                        format!(
                            "case `{}` has a `promotion` block but is no parity case",
                            case.name.value
                        ),
                        "promotion findings are found between two environments: give `left` and `right`",
                    ));
                }
                let since = match &raw.since {
                    None => None,
                    Some(day) => {
                        Some(crate::timestamp::parse_date(&day.value).ok_or_else(|| {
                            at(
                                day.referenced.line(),
                                day.referenced.column(),
                                format!("`{}` is not a date", day.value),
                                "write the day as YYYY-MM-DD",
                            )
                        })?)
                    }
                };
                Some(CasePromotion {
                    state: raw.state,
                    since,
                    overdue: raw.overdue,
                })
            }
        };
        cases.push(Case {
            name: case.name.value,
            line,
            input,
            envs,
            // Promotion findings are found on edges only.
            edge: case.edge || promotion.is_some(),
            promotion,
            expect,
        });
    }
    Ok(TestFile {
        name: name.to_string(),
        policies: raw.policies,
        today,
        cases,
    })
}

/// What went wrong with a case, one line each; empty when it passed.
pub fn run_case(
    policies: &Policies,
    normalizer: &Normalizer,
    case: &Case,
) -> Result<Vec<String>, String> {
    let envs: Vec<&str> = case.envs.iter().map(String::as_str).collect();
    let place = Place {
        envs: &envs,
        edge: case.edge,
    };
    let actual = match &case.input {
        CaseInput::Pair { scope, left, right } => judge_pair(
            policies,
            normalizer,
            *scope,
            (left.as_ref(), right.as_ref()),
            &place,
            case.promotion,
        )?,
        CaseInput::Object(object) => judge_checks(policies, normalizer, object, &place)?,
    };
    let mut problems = Vec::new();
    for expectation in &case.expect {
        let got = actual.get(&expectation.key);
        // Nothing at a path is what `ignored` asks for (noise never becomes a difference), and
        // what `pass` asks of a check.
        let got_outcome = got.map(|(o, _)| *o);
        let satisfied = match (got_outcome, expectation.outcome) {
            (None, Outcome::Ignored | Outcome::Pass) => true,
            (got, want) => got == Some(want),
        };
        if satisfied {
            continue;
        }
        let what = if expectation.key.is_empty() {
            "the whole object"
        } else {
            &expectation.key
        };
        problems.push(match got {
            Some((outcome, rule)) => format!(
                "line {}: {what}: expected {}, got {}{}",
                expectation.line,
                expectation.outcome.as_str(),
                outcome.as_str(),
                by_rule(rule)
            ),
            None if matches!(case.input, CaseInput::Object(_)) => format!(
                "line {}: {what}: expected {}, but the check passed (or does not apply to this object)",
                expectation.line,
                expectation.outcome.as_str()
            ),
            None => format!(
                "line {}: {what}: expected {}, but the two objects do not differ there",
                expectation.line,
                expectation.outcome.as_str()
            ),
        });
    }
    for (key, (outcome, rule)) in &actual {
        let listed = case.expect.iter().any(|e| &e.key == key);
        if !listed && *outcome != Outcome::Ignored {
            let what = if key.is_empty() {
                "the whole object"
            } else {
                key
            };
            problems.push(format!(
                "{what}: {}{}, which the case does not expect; add it to `expect`",
                outcome.as_str(),
                by_rule(rule)
            ));
        }
    }
    Ok(problems)
}

fn by_rule(rule: &Option<String>) -> String {
    match rule {
        Some(rule) => format!(" (rule `{rule}`)"),
        None => " (no rule matched)".to_string(),
    }
}

type Outcomes = BTreeMap<String, (Outcome, Option<String>)>;

fn inventory_of(env: &str, object: Option<&Value>) -> Result<Inventory, String> {
    let documents = object
        .map(|value| Document {
            value: value.clone(),
            file: env.to_string(),
            line: 0,
            origin: None,
        })
        .into_iter()
        .collect();
    inventory::build(env, documents, Some("default"), &Scopes::default()).map_err(|e| e.to_string())
}

fn judge_pair(
    policies: &Policies,
    normalizer: &Normalizer,
    scope: CaseScope,
    (left, right): (Option<&Value>, Option<&Value>),
    place: &Place<'_>,
    promotion: Option<CasePromotion>,
) -> Result<Outcomes, String> {
    let mut l = inventory_of("left", left)?;
    let mut r = inventory_of("right", right)?;
    let differences = match scope {
        CaseScope::Parity => {
            pipeline::prepare(&mut l, normalizer, policies, Scope::Parity, false);
            pipeline::prepare(&mut r, normalizer, policies, Scope::Parity, false);
            // The two objects of a case are a pair, whatever namespaces they are in.
            let namespace = |inv: &Inventory| inv.resources.keys().next()?.namespace.clone();
            let mut mapping = Mapping::default();
            if let (Some(a), Some(b)) = (namespace(&l), namespace(&r)) {
                mapping.namespaces.insert(a, b);
            }
            let (left, right) = match place.envs {
                [left, right] => (*left, *right),
                _ => ("left", "right"),
            };
            let sides = Sides { left, right };
            let differences = pipeline::parity(&l, &r, &mapping, sides, policies, place)
                .map_err(|e| e.to_string())?;
            match promotion {
                Some(promotion) => promoted(differences, &r, promotion, policies.today),
                None => differences,
            }
        }
        CaseScope::Drift => {
            pipeline::prepare(&mut l, normalizer, policies, Scope::Drift, false);
            pipeline::prepare(&mut r, normalizer, policies, Scope::Drift, true);
            let mut namespaces = l.namespaces();
            namespaces.extend(r.namespaces());
            let scope = DriftScope {
                namespaces,
                ..Default::default()
            };
            pipeline::drift(&l, &r, &scope).differences
        }
    };
    let judged = pipeline::judge(differences, policies, place);
    if let Some(error) = judged.errors.first() {
        return Err(error.clone());
    }
    let mut out = Outcomes::new();
    for difference in judged.ignored {
        out.insert(difference.path.to_string(), (Outcome::Ignored, None));
    }
    for (difference, verdict) in judged.findings {
        out.insert(
            difference.path.to_string(),
            (Outcome::of(verdict.status), verdict.rule),
        );
    }
    Ok(out)
}

/// The case's differences with each changed version of the right side (docs/promotion.md:
/// images, Flux chart versions) made a `promotion` finding as the case's block describes.
fn promoted(
    differences: Vec<crate::compare::Difference>,
    right: &Inventory,
    promotion: CasePromotion,
    today: i64,
) -> Vec<crate::compare::Difference> {
    const DAY: i64 = 86_400;
    let paths = VersionPaths::default();
    let since_day = promotion.since.unwrap_or(today);
    differences
        .into_iter()
        .map(|mut difference| {
            let is_version = difference.kind == FindingKind::Parity
                && difference.op == Some(ChangeOp::Changed)
                && right
                    .resources
                    .get(&difference.resource.id)
                    .is_some_and(|r| paths.of(r).contains_key(&difference.path.to_string()));
            let upstream_value = match &difference.left {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            if let (true, Some(upstream_value)) = (is_version, upstream_value) {
                difference.kind = FindingKind::Promotion;
                difference.promotion = Some(Box::new(Promotion {
                    state: promotion.state,
                    upstream_value,
                    since_commit: String::new(),
                    since_time: since_day * DAY,
                    searched_commits: 0,
                    searched_since: since_day * DAY,
                    age_days: (today - since_day).max(0),
                    overdue: promotion.state == PromotionState::Lag && promotion.overdue,
                }));
            }
            difference
        })
        .collect()
}

fn judge_checks(
    policies: &Policies,
    normalizer: &Normalizer,
    object: &Value,
    place: &Place<'_>,
) -> Result<Outcomes, String> {
    let mut inventory = inventory_of("object", Some(object))?;
    pipeline::prepare(&mut inventory, normalizer, policies, Scope::Parity, false);
    let judged = pipeline::check(Some(&inventory), None, policies, place);
    if let Some(error) = judged.errors.first() {
        return Err(error.clone());
    }
    Ok(judged
        .findings
        .into_iter()
        .filter_map(|(_, verdict)| {
            let check = verdict.rule?;
            Some((check.clone(), (Outcome::of(verdict.status), Some(check))))
        })
        .collect())
}
