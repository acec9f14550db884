//! How a remediation's record follows one try of it, wherever the try runs
//! (the worker, for a queued approval; `cspm remediate apply`, at the
//! terminal): each step the apply reports (`planned`, `applied`) written as it
//! happens, then how the try ended, in one function.
//!
//! Once a try's calls went through but its read-back failed, the change is
//! made: every later reason of that remediation says so first ("the change was
//! made but not verified"), whatever a later try's own error, so that nobody
//! re-applies it by hand and its `undo` is known to matter.

use super::outcome::{ApplyOutcome, Failure, RemediateError};
use super::plan::Plan;
use super::progress::Progress;
use super::records::RemediationRecords;
use super::service::wire;
use async_trait::async_trait;
use chrono::Utc;
use serde_json::Value;
use shared_types::{RemediationRecord, RemediationStatus};
use tokio::sync::Mutex;

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
pub(crate) fn made_earlier(record: &RemediationRecord) -> Option<String> {
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

/// Moves a record along as the apply reports its steps.
pub(crate) struct Steps<'a> {
    /// Where the record is written.
    pub records: &'a dyn RemediationRecords,
    /// The record, as this try has it.
    pub record: &'a Mutex<RemediationRecord>,
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

/// Writes how one try ended into `record` (status, reason, plan); `earlier` is
/// the `MADE` cause an earlier try left ([`made_earlier`]). `None` when the
/// try's end is final; for a failure, its reason and whether it may pass (the
/// worker then tries again while tries remain; at the terminal it is final).
pub(crate) fn record_end(
    record: &mut RemediationRecord,
    outcome: &Result<ApplyOutcome, RemediateError>,
    earlier: Option<&str>,
) -> Option<(String, bool)> {
    match outcome {
        Ok(ApplyOutcome::Verified { plan, .. }) => {
            record.status = RemediationStatus::Verified;
            record.reason = None;
            record.plan = Some(wire(plan));
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
            record.plan = Some(wire(plan));
            None
        }
        Ok(ApplyOutcome::NotApplicable(plan)) => {
            record.status = RemediationStatus::Failed;
            let why = format!("not applicable: {}", plan.after);
            record.reason = Some(after_made(earlier, why));
            record.plan = Some(wire(plan));
            None
        }
        Ok(ApplyOutcome::Refused { plan, guard }) => {
            record.status = RemediationStatus::Refused;
            record.guard = Some(guard.name.to_string());
            // A retry after the change was made may be refused because of
            // it (`changed-since-plan`): the change is still there.
            record.reason = Some(after_made(earlier, guard.reason.clone()));
            record.plan = Some(wire(plan));
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
    }
}
