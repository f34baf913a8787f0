//! The version matrix (docs/promotion.md, the matrix): which version runs where, and how it got
//! there. One row per version path of a workload or chart (a container's image, a Flux
//! HelmRelease's chart version, a `promotion_paths` value), one cell per environment in promotion
//! order. A cell is judged against its upstream by the same functions the `promotion` findings
//! use ([`promotion::judge`], [`promotion::same_version`]), so the matrix and `plumb parity` never
//! disagree. Pure: versions, histories and mappings in, rows out.

use super::equivalents::Equivalents;
use super::pairing::{Mapping, match_id};
use super::promotion::{self, History, Image, PromotionState, Versions};
use crate::model::{Inventory, ResourceId};
use indexmap::IndexMap;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One environment of the matrix: a column.
pub struct Column<'a> {
    pub env: &'a str,
    /// Its desired state's versions (the newest entry of its history).
    pub versions: &'a Versions,
    /// Its own history: where each cell's current run of its value began.
    pub history: Option<&'a History>,
    /// Its upstream, where the matrix shows it.
    pub upstream: Option<Upstream<'a>>,
    /// Chart names of its Flux HelmReleases ([`chart_names`]).
    pub charts: BTreeMap<ResourceId, String>,
    /// With `--live`: what its cluster runs.
    pub live: Option<&'a LiveVersions>,
}

/// The edge into a column from an earlier one.
pub struct Upstream<'a> {
    /// The upstream's column.
    pub column: usize,
    pub history: Option<&'a History>,
    pub mapping: &'a Mapping,
    pub max_lag_minutes: Option<u64>,
}

/// What pairs two columns' objects: a promotion edge or a peer pair, its mapping running from
/// `left`'s identities to `right`'s.
pub struct Link<'a> {
    pub left: usize,
    pub right: usize,
    pub mapping: &'a Mapping,
}

/// The versions an environment's cluster runs, and what of it could not be seen.
#[derive(Debug, Default)]
pub struct LiveVersions {
    pub versions: Versions,
    /// The cluster could not be read at all: no cell says anything about live.
    pub unreachable: bool,
    /// Kinds (group, kind) that could not be read: their cells say nothing about live.
    pub unseen_kinds: BTreeSet<(String, String)>,
}

/// A row's object, as the last environment of promotion order that has it names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RowResource {
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

/// One version path of one object across the environments.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub resource: RowResource,
    /// The version path (`spec.template.spec.containers[name=api].image`).
    pub path: String,
    /// The container, for an image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The chart, for a Flux HelmRelease's chart version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
    /// Every environment of the matrix, in promotion order.
    pub cells: IndexMap<String, Cell>,
}

/// One environment's version at a row's path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    pub state: CellState,
    /// For `lag`: whole days since upstream's newer value began.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_days: Option<i64>,
    /// The first commit of this environment's own current, uninterrupted run of its value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since_commit: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "optional_rfc3339"
    )]
    pub since_time: Option<i64>,
    /// With `--live`: what the cluster runs at this path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveCell>,
}

/// A cell's live value: none where the live object or path is missing (which differs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveCell {
    pub value: Option<String>,
    pub differs: bool,
}

/// How a cell stands against its upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CellState {
    /// Nothing upstream to compare with: no upstream among the columns, or an upstream without
    /// this object or path (its parity reports that as `only-in`).
    Origin,
    /// The same version as upstream's.
    Same,
    Lag,
    Unvalidated,
    Reverted,
    /// No value here.
    Absent,
}

impl CellState {
    pub fn as_str(self) -> &'static str {
        match self {
            CellState::Origin => "origin",
            CellState::Same => "same",
            CellState::Lag => "lag",
            CellState::Unvalidated => "unvalidated",
            CellState::Reverted => "reverted",
            CellState::Absent => "absent",
        }
    }
}

impl From<PromotionState> for CellState {
    fn from(state: PromotionState) -> CellState {
        match state {
            PromotionState::Lag => CellState::Lag,
            PromotionState::Unvalidated => CellState::Unvalidated,
            PromotionState::Reverted => CellState::Reverted,
        }
    }
}

/// The chart name (`spec.chart.spec.chart`) of each Flux HelmRelease of an inventory.
pub fn chart_names(inventory: &Inventory) -> BTreeMap<ResourceId, String> {
    inventory
        .resources
        .values()
        .filter(|r| r.id.group == "helm.toolkit.fluxcd.io" && r.id.kind == "HelmRelease")
        .filter_map(|r| {
            let chart = r.object["spec"]["chart"]["spec"]["chart"].as_str()?;
            Some((r.id.clone(), chart.to_string()))
        })
        .collect()
}

/// A column's placed objects by the identity they are matched on and their path: their row.
type Placed<'a> = BTreeMap<(ResourceId, &'a str), usize>;

/// One object's value in a row, per column.
type Slot = Option<(ResourceId, String)>;

/// The rows of the matrix. Columns are taken in order (promotion order: an upstream before its
/// downstreams); an object joins the row of an object of an earlier column that pairs with it —
/// its upstream's first, then the upstream's upstream (through both edges' mappings, so a row
/// skips an environment that lacks the object), then peers in the order given — else it starts a
/// row of its own. A row holds at most one object per column.
pub fn rows(columns: &[Column<'_>], peers: &[Link<'_>], now: i64) -> Vec<Row> {
    // Per row, its path and one slot per column.
    let mut slots: Vec<(String, Vec<Slot>)> = Vec::new();
    // Per column, the objects placed: identity, path, row.
    let mut placed: Vec<Vec<(ResourceId, String, usize)>> = vec![Vec::new(); columns.len()];
    for (index, column) in columns.iter().enumerate() {
        let candidates = candidates(columns, peers, index);
        // Per candidate, its column's objects by the identity they are matched on, and how this
        // column's identities are looked up there.
        let indexes: Vec<(Placed<'_>, Option<&Mapping>)> = candidates
            .iter()
            .map(|candidate| {
                let index: Placed<'_> = placed[candidate.column]
                    .iter()
                    .map(|(id, path, row)| {
                        let mapped = candidate
                            .into
                            .iter()
                            .fold(id.clone(), |id, mapping| mapping.map_id(&id));
                        ((match_id(mapped), path.as_str()), *row)
                    })
                    .collect();
                (index, candidate.from)
            })
            .collect();
        let mut here = Vec::new();
        for (id, paths) in column.versions {
            for (path, value) in paths {
                let found = indexes.iter().find_map(|(known, from)| {
                    let key = match from {
                        Some(mapping) => match_id(mapping.map_id(id)),
                        None => match_id(id.clone()),
                    };
                    let row = *known.get(&(key, path.as_str()))?;
                    slots[row].1[index].is_none().then_some(row)
                });
                let row = found.unwrap_or_else(|| {
                    slots.push((path.clone(), vec![None; columns.len()]));
                    slots.len() - 1
                });
                slots[row].1[index] = Some((id.clone(), value.clone()));
                here.push((id.clone(), path.clone(), row));
            }
        }
        placed[index] = here;
    }
    let mut rows: Vec<Row> = slots
        .into_iter()
        .filter_map(|(path, row)| build_row(columns, &path, &row, now))
        .collect();
    rows.sort_by(|a, b| (&a.resource, &a.path).cmp(&(&b.resource, &b.path)));
    rows
}

/// An earlier column whose objects a column's objects may join: its objects' identities mapped
/// through `into` (upstream edges, in order) meet this column's, or this column's identities
/// mapped through `from` (a peer pair naming this column on the left) meet its.
struct Candidate<'a> {
    column: usize,
    into: Vec<&'a Mapping>,
    from: Option<&'a Mapping>,
}

fn candidates<'a>(columns: &[Column<'a>], peers: &[Link<'a>], index: usize) -> Vec<Candidate<'a>> {
    let mut out = Vec::new();
    let mut chain: Vec<&'a Mapping> = Vec::new();
    let mut current = index;
    // Upstreams come earlier in promotion order; the bound guards against a config that says
    // otherwise looping here.
    while let Some(upstream) = &columns[current].upstream {
        if upstream.column >= current {
            break;
        }
        chain.insert(0, upstream.mapping);
        out.push(Candidate {
            column: upstream.column,
            into: chain.clone(),
            from: None,
        });
        current = upstream.column;
    }
    for link in peers {
        if link.right == index && link.left < index {
            out.push(Candidate {
                column: link.left,
                into: vec![link.mapping],
                from: None,
            });
        } else if link.left == index && link.right < index {
            out.push(Candidate {
                column: link.right,
                into: Vec::new(),
                from: Some(link.mapping),
            });
        }
    }
    out
}

fn build_row(columns: &[Column<'_>], path: &str, slots: &[Slot], now: i64) -> Option<Row> {
    let (last, (id, _)) = slots
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, s)| s.as_ref().map(|s| (i, s)))?;
    let chart = (path == "spec.chart.spec.version")
        .then(|| columns[last].charts.get(id).cloned())
        .flatten();
    let cells = columns
        .iter()
        .enumerate()
        .map(|(i, column)| (column.env.to_string(), cell(columns, i, path, slots, now)))
        .collect();
    Some(Row {
        resource: RowResource {
            group: id.group.clone(),
            kind: id.kind.clone(),
            namespace: id.namespace.clone(),
            name: id.name.clone(),
        },
        path: path.to_string(),
        container: container_of(path),
        chart,
        cells,
    })
}

fn cell(columns: &[Column<'_>], index: usize, path: &str, slots: &[Slot], now: i64) -> Cell {
    let column = &columns[index];
    let Some((id, value)) = &slots[index] else {
        return Cell {
            value: None,
            image: None,
            state: CellState::Absent,
            lag_days: None,
            since_commit: None,
            since_time: None,
            live: None,
        };
    };
    let (state, lag_days) = judge_cell(column, path, slots, id, value, now);
    let since = column
        .history
        .and_then(|history| run_start(history, id, path, value));
    Cell {
        value: Some(value.clone()),
        image: promotion::is_image_path(path).then(|| Image::parse(value)),
        state,
        lag_days,
        since_commit: since.map(|(commit, _)| commit.to_string()),
        since_time: since.map(|(_, time)| time),
        live: column
            .live
            .and_then(|live| live_cell(live, id, path, value)),
    }
}

/// The cell's state against its upstream's counterpart: the object in the upstream's column of
/// this row whose identity the edge maps onto this one (the pair parity compares).
fn judge_cell(
    column: &Column<'_>,
    path: &str,
    slots: &[Slot],
    id: &ResourceId,
    value: &str,
    now: i64,
) -> (CellState, Option<i64>) {
    let Some(upstream) = &column.upstream else {
        return (CellState::Origin, None);
    };
    let Some((upstream_id, upstream_value)) = slots[upstream.column]
        .as_ref()
        .filter(|(up, _)| match_id(upstream.mapping.map_id(up)) == match_id(id.clone()))
    else {
        return (CellState::Origin, None);
    };
    let equivalents: &Equivalents = &upstream.mapping.equivalents;
    if promotion::same_version(path, upstream_value, value, equivalents) {
        return (CellState::Same, None);
    }
    let empty = History::default();
    let history = upstream.history.unwrap_or(&empty);
    match promotion::judge(
        upstream_id,
        path,
        value,
        history,
        equivalents,
        now,
        upstream.max_lag_minutes,
    ) {
        Some(p) => {
            let lag_days = (p.state == PromotionState::Lag).then_some(p.age_days);
            (p.state.into(), lag_days)
        }
        // Upstream's history does not hold the value it runs (it was read apart from the state
        // loaded): the two differ and nothing shows that upstream ran this one.
        None => (CellState::Unvalidated, None),
    }
}

/// Where an environment's current, uninterrupted run of `value` at `path` began: the oldest of
/// the newest entries that hold the same version.
fn run_start<'h>(
    history: &'h History,
    id: &ResourceId,
    path: &str,
    value: &str,
) -> Option<(&'h str, i64)> {
    let none = Equivalents::default();
    history
        .entries
        .iter()
        .take_while(|entry| {
            entry
                .versions
                .get(id)
                .and_then(|v| v.get(path))
                .is_some_and(|v| v == value || promotion::same_version(path, v, value, &none))
        })
        .last()
        .map(|entry| (entry.commit.as_str(), entry.time))
}

/// What the cluster runs at the path, unless the cluster or the kind could not be read.
fn live_cell(live: &LiveVersions, id: &ResourceId, path: &str, value: &str) -> Option<LiveCell> {
    if live.unreachable
        || live
            .unseen_kinds
            .contains(&(id.group.clone(), id.kind.clone()))
    {
        return None;
    }
    let found = live.versions.get(id).and_then(|v| v.get(path)).cloned();
    let differs = match &found {
        Some(running) => !promotion::same_version(path, value, running, &Equivalents::default()),
        None => true,
    };
    Some(LiveCell {
        value: found,
        differs,
    })
}

/// The container an image path names: `…containers[name=api].image` → `api`.
fn container_of(path: &str) -> Option<String> {
    let inner = path.strip_suffix("].image")?;
    let (_, name) = inner.rsplit_once("[name=")?;
    if name.starts_with('"') {
        serde_json::from_str(name).ok()
    } else {
        Some(name.to_string())
    }
}

fn optional_rfc3339<S: serde::Serializer>(seconds: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match seconds {
        Some(seconds) => s.serialize_str(&crate::timestamp::format_unix((*seconds).max(0) as u64)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::promotion::{HistoryEnd, HistoryEntry};

    const DAY: i64 = 86_400;
    const NOW: i64 = 20_000 * DAY;
    const IMAGE: &str = "spec.template.spec.containers[name=api].image";

    fn id(namespace: &str, name: &str) -> ResourceId {
        ResourceId {
            group: "apps".into(),
            kind: "Deployment".into(),
            namespace: Some(namespace.into()),
            name: name.into(),
        }
    }

    fn versions(entries: &[(&ResourceId, &str, &str)]) -> Versions {
        let mut out = Versions::new();
        for (id, path, value) in entries {
            out.entry((*id).clone())
                .or_default()
                .insert(path.to_string(), value.to_string());
        }
        out
    }

    /// A history from states oldest first, one commit a day ending today.
    fn history(states: &[Versions]) -> History {
        let n = states.len() as i64;
        let entries: Vec<HistoryEntry> = states
            .iter()
            .enumerate()
            .rev()
            .map(|(i, v)| HistoryEntry {
                commit: format!("{:040x}", i + 1),
                time: NOW - (n - 1 - i as i64) * DAY,
                versions: v.clone(),
            })
            .collect();
        History {
            entries,
            ended: HistoryEnd::Root,
        }
    }

    fn column<'a>(
        env: &'a str,
        versions: &'a Versions,
        history: &'a History,
        upstream: Option<Upstream<'a>>,
    ) -> Column<'a> {
        Column {
            env,
            versions,
            history: Some(history),
            upstream,
            charts: BTreeMap::new(),
            live: None,
        }
    }

    fn states(row: &Row) -> Vec<&'static str> {
        row.cells.values().map(|c| c.state.as_str()).collect()
    }

    #[test]
    fn cells_are_origin_same_lag_unvalidated_and_absent_through_the_edges_mappings() {
        let (dev_api, stg_api, prod_api) = (
            id("shop-dev", "api"),
            id("shop-staging", "api"),
            id("shop", "api"),
        );
        let (dev_web, prod_web) = (id("shop-dev", "web"), id("shop", "web"));
        let dev = versions(&[(&dev_api, IMAGE, "r/api:3"), (&dev_web, IMAGE, "r/web:1")]);
        let staging_old = versions(&[(&stg_api, IMAGE, "r/api:2")]);
        let staging = versions(&[(&stg_api, IMAGE, "r/api:3")]);
        let prod = versions(&[
            (&prod_api, IMAGE, "r/api:2"),
            (&prod_web, IMAGE, "r/web:1-hotfix"),
        ]);
        let (dev_h, stg_h, prod_h) = (
            history(std::slice::from_ref(&dev)),
            history(&[staging_old.clone(), staging.clone()]),
            history(&[prod.clone(), prod.clone()]),
        );
        let to_staging = Mapping {
            namespaces: [("shop-dev".into(), "shop-staging".into())].into(),
            ..Default::default()
        };
        let to_prod = Mapping {
            namespaces: [("shop-staging".into(), "shop".into())].into(),
            ..Default::default()
        };
        let columns = [
            column("dev", &dev, &dev_h, None),
            column(
                "staging",
                &staging,
                &stg_h,
                Some(Upstream {
                    column: 0,
                    history: Some(&dev_h),
                    mapping: &to_staging,
                    max_lag_minutes: None,
                }),
            ),
            column(
                "production",
                &prod,
                &prod_h,
                Some(Upstream {
                    column: 1,
                    history: Some(&stg_h),
                    mapping: &to_prod,
                    max_lag_minutes: None,
                }),
            ),
        ];
        let rows = rows(&columns, &[], NOW);
        assert_eq!(rows.len(), 2, "{rows:#?}");
        // api: one row, named as production names it.
        let api = &rows[0];
        assert_eq!(
            (
                api.resource.namespace.as_deref(),
                api.resource.name.as_str()
            ),
            (Some("shop"), "api")
        );
        assert_eq!(api.container.as_deref(), Some("api"));
        assert_eq!(states(api), ["origin", "same", "lag"]);
        let prod_cell = &api.cells["production"];
        assert_eq!(prod_cell.value.as_deref(), Some("r/api:2"));
        assert_eq!(prod_cell.image.as_ref().unwrap().tag.as_deref(), Some("2"));
        // Production has run api:2 since its first commit; staging's api:3 began a day ago.
        assert_eq!(prod_cell.since_commit, Some(format!("{:040x}", 1)));
        assert_eq!(prod_cell.since_time, Some(NOW - DAY));
        assert_eq!(prod_cell.lag_days, Some(0));
        assert_eq!(
            api.cells["staging"].since_commit,
            Some(format!("{:040x}", 2))
        );
        // web: staging has none, so dev's and production's meet through both edges' mappings;
        // production's is judged against nothing (parity reports the gap as only-in).
        let web = &rows[1];
        assert_eq!(states(web), ["origin", "absent", "origin"]);
        assert_eq!(web.cells["staging"].value, None);
    }

    #[test]
    fn a_value_upstream_never_ran_is_unvalidated_and_a_digest_matches_its_tag() {
        let (stg, prod) = (id("shop", "api"), id("shop", "api"));
        let staging = versions(&[(&stg, IMAGE, "r/api:2@sha256:aa")]);
        let production = versions(&[(&prod, IMAGE, "r/api:2"), (&prod, "data.v", "7")]);
        let (stg_h, prod_h) = (
            history(std::slice::from_ref(&staging)),
            history(std::slice::from_ref(&production)),
        );
        let mapping = Mapping::default();
        let upstream = Upstream {
            column: 0,
            history: Some(&stg_h),
            mapping: &mapping,
            max_lag_minutes: None,
        };
        let columns = [
            column("staging", &staging, &stg_h, None),
            column("production", &production, &prod_h, Some(upstream)),
        ];
        let found = rows(&columns, &[], NOW);
        let image = found.iter().find(|r| r.path == IMAGE).unwrap();
        assert_eq!(states(image), ["origin", "same"]);
        let data = found.iter().find(|r| r.path == "data.v").unwrap();
        assert_eq!(states(data), ["absent", "origin"]);
        assert_eq!(data.container, None);

        let hotfix = versions(&[(&prod, IMAGE, "r/api:2-hotfix")]);
        let hotfix_h = history(std::slice::from_ref(&hotfix));
        let columns = [
            column("staging", &staging, &stg_h, None),
            column(
                "production",
                &hotfix,
                &hotfix_h,
                Some(Upstream {
                    column: 0,
                    history: Some(&stg_h),
                    mapping: &mapping,
                    max_lag_minutes: None,
                }),
            ),
        ];
        let found = rows(&columns, &[], NOW);
        assert_eq!(states(&found[0]), ["origin", "unvalidated"]);
        assert_eq!(found[0].cells["production"].lag_days, None);
    }

    #[test]
    fn peers_share_a_row_and_live_cells_say_where_the_cluster_differs() {
        let (eu, us) = (id("shop", "api"), id("shop-us", "api"));
        let prod_eu = versions(&[(&eu, IMAGE, "r/api:2")]);
        let prod_us = versions(&[(&us, IMAGE, "r/api:2")]);
        let (eu_h, us_h) = (
            history(std::slice::from_ref(&prod_eu)),
            history(std::slice::from_ref(&prod_us)),
        );
        let peers = Mapping {
            namespaces: [("shop".into(), "shop-us".into())].into(),
            ..Default::default()
        };
        let live = LiveVersions {
            versions: versions(&[(&us, IMAGE, "r/api:3")]),
            ..Default::default()
        };
        let unseen = LiveVersions {
            unseen_kinds: [("apps".into(), "Deployment".into())].into(),
            ..Default::default()
        };
        let mut eu_column = column("prod-eu", &prod_eu, &eu_h, None);
        eu_column.live = Some(&unseen);
        let mut us_column = column("prod-us", &prod_us, &us_h, None);
        us_column.live = Some(&live);
        let found = rows(
            &[eu_column, us_column],
            &[Link {
                left: 0,
                right: 1,
                mapping: &peers,
            }],
            NOW,
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(states(&found[0]), ["origin", "origin"]);
        assert_eq!(
            found[0].cells["prod-us"].live,
            Some(LiveCell {
                value: Some("r/api:3".into()),
                differs: true
            })
        );
        // A kind the cluster could not show says nothing about live.
        assert_eq!(found[0].cells["prod-eu"].live, None);
    }

    #[test]
    fn containers_are_read_from_paths() {
        assert_eq!(container_of(IMAGE).as_deref(), Some("api"));
        assert_eq!(
            container_of(r#"spec.containers[name="a.b"].image"#).as_deref(),
            Some("a.b")
        );
        assert_eq!(container_of("spec.chart.spec.version"), None);
    }
}
