//! `--baseline PREVIOUS.json`: which findings are new since a previous report, which recur (and
//! since when), and which are gone — so a team can adopt plumb on a repository with known gaps and
//! still block regressions (`--fail-on-new`).
//!
//! Findings are matched by id (a hash of kind, environments, identity and path: the same finding
//! keeps its id across runs). `first_seen` is carried forward from the baseline, or is the
//! baseline's `generated_at` for a baseline that predates the field.

use super::{Finding, Report, ResourceInfo};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// Whether a finding was in the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineStatus {
    New,
    Recurring,
}

/// A finding of the baseline that this run no longer has.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Resolved {
    pub id: String,
    pub kind: String,
    pub envs: Vec<String>,
    pub resource: ResourceInfo,
    pub path: String,
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub first_seen: Option<String>,
}

/// The parts of a previous report a baseline needs.
#[derive(Debug, Deserialize)]
pub struct Baseline {
    pub generated_at: String,
    pub findings: Vec<Resolved>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("baseline: {0}")]
    Read(#[from] crate::input_file::InputFileError),
    #[error(
        "{path} is not a plumb JSON report: {message}\n  help: pass the JSON report of an earlier run (-f json -o FILE)"
    )]
    NotAReport { path: String, message: String },
}

impl Baseline {
    pub fn read(path: &std::path::Path) -> Result<Baseline, BaselineError> {
        let name = path.display().to_string();
        let text = crate::input_file::read_text(path, crate::input_file::InputKind::Report)?;
        serde_json::from_str(&text).map_err(|e| BaselineError::NotAReport {
            path: name,
            message: crate::yaml::without_values(&e.to_string()),
        })
    }
}

/// Marks each finding `new` or `recurring` and lists the baseline's findings that are gone.
///
/// Only findings about the environments this run covers can be resolved by it, and only when the
/// run is complete: a finding this run could not see is not fixed.
pub fn apply(report: &mut Report, baseline: &Baseline) {
    let previous: HashMap<&str, &Resolved> = baseline
        .findings
        .iter()
        .map(|f| (f.id.as_str(), f))
        .collect();
    for finding in &mut report.findings {
        match previous.get(finding.id.as_str()) {
            Some(old) => {
                finding.baseline = Some(BaselineStatus::Recurring);
                finding.first_seen = Some(
                    old.first_seen
                        .clone()
                        .unwrap_or_else(|| baseline.generated_at.clone()),
                );
            }
            None => {
                finding.baseline = Some(BaselineStatus::New);
                finding.first_seen = Some(report.generated_at.clone());
            }
        }
    }
    let current: BTreeSet<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
    let covered: BTreeSet<&str> = report
        .inputs
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    let complete = report.errors.is_empty();
    report.resolved = Some(
        baseline
            .findings
            .iter()
            .filter(|f| complete && !current.contains(f.id.as_str()))
            .filter(|f| f.envs.iter().all(|e| covered.contains(e.as_str())))
            .cloned()
            .map(|mut f| {
                f.first_seen = f.first_seen.or_else(|| Some(baseline.generated_at.clone()));
                f
            })
            .collect(),
    );
}

/// Whether `finding` counts under `--fail-on-new`.
pub fn is_new(finding: &Finding) -> bool {
    finding.baseline != Some(BaselineStatus::Recurring)
}
