//! Sharded audits (docs/scale.md): `plumb audit --shard I/N` parts merged by `plumb merge` give the
//! report one run gives — the same JSON, the same exit code — for any shard count and any order of
//! parts; parts that do not belong together are refused, a missing part is named and makes the
//! result incomplete, and a shard reads only the environments its units need.
//!
//! The only fields compared away are `generated_at` (the time the report was written: the merge
//! writes later than the single run, as two single runs would). Nothing else of the JSON report
//! depends on the run: durations go to metrics only, and the repository, commit and tools are the
//! same on one machine.

mod support;

use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use support::{Repo, demo_repo, fixtures};

fn estate_repo() -> Repo {
    let repo = Repo::new();
    repo.copy_dir(&fixtures().join("estate"), "");
    repo.commit("the estate");
    repo
}

/// The report with its per-run fields removed (see the module's doc).
fn comparable(mut report: Value) -> Value {
    report.as_object_mut().unwrap().remove("generated_at");
    report
}

/// Runs `plumb audit -o json` whole: its exit code and report.
fn single(repo: &Repo) -> (i32, Value) {
    let out = repo.plumb().args(["audit", "-o", "json"]).output().unwrap();
    (out.status.code().unwrap(), support::stdout_json(&out))
}

/// Writes shard `index` of `count` into `dir`, expecting exit 0; its path.
fn part(repo: &Repo, dir: &Path, index: u32, count: u32) -> PathBuf {
    let file = dir.join(format!("part-{index}-of-{count}.json"));
    let out = repo
        .plumb()
        .args(["audit", "--shard", &format!("{index}/{count}"), "--report"])
        .arg(format!("json={}", file.display()))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "shard {index}/{count}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    file
}

/// `plumb merge -o json` of `parts`: exit code, report, stderr.
fn merge(repo: &Repo, parts: &[PathBuf]) -> (i32, Value, String) {
    let out = repo
        .plumb()
        .args(["merge", "-o", "json"])
        .args(parts)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), report, stderr)
}

fn assert_merge_equals_single(repo: &Repo, counts: &[u32]) {
    let (code, whole) = single(repo);
    assert!(
        whole["findings"].as_array().unwrap().len() > 3,
        "the fixture has findings to shard"
    );
    let dir = tempfile::tempdir().unwrap();
    for &count in counts {
        let parts: Vec<PathBuf> = (1..=count)
            .map(|i| part(repo, dir.path(), i, count))
            .collect();
        let (merged_code, merged, stderr) = merge(repo, &parts);
        assert_eq!(merged_code, code, "N = {count}: {stderr}");
        assert_eq!(
            comparable(merged),
            comparable(whole.clone()),
            "N = {count}: the merged report differs from the single run's"
        );
    }
}

#[test]
fn merged_parts_equal_the_single_run_on_the_estate() {
    assert_merge_equals_single(&estate_repo(), &[1, 2, 3, 7]);
}

#[test]
fn merged_parts_equal_the_single_run_on_the_demo() {
    assert_merge_equals_single(&demo_repo(), &[1, 2, 3, 7]);
}

/// Every format comes from the merged report as from a single run's (the table, here).
#[test]
fn a_merge_writes_the_table_a_single_run_writes() {
    let repo = estate_repo();
    let whole = repo.plumb().args(["audit"]).output().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let parts: Vec<PathBuf> = (1..=3).map(|i| part(&repo, dir.path(), i, 3)).collect();
    let merged = repo.plumb().arg("merge").args(&parts).output().unwrap();
    assert_eq!(merged.status.code(), whole.status.code());
    assert_eq!(
        String::from_utf8_lossy(&merged.stdout),
        String::from_utf8_lossy(&whole.stdout)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5, ..ProptestConfig::default() })]

    /// Any shard count, parts in any order: the single run's report.
    #[test]
    fn any_count_in_any_order_merges_to_the_single_run(count in 1u32..=9, seed in any::<u64>()) {
        let repo = estate_repo();
        let (code, whole) = single(&repo);
        let dir = tempfile::tempdir().unwrap();
        let mut parts: Vec<PathBuf> = (1..=count).map(|i| part(&repo, dir.path(), i, count)).collect();
        // A Fisher–Yates shuffle driven by the seed.
        let mut state = seed;
        for i in (1..parts.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            parts.swap(i, (state >> 33) as usize % (i + 1));
        }
        let (merged_code, merged, stderr) = merge(&repo, &parts);
        prop_assert_eq!(merged_code, code, "{}", stderr);
        prop_assert_eq!(comparable(merged), comparable(whole));
    }
}

#[test]
fn parts_of_other_commits_keys_or_counts_are_refused_naming_both_files() {
    let repo = estate_repo();
    let dir = tempfile::tempdir().unwrap();
    let first = part(&repo, dir.path(), 1, 2);
    let second = part(&repo, dir.path(), 2, 2);

    // Another key.
    let other_key = dir.path().join("other-key.json");
    let out = repo
        .plumb()
        .env("PLUMB_FINGERPRINT_KEY", "another-key")
        .args(["audit", "--shard", "2/2", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    std::fs::write(&other_key, &out.stdout).unwrap();
    let (code, _, stderr) = merge(&repo, &[first.clone(), other_key.clone()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("fingerprint key ids"), "{stderr}");
    assert!(stderr.contains("other-key.json") && stderr.contains("part-1-of-2.json"));
    assert!(
        !stderr.contains("another-key"),
        "the key itself is never shown"
    );

    // Another count.
    let third_of_three = part(&repo, dir.path(), 3, 3);
    let (code, _, stderr) = merge(&repo, &[first.clone(), third_of_three]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("shard counts"), "{stderr}");

    // Another policy file: the config digest.
    let policy = repo.path().join("policies/estate.yaml");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, format!("{text}\n# changed\n")).unwrap();
    let changed = dir.path().join("changed.json");
    let out = repo
        .plumb()
        .args(["audit", "--shard", "2/2", "-o", "json"])
        .output()
        .unwrap();
    std::fs::write(&changed, &out.stdout).unwrap();
    let (code, _, stderr) = merge(&repo, &[first.clone(), changed]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("config digests"), "{stderr}");

    std::fs::write(&policy, text).unwrap();
    let (code, _, stderr) = merge(&repo, &[first.clone(), second]);
    assert_ne!(code, 2, "the parts that belong together merge: {stderr}");

    // Another commit (the same plumb.yaml: only the commit differs).
    repo.write(
        "envs/dev/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata: {a: b}\n",
    );
    repo.commit("another commit");
    let later = dir.path().join("later.json");
    let out = repo
        .plumb()
        .args(["audit", "--shard", "2/2", "-o", "json"])
        .output()
        .unwrap();
    std::fs::write(&later, &out.stdout).unwrap();
    let (code, _, stderr) = merge(&repo, &[first, later]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("commits"), "{stderr}");
}

#[test]
fn a_missing_part_is_named_and_makes_the_merge_incomplete() {
    let repo = estate_repo();
    let dir = tempfile::tempdir().unwrap();
    let first = part(&repo, dir.path(), 1, 3);
    let third = part(&repo, dir.path(), 3, 3);
    let (code, report, stderr) = merge(&repo, &[first, third]);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(report["summary"]["complete"], false);
    let errors: Vec<&Value> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "shard")
        .collect();
    assert!(!errors.is_empty());
    for error in errors {
        assert_eq!(error["source"], "part 2 of 3");
        assert!(error["message"].as_str().unwrap().contains("part 2 of 3"));
    }
    // Under --fail-on never too: an incomplete merge is never clean.
    let out = repo
        .plumb()
        .args(["merge", "--fail-on", "never"])
        .arg(dir.path().join("part-1-of-3.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn a_duplicate_part_is_refused_naming_both_files() {
    let repo = estate_repo();
    let dir = tempfile::tempdir().unwrap();
    let first = part(&repo, dir.path(), 1, 2);
    let copy = dir.path().join("copy.json");
    std::fs::copy(&first, &copy).unwrap();
    let second = part(&repo, dir.path(), 2, 2);
    let (code, _, stderr) = merge(&repo, &[first, second, copy]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("both part 1 of 2"), "{stderr}");
    assert!(stderr.contains("copy.json") && stderr.contains("part-1-of-2.json"));
}

#[test]
fn a_shard_needs_a_fixed_fingerprint_key_and_writes_only_json() {
    let repo = estate_repo();
    let out = repo
        .plumb()
        .env_remove("PLUMB_FINGERPRINT_KEY")
        .args(["audit", "--shard", "1/2", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PLUMB_FINGERPRINT_KEY"));
    assert!(out.stdout.is_empty());
    for args in [
        &["audit", "--shard", "1/2"][..],
        &["audit", "--shard", "1/2", "-o", "sarif"],
        &["audit", "--shard", "3/2", "-o", "json"],
        &["audit", "--shard", "0/2", "-o", "json"],
    ] {
        let out = repo.plumb().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn a_job_completion_index_is_the_zero_based_shard() {
    let repo = estate_repo();
    let dir = tempfile::tempdir().unwrap();
    let by_flag: Value =
        serde_json::from_slice(&std::fs::read(part(&repo, dir.path(), 2, 3)).unwrap()).unwrap();
    let out = repo
        .plumb()
        .env("JOB_COMPLETION_INDEX", "1")
        .env("PLUMB_SHARD_COUNT", "3")
        .args(["audit", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let by_index = support::stdout_json(&out);
    assert_eq!(by_index["shard"]["index"], 2);
    assert_eq!(by_index["shard"], by_flag["shard"]);
    assert_eq!(by_index["findings"], by_flag["findings"]);
    // PLUMB_SHARD_COUNT without an index is a mistake, said so.
    let out = repo
        .plumb()
        .env("PLUMB_SHARD_COUNT", "3")
        .args(["audit", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("JOB_COMPLETION_INDEX"));
}

/// prod-us gets a cluster (a fake API server that counts requests): the shards that own its
/// drift or checks read it; the others — parity of prod-us included, which reads desired state
/// only — never send it a request. The merge still equals the single run.
#[test]
fn a_shard_reads_only_the_environments_its_units_need() {
    use support::fake_apiserver::{FakeApiServer, Switches, kubeconfig};
    let repo = estate_repo();
    let config = repo.path().join("plumb.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "    sources: [{manifests: envs/prod-us}]\n",
            "    sources: [{manifests: envs/prod-us}]\n    live: {context: prod-us}\n",
        ),
    )
    .unwrap();
    repo.commit("prod-us has a cluster");
    let cluster = FakeApiServer::start(Vec::new(), Switches::default());
    let kubeconfig_file = repo.path().join(".git/kubeconfig");
    std::fs::write(&kubeconfig_file, kubeconfig(&[("prod-us", &cluster.url())])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let count = 3;
    let (mut owners, mut others) = (0, 0);
    let mut parts = Vec::new();
    for index in 1..=count {
        let before = cluster.requests().len();
        let file = dir.path().join(format!("{index}.json"));
        let out = repo
            .plumb()
            .env("KUBECONFIG", &kubeconfig_file)
            .args([
                "audit",
                "--shard",
                &format!("{index}/{count}"),
                "-o",
                "json",
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&file, &out.stdout).unwrap();
        let part = support::stdout_json(&out);
        let units: Vec<&str> = part["shard"]["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u.as_str().unwrap())
            .collect();
        let owns = units.contains(&"drift(prod-us)") || units.contains(&"checks(prod-us)");
        let read = cluster.requests().len() > before;
        assert_eq!(owns, read, "shard {index}: units {units:?}");
        if owns {
            owners += 1
        } else {
            others += 1
        }
        parts.push(file);
    }
    assert!(
        owners >= 1 && others >= 1,
        "the test needs both kinds of shard"
    );
    let (code, report, stderr) = merge(&repo, &parts);
    let out = repo
        .plumb()
        .env("KUBECONFIG", &kubeconfig_file)
        .args(["audit", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(Some(code), out.status.code(), "{stderr}");
    assert_eq!(comparable(report), comparable(support::stdout_json(&out)));
}

#[test]
fn a_part_is_read_as_hostile_input() {
    let repo = estate_repo();
    let dir = tempfile::tempdir().unwrap();
    let good = part(&repo, dir.path(), 1, 1);
    let mut value: Value = serde_json::from_slice(&std::fs::read(&good).unwrap()).unwrap();
    // A part that claims a unit of another shard.
    value["shard"]["count"] = 2.into();
    let forged = dir.path().join("forged.json");
    std::fs::write(&forged, value.to_string()).unwrap();
    let (code, _, stderr) = merge(&repo, &[forged]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("forged.json"), "{stderr}");
    // Not JSON, and a secret-looking value never echoed.
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"kind\": \"hunter2-secret\"").unwrap();
    let (code, _, stderr) = merge(&repo, &[broken]);
    assert_eq!(code, 2);
    assert!(!stderr.contains("hunter2"), "{stderr}");
    // A full report is named as one.
    let whole = dir.path().join("whole.json");
    std::fs::write(&whole, single(&repo).1.to_string()).unwrap();
    let (code, _, stderr) = merge(&repo, &[whole]);
    assert_eq!(code, 2);
    assert!(stderr.contains("full plumb report"), "{stderr}");
}
