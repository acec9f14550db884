//! The SQS job queue (see [`super`]).

use super::{JobMessage, JobQueue};
use crate::export::jobs::error::JobError;
use crate::export::jobs::record::JobId;
use async_trait::async_trait;

/// An SQS queue of [`JobMessage`]s.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    /// The queue at `url`.
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        SqsQueue {
            client,
            url: url.into(),
        }
    }
}

#[async_trait]
impl JobQueue for SqsQueue {
    async fn send(&self, id: &JobId) -> Result<(), JobError> {
        let body = serde_json::json!(JobMessage {
            export_id: id.to_string()
        })
        .to_string();
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| JobError::Queue {
                retryable: crate::aws::is_retryable(&e),
                detail: format!(
                    "SQS SendMessage {}: {}",
                    self.url,
                    crate::aws::error_text(&e)
                ),
            })?;
        Ok(())
    }
}
