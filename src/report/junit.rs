//! JUnit XML for Jenkins and GitLab test reports: one `<testsuite>` per environment or pair, one
//! `<testcase>` per resource with findings. A test case fails (`<failure>`) when it has a
//! violation, or an unreviewed finding whose severity `--fail-on` reaches; its other findings are
//! listed in `<system-out>`. What plumb could not see is an `<error>` test case in its
//! environment's suite. An environment with no findings gets one passing test case, so a clean
//! run still shows what was compared.

use super::common::{change_line, resource_label, scope_label, scopes};
use super::{FailOn, Finding, Report};
use crate::policy::Status;
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
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
    let mut junit = quick_junit::Report::new(visible(&format!("plumb {}", report.command)));
    for scope in scopes(report) {
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
        let classname = visible(&format!("plumb.{}.{}", report.command, scope.join("..")));
        let mut suite = TestSuite::new(visible(&scope_label(&scope)));
        // The report's own time, not the clock: the same report always gives the same XML.
        suite
            .extra
            .insert("timestamp".into(), visible(&report.generated_at).into());
        for case in cases {
            suite.add_test_case(test_case(case, &classname));
        }
        junit.add_test_suite(suite);
    }
    match junit.to_string() {
        Ok(text) => text,
        // quick-junit writes into memory, where writing cannot fail; say so rather than panic.
        Err(e) => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- {} -->\n",
            visible(&e.to_string()).replace("--", "- -")
        ),
    }
}

fn test_case(case: Case, classname: &str) -> TestCase {
    let status = if !case.failures.is_empty() {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status
            .set_message(format!("{} finding(s) fail", case.failures.len()))
            .set_type("plumb")
            .set_description(visible(&case.failures.join("\n")));
        status
    } else if let Some((kind, message)) = &case.error {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status
            .set_message(visible(&format!("incomplete: {kind}")))
            .set_type(visible(kind))
            .set_description(visible(message));
        status
    } else {
        TestCaseStatus::success()
    };
    let mut test_case = TestCase::new(visible(&case.name), status);
    test_case.set_classname(classname);
    if let Some(file) = &case.file {
        test_case.extra.insert("file".into(), visible(file).into());
    }
    if !case.others.is_empty() {
        test_case.set_system_out(visible(&case.others.join("\n")));
    }
    test_case
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

/// Text with the characters XML 1.0 cannot hold (control characters other than tab and line
/// breaks, U+FFFE, U+FFFF) shown as `\u{…}`. quick-junit escapes markup, but drops C0 controls
/// silently and lets U+FFFE/U+FFFF through (which XML parsers reject); shown, two values that
/// differ only there still read as different, and an ANSI escape is inert text instead of
/// disappearing.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' | '\n' | '\r' => out.push(c),
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
    use super::visible;

    #[test]
    fn shows_what_xml_cannot_hold_and_leaves_markup_to_quick_junit() {
        assert_eq!(
            visible("a<b>&\"'\n\u{1}\u{1b}[31m\u{FFFE}"),
            "a<b>&\"'\n\\u{0001}\\u{001b}[31m\\u{fffe}"
        );
    }
}
