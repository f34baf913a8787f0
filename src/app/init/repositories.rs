//! "This repository" for `plumb init`: the URLs Argo CD `repoURL`s and Flux GitRepository `url`s
//! must name for plumb to follow them (`repositories:` in plumb.yaml, docs/sources.md). They come
//! from the repository's `origin` remote; without one, init guesses them from the controller
//! objects whose paths exist here, and says so.

use crate::desired::repository::canonical_url;
use std::collections::BTreeSet;
use std::path::Path;

/// What init knows of the repository's own URLs, and what it had to guess.
#[derive(Debug, Default)]
pub(super) struct ThisRepository {
    /// From the `origin` remote (fetch and push URLs), credentials removed.
    pub(super) origin: Vec<String>,
    /// URLs taken for this repository because no `origin` says otherwise and the paths the
    /// objects naming them read exist here.
    pub(super) guessed: BTreeSet<String>,
}

impl ThisRepository {
    /// The `origin` remote of the Git repository holding `root`, if there is one.
    pub(super) fn discover(root: &Path) -> ThisRepository {
        let mut origin = Vec::new();
        if let Ok(repo) = git2::Repository::discover(root)
            && let Ok(remote) = repo.find_remote("origin")
        {
            let push = remote.pushurl().ok().flatten();
            for url in [remote.url().ok(), push].into_iter().flatten() {
                let url = without_credentials(url);
                if !origin
                    .iter()
                    .any(|o: &String| canonical_url(o) == canonical_url(&url))
                {
                    origin.push(url);
                }
            }
        }
        ThisRepository {
            origin,
            guessed: BTreeSet::new(),
        }
    }

    /// Whether `url` names this repository. With an `origin`, only its URLs do; without one, a
    /// URL whose referenced paths exist here (`paths_exist`) is taken for it and remembered as
    /// guessed.
    pub(super) fn names(&mut self, url: &str, paths_exist: bool) -> bool {
        let canonical = canonical_url(url);
        if canonical.is_empty() {
            return false;
        }
        if !self.origin.is_empty() {
            return self.origin.iter().any(|o| canonical_url(o) == canonical);
        }
        if self.guessed.iter().any(|g| canonical_url(g) == canonical) {
            return true;
        }
        if paths_exist {
            self.guessed.insert(without_credentials(url));
        }
        paths_exist
    }

    /// The URLs plumb.yaml's `repositories:` lists.
    pub(super) fn urls(&self) -> Vec<String> {
        if self.origin.is_empty() {
            self.guessed.iter().cloned().collect()
        } else {
            self.origin.clone()
        }
    }
}

/// `url` without the user name and password of an HTTP(S) URL, and without the password of any
/// other: CI checkouts put tokens there (`https://gitlab-ci-token:TOKEN@gitlab.com/…`), and init
/// writes these URLs into plumb.yaml and onto the terminal. `git@host:path` keeps its user, which
/// is no secret.
pub(super) fn without_credentials(url: &str) -> String {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let Some((user, host)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    let http = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    match user.split_once(':') {
        _ if http => format!("{scheme}://{host}{path}"),
        Some((name, _password)) => format!("{scheme}://{name}@{host}{path}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_leave_a_url() {
        assert_eq!(
            without_credentials("https://gitlab-ci-token:glcbt-64_secret@gitlab.com/org/shop.git"),
            "https://gitlab.com/org/shop.git"
        );
        assert_eq!(
            without_credentials("https://x-access-token@github.com/org/shop"),
            "https://github.com/org/shop"
        );
        assert_eq!(
            without_credentials("ssh://git:hunter22@example.com:2222/shop.git"),
            "ssh://git@example.com:2222/shop.git"
        );
        assert_eq!(
            without_credentials("git@github.com:org/shop.git"),
            "git@github.com:org/shop.git"
        );
        assert_eq!(
            without_credentials("https://github.com/org/a@b"),
            "https://github.com/org/a@b",
            "an @ in the path is no user"
        );
    }

    #[test]
    fn without_origin_a_url_whose_paths_exist_here_is_guessed() {
        let mut this = ThisRepository::default();
        assert!(!this.names("https://github.com/org/other", false));
        assert!(this.names("https://github.com/org/shop.git", true));
        assert!(
            this.names("git@github.com:org/shop", false),
            "another spelling of a guessed URL"
        );
        assert_eq!(this.urls(), ["https://github.com/org/shop.git"]);
        let mut with_origin = ThisRepository {
            origin: vec!["https://github.com/org/shop".into()],
            ..ThisRepository::default()
        };
        assert!(!with_origin.names("https://github.com/org/other", true));
        assert!(with_origin.names("git@github.com:org/shop.git", false));
    }
}
