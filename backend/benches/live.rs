//! Live dashboard figures against the real `cspm serve` process (prints them; not
//! a timed test):
//! 1. server memory (VmRSS from /proc) with no client and with 1,000 idle
//!    WebSocket connections;
//! 2. `POST /events` → frame received, at every one of the 1,000 connections,
//!    over 50 events posted one after another (p50/p99 across all deliveries).
//!
//! `cargo bench -p backend --bench live` (release build). Linux only (/proc).

use futures::StreamExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

const CLIENTS: usize = 1_000;
const EVENTS: usize = 50;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A CloudTrail `CreateAccessKey` record, new each time (the rule fires on it).
fn event(n: usize) -> String {
    serde_json::json!({
        "eventVersion": "1.08", "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey",
        "eventTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "eventID": format!("bench-live-{n}-{}", uuid::Uuid::new_v4()), "awsRegion": "us-east-1",
        "recipientAccountId": "111122223333", "sourceIPAddress": "198.51.100.7", "userAgent": "bench",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333"},
        "requestParameters": {"userName": format!("user{n}")},
        "responseElements": {"accessKey": {"accessKeyId": format!("AKIABENCH{n:07}"), "userName": format!("user{n}"), "status": "Active"}}
    })
    .to_string()
}

/// The event number in a frame: the digits after `AKIABENCH` (see [`event`]).
fn key_index(frame: &str) -> Option<usize> {
    let at = frame.find("AKIABENCH")? + "AKIABENCH".len();
    frame.get(at..at + 7)?.parse().ok()
}

async fn run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr").port()
    };
    let base = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_cspm"))
        .args(["serve", "--addr", &base, "--data-dir"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cspm serve");
    let server = Server(child);
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http
            .get(format!("http://{base}/health"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = server.0.id();
    let before = rss_kib(pid);

    // 1,000 connections, each recording when it sees each finding frame.
    let arrivals: Arc<Mutex<Vec<Vec<Option<Instant>>>>> = Arc::new(Mutex::new(Vec::new()));
    let mut readers = Vec::new();
    for _ in 0..CLIENTS {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{base}/live"))
            .await
            .expect("connect");
        let arrivals = arrivals.clone();
        readers.push(tokio::spawn(async move {
            let (_tx, mut rx) = ws.split();
            // The detection rules turn one event into several findings (the key,
            // a key made for another user, an IAM change): an event has arrived
            // with the first frame that names its key.
            let mut seen: Vec<Option<Instant>> = vec![None; EVENTS];
            let mut got = 0;
            while got < EVENTS {
                match tokio::time::timeout(Duration::from_secs(60), rx.next()).await {
                    Ok(Some(Ok(Message::Text(t)))) if t.contains("\"type\":\"finding\"") => {
                        if let Some(n) = key_index(&t).filter(|n| *n < EVENTS) {
                            if seen[n].is_none() {
                                seen[n] = Some(Instant::now());
                                got += 1;
                            }
                        }
                    }
                    Ok(Some(Ok(_))) => {}
                    _ => break,
                }
            }
            arrivals.lock().await.push(seen);
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_kib(pid);
    println!(
        "server memory: {:.1} MiB without clients, {:.1} MiB with {CLIENTS} idle connections ({:.1} KiB each)",
        before as f64 / 1024.0,
        idle as f64 / 1024.0,
        (idle.saturating_sub(before)) as f64 / CLIENTS as f64
    );

    let mut posted = Vec::with_capacity(EVENTS);
    for n in 0..EVENTS {
        posted.push(Instant::now());
        let r = http
            .post(format!("http://{base}/events"))
            .header("content-type", "application/json")
            .body(event(n))
            .send()
            .await
            .expect("POST /events");
        assert!(r.status().is_success(), "POST /events: {}", r.status());
        // One event at a time, so each delivery is timed from its own post.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for r in readers {
        let _ = r.await;
    }
    let all = arrivals.lock().await;
    let mut lat: Vec<Duration> = Vec::new();
    let mut complete = 0;
    for seen in all.iter() {
        if seen.iter().all(Option::is_some) {
            complete += 1;
        }
        for (i, at) in seen.iter().enumerate() {
            if let Some(at) = at {
                lat.push(at.saturating_duration_since(posted[i]));
            }
        }
    }
    lat.sort();
    let q = |p: f64| lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1];
    println!(
        "POST /events -> frame at each of {CLIENTS} connections, {EVENTS} events: p50 {:?}, p99 {:?}, max {:?} ({} deliveries; {complete}/{CLIENTS} connections got all)",
        q(0.50),
        q(0.99),
        lat[lat.len() - 1],
        lat.len()
    );
    drop(server);
}
