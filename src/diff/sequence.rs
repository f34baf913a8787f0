//! Lists without keys (`command`, `args`, a ClusterRole's `rules`) aligned as sequences, the way a
//! text diff aligns lines: one inserted argument is one insertion, not a cascade of changes at every
//! later position.

use crate::limits::MAX_ALIGNED_ENTRIES;
use serde_json::Value;
use similar::{Algorithm, DiffOp};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// How `left` turns into `right`: runs of equal, deleted, inserted and replaced entries, in order.
/// `None` when the lists are too long to align (compare them by position).
pub fn align(left: &[Value], right: &[Value]) -> Option<Vec<DiffOp>> {
    if left.len() + right.len() > MAX_ALIGNED_ENTRIES {
        return None;
    }
    let (left_ids, right_ids) = intern(left, right);
    Some(similar::capture_diff_slices(
        Algorithm::Myers,
        &left_ids,
        &right_ids,
    ))
}

/// One small number per distinct value (values are not hashable, numbers are): equal values get
/// equal numbers, so the alignment compares numbers instead of trees.
fn intern(left: &[Value], right: &[Value]) -> (Vec<u32>, Vec<u32>) {
    let mut interner = Interner::default();
    let l = left.iter().map(|v| interner.id(v)).collect();
    let r = right.iter().map(|v| interner.id(v)).collect();
    (l, r)
}

#[derive(Default)]
struct Interner<'a> {
    buckets: HashMap<u64, Vec<(&'a Value, u32)>>,
    next: u32,
}

impl<'a> Interner<'a> {
    fn id(&mut self, value: &'a Value) -> u32 {
        let mut hasher = DefaultHasher::new();
        hash_value(value, &mut hasher);
        let bucket = self.buckets.entry(hasher.finish()).or_default();
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
            .map(|op| {
                let (tag, old, new) = op.as_tag_tuple();
                format!("{tag:?} {old:?} {new:?}")
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
    fn long_lists_are_not_aligned() {
        let long = vec![json!(1); MAX_ALIGNED_ENTRIES];
        assert!(align(&long, &[json!(2)]).is_none());
    }
}
