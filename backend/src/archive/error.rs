//! Why an archive run (or a restore, or a listing) stopped. Its own module because
//! every step of a run returns it.

use super::manifest::ManifestError;
use super::writer::PartError;
use super::SinkError;
use crate::store::StoreError;

/// Why a run stopped. Whatever the error, nothing is lost; running again finishes the job.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The archive sink failed.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// A manifest could not be read or written.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Restored findings could not be written.
    #[error(transparent)]
    Pipeline(#[from] crate::pipeline::PipelineError),
    /// A part could not be built or decoded.
    #[error("part: {0}")]
    Part(#[from] PartError),
    /// A part read back does not match what was written (or is missing).
    #[error("part {key} failed verification: {reason}")]
    VerifyFailed {
        /// Object key.
        key: String,
        /// What did not match.
        reason: String,
    },
    /// Deletes still failed after every retry, or the store refused some for good;
    /// the findings stay in the store and the manifest stays pending, so the next
    /// run deletes them (when the failure was transient).
    #[error("{remaining} deletes for part {key} failed: {last_error}")]
    DeleteFailed {
        /// The part whose findings were being deleted.
        key: String,
        /// Findings not deleted.
        remaining: usize,
        /// The last failure; it decides whether running again may help.
        #[source]
        last_error: DeleteFailure,
    },
}

/// Why a batch of deletes failed, last time it was tried.
#[derive(Debug, thiserror::Error)]
pub enum DeleteFailure {
    /// The store call failed as a whole.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store answered but could not delete some findings.
    #[error("{reason}")]
    Findings {
        /// The store's reason (for the first of them).
        reason: String,
        /// False when the store says trying again cannot help.
        retryable: bool,
    },
    /// The delete worker had already stopped on an earlier failure (which the run reports).
    #[error("the delete worker stopped")]
    WorkerStopped,
}

impl DeleteFailure {
    /// True when trying the same deletes again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            DeleteFailure::Store(e) => e.is_retryable(),
            DeleteFailure::Findings { retryable, .. } => *retryable,
            DeleteFailure::WorkerStopped => true,
        }
    }
}

impl ArchiveError {
    /// True when running again later may succeed without anyone fixing anything
    /// (for the Lambda: let the invocation fail and be retried).
    pub fn is_retryable(&self) -> bool {
        match self {
            ArchiveError::Sink(e) => e.is_retryable(),
            ArchiveError::DeleteFailed { last_error, .. } => last_error.is_retryable(),
            ArchiveError::Store(e) => e.is_retryable(),
            ArchiveError::Pipeline(e) => e.is_retryable(),
            ArchiveError::Manifest(ManifestError::Sink(e)) => e.is_retryable(),
            ArchiveError::Manifest(_)
            | ArchiveError::Part(_)
            | ArchiveError::VerifyFailed { .. } => false,
        }
    }
}
