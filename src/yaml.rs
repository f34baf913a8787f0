//! The one place that parses YAML (and JSON) manifests.
//!
//! Everything else in plumb receives [`Document`]s: a `serde_json::Value` plus the file and line it
//! came from. Keeping the parser configuration here means every reader agrees on the same YAML
//! dialect — the one Kubernetes tools speak: multi-document streams, YAML 1.1 octals (`0644` is 420,
//! as Go's YAML reads it), merge keys expanded, comment-only documents skipped, and `kind: List`
//! unwrapped into its items. A key written twice in one mapping is an error naming the key (as
//! kubectl and helm reject it): last-wins would let a second `action:` or `policies:` silently
//! replace the first.
//!
//! Hostile input is bounded here, while parsing and before anything recurses over a value: nesting
//! deeper than [`MAX_DEPTH`], more than [`MAX_YAML_ALIASES`] aliases, aliases expanding to more
//! than [`MAX_YAML_ALIAS_EXPANSION`] values (a "billion laughs" bomb), more than
//! [`MAX_YAML_NODES`] values. Error messages say which limit in plain words and never quote a
//! scalar value from the file: manifests, live files and policy tests hold Secrets.

use crate::limits::{MAX_DEPTH, MAX_YAML_ALIAS_EXPANSION, MAX_YAML_ALIASES, MAX_YAML_NODES};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;

/// One parsed object and where it was written.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
    pub file: String,
    /// 1-based line of the document's first node (0 when unknown).
    pub line: u64,
    /// What the source that brought it says of it (desired objects of rendered GitOps sources).
    pub origin: Option<std::sync::Arc<crate::model::Origin>>,
}

/// A document that could not be parsed: names the file and line so the user can fix it. The
/// message never holds a scalar value of the file (see [`without_values`]).
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
    // The size of a file is bounded before it is parsed (limits::MAX_*_BYTES); inside it, what
    // could crash or stall plumb is bounded: depth (the stack), aliases and what they expand to
    // (memory), nodes. Counts that only grow with the size of the file are not limited again.
    let mut budget = serde_saphyr::Budget::default();
    budget.max_reader_input_bytes = None;
    budget.max_events = usize::MAX;
    budget.max_documents = usize::MAX;
    budget.max_nodes = MAX_YAML_NODES;
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    budget.max_total_scalar_bytes = usize::MAX;
    budget.max_merge_keys = usize::MAX;
    budget.max_aliases = MAX_YAML_ALIASES;
    budget.max_anchors = usize::MAX;
    budget.max_recorded_anchor_events = MAX_YAML_ALIAS_EXPANSION;
    // Expansion is bounded directly (above and below), so a file that reuses one anchor many
    // times is not refused by a heuristic.
    budget.enforce_alias_anchor_ratio = false;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = MAX_YAML_ALIAS_EXPANSION;
    options.alias_limits.max_replay_stack_depth = MAX_DEPTH;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options.merge_keys = serde_saphyr::MergeKeyPolicy::Merge;
    options.legacy_octal_numbers = true;
    options.with_snippet = false;
    options
}

/// Parses a YAML or JSON stream into its documents, unwrapping `kind: List`.
pub fn parse_documents(text: &str, file: &str) -> Result<Vec<Document>, YamlError> {
    let parsed = parse_values(text, file)?;
    let mut documents = Vec::with_capacity(parsed.len());
    // Read a second time, with positions, only when the file holds a `kind: List`.
    let mut positioned: Option<Vec<serde_saphyr::Spanned<Positioned>>> = None;
    for (value, line) in parsed {
        let item_lines = if is_list(&value) {
            let documents = positioned.get_or_insert_with(|| {
                serde_saphyr::from_str_multiple_with_options(text, options()).unwrap_or_default()
            });
            list_item_lines(documents, line)
        } else {
            Vec::new()
        };
        push_unwrapped(value, file, line, &item_lines, &mut documents)?;
    }
    Ok(documents)
}

/// The line of each item of the `kind: List` document that starts on `line` (none when the
/// positions cannot be read: the items then keep the list's line).
fn list_item_lines(documents: &[serde_saphyr::Spanned<Positioned>], line: u64) -> Vec<u64> {
    documents
        .iter()
        .find(|d| d.referenced.line() == line)
        .and_then(|d| d.value.list_items())
        .map(|items| items.iter().map(|i| i.referenced.line()).collect())
        .unwrap_or_default()
}

/// Whether a value is a `kind: List` (or `*List` with items) that [`parse_documents`] unwraps.
fn is_list(value: &Value) -> bool {
    value.as_object().is_some_and(is_list_map)
}

fn is_list_map(map: &serde_json::Map<String, Value>) -> bool {
    map.get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k == "List" || k.ends_with("List") && map.contains_key("items"))
        && map
            .get("items")
            .is_some_and(|i| i.is_array() || i.is_null())
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
        .map_err(|e| yaml_error(&e, file, Values::Redacted))?
        .into_iter()
        .filter(|spanned| !spanned.value.is_null())
        .map(|spanned| (spanned.value, spanned.referenced.line()))
        .collect()),
    }
}

/// Parses one YAML document into any deserializable type, for files that hold no secrets
/// (plumb.yaml, policy files): a message may quote the value it refuses (``unknown variant
/// `permit` ``), which is what the user needs to see.
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str, file: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str_with_options(text, options())
        .map_err(|e| yaml_error(&e, file, Values::Quoted))
}

/// [`from_str`] for files that may hold Secret data (policy tests): no message quotes a value.
pub fn from_str_holding_secrets<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &str,
) -> Result<T, YamlError> {
    serde_saphyr::from_str_with_options(text, options())
        .map_err(|e| yaml_error(&e, file, Values::Redacted))
}

/// Whether an error message may quote a scalar value of the file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Values {
    Quoted,
    Redacted,
}

fn parse_json(text: &str, file: &str) -> Result<Vec<(Value, u64)>, YamlError> {
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<StrictJson>();
    loop {
        let offset = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(StrictJson(value))) => {
                let skipped = text[offset..].len() - text[offset..].trim_start().len();
                let line = 1 + text[..offset + skipped].matches('\n').count() as u64;
                out.push((value, line));
            }
            Some(Err(e)) => {
                let message = strip_json_position(&e.to_string());
                // serde_json stops at its fixed recursion limit, the same bound as MAX_DEPTH.
                let message = if message.starts_with("recursion limit exceeded") {
                    too_deep()
                } else {
                    without_values(&message)
                };
                return Err(YamlError {
                    file: file.to_string(),
                    line: e.line() as u64,
                    column: e.column() as u64,
                    message,
                });
            }
        }
    }
    Ok(out)
}

/// A JSON value read as serde_json reads one, except that a key written twice in one object is an
/// error (serde_json keeps the last, silently).
struct StrictJson(Value);

impl<'de> Deserialize<'de> for StrictJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(StrictJsonVisitor)
            .map(StrictJson)
    }
}

struct StrictJsonVisitor;

impl<'de> Visitor<'de> for StrictJsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        StrictJson::deserialize(deserializer).map(|v| v.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(StrictJson(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match object.entry(key) {
                serde_json::map::Entry::Occupied(first) => {
                    return Err(de::Error::custom(duplicate_key(Some(first.key()))));
                }
                serde_json::map::Entry::Vacant(slot) => {
                    let StrictJson(value) = map.next_value()?;
                    slot.insert(value);
                }
            }
        }
        Ok(Value::Object(object))
    }
}

fn strip_json_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn too_deep() -> String {
    format!(
        "mappings and lists are nested more than {MAX_DEPTH} levels deep here (plumb's limit for any value; real manifests stay far below it)"
    )
}

fn duplicate_key(key: Option<&str>) -> String {
    match key {
        Some(key) => format!(
            "the key `{key}` is written twice in one mapping; remove one of them (like kubectl, plumb refuses duplicate keys: silently keeping the last one would hide the first)"
        ),
        None => "a key is written twice in one mapping; remove one of them (like kubectl, plumb refuses duplicate keys)".to_string(),
    }
}

fn alias_bomb() -> String {
    format!(
        "YAML aliases here expand to more than {MAX_YAML_ALIAS_EXPANSION} values (plumb's limit on alias expansion, against \"billion laughs\" alias bombs)"
    )
}

/// The error in plain words: which limit was exceeded, which key is duplicated, and no scalar
/// value of the file unless `values` allows it.
fn describe(error: &serde_saphyr::Error, values: Values) -> String {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach as B;
    match error {
        E::AliasError { error, .. } => describe(error, values),
        E::WithSnippet { error, .. } => describe(error, values),
        E::DuplicateMappingKey { key, .. } => duplicate_key(key.as_deref()),
        E::Budget { breach, .. } => match breach {
            B::Depth { .. } => too_deep(),
            B::Aliases { .. } => format!(
                "more than {MAX_YAML_ALIASES} YAML aliases (*name) in one file (plumb's limit on aliases)"
            ),
            B::Nodes { .. } => format!(
                "more than {MAX_YAML_NODES} values in one file (plumb's limit on the size of a YAML stream)"
            ),
            B::RecordedAnchorEvents { .. } | B::RecordedAnchorBytes { .. } => alias_bomb(),
            other => format!("the file exceeds one of plumb's YAML limits ({other:?})"),
        },
        E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => alias_bomb(),
        E::QuotingRequired { .. } if values == Values::Redacted => {
            "this value must be quoted".to_string()
        }
        E::NonFiniteFloat { .. } if values == Values::Redacted => {
            "a number here is not finite".to_string()
        }
        other => {
            let mut message = other.to_string();
            // The library appends its own position; ours comes first in a uniform format.
            if let Some(i) = message.find(" at line ") {
                message.truncate(i);
            }
            if message.starts_with("recursion limit exceeded") {
                // The scanner's own nesting bound, set to the same limit.
                return too_deep();
            }
            match values {
                Values::Quoted => message,
                Values::Redacted => without_values(&message),
            }
        }
    }
}

/// `message` without the scalar values a parser quotes in it (`invalid type: string "hunter2"`,
/// ``unknown variant `hunter2` ``): a file that did not parse may hold Secret data, and its values
/// must not reach an error message. Keys (unknown fields, duplicate keys) are kept: they name
/// what to fix.
pub fn without_values(message: &str) -> String {
    const VALUE_KINDS: [&str; 6] = [
        "string ",
        "integer ",
        "floating point ",
        "boolean ",
        "character ",
        "variant ",
    ];
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[i] as char;
        let before = &rest[..i];
        let is_value = quote == '"' || VALUE_KINDS.iter().any(|kind| before.ends_with(kind));
        let Some(len) = quoted_len(&rest[i..], quote) else {
            // An unclosed quote: what follows may be the value itself.
            if is_value {
                out.push_str(before.trim_end_matches(' '));
                rest = "";
            }
            break;
        };
        if is_value {
            out.push_str(before.trim_end_matches(' '));
        } else {
            out.push_str(&rest[..i + len]);
        }
        rest = &rest[i + len..];
    }
    out.push_str(rest);
    out
}

/// The length of the quoted segment at the start of `text` (both quotes included), honouring
/// backslash escapes; none when it is not closed.
fn quoted_len(text: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            '\\' if !escaped => escaped = true,
            c if c == quote && !escaped => return Some(i + c.len_utf8()),
            _ => escaped = false,
        }
    }
    None
}

fn yaml_error(error: &serde_saphyr::Error, file: &str, values: Values) -> YamlError {
    let (line, column) = error
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    YamlError {
        file: file.to_string(),
        line,
        column,
        message: describe(error, values),
    }
}

/// Which object of a file a finding is about: where the report says it starts (0 for a rendered
/// object, whose line in the tool's output is no line of the file) and its kind and name.
#[derive(Debug, Clone, Copy)]
pub struct ObjectAt<'a> {
    pub line: u64,
    pub kind: &'a str,
    pub name: &'a str,
}

/// A file's YAML with the line of every key and list entry, to find the 1-based line of the field
/// `path` names inside `object` ([`PositionedFile::field_line`]): the line of the field's
/// key, or of the list entry a selector or index picks. A path that leaves what the file writes (a
/// field only the other side has, a value a renderer, patch or normalization made) gives the line
/// of its deepest part the file has; none when not even its first part is there or the object is
/// not found. Values are never read out of the file: only keys, selector fields, kinds and names
/// are compared.
///
/// The object is the document (or `kind: List` item) starting on its line, or for a rendered
/// object (line 0) the one of its kind and name in the file a renderer named — the resource file
/// of a Kustomize base, where a `namePrefix` may have changed the name, so the only object of its
/// kind will do too. A file that is not YAML before rendering (a Helm template) is read as text:
/// see [`template_field_line`]. Parsed once, however many findings point into it.
pub struct PositionedFile {
    text: String,
    /// None when the text is not YAML (a Helm template).
    documents: Option<Vec<serde_saphyr::Spanned<Positioned>>>,
}

impl PositionedFile {
    pub fn parse(text: String) -> PositionedFile {
        let documents = serde_saphyr::from_str_multiple_with_options(&text, options()).ok();
        PositionedFile { text, documents }
    }

    pub fn field_line(&self, object: ObjectAt, path: &crate::diff::path::Path) -> Option<u64> {
        match &self.documents {
            Some(documents) => field_line(documents, object, path),
            None if object.line == 0 => template_field_line(&self.text, object.kind, path),
            None => None,
        }
    }
}

fn field_line(
    documents: &[serde_saphyr::Spanned<Positioned>],
    object: ObjectAt,
    path: &crate::diff::path::Path,
) -> Option<u64> {
    // Every object of the file: its documents, and the items of the Lists among them.
    let objects: Vec<&serde_saphyr::Spanned<Positioned>> = documents
        .iter()
        .flat_map(|d| match d.value.list_items() {
            Some(items) => items.iter().collect(),
            None => vec![d],
        })
        .collect();
    let is_named = |o: &serde_saphyr::Spanned<Positioned>| {
        o.value.scalar_at(&["kind"]) == Some(object.kind)
            && o.value.scalar_at(&["metadata", "name"]) == Some(object.name)
    };
    let candidates: Vec<_> = if object.line > 0 {
        let at_line = |o: &&serde_saphyr::Spanned<Positioned>| o.referenced.line() == object.line;
        objects.into_iter().filter(at_line).collect()
    } else {
        let of_kind = |o: &&serde_saphyr::Spanned<Positioned>| {
            o.value.scalar_at(&["kind"]) == Some(object.kind)
        };
        objects.into_iter().filter(of_kind).collect()
    };
    // The one named so; else, on a line, the first there; else the only one of its kind.
    let found = match candidates.iter().find(|o| is_named(o)) {
        Some(named) => named,
        None if object.line > 0 || candidates.len() == 1 => candidates.first()?,
        None => return None,
    };
    let mut node = &found.value;
    let mut line = None;
    for segment in &path.0 {
        let Some((at, child)) = node.child(segment) else {
            break;
        };
        line = Some(at);
        node = child;
    }
    line
}

/// [`PositionedFile::field_line`] for a Helm template, which is text until Helm renders it: from the document
/// that declares `kind: <kind>` (the file's first when none does), each key of the path is the
/// first line below its parent, indented deeper, that writes `key:`; a selector `[name=api]` is
/// the first deeper line writing `name: api`. An index, or a key written by a template function
/// (`{{- toYaml .Values.resources | nindent 12 }}`), ends the walk at the deepest part found. A
/// best effort that can only point at a line of the right file, never at a wrong object's value.
fn template_field_line(text: &str, kind: &str, path: &crate::diff::path::Path) -> Option<u64> {
    use crate::diff::path::Segment;
    let lines: Vec<&str> = text.lines().collect();
    // The document declaring the kind: from the `---` before its `kind:` line to the next `---`.
    let kind_line = lines
        .iter()
        .position(|l| l.strip_prefix("kind:").is_some_and(|k| k.trim() == kind));
    let start = kind_line
        .and_then(|k| lines[..k].iter().rposition(|l| l.starts_with("---")))
        .map_or(0, |separator| separator + 1);
    let end = lines[start..]
        .iter()
        .position(|l| l.starts_with("---"))
        .map_or(lines.len(), |n| start + n);
    let (mut from, mut parent_indent, mut found) = (start, None::<usize>, None);
    for segment in &path.0 {
        let wanted = match segment {
            Segment::Key(key) => format!("{key}:"),
            Segment::Select(pairs) => match pairs.as_slice() {
                [(field, value)] => format!("{field}: {value}"),
                _ => break,
            },
            Segment::Index(_) => break,
        };
        let mut hit = None;
        for (index, line) in lines.iter().enumerate().take(end).skip(from) {
            let content = line.trim_start();
            let indent = line.len() - content.len();
            let is_yaml = !content.is_empty() && !content.starts_with(['#', '{']);
            if is_yaml && parent_indent.is_some_and(|p| indent <= p) {
                break; // left the parent's block
            }
            let (content, indent) = match content.strip_prefix("- ") {
                Some(rest) => (rest.trim_start(), line.len() - rest.trim_start().len()),
                None => (content, indent),
            };
            let writes = content == wanted
                || content.starts_with(&wanted)
                    && (matches!(segment, Segment::Key(_))
                        || content[wanted.len()..].trim_start().starts_with('#'));
            if is_yaml && writes {
                hit = Some((index, indent));
                break;
            }
        }
        let Some((index, indent)) = hit else { break };
        found = Some(index as u64 + 1);
        from = index + 1;
        parent_indent = Some(match segment {
            // A list entry's own keys sit at its indentation; its children deeper.
            Segment::Select(_) => indent.saturating_sub(1),
            _ => indent,
        });
    }
    found
}

/// A YAML node that remembers where each key and list entry was written: enough to point at a
/// field, nothing more (scalars keep their value only to match selectors such as `[name=api]`).
#[derive(Debug)]
enum Positioned {
    Map(Vec<(serde_saphyr::Spanned<Value>, Positioned)>),
    Seq(Vec<serde_saphyr::Spanned<Positioned>>),
    Scalar(Value),
}

impl Positioned {
    /// A `kind: List` document's items.
    fn list_items(&self) -> Option<&[serde_saphyr::Spanned<Positioned>]> {
        let Positioned::Map(entries) = self else {
            return None;
        };
        let kind = self.scalar_at(&["kind"])?;
        if kind != "List" && !kind.ends_with("List") {
            return None;
        }
        entries.iter().find_map(|(k, v)| match v {
            Positioned::Seq(items) if k.value == "items" => Some(items.as_slice()),
            _ => None,
        })
    }

    /// The string at a path of keys, e.g. `["metadata", "name"]`.
    fn scalar_at(&self, keys: &[&str]) -> Option<&str> {
        let mut node = self;
        for key in keys {
            let Positioned::Map(entries) = node else {
                return None;
            };
            node = &entries.iter().find(|(k, _)| k.value == *key)?.1;
        }
        match node {
            Positioned::Scalar(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The line and node of one step of a path.
    fn child(&self, segment: &crate::diff::path::Segment) -> Option<(u64, &Positioned)> {
        use crate::diff::path::{Segment, key_text};
        match (segment, self) {
            (Segment::Key(key), Positioned::Map(entries)) => entries
                .iter()
                .find(|(k, _)| key_text(&k.value) == *key)
                .map(|(k, v)| (k.referenced.line(), v)),
            (Segment::Index(index), Positioned::Seq(items)) => items
                .get(*index)
                .map(|item| (item.referenced.line(), &item.value)),
            (Segment::Select(pairs), Positioned::Seq(items)) => items
                .iter()
                .find(|item| {
                    pairs.iter().all(|(field, want)| match &item.value {
                        Positioned::Map(entries) => entries.iter().any(|(k, v)| {
                            key_text(&k.value) == *field
                                && matches!(v, Positioned::Scalar(s) if key_text(s) == *want)
                        }),
                        _ => false,
                    })
                })
                .map(|item| (item.referenced.line(), &item.value)),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Positioned {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PositionedVisitor;
        impl<'de> Visitor<'de> for PositionedVisitor {
            type Value = Positioned;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a YAML value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Positioned, E> {
                Ok(Positioned::Scalar(Value::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Positioned, E> {
                Ok(Positioned::Scalar(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Positioned, E> {
                Ok(Positioned::Scalar(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Positioned, E> {
                Ok(Positioned::Scalar(v.into()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Positioned, E> {
                Ok(Positioned::Scalar(Value::String(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Positioned, E> {
                Ok(Positioned::Scalar(Value::Null))
            }
            fn visit_none<E: de::Error>(self) -> Result<Positioned, E> {
                Ok(Positioned::Scalar(Value::Null))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Positioned, D::Error> {
                Positioned::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Positioned, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Positioned::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Positioned, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Positioned::Map(entries))
            }
        }
        deserializer.deserialize_any(PositionedVisitor)
    }
}

/// Pushes `value` as one document, or each item of a List or bare sequence as its own; a List's
/// items take their lines from `item_lines` (the top-level List's only), else the list's line.
fn push_unwrapped(
    value: Value,
    file: &str,
    line: u64,
    item_lines: &[u64],
    out: &mut Vec<Document>,
) -> Result<(), YamlError> {
    match value {
        Value::Null => Ok(()),
        Value::Array(items) => {
            // A bare top-level sequence of objects (some tools write that): each item is an object.
            for item in items {
                push_unwrapped(item, file, line, &[], out)?;
            }
            Ok(())
        }
        Value::Object(mut map) => {
            if is_list_map(&map) {
                if let Some(Value::Array(items)) = map.remove("items") {
                    for (index, item) in items.into_iter().enumerate() {
                        let line = item_lines.get(index).copied().unwrap_or(line);
                        push_unwrapped(item, file, line, &[], out)?;
                    }
                }
                return Ok(());
            }
            out.push(Document {
                value: Value::Object(map),
                file: file.to_string(),
                line,
                origin: None,
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

    fn field_line(text: &str, object: ObjectAt, path: &crate::diff::path::Path) -> Option<u64> {
        PositionedFile::parse(text.to_string()).field_line(object, path)
    }

    #[test]
    fn a_field_line_is_its_key_or_list_entry_line() {
        use crate::diff::path::Path;
        let text = "# a comment\n---\nkind: ConfigMap\n---\napiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: side\n          image: s:1\n        - name: api\n          ports: [{containerPort: 80}]\n          image: a:1\n";
        let docs = parse_documents(text, "f.yaml").unwrap();
        let at = |line| ObjectAt {
            line,
            kind: "Deployment",
            name: "x",
        };
        let line = |p: &str| field_line(text, at(docs[1].line), &Path::parse(p).unwrap());
        assert_eq!(
            line("spec.template.spec.containers[name=api].image"),
            Some(15)
        );
        assert_eq!(line("spec.template.spec.containers[name=api]"), Some(13));
        assert_eq!(
            line("spec.template.spec.containers[1].ports[containerPort=80]"),
            Some(14)
        );
        // A field the file does not write: its deepest part that it does.
        assert_eq!(
            line("spec.template.spec.containers[name=api].resources.limits"),
            Some(13)
        );
        assert_eq!(line("metadata.name"), None);
        assert_eq!(
            field_line(text, at(99), &Path::parse("kind").unwrap()),
            None
        );
    }

    #[test]
    fn list_items_have_their_own_lines_and_fields() {
        use crate::diff::path::Path;
        let text = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: a}\n    data: {k: v}\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: b}\n    data:\n      k: v\n";
        let docs = parse_documents(text, "l.yaml").unwrap();
        assert_eq!(docs.iter().map(|d| d.line).collect::<Vec<_>>(), [4, 8]);
        let at = ObjectAt {
            line: docs[1].line,
            kind: "ConfigMap",
            name: "b",
        };
        assert_eq!(
            field_line(text, at, &Path::parse("data.k").unwrap()),
            Some(12)
        );
        // JSON, all on one line: the items share it, and the name tells them apart.
        let json = r#"{"apiVersion":"v1","kind":"List","items":[{"kind":"ConfigMap","metadata":{"name":"a"}},{"kind":"ConfigMap","metadata":{"name":"b"},"data":{"k":"v"}}]}"#;
        let docs = parse_documents(json, "l.json").unwrap();
        assert_eq!(docs.iter().map(|d| d.line).collect::<Vec<_>>(), [1, 1]);
        let at = ObjectAt {
            line: 1,
            kind: "ConfigMap",
            name: "b",
        };
        assert_eq!(
            field_line(json, at, &Path::parse("data.k").unwrap()),
            Some(1)
        );
    }

    #[test]
    fn a_rendered_object_is_found_by_kind_and_name_or_as_the_only_one_of_its_kind() {
        use crate::diff::path::Path;
        let text = "apiVersion: v1\nkind: Service\nmetadata: {name: api}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  replicas: 1\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: worker}\nspec:\n  replicas: 2\n";
        let path = Path::parse("spec.replicas").unwrap();
        let at = |kind, name| ObjectAt {
            line: 0,
            kind,
            name,
        };
        assert_eq!(
            field_line(text, at("Deployment", "worker"), &path),
            Some(15)
        );
        assert_eq!(field_line(text, at("Deployment", "api"), &path), Some(9));
        // A namePrefix renamed it: two Deployments, neither so named, is no answer.
        assert_eq!(field_line(text, at("Deployment", "prod-api"), &path), None);
        let ports = Path::parse("metadata").unwrap();
        assert_eq!(field_line(text, at("Service", "prod-api"), &ports), Some(3));
    }

    #[test]
    fn a_helm_template_is_walked_by_indentation() {
        use crate::diff::path::Path;
        let text = "{{- if .Values.enabled }}\n---\napiVersion: v1\nkind: Service\nspec:\n  ports: [{port: 80}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"web.fullname\" . }}\n  labels:\n    {{- include \"web.labels\" . | nindent 4 }}\nspec:\n  replicas: {{ .Values.replicas }}\n  template:\n    spec:\n      containers:\n        - name: sidecar\n          image: \"busybox\"\n        - name: api\n          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n          resources:\n            {{- toYaml .Values.resources | nindent 12 }}\n{{- end }}\n";
        assert!(serde_saphyr::from_str::<Value>(text).is_err(), "not YAML");
        let at = ObjectAt {
            line: 0,
            kind: "Deployment",
            name: "web",
        };
        let line = |p: &str| field_line(text, at, &Path::parse(p).unwrap());
        assert_eq!(
            line("spec.template.spec.containers[name=api].image"),
            Some(22)
        );
        assert_eq!(
            line("spec.template.spec.containers[name=sidecar].image"),
            Some(20)
        );
        assert_eq!(line("spec.replicas"), Some(15));
        // Written by a template function: the deepest part written out.
        assert_eq!(
            line("spec.template.spec.containers[name=api].resources.limits.cpu"),
            Some(23)
        );
        assert_eq!(line("metadata.labels.app"), Some(12));
        // The Service's spec.ports is another document's: this one's spec.
        assert_eq!(line("spec.ports"), Some(14));
        // A file the YAML parser reads is never walked as text.
        let at_line = ObjectAt { line: 3, ..at };
        assert_eq!(
            field_line(text, at_line, &Path::parse("spec").unwrap()),
            None
        );
    }

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
    fn octal_and_merge_keys_follow_kubernetes_yaml() {
        let text = "base: &b {x: 1, z: 3}\nmode: 0644\nm:\n  <<: *b\n  y: 2\n  z: 4\n";
        let docs = parse_documents(text, "x.yaml").unwrap();
        let v = &docs[0].value;
        assert_eq!(v["mode"], 420);
        // A key written beside a merge overrides the merged one: that is no duplicate.
        assert_eq!(v["m"], json!({"x": 1, "y": 2, "z": 4}));
    }

    #[test]
    fn a_duplicate_key_is_an_error_naming_the_key_and_its_line() {
        // This used to read as `k: 2` (last-wins); kubectl refuses it, and so does plumb.
        for (text, file) in [
            ("a: 1\nk: 1\nk: 2\n", "x.yaml"),
            ("a: 1\nm:\n  k: 1\n  k: 2\n", "x.yaml"),
            ("{\"a\": 1,\n \"k\": 1,\n \"k\": 2}\n", "x.json"),
            ("{\"a\": {\"b\": [{\n \"k\": 1, \"k\": 2}]}}\n", "x.yaml"),
        ] {
            let err = parse_documents(text, file).unwrap_err();
            assert!(
                err.message.contains("the key `k` is written twice"),
                "{err}"
            );
            assert!(err.line >= 2, "{text}: {err}");
        }
        let err = from_str::<serde_json::Value>("a: 1\na: 2\n", "plumb.yaml").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
    }

    /// `containers` nested flow lists around a scalar, in YAML (and JSON) syntax.
    fn nested_flow(containers: usize) -> String {
        format!("{}1{}", "[".repeat(containers), "]".repeat(containers))
    }

    /// `containers` nested block mappings and lists around a scalar.
    fn nested_block(containers: usize) -> String {
        let mut text = String::new();
        for level in 0..containers {
            let indent = "  ".repeat(level);
            if level % 2 == 0 {
                text.push_str(&format!("{indent}k:\n"));
            } else {
                text.push_str(&format!("{indent}- \n"));
            }
        }
        text.push_str(&format!("{}1\n", "  ".repeat(containers)));
        text
    }

    /// Runs `f` on a thread with the stack plumb gives every thread that parses (a test's own
    /// thread has 2 MiB).
    fn on_plumb_stack(f: impl FnOnce() + Send + 'static) {
        std::thread::Builder::new()
            .stack_size(crate::limits::STACK_BYTES)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn depth_is_bounded_alike_in_yaml_and_json_with_the_value_at_the_limit_accepted() {
        on_plumb_stack(depth_is_bounded);
    }

    fn depth_is_bounded() {
        let at_limit = [nested_flow(MAX_DEPTH), nested_block(MAX_DEPTH)];
        for text in &at_limit {
            parse_values(text, "deep.yaml").unwrap_or_else(|e| panic!("{e}"));
        }
        parse_values(&nested_flow(MAX_DEPTH), "deep.json").unwrap();
        for (text, file) in [
            (nested_flow(MAX_DEPTH + 1), "deep.yaml"),
            (nested_block(MAX_DEPTH + 1), "deep.yaml"),
            (nested_flow(MAX_DEPTH + 1), "deep.json"),
            (nested_block(600), "deep.yaml"),
        ] {
            let err = parse_values(&text, file).unwrap_err();
            assert!(
                err.message
                    .contains(&format!("nested more than {MAX_DEPTH} levels")),
                "{file}: {err}"
            );
            assert!(err.line > 0, "{err}");
        }
    }

    #[test]
    fn an_alias_bomb_names_the_limit_in_plain_words() {
        let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (previous, name) in "abcdefgh".chars().zip("bcdefghi".chars()) {
            let uses = vec![format!("*{previous}"); 9].join(", ");
            text.push_str(&format!("{name}: &{name} [{uses}]\n"));
        }
        let err = parse_values(&text, "bomb.yaml").unwrap_err();
        assert!(
            err.message.contains("aliases here expand to more than"),
            "{err}"
        );
        assert!(!err.message.contains('{'), "no debug struct: {err}");
        assert!(err.line > 1, "{err}");
    }

    #[test]
    fn parser_messages_never_quote_a_value() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        enum Choice {
            A,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Typed {
            choice: Choice,
            name: Option<String>,
        }
        for text in ["choice: hunter2\n", "choice: A\nname: [hunter2]\n"] {
            let err = from_str_holding_secrets::<Typed>(text, "t.yaml").unwrap_err();
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
        let err = parse_values("a: !!int hunter2\n", "t.yaml").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        // plumb.yaml and policy files hold no secrets: the refused value helps there.
        let err = from_str::<Typed>("choice: hunter2\n", "t.yaml").unwrap_err();
        assert!(err.to_string().contains("hunter2"), "{err}");
        assert_eq!(
            without_values("invalid type: string \"hunter2\", expected u32"),
            "invalid type: string, expected u32"
        );
        assert_eq!(
            without_values("unknown variant `hunter2`, expected `a` or `b`"),
            "unknown variant, expected `a` or `b`"
        );
        assert_eq!(
            without_values("unknown field `lef`, expected `left`"),
            "unknown field `lef`, expected `left`"
        );
        assert_eq!(
            without_values("invalid value: integer `42`, expected x"),
            "invalid value: integer, expected x"
        );
        assert_eq!(without_values("bad string \"hunt"), "bad string");
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
