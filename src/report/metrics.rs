//! `--metrics FILE`: Prometheus text exposition for node_exporter's textfile collector, so drift
//! and parity can alert in Grafana. Every series carries `command` and `envs` (the run's
//! environments), so the files of several plumb jobs in one collector directory never collide. The file is rewritten by every run; an incomplete
//! run carries `plumb_last_complete_run_timestamp_seconds` forward from the file it replaces, so the
//! time of the last complete run survives failed runs.

use super::Report;
use std::collections::BTreeMap;
use std::fmt::Write;

/// What the app measured about the run, beside the report.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub duration_seconds: f64,
    /// When the run ended, in seconds since the Unix epoch.
    pub finished_unix: f64,
}

const LAST_COMPLETE: &str = "plumb_last_complete_run_timestamp_seconds";

/// The exposition. `previous` is the text of the file this one replaces, if any.
pub fn render(report: &Report, run: Run, previous: Option<&str>) -> String {
    // Which run wrote a series: two runs of one command over other environments (drift staging,
    // drift production) write different series.
    let envs: Vec<&str> = report
        .inputs
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    let command = format!(
        "{},{}",
        label("command", &report.command),
        label("envs", &envs.join(","))
    );
    let mut out = String::new();

    let mut findings: BTreeMap<(String, &str, &str, &str), usize> = BTreeMap::new();
    for f in &report.findings {
        *findings
            .entry((
                f.envs.join(","),
                f.kind.as_str(),
                f.status.as_str(),
                f.severity.as_str(),
            ))
            .or_default() += 1;
    }
    header(
        &mut out,
        "plumb_findings",
        "Findings of the last run by environment (a pair as \"left,right\"), kind, status and severity; a combination with no findings has no series.",
    );
    for ((env, kind, status, severity), n) in &findings {
        let _ = writeln!(
            out,
            "plumb_findings{{{command},{},{},{},{}}} {n}",
            label("env", env),
            label("kind", kind),
            label("status", status),
            label("severity", severity)
        );
    }

    header(
        &mut out,
        "plumb_resources",
        "Objects compared per environment (desired state, or live state for parity --live).",
    );
    for (env, n) in &report.summary.resources {
        let _ = writeln!(
            out,
            "plumb_resources{{{command},{}}} {n}",
            label("env", env)
        );
    }
    if !report.summary.live_resources.is_empty() {
        header(
            &mut out,
            "plumb_live_resources",
            "Live objects per environment, for runs that read live state.",
        );
        for (env, n) in &report.summary.live_resources {
            let _ = writeln!(
                out,
                "plumb_live_resources{{{command},{}}} {n}",
                label("env", env)
            );
        }
    }

    header(
        &mut out,
        "plumb_run_duration_seconds",
        "How long the last run took.",
    );
    let _ = writeln!(
        out,
        "plumb_run_duration_seconds{{{command}}} {}",
        number(run.duration_seconds)
    );
    header(
        &mut out,
        "plumb_run_complete",
        "1 when the last run saw everything, 0 when it could not (its errors list what).",
    );
    let _ = writeln!(
        out,
        "plumb_run_complete{{{command}}} {}",
        u8::from(report.summary.complete)
    );

    let last = if report.summary.complete {
        Some(number(run.finished_unix))
    } else {
        previous.and_then(|p| previous_value(p, &format!("{LAST_COMPLETE}{{{command}}}")))
    };
    if let Some(last) = last {
        header(
            &mut out,
            LAST_COMPLETE,
            "When the last complete run ended (Unix time); kept from the previous file by incomplete runs.",
        );
        let _ = writeln!(out, "{LAST_COMPLETE}{{{command}}} {last}");
    }
    out
}

fn header(out: &mut String, name: &str, help: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

/// `name="value"` with the value escaped as the text format requires (`\\`, `\"`, `\n`).
pub fn label(name: &str, value: &str) -> String {
    let value = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("{name}=\"{value}\"")
}

fn number(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "NaN".into()
    }
}

/// The value of the series written exactly as `series` in a previous file of ours.
fn previous_value(text: &str, series: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.trim();
        value.parse::<f64>().ok().map(|_| value.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_escape_backslash_quote_and_newline() {
        assert_eq!(label("env", "a\\b\"c\nd"), "env=\"a\\\\b\\\"c\\nd\"");
    }

    #[test]
    fn incomplete_runs_keep_the_last_complete_timestamp() {
        let mut report = Report::new("drift", Default::default());
        report.finish();
        let run = Run {
            duration_seconds: 1.5,
            finished_unix: 1000.0,
        };
        let first = render(&report, run, None);
        assert!(
            first.contains(
                "plumb_last_complete_run_timestamp_seconds{command=\"drift\",envs=\"\"} 1000.000"
            ),
            "{first}"
        );
        report.errors.push(crate::model::RunError {
            env: "p".into(),
            kind: "render".into(),
            source: None,
            resource: None,
            message: "x".into(),
            unjudged: None,
        });
        report.finish();
        let later = Run {
            duration_seconds: 2.0,
            finished_unix: 2000.0,
        };
        let second = render(&report, later, Some(&first));
        assert!(
            second.contains("plumb_run_complete{command=\"drift\",envs=\"\"} 0"),
            "{second}"
        );
        assert!(
            second.contains(
                "plumb_last_complete_run_timestamp_seconds{command=\"drift\",envs=\"\"} 1000.000"
            ),
            "{second}"
        );
        assert!(!render(&report, later, None).contains(LAST_COMPLETE));
    }
}
