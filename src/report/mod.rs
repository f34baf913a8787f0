//! Reports: findings with their verdicts, the summary, what could not be seen, and the exit code
//! (docs/report.md). Renderers (`table`, `json`, `markdown`, `sarif`, `junit`, `metrics`, `html`) only read a
//! finished [`Report`].

pub mod baseline;
pub(crate) mod common;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod matrix;
pub mod matrix_html;
pub mod matrix_markdown;
pub mod matrix_table;
pub mod metrics;
pub mod sarif;
pub mod shard;
pub mod suppressions;
pub mod table;

use crate::compare::{ChangedBy, Difference, FindingKind};
use crate::diff::ChangeOp;
use crate::exit::Exit;
use crate::model::{RunError, SourceLocation};
use crate::normalize::secrets::is_fingerprint;
use crate::policy::{Severity, Status, Verdict};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ResourceInfo {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Finding {
    pub id: String,
    pub kind: FindingKind,
    pub status: Status,
    pub severity: Severity,
    pub envs: Vec<String>,
    pub resource: ResourceInfo,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeOp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub right: Option<Value>,
    pub rule: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<ChangedBy>,
    /// For `promotion` findings: how downstream's version stands against upstream's history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion: Option<crate::compare::promotion::Promotion>,
    /// With `--baseline`: whether the baseline had it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<baseline::BaselineStatus>,
    /// With `--baseline`: when it was first reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// Parity: where the other environment declares the object (`source` is the left one's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_source: Option<SourceLocation>,
    /// `plumb diff`: whether the base already had this finding (a check failing before the
    /// change too) or the change brought it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_change: Option<ByChange>,
    /// The lines of the field itself in `source` and `other_source`, filled at the edge from the
    /// files in Git for formats that point at lines (app/lines.rs); not part of the JSON report.
    #[serde(skip)]
    pub field_lines: FieldLines,
}

/// `plumb diff`: a finding the change brought, or one its base already had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ByChange {
    Introduced,
    PreExisting,
}

/// The 1-based lines of a finding's field in its source files, where found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FieldLines {
    pub source: Option<u64>,
    pub other_source: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Inputs {
    pub repo: Option<String>,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub commit: Option<String>,
    pub environments: Vec<EnvironmentInput>,
    /// `plumb diff`: the base revision as given and its commit (`ref` and `commit` are the head's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<RevisionInput>,
    /// The render tools the run used and their versions (`helm`, `kustomize` or
    /// `kubectl kustomize`), when it rendered anything.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tools: BTreeMap<String, String>,
    /// The remote Helm charts the run rendered: per environment and source, the version asked
    /// for and the exact version rendered (docs/rendering.md, remote charts).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub charts: Vec<crate::desired::render::charts::ChartUse>,
    /// The web address of a file in Git, `{commit}`, `{file}` and `{line}` to fill in
    /// (plumb.yaml's `links.source`, else derived from the `origin` remote; docs/report.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_link: Option<String>,
}

/// A revision as the user named it and the commit it resolved to.
#[derive(Debug, Clone, Serialize)]
pub struct RevisionInput {
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub commit: String,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct EnvironmentInput {
    pub name: String,
    /// Where live state came from (a snapshot path), when the command read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<String>,
    /// Whether the run compared this environment's live state with Git.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub drift: bool,
    /// The pairs the run compared this environment in (`staging→production`, `prod-eu↔prod-us`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pairs: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Objects per environment in what was compared: desired state, or live state for
    /// `parity --live`.
    pub resources: BTreeMap<String, usize>,
    /// Live objects per environment, for commands that read live state beside desired state.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub live_resources: BTreeMap<String, usize>,
    pub findings: Counts,
    pub ignored: usize,
    /// Per environment: live objects that an Argo CD Application, Flux object or Helm release the
    /// config does not name applied (docs/sources.md, live ownership) — not judged, never
    /// `unmanaged`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub managed_elsewhere: BTreeMap<String, usize>,
    pub complete: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub total: usize,
    pub by_status: BTreeMap<&'static str, usize>,
    pub by_severity: BTreeMap<&'static str, usize>,
    pub by_kind: BTreeMap<&'static str, usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: u32,
    pub tool: Tool,
    pub command: String,
    pub generated_at: String,
    pub inputs: Inputs,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub errors: Vec<RunError>,
    /// What the policies hid: each rule and waiver that can hide a difference, with its counts.
    pub suppressions: Vec<suppressions::Suppression>,
    /// With `--baseline`: the baseline's findings this run no longer has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Vec<baseline::Resolved>>,
    /// `plumb diff`: the gaps between environments the change closes (the base's parity findings
    /// the head no longer has).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub closed: Vec<baseline::Resolved>,
    /// What the report must say before anything else, each about one of its findings: for
    /// `plumb diff`, each downstream environment the change makes run a version its upstream
    /// never ran (docs/promotion.md, the pull-request case). Every format puts them first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headlines: Vec<Headline>,
}

/// One line the report puts first, and the finding it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Headline {
    /// The `id` of the finding.
    pub finding: String,
    pub message: String,
}

/// `--fail-on`: the lowest severity that fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Severity(Severity),
    Never,
}

/// With `--baseline`: how this run's findings stand against the baseline's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgainstBaseline {
    pub new: usize,
    pub recurring: usize,
    pub resolved: usize,
}

impl Report {
    /// The counts every format shows for a run given `--baseline` (only such a run has
    /// `resolved`); none otherwise.
    pub fn against_baseline(&self) -> Option<AgainstBaseline> {
        let resolved = self.resolved.as_ref()?.len();
        let new = self
            .findings
            .iter()
            .filter(|f| f.baseline == Some(baseline::BaselineStatus::New))
            .count();
        Some(AgainstBaseline {
            new,
            recurring: self.findings.len() - new,
            resolved,
        })
    }

    pub fn new(command: &str, inputs: Inputs) -> Self {
        Report {
            version: 1,
            tool: Tool {
                name: "plumb",
                version: env!("CARGO_PKG_VERSION"),
            },
            command: command.to_string(),
            generated_at: crate::timestamp::now_rfc3339(),
            inputs,
            summary: Summary::default(),
            findings: Vec::new(),
            errors: Vec::new(),
            suppressions: Vec::new(),
            resolved: None,
            closed: Vec::new(),
            headlines: Vec::new(),
        }
    }

    pub fn add(&mut self, difference: Difference, envs: &[&str], verdict: Verdict) {
        let mut message = message(&difference, envs);
        if let Some(note) = &verdict.note {
            message = format!("{message} — {note}");
        }
        // Several checks can fail on one object: a check finding's id names its check too.
        let check = (difference.kind == FindingKind::Check)
            .then_some(verdict.rule.as_deref())
            .flatten();
        let id = finding_id(&difference, envs, check);
        let r = &difference.resource;
        self.findings.push(Finding {
            id,
            kind: difference.kind,
            status: verdict.status,
            severity: verdict.severity,
            envs: envs.iter().map(|e| e.to_string()).collect(),
            resource: ResourceInfo {
                group: r.id.group.clone(),
                version: r.version.clone(),
                kind: r.id.kind.clone(),
                namespace: r.id.namespace.clone(),
                name: r.id.name.clone(),
            },
            path: difference.path.to_string(),
            change: difference.op,
            left: difference.left,
            right: difference.right,
            rule: verdict.rule,
            message,
            source: difference.source,
            changed_by: difference.changed_by,
            promotion: difference.promotion.map(|p| *p),
            baseline: None,
            first_seen: None,
            other_source: difference.other_source,
            by_change: None,
            field_lines: FieldLines::default(),
        });
    }

    /// Adds another report's findings, errors, environments and counts to this one: how a command
    /// combines its views. A finding both have (same id: a check two views found) is kept once,
    /// the first.
    pub fn merge(&mut self, other: Report) {
        let inputs = &mut self.inputs;
        inputs.repo = inputs.repo.take().or(other.inputs.repo);
        inputs.git_ref = inputs.git_ref.take().or(other.inputs.git_ref);
        inputs.commit = inputs.commit.take().or(other.inputs.commit);
        inputs.tools.extend(other.inputs.tools);
        for chart in other.inputs.charts {
            if !inputs.charts.contains(&chart) {
                inputs.charts.push(chart);
            }
        }
        for env in other.inputs.environments {
            match inputs.environments.iter_mut().find(|e| e.name == env.name) {
                Some(known) => {
                    known.live = known.live.take().or(env.live);
                    known.drift |= env.drift;
                    for pair in env.pairs {
                        if !known.pairs.contains(&pair) {
                            known.pairs.push(pair);
                        }
                    }
                }
                None => inputs.environments.push(env),
            }
        }
        let summary = &mut self.summary;
        summary.resources.extend(other.summary.resources);
        summary.live_resources.extend(other.summary.live_resources);
        summary.ignored += other.summary.ignored;
        suppressions::merge(&mut self.suppressions, other.suppressions);
        summary
            .managed_elsewhere
            .extend(other.summary.managed_elsewhere);
        for headline in other.headlines {
            if !self.headlines.contains(&headline) {
                self.headlines.push(headline);
            }
        }
        let seen: std::collections::HashSet<String> =
            self.findings.iter().map(|f| f.id.clone()).collect();
        self.findings
            .extend(other.findings.into_iter().filter(|f| !seen.contains(&f.id)));
        for error in other.errors {
            // One error seen by several views (a render error in drift and in parity): drift's
            // copy says how many live objects it left unjudged.
            let same = |known: &RunError| {
                RunError {
                    unjudged: None,
                    ..known.clone()
                } == RunError {
                    unjudged: None,
                    ..error.clone()
                }
            };
            match self.errors.iter_mut().find(|known| same(known)) {
                Some(known) => known.unjudged = known.unjudged.or(error.unjudged),
                None => self.errors.push(error),
            }
        }
    }

    /// The report's environments in the order it lists them: its inputs' order (promotion order,
    /// for commands over a config), then any other the summary counts.
    pub fn environment_order(&self) -> Vec<String> {
        let mut order: Vec<String> = self
            .inputs
            .environments
            .iter()
            .map(|e| e.name.clone())
            .collect();
        for env in self.summary.resources.keys() {
            if !order.contains(env) {
                order.push(env.clone());
            }
        }
        order
    }

    /// Sorts findings and fills in the summary; call once, after the last finding. Findings go
    /// by environment in the report's order (a pair after its left environment's own findings),
    /// then namespace, kind, name and path.
    pub fn finish(&mut self) {
        let order = self.environment_order();
        let rank = |envs: &[String]| -> Vec<usize> {
            envs.iter()
                .map(|e| order.iter().position(|o| o == e).unwrap_or(usize::MAX))
                .collect()
        };
        self.findings.sort_by_cached_key(|f| {
            (
                rank(&f.envs),
                f.envs.clone(),
                f.resource.namespace.clone(),
                f.resource.kind.clone(),
                f.resource.name.clone(),
                f.path.clone(),
            )
        });
        let counts = &mut self.summary.findings;
        *counts = Counts::default();
        for f in &self.findings {
            counts.total += 1;
            *counts.by_status.entry(f.status.as_str()).or_default() += 1;
            *counts.by_severity.entry(f.severity.as_str()).or_default() += 1;
            *counts.by_kind.entry(f.kind.as_str()).or_default() += 1;
        }
        self.summary.complete = self.errors.is_empty();
        suppressions::finish(&mut self.suppressions, self.inputs.repo.as_deref());
    }

    /// Clean, findings at or above `fail_on`, or incomplete (docs/report.md). Bad input never
    /// comes from a report: it stops a run before one exists. With `only_new` (`--fail-on-new`),
    /// findings the baseline already had do not count.
    pub fn exit(&self, fail_on: FailOn, only_new: bool) -> Exit {
        if !self.errors.is_empty() {
            return Exit::Incomplete;
        }
        Exit::findings_if(self.failing(fail_on, only_new).next().is_some())
    }

    /// The findings that make the exit code 1 at `fail_on` (the table names them on its exit
    /// line): violations and unreviewed findings at or above it, only new ones with `only_new`.
    pub fn failing(&self, fail_on: FailOn, only_new: bool) -> impl Iterator<Item = &Finding> {
        let threshold = match fail_on {
            FailOn::Severity(threshold) => Some(threshold),
            FailOn::Never => None,
        };
        self.findings.iter().filter(move |f| {
            threshold.is_some_and(|t| f.severity >= t)
                && f.status.gates()
                && (!only_new || baseline::is_new(f))
        })
    }
}

/// Stable across runs: the same finding keeps its id (kind, environments, identity, path).
fn finding_id(d: &Difference, envs: &[&str], check: Option<&str>) -> String {
    let id = &d.resource.id;
    let mut text = format!(
        "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
        d.kind.as_str(),
        envs.join(","),
        id.group,
        id.kind,
        id.namespace.as_deref().unwrap_or(""),
        id.name,
        d.path
    );
    if let Some(check) = check {
        text.push('\u{0}');
        text.push_str(check);
    }
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

fn is_secret_value(value: Option<&Value>) -> bool {
    value.and_then(Value::as_str).is_some_and(is_fingerprint)
}

fn message(d: &Difference, envs: &[&str]) -> String {
    let (left, right) = (
        envs.first().copied().unwrap_or("left"),
        envs.get(1).copied().unwrap_or("right"),
    );
    let secret = is_secret_value(d.left.as_ref()) || is_secret_value(d.right.as_ref());
    let base = match (d.kind, d.op) {
        (FindingKind::Missing, _) => "declared in Git but not in the cluster".to_string(),
        (FindingKind::Unmanaged, _) => "in the cluster but not declared in Git".to_string(),
        (FindingKind::Check, _) => {
            return format!("fails {}", d.note.as_deref().unwrap_or("this check"));
        }
        // The promotion engine words its own message (compare/promotion.rs).
        (FindingKind::Promotion, _) => {
            return d
                .note
                .clone()
                .unwrap_or_else(|| "out of promotion order".into());
        }
        (FindingKind::Change, None) if d.only_in.as_deref() == Some("head") => {
            "added by this change".to_string()
        }
        (FindingKind::Change, None) => "removed by this change".to_string(),
        (FindingKind::Change, Some(ChangeOp::Changed)) if secret => {
            "this change changes a secret value (fingerprints shown)".into()
        }
        (FindingKind::Change, Some(ChangeOp::Changed)) => "changed by this change".into(),
        (FindingKind::Change, Some(ChangeOp::Added)) => "added by this change".into(),
        (FindingKind::Change, Some(ChangeOp::Removed)) => "removed by this change".into(),
        (FindingKind::OnlyIn, _) => format!("only in {}", d.only_in.as_deref().unwrap_or(left)),
        (FindingKind::Drift, Some(ChangeOp::Changed)) if secret => {
            "the cluster's secret value differs from Git's (fingerprints shown)".into()
        }
        (FindingKind::Drift, Some(ChangeOp::Changed)) => {
            "the cluster's value differs from Git".into()
        }
        (FindingKind::Drift, Some(ChangeOp::Removed)) => {
            "declared in Git but absent in the cluster".into()
        }
        (FindingKind::Drift, Some(ChangeOp::Added)) => "in the cluster but not in Git".into(),
        (FindingKind::Parity, Some(ChangeOp::Equal)) if secret => {
            format!(
                "{left} and {right} share this secret value (fingerprints shown); it must differ"
            )
        }
        (FindingKind::Parity, Some(ChangeOp::Equal)) => {
            format!("{left} and {right} hold the same value; it must differ")
        }
        (FindingKind::Parity, Some(ChangeOp::Changed)) if secret => {
            format!("secret values differ between {left} and {right} (fingerprints shown)")
        }
        (FindingKind::Parity, Some(ChangeOp::Changed)) => format!("{left} and {right} differ"),
        (FindingKind::Parity, Some(ChangeOp::Removed)) => format!("only {left} sets this"),
        (FindingKind::Parity, Some(ChangeOp::Added)) => format!("only {right} sets this"),
        (kind, _) => kind.as_str().to_string(),
    };
    match &d.note {
        Some(note) => format!("{base}: {note}"),
        None => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff_of(kind: FindingKind) -> Difference {
        crate::compare::test_support::field_difference(
            kind,
            ("apps", "Deployment", "x"),
            "spec.replicas",
            Some(1.into()),
            Some(2.into()),
        )
    }

    #[test]
    fn exit_codes_follow_severity_and_completeness() {
        let mut r = Report::new("parity", Inputs::default());
        r.add(
            diff_of(FindingKind::Parity),
            &["s", "p"],
            Verdict {
                status: Status::Unreviewed,
                severity: Severity::Warning,
                rule: None,
                note: None,
            },
        );
        r.finish();
        assert_eq!(
            r.exit(FailOn::Severity(Severity::Error), false),
            Exit::Clean
        );
        assert_eq!(
            r.exit(FailOn::Severity(Severity::Warning), false),
            Exit::Findings
        );
        r.findings[0].status = Status::Expected;
        assert_eq!(r.exit(FailOn::Severity(Severity::Info), false), Exit::Clean);
        r.errors.push(RunError {
            env: "s".into(),
            kind: "render".into(),
            source: None,
            resource: None,
            message: "x".into(),
            unjudged: None,
        });
        assert_eq!(r.exit(FailOn::Never, false), Exit::Incomplete);
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = finding_id(&diff_of(FindingKind::Parity), &["s", "p"], None);
        assert_eq!(
            a,
            finding_id(&diff_of(FindingKind::Parity), &["s", "p"], None)
        );
        assert_ne!(a, finding_id(&diff_of(FindingKind::Drift), &["s"], None));
        assert_eq!(a.len(), 16);
    }
}
