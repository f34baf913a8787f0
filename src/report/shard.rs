//! Sharded audits (docs/scale.md): the units an audit is made of, which shard runs each, the
//! partial report a shard writes, and how `plumb merge` combines parts into the report one run
//! would have written. Pure: the command layer reads and validates the files (app/merge.rs).
//!
//! A part keeps, per unit, what that unit's view returned before the audit combined the views:
//! the merge replays the same combination in the same order (the order a single run uses), so
//! findings, ids, summary, suppressions and their order come out the same.

use super::{EnvironmentInput, Finding, Headline, Inputs, Report};
use crate::desired::render::charts::ChartUse;
use crate::model::RunError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The format of a part; a merge refuses parts of another format version.
pub const PART_VERSION: u32 = 1;

/// What a part says it is, so that a full report passed to `plumb merge` is named as such.
pub const PART_KIND: &str = "plumb-audit-part";

/// The most shards an audit can be split into: far above any CI matrix (GitHub Actions allows
/// 256 jobs per matrix) and low enough that a merge never loops over an absurd count.
pub const MAX_SHARDS: u32 = 10_000;

/// `drift(ENV)`.
pub fn drift_unit(env: &str) -> String {
    format!("drift({env})")
}

/// `parity(LEFT,RIGHT)`, upstream on the left for an edge.
pub fn parity_unit(left: &str, right: &str) -> String {
    format!("parity({left},{right})")
}

/// `checks(ENV)`: the checks of its desired state and, where it has one, its live state.
pub fn checks_unit(env: &str) -> String {
    format!("checks({env})")
}

/// Which shard (1-based, of `count`) runs each unit of an audit's plan. Rendering and listing an
/// environment costs far more than any view of it, so units go where their environment is: a
/// unit's *home* is its environment — `drift(ENV)` and `checks(ENV)` ENV, `parity(LEFT,RIGHT)`
/// RIGHT (an edge's downstream) — and a shard loads its homes and their upstreams only. The homes,
/// ordered by the first 8 bytes of SHA-256 of their names (big-endian; the name breaks ties), are
/// dealt to the shards in turn, so each shard gets the same number of environments, give or take
/// one. Every shard reads the same plan from the same config, and SHA-256 is stable across Rust
/// and plumb versions and platforms (Rust's `DefaultHasher` is not), so every shard decides alone
/// and all agree (docs/scale.md).
pub struct Assignment {
    shard_of_home: std::collections::HashMap<String, u32>,
}

impl Assignment {
    pub fn new<'a>(plan: impl IntoIterator<Item = &'a str>, count: u32) -> Assignment {
        let mut homes: Vec<(u64, &str)> = plan
            .into_iter()
            .map(home)
            .map(|home| (hash_key(home), home))
            .collect();
        homes.sort_unstable();
        homes.dedup();
        let count = u64::from(count.max(1));
        let shard_of_home = homes
            .into_iter()
            .enumerate()
            .map(|(rank, (_, home))| (home.to_string(), (rank as u64 % count) as u32 + 1))
            .collect();
        Assignment { shard_of_home }
    }

    /// The shard that runs `unit`; none for a unit not in the plan.
    pub fn shard_of(&self, unit: &str) -> Option<u32> {
        self.shard_of_home.get(home(unit)).copied()
    }
}

/// The environment a unit is about: what is inside `kind(…)`, the right side of a pair. (Names
/// holding a comma split at the first one: still the same answer on every shard.)
fn home(unit: &str) -> &str {
    let inner = unit
        .split_once('(')
        .map_or(unit, |(_, rest)| rest.strip_suffix(')').unwrap_or(rest));
    match unit.starts_with("parity(") {
        true => inner.split_once(',').map_or(inner, |(_, right)| right),
        false => inner,
    }
}

fn hash_key(name: &str) -> u64 {
    let digest = Sha256::digest(name.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// Which part of which split a shard is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardInfo {
    /// 1-based.
    pub index: u32,
    pub count: u32,
    /// The units this shard ran, in plan order.
    pub units: Vec<String>,
}

/// What one unit's view returned, besides its findings and errors (those are the part's own
/// lists, in unit order: `findings` and `errors` say how many of each are this unit's).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitResult {
    pub unit: String,
    pub findings: usize,
    pub errors: usize,
    #[serde(default)]
    pub environments: Vec<EnvironmentInput>,
    #[serde(default)]
    pub resources: BTreeMap<String, usize>,
    #[serde(default)]
    pub live_resources: BTreeMap<String, usize>,
    #[serde(default)]
    pub ignored: usize,
    #[serde(default)]
    pub managed_elsewhere: BTreeMap<String, usize>,
    #[serde(default)]
    pub suppressions: Vec<super::suppressions::Suppression>,
    /// Per suppression: the findings it matched without hiding (whether it is `unused`).
    #[serde(default)]
    pub flagged: Vec<usize>,
    /// Per suppression: a rule's action (`ignore`, `allow`, `require-different`), which the
    /// report's own field names as plumb's constants.
    #[serde(default)]
    pub actions: Vec<Option<String>>,
    #[serde(default)]
    pub headlines: Vec<Headline>,
}

/// The inputs of the whole audit as a shard knows them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartInputs {
    pub repo: Option<String>,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// Every environment of the audit, in promotion order.
    pub environments: Vec<String>,
    #[serde(default)]
    pub tools: BTreeMap<String, String>,
    #[serde(default)]
    pub charts: Vec<ChartUse>,
    #[serde(default)]
    pub source_link: Option<String>,
}

/// The partial report of one shard (docs/scale.md, the part).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub kind: String,
    pub version: u32,
    /// plumb's version (also covered by the digest).
    pub plumb: String,
    pub shard: ShardInfo,
    /// Every unit of the audit, in the order a single run combines them.
    pub plan: Vec<String>,
    pub config_digest: String,
    pub fingerprint_key_id: String,
    pub commit: String,
    pub inputs: PartInputs,
    pub findings: Vec<Finding>,
    pub errors: Vec<RunError>,
    pub results: Vec<UnitResult>,
}

impl Part {
    /// A shard's part from the reports of its units (in plan order), before any is finished.
    pub fn new(
        shard: ShardInfo,
        plan: Vec<String>,
        identity: PartIdentity,
        inputs: PartInputs,
        units: Vec<(String, Report)>,
    ) -> Part {
        let mut part = Part {
            kind: PART_KIND.to_string(),
            version: PART_VERSION,
            plumb: env!("CARGO_PKG_VERSION").to_string(),
            shard,
            plan,
            config_digest: identity.config_digest,
            fingerprint_key_id: identity.fingerprint_key_id,
            commit: identity.commit,
            inputs,
            findings: Vec::new(),
            errors: Vec::new(),
            results: Vec::new(),
        };
        for (unit, report) in units {
            let suppressions = report.suppressions;
            part.results.push(UnitResult {
                unit,
                findings: report.findings.len(),
                errors: report.errors.len(),
                environments: report.inputs.environments,
                resources: report.summary.resources,
                live_resources: report.summary.live_resources,
                ignored: report.summary.ignored,
                managed_elsewhere: report.summary.managed_elsewhere,
                flagged: suppressions.iter().map(|s| s.flagged).collect(),
                actions: suppressions
                    .iter()
                    .map(|s| s.action.map(str::to_string))
                    .collect(),
                suppressions,
                headlines: report.headlines,
            });
            part.findings.extend(report.findings);
            part.errors.extend(report.errors);
        }
        part
    }
}

/// What makes parts combinable: the same commit, configuration and fingerprint key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartIdentity {
    pub config_digest: String,
    pub fingerprint_key_id: String,
    pub commit: String,
}

/// Why parts cannot be combined (exit 2): each names the files.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error(
        "{first} and {second} are parts of different audits: their {what} differ ({first_value} and {second_value})\n  help: merge the parts of one run: every shard of the same commit, plumb.yaml, policies, plumb version and PLUMB_FINGERPRINT_KEY"
    )]
    Different {
        first: String,
        second: String,
        what: &'static str,
        first_value: String,
        second_value: String,
    },
    #[error(
        "{first} and {second} are both part {index} of {count}\n  help: pass each shard's part once; a part given twice, or two runs of one shard, cannot be told apart safely"
    )]
    Duplicate {
        first: String,
        second: String,
        index: u32,
        count: u32,
    },
    #[error(
        "{file} is not a consistent part of a sharded audit: {reason}\n  help: pass the files `plumb audit --shard I/N -o json` wrote, unchanged"
    )]
    Inconsistent { file: String, reason: String },
}

/// Combines parts (each with the file it came from) into the report a single audit would have
/// built before its cross-unit notes: units in plan order, each merged as the audit merges its
/// views. A missing part's units become `shard` errors (the report is incomplete) naming the part.
pub fn combine(parts: Vec<(String, Part)>) -> Result<Report, ShardError> {
    let Some((first_file, first)) = parts.first() else {
        return Err(ShardError::Inconsistent {
            file: "(none)".into(),
            reason: "no parts".into(),
        });
    };
    let (first_file, first) = (first_file.clone(), first.clone());
    let mut by_index: BTreeMap<u32, (String, Part)> = BTreeMap::new();
    for (file, part) in parts {
        validate(&file, &part)?;
        let differ = |what: &'static str, a: &str, b: &str| -> Result<(), ShardError> {
            if a == b {
                return Ok(());
            }
            Err(ShardError::Different {
                first: first_file.clone(),
                second: file.clone(),
                what,
                first_value: a.to_string(),
                second_value: b.to_string(),
            })
        };
        differ("plumb versions", &first.plumb, &part.plumb)?;
        differ("commits", &first.commit, &part.commit)?;
        differ("config digests", &first.config_digest, &part.config_digest)?;
        differ(
            "fingerprint key ids",
            &first.fingerprint_key_id,
            &part.fingerprint_key_id,
        )?;
        differ(
            "shard counts",
            &first.shard.count.to_string(),
            &part.shard.count.to_string(),
        )?;
        differ("plans", &first.plan.join(" "), &part.plan.join(" "))?;
        if let Some((known, _)) = by_index.get(&part.shard.index) {
            return Err(ShardError::Duplicate {
                first: known.clone(),
                second: file,
                index: part.shard.index,
                count: part.shard.count,
            });
        }
        by_index.insert(part.shard.index, (file, part));
    }
    let count = first.shard.count;
    let mut tools = BTreeMap::new();
    let mut charts = Vec::new();
    let mut units: BTreeMap<String, Report> = BTreeMap::new();
    for (_, part) in by_index.values() {
        tools.extend(part.inputs.tools.clone());
        charts.extend(part.inputs.charts.clone());
    }
    charts.sort();
    charts.dedup();
    for (_, (_, part)) in by_index {
        let mut findings = part.findings.into_iter();
        let mut errors = part.errors.into_iter();
        for result in part.results {
            let mut report = Report::new("audit", Inputs::default());
            report.findings = findings.by_ref().take(result.findings).collect();
            report.errors = errors.by_ref().take(result.errors).collect();
            report.inputs.environments = result.environments;
            report.summary.resources = result.resources;
            report.summary.live_resources = result.live_resources;
            report.summary.ignored = result.ignored;
            report.summary.managed_elsewhere = result.managed_elsewhere;
            report.suppressions = result.suppressions;
            for ((entry, flagged), action) in report
                .suppressions
                .iter_mut()
                .zip(result.flagged)
                .zip(result.actions)
            {
                entry.flagged = flagged;
                entry.action = action
                    .as_deref()
                    .and_then(super::suppressions::known_action);
            }
            report.headlines = result.headlines;
            units.insert(result.unit, report);
        }
    }
    let inputs = Inputs {
        repo: first.inputs.repo.clone(),
        git_ref: first.inputs.git_ref.clone(),
        commit: Some(first.commit.clone()),
        environments: first
            .inputs
            .environments
            .iter()
            .map(|name| EnvironmentInput {
                name: name.clone(),
                ..Default::default()
            })
            .collect(),
        base: None,
        tools,
        charts,
        source_link: first.inputs.source_link.clone(),
    };
    let mut report = Report::new("audit", inputs);
    let assignment = Assignment::new(first.plan.iter().map(String::as_str), count);
    for unit in &first.plan {
        match units.remove(unit) {
            Some(part) => report.merge(part),
            None => {
                let index = assignment.shard_of(unit).unwrap_or_default();
                report.errors.push(missing(unit, index, count));
            }
        }
    }
    Ok(report)
}

/// The error that stands for a unit whose part was not given: what it would have judged is
/// unknown, so the merged report is incomplete.
fn missing(unit: &str, index: u32, count: u32) -> RunError {
    let env = unit
        .split_once('(')
        .and_then(|(_, rest)| rest.trim_end_matches(')').split(',').next())
        .unwrap_or_default()
        .to_string();
    RunError {
        env,
        kind: "shard".into(),
        source: Some(format!("part {index} of {count}")),
        resource: None,
        message: format!(
            "{unit} was not judged: part {index} of {count} was not given to plumb merge (its shard failed or its file is missing)"
        ),
        unjudged: None,
    }
}

/// A part says what it is, and what it says holds together: its units are its shard's by the
/// hash, in the plan, each with its results, and the counts add up.
fn validate(file: &str, part: &Part) -> Result<(), ShardError> {
    let fail = |reason: String| {
        Err(ShardError::Inconsistent {
            file: file.to_string(),
            reason,
        })
    };
    if part.kind != PART_KIND {
        return fail(format!("its kind is `{}`, not `{PART_KIND}`", part.kind));
    }
    if part.version != PART_VERSION {
        return fail(format!(
            "it is format version {}; this plumb reads version {PART_VERSION}",
            part.version
        ));
    }
    let ShardInfo {
        index,
        count,
        units,
    } = &part.shard;
    if *count == 0 || *count > MAX_SHARDS || *index == 0 || index > count {
        return fail(format!(
            "shard {index}/{count} is not I/N with 1 ≤ I ≤ N ≤ {MAX_SHARDS}"
        ));
    }
    let assignment = Assignment::new(part.plan.iter().map(String::as_str), *count);
    for unit in units {
        match assignment.shard_of(unit) {
            None => return fail(format!("its unit {unit} is not in its plan")),
            Some(owner) if owner != *index => {
                return fail(format!("its unit {unit} belongs to shard {owner}"));
            }
            Some(_) => {}
        }
    }
    let owned: Vec<&String> = part
        .plan
        .iter()
        .filter(|u| assignment.shard_of(u) == Some(*index))
        .collect();
    if owned.len() != units.len() {
        return fail(format!(
            "it ran {} units; shard {index}/{count} owns {}",
            units.len(),
            owned.len()
        ));
    }
    let ran: Vec<&String> = part.results.iter().map(|r| &r.unit).collect();
    if ran != units.iter().collect::<Vec<_>>() {
        return fail("its results are not its units".into());
    }
    let findings: usize = part.results.iter().map(|r| r.findings).sum();
    let errors: usize = part.results.iter().map(|r| r.errors).sum();
    if findings != part.findings.len() || errors != part.errors.len() {
        return fail("its counts of findings or errors do not add up".into());
    }
    if part
        .results
        .iter()
        .any(|r| r.flagged.len() != r.suppressions.len() || r.actions.len() != r.suppressions.len())
    {
        return fail("its suppression counts do not match its suppressions".into());
    }
    let unknown_action = part
        .results
        .iter()
        .flat_map(|r| &r.actions)
        .flatten()
        .find(|a| super::suppressions::known_action(a).is_none());
    if unknown_action.is_some() {
        return fail("a suppression's action is not one plumb writes".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_go_with_their_environment_and_environments_are_dealt_evenly() {
        let plan = [
            "drift(dev)",
            "drift(qa)",
            "parity(dev,qa)",
            "parity(qa,staging)",
            "parity(staging,production)",
            "checks(dev)",
            "checks(qa)",
            "checks(staging)",
            "checks(production)",
        ];
        let assignment = Assignment::new(plan, 2);
        let of = |unit| assignment.shard_of(unit).unwrap();
        // Every unit of an environment on one shard; a pair with its right side.
        assert_eq!(of("drift(qa)"), of("checks(qa)"));
        assert_eq!(of("parity(dev,qa)"), of("qa"));
        assert_eq!(of("parity(staging,production)"), of("checks(production)"));
        // Four environments on two shards: two each.
        let on_first = ["dev", "qa", "staging", "production"]
            .iter()
            .filter(|env| of(env) == 1)
            .count();
        assert_eq!(on_first, 2);
        assert_eq!(assignment.shard_of("drift(elsewhere)"), None);
        // Pinned: the order of SHA-256 of the names (a change here reshuffles every sharded
        // audit; the same as sorting by `int.from_bytes(sha256(name)[:8], "big")` in Python).
        let one_each = Assignment::new(plan, 4);
        let shards: Vec<u32> = ["dev", "qa", "staging", "production"]
            .iter()
            .map(|env| one_each.shard_of(env).unwrap())
            .collect();
        assert_eq!(shards, [4, 1, 3, 2]);
        assert_eq!(Assignment::new(plan, 1).shard_of("parity(dev,qa)"), Some(1));
    }

    #[test]
    fn times_read_back_as_written() {
        let t = 1_790_000_000;
        let text = crate::timestamp::format_unix(t as u64);
        assert_eq!(crate::timestamp::parse_rfc3339(&text), Some(t));
        assert_eq!(
            crate::timestamp::parse_rfc3339("2026-13-01T00:00:00Z"),
            None
        );
    }
}
