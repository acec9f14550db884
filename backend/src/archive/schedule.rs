//! The daily run inside `cspm serve`: sleep until the configured UTC time, archive,
//! repeat (the day's compliance snapshot is a task of its own: cli/serve_tasks.rs). A failed run is logged and retried the next day (nothing is lost by
//! failing: see [`super::run`]).

use super::options::ArchiveOptions;
use super::run::run_archive;
use super::ArchiveSink;
use crate::store::Store;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use std::future::Future;
use std::sync::Arc;

/// When and what the daily run archives.
#[derive(Debug, Clone)]
pub struct DailySchedule {
    /// Time of day (UTC) to run.
    pub at: NaiveTime,
    /// Findings not updated for this long are archived.
    pub retention: Duration,
}

/// The next time `at` (UTC) strictly after `now`.
pub fn next_run_after(now: DateTime<Utc>, at: NaiveTime) -> DateTime<Utc> {
    let today = now.date_naive().and_time(at).and_utc();
    if today > now {
        today
    } else {
        today + Duration::days(1)
    }
}

/// Runs the archiver every day at `schedule.at` until `shutdown` resolves.
/// `cspm serve` spawns this: `tokio::spawn(run_daily(store, sink, schedule, shutdown))`.
pub async fn run_daily(
    store: Arc<dyn Store>,
    sink: Arc<dyn ArchiveSink>,
    schedule: DailySchedule,
    shutdown: impl Future<Output = ()> + Send,
) {
    tokio::pin!(shutdown);
    loop {
        let now = Utc::now();
        let next = next_run_after(now, schedule.at);
        let wait = (next - now).to_std().unwrap_or_default();
        tracing::info!(next = %next, "next archive run");
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(wait) => {}
        }
        let opts = ArchiveOptions::older_than(Utc::now(), schedule.retention);
        match run_archive(store.as_ref(), sink.as_ref(), &opts, None).await {
            Ok(r) => tracing::info!(
                run = %r.run_id, parts = r.parts, archived = r.archived, deleted = r.deleted,
                kept = r.kept, already_archived = r.already_archived,
                tallies_dropped = r.tallies_dropped, "archive run done"
            ),
            Err(e) => {
                tracing::error!(error = %e, "archive run failed; the next run will finish it")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_next_run_is_today_if_the_time_is_still_ahead_else_tomorrow() {
        let at = NaiveTime::from_hms_opt(3, 0, 0).unwrap();
        let before = Utc.with_ymd_and_hms(2026, 11, 21, 2, 59, 59).unwrap();
        assert_eq!(
            next_run_after(before, at),
            Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap()
        );
        let exactly = Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap();
        assert_eq!(
            next_run_after(exactly, at),
            Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap()
        );
        let after = Utc.with_ymd_and_hms(2026, 12, 31, 23, 0, 0).unwrap();
        assert_eq!(
            next_run_after(after, at),
            Utc.with_ymd_and_hms(2027, 1, 1, 3, 0, 0).unwrap()
        );
    }
}
