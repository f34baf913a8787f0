//! `plumb policy lint` and `plumb policy test`.

use super::context::load_config;
use super::policies::{load_policies, read_policy_files};
use super::{AppError, Context, write_output};
use crate::config;
use crate::exit::Exit;
use crate::policy;
use std::path::{Path, PathBuf};

/// `plumb policy lint`: exit 0 clean, 1 with warnings, 2 when a file does not parse or a lint
/// finding is an error (a condition or assertion estimated over limits::MAX_CEL_COST).
pub(super) fn policy_lint(context: &Context<'_>, files: &[PathBuf]) -> Result<Exit, AppError> {
    let common = context.common;
    // From the config: its policy files, then each pair's own, linted against its environments
    // and pairs.
    let config = files.is_empty().then(|| load_config(common)).transpose()?;
    let (entries, base): (Vec<String>, PathBuf) = match &config {
        Some(config) => {
            let mut entries = config.config.policy_entries();
            for pair in config.pairs() {
                for entry in pair.policies {
                    if !entries.contains(&entry) {
                        entries.push(entry);
                    }
                }
            }
            (entries, config.dir.clone())
        }
        None => (
            files.iter().map(|f| f.display().to_string()).collect(),
            PathBuf::new(),
        ),
    };
    let parsed = read_policy_files(&entries, &base)?;
    let environments: Vec<String> = config
        .iter()
        .flat_map(|c| c.config.environments.keys().cloned())
        .collect();
    let pairs: Vec<(String, String)> = config
        .iter()
        .flat_map(|c| c.pairs())
        .map(|p| (p.left, p.right))
        .collect();
    let estate = policy::lint::Estate {
        environments: &environments,
        pairs: &pairs,
    };
    let mut out = String::new();
    for file in &parsed {
        out.push_str(&format!(
            "{}: {} rules, {} waivers, {} checks\n",
            file.name,
            file.rules.len(),
            file.waivers.len(),
            file.checks.len()
        ));
    }
    let findings = policy::lint::lint(&parsed, context.today, config.as_ref().map(|_| &estate));
    for finding in &findings {
        out.push_str(&format!("{finding}\n"));
    }
    out.push_str(&if findings.is_empty() {
        format!("{} policy file(s) checked: no problems\n", parsed.len())
    } else {
        format!(
            "{} policy file(s) checked: {} problem(s)\n",
            parsed.len(),
            findings.len()
        )
    });
    write_output(None, &out)?;
    let errors = findings
        .iter()
        .any(|f| f.level == policy::lint::Level::Error);
    Ok(if errors {
        Exit::BadInput
    } else {
        Exit::findings_if(!findings.is_empty())
    })
}

/// `plumb policy test PATH`: runs every case of every test file; exit 0 when all pass, 1 when one
/// fails, 2 when a test or policy file is bad input.
pub(super) fn policy_test(context: &Context<'_>, path: &Path) -> Result<Exit, AppError> {
    let common = context.common;
    let files = test_files(path)?;
    if files.is_empty() {
        return Err(AppError::NoTestFiles {
            path: path.display().to_string(),
        });
    }
    let mut out = String::new();
    let (mut passed, mut failed) = (0, 0);
    for file in files {
        let name = file.display().to_string();
        let text = crate::input_file::read_text(&file, crate::input_file::InputKind::Config)?;
        let tests = policy::testing::parse(&text, &name)?;
        let today = tests.today.unwrap_or(context.today);
        let policies = match &tests.policies {
            Some(entries) => load_policies(entries, file.parent().unwrap_or(Path::new("")), today)?,
            None => {
                let config = load_config(common).map_err(|e| match e {
                    AppError::Config(config::ConfigError::NotFound { .. }) => {
                        AppError::TestNeedsPolicies { file: name.clone() }
                    }
                    other => other,
                })?;
                load_policies(&config.config.policy_entries(), &config.dir, today)?
            }
        };
        out.push_str(&format!(
            "{name}
"
        ));
        for case in &tests.cases {
            let problems = policy::testing::run_case(&policies, &context.normalizer, case)
                .unwrap_or_else(|error| vec![format!("could not be judged: {error}")]);
            if problems.is_empty() {
                passed += 1;
                out.push_str(&format!(
                    "  ok      {}
",
                    case.name
                ));
            } else {
                failed += 1;
                out.push_str(&format!(
                    "  FAILED  {} (line {})
",
                    case.name, case.line
                ));
                for problem in problems {
                    out.push_str(&format!(
                        "          {problem}
"
                    ));
                }
            }
        }
    }
    out.push_str(&format!(
        "{} case(s): {passed} passed, {failed} failed
",
        passed + failed
    ));
    write_output(None, &out)?;
    Ok(Exit::findings_if(failed > 0))
}

/// A test file, or the `*.yaml`/`*.yml` files under a directory, in path order.
pub(super) fn test_files(path: &Path) -> Result<Vec<PathBuf>, AppError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let listing = std::fs::read_dir(&dir).map_err(|source| AppError::Read {
            path: dir.display().to_string(),
            source,
        })?;
        for entry in listing.flatten() {
            let p = entry.path();
            if p.is_dir() {
                pending.push(p);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `plumb policy show builtin:NAME`: the shipped policy's YAML as shipped, comments included, so
/// it can be read or copied into a repository and adapted (a bare NAME means builtin:NAME).
pub(super) fn policy_show(name: &str) -> Result<Exit, AppError> {
    let full = if name.starts_with("builtin:") {
        name.to_string()
    } else {
        format!("builtin:{name}")
    };
    let text = crate::policy::builtin::text(&full).ok_or_else(|| AppError::UnknownBuiltin {
        name: name.to_string(),
        known: crate::policy::builtin::names()
            .collect::<Vec<_>>()
            .join(", "),
    })?;
    write_output(None, text)?;
    Ok(Exit::Clean)
}
