//! Object names: which names Kubernetes accepts for a kind, and which names may become a part of
//! a file path. Desired objects are checked against Kubernetes' rule when their inventory is
//! built (an object the API server would refuse is bad input, found before anything uses its
//! name); live objects are never refused for their names, since they exist and plumb only reads
//! them. Whatever the side, a name becomes a path part only after [`check_path_part`].

use std::fmt;

/// A naming rule of the Kubernetes API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// Lowercase letters, digits, `-` and `.`; at most 253 characters. Most kinds.
    Dns1123Subdomain,
    /// Lowercase letters, digits and `-`; at most 63 characters. Namespaces and Services.
    Dns1123Label,
    /// Anything but `.`, `..`, `/` and `%`. RBAC kinds (`system:controller:…`), and kinds plumb
    /// does not know, whose API server may accept more than the usual rule.
    PathSegment,
}

/// API groups served by Kubernetes itself: their kinds follow the usual rule unless listed in
/// [`NameRule::of`]. Any other group is a custom or aggregated API.
const BUILT_IN_GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "extensions",
    "networking.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "node.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "admissionregistration.k8s.io",
    "resource.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "storagemigration.k8s.io",
];

impl NameRule {
    /// The rule Kubernetes applies to `metadata.name` of a `(group, kind)`.
    pub(crate) fn of(group: &str, kind: &str) -> NameRule {
        match (group, kind) {
            ("", "Namespace" | "Service") => NameRule::Dns1123Label,
            ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
            // IP addresses, IPv6 with `:`.
            ("networking.k8s.io", "IPAddress") => NameRule::PathSegment,
            // ClusterTrustBundle names carry their signer (`example.com:signer:…`).
            ("certificates.k8s.io", _) => NameRule::PathSegment,
            (group, _) if BUILT_IN_GROUPS.contains(&group) => NameRule::Dns1123Subdomain,
            _ => NameRule::PathSegment,
        }
    }

    /// Why `name` breaks this rule, or nothing when it follows it.
    pub(crate) fn violation(self, name: &str) -> Option<&'static str> {
        match self {
            NameRule::Dns1123Subdomain => subdomain_violation(name),
            NameRule::Dns1123Label => label_violation(name, 63),
            NameRule::PathSegment => path_segment_violation(name),
        }
    }
}

impl fmt::Display for NameRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameRule::Dns1123Subdomain => {
                "a DNS-1123 subdomain: lowercase letters, digits, `-` and `.`, each dot-separated \
                 part starting and ending with a letter or digit, at most 253 characters"
            }
            NameRule::Dns1123Label => {
                "a DNS-1123 label: lowercase letters, digits and `-`, starting and ending with a \
                 letter or digit, at most 63 characters"
            }
            NameRule::PathSegment => "a path segment: not `.` or `..`, and no `/` or `%`",
        })
    }
}

fn label_violation(label: &str, max: usize) -> Option<&'static str> {
    if label.is_empty() {
        return Some("it is empty");
    }
    if label.len() > max {
        return Some("it is too long");
    }
    if !label
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Some("it holds a character other than a lowercase letter, a digit or `-`");
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Some("it starts or ends with `-`");
    }
    None
}

fn subdomain_violation(name: &str) -> Option<&'static str> {
    if name.len() > 253 {
        return Some("it is too long");
    }
    name.split('.')
        .find_map(|part| label_violation(part, 253))
        .map(|reason| match reason {
            "it is empty" => "it has an empty part between dots",
            other => other,
        })
}

fn path_segment_violation(name: &str) -> Option<&'static str> {
    match name {
        "" => Some("it is empty"),
        "." | ".." => Some("it is `.` or `..`"),
        _ if name.contains(['/', '%']) => Some("it holds `/` or `%`"),
        _ => None,
    }
}

/// Why `part` cannot be one component of a path plumb writes, or nothing when it can: never
/// empty, `.` or `..`, never a separator (`/` or `\`), a NUL, or another control character, so
/// the joined path stays inside its directory on every platform.
pub(crate) fn check_path_part(part: &str) -> Result<(), &'static str> {
    match part {
        "" => Err("it is empty"),
        "." | ".." => Err("it is `.` or `..`"),
        _ if part.contains(['/', '\\']) => Err("it holds a path separator"),
        _ if part.chars().any(char::is_control) => Err("it holds a control character"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_kubernetes_rules() {
        assert_eq!(NameRule::of("", "ConfigMap"), NameRule::Dns1123Subdomain);
        assert_eq!(NameRule::of("", "Namespace"), NameRule::Dns1123Label);
        assert_eq!(NameRule::of("", "Service"), NameRule::Dns1123Label);
        assert_eq!(
            NameRule::of("apps", "Deployment"),
            NameRule::Dns1123Subdomain
        );
        assert_eq!(
            NameRule::of("rbac.authorization.k8s.io", "ClusterRole"),
            NameRule::PathSegment
        );
        assert_eq!(NameRule::of("example.com", "Widget"), NameRule::PathSegment);
    }

    #[test]
    fn subdomains() {
        let rule = NameRule::Dns1123Subdomain;
        for good in [
            "a",
            "app-config",
            "v1.metrics.k8s.io",
            "0abc",
            &"a".repeat(253),
        ] {
            assert_eq!(rule.violation(good), None, "{good}");
        }
        for bad in [
            "",
            "A",
            "a_b",
            "-a",
            "a-",
            "a..b",
            ".a",
            "a.",
            "../../x",
            "/etc",
            "a/b",
            "a\u{1b}",
            "ä",
            &"a".repeat(254),
        ] {
            assert!(rule.violation(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn labels() {
        let rule = NameRule::Dns1123Label;
        assert_eq!(rule.violation("shop-staging"), None);
        assert_eq!(rule.violation(&"a".repeat(63)), None);
        for bad in ["a.b", "/etc", "", &"a".repeat(64), "Shop"] {
            assert!(rule.violation(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn rbac_names_may_hold_colons_but_never_leave_a_directory() {
        let rule = NameRule::PathSegment;
        assert_eq!(rule.violation("system:controller:job-controller"), None);
        for bad in [".", "..", "a/b", "a%2F", ""] {
            assert!(rule.violation(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn path_parts() {
        assert!(check_path_part("system:auth").is_ok());
        assert!(check_path_part("configmap.example.com-a").is_ok());
        for bad in ["", ".", "..", "a/b", "/etc", "a\\b", "a\0b", "a\u{1b}"] {
            assert!(check_path_part(bad).is_err(), "{bad:?}");
        }
    }
}
