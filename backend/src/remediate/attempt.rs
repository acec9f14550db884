//! The ledger lines of one apply that makes calls: `started` before the first
//! call, then `verified` or `failed`. Kept apart from the flow in `run` so that
//! what is recorded, and when, reads in one place.

use super::action_id::ActionId;
use super::ledger::{AttemptLog, LedgerEntry, LedgerError, LedgerOutcome, StartCheck};
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
    fn entry(
        &self,
        outcome: LedgerOutcome,
        error: Option<String>,
        record: Option<Value>,
    ) -> LedgerEntry {
        LedgerEntry {
            at: self.at,
            finding_id: self.finding_id.to_string(),
            action: self.action.to_string(),
            account_id: self.account.to_string(),
            actor: self.actor.to_string(),
            outcome,
            error,
            record,
        }
    }

    async fn write(
        &self,
        outcome: LedgerOutcome,
        error: Option<String>,
    ) -> Result<(), LedgerError> {
        self.ledger.append(&self.entry(outcome, error, None)).await
    }

    /// Recorded before the calls, with the action's `record` (what undoes the
    /// change), if `allowed` still passes on the account's other starts as
    /// they stand now (see [`AttemptLog::start_if`]): the rate limit counts
    /// this line, and the record is kept, even when the process dies before
    /// the outcome is known. False: refused, nothing recorded, no call made.
    pub async fn start_if(
        &self,
        record: Option<Value>,
        allowed: &StartCheck<'_>,
    ) -> Result<bool, RemediateError> {
        let entry = self.entry(LedgerOutcome::Started, None, record);
        Ok(self.ledger.start_if(&entry, allowed).await?)
    }

    /// The calls were made and the read-back shows the fix.
    pub async fn verified(&self) -> Result<(), RemediateError> {
        Ok(self.write(LedgerOutcome::Verified, None).await?)
    }

    /// A call failed or the fix is not there: recorded, and the outcome that
    /// leaves the finding open.
    pub async fn failed(&self, error: Failure) -> Result<ApplyOutcome, RemediateError> {
        self.write(LedgerOutcome::Failed, Some(error.to_string()))
            .await?;
        Ok(ApplyOutcome::Failed {
            finding_id: self.finding_id.to_string(),
            action: self.action,
            error,
        })
    }
}
