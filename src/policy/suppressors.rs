//! The rules and waivers that hide differences — `ignore`, `allow` and `require-different` rules,
//! and waivers — described so a report can say what its policies hid (docs/report.md,
//! suppressions). `deny` rules and checks are not here: what they decide is listed as findings.

use super::rules::{Action, Rule, Waiver};
use super::selector::Selector;

/// How close to its expiry a waiver is flagged: reviews happen before it lapses, not after.
pub const EXPIRING_WITHIN_DAYS: i64 = 14;

/// What kind of thing hides differences, and what it answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuppressorKind {
    /// A rule: its id and action (`ignore`, `allow`, `require-different`).
    Rule { id: String, action: &'static str },
    /// A waiver of the rule or check with this id.
    Waiver { rule: String },
}

/// One rule or waiver of a policy set, located, with what it says about itself before any
/// difference is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressor {
    pub kind: SuppressorKind,
    /// The policy file (`builtin:noise` for the shipped catalogue, never a disk path of it).
    pub file: String,
    pub line: u64,
    /// A rule with no `paths` or a `**` path; a waiver with an empty `match` (every finding of
    /// its rule).
    pub broad: bool,
    /// A waiver's last day, `YYYY-MM-DD`.
    pub expires: Option<String>,
    /// A waiver that lapses within [`EXPIRING_WITHIN_DAYS`] days of the run's date.
    pub expiring: bool,
    /// A waiver past its last day: it waives nothing any more.
    pub expired: bool,
    /// A `builtin:noise` rule whose fields are taken out of every object before comparison: the
    /// differences it prevents are never made, so they are not counted, and its zero count does
    /// not make it unused.
    pub before_comparison: bool,
}

impl Suppressor {
    /// The suppressor for `rule`, when its action hides differences.
    pub(super) fn of_rule(rule: &Rule, before_comparison: bool) -> Option<Suppressor> {
        let action = match rule.action {
            Action::Ignore => "ignore",
            Action::Allow => "allow",
            Action::RequireDifferent => "require-different",
            Action::Deny => return None,
        };
        Some(Suppressor {
            kind: SuppressorKind::Rule {
                id: rule.id.clone(),
                action,
            },
            file: rule.origin.file.clone(),
            line: rule.origin.line,
            broad: rule.paths.is_empty() || rule.paths.iter().any(|p| p.text.contains("**")),
            expires: None,
            expiring: false,
            expired: false,
            before_comparison,
        })
    }

    /// The suppressor for `waiver`, judged on `today` (days since 1970-01-01).
    pub(super) fn of_waiver(waiver: &Waiver, matcher: &Selector, today: i64) -> Suppressor {
        let days_left = waiver.expires_day - today;
        Suppressor {
            kind: SuppressorKind::Waiver {
                rule: waiver.rule.clone(),
            },
            file: waiver.origin.file.clone(),
            line: waiver.origin.line,
            broad: matcher.is_universal(),
            expires: Some(waiver.expires.clone()),
            expiring: (0..=EXPIRING_WITHIN_DAYS).contains(&days_left),
            expired: days_left < 0,
            before_comparison: false,
        }
    }
}
