//! Remote charts: a chart in an HTTP chart repository (or an `oci://` registry remapped to one by
//! `charts.mirrors`), resolved to an exact version and pulled with the real helm into the render
//! cache (docs/rendering.md, "Remote charts"; docs/sources.md, "Remote charts").
//!
//! What a remote-chart render reads is the chart archive, which is named by repository, chart and
//! exact version: that triple is its cache key, so a second run over unchanged inputs pulls
//! nothing and renders nothing. A version range has to be resolved first, against the
//! repository's index as the repository serves it now (fetched once per repository and run); with
//! `--offline`, against the copy of the index the last online run kept in the cache.
//!
//! helm runs in a home of the run's own (`HELM_CONFIG_HOME`, `HELM_CACHE_HOME`,
//! `HELM_DATA_HOME` in a private temporary directory): the user's repositories, registry logins
//! and plugins are never read or changed. Credentials written in a repository URL
//! (`https://user:token@host/…`) go into that home's `repositories.yaml` (mode 0600), never onto
//! a command line, and never into a message: every URL plumb prints is printed without them, and
//! every text helm prints is scrubbed of them.

use super::cache::{Cache, KeyBuilder};
use super::process;
use super::tools::Tool;
use crate::config::RemoteChart;
use crate::desired::repository::without_credentials;
use crate::limits::{MAX_CHART_ARCHIVE_BYTES, MAX_CHART_INDEX_BYTES};
use crate::scrub::Scrubber;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why a remote chart could not be resolved or pulled; each is a `render` error of its source.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ChartError {
    #[error(
        "helm: the chart {chart} is in the OCI registry {repo}, and plumb pulls charts only from HTTP chart repositories\n  help: add a mirror for it under `charts.mirrors` in plumb.yaml: an HTTP chart repository that serves the same chart ({{\"{repo}\": \"https://charts.example.com/…\"}})"
    )]
    OciWithoutMirror { chart: String, repo: String },
    #[error(
        "helm: the chart {chart} comes from {repo}, which is not an http:// or https:// chart repository\n  help: point the source (or a mirror under `charts.mirrors`) at an HTTP chart repository"
    )]
    UnsupportedRepository { chart: String, repo: String },
    #[error(
        "helm: the chart {chart} {version} from {repo} is not in the render cache, and --offline forbids fetching it\n  help: run once without --offline (with the same cache directory) to pull it"
    )]
    NotCached {
        chart: String,
        version: String,
        repo: String,
    },
    #[error(
        "helm: the version `{requested}` of the chart {chart} is a range, and with --offline it is resolved against the repository index kept in the render cache, which holds none for {repo}\n  help: run once without --offline (with the same cache directory), or name an exact version"
    )]
    NoCachedIndex {
        chart: String,
        requested: String,
        repo: String,
    },
    #[error(
        "helm: `{requested}` is not a version or version range of the chart {chart}\n  help: write an exact version (`1.4.0`) or a range as Helm reads it (`>=1.0.0`, `1.x`, `^1.2`, `~1.2`, `*`)"
    )]
    BadRange { chart: String, requested: String },
    #[error(
        "helm: the repository {repo} has no chart named {chart}\n  help: check the chart's name and the repository URL"
    )]
    NoSuchChart { chart: String, repo: String },
    #[error(
        "helm: no version of the chart {chart} in {repo} matches `{requested}` ({available} version(s) served, prereleases only when the range names one)\n  help: widen the range, or check that the repository serves the version"
    )]
    NoMatchingVersion {
        chart: String,
        requested: String,
        repo: String,
        available: usize,
    },
    /// helm failed fetching an index or pulling a chart; `detail` is its stderr, scrubbed.
    #[error("helm: cannot {action} from {repo}: {detail}")]
    Fetch {
        action: String,
        repo: String,
        detail: String,
    },
    #[error(
        "helm: {what} from {repo} is larger than {limit} bytes and was refused\n  help: plumb bounds what it fetches (src/limits.rs); a chart or index this large is not a chart repository's"
    )]
    TooLarge {
        what: String,
        repo: String,
        limit: u64,
    },
    #[error(
        "helm: the archive of the chart {chart} {version} pulled from {repo} does not match the digest its repository index gives\n  help: the repository (or something between it and plumb) serves another file than it lists; check the mirror"
    )]
    DigestMismatch {
        chart: String,
        version: String,
        repo: String,
    },
    #[error("helm: the index of {repo} cannot be read: {detail}")]
    BadIndex { repo: String, detail: String },
    #[error("cannot prepare a helm home for pulling charts: {0}")]
    Home(String),
}

/// A remote chart resolved to what is rendered: the repository it is pulled from and an exact
/// version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedChart {
    pub chart: String,
    /// The repository as the source names it, without credentials.
    pub repo: String,
    /// The repository it is pulled from (a mirror, or `repo`), without credentials.
    pub pulled_from: String,
    /// The same, with the credentials written in its URL (used in helm's home only).
    fetch_url: String,
    /// The version as the source asks for it (none: the latest release).
    pub requested: Option<String>,
    pub version: String,
}

impl ResolvedChart {
    /// Feeds what identifies the chart archive into a render's cache key.
    pub fn key_parts(&self, key: &mut KeyBuilder) {
        key.part("chart-repo", &self.repo)
            .part("chart-pulled-from", &self.pulled_from)
            .part("chart-name", &self.chart)
            .part("chart-version", &self.version);
    }

    /// The directory findings name for the chart's templates: `<chart>-<version>` (a remote chart
    /// has no place in Git).
    pub fn display_dir(&self) -> String {
        format!("{}-{}", self.chart, self.version)
    }

    fn archive_key(&self) -> super::cache::Key {
        let mut key = KeyBuilder::new("chart-archive");
        key.part("pulled-from", &self.pulled_from)
            .part("chart", &self.chart)
            .part("version", &self.version);
        key.finish()
    }
}

/// A remote chart one render used, for the report's inputs (`inputs.charts`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct ChartUse {
    pub env: String,
    pub source: String,
    pub chart: String,
    pub repo: String,
    /// Where it was pulled from, when a mirror serves it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror: Option<String>,
    /// The version the source asks for; none asks for the latest release.
    pub requested: Option<String>,
    pub resolved: String,
}

/// The versions of each chart a repository index lists, with their archive digests: all plumb
/// keeps of an index (in the cache, for `--offline`).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Index {
    charts: BTreeMap<String, Vec<IndexEntry>>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct IndexEntry {
    version: String,
    #[serde(default)]
    digest: Option<String>,
}

/// The part of Helm's `index.yaml` that plumb reads.
#[derive(serde::Deserialize)]
struct IndexFile {
    #[serde(default)]
    entries: BTreeMap<String, Vec<IndexFileEntry>>,
}

#[derive(serde::Deserialize)]
struct IndexFileEntry {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    digest: Option<String>,
}

/// Resolves and pulls the remote charts of a whole run.
pub struct Charts {
    /// Repository prefix (without credentials and trailing `/`) → the repository serving it,
    /// longest first; set once per run from plumb.yaml.
    mirrors: std::sync::OnceLock<Vec<(String, String)>>,
    offline: bool,
    timeout: Duration,
    /// Where archives and indexes are kept: the render cache, else (`--no-cache`) a directory of
    /// this run.
    store: Cache,
    _store_dir: Option<tempfile::TempDir>,
    /// helm's home for this run, made on first use.
    home: Mutex<Option<HelmHome>>,
    /// Indexes fetched (or read from the store) this run, by repository URL without credentials.
    indexes: Mutex<HashMap<String, Result<Arc<Index>, ChartError>>>,
    /// One lock per archive, so one chart two renders need is pulled once.
    pulls: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    used: Mutex<Vec<ChartUse>>,
}

/// helm's configuration, cache and data directories for this run, and the repositories added.
struct HelmHome {
    dir: tempfile::TempDir,
    /// Repository URL without credentials → (name in `repositories.yaml`, URL with them).
    repositories: BTreeMap<String, (String, String)>,
}

impl Charts {
    /// `cache` is the render cache (disabled with `--no-cache`: archives then go to a directory of
    /// this run).
    pub fn new(cache: &Cache, offline: bool, timeout: Duration) -> Charts {
        let (store, store_dir) = if cache.enabled() {
            (cache.clone(), None)
        } else {
            match tempfile::Builder::new().prefix("plumb-charts-").tempdir() {
                Ok(dir) => (Cache::at(dir.path()), Some(dir)),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot make a directory for pulled charts; each render pulls its own");
                    (Cache::new(None), None)
                }
            }
        };
        Charts {
            mirrors: std::sync::OnceLock::new(),
            offline,
            timeout,
            store,
            _store_dir: store_dir,
            home: Mutex::new(None),
            indexes: Mutex::new(HashMap::new()),
            pulls: Mutex::new(HashMap::new()),
            used: Mutex::new(Vec::new()),
        }
    }

    /// `charts.mirrors` of plumb.yaml; the longest matching prefix wins. A run has one
    /// configuration: the first call sets them, later ones change nothing.
    pub fn set_mirrors(&self, mirrors: &BTreeMap<String, String>) {
        if self.mirrors.get().is_some() {
            return;
        }
        let mut list: Vec<(String, String)> = mirrors
            .iter()
            .map(|(from, to)| (trim_url(&without_credentials(from)), trim_url(to)))
            .collect();
        list.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        let _ = self.mirrors.set(list);
    }

    /// The charts the run rendered (or took from the cache), in order.
    pub fn used(&self) -> Vec<ChartUse> {
        let mut used = self.used.lock().map(|u| u.clone()).unwrap_or_default();
        used.sort();
        used.dedup();
        used
    }

    pub fn record(&self, env: &str, source: &str, chart: &ResolvedChart) {
        if let Ok(mut used) = self.used.lock() {
            used.push(ChartUse {
                env: env.to_string(),
                source: source.to_string(),
                chart: chart.chart.clone(),
                repo: chart.repo.clone(),
                mirror: (chart.pulled_from != chart.repo).then(|| chart.pulled_from.clone()),
                requested: chart.requested.clone(),
                resolved: chart.version.clone(),
            });
        }
    }

    /// The repository a chart is pulled from (through `charts.mirrors`) and its exact version.
    /// An exact version needs no index; a range is resolved against the repository's index.
    pub fn resolve(&self, helm: &Tool, remote: &RemoteChart) -> Result<ResolvedChart, ChartError> {
        let repo = trim_url(&without_credentials(&remote.repo));
        let fetch_url = self.mirror(&remote.repo);
        let pulled_from = trim_url(&without_credentials(&fetch_url));
        let chart = remote.chart.clone();
        if pulled_from.starts_with("oci://") {
            return Err(ChartError::OciWithoutMirror { chart, repo });
        }
        if !(pulled_from.starts_with("http://") || pulled_from.starts_with("https://")) {
            return Err(ChartError::UnsupportedRepository {
                chart,
                repo: pulled_from,
            });
        }
        let requested = remote
            .version
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        let version = match requested.as_deref().and_then(exact_version) {
            Some(exact) => exact,
            None => {
                let constraint = Constraint::parse(requested.as_deref().unwrap_or("*"))
                    .ok_or_else(|| ChartError::BadRange {
                        chart: chart.clone(),
                        requested: requested.clone().unwrap_or_default(),
                    })?;
                let index =
                    self.index(helm, &pulled_from, &fetch_url, &chart, requested.as_deref())?;
                let entries = index
                    .charts
                    .get(&chart)
                    .ok_or_else(|| ChartError::NoSuchChart {
                        chart: chart.clone(),
                        repo: pulled_from.clone(),
                    })?;
                highest_match(entries.iter().map(|e| e.version.as_str()), &constraint).ok_or_else(
                    || ChartError::NoMatchingVersion {
                        chart: chart.clone(),
                        requested: requested.clone().unwrap_or_else(|| "*".into()),
                        repo: pulled_from.clone(),
                        available: entries.len(),
                    },
                )?
            }
        };
        Ok(ResolvedChart {
            chart,
            repo,
            pulled_from,
            fetch_url,
            requested,
            version,
        })
    }

    /// The chart's archive, from the store or pulled into it, written to `dir`; its path there.
    pub fn archive(
        &self,
        helm: &Tool,
        chart: &ResolvedChart,
        dir: &Path,
    ) -> Result<PathBuf, ChartError> {
        let key = chart.archive_key();
        let lock = self
            .pulls
            .lock()
            .map(|mut pulls| pulls.entry(format!("{key:?}")).or_default().clone())
            .map_err(|_| ChartError::Home("lock poisoned".into()))?;
        let _one_pull = lock
            .lock()
            .map_err(|_| ChartError::Home("lock poisoned".into()))?;
        let bytes = match self.store.read("charts", &key) {
            Some(bytes) => bytes,
            None if self.offline => {
                return Err(ChartError::NotCached {
                    chart: chart.chart.clone(),
                    version: chart.version.clone(),
                    repo: chart.pulled_from.clone(),
                });
            }
            None => {
                let bytes = self.pull(helm, chart)?;
                self.store.store("charts", &key, &bytes);
                bytes
            }
        };
        let path = dir.join(format!("{}-{}.tgz", chart.chart, chart.version));
        std::fs::write(&path, &bytes).map_err(|e| ChartError::Home(e.to_string()))?;
        Ok(path)
    }

    /// `url` through `charts.mirrors`: the longest prefix (on a `/` boundary, trailing `/` and
    /// credentials ignored) replaced by its mirror; the chart's name stays.
    fn mirror(&self, url: &str) -> String {
        let bare = trim_url(&without_credentials(url));
        for (from, to) in self.mirrors.get().into_iter().flatten() {
            if let Some(rest) = bare.strip_prefix(from.as_str())
                && (rest.is_empty() || rest.starts_with('/'))
            {
                return format!("{to}{rest}");
            }
        }
        trim_url(url)
    }

    /// The index of a repository: fetched once per run, or with `--offline` the copy the cache
    /// kept from the last online run.
    fn index(
        &self,
        helm: &Tool,
        repo: &str,
        fetch_url: &str,
        chart: &str,
        requested: Option<&str>,
    ) -> Result<Arc<Index>, ChartError> {
        let mut indexes = self
            .indexes
            .lock()
            .map_err(|_| ChartError::Home("lock poisoned".into()))?;
        if let Some(known) = indexes.get(repo) {
            return known.clone();
        }
        let mut key = KeyBuilder::new("chart-index");
        key.part("repo", repo);
        let key = key.finish();
        let result = if self.offline {
            self.store
                .read("chart-indexes", &key)
                .and_then(|bytes| serde_json::from_slice::<Index>(&bytes).ok())
                .map(Arc::new)
                .ok_or_else(|| ChartError::NoCachedIndex {
                    chart: chart.to_string(),
                    requested: requested.unwrap_or("*").to_string(),
                    repo: repo.to_string(),
                })
        } else {
            self.fetch_index(helm, repo, fetch_url).map(|index| {
                if let Ok(bytes) = serde_json::to_vec(&index) {
                    self.store.store("chart-indexes", &key, &bytes);
                }
                Arc::new(index)
            })
        };
        indexes.insert(repo.to_string(), result.clone());
        result
    }

    /// Adds the repository to helm's home of this run and has helm fetch its index.
    fn fetch_index(&self, helm: &Tool, repo: &str, fetch_url: &str) -> Result<Index, ChartError> {
        let (home, name) = self.add_repository(repo, fetch_url)?;
        self.helm(
            helm,
            &home,
            &["repo", "update", &name],
            "fetch the index",
            repo,
            fetch_url,
        )?;
        let path = home
            .join("cache/repository")
            .join(format!("{name}-index.yaml"));
        let size = std::fs::metadata(&path)
            .map_err(|e| ChartError::BadIndex {
                repo: repo.to_string(),
                detail: e.to_string(),
            })?
            .len();
        if size > MAX_CHART_INDEX_BYTES {
            return Err(ChartError::TooLarge {
                what: "the repository index".into(),
                repo: repo.to_string(),
                limit: MAX_CHART_INDEX_BYTES,
            });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| ChartError::BadIndex {
            repo: repo.to_string(),
            detail: e.to_string(),
        })?;
        let file: IndexFile =
            crate::yaml::from_str(&text, "index.yaml").map_err(|e| ChartError::BadIndex {
                repo: repo.to_string(),
                detail: e.message,
            })?;
        Ok(Index {
            charts: file
                .entries
                .into_iter()
                .map(|(chart, entries)| {
                    let entries = entries
                        .into_iter()
                        .filter_map(|e| {
                            Some(IndexEntry {
                                version: e.version?,
                                digest: e.digest,
                            })
                        })
                        .collect();
                    (chart, entries)
                })
                .collect(),
        })
    }

    /// Pulls the chart archive with helm; its bytes, checked against the size bound and the
    /// digest the index lists.
    fn pull(&self, helm: &Tool, chart: &ResolvedChart) -> Result<Vec<u8>, ChartError> {
        // The index says which digest the archive has, and helm pulls by repository name.
        let index = self.index(
            helm,
            &chart.pulled_from,
            &chart.fetch_url,
            &chart.chart,
            None,
        )?;
        let (home, name) = self.add_repository(&chart.pulled_from, &chart.fetch_url)?;
        let target = tempfile::Builder::new()
            .prefix("pull-")
            .tempdir_in(&home)
            .map_err(|e| ChartError::Home(e.to_string()))?;
        let reference = format!("{name}/{}", chart.chart);
        let destination = target.path().display().to_string();
        tracing::info!(chart = %chart.chart, version = %chart.version, repo = %chart.pulled_from, "pulling a chart");
        self.helm(
            helm,
            &home,
            &[
                "pull",
                &reference,
                "--version",
                &chart.version,
                "--destination",
                &destination,
            ],
            &format!("pull the chart {} {}", chart.chart, chart.version),
            &chart.pulled_from,
            &chart.fetch_url,
        )?;
        let archive = std::fs::read_dir(target.path())
            .map_err(|e| ChartError::Home(e.to_string()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "tgz"))
            .ok_or_else(|| ChartError::Fetch {
                action: format!("pull the chart {} {}", chart.chart, chart.version),
                repo: chart.pulled_from.clone(),
                detail: "helm wrote no chart archive".into(),
            })?;
        let too_large = || ChartError::TooLarge {
            what: format!("the chart {} {}", chart.chart, chart.version),
            repo: chart.pulled_from.clone(),
            limit: MAX_CHART_ARCHIVE_BYTES,
        };
        let size = std::fs::metadata(&archive)
            .map_err(|e| ChartError::Home(e.to_string()))?
            .len();
        if size > MAX_CHART_ARCHIVE_BYTES {
            return Err(too_large());
        }
        let bytes = std::fs::read(&archive).map_err(|e| ChartError::Home(e.to_string()))?;
        let listed = index
            .charts
            .get(&chart.chart)
            .and_then(|entries| entries.iter().find(|e| e.version == chart.version))
            .and_then(|e| e.digest.clone());
        if let Some(digest) = listed
            && !digest.eq_ignore_ascii_case(&hex::encode(Sha256::digest(&bytes)))
        {
            return Err(ChartError::DigestMismatch {
                chart: chart.chart.clone(),
                version: chart.version.clone(),
                repo: chart.pulled_from.clone(),
            });
        }
        Ok(bytes)
    }

    /// The helm home of this run (made on first use) with `repo` in its `repositories.yaml`, and
    /// the name it has there.
    fn add_repository(&self, repo: &str, fetch_url: &str) -> Result<(PathBuf, String), ChartError> {
        let mut slot = self
            .home
            .lock()
            .map_err(|_| ChartError::Home("lock poisoned".into()))?;
        if slot.is_none() {
            let dir = tempfile::Builder::new()
                .prefix("plumb-helm-")
                .tempdir()
                .map_err(|e| ChartError::Home(e.to_string()))?;
            *slot = Some(HelmHome {
                dir,
                repositories: BTreeMap::new(),
            });
        }
        let Some(home) = slot.as_mut() else {
            return Err(ChartError::Home("no helm home".into()));
        };
        let next = format!("plumb-{}", home.repositories.len());
        let (name, _) = home
            .repositories
            .entry(repo.to_string())
            .or_insert_with(|| (next, fetch_url.to_string()))
            .clone();
        write_repositories(home).map_err(|e| ChartError::Home(e.to_string()))?;
        Ok((home.dir.path().to_path_buf(), name))
    }

    /// Runs helm in the run's home; a failure is a [`ChartError::Fetch`] holding its stderr,
    /// scrubbed of the repository's credentials and of the home's path.
    fn helm(
        &self,
        helm: &Tool,
        home: &Path,
        args: &[&str],
        action: &str,
        repo: &str,
        fetch_url: &str,
    ) -> Result<(), ChartError> {
        let config = home.join("config");
        let cache = home.join("cache");
        let data = home.join("data");
        let (config, cache, data) = (
            config.display().to_string(),
            cache.display().to_string(),
            data.display().to_string(),
        );
        let env = [
            ("HELM_CONFIG_HOME", config.as_str()),
            ("HELM_CACHE_HOME", cache.as_str()),
            ("HELM_DATA_HOME", data.as_str()),
            ("HELM_NO_PLUGINS", "1"),
            ("GIT_TERMINAL_PROMPT", "0"),
        ];
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let fail = |detail: String| ChartError::Fetch {
            action: action.to_string(),
            repo: repo.to_string(),
            detail,
        };
        let mut scrubber = Scrubber::new();
        credentials_into(fetch_url, &mut scrubber);
        let out = process::run(&helm.path, &args, home, &env, self.timeout)
            .map_err(|e| fail(scrub_urls(&scrubber.scrub(&e.to_string()))))?;
        if out.success {
            return Ok(());
        }
        let home_text = format!("{}/", home.display());
        let stderr = String::from_utf8_lossy(&out.stderr).replace(&home_text, "");
        let detail = scrub_urls(&scrubber.excerpt(stderr.as_bytes()));
        tracing::debug!(%repo, action, stderr = %detail, "helm failed (scrubbed)");
        Err(fail(detail))
    }
}

/// Writes the home's `repositories.yaml` (JSON is YAML), owner-only: it holds the credentials
/// written in repository URLs.
fn write_repositories(home: &HelmHome) -> std::io::Result<()> {
    let dir = home.dir.path().join("config");
    std::fs::create_dir_all(&dir)?;
    let repositories: Vec<serde_json::Value> = home
        .repositories
        .values()
        .map(|(name, url)| {
            let (bare, user, password) = split_credentials(url);
            let mut entry = serde_json::json!({"name": name, "url": bare});
            if let Some(user) = user {
                entry["username"] = user.into();
            }
            if let Some(password) = password {
                entry["password"] = password.into();
            }
            entry
        })
        .collect();
    let text = serde_json::json!({"apiVersion": "", "generated": "0001-01-01T00:00:00Z", "repositories": repositories});
    let path = dir.join("repositories.yaml");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, text.to_string().as_bytes())
}

/// Adds the user and password of a URL (as written and percent-decoded) to `scrubber`.
pub(crate) fn credentials_into(url: &str, scrubber: &mut Scrubber) {
    let (_, user, password) = split_credentials(url);
    for secret in [user, password].into_iter().flatten() {
        scrubber.add(&secret);
    }
    if let Some((_, rest)) = url.split_once("://")
        && let Some((userinfo, _)) = rest.split('/').next().unwrap_or("").rsplit_once('@')
    {
        scrubber.add(userinfo);
        userinfo.split(':').for_each(|part| scrubber.add(part));
    }
}

/// A URL without credentials, and its user and password percent-decoded.
fn split_credentials(url: &str) -> (String, Option<String>, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None, None);
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_string(), None, None);
    };
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    (
        format!("{scheme}://{host}{path}"),
        Some(percent_decode(user)).filter(|u| !u.is_empty()),
        password.map(percent_decode),
    )
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Any `scheme://user:password@` in a tool's text, with the user information taken out: helm
/// may echo a URL it was given in some message plumb does not know of.
fn scrub_urls(text: &str) -> String {
    static USERINFO: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    match USERINFO.get_or_init(|| regex::Regex::new(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@").ok())
    {
        Some(pattern) => pattern.replace_all(text, "$1").into_owned(),
        None => text.to_string(),
    }
}

/// A URL without trailing `/`.
fn trim_url(url: &str) -> String {
    url.trim().trim_end_matches('/').to_string()
}

/// The version a source names when it names an exact one (`1.4.0`, `v1.4.0`, `1.4.0-rc.1`), as
/// written: Helm pulls an exact version by its string.
fn exact_version(requested: &str) -> Option<String> {
    let version = Version::parse(requested)?;
    version.full.then(|| requested.to_string())
}

/// The highest of `versions` that `constraint` accepts, as written in the index.
fn highest_match<'a>(
    versions: impl Iterator<Item = &'a str>,
    constraint: &Constraint,
) -> Option<String> {
    versions
        .filter_map(|text| Some((Version::parse(text)?, text)))
        .filter(|(version, _)| constraint.accepts(version))
        .max_by(|(a, _), (b, _)| a.cmp(b))
        .map(|(_, text)| text.to_string())
}

/// A semantic version as Helm (Masterminds semver) reads it: `v` allowed, minor and patch
/// optional, a prerelease and build metadata (ignored in comparisons).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<String>,
    /// All three numbers were written.
    full: bool,
}

impl Version {
    fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let text = text.split_once('+').map_or(text, |(v, _)| v);
        let (numbers, pre) = match text.split_once('-') {
            Some((numbers, pre)) => (numbers, Some(pre)),
            None => (text, None),
        };
        let parts: Vec<&str> = numbers.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return None;
        }
        let mut nums = [0u64; 3];
        for (slot, part) in nums.iter_mut().zip(&parts) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            *slot = part.parse().ok()?;
        }
        let pre = match pre {
            Some(pre) => {
                let ids: Vec<String> = pre.split('.').map(str::to_string).collect();
                if ids.iter().any(|id| {
                    id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                }) {
                    return None;
                }
                ids
            }
            None => Vec::new(),
        };
        Some(Version {
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
            pre,
            full: parts.len() == 3,
        })
    }

    fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }
}

impl Ord for Version {
    /// Semantic version precedence: numbers, then a release above its prereleases, then
    /// prerelease identifiers one by one (numeric below alphanumeric, numbers by value).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.pre.iter().zip(&other.pre) {
                        let order = match (a.parse::<u64>(), b.parse::<u64>()) {
                            (Ok(x), Ok(y)) => x.cmp(&y),
                            (Ok(_), Err(_)) => Ordering::Less,
                            (Err(_), Ok(_)) => Ordering::Greater,
                            (Err(_), Err(_)) => a.cmp(b),
                        };
                        if order != Ordering::Equal {
                            return order;
                        }
                    }
                    self.pre.len().cmp(&other.pre.len())
                }
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A version range as Helm and Flux read it (Masterminds semver): alternatives separated by `||`,
/// each a list of comparisons that must all hold (separated by spaces or commas); `A - B` is
/// `>= A, <= B`; `x`, `X` and `*` stand for any number. A prerelease version matches only an
/// alternative that names a prerelease.
#[derive(Debug)]
struct Constraint {
    alternatives: Vec<Vec<Comparison>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Equal,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    Tilde,
    Caret,
}

/// One comparison: an operator and a version whose missing or wildcard parts are "dirty".
#[derive(Debug)]
struct Comparison {
    op: Op,
    version: Version,
    /// How many of major, minor, patch were given as numbers (0 to 3).
    given: usize,
}

impl Constraint {
    fn parse(text: &str) -> Option<Constraint> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let mut alternatives = Vec::new();
        for alternative in text.split("||") {
            let tokens = tokens(alternative)?;
            let mut comparisons = Vec::new();
            let mut i = 0;
            while i < tokens.len() {
                if i + 2 < tokens.len() && tokens[i + 1] == "-" {
                    comparisons.push(Comparison::parse(Op::GreaterEqual, &tokens[i])?);
                    comparisons.push(Comparison::parse(Op::LessEqual, &tokens[i + 2])?);
                    i += 3;
                    continue;
                }
                let (op, rest) = split_operator(&tokens[i]);
                let (op, version) = if rest.is_empty() {
                    // An operator written apart from its version: `>= 1.2`.
                    i += 1;
                    (op, tokens.get(i)?.as_str())
                } else {
                    (op, rest)
                };
                comparisons.push(Comparison::parse(op, version)?);
                i += 1;
            }
            if comparisons.is_empty() {
                return None;
            }
            alternatives.push(comparisons);
        }
        Some(Constraint { alternatives })
    }

    fn accepts(&self, version: &Version) -> bool {
        self.alternatives.iter().any(|comparisons| {
            let prereleases = comparisons.iter().any(|c| c.version.is_prerelease());
            (prereleases || !version.is_prerelease())
                && comparisons.iter().all(|c| c.accepts(version))
        })
    }
}

/// The words of one alternative, commas being spaces.
fn tokens(text: &str) -> Option<Vec<String>> {
    let words: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    (!words.is_empty()).then_some(words)
}

fn split_operator(word: &str) -> (Op, &str) {
    for (prefix, op) in [
        ("!=", Op::NotEqual),
        (">=", Op::GreaterEqual),
        ("=>", Op::GreaterEqual),
        ("<=", Op::LessEqual),
        ("=<", Op::LessEqual),
        ("~>", Op::Tilde),
        (">", Op::Greater),
        ("<", Op::Less),
        ("~", Op::Tilde),
        ("^", Op::Caret),
        ("=", Op::Equal),
    ] {
        if let Some(rest) = word.strip_prefix(prefix) {
            return (op, rest);
        }
    }
    (Op::Equal, word)
}

impl Comparison {
    fn parse(op: Op, text: &str) -> Option<Comparison> {
        let text = text.strip_prefix('v').unwrap_or(text);
        let (core, suffix) = match text.find(['-', '+']) {
            Some(at) => text.split_at(at),
            None => (text, ""),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 3 {
            return None;
        }
        let wildcard = |p: &str| matches!(p, "x" | "X" | "*");
        let given = parts
            .iter()
            .position(|p| wildcard(p))
            .unwrap_or(parts.len());
        // Numbers after a wildcard mean nothing (`1.x.3` is `1.x`), but must still be numbers.
        if parts
            .iter()
            .any(|p| !wildcard(p) && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())))
        {
            return None;
        }
        let mut filled: Vec<&str> = parts[..given].to_vec();
        filled.resize(3, "0");
        let version = Version::parse(&format!("{}{suffix}", filled.join(".")))?;
        Some(Comparison { op, version, given })
    }

    fn accepts(&self, v: &Version) -> bool {
        let c = &self.version;
        let dirty = self.given < 3;
        let (minor_dirty, patch_dirty) = (self.given < 2, self.given == 2);
        match self.op {
            Op::Equal if dirty => tilde(c, v, self.given),
            Op::Equal => v == c,
            Op::NotEqual if dirty => v.major != c.major || (!minor_dirty && v.minor != c.minor),
            Op::NotEqual => v != c,
            Op::Greater if !dirty => v > c,
            Op::Greater => {
                v.major > c.major || (v.major == c.major && patch_dirty && v.minor > c.minor)
            }
            Op::Less => v < c,
            Op::GreaterEqual => v >= c,
            Op::LessEqual if !dirty => v <= c,
            Op::LessEqual => {
                v.major < c.major || (v.major == c.major && (minor_dirty || v.minor <= c.minor))
            }
            Op::Tilde => tilde(c, v, self.given),
            Op::Caret => {
                if v < c {
                    return false;
                }
                if c.major > 0 || minor_dirty {
                    return self.given == 0 || v.major == c.major;
                }
                if v.major > 0 {
                    return false;
                }
                if c.minor > 0 || patch_dirty {
                    return v.minor == c.minor;
                }
                v.minor == 0 && v.patch == c.patch
            }
        }
    }
}

/// `~1.2.3` is `>=1.2.3 <1.3.0`, `~1.2` and `1.2.x` `>=1.2.0 <1.3.0`, `~1` and `1.x` `>=1.0.0
/// <2.0.0`, `~*` anything.
fn tilde(c: &Version, v: &Version, given: usize) -> bool {
    if given == 0 {
        return true;
    }
    v >= c && v.major == c.major && (given < 2 || v.minor == c.minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn highest(range: &str, versions: &[&str]) -> Option<String> {
        highest_match(versions.iter().copied(), &Constraint::parse(range).unwrap())
    }

    const SERVED: &[&str] = &[
        "0.9.0",
        "1.0.0",
        "1.2.0",
        "1.2.5",
        "1.3.0",
        "1.10.1",
        "2.0.0-rc.1",
        "2.0.0",
        "2.1.0",
        "3.0.0-beta.2",
    ];

    #[test]
    fn ranges_resolve_to_the_highest_match_as_helm_reads_them() {
        for (range, expected) in [
            ("*", Some("2.1.0")),
            (">=1.0.0", Some("2.1.0")),
            (">=1.0.0 <2.0.0", Some("1.10.1")),
            (">=1.0.0, <2.0.0", Some("1.10.1")),
            ("1.x", Some("1.10.1")),
            ("1.2.x", Some("1.2.5")),
            ("1.2", Some("1.2.5")),
            ("^1.2", Some("1.10.1")),
            ("^1.2.3", Some("1.10.1")),
            ("^0.9", Some("0.9.0")),
            ("~1.2", Some("1.2.5")),
            ("~1.2.1", Some("1.2.5")),
            ("~>1.2", Some("1.2.5")),
            ("1.0.0 - 1.2.x", Some("1.2.5")),
            ("1.0.0 - 1.2.0", Some("1.2.0")),
            ("<1.0.0 || ^2", Some("2.1.0")),
            ("<1.0.0", Some("0.9.0")),
            (">2", None),
            (">1", Some("2.1.0")),
            (">1.2", Some("2.1.0")),
            ("!=2.1.0, >=2", Some("2.0.0")),
            ("=1.3.0", Some("1.3.0")),
            (">=2.0.0-0 <2.0.0", Some("2.0.0-rc.1")),
            (">=3.0.0-0", Some("3.0.0-beta.2")),
            ("4.x", None),
        ] {
            assert_eq!(highest(range, SERVED).as_deref(), expected, "{range}");
        }
    }

    #[test]
    fn prereleases_match_only_ranges_that_name_one() {
        assert_eq!(
            highest("*", &["1.0.0", "1.1.0-rc.1"]).as_deref(),
            Some("1.0.0")
        );
        assert_eq!(
            highest(">=1.1.0-0", &["1.0.0", "1.1.0-rc.1"]).as_deref(),
            Some("1.1.0-rc.1")
        );
        assert_eq!(highest("*", &["1.1.0-rc.1"]), None);
    }

    #[test]
    fn versions_order_by_precedence() {
        let v = |t: &str| Version::parse(t).unwrap();
        assert!(v("1.10.0") > v("1.9.0"));
        assert!(v("1.0.0") > v("1.0.0-rc.1"));
        assert!(v("1.0.0-rc.10") > v("1.0.0-rc.2"));
        assert!(v("1.0.0-beta") > v("1.0.0-2"));
        assert_eq!(v("v1.2.3+build"), v("1.2.3"));
        assert!(Version::parse("1.2.3.4").is_none());
        assert!(Version::parse("1..2").is_none());
    }

    #[test]
    fn exact_versions_need_no_index_and_everything_else_is_a_range() {
        assert_eq!(exact_version("1.4.0").as_deref(), Some("1.4.0"));
        assert_eq!(exact_version("v1.4.0").as_deref(), Some("v1.4.0"));
        assert_eq!(exact_version("1.4.0-rc.1").as_deref(), Some("1.4.0-rc.1"));
        for range in ["1.4", "1.x", ">=1.0.0", "^1.2", "~1.2", "*"] {
            assert_eq!(exact_version(range), None, "{range}");
            assert!(Constraint::parse(range).is_some(), "{range}");
        }
        for bad in ["", "latest", ">=", "1.2.3.4", "1.a"] {
            assert!(Constraint::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn mirrors_match_whole_prefixes_and_keep_the_chart_path() {
        let charts = Charts::new(&Cache::new(None), true, Duration::from_secs(1));
        charts.set_mirrors(&BTreeMap::from([
            (
                "https://charts.example.com/".to_string(),
                "http://127.0.0.1:1/mirror/".to_string(),
            ),
            (
                "oci://quay.io/jetstack".to_string(),
                "http://127.0.0.1:1/jetstack".to_string(),
            ),
            (
                "oci://quay.io".to_string(),
                "http://127.0.0.1:1/quay".to_string(),
            ),
        ]));
        assert_eq!(
            charts.mirror("https://charts.example.com"),
            "http://127.0.0.1:1/mirror"
        );
        assert_eq!(
            charts.mirror("https://user:token@charts.example.com/stable/"),
            "http://127.0.0.1:1/mirror/stable"
        );
        assert_eq!(
            charts.mirror("https://charts.example.com.evil.org"),
            "https://charts.example.com.evil.org"
        );
        assert_eq!(
            charts.mirror("oci://quay.io/jetstack/charts"),
            "http://127.0.0.1:1/jetstack/charts"
        );
        assert_eq!(
            charts.mirror("oci://quay.io/other"),
            "http://127.0.0.1:1/quay/other"
        );
        assert_eq!(charts.mirror("oci://ghcr.io/x"), "oci://ghcr.io/x");
    }

    #[test]
    fn credentials_are_split_out_of_urls_and_scrubbed_from_text() {
        assert_eq!(
            split_credentials("https://bob:s%40cret@charts.example.com/stable"),
            (
                "https://charts.example.com/stable".to_string(),
                Some("bob".to_string()),
                Some("s@cret".to_string())
            )
        );
        assert_eq!(
            split_credentials("https://charts.example.com/a@b"),
            ("https://charts.example.com/a@b".to_string(), None, None)
        );
        assert_eq!(
            scrub_urls("failed to fetch https://bob:hunter22@host/index.yaml : 401"),
            "failed to fetch https://host/index.yaml : 401"
        );
        let mut scrubber = Scrubber::new();
        credentials_into("https://bob:hunter22@host/x", &mut scrubber);
        assert!(
            !scrubber
                .scrub("password hunter22 rejected")
                .contains("hunter22")
        );
    }
}
