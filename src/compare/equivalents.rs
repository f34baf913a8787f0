//! Equivalents: tokens that mean the same thing in two environments (`[dev, staging]`,
//! `[staging.example.com, example.com]`), applied only where two strings differ.
//!
//! Replacing substrings everywhere in the left object turns `2>/dev/null` into `2>/staging/null`
//! and `devices` into `stagingices`, then reports the mapped text as if Git held it. Instead, two
//! strings are compared as token sequences (tokens: runs of letters and digits; every other
//! character is a token of its own), and only the occurrences of an equivalent that touch a span
//! where the two differ are mapped, by whole tokens; multi-line values are compared line by line
//! the same way. A string that maps equal takes the right side's text, so it is no difference; one
//! that does not stays exactly as its environment wrote it (docs/architecture.md, parity).

use crate::diff::keys::{entry_key, list_key};
use crate::diff::sequence;
use serde_json::Value;
use similar::{Algorithm, DiffOp};
use std::collections::HashMap;

/// Text the alignment of two strings may cover, in tokens on both sides together; longer strings
/// are equivalent only when every whole-token occurrence maps them equal.
const MAX_ALIGNED_TOKENS: usize = crate::limits::MAX_ALIGNED_ENTRIES;

/// A pair's equivalents, left token sequence to right token sequence.
#[derive(Debug, Clone, Default)]
pub struct Equivalents {
    pairs: Vec<(Vec<String>, Vec<String>)>,
}

impl Equivalents {
    /// From the config's pairs, left text first. Longer left sides are tried first, so
    /// `[staging.example.com, example.com]` wins over `[staging, prod]` where both apply.
    pub fn new(pairs: &[(String, String)]) -> Equivalents {
        let mut pairs: Vec<(Vec<String>, Vec<String>)> = pairs
            .iter()
            .filter(|(from, _)| !from.is_empty())
            .map(|(from, to)| (owned(tokens(from)), owned(tokens(to))))
            .collect();
        pairs.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        Equivalents { pairs }
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// `text` with every whole-token occurrence of an equivalent mapped: for names, which are
    /// matched before there is a counterpart to compare with (`api-dev` → `api-staging`, never
    /// `devices`).
    pub fn map_all(&self, text: &str) -> String {
        let tokens = tokens(text);
        self.map_where(&tokens, |_, _| true).concat()
    }

    /// Whether `left`, mapped where it differs from `right`, equals `right`.
    pub fn equivalent(&self, left: &str, right: &str) -> bool {
        left == right || self.align_text(left, right).is_some_and(|t| t == right)
    }

    /// `left` with the parts that are equivalent to `right` written as `right` writes them, the
    /// rest as written; none when nothing maps.
    fn align_text(&self, left: &str, right: &str) -> Option<String> {
        if self.is_empty() || left == right {
            return None;
        }
        if !left.contains('\n') && !right.contains('\n') {
            return self.map_spans(left, right).filter(|m| m == right);
        }
        // Line by line: the lines of a replaced run are mapped together, and take the right's
        // text only when they then equal it.
        let l: Vec<&str> = left.split_inclusive('\n').collect();
        let r: Vec<&str> = right.split_inclusive('\n').collect();
        if l.len() + r.len() > MAX_ALIGNED_TOKENS {
            return None;
        }
        let mut out = String::with_capacity(left.len());
        let mut mapped_any = false;
        let maps_to = |l: &str, r: &str| self.map_spans(l, r).is_some_and(|m| m == r);
        for op in similar::capture_diff_slices(Algorithm::Myers, &l, &r) {
            let (_, old, new) = op.as_tag_tuple();
            let (old_text, new_text) = (l[old.clone()].concat(), r[new.clone()].concat());
            if !matches!(op, DiffOp::Replace { .. }) {
                out.push_str(&old_text);
            } else if maps_to(&old_text, &new_text) {
                out.push_str(&new_text);
                mapped_any = true;
            } else {
                // Line by line within the run: each left line takes the next right line it maps
                // to, in order.
                let mut next = new.start;
                for line in &l[old] {
                    match (next..new.end).find(|&j| maps_to(line, r[j])) {
                        Some(j) => {
                            out.push_str(r[j]);
                            mapped_any = true;
                            next = j + 1;
                        }
                        None => out.push_str(line),
                    }
                }
            }
        }
        mapped_any.then_some(out)
    }

    /// `left` with the occurrences of equivalents that touch a span where it differs from `right`
    /// mapped; none when no occurrence touches one.
    fn map_spans(&self, left: &str, right: &str) -> Option<String> {
        let l = tokens(left);
        let r = tokens(right);
        if l.len() + r.len() > MAX_ALIGNED_TOKENS {
            let mapped = self.map_all(left);
            return (mapped != left).then_some(mapped);
        }
        // The spans of `l` that differ: replaced or deleted runs, and the points where the right
        // inserts.
        let spans: Vec<(usize, usize)> = similar::capture_diff_slices(Algorithm::Myers, &l, &r)
            .iter()
            .filter(|op| !matches!(op, DiffOp::Equal { .. }))
            .map(|op| {
                let (_, old, _) = op.as_tag_tuple();
                (old.start, old.end)
            })
            .collect();
        let touches = |start: usize, end: usize| {
            spans.iter().any(|&(a, b)| {
                if a == b {
                    start <= a && a <= end
                } else {
                    a < end && start < b
                }
            })
        };
        let mut touched = false;
        let mapped = self.map_where(&l, |start, end| {
            let hit = touches(start, end);
            touched |= hit;
            hit
        });
        touched.then(|| mapped.concat())
    }

    /// The tokens of `text`, with each occurrence of an equivalent that `choose(start, end)`
    /// accepts replaced by its right side.
    fn map_where<'t>(
        &'t self,
        text: &[&'t str],
        mut choose: impl FnMut(usize, usize) -> bool,
    ) -> Vec<&'t str> {
        let mut out = Vec::with_capacity(text.len());
        let mut i = 0;
        'tokens: while i < text.len() {
            for (from, to) in &self.pairs {
                let end = i + from.len();
                if end <= text.len()
                    && text[i..end].iter().zip(from).all(|(a, b)| *a == b)
                    && choose(i, end)
                {
                    out.extend(to.iter().map(String::as_str));
                    i = end;
                    continue 'tokens;
                }
            }
            out.push(text[i]);
            i += 1;
        }
        out
    }
}

/// Runs of letters and digits, and every other character on its own.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            out.push(&text[s..i]);
        }
        out.push(&text[i..i + c.len_utf8()]);
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

fn owned(tokens: Vec<&str>) -> Vec<String> {
    tokens.into_iter().map(str::to_string).collect()
}

/// Rewrites `left` so that every string that is equivalent to its counterpart in `right` holds the
/// right's text; everything else stays as the left environment wrote it. Counterparts are found
/// as the diff finds them: mappings by key, keyed lists by key (a left key that only matches once
/// mapped still finds its entry), other lists aligned as sequences. With `secret`, the Secret's
/// `data` is left alone: fingerprints are compared as they are, never mapped.
pub fn align(left: &mut Value, right: &Value, equivalents: &Equivalents, secret: bool) {
    if equivalents.is_empty() || left == right {
        return;
    }
    match (left, right) {
        (Value::Object(l), Value::Object(r)) => {
            for (key, member) in l.iter_mut() {
                if secret && (key == "data" || key == "stringData") {
                    continue;
                }
                if let Some(counterpart) = r.get(key) {
                    align_value(member, counterpart, Some(key), equivalents);
                }
            }
        }
        (left, right) => align_value(left, right, None, equivalents),
    }
}

fn align_value(left: &mut Value, right: &Value, field: Option<&str>, eq: &Equivalents) {
    if left == right {
        return;
    }
    match (left, right) {
        (Value::String(l), Value::String(r)) => {
            if let Some(aligned) = eq.align_text(l, r) {
                *l = aligned;
            }
        }
        (Value::Object(l), Value::Object(r)) => {
            for (key, member) in l.iter_mut() {
                if let Some(counterpart) = r.get(key) {
                    align_value(member, counterpart, Some(key), eq);
                }
            }
        }
        (Value::Array(l), Value::Array(r)) => align_lists(l, r, field, eq),
        _ => {}
    }
}

fn align_lists(left: &mut [Value], right: &[Value], field: Option<&str>, eq: &Equivalents) {
    if let Some(fields) = list_key(field, left, right) {
        let index: HashMap<Vec<String>, &Value> = right
            .iter()
            .filter_map(|r| Some((entry_key(&fields, r)?, r)))
            .collect();
        for entry in left.iter_mut() {
            let Some(key) = entry_key(&fields, entry) else {
                continue;
            };
            let counterpart = index.get(&key).or_else(|| {
                let mapped: Vec<String> = key.iter().map(|k| eq.map_all(k)).collect();
                index.get(&mapped)
            });
            if let Some(counterpart) = counterpart {
                align_value(entry, counterpart, None, eq);
            }
        }
        return;
    }
    let Some(ops) = sequence::align(left, right) else {
        for (l, r) in left.iter_mut().zip(right) {
            align_value(l, r, None, eq);
        }
        return;
    };
    for run in ops {
        if run.equal || run.left.is_empty() || run.right.is_empty() {
            continue;
        }
        let (old_index, old_len) = (run.left.start, run.left.len());
        let (new_index, new_len) = (run.right.start, run.right.len());
        // Within a replaced run, each left entry pairs with the next right entry it can stand
        // for, in order: an equivalent string, or the next mapping or list.
        let mut next = new_index;
        for l in &mut left[old_index..old_index + old_len] {
            let found = (next..new_index + new_len).find(|&j| match (&*l, &right[j]) {
                (Value::String(a), Value::String(b)) => eq.equivalent(a, b),
                (Value::Object(_), Value::Object(_)) | (Value::Array(_), Value::Array(_)) => true,
                _ => false,
            });
            if let Some(j) = found {
                align_value(l, &right[j], None, eq);
                next = j + 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eq(pairs: &[(&str, &str)]) -> Equivalents {
        Equivalents::new(
            &pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn tokens_are_alphanumeric_runs_and_single_characters() {
        assert_eq!(
            tokens("cmd 2>/dev/null --env=dev"),
            [
                "cmd", " ", "2", ">", "/", "dev", "/", "null", " ", "-", "-", "env", "=", "dev"
            ]
        );
    }

    #[test]
    fn only_whole_tokens_where_the_strings_differ_are_mapped() {
        let e = eq(&[("dev", "staging")]);
        assert!(e.equivalent("api.dev.example.com", "api.staging.example.com"));
        assert!(e.equivalent("cmd 2>/dev/null --env=dev", "cmd 2>/dev/null --env=staging"));
        // Where only the flag differs for real, the equal `/dev/null` is never mapped.
        assert!(!e.equivalent("cmd 2>/dev/null --env=dev", "cmd 2>/dev/null --env=prod"));
        assert_eq!(
            e.align_text("cmd 2>/dev/null --env=dev", "cmd 2>/dev/null --env=prod"),
            None
        );
        assert!(!e.equivalent("devices", "stagingices"));
        assert!(!e.equivalent("dev", "prod"));
        assert_eq!(e.map_all("api-dev"), "api-staging");
        assert_eq!(e.map_all("devices"), "devices");
    }

    #[test]
    fn multi_token_equivalents_reach_into_the_equal_context() {
        let e = eq(&[("staging.example.com", "example.com")]);
        assert!(e.equivalent("api.staging.example.com", "api.example.com"));
        let back = eq(&[("example.com", "staging.example.com")]);
        assert!(back.equivalent("api.example.com", "api.staging.example.com"));
    }

    #[test]
    fn multi_line_values_take_the_right_text_only_on_lines_that_map() {
        let e = eq(&[("dev", "staging")]);
        let l = "host=db.dev\npool=5\nlog=/dev/null\n";
        let r = "host=db.staging\npool=20\nlog=/dev/null\n";
        assert_eq!(
            e.align_text(l, r).as_deref(),
            Some("host=db.staging\npool=5\nlog=/dev/null\n")
        );
        assert!(!e.equivalent(l, r));
        assert!(e.equivalent("a=dev\nb=1\n", "a=staging\nb=1\n"));
    }

    #[test]
    fn align_leaves_differences_as_written_and_secrets_alone() {
        let e = eq(&[("dev", "staging")]);
        let mut left = json!({
            "data": {"url": "https://dev.example.com", "level": "debug", "sink": "2>/dev/null"},
            "spec": {"containers": [{"name": "api-dev", "args": ["--env=dev", "--x"]}]}
        });
        let right = json!({
            "data": {"url": "https://staging.example.com", "level": "info", "sink": "2>/dev/null"},
            "spec": {"containers": [{"name": "api-staging", "args": ["--new", "--env=staging", "--x"]}]}
        });
        align(&mut left, &right, &e, false);
        assert_eq!(
            left,
            json!({
                "data": {"url": "https://staging.example.com", "level": "debug", "sink": "2>/dev/null"},
                "spec": {"containers": [{"name": "api-staging", "args": ["--env=staging", "--x"]}]}
            })
        );
        let mut secret = json!({"data": {"k": "dev"}});
        align(&mut secret, &json!({"data": {"k": "staging"}}), &e, true);
        assert_eq!(secret, json!({"data": {"k": "dev"}}));
    }
}
