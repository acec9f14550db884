//! The `scanner` Lambda. One function receives three kinds of payload:
//! - an EventBridge event (`Security Hub Findings - Imported`, delivered directly);
//! - an SQS batch of such events (the rule's dead-letter queue redriven), answered
//!   with partial batch failures so only the failed messages come back;
//! - a scheduled event, which runs the Security Hub sync.
//!
//! Findings are stored first; alerts are sent after, and a failed alert never
//! fails (or delays the result of) the store write.

use super::sync::{SyncOutcome, Syncer};
use crate::notify::{alert_for, Notifier};
use crate::sources::Normalizer;
use crate::store::{Store, StoreError, UpsertReport};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use futures::{stream, StreamExt};
use serde_json::Value;
use shared_types::{Finding, Severity};
use std::collections::HashMap;
use std::sync::Arc;

/// Alerts sent at the same time.
const ALERT_CONCURRENCY: usize = 8;

/// Why an event could not be fully handled. All variants are worth retrying: the
/// store answers are idempotent, so a redelivered event changes nothing twice.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Some findings could not be written (their ids are listed); retry the event.
    #[error("{} finding(s) not stored (retryable: {retryable}): {ids}", .count)]
    NotStored {
        /// How many.
        count: usize,
        /// Whether a retry may help.
        retryable: bool,
        /// Their ids, comma-separated.
        ids: String,
    },
    /// The store failed as a whole.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The payload is none of the kinds this function handles.
    #[error("unsupported payload: {0}")]
    Unsupported(String),
    /// The sync failed.
    #[error("sync: {0}")]
    Sync(String),
}

/// Where alerts go and from which severity.
pub struct Alerting {
    /// The channel.
    pub notifier: Arc<dyn Notifier>,
    /// Lowest alerting severity.
    pub min_severity: Severity,
    /// Dashboard base URL for links.
    pub dashboard_url: Option<String>,
}

/// What one event produced.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScanSummary {
    /// Findings normalized from the event(s).
    pub findings: usize,
    /// Newly stored.
    pub inserted: usize,
    /// Replaced by a newer version.
    pub updated: usize,
    /// Already stored or older.
    pub unchanged: usize,
    /// Parts of documents rejected (bad data; logged, not retried).
    pub rejected: usize,
    /// Alerts published.
    pub alerts_sent: usize,
    /// Alerts that could not be published (logged).
    pub alerts_failed: usize,
}

/// The scanner: normalizer, store, alerting, and the optional sync.
pub struct Scanner {
    /// Document → findings.
    pub normalizer: Normalizer,
    /// Where findings are kept.
    pub store: Arc<dyn Store>,
    /// Alerts, when configured.
    pub alerting: Option<Alerting>,
    /// The Security Hub sync, when configured.
    pub syncer: Option<Syncer>,
}

impl Scanner {
    /// Entry point for any payload the function receives. `deadline` is when the
    /// invocation times out (the sync stops early enough to save its progress).
    pub async fn handle(
        &self,
        payload: Value,
        deadline: Option<std::time::SystemTime>,
    ) -> Result<Value, ScanError> {
        if payload.get("Records").is_some() {
            let event: SqsEvent = serde_json::from_value(payload)
                .map_err(|e| ScanError::Unsupported(format!("SQS batch: {e}")))?;
            let resp = self.handle_sqs(event).await;
            return serde_json::to_value(resp).map_err(|e| ScanError::Unsupported(e.to_string()));
        }
        let detail_type = payload
            .get("detail-type")
            .and_then(Value::as_str)
            .unwrap_or("");
        if detail_type == "Scheduled Event" {
            let syncer = self.syncer.as_ref().ok_or_else(|| {
                ScanError::Unsupported("scheduled event but the sync is not configured".into())
            })?;
            let out: SyncOutcome = syncer
                .run(self, deadline)
                .await
                .map_err(|e| ScanError::Sync(e.to_string()))?;
            return serde_json::to_value(out).map_err(|e| ScanError::Unsupported(e.to_string()));
        }
        if !detail_type.is_empty() {
            let s = self.handle_event(&payload).await?;
            return serde_json::to_value(s).map_err(|e| ScanError::Unsupported(e.to_string()));
        }
        Err(ScanError::Unsupported(
            "neither an EventBridge event nor an SQS batch".into(),
        ))
    }

    /// One EventBridge event: normalize, store, alert. `Err` when some finding
    /// was not stored, so Lambda's retry (then the DLQ) gets the event again.
    pub async fn handle_event(&self, event: &Value) -> Result<ScanSummary, ScanError> {
        let outcome = self.normalizer.parse_document(event);
        for r in &outcome.rejected {
            tracing::warn!(finding = r.finding_id.as_deref().unwrap_or("-"), reason = %r.reason, "rejected");
        }
        if let Some(note) = &outcome.note {
            tracing::info!(%note, "event holds no findings");
        }
        let mut summary = self.store_findings(&outcome.findings).await?;
        summary.rejected = outcome.rejected.len();
        Ok(summary)
    }

    /// Stores findings and sends their alerts; `Err` lists what was not stored.
    pub async fn store_findings(&self, findings: &[Finding]) -> Result<ScanSummary, ScanError> {
        let report = self.store.upsert(findings).await?;
        let mut summary = summarize(findings.len(), &report);
        let (sent, failed) = self.send_alerts(findings, &report).await;
        summary.alerts_sent = sent;
        summary.alerts_failed = failed;
        if !report.failed.is_empty() {
            return Err(ScanError::NotStored {
                count: report.failed.len(),
                retryable: report.failed.iter().any(|f| f.retryable),
                ids: report
                    .failed
                    .iter()
                    .map(|f| f.id.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            });
        }
        tracing::info!(?summary, "stored");
        Ok(summary)
    }

    /// An SQS batch: every message is one EventBridge event; the ones that fail
    /// are reported so SQS redelivers only them (and, after `maxReceiveCount`,
    /// moves them on to the dead-letter queue: nothing is dropped).
    pub async fn handle_sqs(&self, event: SqsEvent) -> SqsBatchResponse {
        let mut resp = SqsBatchResponse::default();
        for record in event.records {
            let id = record.message_id.clone().unwrap_or_default();
            let result = match record.body.as_deref().map(serde_json::from_str::<Value>) {
                Some(Ok(doc)) => self.handle_event(&doc).await.map(|_| ()),
                Some(Err(e)) => Err(ScanError::Unsupported(format!(
                    "message body is not JSON: {e}"
                ))),
                None => Err(ScanError::Unsupported("message has no body".into())),
            };
            if let Err(e) = result {
                tracing::error!(message_id = %id, error = %e, "message failed; SQS will redeliver it");
                resp.add_failure(id);
            }
        }
        resp
    }

    async fn send_alerts(&self, findings: &[Finding], report: &UpsertReport) -> (usize, usize) {
        let Some(alerting) = &self.alerting else {
            return (0, 0);
        };
        let by_id: HashMap<&str, &Finding> = findings.iter().map(|f| (f.id.as_str(), f)).collect();
        let alerts: Vec<_> = report
            .outcomes
            .iter()
            .filter_map(|(id, outcome)| {
                let f = by_id.get(id.as_str())?;
                alert_for(
                    f,
                    outcome,
                    alerting.min_severity,
                    alerting.dashboard_url.as_deref(),
                )
            })
            .collect();
        let results: Vec<bool> = stream::iter(alerts)
            .map(|a| async move {
                match alerting.notifier.notify(&a).await {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::error!(finding = %a.id, error = %e, "alert not delivered");
                        false
                    }
                }
            })
            .buffer_unordered(ALERT_CONCURRENCY)
            .collect()
            .await;
        let sent = results.iter().filter(|ok| **ok).count();
        (sent, results.len() - sent)
    }
}

fn summarize(findings: usize, r: &UpsertReport) -> ScanSummary {
    use crate::store::UpsertOutcome as O;
    ScanSummary {
        findings,
        inserted: r.count(|o| *o == O::Inserted),
        updated: r.count(|o| matches!(o, O::Updated { .. })),
        unchanged: r.count(|o| matches!(o, O::Unchanged | O::SkippedOlder)),
        ..Default::default()
    }
}
