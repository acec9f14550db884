//! The sink contract on the kinds without a network target: the recording sink
//! (the dispatcher tests' double), the log sink (its lines captured from the
//! tracing output), the live sink of `cspm serve` (frames read off the hub) and the
//! audit log (records read from its outbox in the store's SQLite file).

use super::{arc, id_of_key, ready, run_contract, Input, Probe, Subject, WithFilter};
use cspm::sinks::audit::local::Outbox;
use cspm::sinks::audit::{AuditSink, AUDIT_SINK};
use cspm::sinks::live::{LiveHub, LiveSink};
use cspm::sinks::log::LogSink;
use cspm::sinks::recording::RecordingSink;
use cspm::sinks::{Filter, SinkError};
use cspm::store::Store;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast::error::TryRecvError;

#[tokio::test]
async fn the_recording_sink_meets_the_sink_contract() {
    let input = Input::build().await;
    let sink = Arc::new(RecordingSink::new("recorder", Filter::default()));
    let target = sink.clone();
    let seen: Probe = Box::new(move || {
        ready(
            target
                .received()
                .iter()
                .map(|c| c.finding_id().to_string())
                .collect(),
        )
    });
    let mut s = Subject::new("recorder", sink, seen);
    let with_filter: WithFilter = Box::new(|f: Filter| arc(RecordingSink::new("recorder", f)));
    s.with_filter = Some(with_filter);
    // Its "target" is its script: the errors it is told to fail with come back as they are.
    let unreachable = RecordingSink::new("recorder", Filter::default());
    unreachable.fail_with([SinkError::retryable("connection refused")]);
    s.unreachable = Some(arc(unreachable));
    let refused = RecordingSink::new("recorder", Filter::default());
    refused.fail_with([SinkError::permanent("HTTP 404")]);
    s.refused = Some(arc(refused));
    run_contract(&s, &input).await;
}

/// Everything a tracing subscriber writes, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The finding ids of the log sink's lines so far (by their change key).
    fn logged(&self) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["target"] == "cspm::sinks::log")
            .map(|v| {
                let key = v["fields"]["key"]
                    .as_str()
                    .expect("each line names its key");
                id_of_key(key)
            })
            .collect()
    }
}

// Single-threaded on purpose: the subscriber below is this thread's default only,
// so the sink's lines land in it and no other test's do.
#[tokio::test(flavor = "current_thread")]
async fn the_log_sink_meets_the_sink_contract() {
    let input = Input::build().await;
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let seen: Probe = Box::new(move || ready(out.logged()));
    let mut s = Subject::new("trail", arc(LogSink::new("trail", Filter::default())), seen);
    let with_filter: WithFilter = Box::new(|f: Filter| arc(LogSink::new("trail", f)));
    s.with_filter = Some(with_filter);
    run_contract(&s, &input).await;
}

#[tokio::test]
async fn the_local_live_sink_meets_the_sink_contract() {
    let input = Input::build().await;
    let hub = LiveHub::new(0);
    // Subscribed before anything is sent, as an open dashboard is.
    let rx = Arc::new(Mutex::new(hub.subscribe()));
    let frames: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen: Probe = Box::new(move || {
        let mut rx = rx.lock().unwrap();
        let mut frames = frames.lock().unwrap();
        loop {
            match rx.try_recv() {
                Ok(frame) => {
                    let v: Value = serde_json::from_str(&frame.json).unwrap();
                    let id = v["item"]["id"]
                        .as_str()
                        .expect("a change's frame carries its item");
                    frames.push(id.to_string());
                }
                Err(TryRecvError::Empty) => break,
                Err(e) => panic!("live frames lost: {e}"),
            }
        }
        ready(frames.clone())
    });
    let s = Subject::new("live", arc(LiveSink::new(hub)), seen);
    run_contract(&s, &input).await;
}

#[tokio::test]
async fn the_audit_log_meets_the_sink_contract() {
    let input = Input::build().await;
    let db = input.store.path().to_path_buf();
    // The journal `cspm serve` gives it: the outbox table in the store's own file.
    let outbox = Outbox::open(&db).unwrap();
    let findings: Arc<dyn Store> = Arc::new(input.store.clone());
    let sink = AuditSink::new(Arc::new(outbox), Some(findings));
    let seen: Probe = Box::new(move || {
        let c = rusqlite::Connection::open(&db).unwrap();
        let mut stmt = c
            .prepare("SELECT record FROM audit_outbox ORDER BY id")
            .unwrap();
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|r| {
                let v: Value = serde_json::from_str(&r.unwrap()).unwrap();
                v["finding_id"]
                    .as_str()
                    .expect("a change's record names its finding")
                    .to_string()
            })
            .collect();
        ready(ids)
    });
    let s = Subject::new(AUDIT_SINK, arc(sink), seen);
    run_contract(&s, &input).await;
}
