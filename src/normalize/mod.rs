//! Normalization: both sides of every comparison go through the same steps, so that only
//! differences that mean something remain (docs/architecture.md, prepare).
//!
//! Order matters: a live object's history (last-applied configuration, managedFields) is taken out
//! first, secrets are fingerprinted before anything else can see them, then values take their
//! canonical forms. Noise (status, server bookkeeping) is data, not code: `builtin:noise`, removed
//! by the policies of a run (`Policies::remove_noise`).

pub mod canonical;
pub mod quantity;
pub mod secrets;

use crate::model::{LiveHistory, ManagedFields, Resource};
pub use secrets::Fingerprinter;
use serde_json::Value;

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Normalizes objects with one fingerprint key.
#[derive(Debug, Clone)]
pub struct Normalizer {
    pub fingerprinter: Fingerprinter,
}

impl Normalizer {
    pub fn new(fingerprinter: Fingerprinter) -> Self {
        Normalizer { fingerprinter }
    }

    /// Normalizes a resource in place. With `keep_history` (live objects), the last-applied
    /// configuration and managedFields are kept aside for drift to read.
    pub fn normalize(&self, resource: &mut Resource, keep_history: bool) {
        if keep_history {
            let history = self.take_history(&resource.object);
            if history.last_applied.is_some() || !history.managed_fields.is_empty() {
                resource.history = Some(Box::new(history));
            }
        }
        self.normalize_object(&resource.id.kind, &mut resource.object);
    }

    /// The normalization steps on one object.
    pub fn normalize_object(&self, kind: &str, object: &mut Value) {
        if secrets::is_secret(object) {
            self.fingerprinter.redact_secret(object);
        }
        canonical::strip_identity(object);
        canonical::canonical_numbers(object);
        canonical::canonical_quantities(kind, object);
        canonical::default_port_protocols(object);
        canonical::sort_set_like_lists(kind, object);
        canonical::remove_empty(object);
    }

    /// Only what must happen to every object that leaves the process (`plumb render`): secrets
    /// become fingerprints, nothing else changes.
    pub fn redact(&self, object: &mut Value) {
        if secrets::is_secret(object) {
            self.fingerprinter.redact_secret(object);
        }
    }

    fn take_history(&self, object: &Value) -> LiveHistory {
        let last_applied = object["metadata"]["annotations"][LAST_APPLIED]
            .as_str()
            .and_then(|text| serde_json::from_str::<Value>(text).ok())
            .filter(Value::is_object)
            .map(|mut applied| {
                let kind = object["kind"].as_str().unwrap_or_default().to_string();
                // The annotation omits apiVersion/kind on some old objects; the secret check needs them.
                if let Some(map) = applied.as_object_mut() {
                    map.entry("apiVersion")
                        .or_insert_with(|| object["apiVersion"].clone());
                    map.entry("kind").or_insert_with(|| object["kind"].clone());
                }
                self.normalize_object(&kind, &mut applied);
                applied
            });
        let managed_fields = object["metadata"]["managedFields"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|entry| {
                        Some(ManagedFields {
                            manager: entry["manager"].as_str()?.to_string(),
                            operation: entry["operation"].as_str().unwrap_or_default().to_string(),
                            time: entry["time"].as_str().map(str::to_string),
                            fields: entry.get("fieldsV1").cloned().unwrap_or(Value::Null),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        LiveHistory {
            last_applied,
            managed_fields,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ResourceId;
    use serde_json::json;

    fn resource(object: Value) -> Resource {
        Resource {
            id: ResourceId {
                group: String::new(),
                kind: object["kind"].as_str().unwrap().to_string(),
                namespace: Some("ns".into()),
                name: "x".into(),
            },
            version: "v1".into(),
            object,
            source: None,
            owner: None,
            history: None,
        }
    }

    #[test]
    fn live_history_is_kept_and_normalized() {
        let n = Normalizer::new(Fingerprinter::with_key(b"k"));
        let mut r = resource(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x",
            "annotations": {LAST_APPLIED: "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"stringData\":{\"p\":\"hunter2\"}}"},
            "managedFields": [{"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:data": {}}}]},
            "data": {"p": "aHVudGVyMg=="}}),
        );
        n.normalize(&mut r, true);
        let history = r.history.as_ref().unwrap();
        assert_eq!(history.managed_fields[0].manager, "kubectl");
        let applied = history.last_applied.as_ref().unwrap();
        assert_eq!(applied["data"]["p"], r.object["data"]["p"]);
        assert!(!format!("{r:?}").contains("hunter2"));
        // Noise is the policies' to remove (builtin:noise), not normalization's.
        assert!(r.object["metadata"].get("managedFields").is_some());
    }
}
