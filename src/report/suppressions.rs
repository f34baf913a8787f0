//! What the policies hid (docs/report.md, suppressions): each `ignore`, `allow` and
//! `require-different` rule and each waiver of the policy sets a run judged with, how many
//! differences it decided at each place, and what deserves a second look — rules that decided
//! nothing, broad ones, waivers about to lapse. Auditors read this to see what is not being looked
//! at.

use crate::policy::suppressors::{Suppressor, SuppressorKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// A rule's id (absent for a waiver).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// A waiver: the id of the rule or check it waives (absent for a rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<String>,
    /// A rule's action: `ignore`, `allow` or `require-different`.
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub action: Option<&'static str>,
    pub file: String,
    pub line: u64,
    /// Differences it hid, per place: an environment (`staging`: drift, checks) or a pair
    /// (`staging,production`). Places where it hid nothing are left out.
    pub decided: BTreeMap<String, usize>,
    /// It hid nothing in this run (never set for noise removed before comparison).
    pub unused: bool,
    /// A rule with no `paths` or a `**` path; a waiver with an empty `match`.
    pub broad: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// A waiver lapsing within 14 days of the run's date.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub expiring: bool,
    /// A waiver past its last day.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub expired: bool,
    /// A `builtin:noise` field taken out of every object before comparison: what it prevents is
    /// never a difference, so it is not counted.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub before_comparison: bool,
    /// Findings it matched without hiding them (a `require-different` rule's equal values: listed
    /// as violations): not `decided`, but the rule is in use.
    #[serde(skip)]
    pub flagged: usize,
}

/// A rule's action read back (from a sharded audit's part): one of the actions plumb writes.
pub fn known_action(text: &str) -> Option<&'static str> {
    ["ignore", "allow", "require-different", "deny"]
        .into_iter()
        .find(|known| *known == text)
}

impl Suppression {
    fn of(suppressor: Suppressor) -> Suppression {
        let (rule, waiver, action) = match suppressor.kind {
            SuppressorKind::Rule { id, action } => (Some(id), None, Some(action)),
            SuppressorKind::Waiver { rule } => (None, Some(rule), None),
        };
        Suppression {
            rule,
            waiver,
            action,
            file: suppressor.file,
            line: suppressor.line,
            decided: BTreeMap::new(),
            unused: false,
            broad: suppressor.broad,
            expires: suppressor.expires,
            expiring: suppressor.expiring,
            expired: suppressor.expired,
            before_comparison: suppressor.before_comparison,
            flagged: 0,
        }
    }

    /// One entry per rule or waiver as written: two policy sets sharing a file (a pair's own set
    /// and the global one) count into the same entry.
    fn same_as(&self, other: &Suppression) -> bool {
        (&self.rule, &self.waiver, &self.file, self.line)
            == (&other.rule, &other.waiver, &other.file, other.line)
    }

    /// How many differences it hid, everywhere.
    pub fn total(&self) -> usize {
        self.decided.values().sum()
    }

    /// `rule ID` or `waiver of ID`, as the table and Markdown name it.
    pub fn label(&self) -> String {
        match (&self.rule, &self.waiver) {
            (Some(rule), _) => rule.clone(),
            (None, Some(waived)) => format!("waiver of {waived}"),
            (None, None) => String::new(),
        }
    }
}

/// Adds what one view's judging found at `place` (`staging`, `staging,production`): each
/// suppressor is listed even when it hid nothing there, so unused ones are seen.
pub fn record(list: &mut Vec<Suppression>, found: Vec<(Suppressor, usize, usize)>, place: &str) {
    for (suppressor, count, flagged) in found {
        let mut entry = Suppression::of(suppressor);
        entry.flagged = flagged;
        if count > 0 {
            entry.decided.insert(place.to_string(), count);
        }
        add(list, entry);
    }
}

/// Combines another report's suppressions with these: counts summed per place, new entries
/// after the known ones (each view lists its policy set in file order, so the order is stable).
pub fn merge(list: &mut Vec<Suppression>, other: Vec<Suppression>) {
    for entry in other {
        add(list, entry);
    }
}

fn add(list: &mut Vec<Suppression>, entry: Suppression) {
    match list.iter_mut().find(|known| known.same_as(&entry)) {
        Some(known) => {
            known.flagged += entry.flagged;
            for (place, count) in entry.decided {
                *known.decided.entry(place).or_default() += count;
            }
        }
        None => list.push(entry),
    }
}

/// Marks what hid nothing in the whole run, and names policy files inside `repo` (the report's
/// repository root) relative to it, as findings name their sources; call once, after the last
/// merge.
pub fn finish(list: &mut [Suppression], repo: Option<&str>) {
    for entry in list.iter_mut() {
        entry.unused = entry.decided.is_empty() && entry.flagged == 0 && !entry.before_comparison;
    }
    relative_to(list, repo);
}

/// Names policy files inside `repo` relative to it: a sharded audit's parts do so before they
/// leave their machine, whose checkout may live elsewhere than the merge's.
pub fn relative_to(list: &mut [Suppression], repo: Option<&str>) {
    for entry in list {
        if let Some(inside) = repo.and_then(|root| relative(&entry.file, root)) {
            entry.file = inside;
        }
    }
}

/// `file` relative to `root`, when it is inside it.
fn relative(file: &str, root: &str) -> Option<String> {
    let inside = std::path::Path::new(file)
        .strip_prefix(root)
        .ok()?
        .to_string_lossy()
        .into_owned();
    (!inside.is_empty()).then_some(inside)
}

/// The one-line account the table and Markdown start their section with: "3 rules decided 41
/// findings; 2 unused; 1 waiver expiring 2026-12-10". `None` when nothing hid anything and
/// nothing is flagged (JSON still lists every entry).
pub fn headline(list: &[Suppression]) -> Option<String> {
    if !list.iter().any(listed) {
        return None;
    }
    let deciding: Vec<&Suppression> = list.iter().filter(|s| s.total() > 0).collect();
    let hidden: usize = deciding.iter().map(|s| s.total()).sum();
    let mut parts = vec![format!(
        "{} decided {}",
        plural(deciding.len(), "rule or waiver", "rules and waivers"),
        plural(hidden, "finding", "findings")
    )];
    // Idle shipped rules are not news (see [`listed`]): only what a reader will see is counted.
    let unused = list.iter().filter(|s| s.unused && listed(s)).count();
    if unused > 0 {
        parts.push(format!("{unused} unused"));
    }
    let broad = list.iter().filter(|s| s.broad && listed(s)).count();
    if broad > 0 {
        parts.push(format!("{broad} broad"));
    }
    for s in list.iter().filter(|s| s.expiring || s.expired) {
        let word = if s.expired { "expired" } else { "expiring" };
        parts.push(format!(
            "waiver of {} {word} {}",
            s.waiver.as_deref().unwrap_or(""),
            s.expires.as_deref().unwrap_or("")
        ));
    }
    Some(parts.join("; "))
}

/// The flags a reader should look at: `unused`, `broad`, `expiring DATE`, `expired DATE`.
pub fn flags(entry: &Suppression) -> Vec<String> {
    let mut flags = Vec::new();
    if entry.unused {
        flags.push("unused".to_string());
    }
    if entry.broad {
        flags.push("broad".to_string());
    }
    if let Some(expires) = &entry.expires {
        if entry.expired {
            flags.push(format!("expired {expires}"));
        } else if entry.expiring {
            flags.push(format!("expiring {expires}"));
        }
    }
    flags
}

/// Whether a reader's section lists the entry: it hid something, or it is flagged. The shipped
/// noise rules that hid nothing are the catalogue at rest, not news: they stay in JSON only.
pub fn listed(entry: &Suppression) -> bool {
    let shipped_and_idle = entry.file.starts_with("builtin:") && entry.total() == 0;
    !shipped_and_idle && (entry.total() > 0 || !flags(entry).is_empty())
}

/// `place: count` for each place, by name.
pub fn decided_text(entry: &Suppression) -> String {
    entry
        .decided
        .iter()
        .map(|(place, count)| format!("{place}: {count}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, line: u64) -> Suppressor {
        Suppressor {
            kind: SuppressorKind::Rule {
                id: id.into(),
                action: "allow",
            },
            file: "p.yaml".into(),
            line,
            broad: false,
            expires: None,
            expiring: false,
            expired: false,
            before_comparison: false,
        }
    }

    #[test]
    fn counts_sum_per_place_and_unused_is_what_decided_nothing_anywhere() {
        let mut list = Vec::new();
        record(
            &mut list,
            vec![(rule("a", 3), 2, 0), (rule("b", 9), 0, 0)],
            "staging",
        );
        let mut other = Vec::new();
        record(
            &mut other,
            vec![(rule("a", 3), 5, 0), (rule("b", 9), 0, 0)],
            "staging,production",
        );
        record(&mut other, vec![(rule("a", 3), 1, 0)], "staging");
        // Same id, another line: another rule (two files may share ids).
        record(&mut other, vec![(rule("a", 30), 0, 0)], "staging");
        merge(&mut list, other);
        finish(&mut list, None);
        let summary: Vec<(String, u64, String, bool)> = list
            .iter()
            .map(|s| (s.label(), s.line, decided_text(s), s.unused))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "a".into(),
                    3,
                    "staging: 3, staging,production: 5".into(),
                    false
                ),
                ("b".into(), 9, "".into(), true),
                ("a".into(), 30, "".into(), true),
            ]
        );
        let mut inside = list.clone();
        finish(&mut inside, Some("/repo"));
        assert_eq!(inside[0].file, "p.yaml", "not inside: kept as given");
        inside[0].file = "/repo/policies/p.yaml".into();
        finish(&mut inside, Some("/repo/"));
        assert_eq!(inside[0].file, "policies/p.yaml");
        assert_eq!(
            headline(&list).as_deref(),
            Some("1 rule or waiver decided 8 findings; 2 unused")
        );
    }

    #[test]
    fn noise_removed_before_comparison_is_never_unused_and_idle_shipped_rules_are_not_listed() {
        let mut noise = rule("noise-status", 15);
        noise.file = "builtin:noise".into();
        noise.before_comparison = true;
        let mut idle = rule("noise-rollout-restart", 70);
        idle.file = "builtin:noise".into();
        let mut list = Vec::new();
        record(&mut list, vec![(noise, 0, 0), (idle, 0, 0)], "staging");
        finish(&mut list, Some("/repo/"));
        assert_eq!(list[0].file, "builtin:noise");
        assert!(!list[0].unused);
        assert!(list[1].unused);
        assert!(!list.iter().any(listed));
        assert_eq!(headline(&list), None, "nothing to say: no section");
    }
}
