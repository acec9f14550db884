//! The local dispatcher over a real SQLite store, with recording sinks: retries
//! without losing or reordering anything, parking what keeps failing while the
//! other sinks keep up, new sinks starting at the head, restarts resuming exactly,
//! and changes another process writes to the same file arriving within a second.

use crate::helpers::{findings, version};
use cspm::feed::{DispatchSettings, Dispatcher, RetryPolicy, Running, SinkState};
use cspm::retry::Backoff;
use cspm::sinks::recording::RecordingSink;
use cspm::sinks::{Filter, Sink, SinkError};
use cspm::store::{Change, ChangeFeed, SqliteStore, Store};
use shared_types::Finding;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Rig {
    store: SqliteStore,
    state: SinkState,
    _dir: tempfile::TempDir,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let state = SinkState::open(store.path()).unwrap();
    Rig {
        store,
        state,
        _dir: dir,
    }
}

/// Fast retries so the tests stay short.
fn fast() -> DispatchSettings {
    DispatchSettings {
        retry: RetryPolicy {
            backoff: Backoff {
                max_attempts: 4,
                base: Duration::from_millis(20),
                cap: Duration::from_millis(100),
            },
            max_age: Duration::from_secs(60),
        },
        poll: Duration::from_millis(50),
        ..Default::default()
    }
}

async fn start(r: &Rig, sinks: Vec<Arc<dyn Sink>>, settings: DispatchSettings) -> Running {
    Dispatcher::new(Arc::new(r.store.clone()), r.state.clone(), sinks, settings)
        .start()
        .await
        .unwrap()
}

/// Waits (bounded) until `sink` holds `n` changes.
async fn wait_for(sink: &RecordingSink, n: usize, within: Duration) -> Vec<Change> {
    let t = Instant::now();
    loop {
        let got = sink.received();
        if got.len() >= n || t.elapsed() > within {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Each finding's revisions in delivery order must be increasing, each key once.
fn assert_ordered_once(got: &[Change]) {
    let mut last: BTreeMap<&str, u64> = BTreeMap::new();
    let mut keys = HashSet::new();
    for c in got {
        assert!(keys.insert(c.key.clone()), "{} delivered twice", c.key);
        let prev = last.insert(c.finding_id(), c.revision).unwrap_or(0);
        assert!(c.revision > prev, "{} after revision {prev}", c.key);
    }
}

fn all() -> Filter {
    Filter::default()
}

/// Versions 0..n of each finding, interleaved, written in batches.
async fn write_history(store: &SqliteStore, fs: &[Finding], versions: i64) -> usize {
    let mut n = 0;
    for v in 0..versions {
        let batch: Vec<Finding> = fs.iter().map(|f| version(f, v * 60)).collect();
        n += store.upsert(&batch).await.unwrap().outcomes.len();
    }
    n
}

#[tokio::test]
async fn a_sink_failing_then_recovering_gets_every_change_in_order_once() {
    let r = rig();
    let flaky = Arc::new(RecordingSink::new("flaky", all()));
    flaky.fail_with([
        SinkError::retryable("503"),
        SinkError::retryable("timeout"),
        SinkError::Retryable {
            reason: "429".into(),
            retry_after: Some(Duration::from_millis(50)),
        },
    ]);
    let steady = Arc::new(RecordingSink::new("steady", all()));
    let running = start(&r, vec![flaky.clone(), steady.clone()], fast()).await;
    let fs = findings(40, 51);
    let n = write_history(&r.store, &fs, 5).await;
    let got = wait_for(&flaky, n, Duration::from_secs(20)).await;
    assert_eq!(got.len(), n);
    assert_ordered_once(&got);
    assert_eq!(wait_for(&steady, n, Duration::from_secs(5)).await.len(), n);
    assert!(flaky.attempts() > steady.attempts());
    running.stop().await;
    let h = r.state.health("flaky").await.unwrap();
    assert_eq!(h.tries, 0, "healthy again");
    assert!(h.last_error.is_some());
    assert_eq!(
        r.state.cursor("flaky").await.unwrap(),
        Some(r.store.head().await.unwrap())
    );
}

#[tokio::test]
async fn a_sink_that_keeps_failing_parks_while_the_others_keep_up() {
    let r = rig();
    let broken = Arc::new(RecordingSink::new("broken", all()));
    broken.fail_with((0..100).map(|_| SinkError::retryable("connection refused")));
    let permanent = Arc::new(RecordingSink::new("gone", all()));
    permanent.fail_with([SinkError::permanent("HTTP 404")]);
    let steady = Arc::new(RecordingSink::new("steady", all()));
    let running = start(
        &r,
        vec![broken.clone(), permanent.clone(), steady.clone()],
        fast(),
    )
    .await;
    let fs = findings(30, 52);
    r.store.upsert(&fs).await.unwrap();
    // The healthy sink does not wait for the broken one.
    assert_eq!(
        wait_for(&steady, 30, Duration::from_secs(5)).await.len(),
        30
    );
    let t = Instant::now();
    while r.state.parked(None).await.unwrap().len() < 2 && t.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.stop().await;
    let parked = r.state.parked(None).await.unwrap();
    let by_sink: BTreeMap<&str, usize> = parked
        .iter()
        .map(|p| (p.sink.as_str(), p.changes.len()))
        .collect();
    assert_eq!(by_sink.get("broken"), Some(&30));
    assert_eq!(by_sink.get("gone"), Some(&30));
    let gone = parked.iter().find(|p| p.sink == "gone").unwrap();
    assert_eq!(
        (gone.tries, gone.error.as_str()),
        (1, "HTTP 404"),
        "a permanent failure parks at once"
    );
    let broken_parked = parked.iter().find(|p| p.sink == "broken").unwrap();
    assert_eq!(broken_parked.tries, 4, "parked after the policy's tries");
    // Parked means passed: both cursors moved on.
    let head = r.store.head().await.unwrap();
    assert_eq!(r.state.cursor("broken").await.unwrap(), Some(head));
    assert_eq!(r.state.cursor("gone").await.unwrap(), Some(head));
}

#[tokio::test]
async fn a_new_sink_starts_at_the_head_and_a_restart_resumes_where_it_stopped() {
    let r = rig();
    r.store.upsert(&findings(20, 53)).await.unwrap(); // history a new sink must not flood
    let first = Arc::new(RecordingSink::new("s", all()));
    let running = start(&r, vec![first.clone()], fast()).await;
    let more = findings(10, 54);
    r.store.upsert(&more).await.unwrap();
    let got = wait_for(&first, 10, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 10, "only what came after it started");
    running.stop().await;

    // Written while the dispatcher is down.
    let later = findings(7, 55);
    r.store.upsert(&later).await.unwrap();
    let second = Arc::new(RecordingSink::new("s", all()));
    let running = start(&r, vec![second.clone()], fast()).await;
    let got = wait_for(&second, 7, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    running.stop().await;
    let ids: HashSet<String> = second
        .received()
        .iter()
        .map(|c| c.finding_id().to_string())
        .collect();
    let want: HashSet<String> = later.iter().map(|f| f.id.clone()).collect();
    assert_eq!(got.len(), 7);
    assert_eq!(ids, want, "exactly the changes it missed");

    // A deliberate backfill from a seq.
    let replay = Arc::new(RecordingSink::new("replayed", all()));
    let settings = DispatchSettings {
        replay_from: Some(1),
        ..fast()
    };
    let running = start(&r, vec![replay.clone()], settings).await;
    let got = wait_for(&replay, 37, Duration::from_secs(5)).await;
    running.stop().await;
    assert_eq!(got.len(), 37, "every change from seq 1");
}

#[tokio::test]
async fn quiet_changes_reach_only_sinks_that_ask_for_them() {
    let r = rig();
    let loud = Arc::new(RecordingSink::new("loud", all()));
    let everything = Arc::new(RecordingSink::new(
        "everything",
        Filter {
            quiet: true,
            ..Default::default()
        },
    ));
    let running = start(&r, vec![loud.clone(), everything.clone()], fast()).await;
    r.store
        .upsert_from(&findings(5, 56), cspm::store::Origin::Demo)
        .await
        .unwrap();
    r.store.upsert(&findings(3, 57)).await.unwrap();
    assert_eq!(
        wait_for(&everything, 8, Duration::from_secs(5)).await.len(),
        8
    );
    assert_eq!(wait_for(&loud, 3, Duration::from_secs(5)).await.len(), 3);
    tokio::time::sleep(Duration::from_millis(200)).await;
    running.stop().await;
    assert!(loud.received().iter().all(|c| !c.quiet));
}

#[tokio::test]
async fn another_process_ingesting_into_the_same_file_is_seen_within_a_second() {
    let r = rig();
    let sink = Arc::new(RecordingSink::new("s", all()));
    let running = start(
        &r,
        vec![sink.clone()],
        DispatchSettings {
            poll: Duration::from_millis(250),
            ..fast()
        },
    )
    .await;
    let data_dir = r.store.path().parent().unwrap().to_path_buf();
    let file = crate::helpers::corpus_dir().join("asff-envelope");
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cspm"))
        .args(["ingest", "--data-dir"])
        .arg(&data_dir)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = started.elapsed();
    let head = r.store.head().await.unwrap();
    assert!(head > 0);
    let got = wait_for(&sink, head as usize, Duration::from_secs(5)).await;
    let seen = started.elapsed();
    running.stop().await;
    assert_eq!(got.len() as u64, head);
    assert!(
        seen - written < Duration::from_secs(1),
        "seen {:?} after the other process finished",
        seen - written
    );
}
