//! Conditional deletes in batches, retried with backoff. Retrying a whole batch is
//! safe: a delete is conditional on `updated_at`, so a finding deleted by an earlier
//! attempt is simply reported as kept (already gone) the second time.

use super::error::ArchiveError;
use super::options::RetryPolicy;
use crate::store::{FindingVersion, Store};
use std::collections::HashSet;

/// Counts of one delete pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeleteCounts {
    /// Deleted from the store.
    pub deleted: u64,
    /// Kept: updated since read (no longer that version) or already gone.
    pub kept: u64,
}

/// Deletes `versions` from the store in batches of `batch`, retrying failures.
/// `key` names the part the versions belong to (for the error).
pub async fn delete_verified(
    store: &dyn Store,
    versions: &[FindingVersion],
    batch: usize,
    retry: &RetryPolicy,
    key: &str,
) -> Result<DeleteCounts, ArchiveError> {
    let mut counts = DeleteCounts::default();
    for chunk in versions.chunks(batch.max(1)) {
        let mut pending = chunk.to_vec();
        let mut attempt = 1;
        loop {
            let last_error = match store.delete_versions(&pending).await {
                Ok(report) => {
                    counts.deleted += report.deleted.len() as u64;
                    counts.kept += report.kept.len() as u64;
                    if report.failed.is_empty() {
                        break;
                    }
                    let failed: HashSet<&str> =
                        report.failed.iter().map(|f| f.id.as_str()).collect();
                    let reason = report.failed[0].reason.clone();
                    pending.retain(|v| failed.contains(v.id.as_str()));
                    reason
                }
                Err(e) => e.to_string(),
            };
            if attempt >= retry.attempts {
                return Err(ArchiveError::DeleteFailed {
                    key: key.to_owned(),
                    remaining: pending.len(),
                    last_error,
                });
            }
            tracing::warn!(part = key, attempt, remaining = pending.len(), error = %last_error, "delete batch failed, retrying");
            tokio::time::sleep(retry.delay(attempt)).await;
            attempt += 1;
        }
    }
    Ok(counts)
}
