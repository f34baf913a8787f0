//! The policies of a run: loaded from files and shipped policies, and applied to its differences and checks.

use super::*;

pub(super) fn add_all(
    report: &mut Report,
    differences: Vec<Difference>,
    envs: &[&str],
    policies: &Policies,
) {
    tracing::info!(envs = ?envs, differences = differences.len(), "compared");
    let mut failed_conditions = Vec::new();
    for d in differences {
        match policies.judge(&d, &mut failed_conditions) {
            Judgement::Ignored => report.summary.ignored += 1,
            Judgement::Finding(verdict) => report.add(d, envs, verdict),
        }
    }
    record_policy_errors(report, &envs.join(","), failed_conditions);
}

/// The findings of the checks that failed on one environment's objects.
pub(super) fn add_checks(
    report: &mut Report,
    checks: CheckResults,
    env: &str,
    policies: &Policies,
) {
    let mut failed_to_evaluate = Vec::new();
    for (difference, verdict) in checks.judge(policies, &mut failed_to_evaluate) {
        report.add(difference, &[env], verdict);
    }
    record_policy_errors(report, env, failed_to_evaluate);
}

/// Conditions and checks that could not be evaluated: the run is incomplete.
pub(super) fn record_policy_errors(report: &mut Report, env: &str, messages: Vec<String>) {
    report
        .errors
        .extend(messages.into_iter().map(|message| RunError {
            env: env.to_string(),
            kind: "policy".into(),
            source: None,
            resource: None,
            message,
        }));
}

/// The policies of a run: the named policy files in order, then `builtin:noise`.
pub(super) fn load_policies(entries: &[String], base: &Path) -> Result<Policies, AppError> {
    load_policies_on(entries, base, crate::timestamp::today())
}

/// [`load_policies`], with waivers judged on `today` (days since 1970-01-01).
pub(super) fn load_policies_on(
    entries: &[String],
    base: &Path,
    today: i64,
) -> Result<Policies, AppError> {
    let mut files = read_policy_files(entries, base)?;
    files.push(builtin::load(builtin::NOISE).expect("builtin:noise is shipped")?);
    Ok(Policies::new(files, today))
}

/// Parses policy files in order: files, directories (their `*.yaml`/`*.yml`, by name), and shipped
/// policies by name.
pub(super) fn read_policy_files(
    entries: &[String],
    base: &Path,
) -> Result<Vec<policy::rules::PolicyFile>, AppError> {
    let mut files = Vec::new();
    for entry in entries {
        if entry.starts_with("builtin:") {
            // builtin:noise always comes last, wherever it is named (load_policies adds it).
            if entry != builtin::NOISE {
                let file = builtin::load(entry).ok_or_else(|| AppError::UnknownBuiltin {
                    name: entry.clone(),
                    known: builtin::names().collect::<Vec<_>>().join(", "),
                })??;
                files.push(file);
            }
            continue;
        }
        let path = base.join(entry);
        let mut paths = Vec::new();
        if path.is_dir() {
            let listing = std::fs::read_dir(&path).map_err(|source| AppError::Read {
                path: path.display().to_string(),
                source,
            })?;
            for item in listing.flatten() {
                let p = item.path();
                if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                    paths.push(p);
                }
            }
            paths.sort();
        } else {
            paths.push(path);
        }
        for path in paths {
            let name = path.display().to_string();
            let text = crate::input_file::read_text(&path, crate::input_file::InputKind::Config)?;
            files.push(policy::rules::parse(&text, &name)?);
        }
    }
    Ok(files)
}
