//! Reading desired state from a Git revision, never from the working tree: `--ref v1.2.3` audits
//! exactly what that tag holds, whatever is checked out.

use super::ManifestFile;
use crate::limits::{MAX_FILES_PER_SOURCE, MAX_MANIFEST_BYTES};
use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(
        "{path} is not inside a Git repository: {message}\n  help: plumb reads desired state from Git; run `git init` and commit the manifests, or use `plumb compare` for plain directories"
    )]
    NoRepository { path: String, message: String },
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
}

impl GitTree {
    /// Opens the repository that contains `dir` and resolves `rev` in it.
    pub fn open(dir: &Path, rev: &str) -> Result<GitTree, GitError> {
        // plumb only reads its own local object store; re-hashing every blob on read costs a tenth
        // of a large run and guards against nothing a read-only audit needs.
        git2::opts::strict_hash_verification(false);
        let repo = Repository::discover(dir).map_err(|e| GitError::NoRepository {
            path: dir.display().to_string(),
            message: e.message().to_string(),
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
        })
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

    /// What is at `path` in the commit: a file, a directory, or nothing.
    pub fn kind_of(&self, path: &str) -> Result<Option<ObjectType>, GitError> {
        let tree = self.repo.find_commit(self.commit)?.tree()?;
        if path.is_empty() {
            return Ok(Some(ObjectType::Tree));
        }
        match tree.get_path(Path::new(path)) {
            Ok(entry) => Ok(entry.kind()),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Every file under `dir` (recursively) whose path `keep` accepts, in path order.
    pub fn files_under(
        &self,
        dir: &str,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Vec<ManifestFile>, GitError> {
        let commit_tree = self.repo.find_commit(self.commit)?.tree()?;
        let tree = if dir.is_empty() {
            commit_tree
        } else {
            commit_tree
                .get_path(Path::new(dir))?
                .to_object(&self.repo)?
                .peel_to_tree()?
        };
        let mut ids = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |root, entry| {
            if entry.kind() == Some(ObjectType::Blob)
                && let Ok(name) = entry.name()
            {
                let path = if dir.is_empty() {
                    format!("{root}{name}")
                } else {
                    format!("{dir}/{root}{name}")
                };
                if keep(&path) {
                    ids.push((path, entry.id()));
                }
            }
            TreeWalkResult::Ok
        })?;
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
        let tree = self.repo.find_commit(self.commit)?.tree()?;
        let entry = tree.get_path(Path::new(path))?;
        if entry.kind() != Some(ObjectType::Blob) {
            // As before: peeling a tree to a blob fails with Git's own message.
            entry.to_object(&self.repo)?.peel_to_blob()?;
        }
        Ok(ManifestFile {
            path: path.to_string(),
            bytes: self.blob_bytes(path, entry.id())?,
        })
    }
}

impl GitTree {
    /// The object id of what is at `path` in the commit (a blob's or a tree's), or none. Render
    /// cache keys are made of these: a tree id changes whenever anything below it does.
    pub fn object_id(&self, path: &str) -> Result<Option<(ObjectType, Oid)>, GitError> {
        let tree = self.repo.find_commit(self.commit)?.tree()?;
        if path.is_empty() {
            return Ok(Some((ObjectType::Tree, tree.id())));
        }
        match tree.get_path(Path::new(path)) {
            Ok(entry) => Ok(entry.kind().map(|kind| (kind, entry.id()))),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes every file of the commit below `dest` (an empty directory), so that tools which read
    /// a directory (helm, kustomize) see exactly the revision, never the working tree. Symbolic
    /// links are written as links; submodules are left out. Returns the number of files written.
    pub fn write_to(&self, dest: &Path) -> Result<usize, GitError> {
        let tree = self.repo.find_commit(self.commit)?.tree()?;
        let mut entries = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |root, entry| {
            if entry.kind() == Some(ObjectType::Blob)
                && let Ok(name) = entry.name()
            {
                entries.push((format!("{root}{name}"), entry.id(), entry.filemode()));
            }
            TreeWalkResult::Ok
        })?;
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
