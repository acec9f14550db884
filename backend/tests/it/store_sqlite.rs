//! The SQLite store against the shared contract, on real database files.

use super::store_contract::{run_contract, StoreFactory};
use cspm::store::{SqliteStore, Store};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[tokio::test]
async fn sqlite_store_passes_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let n = Arc::new(AtomicUsize::new(0));
    let factory: StoreFactory = Box::new(move || {
        let file = path.join(format!("contract-{}.db", n.fetch_add(1, Ordering::SeqCst)));
        Box::pin(async move { Arc::new(SqliteStore::open(&file).unwrap()) as Arc<dyn Store> })
    });
    run_contract(&factory).await;
}

#[tokio::test]
async fn sqlite_store_survives_reopening_with_wal_files() {
    let dir = tempfile::tempdir().unwrap();
    let fs = super::helpers::findings(20, 3);
    {
        let s = SqliteStore::open_dir(dir.path()).unwrap();
        s.upsert(&fs).await.unwrap();
    }
    let s = SqliteStore::open_dir(dir.path()).unwrap();
    let today = super::helpers::anchor().date_naive();
    assert_eq!(s.summary(today).await.unwrap().total, 20);
    let mode: String = rusqlite::Connection::open(dir.path().join("cspm.db"))
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn sqlite_count_estimates_stay_within_their_bound() {
    let dir = tempfile::tempdir().unwrap();
    // 25 rows per count: most q/since/until views of 260 findings cannot be
    // read to the end (and time windows are not counted exactly first).
    let store = SqliteStore::open(&dir.path().join("c.db"))
        .unwrap()
        .with_count_rows(25)
        .without_exact_time_counts();
    let estimates =
        super::store_contract::count::estimates_stay_within_their_bound(Arc::new(store)).await;
    assert!(estimates >= 5, "only {estimates} estimates");
}
