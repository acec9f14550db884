//! The `remediation` sink: automatic remediation. A finding newly open on the
//! change feed (inserted, or reopened by its provider) whose rule or control
//! id is in the remediation file's `auto` list is approved as
//! [`Approval::Auto`]: the same approval a person gives through the API, so
//! every guard applies (those that need no read at once, all of them again
//! when the worker applies). Off by default: `auto` is empty, and `cspm serve`
//! adds this sink only when it is not.
//!
//! Delivery is at least once; approving a finding that already has one under
//! way is the same approval, so a change delivered twice queues once.

use super::{Sink, SinkError};
use crate::remediate::finding_key::FindingKey;
use crate::remediate::guards::Approval;
use crate::remediate::service::{Approved, Remediations};
use crate::store::Change;
use async_trait::async_trait;
use shared_types::{ChangeKind, RecordState, WorkflowStatus};
use std::sync::Arc;

/// The sink's name (reserved: a sinks file may not use it).
pub const REMEDIATION_SINK: &str = "remediation";

/// Approves automatic remediations.
pub struct RemediationSink {
    remediations: Arc<Remediations>,
    auto: Vec<String>,
}

impl RemediationSink {
    /// A sink approving findings whose rule or control is in `remediations`'s `auto`.
    pub fn new(remediations: Arc<Remediations>) -> RemediationSink {
        let auto = remediations.remediator().config.auto.clone();
        RemediationSink { remediations, auto }
    }
}

#[async_trait]
impl Sink for RemediationSink {
    fn name(&self) -> &str {
        REMEDIATION_SINK
    }

    fn wants(&self, change: &Change) -> bool {
        let f = &change.finding;
        let key = FindingKey::from_parts(f.item.control_id.as_deref(), &f.generator_id);
        // Demo data and restored findings are not real resources.
        !change.quiet
            && matches!(change.kind, ChangeKind::Inserted | ChangeKind::Reopened)
            && matches!(
                f.item.workflow_status,
                WorkflowStatus::New | WorkflowStatus::Notified
            )
            && f.record_state == RecordState::Active
            && self.auto.iter().any(|a| a == key.as_str())
    }

    async fn send(&self, changes: &[Change]) -> Result<(), SinkError> {
        for c in changes {
            let id = &c.finding.item.id;
            let now = chrono::Utc::now();
            match self
                .remediations
                .approve(id, Approval::Auto, None, now)
                .await
            {
                Ok(Approved::Queued(r)) => {
                    tracing::info!(finding = %id, remediation = %r.id, "automatic remediation queued")
                }
                Ok(Approved::Refused { guard, .. }) => {
                    tracing::info!(finding = %id, guard = %guard.name, reason = %guard.reason,
                        "automatic remediation refused")
                }
                Ok(Approved::NotApplicable(plan)) => {
                    tracing::info!(finding = %id, why = %plan.after, "automatic remediation not applicable")
                }
                // Archived since the change was written: nothing to remediate.
                Err(crate::remediate::service::ServiceError::Remediate(
                    crate::remediate::outcome::RemediateError::UnknownFinding(_),
                )) => {}
                Err(e) if e.is_retryable() => return Err(SinkError::retryable(e.to_string())),
                Err(e) => return Err(SinkError::permanent(e.to_string())),
            }
        }
        Ok(())
    }

    fn max_batch(&self) -> usize {
        10
    }
}
