//! `plumb.yaml`: environments, their sources and live state, parity pairs, policies (docs/config.md).
//!
//! Every key is known: an unknown or misspelled key is an error with its line, never silently
//! ignored — a typo in `namespaces:` must not quietly turn off namespace mapping.

use crate::diagnostic::{LocatedError, find_line_with};
use indexmap::IndexMap;
use schemars::JsonSchema;
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

/// plumb's configuration: the environments, where their desired and live state come from, which
/// pairs are compared, and the policies that judge the differences (docs/config.md).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The file format's version: `1`.
    #[schemars(extend("const" = 1))]
    pub version: u32,
    /// The Git revision desired state is read at by default (a branch, tag or commit; default:
    /// HEAD). `--ref` overrides it.
    #[serde(rename = "ref", default)]
    pub git_ref: Option<String>,
    /// The environments by name. Their order in the file decides promotion order within a stage.
    #[schemars(with = "BTreeMap<String, Environment>")]
    pub environments: IndexMap<String, Environment>,
    /// Pairs of environments compared with each other: peers (`between: [prod-eu, prod-us]`), or
    /// a promotion edge refined with namespace maps, equivalents, policies and `max_lag`.
    #[serde(default)]
    pub parity: Vec<ParityPair>,
    /// Policy files, directories of them, and shipped policies (`builtin:noise`), relative to
    /// this file and inside the repository.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub policies: Vec<serde_saphyr::Spanned<String>>,
    /// URLs that name this repository (Argo CD `repoURL`, Flux GitRepository `url`): sources
    /// naming them are read from this checkout.
    #[serde(default)]
    pub repositories: Vec<String>,
    /// How remote Helm charts are fetched.
    #[serde(default)]
    pub charts: Charts,
    /// More version paths for promotion order, beside container images and Flux HelmRelease
    /// chart versions (docs/promotion.md): path patterns, as in policy files.
    #[serde(default)]
    pub promotion_paths: Vec<String>,
    /// How reports link to the files in Git (the HTML report's sources).
    #[serde(default)]
    pub links: Links,
}

/// Links from a report to the repository's web pages.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Links {
    /// The web address of a file at a commit, with `{commit}`, `{file}` and `{line}` where they
    /// go, e.g. `https://git.example.com/shop/deploy/blob/{commit}/{file}#L{line}`. Default:
    /// derived from the `origin` remote when it is on github.com, a GitLab or bitbucket.org;
    /// otherwise sources are shown as text.
    #[schemars(regex(pattern = r"^https?://.*\{file\}"))]
    pub source: Option<String>,
}

impl Config {
    /// The `policies:` entries, in order.
    pub fn policy_entries(&self) -> Vec<String> {
        self.policies.iter().map(|p| p.value.clone()).collect()
    }
}

/// One environment: where its desired state comes from, and its live state.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// The environment whose changes reach this one next: a promotion edge `upstream -> this`.
    #[serde(default)]
    pub upstream: Option<String>,
    /// Namespace for namespaced objects that name none (default: `default`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Where desired state comes from, read from Git: at least one source.
    #[serde(default)]
    #[schemars(with = "Vec<SourceEntry>")]
    pub sources: Vec<Source>,
    /// Where live state comes from, for drift: a kubeconfig context or a snapshot file.
    #[serde(default)]
    pub live: Option<Live>,
}

/// Where desired state comes from; paths are relative to the config file, read from Git.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "SourceEntry")]
pub enum Source {
    /// A file, a directory (recursive `*.yaml|*.yml|*.json`) or a glob.
    Manifests(String),
    /// A directory with a kustomization.
    Kustomize(String),
    Helm(HelmSource),
    /// An Argo CD Application or ApplicationSet, followed as Argo CD would (docs/sources.md).
    Argocd(ControllerSource),
    /// Flux Kustomizations and HelmReleases, followed as Flux would (docs/sources.md).
    Flux(ControllerSource),
}

impl Source {
    /// How the source is named in messages: `manifests: platform/staging`.
    pub fn describe(&self) -> String {
        match self {
            Source::Manifests(p) => format!("manifests: {p}"),
            Source::Kustomize(p) => format!("kustomize: {p}"),
            Source::Helm(h) => format!("helm: {}", h.chart.describe()),
            Source::Argocd(c) => c.describe("argocd"),
            Source::Flux(c) => c.describe("flux"),
        }
    }
}

/// A source written as a mapping with one kind key (`manifests`, `kustomize`, `helm`, `argocd`,
/// `flux`); `name` goes with `argocd` and `flux` only.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    rename = "Source",
    description = "Where desired state comes from: exactly one of `manifests`, `kustomize`, `helm`, `argocd`, `flux`. Paths are relative to plumb.yaml, read from Git.",
    extend("oneOf" = [
        {"required": ["manifests"]},
        {"required": ["kustomize"]},
        {"required": ["helm"]},
        {"required": ["argocd"]},
        {"required": ["flux"]}
    ])
)]
struct SourceEntry {
    /// Plain manifests: a file, a directory (read recursively: `*.yaml`, `*.yml`, `*.json`) or
    /// a glob.
    manifests: Option<String>,
    /// A directory with a kustomization, built with kustomize (or `kubectl kustomize`).
    kustomize: Option<String>,
    /// A Helm chart rendered with `helm template`.
    helm: Option<HelmSource>,
    /// A file of Argo CD Applications or ApplicationSets, followed as Argo CD would.
    argocd: Option<String>,
    /// A file or directory of Flux Kustomizations and HelmReleases, followed as Flux would.
    flux: Option<String>,
    /// With `argocd` or `flux`: which of the file's objects is this environment.
    name: Option<String>,
}

impl TryFrom<SourceEntry> for Source {
    type Error = String;

    fn try_from(entry: SourceEntry) -> Result<Source, String> {
        let SourceEntry {
            manifests,
            kustomize,
            helm,
            argocd,
            flux,
            name,
        } = entry;
        let controller = |path: String| ControllerSource {
            path,
            name: name.clone(),
        };
        let mut found = Vec::new();
        if let Some(p) = manifests {
            found.push(Source::Manifests(p));
        }
        if let Some(p) = kustomize {
            found.push(Source::Kustomize(p));
        }
        if let Some(h) = helm {
            found.push(Source::Helm(h));
        }
        if let Some(p) = argocd {
            found.push(Source::Argocd(controller(p)));
        }
        if let Some(p) = flux {
            found.push(Source::Flux(controller(p)));
        }
        if found.len() != 1 {
            return Err(
                "a source names exactly one of manifests, kustomize, helm, argocd, flux".into(),
            );
        }
        let source = found.remove(0);
        if name.is_some() && !matches!(source, Source::Argocd(_) | Source::Flux(_)) {
            return Err("`name` picks one object of an `argocd:` or `flux:` source; other sources take none".into());
        }
        Ok(source)
    }
}

/// An `argocd:` or `flux:` source: a file (or, for Flux, a directory) of the controller's objects
/// in Git, and which one of them this environment is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerSource {
    pub path: String,
    pub name: Option<String>,
}

impl ControllerSource {
    fn describe(&self, kind: &str) -> String {
        match &self.name {
            Some(name) => format!("{kind}: {} ({name})", self.path),
            None => format!("{kind}: {}", self.path),
        }
    }
}

/// A Helm chart and the values it is rendered with.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HelmSource {
    /// The chart: a directory in the repository, or `{repo, chart, version}` for a remote one.
    pub chart: ChartSpec,
    /// The release name (`.Release.Name`; default: the chart directory's name).
    #[serde(default)]
    pub release: Option<String>,
    /// The release namespace (`.Release.Namespace`; default: the environment's namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Values files, in order, relative to plumb.yaml.
    #[serde(default)]
    pub values: Vec<String>,
    /// Single values, as `helm --set` gives them (`image.tag: "1.4.0"`); they win over files.
    #[serde(default)]
    pub set: BTreeMap<String, serde_json::Value>,
}

/// A chart: a directory in the repository, or a chart in a remote repository.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ChartSpec {
    Path(String),
    Remote(RemoteChart),
}

impl ChartSpec {
    pub fn describe(&self) -> String {
        match self {
            ChartSpec::Path(path) => crate::desired::repository::without_credentials(path),
            ChartSpec::Remote(remote) => remote.describe(),
        }
    }
}

/// A chart in a chart repository (`https://…`) or an OCI registry (`oci://…`): pulled with helm
/// into the render cache (docs/rendering.md).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteChart {
    /// The chart repository's URL (`https://…`) or an OCI registry path (`oci://…`).
    pub repo: String,
    /// The chart's name in that repository.
    pub chart: String,
    /// An exact version or a range (`>=1.0.0`, `1.x`), resolved against the repository index.
    #[serde(default)]
    pub version: Option<String>,
}

impl RemoteChart {
    pub fn describe(&self) -> String {
        let version = self.version.as_deref().unwrap_or("latest");
        let repo = crate::desired::repository::without_credentials(&self.repo);
        format!("{} {version} from {repo}", self.chart)
    }
}

/// `charts:` in plumb.yaml.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Charts {
    /// Repository URL (or `oci://` prefix) -> the HTTP chart repository that serves it instead.
    #[serde(default)]
    pub mirrors: BTreeMap<String, String>,
}

/// An environment's live state, for drift: one of `context` and `snapshot`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("not" = {"required": ["context", "snapshot"]}))]
pub struct Live {
    /// The kubeconfig context of the environment's cluster (`--context` overrides it).
    #[serde(default)]
    pub context: Option<String>,
    /// A snapshot file (`plumb snapshot`, or a `kubectl get -o json` List), relative to plumb.yaml.
    #[serde(default)]
    pub snapshot: Option<String>,
    /// Namespaces to read from the cluster (default: those desired state names).
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Field managers that apply from Git (Argo CD, Flux, kubectl): fields others changed are
    /// reported as drift with who changed them.
    #[serde(default)]
    pub field_managers: Vec<String>,
}

/// Two environments compared with each other, and what is the same between them though written
/// differently.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParityPair {
    /// The two environments, `[left, right]`.
    #[schemars(length(min = 2, max = 2))]
    pub between: Vec<String>,
    /// Left namespace -> right namespace: objects are paired across these.
    #[serde(default)]
    pub namespaces: BTreeMap<String, String>,
    /// Pairs of tokens that mean the same on each side (`[staging.example.com, example.com]`),
    /// left first.
    #[serde(default)]
    #[schemars(inner(length(min = 2, max = 2)))]
    pub equivalents: Vec<Vec<String>>,
    /// Policy files for this pair only, judged before the global list (rules and waivers).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub policies: Vec<serde_saphyr::Spanned<String>>,
    /// On a promotion edge: how long downstream may lag behind upstream (`14d`, `36h`, `90m`).
    #[serde(default)]
    #[schemars(regex(pattern = r"^\s*[0-9]+[dhm]\s*$"))]
    pub max_lag: Option<String>,
}

/// Two environments compared with each other: a promotion edge (upstream on the left) or a peer
/// pair declared under `parity`, with its maps turned to run left to right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub left: String,
    pub right: String,
    /// `upstream: left` on the right environment.
    pub edge: bool,
    /// Identity map, left namespace -> right namespace.
    pub namespaces: BTreeMap<String, String>,
    /// Tokens that mean the same thing, left text first.
    pub equivalents: Vec<(String, String)>,
    /// Policy files for this pair only (paths relative to the config file).
    pub policies: Vec<String>,
    /// How long the right may lag behind the left, in minutes.
    pub max_lag_minutes: Option<u64>,
}

impl Pair {
    /// `staging→production` for an edge, `prod-eu↔prod-us` for peers: how reports name the pair.
    pub fn label(&self) -> String {
        let arrow = if self.edge { "→" } else { "↔" };
        format!("{}{arrow}{}", self.left, self.right)
    }
}

/// A loaded configuration and where it was found.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub path: PathBuf,
    /// The directory holding the file; relative paths start here.
    pub dir: PathBuf,
    /// The file's text, for errors found after loading that point at a line of it.
    pub text: String,
}

impl LoadedConfig {
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.config.environments.get(name)
    }

    /// Where versions are, for promotion order: images, Flux chart versions and the
    /// `promotion_paths` (checked when the file was loaded).
    pub fn version_paths(&self) -> crate::compare::promotion::VersionPaths {
        crate::compare::promotion::VersionPaths::new(
            self.config
                .promotion_paths
                .iter()
                .filter_map(|p| crate::policy::pattern::PathPattern::parse(p).ok())
                .collect(),
        )
    }

    /// Every pair the estate compares: each promotion edge (upstream on the left, refined by a
    /// `parity` entry naming the same two environments in either order), then each `parity`
    /// entry with no edge between its two, in file order. Where both environments of a pair set a
    /// single `namespace` and the entry gives no map, the map is `{left: right}`.
    pub fn pairs(&self) -> Vec<Pair> {
        let environments = &self.config.environments;
        let entry_for = |a: &str, b: &str| {
            self.config.parity.iter().find(|p| {
                p.between.len() == 2
                    && ((p.between[0] == a && p.between[1] == b)
                        || (p.between[0] == b && p.between[1] == a))
            })
        };
        let mut pairs = Vec::new();
        for name in self.promotion_order() {
            let Some(upstream) = environments[&name].upstream.clone() else {
                continue;
            };
            pairs.push(self.pair_of(&upstream, &name, true, entry_for(&upstream, &name)));
        }
        for entry in &self.config.parity {
            let [left, right] = entry.between.as_slice() else {
                continue;
            };
            let is_edge = |down: &str, up: &str| {
                environments.get(down).and_then(|e| e.upstream.as_deref()) == Some(up)
            };
            if is_edge(right, left) || is_edge(left, right) {
                continue;
            }
            if pairs
                .iter()
                .any(|p: &Pair| p.left == *left && p.right == *right)
            {
                continue;
            }
            pairs.push(self.pair_of(left, right, false, Some(entry)));
        }
        pairs
    }

    /// The pair `left`-`right` as configured, in this order (a reversed entry has its maps
    /// inverted); a pair of two environments nothing relates is compared with no maps but the
    /// inferred namespace map.
    pub fn pair(&self, left: &str, right: &str) -> Pair {
        if let Some(pair) = self
            .pairs()
            .into_iter()
            .find(|p| p.left == left && p.right == right)
        {
            return pair;
        }
        if let Some(pair) = self
            .pairs()
            .into_iter()
            .find(|p| p.left == right && p.right == left)
        {
            return pair.reversed();
        }
        self.pair_of(left, right, false, None)
    }

    fn pair_of(&self, left: &str, right: &str, edge: bool, entry: Option<&ParityPair>) -> Pair {
        let forward = entry.is_none_or(|e| e.between.first().map(String::as_str) == Some(left));
        let mut namespaces: BTreeMap<String, String> = entry
            .map(|e| {
                e.namespaces
                    .iter()
                    .map(|(a, b)| {
                        if forward {
                            (a.clone(), b.clone())
                        } else {
                            (b.clone(), a.clone())
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        if namespaces.is_empty() {
            let namespace = |name: &str| {
                self.config
                    .environments
                    .get(name)
                    .and_then(|e| e.namespace.clone())
            };
            if let (Some(l), Some(r)) = (namespace(left), namespace(right))
                && l != r
            {
                namespaces.insert(l, r);
            }
        }
        let equivalents = entry
            .map(|e| {
                e.equivalents
                    .iter()
                    .filter_map(|pair| {
                        let (a, b) = (pair.first()?.clone(), pair.get(1)?.clone());
                        Some(if forward { (a, b) } else { (b, a) })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Pair {
            left: left.to_string(),
            right: right.to_string(),
            edge,
            namespaces,
            equivalents,
            policies: entry
                .map(|e| e.policies.iter().map(|p| p.value.clone()).collect())
                .unwrap_or_default(),
            max_lag_minutes: entry
                .and_then(|e| e.max_lag.as_deref())
                .and_then(parse_duration_minutes),
        }
    }

    /// Environments in promotion order: roots (environments with downstreams and no upstream),
    /// then their downstreams stage by stage, file order within a stage; then the rest, in file
    /// order.
    pub fn promotion_order(&self) -> Vec<String> {
        let file_order = self.file_order();
        let environments = &self.config.environments;
        let has_downstreams = |name: &str| {
            environments
                .values()
                .any(|e| e.upstream.as_deref() == Some(name))
        };
        let mut stage: Vec<String> = file_order
            .iter()
            .filter(|n| environments[*n].upstream.is_none() && has_downstreams(n))
            .cloned()
            .collect();
        let mut order: Vec<String> = Vec::new();
        // Each stage holds environments not yet placed, so this ends within one stage per
        // environment (validation refuses cycles).
        while !stage.is_empty() {
            order.extend(stage.iter().cloned());
            stage = file_order
                .iter()
                .filter(|d| {
                    !order.contains(d)
                        && environments[*d]
                            .upstream
                            .as_ref()
                            .is_some_and(|up| stage.contains(up))
                })
                .cloned()
                .collect();
        }
        for name in file_order {
            if !order.contains(&name) {
                order.push(name);
            }
        }
        order
    }

    /// Environment names in the order the file writes them.
    fn file_order(&self) -> Vec<String> {
        self.config.environments.keys().cloned().collect()
    }

    /// The line where `environments:` defines `name` (0 when it cannot be told).
    pub fn environment_line(&self, name: &str) -> u64 {
        crate::diagnostic::find_line(&self.text, &format!("  {name}:")).0
    }

    /// Environments that no pair, no edge and no live state cover: `plumb audit` refuses a config
    /// with any (an audit never passes by comparing nothing).
    pub fn compared_with_nothing(&self) -> Vec<String> {
        let pairs = self.pairs();
        self.file_order()
            .into_iter()
            .filter(|name| {
                let env = &self.config.environments[name];
                let live = env
                    .live
                    .as_ref()
                    .is_some_and(|l| l.context.is_some() || l.snapshot.is_some());
                !live && !pairs.iter().any(|p| p.left == *name || p.right == *name)
            })
            .collect()
    }
}

impl Pair {
    /// The same two environments the other way round, maps inverted.
    pub fn reversed(self) -> Pair {
        Pair {
            left: self.right,
            right: self.left,
            edge: false,
            namespaces: self.namespaces.into_iter().map(|(a, b)| (b, a)).collect(),
            equivalents: self.equivalents.into_iter().map(|(a, b)| (b, a)).collect(),
            policies: self.policies,
            max_lag_minutes: None,
        }
    }
}

/// `14d`, `36h`, `90m` in minutes; none when it is not of that form.
pub fn parse_duration_minutes(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: u64 = number.parse().ok()?;
    match unit {
        "d" => n.checked_mul(24 * 60),
        "h" => n.checked_mul(60),
        "m" => Some(n),
        _ => None,
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
        text,
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
    let pair_entries = config.parity.iter().flat_map(|p| &p.policies);
    for entry in config.policies.iter().chain(pair_entries) {
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
    let defined = || {
        format!(
            "defined environments: {}",
            config
                .environments
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    for (name, env) in &config.environments {
        if let Some(upstream) = &env.upstream {
            if upstream == name {
                return Err(invalid_at(
                    text,
                    file,
                    "upstream:",
                    upstream,
                    format!("environment `{name}` names itself as its upstream"),
                    "`upstream:` names the environment whose changes reach this one next",
                ));
            }
            if !config.environments.contains_key(upstream) {
                return Err(invalid_at(
                    text,
                    file,
                    "upstream:",
                    upstream,
                    format!("environment `{name}` names unknown upstream `{upstream}`"),
                    &defined(),
                ));
            }
        }
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
    if let Some(cycle) = promotion_cycle(config) {
        return Err(invalid_at(
            text,
            file,
            "upstream:",
            &cycle[1],
            format!("`upstream` forms a cycle: {}", cycle.join(" → ")),
            "promotion edges form a tree: each environment has at most one upstream, and following them must end at an environment with none",
        ));
    }
    for path in &config.promotion_paths {
        if let Err(e) = crate::policy::pattern::PathPattern::parse(path) {
            return Err(invalid_at(
                text,
                file,
                "promotion_paths",
                path,
                format!("`{path}` is not a path: {e}"),
                "write a path as policy files do: `spec.chart.spec.version`, `data.version`",
            ));
        }
    }
    if let Some(template) = &config.links.source
        && !(template.starts_with("https://") || template.starts_with("http://"))
            | !template.contains("{file}")
    {
        return Err(invalid_at(
            text,
            file,
            "source:",
            template,
            format!("`links.source` `{template}` is not a web address with `{{file}}` in it"),
            "write the address of a file at a commit, e.g. https://github.com/org/repo/blob/{commit}/{file}#L{line}",
        ));
    }
    for pair in &config.parity {
        if pair.between.len() == 2 && pair.between[0] == pair.between[1] {
            return Err(invalid_at(
                text,
                file,
                "between",
                &pair.between[0],
                format!("parity compares `{}` with itself", pair.between[0]),
                "name two different environments: `between: [staging, production]`",
            ));
        }
        if let Some(max_lag) = &pair.max_lag
            && parse_duration_minutes(max_lag).is_none()
        {
            return Err(invalid_at(
                text,
                file,
                "max_lag",
                max_lag,
                format!("`{max_lag}` is not a duration"),
                "write a whole number of days, hours or minutes: `14d`, `36h`, `90m`",
            ));
        }
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
                    &defined(),
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

/// The first cycle of `upstream` edges, as the names along it (first name repeated at the end).
fn promotion_cycle(config: &Config) -> Option<Vec<String>> {
    for start in config.environments.keys() {
        let mut path = vec![start.clone()];
        let mut current = start;
        // A walk longer than the number of environments has repeated one.
        while let Some(up) = config
            .environments
            .get(current)
            .and_then(|e| e.upstream.as_ref())
        {
            if let Some(i) = path.iter().position(|n| n == up) {
                let mut cycle = path[i..].to_vec();
                cycle.push(up.clone());
                return Some(cycle);
            }
            path.push(up.clone());
            current = up;
            if path.len() > config.environments.len() + 1 {
                break;
            }
        }
    }
    None
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
    fn a_source_link_is_a_web_address_with_the_file_in_it() {
        let good = format!(
            "{GOOD}links:\n  source: https://git.example.com/{{commit}}/{{file}}#L{{line}}\n"
        );
        assert!(parse(&good, "plumb.yaml").unwrap().links.source.is_some());
        for bad in [
            "javascript:alert(1)//{file}",
            "https://git.example.com/blob/{commit}",
        ] {
            let text = format!("{GOOD}links:\n  source: \"{bad}\"\n");
            let err = parse(&text, "plumb.yaml").unwrap_err().to_string();
            assert!(err.contains("is not a web address with `{file}`"), "{err}");
        }
    }

    #[test]
    fn parity_must_name_known_environments() {
        let text = GOOD.replace("between: [staging, production]", "between: [staging, prod]");
        let err = parse(&text, "plumb.yaml").unwrap_err().to_string();
        assert!(err.contains("unknown environment `prod`"), "{err}");
        assert!(err.starts_with("plumb.yaml:17:"), "{err}");
    }

    fn loaded(text: &str) -> LoadedConfig {
        LoadedConfig {
            config: parse(text, "plumb.yaml").unwrap(),
            path: "plumb.yaml".into(),
            dir: ".".into(),
            text: text.to_string(),
        }
    }

    #[test]
    fn reversed_pair_inverts_the_mapping() {
        let loaded = loaded(GOOD);
        let pair = loaded.pair("production", "staging");
        assert_eq!(pair.namespaces["p"], "s");
        assert_eq!(pair.equivalents[0], ("b".to_string(), "a".to_string()));
    }

    const ESTATE: &str = "version: 1
environments:
  prod-us: {upstream: staging-us, namespace: shop, sources: [{manifests: a}]}
  dev: {namespace: shop-dev, sources: [{manifests: a}]}
  qa: {upstream: dev, namespace: shop-qa, sources: [{manifests: a}]}
  staging-eu: {upstream: qa, sources: [{manifests: a}]}
  staging-us: {upstream: qa, namespace: shop-staging, sources: [{manifests: a}]}
  prod-eu: {upstream: staging-eu, namespace: shop, sources: [{manifests: a}]}
  sandbox: {sources: [{manifests: a}]}
parity:
  - between: [prod-us, prod-eu]
  - between: [staging-us, qa]
    namespaces: {shop-staging: shop-qa-mapped}
    max_lag: 14d
";

    #[test]
    fn promotion_order_is_by_stage_then_file_order() {
        let config = loaded(ESTATE);
        assert_eq!(
            config.promotion_order(),
            [
                "dev",
                "qa",
                "staging-eu",
                "staging-us",
                "prod-us",
                "prod-eu",
                "sandbox"
            ]
        );
    }

    #[test]
    fn every_edge_is_a_pair_with_upstream_on_the_left_and_parity_entries_refine_or_add() {
        let config = loaded(ESTATE);
        let pairs: Vec<String> = config.pairs().iter().map(Pair::label).collect();
        assert_eq!(
            pairs,
            [
                "dev→qa",
                "qa→staging-eu",
                "qa→staging-us",
                "staging-us→prod-us",
                "staging-eu→prod-eu",
                "prod-us↔prod-eu"
            ]
        );
        let all = config.pairs();
        // Inferred from single namespaces.
        assert_eq!(all[0].namespaces["shop-dev"], "shop-qa");
        // staging-eu has no namespace: nothing to infer.
        assert!(all[1].namespaces.is_empty());
        // The entry written [staging-us, qa] refines the edge qa -> staging-us, turned around.
        assert_eq!(all[2].namespaces["shop-qa-mapped"], "shop-staging");
        assert_eq!(all[2].max_lag_minutes, Some(14 * 24 * 60));
        // Peers in the same namespace: no map needed.
        assert!(all[5].namespaces.is_empty());
        assert!(!all[5].edge && all[0].edge);
        assert_eq!(config.compared_with_nothing(), ["sandbox"]);
    }

    #[test]
    fn upstream_cycles_and_unknown_upstreams_are_errors_with_lines() {
        let cycle = "version: 1\nenvironments:\n  a: {upstream: b, sources: [{manifests: x}]}\n  b: {upstream: a, sources: [{manifests: x}]}\n";
        let err = parse(cycle, "plumb.yaml").unwrap_err().to_string();
        assert!(err.contains("cycle: a → b → a"), "{err}");
        assert!(err.starts_with("plumb.yaml:3:"), "{err}");
        let unknown = "version: 1\nenvironments:\n  a: {sources: [{manifests: x}]}\n  b: {upstream: c, sources: [{manifests: x}]}\n";
        let err = parse(unknown, "plumb.yaml").unwrap_err().to_string();
        assert!(err.contains("unknown upstream `c`"), "{err}");
        assert!(err.starts_with("plumb.yaml:4:"), "{err}");
        let lag = ESTATE.replace("max_lag: 14d", "max_lag: two weeks");
        let err = parse(&lag, "plumb.yaml").unwrap_err().to_string();
        assert!(err.contains("not a duration"), "{err}");
    }
}
