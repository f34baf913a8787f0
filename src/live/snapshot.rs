//! Live state from a file: a `kubectl get -o json|yaml` List, or a plumb snapshot (DESIGN §10).

use crate::model::{RunError, Scopes};
use crate::normalize::Fingerprinter;
use crate::yaml::{Document, YamlError, parse_values};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read live state from {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
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

/// Reads a List or a snapshot. `env` names the environment in error entries.
pub fn read(
    path: &str,
    env: &str,
    fingerprinter: &Fingerprinter,
) -> Result<LiveFile, SnapshotError> {
    let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Read {
        path: path.to_string(),
        source,
    })?;
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
        "PlumbSnapshot" => read_snapshot(value, path, line, env, fingerprinter, &mut live)?,
        k if k == "List" || k.ends_with("List") && value["items"].is_array() => {
            let Value::Object(mut map) = value else {
                unreachable!("kind was read from a mapping")
            };
            push_items(map.remove("items"), path, line, &mut live.documents);
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

fn push_items(items: Option<Value>, path: &str, line: u64, out: &mut Vec<Document>) {
    if let Some(Value::Array(items)) = items {
        out.extend(items.into_iter().map(|value| Document {
            value,
            file: path.to_string(),
            line,
        }));
    }
}

fn read_snapshot(
    mut value: Value,
    path: &str,
    line: u64,
    env: &str,
    fingerprinter: &Fingerprinter,
    live: &mut LiveFile,
) -> Result<(), SnapshotError> {
    let version = &value["version"];
    if version != 1 {
        return Err(SnapshotError::Version {
            path: path.to_string(),
            version: version.to_string(),
        });
    }
    if let Some(resources) = value["resources"].as_array() {
        for r in resources {
            if let (Some(kind), Some(namespaced)) = (r["kind"].as_str(), r["namespaced"].as_bool())
            {
                live.scopes
                    .declare(r["group"].as_str().unwrap_or(""), kind, !namespaced);
            }
        }
    }
    live.namespaces = value["namespaces"].as_array().map(|ns| {
        ns.iter()
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect()
    });
    if let Some(errors) = value["errors"].as_array() {
        for e in errors {
            live.errors.push(RunError {
                env: env.to_string(),
                kind: e["kind"].as_str().unwrap_or("snapshot").to_string(),
                source: None,
                resource: e["resource"].as_str().map(str::to_string),
                message: e["message"]
                    .as_str()
                    .unwrap_or("the snapshot could not read this")
                    .to_string(),
            });
        }
    }
    // Secret values in a snapshot are fingerprints made with the key of the run that took it;
    // compared under another key every Secret would look changed, so say so instead.
    let key_id = value["fingerprint_key_id"].as_str().map(str::to_string);
    if key_id
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
        });
    }
    push_items(
        value.get_mut("objects").map(Value::take),
        path,
        line,
        &mut live.documents,
    );
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
