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
//! What the record says at each step and at the end is
//! [`super::record_steps`], shared with `cspm remediate apply`.

use super::guards::Approval;
use super::queue::{Delivery, QueueError, RemediationQueue};
use super::record_steps::{made_earlier, record_end, Steps};
use super::records::RecordsError;
use super::service::Remediations;
use chrono::Utc;
use shared_types::RemediationStatus;
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

/// Applies queued remediations.
#[derive(Clone)]
pub struct Worker {
    remediations: Arc<Remediations>,
    queue: Arc<dyn RemediationQueue>,
    settings: WorkerSettings,
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
        let may_pass = record_end(&mut record, &outcome, earlier);
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
