//! What one archive run archives and how: the cutoff, page and part sizes, and
//! how patiently store deletes are retried. Its own module because the run and
//! the crash recovery it starts both read it.

use super::writer::PartCaps;
use crate::retry::Backoff;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Store deletes are retried patiently: a run has minutes, and a part whose
/// deletes give up stays in the store until the next day's run.
pub const DELETE_RETRY: Backoff = Backoff {
    max_attempts: 5,
    base: Duration::from_millis(200),
    cap: Duration::from_secs(2),
};

/// What to archive and how.
#[derive(Debug, Clone)]
pub struct ArchiveOptions {
    /// Findings with `updated_at` strictly before this are archived.
    pub cutoff: DateTime<Utc>,
    /// Candidates read per store call.
    pub page_size: u32,
    /// When a part is closed.
    pub caps: PartCaps,
    /// gzip level, 0–9.
    pub compression_level: u32,
    /// Versions per `delete_versions` call.
    pub delete_batch: usize,
    /// Retries of store deletes.
    pub retry: Backoff,
    /// Stop starting new parts after this long (the Lambda has 15 minutes); the next
    /// run continues where this one stopped.
    pub time_budget: Option<Duration>,
}

impl ArchiveOptions {
    /// Defaults for archiving findings not updated for `retention` before `now`.
    pub fn older_than(now: DateTime<Utc>, retention: chrono::Duration) -> Self {
        ArchiveOptions {
            cutoff: now - retention,
            page_size: 1000,
            caps: PartCaps::default(),
            compression_level: 6,
            delete_batch: 500,
            retry: DELETE_RETRY,
            time_budget: None,
        }
    }
}
