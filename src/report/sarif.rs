//! SARIF 2.1.0 for code scanning (GitHub uploads it and annotates the pull request at the file and
//! line in Git that declared each resource).
//!
//! One result per finding that calls for attention: `violation` and `unreviewed` as they are,
//! `waived` with a suppression (code scanning shows it as dismissed, with the waiver as the
//! justification). `expected` findings are left out: a policy says that difference is how things
//! should be, and a code-scanning alert for it would be noise; the run's properties count them.
//! Levels come from severities (error, warning, info → note). A finding without a rule gets the
//! synthetic rule `plumb/<kind>` (`plumb/drift`, `plumb/parity`, …).
//!
//! Each result points at the line of its field (an image at its `image:` line), which the caller
//! found in the files in Git (`Finding::field_lines`), else at the object's first line; a parity
//! result also names the other environment's file in `relatedLocations`.
//!
//! Code scanning rejects a whole upload if one result lacks a physical location, so a finding with
//! no Git source (an unmanaged object, live parity) points at `fallback` — the repository-relative
//! plumb.yaml that defines its environments — and, without one (`compare`), is left out.
use super::common::{change_line, resource_label, scope_label};
use super::{Finding, Report};
use crate::policy::{Severity, Status};
use serde_json::Value;
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, ReportingDescriptorReference, Result as SarifResult, ResultBaselineState,
    ResultLevel, Run, RunAutomationDetails, Sarif, Suppression, SupressionKind, SupressionStatus,
    Tool, ToolComponent, Version,
};
use std::collections::BTreeMap;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const VALUE_MAX: usize = 200;

pub fn render(report: &Report, fallback: Option<&str>) -> String {
    let located = |f: &&Finding| f.source.is_some() || fallback.is_some();
    let results_of: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.status != Status::Expected)
        .filter(located)
        .collect();
    let unlocated = report
        .findings
        .iter()
        .filter(|f| f.status != Status::Expected && !located(f))
        .count();

    // Rules in order of first use, so a result's ruleIndex is stable for one report.
    let mut rules: Vec<ReportingDescriptor> = Vec::new();
    let mut index_of: BTreeMap<String, usize> = BTreeMap::new();
    for f in &results_of {
        let id = rule_id(f);
        if !index_of.contains_key(&id) {
            index_of.insert(id.clone(), rules.len());
            rules.push(rule(f, &id, report));
        }
    }

    let results: Vec<SarifResult> = results_of
        .iter()
        .map(|f| {
            let id = rule_id(f);
            result(f, &id, index_of.get(&id).copied().unwrap_or(0), fallback)
        })
        .collect();

    let notifications: Vec<Notification> = report
        .errors
        .iter()
        .map(|e| {
            let what = e.source.as_deref().or(e.resource.as_deref()).unwrap_or("");
            Notification::builder()
                .level(ResultLevel::Error.to_string())
                .message(text(format!(
                    "{} [{}] {}: {}",
                    e.env, e.kind, what, e.message
                )))
                .descriptor(
                    ReportingDescriptorReference::builder()
                        .id(format!("plumb/incomplete/{}", e.kind))
                        .build(),
                )
                .build()
        })
        .collect();

    let envs: Vec<&str> = report
        .inputs
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    let driver = ToolComponent::builder()
        .name("plumb")
        .version(report.tool.version)
        .semantic_version(report.tool.version)
        .rules(rules)
        .build();
    let invocation = Invocation::builder()
        .execution_successful(report.summary.complete)
        .end_time_utc(report.generated_at.clone())
        .tool_execution_notifications(notifications)
        .build();
    let mut run_properties = BTreeMap::from([
        ("complete".to_string(), Value::from(report.summary.complete)),
        (
            "expectedOmitted".to_string(),
            Value::from(
                report
                    .findings
                    .iter()
                    .filter(|f| f.status == Status::Expected)
                    .count(),
            ),
        ),
        ("withoutLocationOmitted".to_string(), Value::from(unlocated)),
    ]);
    if let Some(commit) = &report.inputs.commit {
        run_properties.insert("commit".to_string(), Value::from(commit.as_str()));
    }
    let run = Run::builder()
        .tool(Tool::from(driver))
        // One category per command and environments, so uploads of several runs (drift
        // production, parity staging..production) do not close each other's alerts.
        .automation_details(
            RunAutomationDetails::builder()
                .id(format!("plumb/{}/{}/", report.command, envs.join("..")))
                .build(),
        )
        .invocations(vec![invocation])
        .results(results)
        .properties(bag(run_properties))
        .build();
    let log = Sarif::builder()
        .schema(SCHEMA)
        .version(Version::V2_1_0.to_string())
        .runs(vec![run])
        .build();
    let mut text = serde_json::to_string_pretty(&log)
        // The log holds only strings, numbers, booleans and maps with string keys, which always
        // serialize; say so rather than panic if it ever did not.
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

pub fn rule_id(f: &Finding) -> String {
    match &f.rule {
        Some(rule) => rule.clone(),
        None => format!("plumb/{}", f.kind.as_str()),
    }
}

fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

fn text(text: impl Into<String>) -> Message {
    Message::builder().text(text.into()).build()
}

fn bag(properties: BTreeMap<String, Value>) -> PropertyBag {
    PropertyBag::builder()
        .additional_properties(properties)
        .build()
}

/// A rule's description. Synthetic rules describe their kind; a policy rule's description is the
/// note its findings carry after ` — ` (a violation or expected finding carries the rule's
/// description there; a waived one carries its waiver instead, so those are not read).
fn description(id: &str, f: &Finding, report: &Report) -> String {
    if f.rule.is_none() {
        return match f.kind.as_str() {
            "drift" => "The cluster's live value differs from the value declared in Git, and no policy rule covers it.",
            "missing" => "Declared in Git but not found in the cluster.",
            "unmanaged" => "Found in the cluster but not declared in Git.",
            "parity" => "The two environments differ here, and no policy rule says whether they may.",
            "only-in" => "The object exists in only one of the two environments.",
            "check" => "A check failed.",
            "promotion" => "Downstream runs a version out of promotion order: behind upstream, never run upstream, or rolled back upstream.",
            _ => "A change between two revisions.",
        }
        .to_string();
    }
    report
        .findings
        .iter()
        .filter(|g| g.rule.as_deref() == Some(id))
        .filter(|g| matches!(g.status, Status::Violation | Status::Expected))
        .find_map(|g| g.message.split_once(" — ").map(|(_, d)| d.to_string()))
        .unwrap_or_else(|| format!("Policy rule `{id}`."))
}

fn rule(f: &Finding, id: &str, report: &Report) -> ReportingDescriptor {
    let description = description(id, f, report);
    let describe = || {
        MultiformatMessageString::builder()
            .text(description.clone())
            .build()
    };
    ReportingDescriptor::builder()
        .id(id)
        .name(id)
        .short_description(describe())
        .full_description(describe())
        .default_configuration(
            ReportingConfiguration::builder()
                .level(level(f.severity).to_string())
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(vec![
                    "kubernetes".to_string(),
                    "plumb".to_string(),
                    f.kind.as_str().to_string(),
                ])
                .build(),
        )
        .build()
}

fn result(f: &Finding, id: &str, index: usize, fallback: Option<&str>) -> SarifResult {
    let mut message = format!("{} [{}]", resource_label(f), scope_label(&f.envs));
    if !f.path.is_empty() {
        message.push_str(&format!(" {} — {}", f.path, change_line(f, VALUE_MAX)));
    }
    message.push_str(&format!(": {}", f.message));

    let mut qualified = format!("{}/{}", scope_label(&f.envs), resource_label(f));
    if !f.path.is_empty() {
        qualified = format!("{qualified}/{}", f.path);
    }
    let logical = LogicalLocation::builder()
        .name(f.resource.name.clone())
        .fully_qualified_name(qualified)
        .kind("resource")
        .build();
    let mut location = Location::builder().logical_locations(vec![logical]).build();
    if let Some(source) = &f.source {
        location.physical_location = Some(physical(source, f.field_lines.source));
    } else if let Some(config) = fallback {
        location.physical_location = Some(
            PhysicalLocation::builder()
                .artifact_location(ArtifactLocation::builder().uri(uri(config)).build())
                .build(),
        );
    }

    let properties = BTreeMap::from([
        ("kind".to_string(), Value::from(f.kind.as_str())),
        ("status".to_string(), Value::from(f.status.as_str())),
        ("severity".to_string(), Value::from(f.severity.as_str())),
        ("envs".to_string(), Value::from(f.envs.clone())),
        (
            "resource".to_string(),
            // Strings and an optional string: serializing it cannot fail.
            serde_json::to_value(&f.resource).unwrap_or_default(),
        ),
        ("path".to_string(), Value::from(f.path.as_str())),
    ]);
    let mut result = SarifResult::builder()
        .rule_id(id)
        .rule_index(i64::try_from(index).unwrap_or(i64::MAX))
        .level(level(f.severity))
        .message(text(message))
        .locations(vec![location])
        .partial_fingerprints(BTreeMap::from([(
            "plumbFindingId/v1".to_string(),
            f.id.clone(),
        )]))
        .properties(bag(properties))
        .build();
    // Parity: where the other environment declares the object too.
    if let (Some(other), Some(env)) = (&f.other_source, f.envs.get(1)) {
        result.related_locations = Some(vec![
            Location::builder()
                .id(1)
                .physical_location(physical(other, f.field_lines.other_source))
                .message(text(format!("{env} declares it here")))
                .build(),
        ]);
    }
    // With --baseline, code scanning can tell new results from ones it has seen.
    result.baseline_state = match f.baseline {
        Some(super::baseline::BaselineStatus::New) => Some(ResultBaselineState::New),
        Some(super::baseline::BaselineStatus::Recurring) => Some(ResultBaselineState::Unchanged),
        None => None,
    }
    .map(|state| Value::from(state.to_string()));
    if f.status == Status::Waived {
        let justification = f
            .message
            .split_once(" — ")
            .map(|(_, n)| n)
            .unwrap_or(&f.message);
        result.suppressions = Some(vec![
            Suppression::builder()
                .kind(SupressionKind::External.to_string())
                .status(SupressionStatus::Accepted.to_string())
                .justification(justification)
                .build(),
        ]);
    }
    result
}

/// A file in Git and the line to point at: the field's own line where the edge found it in the
/// file (app/lines.rs), else the object's first line; a rendered object (line 0) whose field
/// was not found is the file alone.
fn physical(source: &crate::model::SourceLocation, field_line: Option<u64>) -> PhysicalLocation {
    let mut physical = PhysicalLocation::builder()
        .artifact_location(ArtifactLocation::builder().uri(uri(&source.file)).build())
        .build();
    if let Some(line) = field_line.or((source.line > 0).then_some(source.line)) {
        physical.region = Some(
            Region::builder()
                .start_line(i64::try_from(line).unwrap_or(i64::MAX))
                .build(),
        );
    }
    physical
}

/// A repository-relative path as a relative URI reference: `/` kept, anything outside the
/// unreserved set percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn paths_become_relative_uris() {
        assert_eq!(uri("envs/prod/api.yaml"), "envs/prod/api.yaml");
        assert_eq!(uri("my dir/a#b.yaml"), "my%20dir/a%23b.yaml");
        assert_eq!(uri("é.yaml"), "%C3%A9.yaml");
    }
}
