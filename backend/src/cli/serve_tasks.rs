//! Upkeep tasks `cspm serve` runs beside the API: sweeping old export files,
//! folding the SQLite store's resource counters and compliance results (each
//! aborted at shutdown), and folding the compliance results once at start.

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

/// Folds the compliance results at start, in the background, so the
/// dashboard's first compliance card does not wait for it: on a file never
/// folded (new, or from a version before them) that is a read of every finding
/// (store/sqlite/compliance_fold.rs). Only SQLite keeps them.
pub(super) fn warm_compliance(store: Option<&SqliteStore>) {
    if let Some(s) = store.cloned() {
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match s.fold_compliance().await {
                Ok(n) => {
                    tracing::info!(took = ?started.elapsed(), folded = n, "compliance results folded")
                }
                Err(e) => tracing::warn!(error = %e, "folding the compliance results failed"),
            }
        });
    }
}
