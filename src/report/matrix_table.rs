//! The matrix as a terminal table: one line per row, one column per environment in promotion
//! order, each cell its version and a mark for its state (colours on a terminal), a legend, then
//! the promotion findings, what could not be seen, and why the exit code is what it is. Lines
//! fit [`WIDTH`] columns: images lose their registry prefix, long values and names are cut with
//! `…` (the JSON report has them whole). Text read from input has its control characters made
//! visible, as in every format.

use super::common::visible_controls;
use super::matrix::{LEGEND, MatrixReport, row_label, short_value, state_mark};
use super::table::Style;
use crate::compare::matrix::{Cell, CellState, Row};
use std::fmt::Write;

/// The widest line the rows take.
pub const WIDTH: usize = 120;
/// Spaces between columns.
const GAP: usize = 2;
/// The widest the first column gets, and the narrowest it is cut to when environments are many.
const LABEL_MAX: usize = 40;
const LABEL_MIN: usize = 16;

pub fn render(report: &MatrixReport, style: Style) -> String {
    let mut out = String::new();
    let envs = &report.environments;
    let _ = writeln!(
        out,
        "{}",
        style.bold(&visible_controls(&format!(
            "Versions in promotion order: {}{}",
            envs.join(" → "),
            at_commit(report)
        )))
    );
    let labels: Vec<Vec<String>> = report.rows.iter().map(label_forms).collect();
    let texts: Vec<Vec<(String, String)>> = report
        .rows
        .iter()
        .map(|row| {
            envs.iter()
                .map(|env| match row.cells.get(env) {
                    Some(cell) => cell_text(row, cell),
                    None => (String::new(), "-".into()),
                })
                .collect()
        })
        .collect();
    let longest: Vec<String> = labels.iter().filter_map(|l| l.first().cloned()).collect();
    let (label_width, cell_width) = widths(envs, &longest, &texts);
    let mut header = pad(&cut("", label_width), label_width);
    for env in envs {
        header.push_str(&" ".repeat(GAP));
        header.push_str(&pad(&cut(&visible_controls(env), cell_width), cell_width));
    }
    let _ = writeln!(out, "{}", style.bold(header.trim_end()));
    for ((row, label), cells) in report.rows.iter().zip(&labels).zip(&texts) {
        let mut line = pad(&fit_label(label, label_width), label_width);
        for (env, (value, mark)) in envs.iter().zip(cells) {
            let text = fit(value, mark, cell_width);
            let len = text.chars().count();
            line.push_str(&" ".repeat(GAP));
            let state = row.cells.get(env).map_or(CellState::Absent, |c| c.state);
            line.push_str(&paint(style, state, &text));
            line.push_str(&" ".repeat(cell_width - len));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if report.rows.is_empty() {
        let _ = writeln!(out, "(no images, chart versions or promotion_paths values)");
    }
    let legend: Vec<String> = LEGEND
        .iter()
        .map(|(m, what)| format!("{m} {what}"))
        .collect();
    let _ = writeln!(out);
    for line in join_within(&legend, "legend: ", " · ", WIDTH) {
        let _ = writeln!(out, "{}", style.dim(&line));
    }
    if !report.findings.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{} promotion finding(s):", report.findings.len());
        for f in &report.findings {
            let text = visible_controls(&format!(
                "{} {}: {} [{} {}{}]",
                f.resource.kind,
                f.resource
                    .namespace
                    .as_ref()
                    .map_or(f.resource.name.clone(), |ns| format!(
                        "{ns}/{}",
                        f.resource.name
                    )),
                f.message,
                f.status.as_str(),
                f.severity.as_str(),
                f.rule
                    .as_deref()
                    .map(|r| format!(" · {r}"))
                    .unwrap_or_default()
            ));
            for (i, line) in wrap(&text, WIDTH - 4).into_iter().enumerate() {
                let indent = if i == 0 { "  " } else { "    " };
                let painted = match f.severity {
                    crate::policy::Severity::Error => style.red(&line),
                    crate::policy::Severity::Warning => style.yellow(&line),
                    crate::policy::Severity::Info => style.dim(&line),
                };
                let _ = writeln!(out, "{indent}{painted}");
            }
        }
    }
    super::table::write_errors(&mut out, &report.errors, style, WIDTH);
    out
}

/// A row's label, longest first: `Deployment shop/api api`, `shop/api api`, `api api` — a narrow
/// first column drops the kind, then the namespace, before it cuts the name.
fn label_forms(row: &Row) -> Vec<String> {
    let (object, detail) = row_label(row);
    let r = &row.resource;
    let mut forms = vec![format!("{object} {detail}")];
    if let Some(ns) = &r.namespace {
        forms.push(format!("{ns}/{} {detail}", r.name));
    }
    forms.push(format!("{} {detail}", r.name));
    forms.into_iter().map(|f| visible_controls(&f)).collect()
}

/// The longest form of a label that fits `width`, else the shortest cut to it.
fn fit_label(forms: &[String], width: usize) -> String {
    forms
        .iter()
        .find(|f| f.chars().count() <= width)
        .cloned()
        .unwrap_or_else(|| cut(forms.last().map_or("", String::as_str), width))
}

fn at_commit(report: &MatrixReport) -> String {
    match (&report.inputs.git_ref, &report.inputs.commit) {
        (Some(rev), Some(commit)) => format!(
            " (at {rev}, {})",
            crate::compare::promotion::short_commit(commit)
        ),
        _ => String::new(),
    }
}

/// A cell as text: its value made short, and its state's mark (with `~` where live differs).
fn cell_text(row: &Row, cell: &Cell) -> (String, String) {
    let value = cell
        .value
        .as_deref()
        .map(|v| visible_controls(&short_value(row, v)))
        .unwrap_or_default();
    let mut mark = state_mark(cell);
    if cell.live.as_ref().is_some_and(|l| l.differs) {
        mark.push('~');
    }
    (value, mark)
}

/// The first column's width and every environment's, so that a line fits [`WIDTH`]: the first
/// column gives way to the environments down to [`LABEL_MIN`].
fn widths(envs: &[String], labels: &[String], texts: &[Vec<(String, String)>]) -> (usize, usize) {
    let n = envs.len().max(1);
    let longest_label = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let longest_cell = texts
        .iter()
        .flatten()
        .map(|(v, m)| joined_len(v, m))
        .chain(envs.iter().map(|e| e.chars().count()))
        .max()
        .unwrap_or(1);
    let cells_room = |label: usize| WIDTH.saturating_sub(label) / n;
    let mut label = longest_label.clamp(1, LABEL_MAX);
    let wanted = longest_cell + GAP;
    if cells_room(label) < wanted {
        label = WIDTH
            .saturating_sub(wanted * n)
            .clamp(LABEL_MIN.min(label), label);
    }
    let cell = wanted.min(cells_room(label)).saturating_sub(GAP).max(1);
    (label, cell)
}

fn joined_len(value: &str, mark: &str) -> usize {
    let gap = usize::from(!value.is_empty() && !mark.is_empty());
    value.chars().count() + gap + mark.chars().count()
}

/// `value mark` in at most `width` characters: the value is cut, the mark kept.
fn fit(value: &str, mark: &str, width: usize) -> String {
    let gap = if value.is_empty() || mark.is_empty() {
        ""
    } else {
        " "
    };
    let room = width.saturating_sub(mark.chars().count() + gap.len());
    format!("{}{gap}{mark}", cut(value, room))
}

/// `text` in at most `width` characters, cut with `…`.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let kept: String = text.chars().take(width - 1).collect();
    format!("{kept}…")
}

fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(len)))
}

fn paint(style: Style, state: CellState, text: &str) -> String {
    match state {
        CellState::Same => style.green(text),
        CellState::Lag => style.yellow(text),
        CellState::Unvalidated => style.red(text),
        CellState::Reverted => style.magenta(text),
        CellState::Absent => style.dim(text),
        CellState::Origin => text.to_string(),
    }
}

/// `items` joined by `separator` into lines of at most `width` characters, broken only between
/// items; the first line starts with `prefix`.
fn join_within(items: &[String], prefix: &str, separator: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = prefix.to_string();
    let mut empty = true;
    for item in items {
        if !empty && line.chars().count() + separator.chars().count() + item.chars().count() > width
        {
            lines.push(std::mem::take(&mut line));
            empty = true;
        }
        if !empty {
            line.push_str(separator);
        }
        line.push_str(item);
        empty = false;
    }
    lines.push(line);
    lines
}

/// Words into lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let Some(line) = lines.last_mut() else {
            break;
        };
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::matrix::CellState;
    use crate::report::matrix::tests::{cell, row};
    use crate::report::{Inputs, Report};

    fn report(envs: &[&str], rows: Vec<Row>) -> MatrixReport {
        let mut judged = Report::new("matrix", Inputs::default());
        judged.finish();
        MatrixReport::new(
            judged,
            envs.iter().map(|e| e.to_string()).collect(),
            rows,
            false,
        )
    }

    #[test]
    fn six_environments_and_long_values_fit_the_width() {
        let envs = [
            "development",
            "qa",
            "staging-eu",
            "staging-us",
            "production-eu",
            "production-us",
        ];
        let long =
            "registry.example.com/team/a-very-long-service-name:2024.11.18-build.4711-gabcdef";
        let cells: Vec<(&str, Cell)> = envs
            .iter()
            .map(|e| (*e, cell(Some(long), CellState::Same)))
            .collect();
        let mut r = row(&cells);
        r.resource.name = "an-extremely-long-deployment-name-for-a-table".into();
        let text = render(&report(&envs, vec![r]), Style { color: false });
        for line in text.lines().filter(|l| !l.starts_with("Versions")) {
            assert!(
                line.chars().count() <= WIDTH,
                "{} > {WIDTH}: {line}",
                line.len()
            );
        }
        for env in envs {
            assert!(text.contains(&env[..env.len().min(9)]), "{env}: {text}");
        }
        assert!(text.contains("…"), "{text}");
    }

    #[test]
    fn cells_carry_marks_and_colours() {
        let rows = vec![row(&[
            ("staging", cell(Some("r/api:2"), CellState::Origin)),
            ("production", cell(Some("r/api:1"), CellState::Lag)),
            ("prod-eu", cell(Some("r/api:9"), CellState::Unvalidated)),
            ("prod-us", cell(None, CellState::Absent)),
        ])];
        let envs = ["staging", "production", "prod-eu", "prod-us"];
        let plain = render(&report(&envs, rows.clone()), Style { color: false });
        let line = plain
            .lines()
            .find(|l| l.starts_with("Deployment shop/api api"))
            .unwrap();
        assert!(line.contains("api:2 "), "{line}");
        assert!(line.contains("api:1 <3d"), "{line}");
        assert!(line.contains("api:9 !"), "{line}");
        assert!(line.ends_with('-'), "{line}");
        assert!(plain.contains("legend: = same as upstream"), "{plain}");
        assert!(!plain.contains('\x1b'));
        let coloured = render(&report(&envs, rows), Style { color: true });
        assert!(coloured.contains("\x1b[31mapi:9 !"), "{coloured}");
    }
}
