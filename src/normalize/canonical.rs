//! Canonical forms: one spelling for values Kubernetes treats as equal.

use super::quantity;
use serde_json::{Number, Value};

/// Writes whole-valued floats as integers (`1.0` = `1`), recursively.
pub fn canonical_numbers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                *n = Number::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(canonical_numbers),
        Value::Object(map) => map.values_mut().for_each(canonical_numbers),
        _ => {}
    }
}

/// Removes `null`, `{}` and `[]` members (after cleaning their own members), so an empty value
/// equals an absent one. List entries are kept, so positions do not shift.
pub fn remove_empty(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.values_mut().for_each(remove_empty);
            map.retain(|_, v| !is_empty(v));
        }
        Value::Array(items) => items.iter_mut().for_each(remove_empty),
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// Canonical quantities in the places Kubernetes reads them: container and PVC
/// `resources.{limits,requests}`, pod `overhead`, ResourceQuota `spec.hard`, LimitRange limits.
pub fn canonical_quantities(kind: &str, object: &mut Value) {
    walk_resources(object);
    match kind {
        "ResourceQuota" => {
            if let Some(hard) = object.pointer_mut("/spec/hard") {
                canonical_map(hard);
            }
        }
        "LimitRange" => {
            if let Some(Value::Array(limits)) = object.pointer_mut("/spec/limits") {
                for limit in limits {
                    for field in [
                        "max",
                        "min",
                        "default",
                        "defaultRequest",
                        "maxLimitRequestRatio",
                    ] {
                        if let Some(values) = limit.get_mut(field) {
                            canonical_map(values);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

fn walk_resources(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, member) in map.iter_mut() {
                if key == "resources" || key == "overhead" {
                    if key == "overhead" {
                        canonical_map(member);
                    } else if let Some(resources) = member.as_object_mut() {
                        for field in ["limits", "requests"] {
                            if let Some(values) = resources.get_mut(field) {
                                canonical_map(values);
                            }
                        }
                    }
                }
                walk_resources(member);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(walk_resources),
        _ => {}
    }
}

fn canonical_map(values: &mut Value) {
    if let Some(map) = values.as_object_mut() {
        for v in map.values_mut() {
            if let Some(c) = quantity::canonical(v) {
                *v = Value::String(c);
            }
        }
    }
}

/// In every list of ports, a port without `protocol` is TCP (the API server's default).
pub fn default_port_protocols(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, member) in map.iter_mut() {
                if key == "ports"
                    && let Value::Array(ports) = member
                {
                    for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                        if (port.contains_key("port") || port.contains_key("containerPort"))
                            && port.get("protocol").is_none_or(Value::is_null)
                        {
                            port.insert("protocol".into(), Value::String("TCP".into()));
                        }
                    }
                }
                default_port_protocols(member);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(default_port_protocols),
        _ => {}
    }
}

/// Lists whose order means nothing are sorted, so any order compares equal: finalizers, and the
/// subsets of Endpoints with their addresses and ports.
pub fn sort_set_like_lists(kind: &str, object: &mut Value) {
    for pointer in ["/metadata/finalizers", "/spec/finalizers"] {
        if let Some(Value::Array(items)) = object.pointer_mut(pointer) {
            sort_by_text(items);
        }
    }
    if kind == "Endpoints"
        && let Some(Value::Array(subsets)) = object.get_mut("subsets")
    {
        for subset in subsets.iter_mut() {
            for field in ["addresses", "notReadyAddresses", "ports"] {
                if let Some(Value::Array(items)) = subset.get_mut(field) {
                    sort_by_text(items);
                }
            }
        }
        sort_by_text(subsets);
    }
}

fn sort_by_text(items: &mut [Value]) {
    items.sort_by_cached_key(|v| v.to_string());
}

/// Drops the fields that are identity, not content: `apiVersion`, `kind`, `metadata.name`,
/// `metadata.namespace`. Pairing matched them already; comparing them again would only report a
/// rename as a change.
pub fn strip_identity(object: &mut Value) {
    if let Some(map) = object.as_object_mut() {
        map.remove("apiVersion");
        map.remove("kind");
        if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.remove("name");
            metadata.remove("namespace");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_equals_absent() {
        let mut v =
            json!({"a": null, "b": {}, "c": [], "d": {"e": {"f": null}}, "g": "", "h": [{}]});
        remove_empty(&mut v);
        assert_eq!(v, json!({"g": "", "h": [{}]}));
    }

    #[test]
    fn whole_floats_are_integers() {
        let mut v = json!({"a": 1.0, "b": [2.5, 3.0]});
        canonical_numbers(&mut v);
        assert_eq!(v, json!({"a": 1, "b": [2.5, 3]}));
    }

    #[test]
    fn quantities_in_resources_and_quotas() {
        let mut d = json!({"spec": {"containers": [{"resources": {"limits": {"cpu": "1000m", "memory": "1024Mi"}, "requests": {"cpu": 1}}}]}});
        canonical_quantities("Deployment", &mut d);
        assert_eq!(
            d["spec"]["containers"][0]["resources"],
            json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1"}})
        );
        let mut q = json!({"spec": {"hard": {"pods": 40, "requests.memory": "2048Mi"}}});
        canonical_quantities("ResourceQuota", &mut q);
        assert_eq!(
            q["spec"]["hard"],
            json!({"pods": "40", "requests.memory": "2Gi"})
        );
        // Not a quantity field: untouched.
        let mut other = json!({"data": {"cpu": "1000m"}});
        canonical_quantities("ConfigMap", &mut other);
        assert_eq!(other["data"]["cpu"], "1000m");
    }

    #[test]
    fn ports_default_to_tcp() {
        let mut v = json!({"spec": {"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}});
        default_port_protocols(&mut v);
        assert_eq!(v["spec"]["ports"][0]["protocol"], "TCP");
        assert_eq!(v["spec"]["ports"][1]["protocol"], "UDP");
    }

    #[test]
    fn endpoints_compare_unordered() {
        let mut a = json!({"subsets": [{"addresses": [{"ip": "2"}, {"ip": "1"}]}]});
        let mut b = json!({"subsets": [{"addresses": [{"ip": "1"}, {"ip": "2"}]}]});
        sort_set_like_lists("Endpoints", &mut a);
        sort_set_like_lists("Endpoints", &mut b);
        assert_eq!(a, b);
    }
}
