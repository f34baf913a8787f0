//! `--metrics FILE`: Prometheus text exposition for node_exporter's textfile collector, so drift
//! and parity can alert in Grafana. Every series carries `command` and `envs` (the run's
//! environments), so the files of several plumb jobs in one collector directory never collide. The file is rewritten by every run; an incomplete
//! run carries `plumb_last_complete_run_timestamp_seconds` forward from the file it replaces, so the
//! time of the last complete run survives failed runs.

use super::Report;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;

/// What the app measured about the run, beside the report.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub duration_seconds: f64,
    /// When the run ended, in seconds since the Unix epoch.
    pub finished_unix: f64,
}

const LAST_COMPLETE: &str = "plumb_last_complete_run_timestamp_seconds";

/// A series' labels, in the order they are written.
type Labels = Vec<(&'static str, String)>;

#[derive(Debug, Clone, Copy)]
enum Value {
    Count(i64),
    Seconds(f64),
}

/// One gauge family with its series in the order given. prometheus-client's `Family` keeps its
/// series in a `HashMap`, so its text would list them in another order on every run; written
/// through a collector, the same report gives the same file.
#[derive(Debug)]
struct Gauges {
    name: &'static str,
    help: &'static str,
    series: Vec<(Labels, Value)>,
}

impl Collector for Gauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut family = encoder.encode_descriptor(
            self.name,
            self.help,
            None,
            prometheus_client::metrics::MetricType::Gauge,
        )?;
        for (labels, value) in &self.series {
            let series = family.encode_family(labels)?;
            match *value {
                Value::Count(n) => ConstGauge::new(n).encode(series)?,
                Value::Seconds(x) => ConstGauge::new(x).encode(series)?,
            }
        }
        Ok(())
    }
}

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
    let run_labels: Labels = vec![
        ("command", report.command.clone()),
        ("envs", envs.join(",")),
    ];
    let with = |more: &[(&'static str, &str)]| -> Labels {
        let mut labels = run_labels.clone();
        labels.extend(more.iter().map(|(k, v)| (*k, v.to_string())));
        labels
    };
    let mut registry = Registry::default();
    let mut gauges = |name, help, series| {
        registry.register_collector(Box::new(Gauges { name, help, series }));
    };

    let mut findings: BTreeMap<(String, &str, &str, &str), i64> = BTreeMap::new();
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
    gauges(
        "plumb_findings",
        "Findings of the last run by environment (a pair as left,right), kind, status and severity; a combination with no findings has no series.",
        findings
            .iter()
            .map(|((env, kind, status, severity), n)| {
                let labels = with(&[
                    ("env", env),
                    ("kind", kind),
                    ("status", status),
                    ("severity", severity),
                ]);
                (labels, Value::Count(*n))
            })
            .collect(),
    );
    let per_env = |counts: &BTreeMap<String, usize>| {
        counts
            .iter()
            .map(|(env, n)| {
                let n = i64::try_from(*n).unwrap_or(i64::MAX);
                (with(&[("env", env)]), Value::Count(n))
            })
            .collect::<Vec<_>>()
    };
    gauges(
        "plumb_resources",
        "Objects compared per environment (desired state, or live state for parity --live).",
        per_env(&report.summary.resources),
    );
    if !report.summary.live_resources.is_empty() {
        gauges(
            "plumb_live_resources",
            "Live objects per environment, for runs that read live state.",
            per_env(&report.summary.live_resources),
        );
    }
    gauges(
        "plumb_run_duration_seconds",
        "How long the last run took.",
        vec![(run_labels.clone(), seconds(run.duration_seconds))],
    );
    gauges(
        "plumb_run_complete",
        "1 when the last run saw everything, 0 when it could not (its errors list what).",
        vec![(
            run_labels.clone(),
            Value::Count(i64::from(report.summary.complete)),
        )],
    );
    let last = if report.summary.complete {
        Some(seconds(run.finished_unix))
    } else {
        previous.and_then(|p| previous_value(p, &series_prefix(&run_labels)))
    };
    if let Some(last) = last {
        gauges(
            LAST_COMPLETE,
            "When the last complete run ended (Unix time); kept from the previous file by incomplete runs.",
            vec![(run_labels, last)],
        );
    }
    encode(&registry)
}

/// OpenMetrics text, ending in `# EOF`.
fn encode(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail, and the collectors only fail when their writer does.
    let _ = prometheus_client::encoding::text::encode(&mut out, registry);
    out
}

/// Seconds to the millisecond, as before: the file does not pretend to more precision.
fn seconds(x: f64) -> Value {
    Value::Seconds((x * 1000.0).round() / 1000.0)
}

/// `plumb_last_complete_run_timestamp_seconds{command="…",envs="…"}` exactly as the encoder
/// writes it, so the previous file is searched for the series this run would write.
fn series_prefix(run_labels: &Labels) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Gauges {
        name: LAST_COMPLETE,
        help: "",
        series: vec![(run_labels.clone(), Value::Count(0))],
    }));
    encode(&registry)
        .lines()
        .find(|line| line.starts_with(LAST_COMPLETE))
        .and_then(|line| line.rsplit_once(' '))
        .map(|(series, _)| series.to_string())
        .unwrap_or_else(|| LAST_COMPLETE.to_string())
}

/// The value of the series written exactly as `series` in a previous file of ours.
fn previous_value(text: &str, series: &str) -> Option<Value> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?.trim();
        value.parse::<f64>().ok().map(Value::Seconds)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_escapes_label_values() {
        let labels: Labels = vec![("command", "drift".into()), ("envs", "a\\b\"c\nd".into())];
        assert_eq!(
            series_prefix(&labels),
            "plumb_last_complete_run_timestamp_seconds{command=\"drift\",envs=\"a\\\\b\\\"c\\nd\"}"
        );
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
                "plumb_last_complete_run_timestamp_seconds{command=\"drift\",envs=\"\"} 1000.0"
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
                "plumb_last_complete_run_timestamp_seconds{command=\"drift\",envs=\"\"} 1000.0"
            ),
            "{second}"
        );
        assert!(!render(&report, later, None).contains(LAST_COMPLETE));
    }
}
