//! Upkeep tasks `cspm serve` runs beside the API: sweeping old export files,
//! folding the SQLite store's resource counters and compliance results, and
//! taking the day's compliance snapshot (each aborted at shutdown; the first
//! snapshot, at start, folds the compliance results in the background).

use crate::export::jobs::{ExportJobs, LocalExportFiles, Runner};
use crate::store::SqliteStore;
use std::sync::Arc;
use std::time::Duration;

/// How often old export files are looked for (each finished job sweeps too).
const EXPORT_SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// How often resource counters (store/sqlite/resource_counts.rs) and compliance
/// results (store/sqlite/compliance_fold.rs) are folded, so a grouping or a
/// compliance report finds little left to fold.
const FOLD_EVERY: Duration = Duration::from_secs(5);

/// How often today's compliance snapshot is taken (both stores keep
/// compliance rows per control: a report costs milliseconds; where they
/// cannot answer, the read of every finding is made once a day,
/// compliance/daily.rs): the day's point then follows the findings whether or
/// not anyone opens the compliance page, and a day is never without one while
/// the server runs.
const SNAPSHOT_EVERY: Duration = Duration::from_secs(600);

/// Export jobs of `cspm serve` and the task that sweeps their old files.
pub(super) struct Exports {
    /// The jobs the API queues and reads.
    pub(super) jobs: ExportJobs,
    /// The sweeping task.
    pub(super) sweeper: tokio::task::JoinHandle<()>,
}

/// Export jobs run in this process, their files in `DATA_DIR/exports/`; old
/// ones are swept now and every [`EXPORT_SWEEP_EVERY`].
pub(super) fn start_exports(
    store: Arc<dyn crate::store::Store>,
    data_dir: &std::path::Path,
) -> Exports {
    let files = Arc::new(LocalExportFiles::new(data_dir));
    let jobs = ExportJobs::new(store, files, Runner::InProcess);
    let sweeping = jobs.clone();
    let sweeper = tokio::spawn(async move {
        let mut every = tokio::time::interval(EXPORT_SWEEP_EVERY);
        loop {
            every.tick().await;
            sweeping.sweep_logged(chrono::Utc::now()).await;
        }
    });
    Exports { jobs, sweeper }
}

/// Folds `store`'s resource counters and compliance results every
/// [`FOLD_EVERY`] (none for a store other than SQLite).
pub(super) fn start_folding(store: Option<&SqliteStore>) -> Option<tokio::task::JoinHandle<()>> {
    store.map(|s| s.spawn_folding(FOLD_EVERY))
}

/// Takes today's compliance snapshot now, in the background (on SQLite that
/// first folds the compliance results, so the dashboard's first compliance
/// card does not wait for it), and then every [`SNAPSHOT_EVERY`], whatever the
/// archive settings: a snapshot is written only when the day's scores changed
/// (compliance/daily.rs).
pub(super) fn start_snapshots(store: Arc<dyn crate::store::Store>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SNAPSHOT_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let today = chrono::Utc::now().date_naive();
            let started = std::time::Instant::now();
            match crate::compliance::daily::take_snapshot(store.as_ref(), today).await {
                // The first one (at start) folds the compliance results of a
                // file never folded: a read of every finding, 40 s at 1M.
                Ok(written) => {
                    tracing::info!(%today, written, took = ?started.elapsed(), "compliance snapshot")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "compliance snapshot failed; trying again later")
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// Nobody opens the compliance page: the task still stores today's point.
    #[tokio::test]
    async fn todays_snapshot_is_taken_without_a_compliance_request() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).unwrap();
        let anchor = "2026-06-01T00:00:00Z".parse().unwrap();
        let all: Vec<_> = crate::demo::generate(200, anchor, 3).collect();
        store.upsert(&all).await.unwrap();
        let task = start_snapshots(Arc::new(store.clone()));
        let today = chrono::Utc::now().date_naive();
        let mut rows = Vec::new();
        for _ in 0..100 {
            rows = store.compliance_snapshots(today, today).await.unwrap();
            if !rows.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        task.abort();
        let slugs: Vec<&str> = rows.iter().map(|r| r.slug.as_str()).collect();
        assert_eq!(slugs, vec!["aws-fsbp", "cis-1.4"]);
    }
}
