//! The Prometheus text exposition format (version 0.0.4): a `# HELP` and a
//! `# TYPE` line per metric, then one line per series, labels quoted and escaped.
//! Every declared metric is listed even before it counts anything, so a scraper
//! and its dashboards see the whole set from the first scrape.

use super::{Kind, Registry, ALL};
use std::fmt::Write;

/// The `Content-Type` of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The registry's running totals as Prometheus text.
pub fn render(registry: &Registry) -> String {
    let samples = registry.samples();
    let mut out = String::new();
    for m in ALL {
        let kind = match m.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        let _ = writeln!(out, "# HELP {} {}", m.prom, m.help);
        let _ = writeln!(out, "# TYPE {} {kind}", m.prom);
        for s in samples.iter().filter(|s| s.metric.name == m.name) {
            out.push_str(m.prom);
            if !s.labels.is_empty() {
                let labels: Vec<String> = m
                    .dimensions
                    .iter()
                    .zip(&s.labels)
                    .map(|(d, v)| format!("{}=\"{}\"", d.to_ascii_lowercase(), escape_label(v)))
                    .collect();
                let _ = write!(out, "{{{}}}", labels.join(","));
            }
            let _ = writeln!(out, " {}", number(s.value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{FANOUT_LAG, FINDINGS_STORED};

    #[test]
    fn series_are_labelled_escaped_and_typed() {
        let r = Registry::new();
        r.add(&FINDINGS_STORED, &["HIGH", "api"], 3);
        r.set(&FANOUT_LAG, &["we\"ird\\"], 12.5);
        let text = render(&r);
        assert!(text.contains("# TYPE cspm_findings_stored_total counter\n"));
        assert!(text.contains("cspm_findings_stored_total{severity=\"HIGH\",source=\"api\"} 3\n"));
        assert!(text.contains("cspm_fanout_lag_milliseconds{sink=\"we\\\"ird\\\\\"} 12.5\n"));
        assert!(text.contains("# TYPE cspm_audit_lines_written_total counter\n"));
    }
}
