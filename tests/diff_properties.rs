//! Properties of the structural diff that must hold for any objects.

use plumb::diff::{ChangeOp, Path, diff};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// JSON values shaped like Kubernetes objects: maps of maps, lists of named entries, scalars.
fn value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("name".to_string()),
        Just("image".to_string()),
        Just("a.b/c".to_string()),
        "[a-z]{1,3}"
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..3).prop_map(Value::from),
        "[a-c]{0,2}".prop_map(Value::String),
        Just(Value::String("line one\nline two".into())),
    ];
    leaf.prop_recursive(4, 40, 5, move |inner| {
        prop_oneof![
            prop::collection::vec((key.clone(), inner.clone()), 0..5)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            // Lists of entries keyed by `name`, as containers and env are.
            prop::collection::vec(("[a-d]", inner), 0..4).prop_map(|entries| {
                Value::Array(
                    entries
                        .into_iter()
                        .map(|(name, v)| {
                            let mut m = Map::new();
                            m.insert("name".into(), Value::String(name));
                            m.insert("value".into(), v);
                            Value::Object(m)
                        })
                        .collect(),
                )
            }),
        ]
    })
}

fn object() -> impl Strategy<Value = Value> {
    prop::collection::vec(("[a-e]", value()), 0..5)
        .prop_map(|pairs| Value::Object(pairs.into_iter().collect()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn an_object_against_itself_gives_nothing(a in object()) {
        prop_assert!(diff(&a, &a).is_empty());
    }

    #[test]
    fn swapping_sides_swaps_added_and_removed(a in object(), b in object()) {
        let forward = diff(&a, &b);
        let backward = diff(&b, &a);
        prop_assert_eq!(forward.len(), backward.len());
        let flip = |op| match op {
            ChangeOp::Added => ChangeOp::Removed,
            ChangeOp::Removed => ChangeOp::Added,
            other => other,
        };
        let mut f: Vec<(String, ChangeOp)> = forward.iter().map(|c| (c.path.to_string(), flip(c.op))).collect();
        let mut r: Vec<(String, ChangeOp)> = backward.iter().map(|c| (c.path.to_string(), c.op)).collect();
        // One index can be removed on one side and added on the other (a shifted replaced run).
        let order = |x: &(String, ChangeOp), y: &(String, ChangeOp)| {
            (&x.0, format!("{:?}", x.1)).cmp(&(&y.0, format!("{:?}", y.1)))
        };
        f.sort_by(order);
        r.sort_by(order);
        prop_assert_eq!(f, r);
    }

    #[test]
    fn every_path_resolves_to_the_reported_values(a in object(), b in object()) {
        for change in diff(&a, &b) {
            let text = change.path.to_string();
            let path = Path::parse(&text).unwrap();
            prop_assert_eq!(&path, &change.path, "path does not round-trip: {}", text);
            match change.op {
                ChangeOp::Removed => prop_assert_eq!(path.resolve(&a), change.left.as_ref()),
                ChangeOp::Added => prop_assert_eq!(path.resolve(&b), change.right.as_ref()),
                ChangeOp::Changed => {
                    prop_assert_eq!(path.resolve(&a), change.left.as_ref());
                    prop_assert_eq!(path.resolve(&b), change.right.as_ref());
                }
                ChangeOp::Equal => prop_assert!(false, "the diff never reports equal values: {}", text),
            }
        }
    }

    #[test]
    fn equal_after_diff_means_no_changes(a in object(), b in object()) {
        prop_assert_eq!(diff(&a, &b).is_empty(), a == b);
    }
}
