//! The matrix as an HTML page (docs/report.md, HTML): environments as columns in promotion order,
//! one row per workload version path, each cell its version and its state as a colour and a symbol
//! (the legend's, readable without colour), a sticky header and a filter by name; then the
//! promotion findings as the findings page shows them, and what could not be seen. Built with the
//! findings page's parts (html.rs); only reads the finished [`MatrixReport`].

use super::html::{self, escape_attr, escape_html};
use super::matrix::{LEGEND, MatrixReport, row_label, short_value, state_mark};
use super::{Report, Summary};
use crate::compare::matrix::{Cell, CellState, Row};
use std::fmt::Write;

pub fn render(report: &MatrixReport, options: &html::Options) -> String {
    // The findings page's parts read a `Report`: the matrix's judged findings, errors and inputs
    // as one (the same ones the matrix JSON carries), never recomputed.
    let judged = Report {
        version: report.version,
        tool: report.tool.clone(),
        command: report.command.clone(),
        generated_at: report.generated_at.clone(),
        inputs: report.inputs.clone(),
        summary: Summary {
            findings: report.summary.findings.clone(),
            complete: report.summary.complete,
            ..Summary::default()
        },
        findings: report.findings.clone(),
        errors: report.errors.clone(),
        suppressions: Vec::new(),
        resolved: report.resolved.clone(),
        closed: Vec::new(),
        headlines: Vec::new(),
    };
    let envs = &report.environments;
    let title = format!("plumb matrix · {}", envs.join(" → "));
    let mut body = String::new();
    let _ = writeln!(body, "<header><h1>{}</h1>", escape_html(&title));
    let _ = writeln!(body, "{}</header><main>", html::run_line(&judged));
    html::write_exit(&mut body, &judged, options);
    let _ = writeln!(
        body,
        "<section aria-labelledby=\"versions\"><h2 id=\"versions\">Versions in promotion order</h2>"
    );
    write_legend(&mut body);
    let _ = writeln!(
        body,
        "<form class=\"filters\" role=\"search\" aria-label=\"Filter workloads\"><label for=\"filter\">Filter by name</label> <input type=\"search\" id=\"filter\" placeholder=\"workload, container, version…\" autocomplete=\"off\"><output id=\"shown\" data-noun=\"rows and findings\" aria-live=\"polite\">{0} of {0} rows and findings shown</output></form>",
        report.rows.len() + report.findings.len()
    );
    write_matrix(&mut body, report);
    let _ = writeln!(body, "</section>");
    html::write_errors(&mut body, &judged);
    html::write_findings(&mut body, &judged, envs, "Promotion findings", false);
    let _ = writeln!(body, "</main>");
    html::page(&title, &body, &html::details_data(&judged))
}

/// Each state's colour sample with its symbol and meaning.
fn write_legend(out: &mut String) {
    let classes = ["same", "lag", "unvalidated", "reverted", "absent", "live"];
    let _ = write!(out, "<ul class=\"legend\" aria-label=\"legend\">");
    for ((mark, meaning), class) in LEGEND.iter().zip(classes) {
        let _ = write!(
            out,
            "<li><span class=\"c-{class}\">{}</span> {}</li>",
            escape_html(mark),
            escape_html(meaning)
        );
    }
    let _ = writeln!(
        out,
        "<li><span>·</span> no mark: the first environment that has it</li></ul>"
    );
}

fn write_matrix(out: &mut String, report: &MatrixReport) {
    let _ = write!(
        out,
        "<div class=\"scroll\"><table class=\"matrix\"><caption class=\"sr\">Versions per environment, in promotion order</caption><thead><tr><th scope=\"col\">workload</th>"
    );
    for env in &report.environments {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape_html(env));
    }
    let _ = writeln!(out, "</tr></thead><tbody>");
    if report.rows.is_empty() {
        let _ = writeln!(
            out,
            "<tr><td colspan=\"{}\">No images, chart versions or promotion_paths values.</td></tr>",
            report.environments.len() + 1
        );
    }
    for row in &report.rows {
        let (object, detail) = row_label(row);
        let _ = write!(
            out,
            "<tr data-row><th scope=\"row\">{} <span class=\"side\">{}</span></th>",
            escape_html(&object),
            escape_html(&detail)
        );
        for env in &report.environments {
            match row.cells.get(env) {
                Some(cell) => write_cell(out, row, cell),
                None => {
                    let _ = write!(
                        out,
                        "<td class=\"c-absent\" title=\"absent\">-<span class=\"sr\"> absent</span></td>"
                    );
                }
            }
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</tbody></table></div>");
}

/// A cell: its version made short (whole in its title), its state's symbol and, for screen
/// readers, the state's word.
fn write_cell(out: &mut String, row: &Row, cell: &Cell) {
    let value = cell.value.as_deref().unwrap_or("");
    let mut mark = state_mark(cell);
    let live = cell.live.as_ref().is_some_and(|l| l.differs);
    if live {
        mark.push('~');
    }
    let mut title = format!("{}: {value}", cell.state.as_str());
    if let Some(l) = cell.live.as_ref().filter(|l| l.differs) {
        let _ = write!(
            title,
            " (live runs {})",
            l.value.as_deref().unwrap_or("nothing")
        );
    }
    let shown = if cell.state == CellState::Absent {
        String::new()
    } else {
        short_value(row, value)
    };
    let _ = write!(
        out,
        "<td class=\"c-{}\" title=\"{}\">{}<span class=\"m\">{}</span><span class=\"sr\"> {}</span></td>",
        cell.state.as_str(),
        escape_attr(&title),
        escape_html(&shown),
        escape_html(&mark),
        cell.state.as_str()
    );
}
