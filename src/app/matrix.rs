//! `plumb matrix [ENV...] [--ref REV] [--live]`: which version runs where, in promotion order
//! (docs/promotion.md, the matrix). Loads the environments (live state too with `--live`), reads
//! every one's history, runs the parity views of the edges among them — whose promotion findings
//! are the matrix's findings, judged by the same policies, so the matrix and `plumb parity` never
//! disagree — and builds the rows from the environments' versions (compare/matrix.rs).

use super::estate::{Estate, Need, Side, Want};
use super::live::LiveSource;
use super::views::{self, View};
use super::{AppError, Context, Project, inputs};
use crate::compare::FindingKind;
use crate::compare::equivalents::Equivalents;
use crate::compare::matrix::{self, Column, Link, LiveVersions, Upstream};
use crate::compare::pairing::Mapping;
use crate::config::Pair;
use crate::policy::Scope;
use crate::report::{Report, matrix::MatrixReport};

pub struct MatrixRequest<'a> {
    /// Environments named on the command line (none: all of them).
    pub envs: &'a [String],
    pub git_ref: Option<&'a str>,
    pub live: bool,
}

/// The matrix and the report its findings and errors come from (unfinished: the caller applies
/// the baseline and decides the exit code on it).
pub struct Matrix {
    pub judged: Report,
    pub environments: Vec<String>,
    pub rows: Vec<matrix::Row>,
    pub live: bool,
}

impl Matrix {
    /// The report to write, once `judged` is finished.
    pub fn into_report(self) -> MatrixReport {
        MatrixReport::new(self.judged, self.environments, self.rows, self.live)
    }
}

pub fn matrix(
    context: &Context<'_>,
    project: &Project,
    request: &MatrixRequest<'_>,
) -> Result<Matrix, AppError> {
    let config = &project.config;
    let envs = environments(project, request.envs)?;
    let mut wanted = Vec::with_capacity(envs.len());
    for env in &envs {
        wanted.push(Want {
            env: env.clone(),
            live: live_source(project, env, request)?,
        });
    }
    if request.live
        && wanted.iter().all(|w| w.live.is_none())
        && let Some(first) = envs.first()
    {
        // Asked for live state, and no environment has any: a matrix without it would look
        // as if the clusters had been seen.
        return Err(AppError::NoLiveState {
            env: first.clone(),
            config: config.path.display().to_string(),
        });
    }
    let with_live: Vec<String> = wanted
        .iter()
        .filter(|w| w.live.is_some())
        .map(|w| w.env.clone())
        .collect();
    let mut estate = Estate::load(context, config, request.git_ref, wanted, false)?;
    // Every environment's own history: each cell's since_* is when its current run began.
    estate.read_histories(context, config, &envs)?;
    let pairs: Vec<Pair> = config
        .pairs()
        .into_iter()
        .filter(|p| envs.contains(&p.left) && envs.contains(&p.right))
        .collect();
    let edges: Vec<&Pair> = pairs.iter().filter(|p| p.edge).collect();
    let views_run: Vec<View> = edges
        .iter()
        .map(|pair| View::Parity { pair, live: false })
        .collect();
    // The desired objects (for chart names) as the edges' views read them, so no copy is made
    // for the matrix alone; the live objects as drift reads them.
    let desired_needs: Vec<Need> = envs
        .iter()
        .map(|env| Need {
            env,
            side: Side::Desired,
            scope: Scope::Parity,
            policies: edges
                .iter()
                .find(|p| p.left == *env || p.right == *env)
                .map_or(&project.policies, |p| project.policies_for(p)),
        })
        .collect();
    let live_needs: Vec<Need> = with_live
        .iter()
        .map(|env| Need {
            env,
            side: Side::Live,
            scope: Scope::Drift,
            policies: &project.policies,
        })
        .collect();
    let more = [desired_needs.clone(), live_needs.clone()].concat();
    views::prepare(context, project, &mut estate, &views_run, &more)?;
    context.progress.note(&format!(
        "matrix of {} environments: {} edges",
        envs.len(),
        edges.len()
    ));
    let names: Vec<&str> = envs.iter().map(String::as_str).collect();
    let mut judged = Report::new("matrix", inputs(context, &estate, project, &names));
    for part in views::run(project, &estate, &views_run)? {
        judged.merge(part);
    }
    judged.findings.retain(|f| f.kind == FindingKind::Promotion);
    // What each environment could not render, and with `--live` what its cluster could not
    // show, whether or not an edge reads it.
    let mut seen = Report::new("matrix", Default::default());
    for env in &envs {
        let loaded = estate.env(env)?;
        seen.errors.extend(loaded.errors.iter().cloned());
        if let Some(live) = &loaded.live {
            seen.errors.extend(live.errors.iter().cloned());
        }
    }
    judged.merge(seen);

    let version_paths = config.version_paths();
    let mut charts = Vec::with_capacity(envs.len());
    for need in &desired_needs {
        let inventory = estate.prepared(need)?;
        judged
            .summary
            .resources
            .insert(need.env.to_string(), inventory.len());
        charts.push(matrix::chart_names(&inventory));
    }
    let mut live_versions: Vec<Option<LiveVersions>> = Vec::with_capacity(envs.len());
    for env in &envs {
        let Some(need) = live_needs.iter().find(|n| n.env == env) else {
            live_versions.push(None);
            continue;
        };
        let inventory = estate.prepared(need)?;
        judged
            .summary
            .live_resources
            .insert(env.clone(), inventory.len());
        let state = estate.env(env)?.live.as_ref();
        live_versions.push(Some(LiveVersions {
            versions: version_paths.of_inventory(&inventory),
            unreachable: state.is_some_and(|s| s.unreachable()),
            unseen_kinds: state
                .into_iter()
                .flat_map(|s| s.errors.iter())
                .filter_map(|e| e.resource.as_deref())
                .map(|kind| {
                    let (group, kind) = kind.rsplit_once('/').unwrap_or(("", kind));
                    (group.to_string(), kind.to_string())
                })
                .collect(),
        }));
    }
    let mappings: Vec<Mapping> = pairs
        .iter()
        .map(|pair| Mapping {
            namespaces: pair.namespaces.clone(),
            equivalents: Equivalents::new(&pair.equivalents),
        })
        .collect();
    let position = |env: &str| envs.iter().position(|e| e == env);
    let mut columns = Vec::with_capacity(envs.len());
    for ((env, charts), live) in envs.iter().zip(charts).zip(&live_versions) {
        let upstream = pairs
            .iter()
            .zip(&mappings)
            .find(|(p, _)| p.edge && p.right == *env)
            .and_then(|(pair, mapping)| {
                Some(Upstream {
                    column: position(&pair.left)?,
                    history: estate.history(&pair.left),
                    mapping,
                    max_lag_minutes: pair.max_lag_minutes,
                })
            });
        columns.push(Column {
            env,
            versions: &estate.env(env)?.versions,
            history: estate.history(env),
            upstream,
            charts,
            live: live.as_ref(),
        });
    }
    let peers: Vec<Link> = pairs
        .iter()
        .zip(&mappings)
        .filter(|(p, _)| !p.edge)
        .filter_map(|(pair, mapping)| {
            Some(Link {
                left: position(&pair.left)?,
                right: position(&pair.right)?,
                mapping,
            })
        })
        .collect();
    let rows = matrix::rows(&columns, &peers, estate.now);
    Ok(Matrix {
        judged,
        environments: envs,
        rows,
        live: request.live,
    })
}

/// The environments named (each known, each once), else every one; in promotion order.
fn environments(project: &Project, named: &[String]) -> Result<Vec<String>, AppError> {
    let order = project.config.promotion_order();
    if named.is_empty() {
        return Ok(order);
    }
    for env in named {
        project.environment(env)?;
    }
    Ok(order.into_iter().filter(|e| named.contains(e)).collect())
}

/// With `--live`: an environment named on the command line must have live state (as `parity
/// --live` asks); of all environments (none named), those that configure it.
fn live_source(
    project: &Project,
    env: &str,
    request: &MatrixRequest<'_>,
) -> Result<Option<LiveSource>, AppError> {
    if !request.live {
        return Ok(None);
    }
    if request.envs.is_empty() {
        let configured = project
            .environment(env)?
            .live
            .as_ref()
            .is_some_and(|l| l.snapshot.is_some() || l.context.is_some());
        if !configured {
            return Ok(None);
        }
    }
    LiveSource::resolve(&project.config, env, None, None).map(Some)
}
