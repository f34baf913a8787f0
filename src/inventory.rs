//! From parsed documents to an environment's [`Inventory`]: identities, namespace defaulting,
//! cluster scope, and the rule that one identity names one object.

use crate::model::{Inventory, Resource, ResourceId, Scopes, SourceLocation, split_api_version};
use crate::names::NameRule;
use crate::report::common::{truncate, visible_controls};
use crate::yaml::Document;
use serde_json::Value;
use std::collections::btree_map::Entry;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{file}:{line}: {message}")]
    NotAnObject {
        file: String,
        line: u64,
        message: String,
    },
    #[error(
        "{file}:{line}: {kind} `{name}`: {field} `{value}` is not a name Kubernetes accepts: {reason}\n  help: {subject} must be {rule}; Kubernetes would refuse this object"
    )]
    InvalidName {
        file: String,
        line: u64,
        kind: String,
        /// The object's name and the refused value, as they can be shown: control characters
        /// visible, cut when long.
        name: String,
        value: String,
        /// `metadata.name` or `metadata.namespace`.
        field: &'static str,
        /// What the rule names: `a ConfigMap name`, `a namespace`.
        subject: String,
        reason: &'static str,
        rule: NameRule,
    },
    #[error(
        "{id} is declared twice in {env}: at {first} and at {second}\n  help: one identity names one object; remove one of them or give it another name or namespace"
    )]
    Duplicate {
        env: String,
        id: ResourceId,
        first: String,
        second: String,
    },
}

/// Builds the inventory of live objects: as [`build`], without a `source` (the file a capture was
/// read from says nothing about where the object is declared in Git).
pub fn build_live(
    env: &str,
    documents: Vec<Document>,
    scopes: &Scopes,
) -> Result<Inventory, InventoryError> {
    // Live objects exist: their names are never refused, whatever Kubernetes' rule says today.
    let mut inventory = collect(env, documents, None, scopes, Names::AsTheyAre)?;
    for resource in inventory.resources.values_mut() {
        resource.source = None;
    }
    Ok(inventory)
}

/// Builds the inventory of desired objects. Namespaced objects without a namespace take
/// `default_namespace` (else `default`), and it is written into the object; cluster-scoped objects
/// lose any namespace. A name or namespace Kubernetes would refuse for its kind is bad input:
/// the API server would reject the object, and names become file paths (`render --out-dir`).
pub fn build(
    env: &str,
    documents: Vec<Document>,
    default_namespace: Option<&str>,
    scopes: &Scopes,
) -> Result<Inventory, InventoryError> {
    collect(env, documents, default_namespace, scopes, Names::Kubernetes)
}

/// Whether an inventory's names are checked against Kubernetes' rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Names {
    Kubernetes,
    AsTheyAre,
}

fn collect(
    env: &str,
    documents: Vec<Document>,
    default_namespace: Option<&str>,
    scopes: &Scopes,
    names: Names,
) -> Result<Inventory, InventoryError> {
    let mut inventory = Inventory::default();
    for document in documents {
        let resource = resource_of(document, default_namespace, scopes)?;
        if names == Names::Kubernetes {
            check_names(&resource)?;
        }
        match inventory.resources.entry(resource.id.clone()) {
            Entry::Occupied(existing) => {
                return Err(InventoryError::Duplicate {
                    env: env.to_string(),
                    id: resource.id,
                    first: location(&existing.get().source),
                    second: location(&resource.source),
                });
            }
            Entry::Vacant(slot) => {
                slot.insert(resource);
            }
        }
    }
    Ok(inventory)
}

/// The object's name by its kind's rule, its namespace as a Namespace's name.
fn check_names(resource: &Resource) -> Result<(), InventoryError> {
    let id = &resource.id;
    let name_rule = NameRule::of(&id.group, &id.kind);
    let checks = std::iter::once((
        "metadata.name",
        id.name.as_str(),
        name_rule,
        format!("a {} name", id.group_kind()),
    ))
    .chain(id.namespace.as_deref().map(|ns| {
        (
            "metadata.namespace",
            ns,
            NameRule::of("", "Namespace"),
            "a namespace".to_string(),
        )
    }));
    let shown = |text: &str| visible_controls(&truncate(text, 100));
    for (field, value, rule, subject) in checks {
        if let Some(reason) = rule.violation(value) {
            let (file, line) = resource
                .source
                .as_ref()
                .map(|s| (s.file.clone(), s.line))
                .unwrap_or_default();
            return Err(InventoryError::InvalidName {
                file,
                line,
                kind: id.group_kind(),
                name: shown(&id.name),
                value: shown(value),
                field,
                subject,
                reason,
                rule,
            });
        }
    }
    Ok(())
}

/// A field of an object's identity: its text, none when it is missing (null or empty), or an
/// error saying what it is instead. YAML reads `name: y`, `name: on` or `name: 0123` as a
/// boolean or a number; saying "has no name" would send the user looking for the wrong mistake.
fn identity_string(value: &Value, field: &str) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        // Booleans and numbers are shown (they are no secret, and say what YAML made of the
        // text); a mapping's or list's contents are not.
        Value::Bool(_) | Value::Number(_) => Err(format!(
            "{field} is {} ({value}), not a string\n  help: quote it (`{}: \"...\"`): YAML reads unquoted y, n, yes, no, on, off, true, false and numbers as booleans and numbers",
            crate::yaml::json_type_name(value),
            field.rsplit('.').next().unwrap_or(field)
        )),
        other => Err(format!(
            "{field} is {}, not a string",
            crate::yaml::json_type_name(other)
        )),
    }
}

fn location(source: &Option<SourceLocation>) -> String {
    source
        .as_ref()
        .map(|s| format!("{}:{}", s.file, s.line))
        .unwrap_or_else(|| "an unknown place".into())
}

fn resource_of(
    document: Document,
    default_namespace: Option<&str>,
    scopes: &Scopes,
) -> Result<Resource, InventoryError> {
    let Document {
        mut value,
        file,
        line,
        origin,
    } = document;
    let (owner, default_namespace) = match origin.as_deref() {
        Some(origin) => (
            origin.owner.clone(),
            origin.namespace.as_deref().or(default_namespace),
        ),
        None => (None, default_namespace),
    };
    let fail = |message: String| InventoryError::NotAnObject {
        file: file.clone(),
        line,
        message,
    };
    let missing = |message: String| {
        fail(message + "\n  help: every manifest needs apiVersion, kind and metadata.name")
    };
    let api_version = identity_string(&value["apiVersion"], "apiVersion")
        .map_err(&fail)?
        .ok_or_else(|| {
            missing("this document has no apiVersion; it is not a Kubernetes object".into())
        })?;
    let kind = identity_string(&value["kind"], "kind")
        .map_err(&fail)?
        .ok_or_else(|| {
            missing("this document has no kind; it is not a Kubernetes object".into())
        })?;
    let name = identity_string(&value["metadata"]["name"], "metadata.name")
        .map_err(&fail)?
        .ok_or_else(|| missing(format!("this {kind} has no metadata.name")))?;
    if let Some(namespace) = value.get("metadata").and_then(|m| m.get("namespace")) {
        identity_string(namespace, "metadata.namespace").map_err(&fail)?;
    }
    let (group, version) = split_api_version(&api_version);
    let (group, version) = (group.to_string(), version.to_string());
    let metadata = value
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| missing("metadata is not a mapping".into()))?;
    let namespace = if scopes.is_cluster_scoped(&group, &kind) {
        metadata.remove("namespace");
        None
    } else {
        let namespace = metadata
            .get("namespace")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .or(default_namespace)
            .unwrap_or("default")
            .to_string();
        metadata.insert("namespace".into(), Value::String(namespace.clone()));
        Some(namespace)
    };
    Ok(Resource {
        id: ResourceId {
            group,
            kind,
            namespace,
            name,
        },
        version,
        object: value,
        source: Some(SourceLocation { file, line }),
        owner,
        history: None,
    })
}

/// With no configured namespace, a desired object that names none is compared with the one live
/// object of its kind and name, whatever namespace that is in (`kubectl apply` would have put it in
/// the context's namespace, which a plain file does not record).
pub fn adopt_live_namespaces(desired: &mut [Document], live: &[Document], scopes: &Scopes) {
    for doc in desired.iter_mut() {
        let value = &doc.value;
        if value["metadata"]["namespace"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
        {
            continue;
        }
        let (group, _) = split_api_version(value["apiVersion"].as_str().unwrap_or(""));
        let kind = value["kind"].as_str().unwrap_or("");
        if scopes.is_cluster_scoped(group, kind) {
            continue;
        }
        let same = |l: &&Document| {
            let (lg, _) = split_api_version(l.value["apiVersion"].as_str().unwrap_or(""));
            lg == group
                && l.value["kind"] == kind
                && l.value["metadata"]["name"] == value["metadata"]["name"]
        };
        let candidates: Vec<&Document> = live.iter().filter(same).collect();
        if let [only] = candidates.as_slice()
            && let Some(ns) = only.value["metadata"]["namespace"].as_str()
            && let Some(metadata) = doc
                .value
                .get_mut("metadata")
                .and_then(|m| m.as_object_mut())
        {
            metadata.insert("namespace".into(), ns.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(value: Value, line: u64) -> Document {
        Document {
            value,
            file: "f.yaml".into(),
            line,
            origin: None,
        }
    }

    #[test]
    fn namespaces_are_defaulted_and_cluster_scope_drops_them() {
        let docs = vec![
            doc(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}),
                1,
            ),
            doc(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r", "namespace": "x"}}),
                5,
            ),
        ];
        let inv = build("staging", docs, Some("shop"), &Scopes::default()).unwrap();
        let cm = inv
            .resources
            .values()
            .find(|r| r.id.kind == "ConfigMap")
            .unwrap();
        assert_eq!(cm.id.namespace.as_deref(), Some("shop"));
        assert_eq!(cm.object["metadata"]["namespace"], "shop");
        let role = inv
            .resources
            .values()
            .find(|r| r.id.kind == "ClusterRole")
            .unwrap();
        assert_eq!(role.id.namespace, None);
        assert!(role.object["metadata"].get("namespace").is_none());
    }

    #[test]
    fn duplicates_name_both_places() {
        let o = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}});
        let err = build(
            "staging",
            vec![doc(o.clone(), 1), doc(o, 9)],
            None,
            &Scopes::default(),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("f.yaml:1") && text.contains("f.yaml:9"),
            "{text}"
        );
    }

    #[test]
    fn documents_without_identity_are_errors_with_their_line() {
        let err = build(
            "e",
            vec![doc(json!({"apiVersion": "v1", "kind": "ConfigMap"}), 7)],
            None,
            &Scopes::default(),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("f.yaml:7:"), "{err}");
    }

    #[test]
    fn a_name_that_yaml_read_as_a_boolean_is_not_called_missing() {
        for (object, says) in [
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": true}}),
                "metadata.name is a boolean (true), not a string",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": 12}}),
                "metadata.namespace is a number (12), not a string",
            ),
            (
                json!({"apiVersion": "v1", "kind": ["x"], "metadata": {"name": "a"}}),
                "kind is a list, not a string",
            ),
            (
                json!({"apiVersion": 1.5, "kind": "ConfigMap", "metadata": {"name": "a"}}),
                "apiVersion is a number (1.5), not a string",
            ),
        ] {
            let err = build("e", vec![doc(object, 3)], None, &Scopes::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{err}");
            assert!(err.starts_with("f.yaml:3:"), "{err}");
        }
        let err = build(
            "e",
            vec![doc(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": true}}),
                3,
            )],
            None,
            &Scopes::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("quote it"), "{err}");
    }

    #[test]
    fn unnamespaced_desired_objects_adopt_their_one_live_counterparts_namespace() {
        let mut desired = vec![
            doc(
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a"}}),
                1,
            ),
            doc(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "twice"}}),
                2,
            ),
        ];
        let live = vec![
            doc(
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a", "namespace": "x"}}),
                1,
            ),
            doc(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "twice", "namespace": "x"}}),
                1,
            ),
            doc(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "twice", "namespace": "y"}}),
                1,
            ),
        ];
        adopt_live_namespaces(&mut desired, &live, &Scopes::default());
        assert_eq!(desired[0].value["metadata"]["namespace"], "x");
        assert!(
            desired[1].value["metadata"].get("namespace").is_none(),
            "ambiguous: left alone"
        );
    }
}
