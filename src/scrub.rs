//! Scrubbing secrets out of text that comes from a tool — a render tool's stderr, a credential
//! plugin's output — before it reaches any output: a report, a log line, an error message.
//!
//! Tools echo what they were given when they fail: kustomize prints every literal of a malformed
//! `secretGenerator`, helm prints a `--set-json` value it cannot parse, a credential plugin prints
//! whatever it likes. plumb cannot stop a tool from printing; it can refuse to copy it. A
//! [`Scrubber`] holds the secret strings known to have reached the tool (the `set:` values, the
//! generator literals and files, the Secret objects it reads) and replaces each with
//! [`REDACTED`]; on top of those, shapes that mean a credential whatever the input
//! (`password=…`, `token: …`, `Bearer …`, a JWT, a long opaque token) and the tool messages known
//! to echo their input are redacted too. Over-redacting an error message costs a little clarity;
//! under-redacting leaks a secret into a pull-request comment.

use crate::limits::{MAX_TOOL_STDERR_EXCERPT_BYTES, MIN_SCRUBBED_SECRET_CHARS};
use regex::{Captures, Regex};
use serde_json::Value;
use std::sync::OnceLock;

/// What a scrubbed secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// A set of secret strings, and the credential shapes every tool text is scrubbed of.
#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    secrets: Vec<String>,
    /// Also redact every word that looks generated (letters and digits, 16 characters or more).
    strict: bool,
}

impl Scrubber {
    pub fn new() -> Scrubber {
        Scrubber::default()
    }

    /// A scrubber for text from a program whose whole business is credentials (an exec credential
    /// plugin): whatever is not known, any word that could be a token goes too.
    pub fn strict() -> Scrubber {
        Scrubber {
            secrets: Vec::new(),
            strict: true,
        }
    }

    /// Adds a secret (surrounding whitespace ignored, and each of its lines, for a file's
    /// contents). Values shorter than [`MIN_SCRUBBED_SECRET_CHARS`] are left alone.
    pub fn add(&mut self, secret: &str) {
        let mut push = |s: &str| {
            let s = s.trim();
            if s.chars().count() >= MIN_SCRUBBED_SECRET_CHARS
                && !self.secrets.iter().any(|k| k == s)
            {
                self.secrets.push(s.to_string());
            }
        };
        push(secret);
        if secret.trim().contains('\n') {
            secret.lines().for_each(push);
        }
    }

    /// Adds a value given to a tool: its JSON text, and every string and number inside it.
    pub fn add_value(&mut self, value: &Value) {
        match value {
            Value::String(s) => self.add(s),
            Value::Number(n) => self.add(&n.to_string()),
            Value::Array(items) => items.iter().for_each(|v| self.add_value(v)),
            Value::Object(map) => map.values().for_each(|v| self.add_value(v)),
            Value::Bool(_) | Value::Null => {}
        }
        if value.is_array() || value.is_object() {
            self.add(&value.to_string());
        }
    }

    /// Adds a `KEY=VALUE` entry (a generator literal, a line of an env file): the value, and the
    /// whole entry, which is what a tool echoes when the entry is malformed (no `=`).
    pub fn add_entry(&mut self, entry: &str) {
        self.add(entry);
        if let Some((_, value)) = entry.split_once('=') {
            self.add(value);
        }
    }

    /// Every known secret is added.
    pub fn extend(&mut self, other: &Scrubber) {
        for secret in &other.secrets {
            self.add(secret);
        }
    }

    /// `text` without the known secrets and the credential shapes.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        // Longest first: a secret that contains another is replaced whole.
        let mut secrets: Vec<&String> = self.secrets.iter().collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for secret in secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        for (pattern, replacement) in patterns() {
            out = pattern
                .replace_all(&out, |c: &Captures| replacement(c))
                .into_owned();
        }
        if self.strict {
            out = generated_word()
                .replace_all(&out, |c: &Captures| {
                    let word = &c[0];
                    let letters = word.bytes().any(|b| b.is_ascii_alphabetic());
                    let digits = word.bytes().any(|b| b.is_ascii_digit());
                    if letters && digits && word != REDACTED {
                        REDACTED.to_string()
                    } else {
                        word.to_string()
                    }
                })
                .into_owned();
        }
        out
    }

    /// A tool's output as one excerpt for an error message: scrubbed, trimmed, at most
    /// [`MAX_TOOL_STDERR_EXCERPT_BYTES`], with how much was left out.
    pub fn excerpt(&self, bytes: &[u8]) -> String {
        let text = self.scrub(String::from_utf8_lossy(bytes).trim());
        if text.len() <= MAX_TOOL_STDERR_EXCERPT_BYTES {
            return text;
        }
        // The end of a tool's stderr holds its error; the start is usually progress noise.
        let mut start = text.len() - MAX_TOOL_STDERR_EXCERPT_BYTES;
        while !text.is_char_boundary(start) {
            start += 1;
        }
        format!("[{start} bytes left out; -vv logs them]…{}", &text[start..])
    }
}

type Replacement = fn(&Captures) -> String;

/// A word of 16 or more token characters, for [`Scrubber::strict`].
fn generated_word() -> &'static Regex {
    static WORD: OnceLock<Regex> = OnceLock::new();
    WORD.get_or_init(|| {
        Regex::new(r"[A-Za-z0-9+/_.~=-]{16,}")
            .unwrap_or_else(|e| panic!("the generated-word pattern is a valid regex: {e}"))
    })
}

/// The credential shapes and the tool messages that echo their input, each with what replaces
/// it. Compiled once.
fn patterns() -> &'static [(Regex, Replacement)] {
    static PATTERNS: OnceLock<Vec<(Regex, Replacement)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let table: [(&str, Replacement); 6] = [
            // helm: `failed parsing --set-json data KEY=VALUE` (and --set, --set-string, …).
            (r"(?im)(--set[a-z-]*\s+data)\b.*$", |c| {
                format!("{} {REDACTED}", &c[1])
            }),
            // kustomize: `literal sources [k:v]`, `invalid literal source k:v, expected key=value`.
            (r"(?i)(literal sources?\s*)(\[(?:\[redacted\]|[^\]\n])*\]|[^\s,]+)", |c| {
                format!("{}{REDACTED}", &c[1])
            }),
            // `Authorization: Bearer X`, `Basic X`.
            (r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}", |c| {
                format!("{} {REDACTED}", &c[1])
            }),
            // `password=X`, `client_secret: X`, `"token": "X"`, `refresh_token=X`.
            (
                r#"(?i)\b([a-z0-9_-]*(?:token|password|passwd|secret|api[_-]?key|credential|authorization)s?)("?\s*[:=]\s*"?)([^\s"',;}\]]+)"#,
                |c| format!("{}{}{REDACTED}", &c[1], &c[2]),
            ),
            // A JSON Web Token (a service account's, an OIDC ID token).
            (
                r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
                |_| REDACTED.to_string(),
            ),
            // A long opaque token: letters and digits mixed, no separators a path or a sentence
            // has. Git ids and digests (lowercase hex) are not tokens.
            (r"[A-Za-z0-9+/_=-]{40,}", |c| {
                let s = &c[0];
                let hex = s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                let letters = s.bytes().any(|b| b.is_ascii_alphabetic());
                let digits = s.bytes().any(|b| b.is_ascii_digit());
                if !hex && letters && digits && !s.contains("//") {
                    REDACTED.to_string()
                } else {
                    s.to_string()
                }
            }),
        ];
        table
            .into_iter()
            .map(|(pattern, replacement)| {
                let regex = Regex::new(pattern)
                    .unwrap_or_else(|e| panic!("scrub pattern {pattern:?} is a valid regex: {e}"));
                (regex, replacement)
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_secrets_are_replaced_longest_first() {
        let mut s = Scrubber::new();
        s.add("hunter2-marker");
        s.add("hunter2-marker-and-more");
        s.add("abc"); // too short to scrub
        assert_eq!(
            s.scrub("a hunter2-marker-and-more b hunter2-marker abc"),
            "a [redacted] b [redacted] abc"
        );
    }

    #[test]
    fn values_entries_and_files_add_what_a_tool_could_echo() {
        let mut s = Scrubber::new();
        s.add_value(&json!({"user": "admin-user", "n": 123456, "on": true}));
        s.add_entry("password=pa55word");
        s.add_entry("password:no-equals-sign");
        s.add("line-one-secret\nline-two-secret\n");
        let text = "admin-user 123456 pa55word password:no-equals-sign line-two-secret";
        assert!(!s.scrub(text).contains("admin"), "{}", s.scrub(text));
        assert_eq!(
            s.scrub(text),
            "[redacted] [redacted] [redacted] [redacted] [redacted]"
        );
    }

    #[test]
    fn tool_messages_that_echo_input_are_redacted() {
        let s = Scrubber::new();
        assert_eq!(
            s.scrub("Error: failed parsing --set-json data a[x]=\"v\"\nnext"),
            "Error: failed parsing --set-json data [redacted]\nnext"
        );
        let mut known = Scrubber::new();
        known.add("pw:secret-literal");
        assert_eq!(
            known.scrub("literal sources [pw:secret-literal]: invalid literal source pw:secret-literal, expected"),
            "literal sources [redacted]: invalid literal source [redacted], expected"
        );
        assert_eq!(
            s.scrub("loading KV pairs: literal sources [pw:x1]: invalid literal source pw:x1, expected key=value"),
            "loading KV pairs: literal sources [redacted]: invalid literal source [redacted], expected key=value"
        );
    }

    #[test]
    fn credential_shapes_are_redacted_and_ordinary_text_is_not() {
        let s = Scrubber::new();
        for (text, want) in [
            ("refresh_token=abc-123", "refresh_token=[redacted]"),
            ("{\"token\": \"abcd\"}", "{\"token\": \"[redacted]\"}"),
            (
                "Authorization: Bearer abc.def",
                "Authorization: [redacted] [redacted]",
            ),
            (
                "client-secret: s3cr3t, next",
                "client-secret: [redacted], next",
            ),
            ("id eyJhbGciOi.eyJzdWIiOi.sig end", "id [redacted] end"),
            (
                "opaque AKIAABCDEFGHIJ0123456789abcdefghijklmnop end",
                "opaque [redacted] end",
            ),
        ] {
            assert_eq!(s.scrub(text), want, "{text}");
        }
        for plain in [
            "templates/deployment.yaml: error converting YAML to JSON",
            "kind: Secret is invalid",
            "secretGenerator: name is required",
            "commit 0123456789abcdef0123456789abcdef01234567 not found",
            "expected key=value",
        ] {
            assert_eq!(s.scrub(plain), plain);
        }
    }

    #[test]
    fn a_strict_scrubber_also_takes_words_that_look_generated() {
        let text = "token expired; refresh token sk-live-MARKER9f8e7d rejected by idp.example.com";
        assert_eq!(Scrubber::new().scrub(text), text);
        assert_eq!(
            Scrubber::strict().scrub(text),
            "token expired; refresh token [redacted] rejected by idp.example.com"
        );
    }

    #[test]
    fn an_excerpt_keeps_the_end_and_is_bounded() {
        let s = Scrubber::new();
        let long = format!("{}\nError: the end", "progress\n".repeat(2000));
        let excerpt = s.excerpt(long.as_bytes());
        assert!(excerpt.len() <= MAX_TOOL_STDERR_EXCERPT_BYTES + 64);
        assert!(excerpt.ends_with("Error: the end"));
        assert!(excerpt.starts_with('['), "{excerpt}");
    }
}
