//! Promotion order on an edge upstream → downstream (docs/promotion.md): where the two run
//! different versions, is downstream behind (`lag`), running something upstream never ran
//! (`unvalidated`), or running what upstream rolled back (`reverted`)? Judged from upstream's
//! history — its versions at each commit that changed what it reads, newest first — which the
//! command layer reads from Git (app/history.rs). Pure: no I/O, no clock; "now" is passed in.

use super::equivalents::Equivalents;
use super::{Difference, FindingKind};
use crate::diff::{ChangeOp, Path};
use crate::model::{Inventory, Resource, ResourceId};
use crate::policy::pattern::PathPattern;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The version values of one environment's desired state: by resource, each version path (in the
/// report's path syntax) and its value.
pub type Versions = BTreeMap<ResourceId, BTreeMap<String, String>>;

/// An environment's history, newest first: each first-parent commit that changed what it reads,
/// with the versions its desired state held from that commit on.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct History {
    /// Newest first. The first is the state the run loaded (its commit the latest that changed
    /// it, at or before the ref).
    pub entries: Vec<HistoryEntry>,
    /// Why the search stopped there.
    #[serde(default)]
    pub ended: HistoryEnd,
}

impl History {
    /// How many commits of the environment's history were searched (`--history N` bounds it).
    pub fn searched_commits(&self) -> usize {
        self.entries.len()
    }

    /// Committer time (seconds since the epoch) of the oldest commit searched.
    pub fn searched_since(&self) -> i64 {
        self.entries.last().map_or(0, |e| e.time)
    }
}

/// Why a history search stopped where it did: messages say so where it matters (a shallow clone
/// makes every older version look unvalidated).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HistoryEnd {
    /// `--history N` commits were searched.
    #[default]
    Window,
    /// The first commit of the repository.
    Root,
    /// The first commit a shallow clone holds: older ones are not in the clone.
    Shallow,
    /// An older commit could not be read (a file that did not parse then, a render that failed).
    Unreadable,
}

/// One version of an environment's desired state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The full commit id of the first-parent commit that brought this state.
    pub commit: String,
    /// Its committer time, seconds since the epoch.
    pub time: i64,
    #[serde(with = "versions_as_list")]
    pub versions: Versions,
}

/// How a downstream version stands against upstream's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PromotionState {
    /// Upstream declared downstream's value before its current one: downstream is behind.
    Lag,
    /// Upstream never declared downstream's value in the history searched.
    Unvalidated,
    /// Upstream declared downstream's value, then went back to one it had declared before.
    Reverted,
}

impl PromotionState {
    pub fn as_str(self) -> &'static str {
        match self {
            PromotionState::Lag => "lag",
            PromotionState::Unvalidated => "unvalidated",
            PromotionState::Reverted => "reverted",
        }
    }
}

/// What a `promotion` finding says beyond its values (docs/report.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promotion {
    pub state: PromotionState,
    /// Upstream's current value.
    pub upstream_value: String,
    /// The first commit of upstream's current, uninterrupted run of its value.
    pub since_commit: String,
    /// That commit's committer time (seconds since the epoch; RFC 3339 in reports).
    #[serde(serialize_with = "rfc3339", deserialize_with = "from_rfc3339")]
    pub since_time: i64,
    pub searched_commits: usize,
    /// The committer time of the oldest commit searched.
    #[serde(serialize_with = "rfc3339", deserialize_with = "from_rfc3339")]
    pub searched_since: i64,
    /// Whole days from `since_time` to the run's time.
    #[serde(skip)]
    pub age_days: i64,
    /// Whether `lag` is past the pair's `max_lag` (always false for the other states).
    #[serde(skip)]
    pub overdue: bool,
}

/// Where an environment's versions are: container images in every pod template, Flux
/// HelmRelease chart versions, and the config's `promotion_paths`.
#[derive(Debug, Clone, Default)]
pub struct VersionPaths {
    extra: Vec<PathPattern>,
}

/// The pod specs of a workload, by where kinds keep them: a Pod's own spec, a template's, a
/// CronJob's job template's.
const POD_SPECS: [&str; 3] = [
    "spec",
    "spec.template.spec",
    "spec.jobTemplate.spec.template.spec",
];
const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];
const FLUX_CHART_VERSION: &str = "spec.chart.spec.version";

impl VersionPaths {
    /// With the config's `promotion_paths` (already validated patterns).
    pub fn new(extra: Vec<PathPattern>) -> VersionPaths {
        VersionPaths { extra }
    }

    /// Every version of `resource`: path and value. Secrets have none: their values are never
    /// versions (they would end up in reports and the history cache).
    pub fn of(&self, resource: &Resource) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let id = &resource.id;
        if id.group.is_empty() && id.kind == "Secret" {
            return out;
        }
        let object = &resource.object;
        let is_pod = id.group.is_empty() && id.kind == "Pod";
        for spec in POD_SPECS {
            if (spec == "spec") != is_pod {
                continue;
            }
            let Ok(spec_path) = Path::parse(spec) else {
                continue;
            };
            let Some(pod) = spec_path.resolve(object) else {
                continue;
            };
            for list in CONTAINER_LISTS {
                for container in pod[list].as_array().into_iter().flatten() {
                    let (Some(name), Some(image)) =
                        (container["name"].as_str(), container["image"].as_str())
                    else {
                        continue;
                    };
                    out.insert(
                        format!("{spec}.{list}[name={}].image", key_text(name)),
                        image.to_string(),
                    );
                }
            }
        }
        if id.group == "helm.toolkit.fluxcd.io"
            && id.kind == "HelmRelease"
            && let Some(version) = scalar(&object["spec"]["chart"]["spec"]["version"])
        {
            out.insert(FLUX_CHART_VERSION.to_string(), version);
        }
        for pattern in &self.extra {
            for (path, value) in pattern.find(object) {
                if let Some(value) = scalar(value) {
                    out.insert(path.to_string(), value);
                }
            }
        }
        out
    }

    /// The versions of every resource of an inventory that has any.
    pub fn of_inventory(&self, inventory: &Inventory) -> Versions {
        inventory
            .resources
            .values()
            .filter_map(|r| {
                let found = self.of(r);
                (!found.is_empty()).then(|| (r.id.clone(), found))
            })
            .collect()
    }

    /// Whether `path` of `resource` is a version path.
    fn names(&self, resource: &Resource, path: &Path) -> bool {
        self.of(resource).contains_key(&path.to_string())
    }
}

/// A key in a path written as the diff writes it (`[name=api]`, or quoted when it needs it).
fn key_text(name: &str) -> String {
    crate::diff::path::key_text(&Value::String(name.to_string()))
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An image reference taken apart: `[registry/]repository[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Image {
    pub repository: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl Image {
    pub fn parse(text: &str) -> Image {
        let (name, digest) = match text.split_once('@') {
            Some((name, digest)) => (name, Some(digest.to_string())),
            None => (text, None),
        };
        // A tag follows the last `:` after the last `/` (a registry port is before it).
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (
                &name[..last_slash + i],
                Some(name[last_slash + i + 1..].to_string()),
            ),
            None => (name, None),
        };
        Image {
            repository: repository.to_string(),
            tag,
            digest,
        }
    }

    /// The tag compared when no two digests are: none written is `latest`, as the runtime reads it.
    fn effective_tag(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }

    /// The short form messages use: the repository's last segment, then tag or digest
    /// (`api:2.4.1`, `api@sha256:1f2e3d4c5b6a`).
    pub fn short(&self) -> String {
        let name = self
            .repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository);
        match (&self.tag, &self.digest) {
            (Some(tag), _) => format!("{name}:{tag}"),
            (None, Some(digest)) => format!("{name}@{}", digest.get(..19).unwrap_or(digest)),
            (None, None) => name.to_string(),
        }
    }
}

/// Whether two values at a version path are the same version: images by repository, then digest
/// where both pin one, else tag; anything else as written. `upstream` is mapped through the
/// pair's equivalents first.
pub fn same_version(
    path: &str,
    upstream: &str,
    downstream: &str,
    equivalents: &Equivalents,
) -> bool {
    if equivalents.equivalent(upstream, downstream) {
        return true;
    }
    if !is_image_path(path) {
        return false;
    }
    let (u, d) = (Image::parse(upstream), Image::parse(downstream));
    if !equivalents.equivalent(&u.repository, &d.repository) {
        return false;
    }
    match (&u.digest, &d.digest) {
        (Some(a), Some(b)) => a == b,
        _ => u.effective_tag() == d.effective_tag(),
    }
}

pub fn is_image_path(path: &str) -> bool {
    path.ends_with("].image")
}

/// How a value reads in a message: an image's short form, anything else as written.
pub fn display_value(path: &str, value: &str) -> String {
    if is_image_path(path) {
        Image::parse(value).short()
    } else {
        value.to_string()
    }
}

/// Judges one version path of one resource: `downstream` against upstream's history (`history`
/// entries hold upstream's identity `upstream_id`). None where the two are the same version.
pub fn judge(
    upstream_id: &ResourceId,
    path: &str,
    downstream: &str,
    history: &History,
    equivalents: &Equivalents,
    now: i64,
    max_lag_minutes: Option<u64>,
) -> Option<Promotion> {
    let values: Vec<Option<&String>> = history
        .entries
        .iter()
        .map(|e| e.versions.get(upstream_id).and_then(|v| v.get(path)))
        .collect();
    let current = values.first().copied().flatten()?;
    if same_version(path, current, downstream, equivalents) {
        return None;
    }
    let same = |value: Option<&String>, as_: &str| {
        value.is_some_and(|v| v == as_ || same_version(path, v, as_, &Equivalents::default()))
    };
    // Upstream's current run of its value: the entries from the newest back to where it began.
    let run_start = values
        .iter()
        .take_while(|v| same(**v, current))
        .count()
        .saturating_sub(1);
    let since = &history.entries[run_start];
    // The newest entry where upstream declared downstream's value.
    let declared = values
        .iter()
        .position(|v| v.is_some_and(|v| same_version(path, v, downstream, equivalents)));
    let state = match declared {
        None => PromotionState::Unvalidated,
        Some(at) if values[at + 1..].iter().any(|v| same(*v, current)) => PromotionState::Reverted,
        Some(_) => PromotionState::Lag,
    };
    let age_minutes = (now - since.time).max(0) / 60;
    let overdue =
        state == PromotionState::Lag && max_lag_minutes.is_some_and(|max| age_minutes as u64 > max);
    Some(Promotion {
        state,
        upstream_value: current.clone(),
        since_commit: since.commit.clone(),
        since_time: since.time,
        searched_commits: history.searched_commits(),
        searched_since: history.searched_since(),
        age_days: age_minutes / (60 * 24),
        overdue,
    })
}

/// What promotion needs of an edge besides the two inventories.
pub struct Edge<'a> {
    pub upstream: &'a str,
    pub downstream: &'a str,
    pub history: &'a History,
    pub equivalents: &'a Equivalents,
    pub paths: &'a VersionPaths,
    /// The run's time, seconds since the epoch.
    pub now: i64,
    pub max_lag_minutes: Option<u64>,
}

/// Turns the parity findings of an edge at version paths into promotion findings: a `changed`
/// value at a version path of a paired object becomes `lag`, `unvalidated` or `reverted` — or
/// nothing, where the two are the same version written differently (one image by tag, the other
/// with the same digest). Everything else passes through.
pub fn promote(
    differences: Vec<Difference>,
    upstream: &Inventory,
    downstream: &Inventory,
    edge: &Edge<'_>,
) -> Vec<Difference> {
    let mut out = Vec::with_capacity(differences.len());
    for mut difference in differences {
        let candidate =
            difference.kind == FindingKind::Parity && difference.op == Some(ChangeOp::Changed);
        let upstream_resource = difference
            .counterpart
            .as_ref()
            .and_then(|id| upstream.resources.get(id));
        let downstream_resource = downstream.resources.get(&difference.resource.id);
        let (true, Some(up), Some(down)) = (candidate, upstream_resource, downstream_resource)
        else {
            out.push(difference);
            continue;
        };
        let path = difference.path.to_string();
        if !edge.paths.names(down, &difference.path) {
            out.push(difference);
            continue;
        }
        let Some(downstream_value) = difference.right.as_ref().and_then(scalar) else {
            out.push(difference);
            continue;
        };
        match judge(
            &up.id,
            &path,
            &downstream_value,
            edge.history,
            edge.equivalents,
            edge.now,
            edge.max_lag_minutes,
        ) {
            Some(promotion) => {
                difference.kind = FindingKind::Promotion;
                difference.note = Some(message(edge, &path, &downstream_value, &promotion));
                difference.promotion = Some(Box::new(promotion));
                out.push(difference);
            }
            // Upstream's history does not hold its own current value (an object it gained after
            // the history was read): the plain parity finding stays.
            None if edge
                .history
                .entries
                .first()
                .and_then(|e| e.versions.get(&up.id))
                .and_then(|v| v.get(&path))
                .is_none() =>
            {
                out.push(difference)
            }
            None => {}
        }
    }
    out
}

/// The finding's message, in words: "staging has run api:2.4.1 since 3f2a9c1 (2026-11-18, 15
/// days); production still runs api:2.3.0".
pub fn message(edge: &Edge<'_>, path: &str, downstream: &str, promotion: &Promotion) -> String {
    let (up, down) = (edge.upstream, edge.downstream);
    let upstream_value = display_value(path, &promotion.upstream_value);
    let downstream_value = display_value(path, downstream);
    let since = format!(
        "{} ({}, {})",
        short_commit(&promotion.since_commit),
        date(promotion.since_time),
        days(promotion.age_days)
    );
    match promotion.state {
        PromotionState::Lag => format!(
            "{up} has run {upstream_value} since {since}; {down} still runs {downstream_value}"
        ),
        PromotionState::Unvalidated => format!(
            "{down} runs {downstream_value}, which {up} never ran (searched {} commits back to {}{})",
            promotion.searched_commits,
            date(promotion.searched_since),
            match edge.history.ended {
                HistoryEnd::Shallow => {
                    ", where this shallow clone's history ends: fetch the full history (`git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout)"
                }
                HistoryEnd::Unreadable => ", before which it could not be read",
                HistoryEnd::Window | HistoryEnd::Root => "",
            }
        ),
        PromotionState::Reverted => format!(
            "{down} runs {downstream_value}, which {up} rolled back: {up} has run {upstream_value} again since {since}"
        ),
    }
}

/// What a change does when it makes downstream run a value upstream never ran (`plumb diff`'s
/// headline): "this change makes production run api:1.7.3-hotfix, which staging never ran
/// (searched 200 commits back to 2026-06-01)".
pub fn introduced_message(
    upstream: &str,
    downstream: &str,
    path: &str,
    downstream_value: &str,
    promotion: &Promotion,
) -> String {
    format!(
        "this change makes {downstream} run {}, which {upstream} never ran (searched {} back to {})",
        display_value(path, downstream_value),
        commits(promotion.searched_commits),
        date(promotion.searched_since)
    )
}

fn commits(n: usize) -> String {
    if n == 1 {
        "1 commit".to_string()
    } else {
        format!("{n} commits")
    }
}

/// The first 7 characters of a commit id, as `git log --oneline` shows it.
pub fn short_commit(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

fn days(n: i64) -> String {
    if n == 1 {
        "1 day".to_string()
    } else {
        format!("{n} days")
    }
}

/// `YYYY-MM-DD` (UTC) of a time in seconds since the epoch.
pub fn date(seconds: i64) -> String {
    let mut text = crate::timestamp::format_unix(seconds.max(0) as u64);
    text.truncate(10);
    text
}

/// Seconds since the epoch as an RFC 3339 time, for reports.
fn rfc3339<S: serde::Serializer>(seconds: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::timestamp::format_unix((*seconds).max(0) as u64))
}

/// The reverse of [`rfc3339`], for the parts of a sharded audit (`plumb merge`).
fn from_rfc3339<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let text = String::deserialize(d)?;
    crate::timestamp::parse_rfc3339(&text)
        .ok_or_else(|| serde::de::Error::custom("not an RFC 3339 time (YYYY-MM-DDTHH:MM:SSZ)"))
}

/// Versions written as a list of `{resource, paths}`: JSON object keys must be strings.
mod versions_as_list {
    use super::Versions;
    use crate::model::ResourceId;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    #[derive(Serialize, Deserialize)]
    struct Entry {
        group: String,
        kind: String,
        namespace: Option<String>,
        name: String,
        paths: BTreeMap<String, String>,
    }

    pub fn serialize<S: Serializer>(versions: &Versions, s: S) -> Result<S::Ok, S::Error> {
        let list: Vec<Entry> = versions
            .iter()
            .map(|(id, paths)| Entry {
                group: id.group.clone(),
                kind: id.kind.clone(),
                namespace: id.namespace.clone(),
                name: id.name.clone(),
                paths: paths.clone(),
            })
            .collect();
        list.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Versions, D::Error> {
        let list = Vec::<Entry>::deserialize(d)?;
        Ok(list
            .into_iter()
            .map(|e| {
                (
                    ResourceId {
                        group: e.group,
                        kind: e.kind,
                        namespace: e.namespace,
                        name: e.name,
                    },
                    e.paths,
                )
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DAY: i64 = 86_400;
    const NOW: i64 = 20_000 * DAY;
    const PATH: &str = "spec.template.spec.containers[name=api].image";

    fn id() -> ResourceId {
        ResourceId {
            group: "apps".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: "api".into(),
        }
    }

    /// A history from values oldest first, one commit a day ending today.
    fn history(values: &[&str]) -> History {
        let n = values.len() as i64;
        let entries: Vec<HistoryEntry> = values
            .iter()
            .enumerate()
            .rev()
            .map(|(i, v)| HistoryEntry {
                commit: format!("{:040x}", i + 1),
                time: NOW - (n - 1 - i as i64) * DAY,
                versions: [(id(), [(PATH.to_string(), v.to_string())].into())].into(),
            })
            .collect();
        History {
            entries,
            ended: HistoryEnd::Root,
        }
    }

    fn judged(values: &[&str], downstream: &str, max_lag: Option<u64>) -> Option<Promotion> {
        judge(
            &id(),
            PATH,
            downstream,
            &history(values),
            &Equivalents::default(),
            NOW,
            max_lag,
        )
    }

    #[test]
    fn images_parse_with_registry_ports_tags_and_digests() {
        let image = Image::parse("registry.local:5000/shop/api:2.4.1@sha256:abc");
        assert_eq!(image.repository, "registry.local:5000/shop/api");
        assert_eq!(image.tag.as_deref(), Some("2.4.1"));
        assert_eq!(image.digest.as_deref(), Some("sha256:abc"));
        let bare = Image::parse("registry.local:5000/api");
        assert_eq!(
            (bare.repository.as_str(), bare.tag),
            ("registry.local:5000/api", None)
        );
        assert_eq!(Image::parse("ghcr.io/x/api:1.2").short(), "api:1.2");
    }

    #[test]
    fn same_version_compares_digests_where_both_pin_one_else_tags() {
        let none = Equivalents::default();
        assert!(same_version(
            PATH,
            "r/api:1@sha256:a",
            "r/api:2@sha256:a",
            &none
        ));
        assert!(!same_version(
            PATH,
            "r/api:1@sha256:a",
            "r/api:1@sha256:b",
            &none
        ));
        assert!(same_version(PATH, "r/api:1", "r/api:1@sha256:b", &none));
        assert!(same_version(PATH, "r/api", "r/api:latest", &none));
        assert!(!same_version(PATH, "r/api:1", "s/api:1", &none));
        let mapped = Equivalents::new(&[("staging.io".into(), "prod.io".into())]);
        assert!(same_version(
            PATH,
            "staging.io/api:1",
            "prod.io/api:1",
            &mapped
        ));
        // Outside images, values compare as written.
        assert!(!same_version(FLUX_CHART_VERSION, "1.0", "1.0.0", &none));
    }

    #[test]
    fn downstream_behind_is_lag_since_upstreams_current_run_began() {
        let p = judged(&["api:1", "api:2", "api:3", "api:3"], "api:2", None).unwrap();
        assert_eq!(p.state, PromotionState::Lag);
        assert_eq!(p.upstream_value, "api:3");
        // api:3 began at the third commit (oldest first), a day ago.
        assert_eq!(p.since_commit, format!("{:040x}", 3));
        assert_eq!((p.age_days, p.overdue), (1, false));
        let late = judged(
            &["api:1", "api:2", "api:3", "api:3"],
            "api:2",
            Some(12 * 60),
        )
        .unwrap();
        assert!(late.overdue);
    }

    #[test]
    fn a_value_upstream_never_declared_is_unvalidated() {
        let p = judged(&["api:1", "api:2"], "api:1.7-hotfix", None).unwrap();
        assert_eq!(p.state, PromotionState::Unvalidated);
        assert_eq!(p.searched_commits, 2);
    }

    #[test]
    fn a_value_upstream_rolled_back_is_reverted_since_the_rollback() {
        let p = judged(&["api:1", "api:2", "api:1"], "api:2", None).unwrap();
        assert_eq!(p.state, PromotionState::Reverted);
        assert_eq!(p.since_commit, format!("{:040x}", 3));
        // Moving on past a value is lag, even through an older one.
        let on = judged(&["api:1", "api:2", "api:3"], "api:2", None).unwrap();
        assert_eq!(on.state, PromotionState::Lag);
    }

    #[test]
    fn the_same_version_is_no_finding() {
        assert_eq!(judged(&["api:1", "api:2"], "api:2", None), None);
    }

    #[test]
    fn version_paths_cover_pod_templates_cronjobs_flux_charts_and_extra_paths() {
        let deployment = crate::model::test_support::resource(
            "Deployment",
            "shop",
            "api",
            json!({"spec": {"template": {"spec": {
                "containers": [{"name": "api", "image": "r/api:1"}],
                "initContainers": [{"name": "migrate", "image": "r/migrate:1"}]}}}}),
        );
        let paths = VersionPaths::default().of(&deployment);
        assert_eq!(
            paths.keys().collect::<Vec<_>>(),
            [
                "spec.template.spec.containers[name=api].image",
                "spec.template.spec.initContainers[name=migrate].image"
            ]
        );
        let cron = crate::model::test_support::resource(
            "CronJob",
            "shop",
            "nightly",
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "job", "image": "r/job:1"}]}}}}}}),
        );
        assert!(
            VersionPaths::default()
                .of(&cron)
                .contains_key("spec.jobTemplate.spec.template.spec.containers[name=job].image")
        );
        let config = crate::model::test_support::resource(
            "ConfigMap",
            "shop",
            "release",
            json!({"data": {"version": "7"}}),
        );
        let extra = VersionPaths::new(vec![PathPattern::parse("data.version").unwrap()]);
        assert_eq!(
            extra.of(&config).get("data.version").map(String::as_str),
            Some("7")
        );
        let mut secret = config.clone();
        secret.id.kind = "Secret".into();
        assert!(extra.of(&secret).is_empty());
    }

    #[test]
    fn messages_say_it_in_words() {
        let history = history(&["r/api:2.3.0", "r/api:2.4.1"]);
        let edge = Edge {
            upstream: "staging",
            downstream: "production",
            history: &history,
            equivalents: &Equivalents::default(),
            paths: &VersionPaths::default(),
            now: NOW,
            max_lag_minutes: None,
        };
        let p = judge(
            &id(),
            PATH,
            "r/api:2.3.0",
            &history,
            edge.equivalents,
            NOW,
            None,
        )
        .unwrap();
        assert_eq!(
            message(&edge, PATH, "r/api:2.3.0", &p),
            format!(
                "staging has run api:2.4.1 since {} ({}, 0 days); production still runs api:2.3.0",
                short_commit(&p.since_commit),
                date(NOW)
            )
        );
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_795_000_000), "2026-11-18");
    }
}
