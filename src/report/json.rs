//! The JSON report (schema: docs/report-schema.md). It only grows: fields are added, never renamed.

use super::Report;

pub fn render(report: &Report) -> String {
    // Serializing plain data (strings, numbers, maps with string keys) cannot fail.
    let mut text =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
