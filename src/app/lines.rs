//! The line of each finding's field in Git, for formats that point at lines (SARIF): the report
//! holds each object's file and first line; this pass re-reads those files from Git at the
//! report's commit and finds the field in the YAML parser's own positions (`yaml::field_line`),
//! so a changed image points at its `image:` line, not at the document's first. A rendered object
//! (line 0) is looked for by kind and name in the file its renderer named: a Kustomize base by
//! its YAML, a Helm template, which is not YAML until rendered, by indentation. It runs here, at
//! the edge, because report writers do no I/O (docs/architecture.md). Anything it cannot find —
//! no repository (`compare`), a file not in the commit (a remote chart), a field the file does not
//! write — leaves the document's line, or the file alone.

use crate::desired::git::GitTree;
use crate::diff::path::Path;
use crate::model::SourceLocation;
use crate::report::{Report, ResourceInfo};
use crate::yaml::{ObjectAt, PositionedFile};
use std::collections::HashMap;

/// Fills `field_lines` of every finding about a field whose file the report's commit has.
pub fn fill(report: &mut Report) {
    let (Some(repo), Some(commit)) = (&report.inputs.repo, &report.inputs.commit) else {
        return;
    };
    let Ok(tree) = GitTree::open(std::path::Path::new(repo), commit) else {
        return;
    };
    // Each file read and parsed once, however many findings it holds.
    let mut files: HashMap<String, Option<PositionedFile>> = HashMap::new();
    let mut line_of = |source: &SourceLocation, object: &ResourceInfo, path: &Path| {
        let file = files.entry(source.file.clone()).or_insert_with(|| {
            let file = tree.read(&source.file).ok()?;
            String::from_utf8(file.bytes)
                .ok()
                .map(PositionedFile::parse)
        });
        let object = ObjectAt {
            line: source.line,
            kind: &object.kind,
            name: &object.name,
        };
        file.as_ref()?.field_line(object, path)
    };
    for finding in &mut report.findings {
        if finding.path.is_empty() {
            continue;
        }
        let Ok(path) = Path::parse(&finding.path) else {
            continue;
        };
        if let Some(source) = &finding.source {
            finding.field_lines.source = line_of(source, &finding.resource, &path);
        }
        if let Some(other) = &finding.other_source {
            finding.field_lines.other_source = line_of(other, &finding.resource, &path);
        }
    }
}
