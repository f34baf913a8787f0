//! The structural diff: two JSON trees in, a list of field-level changes out.
//!
//! Kept apart from any display (as difftastic keeps its diff apart from its printer): a change is a
//! path and the values on each side. Lists are matched by key in linear time through a hash index,
//! never by comparing every entry with every other.

use super::keys::{entry_key, list_key};
use super::path::{Path, Segment};
use super::sequence;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeOp {
    /// Both sides have the field, with different values.
    Changed,
    /// Only the right side has it.
    Added,
    /// Only the left side has it.
    Removed,
    /// Both sides hold the same value. The diff never reports this; a policy that requires a field
    /// to differ between environments does.
    Equal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub path: Path,
    pub op: ChangeOp,
    pub left: Option<Value>,
    pub right: Option<Value>,
}

/// Every difference between `left` and `right`, in document order.
///
/// Equal subtrees are skipped before the walk descends into them: most objects of two environments
/// are mostly equal, and an equality check allocates nothing while building paths does.
pub fn diff(left: &Value, right: &Value) -> Vec<Change> {
    let mut changes = Vec::new();
    if left == right {
        return changes;
    }
    let mut path = Path::default();
    match (left, right) {
        (Value::Object(l), Value::Object(r)) => diff_maps(&mut path, l, r, &mut changes, true),
        _ => diff_value(&mut path, None, left, right, &mut changes),
    }
    changes
}

fn diff_value(
    path: &mut Path,
    field: Option<&str>,
    left: &Value,
    right: &Value,
    out: &mut Vec<Change>,
) {
    match (left, right) {
        (Value::Object(l), Value::Object(r)) => diff_maps(path, l, r, out, false),
        (Value::Array(l), Value::Array(r)) => diff_lists(path, field, l, r, out),
        _ if left == right => {}
        _ => out.push(Change {
            path: path.clone(),
            op: ChangeOp::Changed,
            left: Some(left.clone()),
            right: Some(right.clone()),
        }),
    }
}

/// Two mappings. At the top of an object (`object: true`), `metadata` exists on both sides even
/// where nothing but the identity was in it (the identity is taken out for matching), so a side
/// without labels lacks `metadata.labels` — the shallowest path it really lacks — not `metadata`.
fn diff_maps(
    path: &mut Path,
    left: &Map<String, Value>,
    right: &Map<String, Value>,
    out: &mut Vec<Change>,
    object: bool,
) {
    let empty = Value::Object(Map::new());
    let always_there = |key: &str, value: &Value| object && key == "metadata" && value.is_object();
    for (key, l) in left {
        let r = right.get(key);
        if r == Some(l) {
            continue;
        }
        path.push(Segment::Key(key.clone()));
        match r {
            Some(r) => diff_value(path, Some(key), l, r, out),
            None if always_there(key, l) => diff_value(path, Some(key), l, &empty, out),
            None => out.push(removed(path, l)),
        }
        path.pop();
    }
    for (key, r) in right {
        if !left.contains_key(key) {
            path.push(Segment::Key(key.clone()));
            if always_there(key, r) {
                diff_value(path, Some(key), &empty, r, out);
            } else {
                out.push(added(path, r));
            }
            path.pop();
        }
    }
}

fn diff_lists(
    path: &mut Path,
    field: Option<&str>,
    left: &[Value],
    right: &[Value],
    out: &mut Vec<Change>,
) {
    let Some(fields) = list_key(field, left, right) else {
        diff_sequences(path, left, right, out);
        return;
    };
    // `list_key` guarantees every entry has a unique key on both sides.
    let keyed = |entry: &Value| entry_key(&fields, entry).unwrap_or_default();
    let index: HashMap<Vec<String>, &Value> = right.iter().map(|r| (keyed(r), r)).collect();
    let mut matched = std::collections::HashSet::with_capacity(left.len());
    for l in left {
        let key = keyed(l);
        let r = index.get(&key).copied();
        if r != Some(l) {
            path.push(select(&fields, &key));
            match r {
                Some(r) => diff_value(path, None, l, r, out),
                None => out.push(removed(path, l)),
            }
            path.pop();
        }
        matched.insert(key);
    }
    for r in right {
        let key = keyed(r);
        if !matched.contains(&key) {
            path.push(select(&fields, &key));
            out.push(added(path, r));
            path.pop();
        }
    }
}

/// A list without keys, aligned as a sequence: an entry only the left has is `removed` at its
/// left index, one only the right has `added` at its right index, and entries replaced in place
/// are compared field by field: one inserted argument is one `added` change.
fn diff_sequences(path: &mut Path, left: &[Value], right: &[Value], out: &mut Vec<Change>) {
    let Some(ops) = sequence::align(left, right) else {
        diff_positions(path, left, right, out);
        return;
    };
    for run in ops {
        if run.equal {
            continue;
        }
        let (old, new) = (run.left, run.right);
        // Entries replaced in place are compared field by field; a path holds one index, so only
        // where both sides hold them at the same index. A replaced run that an earlier insertion
        // shifted is what it is: entries removed at their left index, added at their right one.
        let paired = if old.start == new.start {
            old.len().min(new.len())
        } else {
            0
        };
        for k in 0..paired {
            let (i, j) = (old.start + k, new.start + k);
            if left[i] != right[j] {
                path.push(Segment::Index(i));
                diff_value(path, None, &left[i], &right[j], out);
                path.pop();
            }
        }
        for (i, l) in left
            .iter()
            .enumerate()
            .take(old.end)
            .skip(old.start + paired)
        {
            path.push(Segment::Index(i));
            out.push(removed(path, l));
            path.pop();
        }
        for (j, r) in right
            .iter()
            .enumerate()
            .take(new.end)
            .skip(new.start + paired)
        {
            path.push(Segment::Index(j));
            out.push(added(path, r));
            path.pop();
        }
    }
}

/// Lists too long to align, compared entry by entry at the same position.
fn diff_positions(path: &mut Path, left: &[Value], right: &[Value], out: &mut Vec<Change>) {
    for (i, l) in left.iter().enumerate() {
        if right.get(i) == Some(l) {
            continue;
        }
        path.push(Segment::Index(i));
        match right.get(i) {
            Some(r) => diff_value(path, None, l, r, out),
            None => out.push(removed(path, l)),
        }
        path.pop();
    }
    for (i, r) in right.iter().enumerate().skip(left.len()) {
        path.push(Segment::Index(i));
        out.push(added(path, r));
        path.pop();
    }
}

fn select(fields: &[&str], key: &[String]) -> Segment {
    Segment::Select(
        fields
            .iter()
            .map(|f| f.to_string())
            .zip(key.iter().cloned())
            .collect(),
    )
}

fn removed(path: &Path, value: &Value) -> Change {
    Change {
        path: path.clone(),
        op: ChangeOp::Removed,
        left: Some(value.clone()),
        right: None,
    }
}

fn added(path: &Path, value: &Value) -> Change {
    Change {
        path: path.clone(),
        op: ChangeOp::Added,
        left: None,
        right: Some(value.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| format!("{:?} {}", c.op, c.path))
            .collect()
    }

    #[test]
    fn keyed_lists_match_by_name_not_position() {
        let l = json!({"spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]}});
        let r = json!({"spec": {"containers": [{"name": "b", "image": "y:2"}, {"name": "a", "image": "x:1"}]}});
        assert_eq!(
            paths(&diff(&l, &r)),
            ["Changed spec.containers[name=b].image"]
        );
    }

    #[test]
    fn added_removed_and_positions() {
        let l = json!({"a": 1, "args": ["x", "y"], "m": {"k": "v"}});
        let r = json!({"b": 2, "args": ["x"], "m": {"k": "w"}});
        assert_eq!(
            paths(&diff(&l, &r)),
            ["Removed a", "Removed args[1]", "Changed m.k", "Added b"]
        );
    }

    #[test]
    fn lists_without_keys_are_aligned_as_sequences() {
        let l = json!({"args": ["--a", "--b", "--c"], "command": ["sh", "-c", "x"]});
        let r = json!({"args": ["--a", "--new", "--b", "--c"], "command": ["sh", "x"]});
        assert_eq!(
            paths(&diff(&l, &r)),
            ["Added args[1]", "Removed command[1]"]
        );
        let l = json!({"args": ["--a", "--b"]});
        let r = json!({"args": ["--a", "--B"]});
        assert_eq!(paths(&diff(&l, &r)), ["Changed args[1]"]);
    }

    #[test]
    fn a_missing_subtree_is_one_change_at_the_shallowest_path_the_other_side_lacks() {
        // The identity is taken out of `metadata` before diffing: the right side still has one.
        let l = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"x": 1}});
        let r = json!({"spec": {"x": 1}});
        let changes = diff(&l, &r);
        assert_eq!(paths(&changes), ["Removed metadata.labels"]);
        assert_eq!(changes[0].left, Some(json!({"a": "1", "b": "2"})));
        assert_eq!(paths(&diff(&r, &l)), ["Added metadata.labels"]);
        // Below the top, a mapping one side lacks is that mapping.
        let l = json!({"spec": {"template": {"metadata": {"labels": {"a": "1"}}}}});
        let r = json!({"spec": {}});
        assert_eq!(paths(&diff(&l, &r)), ["Removed spec.template"]);
    }

    #[test]
    fn service_ports_by_port_and_protocol() {
        let l = json!({"ports": [{"port": 53, "protocol": "UDP", "name": "dns"}, {"port": 53, "protocol": "TCP", "name": "dns-tcp"}]});
        let r = json!({"ports": [{"port": 53, "protocol": "TCP", "name": "dns-tcp"}, {"port": 53, "protocol": "UDP", "name": "dns2"}]});
        assert_eq!(
            paths(&diff(&l, &r)),
            ["Changed ports[port=53,protocol=UDP].name"]
        );
    }
}
