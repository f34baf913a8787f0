//! The matrix in Markdown, for a pull request or a wiki page: a title saying whether the run is
//! complete and how many findings gate, one table (a row per version path, a column per
//! environment in promotion order, each cell its version in a code span and its state in
//! words), the legend, the promotion findings and what could not be seen. Values are in code
//! spans and every other text escaped ([`super::markdown::md`]), so input can neither break the
//! table nor start markup. A matrix larger than one comment ([`super::markdown::LIMIT`]) is cut
//! at a row boundary, saying how many rows the JSON report holds beyond it.

use super::FailOn;
use super::markdown::{LIMIT, code, md};
use super::matrix::{MatrixReport, row_label, short_value, state_mark};
use crate::compare::matrix::{Cell, CellState, Row};
use std::fmt::Write;

/// Room kept after the table for the findings, the errors and the note of cut rows.
const TAIL_RESERVE: usize = 16 * 1024;

pub fn render(report: &MatrixReport, fail_on: FailOn) -> String {
    let mut out = String::new();
    let gating = report
        .findings
        .iter()
        .filter(|f| match fail_on {
            FailOn::Severity(threshold) => f.status.gates() && f.severity >= threshold,
            FailOn::Never => false,
        })
        .count();
    let verdict = if !report.summary.complete {
        "incomplete".to_string()
    } else if gating > 0 {
        format!("{gating} finding(s) fail the run")
    } else {
        "in promotion order".to_string()
    };
    let _ = writeln!(out, "## plumb matrix — {}\n", md(&verdict));
    let _ = writeln!(
        out,
        "{} row(s) over {} environment(s), in promotion order: {}.\n",
        report.rows.len(),
        report.environments.len(),
        report
            .environments
            .iter()
            .map(|e| md(e))
            .collect::<Vec<_>>()
            .join(" → ")
    );
    let mut header = "| workload | ".to_string();
    let mut rule = "|---|".to_string();
    for env in &report.environments {
        let _ = write!(header, "{} | ", md(env));
        rule.push_str("---|");
    }
    let _ = writeln!(out, "{}\n{rule}", header.trim_end());
    let mut shown = 0;
    for row in &report.rows {
        let line = row_line(report, row);
        if out.len() + line.len() > LIMIT - TAIL_RESERVE {
            break;
        }
        out.push_str(&line);
        shown += 1;
    }
    if shown < report.rows.len() {
        let _ = writeln!(
            out,
            "\n{} more row(s) did not fit one comment: the JSON report (`-f json`) has them all.",
            report.rows.len() - shown
        );
    }
    let _ = writeln!(
        out,
        "\nStates: **same** as upstream · **lag** (upstream has run a newer one for N days) · **unvalidated** (upstream never ran it) · **reverted** (upstream rolled it back) · **absent** · no state: nothing upstream to compare with. *live differs*: the cluster runs something else."
    );
    if !report.findings.is_empty() {
        let _ = writeln!(out, "\n### Promotion findings\n");
        for f in &report.findings {
            let object = match &f.resource.namespace {
                Some(ns) => format!("{} {ns}/{}", f.resource.kind, f.resource.name),
                None => format!("{} {}", f.resource.kind, f.resource.name),
            };
            let _ = writeln!(
                out,
                "- **{} {}** {}: {}",
                md(f.status.as_str()),
                md(f.severity.as_str()),
                code(&object),
                md(&f.message)
            );
        }
    }
    if !report.errors.is_empty() {
        let _ = writeln!(out, "\n### Incomplete: plumb could not see everything\n");
        for e in &report.errors {
            let what = e.source.as_deref().or(e.resource.as_deref()).unwrap_or("");
            let _ = writeln!(
                out,
                "- {} \\[{}\\] {}: {}{}",
                md(&e.env),
                md(&e.kind),
                code(what),
                md(&e.message),
                md(&e.unjudged_note())
            );
        }
    }
    out
}

fn row_line(report: &MatrixReport, row: &Row) -> String {
    let (object, detail) = row_label(row);
    let mut line = format!("| {} {} |", table_code(&object), md(&detail));
    for env in &report.environments {
        let text = row
            .cells
            .get(env)
            .map(|cell| cell_text(row, cell))
            .unwrap_or_else(|| "—".into());
        let _ = write!(line, " {text} |");
    }
    line.push('\n');
    line
}

fn cell_text(row: &Row, cell: &Cell) -> String {
    let Some(value) = &cell.value else {
        return "— absent".into();
    };
    let mut text = table_code(&short_value(row, value));
    match cell.state {
        CellState::Origin => {}
        CellState::Lag => {
            let _ = write!(text, " lag {}", state_mark(cell).trim_start_matches('<'));
        }
        state => {
            let _ = write!(text, " {}", state.as_str());
        }
    }
    if let Some(live) = cell.live.as_ref().filter(|l| l.differs) {
        let running = live
            .value
            .as_deref()
            .map(|v| table_code(&short_value(row, v)))
            .unwrap_or_else(|| "nothing".into());
        let _ = write!(text, " · *live differs*: {running}");
    }
    text
}

/// A code span that cannot end a table cell: `|` escaped, as GitHub reads it inside tables.
fn table_code(text: &str) -> String {
    code(text).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::matrix::LiveCell;
    use crate::report::matrix::tests::{cell, row};
    use crate::report::{Inputs, Report};

    #[test]
    fn a_markdown_table_with_states_in_words_and_escaped_values() {
        let mut live = cell(Some("r/api:1"), CellState::Lag);
        live.live = Some(LiveCell {
            value: Some("r/api:0".into()),
            differs: true,
        });
        let rows = vec![row(&[
            ("staging", cell(Some("r/api:2|x"), CellState::Origin)),
            ("production", live),
            ("prod-eu", cell(None, CellState::Absent)),
        ])];
        let mut judged = Report::new("matrix", Inputs::default());
        judged.finish();
        let report = MatrixReport::new(
            judged,
            vec!["staging".into(), "production".into(), "prod-eu".into()],
            rows,
            true,
        );
        let text = render(&report, FailOn::Never);
        assert!(
            text.contains("| workload | staging | production | prod-eu |"),
            "{text}"
        );
        assert!(text.contains("|---|---|---|---|"), "{text}");
        assert!(
            text.contains(
                "| `Deployment shop/api` api | `api:2\\|x` | `api:1` lag 3d · *live differs*: `api:0` | — absent |"
            ),
            "{text}"
        );
    }
}
