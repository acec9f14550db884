//! What one archive run archives and how: the cutoff, page and part sizes, and
//! how patiently store deletes are retried. Its own module because the run and
//! the crash recovery it starts both read it.

use super::writer::PartCaps;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// How often and how patiently store calls are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts (1 = no retry).
    pub attempts: u32,
    /// Delay before the second attempt; doubled each time after.
    pub base_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(200),
        }
    }
}

impl RetryPolicy {
    /// Delay after failed attempt number `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        self.base_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(10))
    }
}

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
    pub retry: RetryPolicy,
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
            retry: RetryPolicy::default(),
            time_budget: None,
        }
    }
}
