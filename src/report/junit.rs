//! JUnit XML for Jenkins and GitLab test reports: one `<testsuite>` per environment or pair, one
//! `<testcase>` per resource with findings. A test case fails (`<failure>`) when it has a
//! violation, or an unreviewed finding whose severity `--fail-on` reaches; its other findings are
//! listed in `<system-out>`. What plumb could not see is an `<error>` test case in its
//! environment's suite. An environment with no findings gets one passing test case, so a clean
//! run still shows what was compared.

use super::common::{change_line, resource_label, scope_label, scopes};
use super::{FailOn, Finding, Report};
use crate::policy::Status;
use std::fmt::Write;

const VALUE_MAX: usize = 200;

/// Whether a finding makes its test case fail.
pub fn fails(f: &Finding, fail_on: FailOn) -> bool {
    match f.status {
        Status::Violation => true,
        Status::Unreviewed => match fail_on {
            FailOn::Severity(threshold) => f.severity >= threshold,
            FailOn::Never => false,
        },
        Status::Waived | Status::Expected => false,
    }
}

struct Case {
    name: String,
    file: Option<String>,
    failures: Vec<String>,
    others: Vec<String>,
    error: Option<(String, String)>,
}

pub fn render(report: &Report, fail_on: FailOn) -> String {
    let mut suites = String::new();
    let (mut all_tests, mut all_failures, mut all_errors) = (0, 0, 0);
    for scope in scopes(report) {
        let label = scope_label(&scope);
        let mut cases: Vec<Case> = Vec::new();
        for f in report.findings.iter().filter(|f| f.envs == scope) {
            let name = resource_label(f);
            let line = finding_line(f);
            let index = match cases.iter().position(|c| c.name == name) {
                Some(i) => i,
                None => {
                    cases.push(Case {
                        name,
                        file: f.source.as_ref().map(|s| s.file.clone()),
                        failures: Vec::new(),
                        others: Vec::new(),
                        error: None,
                    });
                    cases.len() - 1
                }
            };
            if fails(f, fail_on) {
                cases[index].failures.push(line);
            } else {
                cases[index].others.push(line);
            }
        }
        if scope.len() == 1 {
            for e in report.errors.iter().filter(|e| e.env == scope[0]) {
                let what = e.source.as_deref().or(e.resource.as_deref()).unwrap_or("");
                cases.push(Case {
                    name: format!("could not see {what}").trim_end().to_string(),
                    file: None,
                    failures: Vec::new(),
                    others: Vec::new(),
                    error: Some((e.kind.clone(), e.message.clone())),
                });
            }
        }
        if cases.is_empty() {
            let count = scope
                .iter()
                .filter_map(|e| report.summary.resources.get(e))
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(" / ");
            cases.push(Case {
                name: format!("no findings ({count} resources)"),
                file: None,
                failures: Vec::new(),
                others: Vec::new(),
                error: None,
            });
        }
        let tests = cases.len();
        let failures = cases.iter().filter(|c| !c.failures.is_empty()).count();
        let errors = cases.iter().filter(|c| c.error.is_some()).count();
        all_tests += tests;
        all_failures += failures;
        all_errors += errors;
        let classname = format!("plumb.{}.{}", report.command, scope.join(".."));
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" timestamp=\"{}\">",
            xml(&label),
            xml(&report.generated_at)
        );
        for case in cases {
            let file = case
                .file
                .as_deref()
                .map(|f| format!(" file=\"{}\"", xml(f)))
                .unwrap_or_default();
            let _ = write!(
                suites,
                "    <testcase classname=\"{}\" name=\"{}\"{file}>",
                xml(&classname),
                xml(&case.name)
            );
            if !case.failures.is_empty() {
                let _ = write!(
                    suites,
                    "\n      <failure message=\"{} finding(s) fail\" type=\"plumb\">{}</failure>",
                    case.failures.len(),
                    xml(&case.failures.join("\n"))
                );
            }
            if let Some((kind, message)) = &case.error {
                let _ = write!(
                    suites,
                    "\n      <error message=\"{}\" type=\"{}\">{}</error>",
                    xml(&format!("incomplete: {kind}")),
                    xml(kind),
                    xml(message)
                );
            }
            if !case.others.is_empty() {
                let _ = write!(
                    suites,
                    "\n      <system-out>{}</system-out>",
                    xml(&case.others.join("\n"))
                );
            }
            if case.failures.is_empty() && case.error.is_none() && case.others.is_empty() {
                suites.push_str("</testcase>\n");
            } else {
                suites.push_str("\n    </testcase>\n");
            }
        }
        suites.push_str("  </testsuite>\n");
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{all_tests}\" failures=\"{all_failures}\" errors=\"{all_errors}\">",
        xml(&format!("plumb {}", report.command))
    );
    out.push_str(&suites);
    out.push_str("</testsuites>\n");
    out
}

/// `[violation error parity · rule x] spec.replicas: staging: 2 → production: 5 — message`.
fn finding_line(f: &Finding) -> String {
    let rule = f
        .rule
        .as_deref()
        .map(|r| format!(" · rule {r}"))
        .unwrap_or_default();
    let mut line = format!(
        "[{} {} {}{rule}]",
        f.status.as_str(),
        f.severity.as_str(),
        f.kind.as_str()
    );
    if f.path.is_empty() {
        let _ = write!(line, " {}", f.message);
    } else {
        let _ = write!(
            line,
            " {}: {} — {}",
            f.path,
            change_line(f, VALUE_MAX),
            f.message
        );
    }
    if let Some(source) = &f.source {
        let _ = write!(line, " ({source})");
    }
    line
}

/// Text for an XML attribute or element: the five special characters as entities, line breaks in
/// attributes as character references, and characters XML 1.0 cannot hold at all (other control
/// characters) as `\u{…}`.
pub fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn escapes_everything_xml_cannot_hold() {
        assert_eq!(
            xml("a<b>&\"'\n\u{1}"),
            "a&lt;b&gt;&amp;&quot;&apos;&#10;\\u{0001}"
        );
    }
}
