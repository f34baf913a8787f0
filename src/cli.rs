//! Command-line arguments (README.md, commands).

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
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

/// The environment variables plumb reads that no flag stands for (flags show their own).
const ENVIRONMENT_HELP: &str = "Environment:
  PLUMB_FINGERPRINT_KEY  key of the Secret fingerprints (hmac-sha256); the same key makes
                         fingerprints comparable across runs and snapshots (default: random per run)
  KUBECONFIG             kubeconfig files to read contexts from
  NO_COLOR               no colours, whatever --color says for auto
  CI                     no progress notes on stderr";

#[derive(Debug, Args)]
pub struct Common {
    /// plumb.yaml to use (default: ./plumb.yaml, searched upward to the repository root).
    #[arg(short = 'c', long, global = true)]
    pub config: Option<PathBuf>,
    /// Report format.
    #[arg(short = 'f', long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to FILE (default: stdout). For `render`: a directory, or `-`.
    #[arg(short = 'o', long, global = true)]
    pub output: Option<PathBuf>,
    /// Also write Prometheus metrics (text exposition, for node_exporter's textfile collector)
    /// to FILE, replacing it.
    #[arg(long, global = true, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, global = true, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// The table also lists `expected` findings (hidden, but counted, by default); `all` also
    /// names every object of a grouped entry.
    #[arg(long, global = true, value_enum, value_name = "WHAT")]
    pub show: Option<Show>,
    /// Colours in the table report.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// No progress or notes on stderr.
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
    /// More detail on stderr (repeat for more).
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// A previous JSON report: mark findings new or recurring, list the ones that are gone.
    #[arg(long, global = true)]
    pub baseline: Option<PathBuf>,
    /// Exit 1 only for findings the baseline does not have (needs --baseline).
    #[arg(long, global = true, requires = "baseline")]
    pub fail_on_new: bool,
    /// Render Helm charts and Kustomize overlays again instead of reading the render cache.
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// Never fetch: remote Helm charts come from the render cache only (a chart not there is a
    /// render error of its source). PLUMB_OFFLINE=1 (or true, yes, on) does the same.
    #[arg(long, global = true, env = "PLUMB_OFFLINE",
          value_parser = clap::builder::FalseyValueParser::new())]
    pub offline: bool,
    /// Where renders are cached (default: $XDG_CACHE_HOME/plumb, else ~/.cache/plumb).
    #[arg(long, global = true, env = "PLUMB_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// The helm to render with: a path, or a name looked up on PATH (default: helm).
    #[arg(long, global = true, env = "PLUMB_HELM", value_name = "PATH")]
    pub helm: Option<String>,
    /// The kustomize to render with (a kubectl runs as `kubectl kustomize`; default: kustomize,
    /// else kubectl, on PATH).
    #[arg(long, global = true, env = "PLUMB_KUSTOMIZE", value_name = "PATH")]
    pub kustomize: Option<String>,
    /// How long one helm or kustomize render may take.
    #[arg(long, global = true, env = "PLUMB_RENDER_TIMEOUT", value_name = "SECONDS",
          value_parser = seconds, default_value = "120")]
    pub render_timeout: Duration,
    /// Promotion order: how many commits of each upstream environment's history to search
    /// (the commits that changed what it reads, newest first).
    #[arg(long, global = true, value_name = "N", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::limits::MAX_HISTORY_COMMITS)))]
    pub history: u32,
    /// How long one request to a cluster may take.
    #[arg(long, global = true, env = "PLUMB_REQUEST_TIMEOUT", value_name = "SECONDS",
          value_parser = seconds, default_value = "10")]
    pub request_timeout: Duration,
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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print an environment's rendered desired state as YAML (secrets as fingerprints), or write
    /// it into a directory, one file per object.
    Render {
        env: String,
        /// Git revision to read (default: the config's `ref`, else HEAD).
        #[arg(long = "ref")]
        git_ref: Option<String>,
        /// Write one file per object into DIR (created if missing):
        /// `<namespace>/<kind>[.<group>]-<name>.yaml`, `_cluster/` for cluster-scoped objects.
        /// Nothing is written outside DIR. (`-o DIR` does the same.)
        #[arg(long, value_name = "DIR", conflicts_with = "output")]
        out_dir: Option<PathBuf>,
    },
    /// Compare an environment's desired state (Git) with its live state.
    Drift {
        env: String,
        #[arg(long = "ref")]
        git_ref: Option<String>,
        /// Live state from a `kubectl get -o json|yaml` List or a plumb snapshot.
        #[arg(long)]
        live: Option<PathBuf>,
        /// Read this kubeconfig context instead of live.context.
        #[arg(long)]
        context: Option<String>,
    },
    /// What a change does to each environment: both revisions rendered, objects added, removed
    /// and changed per environment, checks on the head, parity gaps opened and closed. No cluster.
    Diff {
        /// The revision before the change (a branch, tag or commit).
        #[arg(long)]
        base: String,
        /// The revision with the change (default: the config's `ref`, else HEAD).
        #[arg(long)]
        head: Option<String>,
        /// Environments to show (default: all).
        envs: Vec<String>,
    },
    /// Write a starting plumb.yaml from the environments this repository already describes
    /// (Kustomize overlays, values-<env>.yaml, Flux and Argo CD objects), to edit from there.
    Init {
        /// Replace an existing plumb.yaml.
        #[arg(long)]
        force: bool,
    },
    /// The nightly job: drift for every environment with live state, parity for every configured
    /// pair, checks everywhere — one report, one exit code.
    Audit {
        /// Git revision to read (default: the config's `ref`, else HEAD).
        #[arg(long = "ref")]
        git_ref: Option<String>,
    },
    /// Capture an environment's live state from its cluster into a snapshot file (`-o FILE`),
    /// Secret values fingerprinted; `drift --live FILE` reads it back.
    Snapshot {
        env: String,
        /// Read this kubeconfig context instead of live.context.
        #[arg(long)]
        context: Option<String>,
        /// Git revision whose desired state sets the namespaces and kinds to read.
        #[arg(long = "ref")]
        git_ref: Option<String>,
    },
    /// Compare two environments: desired against desired, or live against live with --live.
    Parity {
        left: String,
        right: String,
        /// Compare the environments' live states instead of their desired states.
        #[arg(long)]
        live: bool,
        #[arg(long = "ref")]
        git_ref: Option<String>,
    },
    /// Which version runs where: one row per container image, chart version and
    /// `promotion_paths` value, one column per environment in promotion order, each cell its
    /// version and how it stands against its upstream (same, lag, unvalidated, reverted,
    /// absent). Formats: table, json, markdown.
    ///
    /// Example: plumb matrix staging production --live -f markdown -o matrix.md
    Matrix {
        /// Environments to show (default: all, in promotion order).
        envs: Vec<String>,
        /// Git revision to read (default: the config's `ref`, else HEAD).
        #[arg(long = "ref")]
        git_ref: Option<String>,
        /// Also show what each cluster runs (its live.snapshot or live.context) and mark where
        /// it differs from Git.
        #[arg(long)]
        live: bool,
    },
    /// Work with policy files.
    Policy {
        #[command(subcommand)]
        action: PolicyCommand,
    },
    /// Compare two files or directories of manifests, no config needed (also usable as
    /// KUBECTL_EXTERNAL_DIFF="plumb compare --mode parity").
    Compare {
        left: PathBuf,
        right: PathBuf,
        /// drift: LEFT is desired, RIGHT is live; parity: symmetric.
        #[arg(long, value_enum, default_value_t = Mode::Parity)]
        mode: Mode,
        /// Policy file (repeatable).
        #[arg(long)]
        policy: Vec<PathBuf>,
        /// A field manager that applies from Git (repeatable; drift mode).
        #[arg(long = "field-manager")]
        field_manager: Vec<String>,
        /// Namespace for namespaced objects that name none (default: the live counterpart's, else `default`).
        #[arg(long)]
        namespace: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Parse and check policy files: located errors (exit 2), rules that can never apply, waivers
    /// that expired or name no rule (exit 1).
    Lint {
        /// Policy files or directories (default: the config's `policies:`).
        files: Vec<PathBuf>,
    },
    /// Run policy unit tests: each case a pair of objects and the outcome expected at each path,
    /// or one object and the outcome expected of each check (exit 1 when a case fails).
    Test {
        /// A test file, or a directory of them (`*.yaml`, `*.yml`, searched recursively).
        path: PathBuf,
    },
}
