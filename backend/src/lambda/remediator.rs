//! The `remediator` Lambda: applies approved remediations from their SQS queue
//! (an event source mapping, one message per batch), as `cspm serve`'s worker
//! does from its SQLite queue: the same [`Worker::handle`], so every guard is
//! checked again, each step is recorded, and the finding is resolved through
//! the pipeline. A failure that may pass changes the message's visibility to
//! come back later and is reported as a batch item failure, so that the event
//! source mapping does not delete it; after the worker's last try the
//! remediation is recorded as failed and its message deleted. Only a message
//! the worker could not handle at all (its record unwritable) goes on to the
//! dead-letter queue through the queue's redrive policy.
//!
//! [`on_aws`] is also how the `api` Lambda plans, approves and lists
//! remediations: the same records table and queue.

use crate::config::remediation::RemediationEnv;
use crate::pipeline::Pipeline;
use crate::remediate::aws::queue::message_of;
use crate::remediate::aws::{DynamoLedger, DynamoRecords, SqsQueue};
use crate::remediate::queue::{Delivery, RemediationQueue};
use crate::remediate::registry::Registry;
use crate::remediate::run::Remediator;
use crate::remediate::service::Remediations;
use crate::remediate::worker::{Handled, Worker};
use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use std::sync::Arc;

/// Remediation wired to AWS.
pub struct OnAws {
    /// What the API calls (plans, approvals, records).
    pub service: Arc<Remediations>,
    /// The approvals queue, which the worker deletes from and releases to.
    pub queue: Arc<dyn RemediationQueue>,
}

/// Who runs the remediation wired by [`on_aws`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The `remediator`: applies.
    Worker,
    /// The `api` (plans, approvals) and the `fanout` (automatic approvals):
    /// never apply, so in member accounts their sessions may only read.
    Approver,
}

/// Remediation over the deployment's table and queue, its actions calling AWS
/// with `sdk`'s credentials (the Lambda's own role), or, with `assume_role`,
/// as that role in each finding's account.
pub fn on_aws(sdk: &SdkConfig, pipeline: Pipeline, env: RemediationEnv, role: Role) -> OnAws {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let registry = match role {
        Role::Worker => Registry::new(sdk, &env.config),
        Role::Approver => Registry::for_plans(sdk, &env.config),
    };
    let remediator = Remediator {
        config: env.config,
        registry,
        pipeline,
        ledger: Arc::new(DynamoLedger::new(ddb.clone(), &env.table)),
    };
    let queue: Arc<dyn RemediationQueue> =
        Arc::new(SqsQueue::new(aws_sdk_sqs::Client::new(sdk), env.queue_url));
    let service = Remediations::new(
        Arc::new(remediator),
        Arc::new(DynamoRecords::new(ddb, env.table)),
        Some(queue.clone()),
    );
    OnAws {
        service: Arc::new(service),
        queue,
    }
}

/// The delivery an SQS event record is, or `None` for one that names no
/// remediation (or has no receipt).
fn delivery_of(m: &SqsMessage) -> Option<Delivery> {
    Some(Delivery {
        message: message_of(m.body.as_deref()?)?,
        receipt: m.receipt_handle.clone()?,
        receives: m
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1),
    })
}

/// One SQS batch: each message handled by `worker`; the ones to be delivered
/// again are the batch item failures.
pub async fn handle(worker: &Worker, event: SqsEvent) -> SqsBatchResponse {
    let mut resp = SqsBatchResponse::default();
    for record in event.records {
        let message_id = record.message_id.clone().unwrap_or_default();
        let Some(delivery) = delivery_of(&record) else {
            // Not ours and never will be: retrying cannot help.
            tracing::error!(%message_id, "message is not a remediation; dropped");
            continue;
        };
        match worker.handle(&delivery).await {
            Ok(Handled::Done) => {}
            Ok(Handled::Later) => resp.add_failure(message_id),
            Err(e) => {
                tracing::error!(remediation = %delivery.message.remediation_id, error = %e,
                    "remediation not handled; SQS will deliver it again");
                resp.add_failure(message_id);
            }
        }
    }
    resp
}
