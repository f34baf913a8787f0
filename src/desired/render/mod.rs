//! Rendering `helm:` and `kustomize:` sources with the real tools, offline, from Git at the ref
//! (docs/rendering.md).
//!
//! A run goes in three steps. First, for each render, the tool is located and a cache key is made
//! from Git object ids alone (no file is written, no process started). Then cached renders are
//! taken from the cache. Only if some render is missing is the tree at the ref written to a
//! temporary directory — once per run, whatever the number of renders — and the missing renders
//! run there in parallel (bounded by the cores), each with a timeout. A render that fails becomes a
//! `render` error naming the environment, the source, the tool and its stderr; the others go on.

pub mod cache;
pub mod charts;
pub mod helm;
pub mod kustomize;
pub mod process;
pub mod tools;

use crate::desired::git::{GitError, GitTree};
use crate::desired::{ManifestFile, SourceFile};
use crate::model::RunError;
use crate::progress::Progress;
use crate::scrub::Scrubber;
use cache::{Cache, CachedFile, KeyBuilder};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tools::Tool;

/// Why one render failed; each becomes a `render` error of its source.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{0}")]
    ToolUnavailable(String),
    #[error("{tool}: {source}")]
    Process {
        tool: &'static str,
        source: process::ProcessError,
    },
    /// The tool's stderr is not part of the message: it may echo secrets, and is shown only
    /// scrubbed, by [`Renderer::render`].
    #[error("{tool} failed (exit {code})")]
    Failed {
        tool: &'static str,
        code: String,
        stderr: String,
        /// Bytes of stderr past the kept ones.
        dropped: usize,
    },
    /// Helm rendered, but kustomize could not apply the post-render to its output.
    #[error("post-rendering helm's output with kustomize (`spec.postRenderers`): {0}")]
    PostRender(Box<RenderError>),
    #[error("{tool} printed output that is not UTF-8")]
    NotText { tool: &'static str },
    #[error(transparent)]
    Helm(#[from] helm::HelmError),
    #[error("kustomize: {0}")]
    Kustomize(#[from] kustomize::KustomizeError),
    #[error("cannot write the tree to a temporary directory: {0}")]
    Checkout(String),
    #[error(transparent)]
    Chart(#[from] charts::ChartError),
    #[error(transparent)]
    Git(#[from] GitError),
}

/// One render to run.
#[derive(Debug, Clone)]
pub struct Job {
    /// The source as plumb.yaml names it (`helm: charts/web`).
    pub source: String,
    pub kind: JobKind,
    /// Who applies what the job renders, and its namespace (handed to its files).
    pub origin: Option<std::sync::Arc<crate::model::Origin>>,
}

#[derive(Debug, Clone)]
pub enum JobKind {
    Helm(helm::HelmJob),
    Kustomize(kustomize::KustomizeJob),
}

/// Settings of a run's renders.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// The render cache's directory; none reads and writes no cache (`--no-cache`).
    pub cache_dir: Option<PathBuf>,
    /// Each render's time limit.
    pub timeout: Duration,
    /// helm and kustomize as the user named them (a path, or a name on PATH).
    pub helm: Option<String>,
    pub kustomize: Option<String>,
    /// The run's progress notes (off with `-q`, in CI, or piped).
    pub progress: Progress,
    /// `--offline`: remote charts come from the cache only, never fetched.
    pub offline: bool,
}

/// Renders sources for a whole run: holds the cache, the located tools, and the tree written out
/// once (removed when the renderer is dropped).
pub struct Renderer {
    cache: Cache,
    charts: charts::Charts,
    helm_given: Option<String>,
    kustomize_given: Option<String>,
    timeout: Duration,
    progress: Progress,
    helm: OnceLock<Result<Tool, String>>,
    kustomize: OnceLock<Result<Tool, String>>,
    checkout: Mutex<Option<(git2::Oid, tempfile::TempDir)>>,
    wrappers: std::sync::atomic::AtomicUsize,
}

/// Finds a tool (as the user named it) and its version.
type Locate = fn(&Cache, Option<&str>) -> Result<Tool, tools::ToolError>;

/// Where each job went: rendered files, or an error.
type Outcome = Result<Vec<CachedFile>, RenderError>;

/// A job ready to run: its tool, its cache key, and the exact chart it renders when remote.
type Prepared = (Tool, cache::Key, Option<charts::ResolvedChart>);

impl Renderer {
    pub fn new(options: RenderOptions) -> Renderer {
        let cache = Cache::new(options.cache_dir);
        Renderer {
            charts: charts::Charts::new(&cache, options.offline, options.timeout),
            cache,
            helm_given: options.helm,
            kustomize_given: options.kustomize,
            timeout: options.timeout,
            progress: options.progress,
            helm: OnceLock::new(),
            kustomize: OnceLock::new(),
            checkout: Mutex::new(None),
            wrappers: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The tools this run used and their versions, for the report's inputs.
    pub fn tools_used(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for slot in [&self.helm, &self.kustomize] {
            if let Some(Ok(tool)) = slot.get() {
                out.insert(tool.name().to_string(), tool.version.clone());
            }
        }
        out
    }

    /// helm and kustomize as a render of this run would find them, or why either cannot be
    /// used (`plumb version`).
    pub fn tools_available(&self) -> [(&'static str, Result<Tool, String>); 2] {
        let described = |tool: Result<Tool, RenderError>| tool.map_err(|e| e.to_string());
        [
            (
                "helm",
                described(self.located(&self.helm, tools::helm, &self.helm_given)),
            ),
            ("kustomize", described(self.kustomize())),
        ]
    }

    /// The render cache, where other results derived from renders are stored too (an
    /// environment's versions at an old commit, docs/promotion.md).
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// `charts.mirrors` of plumb.yaml (a run has one configuration: the first call sets them).
    pub fn use_chart_mirrors(&self, mirrors: &BTreeMap<String, String>) {
        self.charts.set_mirrors(mirrors);
    }

    /// The remote charts this run rendered, requested and resolved versions, for the report's
    /// inputs.
    pub fn charts_used(&self) -> Vec<charts::ChartUse> {
        self.charts.used()
    }

    fn tool(&self, kind: &JobKind) -> Result<Tool, RenderError> {
        match kind {
            JobKind::Helm(_) => self.located(&self.helm, tools::helm, &self.helm_given),
            JobKind::Kustomize(_) => self.kustomize(),
        }
    }

    /// kustomize, for `kustomize:` renders and for post-rendering helm's output.
    fn kustomize(&self) -> Result<Tool, RenderError> {
        self.located(&self.kustomize, tools::kustomize, &self.kustomize_given)
    }

    /// A tool located once per run.
    fn located(
        &self,
        slot: &OnceLock<Result<Tool, String>>,
        locate: Locate,
        given: &Option<String>,
    ) -> Result<Tool, RenderError> {
        slot.get_or_init(|| locate(&self.cache, given.as_deref()).map_err(|e| e.to_string()))
            .clone()
            .map_err(RenderError::ToolUnavailable)
    }

    /// Renders `jobs` of environment `env`: for each job, in order, its files or its error.
    pub fn render(
        &self,
        tree: &GitTree,
        env: &str,
        jobs: &[Job],
    ) -> Vec<Result<Vec<SourceFile>, RunError>> {
        if jobs.is_empty() {
            return Vec::new();
        }
        let started = Instant::now();
        // Step 1: tools and keys, from Git alone.
        let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(jobs.len());
        let mut pending = Vec::new();
        for (index, job) in jobs.iter().enumerate() {
            match self.prepare(tree, job) {
                Ok((tool, key, chart)) => {
                    if let Some(chart) = &chart {
                        self.charts.record(env, &job.source, chart);
                    }
                    match self.cache.get(&key) {
                        Some(files) => outcomes.push(Some(Ok(files))),
                        None => {
                            outcomes.push(None);
                            pending.push((index, tool, key, chart));
                        }
                    }
                }
                Err(e) => outcomes.push(Some(Err(e))),
            }
        }
        let cached = outcomes.iter().filter(|o| matches!(o, Some(Ok(_)))).count();
        // Step 2: what the cache does not hold runs in the tree written out once.
        if !pending.is_empty() {
            self.progress.note(&format!(
                "{env}: rendering {} source(s), {cached} from the cache",
                pending.len()
            ));
            match self.checkout(tree) {
                Ok(root) => {
                    let total = pending.len();
                    let finished = std::sync::atomic::AtomicUsize::new(0);
                    let step = (total / 10).max(1);
                    let done: Vec<(usize, Outcome)> = pending
                        .into_par_iter()
                        .map(|(index, tool, key, chart)| {
                            let outcome = self.run(&root, &jobs[index], &tool, chart.as_ref());
                            if let Ok(files) = &outcome {
                                self.cache.put(&key, files);
                            }
                            let n = finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                            if n.is_multiple_of(step) && n < total {
                                self.progress
                                    .note(&format!("{env}: {n} of {total} rendered"));
                            }
                            (index, outcome)
                        })
                        .collect();
                    for (index, outcome) in done {
                        outcomes[index] = Some(outcome);
                    }
                }
                Err(e) => {
                    let message = e.to_string();
                    for (index, ..) in pending {
                        outcomes[index] = Some(Err(RenderError::Checkout(message.clone())));
                    }
                }
            }
        }
        let results: Vec<Result<Vec<SourceFile>, RunError>> = jobs
            .iter()
            .zip(outcomes)
            .map(|(job, outcome)| {
                match outcome.unwrap_or_else(|| Err(RenderError::Checkout("not run".into()))) {
                    Ok(files) => Ok(files
                        .into_iter()
                        .map(|f| SourceFile {
                            source: job.source.clone(),
                            file: ManifestFile {
                                path: f.path,
                                bytes: f.text.into_bytes(),
                            },
                            rendered: true,
                            origin: job.origin.clone(),
                        })
                        .collect()),
                    Err(e) => Err(RunError {
                        env: env.to_string(),
                        kind: "render".into(),
                        source: Some(job.source.clone()),
                        resource: None,
                        message: failure_message(tree, env, job, &e),
                        unjudged: None,
                    }),
                }
            })
            .collect();
        let failed = results.iter().filter(|r| r.is_err()).count();
        tracing::info!(
            env,
            renders = jobs.len(),
            cached,
            failed,
            ms = started.elapsed().as_millis() as u64,
            "rendered"
        );
        results
    }

    /// The tool and cache key of a job, and the exact chart it renders when remote (resolved
    /// through `charts.mirrors` and, for a range, the repository's index: docs/rendering.md).
    fn prepare(&self, tree: &GitTree, job: &Job) -> Result<Prepared, RenderError> {
        let tool = self.tool(&job.kind)?;
        let mut key = KeyBuilder::new(tool.name());
        key.part("tool", tool.name()).part("version", &tool.version);
        let mut chart = None;
        match &job.kind {
            JobKind::Helm(h) => {
                if let helm::ChartLocation::Remote(remote) = &h.chart {
                    chart = Some(self.charts.resolve(&tool, remote)?);
                }
                h.key_parts(tree, chart.as_ref(), &mut key)?;
                if !h.post_render.is_empty() {
                    let post = self.kustomize()?;
                    key.part("post-render-tool", post.name())
                        .part("post-render-version", &post.version);
                }
            }
            JobKind::Kustomize(job) => kustomize::key_parts(tree, job, &mut key)?,
        }
        Ok((tool, key.finish(), chart))
    }

    /// The temporary directory holding the tree at the ref, written on first use.
    fn checkout(&self, tree: &GitTree) -> Result<PathBuf, RenderError> {
        let mut slot = self
            .checkout
            .lock()
            .map_err(|_| RenderError::Checkout("lock poisoned".into()))?;
        if let Some((commit, dir)) = slot.as_ref()
            && *commit == tree.commit
        {
            return Ok(dir.path().to_path_buf());
        }
        let started = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix("plumb-render-")
            .tempdir()
            .map_err(|e| RenderError::Checkout(e.to_string()))?;
        let files = tree.write_to(dir.path())?;
        tracing::info!(files, ms = started.elapsed().as_millis() as u64, path = %dir.path().display(), "wrote the tree at the ref for rendering");
        let path = dir.path().to_path_buf();
        *slot = Some((tree.commit, dir));
        Ok(path)
    }

    /// Runs one render in the written-out tree at `root`.
    fn run(
        &self,
        root: &Path,
        job: &Job,
        tool: &Tool,
        chart: Option<&charts::ResolvedChart>,
    ) -> Outcome {
        // Each job that writes files of its own gets a directory of its own in the tree.
        let job_dir = || -> Result<(String, PathBuf), RenderError> {
            let n = self
                .wrappers
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let relative = format!(".plumb-render/{n}");
            let full = root.join(&relative);
            std::fs::create_dir_all(&full).map_err(|e| RenderError::Checkout(e.to_string()))?;
            Ok((relative, full))
        };
        let (args, wrapper_dir, helm_dir) = match &job.kind {
            JobKind::Helm(h) => {
                let mut own_dir = None;
                let chart_dir = match (&h.chart, chart) {
                    (helm::ChartLocation::Git(path), _) => root.join(path),
                    // `helm template` takes the pulled archive as it is.
                    (helm::ChartLocation::Remote(_), Some(chart)) => {
                        let (_, full) = job_dir()?;
                        let archive = self.charts.archive(tool, chart, &full)?;
                        own_dir = Some(full);
                        archive
                    }
                    (helm::ChartLocation::Remote(remote), None) => {
                        return Err(RenderError::Checkout(format!(
                            "the chart {} was not resolved",
                            remote.describe()
                        )));
                    }
                };
                if own_dir.is_none() && (!h.inline_values.is_empty() || !h.post_render.is_empty()) {
                    own_dir = Some(job_dir()?.1);
                }
                let mut inline_files = Vec::new();
                if let Some(full) = own_dir.as_ref().filter(|_| !h.inline_values.is_empty()) {
                    for (i, values) in h.inline_values.iter().enumerate() {
                        let file = full.join(format!("values-{i}.yaml"));
                        // JSON is YAML: helm reads it as written.
                        std::fs::write(&file, values.to_string())
                            .map_err(|e| RenderError::Checkout(e.to_string()))?;
                        inline_files.push(file);
                    }
                }
                (h.args(root, &chart_dir, &inline_files), None, own_dir)
            }
            JobKind::Kustomize(k) => {
                kustomize::generate_missing(root, &k.dir)
                    .map_err(|e| RenderError::Checkout(e.to_string()))?;
                let (relative, full) = job_dir()?;
                std::fs::write(
                    full.join("kustomization.yaml"),
                    kustomize::wrapper(k, "../../"),
                )
                .map_err(|e| RenderError::Checkout(e.to_string()))?;
                (tool.build_args(&relative), Some(relative), None)
            }
        };
        let stdout = self.execute(root, tool, &args)?;
        match (&job.kind, wrapper_dir) {
            (JobKind::Helm(h), _) => {
                let dir = chart.map_or_else(|| h.chart.display_dir(), |c| c.display_dir());
                let files = helm::split_output(&stdout, &dir);
                match helm_dir.filter(|_| !h.post_render.is_empty()) {
                    Some(helm_dir) => self
                        .post_render(root, &helm_dir, &files, h, &dir)
                        .map_err(|e| RenderError::PostRender(Box::new(e))),
                    None => Ok(files),
                }
            }
            (JobKind::Kustomize(k), Some(wrapper_dir)) => {
                let dir = &k.dir;
                let fallback = kustomize::FILE_NAMES[0];
                let fallback = if dir.is_empty() {
                    fallback.to_string()
                } else {
                    format!("{dir}/{fallback}")
                };
                Ok(kustomize::split_output(&stdout, &wrapper_dir, &fallback)?)
            }
            (JobKind::Kustomize(_), None) => Err(RenderError::Checkout("no wrapper".into())),
        }
    }

    /// Applies a Helm job's post-render steps to helm's `output` (split by template) with
    /// kustomize, in the render's own directory `dir`, as helm-controller applies a HelmRelease's
    /// `postRenderers`; objects keep their template's file (docs/sources.md, flux). The CRDs of
    /// `crds/` directories pass as they are: helm never post-renders them.
    fn post_render(
        &self,
        root: &Path,
        dir: &Path,
        output: &[CachedFile],
        job: &helm::HelmJob,
        chart_dir: &str,
    ) -> Outcome {
        let (crds, output): (Vec<CachedFile>, Vec<CachedFile>) = output
            .iter()
            .cloned()
            .partition(|file| helm::is_crd_file(chart_dir, &file.path));
        if output.is_empty() {
            return Ok(crds);
        }
        let tool = self.kustomize()?;
        let written = kustomize::write_post_render(dir, &output, &job.post_render)
            .map_err(|e| RenderError::Checkout(e.to_string()))?;
        let relative = dir.strip_prefix(root).unwrap_or(dir).join(&written.top);
        let stdout = self
            .execute(
                root,
                &tool,
                &tool.build_args(&relative.display().to_string()),
            )
            .map_err(|error| match error {
                // kustomize may quote the objects it fails on: the values of the chart's Secrets
                // are scrubbed here, where helm's output is at hand.
                RenderError::Failed {
                    tool,
                    code,
                    stderr,
                    dropped,
                } => {
                    let mut scrubber = Scrubber::new();
                    kustomize::rendered_secrets(&output, &mut scrubber);
                    RenderError::Failed {
                        tool,
                        code,
                        stderr: scrubber.scrub(&stderr),
                        dropped,
                    }
                }
                other => other,
            })?;
        let mut files = crds;
        files.extend(written.split_output(&stdout, &helm::chart_file(chart_dir))?);
        Ok(files)
    }

    /// Runs `tool` with `args` in the written-out tree at `root`, and returns what it printed.
    fn execute(&self, root: &Path, tool: &Tool, args: &[String]) -> Result<String, RenderError> {
        let name = tool.name();
        // Offline: git must never prompt for credentials of a remote it was somehow led to.
        let mut env = vec![("GIT_TERMINAL_PROMPT", "0"), ("HELM_NO_PLUGINS", "1")];
        // helm and kubectl are Go programs that live a tenth of a second, most of it start-up
        // garbage collection: without it a render costs about half the CPU (docs/benchmarks.md).
        // The memory limit still collects a render that grows large. A user's own settings win.
        if std::env::var_os("GOGC").is_none() && std::env::var_os("GOMEMLIMIT").is_none() {
            env.extend([("GOGC", "off"), ("GOMEMLIMIT", "1GiB")]);
        }
        let out = process::run(&tool.path, args, root, &env, self.timeout)
            .map_err(|source| RenderError::Process { tool: name, source })?;
        let root_text = format!("{}/", root.display());
        if !out.success {
            let stderr = String::from_utf8_lossy(&out.stderr)
                .replace(&root_text, "")
                .trim()
                .to_string();
            return Err(RenderError::Failed {
                tool: name,
                code: out.code.map_or("signal".into(), |c| c.to_string()),
                stderr,
                dropped: out.stderr_dropped,
            });
        }
        String::from_utf8(out.stdout).map_err(|_| RenderError::NotText { tool: name })
    }
}

/// The message of a failed render, scrubbed of every secret the render handed the tool (a tool
/// echoes them when it fails: docs/rendering.md) with an excerpt of the tool's stderr; the whole
/// kept stderr, scrubbed too, goes to the debug log (`-vv`).
fn failure_message(tree: &GitTree, env: &str, job: &Job, error: &RenderError) -> String {
    let mut scrubber = Scrubber::new();
    match &job.kind {
        JobKind::Helm(h) => h.secrets(&mut scrubber),
        JobKind::Kustomize(k) => {
            kustomize::secrets(tree, &k.dir, &mut scrubber);
        }
    }
    let mut message = scrubber.scrub(&format!(
        "environment `{env}`, source `{}`: {error}",
        job.source
    ));
    let failed = match error {
        RenderError::PostRender(inner) => inner,
        other => other,
    };
    if let RenderError::Failed {
        tool,
        stderr,
        dropped,
        ..
    } = failed
    {
        tracing::debug!(
            env,
            source = %job.source,
            tool,
            dropped,
            stderr = %scrubber.scrub(stderr),
            "stderr of the failed render (scrubbed)"
        );
        message.push_str(": ");
        message.push_str(&scrubber.excerpt(stderr.as_bytes()));
    }
    message
}

/// `relative` resolved against the repository directory `base`, without touching the file
/// system; none when it leaves the repository.
pub fn join_repo(base: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<&str> = if relative.starts_with('/') {
        return None;
    } else {
        base.split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_paths_join_lexically() {
        assert_eq!(join_repo("apps/x", "../../base").as_deref(), Some("base"));
        assert_eq!(
            join_repo("apps/x", "./a.yaml").as_deref(),
            Some("apps/x/a.yaml")
        );
        assert_eq!(join_repo("", "a/b/").as_deref(), Some("a/b"));
        assert_eq!(join_repo("apps", "../../out"), None);
        assert_eq!(join_repo("apps", "/etc/passwd"), None);
    }
}
