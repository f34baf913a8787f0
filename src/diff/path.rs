//! Paths that name a field by keys, never by position where a key exists:
//! `spec.template.spec.containers[name=api].env[name=LOG_LEVEL].value`,
//! `metadata.annotations["example.com/owner"]`, `spec.ports[port=80,protocol=TCP]`, `args[3]`.
//!
//! The same syntax is printed in every output and read back in policy files, so [`Path::parse`]
//! accepts exactly what [`Path`]'s `Display` writes.

use serde_json::Value;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A list entry chosen by the values of its key fields, e.g. `[port=80,protocol=TCP]`.
    Select(Vec<(String, String)>),
    /// A list entry by position, for lists without keys.
    Index(usize),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(pub Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path `{path}` at character {position}: {message}")]
pub struct PathError {
    pub path: String,
    pub position: usize,
    pub message: String,
}

/// A key or selector value that needs no quoting.
fn is_bare(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn quoted(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if is_bare(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                Segment::Key(key) => write!(f, "[{}]", quoted(key))?,
                Segment::Select(pairs) => {
                    f.write_str("[")?;
                    for (j, (field, value)) in pairs.iter().enumerate() {
                        if j > 0 {
                            f.write_str(",")?;
                        }
                        let value = if is_bare(value) {
                            value.clone()
                        } else {
                            quoted(value)
                        };
                        write!(f, "{field}={value}")?;
                    }
                    f.write_str("]")?;
                }
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

impl Path {
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn push(&mut self, segment: Segment) {
        self.0.push(segment);
    }

    pub fn pop(&mut self) {
        self.0.pop();
    }

    /// Parses the syntax `Display` writes.
    pub fn parse(text: &str) -> Result<Path, PathError> {
        Parser { text, pos: 0 }.parse()
    }

    /// The value this path names inside `value`, if it is there.
    pub fn resolve<'a>(&self, value: &'a Value) -> Option<&'a Value> {
        let mut current = value;
        for segment in &self.0 {
            current = match segment {
                Segment::Key(key) => current.as_object()?.get(key)?,
                Segment::Index(index) => current.as_array()?.get(*index)?,
                Segment::Select(pairs) => current.as_array()?.iter().find(|entry| {
                    pairs
                        .iter()
                        .all(|(f, v)| entry.get(f).is_some_and(|x| key_text(x) == *v))
                })?,
            };
        }
        Some(current)
    }

    /// Removes the field this path names from `value`, and then every object the removal left
    /// empty (an empty object equals an absent one, docs/architecture.md, prepare). Whether anything was removed.
    pub fn remove(&self, value: &mut Value) -> bool {
        remove_at(&self.0, value)
    }
}

fn remove_at(segments: &[Segment], value: &mut Value) -> bool {
    let Some((first, rest)) = segments.split_first() else {
        return false;
    };
    match (first, value) {
        (Segment::Key(key), Value::Object(map)) => {
            if rest.is_empty() {
                return map.remove(key).is_some();
            }
            let Some(child) = map.get_mut(key) else {
                return false;
            };
            let removed = remove_at(rest, child);
            if removed && child.as_object().is_some_and(|m| m.is_empty()) {
                map.remove(key);
            }
            removed
        }
        (Segment::Index(index), Value::Array(items)) => match items.get_mut(*index) {
            Some(child) if !rest.is_empty() => remove_at(rest, child),
            Some(_) => {
                items.remove(*index);
                true
            }
            None => false,
        },
        (Segment::Select(pairs), Value::Array(items)) => {
            let position = items.iter().position(|entry| {
                pairs
                    .iter()
                    .all(|(f, v)| entry.get(f).is_some_and(|x| key_text(x) == *v))
            });
            match position {
                Some(i) if rest.is_empty() => {
                    items.remove(i);
                    true
                }
                Some(i) => remove_at(rest, &mut items[i]),
                None => false,
            }
        }
        _ => false,
    }
}

/// The text a key field's value is written as in a selector: strings as they are, numbers and
/// booleans in JSON.
pub fn key_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, message: &str) -> PathError {
        PathError {
            path: self.text.to_string(),
            position: self.pos + 1,
            message: message.to_string(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn parse(mut self) -> Result<Path, PathError> {
        let mut segments = Vec::new();
        let mut first = true;
        while let Some(b) = self.peek() {
            match b {
                b'.' if !first => {
                    self.pos += 1;
                    segments.push(Segment::Key(self.bare("a key after `.`")?));
                }
                b'[' => {
                    self.pos += 1;
                    segments.push(self.bracket()?);
                }
                _ if first => segments.push(Segment::Key(self.bare("a key")?)),
                _ => return Err(self.error("expected `.` or `[`")),
            }
            first = false;
        }
        Ok(Path(segments))
    }

    /// A run of key characters.
    fn bare(&mut self, what: &str) -> Result<String, PathError> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
                self.pos += 1;
            } else {
                break;
            }
        }
        if start == self.pos {
            return Err(self.error(&format!("expected {what}")));
        }
        Ok(self.text[start..self.pos].to_string())
    }

    fn quoted(&mut self) -> Result<String, PathError> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut i = self.pos + 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'"' => {
                    let literal = &self.text[start..=i];
                    self.pos = i + 1;
                    return serde_json::from_str(literal).map_err(|e| self.error(&e.to_string()));
                }
                _ => i += 1,
            }
        }
        Err(self.error("unterminated string"))
    }

    fn bracket(&mut self) -> Result<Segment, PathError> {
        let segment = match self.peek() {
            Some(b'"') => Segment::Key(self.quoted()?),
            Some(b) if b.is_ascii_digit() => {
                let start = self.pos;
                while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    self.pos += 1;
                }
                let index = self.text[start..self.pos]
                    .parse()
                    .map_err(|_| self.error("index too large"))?;
                Segment::Index(index)
            }
            _ => {
                let mut pairs = Vec::new();
                loop {
                    let field = self.bare("a key field name")?;
                    if self.peek() != Some(b'=') {
                        return Err(self.error("expected `=` in a selector"));
                    }
                    self.pos += 1;
                    let value = if self.peek() == Some(b'"') {
                        self.quoted()?
                    } else {
                        self.bare("a selector value")?
                    };
                    pairs.push((field, value));
                    if self.peek() == Some(b',') {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                Segment::Select(pairs)
            }
        };
        if self.peek() != Some(b']') {
            return Err(self.error("expected `]`"));
        }
        self.pos += 1;
        Ok(segment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips() {
        for text in [
            "spec.template.spec.containers[name=api].env[name=LOG_LEVEL].value",
            "spec.ports[port=80,protocol=TCP]",
            "metadata.annotations[\"example.com/owner\"]",
            "spec.hard[\"requests.cpu\"]",
            "args[3]",
            "spec.containers[name=api].volumeMounts[mountPath=\"/var/log\"]",
            "",
        ] {
            let path = Path::parse(text).unwrap();
            assert_eq!(path.to_string(), text);
        }
    }

    #[test]
    fn resolves_keys_selectors_and_indexes() {
        let v = json!({"spec": {"ports": [{"port": 80, "protocol": "TCP", "name": "http"}], "args": ["a", "b"]}});
        assert_eq!(
            Path::parse("spec.ports[port=80,protocol=TCP].name")
                .unwrap()
                .resolve(&v),
            Some(&json!("http"))
        );
        assert_eq!(
            Path::parse("spec.args[1]").unwrap().resolve(&v),
            Some(&json!("b"))
        );
        assert_eq!(
            Path::parse("spec.ports[port=81,protocol=TCP]")
                .unwrap()
                .resolve(&v),
            None
        );
    }

    #[test]
    fn bad_paths_say_where() {
        let e = Path::parse("spec.[x").unwrap_err();
        assert_eq!(e.position, 6);
        assert!(Path::parse("a[name=x").is_err());
        assert!(Path::parse("a[\"x]").is_err());
    }
}
