//! Deciding what each difference means. Until policy files land, nothing matches a rule: every
//! difference is `unreviewed` at its scope's default severity (drift: error, parity: warning).

pub mod pattern;
pub mod rules;

use crate::compare::{Difference, FindingKind};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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

/// Which policy scope a finding kind belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Drift,
    Parity,
}

pub fn scope_of(kind: FindingKind) -> Scope {
    match kind {
        FindingKind::Drift | FindingKind::Missing | FindingKind::Unmanaged => Scope::Drift,
        FindingKind::Parity | FindingKind::OnlyIn | FindingKind::Check | FindingKind::Change => {
            Scope::Parity
        }
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
}

pub fn classify(difference: &Difference, defaults: &Defaults) -> Verdict {
    let severity = match scope_of(difference.kind) {
        Scope::Drift => defaults.drift,
        Scope::Parity => defaults.parity,
    };
    Verdict {
        status: Status::Unreviewed,
        severity,
        rule: None,
    }
}
