//! Which objects a rule, waiver, check or noise field applies to: a policy file's `match`, with its
//! globs compiled once.

use super::Place;
use super::rules::Match;
use crate::compare::{FindingKind, ResourceRef, targets};
use globset::{Glob, GlobMatcher};

/// A compiled `match`. Empty lists match everything.
pub struct Selector {
    kinds: Vec<String>,
    namespaces: Vec<GlobMatcher>,
    names: Vec<GlobMatcher>,
    labels: Vec<(String, String)>,
    annotations: Vec<(String, GlobMatcher)>,
    targeted_by: Vec<String>,
    envs: Vec<GlobMatcher>,
    pairs: Vec<(GlobMatcher, GlobMatcher)>,
    edges: Option<bool>,
    findings: Vec<String>,
    owners: Vec<crate::model::Owner>,
    managers: Vec<String>,
}

impl Selector {
    pub fn new(m: &Match) -> Self {
        // Globs were validated when the file was parsed.
        let globs = |patterns: &[String]| {
            patterns
                .iter()
                .filter_map(|p| Glob::new(p).ok())
                .map(|g| g.compile_matcher())
                .collect()
        };
        Selector {
            kinds: m.kinds.clone(),
            namespaces: globs(&m.namespaces),
            names: globs(&m.names),
            labels: m
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            annotations: m
                .annotations
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), Glob::new(v).ok()?.compile_matcher())))
                .collect(),
            targeted_by: m.targeted_by.clone(),
            envs: globs(&m.envs),
            pairs: m
                .pairs
                .iter()
                .filter_map(|pair| {
                    let glob = |i: usize| Some(Glob::new(pair.get(i)?).ok()?.compile_matcher());
                    Some((glob(0)?, glob(1)?))
                })
                .collect(),
            edges: m.edges,
            findings: m.findings.clone(),
            owners: m.owners.clone(),
            managers: m.managers.clone(),
        }
    }

    /// Matches every object everywhere (an empty `match`).
    pub fn is_universal(&self) -> bool {
        self.kinds.is_empty()
            && self.namespaces.is_empty()
            && self.names.is_empty()
            && self.labels.is_empty()
            && self.annotations.is_empty()
            && self.targeted_by.is_empty()
            && self.owners.is_empty()
            && self.managers.is_empty()
            && self.is_everywhere()
    }

    /// Selects by no environment, pair, edge or finding kind: what it matches is the same in
    /// every view (so the noise it removes can be removed before comparison).
    pub fn is_everywhere(&self) -> bool {
        self.envs.is_empty()
            && self.pairs.is_empty()
            && self.edges.is_none()
            && self.findings.is_empty()
    }

    /// Selects by what surrounds an object (`targeted_by`: the other objects of its side), which
    /// only a comparison knows: such a rule is judged on differences, never applied beforehand.
    pub fn selects_by_surroundings(&self) -> bool {
        !self.targeted_by.is_empty()
    }

    /// Whether a finding of `kind` about `resource`, found at `place`, is selected.
    pub fn matches(&self, resource: &ResourceRef, kind: FindingKind, place: &Place<'_>) -> bool {
        self.matches_place(kind, place) && self.matches_object(resource)
    }

    fn matches_place(&self, kind: FindingKind, place: &Place<'_>) -> bool {
        let envs_ok = self.envs.is_empty()
            || (!place.envs.is_empty()
                && place
                    .envs
                    .iter()
                    .all(|env| self.envs.iter().any(|g| g.is_match(env))));
        let pair = match place.envs {
            [left, right] => Some((*left, *right)),
            _ => None,
        };
        let pairs_ok = self.pairs.is_empty()
            || pair.is_some_and(|(l, r)| {
                self.pairs
                    .iter()
                    .any(|(a, b)| a.is_match(l) && b.is_match(r))
            });
        let edges_ok = self
            .edges
            .is_none_or(|edge| pair.is_some() && place.edge == edge);
        // Promotion findings carry the engine's verdict: only a selection that names them
        // decides them, so a parity rule never turns a healthy lag into an error.
        let findings_ok = (self.findings.is_empty() && kind != FindingKind::Promotion)
            || self.findings.iter().any(|f| f == kind.as_str());
        envs_ok && pairs_ok && edges_ok && findings_ok
    }

    /// Whether a field last changed by `changed_by` is selected: always, unless the selector
    /// names managers.
    pub fn matches_manager(&self, changed_by: Option<&crate::compare::ChangedBy>) -> bool {
        self.managers.is_empty() || changed_by.is_some_and(|c| self.managers.contains(&c.manager))
    }

    /// Whether `resource` is one of the objects selected (kinds, namespaces, names, labels).
    pub fn matches_object(&self, resource: &ResourceRef) -> bool {
        let id = &resource.id;
        let kind_ok = self.kinds.is_empty()
            || self
                .kinds
                .iter()
                .any(|k| targets::kind_matches(k, &id.group, &id.kind));
        let targeted_ok = self.targeted_by.is_empty()
            || self.targeted_by.iter().any(|pattern| {
                resource
                    .targeted_by
                    .iter()
                    .any(|by| targets::targeting_kind_matches(pattern, by))
            });
        let annotations_ok = self.annotations.iter().all(|(key, glob)| {
            resource
                .annotations
                .get(key)
                .is_some_and(|value| glob.is_match(value))
        });
        let namespace = id.namespace.as_deref().unwrap_or("");
        kind_ok
            && targeted_ok
            && annotations_ok
            && (self.owners.is_empty()
                || resource
                    .owner
                    .as_ref()
                    .is_some_and(|o| self.owners.contains(o)))
            && (self.namespaces.is_empty() || self.namespaces.iter().any(|g| g.is_match(namespace)))
            && (self.names.is_empty() || self.names.iter().any(|g| g.is_match(&id.name)))
            && self.labels.iter().all(|(k, v)| {
                resource
                    .labels
                    .get(k)
                    .is_some_and(|have| v == "*" || have == v)
            })
    }
}
