//! Counters and gauges an operator can alarm on, in one tiny registry: the
//! Lambdas print them as CloudWatch Embedded Metric Format lines once per
//! invocation ([`emf`]), `cspm serve` shows the running totals at `GET /metrics`
//! in Prometheus text format ([`prometheus`]).
//!
//! Every metric is declared once below ([`ALL`]), with its EMF name, unit and
//! dimensions and its Prometheus name, so the two views cannot drift apart and
//! Terraform's alarms and dashboard name exactly these. A series is a metric plus
//! one value per dimension; values are atomics behind a read-mostly lock, so
//! counting costs a hash lookup and an atomic add. No metrics crate: the two text
//! formats are a page of code each, and a dependency would bring a global
//! registry the tests could not isolate.
//!
//! Depends on nothing else in the crate, so every layer can count.

/// CloudWatch Embedded Metric Format lines (namespace `cspm`).
pub mod emf;
/// Prometheus text exposition format (`GET /metrics`).
pub mod prometheus;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Counter (only goes up; EMF sends the increase of one invocation) or gauge
/// (a level; EMF sends the highest value seen in one invocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// A level that goes up and down.
    Gauge,
}

/// The CloudWatch unit of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A number of things.
    Count,
    /// A duration in milliseconds.
    Milliseconds,
}

impl Unit {
    /// The unit as CloudWatch spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One metric: its names in both formats, what it means, its dimensions.
#[derive(Debug, PartialEq, Eq)]
pub struct Metric {
    /// EMF / CloudWatch name, e.g. `FindingsStored`.
    pub name: &'static str,
    /// Prometheus name, e.g. `cspm_findings_stored_total`.
    pub prom: &'static str,
    /// One line saying what it counts.
    pub help: &'static str,
    /// Counter or gauge.
    pub kind: Kind,
    /// CloudWatch unit.
    pub unit: Unit,
    /// Dimension names (EMF), lowercased as Prometheus labels.
    pub dimensions: &'static [&'static str],
}

/// Findings written (new, or a newer version of a stored one), by severity and by
/// the writer (`scanner`, `api`).
pub const FINDINGS_STORED: Metric = Metric {
    name: "FindingsStored",
    prom: "cspm_findings_stored_total",
    help: "Findings written (new or a newer version), by severity and writer.",
    kind: Kind::Counter,
    unit: Unit::Count,
    dimensions: &["Severity", "Source"],
};

/// Changes a sink took (delivered batches), by sink.
pub const CHANGES_DISPATCHED: Metric = Metric {
    name: "ChangesDispatched",
    prom: "cspm_changes_dispatched_total",
    help: "Changes delivered to a sink, by sink.",
    kind: Kind::Counter,
    unit: Unit::Count,
    dimensions: &["Sink"],
};

/// Failed deliveries of a batch (each try counts), by sink.
pub const SINK_FAILURES: Metric = Metric {
    name: "SinkFailures",
    prom: "cspm_sink_failures_total",
    help: "Failed tries to deliver a batch to a sink, by sink.",
    kind: Kind::Counter,
    unit: Unit::Count,
    dimensions: &["Sink"],
};

/// Batches a sink did not take and that were set aside, by sink: parked for an
/// operator locally, handed back to the stream by the fanout Lambda.
pub const BATCHES_PARKED: Metric = Metric {
    name: "BatchesParked",
    prom: "cspm_batches_parked_total",
    help: "Batches set aside after the retry limit or a permanent error, by sink.",
    kind: Kind::Counter,
    unit: Unit::Count,
    dimensions: &["Sink"],
};

/// Changes delivered to an alerting channel (webhook, SNS, Slack, e-mail), by channel.
pub const ALERTS_SENT: Metric = Metric {
    name: "AlertsSent",
    prom: "cspm_alerts_sent_total",
    help: "Changes delivered to an alerting channel, by channel.",
    kind: Kind::Counter,
    unit: Unit::Count,
    dimensions: &["Channel"],
};

/// How old the oldest change of a delivered batch was when it was delivered
/// (now − the change's time), by sink.
pub const FANOUT_LAG: Metric = Metric {
    name: "FanoutLag",
    prom: "cspm_fanout_lag_milliseconds",
    help: "Age of the oldest change of the last delivered batch (now - change time), by sink.",
    kind: Kind::Gauge,
    unit: Unit::Milliseconds,
    dimensions: &["Sink"],
};

/// Lines appended to the audit log.
pub const AUDIT_LINES: Metric = Metric {
    name: "AuditLinesWritten",
    prom: "cspm_audit_lines_written_total",
    help: "Lines appended to the hash-chained audit log.",
    kind: Kind::Counter,
    unit: Unit::Count,
    dimensions: &[],
};

/// Dashboards connected to the live WebSocket: sampled when `GET /metrics` is read
/// locally, by the `live` Lambda's keep-alive each minute on AWS.
pub const LIVE_CONNECTIONS: Metric = Metric {
    name: "LiveConnections",
    prom: "cspm_live_connections",
    help: "Dashboards connected to the live WebSocket.",
    kind: Kind::Gauge,
    unit: Unit::Count,
    dimensions: &[],
};

/// Every metric, in the order `/metrics` lists them.
pub const ALL: [&Metric; 8] = [
    &FINDINGS_STORED,
    &CHANGES_DISPATCHED,
    &SINK_FAILURES,
    &BATCHES_PARKED,
    &ALERTS_SENT,
    &FANOUT_LAG,
    &AUDIT_LINES,
    &LIVE_CONNECTIONS,
];

/// One series' current value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The metric.
    pub metric: &'static Metric,
    /// One value per dimension, in the metric's order.
    pub labels: Vec<String>,
    /// Its value (a count, or the gauge's level).
    pub value: f64,
}

type Key = (&'static str, Vec<String>);

/// The registry: every series counted so far.
#[derive(Debug, Default)]
pub struct Registry {
    series: RwLock<HashMap<Key, (&'static Metric, Arc<AtomicU64>)>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Arc<Registry> {
        Arc::new(Registry::default())
    }

    fn cell(&self, metric: &'static Metric, labels: &[&str]) -> Arc<AtomicU64> {
        debug_assert_eq!(labels.len(), metric.dimensions.len(), "{}", metric.name);
        let key: Key = (metric.name, labels.iter().map(|l| l.to_string()).collect());
        if let Some((_, c)) = self
            .series
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return c.clone();
        }
        let mut w = self.series.write().unwrap_or_else(|p| p.into_inner());
        let init = match metric.kind {
            Kind::Counter => 0,
            Kind::Gauge => 0f64.to_bits(),
        };
        w.entry(key)
            .or_insert_with(|| (metric, Arc::new(AtomicU64::new(init))))
            .1
            .clone()
    }

    /// Adds `n` to a counter series (`labels` in the metric's dimension order).
    pub fn add(&self, metric: &'static Metric, labels: &[&str], n: u64) {
        debug_assert_eq!(metric.kind, Kind::Counter);
        self.cell(metric, labels).fetch_add(n, Ordering::Relaxed);
    }

    /// Sets a gauge series to `v`.
    pub fn set(&self, metric: &'static Metric, labels: &[&str], v: f64) {
        debug_assert_eq!(metric.kind, Kind::Gauge);
        self.cell(metric, labels)
            .store(v.to_bits(), Ordering::Relaxed);
    }

    /// Raises a gauge series to `v` if it is lower (the worst value of a period).
    pub fn raise(&self, metric: &'static Metric, labels: &[&str], v: f64) {
        debug_assert_eq!(metric.kind, Kind::Gauge);
        let cell = self.cell(metric, labels);
        let _ = cell.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
            (v > f64::from_bits(old)).then_some(v.to_bits())
        });
    }

    /// The value of one series (0 when never counted).
    pub fn value(&self, metric: &'static Metric, labels: &[&str]) -> f64 {
        let key: Key = (metric.name, labels.iter().map(|l| l.to_string()).collect());
        let series = self.series.read().unwrap_or_else(|p| p.into_inner());
        series
            .get(&key)
            .map_or(0.0, |(m, c)| read(m, c.load(Ordering::Relaxed)))
    }

    /// Every series, sorted by metric (in [`ALL`]'s order) then labels.
    pub fn samples(&self) -> Vec<Sample> {
        let series = self.series.read().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<Sample> = series
            .iter()
            .map(|((_, labels), (m, c))| Sample {
                metric: m,
                labels: labels.clone(),
                value: read(m, c.load(Ordering::Relaxed)),
            })
            .collect();
        sort(&mut out);
        out
    }

    /// Every series with its value since the last drain, then forgets them all:
    /// what one Lambda invocation counted.
    pub fn drain(&self) -> Vec<Sample> {
        let taken = std::mem::take(&mut *self.series.write().unwrap_or_else(|p| p.into_inner()));
        let mut out: Vec<Sample> = taken
            .into_iter()
            .map(|((_, labels), (m, c))| Sample {
                metric: m,
                labels,
                value: read(m, c.load(Ordering::Relaxed)),
            })
            .collect();
        sort(&mut out);
        out
    }
}

fn read(metric: &Metric, bits: u64) -> f64 {
    match metric.kind {
        Kind::Counter => bits as f64,
        Kind::Gauge => f64::from_bits(bits),
    }
}

fn sort(samples: &mut [Sample]) {
    let rank = |m: &Metric| {
        ALL.iter()
            .position(|a| a.name == m.name)
            .unwrap_or(usize::MAX)
    };
    samples.sort_by(|a, b| {
        rank(a.metric)
            .cmp(&rank(b.metric))
            .then_with(|| a.labels.cmp(&b.labels))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_gauges_keep_the_highest_and_drain_forgets() {
        let r = Registry::new();
        r.add(&SINK_FAILURES, &["hook"], 2);
        r.add(&SINK_FAILURES, &["hook"], 1);
        r.add(&SINK_FAILURES, &["sns"], 1);
        r.raise(&FANOUT_LAG, &["hook"], 40.0);
        r.raise(&FANOUT_LAG, &["hook"], 25.0);
        assert_eq!(r.value(&SINK_FAILURES, &["hook"]), 3.0);
        assert_eq!(r.value(&FANOUT_LAG, &["hook"]), 40.0);
        assert_eq!(r.value(&BATCHES_PARKED, &["hook"]), 0.0);
        let drained = r.drain();
        assert_eq!(drained.len(), 3);
        assert_eq!(drained[0].metric.name, "SinkFailures");
        assert_eq!(drained[2].metric.name, "FanoutLag");
        assert!(r.samples().is_empty());
    }

    /// Terraform's alarms and dashboard name these metrics by hand: every name they
    /// use in namespace `cspm` must be one this registry emits.
    #[test]
    fn terraform_names_only_metrics_that_exist() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../terraform/modules/alerting");
        let mut used = Vec::new();
        for entry in std::fs::read_dir(dir).expect("terraform/modules/alerting") {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            // Dashboard rows: ["cspm", "Name", …]
            for part in text.split("[\"cspm\", \"").skip(1) {
                used.push(part.split('"').next().unwrap().to_string());
            }
            // Alarms: namespace = "cspm" then metric_name = "Name".
            for part in text.split("namespace           = \"cspm\"").skip(1) {
                let after = part
                    .split("metric_name")
                    .nth(1)
                    .expect("metric_name after namespace");
                used.push(after.split('"').nth(1).unwrap().to_string());
            }
        }
        assert!(used.len() >= 8, "{used:?}");
        for name in used {
            assert!(
                ALL.iter().any(|m| m.name == name),
                "terraform names {name}, which nothing emits"
            );
        }
    }

    #[test]
    fn names_follow_each_format() {
        for m in ALL {
            assert!(
                m.name.bytes().all(|b| b.is_ascii_alphanumeric()),
                "{}",
                m.name
            );
            assert!(m.prom.starts_with("cspm_"), "{}", m.prom);
            assert_eq!(
                m.kind == Kind::Counter,
                m.prom.ends_with("_total"),
                "{}",
                m.prom
            );
        }
    }
}
