//! The change feed through the real binaries: `cspm serve --sinks` delivering to a
//! local webhook receiver, killed with SIGKILL in the middle of a 50,000-change
//! burst and restarted (nothing lost, nothing skipped), and `cspm sinks lint |
//! status | retry | test`.

use crate::events::compact_finding;
use crate::webhook::spawn_receiver;
use cspm::store::{ChangeFeed, SqliteStore};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CSPM: &str = env!("CARGO_BIN_EXE_cspm");

fn serve(data_dir: &Path, sinks: &Path) -> Child {
    let mut child = Command::new(CSPM)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--no-archive",
            "--dashboard-dir",
            "/nonexistent",
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--sinks")
        .arg(sinks)
        .env_remove("CSPM_API_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cspm serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("listening on"), "{line:?}");
    child
}

/// Change keys the receiver got (every request's `changes[].key`), with repeats.
fn received_keys(r: &crate::webhook::Receiver) -> Vec<String> {
    r.requests
        .lock()
        .unwrap()
        .iter()
        .flat_map(|(_, body, _)| {
            let v: Value = serde_json::from_slice(body).unwrap();
            v["changes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["key"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_serve_mid_burst_loses_and_skips_nothing() {
    let (receiver, url) = spawn_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sinks = dir.path().join("sinks.yaml");
    std::fs::write(
        &sinks,
        format!("sinks:\n  - {{name: hook, kind: webhook, url: \"{url}\"}}\n"),
    )
    .unwrap();
    // 50,000 distinct findings, one per line.
    let input = dir.path().join("burst.jsonl");
    {
        let base = compact_finding();
        let mut w = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
        for i in 0..50_000 {
            let mut d = base.clone();
            d["Id"] = json!(format!("burst/{i}"));
            writeln!(w, "{d}").unwrap();
        }
    }
    std::fs::create_dir_all(&data).unwrap();
    let mut server = serve(&data, &sinks);
    let ingest = Command::new(CSPM)
        .args(["ingest", "--data-dir"])
        .arg(&data)
        .arg(&input)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Kill the server once some, but not all, of the burst was delivered.
    let t = Instant::now();
    while received_keys(&receiver).len() < 2_000 && t.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let at_kill = received_keys(&receiver).len();
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    assert!(
        at_kill < 50_000,
        "the burst finished before the kill: nothing tested"
    );
    let out = ingest.wait_with_output().unwrap();
    assert!(out.status.success());

    let mut server = serve(&data, &sinks);
    // Until everything arrived, or nothing more arrives for 30 s (a loss, or a
    // stuck dispatcher): a busy machine delivers slower, but keeps delivering.
    let (mut last, mut moved) = (0, Instant::now());
    loop {
        let got = received_keys(&receiver)
            .into_iter()
            .collect::<HashSet<String>>()
            .len();
        if got >= 50_000 || moved.elapsed() > Duration::from_secs(30) {
            break;
        }
        if got > last {
            (last, moved) = (got, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let keys = received_keys(&receiver);
    let distinct: HashSet<&String> = keys.iter().collect();
    let store = SqliteStore::open_dir(&data).unwrap();
    let recorded: HashSet<String> = store
        .changes_after(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.key)
        .collect();
    assert_eq!(recorded.len(), 50_000);
    let missing = recorded.iter().filter(|k| !distinct.contains(k)).count();
    assert_eq!(missing, 0, "changes lost across the kill");
    assert!(
        distinct.iter().all(|k| recorded.contains(*k)),
        "a key that was never recorded"
    );
    eprintln!(
        "kill -9 after {at_kill} deliveries: {} delivered in all, {} of them again after the restart",
        keys.len(),
        keys.len() - distinct.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sinks_lint_status_retry_and_test_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    // Lint: problems with their line, exit 1.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "sinks:\n  - {name: a, kind: log}\n  - {name: b, kind: webhook, url: \"http://169.254.169.254/x\"}\n",
    )
    .unwrap();
    let out = Command::new(CSPM)
        .args(["sinks", "lint"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("line 3") && text.contains("169.254.169.254"),
        "{text}"
    );

    // A receiver that refuses (404) until told otherwise: the batch parks.
    let (receiver, url) = spawn_receiver().await;
    receiver.script.lock().unwrap().push_back((404, None));
    let sinks = dir.path().join("sinks.yaml");
    std::fs::write(
        &sinks,
        format!("sinks:\n  - {{name: hook, kind: webhook, url: \"{url}\", secret_env: CSPM_TEST_HOOK_SECRET}}\n"),
    )
    .unwrap();
    let out = Command::new(CSPM)
        .args(["sinks", "lint"])
        .arg(&sinks)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut server = {
        let mut child = Command::new(CSPM)
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--no-archive",
                "--dashboard-dir",
                "/nonexistent",
            ])
            .arg("--data-dir")
            .arg(&data)
            .arg("--sinks")
            .arg(&sinks)
            .env("CSPM_TEST_HOOK_SECRET", "0123456789abcdef")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap()
            .to_string();
        let body = json!([compact_finding()]).to_string();
        let resp = reqwest::Client::new()
            .post(format!("{base}/events"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        child
    };
    let t = Instant::now();
    let status = loop {
        let out = Command::new(CSPM)
            .args(["sinks", "status", "--data-dir"])
            .arg(&data)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if text.contains("parked #") || t.elapsed() > Duration::from_secs(20) {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        status.contains("hook") && status.contains("[1 parked]"),
        "{status}"
    );
    assert!(status.contains("HTTP 404"), "{status}");

    // The receiver works again: retry delivers the parked batch, signed.
    let out = Command::new(CSPM)
        .args(["sinks", "retry", "hook", "--sinks"])
        .arg(&sinks)
        .arg("--data-dir")
        .arg(&data)
        .env("CSPM_TEST_HOOK_SECRET", "0123456789abcdef")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let last = receiver.requests.lock().unwrap().last().cloned().unwrap();
    assert!(last.0.contains_key("x-cspm-signature"));
    // The audit log has the parking and the redelivery (its outbox waits for the
    // next `cspm serve`; chain it here as that writer would).
    {
        let db = data.join(cspm::store::sqlite::DB_FILE);
        let outbox = cspm::sinks::audit::local::Outbox::open(&db).unwrap();
        let audit = data.join("audit");
        let mut w = cspm::sinks::audit::local::LocalWriter::open(&audit, &db, &outbox).unwrap();
        w.drain().unwrap();
        let events: Vec<(String, String)> = crate::audit::support::lines(&audit)
            .iter()
            .map(|v| {
                (
                    v["event"].as_str().unwrap().into(),
                    v["sink"].as_str().unwrap_or("-").into(),
                )
            })
            .collect();
        let parked = ("parked".to_string(), "hook".to_string());
        let redelivered = ("redelivered".to_string(), "hook".to_string());
        assert_eq!(events, [parked, redelivered]);
    }
    let out = Command::new(CSPM)
        .args(["sinks", "status", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("parked #"));

    // A test message says so.
    let out = Command::new(CSPM)
        .args(["sinks", "test", "hook", "--sinks"])
        .arg(&sinks)
        .arg("--data-dir")
        .arg(&data)
        .env("CSPM_TEST_HOOK_SECRET", "0123456789abcdef")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let last = receiver.requests.lock().unwrap().last().cloned().unwrap();
    let body: Value = serde_json::from_slice(&last.1).unwrap();
    assert!(body["changes"][0]["finding"]["title"]
        .as_str()
        .unwrap()
        .contains("TEST MESSAGE"));
    // Without the secret, the sink cannot be built and says which variable is missing.
    let out = Command::new(CSPM)
        .args(["sinks", "test", "hook", "--sinks"])
        .arg(&sinks)
        .arg("--data-dir")
        .arg(&data)
        .env_remove("CSPM_TEST_HOOK_SECRET")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("CSPM_TEST_HOOK_SECRET"));
}
