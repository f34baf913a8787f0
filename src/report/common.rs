//! What the renderers share: how a finding's scope, resource and values are named in text. Kept
//! apart from `mod.rs` so every format names things the same way.

use super::{Finding, Report};
use serde_json::Value;
use std::fmt::Write;

/// Text made safe for a terminal or a comment: control characters other than tab (an escape
/// sequence can clear the screen or rewrite what was printed, `\r` can hide a line behind another)
/// and Unicode's bidirectional controls (which make text read differently from what it holds)
/// are written as `\u{…}`. Every format shows them this way.
pub(crate) fn visible_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_hidden_control(c) {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// [`visible_controls`] for text of several lines (a message, a tool's output): line breaks stay.
pub(crate) fn visible_controls_keeping_lines(text: &str) -> String {
    text.split('\n')
        .map(visible_controls)
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_hidden_control(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The environments a finding belongs to as one label: `production`, or `staging ↔ production`
/// for a pair.
pub fn scope_label(envs: &[String]) -> String {
    envs.join(" ↔ ")
}

/// Every scope of a report, in order: each environment (in the report's order), then each
/// distinct `envs` of the findings (a pair appears once). A clean environment still has a scope,
/// so a format can say it was compared and found nothing.
pub fn scopes(report: &Report) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for env in report.environment_order() {
        if report.summary.resources.contains_key(&env) {
            out.push(vec![env]);
        }
    }
    for f in &report.findings {
        if !out.contains(&f.envs) {
            out.push(f.envs.clone());
        }
    }
    out
}

/// `apps/Deployment`, or `Service` for the core group.
pub fn kind_label(f: &Finding) -> String {
    let r = &f.resource;
    if r.group.is_empty() {
        r.kind.clone()
    } else {
        format!("{}/{}", r.group, r.kind)
    }
}

/// `shop/api`, or `api` for a cluster-scoped object.
pub fn name_label(f: &Finding) -> String {
    let r = &f.resource;
    match &r.namespace {
        Some(ns) => format!("{ns}/{}", r.name),
        None => r.name.clone(),
    }
}

/// `apps/Deployment shop/api`.
pub fn resource_label(f: &Finding) -> String {
    format!("{} {}", kind_label(f), name_label(f))
}

/// What the two sides of a value are called: Git and live for drift, base and head for a
/// `plumb diff` change (the Markdown names the revisions), the environments otherwise.
pub fn side_labels(f: &Finding) -> (String, String) {
    match f.kind {
        crate::compare::FindingKind::Drift => ("git".into(), "live".into()),
        crate::compare::FindingKind::Change => ("base".into(), "head".into()),
        _ => (
            f.envs.first().cloned().unwrap_or_else(|| "left".into()),
            f.envs.get(1).cloned().unwrap_or_else(|| "right".into()),
        ),
    }
}

/// A value on one line: a plain string as it is, anything else (and a string with control
/// characters) as JSON, with [`visible_controls`]. Long values are cut to `max` characters with a note of what was cut; the
/// JSON report always has them whole. Secret values are fingerprints already.
pub fn inline_value(value: Option<&Value>, max: usize) -> String {
    let text = match value {
        None => return "(absent)".into(),
        Some(Value::String(s)) if !s.chars().any(char::is_control) => visible_controls(s),
        Some(v) => visible_controls(&v.to_string()),
    };
    truncate(&text, max)
}

/// `text` cut to at most `max` characters, saying how many were left out.
pub fn truncate(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept}… ({} more characters)", count - max)
}

/// Both values are strings and at least one spans lines: shown as a line diff.
pub fn multi_line(f: &Finding) -> Option<(&str, &str)> {
    match (f.left.as_ref(), f.right.as_ref()) {
        (Some(Value::String(l)), Some(Value::String(r)))
            if l.contains('\n') || r.contains('\n') =>
        {
            Some((l, r))
        }
        _ => None,
    }
}

/// The lines of a diff between two multi-line values, each prefixed `- `, `+ ` or two spaces,
/// with one line of context around each change.
pub fn line_diff(left: &str, right: &str) -> Vec<String> {
    let diff = similar::TextDiff::from_lines(left, right);
    let mut out = Vec::new();
    for group in diff.grouped_ops(1) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let text = change.value().trim_end_matches('\n');
                let mark = match change.tag() {
                    similar::ChangeTag::Delete => "- ",
                    similar::ChangeTag::Insert => "+ ",
                    similar::ChangeTag::Equal => "  ",
                };
                out.push(format!("{mark}{text}"));
            }
        }
    }
    out
}

/// One line for a field finding: `spec.replicas: staging 2 → production 5`.
pub fn change_line(f: &Finding, max: usize) -> String {
    use crate::diff::ChangeOp;
    let (l, r) = side_labels(f);
    match f.change {
        Some(ChangeOp::Added) => format!("only {r}: {}", inline_value(f.right.as_ref(), max)),
        Some(ChangeOp::Removed) => format!("only {l}: {}", inline_value(f.left.as_ref(), max)),
        Some(ChangeOp::Equal) => format!("both: {}", inline_value(f.right.as_ref(), max)),
        _ => format!(
            "{l}: {} → {r}: {}",
            inline_value(f.left.as_ref(), max),
            inline_value(f.right.as_ref(), max)
        ),
    }
}
