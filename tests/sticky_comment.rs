//! The GitHub Action's sticky pull-request comment (`.github/actions/sticky-comment.py`), run as a
//! workflow runs it, against a local fake of the GitHub REST endpoints it calls
//! (tests/data/fake_github.py: list comments with pagination, create, update, delete; the token
//! checked on every request). The bodies are real plumb Markdown, split into parts by plumb.

mod support;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use support::demo_repo;

const TOKEN: &str = "ghs_test-token";
const REPO: &str = "acme/gitops";
const PR: u64 = 7;
const COMMAND: &str = "parity staging production";
const MARKER: &str = "<!-- plumb:parity:staging,production -->";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The fake API server, stopped when dropped.
struct FakeGitHub {
    child: Child,
    port: u16,
    state: PathBuf,
}

impl FakeGitHub {
    fn start(dir: &Path, seed: &Value) -> FakeGitHub {
        let seed_file = dir.join("seed.json");
        std::fs::write(&seed_file, seed.to_string()).unwrap();
        let state = dir.join("state.json");
        let mut child = Command::new("python3")
            .arg(root().join("tests/data/fake_github.py"))
            .args(["--token", TOKEN, "--repo", REPO, "--page-size", "2"])
            .arg("--state")
            .arg(&state)
            .arg("--seed")
            .arg(&seed_file)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the fake GitHub API (CI installs Python 3)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .expect("the fake server prints its port");
        FakeGitHub { child, port, state }
    }

    fn state(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(&self.state).unwrap()).unwrap()
    }

    /// The comments on one issue, in order, as (id, body).
    fn comments(&self, issue: u64) -> Vec<(u64, String)> {
        self.state()["comments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["issue"] == issue)
            .map(|c| {
                (
                    c["id"].as_u64().unwrap(),
                    c["body"].as_str().unwrap().into(),
                )
            })
            .collect()
    }

    fn requests(&self) -> Vec<(String, String)> {
        self.state()["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                assert_eq!(r["authorized"], true, "{r}");
                (
                    r["method"].as_str().unwrap().into(),
                    r["path"].as_str().unwrap().into(),
                )
            })
            .collect()
    }

    /// The sticky-comment script, as the Action runs it: the token and API URL from the
    /// environment, the pull request from the event file.
    fn run_script(&self, dir: &Path, report: &Path, token: &str) -> std::process::Output {
        let event = dir.join("event.json");
        std::fs::write(&event, json!({"pull_request": {"number": PR}}).to_string()).unwrap();
        Command::new("python3")
            .arg(root().join(".github/actions/sticky-comment.py"))
            .args(["--command", COMMAND])
            .arg(report)
            .env("GITHUB_TOKEN", token)
            .env("GITHUB_API_URL", format!("http://127.0.0.1:{}", self.port))
            .env("GITHUB_REPOSITORY", REPO)
            .env("GITHUB_EVENT_PATH", &event)
            .output()
            .unwrap()
    }

    fn sync(&self, dir: &Path, report: &Path) {
        let output = self.run_script(dir, report, TOKEN);
        assert!(
            output.status.success(),
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// plumb's parity comment at `git_ref`, written by `--report markdown=FILE` (split by plumb when
/// long); returns its parts' texts.
fn plumb_comment(repo: &support::Repo, git_ref: &str, file: &Path, extra: &[&str]) -> Vec<String> {
    let output = repo
        .plumb()
        .args(["parity", "staging", "production", "--ref", git_ref])
        .args(extra)
        .arg(format!("--report=markdown={}", file.display()))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut parts = vec![std::fs::read_to_string(file).unwrap()];
    while let Ok(text) =
        std::fs::read_to_string(file.with_file_name(format!("plumb-{}.md", parts.len() + 1)))
    {
        parts.push(text);
    }
    parts
}

/// Staging and production each with `count` ConfigMaps whose values differ: a comment larger than
/// one pull-request comment can hold.
fn bulk(namespace: &str, value: &str, count: usize) -> String {
    (0..count)
        .map(|i| {
            format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tuning-{i:04}\n  \
                 namespace: {namespace}\ndata:\n  POOL_SIZE: \"{value}{i}\"\n  REGION: {namespace}-{value}-{i}\n"
            )
        })
        .collect()
}

fn marker_of(body: &str) -> &str {
    body.lines().next().unwrap()
}

#[test]
fn one_comment_per_part_created_then_edited_in_place_and_parts_removed_when_shorter() {
    let repo = demo_repo();
    let short_ref = repo.commit("the demo, nothing more");
    repo.write("envs/staging/bulk.yaml", &bulk("shop-staging", "s", 400));
    repo.write("envs/production/bulk.yaml", &bulk("shop", "p", 400));
    let long_ref = repo.commit("many ConfigMaps that differ");

    let dir = tempfile::tempdir().unwrap();
    // Other people's comments, enough for several pages at two a page; another command's plumb
    // comment on this pull request; this command's marker on another pull request.
    let mut seed = vec![];
    for n in 0..3 {
        seed.push(json!({"issue": PR, "body": format!("review comment {n}"), "user": "alice"}));
    }
    seed.push(json!({"issue": PR, "body": "<!-- plumb:audit:all -->\nlast night's audit"}));
    seed.push(
        json!({"issue": PR, "body": "<!-- plumb:parity:staging,production:part-x -->\nnot a part"}),
    );
    seed.push(json!({"issue": 8, "body": format!("{MARKER}\nanother pull request")}));
    let github = FakeGitHub::start(dir.path(), &Value::Array(seed));
    let untouched = |github: &FakeGitHub| -> Vec<(u64, String)> {
        let mut others: Vec<(u64, String)> = github
            .comments(PR)
            .into_iter()
            .filter(|(_, body)| {
                !marker_of(body).starts_with("<!-- plumb:parity:staging,production")
            })
            .collect();
        others.extend(github.comments(8));
        others
    };
    let others = untouched(&github);
    assert_eq!(others.len(), 5);
    let ours = |github: &FakeGitHub| -> Vec<(u64, String)> {
        github
            .comments(PR)
            .into_iter()
            .filter(|(_, body)| {
                let first = marker_of(body);
                first == MARKER
                    || first.starts_with("<!-- plumb:parity:staging,production:part-")
                        && first != "<!-- plumb:parity:staging,production:part-x -->"
            })
            .collect()
    };
    let report = dir.path().join("plumb.md");

    // First run: creates the one comment, marker first, then plumb's text as written.
    let first = plumb_comment(&repo, &short_ref, &report, &[]);
    assert_eq!(first.len(), 1);
    github.sync(dir.path(), &report);
    let created = ours(&github);
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0].1, format!("{MARKER}\n{}", first[0]));
    // Every page of the listing was read (6 comments at 2 a page), following the Link header.
    let requests = github.requests();
    assert!(
        requests
            .iter()
            .any(|(m, p)| m == "GET" && p.contains("page=3")),
        "{requests:?}"
    );
    assert_eq!(requests.iter().filter(|(m, _)| m == "POST").count(), 1);

    // Second run, another text: the same comment edited, none added.
    let second = plumb_comment(&repo, &short_ref, &report, &["--show", "expected"]);
    assert_ne!(second, first);
    let before = github.requests().len();
    github.sync(dir.path(), &report);
    let edited = ours(&github);
    assert_eq!(edited.len(), 1);
    assert_eq!(edited[0].0, created[0].0);
    assert_eq!(edited[0].1, format!("{MARKER}\n{}", second[0]));
    let run: Vec<String> = github.requests()[before..]
        .iter()
        .map(|(m, _)| m.clone())
        .collect();
    assert!(!run.contains(&"POST".into()), "{run:?}");
    assert_eq!(run.iter().filter(|m| *m == "PATCH").count(), 1, "{run:?}");

    // A long report: plumb splits it; part 1 stays the same comment, every later part is its own
    // comment with its own marker, each under GitHub's limit.
    let long = plumb_comment(&repo, &long_ref, &report, &[]);
    assert!(long.len() >= 2, "{} part(s)", long.len());
    github.sync(dir.path(), &report);
    let parts = ours(&github);
    assert_eq!(
        parts.len(),
        long.len(),
        "{:?}",
        parts.iter().map(|p| p.0).collect::<Vec<_>>()
    );
    assert_eq!(parts[0].0, created[0].0);
    for (n, ((_, body), text)) in parts.iter().zip(&long).enumerate() {
        let marker = if n == 0 {
            MARKER.to_string()
        } else {
            format!("<!-- plumb:parity:staging,production:part-{} -->", n + 1)
        };
        assert_eq!(*body, format!("{marker}\n{text}"));
        assert!(body.chars().count() <= 65_536);
    }
    // Run again with the same report: nothing to change, nothing written.
    let before = github.requests().len();
    github.sync(dir.path(), &report);
    assert!(
        github.requests()[before..].iter().all(|(m, _)| m == "GET"),
        "{:?}",
        &github.requests()[before..]
    );
    assert_eq!(ours(&github), parts);

    // Shorter again: plumb removes plumb-2.md…; the extra parts' comments are deleted, part 1
    // edited in place.
    let short = plumb_comment(&repo, &short_ref, &report, &[]);
    assert_eq!(short.len(), 1);
    github.sync(dir.path(), &report);
    let after = ours(&github);
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].0, created[0].0);
    assert_eq!(after[0].1, format!("{MARKER}\n{}", short[0]));
    let deletes = github
        .requests()
        .iter()
        .filter(|(m, _)| m == "DELETE")
        .count();
    assert_eq!(deletes, long.len() - 1);

    // Other comments, the other command's and the other pull request's, never touched.
    assert_eq!(untouched(&github), others);
}

#[test]
fn a_refused_token_fails_the_step_and_changes_nothing() {
    let repo = demo_repo();
    let dir = tempfile::tempdir().unwrap();
    let seed = json!([{"issue": PR, "body": format!("{MARKER}\nold")}]);
    let github = FakeGitHub::start(dir.path(), &seed);
    let report = dir.path().join("plumb.md");
    plumb_comment(&repo, "HEAD", &report, &[]);
    let output = github.run_script(dir.path(), &report, "wrong-token");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("401") && stderr.contains("Bad credentials"),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-token"), "{stderr}");
    assert_eq!(github.comments(PR), vec![(1007, format!("{MARKER}\nold"))]);

    // No report file: bad input, exit 2, saying how to make one.
    let output = github.run_script(dir.path(), &dir.path().join("none.md"), TOKEN);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--report markdown="),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
