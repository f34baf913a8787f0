//! Parity: one environment against another (docs/architecture.md, comparison). Symmetric; every differing leaf is a
//! change, every unpaired object an `only-in` finding.

use super::equivalents;
use super::pairing::{
    GeneratedNames, Mapping, generated_names, match_id, needs_rewrite, rewrite_values,
};
use super::{Difference, FindingKind, ResourceRef};
use crate::diff::{Change, diff};
use crate::model::{Inventory, Resource, ResourceId};
use rayon::prelude::*;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

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
#[derive(Clone, Copy)]
pub struct Sides<'a> {
    pub left: &'a str,
    pub right: &'a str,
}

/// Parity of two inventories held in memory.
pub fn parity(
    left: &Inventory,
    right: &Inventory,
    mapping: &Mapping,
    sides: &Sides,
) -> Result<Vec<Difference>, ParityError> {
    let mut run = ParityRun::new(left, mapping, *sides)?;
    let mut out = run.add_right(right.resources.values())?;
    out.extend(run.finish());
    Ok(out)
}

/// A parity comparison that holds the left environment and takes the right one in batches, so
/// only one side is ever whole in memory (2 x 50,000 objects fit in well under 1 GiB this way).
pub struct ParityRun<'a> {
    mapping: &'a Mapping,
    sides: Sides<'a>,
    /// Left resources by the identity they pair under.
    left: BTreeMap<ResourceId, &'a Resource>,
    left_generated: GeneratedNames,
    /// Right references to set aside: names whose base is a generated left name.
    right_generated: GeneratedNames,
    /// Right identities seen so far, by the identity they pair under.
    right_seen: HashMap<ResourceId, ResourceId>,
    matched: HashSet<ResourceId>,
    /// How many right resources were compared.
    pub right_count: usize,
    /// Extra findings on each pair (fields a policy requires to differ that are equal).
    pair_check: Option<&'a PairCheck<'a>>,
}

/// A check run on every pair of a parity comparison, beside the diff.
pub type PairCheck<'a> = dyn Fn(&Resource, &Resource) -> Vec<Difference> + Sync + 'a;

impl<'a> ParityRun<'a> {
    pub fn new(
        left: &'a Inventory,
        mapping: &'a Mapping,
        sides: Sides<'a>,
    ) -> Result<Self, ParityError> {
        let mut index = BTreeMap::new();
        for resource in left.resources.values() {
            let key = match_id(mapping.map_id(&resource.id));
            if let Some(previous) = index.insert(key.clone(), resource) {
                return Err(ParityError::Ambiguous {
                    env: sides.left.to_string(),
                    first: previous.id.clone(),
                    second: resource.id.clone(),
                    mapped: key,
                });
            }
        }
        let left_generated = generated_names(left.resources.keys());
        // Generated left names, as the right side would spell their base.
        let right_bases = left
            .resources
            .keys()
            .filter(|id| left_generated.contains_key(&id.name))
            .map(|id| match_id(mapping.map_id(id)).name)
            .collect();
        Ok(ParityRun {
            mapping,
            sides,
            left: index,
            left_generated: GeneratedNames::Known(left_generated),
            right_generated: GeneratedNames::Bases(right_bases),
            right_seen: HashMap::new(),
            matched: HashSet::new(),
            right_count: 0,
            pair_check: None,
        })
    }

    /// Runs `check` on every pair as well as the diff.
    pub fn with_pair_check(mut self, check: &'a PairCheck<'a>) -> Self {
        self.pair_check = Some(check);
        self
    }

    /// Compares a batch of right resources with their left counterparts.
    pub fn add_right<'r>(
        &mut self,
        batch: impl IntoIterator<Item = &'r Resource>,
    ) -> Result<Vec<Difference>, ParityError> {
        let mut out = Vec::new();
        let mut pairs: Vec<(&Resource, &Resource)> = Vec::new();
        for right in batch {
            self.right_count += 1;
            let key = match_id(right.id.clone());
            if let Some(previous) = self.right_seen.insert(key.clone(), right.id.clone()) {
                return Err(ParityError::Ambiguous {
                    env: self.sides.right.to_string(),
                    first: previous,
                    second: right.id.clone(),
                    mapped: key,
                });
            }
            match self.left.get(&key) {
                Some(left) => {
                    pairs.push((left, right));
                    self.matched.insert(key);
                }
                None => out.push(only_in(right, self.sides.right)),
            }
        }
        // Pairs are independent: diff them on every core.
        let (mapping, left_generated, right_generated, pair_check) = (
            self.mapping,
            &self.left_generated,
            &self.right_generated,
            self.pair_check,
        );
        let changes: Vec<Vec<Difference>> = pairs
            .par_iter()
            .map(|(left, right)| {
                let mut found = Vec::new();
                compare_pair(
                    left,
                    right,
                    mapping,
                    left_generated,
                    right_generated,
                    &mut found,
                );
                if let Some(check) = pair_check {
                    found.extend(check(left, right));
                }
                found
            })
            .collect();
        out.extend(changes.into_iter().flatten());
        Ok(out)
    }

    /// The left resources no right resource paired with.
    pub fn finish(self) -> Vec<Difference> {
        self.left
            .iter()
            .filter(|(key, _)| !self.matched.contains(*key))
            .map(|(_, left)| only_in(left, self.sides.left))
            .collect()
    }
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
    left_generated: &GeneratedNames,
    right_generated: &GeneratedNames,
    out: &mut Vec<Difference>,
) {
    let mut l = rewritten_copy(&left.object, left_generated, Some(mapping));
    let r = rewritten_copy(&right.object, right_generated, None);
    if !mapping.equivalents.is_empty() && l != r {
        let secret = left.id.group.is_empty() && left.id.kind == "Secret";
        equivalents::align(l.to_mut(), &r, &mapping.equivalents, secret);
    }
    // One copy of the left object, shared by the pair's differences, for policy conditions.
    let object = std::sync::OnceLock::new();
    for change in diff(&l, &r) {
        // Show the left value as its environment wrote it, not as mapped for comparison — except
        // multi-line text, shown as a line diff, whose lines that map equal show as the right
        // writes them (unchanged context), the others as written.
        let left_value = change.left.as_ref().map(|mapped| match mapped {
            Value::String(s) if s.contains('\n') => mapped.clone(),
            _ => change
                .path
                .resolve(&left.object)
                .cloned()
                .unwrap_or_else(|| mapped.clone()),
        });
        let object = object.get_or_init(|| Arc::new(left.object_with_identity()));
        out.push(Difference {
            counterpart: Some(left.id.clone()),
            other_source: left.source.as_ref().and(right.source.clone()),
            ..Difference::field(
                FindingKind::Parity,
                ResourceRef::of(right),
                Change {
                    left: left_value,
                    ..change
                },
                left.source.clone().or_else(|| right.source.clone()),
                object.clone(),
            )
        });
    }
}

/// The object as compared: borrowed when nothing in it maps, else a rewritten copy that lives
/// only for this pair.
fn rewritten_copy<'a>(
    object: &'a Value,
    generated: &GeneratedNames,
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

    use crate::model::test_support::resource as res;

    fn inv(resources: Vec<Resource>) -> Inventory {
        Inventory::from_resources(resources)
    }

    #[test]
    fn maps_namespaces_hashes_and_equivalents() {
        let mapping = Mapping {
            namespaces: [("stg".to_string(), "prod".to_string())].into(),
            equivalents: equivalents::Equivalents::new(&[(
                "stg.example.com".into(),
                "example.com".into(),
            )]),
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

    #[test]
    fn batches_give_the_same_findings_as_one_pass() {
        let mapping = Mapping {
            namespaces: [("stg".to_string(), "prod".to_string())].into(),
            equivalents: Default::default(),
        };
        let left = inv(vec![
            res(
                "ConfigMap",
                "stg",
                "cfg-7h2k9m5f8t",
                json!({"data": {"a": "1"}}),
            ),
            res(
                "Deployment",
                "stg",
                "api",
                json!({"spec": {"volumes": [{"name": "c", "configMap": {"name": "cfg-7h2k9m5f8t"}}], "replicas": 1}}),
            ),
            res("Service", "stg", "gone", json!({})),
        ]);
        let right_objects = vec![
            res(
                "Deployment",
                "prod",
                "api",
                json!({"spec": {"volumes": [{"name": "c", "configMap": {"name": "cfg-g4m2bt8h6c"}}], "replicas": 2}}),
            ),
            res(
                "ConfigMap",
                "prod",
                "cfg-g4m2bt8h6c",
                json!({"data": {"a": "2"}}),
            ),
            res("Service", "prod", "new", json!({})),
        ];
        let sides = Sides {
            left: "staging",
            right: "production",
        };
        let summary = |found: Vec<Difference>| {
            let mut lines: Vec<String> = found
                .iter()
                .map(|d| format!("{} {} {}", d.kind.as_str(), d.resource.id.name, d.path))
                .collect();
            lines.sort();
            lines
        };
        let whole = summary(parity(&left, &inv(right_objects.clone()), &mapping, &sides).unwrap());
        let mut run = ParityRun::new(&left, &mapping, sides).unwrap();
        let mut found = Vec::new();
        for batch in right_objects.chunks(1) {
            found.extend(run.add_right(batch.iter()).unwrap());
        }
        found.extend(run.finish());
        assert_eq!(summary(found), whole);
        assert_eq!(
            whole,
            [
                "only-in gone ",
                "only-in new ",
                "parity api spec.replicas",
                "parity cfg-g4m2bt8h6c data.a"
            ]
        );
    }

    #[test]
    fn a_right_identity_seen_twice_across_batches_is_an_error() {
        let left = inv(vec![]);
        let mapping = Mapping::default();
        let mut run = ParityRun::new(
            &left,
            &mapping,
            Sides {
                left: "l",
                right: "r",
            },
        )
        .unwrap();
        let a = res("ConfigMap", "a", "c-7h2k9m5f8t", json!({}));
        let b = res("ConfigMap", "a", "c-g4m2bt8h6c", json!({}));
        run.add_right([&a]).unwrap();
        assert!(run.add_right([&b]).is_err());
    }
}
