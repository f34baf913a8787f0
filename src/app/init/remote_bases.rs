//! Remote Kustomize bases, which plumb refuses to fetch (docs/rendering.md): `plumb init` warns
//! about each kustomization an environment's sources would build that refers to one, with the
//! same check the render runs (`kustomize::key_parts`), on the committed tree.

use super::layout::KUSTOMIZATIONS;
use super::{Findings, Here, is_within};
use crate::desired::git::GitTree;
use crate::desired::render::cache::KeyBuilder;
use crate::desired::render::kustomize::{KustomizeError, KustomizeJob, key_parts};
use std::collections::BTreeSet;
use std::path::PathBuf;

pub(super) fn check(here: &Here, files: &[PathBuf], findings: &mut Findings) {
    let read: BTreeSet<String> = findings
        .sources
        .values()
        .flatten()
        .map(|f| f.path().to_string())
        .chain(findings.covered.iter().cloned())
        .collect();
    let directories: BTreeSet<String> = files
        .iter()
        .filter(|f| {
            f.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| KUSTOMIZATIONS.contains(&n))
        })
        .filter_map(|f| f.parent())
        .map(|d| here.relative(d))
        .filter(|d| read.iter().any(|r| is_within(d, r)))
        .collect();
    if directories.is_empty() {
        return;
    }
    let Ok(tree) = GitTree::open(&here.root, "HEAD") else {
        findings.warn(
            None,
            "no commit to read: remote Kustomize bases were not looked for (plumb renders what Git holds)".into(),
        );
        return;
    };
    let mut refused = BTreeSet::new();
    for directory in directories {
        let Ok(path) = tree.repo_path(&here.root, &directory) else {
            continue;
        };
        let job = KustomizeJob::new(path);
        if let Err(KustomizeError::RemoteReference { file, reference }) =
            key_parts(&tree, &job, &mut KeyBuilder::new("init"))
            && refused.insert((file.clone(), reference.clone()))
        {
            findings.warn(
                None,
                format!(
                    "{file} refers to the remote base `{}`: plumb renders from Git alone and refuses it, so its source is a render error — vendor the base into the repository",
                    super::repositories::without_credentials(&reference)
                ),
            );
        }
    }
}
