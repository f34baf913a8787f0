//! Which objects a rule, waiver, check or noise field applies to: a policy file's `match`, with its
//! globs compiled once.

use super::rules::Match;
use crate::compare::ResourceRef;
use globset::{Glob, GlobMatcher};

/// A compiled `match`. Empty lists match everything.
pub struct Selector {
    kinds: Vec<String>,
    namespaces: Vec<GlobMatcher>,
    names: Vec<GlobMatcher>,
    labels: Vec<(String, String)>,
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
        }
    }

    /// Matches every object (an empty `match`).
    pub fn is_universal(&self) -> bool {
        self.kinds.is_empty()
            && self.namespaces.is_empty()
            && self.names.is_empty()
            && self.labels.is_empty()
    }

    pub fn matches(&self, resource: &ResourceRef) -> bool {
        let id = &resource.id;
        let kind_ok = self.kinds.is_empty()
            || self.kinds.iter().any(|k| match k.rsplit_once('/') {
                Some((group, kind)) => group == id.group && kind == id.kind,
                None => *k == id.kind,
            });
        let namespace = id.namespace.as_deref().unwrap_or("");
        kind_ok
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
