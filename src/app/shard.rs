//! `plumb audit --shard I/N` and `plumb merge PART...` (docs/scale.md): the command layer of a
//! sharded audit. Which shard this is (flag or environment), the config digest and the fingerprint
//! key id that tie the parts of one audit together, writing a part, and reading parts back as the
//! hostile files they may be. Combining them is pure (report/shard.rs).

use super::audit::{self, cross_reference};
use super::policies::policy_paths;
use super::{AppError, Context, Project};
use crate::cli::{Format, ReportTarget};
use crate::exit::Exit;
use crate::input_file::{InputKind, read_text};
use crate::report::shard::{self, MAX_SHARDS, Part, PartIdentity, PartInputs, ShardInfo};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Why a shard cannot run or a part cannot be read (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ShardRunError {
    #[error(
        "`{value}` ({from}) is not a shard\n  help: write I/N with 1 ≤ I ≤ N ≤ {MAX_SHARDS}: --shard 2/5 runs the second of five parts"
    )]
    BadShard { value: String, from: &'static str },
    #[error(
        "PLUMB_SHARD_COUNT is set but JOB_COMPLETION_INDEX is not\n  help: in a Kubernetes Indexed Job the index is set for you (completionMode: Indexed); elsewhere pass --shard I/N"
    )]
    CountWithoutIndex,
    #[error(
        "a sharded audit needs a fixed PLUMB_FINGERPRINT_KEY\n  help: set the same PLUMB_FINGERPRINT_KEY (a secret of your CI) in every shard: with the default random key, Secret fingerprints of two shards could not be compared"
    )]
    NoFingerprintKey,
    #[error(
        "a shard writes its part as JSON, not {format}\n  help: use -o json (stdout) or --report json=FILE, then `plumb merge` the parts into any format"
    )]
    PartFormat { format: String },
    #[error(
        "a shard writes no report of its own: {flag} belongs to `plumb merge`\n  help: pass {flag} to plumb merge, which judges the whole audit"
    )]
    MergeFlag { flag: &'static str },
    #[error(
        "{path} is a full plumb report, not the part of a sharded audit\n  help: pass the files `plumb audit --shard I/N -o json` wrote"
    )]
    FullReport { path: String },
    #[error(
        "{path} is not the part of a sharded audit: {message}\n  help: pass the files `plumb audit --shard I/N -o json` wrote, unchanged"
    )]
    NotAPart { path: String, message: String },
    #[error(transparent)]
    Combine(#[from] shard::ShardError),
}

/// The shard this run is, if any: `--shard I/N` (or `PLUMB_SHARD`, which clap reads into it), else
/// `JOB_COMPLETION_INDEX` (0-based) with `PLUMB_SHARD_COUNT`.
pub fn resolve(flag: Option<&str>) -> Result<Option<(u32, u32)>, ShardRunError> {
    if let Some(value) = flag {
        return parse(value, "--shard or PLUMB_SHARD").map(Some);
    }
    let var = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    match (var("JOB_COMPLETION_INDEX"), var("PLUMB_SHARD_COUNT")) {
        (Some(index), Some(count)) => {
            let bad = || ShardRunError::BadShard {
                value: format!("{index} of {count}"),
                from: "JOB_COMPLETION_INDEX and PLUMB_SHARD_COUNT",
            };
            let index: u32 = index.trim().parse().map_err(|_| bad())?;
            let count: u32 = count.trim().parse().map_err(|_| bad())?;
            let shard = (index.checked_add(1).ok_or_else(bad)?, count);
            check(shard).ok_or_else(bad).map(Some)
        }
        (None, Some(_)) => Err(ShardRunError::CountWithoutIndex),
        // An Indexed Job that does not set PLUMB_SHARD_COUNT runs whole audits.
        _ => Ok(None),
    }
}

fn parse(value: &str, from: &'static str) -> Result<(u32, u32), ShardRunError> {
    let bad = || ShardRunError::BadShard {
        value: value.to_string(),
        from,
    };
    let (index, count) = value.trim().split_once('/').ok_or_else(bad)?;
    let index = index.trim().parse().map_err(|_| bad())?;
    let count = count.trim().parse().map_err(|_| bad())?;
    check((index, count)).ok_or_else(bad)
}

fn check((index, count): (u32, u32)) -> Option<(u32, u32)> {
    (1..=MAX_SHARDS)
        .contains(&count)
        .then_some(())
        .filter(|_| (1..=count).contains(&index))
        .map(|_| (index, count))
}

/// Runs the shard's units and writes its part where `-o json` or `--report json=FILE` says;
/// exits 0 once written: the verdict is the merge's.
pub fn run_shard(
    context: &Context<'_>,
    project: &Project,
    git_ref: Option<&str>,
    (index, count): (u32, u32),
) -> Result<Exit, AppError> {
    let common = context.common;
    // Refused before any work: what a shard cannot write, or a key that would make its
    // fingerprints incomparable with the other shards'.
    let mut targets: Vec<Option<&Path>> = Vec::new();
    match common.format {
        Format::Json => targets.push(None),
        // The default on stdout: nothing goes there when a file takes the part.
        Format::Table if common.reports.iter().any(|r| r.format == Format::Json) => {}
        other => return Err(part_format(other).into()),
    }
    for ReportTarget { format, path } in &common.reports {
        if *format != Format::Json {
            return Err(part_format(*format).into());
        }
        targets.push(Some(path));
    }
    if common.baseline.is_some() {
        return Err(ShardRunError::MergeFlag { flag: "--baseline" }.into());
    }
    let key = context
        .settings
        .fingerprint_key
        .as_deref()
        .ok_or(ShardRunError::NoFingerprintKey)?;
    let audited = audit::run_units(context, project, git_ref, Some((index, count)))?;
    let commit = audited.inputs.commit.clone().unwrap_or_default();
    let repo = audited.inputs.repo.clone();
    let identity = PartIdentity {
        config_digest: config_digest(context, project, &commit)?,
        fingerprint_key_id: fingerprint_key_id(key),
        commit,
    };
    let inputs = PartInputs {
        repo: repo.clone(),
        git_ref: audited.inputs.git_ref.clone(),
        environments: audited
            .inputs
            .environments
            .iter()
            .map(|e| e.name.clone())
            .collect(),
        tools: audited.inputs.tools.clone(),
        charts: audited.inputs.charts.clone(),
        source_link: audited.inputs.source_link.clone(),
    };
    let mut units = audited.units;
    for (_, report) in &mut units {
        crate::report::suppressions::relative_to(&mut report.suppressions, repo.as_deref());
    }
    let shard_info = ShardInfo {
        index,
        count,
        units: units.iter().map(|(name, _)| name.clone()).collect(),
    };
    let part = Part::new(shard_info, audited.plan, identity, inputs, units);
    let text = serde_json::to_string_pretty(&part).unwrap_or_default() + "\n";
    for target in targets {
        super::write_output(target, &text)?;
    }
    Ok(Exit::Clean)
}

fn part_format(format: Format) -> ShardRunError {
    ShardRunError::PartFormat {
        format: format!("{format:?}").to_lowercase(),
    }
}

/// What ties the parts of one audit together: SHA-256 over plumb's version, the part format,
/// the resolved commit, plumb.yaml's text, every policy file's name (relative to plumb.yaml)
/// and text, shipped policies by name (their text is plumb's version's), and `--history`, the
/// one audit flag besides `--ref` (in the commit) that changes findings.
fn config_digest(
    context: &Context<'_>,
    project: &Project,
    commit: &str,
) -> Result<String, AppError> {
    let config = &project.config;
    let mut hasher = Sha256::new();
    let mut field = |name: &str, value: &[u8]| {
        hasher.update(name.as_bytes());
        hasher.update((value.len() as u64).to_be_bytes());
        hasher.update(value);
    };
    field("plumb", env!("CARGO_PKG_VERSION").as_bytes());
    field("part", shard::PART_VERSION.to_string().as_bytes());
    field("commit", commit.as_bytes());
    field("config", config.text.as_bytes());
    field("history", context.common.history.to_string().as_bytes());
    let mut entries = config.config.policy_entries();
    for pair in config.pairs() {
        entries.extend(pair.policies);
    }
    for entry in entries {
        if entry.starts_with("builtin:") {
            field("builtin", entry.as_bytes());
            continue;
        }
        for path in policy_paths(&entry, &config.dir)? {
            let name = path
                .strip_prefix(&config.dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            field("policy", name.as_bytes());
            field("text", read_text(&path, InputKind::Config)?.as_bytes());
        }
    }
    Ok(hex::encode(&hasher.finalize()[..16]))
}

/// Names the fingerprint key without revealing it: SHA-256 of a fixed label and the key, 16 hex
/// digits. Two shards with the same id fingerprint Secrets alike.
fn fingerprint_key_id(key: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"plumb fingerprint key id\0");
    hasher.update(key.as_bytes());
    hex::encode(&hasher.finalize()[..8])
}

/// `plumb merge PART...`: the parts read and checked, combined, the cross-unit notes added, then
/// written in every format asked for, with the exit code a single run would have.
pub fn merge(context: &Context<'_>, files: &[PathBuf]) -> Result<Exit, AppError> {
    let mut parts = Vec::with_capacity(files.len());
    for file in files {
        parts.push((file.display().to_string(), read_part(file)?));
    }
    let pairs: Vec<(String, String)> = parts
        .first()
        .map(|(_, part)| part.plan.iter().filter_map(|u| parity_of(u)).collect())
        .unwrap_or_default();
    let mut report = shard::combine(parts).map_err(ShardRunError::from)?;
    cross_reference(&mut report.findings, &pairs);
    super::emit(context, report)
}

/// The (left, right) of a `parity(LEFT,RIGHT)` unit.
fn parity_of(unit: &str) -> Option<(String, String)> {
    let inner = unit.strip_prefix("parity(")?.strip_suffix(')')?;
    let (left, right) = inner.split_once(',')?;
    Some((left.to_string(), right.to_string()))
}

/// One part, read as any input file (size bounded, a regular file) and parsed strictly: unknown
/// fields, a wrong type or a broken count are refused, and no error quotes the file's values.
fn read_part(path: &Path) -> Result<Part, AppError> {
    let name = path.display().to_string();
    let text = read_text(path, InputKind::Report)?;
    serde_json::from_str::<Part>(&text).map_err(|e| {
        let full = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text)
            .is_ok_and(|m| m.contains_key("command") && m.contains_key("summary"));
        if full {
            ShardRunError::FullReport { path: name.clone() }.into()
        } else {
            ShardRunError::NotAPart {
                path: name.clone(),
                message: crate::yaml::without_values(&e.to_string()),
            }
            .into()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_refuse() {
        assert_eq!(parse("2/5", "t").ok(), Some((2, 5)));
        for bad in ["0/5", "6/5", "1/0", "a/2", "3", "1/10001", "-1/2"] {
            assert!(parse(bad, "t").is_err(), "{bad}");
        }
    }

    #[test]
    fn key_ids_differ_by_key_and_hide_it() {
        let id = fingerprint_key_id("s3cret-key");
        assert_eq!(id.len(), 16);
        assert!(!id.contains("s3cret"));
        assert_ne!(id, fingerprint_key_id("other-key"));
    }
}
