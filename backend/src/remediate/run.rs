//! Plan and apply one finding end to end, as `cspm remediate` does (and, later,
//! the worker): find the action, read the resource, plan, check every guard, then
//! re-read and re-check right before the calls, apply, verify, and resolve the
//! finding through the pipeline's workflow path (like `PATCH /findings/{id}`), so
//! the change is in its audit trail and on the change feed.

use super::action::{Action, ActionError, Observed, Proposal, Target};
use super::action_id::ActionId;
use super::config::RemediationConfig;
use super::guards::{self, GuardInput};
use super::ledger::{Ledger, LedgerEntry, LedgerOutcome};
use super::plan::{GuardResult, Plan};
use super::registry::{self, Registry};
use crate::pipeline::{Pipeline, PipelineError};
use chrono::{DateTime, Utc};
use shared_types::{Finding, FindingDetail, WorkflowStatus, WorkflowUpdate};
use std::sync::Arc;

/// Why a plan or an apply could not even start (as opposed to a refusal or a
/// failed action, which are [`ApplyOutcome`]s).
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
    Ledger(#[from] std::io::Error),
}

impl RemediateError {
    /// True when trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            RemediateError::UnknownFinding(_) | RemediateError::Ledger(_) => false,
            RemediateError::Store(e) => e.is_retryable(),
            RemediateError::Observe { source, .. } => source.retryable,
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
    /// The resource is already fixed: no call was made, the finding was not touched.
    NothingLeft(Plan),
    /// No available action fixes this finding (the plan's `after` says why).
    NotApplicable(Plan),
    /// A guard refused; nothing was called.
    Refused {
        /// The plan, with every guard's verdict.
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
        action: String,
        /// What went wrong.
        error: String,
        /// True when trying again later may succeed (throttling, a timeout).
        retryable: bool,
    },
}

/// What planning found, kept so apply runs exactly the planned action on the
/// planned target.
struct Prepared {
    plan: Plan,
    finding: Finding,
    action: Arc<dyn Action>,
    target: Target,
    proposal: Proposal,
}

/// Plans and applies remediations.
pub struct Remediator {
    /// The remediation file.
    pub config: RemediationConfig,
    /// The implemented actions.
    pub registry: Registry,
    /// Reads findings and writes their workflow change.
    pub pipeline: Pipeline,
    /// Where attempts are recorded (and the rate limit counted).
    pub ledger: Ledger,
}

impl Remediator {
    /// The plan for finding `id` at `now`: what would be called and every guard's
    /// verdict (for a person approving it now).
    pub async fn plan(&self, id: &str, now: DateTime<Utc>) -> Result<Plan, RemediateError> {
        Ok(match self.prepare(id, now).await? {
            Ok(p) => p.plan,
            Err(plan) => plan,
        })
    }

    /// Plans finding `id`, then (when a guard does not refuse and there is
    /// something to do) re-checks, applies, verifies and resolves it. `approver`
    /// is who asked (kept in the note and the ledger).
    pub async fn apply(
        &self,
        id: &str,
        approver: &str,
        now: DateTime<Utc>,
    ) -> Result<ApplyOutcome, RemediateError> {
        let p = match self.prepare(id, now).await {
            Ok(Ok(p)) => p,
            Ok(Err(plan)) => return Ok(ApplyOutcome::NotApplicable(plan)),
            // The resource could not be read: the action failed before any change.
            Err(RemediateError::Observe { action, source }) => {
                return Ok(self.unread(id, action, source))
            }
            Err(e) => return Err(e),
        };
        if p.plan.calls.is_empty() {
            return Ok(ApplyOutcome::NothingLeft(p.plan));
        }
        if let Some(g) = p.plan.refused_by().cloned() {
            return Ok(ApplyOutcome::Refused {
                plan: p.plan,
                guard: g,
            });
        }
        // Checked again right before the calls, on freshly read finding and
        // resource: a plan is only applied to what it was made on.
        let finding = self.finding(id).await?;
        let observed = match p.action.observe(&p.target).await {
            Ok(o) => o,
            Err(e) => return Ok(self.unread(id, p.action.id(), e)),
        };
        let again = self.guards(&p, &finding, &observed, Some(&p.plan.current_state), now)?;
        if let Some(g) = again.iter().find(|g| !g.passed).cloned() {
            let mut plan = p.plan;
            plan.guards = again;
            return Ok(ApplyOutcome::Refused { plan, guard: g });
        }
        if let Err(e) = p.action.apply(&p.target, &p.proposal).await {
            return self.failed(p, approver, now, e.to_string(), e.retryable);
        }
        match p.action.verify(&p.target).await {
            Ok(None) => {}
            Ok(Some(why)) => {
                return self.failed(p, approver, now, format!("not verified: {why}"), false)
            }
            Err(e) => {
                return self.failed(p, approver, now, format!("not verified: {e}"), e.retryable)
            }
        }
        self.record(&p, approver, now, LedgerOutcome::Verified, None)?;
        let action = p.action.id();
        let update = WorkflowUpdate {
            workflow_status: WorkflowStatus::Resolved,
            note: Some(format!(
                "Remediated by {action} (approved by {approver}): {}; verified by reading it back.",
                p.plan.after
            )),
        };
        let detail = self
            .pipeline
            .set_workflow(id, &update, &format!("remediation:{action}"), now)
            .await?
            .ok_or_else(|| RemediateError::UnknownFinding(id.to_string()))?;
        Ok(ApplyOutcome::Verified {
            plan: p.plan,
            finding: Box::new(detail),
        })
    }

    async fn finding(&self, id: &str) -> Result<Finding, RemediateError> {
        let detail = self
            .pipeline
            .store()
            .get(id)
            .await
            .map_err(PipelineError::from)?
            .ok_or_else(|| RemediateError::UnknownFinding(id.to_string()))?;
        Ok(detail.finding)
    }

    /// The plan, or (`Err`) a plan saying why nothing applies.
    async fn prepare(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<Prepared, Plan>, RemediateError> {
        let finding = self.finding(id).await?;
        let Some(action_id) = registry::action_for(&finding) else {
            return Ok(Err(Plan::not_applicable(
                id,
                None,
                format!(
                    "no remediation action fixes {:?} findings",
                    guards::rule_id(&finding)
                ),
            )));
        };
        let name = Some(action_id.to_string());
        let Some(action) = self.registry.get(action_id) else {
            return Ok(Err(Plan::not_applicable(
                id,
                name,
                format!("{action_id} is not available yet: nothing will be changed"),
            )));
        };
        let target = match action.target(&finding) {
            Ok(t) => t,
            Err(why) => return Ok(Err(Plan::not_applicable(id, name, why))),
        };
        let observed = action
            .observe(&target)
            .await
            .map_err(|source| RemediateError::Observe {
                action: action_id,
                source,
            })?;
        let proposal = action.plan(&target, &observed);
        let mut p = Prepared {
            plan: Plan {
                finding_id: id.to_string(),
                action: name,
                applicable: true,
                calls: proposal.calls.clone(),
                current_state: observed.state.clone(),
                after: proposal.after.clone(),
                guards: Vec::new(),
            },
            finding,
            action,
            target,
            proposal,
        };
        p.plan.guards = self.guards(&p, &p.finding, &observed, None, now)?;
        Ok(Ok(p))
    }

    fn guards(
        &self,
        p: &Prepared,
        finding: &Finding,
        observed: &Observed,
        planned_state: Option<&serde_json::Value>,
        now: DateTime<Utc>,
    ) -> Result<Vec<GuardResult>, RemediateError> {
        let recent = self.ledger.attempts_in(&finding.account_id)?;
        Ok(guards::evaluate(&GuardInput {
            config: &self.config,
            action: p.action.id(),
            finding,
            observed,
            // Every caller so far is a person at a terminal (`cspm remediate
            // apply`); the worker will pass false for rules in `auto`.
            approved_by_person: true,
            planned_state,
            now,
            recent_applies: &recent,
        }))
    }

    fn record(
        &self,
        p: &Prepared,
        approver: &str,
        now: DateTime<Utc>,
        outcome: LedgerOutcome,
        error: Option<String>,
    ) -> Result<(), RemediateError> {
        self.ledger.append(&LedgerEntry {
            at: now,
            finding_id: p.plan.finding_id.clone(),
            action: p.action.id().to_string(),
            account_id: p.finding.account_id.clone(),
            actor: approver.to_string(),
            outcome,
            error,
        })?;
        Ok(())
    }

    /// Calls were made and the fix is not there: recorded (it counts against the
    /// rate limit like any attempt).
    fn failed(
        &self,
        p: Prepared,
        approver: &str,
        now: DateTime<Utc>,
        error: String,
        retryable: bool,
    ) -> Result<ApplyOutcome, RemediateError> {
        self.record(
            &p,
            approver,
            now,
            LedgerOutcome::Failed,
            Some(error.clone()),
        )?;
        Ok(ApplyOutcome::Failed {
            finding_id: p.plan.finding_id,
            action: p.action.id().to_string(),
            error,
            retryable,
        })
    }

    /// Reading the resource failed, so nothing was called (not an attempt for
    /// the ledger).
    fn unread(&self, id: &str, action: ActionId, e: ActionError) -> ApplyOutcome {
        ApplyOutcome::Failed {
            finding_id: id.to_string(),
            action: action.to_string(),
            retryable: e.retryable,
            error: e.to_string(),
        }
    }
}
