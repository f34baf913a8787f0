//! Reading managedFields: which manager last wrote a field (`fieldsV1` trees of `f:`, `k:`, `v:`,
//! `i:` keys, as server-side apply records them).

use super::ChangedBy;
use crate::diff::path::key_text;
use crate::diff::{Path, Segment};
use crate::model::ManagedFields;
use serde_json::Value;

/// How deep `path` reaches into one `fieldsV1` tree, and whether the node reached owns everything
/// below it (an empty `{}` leaf: the manager set that whole value).
fn reach(fields: &Value, path: &Path) -> (usize, bool) {
    let mut node = fields;
    for (depth, segment) in path.0.iter().enumerate() {
        let next = match segment {
            Segment::Key(key) => node.get(format!("f:{key}")),
            Segment::Select(pairs) => node.as_object().and_then(|map| {
                map.iter().find_map(|(k, v)| {
                    let json: Value = serde_json::from_str(k.strip_prefix("k:")?).ok()?;
                    let obj = json.as_object()?;
                    let matches = obj.len() == pairs.len()
                        && pairs
                            .iter()
                            .all(|(f, val)| obj.get(f).is_some_and(|x| key_text(x) == *val));
                    matches.then_some(v)
                })
            }),
            Segment::Index(i) => node.get(format!("i:{i}")),
        };
        match next {
            Some(n) => node = n,
            None => return (depth, is_leaf(node) && depth > 0),
        }
    }
    (path.0.len(), true)
}

fn is_leaf(node: &Value) -> bool {
    node.as_object()
        .is_some_and(|m| m.is_empty() || m.len() == 1 && m.contains_key("."))
}

/// The manager that wrote the field at `path`: the entry that names it (or an atomic ancestor of
/// it) deepest; the latest entry on ties.
pub fn changed_by(entries: &[ManagedFields], path: &Path) -> Option<ChangedBy> {
    entries
        .iter()
        .filter_map(|entry| {
            let (depth, owns) = reach(&entry.fields, path);
            owns.then_some((depth, entry))
        })
        .max_by(|(da, a), (db, b)| da.cmp(db).then_with(|| a.time.cmp(&b.time)))
        .map(|(_, entry)| ChangedBy {
            manager: entry.manager.clone(),
            operation: entry.operation.clone(),
            time: entry.time.clone(),
        })
}

/// Does one of `managers` own the field at `path` exactly (it applied that field)?
pub fn owned_by_any(entries: &[ManagedFields], path: &Path, managers: &[String]) -> bool {
    entries
        .iter()
        .filter(|e| managers.contains(&e.manager))
        .any(|e| reach(&e.fields, path).0 == path.0.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(manager: &str, time: &str, fields: Value) -> ManagedFields {
        ManagedFields {
            manager: manager.into(),
            operation: "Update".into(),
            time: Some(time.into()),
            fields,
        }
    }

    #[test]
    fn deepest_then_latest() {
        let entries = vec![
            entry(
                "apply",
                "2024-01-01T00:00:00Z",
                json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"api\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}}),
            ),
            entry(
                "kubectl-set",
                "2024-02-01T00:00:00Z",
                json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"api\"}": {"f:image": {}}}}}}}),
            ),
            entry(
                "hpa",
                "2024-03-01T00:00:00Z",
                json!({"f:spec": {"f:replicas": {}}}),
            ),
        ];
        let path = Path::parse("spec.template.spec.containers[name=api].image").unwrap();
        assert_eq!(changed_by(&entries, &path).unwrap().manager, "kubectl-set");
        let replicas = Path::parse("spec.replicas").unwrap();
        assert_eq!(changed_by(&entries, &replicas).unwrap().manager, "hpa");
        assert!(changed_by(&entries, &Path::parse("spec.paused").unwrap()).is_none());
        assert!(owned_by_any(&entries, &replicas, &["hpa".into()]));
        assert!(!owned_by_any(&entries, &replicas, &["apply".into()]));
    }

    #[test]
    fn atomic_ancestor_owns_the_field() {
        let entries = vec![entry(
            "main",
            "2024-01-01T00:00:00Z",
            json!({"f:subsets": {}}),
        )];
        let path = Path::parse("subsets[0].addresses[1].ip").unwrap();
        assert_eq!(changed_by(&entries, &path).unwrap().manager, "main");
    }
}
