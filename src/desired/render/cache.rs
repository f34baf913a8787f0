//! The render cache: rendered output stored under a key made of everything the render reads.
//!
//! Rendering dominates a run over a GitOps repository, and most runs (a nightly audit, a bot on
//! every pull request) render mostly unchanged inputs. A key is a SHA-256 over the tool and its
//! version, the render's arguments, and the Git object ids of the directories and files it reads,
//! so an entry can never be stale: any change to an input is a different key. Entries are never
//! updated in place, only added (written to a temporary file and renamed, so concurrent runs
//! never see half an entry). Failed renders are never stored.
//!
//! Location: `PLUMB_CACHE_DIR`, else `$XDG_CACHE_HOME/plumb`, else `~/.cache/plumb`. Rendered
//! output holds what the repository holds (Secrets included), and what an entry says is what plumb
//! compares, so the directory must be this user's alone: it is created (or its mode corrected)
//! `0700`, and a directory another user owns is not used at all — the run renders without a
//! cache, with one warning, since a render must never fail because of its cache. Each entry
//! carries the SHA-256 of its payload; one that does not match (a disk error, a half-copied
//! cache, an edit) is a miss and is rendered again. Any error reading or writing the cache only
//! costs a re-render.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// One rendered file, as cached.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CachedFile {
    pub path: String,
    pub text: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    version: u32,
    files: Vec<CachedFile>,
}

/// Version 2: entries start with the digest of their payload.
const ENTRY_VERSION: u32 = 2;

/// The cache directory, or none (disabled by `--no-cache`, or no home to put it in).
#[derive(Debug, Clone)]
pub struct Cache {
    dir: Option<PathBuf>,
}

impl Cache {
    /// The cache in `dir` (the run's settings resolve it); none (`--no-cache`) neither reads nor
    /// writes one, and neither does a directory that is not safe to use.
    pub fn new(dir: Option<PathBuf>) -> Cache {
        Cache {
            dir: dir.filter(|dir| usable(dir)),
        }
    }

    /// A cache in a given directory (tests), checked as [`Cache::new`] checks it.
    pub fn at(dir: &Path) -> Cache {
        Cache {
            dir: Some(dir.to_path_buf()).filter(|d| usable(d)),
        }
    }

    pub fn enabled(&self) -> bool {
        self.dir.is_some()
    }

    /// A render's stored output.
    pub fn get(&self, key: &Key) -> Option<Vec<CachedFile>> {
        let path = self.entry_path("renders", &key.0, "json")?;
        let payload = read_entry(&path)?;
        let entry: Entry = serde_json::from_slice(&payload).ok()?;
        (entry.version == ENTRY_VERSION).then_some(entry.files)
    }

    /// Stores a render's output; failures are logged and otherwise ignored.
    pub fn put(&self, key: &Key, files: &[CachedFile]) {
        let Some(path) = self.entry_path("renders", &key.0, "json") else {
            return;
        };
        let entry = Entry {
            version: ENTRY_VERSION,
            files: files.to_vec(),
        };
        match serde_json::to_vec(&entry) {
            Ok(bytes) => self.write(&path, &bytes),
            Err(e) => tracing::debug!(error = %e, "render cache: cannot encode entry"),
        }
    }

    /// A stored file of `kind` other than a render (a pulled chart archive, a chart repository's
    /// index), checked against its digest like every entry.
    pub fn read(&self, kind: &str, key: &Key) -> Option<Vec<u8>> {
        read_entry(&self.entry_path(kind, &key.0, "bin")?)
    }

    /// Stores a file of `kind`; failures are logged and otherwise ignored (it is fetched again).
    pub fn store(&self, kind: &str, key: &Key, bytes: &[u8]) {
        if let Some(path) = self.entry_path(kind, &key.0, "bin") {
            self.write(&path, bytes);
        }
    }

    /// A tool's version, by the identity of its binary.
    pub fn tool_version(&self, identity: &str) -> Option<String> {
        let path = self.entry_path("tools", &hash(identity.as_bytes()), "txt")?;
        let text = String::from_utf8(read_entry(&path)?).ok()?;
        let (stored_identity, version) = text.split_once("\n=\n")?;
        (stored_identity == identity).then(|| version.to_string())
    }

    pub fn store_tool_version(&self, identity: &str, version: &str) {
        if let Some(path) = self.entry_path("tools", &hash(identity.as_bytes()), "txt") {
            self.write(&path, format!("{identity}\n=\n{version}").as_bytes());
        }
    }

    fn entry_path(&self, kind: &str, key: &str, ext: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(dir.join(kind).join(&key[..2]).join(format!("{key}.{ext}")))
    }

    fn write(&self, path: &Path, bytes: &[u8]) {
        let result = (|| -> std::io::Result<()> {
            if let Some(root) = &self.dir
                && !root.exists()
            {
                create_private_dir(root)?;
            }
            let parent = path.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(parent)?;
            let mut temp = tempfile::NamedTempFile::new_in(parent)?;
            std::io::Write::write_all(&mut temp, format!("{}\n", hash(bytes)).as_bytes())?;
            std::io::Write::write_all(&mut temp, bytes)?;
            temp.persist(path).map_err(|e| e.error)?;
            Ok(())
        })();
        if let Err(e) = result {
            tracing::debug!(path = %path.display(), error = %e, "render cache: cannot write");
        }
    }
}

/// An entry's payload, if the entry is there and its digest (its first line) matches the rest.
fn read_entry(path: &Path) -> Option<Vec<u8>> {
    let mut bytes = std::fs::read(path).ok()?;
    let newline = memchr::memchr(b'\n', &bytes);
    let intact = newline.is_some_and(|at| bytes[..at] == *hash(&bytes[at + 1..]).as_bytes());
    if !intact {
        tracing::warn!(path = %path.display(), "render cache: an entry does not match its digest; ignoring it and rendering again");
        return None;
    }
    let at = newline?;
    bytes.drain(..=at);
    Some(bytes)
}

/// Whether `dir` can hold this user's cache: absent (created `0700` on first write), or a
/// directory this user owns — whose mode is then made `0700` if it was more open. Another user's
/// directory is refused with a warning: whoever owns it could read the rendered Secrets and
/// plant entries that plumb would compare as the truth.
fn usable(dir: &Path) -> bool {
    let meta = match std::fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return true,
        Err(e) => {
            tracing::warn!(path = %dir.display(), error = %e, "render cache: cannot use the directory; rendering without a cache");
            return false;
        }
    };
    if !meta.is_dir() {
        tracing::warn!(path = %dir.display(), "render cache: not a directory; rendering without a cache");
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // SAFETY: geteuid(2) has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            tracing::warn!(
                path = %dir.display(),
                owner = meta.uid(),
                "render cache: the directory belongs to another user; rendering without a cache \
                 (point PLUMB_CACHE_DIR at a directory of your own)"
            );
            return false;
        }
        if meta.mode() & 0o077 != 0 {
            if let Err(e) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)) {
                tracing::warn!(path = %dir.display(), error = %e, "render cache: others can reach the directory and its mode cannot be fixed; rendering without a cache");
                return false;
            }
            tracing::info!(path = %dir.display(), "render cache: made the directory private (0700)");
        }
    }
    true
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// A render's cache key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

/// Builds a key from labelled parts; each part is length-prefixed so no two different inputs
/// can run together into the same bytes.
#[derive(Default)]
pub struct KeyBuilder {
    hasher: Sha256,
}

impl KeyBuilder {
    /// A key for a render of `kind`. plumb's own version is part of every key: how plumb reads a
    /// tool's output (origins, file names) may change between versions, and an entry holds the
    /// output as read.
    pub fn new(kind: &str) -> KeyBuilder {
        let mut builder = KeyBuilder::default();
        builder.part(
            "plumb-render",
            &format!("{ENTRY_VERSION}:{}:{kind}", env!("CARGO_PKG_VERSION")),
        );
        builder
    }

    pub fn part(&mut self, label: &str, value: &str) -> &mut Self {
        for piece in [label, value] {
            self.hasher.update((piece.len() as u64).to_le_bytes());
            self.hasher.update(piece.as_bytes());
        }
        self
    }

    pub fn finish(self) -> Key {
        Key(hex::encode(self.hasher.finalize()))
    }
}

fn hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(parts: &[(&str, &str)]) -> Key {
        let mut b = KeyBuilder::new("helm");
        for (l, v) in parts {
            b.part(l, v);
        }
        b.finish()
    }

    #[test]
    fn keys_separate_their_parts() {
        assert_ne!(key(&[("a", "bc")]), key(&[("ab", "c")]));
        assert_eq!(key(&[("a", "b")]), key(&[("a", "b")]));
    }

    #[test]
    fn stores_and_reads_entries_and_versions() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(&dir.path().join("c"));
        let k = key(&[("x", "1")]);
        assert_eq!(cache.get(&k), None);
        let files = vec![CachedFile {
            path: "a/b.yaml".into(),
            text: "kind: X".into(),
        }];
        cache.put(&k, &files);
        assert_eq!(cache.get(&k), Some(files));
        assert_eq!(cache.tool_version("helm\n/x\n1\n2"), None);
        cache.store_tool_version("helm\n/x\n1\n2", "v4.1.4");
        assert_eq!(
            cache.tool_version("helm\n/x\n1\n2").as_deref(),
            Some("v4.1.4")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("c"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }

    #[test]
    fn a_tampered_or_truncated_entry_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path());
        let k = key(&[("x", "2")]);
        let files = vec![CachedFile {
            path: "a.yaml".into(),
            text: "kind: Secret\ndata: {a: b}\n".into(),
        }];
        cache.put(&k, &files);
        assert_eq!(cache.get(&k), Some(files));
        let path = cache.entry_path("renders", &k.0, "json").unwrap();
        let stored = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, stored.replace("{a: b}", "{a: c}")).unwrap();
        assert_eq!(cache.get(&k), None);
        std::fs::write(&path, &stored[..stored.len() - 3]).unwrap();
        assert_eq!(cache.get(&k), None);
        std::fs::write(&path, "").unwrap();
        assert_eq!(cache.get(&k), None);
    }

    #[cfg(unix)]
    #[test]
    fn an_open_directory_of_ours_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("c");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(Cache::at(&open).enabled());
        let mode = std::fs::metadata(&open).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[cfg(unix)]
    #[test]
    fn another_users_directory_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: geteuid(2) has no preconditions.
        let theirs = if unsafe { libc::geteuid() } == 0 {
            // As root: a directory given to `nobody`.
            let theirs = dir.path().join("theirs");
            std::fs::create_dir(&theirs).unwrap();
            std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
            theirs
        } else {
            // As anyone else: root's `/`.
            PathBuf::from("/")
        };
        let cache = Cache::at(&theirs);
        assert!(!cache.enabled());
        let k = key(&[]);
        cache.put(&k, &[]);
        assert_eq!(cache.get(&k), None);
    }

    #[test]
    fn a_disabled_cache_reads_and_writes_nothing() {
        let cache = Cache { dir: None };
        let k = key(&[]);
        cache.put(&k, &[]);
        assert_eq!(cache.get(&k), None);
        assert!(!cache.enabled());
    }
}
