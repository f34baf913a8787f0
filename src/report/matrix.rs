//! The matrix report of `plumb matrix` (docs/report.md, the matrix report): which version runs
//! where, in promotion order, and the promotion findings of the edges between the environments.
//! Its own value, not a [`Report`]: its rows are what it is about; its findings, errors and exit
//! code are those of the report the command judged (the same as `plumb parity` on each edge).
//! Written as JSON here, as a table by `matrix_table`, as Markdown by `matrix_markdown`.

use super::{Counts, Finding, Inputs, Report, Tool, baseline::Resolved};
use crate::compare::matrix::{CellState, Row};
use crate::model::RunError;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct MatrixReport {
    pub version: u32,
    pub tool: Tool,
    pub command: String,
    pub generated_at: String,
    /// In promotion order: the order of every row's cells.
    pub environments: Vec<String>,
    pub rows: Vec<Row>,
    pub inputs: Inputs,
    pub summary: MatrixSummary,
    pub errors: Vec<RunError>,
    /// The promotion findings of the edges among the environments.
    pub findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Vec<Resolved>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MatrixSummary {
    pub rows: usize,
    /// Cells per state, every state named.
    pub cells: BTreeMap<&'static str, usize>,
    /// With `--live`: cells whose cluster runs something else than Git declares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_differs: Option<usize>,
    pub findings: Counts,
    pub complete: bool,
}

impl MatrixReport {
    /// The matrix of `rows` over `environments`, with the findings and errors of `judged` (a
    /// finished report of the command's promotion findings).
    pub fn new(judged: Report, environments: Vec<String>, rows: Vec<Row>, live: bool) -> Self {
        let mut cells: BTreeMap<&'static str, usize> = [
            CellState::Origin,
            CellState::Same,
            CellState::Lag,
            CellState::Unvalidated,
            CellState::Reverted,
            CellState::Absent,
        ]
        .into_iter()
        .map(|s| (s.as_str(), 0))
        .collect();
        let mut live_differs = 0;
        for cell in rows.iter().flat_map(|r| r.cells.values()) {
            *cells.entry(cell.state.as_str()).or_default() += 1;
            live_differs += usize::from(cell.live.as_ref().is_some_and(|l| l.differs));
        }
        MatrixReport {
            version: 1,
            tool: judged.tool,
            command: "matrix".into(),
            generated_at: judged.generated_at,
            environments,
            summary: MatrixSummary {
                rows: rows.len(),
                cells,
                live_differs: live.then_some(live_differs),
                findings: judged.summary.findings,
                complete: judged.summary.complete,
            },
            rows,
            inputs: judged.inputs,
            errors: judged.errors,
            findings: judged.findings,
            resolved: judged.resolved,
        }
    }
}

/// The JSON matrix report.
pub fn json(report: &MatrixReport) -> String {
    // Serializing plain data (strings, numbers, maps with string keys) cannot fail.
    let mut text =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// How a row's object is named in text: `Deployment shop/api`, then the container (`api`), the
/// chart (`chart podinfo`) or, for a `promotion_paths` value, its path.
pub(crate) fn row_label(row: &Row) -> (String, String) {
    let r = &row.resource;
    let object = match &r.namespace {
        Some(ns) => format!("{} {ns}/{}", r.kind, r.name),
        None => format!("{} {}", r.kind, r.name),
    };
    let detail = match (&row.container, &row.chart) {
        (Some(container), _) => container.clone(),
        (None, Some(chart)) => format!("chart {chart}"),
        (None, None) => row.path.clone(),
    };
    (object, detail)
}

/// What the legend and the Markdown table say of each state.
pub(crate) const LEGEND: [(&str, &str); 6] = [
    ("=", "same as upstream"),
    ("<Nd", "lag: upstream has run a newer one for N days"),
    ("!", "unvalidated: upstream never ran it"),
    ("↺", "reverted: upstream rolled it back"),
    ("-", "absent"),
    ("~", "live differs from Git"),
];

/// A cell's state mark (none for `origin`: nothing to compare with).
pub(crate) fn state_mark(cell: &crate::compare::matrix::Cell) -> String {
    match cell.state {
        CellState::Origin => String::new(),
        CellState::Same => "=".into(),
        CellState::Lag => format!("<{}d", cell.lag_days.unwrap_or(0)),
        CellState::Unvalidated => "!".into(),
        CellState::Reverted => "↺".into(),
        CellState::Absent => "-".into(),
    }
}

/// A value as a narrow column shows it: an image by its last path segment and tag or digest
/// (`api:2.4.1`) when every cell of the row names one repository; otherwise with the registry
/// host kept (`ghcr.io/…/api:2.4.1`), so that the difference shows.
pub(crate) fn short_value(row: &Row, value: &str) -> String {
    if !crate::compare::promotion::is_image_path(&row.path) {
        return value.to_string();
    }
    let image = crate::compare::promotion::Image::parse(value);
    let shared = row
        .cells
        .values()
        .filter_map(|c| c.image.as_ref())
        .all(|i| i.repository == image.repository);
    let short = image.short();
    match image.repository.split_once('/') {
        Some((host, _)) if !shared && (host.contains('.') || host.contains(':')) => {
            format!("{host}/…/{short}")
        }
        _ => short,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::compare::matrix::{Cell, RowResource};
    use crate::compare::promotion::Image;

    pub(crate) fn cell(value: Option<&str>, state: CellState) -> Cell {
        Cell {
            value: value.map(str::to_string),
            image: value.map(Image::parse),
            state,
            lag_days: (state == CellState::Lag).then_some(3),
            since_commit: None,
            since_time: None,
            live: None,
        }
    }

    pub(crate) fn row(cells: &[(&str, Cell)]) -> Row {
        Row {
            resource: RowResource {
                group: "apps".into(),
                kind: "Deployment".into(),
                namespace: Some("shop".into()),
                name: "api".into(),
            },
            path: "spec.template.spec.containers[name=api].image".into(),
            container: Some("api".into()),
            chart: None,
            cells: cells
                .iter()
                .map(|(env, cell)| (env.to_string(), cell.clone()))
                .collect(),
        }
    }

    #[test]
    fn registries_are_abbreviated_unless_they_differ_within_the_row() {
        let shared = row(&[
            ("a", cell(Some("ghcr.io/x/api:1"), CellState::Origin)),
            ("b", cell(Some("ghcr.io/x/api:2"), CellState::Lag)),
        ]);
        assert_eq!(short_value(&shared, "ghcr.io/x/api:2"), "api:2");
        let mixed = row(&[
            ("a", cell(Some("ghcr.io/x/api:1"), CellState::Origin)),
            ("b", cell(Some("quay.io/x/api:1"), CellState::Unvalidated)),
        ]);
        assert_eq!(short_value(&mixed, "quay.io/x/api:1"), "quay.io/…/api:1");
        assert_eq!(state_mark(&cell(Some("r/api:1"), CellState::Lag)), "<3d");
    }
}
