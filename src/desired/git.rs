//! Reading desired state from a Git revision, never from the working tree: `--ref v1.2.3` audits
//! exactly what that tag holds, whatever is checked out.
//!
//! A submodule (a gitlink: a commit id where a directory would be) is followed when its commit is
//! in reach — in the submodule's own repository under `.git/modules/<name>` (what `git submodule
//! update` leaves), or in a repository checked out at its path — by adding that object store to
//! the repository's: its files are then read like any others, for `manifests:` directories and for
//! the tree written out for helm and kustomize. A submodule whose commit is not there is never
//! skipped silently: reading through it is [`GitError::SubmoduleUnavailable`], which the source
//! that needed it reports as a `render` error (docs/rendering.md).

use super::ManifestFile;
use crate::limits::{MAX_FILES_PER_SOURCE, MAX_MANIFEST_BYTES};
use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(
        "{path} is not inside a Git repository: {message}\n  help: plumb reads desired state from Git; run `git init` and commit the manifests, or use `plumb compare` for plain directories"
    )]
    NoRepository { path: String, message: String },
    /// Git's `safe.directory` protection: the repository belongs to another user (a checkout
    /// mounted into a container, a CI workspace made by another uid).
    #[error(
        "Git refuses to read the repository at {path}: it is owned by another user than the one running plumb ({message})\n  help: run plumb as the repository's owner, or trust it as Git does: `git config --global --add safe.directory {path}` (plumb's image trusts every directory: docs/ci.md, \"The container image\")"
    )]
    NotOwned { path: String, message: String },
    #[error(
        "revision `{rev}` does not exist in {repo}: {message}\n  help: pass a branch, tag or commit that `git rev-parse` accepts"
    )]
    BadRevision {
        rev: String,
        repo: String,
        message: String,
    },
    #[error("{path} is outside the repository at {repo}")]
    OutsideRepository { path: String, repo: String },
    #[error(
        "`{path}` is a Git submodule whose commit {commit} is not in this clone\n  help: run `git submodule update --init` before plumb (in CI: check out with submodules)"
    )]
    SubmoduleUnavailable { path: String, commit: String },
    #[error("reading Git: {0}")]
    Git(#[from] git2::Error),
    #[error(
        "{path} at {rev} is {size} bytes, larger than plumb's limit of {limit} bytes for a manifest file\n  help: check that this is the file you meant; docs/security.md lists the limits"
    )]
    TooLarge {
        path: String,
        rev: String,
        size: usize,
        limit: u64,
    },
    #[error(
        "{path} at {rev} holds more than {MAX_FILES_PER_SOURCE} files, plumb's limit for one source\n  help: point the source at the directory that holds the manifests"
    )]
    TooManyFiles { path: String, rev: String },
    #[error("writing the tree at {rev} to {path}: {source}")]
    Write {
        rev: String,
        path: String,
        source: std::io::Error,
    },
}

/// One commit of a repository, ready to read files from.
pub struct GitTree {
    repo: Repository,
    pub workdir: PathBuf,
    pub rev: String,
    pub commit: Oid,
    /// Every repository path asked about since the last [`GitTree::take_reads`]: what an
    /// environment's desired state depends on, so its history knows which commits changed it
    /// (docs/promotion.md, History). A tree is used on one thread (a repository handle is not
    /// shared), so a `RefCell` is enough.
    reads: RefCell<BTreeSet<String>>,
}

impl GitTree {
    /// Opens the repository that contains `dir` and resolves `rev` in it.
    pub fn open(dir: &Path, rev: &str) -> Result<GitTree, GitError> {
        // plumb only reads its own local object store; re-hashing every blob on read costs a tenth
        // of a large run and guards against nothing a read-only audit needs.
        git2::opts::strict_hash_verification(false);
        let repo = Repository::discover(dir).map_err(|e| {
            let (path, message) = (dir.display().to_string(), e.message().to_string());
            match e.code() {
                git2::ErrorCode::Owner => GitError::NotOwned { path, message },
                _ => GitError::NoRepository { path, message },
            }
        })?;
        let workdir = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
        let commit = repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| GitError::BadRevision {
                rev: rev.to_string(),
                repo: workdir.display().to_string(),
                message: e.message().to_string(),
            })?
            .id();
        Ok(GitTree {
            repo,
            workdir,
            rev: rev.to_string(),
            commit,
            reads: RefCell::default(),
        })
    }

    /// The same repository at another commit (a new handle: a tree is read on one thread), its
    /// `rev` the commit id, so errors name the commit.
    pub fn at_commit(&self, commit: Oid) -> Result<GitTree, GitError> {
        let repo = Repository::open(self.repo.path())?;
        repo.find_commit(commit)?;
        Ok(GitTree {
            repo,
            workdir: self.workdir.clone(),
            rev: commit.to_string(),
            commit,
            reads: RefCell::default(),
        })
    }

    /// The paths asked about since the last call (every read goes through
    /// [`GitTree::object_id`]), and forgets them.
    pub fn take_reads(&self) -> Vec<String> {
        std::mem::take(&mut *self.reads.borrow_mut())
            .into_iter()
            .collect()
    }

    /// What is at each of `paths` in `commit` (any commit of the repository), not recorded as
    /// reads: how a history walk tells whether a commit changed what an environment reads.
    pub fn ids_at(
        &self,
        commit: Oid,
        paths: &[String],
    ) -> Result<Vec<Option<(ObjectType, Oid)>>, GitError> {
        let root = self.repo.find_commit(commit)?.tree()?;
        paths.iter().map(|path| self.lookup(&root, path)).collect()
    }

    /// The first parent of `commit`, none for a root commit.
    pub fn first_parent(&self, commit: Oid) -> Result<Option<Oid>, GitError> {
        let found = self.repo.find_commit(commit)?;
        Ok((found.parent_count() > 0)
            .then(|| found.parent_id(0))
            .transpose()?)
    }

    /// Whether the repository is a shallow clone: its oldest commits have parents it does not hold.
    pub fn is_shallow(&self) -> bool {
        self.repo.is_shallow()
    }

    /// The committer time of `commit`, seconds since the epoch.
    pub fn commit_time(&self, commit: Oid) -> Result<i64, GitError> {
        Ok(self.repo.find_commit(commit)?.committer().when().seconds())
    }

    /// The repository-relative form of `relative` resolved against `base_dir` (a directory on
    /// disk inside the repository, such as the config file's). `.` and `..` are resolved without
    /// touching the file system: the path need not exist in the working tree, only in Git.
    pub fn repo_path(&self, base_dir: &Path, relative: &str) -> Result<String, GitError> {
        let outside = || GitError::OutsideRepository {
            path: base_dir.join(relative).display().to_string(),
            repo: self.workdir.display().to_string(),
        };
        let base = base_dir.canonicalize().map_err(|_| outside())?;
        let root = self.workdir.canonicalize().map_err(|_| outside())?;
        let joined = lexical_clean(&base.join(relative));
        let rest = joined.strip_prefix(&root).map_err(|_| outside())?;
        Ok(rest
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"))
    }

    /// The URL of the remote `name` (`origin`) of the repository, where it has one: what names
    /// "this repository" when plumb.yaml lists no `repositories:` (docs/sources.md).
    pub fn remote_url(&self, name: &str) -> Option<String> {
        let remote = self.repo.find_remote(name).ok()?;
        remote.url().ok().map(str::to_string)
    }

    /// What is at `path` in the commit: a file, a directory, or nothing.
    pub fn kind_of(&self, path: &str) -> Result<Option<ObjectType>, GitError> {
        Ok(self.object_id(path)?.map(|(kind, _)| kind))
    }

    /// Every file under `dir` (recursively) whose path `keep` accepts, in path order.
    pub fn files_under(
        &self,
        dir: &str,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Vec<ManifestFile>, GitError> {
        let tree = match self.object_id(dir)? {
            Some((ObjectType::Tree, id)) => self.repo.find_tree(id)?,
            _ => {
                return Err(git2::Error::new(
                    git2::ErrorCode::NotFound,
                    git2::ErrorClass::Tree,
                    format!("no directory `{dir}` in the commit"),
                )
                .into());
            }
        };
        let mut blobs = Vec::new();
        self.blobs_below(&tree, dir, &mut blobs, None)?;
        let mut ids: Vec<(String, Oid)> = blobs
            .into_iter()
            .filter(|(path, _, _)| keep(path))
            .map(|(path, id, _)| (path, id))
            .collect();
        ids.sort();
        if ids.len() > MAX_FILES_PER_SOURCE {
            return Err(GitError::TooManyFiles {
                path: dir.to_string(),
                rev: self.rev.clone(),
            });
        }
        ids.into_iter()
            .map(|(path, id)| {
                let bytes = self.blob_bytes(&path, id)?;
                Ok(ManifestFile { path, bytes })
            })
            .collect()
    }

    /// A blob's bytes, its size checked against `MAX_MANIFEST_BYTES` from the object's header
    /// before the blob is inflated and copied.
    fn blob_bytes(&self, path: &str, id: Oid) -> Result<Vec<u8>, GitError> {
        let (size, _) = self.repo.odb()?.read_header(id)?;
        if size as u64 > MAX_MANIFEST_BYTES {
            return Err(GitError::TooLarge {
                path: path.to_string(),
                rev: self.rev.clone(),
                size,
                limit: MAX_MANIFEST_BYTES,
            });
        }
        Ok(self.repo.find_blob(id)?.content().to_vec())
    }

    /// One file's contents.
    pub fn read(&self, path: &str) -> Result<ManifestFile, GitError> {
        let id = match self.object_id(path)? {
            Some((ObjectType::Blob, id)) => id,
            _ => {
                return Err(git2::Error::new(
                    git2::ErrorCode::NotFound,
                    git2::ErrorClass::Tree,
                    format!("no file `{path}` in the commit"),
                )
                .into());
            }
        };
        Ok(ManifestFile {
            path: path.to_string(),
            bytes: self.blob_bytes(path, id)?,
        })
    }
}

impl GitTree {
    /// The object id of what is at `path` in the commit (a blob's or a tree's), or none. Render
    /// cache keys are made of these: a tree id changes whenever anything below it does.
    /// A submodule is its commit's tree.
    /// Every path asked about is recorded ([`GitTree::take_reads`]), `""` (the whole tree) too.
    pub fn object_id(&self, path: &str) -> Result<Option<(ObjectType, Oid)>, GitError> {
        self.reads
            .borrow_mut()
            .insert(path.trim_matches('/').to_string());
        let root = self.repo.find_commit(self.commit)?.tree()?;
        self.lookup(&root, path)
    }

    /// What is at `path` below `root` (a commit's tree), submodules followed.
    fn lookup(
        &self,
        root: &git2::Tree<'_>,
        path: &str,
    ) -> Result<Option<(ObjectType, Oid)>, GitError> {
        let mut tree = root.clone();
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let mut walked = String::new();
        for (index, part) in parts.iter().enumerate() {
            let Some((entry_kind, entry_id)) = tree.get_name(part).map(|e| (e.kind(), e.id()))
            else {
                return Ok(None);
            };
            if !walked.is_empty() {
                walked.push('/');
            }
            walked.push_str(part);
            let (kind, id) = match entry_kind {
                Some(ObjectType::Commit) => {
                    let sub = self.submodule_tree(&walked, entry_id)?;
                    (ObjectType::Tree, sub.id())
                }
                Some(kind) => (kind, entry_id),
                None => return Ok(None),
            };
            if index + 1 == parts.len() {
                return Ok(Some((kind, id)));
            }
            if kind != ObjectType::Tree {
                return Ok(None);
            }
            tree = self.repo.find_tree(id)?;
        }
        Ok(Some((ObjectType::Tree, tree.id())))
    }

    /// The tree of the submodule at `path` (its commit `commit`), reaching for the submodule's
    /// own object store when the repository's does not hold it.
    fn submodule_tree(&self, path: &str, commit: Oid) -> Result<git2::Tree<'_>, GitError> {
        if let Ok(found) = self.repo.find_commit(commit) {
            return Ok(found.tree()?);
        }
        let odb = self.repo.odb()?;
        for objects in self.submodule_stores(path) {
            if objects.is_dir() {
                tracing::debug!(path, store = %objects.display(), "reading a submodule's objects");
                odb.add_disk_alternate(&objects.display().to_string())?;
            }
        }
        match self.repo.find_commit(commit) {
            Ok(found) => Ok(found.tree()?),
            Err(_) => Err(GitError::SubmoduleUnavailable {
                path: path.to_string(),
                commit: commit.to_string(),
            }),
        }
    }

    /// Where the objects of the submodule at `path` may be: `.git/modules/<name>` (its name from
    /// `.gitmodules` at the commit, else its path) and a repository checked out at its path.
    fn submodule_stores(&self, path: &str) -> Vec<PathBuf> {
        let mut names = vec![path.to_string()];
        if let Ok(tree) = self.repo.find_commit(self.commit).and_then(|c| c.tree())
            && let Some(entry) = tree.get_name(".gitmodules")
            && let Ok(blob) = self.repo.find_blob(entry.id())
        {
            names.extend(submodule_name(
                &String::from_utf8_lossy(blob.content()),
                path,
            ));
        }
        let mut stores: Vec<PathBuf> = names
            .iter()
            .map(|name| self.repo.path().join("modules").join(name).join("objects"))
            .collect();
        stores.push(self.workdir.join(path).join(".git/objects"));
        stores
    }

    /// Every blob below `tree` (at repository path `prefix`), submodules followed: `(path, id,
    /// file mode)`. A submodule whose commit is not in reach is an error, unless `unavailable`
    /// collects its path instead.
    fn blobs_below(
        &self,
        tree: &git2::Tree<'_>,
        prefix: &str,
        out: &mut Vec<(String, Oid, i32)>,
        mut unavailable: Option<&mut Vec<String>>,
    ) -> Result<(), GitError> {
        for entry in tree.iter() {
            let Ok(name) = entry.name() else { continue };
            let path = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}/{name}")
            };
            match entry.kind() {
                Some(ObjectType::Blob) => out.push((path, entry.id(), entry.filemode())),
                Some(ObjectType::Tree) => {
                    let sub = self.repo.find_tree(entry.id())?;
                    self.blobs_below(&sub, &path, out, unavailable.as_deref_mut())?;
                }
                Some(ObjectType::Commit) => match self.submodule_tree(&path, entry.id()) {
                    Ok(sub) => self.blobs_below(&sub, &path, out, unavailable.as_deref_mut())?,
                    Err(GitError::SubmoduleUnavailable { .. }) if unavailable.is_some() => {
                        if let Some(list) = unavailable.as_deref_mut() {
                            list.push(path);
                        }
                    }
                    Err(e) => return Err(e),
                },
                _ => {}
            }
        }
        Ok(())
    }

    /// Fails when a submodule below `dir` cannot be followed: a render reading `dir` would
    /// otherwise run without it and not say so.
    pub fn check_submodules(&self, dir: &str) -> Result<(), GitError> {
        if let Some((ObjectType::Tree, id)) = self.object_id(dir)? {
            let tree = self.repo.find_tree(id)?;
            let mut gitlinks = Vec::new();
            tree.walk(TreeWalkMode::PreOrder, |root, entry| {
                if entry.kind() == Some(ObjectType::Commit)
                    && let Ok(name) = entry.name()
                {
                    gitlinks.push(format!("{root}{name}"));
                }
                TreeWalkResult::Ok
            })?;
            for link in gitlinks {
                let path = if dir.is_empty() {
                    link
                } else {
                    format!("{dir}/{link}")
                };
                self.object_id(&path)?;
            }
        }
        Ok(())
    }

    /// Writes every file of the commit below `dest` (an empty directory), so that tools which read
    /// a directory (helm, kustomize) see exactly the revision, never the working tree. Symbolic
    /// links are written as links; submodules are followed where their commit is in reach, and
    /// left out otherwise (a render that reads one fails on [`GitTree::check_submodules`] before
    /// it runs). Returns the number of files written.
    pub fn write_to(&self, dest: &Path) -> Result<usize, GitError> {
        let tree = self.repo.find_commit(self.commit)?.tree()?;
        let mut entries = Vec::new();
        let mut unavailable = Vec::new();
        self.blobs_below(&tree, "", &mut entries, Some(&mut unavailable))?;
        if !unavailable.is_empty() {
            tracing::debug!(submodules = ?unavailable, "submodules whose commit is not in reach are not written out");
        }
        let io = |path: &Path, source: std::io::Error| GitError::Write {
            rev: self.rev.clone(),
            path: path.display().to_string(),
            source,
        };
        for (relative, id, mode) in &entries {
            let target = dest.join(relative);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            let blob = self.repo.find_blob(*id)?;
            if *mode == 0o120000 {
                // A link is written only if it stays inside the tree: a link to a file outside
                // (`~/.ssh/id_rsa`) would let a template read it into rendered output — and a
                // pull-request bot would post it.
                let link = String::from_utf8_lossy(blob.content()).into_owned();
                let parent = relative.rsplit_once('/').map_or("", |(dir, _)| dir);
                let inside = !link.starts_with('/')
                    && lexical_clean(&Path::new("/root-of-tree").join(parent).join(&link))
                        .starts_with("/root-of-tree");
                if !inside {
                    tracing::warn!(path = %relative, target = %link, "symbolic link leaves the repository; not written for rendering");
                    continue;
                }
                #[cfg(unix)]
                {
                    std::os::unix::fs::symlink(&link, &target).map_err(|e| io(&target, e))?;
                    continue;
                }
            }
            std::fs::write(&target, blob.content()).map_err(|e| io(&target, e))?;
        }
        Ok(entries.len())
    }
}

/// The name `.gitmodules` gives the submodule at `path`.
fn submodule_name(gitmodules: &str, path: &str) -> Option<String> {
    let mut current: Option<String> = None;
    for line in gitmodules.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("[submodule") {
            current = rest
                .trim()
                .trim_end_matches(']')
                .trim()
                .trim_matches('"')
                .to_string()
                .into();
        } else if let Some((key, value)) = line.split_once('=')
            && key.trim() == "path"
            && value.trim().trim_matches('"').trim_end_matches('/') == path
        {
            return current;
        }
    }
    None
}

/// Resolves `.` and `..` in a path without touching the file system.
pub fn lexical_clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_with(files: &[(&str, &str)]) -> (tempfile::TempDir, Repository) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        for (path, text) in files {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
        {
            let mut index = repo.index().unwrap();
            index
                .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
                .unwrap();
            let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
            let sig = git2::Signature::now("t", "t@example.invalid").unwrap();
            repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &[])
                .unwrap();
        }
        (dir, repo)
    }

    #[test]
    fn paths_resolve_against_the_config_directory() {
        let (dir, _repo) = repo_with(&[("deploy/plumb.yaml", "x"), ("envs/a/x.yaml", "a")]);
        let tree = GitTree::open(&dir.path().join("deploy"), "HEAD").unwrap();
        assert_eq!(
            tree.repo_path(&dir.path().join("deploy"), "../envs/a")
                .unwrap(),
            "envs/a"
        );
        assert_eq!(
            tree.repo_path(&dir.path().join("deploy"), "./sub/../x")
                .unwrap(),
            "deploy/x"
        );
        assert!(matches!(
            tree.repo_path(&dir.path().join("deploy"), "../../outside"),
            Err(GitError::OutsideRepository { .. })
        ));
    }

    #[test]
    fn reads_files_and_kinds_from_the_commit() {
        let (dir, _repo) = repo_with(&[
            ("envs/a/x.yaml", "a"),
            ("envs/a/sub/y.yml", "b"),
            ("envs/a/notes.txt", "c"),
        ]);
        let tree = GitTree::open(dir.path(), "HEAD").unwrap();
        assert_eq!(tree.kind_of("envs/a").unwrap(), Some(ObjectType::Tree));
        assert_eq!(
            tree.kind_of("envs/a/x.yaml").unwrap(),
            Some(ObjectType::Blob)
        );
        assert_eq!(tree.kind_of("envs/b").unwrap(), None);
        let files = tree
            .files_under("envs/a", |p| p.ends_with(".yaml") || p.ends_with(".yml"))
            .unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["envs/a/sub/y.yml", "envs/a/x.yaml"]);
        assert_eq!(tree.read("envs/a/x.yaml").unwrap().bytes, b"a");
        // The working tree does not count: an uncommitted file is not there.
        std::fs::write(dir.path().join("envs/a/new.yaml"), "n").unwrap();
        assert_eq!(tree.kind_of("envs/a/new.yaml").unwrap(), None);
    }

    #[cfg(unix)]
    #[test]
    fn the_tree_is_written_out_without_links_that_leave_it() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        std::fs::create_dir_all(dir.path().join("chart/files")).unwrap();
        std::fs::write(dir.path().join("chart/values.yaml"), "a: 1").unwrap();
        std::os::unix::fs::symlink("../values.yaml", dir.path().join("chart/files/in")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("chart/files/abs")).unwrap();
        std::os::unix::fs::symlink("../../../x", dir.path().join("chart/files/up")).unwrap();
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@example.invalid").unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &[])
            .unwrap();
        // The working tree changes after the commit: what is written is the commit.
        std::fs::write(dir.path().join("chart/values.yaml"), "a: 2").unwrap();
        let out = tempfile::tempdir().unwrap();
        let git = GitTree::open(dir.path(), "HEAD").unwrap();
        assert_eq!(git.write_to(out.path()).unwrap(), 4);
        assert_eq!(
            std::fs::read_to_string(out.path().join("chart/files/in")).unwrap(),
            "a: 1"
        );
        assert!(!out.path().join("chart/files/abs").exists());
        assert!(std::fs::symlink_metadata(out.path().join("chart/files/up")).is_err());
    }

    /// A repository with `vendor/sub` a submodule added the way `git submodule add` does (its
    /// repository cloned into `.git/modules/vendor/sub`), holding `deploy/a.yaml`.
    fn repo_with_submodule() -> (tempfile::TempDir, tempfile::TempDir) {
        let (upstream, _) = repo_with(&[("deploy/a.yaml", "kind: ConfigMap\n")]);
        let (dir, repo) = repo_with(&[("top.yaml", "kind: Service\n")]);
        let url = format!("file://{}", upstream.path().display());
        let mut sub = repo.submodule(&url, Path::new("vendor/sub"), true).unwrap();
        sub.clone(None).unwrap();
        sub.add_finalize().unwrap();
        let mut index = repo.index().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@example.invalid").unwrap();
        let head = repo.head().unwrap().peel_to_commit().unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "sub", &tree, &[&head])
            .unwrap();
        assert!(dir.path().join(".git/modules/vendor/sub/objects").is_dir());
        (dir, upstream)
    }

    #[test]
    fn a_submodule_in_reach_is_read_like_a_directory() {
        let (dir, _upstream) = repo_with_submodule();
        // Only the submodule's own store holds its objects.
        let tree = GitTree::open(dir.path(), "HEAD").unwrap();
        assert_eq!(tree.kind_of("vendor/sub").unwrap(), Some(ObjectType::Tree));
        let files = tree.files_under("vendor", |_| true).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["vendor/sub/deploy/a.yaml"]);
        assert_eq!(
            tree.read("vendor/sub/deploy/a.yaml").unwrap().bytes,
            b"kind: ConfigMap\n"
        );
        tree.check_submodules("").unwrap();
        let out = tempfile::tempdir().unwrap();
        tree.write_to(out.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.path().join("vendor/sub/deploy/a.yaml")).unwrap(),
            "kind: ConfigMap\n"
        );
    }

    #[test]
    fn a_submodule_out_of_reach_is_an_error_naming_it_never_skipped() {
        let (dir, upstream) = repo_with_submodule();
        std::fs::remove_dir_all(dir.path().join(".git/modules")).unwrap();
        std::fs::remove_dir_all(dir.path().join("vendor/sub")).unwrap();
        drop(upstream);
        let tree = GitTree::open(dir.path(), "HEAD").unwrap();
        let unavailable = |e: GitError| match e {
            GitError::SubmoduleUnavailable { path, .. } => path,
            other => panic!("{other}"),
        };
        assert_eq!(
            unavailable(tree.files_under("", |_| true).err().unwrap()),
            "vendor/sub"
        );
        assert_eq!(
            unavailable(tree.check_submodules("vendor").unwrap_err()),
            "vendor/sub"
        );
        assert_eq!(
            unavailable(tree.read("vendor/sub/deploy/a.yaml").err().unwrap()),
            "vendor/sub"
        );
        // The rest of the tree is still written out for rendering.
        let out = tempfile::tempdir().unwrap();
        tree.write_to(out.path()).unwrap();
        assert!(out.path().join("top.yaml").is_file());
        assert!(!out.path().join("vendor/sub/deploy").exists());
    }

    #[test]
    fn submodule_names_come_from_gitmodules() {
        let text = "[submodule \"charts\"]\n\tpath = vendor/charts\n\turl = ../charts.git\n";
        assert_eq!(
            submodule_name(text, "vendor/charts").as_deref(),
            Some("charts")
        );
        assert_eq!(submodule_name(text, "other"), None);
    }

    #[test]
    fn unknown_revisions_and_non_repositories_are_errors() {
        let (dir, _repo) = repo_with(&[("a.yaml", "a")]);
        assert!(matches!(
            GitTree::open(dir.path(), "nope"),
            Err(GitError::BadRevision { .. })
        ));
        let plain = tempfile::tempdir().unwrap();
        assert!(matches!(
            GitTree::open(plain.path(), "HEAD"),
            Err(GitError::NoRepository { .. })
        ));
    }
}
