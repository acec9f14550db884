//! CloudWatch Embedded Metric Format: one JSON log line per series, which
//! CloudWatch Logs turns into a metric in namespace [`NAMESPACE`] without any
//! `PutMetricData` call (so no IAM permission and no extra latency). The Lambdas
//! print what one invocation counted, then forget it ([`super::Registry::drain`]).
//!
//! Each series is published under two dimension sets: its own dimensions (per
//! sink, per severity…) and none at all, the total that alarms watch (a CloudWatch
//! alarm needs exact dimensions and cannot sum over a `SEARCH`).

use super::{Registry, Sample};
use serde_json::{json, Map, Value};
use std::io::Write;

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "cspm";

/// The EMF document of one sample at `timestamp_ms`.
pub fn document(sample: &Sample, timestamp_ms: i64) -> Value {
    let m = sample.metric;
    let dims: Vec<&str> = m.dimensions.to_vec();
    let sets: Vec<Vec<&str>> = if dims.is_empty() {
        vec![vec![]]
    } else {
        vec![dims.clone(), vec![]]
    };
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": sets,
                "Metrics": [{"Name": m.name, "Unit": m.unit.as_str()}],
            }],
        }),
    );
    for (d, v) in dims.iter().zip(&sample.labels) {
        root.insert((*d).to_string(), Value::String(v.clone()));
    }
    root.insert(m.name.to_string(), json!(sample.value));
    Value::Object(root)
}

/// Writes one EMF line per sample.
pub fn write(samples: &[Sample], timestamp_ms: i64, out: &mut dyn Write) -> std::io::Result<()> {
    for s in samples {
        let line = serde_json::to_string(&document(s, timestamp_ms))?;
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// Prints what `registry` counted since the last flush and forgets it (the end of
/// a Lambda invocation). Lambda sends stdout to CloudWatch Logs line by line.
pub fn flush(registry: &Registry, out: &mut dyn Write) {
    let samples = registry.drain();
    if samples.is_empty() {
        return;
    }
    let now = chrono::Utc::now().timestamp_millis();
    if let Err(e) = write(&samples, now, out) {
        tracing::warn!(error = %e, "could not write metrics");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{AUDIT_LINES, SINK_FAILURES};

    #[test]
    fn a_sample_becomes_one_document_with_its_dimensions_and_a_total() {
        let r = Registry::new();
        r.add(&SINK_FAILURES, &["hook"], 2);
        r.add(&AUDIT_LINES, &[], 5);
        let mut out = Vec::new();
        write(&r.drain(), 1_700_000_000_000, &mut out).unwrap();
        let lines: Vec<Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0],
            json!({"_aws": {"Timestamp": 1_700_000_000_000i64, "CloudWatchMetrics": [{
                "Namespace": "cspm", "Dimensions": [["Sink"], []],
                "Metrics": [{"Name": "SinkFailures", "Unit": "Count"}]}]},
                "Sink": "hook", "SinkFailures": 2.0})
        );
        assert_eq!(
            lines[1]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[]])
        );
    }
}
