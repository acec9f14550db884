//! Change-feed figures (prints them; not a timed test):
//! 1. dispatcher throughput: 50,000 changes already in a SQLite store, delivered to
//!    a recording sink (changes/s);
//! 2. `POST /events` → webhook latency: 1,000 single-event posts to a server on
//!    127.0.0.1, each timed from the request until a local webhook receiver has the
//!    change (p50/p99).
//!
//! `cargo bench -p backend --bench feed` (release build).

use axum::body::Bytes;
use axum::extract::State;
use cspm::feed::{DispatchSettings, Dispatcher, SinkState};
use cspm::http::{router, AppState, HttpConfig};
use cspm::pipeline::Pipeline;
use cspm::sinks::recording::RecordingSink;
use cspm::sinks::ssrf::{SystemResolver, Target};
use cspm::sinks::webhook::WebhookSink;
use cspm::sinks::{Filter, Sink};
use cspm::sources::Normalizer;
use cspm::store::{ChangeFeed, SqliteStore, Store};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        throughput().await;
        latency().await;
    });
}

async fn throughput() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open_dir(dir.path()).expect("store");
    let anchor = cspm::demo::default_anchor();
    let fs: Vec<_> = cspm::demo::generate(50_000, anchor, 7).collect();
    for chunk in fs.chunks(2_500) {
        store.upsert(chunk).await.expect("upsert");
    }
    let head = store.head().await.expect("head");
    let state = SinkState::open(store.path()).expect("state");
    let sink = Arc::new(RecordingSink::new("bench", Filter::default()));
    let settings = DispatchSettings {
        replay_from: Some(1),
        ..Default::default()
    };
    let started = Instant::now();
    let running = Dispatcher::new(
        Arc::new(store.clone()),
        state,
        vec![sink.clone() as Arc<dyn Sink>],
        settings,
    )
    .start()
    .await
    .expect("start");
    while (sink.received().len() as u64) < head {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    running.stop().await;
    println!(
        "dispatcher: {head} changes to a recording sink in {secs:.2} s = {:.0} changes/s",
        head as f64 / secs
    );
}

/// Arrival times of change keys at the receiver.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

async fn receive(State(a): State<Arrivals>, body: Bytes) -> &'static str {
    let now = Instant::now();
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut map = a.lock().unwrap_or_else(|p| p.into_inner());
    for c in v["changes"].as_array().into_iter().flatten() {
        if let Some(id) = c["finding"]["asff_id"].as_str() {
            map.entry(id.to_string()).or_insert(now);
        }
    }
    "ok"
}

async fn latency() {
    let arrivals: Arrivals = Arc::default();
    let receiver = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(arrivals.clone());
    let rl = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook = format!("http://{}/hook", rl.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(rl, receiver).await });

    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open_dir(dir.path()).expect("store");
    let state = SinkState::open(store.path()).expect("state");
    let sink = WebhookSink::new(
        "hook",
        Target::parse(&hook).expect("url"),
        None,
        Filter::default(),
        Duration::from_secs(5),
        Arc::new(SystemResolver),
    )
    .expect("sink");
    let running = Dispatcher::new(
        Arc::new(store.clone()),
        state,
        vec![Arc::new(sink) as Arc<dyn Sink>],
        DispatchSettings::default(),
    )
    .start()
    .await
    .expect("start");
    let pipeline = Pipeline::new(Arc::new(Normalizer::default()), Arc::new(store.clone()));
    let app = router(AppState::new(pipeline, HttpConfig::default()));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", l.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(l, app).await });

    let client = reqwest::Client::new();
    let mut latencies = Vec::with_capacity(1000);
    for i in 0..1000 {
        let id = format!("latency/{i}");
        let doc = json!({
            "SchemaVersion": "2018-10-08", "Id": id,
            "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
            "GeneratorId": "bench", "AwsAccountId": "111122223333", "Types": ["Software and Configuration Checks"],
            "CreatedAt": "2026-11-01T00:00:00Z", "UpdatedAt": "2026-11-01T00:00:00Z",
            "Severity": {"Label": "HIGH"}, "Title": "bench", "Description": "bench",
            "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::bench"}]
        });
        let sent = Instant::now();
        let resp = client
            .post(format!("{base}/events"))
            .header("content-type", "application/json")
            .body(doc.to_string())
            .send()
            .await
            .expect("post");
        assert!(resp.status().is_success());
        let deadline = sent + Duration::from_secs(10);
        loop {
            let at = arrivals
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&id)
                .copied();
            if let Some(at) = at {
                latencies.push(at - sent);
                break;
            }
            assert!(Instant::now() < deadline, "{id} never arrived");
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }
    running.stop().await;
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "POST /events -> webhook receiver, {} events: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
    );
}
