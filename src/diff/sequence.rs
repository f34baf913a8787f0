//! Lists without keys (`command`, `args`, a ClusterRole's `rules`) aligned as sequences, the way a
//! text diff aligns lines: one inserted argument is one insertion, not a cascade of changes at every
//! later position.

use crate::limits::MAX_ALIGNED_ENTRIES;
use serde_json::Value;
use similar::{Algorithm, DiffOp};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::Range;

/// A run of entries in an alignment: equal on both sides, or a stretch where they differ (entries
/// only the left has, only the right has, or both — replaced in place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub left: Range<usize>,
    pub right: Range<usize>,
    pub equal: bool,
}

/// How `left` turns into `right`: runs of equal and differing entries, in order. `None` when the
/// lists are too long to align (compare them by position).
///
/// Parity is symmetric, so the alignment must be too: among edit scripts of equal cost the
/// algorithm picks by the order of its inputs, so the two lists are always aligned in one
/// canonical order (by their entries' hashes) and the runs mirrored when that order is reversed.
pub fn align(left: &[Value], right: &[Value]) -> Option<Vec<Run>> {
    if left.len() + right.len() > MAX_ALIGNED_ENTRIES {
        return None;
    }
    let hashed = |values: &'_ [Value]| -> Vec<u64> { values.iter().map(value_hash).collect() };
    let (left_hashes, right_hashes) = (hashed(left), hashed(right));
    let swapped = left_hashes > right_hashes;
    let (first, second) = if swapped {
        ((right, right_hashes), (left, left_hashes))
    } else {
        ((left, left_hashes), (right, right_hashes))
    };
    let mut interner = Interner::default();
    let first_ids = interner.ids(first.0, &first.1);
    let second_ids = interner.ids(second.0, &second.1);
    let runs = similar::capture_diff_slices(Algorithm::Myers, &first_ids, &second_ids)
        .into_iter()
        .map(|op| {
            let (_, old, new) = op.as_tag_tuple();
            let equal = matches!(op, DiffOp::Equal { .. });
            if swapped {
                Run {
                    left: new,
                    right: old,
                    equal,
                }
            } else {
                Run {
                    left: old,
                    right: new,
                    equal,
                }
            }
        })
        .collect();
    Some(runs)
}

fn value_hash(value: &Value) -> u64 {
    let mut hasher = DefaultHasher::new();
    hash_value(value, &mut hasher);
    hasher.finish()
}

/// One small number per distinct value (values are not hashable, numbers are): equal values get
/// equal numbers, so the alignment compares numbers instead of trees.
#[derive(Default)]
struct Interner<'a> {
    buckets: HashMap<u64, Vec<(&'a Value, u32)>>,
    next: u32,
}

impl<'a> Interner<'a> {
    /// The numbers of `values`, whose hashes are `hashes`.
    fn ids(&mut self, values: &'a [Value], hashes: &[u64]) -> Vec<u32> {
        values
            .iter()
            .zip(hashes)
            .map(|(value, hash)| self.id(value, *hash))
            .collect()
    }

    fn id(&mut self, value: &'a Value, hash: u64) -> u32 {
        let bucket = self.buckets.entry(hash).or_default();
        if let Some((_, id)) = bucket.iter().find(|(known, _)| *known == value) {
            return *id;
        }
        self.next += 1;
        bucket.push((value, self.next));
        self.next
    }
}

fn hash_value(value: &Value, state: &mut impl Hasher) {
    match value {
        Value::Null => 0u8.hash(state),
        Value::Bool(b) => (1u8, b).hash(state),
        Value::Number(n) => (2u8, n.to_string()).hash(state),
        Value::String(s) => (3u8, s).hash(state),
        Value::Array(items) => {
            (4u8, items.len()).hash(state);
            items.iter().for_each(|v| hash_value(v, state));
        }
        Value::Object(map) => {
            // Maps equal as values may list their keys in different orders: hash them order-free.
            let mut combined = 0u64;
            for (key, member) in map {
                let mut entry = DefaultHasher::new();
                key.hash(&mut entry);
                hash_value(member, &mut entry);
                combined ^= entry.finish();
            }
            (5u8, map.len(), combined).hash(state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ops(left: Value, right: Value) -> Vec<String> {
        let (Value::Array(l), Value::Array(r)) = (left, right) else {
            panic!("lists")
        };
        align(&l, &r)
            .unwrap()
            .iter()
            .map(|run| {
                let tag = match (run.equal, run.left.is_empty(), run.right.is_empty()) {
                    (true, _, _) => "Equal",
                    (false, false, true) => "Delete",
                    (false, true, false) => "Insert",
                    _ => "Replace",
                };
                format!("{tag} {:?} {:?}", run.left, run.right)
            })
            .collect()
    }

    #[test]
    fn one_insertion_is_one_insert() {
        assert_eq!(
            ops(json!(["a", "b", "c"]), json!(["a", "x", "b", "c"])),
            ["Equal 0..1 0..1", "Insert 1..1 1..2", "Equal 1..3 2..4"]
        );
    }

    #[test]
    fn maps_compare_by_value_whatever_their_key_order() {
        let l: Value = serde_json::from_str(r#"[{"a":1,"b":2},{"c":3}]"#).unwrap();
        let r: Value = serde_json::from_str(r#"[{"b":2,"a":1},{"c":4}]"#).unwrap();
        assert_eq!(ops(l, r), ["Equal 0..1 0..1", "Replace 1..2 1..2"]);
    }

    #[test]
    fn the_alignment_is_the_same_whichever_side_is_left() {
        let a = json!([{"n": "c"}, {"n": "c"}]);
        let b = json!([{"n": "a"}, {"n": "c"}]);
        let mirror = |runs: Vec<String>| -> Vec<String> {
            runs.iter()
                .map(|r| {
                    let parts: Vec<&str> = r.split(' ').collect();
                    let tag = match parts[0] {
                        "Delete" => "Insert",
                        "Insert" => "Delete",
                        other => other,
                    };
                    format!("{tag} {} {}", parts[2], parts[1])
                })
                .collect()
        };
        assert_eq!(ops(a.clone(), b.clone()), mirror(ops(b, a)));
    }

    #[test]
    fn long_lists_are_not_aligned() {
        let long = vec![json!(1); MAX_ALIGNED_ENTRIES];
        assert!(align(&long, &[json!(2)]).is_none());
    }
}
