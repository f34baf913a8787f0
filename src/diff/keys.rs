//! How list entries are matched: by Kubernetes merge keys, by a field unique in every entry, or by
//! position when nothing else identifies them.

use super::path::key_text;
use serde_json::Value;
use std::collections::HashSet;

/// The fields that identify entries of the list stored under `field`, if they identify every entry
/// on both sides uniquely. `None` means "match by position".
pub fn list_key(field: Option<&str>, left: &[Value], right: &[Value]) -> Option<Vec<&'static str>> {
    let candidates: &[&[&'static str]] = match field {
        Some(
            "containers"
            | "initContainers"
            | "ephemeralContainers"
            | "env"
            | "volumes"
            | "imagePullSecrets",
        ) => &[&["name"]],
        Some("volumeMounts") => &[&["mountPath"]],
        Some("volumeDevices") => &[&["devicePath"]],
        Some("ports") => &[
            &["containerPort", "protocol"],
            &["port", "protocol"],
            &["name"],
        ],
        _ => &[&["name"], &["key"], &["id"]],
    };
    candidates
        .iter()
        .find(|fields| identifies(fields, left) && identifies(fields, right))
        .map(|fields| fields.to_vec())
}

fn identifies(fields: &[&str], entries: &[Value]) -> bool {
    if entries.is_empty() {
        return true;
    }
    let mut seen = HashSet::with_capacity(entries.len());
    entries.iter().all(|entry| match entry_key(fields, entry) {
        Some(key) => seen.insert(key),
        None => false,
    })
}

/// The key of one entry: the text of each key field, all present and scalar.
pub fn entry_key(fields: &[&str], entry: &Value) -> Option<Vec<String>> {
    fields
        .iter()
        .map(|field| match entry.get(*field)? {
            v @ (Value::String(_) | Value::Number(_) | Value::Bool(_)) => Some(key_text(v)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_keys_and_fallbacks() {
        let c = [json!({"name": "a"}), json!({"name": "b"})];
        assert_eq!(list_key(Some("containers"), &c, &c), Some(vec!["name"]));
        let p = [json!({"containerPort": 80, "protocol": "TCP"})];
        assert_eq!(
            list_key(Some("ports"), &p, &p),
            Some(vec!["containerPort", "protocol"])
        );
        let s = [
            json!({"port": 80, "protocol": "TCP"}),
            json!({"port": 80, "protocol": "UDP"}),
        ];
        assert_eq!(
            list_key(Some("ports"), &s, &s),
            Some(vec!["port", "protocol"])
        );
        let k = [json!({"key": "x"}), json!({"key": "y"})];
        assert_eq!(list_key(Some("items"), &k, &k), Some(vec!["key"]));
        let dup = [json!({"name": "a"}), json!({"name": "a"})];
        assert_eq!(list_key(Some("env"), &dup, &dup), None);
        let scalars = [json!("a")];
        assert_eq!(list_key(Some("args"), &scalars, &scalars), None);
    }
}
