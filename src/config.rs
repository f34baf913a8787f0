//! `plumb.yaml`: environments, their sources and live state, parity pairs, policies (DESIGN §2).
//!
//! Every key is known: an unknown or misspelled key is an error with its line, never silently
//! ignored — a typo in `namespaces:` must not quietly turn off namespace mapping.

use crate::diagnostic::{LocatedError, find_line_with};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "plumb.yaml";

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ConfigError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(#[from] Box<LocatedError>),
    #[error(transparent)]
    Read(#[from] crate::input_file::InputFileError),
    #[error(
        "no {FILE_NAME} in {start} or any parent directory up to the repository root\n  help: run plumb where plumb.yaml lives, or pass -c/--config FILE"
    )]
    NotFound { start: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub version: u32,
    /// Default revision for desired state.
    #[serde(rename = "ref", default)]
    pub git_ref: Option<String>,
    pub environments: BTreeMap<String, Environment>,
    #[serde(default)]
    pub parity: Vec<ParityPair>,
    /// Policy files, directories and shipped policies, with where each is written (a path that
    /// leaves the repository is an error at its line).
    #[serde(default)]
    pub policies: Vec<serde_saphyr::Spanned<String>>,
}

impl Config {
    /// The `policies:` entries, in order.
    pub fn policy_entries(&self) -> Vec<String> {
        self.policies.iter().map(|p| p.value.clone()).collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// Namespace for namespaced objects that name none.
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub sources: Vec<Source>,
    #[serde(default)]
    pub live: Option<Live>,
}

/// Where desired state comes from; paths are relative to the config file, read from Git.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A file, a directory (recursive `*.yaml|*.yml|*.json`) or a glob.
    Manifests(String),
    /// A directory with a kustomization.
    Kustomize(String),
    Helm(HelmSource),
}

impl Source {
    /// How the source is named in messages: `manifests: platform/staging`.
    pub fn describe(&self) -> String {
        match self {
            Source::Manifests(p) => format!("manifests: {p}"),
            Source::Kustomize(p) => format!("kustomize: {p}"),
            Source::Helm(h) => format!("helm: {}", h.chart),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelmSource {
    pub chart: String,
    #[serde(default)]
    pub release: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub set: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Live {
    #[serde(default)]
    pub context: Option<String>,
    #[serde(default)]
    pub snapshot: Option<String>,
    #[serde(default)]
    pub namespaces: Vec<String>,
    #[serde(default)]
    pub field_managers: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParityPair {
    pub between: Vec<String>,
    #[serde(default)]
    pub namespaces: BTreeMap<String, String>,
    #[serde(default)]
    pub equivalents: Vec<Vec<String>>,
}

/// A loaded configuration and where it was found.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub path: PathBuf,
    /// The directory holding the file; relative paths start here.
    pub dir: PathBuf,
}

impl LoadedConfig {
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.config.environments.get(name)
    }

    /// The parity settings for a pair, in either order (mapping is always left to right, so a
    /// reversed pair has its namespace map and equivalents inverted).
    pub fn pair(&self, left: &str, right: &str) -> Option<ParityPair> {
        self.config.parity.iter().find_map(|pair| {
            if pair.between == [left, right] {
                Some(pair.clone())
            } else if pair.between == [right, left] {
                Some(ParityPair {
                    between: vec![left.to_string(), right.to_string()],
                    namespaces: pair
                        .namespaces
                        .iter()
                        .map(|(a, b)| (b.clone(), a.clone()))
                        .collect(),
                    equivalents: pair
                        .equivalents
                        .iter()
                        .map(|e| e.iter().rev().cloned().collect())
                        .collect(),
                })
            } else {
                None
            }
        })
    }
}

/// Finds the config: the given path, else `plumb.yaml` in `start` or a parent, up to the
/// repository root.
pub fn locate(explicit: Option<&Path>, start: &Path) -> Result<PathBuf, ConfigError> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    let mut dir = Some(start);
    while let Some(d) = dir {
        let candidate = d.join(FILE_NAME);
        if candidate.is_file() {
            return Ok(candidate);
        }
        if d.join(".git").exists() {
            break;
        }
        dir = d.parent();
    }
    Err(ConfigError::NotFound {
        start: start.display().to_string(),
    })
}

pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let text = crate::input_file::read_text(path, crate::input_file::InputKind::Config)?;
    let file = path.display().to_string();
    let config = parse(&text, &file)?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    check_policy_paths(&config, &text, &file, &dir)?;
    Ok(LoadedConfig {
        config,
        path: path.to_path_buf(),
        dir,
    })
}

/// Policy files named in plumb.yaml stay inside the repository: an absolute path, a `..` that
/// leaves it, or a link (the entry, or a file in a directory it names) that resolves outside it
/// is a config error at the entry's line, and nothing is read. A pull request must not be able to
/// make the nightly job read /etc or another checkout. The repository is the Git work tree that
/// holds plumb.yaml, or plumb.yaml's directory when it is in none.
fn check_policy_paths(
    config: &Config,
    text: &str,
    file: &str,
    dir: &Path,
) -> Result<(), ConfigError> {
    let root = repository_root(dir);
    for entry in &config.policies {
        if entry.value.starts_with("builtin:") {
            continue;
        }
        let (line, column) = (entry.referenced.line(), entry.referenced.column());
        let refuse = |why: String| {
            ConfigError::Invalid(Box::new(
                LocatedError::new(
                    file,
                    text,
                    line,
                    column,
                    format!("the policy entry `{}` {why}", entry.value),
                )
                .with_help("policy files named in plumb.yaml are read from the repository: name them relative to plumb.yaml, inside the repository"),
            ))
        };
        let relative = Path::new(&entry.value);
        if relative.is_absolute() {
            return Err(refuse("is an absolute path".into()));
        }
        let Some(root) = &root else { continue };
        let joined = crate::desired::git::lexical_clean(&dir_absolute(dir).join(relative));
        if !joined.starts_with(root) {
            return Err(refuse(format!(
                "leaves the repository at {}",
                root.display()
            )));
        }
        // Links are resolved without reading anything; a missing path is reported when read.
        let Ok(resolved) = joined.canonicalize() else {
            continue;
        };
        let mut targets = vec![resolved.clone()];
        if resolved.is_dir()
            && let Ok(listing) = std::fs::read_dir(&resolved)
        {
            targets.extend(
                listing
                    .flatten()
                    .filter_map(|item| item.path().canonicalize().ok()),
            );
        }
        if let Some(outside) = targets.iter().find(|t| !t.starts_with(root)) {
            return Err(refuse(format!(
                "resolves through a link to {}, outside the repository at {}",
                outside.display(),
                root.display()
            )));
        }
    }
    Ok(())
}

/// The canonical root of the Git work tree holding `dir`, else `dir` itself; none when `dir`
/// cannot be resolved (then nothing can be read from it either).
fn repository_root(dir: &Path) -> Option<PathBuf> {
    let start = dir.canonicalize().ok()?;
    let mut current = Some(start.as_path());
    while let Some(d) = current {
        if d.join(".git").exists() {
            return Some(d.to_path_buf());
        }
        current = d.parent();
    }
    Some(start)
}

fn dir_absolute(dir: &Path) -> PathBuf {
    dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
}

/// Parses and validates config text.
pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
    let config: Config = crate::yaml::from_str(text, file).map_err(|e| {
        let help = if e.message.contains("unknown field") {
            "docs/config.md lists every key; check the spelling"
        } else {
            "fix the YAML at this place"
        };
        Box::new(LocatedError::new(file, text, e.line, e.column, e.message).with_help(help))
    })?;
    validate(&config, text, file)?;
    Ok(config)
}

fn invalid(text: &str, file: &str, needle: &str, message: String, help: &str) -> ConfigError {
    invalid_at(text, file, "", needle, message, help)
}

fn invalid_at(
    text: &str,
    file: &str,
    context: &str,
    needle: &str,
    message: String,
    help: &str,
) -> ConfigError {
    let (line, column) = find_line_with(text, context, needle);
    ConfigError::Invalid(Box::new(
        LocatedError::new(file, text, line, column, message).with_help(help),
    ))
}

fn validate(config: &Config, text: &str, file: &str) -> Result<(), ConfigError> {
    if config.version != 1 {
        return Err(invalid(
            text,
            file,
            "version",
            format!("unsupported version {}", config.version),
            "this plumb reads `version: 1`",
        ));
    }
    if config.environments.is_empty() {
        return Err(invalid(
            text,
            file,
            "environments",
            "no environments are defined".into(),
            "add at least one environment under `environments:`",
        ));
    }
    for (name, env) in &config.environments {
        if env.sources.is_empty() {
            return Err(invalid(
                text,
                file,
                &format!(" {name}:"),
                format!("environment `{name}` has no sources"),
                "add `sources:` with at least one `manifests:`, `kustomize:` or `helm:` entry",
            ));
        }
        if let Some(live) = &env.live
            && live.context.is_some()
            && live.snapshot.is_some()
        {
            return Err(invalid(
                text,
                file,
                "snapshot:",
                format!("environment `{name}` sets both live.context and live.snapshot"),
                "keep one: a context reads the cluster, a snapshot reads a file",
            ));
        }
    }
    for pair in &config.parity {
        if pair.between.len() != 2 {
            return Err(invalid(
                text,
                file,
                "between",
                "`between` must name exactly two environments".into(),
                "write `between: [staging, production]`",
            ));
        }
        for env in &pair.between {
            if !config.environments.contains_key(env) {
                return Err(invalid_at(
                    text,
                    file,
                    "between",
                    env,
                    format!("parity names unknown environment `{env}`"),
                    &format!(
                        "defined environments: {}",
                        config
                            .environments
                            .keys()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        for equivalent in &pair.equivalents {
            if equivalent.len() != 2 || equivalent.iter().any(String::is_empty) {
                return Err(invalid(
                    text,
                    file,
                    "equivalents",
                    "each equivalent must be a pair of two non-empty strings".into(),
                    "write `- [staging.example.com, example.com]`",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "version: 1\nenvironments:\n  staging:\n    namespace: s\n    sources:\n      - manifests: envs/staging\n      - helm:\n          chart: charts/web\n          values: [a.yaml]\n          set: {image.tag: \"1.4.0\"}\n    live:\n      snapshot: snap.json\n  production:\n    sources:\n      - kustomize: overlays/prod\nparity:\n  - between: [staging, production]\n    namespaces: {s: p}\n    equivalents:\n      - [a, b]\npolicies: [policies/]\n";

    #[test]
    fn parses_every_field() {
        let c = parse(GOOD, "plumb.yaml").unwrap();
        let staging = &c.environments["staging"];
        assert_eq!(staging.namespace.as_deref(), Some("s"));
        assert!(matches!(&staging.sources[1], Source::Helm(h) if h.set["image.tag"] == "1.4.0"));
        assert_eq!(c.parity[0].namespaces["s"], "p");
        assert_eq!(c.policy_entries(), ["policies/"]);
    }

    #[test]
    fn unknown_key_is_an_error_with_its_line() {
        let text = GOOD.replace("    namespaces: {s: p}", "    namespace: {s: p}");
        let err = parse(&text, "plumb.yaml").unwrap_err();
        let ConfigError::Invalid(e) = err else {
            panic!("{err}")
        };
        assert_eq!(e.line, 18, "{e}");
        assert!(e.message.contains("namespace"), "{e}");
    }

    #[test]
    fn parity_must_name_known_environments() {
        let text = GOOD.replace("between: [staging, production]", "between: [staging, prod]");
        let err = parse(&text, "plumb.yaml").unwrap_err().to_string();
        assert!(err.contains("unknown environment `prod`"), "{err}");
        assert!(err.starts_with("plumb.yaml:17:"), "{err}");
    }

    #[test]
    fn reversed_pair_inverts_the_mapping() {
        let c = parse(GOOD, "plumb.yaml").unwrap();
        let loaded = LoadedConfig {
            config: c,
            path: "plumb.yaml".into(),
            dir: ".".into(),
        };
        let pair = loaded.pair("production", "staging").unwrap();
        assert_eq!(pair.namespaces["p"], "s");
        assert_eq!(pair.equivalents[0], ["b", "a"]);
    }
}
