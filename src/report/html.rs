//! The HTML report (docs/report.md, HTML): one self-contained page people open from a CI artifact
//! instead of reading logs — an overview per environment and pair, the exit code and why (the
//! table's own sentence), the findings grouped as the table groups them (what fails the run first,
//! `expected` ones collapsed), trends against a baseline, what the policies hid, and a text filter
//! with status, severity and environment toggles.
//!
//! The CSS and JavaScript are inlined from src/report/html/, so the file works offline and makes no
//! request. Every finding has its row and `id="f-<finding id>"` in the static HTML; the JavaScript
//! only filters rows and builds a finding's details (message, whole values, sources, who changed
//! it) when opened, from one JSON block. Everything read from input is escaped here
//! ([`escape_html`]) and in the JSON block (`<` as `\u003c`), so no value can open a tag or close
//! the script. Like every writer, this one only reads a finished report: no I/O, no clock — ages
//! are counted from the report's own `generated_at`, so the file reads the same tomorrow.

use super::common::{
    inline_value, name_label, scope_label, visible_controls, visible_controls_keeping_lines,
};
use super::table::{self, Show};
use super::{FailOn, Finding, Report, baseline::BaselineStatus};
use crate::exit::Exit;
use crate::policy::Status;
use serde_json::{Map, Value, json};
use std::fmt::Write;

/// The page's stylesheet and script, inlined into every page.
pub(crate) const STYLE: &str = include_str!("html/style.css");
pub(crate) const SCRIPT: &str = include_str!("html/script.js");

/// Characters of a value shown in its row; its details show it whole (up to [`DETAIL_MAX`]).
const ROW_VALUE_MAX: usize = 200;
/// Characters of a value in a finding's details; the JSON report has it whole.
const DETAIL_MAX: usize = 4000;

/// What the page needs besides the report: the `--fail-on` (and `--fail-on-new`) its exit line
/// explains, as the table's does.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub fail_on: FailOn,
    pub only_new: bool,
}

/// Text safe as an element's content: `&`, `<` and `>` as entities, and control characters made
/// visible as every format shows them. Quotes stay (values are full of them): for an attribute's
/// value use [`escape_attr`].
pub fn escape_html(text: &str) -> String {
    escape(text, false)
}

/// Text safe inside a quoted attribute value: [`escape_html`], and both quotes as entities.
pub fn escape_attr(text: &str) -> String {
    escape(text, true)
}

fn escape(text: &str, attribute: bool) -> String {
    let text = visible_controls(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON safe inside `<script type="application/json">`: every `<` as `\u003c`, so neither
/// `</script>` nor `<!--` can appear in it.
pub fn script_json(value: &Value) -> String {
    value.to_string().replace('<', "\\u003c")
}

/// The findings report as one HTML page.
pub fn render(report: &Report, options: &Options) -> String {
    let mut body = String::new();
    let envs = report.environment_order();
    let title = page_title(report);
    let _ = writeln!(body, "<header><h1>{}</h1>", escape_html(&title));
    let _ = writeln!(body, "{}</header>", run_line(report));
    let _ = writeln!(body, "<main>");
    write_headlines(&mut body, report);
    write_exit(&mut body, report, options);
    write_overview(&mut body, report);
    write_errors(&mut body, report);
    write_trends(&mut body, report);
    write_findings(&mut body, report, &envs, "Findings", true);
    write_suppressions(&mut body, report);
    let _ = writeln!(body, "</main>");
    page(&title, &body, &details_data(report))
}

/// `plumb parity · staging ↔ production`.
fn page_title(report: &Report) -> String {
    let envs = report.environment_order();
    if envs.is_empty() {
        format!("plumb {}", report.command)
    } else {
        format!("plumb {} · {}", report.command, envs.join(" ↔ "))
    }
}

/// The revision and time of the run, under the title.
pub(crate) fn run_line(report: &Report) -> String {
    let inputs = &report.inputs;
    let mut parts = Vec::new();
    if let Some(base) = &inputs.base {
        parts.push(format!(
            "{} ({}) → ",
            base.git_ref,
            crate::compare::promotion::short_commit(&base.commit)
        ));
    }
    match (&inputs.git_ref, &inputs.commit) {
        (Some(rev), Some(commit)) => parts.push(format!(
            "at {rev} ({})",
            crate::compare::promotion::short_commit(commit)
        )),
        (Some(rev), None) => parts.push(format!("at {rev}")),
        _ => {}
    }
    parts.push(format!(
        " · generated {} · plumb {}",
        report.generated_at, report.tool.version
    ));
    format!("<p class=\"run\">{}</p>", escape_html(&parts.concat()))
}

fn write_headlines(out: &mut String, report: &Report) {
    if report.headlines.is_empty() {
        return;
    }
    let _ = writeln!(out, "<section class=\"headlines\" role=\"alert\"><ul>");
    for headline in &report.headlines {
        let _ = writeln!(
            out,
            "<li><a href=\"#f-{}\">{}</a></li>",
            escape_attr(&headline.finding),
            escape_html(&headline.message)
        );
    }
    let _ = writeln!(out, "</ul></section>");
}

/// The exit code and why, in the table's own words (`exit 1: 2 error violations (…) at or above
/// --fail-on error`).
pub(crate) fn write_exit(out: &mut String, report: &Report, options: &Options) {
    let table_options = table::Options {
        fail_on: options.fail_on,
        only_new: options.only_new,
        ..table::Options::plain()
    };
    let (exit, line) = table::exit_line(report, &table_options);
    let class = match exit {
        Exit::Clean => "exit clean",
        Exit::Findings => "exit findings",
        _ => "exit incomplete",
    };
    let _ = writeln!(
        out,
        "<p class=\"{class}\" id=\"exit\"><strong>{}</strong></p>",
        escape_html(&line)
    );
}

/// One row per environment and per pair: resources, findings by status and severity, what could
/// not be seen there.
fn write_overview(out: &mut String, report: &Report) {
    const STATUSES: [&str; 4] = ["violation", "unreviewed", "waived", "expected"];
    const SEVERITIES: [&str; 3] = ["error", "warning", "info"];
    let live = !report.summary.live_resources.is_empty();
    let _ = writeln!(
        out,
        "<section aria-labelledby=\"overview\"><h2 id=\"overview\">Overview</h2>"
    );
    let _ = write!(
        out,
        "<div class=\"scroll\"><table class=\"overview\"><thead><tr><th scope=\"col\">environment or pair</th><th scope=\"col\">resources</th>"
    );
    if live {
        let _ = write!(out, "<th scope=\"col\">live</th>");
    }
    for name in STATUSES.iter().chain(SEVERITIES.iter()) {
        let _ = write!(out, "<th scope=\"col\">{name}</th>");
    }
    let _ = writeln!(
        out,
        "<th scope=\"col\">complete</th><th scope=\"col\">could not see</th></tr></thead><tbody>"
    );
    for scope in super::common::scopes(report) {
        let findings: Vec<&Finding> = report.findings.iter().filter(|f| f.envs == scope).collect();
        let count = |f: &dyn Fn(&Finding) -> bool| findings.iter().filter(|x| f(x)).count();
        let resources = match scope.as_slice() {
            [env] => report
                .summary
                .resources
                .get(env)
                .map_or(String::new(), usize::to_string),
            _ => String::new(),
        };
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{resources}</td>",
            escape_html(&scope_label(&scope))
        );
        if live {
            let text = match scope.as_slice() {
                [env] => report
                    .summary
                    .live_resources
                    .get(env)
                    .map_or(String::new(), usize::to_string),
                _ => String::new(),
            };
            let _ = write!(out, "<td>{text}</td>");
        }
        for status in STATUSES {
            let _ = write!(out, "<td>{}</td>", count(&|f| f.status.as_str() == status));
        }
        for severity in SEVERITIES {
            let _ = write!(
                out,
                "<td>{}</td>",
                count(&|f| f.status != Status::Expected && f.severity.as_str() == severity)
            );
        }
        let unseen: Vec<String> = report
            .errors
            .iter()
            .filter(|e| scope.contains(&e.env))
            .map(|e| {
                let what = e.source.as_deref().or(e.resource.as_deref()).unwrap_or("");
                format!("{} {what}", e.kind).trim().to_string()
            })
            .collect();
        let complete = if unseen.is_empty() {
            "<td class=\"ok\">✓ yes</td>"
        } else {
            "<td class=\"bad\">✗ no</td>"
        };
        let _ = writeln!(
            out,
            "{complete}<td>{}</td></tr>",
            escape_html(&unseen.join("; "))
        );
    }
    let _ = writeln!(out, "</tbody></table></div>");
    let counts = &report.summary.findings;
    let _ = writeln!(
        out,
        "<p>{} in all; severities count findings that are not <code>expected</code>.</p></section>",
        plural(counts.total, "finding")
    );
}

pub(crate) fn write_errors(out: &mut String, report: &Report) {
    if report.errors.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section aria-labelledby=\"unseen\"><h2 id=\"unseen\">Incomplete: what plumb could not see</h2><div class=\"scroll\"><table><thead><tr><th scope=\"col\">environment</th><th scope=\"col\">kind</th><th scope=\"col\">what</th><th scope=\"col\">message</th></tr></thead><tbody>"
    );
    for e in &report.errors {
        let what = e.source.as_deref().or(e.resource.as_deref()).unwrap_or("");
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><pre>{}{}</pre></td></tr>",
            escape_html(&e.env),
            escape_html(&e.kind),
            escape_html(what),
            escape_multiline(&e.message),
            escape_html(&e.unjudged_note())
        );
    }
    let _ = writeln!(out, "</tbody></table></div></section>");
}

/// With a baseline: how many findings are new, recurring and resolved, and the resolved ones.
fn write_trends(out: &mut String, report: &Report) {
    let (Some(counts), Some(resolved)) = (report.against_baseline(), &report.resolved) else {
        return;
    };
    let _ = writeln!(
        out,
        "<section aria-labelledby=\"trends\"><h2 id=\"trends\">Against the baseline</h2><p class=\"trend\"><span class=\"new\">{} new</span> · {} recurring · {} resolved</p>",
        counts.new, counts.recurring, counts.resolved
    );
    if !resolved.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} resolved since the baseline</summary><div class=\"scroll\"><table><thead><tr><th scope=\"col\">environments</th><th scope=\"col\">object</th><th scope=\"col\">field</th><th scope=\"col\">kind</th><th scope=\"col\">first seen</th></tr></thead><tbody>",
            plural(resolved.len(), "finding")
        );
        for r in resolved {
            let object = match &r.resource.namespace {
                Some(ns) => format!("{} {ns}/{}", r.resource.kind, r.resource.name),
                None => format!("{} {}", r.resource.kind, r.resource.name),
            };
            let _ = writeln!(
                out,
                "<tr data-resolved=\"{}\"><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape_attr(&r.id),
                escape_html(&scope_label(&r.envs)),
                escape_html(&object),
                escape_html(&r.path),
                escape_html(&r.kind),
                escape_html(&age(report, r.first_seen.as_deref()))
            );
        }
        let _ = writeln!(out, "</tbody></table></div></details>");
    }
    let _ = writeln!(out, "</section>");
}

/// `first seen 2026-11-20 (7 days before this run)`, counted from the report's `generated_at`.
fn age(report: &Report, first_seen: Option<&str>) -> String {
    let Some(first) = first_seen else {
        return String::new();
    };
    let day = |t: &str| crate::timestamp::parse_date(t.get(..10).unwrap_or(t));
    match (day(first), day(&report.generated_at)) {
        (Some(then), Some(now)) if now > then => {
            format!(
                "{} ({} before this run)",
                &first[..10],
                plural((now - then) as usize, "day")
            )
        }
        (Some(_), Some(_)) => format!("{} (this run's day)", &first[..10]),
        _ => first.to_string(),
    }
}

/// The filters, then the findings: those the table lists in its triage order and grouping, then
/// the `expected` ones in a collapsed section. Shared with the matrix page (its promotion
/// findings).
/// `filters`: whether the findings have their own filters (the matrix page filters its rows and
/// findings with one).
pub(crate) fn write_findings(
    out: &mut String,
    report: &Report,
    envs: &[String],
    heading: &str,
    filters: bool,
) {
    let _ = writeln!(
        out,
        "<section aria-labelledby=\"findings\"><h2 id=\"findings\">{}</h2>",
        escape_html(heading)
    );
    if report.findings.is_empty() {
        let _ = writeln!(out, "<p class=\"ok\">✓ No differences.</p></section>");
        return;
    }
    if filters {
        write_filters(out, report, envs);
    }
    let (listed, expected): (Vec<&Finding>, Vec<&Finding>) =
        report.findings.iter().partition(|f| Show::Triage.lists(f));
    if listed.is_empty() {
        let _ = writeln!(out, "<p>Nothing needs a decision.</p>");
    } else {
        write_finding_table(out, report, listed, "listed");
    }
    if !expected.is_empty() {
        let _ = writeln!(
            out,
            "<details class=\"expected\"><summary>{} expected (accepted by policy)</summary>",
            plural(expected.len(), "finding")
        );
        write_finding_table(out, report, expected, "expected");
        let _ = writeln!(out, "</details>");
    }
    let _ = writeln!(out, "</section>");
}

/// A text filter, and toggles for every status, severity and environment the findings have.
fn write_filters(out: &mut String, report: &Report, envs: &[String]) {
    let _ = writeln!(
        out,
        "<form class=\"filters\" role=\"search\" aria-label=\"Filter findings\"><label for=\"filter\">Filter</label> <input type=\"search\" id=\"filter\" placeholder=\"object, field, value, rule…\" autocomplete=\"off\">"
    );
    let mut groups: Vec<(&str, &str, Vec<String>)> = vec![
        (
            "status",
            "s",
            ["violation", "unreviewed", "waived", "expected"]
                .iter()
                .filter(|s| report.findings.iter().any(|f| f.status.as_str() == **s))
                .map(|s| s.to_string())
                .collect(),
        ),
        (
            "severity",
            "v",
            ["error", "warning", "info"]
                .iter()
                .filter(|s| report.findings.iter().any(|f| f.severity.as_str() == **s))
                .map(|s| s.to_string())
                .collect(),
        ),
    ];
    let present: Vec<String> = envs
        .iter()
        .filter(|e| report.findings.iter().any(|f| f.envs.contains(e)))
        .cloned()
        .collect();
    if present.len() > 1 {
        groups.push(("environment", "e", present));
    }
    for (legend, key, values) in groups {
        let _ = write!(out, "<fieldset><legend>{legend}</legend>");
        for value in values {
            let _ = write!(
                out,
                "<label><input type=\"checkbox\" checked data-toggle=\"{key}\" value=\"{}\"> {}</label>",
                escape_attr(&value),
                escape_html(&value)
            );
        }
        let _ = writeln!(out, "</fieldset>");
    }
    let _ = writeln!(
        out,
        "<output id=\"shown\" aria-live=\"polite\">{0} of {0} findings shown</output></form>",
        report.findings.len()
    );
}

/// The table's entries as row groups: a header naming the object (or the objects of an entry of
/// alike findings), then one row per finding.
fn write_finding_table(out: &mut String, report: &Report, findings: Vec<&Finding>, class: &str) {
    let layout = Layout::of(report, &findings);
    let columns = if layout.trends { 6 } else { 5 };
    let values = match &layout.sides {
        Some((l, r)) => format!("values: {l} · {r}"),
        None => "values".into(),
    };
    let _ = write!(
        out,
        "<div class=\"scroll\"><table class=\"findings {class}\" data-implied=\"{}\"><thead><tr><th scope=\"col\">finding</th><th scope=\"col\">object</th><th scope=\"col\">field</th><th scope=\"col\">{}</th><th scope=\"col\">rule</th>",
        escape_attr(&layout.implied.join(" ")),
        escape_html(&values)
    );
    if layout.trends {
        let _ = write!(out, "<th scope=\"col\">trend</th>");
    }
    let _ = writeln!(out, "</tr></thead>");
    let mut current: Option<String> = None;
    let mut open = false;
    for entry in table::entries(report, findings) {
        let header = match entry.as_slice() {
            [f] => table::resource_header(f, &layout.implied),
            many => table::group_header(many, &layout.implied, false),
        };
        if current.as_deref() != Some(header.as_str()) || entry.len() > 1 {
            if open {
                let _ = writeln!(out, "</tbody>");
            }
            let _ = writeln!(
                out,
                "<tbody><tr class=\"eh\"><th colspan=\"{columns}\" scope=\"rowgroup\">{}</th></tr>",
                escape_html(&header)
            );
            open = true;
        }
        current = (entry.len() == 1).then_some(header);
        for f in entry {
            write_finding_row(out, report, f, &layout);
        }
    }
    if open {
        let _ = writeln!(out, "</tbody>");
    }
    let _ = writeln!(out, "</table></div>");
}

/// The environments a row need not name: those every finding shares, else the report's own (as
/// the table's headers).
fn implied_envs(report: &Report) -> Vec<String> {
    let shared = report
        .findings
        .first()
        .map(|f| &f.envs)
        .filter(|envs| report.findings.iter().all(|f| &f.envs == *envs));
    shared
        .cloned()
        .unwrap_or_else(|| report.environment_order())
}

/// One finding's row, kept small (a page of 5,000 findings stays under 2 MB): its status and
/// severity as classes the filters read and the stylesheet colours by, its environments only
/// when they are not its table's; the details button is added by the script.
fn write_finding_row(out: &mut String, report: &Report, f: &Finding, layout: &Layout) {
    let _ = write!(
        out,
        "<tr id=\"f-{}\" class=\"{} {}\"",
        escape_attr(&f.id),
        f.status.as_str(),
        f.severity.as_str(),
    );
    if f.envs != layout.implied {
        let _ = write!(out, " data-e=\"{}\"", escape_attr(&f.envs.join(" ")));
    }
    let _ = write!(
        out,
        "><td>{} <b>{}</b> {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
        status_mark(f.status),
        f.severity.as_str(),
        f.kind.as_str(),
        escape_html(&name_label(f)),
        escape_html(&f.path),
        values_cell(f, layout.sides.is_some()),
        escape_html(f.rule.as_deref().unwrap_or("")),
    );
    if layout.trends {
        let text = match f.baseline {
            Some(BaselineStatus::New) => "<span class=\"new\">new</span>".to_string(),
            Some(BaselineStatus::Recurring) => {
                let days = f
                    .first_seen
                    .as_deref()
                    .and_then(|t| days_between(t, &report.generated_at));
                match days {
                    Some(d) => format!("recurring, {}", plural(d, "day")),
                    None => "recurring".into(),
                }
            }
            None => String::new(),
        };
        let _ = write!(out, "<td>{text}</td>");
    }
    let _ = writeln!(out, "</tr>");
}

/// What a findings table's rows share: the environments rows need not name, the two sides'
/// labels when every finding has the same (then in the column's header, not each row), whether
/// there is a trend column.
struct Layout {
    implied: Vec<String>,
    sides: Option<(String, String)>,
    trends: bool,
}

impl Layout {
    fn of(report: &Report, findings: &[&Finding]) -> Self {
        let sides = findings
            .first()
            .map(|f| super::common::side_labels(f))
            .filter(|first| {
                findings
                    .iter()
                    .all(|f| super::common::side_labels(f) == *first)
            });
        Layout {
            implied: implied_envs(report),
            sides,
            trends: report.resolved.is_some(),
        }
    }
}

fn days_between(from: &str, to: &str) -> Option<usize> {
    let day = |t: &str| crate::timestamp::parse_date(t.get(..10)?);
    let (a, b) = (day(from)?, day(to)?);
    usize::try_from(b - a).ok()
}

/// The status as a word with a symbol, readable without colour.
fn status_mark(status: Status) -> &'static str {
    match status {
        Status::Violation => "✖ violation",
        Status::Unreviewed => "● unreviewed",
        Status::Waived => "◌ waived",
        Status::Expected => "✓ expected",
    }
}

/// Both values, labelled with their sides (`git 1 → live 3`, `staging 1 · production 3`) unless
/// the column's header names them, each cut to [`ROW_VALUE_MAX`]; fingerprints as the report
/// holds them.
fn values_cell(f: &Finding, unlabelled: bool) -> String {
    use crate::diff::ChangeOp;
    let (l, r) = super::common::side_labels(f);
    let value = |v: Option<&Value>| escape_html(&inline_value(v, ROW_VALUE_MAX));
    let side = |label: &str, v: Option<&Value>| {
        if unlabelled && !label.starts_with("only ") && label != "both" {
            value(v)
        } else {
            format!("<i>{}</i> {}", escape_html(label), value(v))
        }
    };
    if f.left.is_none() && f.right.is_none() {
        return String::new();
    }
    // Values of several lines: their line diff, in the details.
    if let Some((left, right)) = super::common::multi_line(f) {
        let changed = super::common::line_diff(left, right)
            .iter()
            .filter(|l| !l.starts_with("  "))
            .count();
        return format!(
            "<i>{} lines · {} changed lines: see details</i>",
            left.lines().count().max(right.lines().count()),
            changed
        );
    }
    match f.change {
        Some(ChangeOp::Added) => side(&format!("only {r}"), f.right.as_ref()),
        Some(ChangeOp::Removed) => side(&format!("only {l}"), f.left.as_ref()),
        Some(ChangeOp::Equal) => side("both", f.right.as_ref()),
        _ => {
            let arrow = if matches!(
                f.kind,
                crate::compare::FindingKind::Drift | crate::compare::FindingKind::Change
            ) {
                "→"
            } else {
                "·"
            };
            format!(
                "{} <i>{arrow}</i> {}",
                side(&l, f.left.as_ref()),
                side(&r, f.right.as_ref())
            )
        }
    }
}

/// What a finding's details show, by id, for the script to build when opened: what its message
/// says beyond its values (the table's rule), values the row cut, whole, where Git declares it,
/// who changed it, its promotion and baseline facts. Short keys, and nothing the row already
/// shows: this is a large part of a page of 5,000 findings.
pub(crate) fn details_data(report: &Report) -> Value {
    let mut details = Map::new();
    // Files are named once, in `files`; a source is `[index, line]` (line 0: unknown).
    let mut files: Vec<String> = Vec::new();
    let mut file_index: std::collections::HashMap<String, usize> = Default::default();
    let mut source_of = |source: &crate::model::SourceLocation| -> Value {
        let next = file_index.len();
        let index = *file_index.entry(source.file.clone()).or_insert_with(|| {
            files.push(visible_controls(&source.file));
            next
        });
        json!([index, source.line])
    };
    for f in &report.findings {
        let mut d = Map::new();
        if let Some(message) = table::what_the_values_do_not_say(f) {
            d.insert("m".into(), json!(visible_controls(message)));
        }
        let (l, r) = super::common::side_labels(f);
        if let Some((left, right)) = super::common::multi_line(f) {
            let diff = super::common::line_diff(left, right).join("\n");
            d.insert(
                "d".into(),
                json!([
                    format!("- {l} + {r}"),
                    super::common::truncate(&visible_controls_keeping_lines(&diff), DETAIL_MAX)
                ]),
            );
        } else {
            // Values the row cut, whole (up to DETAIL_MAX); the row shows the others whole.
            for (key, label, value) in [("l", l, &f.left), ("r", r, &f.right)] {
                if let Some(v) = value
                    && inline_value(Some(v), ROW_VALUE_MAX) != inline_value(Some(v), DETAIL_MAX)
                {
                    d.insert(
                        key.into(),
                        json!([label, inline_value(Some(v), DETAIL_MAX)]),
                    );
                }
            }
        }
        if let Some(source) = &f.source {
            d.insert("s".into(), source_of(source));
        }
        if let Some(source) = &f.other_source {
            d.insert("o".into(), source_of(source));
        }
        if let Some(by) = &f.changed_by {
            let when = by
                .time
                .as_deref()
                .map(|t| format!(" at {t}"))
                .unwrap_or_default();
            d.insert(
                "by".into(),
                json!(visible_controls(&format!(
                    "{} ({}){when}",
                    by.manager, by.operation
                ))),
            );
        }
        if let Some(p) = &f.promotion {
            d.insert(
                "p".into(),
                json!(visible_controls(&format!(
                    "{}: upstream runs {} since commit {} (searched {} commits)",
                    p.state.as_str(),
                    p.upstream_value,
                    crate::compare::promotion::short_commit(&p.since_commit),
                    p.searched_commits
                ))),
            );
        }
        if f.first_seen.is_some() {
            d.insert("fs".into(), json!(age(report, f.first_seen.as_deref())));
        }
        if let Some(by_change) = f.by_change {
            let text = match by_change {
                super::ByChange::Introduced => "introduced by this change",
                super::ByChange::PreExisting => "pre-existing: the base has it too",
            };
            d.insert("bc".into(), json!(text));
        }
        details.insert(f.id.clone(), Value::Object(d));
    }
    // Sources link to the repository's web pages when the run knows them (`inputs.source_link`),
    // at the report's commit; the script fills in each file and line.
    let link = match (&report.inputs.source_link, &report.inputs.commit) {
        (Some(template), Some(commit)) => Some(template.replace("{commit}", commit)),
        _ => None,
    };
    json!({ "generated_at": report.generated_at, "files": files, "link": link, "details": details })
}

/// What the policies hid: each rule and waiver that hid findings or is flagged (unused, broad,
/// expiring), as the table and Markdown list them; shipped rules at rest are left out.
fn write_suppressions(out: &mut String, report: &Report) {
    use super::suppressions::{decided_text, flags, listed};
    let entries: Vec<_> = report.suppressions.iter().filter(|s| listed(s)).collect();
    if entries.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section aria-labelledby=\"suppressions\"><h2 id=\"suppressions\">Hidden by policy</h2><div class=\"scroll\"><table><thead><tr><th scope=\"col\">rule or waiver</th><th scope=\"col\">action</th><th scope=\"col\">where</th><th scope=\"col\">hid</th><th scope=\"col\">flags</th></tr></thead><tbody>"
    );
    for s in entries {
        let flags = flags(s);
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}:{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            escape_html(&s.label()),
            escape_html(s.action.unwrap_or("")),
            escape_html(&s.file),
            s.line,
            escape_html(&decided_text(s)),
            if flags.is_empty() { "" } else { "warn" },
            escape_html(&flags.join(", "))
        );
    }
    let _ = writeln!(out, "</tbody></table></div></section>");
}

fn escape_multiline(text: &str) -> String {
    text.split('\n')
        .map(escape_html)
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The page around `body`: the inlined style and script, the details data as JSON, a favicon of
/// its own (no request).
pub(crate) fn page(title: &str, body: &str, data: &Value) -> String {
    let mut out = String::with_capacity(body.len() + STYLE.len() + SCRIPT.len() + 4096);
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    );
    let _ = writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    );
    let _ = writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
    );
    let _ = writeln!(out, "<title>{}</title>", escape_html(title));
    let _ = writeln!(
        out,
        "<link rel=\"icon\" href=\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%23234'/%3E%3Cpath d='M4 12V4h5a2.5 2.5 0 0 1 0 5H4' stroke='%23fff' stroke-width='2' fill='none'/%3E%3C/svg%3E\">"
    );
    let _ = writeln!(out, "<style>\n{STYLE}</style></head><body>");
    out.push_str(body);
    let _ = writeln!(
        out,
        "<script type=\"application/json\" id=\"plumb-data\">{}</script>",
        script_json(data)
    );
    let _ = writeln!(out, "<script>\n{SCRIPT}</script>\n</body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped_in_text_and_quotes_too_in_attributes() {
        assert_eq!(
            escape_html("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escape_attr("\"><img src=x onerror='a'>&"),
            "&quot;&gt;&lt;img src=x onerror=&#39;a&#39;&gt;&amp;"
        );
        assert_eq!(escape_html("\"a\" & 'b'"), "\"a\" &amp; 'b'");
        assert_eq!(escape_html("a\u{1b}[2J"), "a\\u{001b}[2J");
    }

    #[test]
    fn script_json_cannot_close_its_script() {
        let text = script_json(&json!({"v": "</script><!-- x"}));
        assert!(!text.contains('<'), "{text}");
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["v"], "</script><!-- x");
    }
}
