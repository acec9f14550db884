//! `cspm remediate apply`: a person at a terminal is the approval, so the fix
//! runs in that process at once, not through the queue. It is recorded as the
//! worker records a queued one (a record that follows each step, then how it
//! ended: [`super::record_steps`]), so `GET /remediations` and the dashboard's
//! history show it beside the approved ones, refusals by a guard included.

use super::guards::Approval;
use super::outcome::{ApplyOutcome, RemediateError};
use super::record_steps::{made_earlier, record_end, Steps};
use super::records::{RecordsError, RemediationRecords};
use super::run::Remediator;
use super::service::new_id;
use chrono::{DateTime, Utc};
use shared_types::{RemediationRecord, RemediationStatus};
use tokio::sync::Mutex;

/// How long this process holds the remediation it records: an approval of the
/// same finding meanwhile finds it open, held, and does not queue it again.
const HOLD: chrono::Duration = chrono::Duration::minutes(15);

/// Why an apply at the terminal did not run or was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum TerminalError {
    /// Another remediation of the finding is open (queued, or being applied by
    /// a worker): this one would race it.
    #[error(
        "remediation {} of this finding is {} (requested by {}); \
         let it end, or see GET /remediations/{}",
        .0.id, .0.status.as_str(), .0.requested_by, .0.id
    )]
    Open(Box<RemediationRecord>),
    /// The records could not be read or written: nothing was called without one.
    #[error(transparent)]
    Records(#[from] RecordsError),
    /// Planning or applying could not even finish its bookkeeping.
    #[error(transparent)]
    Remediate(#[from] RemediateError),
}

/// An apply at the terminal: its record (none for a finding no action fixes,
/// as an approval records none) and how it ended.
#[derive(Debug)]
pub struct Applied {
    /// The remediation's record as it ended.
    pub record: Option<RemediationRecord>,
    /// What the apply did.
    pub outcome: ApplyOutcome,
}

/// The open remediation `open` of the finding, taken over when whoever held it
/// let its hold end without finishing (a worker or a terminal that died):
/// only if nobody wrote it since it was read. One still held, or queued and
/// not yet taken, is left to its worker: [`TerminalError::Open`].
async fn take_over(
    records: &dyn RemediationRecords,
    open: RemediationRecord,
    approval: &Approval,
    now: DateTime<Utc>,
) -> Result<RemediationRecord, TerminalError> {
    let abandoned = open.worker_until.is_some_and(|until| until <= now);
    if !abandoned {
        return Err(TerminalError::Open(Box::new(open)));
    }
    let mut mine = open.clone();
    mine.attempts += 1;
    mine.updated_at = now;
    mine.worker_until = Some(now + HOLD);
    // Its reason stays: it may say an earlier try made the change.
    tracing::info!(remediation = %open.id, by = approval.actor(),
        "open remediation whose holder stopped taken over at the terminal");
    if records.replace(&open, &mine).await? {
        Ok(mine)
    } else {
        let now_stored = records.get(&open.id).await?.unwrap_or(open);
        Err(TerminalError::Open(Box::new(now_stored)))
    }
}

/// Applies finding `id` now for `approval` (on the state `expect_state`, a
/// plan's `state_hash`, when given), recorded in `records`.
pub async fn apply(
    remediator: &Remediator,
    records: &dyn RemediationRecords,
    id: &str,
    approval: &Approval,
    expect_state: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Applied, TerminalError> {
    let screened = remediator.screen(id, approval, now).await?;
    if !screened.applicable {
        return Ok(Applied {
            record: None,
            outcome: ApplyOutcome::NotApplicable(screened),
        });
    }
    let record = RemediationRecord {
        id: new_id(),
        finding_id: id.to_string(),
        action: screened.action.clone(),
        status: RemediationStatus::Queued,
        requested_by: approval.actor().to_string(),
        automatic: *approval == Approval::Auto,
        requested_at: now,
        updated_at: now,
        expect_state: expect_state.map(str::to_string),
        guard: None,
        reason: None,
        attempts: 1,
        worker_until: Some(now + HOLD),
        made: false,
        plan: None,
        undo: None,
    };
    let record = match records.insert_unless_open(&record).await? {
        None => record,
        Some(open) => {
            let mut mine = take_over(records, open, approval, now).await?;
            mine.expect_state = expect_state.map(str::to_string);
            mine
        }
    };
    let earlier = made_earlier(&record);
    let cell = Mutex::new(record);
    let steps = Steps {
        records,
        record: &cell,
    };
    let outcome = remediator
        .apply_with(id, approval, expect_state, now, &steps)
        .await;
    let mut record = cell.into_inner();
    record.updated_at = Utc::now();
    record.worker_until = None;
    // One try: a failure that may pass is final here too (the person runs it
    // again, as a new remediation).
    if let Some((why, _)) = record_end(&mut record, &outcome, earlier.as_deref()) {
        record.status = RemediationStatus::Failed;
        record.reason = Some(why);
    }
    records.update(&record).await?;
    Ok(Applied {
        record: Some(record),
        outcome: outcome?,
    })
}
