//! Test support: real Git repositories in temporary directories, and the real plumb binary.
#![allow(dead_code)]

pub mod browser;
pub mod chart_repo;
pub mod fake_apiserver;
pub mod pinned;
pub mod python;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// A Git repository in a temporary directory, committed to with libgit2 (as a user's would be).
pub struct Repo {
    pub dir: tempfile::TempDir,
    repo: git2::Repository,
}

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = git2::Repository::init(dir.path()).expect("git init");
        Repo { dir, repo }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, relative: &str, text: &str) -> &Self {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    pub fn remove(&self, relative: &str) -> &Self {
        std::fs::remove_file(self.dir.path().join(relative)).unwrap();
        self
    }

    /// Commits the whole working tree; returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        let mut index = self.repo.index().unwrap();
        index
            .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.update_all(["*"].iter(), None).unwrap();
        index.write().unwrap();
        let tree = self.repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("test", "test@example.invalid").unwrap();
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .unwrap()
            .to_string()
    }

    /// Commits the whole working tree with committer (and author) time `seconds` since the epoch
    /// (histories with dates relative to now); returns the commit id.
    pub fn commit_at(&self, message: &str, seconds: i64) -> String {
        let mut index = self.repo.index().unwrap();
        index
            .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.update_all(["*"].iter(), None).unwrap();
        index.write().unwrap();
        let tree = self.repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig =
            git2::Signature::new("test", "test@example.invalid", &git2::Time::new(seconds, 0))
                .unwrap();
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .unwrap()
            .to_string()
    }

    pub fn tag(&self, name: &str) {
        let head = self.repo.head().unwrap().peel_to_commit().unwrap();
        self.repo
            .tag_lightweight(name, head.as_object(), false)
            .unwrap();
    }

    /// Runs plumb here with `args`, expects exit `code` (showing stderr if not), and returns the
    /// JSON report it printed (`args` ask for `-f json`).
    pub fn report(&self, args: &[&str], code: i32) -> serde_json::Value {
        let output = self.plumb().args(args).output().expect("plumb runs");
        assert_eq!(
            output.status.code(),
            Some(code),
            "plumb {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout_json(&output)
    }

    /// The plumb binary, run in this repository, with a render cache of its own inside `.git`
    /// (never the user's cache, and removed with the repository).
    pub fn plumb(&self) -> Command {
        let mut cmd = plumb();
        cmd.current_dir(self.path())
            .env("PLUMB_CACHE_DIR", self.cache_dir());
        cmd
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.path().join(".git/plumb-cache")
    }

    /// Copies every file below `from` into the working tree at `to` (bytes as they are).
    pub fn copy_dir(&self, from: &Path, to: &str) -> &Self {
        for file in walk(from) {
            let relative = file.strip_prefix(from).unwrap();
            let target = self.dir.path().join(to).join(relative);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(&target, std::fs::read(&file).unwrap()).unwrap();
        }
        self
    }
}

/// The plumb binary with a fixed fingerprint key and no colours.
pub fn plumb() -> Command {
    let mut cmd = Command::cargo_bin("plumb").expect("plumb binary");
    cmd.env("PLUMB_FINGERPRINT_KEY", "test-key")
        .env("NO_COLOR", "1")
        .env_remove("CI");
    cmd
}

pub fn stdout_json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// One line per finding, as `line` writes it, sorted: for exact comparisons.
pub fn sorted_findings(
    report: &serde_json::Value,
    line: impl Fn(&serde_json::Value) -> String,
) -> Vec<String> {
    let mut lines: Vec<String> = report["findings"]
        .as_array()
        .expect("a report has findings")
        .iter()
        .map(line)
        .collect();
    lines.sort();
    lines
}

/// One string field of every entry of a report's list (`report["errors"]`, `report["findings"]`).
pub fn texts_of<'a>(list: &'a serde_json::Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .expect("a report list")
        .iter()
        .map(|entry| entry[field].as_str().expect("a string field"))
        .collect()
}

/// A string field of a finding, `-` when it is null.
pub fn text<'a>(finding: &'a serde_json::Value, field: &str) -> &'a str {
    finding[field].as_str().unwrap_or("-")
}

/// `kind name path` for each finding, sorted, for exact comparisons.
pub fn finding_lines(report: &serde_json::Value) -> Vec<String> {
    sorted_findings(report, |f| {
        format!(
            "{} {}/{} {}",
            text(f, "kind"),
            text(&f["resource"], "kind"),
            text(&f["resource"], "name"),
            text(f, "path")
        )
    })
}

/// A pinned render tool installed by `scripts/install-tools` (`PLUMB_TEST_<NAME>` overrides the
/// location). A missing tool fails the test: render tests never skip.
pub fn tool(name: &str) -> PathBuf {
    let (variable, default) = match name {
        "helm4" => ("PLUMB_TEST_HELM4", ".tools/bin/helm"),
        "helm3" => ("PLUMB_TEST_HELM3", ".tools/helm3/bin/helm"),
        "kubectl" => ("PLUMB_TEST_KUBECTL", ".tools/bin/kubectl"),
        other => panic!("unknown tool {other}"),
    };
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(default));
    assert!(
        path.is_file(),
        "{} is missing: run scripts/install-tools (scripts/test does), or set {variable}",
        path.display()
    );
    path
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A Git repository holding a copy of the demo (the demo's desired state is read from Git), with
/// the history its promotion order reads: staging first ran api 1.8.0 — what production runs —
/// then moved on to 1.9.0, as in this repository's own history.
pub fn demo_repo() -> Repo {
    let repo = Repo::new();
    let demo = fixtures().join("demo");
    let api = "envs/staging/api.yaml";
    for entry in walk(&demo) {
        let relative = entry
            .strip_prefix(&demo)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&entry).unwrap();
        repo.write(&relative, &text);
        if relative == api {
            repo.write(api, &text.replace("shop-api:1.9.0", "shop-api:1.8.0"));
        }
    }
    repo.commit("demo: staging runs api 1.8.0");
    repo.write(api, &std::fs::read_to_string(demo.join(api)).unwrap());
    repo.commit("demo: staging runs api 1.9.0");
    repo
}

/// The line number of the one line of `file` in the repository that holds `needle`.
pub fn line_holding(repo: &Repo, file: &str, needle: &str) -> u64 {
    let text = std::fs::read_to_string(repo.path().join(file)).unwrap();
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 1, "{file}: {needle} on lines {lines:?}");
    lines[0] as u64
}

/// Every file below a directory.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Writes an executable shell script `name` in `dir` that runs `body`.
pub fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A wrapper `name` in `dir` around the real tool `real` that logs `name <first argument>`
/// (`helm template`, `kubectl kustomize`) to `log` before running it: tests count tool runs.
pub fn counting_tool(dir: &Path, name: &str, real: &Path, log: &Path) -> PathBuf {
    write_script(
        dir,
        name,
        &format!(
            "echo \"{name} $1\" >> {}\nexec {} \"$@\"\n",
            log.display(),
            real.display()
        ),
    )
}

/// Counting wrappers around the pinned helm 4 and kubectl in `dir`, and the `calls.log` beside
/// them: `(helm, kubectl, log)`.
pub fn counting_tools(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let log = dir.join("calls.log");
    (
        counting_tool(dir, "helm", &tool("helm4"), &log),
        counting_tool(dir, "kubectl", &tool("kubectl"), &log),
        log,
    )
}

/// The runs a counting wrapper logged, in order.
pub fn tool_calls(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}
