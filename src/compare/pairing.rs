//! Cross-environment identity: how a staging object finds its production counterpart (docs/architecture.md, identity).
//!
//! The left identity is mapped before matching: namespaces through the namespace map, names
//! through the equivalents (by whole tokens, see [`super::equivalents`]), and Kustomize's generated
//! hash suffix on ConfigMap and Secret names set aside — here and in every reference to those
//! names. Other string values meet the equivalents only where they differ from their counterpart,
//! in [`super::equivalents::align`].

use super::equivalents::Equivalents;
use crate::model::ResourceId;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Kustomize's hash alphabet: hex digits with the vowels and look-alikes replaced.
const HASH_ALPHABET: &[u8] = b"bcdfghkmt2456789";

/// `app-config-7h2k9m5f8t` → `app-config`.
pub fn strip_hash_suffix(name: &str) -> Option<&str> {
    let (base, suffix) = name.rsplit_once('-')?;
    (!base.is_empty() && suffix.len() == 10 && suffix.bytes().all(|b| HASH_ALPHABET.contains(&b)))
        .then_some(base)
}

fn carries_generated_name(id: &ResourceId) -> bool {
    id.group.is_empty() && (id.kind == "ConfigMap" || id.kind == "Secret")
}

/// The mapping from one environment's identities and values onto another's.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    pub namespaces: BTreeMap<String, String>,
    pub equivalents: Equivalents,
}

impl Mapping {
    pub fn namespace(&self, namespace: &str) -> String {
        self.namespaces
            .get(namespace)
            .cloned()
            .unwrap_or_else(|| namespace.to_string())
    }

    /// The left identity as the right environment would name it.
    pub fn map_id(&self, id: &ResourceId) -> ResourceId {
        let namespace = id.namespace.as_deref().map(|ns| self.namespace(ns));
        let name = if id.group.is_empty() && id.kind == "Namespace" {
            self.namespace(&id.name)
        } else {
            self.equivalents.map_all(&id.name)
        };
        ResourceId {
            group: id.group.clone(),
            kind: id.kind.clone(),
            namespace,
            name,
        }
    }
}

/// The identity used for matching: generated hash suffixes set aside.
pub fn match_id(id: ResourceId) -> ResourceId {
    if carries_generated_name(&id)
        && let Some(base) = strip_hash_suffix(&id.name)
    {
        let name = base.to_string();
        return ResourceId { name, ..id };
    }
    id
}

/// Which strings are references to generated names, and what they stand for.
#[derive(Debug, Clone)]
pub enum GeneratedNames {
    /// Every generated name of an environment held in memory, with its base.
    Known(HashMap<String, String>),
    /// Bases of the other side's generated names: a name with a hash suffix and one of these bases
    /// is set aside (for a side read in batches, whose own names are not all known yet).
    Bases(HashSet<String>),
}

impl GeneratedNames {
    fn base_of<'a>(&'a self, text: &'a str) -> Option<&'a str> {
        match self {
            GeneratedNames::Known(names) => names.get(text).map(String::as_str),
            GeneratedNames::Bases(bases) => {
                strip_hash_suffix(text).filter(|base| bases.contains(*base))
            }
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            GeneratedNames::Known(names) => names.is_empty(),
            GeneratedNames::Bases(bases) => bases.is_empty(),
        }
    }
}

/// Generated names of one environment and the names they stand for.
pub fn generated_names<'a>(
    ids: impl IntoIterator<Item = &'a ResourceId>,
) -> HashMap<String, String> {
    ids.into_iter()
        .filter(|id| carries_generated_name(id))
        .filter_map(|id| {
            strip_hash_suffix(&id.name).map(|base| (id.name.clone(), base.to_string()))
        })
        .collect()
}

/// Rewrites an object's values for comparison: references to generated names lose their hash; with
/// a mapping (the left side), namespace-valued fields are mapped.
pub fn rewrite_values(value: &mut Value, generated: &GeneratedNames, mapping: Option<&Mapping>) {
    match value {
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| rewrite_values(v, generated, mapping)),
        Value::Object(map) => {
            for (key, member) in map.iter_mut() {
                match member {
                    Value::String(s) => {
                        if let Some(new) = rewritten(key, s, generated, mapping) {
                            *s = new;
                        }
                    }
                    Value::Array(items) if items.iter().any(Value::is_string) => {
                        for item in items.iter_mut() {
                            match item {
                                Value::String(s) => {
                                    if let Some(new) = rewritten(key, s, generated, mapping) {
                                        *s = new;
                                    }
                                }
                                other => rewrite_values(other, generated, mapping),
                            }
                        }
                    }
                    other => rewrite_values(other, generated, mapping),
                }
            }
        }
        _ => {}
    }
}

/// Would [`rewrite_values`] change anything? A read-only scan, so that objects with nothing to map
/// (most of them) are compared without being copied.
pub fn needs_rewrite(value: &Value, generated: &GeneratedNames, mapping: Option<&Mapping>) -> bool {
    if generated.is_empty() && mapping.is_none_or(|m| m.namespaces.is_empty()) {
        return false;
    }
    match value {
        Value::Array(items) => items.iter().any(|v| needs_rewrite(v, generated, mapping)),
        Value::Object(map) => map.iter().any(|(key, member)| match member {
            Value::String(s) => rewritten(key, s, generated, mapping).is_some(),
            Value::Array(items) => items.iter().any(|item| match item {
                Value::String(s) => rewritten(key, s, generated, mapping).is_some(),
                other => needs_rewrite(other, generated, mapping),
            }),
            other => needs_rewrite(other, generated, mapping),
        }),
        _ => false,
    }
}

/// The new text of a string stored under `key`, if rewriting changes it.
fn rewritten(
    key: &str,
    text: &str,
    generated: &GeneratedNames,
    mapping: Option<&Mapping>,
) -> Option<String> {
    let mut current: Option<String> = generated.base_of(text).map(str::to_string);
    if let Some(mapping) = mapping {
        let base = current.as_deref().unwrap_or(text);
        if matches!(key, "namespace" | "kubernetes.io/metadata.name")
            && let Some(ns) = mapping.namespaces.get(base)
        {
            current = Some(ns.clone());
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(kind: &str, ns: Option<&str>, name: &str) -> ResourceId {
        ResourceId {
            group: String::new(),
            kind: kind.into(),
            namespace: ns.map(Into::into),
            name: name.into(),
        }
    }

    #[test]
    fn hash_suffixes() {
        assert_eq!(
            strip_hash_suffix("app-config-7h2k9m5f8t"),
            Some("app-config")
        );
        assert_eq!(
            strip_hash_suffix("app-config-g4m2bt8h6c"),
            Some("app-config")
        );
        assert_eq!(strip_hash_suffix("my-secret-production"), None);
        assert_eq!(strip_hash_suffix("-7h2k9m5f8t"), None);
        assert_eq!(
            match_id(id("ConfigMap", Some("a"), "c-7h2k9m5f8t")).name,
            "c"
        );
        assert_eq!(
            match_id(id("Deployment", Some("a"), "c-7h2k9m5f8t")).name,
            "c-7h2k9m5f8t"
        );
    }

    #[test]
    fn identities_and_values_are_mapped() {
        let m = Mapping {
            namespaces: [("shop-staging".to_string(), "shop".to_string())].into(),
            equivalents: Equivalents::new(&[("staging.example.com".into(), "example.com".into())]),
        };
        assert_eq!(
            m.map_id(&id("Namespace", None, "shop-staging")).name,
            "shop"
        );
        assert_eq!(
            m.map_id(&id("Service", Some("shop-staging"), "api"))
                .namespace
                .as_deref(),
            Some("shop")
        );
        let generated = generated_names([&id("ConfigMap", Some("x"), "cfg-7h2k9m5f8t")]);
        let mut v = json!({"subjects": [{"namespace": "shop-staging", "name": "shop-staging"}],
            "host": "api.staging.example.com", "ref": "cfg-7h2k9m5f8t"});
        rewrite_values(&mut v, &GeneratedNames::Known(generated), Some(&m));
        assert_eq!(
            v,
            json!({"subjects": [{"namespace": "shop", "name": "shop-staging"}],
            "host": "api.staging.example.com", "ref": "cfg"})
        );
    }

    #[test]
    fn objects_with_nothing_to_map_are_not_rewritten() {
        let m = Mapping {
            namespaces: [("a".to_string(), "b".to_string())].into(),
            equivalents: Equivalents::new(&[("x.io".into(), "y.io".into())]),
        };
        let plain = json!({"spec": {"args": ["--host=api.x.io"], "namespace": "c", "env": [{"name": "a", "value": "a"}]}});
        assert!(!needs_rewrite(
            &plain,
            &GeneratedNames::Known(HashMap::new()),
            Some(&m)
        ));
        let mapped = json!({"spec": {"namespace": "a"}});
        assert!(needs_rewrite(
            &mapped,
            &GeneratedNames::Known(HashMap::new()),
            Some(&m)
        ));
        let mut v = mapped.clone();
        rewrite_values(&mut v, &GeneratedNames::Known(HashMap::new()), Some(&m));
        assert_eq!(v, json!({"spec": {"namespace": "b"}}));
        // A side read in batches knows only the other side's bases.
        let bases = GeneratedNames::Bases(["cfg".to_string()].into());
        let mut r = json!({"ref": "cfg-g4m2bt8h6c", "other": "app-g4m2bt8h6c"});
        rewrite_values(&mut r, &bases, None);
        assert_eq!(r, json!({"ref": "cfg", "other": "app-g4m2bt8h6c"}));
    }
}
