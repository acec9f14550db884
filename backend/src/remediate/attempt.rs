//! The ledger lines of one apply that makes calls: `started` before the first
//! call, then `verified` or `failed`. Kept apart from the flow in `run` so that
//! what is recorded, and when, reads in one place.

use super::action_id::ActionId;
use super::ledger::{AttemptLog, LedgerEntry, LedgerError, LedgerOutcome};
use super::outcome::{ApplyOutcome, Failure, RemediateError};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// One attempt to change a resource.
pub struct Attempt<'a> {
    /// Where its lines go.
    pub ledger: &'a dyn AttemptLog,
    /// The finding's short id.
    pub finding_id: &'a str,
    /// The action making the calls.
    pub action: ActionId,
    /// The account changed (the target's, which the calls check).
    pub account: &'a str,
    /// Who asked.
    pub actor: &'a str,
    /// When.
    pub at: DateTime<Utc>,
}

impl Attempt<'_> {
    async fn write(
        &self,
        outcome: LedgerOutcome,
        error: Option<String>,
        record: Option<Value>,
    ) -> Result<(), LedgerError> {
        self.ledger
            .append(&LedgerEntry {
                at: self.at,
                finding_id: self.finding_id.to_string(),
                action: self.action.to_string(),
                account_id: self.account.to_string(),
                actor: self.actor.to_string(),
                outcome,
                error,
                record,
            })
            .await
    }

    /// Recorded before the calls, with the action's `record` (what undoes the
    /// change): the rate limit counts this line, and the record is kept, even
    /// when the process dies before the outcome is known.
    pub async fn started(&self, record: Option<Value>) -> Result<(), RemediateError> {
        Ok(self.write(LedgerOutcome::Started, None, record).await?)
    }

    /// The calls were made and the read-back shows the fix.
    pub async fn verified(&self) -> Result<(), RemediateError> {
        Ok(self.write(LedgerOutcome::Verified, None, None).await?)
    }

    /// A call failed or the fix is not there: recorded, and the outcome that
    /// leaves the finding open.
    pub async fn failed(&self, error: Failure) -> Result<ApplyOutcome, RemediateError> {
        self.write(LedgerOutcome::Failed, Some(error.to_string()), None)
            .await?;
        Ok(ApplyOutcome::Failed {
            finding_id: self.finding_id.to_string(),
            action: self.action,
            error,
        })
    }
}
