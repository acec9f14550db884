//! Plan, approve and look up remediations: what `GET …/remediation/plan`,
//! `POST /findings/{id}/remediation`, `GET /remediations` and the `remediation`
//! sink call. Planning is the CLI's [`Remediator::plan`]; an approval checks
//! the guards that need no read from AWS at once ([`Remediator::screen`]),
//! records the answer, and queues what they let through for the worker, which
//! checks every guard again when it applies.
//!
//! Without a queue (`cspm serve` without `--remediation`) remediation is off:
//! plans are still shown, approvals are refused ([`ServiceError::Off`]) and
//! nothing is recorded or queued.

use super::guards::Approval;
use super::outcome::RemediateError;
use super::plan::{GuardResult, Plan};
use super::queue::{QueueError, QueueMessage, RemediationQueue};
use super::records::{RecordQuery, RecordsError, RemediationRecords};
use super::run::Remediator;
use chrono::{DateTime, Utc};
use shared_types::{RemediationPlan, RemediationRecord, RemediationStatus};
use std::sync::Arc;
use tokio::sync::Notify;

/// Why an approval or a look-up did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// This server runs without a remediation file: nothing is applied here.
    #[error(
        "remediation is off on this server: start `cspm serve` with --remediation FILE \
         (or CSPM_REMEDIATION) to queue approvals; plans are shown either way"
    )]
    Off,
    /// Planning or screening failed (an unknown finding, the store, AWS).
    #[error(transparent)]
    Remediate(#[from] RemediateError),
    /// The records could not be read or written.
    #[error(transparent)]
    Records(#[from] RecordsError),
    /// The queue could not take the approval.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl ServiceError {
    /// True when trying again later may work.
    pub fn is_retryable(&self) -> bool {
        match self {
            ServiceError::Off => false,
            ServiceError::Remediate(e) => e.is_retryable(),
            ServiceError::Records(e) => e.retryable,
            ServiceError::Queue(e) => e.retryable,
        }
    }
}

/// How an approval was taken.
#[derive(Debug)]
pub enum Approved {
    /// Queued for the worker (or already under way: the record of the earlier
    /// approval, not a second one).
    Queued(RemediationRecord),
    /// A guard that needs no read refused: recorded as `refused`, nothing queued.
    Refused {
        /// The record.
        record: RemediationRecord,
        /// The refusing guard.
        guard: GuardResult,
    },
    /// No available action fixes this finding (the plan's `after` says why).
    NotApplicable(Plan),
}

/// Remediation as the API and the sink use it.
pub struct Remediations {
    remediator: Arc<Remediator>,
    records: Arc<dyn RemediationRecords>,
    queue: Option<Arc<dyn RemediationQueue>>,
    queued: Notify,
}

/// Most records `GET /remediations` returns at once.
pub const MAX_LIST: u32 = 1000;

/// An open remediation nothing has touched for this long has lost its message
/// (deleted from the dead-letter queue, expired, or never sent because the
/// process died after recording it): an approval of its finding queues it
/// again rather than pointing at it forever. Longer than any worker holds a
/// message (SQS visibility 30 minutes, local 5) plus its retries' waits.
pub const ORPHANED_AFTER: chrono::Duration = chrono::Duration::hours(1);

impl Remediations {
    /// Remediation over `remediator`, recording into `records` and queuing into
    /// `queue` (`None`: remediation is off, approvals are refused).
    pub fn new(
        remediator: Arc<Remediator>,
        records: Arc<dyn RemediationRecords>,
        queue: Option<Arc<dyn RemediationQueue>>,
    ) -> Remediations {
        Remediations {
            remediator,
            records,
            queue,
            queued: Notify::new(),
        }
    }

    /// The planner and applier.
    pub fn remediator(&self) -> &Arc<Remediator> {
        &self.remediator
    }

    /// The records.
    pub fn records(&self) -> &Arc<dyn RemediationRecords> {
        &self.records
    }

    /// True when approvals are queued (a worker runs them).
    pub fn is_on(&self) -> bool {
        self.queue.is_some()
    }

    /// Resolves once an approval was queued since the last call (the local
    /// worker wakes on it instead of waiting for its next poll).
    pub async fn queued(&self) {
        self.queued.notified().await
    }

    /// The plan for finding `id` as `actor` would approve it: the same plan
    /// `cspm remediate plan` prints. Changes nothing.
    pub async fn plan(&self, id: &str, actor: &str) -> Result<Plan, ServiceError> {
        let approval = Approval::Person(actor.to_string());
        Ok(self.remediator.plan(id, &approval, Utc::now()).await?)
    }

    /// Approves remediating finding `id` for `approval`, applying only to the
    /// state `expect_state` (a plan's `state_hash`) when given.
    pub async fn approve(
        &self,
        id: &str,
        approval: Approval,
        expect_state: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Approved, ServiceError> {
        let queue = self.queue.as_ref().ok_or(ServiceError::Off)?;
        // Approving again while one is under way (a double click, the feed
        // delivering a change twice) is the same approval.
        let earlier = self
            .records
            .list(&RecordQuery {
                finding_id: Some(id.to_string()),
                status: None,
                limit: 20,
            })
            .await?;
        if let Some(open) = earlier.into_iter().find(|r| !r.status.is_final()) {
            let held = open.worker_until.is_some_and(|until| until > now);
            if now - open.updated_at > ORPHANED_AFTER && !held {
                return self.queue_again(queue.as_ref(), open, &approval, now).await;
            }
            return Ok(Approved::Queued(open));
        }
        let plan = self.remediator.screen(id, &approval, now).await?;
        if !plan.applicable {
            return Ok(Approved::NotApplicable(plan));
        }
        let mut record = RemediationRecord {
            id: new_id(),
            finding_id: id.to_string(),
            action: plan.action.clone(),
            status: RemediationStatus::Queued,
            requested_by: approval.actor().to_string(),
            automatic: approval == Approval::Auto,
            requested_at: now,
            updated_at: now,
            expect_state,
            guard: None,
            reason: None,
            attempts: 0,
            worker_until: None,
            made: false,
            plan: None,
            undo: None,
        };
        if let Some(guard) = plan.refused_by().cloned() {
            record.status = RemediationStatus::Refused;
            record.guard = Some(guard.name.to_string());
            record.reason = Some(guard.reason.clone());
            record.plan = Some(wire(&plan));
            self.records.insert(&record).await?;
            return Ok(Approved::Refused { record, guard });
        }
        if let Some(open) = self.records.insert_unless_open(&record).await? {
            // Another approval of this finding, a moment ago (the list above
            // did not show it yet): the same approval.
            return Ok(Approved::Queued(open));
        }
        let message = QueueMessage {
            remediation_id: record.id.clone(),
        };
        if let Err(e) = queue.send(&message).await {
            record.status = RemediationStatus::Failed;
            record.reason = Some(format!("could not be queued: {e}"));
            self.records.update(&record).await?;
            return Err(e.into());
        }
        self.queued.notify_one();
        Ok(Approved::Queued(record))
    }

    /// Queues `open` again: an open remediation nothing handled for
    /// [`ORPHANED_AFTER`] (its message was lost). Only if nobody wrote it since
    /// it was read (two approvals at once queue it once); if the message cannot
    /// be sent, the record is put back as it was, so the next approval tries again.
    async fn queue_again(
        &self,
        queue: &dyn RemediationQueue,
        open: RemediationRecord,
        approval: &Approval,
        now: DateTime<Utc>,
    ) -> Result<Approved, ServiceError> {
        // A try that made the change before it was lost keeps `made`.
        let mut again = open.clone();
        again.status = RemediationStatus::Queued;
        again.updated_at = now;
        again.worker_until = None;
        again.reason = Some(format!(
            "queued again by {}: nothing had handled it since {} (its message was lost)",
            approval.actor(),
            open.updated_at.format("%Y-%m-%d %H:%M UTC")
        ));
        if !self.records.replace(&open, &again).await? {
            // Someone else moved it meanwhile (a worker, another approval).
            let now_stored = self.records.get(&open.id).await?.unwrap_or(open);
            return Ok(Approved::Queued(now_stored));
        }
        let message = QueueMessage {
            remediation_id: again.id.clone(),
        };
        if let Err(e) = queue.send(&message).await {
            if let Err(back) = self.records.replace(&again, &open).await {
                tracing::warn!(remediation = %open.id, error = %back, "record not put back");
            }
            return Err(e.into());
        }
        self.queued.notify_one();
        Ok(Approved::Queued(again))
    }

    /// The record with id `rid`.
    pub async fn get(&self, rid: &str) -> Result<Option<RemediationRecord>, ServiceError> {
        if !is_remediation_id(rid) {
            return Ok(None);
        }
        Ok(self.records.get(rid).await?)
    }

    /// The records `query` asks for, newest first.
    pub async fn list(&self, query: &RecordQuery) -> Result<Vec<RemediationRecord>, ServiceError> {
        Ok(self.records.list(query).await?)
    }
}

/// A new remediation id: 128 random bits as 32 lowercase hex digits.
pub fn new_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// True when `s` has the form of a remediation id.
pub fn is_remediation_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A plan in its wire form. The same JSON: converted through it, so the API's
/// records show exactly what `cspm remediate plan --json` prints.
pub fn wire(plan: &Plan) -> RemediationPlan {
    serde_json::to_value(plan)
        .and_then(serde_json::from_value)
        .expect("a plan's JSON is a RemediationPlan (checked by a test)")
}

#[cfg(test)]
mod tests;
