//! The commands. `run` resolves the run's context once (settings, fingerprint key, renderer),
//! loads what the command needs into an estate, and hands the views' [`Report`] to a renderer;
//! `main` only maps the result to an exit code. Each command is a view over the loaded estate and
//! never calls another (docs/architecture.md).

use crate::cli::{Cli, ColorChoice, Command, Common, FailOn, Format, PolicyCommand, ReportTarget};
use crate::config;
use crate::desired;
use crate::exit::Exit;
use crate::inventory;
use crate::live::snapshot;
use crate::policy::{self, Severity};
use crate::report::{self, EnvironmentInput, Inputs, Report, table::Style};

mod audit;
mod compare;
mod context;
mod diff;
mod estate;
mod history;
mod init;
mod lines;
mod links;
mod live;
mod matrix;
mod policies;
mod policy_commands;
mod render;
mod shard;
mod tool_commands;
mod views;

pub use context::Context;
use context::{Project, environment};
use estate::{Estate, Want};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use views::{Checked, View};

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
        "{path} exists\n  help: pass --force to replace it, or --out-file FILE (or --out-file -) to write elsewhere"
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
    #[error(
        "{config}:{line}: environment(s) {envs} are compared with nothing: no live state, no `upstream`, no `parity` pair — an audit would pass without looking at them\n  help: give each an `upstream: ENV` (a promotion edge), a `parity` entry (`between: [{first}, OTHER]`), or `live:` state to check for drift"
    )]
    ComparedWithNothing {
        config: String,
        /// The line defining the first of them.
        line: u64,
        envs: String,
        first: String,
    },
    #[error(
        "`plumb parity {env} {env}` compares an environment with itself\n  help: name two different environments"
    )]
    SameEnvironment { env: String },
    #[error(
        "`plumb matrix` does not write {format}\n  help: use -o table, -o json or -o markdown (also in --report)"
    )]
    MatrixFormat { format: String },
    #[error(
        "--out-dir writes YAML files; -o json is for stdout\n  help: drop -o json, or drop --out-dir to print one JSON List"
    )]
    RenderOutDirJson,
    #[error("internal: environment `{env}` was not loaded for this view")]
    NotLoaded { env: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("refusing to write {path}: {reason}")]
    Refused { path: String, reason: String },
    #[error(transparent)]
    Input(#[from] crate::input_file::InputFileError),
    #[error(transparent)]
    Shard(#[from] shard::ShardRunError),
    #[error("cannot start the thread plumb runs on: {source}")]
    Thread { source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "cannot write the report to stdout: {cause}\n  help: the report is lost; write it to a file with --report FORMAT=FILE, or read all of it (a pipe closed early, as by `| head`, loses the rest)"
    )]
    Stdout { cause: std::io::Error },
}

/// Logs go to stderr: warnings by default, `-v` info, `-vv` debug. They name files, counts and
/// identities — never object values, so no secret can reach them. The Kubernetes client's own
/// logs (kube, hyper, tower, rustls) show only from `-vv`: below it, plumb's own error says what
/// failed (an unreachable cluster is in the report), and their `ERROR … client error (Connect)`
/// would only repeat it without the context's name. Colour as `styled` says (`--color`,
/// `NO_COLOR`, `TERM=dumb`).
pub fn init_logging(verbose: u8, quiet: bool, styled: bool) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let level = match (quiet, verbose) {
        (true, _) => tracing::Level::ERROR,
        (false, 0) => tracing::Level::WARN,
        (false, 1) => tracing::Level::INFO,
        (false, _) => tracing::Level::DEBUG,
    };
    let client_level = if verbose >= 2 {
        tracing_subscriber::filter::LevelFilter::DEBUG
    } else {
        tracing_subscriber::filter::LevelFilter::OFF
    };
    let targets = tracing_subscriber::filter::Targets::new()
        .with_default(level)
        .with_targets(
            [
                "kube",
                "kube_client",
                "kube_core",
                "hyper",
                "hyper_util",
                "tower",
                "h2",
                "rustls",
            ]
            .map(|target| (target, client_level)),
        );
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(styled)
        .with_target(false)
        .without_time()
        .finish()
        .with(targets)
        .try_init();
}

/// When the run started, for `plumb_run_duration_seconds` (set once, at the top of [`run`]).
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Runs a command; the exit code comes from its report (0, 1 or 3).
///
/// The command runs on a thread of its own and rayon's workers are built, all with a stack of
/// `limits::STACK_BYTES`: parsing and walking a value as deep as `limits::MAX_DEPTH` must fit on
/// every thread that does it, whatever stack the caller's thread has.
pub fn run(cli: Cli) -> Result<Exit, AppError> {
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

fn run_command(cli: Cli) -> Result<Exit, AppError> {
    let common = &cli.common();
    let _ = STARTED.set(std::time::Instant::now());
    let context = Context::new(common);
    let context = &context;
    init_logging(common.verbose, common.quiet, context.settings.stderr_styled);
    match &cli.command {
        Command::Diff {
            base, head, envs, ..
        } => {
            let project = Project::load(context)?;
            let request = diff::DiffRequest {
                base,
                head: head.as_deref(),
                envs,
            };
            emit(context, diff::diff(context, &project, &request)?)
        }
        Command::Init { force, out_file } => {
            let root = std::env::current_dir().map_err(|source| AppError::Read {
                path: ".".into(),
                source,
            })?;
            init::init(&root, *force, out_file.as_deref())
        }
        Command::Audit { git_ref, shard, .. } => {
            let sharded = shard::resolve(shard.as_deref())?;
            let project = Project::load(context)?;
            match sharded {
                Some(shard) => shard::run_shard(context, &project, git_ref.as_deref(), shard),
                None => emit(
                    context,
                    audit::audit(context, &project, git_ref.as_deref())?,
                ),
            }
        }
        Command::Merge { parts, .. } => shard::merge(context, parts),
        Command::Snapshot {
            env,
            context: cluster_context,
            git_ref,
            out_file,
            ..
        } => {
            let project = Project::load(context)?;
            live::snapshot(
                context,
                &project.config,
                env,
                cluster_context.as_deref(),
                git_ref.as_deref(),
                out_file.as_deref(),
            )
        }
        Command::Render {
            env,
            git_ref,
            output,
            out_dir,
            ..
        } => {
            let project = Project::load(context)?;
            render::render(
                context,
                &project.config,
                env,
                git_ref.as_deref(),
                *output,
                out_dir.as_deref(),
            )
        }
        Command::Drift {
            env,
            git_ref,
            live,
            context: cluster_context,
            ..
        } => {
            let project = Project::load(context)?;
            let source = live::LiveSource::resolve(
                &project.config,
                env,
                live.as_deref(),
                cluster_context.as_deref(),
            )?;
            let want = Want {
                env: env.clone(),
                live: Some(source),
            };
            let mut estate = Estate::load(
                context,
                &project.config,
                git_ref.as_deref(),
                vec![want],
                false,
            )?;
            let views = [View::Drift(env), View::Checks(env, Checked::Both)];
            views::prepare(context, &project, &mut estate, &views, &[])?;
            let mut report =
                Report::new("drift", inputs(context, &estate, &project, &[env.as_str()]));
            for part in views::run(&project, &estate, &views)? {
                report.merge(part);
            }
            emit(context, report)
        }
        Command::Parity {
            left,
            right,
            live,
            git_ref,
            ..
        } => {
            if left == right {
                return Err(AppError::SameEnvironment { env: left.clone() });
            }
            let project = Project::load(context)?;
            let pair = project.config.pair(left, right);
            let wanted = [left, right]
                .into_iter()
                .map(|env| -> Result<Want, AppError> {
                    Ok(Want {
                        env: env.clone(),
                        live: if *live {
                            Some(live::LiveSource::resolve(&project.config, env, None, None)?)
                        } else {
                            None
                        },
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut estate =
                Estate::load(context, &project.config, git_ref.as_deref(), wanted, false)?;
            let checked = if *live {
                Checked::Live
            } else {
                Checked::Desired
            };
            let views = [
                View::Parity {
                    pair: &pair,
                    live: *live,
                },
                View::Checks(left, checked),
                View::Checks(right, checked),
            ];
            views::prepare(context, &project, &mut estate, &views, &[])?;
            let mut report = Report::new(
                "parity",
                inputs(context, &estate, &project, &[left.as_str(), right.as_str()]),
            );
            for part in views::run(&project, &estate, &views)? {
                report.merge(part);
            }
            emit(context, report)
        }
        Command::Matrix {
            envs,
            git_ref,
            live,
            ..
        } => {
            // A format the matrix cannot write is refused before any work.
            let formats =
                std::iter::once(common.format).chain(common.reports.iter().map(|r| r.format));
            if let Some(format) = formats
                .into_iter()
                .find(|f| matches!(f, Format::Sarif | Format::Junit))
            {
                return Err(AppError::MatrixFormat {
                    format: format!("{format:?}").to_lowercase(),
                });
            }
            let project = Project::load(context)?;
            let request = matrix::MatrixRequest {
                envs,
                git_ref: git_ref.as_deref(),
                live: *live,
            };
            emit_matrix(context, matrix::matrix(context, &project, &request)?)
        }
        Command::Policy {
            action: PolicyCommand::Lint { files },
        } => policy_commands::policy_lint(context, files),
        Command::Policy {
            action: PolicyCommand::Test { path },
        } => policy_commands::policy_test(context, path),
        Command::Policy {
            action: PolicyCommand::Show { name },
        } => policy_commands::policy_show(name),
        Command::Schema { file, out_file } => tool_commands::schema(*file, out_file.as_deref()),
        Command::Completion { shell } => tool_commands::completion(*shell),
        Command::Version { .. } => tool_commands::version(context),
        Command::Compare {
            left,
            right,
            mode,
            policy,
            field_manager,
            namespace,
            ..
        } => {
            let request = compare::CompareRequest {
                left,
                right,
                policy_files: policy,
                mode: *mode,
                field_managers: field_manager,
                namespace: namespace.as_deref(),
            };
            emit(context, compare::compare(context, &request)?)
        }
    }
}

/// The inputs of a report over `envs` of an estate, in promotion order, with the tools used.
fn inputs(context: &Context<'_>, estate: &Estate, project: &Project, envs: &[&str]) -> Inputs {
    let order = project.config.promotion_order();
    let mut environments: Vec<EnvironmentInput> = envs
        .iter()
        .map(|name| EnvironmentInput {
            name: name.to_string(),
            live: estate
                .env(name)
                .ok()
                .and_then(|e| e.live.as_ref())
                .map(|l| l.source.clone()),
            ..Default::default()
        })
        .collect();
    environments.sort_by_key(|e| order.iter().position(|n| *n == e.name));
    Inputs {
        repo: Some(estate.revision.workdir.display().to_string()),
        git_ref: Some(estate.revision.rev.clone()),
        commit: Some(estate.revision.commit.to_string()),
        environments,
        base: None,
        tools: context.renderer.tools_used(),
        charts: context.renderer.charts_used(),
        source_link: links::source_link(&project.config.config.links, &estate.revision.workdir),
    }
}

fn emit(context: &Context<'_>, mut report: Report) -> Result<Exit, AppError> {
    let common = context.common;
    report.finish();
    if let Some(path) = &common.baseline {
        report::baseline::apply(&mut report, &report::baseline::Baseline::read(path)?);
    }
    let fail_on = fail_on(common.fail_on);
    // SARIF points at the line of each field, read from the files in Git (app/lines.rs).
    if common.format == Format::Sarif || common.reports.iter().any(|r| r.format == Format::Sarif) {
        lines::fill(&mut report);
    }
    let html_options = report::html::Options {
        fail_on,
        only_new: common.fail_on_new,
    };
    // `-o FORMAT` on stdout, each `--report FORMAT=FILE` into its file: one report, many formats.
    let render = |format: Format, to_file: bool| -> Vec<String> {
        match format {
            Format::Json => vec![report::json::render(&report)],
            Format::Sarif => vec![report::sarif::render(
                &report,
                sarif_fallback(common, &report).as_deref(),
            )],
            Format::Junit => vec![report::junit::render(&report, fail_on)],
            Format::Metrics => vec![metrics_text(&report, None)],
            // Parts only in files (a CI job posts each as a comment); stdout gets the whole text.
            Format::Markdown if to_file => {
                report::markdown::render(&report, fail_on, shown(context))
            }
            Format::Markdown => {
                report::markdown::render_with_limit(&report, fail_on, shown(context), WHOLE)
            }
            Format::Table => vec![report::table::render(
                &report,
                &table_options(context, fail_on, to_file),
            )],
            Format::Html => vec![report::html::render(&report, &html_options)],
        }
    };
    write_output(None, &render(common.format, false).concat())?;
    for ReportTarget { format, path } in &common.reports {
        match format {
            Format::Metrics => write_metrics(path, &report)?,
            _ => write_parts(path, &render(*format, true))?,
        }
    }
    Ok(report.exit(fail_on, common.fail_on_new))
}

/// Writes the matrix report in its formats (table, JSON, Markdown); its exit code is its
/// findings' and completeness's, as any report's.
fn emit_matrix(context: &Context<'_>, mut matrix: matrix::Matrix) -> Result<Exit, AppError> {
    let common = context.common;
    matrix.judged.finish();
    if let Some(path) = &common.baseline {
        report::baseline::apply(&mut matrix.judged, &report::baseline::Baseline::read(path)?);
    }
    let fail_on = fail_on(common.fail_on);
    let exit = matrix.judged.exit(fail_on, common.fail_on_new);
    // Metrics are the judged findings', written before the matrix becomes its report.
    if common.format == Format::Metrics {
        write_output(None, &metrics_text(&matrix.judged, None))?;
    }
    for ReportTarget { path, .. } in common
        .reports
        .iter()
        .filter(|r| r.format == Format::Metrics)
    {
        write_metrics(path, &matrix.judged)?;
    }
    let report = matrix.into_report();
    let render = |format: Format, to_file: bool| -> Result<String, AppError> {
        Ok(match format {
            Format::Json => report::matrix::json(&report),
            Format::Markdown => report::matrix_markdown::render(&report, fail_on),
            Format::Table => report::matrix_table::render(&report, table_style(context, to_file)),
            Format::Html => report::matrix_html::render(
                &report,
                &report::html::Options {
                    fail_on,
                    only_new: common.fail_on_new,
                },
            ),
            Format::Sarif | Format::Junit => {
                return Err(AppError::MatrixFormat {
                    format: format!("{format:?}").to_lowercase(),
                });
            }
            Format::Metrics => unreachable!("metrics were written above"),
        })
    };
    if common.format != Format::Metrics {
        write_output(None, &render(common.format, false)?)?;
    }
    for ReportTarget { format, path } in &common.reports {
        if *format != Format::Metrics {
            write_output(Some(path), &render(*format, true)?)?;
        }
    }
    Ok(exit)
}

fn fail_on(choice: FailOn) -> report::FailOn {
    match choice {
        FailOn::Error => report::FailOn::Severity(Severity::Error),
        FailOn::Warning => report::FailOn::Severity(Severity::Warning),
        FailOn::Info => report::FailOn::Severity(Severity::Info),
        FailOn::Never => report::FailOn::Never,
    }
}

/// Markdown on stdout is one text, however long: no comment limit applies there.
const WHOLE: usize = usize::MAX / 4;

/// Colours where the table goes to a terminal and nothing says otherwise (never in a file).
fn table_style(context: &Context<'_>, to_file: bool) -> Style {
    let common = context.common;
    let color = match common.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !to_file && std::io::stdout().is_terminal() && !context.settings.no_color
        }
    };
    Style { color }
}

/// What the findings table needs besides the report: its style, the width to fit (the
/// terminal's, else 100 columns), `--show`, and the `--fail-on` its exit line explains.
fn table_options(
    context: &Context<'_>,
    fail_on: report::FailOn,
    to_file: bool,
) -> report::table::Options {
    let common = context.common;
    let to_terminal = !to_file && std::io::stdout().is_terminal();
    report::table::Options {
        style: table_style(context, to_file),
        width: to_terminal
            .then(terminal_columns)
            .flatten()
            .unwrap_or(report::table::PIPED_WIDTH),
        show: shown(context),
        fail_on,
        only_new: common.fail_on_new,
    }
}

/// What the table and the Markdown comment list beyond triage (`--show`).
fn shown(context: &Context<'_>) -> report::table::Show {
    match context.common.show {
        None => report::table::Show::Triage,
        Some(crate::cli::Show::Expected) => report::table::Show::Expected,
        Some(crate::cli::Show::All) => report::table::Show::All,
    }
}

/// The terminal's width in columns: `$COLUMNS` when set, else what the terminal on stdout says.
fn terminal_columns() -> Option<usize> {
    if let Some(columns) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(columns);
    }
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ only writes a `winsize` into the struct it is given, which lives here.
    let read = unsafe { libc::ioctl(1, libc::TIOCGWINSZ, &mut size) };
    (read == 0 && size.ws_col > 0).then_some(usize::from(size.ws_col))
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

/// A report's parts into its file: `--report markdown=comment.md` writes `comment.md`,
/// `comment-2.md`, …, and removes `comment-N.md` files beyond them left by an earlier, longer run
/// (a CI job posting every part would otherwise post stale ones). Other formats are one part.
fn write_parts(p: &Path, parts: &[String]) -> Result<(), AppError> {
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

/// The metrics of a run; `previous` is the text of the file they replace, if any (its series
/// of other runs are kept).
fn metrics_text(report: &Report, previous: Option<&str>) -> String {
    let duration_seconds = STARTED
        .get()
        .map(|s| s.elapsed().as_secs_f64())
        .unwrap_or(0.0);
    let finished_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let run = report::metrics::Run {
        duration_seconds,
        finished_unix,
    };
    report::metrics::render(report, run, previous)
}

/// `--report metrics=FILE`: written beside a temporary name and renamed over FILE, so the
/// textfile collector never reads half a file.
fn write_metrics(path: &Path, report: &Report) -> Result<(), AppError> {
    let previous = crate::input_file::read_text(path, crate::input_file::InputKind::Report).ok();
    let text = metrics_text(report, previous.as_deref());
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

/// Set by `main` when stdout was closed as plumb started (`plumb … >&-`): Rust's runtime then puts
/// `/dev/null` in its place, where a report would vanish without an error.
static STDOUT_CLOSED_AT_START: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Records that stdout was closed when the process started (see [`STDOUT_CLOSED_AT_START`]).
pub fn note_stdout_closed_at_start() {
    STDOUT_CLOSED_AT_START.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Writes a report to FILE, or to stdout. A report that cannot be written whole is an error
/// (exit 2), a closed pipe (`| head`) included: the users gate on the exit code, and a report
/// nobody received must never look like a clean run.
fn write_output(path: Option<&Path>, text: &str) -> Result<(), AppError> {
    match path {
        Some(p) if p != Path::new("-") => {
            std::fs::write(p, text).map_err(|source| AppError::Write {
                path: p.display().to_string(),
                source,
            })
        }
        _ => {
            if STDOUT_CLOSED_AT_START.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(AppError::Stdout {
                    cause: std::io::Error::other("it was closed when plumb started"),
                });
            }
            write_stdout(text).map_err(|cause| AppError::Stdout { cause })
        }
    }
}

/// Writes to stdout through a duplicate of its descriptor: Rust's own stdout reports success when
/// the descriptor cannot be written (EBADF: opened read-only, or not open), and the report would
/// be lost without a word.
#[cfg(unix)]
fn write_stdout(text: &str) -> std::io::Result<()> {
    use std::os::fd::AsFd;
    let stdout = std::io::stdout();
    let _lock = stdout.lock();
    let mut file = std::fs::File::from(stdout.as_fd().try_clone_to_owned()?);
    file.write_all(text.as_bytes())?;
    file.flush()
}

#[cfg(not(unix))]
fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}
