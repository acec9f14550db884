//! The worker: takes approved remediations off the queue and runs the CLI's
//! apply on each ([`Remediator::apply_with`]: every guard again, the read, the
//! calls, the read-back, the finding RESOLVED through the pipeline), recording
//! each step (`planned`, `applied`) and the outcome (`verified`, `failed`,
//! `refused`). `cspm serve --remediation FILE` runs it beside the server; the
//! `remediator` Lambda runs [`Worker::handle`] per SQS message.
//!
//! A failure that may pass (throttling, a busy store) leaves the message on
//! the queue to come back later, up to [`WorkerSettings::max_receives`] times
//! (SQS's redrive policy); the record says `queued` with the last error until
//! then, `failed` after.
//!
//! Once a try's calls went through but its read-back failed, the change is
//! made: every later reason of that remediation says so first ("the change was
//! made but not verified"), whatever a later try's own error, so that nobody
//! re-applies it by hand and its `undo` is known to matter.

use super::guards::Approval;
use super::outcome::{ApplyOutcome, Failure, RemediateError};
use super::plan::Plan;
use super::progress::Progress;
use super::queue::{Delivery, QueueError, RemediationQueue};
use super::records::{RecordsError, RemediationRecords};
use super::service::{wire, Remediations};
use async_trait::async_trait;
use chrono::Utc;
use serde_json::Value;
use shared_types::{RemediationRecord, RemediationStatus};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// How the worker paces itself.
#[derive(Debug, Clone, Copy)]
pub struct WorkerSettings {
    /// How often the queue is looked at when nothing wakes the worker.
    pub poll: Duration,
    /// How long a received message is hidden from other receivers: longer
    /// than one apply takes, so it only comes back when the worker died.
    pub hide_for: Duration,
    /// Receives before a failure that may pass is recorded as final.
    pub max_receives: u32,
    /// The wait before the second try; each later try waits this much longer.
    pub retry_after: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            poll: Duration::from_secs(1),
            hide_for: Duration::from_secs(300),
            max_receives: 3,
            retry_after: Duration::from_secs(30),
        }
    }
}

/// What became of a delivery that was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// The remediation ended (or was already over): its message is deleted.
    Done,
    /// A failure that may pass: the message was released to come back after
    /// a wait. A Lambda must report it as a batch item failure, or the event
    /// source mapping deletes it as handled.
    Later,
}

/// Why one delivery could not be handled (its message stays on the queue).
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The queue failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The records failed.
    #[error(transparent)]
    Records(#[from] RecordsError),
}

/// How long a worker holds a remediation it took: as long as its message
/// stays hidden, after which SQS (or the local queue) delivers it again.
fn hold(hide_for: Duration) -> chrono::Duration {
    chrono::Duration::from_std(hide_for).unwrap_or(chrono::Duration::minutes(5))
}

/// Opens a reason once a try's calls went through and their read-back failed.
/// The record has no field for it, so the next try finds it in the reason the
/// last one left: a retry that then fails, even at its first read, must not
/// make the record look as if nothing was changed.
const MADE: &str = "the change was made but not verified";

/// Between that first cause and the latest try's own error.
const LATEST: &str = "; latest: ";

/// The `MADE` cause an earlier try of this remediation left: the first one
/// in `reason` (each later try appends its own error afresh), or, when the
/// record says the change was made but no try recorded why it was not
/// verified (its worker died between the calls and the read-back), `MADE`
/// alone.
fn made_earlier(record: &RemediationRecord) -> Option<String> {
    let in_reason = record.reason.as_deref().and_then(|reason| {
        let made = &reason[reason.find(MADE)?..];
        Some(made.split_once(LATEST).map_or(made, |(first, _)| first))
    });
    match in_reason {
        Some(first) => Some(first.to_string()),
        None => record.made.then(|| MADE.to_string()),
    }
}

/// `why` a try did not verify, after the earlier try's `MADE` cause, if any.
fn after_made(earlier: Option<&str>, why: String) -> String {
    match earlier {
        Some(made) => format!("{made}{LATEST}{why}"),
        None => why,
    }
}

/// Applies queued remediations.
#[derive(Clone)]
pub struct Worker {
    remediations: Arc<Remediations>,
    queue: Arc<dyn RemediationQueue>,
    settings: WorkerSettings,
}

/// Moves a record along as the apply reports its steps.
struct Steps<'a> {
    records: &'a dyn RemediationRecords,
    record: &'a Mutex<RemediationRecord>,
}

impl Steps<'_> {
    async fn set(
        &self,
        status: RemediationStatus,
        plan: &Plan,
        undo: Option<&Value>,
    ) -> Result<(), RemediateError> {
        let mut r = self.record.lock().await;
        r.status = status;
        // Written before the read-back: a worker that dies now leaves it for
        // the next try to find.
        r.made |= status == RemediationStatus::Applied;
        r.updated_at = Utc::now();
        r.plan = Some(wire(plan));
        // The first try's undo stays: it was read before any call of this
        // remediation, and a try that got this far may have made some (a
        // throttled second call after a first that worked), so a later try
        // reads a resource already partly changed; its undo is in the ledger.
        if r.undo.is_none() {
            r.undo = undo.cloned();
        }
        self.records
            .update(&r)
            .await
            // The record is the history a person reads: without it, no call.
            .map_err(|e| RemediateError::Progress {
                retryable: e.retryable,
                source: Box::new(e),
            })
    }
}

#[async_trait]
impl Progress for Steps<'_> {
    async fn planned(&self, plan: &Plan, undo: Option<&Value>) -> Result<(), RemediateError> {
        self.set(RemediationStatus::Planned, plan, undo).await
    }

    async fn applied(&self, plan: &Plan) -> Result<(), RemediateError> {
        self.set(RemediationStatus::Applied, plan, None).await
    }
}

impl Worker {
    /// A worker applying what `queue` hands it with `remediations`.
    pub fn new(
        remediations: Arc<Remediations>,
        queue: Arc<dyn RemediationQueue>,
        settings: WorkerSettings,
    ) -> Worker {
        Worker {
            remediations,
            queue,
            settings,
        }
    }

    /// Handles every message visible now, one at a time (the per-account rate
    /// limit counts each apply before the next); returns how many it took.
    pub async fn drain(&self) -> Result<usize, WorkerError> {
        let mut n = 0;
        loop {
            let batch = self.queue.receive(10, self.settings.hide_for).await?;
            if batch.is_empty() {
                return Ok(n);
            }
            for d in batch {
                n += 1;
                if let Err(e) = self.handle(&d).await {
                    // Left on the queue: it comes back when its hiding time ends.
                    tracing::warn!(remediation = %d.message.remediation_id, error = %e,
                        "remediation not handled; it will be tried again");
                }
            }
        }
    }

    /// Runs until the task is aborted: drains the queue whenever an approval
    /// wakes it, and every `poll`.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let Err(e) = self.drain().await {
                    tracing::warn!(error = %e, "remediation queue unreadable; trying again");
                }
                tokio::select! {
                    _ = self.remediations.queued() => {}
                    _ = tokio::time::sleep(self.settings.poll) => {}
                }
            }
        })
    }

    /// Handles one delivery: applies the remediation it names unless its record
    /// is already final (a second delivery), records how it ended, and deletes
    /// the message, or releases it to come back later after a failure that may
    /// pass.
    pub async fn handle(&self, d: &Delivery) -> Result<Handled, WorkerError> {
        let records = self.remediations.records();
        let rid = &d.message.remediation_id;
        let Some(mut record) = records.get(rid).await? else {
            tracing::warn!(remediation = %rid, "queued remediation has no record; dropped");
            self.queue.delete(&d.receipt).await?;
            return Ok(Handled::Done);
        };
        if record.status.is_final() {
            self.queue.delete(&d.receipt).await?;
            return Ok(Handled::Done);
        }
        let now = Utc::now();
        if let Some(until) = record.worker_until.filter(|until| *until > now) {
            // Another delivery of this message is being applied (SQS delivers
            // at least once, to two instances at once at times): back when that
            // worker's hold ends, to find it ended or to take it over.
            let wait = (until - now).to_std().unwrap_or(self.settings.hide_for);
            tracing::info!(remediation = %rid, "remediation held by another worker; back later");
            self.queue.release(&d.receipt, wait).await?;
            return Ok(Handled::Later);
        }
        // Read before this try replaces the reason the last one left.
        let earlier = made_earlier(&record);
        let earlier = earlier.as_deref();
        let seen = record.clone();
        record.attempts += 1;
        record.updated_at = now;
        record.worker_until = Some(now + hold(self.settings.hide_for));
        // The claim: only if nobody wrote the record since it was read here.
        if !records.replace(&seen, &record).await? {
            tracing::info!(remediation = %rid, "remediation taken by another worker; back later");
            self.queue
                .release(&d.receipt, self.settings.hide_for)
                .await?;
            return Ok(Handled::Later);
        }
        let approval = if record.automatic {
            Approval::Auto
        } else {
            Approval::Person(record.requested_by.clone())
        };
        let cell = Mutex::new(record);
        let steps = Steps {
            records: records.as_ref(),
            record: &cell,
        };
        let (finding, expect) = {
            let r = cell.lock().await;
            (r.finding_id.clone(), r.expect_state.clone())
        };
        let outcome = self
            .remediations
            .remediator()
            .apply_with(&finding, &approval, expect.as_deref(), Utc::now(), &steps)
            .await;
        let mut record = cell.into_inner();
        record.updated_at = Utc::now();
        // Whatever comes next (an end, or a retry after a wait), this worker lets go.
        record.worker_until = None;
        let may_pass = match outcome {
            Ok(ApplyOutcome::Verified { plan, .. }) => {
                record.status = RemediationStatus::Verified;
                record.reason = None;
                record.plan = Some(wire(&plan));
                None
            }
            Ok(ApplyOutcome::NothingLeft { plan, .. }) => {
                record.status = RemediationStatus::Verified;
                record.reason = Some(match earlier {
                    // "No call made" alone would hide that this remediation made it.
                    Some(_) => format!(
                        "the change an earlier try made is in place, no call made: {}",
                        plan.after
                    ),
                    None => format!("already fixed, no call made: {}", plan.after),
                });
                record.plan = Some(wire(&plan));
                None
            }
            Ok(ApplyOutcome::NotApplicable(plan)) => {
                record.status = RemediationStatus::Failed;
                let why = format!("not applicable: {}", plan.after);
                record.reason = Some(after_made(earlier, why));
                record.plan = Some(wire(&plan));
                None
            }
            Ok(ApplyOutcome::Refused { plan, guard }) => {
                record.status = RemediationStatus::Refused;
                record.guard = Some(guard.name.to_string());
                // A retry after the change was made may be refused because of
                // it (`changed-since-plan`): the change is still there.
                record.reason = Some(after_made(earlier, guard.reason));
                record.plan = Some(wire(&plan));
                None
            }
            // This try's calls went through; only reading them back failed.
            Ok(ApplyOutcome::Failed {
                error: Failure::ReadBack(e),
                ..
            }) if earlier.is_none() => Some((format!("{MADE}: reading it back: {e}"), e.retryable)),
            // This try's calls went through and the read-back says the fix is
            // not there: made, whatever it did.
            Ok(ApplyOutcome::Failed { error, .. }) if earlier.is_none() && record.made => {
                Some((format!("{MADE}: {error}"), error.is_retryable()))
            }
            Ok(ApplyOutcome::Failed { error, .. }) => {
                Some((after_made(earlier, error.to_string()), error.is_retryable()))
            }
            Err(e) => Some((after_made(earlier, e.to_string()), e.is_retryable())),
        };
        if let Some((why, retryable)) = may_pass {
            if retryable && d.receives < self.settings.max_receives {
                record.status = RemediationStatus::Queued;
                record.reason = Some(format!(
                    "try {} of {} failed, trying again: {why}",
                    d.receives, self.settings.max_receives
                ));
                records.update(&record).await?;
                let wait = self.settings.retry_after * d.receives;
                self.queue.release(&d.receipt, wait).await?;
                return Ok(Handled::Later);
            }
            record.status = RemediationStatus::Failed;
            record.reason = Some(why);
        }
        tracing::info!(remediation = %record.id, finding = %record.finding_id,
            status = record.status.as_str(), reason = record.reason.as_deref().unwrap_or("-"),
            "remediation ended");
        records.update(&record).await?;
        self.queue.delete(&d.receipt).await?;
        Ok(Handled::Done)
    }
}

#[cfg(test)]
mod tests;
