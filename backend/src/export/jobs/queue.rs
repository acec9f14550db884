//! Who runs a job once it is recorded. `cspm serve` runs it in the same process
//! (a task beside the server); the `api` Lambda cannot keep working after it has
//! answered, so on AWS the job goes to an SQS queue that the `exporter` Lambda
//! reads ([`crate::lambda::exporter`]).

use super::error::JobError;
use super::record::JobId;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The SQS queue the `exporter` Lambda reads.
#[cfg(feature = "aws")]
mod sqs;
#[cfg(feature = "aws")]
pub use sqs::SqsQueue;

/// The body of a queue message: which job to run (everything else is in its
/// status object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobMessage {
    /// The job's id.
    pub export_id: String,
}

/// A queue that hands jobs to a worker.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Sends `id` to the worker (at least once).
    async fn send(&self, id: &JobId) -> Result<(), JobError>;
}

/// How started jobs are run.
#[derive(Clone)]
pub enum Runner {
    /// A task in this process (the local server).
    InProcess,
    /// Another process reads the queue (the `exporter` Lambda).
    Queue(Arc<dyn JobQueue>),
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Runner::InProcess => "InProcess",
            Runner::Queue(_) => "Queue",
        })
    }
}
