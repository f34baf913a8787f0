//! Which Git URLs name "this repository" (docs/sources.md): an Argo CD `repoURL` or a Flux
//! GitRepository `url` is followed only when it names the repository plumb reads, as
//! `repositories:` in plumb.yaml lists it. URLs are compared in one canonical form, so the
//! HTTPS, SSH and scp-like spellings of a repository, with or without `.git` or a trailing `/`,
//! are the same repository.

/// `host/path` in lower case, without scheme, user, port-less `:` of scp-like URLs, `.git` or
/// trailing slashes: `git@github.com:Org/Repo.git` and `https://github.com/org/repo/` are both
/// `github.com/org/repo`.
pub fn canonical_url(url: &str) -> String {
    let url = url.trim();
    let rest = match url.split_once("://") {
        Some((_, rest)) => rest.to_string(),
        // scp-like `user@host:path`.
        None => match url.split_once(':') {
            Some((host, path)) if !host.contains('/') => format!("{host}/{path}"),
            _ => url.to_string(),
        },
    };
    let rest = match rest.split_once('@') {
        Some((user, after)) if !user.contains('/') => after.to_string(),
        _ => rest,
    };
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    rest.trim_end_matches('/').to_ascii_lowercase()
}

/// `url` without the user information an HTTP URL may carry (`https://user:token@host/…` is
/// `https://host/…`): how every repository URL is shown, in messages, reports and logs.
pub fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Whether `url` names one of `repositories` (plumb.yaml's `repositories:`).
pub fn is_this_repository(url: &str, repositories: &[String]) -> bool {
    let url = canonical_url(url);
    !url.is_empty() && repositories.iter().any(|r| canonical_url(r) == url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_repository_are_equal() {
        let forms = [
            "https://github.com/example/shop.git",
            "https://github.com/example/shop",
            "https://github.com/Example/Shop/",
            "git@github.com:example/shop.git",
            "ssh://git@github.com/example/shop",
        ];
        for form in forms {
            assert_eq!(canonical_url(form), "github.com/example/shop", "{form}");
        }
        let repositories = vec!["https://github.com/example/shop.git".to_string()];
        assert!(is_this_repository(
            "git@github.com:example/shop",
            &repositories
        ));
        assert!(!is_this_repository(
            "https://github.com/example/shop-infra",
            &repositories
        ));
        assert!(!is_this_repository("", &repositories));
    }

    #[test]
    fn credentials_are_taken_out_of_urls() {
        assert_eq!(
            without_credentials("https://bob:tok@charts.example.com/a@b"),
            "https://charts.example.com/a@b"
        );
        assert_eq!(without_credentials("oci://ghcr.io/x"), "oci://ghcr.io/x");
        assert_eq!(without_credentials("charts/web"), "charts/web");
    }
}
