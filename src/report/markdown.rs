//! The pull-request comment: a summary table first, then one collapsible `<details>` section per
//! environment (or pair) with the findings, resource by resource. GitHub refuses a comment over
//! 65,536 characters, so a larger report is split into numbered parts, the summary always in the
//! first, which also says what was split. Every part is measured in bytes, which are never fewer
//! than characters, so each fits either way.
//!
//! Values come from the report, where Secret values are already fingerprints; they are shown in
//! code spans (or a `diff` block when they span lines) so that no value can break the layout or
//! inject HTML, and every other piece of text is escaped.

use super::common::{
    kind_label, line_diff, multi_line, name_label, scope_label, scopes, truncate, visible_controls,
};
use super::table::Show;
use super::{ByChange, FailOn, Finding, Report};
use crate::compare::FindingKind;
use crate::diff::ChangeOp;
use crate::policy::Status;
use std::fmt::Write;

/// GitHub's limit for one comment (GitLab's is larger).
pub const LIMIT: usize = 65_536;
/// Characters of a value shown inline; the JSON report has it whole.
const VALUE_MAX: usize = 200;
/// Room kept in the first part for the note that says what was split.
const NOTICE_RESERVE: usize = 2_000;
/// Stands for the number of parts until it is known; NUL never occurs in escaped text.
const TOTAL: &str = "\u{0}TOTAL\u{0}";
const CLOSE: &str = "</details>\n\n";

/// The comment in parts, each at most [`LIMIT`] bytes; one part when it fits. `expected`
/// findings are listed only when `show` asks for them (`--show`); the summary counts them always.
pub fn render(report: &Report, fail_on: FailOn, show: Show) -> Vec<String> {
    render_with_limit(report, fail_on, show, LIMIT)
}

/// As [`render`], with another limit (tests use small ones). Limits under 8 KiB are raised to it,
/// so the summary and one finding always fit.
pub fn render_with_limit(
    report: &Report,
    fail_on: FailOn,
    show: Show,
    limit: usize,
) -> Vec<String> {
    let limit = limit.max(8 * 1024);
    let title = title(report);
    let head = head(report, fail_on, &title);
    let sections = sections(report, limit, show);

    // Parts hold whole findings; a section cut between parts is closed and opened again.
    let mut parts: Vec<String> = Vec::new();
    // Which sections each part holds, for the note in the first part.
    let mut contents: Vec<Vec<String>> = vec![Vec::new()];
    let mut current = head.clone();
    let mut budget = limit - NOTICE_RESERVE;
    let mut base_len = current.len();
    for section in &sections {
        let mut opened = false;
        let mut last_resource: Option<&str> = None;
        for (index, item) in section.items.iter().enumerate() {
            let header_needed = last_resource != Some(item.resource.as_str());
            let piece_len = if header_needed {
                item.resource.len()
            } else {
                0
            } + item.text.len();
            let open_len = if opened {
                0
            } else {
                section.open(index > 0).len()
            };
            let fits = current.len() + open_len + piece_len + CLOSE.len() <= budget;
            // A part that holds only its head takes the next finding whatever its size (findings
            // are bounded well under the limit), or packing would never end.
            if !fits && current.len() > base_len {
                if opened {
                    current.push_str(CLOSE);
                }
                parts.push(std::mem::take(&mut current));
                contents.push(Vec::new());
                current = continued_head(&title, parts.len() + 1);
                base_len = current.len();
                budget = limit;
                opened = false;
                last_resource = None;
            }
            if !opened {
                current.push_str(&section.open(index > 0));
                let label = if index > 0 {
                    format!("{} (continued)", section.label)
                } else {
                    section.label.clone()
                };
                if let Some(list) = contents.last_mut() {
                    list.push(label);
                }
                opened = true;
            }
            if last_resource != Some(item.resource.as_str()) {
                current.push_str(&item.resource);
                last_resource = Some(item.resource.as_str());
            }
            current.push_str(&item.text);
        }
        if opened {
            current.push_str(CLOSE);
        }
    }
    let hidden = suppressions_section(report);
    if current.len() > base_len && current.len() + hidden.len() > limit {
        parts.push(std::mem::take(&mut current));
        current = continued_head(&title, parts.len() + 1);
    }
    current.push_str(&hidden);
    parts.push(current);

    let total = parts.len();
    if total > 1 {
        let notice = notice(&contents, total);
        if let Some(first) = parts.first_mut() {
            *first = first.replacen(NOTICE_MARK, &notice, 1);
        }
    }
    parts
        .into_iter()
        .map(|p| {
            p.replace(NOTICE_MARK, "")
                .replace(TOTAL, &total.to_string())
        })
        .collect()
}

/// What the policies hid, collapsed at the end: the account in the summary, then a row per rule
/// or waiver that hid something or is flagged (docs/report.md, suppressions).
fn suppressions_section(report: &Report) -> String {
    use super::suppressions::{decided_text, flags, headline, listed};
    let Some(account) = headline(&report.suppressions) else {
        return String::new();
    };
    let mut out = format!(
        "<details><summary><b>Hidden by policy</b> — {}</summary>\n\n",
        html(&account)
    );
    // A list, not a table: its rows would not have the summary table's cells.
    for entry in report.suppressions.iter().filter(|s| listed(s)) {
        let what = match entry.action {
            Some(action) => format!("{} ({action})", md(&entry.label())),
            None => md(&entry.label()),
        };
        let mut parts = vec![what, format!("{}:{}", md(&entry.file), entry.line)];
        let decided = decided_text(entry);
        if !decided.is_empty() {
            parts.push(md(&decided));
        }
        let flags = flags(entry);
        if !flags.is_empty() {
            parts.push(format!("**{}**", md(&flags.join(", "))));
        }
        let _ = writeln!(out, "- {}", parts.join(" · "));
    }
    out.push('\n');
    out.push_str(CLOSE);
    out
}

/// Where the note about splitting goes in the first part (after the status line).
const NOTICE_MARK: &str = "\u{0}NOTICE\u{0}";

fn notice(contents: &[Vec<String>], total: usize) -> String {
    let mut text = format!(
        "> [!NOTE]\n> This report is split into {total} parts, each under {LIMIT} characters (the most one comment can hold). This first part has the summary"
    );
    if contents.first().is_some_and(|c| !c.is_empty()) {
        text.push_str(" and the first findings");
    }
    let _ = write!(text, "; the findings go on in parts 2–{total}:");
    for (n, list) in contents.iter().enumerate().skip(1) {
        if n > 20 {
            let _ = write!(text, "\n> - … and parts {}–{total}", n + 1);
            break;
        }
        let _ = write!(
            text,
            "\n> - part {}: {}",
            n + 1,
            md(&truncate(&list.join(", "), 300))
        );
    }
    // The note must fit the room kept for it, in bytes.
    let room = NOTICE_RESERVE - 100;
    if text.len() > room {
        let mut cut = room;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text.push_str("\n\n");
    text
}

fn title(report: &Report) -> String {
    let names: Vec<String> = report
        .inputs
        .environments
        .iter()
        .map(|e| truncate(&e.name, VALUE_MAX))
        .collect();
    let envs = if report.command == "parity" {
        names.join(" ↔ ")
    } else {
        names.join(", ")
    };
    // `plumb diff`: the revisions first, as the user named them (`main (1a2b3c4) → HEAD (5d6e7f8)`).
    if let Some((base, head)) = revision_labels(report) {
        return format!("plumb diff · {base} → {head} · {envs}");
    }
    if envs.is_empty() {
        format!("plumb {}", report.command)
    } else {
        format!("plumb {} · {envs}", report.command)
    }
}

/// `plumb diff`'s two revisions as the user named them, each with its short commit: `main
/// (1a2b3c4)`, or the short commit alone when that is what was named.
fn revision_labels(report: &Report) -> Option<(String, String)> {
    let base = report.inputs.base.as_ref()?;
    let label = |name: &str, commit: &str| {
        let short: String = commit.chars().take(7).collect();
        if name.is_empty() || commit.starts_with(name) {
            short
        } else {
            format!("{} ({short})", truncate(name, VALUE_MAX))
        }
    };
    let head = label(
        report.inputs.git_ref.as_deref().unwrap_or("HEAD"),
        report.inputs.commit.as_deref().unwrap_or(""),
    );
    Some((label(&base.git_ref, &base.commit), head))
}

fn continued_head(title: &str, part: usize) -> String {
    format!(
        "### {} — part {part} of {TOTAL}\n\nContinued from part {}; the summary is in part 1.\n\n",
        md(title),
        part - 1
    )
}

fn fails(f: &Finding, fail_on: FailOn) -> bool {
    match fail_on {
        FailOn::Severity(threshold) => f.status.gates() && f.severity >= threshold,
        FailOn::Never => false,
    }
}

/// Headlines shown in the comment; the JSON report has them all.
const HEADLINES_MAX: usize = 20;

fn head(report: &Report, fail_on: FailOn, title: &str) -> String {
    let mut out = format!("### {}\n\n", md(title));
    // The most valuable lines of a pull-request comment come first: a change that makes a
    // downstream environment run what its upstream never ran.
    if !report.headlines.is_empty() {
        out.push_str("> [!CAUTION]\n");
        for (n, headline) in report.headlines.iter().enumerate() {
            if n == HEADLINES_MAX {
                let _ = writeln!(
                    out,
                    "> - … and {} more (see the JSON report)",
                    report.headlines.len() - n
                );
                break;
            }
            let _ = writeln!(out, "> - **{}**", md(&truncate(&headline.message, 500)));
        }
        out.push('\n');
    }
    let failing = report.findings.iter().filter(|f| fails(f, fail_on)).count();
    let threshold = match fail_on {
        FailOn::Severity(s) => s.as_str(),
        FailOn::Never => "never",
    };
    if !report.errors.is_empty() {
        out.push_str(
            "⚠️ **Incomplete**: plumb could not see everything (listed below), so this is not a clean result.\n\n",
        );
    }
    if failing > 0 {
        let _ = writeln!(
            out,
            "❌ **{failing} finding(s) fail the run** (`--fail-on {threshold}`).\n"
        );
    } else if report.findings.is_empty() {
        out.push_str("✅ No findings.\n\n");
    } else {
        let _ = writeln!(out, "✅ Nothing fails the run (`--fail-on {threshold}`).\n");
    }
    // Only a run given `--baseline` has `resolved`, and only then says how it compares.
    if let Some(counts) = report.against_baseline() {
        let _ = writeln!(
            out,
            "Against the baseline: {} new, {} recurring, {} resolved.\n",
            counts.new, counts.recurring, counts.resolved
        );
    }
    out.push_str(NOTICE_MARK);

    out.push_str("| | resources | findings | ❌ violation | ❔ unreviewed | 🔕 waived | ✔️ expected | by kind |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---|\n");
    for scope in scopes(report) {
        let findings: Vec<&Finding> = report.findings.iter().filter(|f| f.envs == scope).collect();
        let count = |s: Status| findings.iter().filter(|f| f.status == s).count();
        let resources: Vec<String> = scope
            .iter()
            .map(|e| {
                report
                    .summary
                    .resources
                    .get(e)
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "–".into())
            })
            .collect();
        let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
        for f in &findings {
            *kinds.entry(f.kind.as_str()).or_default() += 1;
        }
        // `plumb diff`'s changes also say what they do to objects and fields.
        let mut ops: std::collections::BTreeMap<&str, usize> = Default::default();
        for f in findings.iter().filter(|f| f.kind == FindingKind::Change) {
            let op = match f.change {
                Some(ChangeOp::Added) => "added",
                Some(ChangeOp::Removed) => "removed",
                _ => "changed",
            };
            *ops.entry(op).or_default() += 1;
        }
        let kinds: Vec<String> = kinds
            .iter()
            .map(|(k, n)| {
                if *k == "change" && !ops.is_empty() {
                    let ops: Vec<String> = ops.iter().map(|(o, n)| format!("{n} {o}")).collect();
                    format!("{n} {k} ({})", ops.join(", "))
                } else {
                    format!("{n} {k}")
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "| **{}** | {} | {} | {} | {} | {} | {} | {} |",
            md(&truncate(&scope_label(&scope), VALUE_MAX)),
            resources.join(" / "),
            findings.len(),
            count(Status::Violation),
            count(Status::Unreviewed),
            count(Status::Waived),
            count(Status::Expected),
            kinds.join(", ")
        );
    }
    out.push('\n');

    closed_section(report, &mut out);
    if !report.errors.is_empty() {
        out.push_str("#### ⚠️ Not seen\n\n");
        for (n, e) in report.errors.iter().enumerate() {
            if n == 50 {
                let _ = writeln!(
                    out,
                    "- … and {} more (see the JSON report)",
                    report.errors.len() - n
                );
                break;
            }
            let what = e.source.as_deref().or(e.resource.as_deref()).unwrap_or("");
            let _ = writeln!(
                out,
                "- **{}** [{}] {}: {}{}",
                md(&truncate(&e.env, VALUE_MAX)),
                md(&truncate(&e.kind, VALUE_MAX)),
                md(&truncate(what, VALUE_MAX)),
                md(&truncate(&e.message, 500)),
                e.unjudged_note()
            );
        }
        out.push('\n');
    }
    out
}

/// Closed gaps shown in the comment; the JSON report has them all.
const CLOSED_MAX: usize = 50;

/// `plumb diff`: the gaps between environments the change closes, one line each.
fn closed_section(report: &Report, out: &mut String) {
    if report.closed.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "#### ✅ Closed by this change ({})\n",
        report.closed.len()
    );
    for (n, gap) in report.closed.iter().enumerate() {
        if n == CLOSED_MAX {
            let _ = writeln!(
                out,
                "- … and {} more (see the JSON report)",
                report.closed.len() - n
            );
            break;
        }
        let r = &gap.resource;
        let kind = if r.group.is_empty() {
            r.kind.clone()
        } else {
            format!("{}/{}", r.group, r.kind)
        };
        let name = match &r.namespace {
            Some(ns) => format!("{ns}/{}", r.name),
            None => r.name.clone(),
        };
        let _ = write!(
            out,
            "- **{}** {} · {}",
            md(&truncate(&kind, VALUE_MAX)),
            code(&truncate(&name, VALUE_MAX)),
            md(&truncate(&gap.kind, VALUE_MAX)),
        );
        if !gap.path.is_empty() {
            let _ = write!(out, " · {}", code(&truncate(&gap.path, VALUE_MAX)));
        }
        if let Some(rule) = &gap.rule {
            let _ = write!(out, " · rule {}", code(&truncate(rule, VALUE_MAX)));
        }
        let _ = writeln!(
            out,
            " ({})",
            md(&truncate(&scope_label(&gap.envs), VALUE_MAX))
        );
    }
    out.push('\n');
}

struct Section {
    label: String,
    summary: String,
    items: Vec<Item>,
}

impl Section {
    fn open(&self, continued: bool) -> String {
        let more = if continued { " (continued)" } else { "" };
        format!(
            "<details><summary><b>{}</b>{more} — {}</summary>\n\n",
            html(&truncate(&self.label, VALUE_MAX)),
            html(&self.summary)
        )
    }
}

/// One finding's text, and the heading of its resource (written once per run of findings on it).
struct Item {
    resource: String,
    text: String,
}

fn sections(report: &Report, limit: usize, show: Show) -> Vec<Section> {
    let mut out = Vec::new();
    for scope in scopes(report) {
        let mut findings: Vec<&Finding> =
            report.findings.iter().filter(|f| f.envs == scope).collect();
        let mut by_status: std::collections::BTreeMap<Status, usize> = Default::default();
        for f in &findings {
            *by_status.entry(f.status).or_default() += 1;
        }
        let total = findings.len();
        // Expected findings are counted, and listed only on `--show` (the summary table above
        // counts them too, so a section of expected findings alone is left out); a diff's changes
        // always are.
        findings.retain(|f| show.lists(f));
        if findings.is_empty() {
            continue;
        }
        // Within a resource, what needs attention first: violations, unreviewed, waived, expected
        // (the sort is stable, so fields keep their order within a status).
        findings.sort_by(|a, b| {
            let key = |f: &Finding| {
                (
                    f.resource.namespace.clone(),
                    f.resource.kind.clone(),
                    f.resource.name.clone(),
                    f.status,
                )
            };
            key(a).cmp(&key(b))
        });
        let hidden = total - findings.len();
        let mut summary = format!(
            "{total} finding(s): {}",
            by_status
                .iter()
                .map(|(s, n)| format!("{n} {}", s.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if hidden > 0 {
            let _ = write!(summary, " ({hidden} expected not listed: --show expected)");
        }
        let items = findings
            .iter()
            .map(|f| Item {
                resource: resource_heading(f),
                text: finding_text(f, &side_labels(report, f), limit / 4),
            })
            .collect();
        out.push(Section {
            label: scope_label(&scope),
            summary,
            items,
        });
    }
    out
}

fn resource_heading(f: &Finding) -> String {
    let source = f
        .source
        .as_ref()
        .map(|s| {
            if s.line > 0 {
                format!(
                    " · {}",
                    code(&format!("{}:{}", truncate(&s.file, VALUE_MAX), s.line))
                )
            } else {
                format!(" · {}", code(&truncate(&s.file, VALUE_MAX)))
            }
        })
        .unwrap_or_default();
    format!(
        "**{}** {}{source}\n\n",
        md(&truncate(&kind_label(f), VALUE_MAX)),
        code(&truncate(&name_label(f), VALUE_MAX))
    )
}

fn status_mark(s: Status) -> &'static str {
    match s {
        Status::Violation => "❌",
        Status::Unreviewed => "❔",
        Status::Waived => "🔕",
        Status::Expected => "✔️",
    }
}

/// One list item; `diff_budget` bounds a multi-line value's diff so one finding always fits a part.
fn finding_text(f: &Finding, sides: &(String, String), diff_budget: usize) -> String {
    let mut out = format!(
        "- {} **{}** · {} · {}",
        status_mark(f.status),
        f.status.as_str(),
        f.severity.as_str(),
        f.kind.as_str()
    );
    match f.by_change {
        Some(ByChange::Introduced) => out.push_str(" · 🆕 **introduced**"),
        Some(ByChange::PreExisting) => out.push_str(" · pre-existing"),
        None => {}
    }
    if let Some(rule) = &f.rule {
        let _ = write!(out, " · rule {}", code(&truncate(rule, VALUE_MAX)));
    }
    if !f.path.is_empty() {
        let _ = write!(out, " · {}", code(&truncate(&f.path, VALUE_MAX)));
        if let Some((left, right)) = multi_line(f) {
            let (l, r) = sides;
            let _ = write!(out, " ({} → {})", md(l), md(r));
            out.push_str("  \n  ");
            out.push_str(&md(&truncate(&f.message, 2_000)));
            out.push('\n');
            let lines: Vec<String> = line_diff(left, right)
                .into_iter()
                .map(|l| visible_controls(&l))
                .collect();
            let fence = "`".repeat(longest_backtick_run(&lines.join("\n")).max(2) + 1);
            let _ = writeln!(out, "\n  {fence}diff");
            let mut used = 0;
            for (n, line) in lines.iter().enumerate() {
                used += line.len() + 3;
                if used > diff_budget {
                    let _ = writeln!(
                        out,
                        "  … {} more line(s), see the JSON report",
                        lines.len() - n
                    );
                    break;
                }
                let _ = writeln!(out, "  {line}");
            }
            let _ = writeln!(out, "  {fence}\n");
            return out;
        }
        out.push_str(": ");
        out.push_str(&value_line(f, sides));
    }
    out.push_str("  \n  ");
    out.push_str(&md(&truncate(&f.message, 2_000)));
    if let Some(by) = &f.changed_by {
        let when = by
            .time
            .as_deref()
            .map(|t| format!(" at {t}"))
            .unwrap_or_default();
        let _ = write!(
            out,
            " · changed by {} ({}){}",
            code(&truncate(&by.manager, VALUE_MAX)),
            md(&truncate(&by.operation, VALUE_MAX)),
            md(&truncate(&when, VALUE_MAX))
        );
    }
    out.push_str("\n\n");
    out
}

/// The two sides' labels (environment names; for a `plumb diff` change, the revisions), cut like
/// every other name: a finding's text stays bounded whatever the input's names, so one finding
/// always fits a part.
fn side_labels(report: &Report, f: &Finding) -> (String, String) {
    if let (FindingKind::Change, Some(revisions)) = (f.kind, revision_labels(report)) {
        return revisions;
    }
    let (l, r) = super::common::side_labels(f);
    (truncate(&l, VALUE_MAX), truncate(&r, VALUE_MAX))
}

/// `staging` `2` → `production` `5`, values in code spans.
fn value_line(f: &Finding, (l, r): &(String, String)) -> String {
    use super::common::inline_value;
    use crate::diff::ChangeOp;
    let value = |v| {
        let text = inline_value(v, VALUE_MAX);
        if text.is_empty() {
            "*(empty)*".to_string()
        } else {
            code(&text)
        }
    };
    match f.change {
        Some(ChangeOp::Added) => format!("only {} {}", md(r), value(f.right.as_ref())),
        Some(ChangeOp::Removed) => format!("only {} {}", md(l), value(f.left.as_ref())),
        Some(ChangeOp::Equal) => format!("the same in both: {}", value(f.right.as_ref())),
        _ => format!(
            "{} {} → {} {}",
            md(l),
            value(f.left.as_ref()),
            md(r),
            value(f.right.as_ref())
        ),
    }
}

fn longest_backtick_run(s: &str) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in s.chars() {
        if c == '`' {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// A code span that holds `text` exactly: its fence is longer than any run of backticks inside,
/// and a space pads a value that starts or ends with a backtick. Line breaks become spaces (the
/// callers pass one-line values).
pub fn code(text: &str) -> String {
    let text = visible_controls(&text.replace(['\n', '\r'], " "));
    let fence = "`".repeat(longest_backtick_run(&text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || text.starts_with(' ') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Text for Markdown: HTML-significant characters as entities, Markdown punctuation escaped, one
/// line — so a name or message can neither break a table nor start markup.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in visible_controls(&text.replace(['\n', '\r'], " ")).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text inside an HTML element (`<summary>`), where Markdown is not read: entities only.
fn html(text: &str) -> String {
    visible_controls(&text.replace(['\n', '\r'], " "))
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::FindingKind;
    use crate::diff::ChangeOp;

    use crate::policy::{Severity, Verdict};
    use crate::report::Inputs;

    fn report(findings: &[(&str, String, String)]) -> Report {
        let mut r = Report::new("parity", Inputs::default());
        for (name, left, right) in findings {
            r.add(
                crate::compare::test_support::field_difference(
                    FindingKind::Parity,
                    ("", "ConfigMap", name),
                    "data.x",
                    Some(left.clone().into()),
                    Some(right.clone().into()),
                ),
                &["staging", "production"],
                Verdict {
                    status: Status::Unreviewed,
                    severity: Severity::Warning,
                    rule: None,
                    note: None,
                },
            );
        }
        r.finish();
        r
    }

    #[test]
    fn code_spans_hold_any_backticks() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a\nb"), "`a b`");
    }

    #[test]
    fn text_cannot_start_markup() {
        assert_eq!(md("<b>|*x*"), "&lt;b&gt;\\|\\*x\\*");
        assert_eq!(html("<a href=\"x\">&"), "&lt;a href=&quot;x&quot;&gt;&amp;");
    }

    #[test]
    fn one_huge_value_is_cut_to_fit_a_part() {
        let big = |c: &str| (0..5_000).map(|i| format!("{c}{i}\n")).collect::<String>();
        let r = report(&[("a", big("l"), big("r")), ("b", "1".into(), "2".into())]);
        let parts = render_with_limit(&r, FailOn::Never, Show::All, 8 * 1024);
        for part in &parts {
            assert!(part.len() <= 8 * 1024, "{}", part.len());
        }
        let all = parts.concat();
        assert!(all.contains("more line(s), see the JSON report"), "{all}");
        assert!(all.contains("`shop/b`"), "the next finding is still shown");
    }

    #[test]
    fn huge_names_are_cut_so_every_part_fits() {
        // Found by tests/fuzz.rs: a 200,000-character object name, path key or rule id made one
        // finding, and so its part, larger than a comment can be.
        let huge = "n".repeat(200_000);
        let mut r = report(&[("a", "1".into(), "2".into())]);
        let f = &mut r.findings[0];
        f.resource.name = huge.clone();
        f.resource.kind = huge.clone();
        f.rule = Some(huge.clone());
        f.envs = vec![huge.clone(), huge.clone()];
        f.source = Some(crate::model::SourceLocation {
            file: huge.clone(),
            line: 1,
        });
        r.inputs.environments = vec![crate::report::EnvironmentInput {
            name: huge.clone(),
            ..Default::default()
        }];
        let parts = render(&r, FailOn::Never, Show::All);
        for part in &parts {
            assert!(part.len() <= LIMIT, "{}", part.len());
        }
        assert!(
            parts[0].contains("more characters)"),
            "names say they were cut"
        );
    }

    #[test]
    fn the_note_about_parts_escapes_section_names() {
        // Found by tests/fuzz.rs: the list of what each part holds wrote environment names raw,
        // control characters and markup included.
        let findings: Vec<(String, String, String)> = (0..200)
            .map(|i| (format!("cfg-{i:03}"), format!("l{i}"), format!("r{i}")))
            .collect();
        let borrowed: Vec<(&str, String, String)> = findings
            .iter()
            .map(|(n, l, r)| (n.as_str(), l.clone(), r.clone()))
            .collect();
        let mut r = report(&borrowed);
        for f in &mut r.findings {
            f.envs = vec!["st\u{3}<b>age".into(), "prod".into()];
        }
        let parts = render_with_limit(&r, FailOn::Never, Show::All, 8 * 1024);
        assert!(parts.len() > 1);
        assert!(
            parts[0].contains("st\\u{0003}&lt;b&gt;age"),
            "{}",
            &parts[0][..3000.min(parts[0].len())]
        );
        assert!(!parts[0].contains('\u{3}') && !parts[0].contains("<b>age"));
    }

    #[test]
    fn many_small_findings_split_with_the_summary_first() {
        let findings: Vec<(String, String, String)> = (0..200)
            .map(|i| {
                (
                    format!("cfg-{i:03}"),
                    format!("left-{i}"),
                    format!("right-{i}"),
                )
            })
            .collect();
        let borrowed: Vec<(&str, String, String)> = findings
            .iter()
            .map(|(n, l, r)| (n.as_str(), l.clone(), r.clone()))
            .collect();
        let parts = render_with_limit(&report(&borrowed), FailOn::Never, Show::All, 8 * 1024);
        let total = parts.len();
        assert!(total >= 3, "{total}");
        assert!(parts[0].contains(&format!("split into {total} parts")));
        assert!(parts[0].contains("| **staging ↔ production** |"));
        for (i, part) in parts.iter().enumerate() {
            assert!(part.len() <= 8 * 1024);
            assert!(!part.contains('\u{0}'), "no placeholder is left");
            if i > 0 {
                assert!(part.contains(&format!("part {} of {total}", i + 1)));
                assert!(part.contains("(continued)"));
            }
        }
        for i in 0..200 {
            assert_eq!(parts.concat().matches(&format!("`left-{i}`")).count(), 1);
        }
    }

    #[test]
    fn changes_count_what_they_do() {
        let mut r = report(&[("a", "1".into(), "2".into()), ("b", "1".into(), "2".into())]);
        for f in &mut r.findings {
            f.kind = FindingKind::Change;
        }
        r.findings[0].change = Some(ChangeOp::Added);
        r.finish();
        let text = render(&r, FailOn::Never, Show::All).concat();
        assert!(text.contains("| 2 change (1 added, 1 changed) |"), "{text}");
    }
}
