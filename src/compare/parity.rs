//! Parity: one environment against another (DESIGN §5). Symmetric; every differing leaf is a
//! change, every unpaired object an `only-in` finding.

use super::pairing::{Mapping, generated_names, match_id, needs_rewrite, rewrite_values};
use super::{Difference, FindingKind, ResourceRef};
use crate::diff::diff;
use crate::model::{Inventory, Resource, ResourceId};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, thiserror::Error)]
pub enum ParityError {
    #[error(
        "in {env}, {first} and {second} both pair as {mapped}\n  help: two objects that map to one identity are ambiguous; check the namespaces and equivalents of this pair"
    )]
    Ambiguous {
        env: String,
        first: ResourceId,
        second: ResourceId,
        mapped: ResourceId,
    },
}

/// The two environments' names, for `only-in` findings.
pub struct Sides<'a> {
    pub left: &'a str,
    pub right: &'a str,
}

pub fn parity(
    left: &Inventory,
    right: &Inventory,
    mapping: &Mapping,
    sides: &Sides,
) -> Result<Vec<Difference>, ParityError> {
    let left_generated = generated_names(left.resources.keys());
    let right_generated = generated_names(right.resources.keys());
    let right_index = index(right, sides.right, |id| match_id(id.clone()))?;
    let left_index = index(left, sides.left, |id| match_id(mapping.map_id(id)))?;
    let mut out = Vec::new();
    for (key, l) in &left_index {
        match right_index.get(key) {
            Some(r) => compare_pair(l, r, mapping, &left_generated, &right_generated, &mut out),
            None => out.push(only_in(l, sides.left)),
        }
    }
    for (key, r) in &right_index {
        if !left_index.contains_key(key) {
            out.push(only_in(r, sides.right));
        }
    }
    Ok(out)
}

fn index<'a>(
    inventory: &'a Inventory,
    env: &str,
    key: impl Fn(&ResourceId) -> ResourceId,
) -> Result<BTreeMap<ResourceId, &'a Resource>, ParityError> {
    let mut out = BTreeMap::new();
    for resource in inventory.resources.values() {
        let mapped = key(&resource.id);
        if let Some(previous) = out.insert(mapped.clone(), resource) {
            return Err(ParityError::Ambiguous {
                env: env.to_string(),
                first: previous.id.clone(),
                second: resource.id.clone(),
                mapped,
            });
        }
    }
    Ok(out)
}

fn only_in(resource: &Resource, env: &str) -> Difference {
    let mut d = Difference::whole(FindingKind::OnlyIn, resource);
    d.only_in = Some(env.to_string());
    d
}

fn compare_pair(
    left: &Resource,
    right: &Resource,
    mapping: &Mapping,
    left_generated: &HashMap<String, String>,
    right_generated: &HashMap<String, String>,
    out: &mut Vec<Difference>,
) {
    let l = rewritten_copy(&left.object, left_generated, Some(mapping));
    let r = rewritten_copy(&right.object, right_generated, None);
    for change in diff(&l, &r) {
        // Show the left value as its environment wrote it, not as mapped for comparison — except
        // multi-line text, shown as a line diff, where unmapped tokens would show as false changes.
        let left_value = change.left.as_ref().map(|mapped| match mapped {
            Value::String(s) if s.contains('\n') => mapped.clone(),
            _ => change
                .path
                .resolve(&left.object)
                .cloned()
                .unwrap_or_else(|| mapped.clone()),
        });
        out.push(Difference {
            kind: FindingKind::Parity,
            resource: ResourceRef::of(right),
            path: change.path,
            op: Some(change.op),
            left: left_value,
            right: change.right,
            source: left.source.clone().or_else(|| right.source.clone()),
            changed_by: None,
            only_in: None,
            note: None,
        });
    }
}

/// The object as compared: borrowed when nothing in it maps, else a rewritten copy that lives
/// only for this pair.
fn rewritten_copy<'a>(
    object: &'a Value,
    generated: &HashMap<String, String>,
    mapping: Option<&Mapping>,
) -> Cow<'a, Value> {
    if needs_rewrite(object, generated, mapping) {
        let mut copy = object.clone();
        rewrite_values(&mut copy, generated, mapping);
        Cow::Owned(copy)
    } else {
        Cow::Borrowed(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(kind: &str, ns: &str, name: &str, object: Value) -> Resource {
        Resource {
            id: ResourceId {
                group: String::new(),
                kind: kind.into(),
                namespace: Some(ns.into()),
                name: name.into(),
            },
            version: "v1".into(),
            object,
            source: None,
            history: None,
        }
    }

    fn inv(resources: Vec<Resource>) -> Inventory {
        let mut i = Inventory::default();
        for r in resources {
            i.resources.insert(r.id.clone(), r);
        }
        i
    }

    #[test]
    fn maps_namespaces_hashes_and_equivalents() {
        let mapping = Mapping {
            namespaces: [("stg".to_string(), "prod".to_string())].into(),
            equivalents: vec![("stg.example.com".into(), "example.com".into())],
        };
        let left = inv(vec![
            res(
                "ConfigMap",
                "stg",
                "cfg-7h2k9m5f8t",
                json!({"data": {"host": "db.stg.example.com", "level": "debug"}}),
            ),
            res(
                "Deployment",
                "stg",
                "api",
                json!({"spec": {"volumes": [{"name": "c", "configMap": {"name": "cfg-7h2k9m5f8t"}}]}}),
            ),
            res("Secret", "stg", "only-staging", json!({})),
        ]);
        let right = inv(vec![
            res(
                "ConfigMap",
                "prod",
                "cfg-g4m2bt8h6c",
                json!({"data": {"host": "db.example.com", "level": "info"}}),
            ),
            res(
                "Deployment",
                "prod",
                "api",
                json!({"spec": {"volumes": [{"name": "c", "configMap": {"name": "cfg-g4m2bt8h6c"}}]}}),
            ),
        ]);
        let found = parity(
            &left,
            &right,
            &mapping,
            &Sides {
                left: "staging",
                right: "production",
            },
        )
        .unwrap();
        let summary: Vec<String> = found
            .iter()
            .map(|d| format!("{} {} {}", d.kind.as_str(), d.resource.id.name, d.path))
            .collect();
        assert_eq!(
            summary,
            ["parity cfg-g4m2bt8h6c data.level", "only-in only-staging "]
        );
        assert_eq!(found[0].left, Some(json!("debug")));
        assert_eq!(found[1].only_in.as_deref(), Some("staging"));
    }

    #[test]
    fn two_objects_mapping_to_one_identity_is_an_error() {
        let left = inv(vec![
            res("ConfigMap", "a", "c-7h2k9m5f8t", json!({})),
            res("ConfigMap", "a", "c-g4m2bt8h6c", json!({})),
        ]);
        let err = parity(
            &left,
            &Inventory::default(),
            &Mapping::default(),
            &Sides {
                left: "l",
                right: "r",
            },
        );
        assert!(err.is_err());
    }
}
