//! What a run resolves once, before any command looks at an environment: the settings, the
//! fingerprint key, the renderer and progress ([`Context`]); the configuration and every policy
//! set it names ([`Project`]). Commands receive these; none reads a flag, an environment
//! variable, plumb.yaml or a policy file itself (docs/architecture.md).

use super::AppError;
use super::policies::{noise, read_policy_files};
use crate::cli::Common;
use crate::config::{self, LoadedConfig, Pair};
use crate::desired::render::{RenderOptions, Renderer};
use crate::normalize::{Fingerprinter, Normalizer};
use crate::policy::eval::Policies;
use crate::policy::rules::PolicyFile;
use crate::progress::Progress;
use std::collections::BTreeMap;

/// The settings of one run and the parts every command shares.
pub struct Context<'a> {
    pub common: &'a Common,
    pub settings: Settings,
    pub normalizer: Normalizer,
    pub renderer: Renderer,
    pub progress: Progress,
    /// Days since 1970-01-01: the day waivers are judged on.
    pub today: i64,
    /// Seconds since 1970-01-01: the time promotion ages are counted to.
    pub now: i64,
}

/// What the environment says beyond the flags (which clap resolves with their variables), read
/// once: nothing else in plumb reads an environment variable for itself.
pub struct Settings {
    /// `PLUMB_FINGERPRINT_KEY`: none means a random key of this run.
    pub fingerprint_key: Option<String>,
    /// `NO_COLOR`: no colours unless `--color always`.
    pub no_color: bool,
    /// `TERM=dumb`: a terminal that cannot show escape sequences; stderr stays plain.
    pub dumb_terminal: bool,
    /// Whether progress notes and logs on stderr may carry colour (`--color`, `NO_COLOR`,
    /// `TERM=dumb`, a terminal on stderr: [`crate::progress::stderr_styled`]).
    pub stderr_styled: bool,
    /// `CI`: a CI job, where progress notes stay off.
    pub in_ci: bool,
    /// The render cache's directory: `--cache-dir`/`PLUMB_CACHE_DIR`, else `$XDG_CACHE_HOME/plumb`,
    /// else `~/.cache/plumb`; none with `--no-cache`, or without a home.
    pub cache_dir: Option<std::path::PathBuf>,
}

impl Settings {
    pub fn read(common: &Common) -> Settings {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let cache_dir = (!common.no_cache)
            .then(|| {
                common
                    .cache_dir
                    .clone()
                    .filter(|d| !d.as_os_str().is_empty())
                    .or_else(|| {
                        var("XDG_CACHE_HOME").map(|d| std::path::PathBuf::from(d).join("plumb"))
                    })
                    .or_else(|| {
                        var("HOME").map(|h| std::path::PathBuf::from(h).join(".cache/plumb"))
                    })
            })
            .flatten();
        let no_color = var("NO_COLOR").is_some();
        let dumb_terminal = var("TERM").is_some_and(|t| t == "dumb");
        Settings {
            fingerprint_key: var("PLUMB_FINGERPRINT_KEY").map(|k| k.to_string_lossy().into_owned()),
            no_color,
            dumb_terminal,
            stderr_styled: crate::progress::stderr_styled(common.color, no_color, dumb_terminal),
            in_ci: var("CI").is_some_and(|v| v != "false"),
            cache_dir,
        }
    }
}

impl<'a> Context<'a> {
    pub fn new(common: &'a Common) -> Context<'a> {
        let settings = Settings::read(common);
        let fingerprinter = match &settings.fingerprint_key {
            Some(key) => Fingerprinter::with_key(key.as_bytes()),
            None => Fingerprinter::random(),
        };
        let quiet = common.quiet || settings.in_ci;
        let progress = Progress::new(quiet, settings.stderr_styled);
        let renderer = Renderer::new(RenderOptions {
            cache_dir: settings.cache_dir.clone(),
            timeout: common.render_timeout,
            helm: common.helm.clone(),
            kustomize: common.kustomize.clone(),
            progress,
            offline: common.offline,
        });
        Context {
            common,
            normalizer: Normalizer::new(fingerprinter),
            renderer,
            progress,
            today: crate::timestamp::today(),
            now: crate::timestamp::now_seconds(),
            settings,
        }
    }
}

/// A configuration and its policies: the global set, and one per pair that names policy files
/// of its own (those files first, for that pair only; their checks and defaults are not read).
pub struct Project {
    pub config: LoadedConfig,
    pub policies: Policies,
    pair_policies: BTreeMap<(String, String), Policies>,
}

impl Project {
    /// Loads plumb.yaml and every policy file it names; a bad file stops the run before any work.
    pub fn load(context: &Context<'_>) -> Result<Project, AppError> {
        let config = load_config(context.common)?;
        let global = read_policy_files(&config.config.policy_entries(), &config.dir)?;
        let mut pair_policies = BTreeMap::new();
        for pair in config.pairs() {
            if pair.policies.is_empty() {
                continue;
            }
            let mut files: Vec<PolicyFile> = read_policy_files(&pair.policies, &config.dir)?
                .into_iter()
                .map(|file| PolicyFile {
                    checks: Vec::new(),
                    parity_default: None,
                    drift_default: None,
                    ..file
                })
                .collect();
            files.extend(global.iter().cloned());
            files.push(noise()?);
            pair_policies.insert(
                (pair.left.clone(), pair.right.clone()),
                Policies::new(files, context.today),
            );
        }
        let mut files = global;
        files.push(noise()?);
        Ok(Project {
            policies: Policies::new(files, context.today),
            pair_policies,
            config,
        })
    }

    /// The policies that judge `pair`: its own set where it names files, else the global one.
    pub fn policies_for(&self, pair: &Pair) -> &Policies {
        self.pair_policies
            .get(&(pair.left.clone(), pair.right.clone()))
            .or_else(|| {
                self.pair_policies
                    .get(&(pair.right.clone(), pair.left.clone()))
            })
            .unwrap_or(&self.policies)
    }

    /// An environment the config defines, or an error listing the ones it does.
    pub fn environment(&self, name: &str) -> Result<&config::Environment, AppError> {
        environment(&self.config, name)
    }
}

/// Finds and parses plumb.yaml.
pub fn load_config(common: &Common) -> Result<LoadedConfig, AppError> {
    let cwd = std::env::current_dir().map_err(|source| AppError::Read {
        path: ".".into(),
        source,
    })?;
    let path = config::locate(common.config.as_deref(), &cwd)?;
    tracing::info!(config = %path.display(), "loading configuration");
    Ok(config::load(&path)?)
}

pub fn environment<'a>(
    config: &'a LoadedConfig,
    name: &str,
) -> Result<&'a config::Environment, AppError> {
    config
        .environment(name)
        .ok_or_else(|| AppError::UnknownEnvironment {
            name: name.to_string(),
            config: config.path.display().to_string(),
            known: config
                .config
                .environments
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        })
}
