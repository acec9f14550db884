//! Approved remediations on an SQS queue. A message body is
//! `{"remediation_id": "…"}`; the receive count is SQS's own
//! `ApproximateReceiveCount`, so the worker's retry limit and the queue's
//! redrive policy count the same deliveries.

use crate::remediate::queue::{Delivery, QueueError, QueueMessage, RemediationQueue};
use async_trait::async_trait;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The queue at one URL.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

/// What a message says.
#[derive(Debug, Serialize, Deserialize)]
struct Body {
    remediation_id: String,
}

/// The body of `message` as the queue carries it (also what the `remediator`
/// Lambda's SQS events hold).
pub fn body_of(message: &QueueMessage) -> String {
    serde_json::json!(Body {
        remediation_id: message.remediation_id.clone()
    })
    .to_string()
}

/// The message of an SQS body, or `None` for a body that is not one of ours.
pub fn message_of(body: &str) -> Option<QueueMessage> {
    let b: Body = serde_json::from_str(body).ok()?;
    crate::remediate::service::is_remediation_id(&b.remediation_id).then_some(QueueMessage {
        remediation_id: b.remediation_id,
    })
}

fn failed<E>(operation: &str, url: &str, e: &aws_sdk_sqs::error::SdkError<E>) -> QueueError
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    QueueError {
        retryable: crate::aws::is_retryable(e),
        detail: format!("SQS {operation} {url}: {}", crate::aws::error_text(e)),
    }
}

/// Whole seconds, within SQS's visibility range (0 to 12 hours).
fn seconds(d: Duration) -> i32 {
    i32::try_from(d.as_secs().min(43_200)).unwrap_or(43_200)
}

impl SqsQueue {
    /// The queue at `url`.
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> SqsQueue {
        SqsQueue {
            client,
            url: url.into(),
        }
    }
}

#[async_trait]
impl RemediationQueue for SqsQueue {
    async fn send(&self, message: &QueueMessage) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body_of(message))
            .send()
            .await
            .map_err(|e| failed("SendMessage", &self.url, &e))?;
        Ok(())
    }

    async fn receive(&self, max: usize, hide_for: Duration) -> Result<Vec<Delivery>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(i32::try_from(max.clamp(1, 10)).unwrap_or(10))
            .visibility_timeout(seconds(hide_for))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| failed("ReceiveMessage", &self.url, &e))?;
        let mut deliveries = Vec::new();
        for m in out.messages.unwrap_or_default() {
            let Some(receipt) = m.receipt_handle else {
                continue;
            };
            let Some(message) = m.body.as_deref().and_then(message_of) else {
                // Not ours and never will be: dropped rather than redelivered
                // until it reaches the dead-letter queue.
                tracing::error!(queue = %self.url, "message is not a remediation; deleted");
                self.delete(&receipt).await?;
                continue;
            };
            let receives = m
                .attributes
                .as_ref()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            deliveries.push(Delivery {
                message,
                receipt,
                receives,
            });
        }
        Ok(deliveries)
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        match self
            .client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // A receipt no longer current (the message came back and was
            // received again): the port says it deletes nothing.
            Err(e) if is_stale_receipt(&e) => Ok(()),
            Err(e) => Err(failed("DeleteMessage", &self.url, &e)),
        }
    }

    async fn release(&self, receipt: &str, after: Duration) -> Result<(), QueueError> {
        match self
            .client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(seconds(after))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_stale_receipt(&e) => Ok(()),
            Err(e) => Err(failed("ChangeMessageVisibility", &self.url, &e)),
        }
    }
}

/// SQS refuses a receipt handle that is not the latest (or whose message is
/// gone) with `ReceiptHandleIsInvalid` (`MessageNotInflight` for a visibility
/// change on a message nobody holds).
fn is_stale_receipt<E: aws_sdk_sqs::error::ProvideErrorMetadata>(
    e: &aws_sdk_sqs::error::SdkError<E>,
) -> bool {
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| {
            matches!(
                c,
                "ReceiptHandleIsInvalid"
                    | "AWS.SimpleQueueService.ReceiptHandleIsInvalid"
                    | "MessageNotInflight"
                    | "AWS.SimpleQueueService.MessageNotInflight"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_names_a_remediation_and_nothing_else_is_one() {
        let id = crate::remediate::service::new_id();
        let m = QueueMessage {
            remediation_id: id.clone(),
        };
        assert_eq!(message_of(&body_of(&m)), Some(m));
        for bad in [
            "",
            "{}",
            r#"{"export_id":"x"}"#,
            r#"{"remediation_id":"../../etc"}"#,
            r#"{"remediation_id":7}"#,
        ] {
            assert_eq!(message_of(bad), None, "{bad}");
        }
    }
}
