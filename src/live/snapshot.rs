//! Live state from a file: a `kubectl get -o json|yaml` List, or a plumb snapshot (docs/live.md).

use crate::input_file::{InputFileError, InputKind};
use crate::model::{RunError, Scopes};
use crate::normalize::Fingerprinter;
use crate::yaml::{Document, YamlError, parse_values, without_values};
use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read live state: {0}")]
    Read(#[from] InputFileError),
    #[error("{0}")]
    Yaml(#[from] YamlError),
    #[error(
        "{path}:{line}: this is neither a `kubectl get -o json|yaml` List nor a plumb snapshot (found {found})\n  help: capture live state with `kubectl get deploy,svc,cm,secret -n NAMESPACE -o json > live.json` or `plumb snapshot ENV -o live.json`"
    )]
    NotLiveState {
        path: String,
        line: u64,
        found: String,
    },
    #[error("{path}:{line}: this {what} is malformed: {message}\n  help: {help}")]
    Malformed {
        path: String,
        line: u64,
        what: &'static str,
        message: String,
        help: &'static str,
    },
    #[error("{path}: snapshot version {version} is not supported (this plumb reads version 1)")]
    Version { path: String, version: String },
}

/// Live objects read from a file, and what the file says it could not see.
#[derive(Debug, Default)]
pub struct LiveFile {
    pub documents: Vec<Document>,
    pub errors: Vec<RunError>,
    /// Namespaces the capture covered, when a snapshot says.
    pub namespaces: Option<Vec<String>>,
    pub scopes: Scopes,
}

/// A plumb snapshot, as `plumb snapshot` writes it: exactly these keys, `objects` required. A
/// missing or misspelled key must not read as an empty, complete cluster.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotFile {
    version: Value,
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    #[allow(dead_code)]
    taken_at: Option<Value>,
    #[serde(default)]
    #[allow(dead_code)]
    cluster: Option<Value>,
    #[serde(default)]
    namespaces: Option<Vec<String>>,
    #[serde(default)]
    resources: Vec<SnapshotResource>,
    #[serde(default)]
    errors: Vec<SnapshotErrorEntry>,
    #[serde(default)]
    fingerprint_key_id: Option<String>,
    objects: Vec<Value>,
}

#[derive(Debug, Deserialize)]
struct SnapshotResource {
    #[serde(default)]
    group: String,
    kind: String,
    namespaced: bool,
}

#[derive(Debug, Deserialize)]
struct SnapshotErrorEntry {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// A `kubectl get -o json|yaml` List (or a typed list such as `PodList`): exactly these keys,
/// `items` required (`null` is Go's empty list).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListFile {
    #[serde(default, rename = "apiVersion")]
    #[allow(dead_code)]
    api_version: Option<String>,
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    #[allow(dead_code)]
    metadata: Option<Value>,
    /// A `Value`, not an `Option`: serde would read a missing `Option` as none.
    items: Value,
}

/// Reads a List or a snapshot. `env` names the environment in error entries.
pub fn read(
    path: &str,
    env: &str,
    fingerprinter: &Fingerprinter,
) -> Result<LiveFile, SnapshotError> {
    let text = crate::input_file::read_text(Path::new(path), InputKind::Live)?;
    read_text(&text, path, env, fingerprinter)
}

/// Reads a List or a snapshot from its text; `path` is how messages name the file. Separate from
/// [`read`] so that hostile text can be fed to it without a file (tests/fuzz.rs).
pub fn read_text(
    text: &str,
    path: &str,
    env: &str,
    fingerprinter: &Fingerprinter,
) -> Result<LiveFile, SnapshotError> {
    let values = parse_values(text, path)?;
    let not_live = |line: u64, found: String| SnapshotError::NotLiveState {
        path: path.to_string(),
        line,
        found,
    };
    let mut values = values.into_iter();
    let (value, line) = values
        .next()
        .ok_or_else(|| not_live(1, "an empty file".into()))?;
    if let Some((_, extra)) = values.next() {
        return Err(not_live(extra, "more than one YAML document".into()));
    }
    let kind = value["kind"].as_str().unwrap_or_default().to_string();
    let mut live = LiveFile::default();
    match kind.as_str() {
        "PlumbSnapshot" => {
            let snapshot: SnapshotFile = strict(value, path, line, "snapshot", SNAPSHOT_HELP)?;
            read_snapshot(snapshot, path, line, env, fingerprinter, &mut live)?;
        }
        k if k == "List" || k.ends_with("List") => {
            let list: ListFile = strict(value, path, line, "List", LIST_HELP)?;
            let items = match list.items {
                Value::Array(items) => items,
                Value::Null => Vec::new(),
                other => {
                    return Err(SnapshotError::Malformed {
                        path: path.to_string(),
                        line,
                        what: "List",
                        message: format!(
                            "items is {}, not a list",
                            crate::yaml::json_type_name(&other)
                        ),
                        help: LIST_HELP,
                    });
                }
            };
            push_items(items, path, line, &mut live.documents);
        }
        "" => {
            return Err(not_live(
                line,
                crate::yaml::json_type_name(&value).to_string() + " without a kind",
            ));
        }
        other => return Err(not_live(line, format!("a single {other}"))),
    }
    Ok(live)
}

const SNAPSHOT_HELP: &str = "a snapshot has the keys version, kind, taken_at, cluster, namespaces, resources, errors, fingerprint_key_id and objects (required); take it again with `plumb snapshot ENV -o FILE`";
const LIST_HELP: &str = "a List has the keys apiVersion, kind, metadata and items (required); capture it with `kubectl get ... -o json`";

/// `value` read into `T`, whose schema names every key: a missing required key or an unknown one
/// is bad input. The message names keys, never values (a List holds Secrets).
fn strict<T: serde::de::DeserializeOwned>(
    value: Value,
    path: &str,
    line: u64,
    what: &'static str,
    help: &'static str,
) -> Result<T, SnapshotError> {
    serde_json::from_value(value).map_err(|e| SnapshotError::Malformed {
        path: path.to_string(),
        line,
        what,
        message: without_values(&e.to_string()),
        help,
    })
}

fn push_items(items: Vec<Value>, path: &str, line: u64, out: &mut Vec<Document>) {
    out.extend(items.into_iter().map(|value| Document {
        value,
        file: path.to_string(),
        line,
        origin: None,
    }));
}

fn read_snapshot(
    snapshot: SnapshotFile,
    path: &str,
    line: u64,
    env: &str,
    fingerprinter: &Fingerprinter,
    live: &mut LiveFile,
) -> Result<(), SnapshotError> {
    if snapshot.version != 1 {
        return Err(SnapshotError::Version {
            path: path.to_string(),
            version: without_values(&snapshot.version.to_string()),
        });
    }
    for r in &snapshot.resources {
        live.scopes.declare(&r.group, &r.kind, !r.namespaced);
    }
    live.namespaces = snapshot.namespaces;
    for e in snapshot.errors {
        live.errors.push(RunError {
            env: env.to_string(),
            kind: e.kind.unwrap_or_else(|| "snapshot".to_string()),
            source: None,
            resource: e.resource,
            message: e
                .message
                .unwrap_or_else(|| "the snapshot could not read this".to_string()),
            unjudged: None,
        });
    }
    // Secret values in a snapshot are fingerprints made with the key of the run that took it;
    // compared under another key every Secret would look changed, so say so instead.
    if snapshot
        .fingerprint_key_id
        .as_deref()
        .is_some_and(|id| id != fingerprinter.key_id())
    {
        live.errors.push(RunError {
            env: env.to_string(),
            kind: "fingerprint".into(),
            source: None,
            resource: Some("Secret".into()),
            message: format!(
                "{path} was fingerprinted with another key; Secret values cannot be compared. \
                 Set PLUMB_FINGERPRINT_KEY to the key used when the snapshot was taken"
            ),
            unjudged: None,
        });
    }
    push_items(snapshot.objects, path, line, &mut live.documents);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn reads_a_kubectl_list() {
        let f = write(
            r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"x"}}]}"#,
        );
        let live = read(
            f.path().to_str().unwrap(),
            "e",
            &Fingerprinter::with_key(b"k"),
        )
        .unwrap();
        assert_eq!(live.documents.len(), 1);
    }

    #[test]
    fn a_single_object_is_not_live_state() {
        let f = write(r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}"#);
        let err = read(
            f.path().to_str().unwrap(),
            "e",
            &Fingerprinter::with_key(b"k"),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("neither a `kubectl get -o json|yaml` List nor a plumb snapshot"),
            "{err}"
        );
    }

    #[test]
    fn snapshot_errors_and_foreign_keys_are_reported() {
        let f = write(
            r#"{"version":1,"kind":"PlumbSnapshot","fingerprint_key_id":"hmac-sha256:000000000000",
            "namespaces":["a"],"resources":[{"group":"x.io","version":"v1","kind":"Thing","plural":"things","namespaced":false}],
            "errors":[{"kind":"forbidden","resource":"apps/Deployment","message":"403"}],"objects":[]}"#,
        );
        let live = read(
            f.path().to_str().unwrap(),
            "e",
            &Fingerprinter::with_key(b"k"),
        )
        .unwrap();
        assert_eq!(live.errors.len(), 2);
        assert_eq!(live.errors[0].resource.as_deref(), Some("apps/Deployment"));
        assert!(live.scopes.is_cluster_scoped("x.io", "Thing"));
        assert_eq!(live.namespaces, Some(vec!["a".to_string()]));
    }
}
