//! Which directory of this repository a Flux source reference stands for: a GitRepository of this
//! repository is its root; an ExternalArtifact that an ArtifactGenerator assembles from this
//! repository is the directory its copy operations relocate (docs/sources.md, flux).
//!
//! plumb renders from the tree at the ref, so it follows an artifact whose copies keep the
//! repository's layout below one directory (`@repo/apps/base/**` → `@artifact/base/` and
//! `@repo/apps/production/**` → `@artifact/production/` both keep `apps/`): paths in the artifact
//! are then paths under that directory, and relative references between the copied files resolve
//! as in Git. Copies that rearrange files relative to each other are a render error naming them.

use super::objects::{FluxObject, Kind, Known};
use super::{FluxError, not_followed};
use crate::desired::git::GitTree;
use crate::desired::render::join_repo;
use crate::desired::repository::is_this_repository;
use serde_json::Value;

/// The GitRepository Flux's bootstrap creates for the repository it was bootstrapped from.
pub(crate) const BOOTSTRAP: (&str, &str) = ("flux-system", "flux-system");

/// What resolving a reference needs.
pub(crate) struct Resolver<'k, 'a> {
    pub known: &'k Known<'a>,
    pub tree: &'a GitTree,
    pub repositories: &'a [String],
}

/// A `sourceRef` (or `chartRef`): kind, name, namespace (the referrer's where it names none).
pub(crate) struct Reference {
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

impl Reference {
    /// The reference at `field` of `referrer`; an absent or malformed one is an error naming it.
    pub(crate) fn at(
        referrer: &FluxObject,
        value: &Value,
        field: &str,
    ) -> Result<Reference, FluxError> {
        let text = |key: &str| value[key].as_str().map(str::to_string);
        match (text("kind"), text("name")) {
            (Some(kind), Some(name)) => Ok(Reference {
                kind,
                name,
                namespace: text("namespace").unwrap_or_else(|| referrer.namespace.clone()),
            }),
            _ => Err(not_followed(
                referrer,
                field,
                "does not name a source (`kind` and `name`)",
                "name the source object this refers to",
            )),
        }
    }

    pub(crate) fn describe(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace, self.name)
    }
}

impl Resolver<'_, '_> {
    /// The repository directory (`""` for the root) that `reference`, at `field` of `referrer`,
    /// stands for.
    pub(crate) fn directory(
        &self,
        referrer: &FluxObject,
        reference: &Reference,
        field: &str,
    ) -> Result<String, FluxError> {
        match Kind::named(&reference.kind) {
            Some(Kind::GitRepository) => self.git_repository(referrer, reference, field),
            Some(Kind::ExternalArtifact) => self.external_artifact(referrer, reference, field),
            _ => Err(not_followed(
                referrer,
                field,
                &format!(
                    "refers to the {}, a source plumb does not follow: it reads this repository at the ref alone",
                    reference.describe()
                ),
                "plumb follows GitRepository sources of this repository and ExternalArtifacts an ArtifactGenerator builds from them",
            )),
        }
    }

    /// A GitRepository that is this repository at the audited revision: its root.
    fn git_repository(
        &self,
        referrer: &FluxObject,
        reference: &Reference,
        field: &str,
    ) -> Result<String, FluxError> {
        let bootstrap = (reference.namespace.as_str(), reference.name.as_str()) == BOOTSTRAP;
        let Some(repository) =
            self.known
                .find(Kind::GitRepository, &reference.namespace, &reference.name)?
        else {
            // Bootstrap's gotk-sync.yaml is often left empty in Git: flux-system is this repository.
            if bootstrap {
                return Ok(String::new());
            }
            return Err(not_followed(
                referrer,
                field,
                &format!(
                    "refers to the {}, which is neither in the rendered output nor anywhere in the repository at the ref",
                    reference.describe()
                ),
                "commit the GitRepository, or list its URL in `repositories:` and name it in the repository",
            ));
        };
        let spec = repository.spec();
        let url = spec["url"].as_str().unwrap_or("");
        if !bootstrap && !is_this_repository(url, self.repositories) {
            return Err(not_followed(
                referrer,
                field,
                &format!(
                    "refers to the {} at `{url}`, another repository than the one plumb reads",
                    reference.describe()
                ),
                "if that URL names this repository, list it under `repositories:` in plumb.yaml",
            ));
        }
        if let Some(commit) = spec["ref"]["commit"].as_str()
            && !self
                .tree
                .commit
                .to_string()
                .starts_with(&commit.to_ascii_lowercase())
        {
            return Err(not_followed(
                repository,
                "spec.ref.commit",
                &format!(
                    "pins commit {commit}, not the audited {}",
                    &self.tree.commit.to_string()[..12]
                ),
                "audit that commit (--ref), or let the GitRepository follow a branch",
            ));
        }
        if spec["include"].as_array().is_some_and(|a| !a.is_empty()) {
            return Err(not_followed(
                repository,
                "spec.include",
                "includes other GitRepositories' files, which plumb does not assemble",
                "move the included files into this repository",
            ));
        }
        Ok(String::new())
    }

    /// An ExternalArtifact an ArtifactGenerator in its namespace builds.
    fn external_artifact(
        &self,
        referrer: &FluxObject,
        reference: &Reference,
        field: &str,
    ) -> Result<String, FluxError> {
        let builds = |o: &FluxObject| {
            o.spec()["artifacts"]
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["name"] == reference.name.as_str()))
        };
        let generators =
            self.known
                .find_where(Kind::ArtifactGenerator, &reference.namespace, builds)?;
        let generator = match generators.as_slice() {
            [one] => *one,
            [] => {
                return Err(not_followed(
                    referrer,
                    field,
                    &format!(
                        "refers to the {}, which no ArtifactGenerator in namespace `{}` builds (looked in the rendered output and the repository)",
                        reference.describe(),
                        reference.namespace
                    ),
                    "commit the ArtifactGenerator that builds it",
                ));
            }
            [first, second, ..] => {
                return Err(FluxError::Ambiguous {
                    object: reference.describe(),
                    first: first.describe(),
                    second: second.describe(),
                });
            }
        };
        let artifact = generator.spec()["artifacts"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["name"] == reference.name.as_str())
            .cloned()
            .unwrap_or(Value::Null);
        let mut root: Option<String> = None;
        for (index, copy) in artifact["copy"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let field = format!("spec.artifacts[name={}].copy[{index}]", reference.name);
            let from = copy["from"].as_str().unwrap_or("");
            let to = copy["to"].as_str().unwrap_or("");
            let (alias, from_path) = split_alias(from).ok_or_else(|| {
                not_followed(
                    generator,
                    &field,
                    &format!("has `from: {from}`, not `@alias/path`"),
                    "write `from` as `@alias/path`",
                )
            })?;
            let source = self.alias_source(generator, alias, &field)?;
            let source_dir = self.directory(generator, &source, &format!("{field}.from"))?;
            let Some(to_path) = to.strip_prefix("@artifact") else {
                return Err(not_followed(
                    generator,
                    &field,
                    &format!("has `to: {to}`, not `@artifact/path`"),
                    "write `to` as `@artifact/path`",
                ));
            };
            let Some(from_path) = join_repo(&source_dir, from_path) else {
                return Err(not_followed(
                    generator,
                    &field,
                    "copies from outside the repository",
                    "copy from paths inside the source",
                ));
            };
            let relocated = relocation(&from_path, to_path).ok_or_else(|| {
                not_followed(
                    generator,
                    &field,
                    &format!("copies `{from}` to `{to}`, which rearranges the repository's files relative to each other"),
                    "plumb follows copies that keep the repository's layout below one directory (`@repo/apps/base/**` → `@artifact/base/`)",
                )
            })?;
            match &root {
                None => root = Some(relocated),
                Some(seen) if *seen == relocated => {}
                Some(seen) => {
                    return Err(not_followed(
                        generator,
                        &field,
                        &format!(
                            "copies from below `{relocated}/` where earlier copies keep the layout below `{seen}/`"
                        ),
                        "plumb follows copies that keep the repository's layout below one directory",
                    ));
                }
            }
        }
        root.ok_or_else(|| {
            not_followed(
                generator,
                &format!("spec.artifacts[name={}].copy", reference.name),
                "copies nothing",
                "list the files the artifact holds",
            )
        })
    }

    /// The source an ArtifactGenerator's `@alias` names.
    fn alias_source(
        &self,
        generator: &FluxObject,
        alias: &str,
        field: &str,
    ) -> Result<Reference, FluxError> {
        let entry = generator.spec()["sources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["alias"] == alias)
            .ok_or_else(|| {
                not_followed(
                    generator,
                    field,
                    &format!("copies from `@{alias}`, which `spec.sources` does not name"),
                    "add the source with that alias",
                )
            })?;
        Reference::at(generator, entry, "spec.sources")
    }
}

/// `@alias/path` split into the alias and the path.
fn split_alias(from: &str) -> Option<(&str, &str)> {
    let rest = from.strip_prefix('@')?;
    Some(rest.split_once('/').unwrap_or((rest, "")))
}

fn has_glob(part: &str) -> bool {
    part.contains(['*', '?', '[', '{'])
}

/// The repository directory whose layout a copy from `from` (a repository path, globs allowed) to
/// the artifact path `to` keeps, if it keeps one: the copied files land in the artifact at their
/// path below that directory. Globs copy what they match below their directory, kept relative to
/// it; a plain file copied into a directory (`to` ending in `/`) keeps its name.
fn relocation(from: &str, to: &str) -> Option<String> {
    let parts: Vec<&str> = from.split('/').filter(|p| !p.is_empty()).collect();
    let to_parts: Vec<&str> = to.split('/').filter(|p| !p.is_empty()).collect();
    let glob_at = parts.iter().position(|p| has_glob(p));
    let (from_dir, to_dir): (Vec<&str>, Vec<&str>) = match glob_at {
        Some(at) => (parts[..at].to_vec(), to_parts),
        None if to.ends_with('/') || to_parts.is_empty() => {
            (parts[..parts.len().saturating_sub(1)].to_vec(), to_parts)
        }
        None => {
            // A file copied under a name: the same name, in a directory that keeps the layout.
            if parts.last() != to_parts.last() {
                return None;
            }
            (
                parts[..parts.len().saturating_sub(1)].to_vec(),
                to_parts[..to_parts.len() - 1].to_vec(),
            )
        }
    };
    if to_dir.len() > from_dir.len() || from_dir[from_dir.len() - to_dir.len()..] != to_dir[..] {
        return None;
    }
    Some(from_dir[..from_dir.len() - to_dir.len()].join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_that_keep_a_layout_name_its_directory() {
        assert_eq!(
            relocation("apps/base/**", "/base/").as_deref(),
            Some("apps")
        );
        assert_eq!(
            relocation("apps/production/**", "/production/").as_deref(),
            Some("apps")
        );
        assert_eq!(
            relocation("infrastructure/**", "/").as_deref(),
            Some("infrastructure")
        );
        assert_eq!(
            relocation("infrastructure/**", "").as_deref(),
            Some("infrastructure")
        );
        assert_eq!(
            relocation("deploy/app/*.yaml", "/app/").as_deref(),
            Some("deploy")
        );
        assert_eq!(
            relocation("deploy/app/a.yaml", "/app/").as_deref(),
            Some("deploy")
        );
        assert_eq!(
            relocation("deploy/app/a.yaml", "/app/a.yaml").as_deref(),
            Some("deploy")
        );
    }

    #[test]
    fn copies_that_rearrange_are_refused() {
        assert_eq!(relocation("apps/base/**", "/common/"), None);
        assert_eq!(relocation("deploy/app/a.yaml", "/app/b.yaml"), None);
        assert_eq!(relocation("a/**", "/x/y/z/"), None);
    }

    #[test]
    fn aliases_split_from_paths() {
        assert_eq!(
            split_alias("@monorepo/apps/**"),
            Some(("monorepo", "apps/**"))
        );
        assert_eq!(split_alias("monorepo/apps"), None);
    }
}
