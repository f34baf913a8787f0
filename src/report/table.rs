//! The terminal report, for people deciding what to fix first (docs/report.md, the table): a
//! summary table, then the findings in triage order — what fails the run first, `expected` ones
//! hidden but counted — one line per field, multi-line values as a line diff, the same difference
//! on many objects as one entry, and last a line saying why the exit code is what it is. Lines fit
//! the width it is given: values and messages wrap, paths never break.
//!
//! Everything read from input (names, paths, values, messages, a tool's output) has its control
//! characters made visible before it reaches the terminal: a value may hold an escape sequence that
//! clears the screen or a `\r` that hides what precedes it, and the only escapes the table writes
//! are its own colours.

use super::common::{
    inline_value, kind_label, name_label, visible_controls, visible_controls_keeping_lines,
};
use super::{FailOn, Finding, Report};
use crate::compare::FindingKind;
use crate::diff::ChangeOp;
use crate::exit::Exit;
use crate::model::RunError;
use crate::policy::{Severity, Status};
use comfy_table::{Cell, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::Value;
use std::collections::BTreeMap;
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

/// Which findings the table lists (`--show`). `expected` findings are hidden by default and
/// always counted; a grouped entry names its first [`GROUP_NAMES_SHOWN`] objects unless `All`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Show {
    /// What needs a decision: everything but `expected`.
    #[default]
    Triage,
    /// `expected` findings too.
    Expected,
    /// Everything: `expected` findings, and every object of a grouped entry.
    All,
}

impl Show {
    /// Whether a view that lists findings (the table, the Markdown comment) lists `finding`:
    /// `expected` ones only when asked — except a diff's changes, which are what a diff is read
    /// for.
    pub fn lists(self, finding: &Finding) -> bool {
        self != Show::Triage
            || finding.status != Status::Expected
            || finding.kind == FindingKind::Change
    }
}

/// The width the table fits when its output is not a terminal (piped, or written to a file).
pub const PIPED_WIDTH: usize = 100;

/// How many objects a grouped entry names before `+N more` (all of them with `--show all`).
const GROUP_NAMES_SHOWN: usize = 5;

/// How many findings the exit line names before `+N more`.
const EXIT_NAMES_SHOWN: usize = 4;

/// Everything the table needs besides the report: how it looks, how wide it may be, what it
/// shows, and the `--fail-on` it explains its exit line with (the exit code itself is
/// [`Report::exit`]'s, never recomputed here).
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub style: Style,
    /// Columns per line: the terminal's, or [`PIPED_WIDTH`].
    pub width: usize,
    pub show: Show,
    pub fail_on: FailOn,
    /// `--fail-on-new`: only findings the baseline does not have fail the run.
    pub only_new: bool,
}

impl Options {
    /// Plain text, [`PIPED_WIDTH`] wide, the default `--show` and `--fail-on error`.
    pub fn plain() -> Self {
        Options {
            style: Style { color: false },
            width: PIPED_WIDTH,
            show: Show::Triage,
            fail_on: FailOn::Severity(Severity::Error),
            only_new: false,
        }
    }
}

pub fn render(report: &Report, options: &Options) -> String {
    let style = options.style;
    let width = options.width.max(40);
    let mut out = String::new();
    // What the report must say first (`plumb diff`: a change that makes a downstream environment
    // run what its upstream never ran).
    for headline in &report.headlines {
        let text = format!("! {}", visible_controls(&headline.message));
        for line in wrap_words(&text, width, 2) {
            let _ = writeln!(out, "{}", style.red(&style.bold(&line)));
        }
    }
    if !report.headlines.is_empty() {
        let _ = writeln!(out);
    }
    write_summary_table(&mut out, report, style, width);

    let counts = &report.summary.findings;
    if counts.total == 0 {
        let _ = writeln!(out, "{}", style.green("No differences."));
    } else {
        // Kinds are in each entry's tag (and the JSON report's summary); status and severity
        // are what triage goes by.
        let text = format!(
            "{}: {} · {}",
            plural(counts.total, "finding"),
            in_order(
                &counts.by_status,
                &["violation", "unreviewed", "waived", "expected"]
            ),
            in_order(&counts.by_severity, &["error", "warning", "info"]),
        );
        for line in wrap_words(&text, width, 2) {
            let _ = writeln!(out, "{line}");
        }
    }
    if let Some(counts) = report.against_baseline() {
        let _ = writeln!(
            out,
            "against the baseline: {} new, {} recurring, {} resolved",
            counts.new, counts.recurring, counts.resolved
        );
    }

    let shown: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| options.show.lists(f))
        .collect();
    if report.command == "audit" {
        for scope in sections(report) {
            let in_scope: Vec<&Finding> =
                shown.iter().copied().filter(|f| f.envs == scope).collect();
            let _ = writeln!(out);
            let line = section_line(report, &scope, options);
            let _ = writeln!(out, "{}", style.bold(&line));
            write_entries(&mut out, report, in_scope, options, width, &scope);
        }
    } else {
        // Headers leave out the environments the whole report is about: those every finding
        // shares, else the report's own (a pair's findings in `parity`, not its checks).
        let shared = report
            .findings
            .first()
            .map(|f| &f.envs)
            .filter(|envs| report.findings.iter().all(|f| &f.envs == *envs));
        let implied = shared
            .cloned()
            .unwrap_or_else(|| report.environment_order());
        write_entries(&mut out, report, shown, options, width, &implied);
    }

    write_errors(&mut out, &report.errors, style, width);
    write_suppressions(&mut out, report, style, width);
    let hidden = hidden_expected(report.findings.iter(), options.show);
    if hidden == 0
        || report
            .suppressions
            .iter()
            .all(|s| !super::suppressions::listed(s))
    {
        let _ = writeln!(out);
    }
    if hidden > 0 {
        let _ = writeln!(out, "{hidden} expected hidden: --show expected");
    }
    let (exit, line) = exit_line(report, options);
    for line in wrap_words(&line, width, 2) {
        let painted = match exit {
            Exit::Clean => style.green(&line),
            _ => style.red(&line),
        };
        let _ = writeln!(out, "{}", style.bold(&painted));
    }
    out
}

/// The environments and what was done with each (an audit says what it did with each: an audit
/// never passes on nothing).
fn write_summary_table(out: &mut String, report: &Report, style: Style, width: usize) {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(u16::try_from(width).unwrap_or(u16::MAX));
    if !style.color {
        table.force_no_tty();
    }
    let live = &report.summary.live_resources;
    let mut header = if live.is_empty() {
        vec!["environment", "resources"]
    } else {
        vec!["environment", "resources in Git", "resources live"]
    };
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
            row.push(Cell::new(visible_controls(
                &audited(report, &env).join(", "),
            )));
        }
        table.add_row(row);
    }
    let _ = writeln!(out, "{table}");
}

/// What an audit did with an environment: `drift`, and the pairs it was compared in.
fn audited(report: &Report, env: &str) -> Vec<String> {
    let input = report.inputs.environments.iter().find(|e| e.name == env);
    let mut done: Vec<String> = Vec::new();
    if input.is_some_and(|e| e.drift) {
        done.push("drift".into());
    }
    done.extend(input.iter().flat_map(|e| e.pairs.iter().cloned()));
    done
}

/// An audit's sections: each environment (its drift and checks) and each pair (parity,
/// promotion), in promotion order — a pair right after its left environment.
fn sections(report: &Report) -> Vec<Vec<String>> {
    let order = report.environment_order();
    let rank = |scope: &Vec<String>| -> Vec<usize> {
        scope
            .iter()
            .map(|e| order.iter().position(|o| o == e).unwrap_or(usize::MAX))
            .collect()
    };
    let mut scopes = super::common::scopes(report);
    scopes.sort_by_cached_key(|s| (rank(s), s.clone()));
    scopes
}

/// `staging (drift): 14 resources · 25 live · 3 findings: 1 error, 2 warnings · 4 expected
/// hidden` — an environment's section holds its drift and checks, a pair's its parity and
/// promotion findings.
fn section_line(report: &Report, scope: &[String], options: &Options) -> String {
    let findings: Vec<&Finding> = report.findings.iter().filter(|f| f.envs == scope).collect();
    let mut parts: Vec<String> = Vec::new();
    let mut title = visible_controls(&super::common::scope_label(scope));
    if let [env] = scope {
        let input = report.inputs.environments.iter().find(|e| &e.name == env);
        if input.is_some_and(|e| e.drift) {
            title = format!("{title} (drift)");
        }
        if let Some(count) = report.summary.resources.get(env) {
            parts.push(plural(*count, "resource"));
        }
        if let Some(count) = report.summary.live_resources.get(env) {
            parts.push(format!("{count} live"));
        }
    }
    if findings.is_empty() {
        parts.push("no findings".into());
    } else {
        let mut by_severity: BTreeMap<Severity, usize> = BTreeMap::new();
        for f in findings.iter().filter(|f| f.status != Status::Expected) {
            *by_severity.entry(f.severity).or_default() += 1;
        }
        let severities: Vec<String> = by_severity
            .iter()
            .rev()
            .map(|(s, n)| plural(*n, s.as_str()))
            .collect();
        let mut text = plural(findings.len(), "finding");
        if !severities.is_empty() {
            text = format!("{text}: {}", severities.join(", "));
        }
        parts.push(text);
        let hidden = hidden_expected(findings.iter().copied(), options.show);
        if hidden > 0 {
            parts.push(format!("{hidden} expected hidden"));
        }
    }
    format!("▸ {title}: {}", parts.join(" · "))
}

fn hidden_expected<'a>(findings: impl Iterator<Item = &'a Finding>, show: Show) -> usize {
    findings.filter(|f| !show.lists(f)).count()
}

/// Where a finding goes in the table: what fails the run first — violations, and unreviewed
/// errors — then unreviewed, waived and expected findings; within those by severity (error
/// first), then status, environment (promotion order), resource and path.
fn triage_key(f: &Finding, order: &[String]) -> impl Ord {
    let tier = match f.status {
        Status::Violation => 0,
        Status::Unreviewed if f.severity == Severity::Error => 0,
        Status::Unreviewed => 1,
        Status::Waived => 2,
        Status::Expected => 3,
    };
    let envs: Vec<usize> = f
        .envs
        .iter()
        .map(|e| order.iter().position(|o| o == e).unwrap_or(usize::MAX))
        .collect();
    (
        tier,
        std::cmp::Reverse(f.severity),
        f.status,
        envs,
        f.resource.namespace.clone(),
        f.resource.group.clone(),
        f.resource.kind.clone(),
        f.resource.name.clone(),
        f.path.clone(),
    )
}

/// The same difference on many objects: one entry. Findings are alike when everything the entry
/// shows but the object is the same — kind, resource kind, status, severity, rule, path, change,
/// both values (or their absence) and the message.
fn likeness(f: &Finding) -> String {
    let value = |v: &Option<Value>| v.as_ref().map(Value::to_string);
    serde_json::json!([
        f.kind.as_str(),
        f.resource.group,
        f.resource.kind,
        f.status.as_str(),
        f.severity.as_str(),
        f.rule,
        f.path,
        f.change.map(|c| format!("{c:?}")),
        value(&f.left),
        value(&f.right),
        f.message,
    ])
    .to_string()
}

/// Sorts findings into triage order and groups alike ones into one entry, placed where its first
/// finding goes.
pub(crate) fn entries<'a>(
    report: &Report,
    mut findings: Vec<&'a Finding>,
) -> Vec<Vec<&'a Finding>> {
    let order = report.environment_order();
    findings.sort_by_cached_key(|f| triage_key(f, &order));
    let mut entries: Vec<Vec<&Finding>> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for f in findings {
        let key = likeness(f);
        match index.get(&key) {
            Some(&at) => entries[at].push(f),
            None => {
                index.insert(key, entries.len());
                entries.push(vec![f]);
            }
        }
    }
    entries
}

fn write_entries(
    out: &mut String,
    report: &Report,
    findings: Vec<&Finding>,
    options: &Options,
    width: usize,
    implied: &[String],
) {
    let style = options.style;
    let mut current: Option<String> = None;
    for entry in entries(report, findings) {
        let header = match entry.as_slice() {
            [f] => resource_header(f, implied),
            many => group_header(many, implied, options.show == Show::All),
        };
        if current.as_deref() != Some(header.as_str()) || entry.len() > 1 {
            let _ = writeln!(out);
            for line in wrap_list(&header, width, 4) {
                let _ = writeln!(out, "{}", style.bold(&line));
            }
        }
        current = (entry.len() == 1).then_some(header);
        write_finding(out, entry[0], style, width);
    }
}

/// What could not be seen, after the findings: each error on its lines, a tool's output keeping
/// its own lines, each under the error it belongs to. The matrix table ends the same way.
pub(crate) fn write_errors(out: &mut String, errors: &[RunError], style: Style, width: usize) {
    if errors.is_empty() {
        return;
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{}",
        style.red("INCOMPLETE — plumb could not see everything:")
    );
    for e in errors {
        let what = e.source.as_deref().or(e.resource.as_deref()).unwrap_or("");
        let text = format!(
            "{} [{}] {}: {}{}",
            visible_controls(&e.env),
            visible_controls(&e.kind),
            visible_controls(what),
            visible_controls_keeping_lines(&e.message),
            e.unjudged_note()
        );
        for (i, line) in text.lines().enumerate() {
            let indent = if i == 0 { "  " } else { "    " };
            for piece in wrap_words(line, width - indent.len(), 2) {
                let _ = writeln!(out, "{}", format!("{indent}{piece}").trim_end());
            }
        }
    }
}

/// What the policies hid, near the end (docs/report.md, suppressions): one line naming each rule
/// or waiver that hid findings and is not flagged, with its count; then one line for each that is
/// flagged (unused, broad, expiring), with where it is written. Short, so the triage view stays
/// within a screen.
fn write_suppressions(out: &mut String, report: &Report, style: Style, width: usize) {
    use super::suppressions::{flags, listed};
    if super::suppressions::headline(&report.suppressions).is_none() {
        return;
    }
    let (flagged, quiet): (Vec<_>, Vec<_>) = report
        .suppressions
        .iter()
        .filter(|s| listed(s))
        .partition(|s| !flags(s).is_empty());
    let counted: Vec<String> = quiet
        .iter()
        .map(|s| format!("{} {}", s.label(), s.total()))
        .collect();
    let _ = writeln!(out);
    let first = if counted.is_empty() {
        "hidden by policy:".to_string()
    } else {
        format!("hidden by policy: {}", counted.join(", "))
    };
    for line in wrap_words(&visible_controls(&first), width, 2) {
        let _ = writeln!(out, "{}", style.bold(&line));
    }
    for entry in flagged {
        let what = match entry.action {
            Some(action) => format!("{} ({action})", entry.label()),
            None => entry.label(),
        };
        let mut parts = vec![what, format!("{}:{}", entry.file, entry.line)];
        let decided = super::suppressions::decided_text(entry);
        if !decided.is_empty() {
            parts.push(decided);
        }
        let line = visible_controls(&format!("  {}", parts.join("  ")));
        let flags = style.yellow(&visible_controls(&format!("[{}]", flags(entry).join(", "))));
        let _ = writeln!(out, "{line}  {flags}");
    }
}

/// `apps/Deployment shop/api [staging]  (envs/staging/api.yaml:1)`; the environments are left
/// out where the report or section is about them alone.
pub(crate) fn resource_header(f: &Finding, implied: &[String]) -> String {
    let source = f
        .source
        .as_ref()
        .map(|s| format!("  ({s})"))
        .unwrap_or_default();
    let envs = if f.envs != implied {
        format!(" [{}]", f.envs.join(" ↔ "))
    } else {
        String::new()
    };
    visible_controls(&format!(
        "{} {}{envs}{source}",
        kind_label(f),
        name_label(f)
    ))
}

/// `apps/Deployment on 25 objects [staging ↔ production]: shop/a, shop/b, …, +20 more`. Objects
/// of other environments than the first name theirs.
pub(crate) fn group_header(findings: &[&Finding], implied: &[String], all: bool) -> String {
    let first = findings[0];
    let same_envs = findings.iter().all(|f| f.envs == first.envs);
    let name = |f: &Finding| {
        if same_envs {
            name_label(f)
        } else {
            format!("{} [{}]", name_label(f), f.envs.join(" ↔ "))
        }
    };
    let shown = if all {
        findings.len()
    } else {
        GROUP_NAMES_SHOWN.min(findings.len())
    };
    let mut names: Vec<String> = findings[..shown].iter().map(|f| name(f)).collect();
    if shown < findings.len() {
        names.push(format!("+{} more", findings.len() - shown));
    }
    let envs = if same_envs && first.envs != implied {
        format!(" [{}]", first.envs.join(" ↔ "))
    } else {
        String::new()
    };
    visible_controls(&format!(
        "{} on {} objects{envs}: {}",
        kind_label(first),
        findings.len(),
        names.join(", ")
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
        Severity::Error => style.red(&text),
        Severity::Warning => style.yellow(&text),
        Severity::Info => style.dim(&text),
    }
}

/// Characters a line takes on a terminal (colours are added after measuring).
fn columns(text: &str) -> usize {
    text.chars().count()
}

fn write_finding(out: &mut String, f: &Finding, style: Style, width: usize) {
    let plain_tag = tag(f, Style { color: false });
    let tag = tag(f, style);
    let message = visible_controls_keeping_lines(&f.message);
    if f.path.is_empty() {
        let mut lines: Vec<String> = message
            .lines()
            .flat_map(|l| wrap_words(l, width - 2, 2))
            .collect();
        let last = lines.pop().unwrap_or_default();
        for line in &lines {
            let _ = writeln!(out, "  {line}");
        }
        if 2 + columns(&last) + 1 + columns(&plain_tag) <= width {
            let _ = writeln!(out, "  {last} {tag}");
        } else {
            let _ = writeln!(out, "  {last}");
            let _ = writeln!(out, "    {tag}");
        }
        return;
    }
    let path = visible_controls(&f.path);
    let (mark, value) = match f.change {
        Some(ChangeOp::Added) => ("+", Some(inline(f.right.as_ref()))),
        Some(ChangeOp::Removed) => ("-", Some(inline(f.left.as_ref()))),
        Some(ChangeOp::Equal) => ("=", Some(inline(f.right.as_ref()))),
        _ => ("±", None),
    };
    // The path line: the path whole (never broken), its value — or both sides of a changed one
    // — when they fit, the tag.
    let head = format!("  {mark} {path}");
    let multi_line = matches!(
        (f.left.as_ref(), f.right.as_ref()),
        (Some(Value::String(l)), Some(Value::String(r))) if l.contains('\n') || r.contains('\n')
    );
    match value {
        Some(value) if columns(&head) + 2 + columns(&value) + 1 + columns(&plain_tag) <= width => {
            let _ = writeln!(out, "{head}: {value} {tag}");
        }
        Some(value) => {
            write_head_and_tag(out, &head, &tag, &plain_tag, width);
            for line in wrap_chars(&value, width - 6) {
                let _ = writeln!(out, "      {line}");
            }
        }
        None if f.change == Some(ChangeOp::Changed) && multi_line => {
            write_head_and_tag(out, &head, &tag, &plain_tag, width);
            if let (Some(Value::String(l)), Some(Value::String(r))) = (&f.left, &f.right) {
                write_line_diff(out, f, l, r, style, width);
            }
        }
        None if f.change == Some(ChangeOp::Changed) => {
            let (left, right) = (inline(f.left.as_ref()), inline(f.right.as_ref()));
            let sides = Sides::of(f, &left, &right);
            if columns(&head) + 2 + columns(&sides.plain()) + 2 + columns(&plain_tag) <= width {
                let _ = writeln!(out, "{head}  {}  {tag}", sides.painted(style));
            } else {
                write_head_and_tag(out, &head, &tag, &plain_tag, width);
                sides.write(out, style, width);
            }
        }
        None => write_head_and_tag(out, &head, &tag, &plain_tag, width),
    }
    if let Some(message) = what_the_values_do_not_say(f) {
        let message = visible_controls_keeping_lines(message);
        for line in message.lines().flat_map(|l| wrap_words(l, width - 6, 0)) {
            let _ = writeln!(out, "      {}", style.dim(&line));
        }
    }
    if let Some(by) = &f.changed_by {
        let when = by
            .time
            .as_deref()
            .map(|t| format!(" at {t}"))
            .unwrap_or_default();
        let text = visible_controls(&format!(
            "changed by {} ({}){when}",
            by.manager, by.operation
        ));
        for line in wrap_words(&text, width - 6, 0) {
            let _ = writeln!(out, "      {}", style.dim(&line));
        }
    }
}

/// The path line and its tag, the tag on a line of its own when both do not fit.
fn write_head_and_tag(out: &mut String, head: &str, tag: &str, plain_tag: &str, width: usize) {
    if columns(head) + 1 + columns(plain_tag) <= width {
        let _ = writeln!(out, "{head} {tag}");
    } else {
        let _ = writeln!(out, "{head}");
        let _ = writeln!(out, "      {tag}");
    }
}

/// Whether a finding's two sides are a before and an after (Git and the cluster, base and head),
/// coloured as removed and added; the two sides of a pair are neither wrong, so they stay plain.
fn sides_have_direction(f: &Finding) -> bool {
    matches!(f.kind, FindingKind::Drift | FindingKind::Change)
}

/// Both sides of a changed value, labelled: `staging: 1 · production: 3` (`git: 1 → live: 3`).
struct Sides {
    left: String,
    right: String,
    /// [`sides_have_direction`].
    directed: bool,
}

impl Sides {
    fn of(f: &Finding, left: &str, right: &str) -> Self {
        let (left_label, right_label) = side_labels(f);
        Sides {
            left: format!("{left_label}: {left}"),
            right: format!("{right_label}: {right}"),
            directed: sides_have_direction(f),
        }
    }

    fn separator(&self) -> &'static str {
        if self.directed { "→" } else { "·" }
    }

    fn plain(&self) -> String {
        format!("{}  {}  {}", self.left, self.separator(), self.right)
    }

    fn paint(&self, style: Style, left: bool, text: &str) -> String {
        match (self.directed, left) {
            (false, _) => text.to_string(),
            (true, true) => style.red(text),
            (true, false) => style.green(text),
        }
    }

    fn painted(&self, style: Style) -> String {
        format!(
            "{}  {}  {}",
            self.paint(style, true, &self.left),
            self.separator(),
            self.paint(style, false, &self.right)
        )
    }

    /// On their own line when it fits, else a line per side with long values wrapped.
    fn write(&self, out: &mut String, style: Style, width: usize) {
        if 6 + columns(&self.plain()) <= width {
            let _ = writeln!(out, "      {}", self.painted(style));
            return;
        }
        for (text, left) in [(&self.left, true), (&self.right, false)] {
            for line in wrap_chars(text, width - 6) {
                let _ = writeln!(out, "      {}", self.paint(style, left, &line));
            }
        }
    }
}

/// The part of a finding's message its line does not already say: a verdict's note, a policy's
/// reason. "staging and production differ" under two labelled values says nothing more, and
/// before a note it is left out ("— Staging and production must not share credentials." stays).
/// A message worded otherwise is shown whole.
pub(crate) fn what_the_values_do_not_say(f: &Finding) -> Option<&str> {
    let (left, right) = (
        f.envs.first().map_or("left", String::as_str),
        f.envs.get(1).map_or("right", String::as_str),
    );
    let plain: Vec<String> = match (f.kind, f.change) {
        (FindingKind::Parity, Some(ChangeOp::Changed)) => vec![
            format!("{left} and {right} differ"),
            format!("secret values differ between {left} and {right} (fingerprints shown)"),
        ],
        (FindingKind::Parity, Some(ChangeOp::Equal)) => vec![
            format!(
                "{left} and {right} share this secret value (fingerprints shown); it must differ"
            ),
            format!("{left} and {right} hold the same value; it must differ"),
        ],
        (FindingKind::Drift, Some(ChangeOp::Changed)) => vec![
            "the cluster's value differs from Git".to_string(),
            "the cluster's secret value differs from Git's (fingerprints shown)".to_string(),
        ],
        (FindingKind::Change, Some(ChangeOp::Changed)) => vec![
            "changed by this change".to_string(),
            "this change changes a secret value (fingerprints shown)".to_string(),
        ],
        _ => Vec::new(),
    };
    for base in &plain {
        if f.message == *base {
            return None;
        }
        if let Some(note) = f
            .message
            .strip_prefix(base.as_str())
            .and_then(|rest| rest.strip_prefix(" — "))
        {
            return Some(note);
        }
    }
    Some(&f.message)
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

/// A value on one line, whole (the table never cuts values; it wraps them).
fn inline(value: Option<&Value>) -> String {
    inline_value(value, usize::MAX)
}

fn write_line_diff(
    out: &mut String,
    f: &Finding,
    left: &str,
    right: &str,
    style: Style,
    width: usize,
) {
    let coloured = sides_have_direction(f);
    let diff = similar::TextDiff::from_lines(left, right);
    // No context lines: the table shows what changed; the JSON and Markdown reports have the
    // values whole.
    for group in diff.grouped_ops(0) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let text = visible_controls(change.value().trim_end_matches('\n'));
                let (mark, paint): (&str, fn(&Style, &str) -> String) = match change.tag() {
                    similar::ChangeTag::Delete if coloured => ("-", Style::red),
                    similar::ChangeTag::Insert if coloured => ("+", Style::green),
                    similar::ChangeTag::Delete => ("-", |_, t| t.to_string()),
                    similar::ChangeTag::Insert => ("+", |_, t| t.to_string()),
                    similar::ChangeTag::Equal => (" ", Style::dim),
                };
                for (i, line) in wrap_chars(&text, width - 8).iter().enumerate() {
                    let mark = if i == 0 { mark } else { " " };
                    let _ = writeln!(out, "      {}", paint(&style, &format!("{mark} {line}")));
                }
            }
        }
    }
}

/// Why the exit code is what it is, as the table's last line: what made it 3 (what could not be
/// seen), or 1 (the findings at or above `--fail-on`, named), or 0 (and what lies below).
pub(crate) fn exit_line(report: &Report, options: &Options) -> (Exit, String) {
    let exit = report.exit(options.fail_on, options.only_new);
    let order = report.environment_order();
    let mut failing: Vec<&Finding> = report.failing(options.fail_on, options.only_new).collect();
    failing.sort_by_cached_key(|f| triage_key(f, &order));
    let threshold = match options.fail_on {
        FailOn::Severity(s) => format!("--fail-on {}", s.as_str()),
        FailOn::Never => "--fail-on never".to_string(),
    };
    let new = if options.only_new { "new " } else { "" };
    let line = match exit {
        Exit::Incomplete => {
            let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
            for e in &report.errors {
                *by_kind.entry(unseen(&e.kind)).or_default() += 1;
            }
            let what: Vec<String> = by_kind
                .iter()
                .map(|(what, n)| unseen_phrase(what, *n))
                .collect();
            let mut line = format!("exit 3: incomplete — {}", what.join(", "));
            if !failing.is_empty() {
                let _ = write!(
                    line,
                    "; also {} at or above {threshold}",
                    plural(failing.len(), &format!("{new}finding"))
                );
            }
            line
        }
        Exit::Findings => format!(
            "exit 1: {} ({}) at or above {threshold}",
            failing_counts(&failing, new),
            failing_names(&failing)
        ),
        _ => {
            let mut below: BTreeMap<Severity, usize> = BTreeMap::new();
            for f in report.findings.iter().filter(|f| f.status.gates()) {
                *below.entry(f.severity).or_default() += 1;
            }
            let below: Vec<String> = below
                .iter()
                .rev()
                .map(|(s, n)| plural(*n, s.as_str()))
                .collect();
            let mut line = match options.fail_on {
                FailOn::Never => "exit 0: --fail-on never fails on no finding".to_string(),
                FailOn::Severity(_) => format!("exit 0: no {new}finding at or above {threshold}"),
            };
            if !below.is_empty() {
                let _ = write!(line, " ({})", below.join(", "));
            }
            line
        }
    };
    (exit, visible_controls(&line))
}

/// `2 error violations, 1 unreviewed error` (`2 new error violations` with `--fail-on-new`).
fn failing_counts(failing: &[&Finding], new: &str) -> String {
    let mut counts: BTreeMap<(std::cmp::Reverse<Severity>, Status), usize> = BTreeMap::new();
    for f in failing {
        *counts
            .entry((std::cmp::Reverse(f.severity), f.status))
            .or_default() += 1;
    }
    counts
        .iter()
        .map(|((severity, status), n)| {
            let severity = severity.0.as_str();
            match status {
                Status::Violation => plural(*n, &format!("{new}{severity} violation")),
                _ => plural(*n, &format!("{new}{} {severity}", status.as_str())),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `same-images on shop/api, secrets-differ on shop/db-credentials, +3 more`: each rule (or
/// kind) and object once, in triage order.
fn failing_names(failing: &[&Finding]) -> String {
    let mut names: Vec<String> = Vec::new();
    for f in failing {
        let what = f.rule.as_deref().unwrap_or(f.kind.as_str());
        let name = format!("{what} on {}", name_label(f));
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let more = names.len().saturating_sub(EXIT_NAMES_SHOWN);
    names.truncate(EXIT_NAMES_SHOWN);
    if more > 0 {
        names.push(format!("+{more} more"));
    }
    names.join(", ")
}

/// What kind of thing an error's kind says could not be seen.
fn unseen(kind: &str) -> &str {
    match kind {
        "render" => "render",
        "unreachable" | "auth" => "cluster",
        "forbidden" | "unserved" | "timeout" => "kind",
        "snapshot" => "snapshot",
        other => other,
    }
}

fn unseen_phrase(what: &str, n: usize) -> String {
    match what {
        "render" => format!("{} could not be rendered", plural(n, "source")),
        "cluster" => format!("{} could not be read", plural(n, "cluster")),
        "kind" => format!("{} could not be read", plural(n, "resource kind")),
        "snapshot" => format!("{} could not be read", plural(n, "snapshot")),
        "policy" => format!("{} could not be evaluated", plural(n, "policy condition")),
        "fingerprint" => format!(
            "{} taken with another fingerprint key (Secrets not compared)",
            plural(n, "snapshot")
        ),
        "namespace" => format!("{} missing", plural(n, "namespace")),
        other => plural(n, &format!("{other} error")),
    }
}

/// `1 error`, `3 warnings`, `16 info` (info has no plural).
fn plural(n: usize, noun: &str) -> String {
    if n == 1 || noun.ends_with("info") {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `3 violation, 5 unreviewed`: counts in the order given (triage order), none left out.
fn in_order(counts: &BTreeMap<&str, usize>, order: &[&str]) -> String {
    let mut keys: Vec<&str> = order
        .iter()
        .copied()
        .filter(|k| counts.contains_key(k))
        .collect();
    keys.extend(counts.keys().copied().filter(|k| !order.contains(k)));
    keys.iter()
        .map(|k| format!("{} {k}", counts[k]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text in lines of at most `width` characters, broken at spaces; later lines are indented by
/// `indent` (and a word longer than a line is cut, so nothing runs past the width).
fn wrap_words(text: &str, width: usize, indent: usize) -> Vec<String> {
    let width = width.max(indent + 10);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let room = if lines.is_empty() {
            width
        } else {
            width - indent
        };
        let used = columns(&line);
        if used > 0 && used + 1 + columns(word) > room {
            lines.push(std::mem::take(&mut line));
        }
        let room = if lines.is_empty() {
            width
        } else {
            width - indent
        };
        if !line.is_empty() {
            line.push(' ');
        }
        let mut rest = word;
        while columns(&line) + columns(rest) > room && columns(rest) > room / 2 {
            let take = room.saturating_sub(columns(&line)).max(1);
            let cut = rest.char_indices().nth(take).map_or(rest.len(), |(i, _)| i);
            line.push_str(&rest[..cut]);
            rest = &rest[cut..];
            lines.push(std::mem::take(&mut line));
            if rest.is_empty() {
                break;
            }
        }
        line.push_str(rest);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    let pad = " ".repeat(indent);
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| if i == 0 { l } else { format!("{pad}{l}") })
        .collect()
}

/// A header in lines of at most `width` characters, broken only after a `, ` so that no
/// object's name (and no `+N more`) is split; a header without a list is broken at spaces.
fn wrap_list(text: &str, width: usize, indent: usize) -> Vec<String> {
    if columns(text) <= width || !text.contains(", ") {
        return wrap_words(text, width, indent);
    }
    let pad = " ".repeat(indent);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let items: Vec<&str> = text.split(", ").collect();
    for (i, item) in items.iter().enumerate() {
        let piece = if i + 1 < items.len() {
            format!("{item},")
        } else {
            item.to_string()
        };
        let room = if lines.is_empty() {
            width
        } else {
            width - indent
        };
        if !line.is_empty() && columns(&line) + 1 + columns(&piece) > room {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&piece);
    }
    lines.push(line);
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| if i == 0 { l } else { format!("{pad}{l}") })
        .collect()
}

/// A value in pieces of at most `width` characters: values wrap wherever they must.
fn wrap_chars(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars
        .chunks(width.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::policy::{Severity, Status, Verdict};
    use crate::report::Inputs;

    fn report(left: Value, right: Value) -> Report {
        let environments = ["staging", "production"].map(|name| crate::report::EnvironmentInput {
            name: name.into(),
            ..Default::default()
        });
        let inputs = Inputs {
            environments: environments.to_vec(),
            ..Default::default()
        };
        let mut r = Report::new("parity", inputs);
        r.summary.resources.insert("staging".into(), 1);
        r.summary.resources.insert("production".into(), 1);
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
        let text = render(&report("debug".into(), "info".into()), &Options::plain());
        assert!(text.contains("ConfigMap shop/cfg\n"), "{text}");
        assert!(
            text.contains("± data.LEVEL  staging: debug  ·  production: info  [parity"),
            "{text}"
        );
        assert!(!text.contains('\x1b'), "{text}");
        let coloured = Options {
            style: Style { color: true },
            ..Options::plain()
        };
        // A pair's sides are neither wrong: no red or green on them, only on the tag.
        let text = render(&report("a".into(), "b".into()), &coloured);
        assert!(
            text.contains("± data.LEVEL  staging: a  ·  production: b  \x1b[33m[parity"),
            "{text}"
        );
    }

    #[test]
    fn multi_line_values_are_a_line_diff() {
        let text = render(
            &report("a=1\nb=2\nc=3\n".into(), "a=1\nb=5\nc=3\n".into()),
            &Options::plain(),
        );
        assert!(
            text.contains("- b=2") && text.contains("+ b=5") && !text.contains("a=1"),
            "{text}"
        );
    }

    #[test]
    fn long_values_wrap_to_the_width_and_paths_never_break() {
        let long = "x".repeat(250);
        let mut r = report(long.clone().into(), "short".into());
        r.findings[0].path = format!("metadata.annotations[\"{}\"]", "p".repeat(120));
        let options = Options {
            width: 60,
            ..Options::plain()
        };
        let text = render(&r, &options);
        let path_line = text
            .lines()
            .find(|l| l.contains("metadata.annotations"))
            .unwrap();
        assert!(path_line.contains(&r.findings[0].path), "{text}");
        for line in text.lines().filter(|l| !l.contains("metadata.annotations")) {
            assert!(line.chars().count() <= 60, "{line}\n{text}");
        }
        let value: String = text
            .lines()
            .filter(|l| l.contains("xxx"))
            .map(|l| l.trim().trim_start_matches("staging: "))
            .collect();
        assert_eq!(value, long, "{text}");
    }

    #[test]
    fn drift_keeps_its_colours() {
        let mut r = report("1".into(), "2".into());
        r.findings[0].kind = FindingKind::Drift;
        r.findings[0].envs = vec!["staging".into()];
        let options = Options {
            style: Style { color: true },
            ..Options::plain()
        };
        let text = render(&r, &options);
        assert!(
            text.contains("\x1b[31mgit: 1\x1b[0m  →  \x1b[32mlive: 2\x1b[0m"),
            "{text:?}"
        );
    }

    #[test]
    fn words_wrap_within_the_width() {
        let text = "one two three four five six seven eight nine ten eleven twelve";
        let lines = wrap_words(text, 20, 2);
        assert!(lines.iter().all(|l| l.chars().count() <= 20), "{lines:?}");
        assert_eq!(
            lines
                .join(" ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            text
        );
        let list = wrap_list("Kind on 3 objects: aaaaaaaaaa, bbbbbbbbbb, +1 more", 30, 4);
        assert_eq!(
            list,
            ["Kind on 3 objects: aaaaaaaaaa,", "    bbbbbbbbbb, +1 more"]
        );
    }
}
