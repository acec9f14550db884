//! Metrics an operator alarms on: the scanner's EMF lines decode as valid Embedded
//! Metric Format (names, units, dimensions, values), and `GET /metrics` of the real
//! `cspm serve` parses as Prometheus text whose counters move by exactly what a
//! known `POST /events` and a workflow change did; it answers loopback only.

use crate::corpus::corpus;
use crate::events::compact_finding;
use cspm::lambda::scanner::Scanner;
use cspm::sources::Normalizer;
use cspm::store::{SqliteStore, Store};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One decoded EMF line.
#[derive(Debug)]
pub struct Emf {
    /// `CloudWatchMetrics[0].Namespace`.
    pub namespace: String,
    /// The one metric's name.
    pub name: String,
    /// Its unit.
    pub unit: String,
    /// The dimension sets.
    pub sets: Vec<Vec<String>>,
    /// Every dimension's value.
    pub dims: BTreeMap<String, String>,
    /// The metric's value.
    pub value: f64,
}

/// Checks one EMF document against the specification's rules (not against our
/// encoder): `_aws` with a millisecond `Timestamp` and `CloudWatchMetrics`
/// directives; every dimension a top-level string; every metric a top-level
/// number with a CloudWatch unit.
pub fn decode_emf(line: &str) -> Emf {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let aws = &v["_aws"];
    assert!(
        aws["Timestamp"].as_i64().unwrap() > 1_600_000_000_000,
        "{line}"
    );
    let directives = aws["CloudWatchMetrics"].as_array().unwrap();
    assert_eq!(directives.len(), 1, "{line}");
    let d = &directives[0];
    let sets: Vec<Vec<String>> = d["Dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    let mut dims = BTreeMap::new();
    for name in sets.iter().flatten() {
        let value = v[name]
            .as_str()
            .unwrap_or_else(|| panic!("dimension {name} is not a string: {line}"));
        dims.insert(name.clone(), value.to_string());
    }
    let metrics = d["Metrics"].as_array().unwrap();
    assert_eq!(metrics.len(), 1, "{line}");
    let name = metrics[0]["Name"].as_str().unwrap().to_string();
    let unit = metrics[0]["Unit"].as_str().unwrap().to_string();
    assert!(["Count", "Milliseconds"].contains(&unit.as_str()), "{line}");
    let value = v[&name]
        .as_f64()
        .unwrap_or_else(|| panic!("{name} is not a number: {line}"));
    Emf {
        namespace: d["Namespace"].as_str().unwrap().to_string(),
        name,
        unit,
        sets,
        dims,
        value,
    }
}

#[tokio::test]
async fn the_scanner_prints_findings_stored_as_emf_by_severity_and_source() {
    let tmp = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_dir(tmp.path()).unwrap());
    let scanner = Scanner {
        pipeline: crate::helpers::pipeline(store)
            .with_metrics(cspm::metrics::Registry::new(), "scanner"),
        syncer: None,
    };
    // What the store should take, by severity, counted without the code under test.
    let n = Normalizer::default();
    let mut want: BTreeMap<String, f64> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for (_, doc) in corpus("asff-envelope") {
        for f in n.parse_document(&doc).findings {
            if seen.insert(f.id.clone()) {
                *want.entry(f.severity.as_str().to_string()).or_default() += 1.0;
            }
        }
        scanner.handle(doc, None).await.unwrap();
    }
    let mut out = Vec::new();
    scanner.emit_metrics(&mut out);
    let text = String::from_utf8(out).unwrap();
    let mut got: BTreeMap<String, f64> = BTreeMap::new();
    for line in text.lines() {
        let Emf {
            namespace: ns,
            name,
            unit,
            sets,
            dims,
            value,
        } = decode_emf(line);
        assert_eq!(
            (ns.as_str(), name.as_str(), unit.as_str()),
            ("cspm", "FindingsStored", "Count")
        );
        assert_eq!(
            sets,
            vec![vec!["Severity".to_string(), "Source".into()], vec![]]
        );
        assert_eq!(dims["Source"], "scanner");
        got.insert(dims["Severity"].clone(), value);
    }
    assert_eq!(got, want);
    let mut again = Vec::new();
    scanner.emit_metrics(&mut again);
    assert!(again.is_empty(), "an invocation's counts are printed once");
}

/// Every sample of a scrape, parsed by `prometheus-parse`: "name{k=v,…}" → value.
async fn scrape(base: &str) -> BTreeMap<String, f64> {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("valid Prometheus text");
    assert!(scrape.docs.contains_key("cspm_findings_stored_total"));
    scrape
        .samples
        .into_iter()
        .map(|s| {
            let labels: BTreeMap<_, _> = s
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let value = match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                other => panic!("unexpected {other:?}"),
            };
            (format!("{}{labels:?}", s.metric), value)
        })
        .collect()
}

fn key(name: &str, labels: &[(&str, &str)]) -> String {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    format!("{name}{labels:?}")
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_counters_move_by_what_a_known_ingest_and_a_workflow_change_did() {
    let tmp = tempfile::tempdir().unwrap();
    let server = crate::serve_e2e::serve(tmp.path(), &["--no-archive"]);
    let before = scrape(&server.base).await;
    let stored = key(
        "cspm_findings_stored_total",
        &[("severity", "HIGH"), ("source", "api")],
    );
    assert_eq!(before.get(&stored), None);
    // Three distinct HIGH findings through POST /events.
    let docs: Vec<Value> = (0..3)
        .map(|i| {
            let mut d = compact_finding();
            d["Id"] = json!(format!("metrics-{i}"));
            d["Severity"] = json!({"Label": "HIGH"});
            d
        })
        .collect();
    crate::serve_e2e::post_then_resolve_newest(&server, &docs, "done").await;
    // 3 stored; the live sink took 3 inserts + 1 workflow change; the audit sink
    // took the workflow change and wrote one line.
    let want = [
        (stored.clone(), 3.0),
        (
            key("cspm_changes_dispatched_total", &[("sink", "live")]),
            4.0,
        ),
        (
            key("cspm_changes_dispatched_total", &[("sink", "audit")]),
            1.0,
        ),
        (key("cspm_audit_lines_written_total", &[]), 1.0),
    ];
    let t = Instant::now();
    let after = loop {
        let now = scrape(&server.base).await;
        let delta =
            |k: &str| now.get(k).copied().unwrap_or(0.0) - before.get(k).copied().unwrap_or(0.0);
        if want.iter().all(|(k, v)| delta(k) == *v) || t.elapsed() > Duration::from_secs(10) {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for (k, v) in &want {
        assert_eq!(
            after.get(k).copied().unwrap_or(0.0),
            *v,
            "{k} in {after:#?}"
        );
    }
    assert_eq!(after.get(&key("cspm_live_connections", &[])), Some(&0.0));
    assert!(!after
        .keys()
        .any(|k| k.starts_with("cspm_sink_failures_total")));
}

#[tokio::test]
async fn metrics_answer_loopback_peers_only() {
    use tower::ServiceExt;
    let tmp = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_dir(tmp.path()).unwrap());
    let pipeline =
        crate::helpers::pipeline(store).with_metrics(cspm::metrics::Registry::new(), "api");
    let app = cspm::http::router(cspm::http::AppState::new(pipeline, Default::default()));
    let status = |peer: Option<&str>| {
        let app = app.clone();
        let mut req = axum::http::Request::get("/metrics")
            .body(axum::body::Body::empty())
            .unwrap();
        if let Some(p) = peer {
            let addr: std::net::SocketAddr = p.parse().unwrap();
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(addr));
        }
        async move { app.oneshot(req).await.unwrap().status().as_u16() }
    };
    assert_eq!(status(Some("127.0.0.1:5000")).await, 200);
    assert_eq!(status(Some("[::1]:5000")).await, 200);
    assert_eq!(status(Some("10.0.0.8:5000")).await, 403);
    assert_eq!(
        status(None).await,
        403,
        "no socket (the api Lambda): no metrics"
    );
}
