//! The queue port: approved remediations on their way to the worker. Shaped
//! after SQS, so the AWS queue (SQS with a dead-letter queue, read by the
//! `remediator` Lambda) is one more implementation: a message names the
//! remediation only (its record holds the rest), a received message is hidden
//! from other receivers for a while (the visibility timeout) and comes back if
//! it is neither deleted nor released, and each delivery counts how often the
//! message was received (`ApproximateReceiveCount`), which the worker's retry
//! limit reads as SQS's redrive policy would. Delivery is at least once: the
//! worker checks the record's status before it acts.

use async_trait::async_trait;
use std::time::Duration;

/// Which remediation to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// The remediation record's id.
    pub remediation_id: String,
}

/// A message handed to a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The message.
    pub message: QueueMessage,
    /// What deletes or releases this delivery (a later receive of the same
    /// message gets a new one, as an SQS receipt handle).
    pub receipt: String,
    /// How many times the message has been received, this time included.
    pub receives: u32,
}

/// The queue could not be used.
#[derive(Debug, thiserror::Error)]
#[error("remediation queue: {detail}")]
pub struct QueueError {
    /// What went wrong.
    pub detail: String,
    /// True when trying again later may work (a busy database, throttling).
    pub retryable: bool,
}

/// Approved remediations waiting for the worker.
#[async_trait]
pub trait RemediationQueue: Send + Sync {
    /// Adds `message` (SQS `SendMessage`). Sending the same remediation twice
    /// may deliver it twice.
    async fn send(&self, message: &QueueMessage) -> Result<(), QueueError>;

    /// Up to `max` messages nobody holds, each hidden from other receivers for
    /// `hide_for` (SQS `ReceiveMessage` with a visibility timeout).
    async fn receive(&self, max: usize, hide_for: Duration) -> Result<Vec<Delivery>, QueueError>;

    /// The message of `receipt` is done (SQS `DeleteMessage`). A receipt that
    /// is no longer current (the message was received again since) deletes
    /// nothing.
    async fn delete(&self, receipt: &str) -> Result<(), QueueError>;

    /// The message of `receipt` comes back after `after` (SQS
    /// `ChangeMessageVisibility`): how the worker waits before trying again.
    async fn release(&self, receipt: &str, after: Duration) -> Result<(), QueueError>;
}
