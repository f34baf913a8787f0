//! Deciding what each difference means (docs/policies.md): policy files (`rules`), path patterns
//! (`pattern`), and the evaluation (`eval`) that turns each difference into ignored, expected,
//! violation, waived or unreviewed.

pub mod builtin;
pub mod checks;
pub mod cost;
pub mod eval;
pub mod expr;
pub mod lint;
pub mod pattern;
pub mod projection;
pub mod rules;
pub mod selector;
pub mod suppressors;
pub mod testing;

use crate::compare::FindingKind;
use serde::{Deserialize, Serialize};

/// How serious a finding is: `error` fails a run by default (`--fail-on`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Violation,
    Unreviewed,
    Waived,
    Expected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Violation => "violation",
            Status::Unreviewed => "unreviewed",
            Status::Waived => "waived",
            Status::Expected => "expected",
        }
    }

    /// Whether a finding with this status can fail a run (`--fail-on`).
    pub fn gates(self) -> bool {
        matches!(self, Status::Violation | Status::Unreviewed)
    }
}

/// Where a difference or a check result was found: its environment (drift, checks, changes) or
/// its pair's left and right environments, and whether that pair is a promotion edge. Rules,
/// waivers and checks select by it (`match.envs`, `pairs`, `edges`), and messages name it
/// (`{left}`, `{right}`, `{upstream}`, `{downstream}`, `{env}`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Place<'a> {
    pub envs: &'a [&'a str],
    pub edge: bool,
}

impl<'a> Place<'a> {
    /// Environments that are no promotion edge: one environment, or a peer pair.
    pub fn of(envs: &'a [&'a str]) -> Place<'a> {
        Place { envs, edge: false }
    }

    /// `text` with the place's names filled in. On a pair that is no promotion edge,
    /// `{upstream}` and `{downstream}` name its left and right.
    pub fn fill(&self, text: &str) -> String {
        if !text.contains('{') {
            return text.to_string();
        }
        let mut out = text.to_string();
        match self.envs {
            [env] => out = out.replace("{env}", env),
            [left, right] => {
                for (placeholder, name) in [
                    ("{left}", left),
                    ("{right}", right),
                    ("{upstream}", left),
                    ("{downstream}", right),
                ] {
                    out = out.replace(placeholder, name);
                }
            }
            _ => {}
        }
        out
    }
}

/// Which policy scope a finding kind belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Drift,
    Parity,
}

pub fn scope_of(kind: FindingKind) -> Scope {
    match kind {
        FindingKind::Drift | FindingKind::Missing | FindingKind::Unmanaged => Scope::Drift,
        FindingKind::Parity
        | FindingKind::OnlyIn
        | FindingKind::Promotion
        | FindingKind::Check
        | FindingKind::Change => Scope::Parity,
    }
}

/// Severity of differences no rule covers.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub parity: Severity,
    pub drift: Severity,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            parity: Severity::Warning,
            drift: Severity::Error,
        }
    }
}

/// What a difference means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    pub severity: Severity,
    pub rule: Option<String>,
    /// Why: the rule's description, a waiver's owner and expiry, a lapsed waiver.
    pub note: Option<String>,
}
