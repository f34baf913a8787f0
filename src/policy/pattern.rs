//! Path patterns in policy files: the path syntax of docs/architecture.md, comparison with wildcards, or a JSON Pointer.
//!
//! `data.*` (any one key), `spec.template.spec.containers[*].image` (any list entry),
//! `metadata.**` (any depth), `spec.ports[port=80,protocol=TCP]`, and `/spec/sessionAffinity` for
//! people coming from Argo CD's `ignoreDifferences`. A pattern matches a change at the field it names
//! and anywhere below it: `rules` covers `rules[0].verbs`.

use crate::diff::keys::{entry_key, list_key};
use crate::diff::{Path, PathError, Segment};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Key(String),
    /// `*`: any one key or list entry.
    AnySegment,
    /// `[*]`: any one list entry.
    AnyEntry,
    /// `**`: any number of segments, none included.
    AnyDepth,
    /// A key with `*` in it (`FEATURE_*`): keys the glob matches, `*` standing for any characters.
    KeyGlob(String),
    Select(Vec<(String, String)>),
    Index(usize),
    /// A JSON Pointer token that is a number: a list position, or a key spelled with digits.
    IndexOrKey(usize, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    parts: Vec<Part>,
    pub text: String,
}

impl PathPattern {
    pub fn parse(text: &str) -> Result<PathPattern, PathError> {
        let parts = if text.starts_with('/') {
            parse_pointer(text)
        } else {
            parse_dotted(text)?
        };
        Ok(PathPattern {
            parts,
            text: text.to_string(),
        })
    }

    /// Does the pattern name `path` or one of its ancestors?
    pub fn matches(&self, path: &Path) -> bool {
        matches_prefix(&self.parts, &path.0)
    }

    /// Does this pattern name `field` itself or something inside it — with `field`'s own segments
    /// spelled out, not stood in for by a wildcard? `status.replicas` names within `status`;
    /// `metadata.**` and `**` do not name within `metadata.uid`. This is how a user rule brings
    /// back a field `builtin:noise` removes: by naming it.
    pub fn names_within(&self, field: &PathPattern) -> bool {
        self.parts.len() >= field.parts.len()
            && self
                .parts
                .iter()
                .zip(&field.parts)
                .all(|(mine, theirs)| spells_out(mine, theirs))
    }

    /// Removes every field of `value` the pattern names (and the objects that leaves empty).
    pub fn remove_from(&self, value: &mut Value) {
        let paths: Vec<Path> = self.find(value).into_iter().map(|(path, _)| path).collect();
        // Deepest and last first, so earlier removals do not move the positions later ones name.
        for path in paths.iter().rev() {
            path.remove(value);
        }
    }

    /// Every field of `value` the pattern names, with its path (list entries named by their keys,
    /// as the diff names them).
    pub fn find<'v>(&self, value: &'v Value) -> Vec<(Path, &'v Value)> {
        let mut out = Vec::new();
        find(&self.parts, value, None, &mut Path::default(), &mut out);
        out
    }
}

fn find<'v>(
    parts: &[Part],
    value: &'v Value,
    field: Option<&str>,
    path: &mut Path,
    out: &mut Vec<(Path, &'v Value)>,
) {
    let Some((first, rest)) = parts.split_first() else {
        out.push((path.clone(), value));
        return;
    };
    if *first == Part::AnyDepth {
        find(rest, value, field, path, out);
        for (segment, child, child_field) in children(value, field) {
            path.push(segment);
            find(parts, child, child_field.as_deref(), path, out);
            path.pop();
        }
        return;
    }
    // A literal key needs no listing of the object's children: look it up.
    if let (Part::Key(key), Value::Object(map)) = (first, value) {
        if let Some(child) = map.get(key) {
            path.push(Segment::Key(key.clone()));
            find(rest, child, Some(key), path, out);
            path.pop();
        }
        return;
    }
    for (position, (segment, child, child_field)) in children(value, field).into_iter().enumerate()
    {
        // A position names an entry of any list, keyed or not.
        let hit = match first {
            Part::Index(i) | Part::IndexOrKey(i, _) if value.is_array() => position == *i,
            _ => part_matches(first, &segment),
        };
        if hit {
            path.push(segment);
            find(rest, child, child_field.as_deref(), path, out);
            path.pop();
        }
    }
}

/// The children of a value with the segments that name them.
fn children<'v>(
    value: &'v Value,
    field: Option<&str>,
) -> Vec<(Segment, &'v Value, Option<String>)> {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (Segment::Key(k.clone()), v, Some(k.clone())))
            .collect(),
        Value::Array(items) => match list_key(field, items, items) {
            Some(fields) => items
                .iter()
                .map(|item| {
                    let key = entry_key(&fields, item).unwrap_or_default();
                    let pairs = fields.iter().map(|f| f.to_string()).zip(key).collect();
                    (Segment::Select(pairs), item, None)
                })
                .collect(),
            None => items
                .iter()
                .enumerate()
                .map(|(i, item)| (Segment::Index(i), item, None))
                .collect(),
        },
        _ => Vec::new(),
    }
}

fn parse_pointer(text: &str) -> Vec<Part> {
    text.split('/')
        .skip(1)
        .map(|token| {
            let token = token.replace("~1", "/").replace("~0", "~");
            match token.parse::<usize>() {
                Ok(i) if token.bytes().all(|b| b.is_ascii_digit()) => Part::IndexOrKey(i, token),
                _ => Part::Key(token),
            }
        })
        .collect()
}

/// The dotted syntax with wildcards. Wildcards are written as their own segments (`*`, `**`,
/// `[*]`), so the rest is read by the path parser after they are set aside.
fn parse_dotted(text: &str) -> Result<Vec<Part>, PathError> {
    let mut parts = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let offset = text.len() - rest.len() + usize::from(rest.starts_with('.'));
        // The next literal stretch ends at a wildcard segment.
        let wildcard = find_wildcard(rest);
        let (literal, tail) = match wildcard {
            Some((start, _)) => rest.split_at(start),
            None => (rest, ""),
        };
        let literal = literal.strip_prefix('.').unwrap_or(literal);
        let literal = literal.strip_suffix('.').unwrap_or(literal);
        if !literal.is_empty() {
            let path = Path::parse(literal).map_err(|mut e| {
                e.path = text.to_string();
                e.position += offset;
                e
            })?;
            parts.extend(path.0.into_iter().map(|segment| match segment {
                Segment::Key(k) => Part::Key(k),
                Segment::Select(pairs) => Part::Select(pairs),
                Segment::Index(i) => Part::Index(i),
            }));
        }
        let Some((_, len)) = wildcard else { break };
        let token = &tail[..len];
        parts.push(match token.trim_start_matches('.') {
            "**" => Part::AnyDepth,
            "*" => Part::AnySegment,
            "[*]" => Part::AnyEntry,
            glob => Part::KeyGlob(glob.to_string()),
        });
        rest = &tail[len..];
    }
    Ok(parts)
}

/// The first wildcard segment in `text`: its start and length (`.**`, `**`, `.*`, `*`, `[*]`, or a
/// key with `*` in it such as `.FEATURE_*`).
fn find_wildcard(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut in_quotes = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => in_quotes = !in_quotes,
            b'\\' if in_quotes => i += 1,
            b'[' if !in_quotes && text[i..].starts_with("[*]") => return Some((i, 3)),
            b'*' if !in_quotes => {
                // The key this `*` is part of: a whole-segment wildcard, or a glob in a key.
                let is_key = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'*');
                let mut key_start = i;
                while key_start > 0 && is_key(bytes[key_start - 1]) {
                    key_start -= 1;
                }
                let mut key_end = i;
                while key_end < bytes.len() && is_key(bytes[key_end]) {
                    key_end += 1;
                }
                let start = if key_start > 0 && bytes[key_start - 1] == b'.' {
                    key_start - 1
                } else {
                    key_start
                };
                return Some((start, key_end - start));
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn matches_prefix(parts: &[Part], path: &[Segment]) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return true;
    };
    if *first == Part::AnyDepth {
        return (0..=path.len()).any(|skip| matches_prefix(rest, &path[skip..]));
    }
    match path.split_first() {
        Some((segment, tail)) => part_matches(first, segment) && matches_prefix(rest, tail),
        None => false,
    }
}

/// Does `mine` spell out `theirs`: the same literal part, or a concrete part where `theirs` is a
/// wildcard that covers it?
fn spells_out(mine: &Part, theirs: &Part) -> bool {
    match (mine, theirs) {
        (Part::Key(a), Part::IndexOrKey(_, b)) | (Part::IndexOrKey(_, a), Part::Key(b)) => a == b,
        (_, Part::AnySegment) => *mine != Part::AnyDepth,
        (Part::Key(key), Part::KeyGlob(glob)) => glob_matches(glob, key),
        (
            Part::Select(_) | Part::Index(_) | Part::IndexOrKey(..) | Part::AnyEntry,
            Part::AnyEntry,
        ) => true,
        _ => mine == theirs,
    }
}

/// Does `key` match `glob`, where `*` stands for any run of characters?
fn glob_matches(glob: &str, key: &str) -> bool {
    let mut pieces = glob.split('*');
    let first = pieces.next().unwrap_or_default();
    let Some(mut rest) = key.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    let Some((last, middle)) = pieces.split_last() else {
        return rest.is_empty();
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

fn part_matches(part: &Part, segment: &Segment) -> bool {
    match (part, segment) {
        (Part::KeyGlob(glob), Segment::Key(key)) => glob_matches(glob, key),
        (Part::AnySegment, _) => true,
        (Part::AnyEntry, Segment::Select(_) | Segment::Index(_)) => true,
        (Part::Key(k), Segment::Key(s)) => k == s,
        (Part::Index(i), Segment::Index(j)) => i == j,
        (Part::IndexOrKey(i, _), Segment::Index(j)) => i == j,
        (Part::IndexOrKey(_, k), Segment::Key(s)) => k == s,
        (Part::Select(want), Segment::Select(have)) => {
            want.len() == have.len() && want.iter().all(|pair| have.contains(pair))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        PathPattern::parse(pattern)
            .unwrap()
            .matches(&Path::parse(path).unwrap())
    }

    #[test]
    fn literal_patterns_match_the_field_and_below() {
        assert!(m("spec.replicas", "spec.replicas"));
        assert!(m("rules", "rules[0].verbs"));
        assert!(!m("spec.replicas", "spec"));
        assert!(!m("spec.replicas", "spec.replicasx"));
        assert!(m(
            "metadata.annotations[\"example.com/owner\"]",
            "metadata.annotations[\"example.com/owner\"]"
        ));
    }

    #[test]
    fn wildcards() {
        assert!(m("data.*", "data.password"));
        assert!(m(
            "spec.template.spec.containers[*].image",
            "spec.template.spec.containers[name=api].image"
        ));
        assert!(!m(
            "spec.template.spec.containers[*].image",
            "spec.template.spec.containers[name=api].args"
        ));
        assert!(m(
            "**.image",
            "spec.template.spec.containers[name=api].image"
        ));
        assert!(m("metadata.**", "metadata.labels.team"));
        assert!(m(
            "spec.**.resources",
            "spec.template.spec.containers[name=a].resources.limits.cpu"
        ));
        assert!(m(
            "spec.ports[port=80,protocol=TCP]",
            "spec.ports[protocol=TCP,port=80].name"
        ));
        assert!(!m(
            "spec.ports[port=80,protocol=TCP]",
            "spec.ports[port=81,protocol=TCP]"
        ));
    }

    #[test]
    fn globs_in_keys() {
        assert!(m("data.FEATURE_*", "data.FEATURE_NEW_CHECKOUT"));
        assert!(!m("data.FEATURE_*", "data.LOG_LEVEL"));
        assert!(m("data.*_FLAG", "data.CHECKOUT_FLAG"));
        assert!(m("data.a*b*c", "data.a-x-b-y-c"));
        assert!(!m("data.a*b*c", "data.a-x-c"));
        assert!(m("spec.*Probe", "spec.livenessProbe.httpGet"));
        assert!(m("metadata.labels.**", "metadata.labels.x"));
        assert!(glob_matches("a*a", "aa") && !glob_matches("a*a", "a"));
    }

    #[test]
    fn json_pointers() {
        assert!(m("/spec/sessionAffinity", "spec.sessionAffinity"));
        assert!(m(
            "/metadata/annotations/example.com~1owner",
            "metadata.annotations[\"example.com/owner\"]"
        ));
        assert!(m("/spec/args/1", "spec.args[1]"));
        assert!(m("/data/0", "data[\"0\"]"));
    }

    #[test]
    fn finds_every_field_a_pattern_names() {
        let object = serde_json::json!({"data": {"password": "a", "user": "b"},
            "spec": {"containers": [{"name": "api", "image": "x"}, {"name": "side", "image": "y"}], "args": ["p", "q"]}});
        let found = |pattern: &str| -> Vec<String> {
            PathPattern::parse(pattern)
                .unwrap()
                .find(&object)
                .iter()
                .map(|(p, v)| format!("{p}={v}"))
                .collect()
        };
        assert_eq!(found("data.password"), ["data.password=\"a\""]);
        assert_eq!(found("data.*"), ["data.password=\"a\"", "data.user=\"b\""]);
        assert_eq!(
            found("spec.containers[*].image"),
            [
                "spec.containers[name=api].image=\"x\"",
                "spec.containers[name=side].image=\"y\""
            ]
        );
        assert_eq!(
            found("spec.containers[name=side].image"),
            ["spec.containers[name=side].image=\"y\""]
        );
        assert_eq!(found("**.image").len(), 2);
        assert_eq!(found("/spec/args/1"), ["spec.args[1]=\"q\""]);
        assert!(found("data.missing").is_empty());
    }

    #[test]
    fn naming_a_field_means_spelling_it_out() {
        let within = |pattern: &str, field: &str| {
            PathPattern::parse(pattern)
                .unwrap()
                .names_within(&PathPattern::parse(field).unwrap())
        };
        assert!(within("status", "status"));
        assert!(within("status.replicas", "status"));
        assert!(within("/metadata/uid", "metadata.uid"));
        assert!(within(
            "metadata.annotations[\"a/b\"].x",
            "metadata.annotations[\"a/b\"]"
        ));
        assert!(!within("metadata", "metadata.uid"));
        assert!(!within("metadata.**", "metadata.uid"));
        assert!(!within("**", "status"));
        assert!(!within("metadata.*", "metadata.uid"));
        assert!(!within("spec.replicas", "status"));
    }

    #[test]
    fn removing_drops_what_is_left_empty() {
        let mut object = serde_json::json!({"metadata": {"uid": "u", "annotations": {"a": "1"}, "labels": {"x": "y"}},
            "spec": {"containers": [{"name": "api", "image": "i"}, {"name": "side"}]}});
        PathPattern::parse("metadata.uid")
            .unwrap()
            .remove_from(&mut object);
        PathPattern::parse("metadata.annotations.a")
            .unwrap()
            .remove_from(&mut object);
        PathPattern::parse("spec.containers[*].image")
            .unwrap()
            .remove_from(&mut object);
        assert_eq!(
            object,
            serde_json::json!({"metadata": {"labels": {"x": "y"}},
                "spec": {"containers": [{"name": "api"}, {"name": "side"}]}})
        );
        PathPattern::parse("metadata.labels.x")
            .unwrap()
            .remove_from(&mut object);
        assert!(object.get("metadata").is_none());
    }

    #[test]
    fn bad_patterns_say_where() {
        let e = PathPattern::parse("spec.[x").unwrap_err();
        assert_eq!(e.path, "spec.[x");
        assert!(PathPattern::parse("a[name=x").is_err());
    }
}
