//! Command-line arguments (README.md, commands). kubectl's conventions: `-o FORMAT` is the
//! format on stdout, `--report FORMAT=FILE` writes more formats from the same run, and each
//! command takes only the flags that mean something to it: the flag groups below are flattened
//! into the commands that use them, and [`Cli::common`] resolves them into one [`Common`], with
//! the defaults of the groups a command does not take.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "plumb",
    version,
    about = "GitOps drift and environment parity for Kubernetes",
    long_about = None,
    after_help = ENVIRONMENT_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// The environment variables plumb reads that no flag stands for (flags show their own).
const ENVIRONMENT_HELP: &str = "Examples:
  plumb init                                   a starting plumb.yaml from this repository
  plumb parity staging production              what differs between two environments
  plumb audit -o json --report sarif=plumb.sarif   every check, JSON on stdout, SARIF in a file

Environment:
  PLUMB_FINGERPRINT_KEY  key of the Secret fingerprints (hmac-sha256); the same key makes
                         fingerprints comparable across runs and snapshots (default: random per run)
  KUBECONFIG             kubeconfig files to read contexts from (--kubeconfig wins)
  NO_COLOR               no colours, whatever --color says for auto
  CI                     no progress notes on stderr";

/// The flags every command takes: where the configuration is, and how much to say on stderr.
#[derive(Debug, Args)]
pub struct Global {
    /// plumb.yaml to use (default: ./plumb.yaml, searched upward to the repository root).
    #[arg(short = 'c', long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Colours in the table report.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// No progress or notes on stderr.
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
    /// More detail on stderr (repeat for more).
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Gone: the format is `-o FORMAT` now (kubectl's -o). Kept hidden so that `-f json` fails
    /// with that advice instead of an unknown-argument error.
    #[arg(short = 'f', long = "format", global = true, hide = true, value_name = "FORMAT",
          value_parser = removed_format)]
    pub removed_format: Option<String>,
}

/// `-f/--format` always fails, saying what replaced it.
fn removed_format(text: &str) -> Result<String, String> {
    Err(format!(
        "-f/--format is gone: use -o {text} (kubectl's -o: the format on stdout), and --report FORMAT=FILE for files"
    ))
}

/// The report a command prints, the files it also writes, and when it fails.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Report format on stdout.
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT",
          default_value_t = Format::Table)]
    pub output: Format,
    /// Also write the report as FORMAT into FILE, from the same run (repeatable). Markdown is
    /// split into FILE, FILE-2, … when it exceeds a pull-request comment.
    #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = report_target)]
    pub reports: Vec<ReportTarget>,
    /// Also write Prometheus metrics (OpenMetrics text, for node_exporter's textfile collector)
    /// to FILE, replacing it: the same as --report metrics=FILE.
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// A previous JSON report: mark findings new or recurring, list the ones that are gone.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Exit 1 only for findings the baseline does not have (needs --baseline).
    #[arg(long, requires = "baseline")]
    pub fail_on_new: bool,
    /// The table also lists `expected` findings (hidden, but counted, by default); `all` also
    /// names every object of a grouped entry.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub show: Option<Show>,
}

impl ReportArgs {
    /// Every file to write: the `--report`s, then `--metrics FILE`.
    fn targets(&self) -> Vec<ReportTarget> {
        let metrics = self.metrics.iter().map(|path| ReportTarget {
            format: Format::Metrics,
            path: path.clone(),
        });
        self.reports.iter().cloned().chain(metrics).collect()
    }
}

/// One `--report FORMAT=FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTarget {
    pub format: Format,
    pub path: PathBuf,
}

/// Parses `FORMAT=FILE`: a format plumb writes and a file name that is not empty (nor `-`:
/// stdout is `-o`'s).
fn report_target(text: &str) -> Result<ReportTarget, String> {
    let Some((format, path)) = text.split_once('=') else {
        return Err(format!(
            "`{text}` is not FORMAT=FILE (e.g. --report sarif=plumb.sarif)"
        ));
    };
    let format = <Format as ValueEnum>::from_str(format.trim(), true).map_err(|_| {
        format!(
            "`{format}` is not a report format: use table, json, markdown, sarif, junit, metrics or html"
        )
    })?;
    if path.trim().is_empty() {
        return Err(format!("`{text}` names no file: write --report {text}FILE"));
    }
    if path == "-" {
        return Err("`-` is stdout, which -o FORMAT writes: name a file".into());
    }
    Ok(ReportTarget {
        format,
        path: PathBuf::from(path),
    })
}

/// How Helm charts and Kustomize overlays are rendered.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Render Helm charts and Kustomize overlays again instead of reading the render cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Never fetch: remote Helm charts come from the render cache only (a chart not there is a
    /// render error of its source). PLUMB_OFFLINE=1 (or true, yes, on) does the same.
    #[arg(long, env = "PLUMB_OFFLINE",
          value_parser = clap::builder::FalseyValueParser::new())]
    pub offline: bool,
    /// Where renders are cached (default: $XDG_CACHE_HOME/plumb, else ~/.cache/plumb).
    #[arg(long, env = "PLUMB_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// The helm to render with: a path, or a name looked up on PATH (default: helm).
    #[arg(long, env = "PLUMB_HELM", value_name = "PATH")]
    pub helm: Option<String>,
    /// The kustomize to render with (a kubectl runs as `kubectl kustomize`; default: kustomize,
    /// else kubectl, on PATH).
    #[arg(long, env = "PLUMB_KUSTOMIZE", value_name = "PATH")]
    pub kustomize: Option<String>,
    /// How long one helm or kustomize render may take.
    #[arg(long, env = "PLUMB_RENDER_TIMEOUT", value_name = "SECONDS",
          value_parser = seconds, default_value = "120")]
    pub render_timeout: Duration,
}

impl Default for RenderArgs {
    fn default() -> RenderArgs {
        RenderArgs {
            no_cache: false,
            offline: false,
            cache_dir: None,
            helm: None,
            kustomize: None,
            render_timeout: Duration::from_secs(120),
        }
    }
}

/// How clusters are reached.
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// The kubeconfig file to read contexts from (wins over $KUBECONFIG, as in kubectl).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// How long one request to a cluster may take.
    #[arg(long, env = "PLUMB_REQUEST_TIMEOUT", value_name = "SECONDS",
          value_parser = seconds, default_value = "10")]
    pub request_timeout: Duration,
}

impl Default for LiveArgs {
    fn default() -> LiveArgs {
        LiveArgs {
            kubeconfig: None,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// How far back promotion order looks.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Promotion order: how many commits of each upstream environment's history to search
    /// (the commits that changed what it reads, newest first).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_HISTORY,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::limits::MAX_HISTORY_COMMITS)))]
    pub history: u32,
}

const DEFAULT_HISTORY: u32 = 200;

/// The options of one run, whatever command set them: what the commands read (through
/// `Context::common`). A flag the command does not take has its default here.
#[derive(Debug)]
pub struct Common {
    pub config: Option<PathBuf>,
    /// The format on stdout (`-o`).
    pub format: Format,
    /// `--report FORMAT=FILE`, in the order given (`--metrics FILE` last, as `metrics=FILE`).
    pub reports: Vec<ReportTarget>,
    pub fail_on: FailOn,
    pub color: ColorChoice,
    pub quiet: bool,
    pub verbose: u8,
    pub baseline: Option<PathBuf>,
    pub fail_on_new: bool,
    /// `--show`: what the table lists beyond triage.
    pub show: Option<Show>,
    pub no_cache: bool,
    pub offline: bool,
    pub cache_dir: Option<PathBuf>,
    pub helm: Option<String>,
    pub kustomize: Option<String>,
    pub render_timeout: Duration,
    pub history: u32,
    pub kubeconfig: Option<PathBuf>,
    pub request_timeout: Duration,
}

impl Cli {
    /// The run's options: the global flags and the command's groups, defaults for the rest.
    pub fn common(&self) -> Common {
        let (report, render, live, history) = self.command.groups();
        let render = render.map_or_else(RenderArgs::default, RenderArgs::clone_args);
        let live = live.map_or_else(LiveArgs::default, LiveArgs::clone_args);
        Common {
            config: self.global.config.clone(),
            format: report.map_or(Format::Table, |r| r.output),
            reports: report.map(ReportArgs::targets).unwrap_or_default(),
            fail_on: report.map_or(FailOn::Error, |r| r.fail_on),
            color: self.global.color,
            quiet: self.global.quiet,
            verbose: self.global.verbose,
            baseline: report.and_then(|r| r.baseline.clone()),
            fail_on_new: report.is_some_and(|r| r.fail_on_new),
            show: report.and_then(|r| r.show),
            no_cache: render.no_cache,
            offline: render.offline,
            cache_dir: render.cache_dir,
            helm: render.helm,
            kustomize: render.kustomize,
            render_timeout: render.render_timeout,
            history: history.map_or(DEFAULT_HISTORY, |h| h.history),
            kubeconfig: live.kubeconfig,
            request_timeout: live.request_timeout,
        }
    }
}

impl RenderArgs {
    fn clone_args(&self) -> RenderArgs {
        RenderArgs {
            no_cache: self.no_cache,
            offline: self.offline,
            cache_dir: self.cache_dir.clone(),
            helm: self.helm.clone(),
            kustomize: self.kustomize.clone(),
            render_timeout: self.render_timeout,
        }
    }
}

impl LiveArgs {
    fn clone_args(&self) -> LiveArgs {
        LiveArgs {
            kubeconfig: self.kubeconfig.clone(),
            request_timeout: self.request_timeout,
        }
    }
}

/// A positive number of seconds (`90`, `0.5`).
fn seconds(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("`{text}` is not a positive number of seconds"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
    Sarif,
    Junit,
    /// Prometheus metrics (OpenMetrics text): on stdout the run's own, into a file (`--report
    /// metrics=FILE`) replacing it, its history kept (docs/report.md).
    Metrics,
    /// One self-contained HTML page (docs/report.md, HTML).
    Html,
}

/// What `plumb render` prints: the objects as YAML documents, or one JSON `List` (kubectl's
/// `get -o json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderFormat {
    Yaml,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Show {
    Expected,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    Drift,
    Parity,
}

/// The shells `plumb completion` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

/// The files `plumb schema` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaFile {
    /// plumb.yaml.
    Config,
    /// A policy file.
    Policy,
    /// A policy test file (`plumb policy test`).
    PolicyTest,
}

/// The commands, in the order a user meets them.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a starting plumb.yaml from the environments this repository already describes
    /// (Kustomize overlays, values-<env>.yaml, Flux and Argo CD objects), to edit from there.
    #[command(after_help = "Examples:
  plumb init                        write ./plumb.yaml
  plumb init --out-file -           print it instead
  plumb init --force                replace an existing plumb.yaml")]
    Init {
        /// Replace an existing plumb.yaml.
        #[arg(long)]
        force: bool,
        /// Write the configuration to FILE instead of ./plumb.yaml (`-`: stdout).
        #[arg(long, value_name = "FILE")]
        out_file: Option<PathBuf>,
    },
    /// Print an environment's rendered desired state as YAML (secrets as fingerprints), or write
    /// it into a directory, one file per object.
    #[command(after_help = "Examples:
  plumb render staging                      YAML documents on stdout
  plumb render staging -o json              one JSON List, as kubectl get -o json
  plumb render production --out-dir out/    one file per object under out/
  plumb render staging --ref v1.4.0         as it was at a tag")]
    Render {
        /// The environment to render (a name from plumb.yaml).
        env: String,
        /// Git revision to read (default: the config's `ref`, else HEAD).
        #[arg(long = "ref", value_name = "REV")]
        git_ref: Option<String>,
        /// Format on stdout.
        #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT",
              default_value_t = RenderFormat::Yaml)]
        output: RenderFormat,
        /// Write one YAML file per object into DIR (created if missing):
        /// `<namespace>/<kind>[.<group>]-<name>.yaml`, `_cluster/` for cluster-scoped objects.
        /// Nothing is written outside DIR.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
        #[command(flatten)]
        render: RenderArgs,
    },
    /// Compare two environments: desired against desired, or live against live with --live.
    #[command(after_help = "Examples:
  plumb parity staging production               the table, what to fix first
  plumb parity staging production -o markdown   a pull-request comment
  plumb parity staging production --live        what the two clusters run")]
    Parity {
        /// The first environment (the upstream, on a promotion edge).
        left: String,
        /// The environment to compare it with.
        right: String,
        /// Compare the environments' live states instead of their desired states.
        #[arg(long)]
        live: bool,
        /// Git revision to read (default: the config's `ref`, else HEAD).
        #[arg(long = "ref", value_name = "REV")]
        git_ref: Option<String>,
        #[command(flatten)]
        report: ReportArgs,
        #[command(flatten)]
        render: RenderArgs,
        #[command(flatten)]
        cluster: LiveArgs,
        #[command(flatten)]
        history: HistoryArgs,
    },
    /// Compare an environment's desired state (Git) with its live state.
    #[command(after_help = "Examples:
  plumb drift production                          against live.context or live.snapshot
  plumb drift production --context prod-eu        another kubeconfig context
  plumb drift production --live state.json        a kubectl get -o json List or a snapshot
  plumb drift production -o json --report junit=drift.xml")]
    Drift {
        /// The environment to check (a name from plumb.yaml).
        env: String,
        /// Git revision to read (default: the config's `ref`, else HEAD).
        #[arg(long = "ref", value_name = "REV")]
        git_ref: Option<String>,
        /// Live state from a `kubectl get -o json|yaml` List or a plumb snapshot.
        #[arg(long, value_name = "FILE")]
        live: Option<PathBuf>,
        /// Read this kubeconfig context instead of live.context.
        #[arg(long, value_name = "CTX")]
        context: Option<String>,
        #[command(flatten)]
        report: ReportArgs,
        #[command(flatten)]
        render: RenderArgs,
        #[command(flatten)]
        cluster: LiveArgs,
    },
    /// What a change does to each environment: both revisions rendered, objects added, removed
    /// and changed per environment, checks on the head, parity gaps opened and closed. No cluster.
    #[command(after_help = "Examples:
  plumb diff --base origin/main                     this branch against main
  plumb diff --base origin/main -o markdown         the pull-request comment
  plumb diff --base v1.3.0 --head v1.4.0 production")]
    Diff {
        /// The revision before the change (a branch, tag or commit).
        #[arg(long, value_name = "REV")]
        base: String,
        /// The revision with the change (default: the config's `ref`, else HEAD).
        #[arg(long, value_name = "REV")]
        head: Option<String>,
        /// Environments to show (default: all).
        envs: Vec<String>,
        #[command(flatten)]
        report: ReportArgs,
        #[command(flatten)]
        render: RenderArgs,
        #[command(flatten)]
        history: HistoryArgs,
    },
    /// Which version runs where: one row per container image, chart version and
    /// `promotion_paths` value, one column per environment in promotion order, each cell its
    /// version and how it stands against its upstream (same, lag, unvalidated, reverted,
    /// absent). Formats: table, json, markdown, metrics, html.
    #[command(after_help = "Examples:
  plumb matrix                                   every environment, in promotion order
  plumb matrix staging production --live         and what their clusters run
  plumb matrix -o json --report markdown=matrix.md")]
    Matrix {
        /// Environments to show (default: all, in promotion order).
        envs: Vec<String>,
        /// Git revision to read (default: the config's `ref`, else HEAD).
        #[arg(long = "ref", value_name = "REV")]
        git_ref: Option<String>,
        /// Also show what each cluster runs (its live.snapshot or live.context) and mark where
        /// it differs from Git.
        #[arg(long)]
        live: bool,
        #[command(flatten)]
        report: ReportArgs,
        #[command(flatten)]
        render: RenderArgs,
        #[command(flatten)]
        cluster: LiveArgs,
        #[command(flatten)]
        history: HistoryArgs,
    },
    /// The nightly job: drift for every environment with live state, parity for every configured
    /// pair, checks everywhere — one report, one exit code.
    #[command(after_help = "Examples:
  plumb audit                                    the table
  plumb audit -o json --report sarif=plumb.sarif --report junit=plumb.xml --report metrics=plumb.prom
                                                 one run, every file a CI job keeps
  plumb audit --shard 2/3 -o json > part-2.json      one of three machines' part (plumb merge)")]
    Audit {
        /// Git revision to read (default: the config's `ref`, else HEAD).
        #[arg(long = "ref", value_name = "REV")]
        git_ref: Option<String>,
        #[command(flatten)]
        report: ReportArgs,
        #[command(flatten)]
        render: RenderArgs,
        #[command(flatten)]
        cluster: LiveArgs,
        #[command(flatten)]
        history: HistoryArgs,
        /// Run only the I-th of N parts of the audit and write a partial JSON report for `plumb
        /// merge` (docs/scale.md). In a Kubernetes Indexed Job, JOB_COMPLETION_INDEX (0-based) with
        /// PLUMB_SHARD_COUNT=N stands for it.
        #[arg(long, env = "PLUMB_SHARD", value_name = "I/N")]
        shard: Option<String>,
    },
    /// Combine the partial reports of a sharded audit (`plumb audit --shard I/N`) into the report
    /// one run would have written: same findings, summary and exit code.
    #[command(after_help = "Examples:
  plumb merge parts/*.json                          the table, and the exit code a single run gives
  plumb merge -o json part-*.json --report sarif=plumb.sarif --baseline previous.json")]
    Merge {
        /// The parts' JSON files, one per shard, in any order.
        #[arg(required = true, value_name = "PART")]
        parts: Vec<PathBuf>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Capture an environment's live state from its cluster into a snapshot file, Secret values
    /// fingerprinted; `drift --live FILE` reads it back.
    #[command(after_help = "Examples:
  plumb snapshot production --out-file production.json
  plumb snapshot production --context prod-eu --kubeconfig ~/.kube/prod > prod-eu.json")]
    Snapshot {
        /// The environment whose cluster to read (a name from plumb.yaml).
        env: String,
        /// Read this kubeconfig context instead of live.context.
        #[arg(long, value_name = "CTX")]
        context: Option<String>,
        /// Git revision whose desired state sets the namespaces and kinds to read.
        #[arg(long = "ref", value_name = "REV")]
        git_ref: Option<String>,
        /// Write the snapshot to FILE (default: stdout).
        #[arg(long, value_name = "FILE")]
        out_file: Option<PathBuf>,
        #[command(flatten)]
        render: RenderArgs,
        #[command(flatten)]
        cluster: LiveArgs,
    },
    /// Compare two files or directories of manifests, no config needed (also usable as
    /// KUBECTL_EXTERNAL_DIFF="plumb compare --mode parity").
    #[command(after_help = "Examples:
  plumb compare staging/ production/                  two directories of manifests
  plumb compare git.yaml live.json --mode drift       desired against live
  KUBECTL_EXTERNAL_DIFF=\"plumb compare --mode drift\" kubectl diff -f app.yaml")]
    Compare {
        /// The left file or directory (drift mode: the desired state).
        left: PathBuf,
        /// The right file or directory (drift mode: the live state).
        right: PathBuf,
        /// drift: LEFT is desired, RIGHT is live; parity: symmetric.
        #[arg(long, value_enum, default_value_t = Mode::Parity)]
        mode: Mode,
        /// Policy file (repeatable).
        #[arg(long, value_name = "FILE")]
        policy: Vec<PathBuf>,
        /// A field manager that applies from Git (repeatable; drift mode).
        #[arg(long = "field-manager", value_name = "NAME")]
        field_manager: Vec<String>,
        /// Namespace for namespaced objects that name none (default: the live counterpart's, else `default`).
        #[arg(long)]
        namespace: Option<String>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Work with policy files: lint them, run their tests, print a shipped one.
    #[command(after_help = "Examples:
  plumb policy lint                        the policies plumb.yaml names
  plumb policy test policies/tests/
  plumb policy show builtin:noise")]
    Policy {
        #[command(subcommand)]
        action: PolicyCommand,
    },
    /// Print the JSON Schema of plumb.yaml, a policy file or a policy test file, for editors
    /// (yaml-language-server) and CI validators.
    #[command(after_help = "Examples:
  plumb schema config --out-file plumb.schema.json   the file init's plumb.yaml names
  plumb schema policy > policies/policy.schema.json
  plumb schema policy-test")]
    Schema {
        /// Which file's schema: config (plumb.yaml), policy, policy-test.
        file: SchemaFile,
        /// Write the schema to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        out_file: Option<PathBuf>,
    },
    /// Print a shell's completion script for plumb.
    #[command(after_help = "Examples:
  source <(plumb completion bash)                         this bash session
  plumb completion zsh > \"${fpath[1]}/_plumb\"
  plumb completion fish > ~/.config/fish/completions/plumb.fish
  plumb completion powershell | Out-String | Invoke-Expression")]
    Completion {
        /// The shell to write the script for.
        shell: Shell,
    },
    /// Print plumb's version, the commit and date it was built from, and the helm and kustomize
    /// it would render with.
    #[command(after_help = "Examples:
  plumb version
  PLUMB_HELM=/opt/helm3/helm plumb version     which helm that names, and its version")]
    Version {
        #[command(flatten)]
        render: RenderArgs,
    },
}

impl Command {
    /// The flag groups this command takes (none where it takes none).
    fn groups(
        &self,
    ) -> (
        Option<&ReportArgs>,
        Option<&RenderArgs>,
        Option<&LiveArgs>,
        Option<&HistoryArgs>,
    ) {
        match self {
            Command::Init { .. }
            | Command::Policy { .. }
            | Command::Schema { .. }
            | Command::Completion { .. } => (None, None, None, None),
            Command::Render { render, .. } | Command::Version { render } => {
                (None, Some(render), None, None)
            }
            Command::Parity {
                report,
                render,
                cluster,
                history,
                ..
            }
            | Command::Matrix {
                report,
                render,
                cluster,
                history,
                ..
            }
            | Command::Audit {
                report,
                render,
                cluster,
                history,
                ..
            } => (Some(report), Some(render), Some(cluster), Some(history)),
            Command::Drift {
                report,
                render,
                cluster,
                ..
            } => (Some(report), Some(render), Some(cluster), None),
            Command::Diff {
                report,
                render,
                history,
                ..
            } => (Some(report), Some(render), None, Some(history)),
            Command::Snapshot {
                render, cluster, ..
            } => (None, Some(render), Some(cluster), None),
            Command::Compare { report, .. } | Command::Merge { report, .. } => {
                (Some(report), None, None, None)
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Parse and check policy files: located errors (exit 2), rules that can never apply, waivers
    /// that expired or name no rule (exit 1).
    #[command(after_help = "Examples:
  plumb policy lint                       the policies plumb.yaml names
  plumb policy lint policies/ extra.yaml")]
    Lint {
        /// Policy files or directories (default: the config's `policies:`).
        files: Vec<PathBuf>,
    },
    /// Run policy unit tests: each case a pair of objects and the outcome expected at each path,
    /// or one object and the outcome expected of each check (exit 1 when a case fails).
    #[command(after_help = "Examples:
  plumb policy test policies/tests/
  plumb policy test policies/tests/ignore-replicas.yaml")]
    Test {
        /// A test file, or a directory of them (`*.yaml`, `*.yml`, searched recursively).
        path: PathBuf,
    },
    /// Print a policy shipped with plumb (builtin:NAME), to read or to copy and adapt.
    #[command(after_help = "Examples:
  plumb policy show builtin:noise
  plumb policy show builtin:security > policies/security.yaml")]
    Show {
        /// The shipped policy's name, as plumb.yaml writes it (builtin:noise, builtin:security, …).
        name: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every argument says what it is, every command shows an example (README.md, commands).
    #[test]
    fn every_argument_has_help_and_every_command_an_example() {
        fn walk(command: &clap::Command, path: &str) {
            for arg in command.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                assert!(
                    builtin || arg.is_hide_set() || arg.get_help().is_some(),
                    "{path}: argument `{}` has no help",
                    arg.get_id()
                );
            }
            for sub in command.get_subcommands() {
                if sub.get_name() == "help" {
                    continue;
                }
                let path = format!("{path} {}", sub.get_name());
                if sub.get_subcommands().next().is_none() || sub.get_name() == "policy" {
                    assert!(
                        sub.get_after_help()
                            .is_some_and(|h| h.to_string().contains("Examples:")),
                        "{path}: no examples in --help"
                    );
                }
                walk(sub, &path);
            }
        }
        Cli::command().debug_assert();
        walk(&Cli::command(), "plumb");
    }

    #[test]
    fn report_targets_parse_and_refuse() {
        assert_eq!(
            report_target("sarif=out/plumb.sarif"),
            Ok(ReportTarget {
                format: Format::Sarif,
                path: PathBuf::from("out/plumb.sarif")
            })
        );
        assert!(
            report_target("yaml=x")
                .unwrap_err()
                .contains("not a report format")
        );
        assert!(
            report_target("json=")
                .unwrap_err()
                .contains("names no file")
        );
        assert!(report_target("json").unwrap_err().contains("FORMAT=FILE"));
        assert!(report_target("json=-").is_err());
    }
}
