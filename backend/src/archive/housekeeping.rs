//! What an archive run does after the archive is complete: drops the store's
//! counter tallies that netted to zero ([`Store::compact_counters`]), within
//! what is left of the run's time budget.

use crate::store::Store;
use std::time::{Duration, Instant};

/// Drops the zero tallies unless the run has no time left (it stopped early,
/// or its `time_budget` from `started` is spent); returns how many it dropped.
/// A failure or a timeout loses nothing (the tallies are 0 whether dropped or
/// not), so it is logged, not failed, and the next run tries again.
pub(super) async fn drop_zero_tallies(
    store: &dyn Store,
    time_budget: Option<Duration>,
    started: Instant,
    stopped_early: bool,
) -> u64 {
    let left = time_budget.map(|b| b.saturating_sub(started.elapsed()));
    if stopped_early || left.is_some_and(|l| l.is_zero()) {
        tracing::info!("no time left to drop zero counter tallies; the next run does");
        return 0;
    }
    let compact = store.compact_counters();
    let done = match left {
        Some(l) => tokio::time::timeout(l, compact).await.ok(),
        None => Some(compact.await),
    };
    match done {
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            tracing::warn!(error = %e, "dropping zero counter tallies failed; the next run tries again");
            0
        }
        None => {
            tracing::warn!("dropping zero counter tallies ran out of time; the next run goes on");
            0
        }
    }
}
