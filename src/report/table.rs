//! The terminal report: a summary table, then each resource's changes, dyff-style — one line per
//! field, multi-line values as a line diff. Everything read from input (names, paths, values,
//! messages, a tool's output) has its control characters made visible before it reaches the
//! terminal: a value may hold an escape sequence that clears the screen or a `\r` that hides what
//! precedes it, and the only escapes the table writes are its own colours.

use super::common::{
    inline_value, kind_label, name_label, visible_controls, visible_controls_keeping_lines,
};
use super::{Finding, Report};
use crate::compare::FindingKind;
use crate::diff::ChangeOp;
use comfy_table::{Cell, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::Value;
use std::fmt::Write;

/// ANSI styling, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub(crate) fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    pub(crate) fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    pub(crate) fn yellow(&self, t: &str) -> String {
        self.paint("33", t)
    }
    pub(crate) fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    pub(crate) fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
    pub(crate) fn magenta(&self, t: &str) -> String {
        self.paint("35", t)
    }
}

pub fn render(report: &Report, style: Style) -> String {
    let mut out = String::new();
    // What the report must say first (`plumb diff`: a change that makes a downstream environment
    // run what its upstream never ran).
    for headline in &report.headlines {
        let _ = writeln!(
            out,
            "{}",
            style.red(&style.bold(&format!("! {}", visible_controls(&headline.message))))
        );
    }
    if !report.headlines.is_empty() {
        let _ = writeln!(out);
    }
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if !style.color {
        table.force_no_tty();
    }
    let live = &report.summary.live_resources;
    let mut header = if live.is_empty() {
        vec!["environment", "resources"]
    } else {
        vec!["environment", "resources in Git", "resources live"]
    };
    // An audit says what it did with each environment: an audit never passes on nothing.
    let audit = report.command == "audit";
    if audit {
        header.push("audited");
    }
    table.set_header(header);
    for env in report.environment_order() {
        let Some(count) = report.summary.resources.get(&env) else {
            continue;
        };
        let mut row = vec![Cell::new(visible_controls(&env)), Cell::new(count)];
        if !live.is_empty() {
            row.push(Cell::new(
                live.get(&env).map_or("-".to_string(), |n| n.to_string()),
            ));
        }
        if audit {
            let input = report.inputs.environments.iter().find(|e| e.name == env);
            let mut done: Vec<String> = Vec::new();
            if input.is_some_and(|e| e.drift) {
                done.push("drift".into());
            }
            done.extend(input.iter().flat_map(|e| e.pairs.iter().cloned()));
            row.push(Cell::new(visible_controls(&done.join(", "))));
        }
        table.add_row(row);
    }
    let _ = writeln!(out, "{table}");

    let counts = &report.summary.findings;
    let join = |m: &std::collections::BTreeMap<&str, usize>| {
        m.iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if counts.total == 0 {
        let _ = writeln!(out, "{}", style.green("No differences."));
    } else {
        let _ = writeln!(
            out,
            "{} finding(s): {} — {}",
            counts.total,
            join(&counts.by_kind),
            join(&counts.by_status)
        );
        let _ = writeln!(out, "by severity: {}", join(&counts.by_severity));
    }
    if let Some(resolved) = &report.resolved {
        let new = report
            .findings
            .iter()
            .filter(|f| f.baseline == Some(super::baseline::BaselineStatus::New))
            .count();
        let _ = writeln!(
            out,
            "against the baseline: {new} new, {} recurring, {} resolved",
            report.findings.len() - new,
            resolved.len()
        );
    }

    let mut current: Option<String> = None;
    for finding in &report.findings {
        let header = resource_header(finding);
        if current.as_deref() != Some(header.as_str()) {
            let _ = writeln!(out);
            let _ = writeln!(out, "{}", style.bold(&header));
            current = Some(header);
        }
        write_finding(&mut out, finding, style);
    }

    if !report.errors.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}",
            style.red("INCOMPLETE — plumb could not see everything:")
        );
        for e in &report.errors {
            let what = e.source.as_deref().or(e.resource.as_deref()).unwrap_or("");
            let _ = writeln!(
                out,
                "  {} [{}] {}: {}{}",
                visible_controls(&e.env),
                visible_controls(&e.kind),
                visible_controls(what),
                visible_controls_keeping_lines(&e.message),
                e.unjudged_note()
            );
        }
    }
    write_suppressions(&mut out, report, style);
    out
}

/// What the policies hid, at the end: one account line, then one line per rule or waiver that
/// hid something or is flagged (unused, broad, expiring) — docs/report.md, suppressions.
fn write_suppressions(out: &mut String, report: &Report, style: Style) {
    let Some(headline) = super::suppressions::headline(&report.suppressions) else {
        return;
    };
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!("hidden by policy: {headline}"))
    );
    for entry in report
        .suppressions
        .iter()
        .filter(|s| super::suppressions::listed(s))
    {
        let what = match entry.action {
            Some(action) => format!("{} ({action})", entry.label()),
            None => entry.label(),
        };
        let mut parts = vec![what, format!("{}:{}", entry.file, entry.line)];
        let decided = super::suppressions::decided_text(entry);
        if !decided.is_empty() {
            parts.push(decided);
        }
        let flags = super::suppressions::flags(entry);
        let line = visible_controls(&format!("  {}", parts.join("  ")));
        if flags.is_empty() {
            let _ = writeln!(out, "{line}");
        } else {
            let flags = style.yellow(&visible_controls(&format!("[{}]", flags.join(", "))));
            let _ = writeln!(out, "{line}  {flags}");
        }
    }
}

fn resource_header(f: &Finding) -> String {
    let source = f
        .source
        .as_ref()
        .map(|s| format!("  ({s})"))
        .unwrap_or_default();
    visible_controls(&format!(
        "{} {} [{}]{source}",
        kind_label(f),
        name_label(f),
        f.envs.join(" ↔ ")
    ))
}

fn tag(f: &Finding, style: Style) -> String {
    let rule = f
        .rule
        .as_deref()
        .map(|r| format!(" · {r}"))
        .unwrap_or_default();
    let new = if f.baseline == Some(super::baseline::BaselineStatus::New) {
        " · new"
    } else {
        ""
    };
    let text = visible_controls(&format!(
        "[{} {} {}{rule}{new}]",
        f.kind.as_str(),
        f.status.as_str(),
        f.severity.as_str()
    ));
    match f.severity {
        crate::policy::Severity::Error => style.red(&text),
        crate::policy::Severity::Warning => style.yellow(&text),
        crate::policy::Severity::Info => style.dim(&text),
    }
}

fn write_finding(out: &mut String, f: &Finding, style: Style) {
    let tag = tag(f, style);
    let message = visible_controls_keeping_lines(&f.message);
    if f.path.is_empty() {
        let _ = writeln!(out, "  {message} {tag}");
        return;
    }
    let path = visible_controls(&f.path);
    let (mark, line) = match f.change {
        Some(ChangeOp::Added) => ("+", format!("{path}: {}", inline(f.right.as_ref()))),
        Some(ChangeOp::Removed) => ("-", format!("{path}: {}", inline(f.left.as_ref()))),
        Some(ChangeOp::Equal) => ("=", format!("{path}: {}", inline(f.right.as_ref()))),
        _ => ("±", path),
    };
    let _ = writeln!(out, "  {mark} {line} {tag}");
    if f.change == Some(ChangeOp::Changed) {
        match (f.left.as_ref(), f.right.as_ref()) {
            (Some(Value::String(l)), Some(Value::String(r)))
                if l.contains('\n') || r.contains('\n') =>
            {
                write_line_diff(out, l, r, style);
            }
            (l, r) => {
                let (left_label, right_label) = side_labels(f);
                let width = left_label.len().max(right_label.len()) + 1;
                let _ = writeln!(
                    out,
                    "      {}",
                    style.red(&format!(
                        "{:width$} {}",
                        format!("{left_label}:"),
                        inline(l)
                    ))
                );
                let _ = writeln!(
                    out,
                    "      {}",
                    style.green(&format!(
                        "{:width$} {}",
                        format!("{right_label}:"),
                        inline(r)
                    ))
                );
            }
        }
    }
    let _ = writeln!(out, "      {}", style.dim(&message));
    if let Some(by) = &f.changed_by {
        let when = by
            .time
            .as_deref()
            .map(|t| format!(" at {t}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "      {}",
            style.dim(&visible_controls(&format!(
                "changed by {} ({}){when}",
                by.manager, by.operation
            )))
        );
    }
}

/// What the two sides of a change are called: Git and live for drift, the environments for parity.
fn side_labels(f: &Finding) -> (String, String) {
    match f.kind {
        FindingKind::Drift => ("git".into(), "live".into()),
        FindingKind::Change => ("base".into(), "head".into()),
        _ => (
            f.envs.first().cloned().unwrap_or_else(|| "left".into()),
            f.envs.get(1).cloned().unwrap_or_else(|| "right".into()),
        ),
    }
}

/// A value on one line, whole (the table never cuts values).
fn inline(value: Option<&Value>) -> String {
    inline_value(value, usize::MAX)
}

fn write_line_diff(out: &mut String, left: &str, right: &str, style: Style) {
    let diff = similar::TextDiff::from_lines(left, right);
    for group in diff.grouped_ops(1) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let text = visible_controls(change.value().trim_end_matches('\n'));
                let line = match change.tag() {
                    similar::ChangeTag::Delete => style.red(&format!("- {text}")),
                    similar::ChangeTag::Insert => style.green(&format!("+ {text}")),
                    similar::ChangeTag::Equal => style.dim(&format!("  {text}")),
                };
                let _ = writeln!(out, "      {line}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::policy::{Severity, Status, Verdict};
    use crate::report::Inputs;

    fn report(left: Value, right: Value) -> Report {
        let mut r = Report::new("parity", Inputs::default());
        r.summary.resources.insert("staging".into(), 1);
        r.add(
            crate::compare::test_support::field_difference(
                FindingKind::Parity,
                ("", "ConfigMap", "cfg"),
                "data.LEVEL",
                Some(left),
                Some(right),
            ),
            &["staging", "production"],
            Verdict {
                status: Status::Unreviewed,
                severity: Severity::Warning,
                rule: None,
                note: None,
            },
        );
        r.finish();
        r
    }

    #[test]
    fn sides_are_labelled_and_plain_without_colour() {
        let text = render(
            &report("debug".into(), "info".into()),
            Style { color: false },
        );
        assert!(
            text.contains("ConfigMap shop/cfg [staging ↔ production]"),
            "{text}"
        );
        assert!(text.contains("staging:    debug"), "{text}");
        assert!(text.contains("production: info"), "{text}");
        assert!(!text.contains('\x1b'), "{text}");
        assert!(
            render(&report("a".into(), "b".into()), Style { color: true }).contains("\x1b[31m")
        );
    }

    #[test]
    fn multi_line_values_are_a_line_diff() {
        let text = render(
            &report("a=1\nb=2\nc=3\n".into(), "a=1\nb=5\nc=3\n".into()),
            Style { color: false },
        );
        assert!(
            text.contains("- b=2") && text.contains("+ b=5") && text.contains("  a=1"),
            "{text}"
        );
    }
}
