//! Change-feed figures (prints them; not a timed test):
//! 1. dispatcher throughput: 50,000 changes already in a SQLite store, delivered to
//!    a recording sink (changes/s);
//! 2. `POST /events` → webhook latency: 1,000 single-event posts to a server on
//!    127.0.0.1, each timed from the request until a local webhook receiver has the
//!    change (p50/p99);
//! 3. change-record overhead on the demo path: `cspm demo`'s own loader writes the
//!    same findings into a SQLite store twice, once as shipped and once with a
//!    trigger that drops every change row (`RAISE(IGNORE)`), so the second run skips
//!    the feed's database work; the change summaries' JSON is still built in the
//!    second run, so its cost is timed separately and added.
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
        change_overhead().await;
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
        state.clone(),
        vec![sink.clone() as Arc<dyn Sink>],
        settings,
    )
    .start()
    .await
    .expect("start");
    // Done when the sink's cursor reaches the head (it moves once a batch is
    // delivered). Polling `received()` instead would clone every change so far
    // each time and measure the bench more than the dispatcher.
    while state.cursor("bench").await.expect("cursor").unwrap_or(0) < head {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        sink.received().len() as u64,
        head,
        "every change delivered once"
    );
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

/// Findings the overhead figure writes (`BENCH_DEMO_COUNT`, default 200,000).
fn demo_count() -> usize {
    std::env::var("BENCH_DEMO_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

/// Seconds `cspm demo`'s loader takes for `n` findings into a fresh store; with
/// `drop_changes`, a trigger makes SQLite skip every change row.
async fn demo_secs(n: usize, drop_changes: bool) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open_dir(dir.path()).expect("store");
    if drop_changes {
        rusqlite::Connection::open(store.path())
            .expect("open")
            .execute_batch(
                "CREATE TRIGGER bench_drop_changes BEFORE INSERT ON changes \
                 BEGIN SELECT RAISE(IGNORE); END;",
            )
            .expect("trigger");
    }
    let started = Instant::now();
    let written = cspm::cli::demo::load(Arc::new(store.clone()), n, 42, false)
        .await
        .expect("demo");
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(written, n);
    let head = store.head().await.expect("head");
    assert_eq!(head == 0, drop_changes, "change rows as the run intends");
    secs
}

/// Seconds to build the change summaries of `n` demo findings (the part of
/// recording a change that happens off the database).
fn summary_secs(n: usize) -> f64 {
    let fs: Vec<_> = cspm::demo::generate(n, cspm::demo::default_anchor(), 42).collect();
    let started = Instant::now();
    let mut bytes = 0usize;
    for f in &fs {
        let summary = cspm::store::change::ChangeFinding {
            item: shared_types::FindingListItem::from(f),
            generator_id: f.generator_id.clone(),
            record_state: f.record_state,
            severity_before: None,
            status_before: None,
            note: None,
            caller: cspm::store::change::Caller::of(f),
        };
        bytes += serde_json::to_string(&summary).expect("json").len();
    }
    let secs = started.elapsed().as_secs_f64();
    assert!(bytes > 0);
    secs
}

async fn change_overhead() {
    let n = demo_count();
    // Best of two each: the machine is shared.
    let mut with = f64::MAX;
    let mut without = f64::MAX;
    for _ in 0..2 {
        with = with.min(demo_secs(n, false).await);
        without = without.min(demo_secs(n, true).await);
    }
    let json = summary_secs(n);
    let base = without - json;
    println!(
        "demo {n} findings: with change records {:.0}/s, without {:.0}/s \
         (summaries' JSON {:.2} s of the run) = {:.1} % slower with them",
        n as f64 / with,
        n as f64 / base,
        json,
        (with / base - 1.0) * 100.0
    );
}
