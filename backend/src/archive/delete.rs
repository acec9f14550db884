//! Conditional deletes in batches, retried with [`crate::retry`]'s backoff. Retrying
//! is safe: a delete is conditional on `updated_at`, so a finding deleted by an
//! earlier attempt is simply reported as kept (already gone) the second time. Only
//! what may succeed later is retried: a finding the store refuses for good
//! (`retryable: false`) is set aside at once and reported.

use super::error::{ArchiveError, DeleteFailure};
use super::options::ArchiveOptions;
use crate::retry::{retry, Backoff};
use crate::store::{FailedWrite, FindingVersion, Store};
use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

/// Counts of one delete pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeleteCounts {
    /// Deleted from the store.
    pub deleted: u64,
    /// Kept: updated since read (no longer that version) or already gone.
    pub kept: u64,
}

/// One batch between tries: what is still to delete, what was done, and what the
/// store refused for good.
#[derive(Default)]
struct Batch {
    pending: Vec<FindingVersion>,
    counts: DeleteCounts,
    refused: Vec<FailedWrite>,
}

/// Deletes `versions` from the store in batches of `batch`, retrying failures.
/// `key` names the part the versions belong to (for the error).
pub async fn delete_verified(
    store: &dyn Store,
    versions: &[FindingVersion],
    batch: usize,
    backoff: &Backoff,
    key: &str,
) -> Result<DeleteCounts, ArchiveError> {
    let mut counts = DeleteCounts::default();
    for chunk in versions.chunks(batch.max(1)) {
        let state = Mutex::new(Batch {
            pending: chunk.to_vec(),
            ..Batch::default()
        });
        let lock = || state.lock().unwrap_or_else(PoisonError::into_inner);
        let tried = retry(backoff, DeleteFailure::is_retryable, || async {
            let pending = lock().pending.clone();
            let failure = match store.delete_versions(&pending).await {
                Ok(report) => {
                    let mut b = lock();
                    b.counts.deleted += report.deleted.len() as u64;
                    b.counts.kept += report.kept.len() as u64;
                    let (again, refused): (Vec<_>, Vec<_>) =
                        report.failed.into_iter().partition(|f| f.retryable);
                    b.refused.extend(refused);
                    let again_ids: HashSet<&str> = again.iter().map(|f| f.id.as_str()).collect();
                    b.pending.retain(|v| again_ids.contains(v.id.as_str()));
                    match again.into_iter().next() {
                        None => return Ok(()),
                        Some(f) => DeleteFailure::Findings {
                            reason: f.reason,
                            retryable: true,
                        },
                    }
                }
                Err(e) => DeleteFailure::Store(e),
            };
            if failure.is_retryable() {
                tracing::warn!(part = key, remaining = pending.len(), error = %failure, "delete batch failed");
            }
            Err(failure)
        })
        .await;
        let b = state.into_inner().unwrap_or_else(PoisonError::into_inner);
        counts.deleted += b.counts.deleted;
        counts.kept += b.counts.kept;
        // A refusal outranks a transient failure: running again cannot fix it.
        let failure = match (b.refused.first(), tried) {
            (Some(f), _) => DeleteFailure::Findings {
                reason: f.reason.clone(),
                retryable: false,
            },
            (None, Err(e)) => e,
            (None, Ok(())) => continue,
        };
        // Refused findings already left `pending`, so the two never overlap.
        return Err(ArchiveError::DeleteFailed {
            key: key.to_owned(),
            remaining: b.pending.len() + b.refused.len(),
            last_error: failure,
        });
    }
    Ok(counts)
}

/// The deletes of one verified part, queued for the delete worker.
pub(super) struct DeleteJob {
    pub(super) n: u32,
    pub(super) key: String,
    pub(super) versions: Vec<FindingVersion>,
}

/// A finished [`DeleteJob`].
pub(super) struct DeleteDone {
    pub(super) n: u32,
    pub(super) counts: DeleteCounts,
}

/// Deletes queued parts' findings one part at a time, reporting each when done.
/// Stops at the first part whose deletes still fail after retries (its findings
/// stay in the store and its manifest entry stays verified: the next run deletes).
pub(super) async fn delete_worker(
    store: &dyn Store,
    opts: &ArchiveOptions,
    mut jobs: tokio::sync::mpsc::Receiver<DeleteJob>,
    done: tokio::sync::mpsc::UnboundedSender<DeleteDone>,
) -> Result<(), ArchiveError> {
    while let Some(job) = jobs.recv().await {
        let counts = delete_verified(
            store,
            &job.versions,
            opts.delete_batch,
            &opts.retry,
            &job.key,
        )
        .await?;
        tracing::info!(part = %job.key, deleted = counts.deleted, kept = counts.kept, "part's findings deleted from the store");
        // The receiver lives as long as the run; a send error means it already stopped.
        let _ = done.send(DeleteDone { n: job.n, counts });
    }
    Ok(())
}
