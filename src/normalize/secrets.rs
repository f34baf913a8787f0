//! Secret values never leave the process: each becomes a keyed fingerprint.
//!
//! A fingerprint is `hmac-sha256:` and the first 12 hex digits of an HMAC-SHA256 over the decoded
//! bytes. Equal values give equal fingerprints within a run (or across runs sharing
//! `PLUMB_FINGERPRINT_KEY`), so plumb can say "staging and production share DB_PASSWORD" without
//! showing it. The key is random per run unless the user pins it, so a fingerprint printed in one run
//! cannot be used to guess a low-entropy value offline.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub const FINGERPRINT_PREFIX: &str = "hmac-sha256:";

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Turns secret values into fingerprints with one key.
#[derive(Clone)]
pub struct Fingerprinter {
    key: Vec<u8>,
}

impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key must not appear in logs either.
        f.write_str("Fingerprinter { key: <hidden> }")
    }
}

impl Fingerprinter {
    pub fn with_key(key: &[u8]) -> Self {
        Fingerprinter { key: key.to_vec() }
    }

    /// 32 random bytes for this run (when `PLUMB_FINGERPRINT_KEY` names no key).
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        if getrandom::fill(&mut key).is_err() {
            // No OS randomness: derive a per-process key from what differs between runs.
            let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
            key.copy_from_slice(&Sha256::digest(seed.as_bytes()));
        }
        Self::with_key(&key)
    }

    /// A short public id of the key, so a snapshot can say which key fingerprinted it without
    /// revealing the key.
    pub fn key_id(&self) -> String {
        self.fingerprint_bytes(b"plumb fingerprint key id")
    }

    pub fn fingerprint_bytes(&self, bytes: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(bytes);
        let digest = mac.finalize().into_bytes();
        format!("{FINGERPRINT_PREFIX}{}", &hex::encode(digest)[..12])
    }

    /// Fingerprints a `data` value: base64 is decoded first, so `data` and `stringData` spellings
    /// of one value agree. A value that is not valid base64 is fingerprinted as its raw text, in a
    /// separate domain so it never collides with a decoded value.
    pub fn fingerprint_data(&self, value: &Value) -> Value {
        let fingerprint = match value {
            Value::Null => self.fingerprint_bytes(b""),
            Value::String(s) if is_fingerprint(s) => s.clone(),
            Value::String(s) => match base64::engine::general_purpose::STANDARD.decode(s.trim()) {
                Ok(bytes) => self.fingerprint_bytes(&bytes),
                Err(_) => self.fingerprint_raw(s.as_bytes()),
            },
            other => self.fingerprint_raw(other.to_string().as_bytes()),
        };
        Value::String(fingerprint)
    }

    fn fingerprint_raw(&self, bytes: &[u8]) -> String {
        let mut tagged = b"\0plumb-raw\0".to_vec();
        tagged.extend_from_slice(bytes);
        self.fingerprint_bytes(&tagged)
    }

    /// Replaces every value of a core `Secret` with its fingerprint: `stringData` folds into
    /// `data` (its entries win, as the API server does), and a last-applied annotation — which
    /// holds raw values — is replaced by a fingerprint of itself.
    /// Values are never rewritten before hashing (a pair's equivalents never reach them): two
    /// environments share a secret only when the bytes are the same.
    pub fn redact_secret(&self, object: &mut Value) {
        let Some(map) = object.as_object_mut() else {
            return;
        };
        let mut data: Map<String, Value> = match map.remove("data") {
            Some(Value::Object(data)) => data
                .into_iter()
                .map(|(k, v)| {
                    let fp = self.fingerprint_data(&v);
                    (k, fp)
                })
                .collect(),
            _ => Map::new(),
        };
        if let Some(Value::Object(string_data)) = map.remove("stringData") {
            for (k, v) in string_data {
                let fp = match &v {
                    Value::String(s) if is_fingerprint(s) => s.clone(),
                    Value::String(s) => self.fingerprint_bytes(s.as_bytes()),
                    Value::Null => self.fingerprint_bytes(b""),
                    other => self.fingerprint_bytes(other.to_string().as_bytes()),
                };
                data.insert(k, Value::String(fp));
            }
        }
        if !data.is_empty() {
            map.insert("data".into(), Value::Object(data));
        }
        if let Some(annotation) = map
            .get_mut("metadata")
            .and_then(|m| m.get_mut("annotations"))
            .and_then(|a| a.get_mut(LAST_APPLIED))
        {
            let raw = annotation.as_str().unwrap_or_default().as_bytes().to_vec();
            *annotation = Value::String(self.fingerprint_raw(&raw));
        }
    }
}

pub fn is_fingerprint(s: &str) -> bool {
    s.strip_prefix(FINGERPRINT_PREFIX)
        .is_some_and(|hex| hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Is this object a core `Secret` (whose values must be fingerprinted)?
pub fn is_secret(object: &Value) -> bool {
    object["kind"] == "Secret" && object["apiVersion"] == "v1"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn string_data_and_data_spellings_agree() {
        let fp = Fingerprinter::with_key(b"k");
        let mut a = json!({"apiVersion": "v1", "kind": "Secret", "stringData": {"foo": "bar"}, "data": {"baz": "cXV4"}});
        let mut b =
            json!({"apiVersion": "v1", "kind": "Secret", "data": {"foo": "YmFy", "baz": "cXV4"}});
        fp.redact_secret(&mut a);
        fp.redact_secret(&mut b);
        assert_eq!(a, b);
        assert!(is_fingerprint(a["data"]["foo"].as_str().unwrap()));
        assert!(!a.to_string().contains("bar\""));
    }

    #[test]
    fn invalid_base64_is_fingerprinted_not_an_error() {
        let fp = Fingerprinter::with_key(b"k");
        let x = fp.fingerprint_data(&json!("++++++++"));
        let y = fp.fingerprint_data(&json!("++++++++++++"));
        assert_ne!(x, y);
        assert!(is_fingerprint(x.as_str().unwrap()));
        // Raw text never collides with the decoded value of the same text.
        assert_ne!(
            fp.fingerprint_data(&json!("%%%")),
            Value::String(fp.fingerprint_bytes(b"%%%"))
        );
    }

    #[test]
    fn null_and_empty_are_the_same_empty_value() {
        let fp = Fingerprinter::with_key(b"k");
        assert_eq!(
            fp.fingerprint_data(&Value::Null),
            fp.fingerprint_data(&json!(""))
        );
    }

    #[test]
    fn keys_change_fingerprints_and_existing_fingerprints_are_kept() {
        let a = Fingerprinter::with_key(b"a").fingerprint_bytes(b"v");
        let b = Fingerprinter::with_key(b"b").fingerprint_bytes(b"v");
        assert_ne!(a, b);
        let kept = Fingerprinter::with_key(b"b").fingerprint_data(&json!(a.clone()));
        assert_eq!(kept, json!(a));
    }

    #[test]
    fn last_applied_on_a_secret_is_replaced() {
        let fp = Fingerprinter::with_key(b"k");
        let mut s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"annotations": {
            LAST_APPLIED: "{\"stringData\":{\"p\":\"hunter2\"}}"}}});
        fp.redact_secret(&mut s);
        assert!(!s.to_string().contains("hunter2"));
    }
}
