//! Where a report's sources link to (docs/report.md, "HTML"): plumb.yaml's `links.source`, else
//! a link derived from the repository's `origin` remote when it is on a forge whose file pages are
//! known — GitHub, a GitLab, Bitbucket Cloud. Read at the edge, once per run; the report carries
//! the template and each format fills it in. Credentials in a remote's URL never reach it.

use crate::config::Links;
use std::path::Path;

/// The link template of a run: `{commit}`, `{file}` and `{line}` to fill in.
pub fn source_link(links: &Links, workdir: &Path) -> Option<String> {
    if let Some(template) = &links.source {
        return Some(template.clone());
    }
    let repo = git2::Repository::discover(workdir).ok()?;
    let remote = repo.find_remote("origin").ok()?;
    forge_link(remote.url().ok()?)
}

/// The file-page template of a remote URL on a known forge (`git@github.com:org/repo.git`,
/// `https://token@gitlab.example.com/group/repo`, `ssh://git@bitbucket.org/org/repo.git`).
fn forge_link(url: &str) -> Option<String> {
    let (host, path) = match url.split_once("://") {
        Some((_, rest)) => {
            let (authority, path) = rest.split_once('/')?;
            let host = authority.rsplit('@').next()?;
            (host.split(':').next()?, path)
        }
        // scp-like: user@host:path
        None => {
            let (authority, path) = url.split_once(':')?;
            (authority.rsplit('@').next()?, path)
        }
    };
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~/".contains(c))
            && !s.split('/').any(|part| part.is_empty() || part == "..")
    };
    if !plain(host) || !plain(path) {
        return None;
    }
    let host = host.to_ascii_lowercase();
    if host == "github.com" {
        Some(format!(
            "https://github.com/{path}/blob/{{commit}}/{{file}}#L{{line}}"
        ))
    } else if host == "bitbucket.org" {
        Some(format!(
            "https://bitbucket.org/{path}/src/{{commit}}/{{file}}#lines-{{line}}"
        ))
    } else if host.split('.').any(|label| label == "gitlab") {
        Some(format!(
            "https://{host}/{path}/-/blob/{{commit}}/{{file}}#L{{line}}"
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::forge_link;

    #[test]
    fn forges_are_recognised_and_credentials_dropped() {
        let github = "https://github.com/org/deploy/blob/{commit}/{file}#L{line}";
        for url in [
            "git@github.com:org/deploy.git",
            "https://github.com/org/deploy",
            "https://x-access-token:ghs_SECRET@github.com/org/deploy.git",
            "ssh://git@github.com:22/org/deploy.git",
        ] {
            assert_eq!(forge_link(url).as_deref(), Some(github), "{url}");
        }
        assert_eq!(
            forge_link("https://oauth2:glpat-SECRET@gitlab.example.com/group/sub/deploy.git")
                .as_deref(),
            Some("https://gitlab.example.com/group/sub/deploy/-/blob/{commit}/{file}#L{line}")
        );
        assert_eq!(
            forge_link("git@bitbucket.org:org/deploy.git").as_deref(),
            Some("https://bitbucket.org/org/deploy/src/{commit}/{file}#lines-{line}")
        );
        // Unknown forges, local paths and odd paths give no link.
        for url in [
            "https://git.example.com/org/deploy.git",
            "/srv/git/deploy.git",
            "file:///srv/git/deploy.git",
            "https://github.com/org/../deploy",
            "https://github.com/org/de\"ploy",
        ] {
            assert_eq!(forge_link(url), None, "{url}");
        }
    }
}
