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
use serde_json::{Value, json};
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
    let mut rules: Vec<(String, Value)> = Vec::new();
    let mut index_of: BTreeMap<String, usize> = BTreeMap::new();
    for f in &results_of {
        let id = rule_id(f);
        if !index_of.contains_key(&id) {
            index_of.insert(id.clone(), rules.len());
            rules.push((id.clone(), rule(f, &id, report)));
        }
    }

    let results: Vec<Value> = results_of
        .iter()
        .map(|f| {
            let id = rule_id(f);
            result(f, &id, index_of.get(&id).copied().unwrap_or(0), fallback)
        })
        .collect();

    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            let what = e.source.as_deref().or(e.resource.as_deref()).unwrap_or("");
            json!({
                "level": "error",
                "message": {"text": format!("{} [{}] {}: {}", e.env, e.kind, what, e.message)},
                "descriptor": {"id": format!("plumb/incomplete/{}", e.kind)},
            })
        })
        .collect();

    let envs: Vec<&str> = report
        .inputs
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "plumb",
            "version": report.tool.version,
            "semanticVersion": report.tool.version,
            "rules": rules.into_iter().map(|(_, r)| r).collect::<Vec<_>>(),
        }},
        // One category per command and environments, so uploads of several runs (drift
        // production, parity staging..production) do not close each other's alerts.
        "automationDetails": {"id": format!("plumb/{}/{}/", report.command, envs.join("..")) },
        "invocations": [{
            "executionSuccessful": report.summary.complete,
            "endTimeUtc": report.generated_at,
            "toolExecutionNotifications": notifications,
        }],
        "results": results,
        "properties": {
            "complete": report.summary.complete,
            "expectedOmitted": report.findings.iter().filter(|f| f.status == Status::Expected).count(),
            "withoutLocationOmitted": unlocated,
        },
    });
    if let Some(commit) = &report.inputs.commit {
        run["properties"]["commit"] = json!(commit);
    }
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    });
    let mut text = serde_json::to_string_pretty(&log)
        // Serializing plain JSON values cannot fail; say so rather than panic if it ever did.
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

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
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

fn rule(f: &Finding, id: &str, report: &Report) -> Value {
    let text = description(id, f, report);
    json!({
        "id": id,
        "name": id,
        "shortDescription": {"text": text},
        "fullDescription": {"text": text},
        "defaultConfiguration": {"level": level(f.severity)},
        "properties": {"tags": ["kubernetes", "plumb", f.kind.as_str()]},
    })
}

fn result(f: &Finding, id: &str, index: usize, fallback: Option<&str>) -> Value {
    let mut text = format!("{} [{}]", resource_label(f), scope_label(&f.envs));
    if !f.path.is_empty() {
        text.push_str(&format!(" {} — {}", f.path, change_line(f, VALUE_MAX)));
    }
    text.push_str(&format!(": {}", f.message));

    let mut logical = json!({
        "name": f.resource.name,
        "fullyQualifiedName": format!("{}/{}", super::common::scope_label(&f.envs), resource_label(f)),
        "kind": "resource",
    });
    if !f.path.is_empty() {
        logical["fullyQualifiedName"] = json!(format!(
            "{}/{}/{}",
            scope_label(&f.envs),
            resource_label(f),
            f.path
        ));
    }
    let mut location = json!({"logicalLocations": [logical]});
    if let Some(source) = &f.source {
        location["physicalLocation"] = physical(source, f.field_lines.source);
    } else if let Some(config) = fallback {
        location["physicalLocation"] = json!({"artifactLocation": {"uri": uri(config)}});
    }

    let mut result = json!({
        "ruleId": id,
        "ruleIndex": index,
        "level": level(f.severity),
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {"plumbFindingId/v1": f.id},
        "properties": {
            "kind": f.kind.as_str(),
            "status": f.status.as_str(),
            "severity": f.severity.as_str(),
            "envs": f.envs,
            "resource": f.resource,
            "path": f.path,
        },
    });
    // Parity: where the other environment declares the object too.
    if let (Some(other), Some(env)) = (&f.other_source, f.envs.get(1)) {
        result["relatedLocations"] = json!([{
            "id": 1,
            "physicalLocation": physical(other, f.field_lines.other_source),
            "message": {"text": format!("{env} declares it here")},
        }]);
    }
    // With --baseline, code scanning can tell new results from ones it has seen.
    match f.baseline {
        Some(super::baseline::BaselineStatus::New) => result["baselineState"] = json!("new"),
        Some(super::baseline::BaselineStatus::Recurring) => {
            result["baselineState"] = json!("unchanged")
        }
        None => {}
    }
    if f.status == Status::Waived {
        result["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": f.message.split_once(" — ").map(|(_, n)| n).unwrap_or(&f.message),
        }]);
    }
    result
}

/// A file in Git and the line to point at: the field's own line where the edge found it in the
/// file (app/lines.rs), else the object's first line; a rendered object (line 0) whose field
/// was not found is the file alone.
fn physical(source: &crate::model::SourceLocation, field_line: Option<u64>) -> Value {
    let mut physical = json!({"artifactLocation": {"uri": uri(&source.file)}});
    if let Some(line) = field_line.or((source.line > 0).then_some(source.line)) {
        physical["region"] = json!({"startLine": line});
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
