//! How planning or applying one finding ended: the outcomes a caller reports
//! (and maps to exit codes or HTTP statuses), why an action failed, and the
//! errors that stop a run before any outcome.

use super::action::ActionError;
use super::action_id::ActionId;
use super::plan::{GuardResult, Plan};
use crate::pipeline::PipelineError;
use shared_types::FindingDetail;

/// Why a plan or an apply could not even start or finish its bookkeeping (as
/// opposed to a refusal or a failed action, which are [`ApplyOutcome`]s).
#[derive(Debug, thiserror::Error)]
pub enum RemediateError {
    /// No finding has this id. Permanent.
    #[error("no finding with id {0:?}")]
    UnknownFinding(String),
    /// The store failed; [`PipelineError::is_retryable`] says whether it may pass.
    #[error(transparent)]
    Store(#[from] PipelineError),
    /// Reading the resource to plan failed.
    #[error("{action}: reading the resource: {source}")]
    Observe {
        /// The action that read it.
        action: ActionId,
        /// The failed call.
        source: ActionError,
    },
    /// The ledger could not be read or written. Permanent until someone looks.
    #[error("remediation ledger: {0}")]
    Ledger(#[from] super::ledger::LedgerError),
    /// The caller's record of a step could not be written (the worker's
    /// remediation record); no call is made without it.
    #[error("recording the remediation: {source}")]
    Progress {
        /// What failed.
        source: Box<dyn std::error::Error + Send + Sync>,
        /// True when trying again later may work.
        retryable: bool,
    },
}

impl RemediateError {
    /// True when trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            RemediateError::UnknownFinding(_) => false,
            RemediateError::Ledger(e) => e.retryable,
            RemediateError::Store(e) => e.is_retryable(),
            RemediateError::Observe { source, .. } => source.retryable,
            RemediateError::Progress { retryable, .. } => *retryable,
        }
    }
}

/// Why an apply failed; the finding stays open either way.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Reading the resource before the calls failed: nothing was called.
    #[error("reading the resource: {0}")]
    Observe(#[source] ActionError),
    /// A call failed (it may have been made in part: the read-back decides).
    #[error("{0}")]
    Call(#[source] ActionError),
    /// The read-back after the calls does not show the fix.
    #[error("not verified: {0}")]
    Unverified(String),
    /// The read-back after the calls failed.
    #[error("not verified: reading it back: {0}")]
    ReadBack(#[source] ActionError),
}

impl Failure {
    /// True when trying again later may succeed (throttling, a timeout, a 5xx);
    /// a read-back that shows no fix will not fix itself.
    pub fn is_retryable(&self) -> bool {
        match self {
            Failure::Observe(e) | Failure::Call(e) | Failure::ReadBack(e) => e.retryable,
            Failure::Unverified(_) => false,
        }
    }
}

/// How an apply ended.
#[derive(Debug)]
pub enum ApplyOutcome {
    /// The calls were made, the read-back shows the fix, the finding is RESOLVED.
    Verified {
        /// The plan that ran.
        plan: Plan,
        /// The finding after the workflow change.
        finding: Box<FindingDetail>,
    },
    /// The open finding's resource was already fixed (by a person, or by an
    /// earlier attempt that crashed before resolving it): no call was made and
    /// the finding is RESOLVED with a note saying so.
    NothingLeft {
        /// The plan, with no calls.
        plan: Plan,
        /// The finding after the workflow change.
        finding: Box<FindingDetail>,
    },
    /// No available action fixes this finding (the plan's `after` says why).
    NotApplicable(Plan),
    /// A guard refused; nothing was called.
    Refused {
        /// The plan, with the verdicts of the guards checked.
        plan: Plan,
        /// The first refusing guard.
        guard: GuardResult,
    },
    /// Reading the resource or a call failed, or the read-back did not show the
    /// fix; the finding stays open.
    Failed {
        /// The finding's id.
        finding_id: String,
        /// The action that failed.
        action: ActionId,
        /// What went wrong, and whether it may pass later.
        error: Failure,
    },
}
