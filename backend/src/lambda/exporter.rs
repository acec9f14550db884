//! The `exporter` Lambda: runs the export jobs the `api` Lambda queued (an SQS
//! event source), since the `api` Lambda cannot keep working after it has
//! answered `POST /exports`. Each message names one job; its status object says
//! everything else. A job that fails is recorded as failed for its owner, who
//! starts it again; only a job whose status could not be written is handed back
//! to SQS (partial batch failure), to be delivered again and then to the
//! dead-letter queue. SQS may deliver one message twice, even to two instances
//! at once: the job's claim object lets one of them run it
//! ([`ExportJobs::run`]).

use crate::export::jobs::queue::JobMessage;
use crate::export::jobs::{ExportJobs, JobError, JobId};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};

/// One SQS batch of job messages; afterwards the exports older than a day are
/// swept (the bucket's lifecycle rule is the backstop).
pub async fn handle(jobs: &ExportJobs, event: SqsEvent) -> SqsBatchResponse {
    let mut resp = SqsBatchResponse::default();
    for record in event.records {
        let message_id = record.message_id.clone().unwrap_or_default();
        let id = record
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<JobMessage>(b).ok())
            .and_then(|m| JobId::parse(&m.export_id));
        let Some(id) = id else {
            // Not ours and never will be: retrying cannot help.
            tracing::error!(%message_id, "message is not an export job; dropped");
            continue;
        };
        match jobs.run(&id).await {
            Ok(r) => {
                tracing::info!(export = %id, state = ?r.state, count = r.count, "export job handled")
            }
            Err(JobError::NotFound) => {
                tracing::warn!(export = %id, "export job has no status (swept?); dropped")
            }
            Err(e) => {
                tracing::error!(export = %id, error = %e, retryable = e.is_retryable(),
                    "export job status not saved; SQS will deliver it again");
                resp.add_failure(message_id);
            }
        }
    }
    jobs.sweep_logged(chrono::Utc::now()).await;
    resp
}
