//! `postBuild` variable substitution, as kustomize-controller applies it to each object a
//! Kustomization builds (docs/sources.md, flux). Pure: the variables are already gathered.
//!
//! Flux writes each object as YAML, runs envsubst over the text and reads it back. plumb walks the
//! object's strings instead (keys included), which is the same for every string a YAML writer
//! prints on one line; a string that was wholly a variable is then read back as YAML would read
//! it, so `replicas: ${REPLICAS}` becomes the number 3, as in the cluster.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The label or annotation value that opts an object out of substitution.
pub(crate) const OPT_OUT_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SubstitutionError {
    #[error(
        "the variable name `{0}` is invalid: Flux requires names matching ^[_[:alpha:]][_[:alpha:][:digit:]]*$"
    )]
    BadName(String),
    #[error(
        "`${{{0}}}` uses an expression plumb does not evaluate (it follows `${{var}}`, `$var`, `${{var:=default}}`, `${{var:-default}}`, `${{var=default}}`, `${{var-default}}` and `$$`)\n  help: escape it as `$${{...}}` if it is not meant for Flux, or use one of those forms"
    )]
    Unsupported(String),
    #[error("a `${{` is never closed")]
    Unclosed,
}

/// Whether `name` is a variable name Flux accepts.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Checks the names of the variables, as Flux does before substituting.
pub(crate) fn check_names(vars: &BTreeMap<String, String>) -> Result<(), SubstitutionError> {
    match vars.keys().find(|name| !valid_name(name)) {
        Some(name) => Err(SubstitutionError::BadName(name.clone())),
        None => Ok(()),
    }
}

/// Whether the object opted out with the `kustomize.toolkit.fluxcd.io/substitute: disabled` label
/// or annotation.
pub(crate) fn opted_out(object: &Value) -> bool {
    ["labels", "annotations"]
        .iter()
        .any(|field| object["metadata"][field][OPT_OUT_KEY] == "disabled")
}

/// Substitutes `vars` into every string of `object` (not one that opted out). Flux substitutes
/// only when it has variables; an unset variable is empty, as in Flux's default (non-strict) mode.
pub(crate) fn substitute_object(
    object: &mut Value,
    vars: &BTreeMap<String, String>,
) -> Result<(), SubstitutionError> {
    if vars.is_empty() || opted_out(object) {
        return Ok(());
    }
    substitute_value(object, vars)
}

fn substitute_value(
    value: &mut Value,
    vars: &BTreeMap<String, String>,
) -> Result<(), SubstitutionError> {
    match value {
        Value::String(text) if text.contains('$') => {
            let replaced = substitute_text(text, vars)?;
            if replaced != *text {
                *value = retyped(replaced);
            }
        }
        Value::Array(items) => {
            for item in items {
                substitute_value(item, vars)?;
            }
        }
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, mut item) in std::mem::take(map) {
                substitute_value(&mut item, vars)?;
                let key = if key.contains('$') {
                    substitute_text(&key, vars)?
                } else {
                    key
                };
                out.insert(key, item);
            }
            *map = out;
        }
        _ => {}
    }
    Ok(())
}

/// A substituted one-line string read back as a YAML plain scalar would be: a number, boolean or
/// null where its text is one (an empty result is null, as `key: ` is), else the string.
fn retyped(text: String) -> Value {
    if text.contains('\n') {
        return Value::String(text);
    }
    if text.trim().is_empty() {
        return Value::Null;
    }
    match crate::yaml::from_str::<Value>(&text, "substituted value") {
        Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => v,
        _ => Value::String(text),
    }
}

/// envsubst over one string: `$$` is a literal `$`; `$name` and `${name}` are the variable (empty
/// when unset); `${name:=d}`/`${name:-d}` give `d` when it is unset or empty, `${name=d}`/
/// `${name-d}` when it is unset — which in Flux's non-strict mode it never is.
pub(crate) fn substitute_text(
    text: &str,
    vars: &BTreeMap<String, String>,
) -> Result<String, SubstitutionError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').ok_or(SubstitutionError::Unclosed)?;
            out.push_str(&expression(&body[..end], vars)?);
            rest = &body[end + 1..];
        } else {
            let len = after
                .char_indices()
                .find(|(i, c)| {
                    !(*c == '_' || c.is_ascii_alphabetic() || (*i > 0 && c.is_ascii_digit()))
                })
                .map_or(after.len(), |(i, _)| i);
            if len == 0 {
                out.push('$');
            } else {
                out.push_str(vars.get(&after[..len]).map_or("", String::as_str));
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The value of one `${...}` expression.
fn expression(body: &str, vars: &BTreeMap<String, String>) -> Result<String, SubstitutionError> {
    let name_len = body
        .char_indices()
        .find(|(_, c)| !(*c == '_' || c.is_ascii_alphanumeric()))
        .map_or(body.len(), |(i, _)| i);
    let (name, operator) = body.split_at(name_len);
    if !valid_name(name) {
        return Err(SubstitutionError::Unsupported(body.to_string()));
    }
    let value = vars.get(name).map_or("", String::as_str);
    if operator.is_empty() {
        return Ok(value.to_string());
    }
    for (prefix, when_empty) in [(":=", true), (":-", true), ("=", false), ("-", false)] {
        if let Some(default) = operator.strip_prefix(prefix) {
            // Non-strict Flux treats every variable as set: only the `:` forms see an empty one.
            let use_default = when_empty && value.is_empty();
            return Ok(if use_default { default } else { value }.to_string());
        }
    }
    Err(SubstitutionError::Unsupported(body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn forms_flux_evaluates() {
        let v = vars(&[("cluster", "prod"), ("empty", "")]);
        let cases = [
            ("${cluster}-api", "prod-api"),
            ("$cluster.example.com", "prod.example.com"),
            ("${missing}", ""),
            ("${missing:=eu-west-1}", "eu-west-1"),
            ("${empty:-fallback}", "fallback"),
            ("${cluster:=fallback}", "prod"),
            ("${missing=unused}", ""),
            ("$${cluster} and $$HOME", "${cluster} and $HOME"),
            ("cost: 5$", "cost: 5$"),
            ("no variables", "no variables"),
        ];
        for (text, expected) in cases {
            assert_eq!(substitute_text(text, &v).unwrap(), expected, "{text}");
        }
        assert!(matches!(
            substitute_text("${cluster/p/q}", &v),
            Err(SubstitutionError::Unsupported(_))
        ));
        assert_eq!(
            substitute_text("${cluster", &v),
            Err(SubstitutionError::Unclosed)
        );
    }

    #[test]
    fn whole_variables_take_the_type_yaml_reads() {
        let mut object = json!({
            "metadata": {"name": "api-${cluster}", "labels": {"${key}": "x"}},
            "spec": {"replicas": "${replicas}", "enabled": "${flag}", "unset": "${nothing}",
                     "script": "echo $$HOME\nexit"}
        });
        let v = vars(&[
            ("cluster", "prod"),
            ("replicas", "3"),
            ("flag", "true"),
            ("key", "tier"),
        ]);
        substitute_object(&mut object, &v).unwrap();
        assert_eq!(
            object,
            json!({
                "metadata": {"name": "api-prod", "labels": {"tier": "x"}},
                "spec": {"replicas": 3, "enabled": true, "unset": null, "script": "echo $HOME\nexit"}
            })
        );
    }

    #[test]
    fn opted_out_objects_and_no_variables_are_left_alone() {
        let original = json!({
            "metadata": {"name": "${cluster}", "annotations": {OPT_OUT_KEY: "disabled"}}
        });
        let mut object = original.clone();
        substitute_object(&mut object, &vars(&[("cluster", "prod")])).unwrap();
        assert_eq!(object, original);
        let labelled =
            json!({"metadata": {"name": "${cluster}", "labels": {OPT_OUT_KEY: "disabled"}}});
        assert!(opted_out(&labelled));
        let mut plain = json!({"metadata": {"name": "${cluster}"}});
        substitute_object(&mut plain, &BTreeMap::new()).unwrap();
        assert_eq!(plain["metadata"]["name"], "${cluster}");
    }

    #[test]
    fn variable_names_are_checked() {
        assert!(check_names(&vars(&[("cluster_name", "x"), ("_a1", "y")])).is_ok());
        assert_eq!(
            check_names(&vars(&[("1st", "x")])),
            Err(SubstitutionError::BadName("1st".into()))
        );
        assert!(check_names(&vars(&[("a-b", "x")])).is_err());
    }
}
