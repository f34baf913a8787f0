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

mod live;
use crate::report::{self, EnvironmentInput, Inputs, Report, table::Style};
use crate::yaml::Document;
use rayon::prelude::*;
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
pub fn run(cli: Cli) -> Result<u8, AppError> {
    let common = &cli.common;
    init_logging(common.verbose, common.quiet);
    let _ = STARTED.set(std::time::Instant::now());
    let normalizer = Normalizer::new(Fingerprinter::from_env());
    let progress = Progress::new(common.quiet);
    let renderer = Renderer::new(RenderOptions::new(!common.no_cache, common.quiet));
    let renderer = &renderer;
    match &cli.command {
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

fn render(
    common: &Common,
    normalizer: &Normalizer,
    env: &str,
    git_ref: Option<&str>,
    progress: &Progress,
    renderer: &Renderer,
) -> Result<u8, AppError> {
    let config = load_config(common)?;
    let tree = open_tree(&config, git_ref)?;
    let desired = read_desired(&config, &tree, renderer, env, progress)?;
    let scopes = scopes_of(Scopes::default(), &desired.documents, &[]);
    let namespace = environment(&config, env)?.namespace.clone();
    let mut inventory = inventory::build(env, desired.documents, namespace.as_deref(), &scopes)?;
    for resource in inventory.resources.values_mut() {
        normalizer.redact(&mut resource.object);
    }
    for e in &desired.errors {
        eprintln!(
            "plumb: incomplete: {} {}: {}",
            e.env,
            e.source.as_deref().unwrap_or(""),
            e.message
        );
    }
    match common.output.as_deref() {
        Some(dir) if dir != Path::new("-") => {
            for resource in inventory.resources.values() {
                let folder = resource
                    .id
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "_cluster".into());
                let path = dir.join(folder).join(format!(
                    "{}-{}.yaml",
                    resource.id.kind.to_lowercase(),
                    resource.id.name
                ));
                let write = |p: &Path| -> std::io::Result<()> {
                    std::fs::create_dir_all(p.parent().unwrap_or(dir))?;
                    std::fs::write(p, crate::yaml::to_yaml(&resource.object))
                };
                write(&path).map_err(|source| AppError::Write {
                    path: path.display().to_string(),
                    source,
                })?;
            }
        }
        _ => {
            let mut out = String::new();
            for resource in inventory.resources.values() {
                out.push_str("---\n");
                out.push_str(&crate::yaml::to_yaml(&resource.object));
            }
            write_output(None, &out)?;
        }
    }
    Ok(if desired.errors.is_empty() { 0 } else { 3 })
}

#[allow(clippy::too_many_arguments)]
fn drift_command(
    common: &Common,
    normalizer: &Normalizer,
    name: &str,
    git_ref: Option<&str>,
    live_file: Option<&Path>,
    context: Option<&str>,
    progress: &Progress,
    renderer: &Renderer,
) -> Result<Report, AppError> {
    let config = load_config(common)?;
    let env = environment(&config, name)?;
    let policies = load_policies(&config.config.policies, &config.dir)?;
    let tree = open_tree(&config, git_ref)?;
    let desired = read_desired(&config, &tree, renderer, name, progress)?;
    let live_cfg = env.live.clone().unwrap_or_default();
    let mut errors = desired.errors;
    let source = live::LiveSource::resolve(&config, name, live_file, context)?;
    let live_scope = live::LiveScope::of(env, &desired.documents);
    let live = live::read(&source, name, &live_scope, normalizer, progress)?;
    errors.extend(live.errors.iter().cloned());
    let unreachable = errors
        .iter()
        .any(|e| e.kind == "unreachable" && e.resource.is_none());
    let scopes = scopes_of(live.scopes.clone(), &desired.documents, &live.documents);
    let mut desired_inv =
        inventory::build(name, desired.documents, env.namespace.as_deref(), &scopes)?;
    let mut live_inv = inventory::build_live(name, live.documents, &scopes)?;
    let prepare = Preparation {
        normalizer,
        policies: &policies,
        scope: Scope::Drift,
    };
    prepare.prepare(&mut desired_inv, false);
    prepare.prepare(&mut live_inv, true);
    let mut checks = CheckResults::default();
    checks.add(&policies, desired_inv.par_values(), Side::Desired);
    checks.add(&policies, live_inv.par_values(), Side::Live);
    let namespaces: BTreeSet<String> = if !live_cfg.namespaces.is_empty() {
        live_cfg.namespaces.iter().cloned().collect()
    } else if let Some(ns) = &live.namespaces {
        ns.iter().cloned().collect()
    } else {
        desired_inv.namespaces()
    };
    let mut scope = DriftScope {
        namespaces,
        field_managers: live_cfg.field_managers.clone(),
        ..Default::default()
    };
    for e in &errors {
        if let Some(kind) = &e.resource {
            let (group, kind) = kind.rsplit_once('/').unwrap_or(("", kind));
            scope
                .unseen_kinds
                .insert((group.to_string(), kind.to_string()));
        }
    }
    let differences = if unreachable {
        Vec::new()
    } else {
        drift(&desired_inv, &live_inv, &scope)
    };
    let env_input = EnvironmentInput {
        name: name.to_string(),
        live: Some(source.describe()),
    };
    let mut report = Report::new("drift", inputs(Some(&tree), vec![env_input]));
    report.inputs.tools = renderer.tools_used();
    report
        .summary
        .resources
        .insert(name.to_string(), desired_inv.len());
    report
        .summary
        .live_resources
        .insert(name.to_string(), live_inv.len());
    add_all(&mut report, differences, &[name], &policies);
    add_checks(&mut report, checks, name, &policies);
    report.errors.extend(errors);
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn parity_command(
    common: &Common,
    normalizer: &Normalizer,
    left: &str,
    right: &str,
    live: bool,
    git_ref: Option<&str>,
    progress: &Progress,
    renderer: &Renderer,
) -> Result<Report, AppError> {
    let config = load_config(common)?;
    let (left_env, right_env) = (environment(&config, left)?, environment(&config, right)?);
    let mapping = pair_mapping(&config, left, right);
    // Equivalents reach secret values too: they are replaced in the decoded text before hashing.
    let secret_rewrite = |text: &str| mapping.replace_equivalents(text);
    let sides = Sides { left, right };
    let mut errors = Vec::new();
    let policies = load_policies(&config.config.policies, &config.dir)?;
    let prepare = Preparation {
        normalizer,
        policies: &policies,
        scope: Scope::Parity,
    };
    let equal_values = |l: &Resource, r: &Resource| policies.equal_values(l, r);
    let (mut left_checks, mut right_checks) = (CheckResults::default(), CheckResults::default());
    let (tree, left_count, right_count, differences) = if live {
        // A cluster is read for the namespaces and kinds of the environment's desired state.
        let desired_documents = |name: &str| -> Result<Vec<Document>, AppError> {
            let tree = open_tree(&config, git_ref)?;
            Ok(read_desired(&config, &tree, renderer, name, progress)?.documents)
        };
        let mut left_inv = live_environment(
            &config,
            normalizer,
            left,
            &desired_documents,
            progress,
            &mut errors,
        )?;
        let mut right_inv = live_environment(
            &config,
            normalizer,
            right,
            &desired_documents,
            progress,
            &mut errors,
        )?;
        prepare.prepare_mapped(&mut left_inv, false, Some(&secret_rewrite));
        prepare.prepare(&mut right_inv, false);
        left_checks.add(&policies, left_inv.par_values(), Side::Live);
        right_checks.add(&policies, right_inv.par_values(), Side::Live);
        let mut run = ParityRun::new(&left_inv, &mapping, sides)?.with_pair_check(&equal_values);
        let mut differences = run.add_right(right_inv.resources.values())?;
        differences.extend(run.finish());
        (None, left_inv.len(), right_inv.len(), differences)
    } else {
        let tree = open_tree(&config, git_ref)?;
        // The left environment is held whole; the right one is read in batches and compared as it
        // comes, so only one side is ever whole in memory.
        let desired = read_desired(&config, &tree, renderer, left, progress)?;
        errors.extend(desired.errors);
        let mut scopes = scopes_of(Scopes::default(), &desired.documents, &[]);
        let mut left_inv = inventory::build(
            left,
            desired.documents,
            left_env.namespace.as_deref(),
            &scopes,
        )?;
        prepare.prepare_mapped(&mut left_inv, false, Some(&secret_rewrite));
        left_checks.add(&policies, left_inv.par_values(), Side::Desired);
        let mut run = ParityRun::new(&left_inv, &mapping, sides)?.with_pair_check(&equal_values);
        progress.note(&format!(
            "reading {right} from Git at {} and comparing",
            tree.rev
        ));
        let right_files =
            desired::environment_files(&tree, renderer, &config.dir, right, right_env)?;
        errors.extend(right_files.errors);
        let mut differences = Vec::new();
        for batch in desired::batches(right_files.files, 8 << 20) {
            let documents = desired::parse(right, batch)?;
            scopes.learn_from_crds(documents.iter().map(|d| &d.value));
            let mut batch_inv =
                inventory::build(right, documents, right_env.namespace.as_deref(), &scopes)?;
            prepare.prepare(&mut batch_inv, false);
            right_checks.add(&policies, batch_inv.par_values(), Side::Desired);
            differences.extend(run.add_right(batch_inv.resources.values())?);
            progress.note(&format!(
                "{right}: {} objects compared with {left}'s {}",
                run.right_count,
                left_inv.len()
            ));
        }
        let right_count = run.right_count;
        if right_count == 0 && errors.iter().all(|e| e.env != right) {
            return Err(AppError::EmptyEnvironment {
                env: right.to_string(),
                config: config.path.display().to_string(),
            });
        }
        differences.extend(run.finish());
        (Some(tree), left_inv.len(), right_count, differences)
    };
    let mut report = Report::new(
        "parity",
        inputs(tree.as_ref(), environment_inputs(&[left, right])),
    );
    report.inputs.tools = renderer.tools_used();
    report
        .summary
        .resources
        .insert(left.to_string(), left_count);
    report
        .summary
        .resources
        .insert(right.to_string(), right_count);
    add_all(&mut report, differences, &[left, right], &policies);
    add_checks(&mut report, left_checks, left, &policies);
    add_checks(&mut report, right_checks, right, &policies);
    report.errors.extend(errors);
    Ok(report)
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

/// The configured mapping from `left` onto `right`, or none.
fn pair_mapping(config: &LoadedConfig, left: &str, right: &str) -> Mapping {
    config
        .pair(left, right)
        .map(|pair| Mapping {
            namespaces: pair.namespaces,
            equivalents: pair
                .equivalents
                .into_iter()
                .filter_map(|e| Some((e.first()?.clone(), e.get(1)?.clone())))
                .collect(),
        })
        .unwrap_or_default()
}

/// An environment's live state, without what the cluster makes itself (their names are generated
/// per cluster, so they never pair).
fn live_environment(
    config: &LoadedConfig,
    normalizer: &Normalizer,
    name: &str,
    desired_documents: &dyn Fn(&str) -> Result<Vec<Document>, AppError>,
    progress: &Progress,
    errors: &mut Vec<RunError>,
) -> Result<Inventory, AppError> {
    let env = environment(config, name)?;
    let source = live::LiveSource::resolve(config, name, None, None)?;
    let scope = match &source {
        live::LiveSource::Context(_) => live::LiveScope::of(env, &desired_documents(name)?),
        live::LiveSource::File(_) => live::LiveScope::of(env, &[]),
    };
    let file = live::read(&source, name, &scope, normalizer, progress)?;
    errors.extend(file.errors.iter().cloned());
    let scopes = scopes_of(file.scopes.clone(), &[], &file.documents);
    let mut inventory = inventory::build_live(name, file.documents, &scopes)?;
    let made: Vec<_> = inventory
        .resources
        .values()
        .filter(|r| crate::compare::made_by_cluster(r, &inventory))
        .map(|r| r.id.clone())
        .collect();
    for id in made {
        inventory.resources.remove(&id);
    }
    Ok(inventory)
}

fn compare_command(
    normalizer: &Normalizer,
    left: &Path,
    right: &Path,
    policy_files: &[PathBuf],
    mode: Mode,
    field_managers: &[String],
    namespace: Option<&str>,
) -> Result<Report, AppError> {
    let (left_name, right_name) = (left.display().to_string(), right.display().to_string());
    let mut left_docs = desired::disk::read(left)?;
    let right_docs = desired::disk::read(right)?;
    let scopes = match mode {
        Mode::Drift => scopes_of(Scopes::default(), &left_docs, &right_docs),
        Mode::Parity => scopes_of(Scopes::default(), left_docs.iter().chain(&right_docs), &[]),
    };
    // Policy files named on the command line are relative to where plumb runs.
    let entries: Vec<String> = policy_files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let policies = load_policies(&entries, Path::new(""))?;
    let mut report = Report::new(
        "compare",
        inputs(None, environment_inputs(&[&left_name, &right_name])),
    );
    match mode {
        Mode::Drift => {
            if namespace.is_none() {
                inventory::adopt_live_namespaces(&mut left_docs, &right_docs, &scopes);
            }
            let mut desired = inventory::build(&left_name, left_docs, namespace, &scopes)?;
            let mut live = inventory::build_live(&right_name, right_docs, &scopes)?;
            let prepare = Preparation {
                normalizer,
                policies: &policies,
                scope: Scope::Drift,
            };
            prepare.prepare(&mut desired, false);
            prepare.prepare(&mut live, true);
            let mut checks = CheckResults::default();
            checks.add(&policies, desired.par_values(), Side::Desired);
            checks.add(&policies, live.par_values(), Side::Live);
            let scope = DriftScope {
                namespaces: desired.namespaces(),
                field_managers: field_managers.to_vec(),
                ..Default::default()
            };
            report
                .summary
                .resources
                .insert(left_name.clone(), desired.len());
            report
                .summary
                .live_resources
                .insert(left_name.clone(), live.len());
            add_all(
                &mut report,
                drift(&desired, &live, &scope),
                &[&left_name],
                &policies,
            );
            add_checks(&mut report, checks, &left_name, &policies);
        }
        Mode::Parity => {
            let mut l = inventory::build(&left_name, left_docs, namespace, &scopes)?;
            let mut r = inventory::build(&right_name, right_docs, namespace, &scopes)?;
            let prepare = Preparation {
                normalizer,
                policies: &policies,
                scope: Scope::Parity,
            };
            prepare.prepare(&mut l, false);
            prepare.prepare(&mut r, false);
            let (mut left_checks, mut right_checks) =
                (CheckResults::default(), CheckResults::default());
            left_checks.add(&policies, l.par_values(), Side::Desired);
            right_checks.add(&policies, r.par_values(), Side::Desired);
            let sides = Sides {
                left: &left_name,
                right: &right_name,
            };
            let mapping = Mapping::default();
            let equal_values = |a: &Resource, b: &Resource| policies.equal_values(a, b);
            let mut run = ParityRun::new(&l, &mapping, sides)?.with_pair_check(&equal_values);
            let mut differences = run.add_right(r.resources.values())?;
            differences.extend(run.finish());
            report.summary.resources.insert(left_name.clone(), l.len());
            report.summary.resources.insert(right_name.clone(), r.len());
            add_all(
                &mut report,
                differences,
                &[&left_name, &right_name],
                &policies,
            );
            add_checks(&mut report, left_checks, &left_name, &policies);
            add_checks(&mut report, right_checks, &right_name, &policies);
        }
    }
    Ok(report)
}

fn add_all(report: &mut Report, differences: Vec<Difference>, envs: &[&str], policies: &Policies) {
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
fn add_checks(report: &mut Report, checks: CheckResults, env: &str, policies: &Policies) {
    let mut failed_to_evaluate = Vec::new();
    for (difference, verdict) in checks.judge(policies, &mut failed_to_evaluate) {
        report.add(difference, &[env], verdict);
    }
    record_policy_errors(report, env, failed_to_evaluate);
}

/// Conditions and checks that could not be evaluated: the run is incomplete.
fn record_policy_errors(report: &mut Report, env: &str, messages: Vec<String>) {
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
fn load_policies(entries: &[String], base: &Path) -> Result<Policies, AppError> {
    load_policies_on(entries, base, crate::timestamp::today())
}

/// [`load_policies`], with waivers judged on `today` (days since 1970-01-01).
fn load_policies_on(entries: &[String], base: &Path, today: i64) -> Result<Policies, AppError> {
    let mut files = read_policy_files(entries, base)?;
    files.push(builtin::load(builtin::NOISE).expect("builtin:noise is shipped")?);
    Ok(Policies::new(files, today))
}

/// Parses policy files in order: files, directories (their `*.yaml`/`*.yml`, by name), and shipped
/// policies by name.
fn read_policy_files(
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
            let text = std::fs::read_to_string(&path).map_err(|source| AppError::Read {
                path: name.clone(),
                source,
            })?;
            files.push(policy::rules::parse(&text, &name)?);
        }
    }
    Ok(files)
}

/// `plumb policy lint`: exit 0 clean, 1 with lint findings, 2 when a file does not parse.
fn policy_lint(common: &Common, files: &[PathBuf]) -> Result<u8, AppError> {
    let (entries, base): (Vec<String>, PathBuf) = if files.is_empty() {
        let config = load_config(common)?;
        (config.config.policies.clone(), config.dir.clone())
    } else {
        (
            files.iter().map(|f| f.display().to_string()).collect(),
            PathBuf::new(),
        )
    };
    let parsed = read_policy_files(&entries, &base)?;
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
    let findings = policy::lint::lint(&parsed, crate::timestamp::today());
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
    write_output(common.output.as_deref(), &out)?;
    Ok(u8::from(!findings.is_empty()))
}

/// `plumb policy test PATH`: runs every case of every test file; exit 0 when all pass, 1 when one
/// fails, 2 when a test or policy file is bad input.
fn policy_test(common: &Common, normalizer: &Normalizer, path: &Path) -> Result<u8, AppError> {
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
        let text = std::fs::read_to_string(&file).map_err(|source| AppError::Read {
            path: name.clone(),
            source,
        })?;
        let tests = policy::testing::parse(&text, &name)?;
        let today = tests.today.unwrap_or_else(crate::timestamp::today);
        let policies = match &tests.policies {
            Some(entries) => {
                load_policies_on(entries, file.parent().unwrap_or(Path::new("")), today)?
            }
            None => {
                let config = load_config(common).map_err(|e| match e {
                    AppError::Config(config::ConfigError::NotFound { .. }) => {
                        AppError::TestNeedsPolicies { file: name.clone() }
                    }
                    other => other,
                })?;
                load_policies_on(&config.config.policies, &config.dir, today)?
            }
        };
        out.push_str(&format!(
            "{name}
"
        ));
        for case in &tests.cases {
            let problems = policy::testing::run_case(&policies, normalizer, case)
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
    write_output(common.output.as_deref(), &out)?;
    Ok(u8::from(failed > 0))
}

/// A test file, or the `*.yaml`/`*.yml` files under a directory, in path order.
fn test_files(path: &Path) -> Result<Vec<PathBuf>, AppError> {
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

fn emit(common: &Common, mut report: Report) -> Result<u8, AppError> {
    report.finish();
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
    Ok(report.exit_code(fail_on))
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
    let previous = std::fs::read_to_string(path).ok();
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
