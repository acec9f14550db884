//! Why an export job could not be started, read or run.

use crate::archive::SinkError;
use crate::export::ExportError;

/// An export job's error.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// No such job — or not one the caller may see (the same answer, so ids of
    /// other people's jobs cannot be probed).
    #[error("no such export")]
    NotFound,
    /// The job has not finished writing its file (or failed).
    #[error("the export is not done: {0}")]
    NotReady(&'static str),
    /// The caller already runs as many jobs as one principal may.
    #[error("at most {0} exports may run at once per user; wait for one to finish")]
    TooMany(usize),
    /// The export store failed.
    #[error(transparent)]
    Files(#[from] SinkError),
    /// Reading or encoding the findings failed.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// A status object that is not a job's (written by something else).
    #[error("export status {key} is unreadable: {source}")]
    Status {
        /// Its key.
        key: String,
        /// What failed.
        #[source]
        source: serde_json::Error,
    },
    /// Handing the job to the worker queue failed.
    #[error("export queue: {detail}")]
    Queue {
        /// The SDK's error, with its context.
        detail: String,
        /// Whether sending again may succeed.
        retryable: bool,
    },
}

impl JobError {
    /// True when the same call may succeed later without anyone fixing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            JobError::NotFound | JobError::NotReady(_) | JobError::Status { .. } => false,
            JobError::TooMany(_) => true,
            JobError::Files(e) => e.is_retryable(),
            JobError::Export(e) => e.is_retryable(),
            JobError::Queue { retryable, .. } => *retryable,
        }
    }
}
