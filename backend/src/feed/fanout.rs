//! The `fanout` Lambda's handler: a batch of DynamoDB Streams records becomes
//! changes, and every sink gets the ones it wants, the sinks side by side. The
//! stream's own checkpoints are the cursors: a sink that fails (after a few quick
//! tries inside the invocation) reports exactly the records it did not take as
//! batch item failures, so Lambda retries from there — the other sinks see those
//! records again and deduplicate by change key — and after the event source
//! mapping's retry limit the batch goes to the on-failure queue instead of
//! blocking the shard.

use super::observe::{DeliveryObserver, DeliveryReport, Observers, Outcome};
use super::stream::decode;
use crate::retry::Backoff;
use crate::sinks::{Sink, SinkError};
use crate::store::Change;
use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use futures::future::join_all;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// The handler's state: the sinks, built once per cold start.
pub struct Fanout {
    /// Where changes go.
    pub sinks: Vec<Arc<dyn Sink>>,
    /// Quick tries of a retryable failure inside one invocation (longer outages
    /// are Lambda's retry of the records).
    pub backoff: Backoff,
    /// Longest `Retry-After` waited for inside an invocation.
    pub max_wait: Duration,
    /// Told how every delivery went (the audit log, metrics), flushed once per batch.
    pub observers: Observers,
}

impl Fanout {
    /// A fan-out to `sinks` with the default quick retries.
    pub fn new(sinks: Vec<Arc<dyn Sink>>) -> Fanout {
        Fanout {
            sinks,
            backoff: Backoff {
                max_attempts: 3,
                base: Duration::from_millis(200),
                cap: Duration::from_secs(2),
            },
            max_wait: Duration::from_secs(5),
            observers: Observers::default(),
        }
    }

    /// Also tells `observer` how every delivery went.
    pub fn observe(mut self, observer: Arc<dyn DeliveryObserver>) -> Fanout {
        self.observers.0.push(observer);
        self
    }

    /// Handles one stream batch; answers the records to retry.
    pub async fn handle(&self, event: Event) -> DynamoDbEventResponse {
        let mut failed: BTreeSet<String> = BTreeSet::new();
        let mut changes: Vec<(String, Change)> = Vec::new();
        for r in &event.records {
            let seq = r.change.sequence_number.clone().unwrap_or_default();
            match decode(r) {
                Ok(Some(c)) => changes.push((seq, c)),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(error = %e, "undecodable stream record");
                    failed.insert(seq);
                }
            }
        }
        let per_sink = join_all(
            self.sinks
                .iter()
                .map(|s| self.one_sink(s.as_ref(), &changes)),
        )
        .await;
        for (sink, seqs) in self.sinks.iter().zip(per_sink) {
            if !seqs.is_empty() {
                tracing::warn!(
                    sink = sink.name(),
                    records = seqs.len(),
                    "sink did not take its changes; reporting them for retry"
                );
            }
            failed.extend(seqs);
        }
        // What the observers buffered (the audit lines of this batch) must be
        // written before the batch counts as handled; if not, all of it comes again.
        if let Err(e) = self.observers.flush().await {
            tracing::error!(error = %e, "observers could not record this batch; reporting all of it for retry");
            failed.extend(changes.iter().map(|(s, _)| s.clone()));
        }
        let mut resp = DynamoDbEventResponse::default();
        for seq in failed {
            let mut f = DynamoDbBatchItemFailure::default();
            f.item_identifier = Some(seq);
            resp.batch_item_failures.push(f);
        }
        resp
    }

    /// Delivers the changes `sink` wants; returns the sequence numbers of those it
    /// could not take (the failed batch and everything after it, in order).
    async fn one_sink(&self, sink: &dyn Sink, changes: &[(String, Change)]) -> Vec<String> {
        let wanted: Vec<&(String, Change)> =
            changes.iter().filter(|(_, c)| sink.wants(c)).collect();
        for (i, batch) in wanted.chunks(sink.max_batch().max(1)).enumerate() {
            let owned: Vec<Change> = batch.iter().map(|(_, c)| c.clone()).collect();
            let start = i * sink.max_batch().max(1);
            let back = || wanted[start..].iter().map(|(s, _)| s.clone()).collect();
            match self.send_with_tries(sink, &owned).await {
                Ok(()) => {
                    let report = DeliveryReport::of(sink, &owned, Outcome::Delivered);
                    if let Err(e) = self.observers.observe(&report).await {
                        tracing::error!(sink = sink.name(), error = %e, "delivery not recorded; retrying it");
                        return back();
                    }
                }
                Err((e, tries)) => {
                    tracing::error!(sink = sink.name(), error = %e, retryable = e.is_retryable(), "sink failed");
                    // Every change from here on goes back to the stream.
                    let returned: Vec<Change> =
                        wanted[start..].iter().map(|(_, c)| c.clone()).collect();
                    let reason = e.to_string();
                    let outcome = Outcome::Returned {
                        tries,
                        error: &reason,
                    };
                    let report = DeliveryReport::of(sink, &returned, outcome);
                    if let Err(e) = self.observers.observe(&report).await {
                        tracing::error!(sink = sink.name(), error = %e, "failure not recorded");
                    }
                    return back();
                }
            }
        }
        Vec::new()
    }

    /// Sends with quick retries; on failure, the last error and the tries made.
    async fn send_with_tries(
        &self,
        sink: &dyn Sink,
        batch: &[Change],
    ) -> Result<(), (SinkError, u32)> {
        let mut tries = 1;
        loop {
            let result = sink.send(batch).await;
            if let Err(e) = &result {
                let reason = e.to_string();
                let failed = Outcome::Failed {
                    error: &reason,
                    retryable: e.is_retryable(),
                };
                if let Err(oe) = self
                    .observers
                    .observe(&DeliveryReport::of(sink, batch, failed))
                    .await
                {
                    tracing::warn!(sink = sink.name(), error = %oe, "failed try not recorded");
                }
            }
            match result {
                Ok(()) => return Ok(()),
                Err(SinkError::Retryable {
                    reason,
                    retry_after,
                }) if tries < self.backoff.max_attempts
                    && retry_after.is_none_or(|a| a <= self.max_wait) =>
                {
                    let wait = self.backoff.delay(tries);
                    tokio::time::sleep(retry_after.map_or(wait, |a| a.max(wait))).await;
                    tracing::debug!(sink = sink.name(), tries, %reason, "retrying inside the invocation");
                    tries += 1;
                }
                Err(e) => return Err((e, tries)),
            }
        }
    }
}
