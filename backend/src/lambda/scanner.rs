//! The `scanner` Lambda: a thin adapter over the pipeline. One function receives
//! three kinds of payload:
//! - an EventBridge event (`Security Hub Findings - Imported`, the new Security
//!   Hub's OCSF `Findings Imported V2`, CloudTrail API calls, alarm state changes,
//!   GuardDuty findings), delivered directly;
//! - an SQS batch of such events (the rules' dead-letter queue redriven), answered
//!   with partial batch failures so only the failed messages come back;
//! - the scheduled event, which runs the Security Hub sync.
//!
//! The scanner only writes: alerts and every other reaction come from the change
//! feed (DynamoDB Streams → the `fanout` Lambda), so a redelivered event that changes
//! nothing alerts nobody, and a failed alert is retried there, never lost here.

use crate::pipeline::{OutcomeBody, Pipeline, PipelineError};
use crate::sources::security_hub::sync::{SyncError, Syncer};
use crate::sources::security_hub::sync_report::SyncBody;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use serde::Serialize;
use serde_json::Value;

/// `detail-type` of the schedule that runs the sync.
const SCHEDULED: &str = "Scheduled Event";

/// Why a payload could not be fully handled.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Some findings could not be written (their ids are listed).
    #[error("{count} finding(s) not stored (retryable: {retryable}): {ids}")]
    NotStored {
        /// How many.
        count: usize,
        /// Whether a retry may help.
        retryable: bool,
        /// Their ids, comma-separated.
        ids: String,
    },
    /// The pipeline failed as a whole (the store is unavailable…).
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// The payload is none of the kinds this function handles; retrying cannot help.
    #[error("unsupported payload: {0}")]
    Unsupported(&'static str),
    /// The sync failed.
    #[error("sync: {0}")]
    Sync(#[from] SyncError),
}

impl ScanError {
    /// True when the same payload may succeed later (Lambda's retry, SQS redelivery).
    pub fn is_retryable(&self) -> bool {
        match self {
            ScanError::NotStored { retryable, .. } => *retryable,
            ScanError::Pipeline(e) => e.is_retryable(),
            ScanError::Unsupported(_) => false,
            ScanError::Sync(e) => e.is_retryable(),
        }
    }
}

/// The function's answer, by payload kind.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ScanResponse {
    /// An SQS batch: the messages to redeliver.
    Batch(SqsBatchResponse),
    /// The scheduled sync: its outcome and paging.
    Sync(SyncBody),
    /// One EventBridge event.
    Event(OutcomeBody),
}

/// The payloads the function is invoked with.
enum Payload {
    Sqs(SqsEvent),
    Scheduled,
    Event(Value),
}

impl Payload {
    fn of(payload: Value) -> Result<Payload, ScanError> {
        if payload.get("Records").is_some() {
            return serde_json::from_value(payload)
                .map(Payload::Sqs)
                .map_err(|_| ScanError::Unsupported("a Records list that is not an SQS batch"));
        }
        match serde_json::from_value::<EventBridgeEvent<Value>>(payload.clone()) {
            Ok(e) if e.detail_type == SCHEDULED => Ok(Payload::Scheduled),
            // Any other document goes to the pipeline, which stores, notes or
            // rejects it exactly as `POST /events` would: besides EventBridge
            // events this is how a CloudWatch alarm's Lambda action (an
            // `alarmData` payload without `detail`) arrives.
            _ if payload.is_object() => Ok(Payload::Event(payload)),
            _ => Err(ScanError::Unsupported(
                "neither a JSON object nor an SQS batch",
            )),
        }
    }
}

/// The scanner: the pipeline and the optional sync.
pub struct Scanner {
    /// The one write path.
    pub pipeline: Pipeline,
    /// The Security Hub sync, when configured.
    pub syncer: Option<Syncer>,
}

impl Scanner {
    /// Prints what the invocation counted as EMF lines (stdout on Lambda), then
    /// forgets it.
    pub fn emit_metrics(&self, out: &mut dyn std::io::Write) {
        if let Some(m) = self.pipeline.metrics() {
            crate::metrics::emf::flush(m, out);
        }
    }

    /// Entry point for any payload the function receives. `deadline` is when the
    /// invocation times out (the sync stops early enough to save its progress).
    pub async fn handle(
        &self,
        payload: Value,
        deadline: Option<std::time::SystemTime>,
    ) -> Result<ScanResponse, ScanError> {
        match Payload::of(payload)? {
            Payload::Sqs(event) => Ok(ScanResponse::Batch(self.handle_sqs(event).await)),
            Payload::Scheduled => {
                let syncer = self.syncer.as_ref().ok_or(ScanError::Unsupported(
                    "a scheduled event, but no sync is configured",
                ))?;
                let report = syncer.run(&self.pipeline, deadline).await?;
                Ok(ScanResponse::Sync(SyncBody::from(&report)))
            }
            Payload::Event(doc) => Ok(ScanResponse::Event(self.handle_event(&doc).await?)),
        }
    }

    /// One EventBridge event through the pipeline. `Err` when some finding was not
    /// stored, so Lambda's retry (then the DLQ) gets the event again.
    pub async fn handle_event(&self, event: &Value) -> Result<OutcomeBody, ScanError> {
        let outcome = self.pipeline.run_document("event", event).await?;
        for r in &outcome.rejected {
            tracing::warn!(finding = r.finding_id.as_deref().unwrap_or("-"), reason = %r.reason, "rejected");
        }
        for n in &outcome.noted {
            tracing::info!(note = %n.note, "event holds no findings");
        }
        if !outcome.failed.is_empty() {
            return Err(ScanError::NotStored {
                count: outcome.failed.len(),
                retryable: outcome.retryable_failures(),
                ids: outcome
                    .failed
                    .iter()
                    .map(|f| f.id.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            });
        }
        tracing::info!("event: {outcome}");
        Ok(OutcomeBody::from(&outcome))
    }

    /// An SQS batch: every message is one EventBridge event. Failed messages are
    /// reported, so SQS redelivers only them and, after `maxReceiveCount`, moves
    /// them on to the dead-letter queue where an operator sees them: nothing is
    /// dropped, even a message that can never succeed (the log says which kind).
    pub async fn handle_sqs(&self, event: SqsEvent) -> SqsBatchResponse {
        let mut resp = SqsBatchResponse::default();
        for record in event.records {
            let id = record.message_id.clone().unwrap_or_default();
            let result = match record.body.as_deref().map(serde_json::from_str::<Value>) {
                Some(Ok(doc)) => self.handle_event(&doc).await.map(|_| ()),
                Some(Err(_)) => Err(ScanError::Unsupported("a message body that is not JSON")),
                None => Err(ScanError::Unsupported("a message without a body")),
            };
            if let Err(e) = result {
                tracing::error!(message_id = %id, error = %e, retryable = e.is_retryable(),
                    "message failed; SQS will redeliver it (then the dead-letter queue)");
                resp.add_failure(id);
            }
        }
        resp
    }
}
