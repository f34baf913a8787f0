//! The commands: each reads its inputs at the edges (Git, files), runs the pure core (normalize,
//! compare, classify) and hands a [`Report`] to a renderer. `main` only maps the result to an exit
//! code.

use crate::cli::{Cli, ColorChoice, Command, Common, FailOn, Format, Mode, PolicyCommand};
use crate::compare::Difference;
use crate::compare::drift::{DriftScope, drift};
use crate::compare::pairing::Mapping;
use crate::compare::parity::{ParityRun, Sides};
use crate::config::{self, LoadedConfig};
use crate::desired::render::{RenderOptions, Renderer};
use crate::desired::{self, git::GitTree};
use crate::inventory;
use crate::live::snapshot;
use crate::model::{Inventory, Resource, RunError, Scopes};
use crate::normalize::{Fingerprinter, Normalizer, TextRewrite};
use crate::policy::checks::{CheckResults, Side};
use crate::policy::eval::{Judgement, Policies};
use crate::policy::{self, Scope, Severity, builtin};
use crate::progress::Progress;

mod audit;
mod compare;
mod diff;
mod drift;
mod init;
mod live;
mod parity;
mod policies;
mod policy_commands;
mod render;

use crate::report::{self, EnvironmentInput, Inputs, Report, table::Style};
use crate::yaml::Document;
use compare::compare_command;
use drift::drift_command;
use parity::parity_command;
use policies::{add_all, add_checks, load_policies, load_policies_on, read_policy_files};
use policy_commands::{policy_lint, policy_test};
use rayon::prelude::*;
use render::render;
use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Everything that stops a command before it has a report: bad input the user must fix (exit 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum AppError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Desired(#[from] desired::DesiredError),
    #[error(transparent)]
    Git(#[from] desired::git::GitError),
    #[error(transparent)]
    Manifests(#[from] desired::manifests::ManifestError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Policy(#[from] policy::rules::PolicyError),
    #[error("`{name}` is not a policy shipped with plumb\n  help: shipped policies are {known}")]
    UnknownBuiltin { name: String, known: String },
    #[error("no policy test files (*.yaml, *.yml) in {path}")]
    NoTestFiles { path: String },
    #[error(
        "{file} names no `policies:` and no plumb.yaml was found to take them from\n  help: add `policies: [../policies/]` (relative to the test file), or run where plumb.yaml lives"
    )]
    TestNeedsPolicies { file: String },
    #[error(transparent)]
    Cluster(#[from] crate::live::cluster::ClusterError),
    #[error(
        "environment `{env}` has no cluster to read\n  help: set live.context in {config}, or pass --context NAME"
    )]
    NoContext { env: String, config: String },
    #[error(transparent)]
    Baseline(#[from] report::baseline::BaselineError),
    #[error(
        "{path} exists\n  help: pass --force to replace it, or -o FILE (or -o -) to write elsewhere"
    )]
    ConfigExists { path: String },
    #[error(
        "found no environments in {root}: no overlays/<env>, envs/<env>, values-<env>.yaml, Flux or Argo CD objects\n  help: write plumb.yaml by hand (docs/config.md)"
    )]
    NothingToInit { root: String },
    #[error(transparent)]
    Disk(#[from] desired::disk::DiskError),
    #[error(transparent)]
    Inventory(#[from] inventory::InventoryError),
    #[error(transparent)]
    Snapshot(#[from] snapshot::SnapshotError),
    #[error(transparent)]
    Parity(#[from] crate::compare::parity::ParityError),
    #[error("unknown environment `{name}` in {config}\n  help: defined environments: {known}")]
    UnknownEnvironment {
        name: String,
        config: String,
        known: String,
    },
    #[error(
        "environment `{env}` has no desired objects\n  help: check its sources in {config}; an empty environment would report every live object as unmanaged"
    )]
    EmptyEnvironment { env: String, config: String },
    #[error(
        "environment `{env}` has no live state\n  help: set live.snapshot (or live.context) in {config}, or pass --live FILE"
    )]
    NoLiveState { env: String, config: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Input(#[from] crate::input_file::InputFileError),
    #[error("cannot start the thread plumb runs on: {source}")]
    Thread { source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// Logs go to stderr: warnings by default, `-v` info, `-vv` debug. They name files, counts and
/// identities — never object values, so no secret can reach them.
pub fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => tracing::Level::ERROR,
        (false, 0) => tracing::Level::WARN,
        (false, 1) => tracing::Level::INFO,
        (false, _) => tracing::Level::DEBUG,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_target(false)
        .without_time()
        .try_init();
}

/// When the run started, for `plumb_run_duration_seconds` (set once, at the top of [`run`]).
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Runs a command; the exit code comes from its report (0, 1 or 3).
///
/// The command runs on a thread of its own and rayon's workers are built, all with a stack of
/// `limits::STACK_BYTES`: parsing and walking a value as deep as `limits::MAX_DEPTH` must fit on
/// every thread that does it, whatever stack the caller's thread has.
pub fn run(cli: Cli) -> Result<u8, AppError> {
    // Fails only when the pool already exists: then this process built it here before.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(crate::limits::STACK_BYTES)
        .build_global();
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("plumb".into())
            .stack_size(crate::limits::STACK_BYTES)
            .spawn_scoped(scope, || run_command(cli))
            .map_err(|source| AppError::Thread { source })?
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn run_command(cli: Cli) -> Result<u8, AppError> {
    let common = &cli.common;
    init_logging(common.verbose, common.quiet);
    let _ = STARTED.set(std::time::Instant::now());
    let normalizer = Normalizer::new(Fingerprinter::from_env());
    let progress = Progress::new(common.quiet);
    let renderer = Renderer::new(RenderOptions::new(!common.no_cache, common.quiet));
    let renderer = &renderer;
    match &cli.command {
        Command::Diff { base, head, envs } => {
            let request = diff::DiffRequest {
                base,
                head: head.as_deref(),
                envs,
            };
            let report = diff::diff_command(common, &normalizer, &request, &progress, renderer)?;
            emit(common, report)
        }
        Command::Init { force } => {
            let root = std::env::current_dir().map_err(|source| AppError::Read {
                path: ".".into(),
                source,
            })?;
            init::init(&root, *force, common.output.as_deref())
        }
        Command::Audit { git_ref } => {
            let report =
                audit::audit(common, &normalizer, git_ref.as_deref(), &progress, renderer)?;
            emit(common, report)
        }
        Command::Snapshot {
            env,
            context,
            git_ref,
        } => {
            let config = load_config(common)?;
            let tree = open_tree(&config, git_ref.as_deref())?;
            let desired = read_desired(&config, &tree, renderer, env, &progress)?;
            live::snapshot_command(
                &config,
                env,
                context.as_deref(),
                &desired.documents,
                common.output.as_deref(),
                &normalizer,
                &progress,
            )
        }
        Command::Render { env, git_ref } => render(
            common,
            &normalizer,
            env,
            git_ref.as_deref(),
            &progress,
            renderer,
        ),
        Command::Drift {
            env,
            git_ref,
            live,
            context,
        } => {
            let report = drift_command(
                common,
                &normalizer,
                env,
                git_ref.as_deref(),
                live.as_deref(),
                context.as_deref(),
                &progress,
                renderer,
            )?;
            emit(common, report)
        }
        Command::Parity {
            left,
            right,
            live,
            git_ref,
        } => {
            let report = parity_command(
                common,
                &normalizer,
                left,
                right,
                *live,
                git_ref.as_deref(),
                &progress,
                renderer,
            )?;
            emit(common, report)
        }
        Command::Policy {
            action: PolicyCommand::Lint { files },
        } => policy_lint(common, files),
        Command::Policy {
            action: PolicyCommand::Test { path },
        } => policy_test(common, &normalizer, path),
        Command::Compare {
            left,
            right,
            mode,
            policy,
            field_manager,
            namespace,
        } => {
            let report = compare_command(
                &normalizer,
                left,
                right,
                policy,
                *mode,
                field_manager,
                namespace.as_deref(),
            )?;
            emit(common, report)
        }
    }
}

fn load_config(common: &Common) -> Result<LoadedConfig, AppError> {
    let cwd = std::env::current_dir().map_err(|source| AppError::Read {
        path: ".".into(),
        source,
    })?;
    let path = config::locate(common.config.as_deref(), &cwd)?;
    tracing::info!(config = %path.display(), "loading configuration");
    Ok(config::load(&path)?)
}

fn environment<'a>(
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

fn open_tree(config: &LoadedConfig, git_ref: Option<&str>) -> Result<GitTree, AppError> {
    let rev = git_ref
        .or(config.config.git_ref.as_deref())
        .unwrap_or("HEAD");
    Ok(GitTree::open(&config.dir, rev)?)
}

fn inputs(tree: Option<&GitTree>, envs: Vec<EnvironmentInput>) -> Inputs {
    Inputs {
        repo: tree.map(|t| t.workdir.display().to_string()),
        git_ref: tree.map(|t| t.rev.clone()),
        commit: tree.map(|t| t.commit.to_string()),
        environments: envs,
        tools: Default::default(),
    }
}

/// One environment's desired documents, read from Git.
struct Desired {
    documents: Vec<Document>,
    errors: Vec<RunError>,
}

fn read_desired(
    config: &LoadedConfig,
    tree: &GitTree,
    renderer: &Renderer,
    name: &str,
    progress: &Progress,
) -> Result<Desired, AppError> {
    let env = environment(config, name)?;
    progress.note(&format!(
        "reading {name} from Git at {} ({})",
        tree.rev,
        &tree.commit.to_string()[..12]
    ));
    let state = desired::read_environment(tree, renderer, &config.dir, name, env)?;
    tracing::info!(
        env = name,
        documents = state.documents.len(),
        errors = state.errors.len(),
        "read desired state"
    );
    if state.documents.is_empty() && state.errors.is_empty() {
        return Err(AppError::EmptyEnvironment {
            env: name.to_string(),
            config: config.path.display().to_string(),
        });
    }
    Ok(Desired {
        documents: state.documents,
        errors: state.errors,
    })
}

fn scopes_of<'a>(
    base: Scopes,
    documents: impl IntoIterator<Item = &'a Document> + Clone,
    live: &[Document],
) -> Scopes {
    let mut scopes = base;
    scopes.learn_from_crds(documents.into_iter().map(|d| &d.value));
    scopes.learn_from_live(live.iter().map(|d| &d.value));
    scopes
}

/// How a command prepares objects for comparison: normalization, then the noise its policies
/// remove.
struct Preparation<'a> {
    normalizer: &'a Normalizer,
    policies: &'a Policies,
    scope: Scope,
}

impl Preparation<'_> {
    fn prepare(&self, inventory: &mut Inventory, live: bool) {
        self.prepare_mapped(inventory, live, None);
    }

    fn prepare_mapped(
        &self,
        inventory: &mut Inventory,
        live: bool,
        secret_rewrite: Option<&TextRewrite<'_>>,
    ) {
        inventory.resources.par_iter_mut().for_each(|(_, r)| {
            self.normalizer.normalize_with(r, live, secret_rewrite);
            self.policies.remove_noise(r, self.scope);
        });
    }
}

fn environment_inputs(names: &[&str]) -> Vec<EnvironmentInput> {
    names
        .iter()
        .map(|name| EnvironmentInput {
            name: name.to_string(),
            live: None,
        })
        .collect()
}

fn emit(common: &Common, mut report: Report) -> Result<u8, AppError> {
    report.finish();
    if let Some(path) = &common.baseline {
        report::baseline::apply(&mut report, &report::baseline::Baseline::read(path)?);
    }
    let fail_on = match common.fail_on {
        FailOn::Error => report::FailOn::Severity(Severity::Error),
        FailOn::Warning => report::FailOn::Severity(Severity::Warning),
        FailOn::Info => report::FailOn::Severity(Severity::Info),
        FailOn::Never => report::FailOn::Never,
    };
    let text = match common.format {
        Format::Json => report::json::render(&report),
        Format::Sarif => report::sarif::render(&report, sarif_fallback(common, &report).as_deref()),
        Format::Junit => report::junit::render(&report, fail_on),
        Format::Markdown => {
            let parts = report::markdown::render(&report, fail_on);
            write_parts(common.output.as_deref(), &parts)?;
            String::new()
        }
        Format::Table => {
            let color = match common.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    common.output.is_none()
                        && std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none()
                }
            };
            report::table::render(&report, Style { color })
        }
    };
    if common.format != Format::Markdown {
        write_output(common.output.as_deref(), &text)?;
    }
    if let Some(path) = &common.metrics {
        write_metrics(path, &report)?;
    }
    Ok(report.exit_code(fail_on, common.fail_on_new))
}

/// The plumb.yaml of this run relative to its repository, where SARIF places findings that have
/// no file in Git (code scanning needs a file for every result); none for `compare`.
fn sarif_fallback(common: &Common, report: &Report) -> Option<String> {
    let repo = Path::new(report.inputs.repo.as_ref()?)
        .canonicalize()
        .ok()?;
    let cwd = std::env::current_dir().ok()?;
    let config = config::locate(common.config.as_deref(), &cwd).ok()?;
    let config = config.canonicalize().ok()?;
    let relative = config.strip_prefix(&repo).ok()?;
    Some(relative.to_string_lossy().replace('\\', "/"))
}

/// Markdown parts: `-o comment.md` writes `comment.md`, `comment-2.md`, …, and removes
/// `comment-N.md` files beyond them left by an earlier, longer run (a CI job posting every part
/// would otherwise post stale ones). On stdout the parts follow one another, each after a
/// `<!-- plumb: part N of M -->` line when there are several.
fn write_parts(path: Option<&Path>, parts: &[String]) -> Result<(), AppError> {
    match path {
        Some(p) if p != Path::new("-") => {
            let name = |n: usize| -> PathBuf {
                if n == 1 {
                    return p.to_path_buf();
                }
                let stem = p
                    .file_stem()
                    .map(|s| s.to_string_lossy())
                    .unwrap_or_default();
                let file = match p.extension() {
                    Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
                    None => format!("{stem}-{n}"),
                };
                p.with_file_name(file)
            };
            for (i, part) in parts.iter().enumerate() {
                write_output(Some(&name(i + 1)), part)?;
            }
            let mut stale = parts.len() + 1;
            while name(stale).is_file() {
                let file = name(stale);
                std::fs::remove_file(&file).map_err(|source| AppError::Write {
                    path: file.display().to_string(),
                    source,
                })?;
                stale += 1;
            }
            Ok(())
        }
        _ => {
            let text = if parts.len() == 1 {
                parts.concat()
            } else {
                parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| format!("<!-- plumb: part {} of {} -->\n{p}", i + 1, parts.len()))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            write_output(None, &text)
        }
    }
}

/// `--metrics FILE`: written beside a temporary name and renamed over FILE, so the textfile
/// collector never reads half a file.
fn write_metrics(path: &Path, report: &Report) -> Result<(), AppError> {
    let duration_seconds = STARTED
        .get()
        .map(|s| s.elapsed().as_secs_f64())
        .unwrap_or(0.0);
    let finished_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let previous = crate::input_file::read_text(path, crate::input_file::InputKind::Report).ok();
    let text = report::metrics::render(
        report,
        report::metrics::Run {
            duration_seconds,
            finished_unix,
        },
        previous.as_deref(),
    );
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let failed = |source| AppError::Write {
        path: path.display().to_string(),
        source,
    };
    std::fs::write(&temporary, text).map_err(failed)?;
    std::fs::rename(&temporary, path).map_err(|source| {
        let _ = std::fs::remove_file(&temporary);
        failed(source)
    })
}

fn write_output(path: Option<&Path>, text: &str) -> Result<(), AppError> {
    match path {
        Some(p) if p != Path::new("-") => {
            std::fs::write(p, text).map_err(|source| AppError::Write {
                path: p.display().to_string(),
                source,
            })
        }
        _ => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|_| stdout.flush())
            {
                // A closed pipe (`plumb ... | head`) is not an error worth a message.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.map_err(|source| AppError::Write {
                    path: "stdout".into(),
                    source,
                }),
            }
        }
    }
}
