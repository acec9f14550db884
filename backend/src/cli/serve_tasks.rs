//! Upkeep tasks `cspm serve` runs beside the API: sweeping old export files,
//! folding the SQLite store's resource counters (each aborted at shutdown), and
//! building the first compliance report.

use crate::export::jobs::{ExportJobs, LocalExportFiles, Runner};
use crate::store::SqliteStore;
use std::sync::Arc;
use std::time::Duration;

/// How often old export files are looked for (each finished job sweeps too).
const EXPORT_SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// How often resource counters are folded (store/sqlite/resource_counts.rs), so
/// a grouping finds little left to fold.
const RESOURCE_FOLD_EVERY: Duration = Duration::from_secs(5);

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

/// Folds `store`'s resource counters every [`RESOURCE_FOLD_EVERY`] (none for
/// a store other than SQLite).
pub(super) fn start_folding(store: Option<&SqliteStore>) -> Option<tokio::task::JoinHandle<()>> {
    store.map(|s| s.spawn_resource_folding(RESOURCE_FOLD_EVERY))
}

/// Builds the compliance report once at start, in the background, so the
/// dashboard's first compliance card does not wait for a read of every finding
/// (about 20 s at 1M): the report is kept while the store does not change
/// (compliance/daily.rs). Only SQLite keeps it; on DynamoDB it would be a full
/// read of the table for nothing.
pub(super) fn warm_compliance(store: Option<&SqliteStore>) {
    if let Some(s) = store.cloned() {
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match crate::compliance::daily::build_report(&s).await {
                Ok(_) => tracing::info!(took = ?started.elapsed(), "compliance report built"),
                Err(e) => tracing::warn!(error = %e, "building the compliance report failed"),
            }
        });
    }
}
