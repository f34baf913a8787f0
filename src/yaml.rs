//! The one place that parses YAML (and JSON) manifests.
//!
//! Everything else in plumb receives [`Document`]s: a `serde_json::Value` plus the file and line it
//! came from. Keeping the parser configuration here means every reader agrees on the same YAML
//! dialect — the one Kubernetes tools speak: multi-document streams, YAML 1.1 octals (`0644` is 420,
//! as Go's YAML reads it), duplicate keys last-wins, merge keys expanded, comment-only documents
//! skipped, and `kind: List` unwrapped into its items.

use serde_json::Value;
use std::fmt;

/// One parsed object and where it was written.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
    pub file: String,
    /// 1-based line of the document's first node (0 when unknown).
    pub line: u64,
}

/// A document that could not be parsed: names the file and line so the user can fix it.
#[derive(Debug, Clone, thiserror::Error)]
pub struct YamlError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

fn options() -> serde_saphyr::Options {
    // Real Helm output holds thousands of documents and deep CRD schemas: lift the limits that
    // guard against hostile input far above what any manifest reaches.
    let mut budget = serde_saphyr::Budget::default();
    budget.max_reader_input_bytes = None;
    budget.max_events = usize::MAX;
    budget.max_documents = usize::MAX;
    budget.max_nodes = usize::MAX;
    budget.max_depth = 1_000;
    budget.max_total_scalar_bytes = usize::MAX;
    budget.max_merge_keys = usize::MAX;
    budget.max_aliases = usize::MAX;
    budget.max_anchors = usize::MAX;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    options.merge_keys = serde_saphyr::MergeKeyPolicy::Merge;
    options.legacy_octal_numbers = true;
    options.with_snippet = false;
    options
}

/// Parses a YAML or JSON stream into its documents, unwrapping `kind: List`.
pub fn parse_documents(text: &str, file: &str) -> Result<Vec<Document>, YamlError> {
    let parsed = parse_values(text, file)?;
    let mut documents = Vec::with_capacity(parsed.len());
    for (value, line) in parsed {
        push_unwrapped(value, file, line, &mut documents)?;
    }
    Ok(documents)
}

/// Parses a YAML or JSON stream into its top-level values and their lines, as written (no List
/// unwrapping, comment-only documents skipped).
pub fn parse_values(text: &str, file: &str) -> Result<Vec<(Value, u64)>, YamlError> {
    let looks_like_json = text.trim_start().starts_with(['{', '[']);
    // JSON is YAML, but serde_json reads it several times faster; a JSON file that does not parse
    // as JSON is reported as JSON, anything else falls back to the YAML parser.
    let json = if looks_like_json {
        Some(parse_json(text, file))
    } else {
        None
    };
    match json {
        Some(Ok(parsed)) => Ok(parsed),
        Some(Err(e)) if file.ends_with(".json") => Err(e),
        _ => Ok(serde_saphyr::from_str_multiple_with_options::<
            serde_saphyr::Spanned<Value>,
            Vec<serde_saphyr::Spanned<Value>>,
        >(text, options())
        .map_err(|e| yaml_error(&e, file))?
        .into_iter()
        .filter(|spanned| !spanned.value.is_null())
        .map(|spanned| (spanned.value, spanned.referenced.line()))
        .collect()),
    }
}

/// Parses one YAML document into any deserializable type (configuration and policy files).
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str, file: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str_with_options(text, options()).map_err(|e| yaml_error(&e, file))
}

fn parse_json(text: &str, file: &str) -> Result<Vec<(Value, u64)>, YamlError> {
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    loop {
        let offset = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(value)) => {
                let skipped = text[offset..].len() - text[offset..].trim_start().len();
                let line = 1 + text[..offset + skipped].matches('\n').count() as u64;
                out.push((value, line));
            }
            Some(Err(e)) => {
                return Err(YamlError {
                    file: file.to_string(),
                    line: e.line() as u64,
                    column: e.column() as u64,
                    message: strip_json_position(&e.to_string()),
                });
            }
        }
    }
    Ok(out)
}

fn strip_json_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn yaml_error(error: &serde_saphyr::Error, file: &str) -> YamlError {
    let (line, column) = error
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let mut message = error.to_string();
    // The library appends its own position; ours comes first in a uniform format.
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    YamlError {
        file: file.to_string(),
        line,
        column,
        message,
    }
}

fn push_unwrapped(
    value: Value,
    file: &str,
    line: u64,
    out: &mut Vec<Document>,
) -> Result<(), YamlError> {
    match value {
        Value::Null => Ok(()),
        Value::Array(items) => {
            // A bare top-level sequence of objects (some tools write that): each item is an object.
            for item in items {
                push_unwrapped(item, file, line, out)?;
            }
            Ok(())
        }
        Value::Object(mut map) => {
            let is_list =
                map.get("kind").and_then(Value::as_str).is_some_and(|k| {
                    k == "List" || k.ends_with("List") && map.contains_key("items")
                }) && map
                    .get("items")
                    .is_some_and(|i| i.is_array() || i.is_null());
            if is_list {
                if let Some(Value::Array(items)) = map.remove("items") {
                    for item in items {
                        push_unwrapped(item, file, line, out)?;
                    }
                }
                return Ok(());
            }
            out.push(Document {
                value: Value::Object(map),
                file: file.to_string(),
                line,
            });
            Ok(())
        }
        other => Err(YamlError {
            file: file.to_string(),
            line,
            column: 1,
            message: format!(
                "expected a Kubernetes object (a mapping with apiVersion and kind), found {}",
                json_type_name(&other)
            ),
        }),
    }
}

pub fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Serializes a value as one YAML document (for `plumb render`).
pub fn to_yaml(value: &Value) -> String {
    // serde-saphyr's serializer never fails on a serde_json::Value (string keys, finite numbers).
    serde_saphyr::to_string(value).unwrap_or_else(|e| format!("# could not serialize: {e}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn multi_document_stream_keeps_lines_and_skips_comment_only_documents() {
        let text = "# just a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# nothing\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n";
        let docs = parse_documents(text, "x.yaml").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].value["metadata"]["name"], "a");
        assert_eq!(docs[0].line, 3);
        assert_eq!(docs[1].line, 9);
    }

    #[test]
    fn octal_duplicate_keys_and_merge_keys_follow_kubernetes_yaml() {
        let text = "base: &b {x: 1}\nmode: 0644\nk: 1\nk: 2\nm:\n  <<: *b\n  y: 2\n";
        let docs = parse_documents(text, "x.yaml").unwrap();
        let v = &docs[0].value;
        assert_eq!(v["mode"], 420);
        assert_eq!(v["k"], 2);
        assert_eq!(v["m"], json!({"x": 1, "y": 2}));
    }

    #[test]
    fn list_is_unwrapped() {
        let text = r#"{"apiVersion":"v1","kind":"List","items":[{"kind":"A"},{"kind":"B"}]}"#;
        let docs = parse_documents(text, "l.json").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].value["kind"], "B");
    }

    #[test]
    fn malformed_yaml_names_file_and_line() {
        let err = parse_documents("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml").unwrap_err();
        assert_eq!(err.file, "bad.yaml");
        assert!(err.line >= 2, "{err}");
        assert!(err.to_string().starts_with("bad.yaml:"), "{err}");
    }

    #[test]
    fn malformed_json_names_line() {
        let err = parse_documents("{\n \"a\": 1,\n \"b\": }\n", "bad.json").unwrap_err();
        assert_eq!(err.line, 3);
    }

    #[test]
    fn scalar_document_is_an_error() {
        assert!(parse_documents("just a string\n", "s.yaml").is_err());
    }
}
