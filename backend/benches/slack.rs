//! Slack alert figures (prints them; not a timed test), against a local server
//! that speaks Slack's incoming-webhook protocol (`POST`, answers `200 ok`):
//! 1. the Slack sink's throughput with pacing off (5,000 alerts), and the rate it
//!    keeps with pacing on (every 200 ms, and the default of one a second);
//! 2. `POST /events` on a real `cspm serve` (SQLite, a Slack sink under a route,
//!    throttled, paced one a second) → the message at the Slack server, p50/p99
//!    over 40 findings, each posted a random 0–1.2 s after the previous message
//!    arrived, so some land inside the pacing window.
//!
//! `cargo bench -p backend --bench slack` (release build); reads the Security Hub
//! sample from ../shared/corpus.

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use cspm::sinks::dedup::MemoryDedup;
use cspm::sinks::secrets::Secret;
use cspm::sinks::slack::{Destination, SlackSettings, SlackSink};
use cspm::sinks::ssrf::SystemResolver;
use cspm::sinks::{Filter, Sink};
use cspm::store::change::ChangeFinding;
use cspm::store::Change;
use rand::Rng;
use shared_types::{ChangeKind, FindingListItem, RecordState, Severity};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PATH: &str = "/services/T0BENCH/B0BENCH/benchSecret";
const UNPACED: usize = 5_000;
const EVENTS: usize = 40;

/// When each message arrived, and its text.
type Seen = Arc<Mutex<Vec<(Instant, String)>>>;

async fn receive(State(seen): State<Seen>, body: String) -> &'static str {
    let text = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["text"].as_str().map(str::to_string))
        .unwrap_or_default();
    seen.lock().unwrap().push((Instant::now(), text));
    "ok"
}

/// The local Slack server; answers its webhook URL.
async fn slack_server() -> (Seen, String) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route(PATH, post(receive))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{PATH}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (seen, url)
}

fn sink(url: &str, interval: Duration) -> SlackSink {
    let settings = SlackSettings {
        name: "bench".into(),
        destination: Destination::Webhook {
            url: Secret::new(url),
        },
        described: "Slack webhook from $BENCH".into(),
        min_severity: Severity::Informational,
        filter: Filter::default(),
        min_interval: interval,
        timeout: Duration::from_secs(5),
        public_url: Some("https://cspm.example.com".into()),
    };
    SlackSink::new(
        settings,
        Arc::new(MemoryDedup::default()),
        Arc::new(SystemResolver),
    )
    .unwrap()
}

/// `n` inserted HIGH findings as changes, each its own alert.
fn changes(n: usize, tag: &str) -> Vec<Change> {
    cspm::demo::generate(n, cspm::demo::default_anchor(), 7)
        .enumerate()
        .map(|(i, f)| {
            let mut item = FindingListItem::from(&f);
            item.id = format!("{tag}-{i:05}");
            item.severity = Severity::High;
            Change {
                seq: i as u64 + 1,
                key: format!("{}:1", item.id),
                kind: ChangeKind::Inserted,
                revision: 1,
                at: f.updated_at,
                actor: None,
                quiet: false,
                finding: ChangeFinding {
                    item,
                    generator_id: format!("rule.{i}"),
                    record_state: RecordState::Active,
                    severity_before: None,
                    status_before: None,
                    note: None,
                    caller: None,
                },
            }
        })
        .collect()
}

/// Sends `n` alerts through a sink paced at `interval`; prints the rate kept.
async fn paced(url: &str, seen: &Seen, interval: Duration, n: usize) {
    let s = sink(url, interval);
    let from = seen.lock().unwrap().len();
    let all = changes(n, &format!("paced{}", interval.as_millis()));
    for batch in all.chunks(s.max_batch()) {
        s.send(batch).await.unwrap();
    }
    let at: Vec<Instant> = seen.lock().unwrap()[from..]
        .iter()
        .map(|(t, _)| *t)
        .collect();
    let gaps: Vec<Duration> = at.windows(2).map(|w| w[1] - w[0]).collect();
    let span = at[at.len() - 1] - at[0];
    println!(
        "  pacing {:>4} ms (configured {:.2} messages/s): {n} messages, {:.2} messages/s, gaps min {:.0} ms, max {:.0} ms",
        interval.as_millis(),
        1.0 / interval.as_secs_f64(),
        (n - 1) as f64 / span.as_secs_f64(),
        gaps.iter().min().unwrap().as_secs_f64() * 1e3,
        gaps.iter().max().unwrap().as_secs_f64() * 1e3,
    );
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The corpus's Security Hub control finding as a new CRITICAL finding `n` (one
/// finding per post, no detection rule on it).
fn critical(sample: &serde_json::Value, n: usize) -> String {
    let mut f = sample.get("Findings").map_or(sample, |v| &v[0]).clone();
    f["Id"] = format!(
        "{}/bench-slack-{n}-{}",
        f["Id"].as_str().unwrap_or("f"),
        uuid::Uuid::new_v4()
    )
    .into();
    f["Severity"] = serde_json::json!({"Label": "CRITICAL", "Normalized": 90});
    f["UpdatedAt"] = chrono::Utc::now().to_rfc3339().into();
    f["Workflow"] = serde_json::json!({"Status": "NEW"});
    f["RecordState"] = "ACTIVE".into();
    f["Compliance"] = serde_json::json!({"Status": "FAILED"});
    f.to_string()
}

async fn end_to_end(url: &str, seen: &Seen) {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    let sample: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(corpus.join(
            "asff/awsdocs__securityhub_sample-control-findings_CloudTrail.2-CloudTrail-should-have-encryption-at-2.json",
        ))
        .expect("the corpus (../shared/corpus)"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sinks = dir.path().join("sinks.yaml");
    std::fs::write(
        &sinks,
        "sinks:\n  - {name: oncall, kind: slack, webhook_url_env: BENCH_SLACK_URL}\n\
         routes:\n  - {name: critical, match: {severity_at_least: CRITICAL}, to: [oncall]}\n",
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_cspm"))
            .args([
                "serve",
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(dir.path().join("data"))
            .arg("--sinks")
            .arg(&sinks)
            .env("BENCH_SLACK_URL", url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cspm serve"),
    );
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http.get(format!("{base}/health")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut latencies = Vec::new();
    for n in 0..EVENTS {
        let before = seen.lock().unwrap().len();
        let t0 = Instant::now();
        let r = http
            .post(format!("{base}/events"))
            .header("content-type", "application/json")
            .body(critical(&sample, n))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "POST /events: {}", r.status());
        let arrived = loop {
            if let Some((at, _)) = seen.lock().unwrap().get(before) {
                break *at;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "no Slack message for event {n}"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        latencies.push(arrived - t0);
        let pause = rand::rng().random_range(0..=1200);
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    latencies.sort();
    let q = |p: f64| {
        latencies[((p * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    println!(
        "  POST /events -> Slack server: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms over {EVENTS} CRITICAL findings \
         (paced 1/s; goal p99 <= 1500 ms)",
        q(0.5).as_secs_f64() * 1e3,
        q(0.99).as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3,
    );
}

async fn run() {
    let (seen, url) = slack_server().await;
    println!("Slack sink, local webhook server on 127.0.0.1:");
    let s = sink(&url, Duration::ZERO);
    let all = changes(UNPACED, "unpaced");
    let t = Instant::now();
    for batch in all.chunks(s.max_batch()) {
        s.send(batch).await.unwrap();
    }
    let took = t.elapsed();
    assert_eq!(seen.lock().unwrap().len(), UNPACED);
    println!(
        "  pacing off: {UNPACED} messages in {:.2} s = {:.0} messages/s (goal >= 1000)",
        took.as_secs_f64(),
        UNPACED as f64 / took.as_secs_f64()
    );
    paced(&url, &seen, Duration::from_millis(200), 26).await;
    paced(&url, &seen, Duration::from_secs(1), 6).await;
    end_to_end(&url, &seen).await;
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}
