//! What the dispatcher and the fanout Lambda tell others about deliveries: a batch
//! delivered, a try that failed, a batch parked, changes handed back to the stream.
//! The audit log (which alerts were sent or parked) and the metrics listen here, so
//! neither the store nor the sinks need to know about each other: the flow stays
//! writer → pipeline → store → feed → sinks, and the feed reports what it did.
//!
//! Observers are awaited before a sink's cursor moves past the batch: an observer
//! that fails leaves the cursor where it was, and the batch is delivered (and
//! observed) again — at least once, like everything on the feed.

use crate::metrics::{
    Registry, ALERTS_SENT, BATCHES_PARKED, CHANGES_DISPATCHED, FANOUT_LAG, SINK_FAILURES,
};
use crate::sinks::{Sink, SinkError};
use crate::store::Change;
use async_trait::async_trait;
use chrono::Utc;
use std::sync::Arc;

/// How one delivery of one batch to one sink ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// The sink took the batch.
    Delivered,
    /// One try failed; the batch will be tried again.
    Failed {
        /// The sink's error.
        error: &'a str,
        /// Whether the error was retryable.
        retryable: bool,
    },
    /// The local dispatcher gave up and parked the batch (`cspm sinks retry`).
    Parked {
        /// Tries made.
        tries: u32,
        /// The last error.
        error: &'a str,
    },
    /// The fanout Lambda gave up inside this invocation and reported the changes as
    /// batch item failures: Lambda retries them, then parks them in the on-failure
    /// queue (which the Lambda never sees).
    Returned {
        /// Tries made in this invocation.
        tries: u32,
        /// The last error.
        error: &'a str,
    },
}

/// One delivery outcome.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryReport<'a> {
    /// The sink's name.
    pub sink: &'a str,
    /// The alerting channel the sink sends on, if it alerts ([`Sink::channel`]).
    pub channel: Option<&'a str>,
    /// The batch.
    pub changes: &'a [Change],
    /// How it ended.
    pub outcome: Outcome<'a>,
}

impl<'a> DeliveryReport<'a> {
    /// A report about `sink` and `changes`.
    pub fn of(sink: &'a dyn Sink, changes: &'a [Change], outcome: Outcome<'a>) -> Self {
        DeliveryReport {
            sink: sink.name(),
            channel: sink.channel(),
            changes,
            outcome,
        }
    }
}

/// Something that wants to know how deliveries went.
#[async_trait]
pub trait DeliveryObserver: Send + Sync {
    /// Told about every delivery outcome, before the cursor moves.
    async fn observe(&self, report: &DeliveryReport<'_>) -> Result<(), SinkError>;

    /// The fanout Lambda calls this once per stream batch, after every sink had its
    /// turn: an observer that buffers writes them here. An error fails the whole
    /// batch (Lambda delivers it again).
    async fn flush(&self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// Several observers, told in order.
#[derive(Default, Clone)]
pub struct Observers(pub Vec<Arc<dyn DeliveryObserver>>);

#[async_trait]
impl DeliveryObserver for Observers {
    async fn observe(&self, report: &DeliveryReport<'_>) -> Result<(), SinkError> {
        for o in &self.0 {
            o.observe(report).await?;
        }
        Ok(())
    }

    async fn flush(&self) -> Result<(), SinkError> {
        for o in &self.0 {
            o.flush().await?;
        }
        Ok(())
    }
}

/// Counts deliveries into a metrics registry.
pub struct FeedMetrics {
    registry: Arc<Registry>,
    peak: bool,
}

impl FeedMetrics {
    /// For a long-running process: the lag gauge holds the last batch's lag.
    pub fn new(registry: Arc<Registry>) -> FeedMetrics {
        FeedMetrics {
            registry,
            peak: false,
        }
    }

    /// For a Lambda drained once per invocation: the lag gauge holds the worst lag
    /// of the invocation.
    pub fn per_invocation(registry: Arc<Registry>) -> FeedMetrics {
        FeedMetrics {
            registry,
            peak: true,
        }
    }
}

#[async_trait]
impl DeliveryObserver for FeedMetrics {
    async fn observe(&self, r: &DeliveryReport<'_>) -> Result<(), SinkError> {
        let reg = &self.registry;
        match r.outcome {
            Outcome::Delivered => {
                reg.add(&CHANGES_DISPATCHED, &[r.sink], r.changes.len() as u64);
                if let Some(channel) = r.channel {
                    reg.add(&ALERTS_SENT, &[channel], r.changes.len() as u64);
                }
                if let Some(oldest) = r.changes.iter().map(|c| c.at).min() {
                    let lag = (Utc::now() - oldest).num_milliseconds().max(0) as f64;
                    if self.peak {
                        reg.raise(&FANOUT_LAG, &[r.sink], lag);
                    } else {
                        reg.set(&FANOUT_LAG, &[r.sink], lag);
                    }
                }
            }
            Outcome::Failed { .. } => reg.add(&SINK_FAILURES, &[r.sink], 1),
            // Both set a batch aside: locally for `cspm sinks retry`, on AWS back to
            // the stream (then the on-failure queue).
            Outcome::Parked { .. } | Outcome::Returned { .. } => {
                reg.add(&BATCHES_PARKED, &[r.sink], 1)
            }
        }
        Ok(())
    }
}
