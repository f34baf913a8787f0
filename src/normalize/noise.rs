//! Fields that say nothing about what should run: status, server bookkeeping, tool annotations.
//!
//! This catalogue moves into `policies/noise.yaml` as `ignore` rules when the policy engine lands;
//! until then it is the fixed list of DESIGN §4.

use serde_json::Value;

/// Metadata fields the API server writes for its own bookkeeping.
pub const METADATA_NOISE: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
];

/// Annotations written by tools and controllers, not by the people who declare the object.
pub const ANNOTATION_NOISE: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
];

/// Removes status, bookkeeping metadata and tool annotations.
pub fn remove_noise(object: &mut Value) {
    let Some(map) = object.as_object_mut() else {
        return;
    };
    map.remove("status");
    if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in METADATA_NOISE {
            metadata.remove(*field);
        }
        if let Some(annotations) = metadata
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
        {
            for annotation in ANNOTATION_NOISE {
                annotations.remove(*annotation);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn removes_bookkeeping_but_keeps_declared_fields() {
        let mut o = json!({"status": {"x": 1}, "metadata": {"uid": "u", "labels": {"a": "b"},
            "annotations": {"deployment.kubernetes.io/revision": "3", "team": "x"}}, "spec": {}});
        remove_noise(&mut o);
        assert_eq!(
            o,
            json!({"metadata": {"labels": {"a": "b"}, "annotations": {"team": "x"}}, "spec": {}})
        );
    }
}
