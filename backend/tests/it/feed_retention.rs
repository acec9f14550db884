//! The change feed's retention window (`cspm serve --feed-retention`), through the
//! local dispatcher over a real SQLite store: a change goes only once it is older
//! than the window *and* every configured sink's cursor has passed it.

use crate::helpers::findings;
use cspm::feed::{DispatchSettings, Dispatcher, RetryPolicy, Running, SinkState};
use cspm::retry::Backoff;
use cspm::sinks::recording::RecordingSink;
use cspm::sinks::{Filter, Sink, SinkError};
use cspm::store::{ChangeFeed, SqliteStore, Store};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Long enough that the young changes below are still inside it when the trimmer
/// looks, on a busy machine too.
const WINDOW: Duration = Duration::from_secs(3);

fn settings() -> DispatchSettings {
    DispatchSettings {
        retry: RetryPolicy {
            // The stuck sink must stay stuck: parking would move its cursor on.
            backoff: Backoff {
                max_attempts: 1_000_000,
                base: Duration::from_millis(10),
                cap: Duration::from_millis(50),
            },
            max_age: Duration::from_secs(600),
        },
        poll: Duration::from_millis(50),
        keep: WINDOW,
        trim_every: Duration::from_millis(50),
        ..Default::default()
    }
}

async fn start(store: &SqliteStore, state: &SinkState, sinks: Vec<Arc<dyn Sink>>) -> Running {
    Dispatcher::new(Arc::new(store.clone()), state.clone(), sinks, settings())
        .start()
        .await
        .unwrap()
}

/// Waits (bounded) until `sink` holds `n` changes.
async fn wait_for(sink: &RecordingSink, n: usize) {
    let t = Instant::now();
    while sink.received().len() < n && t.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sink.received().len(), n, "{} did not catch up", sink.name());
}

fn ids(changes: &[cspm::store::Change]) -> BTreeSet<String> {
    changes.iter().map(|c| c.finding_id().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_go_only_past_the_window_and_behind_every_sinks_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let state = SinkState::open(store.path()).unwrap();
    let steady = Arc::new(RecordingSink::new("steady", Filter::default()));
    let stuck = Arc::new(RecordingSink::new("stuck", Filter::default()));
    stuck.fail_with((0..10_000).map(|_| SinkError::retryable("connection refused")));
    let running = start(&store, &state, vec![steady.clone(), stuck.clone()]).await;

    let old = findings(6, 71);
    store.upsert(&old).await.unwrap();
    wait_for(&steady, 6).await;
    // The old changes age past the window while the trimmer keeps running.
    tokio::time::sleep(WINDOW + Duration::from_millis(500)).await;
    let young = findings(4, 72);
    store.upsert(&young).await.unwrap();
    wait_for(&steady, 10).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // several trimming passes
    let kept = store.changes_after(0, 1000).await.unwrap();
    assert_eq!(
        kept.len(),
        10,
        "the stuck sink has read nothing yet: nothing may go, however old"
    );
    assert_eq!(state.cursor("stuck").await.unwrap(), Some(0));
    assert!(stuck.received().is_empty());
    assert_eq!(state.cursor("steady").await.unwrap(), Some(10));
    running.stop().await;

    // The stuck sink leaves the configuration: only the window holds changes now.
    let running = start(&store, &state, vec![steady.clone() as Arc<dyn Sink>]).await;
    let t = Instant::now();
    let mut left = store.changes_after(0, 1000).await.unwrap();
    while left.len() > young.len() && t.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        left = store.changes_after(0, 1000).await.unwrap();
    }
    running.stop().await;
    let want: BTreeSet<String> = young.iter().map(|f| f.id.clone()).collect();
    let gone: BTreeSet<String> = old.iter().map(|f| f.id.clone()).collect();
    assert!(
        gone.is_disjoint(&want),
        "the two batches are different findings"
    );
    assert_eq!(
        ids(&left),
        want,
        "exactly the changes older than the window went, though the steady sink had read them all"
    );
    assert_eq!(
        store.head().await.unwrap(),
        10,
        "trimming never moves the head back"
    );
}
