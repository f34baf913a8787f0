//! An Application's `ignoreDifferences` as drift `ignore` rules for its own objects
//! (docs/sources.md, section `argocd:`): JSON pointers as they are (plumb's path patterns take
//! them), the common jq forms translated to plumb paths, `managedFieldsManagers` as a rule on the
//! field's live manager. A form that cannot be translated is a problem naming it, never dropped.

use crate::model::Owner;
use crate::policy::pattern::PathPattern;
use crate::policy::rules::{Action, Match, Origin, Rule, RuleScope};
use serde_json::Value;

const ENTRY_FIELDS: &[&str] = &[
    "group",
    "kind",
    "name",
    "namespace",
    "jsonPointers",
    "jqPathExpressions",
    "managedFieldsManagers",
];

/// The rules of `entries` (an Application's `spec.ignoreDifferences`), or every problem found.
pub(super) fn rules(
    entries: &Value,
    application: &str,
    owner: &Owner,
    file: &str,
    line: u64,
) -> Result<Vec<Rule>, Vec<String>> {
    let mut rules = Vec::new();
    let mut problems = Vec::new();
    let Some(entries) = entries.as_array() else {
        if !entries.is_null() {
            problems.push("`spec.ignoreDifferences` is not a list".to_string());
        }
        return if problems.is_empty() {
            Ok(rules)
        } else {
            Err(problems)
        };
    };
    for (i, entry) in entries.iter().enumerate() {
        let field = format!("spec.ignoreDifferences[{i}]");
        for key in entry.as_object().into_iter().flat_map(|m| m.keys()) {
            if !ENTRY_FIELDS.contains(&key.as_str()) {
                problems.push(format!("`{field}.{key}` is not followed"));
            }
        }
        let kinds = match kinds(entry) {
            Ok(kinds) => kinds,
            Err(problem) => {
                problems.push(format!("`{field}`: {problem}"));
                continue;
            }
        };
        let text = |key: &str| {
            entry[key]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let strings = |key: &str| -> Vec<&str> {
            entry[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect()
        };
        let matcher = Match {
            kinds,
            names: text("name").into_iter().collect(),
            namespaces: text("namespace").into_iter().collect(),
            owners: vec![owner.clone()],
            ..Match::default()
        };
        let mut paths = Vec::new();
        for pointer in strings("jsonPointers") {
            match PathPattern::parse(pointer) {
                Ok(pattern) if pointer.starts_with('/') => paths.push(pattern),
                _ => problems.push(format!(
                    "`{field}.jsonPointers`: `{pointer}` is not a JSON pointer"
                )),
            }
        }
        for expression in strings("jqPathExpressions") {
            match jq_to_path(expression).and_then(|text| PathPattern::parse(&text).ok()) {
                Some(pattern) => paths.push(pattern),
                None => problems.push(format!(
                    "`{field}.jqPathExpressions`: `{expression}` is not a form plumb translates (`.a.b`, `.a[]`, `.a[] | select(.name == \"x\") | .b`)\n  help: write it as a JSON pointer, or as a drift `ignore` rule in a policy file"
                )),
            }
        }
        let rule = |id: String, matcher: Match, paths: Vec<PathPattern>| Rule {
            description: Some(format!(
                "Argo CD Application `{application}` ignores these differences ({field} in {file})"
            )),
            id,
            scope: RuleScope::Drift,
            matcher,
            paths,
            action: Action::Ignore,
            condition: None,
            severity: None,
            origin: Origin {
                file: file.to_string(),
                line,
                column: 0,
            },
        };
        let managers: Vec<String> = strings("managedFieldsManagers")
            .into_iter()
            .map(str::to_string)
            .collect();
        if !managers.is_empty() {
            rules.push(rule(
                format!("argocd:{application}/ignoreDifferences[{i}]/managedFieldsManagers"),
                Match {
                    managers,
                    ..matcher.clone()
                },
                Vec::new(),
            ));
        }
        // An entry naming no field ignores nothing (a rule without paths would ignore the whole
        // object, missing included).
        if !paths.is_empty() {
            rules.push(rule(
                format!("argocd:{application}/ignoreDifferences[{i}]"),
                matcher,
                paths,
            ));
        }
    }
    if problems.is_empty() {
        Ok(rules)
    } else {
        Err(problems)
    }
}

/// `match.kinds` of an entry: Argo CD matches `group` and `kind` as globs, an absent group
/// being the core group. `*` stands for any; other globs are not translated.
fn kinds(entry: &Value) -> Result<Vec<String>, String> {
    let group = entry["group"].as_str().unwrap_or("");
    let Some(kind) = entry["kind"].as_str().filter(|k| !k.is_empty()) else {
        return Err("an entry names a `kind`".into());
    };
    let is_glob = |s: &str| s.contains(['*', '?', '[']);
    match (group, kind) {
        ("*", "*") => Ok(Vec::new()),
        ("*", kind) if !is_glob(kind) => Ok(vec![kind.to_string()]),
        (group, kind) if !is_glob(group) && !is_glob(kind) => Ok(vec![format!("{group}/{kind}")]),
        _ => Err(format!(
            "the group and kind globs `{group}`/`{kind}` are not translated (only `*` for either, or `*` for both)"
        )),
    }
}

/// A jq path expression of the common forms as a plumb path pattern: `.spec.replicas`,
/// `.metadata.annotations["a/b"]`, `.a.b[]` (any entry), and `.a[] | select(.k == "v") | .c`
/// (the entry whose `k` is `v`). Anything else (functions, alternatives, other comparisons) is
/// none.
pub(super) fn jq_to_path(expression: &str) -> Option<String> {
    let mut segments: Vec<String> = Vec::new();
    let stages = split_stages(expression)?;
    for (i, stage) in stages.iter().enumerate() {
        let stage = stage.trim();
        if let Some(inner) = stage
            .strip_prefix("select(")
            .and_then(|s| s.strip_suffix(')'))
        {
            // Must follow an `[]`, which it narrows to one entry.
            if i == 0 || segments.last().map(String::as_str) != Some("[*]") {
                return None;
            }
            let (key, value) = inner.split_once("==")?;
            let key = path_steps(key.trim())?;
            let [Step::Key(key)] = key.as_slice() else {
                return None;
            };
            let value: Value = serde_json::from_str(value.trim()).ok()?;
            let value = match value {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            segments.pop();
            segments.push(format!("[{key}={}]", select_value(&value)));
            continue;
        }
        for step in path_steps(stage)? {
            segments.push(match step {
                Step::Key(key) => key_segment(&key),
                Step::Each => "[*]".into(),
            });
        }
    }
    if segments.is_empty() {
        return None;
    }
    let mut text = String::new();
    for segment in segments {
        if !segment.starts_with('[') && !text.is_empty() {
            text.push('.');
        }
        text.push_str(&segment);
    }
    Some(text)
}

#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Each,
}

/// `|`-separated stages, `|` inside strings left alone.
fn split_stages(expression: &str) -> Option<Vec<String>> {
    let mut stages = vec![String::new()];
    let mut in_string = false;
    let mut escaped = false;
    for c in expression.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '|' if !in_string => {
                stages.push(String::new());
                continue;
            }
            _ => {}
        }
        stages.last_mut()?.push(c);
    }
    (!in_string).then_some(stages)
}

/// The steps of a path stage: `.a.b`, `.["a/b"]`, `.a["b"]`, `.a[]`, `."a"`.
fn path_steps(stage: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    let mut rest = stage.strip_prefix('.')?;
    if rest.is_empty() {
        return Some(steps);
    }
    loop {
        if let Some(after) = rest.strip_prefix("[]") {
            steps.push(Step::Each);
            rest = after;
        } else if rest.starts_with("[\"") || rest.starts_with('"') {
            let start = usize::from(rest.starts_with('['));
            let (key, used) = json_string(&rest[start..])?;
            steps.push(Step::Key(key));
            rest = &rest[start + used..];
            if start == 1 {
                rest = rest.strip_prefix(']')?;
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(rest.len());
            if end == 0 {
                return None;
            }
            steps.push(Step::Key(rest[..end].to_string()));
            rest = &rest[end..];
        }
        if rest.is_empty() {
            return Some(steps);
        }
        if let Some(after) = rest.strip_prefix('.') {
            rest = after;
        } else if !rest.starts_with('[') {
            return None;
        }
    }
}

/// The JSON string at the start of `text` and the bytes it takes.
fn json_string(text: &str) -> Option<(String, usize)> {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some((serde_json::from_str(&text[..=i]).ok()?, i + 1)),
            _ => {}
        }
    }
    None
}

fn is_bare(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn key_segment(key: &str) -> String {
    if is_bare(key) && !key.contains('*') {
        key.to_string()
    } else {
        format!("[{}]", Value::from(key))
    }
}

fn select_value(value: &str) -> String {
    if is_bare(value) {
        value.to_string()
    } else {
        Value::from(value).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn common_jq_forms_become_plumb_paths() {
        let cases = [
            (".spec.replicas", "spec.replicas"),
            (
                ".spec.template.spec.containers[] | select(.name == \"api\") | .image",
                "spec.template.spec.containers[name=api].image",
            ),
            (
                ".spec.template.spec.initContainers[]|select(.name==\"x\")",
                "spec.template.spec.initContainers[name=x]",
            ),
            (
                ".webhooks[].clientConfig.caBundle",
                "webhooks[*].clientConfig.caBundle",
            ),
            (
                ".metadata.annotations[\"example.com/a|b\"]",
                "metadata.annotations[\"example.com/a|b\"]",
            ),
        ];
        for (jq, plumb) in cases {
            assert_eq!(jq_to_path(jq).as_deref(), Some(plumb), "{jq}");
            PathPattern::parse(plumb).unwrap();
        }
        for untranslatable in [
            ".spec.replicas // 1",
            ".a[] | select(.name != \"x\")",
            "select(.a == 1)",
            ".a | length",
            "",
        ] {
            assert_eq!(jq_to_path(untranslatable), None, "{untranslatable}");
        }
    }

    #[test]
    fn entries_become_rules_for_the_applications_objects() {
        let owner = Owner::ArgoApplication("api".into());
        let entries = json!([
            {"group": "apps", "kind": "Deployment", "name": "api", "jsonPointers": ["/spec/replicas"]},
            {"group": "*", "kind": "*", "managedFieldsManagers": ["kube-controller-manager"]},
            {"kind": "ConfigMap", "jqPathExpressions": [".data[\"a.b\"]"]},
            {"group": "apps", "kind": "Deployment"}
        ]);
        let rules = rules(&entries, "api", &owner, "apps/api.yaml", 7).unwrap();
        type Summary = (String, Vec<String>, Vec<String>, Vec<String>);
        let summary: Vec<Summary> = rules
            .iter()
            .map(|r| {
                (
                    r.id.clone(),
                    r.matcher.kinds.clone(),
                    r.paths.iter().map(|p| p.text.clone()).collect(),
                    r.matcher.managers.clone(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "argocd:api/ignoreDifferences[0]".to_string(),
                    vec!["apps/Deployment".to_string()],
                    vec!["/spec/replicas".to_string()],
                    vec![]
                ),
                (
                    "argocd:api/ignoreDifferences[1]/managedFieldsManagers".to_string(),
                    vec![],
                    vec![],
                    vec!["kube-controller-manager".to_string()]
                ),
                (
                    "argocd:api/ignoreDifferences[2]".to_string(),
                    vec!["/ConfigMap".to_string()],
                    vec!["data[\"a.b\"]".to_string()],
                    vec![]
                ),
            ]
        );
        assert!(rules.iter().all(|r| r.matcher.owners == [owner.clone()]
            && r.scope == RuleScope::Drift
            && r.action == Action::Ignore));
        assert_eq!(rules[0].matcher.names, ["api"]);

        let bad = json!([{"kind": "Deployment", "jqPathExpressions": [".a // 1"], "foo": 1}]);
        let problems = super::rules(&bad, "api", &owner, "f", 1).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("`spec.ignoreDifferences[0].foo`"));
        assert!(problems[1].contains("`.a // 1`"));
    }
}
