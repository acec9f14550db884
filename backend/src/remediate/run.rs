//! Plan and apply one finding end to end, as `cspm remediate` does (and, later,
//! the worker): find the action and its target from the finding alone, check the
//! guards that need no read (so an out-of-scope, disabled, rate-limited or closed
//! remediation reads nothing from AWS), read the resource, plan, check every
//! guard, then record the attempt, apply, verify, and resolve the finding through
//! the pipeline's workflow path (like `PATCH /findings/{id}`), so the change is
//! in its audit trail and on the change feed.

use super::action::{Action, Observed, Proposal};
use super::attempt::Attempt;
use super::config::RemediationConfig;
use super::finding_key::FindingKey;
use super::guards::{self, Approval, GuardInput, Read};
use super::ledger::AttemptLog;
use super::outcome::{ApplyOutcome, Failure, RemediateError};
use super::plan::{GuardName, GuardResult, Plan};
use super::progress::{Progress, Silent};
use super::registry::{self, Registry};
use super::target::{NotApplicable, Target};
use crate::pipeline::{Pipeline, PipelineError};
use chrono::{DateTime, Utc};
use shared_types::{Finding, FindingDetail, WorkflowStatus, WorkflowUpdate};
use std::sync::{Arc, PoisonError};

/// Plans and applies remediations.
pub struct Remediator {
    /// The remediation file.
    pub config: RemediationConfig,
    /// The implemented actions.
    pub registry: Registry,
    /// Reads findings and writes their workflow change.
    pub pipeline: Pipeline,
    /// Where attempts are recorded (and the rate limit counted).
    pub ledger: Arc<dyn AttemptLog>,
}

/// A finding with the action that fixes it and where: known before AWS is read.
struct Resolved {
    finding: Finding,
    action: Arc<dyn Action>,
    target: Target,
}

impl Remediator {
    /// The plan for finding `id` at `now`, as `approval` would run it: what would
    /// be called and every guard's verdict. Changes nothing. The resource is
    /// read even for an action that is not enabled (its plan is the point of
    /// plan-only), but never for a target out of scope.
    pub async fn plan(
        &self,
        id: &str,
        approval: &Approval,
        now: DateTime<Utc>,
    ) -> Result<Plan, RemediateError> {
        let r = match self.resolve(id).await? {
            Ok(r) => r,
            Err(plan) => return Ok(plan),
        };
        let recent = self
            .ledger
            .attempts_in(&r.target.account, (id, r.action.id().as_str()))
            .await?;
        let input = r.input(&self.config, approval, now, &recent);
        let before = guards::evaluate(&input, None);
        if before
            .iter()
            .any(|g| g.name == GuardName::OutOfScope && !g.passed)
        {
            return Ok(Plan::unread(id, r.action.id().as_str(), before));
        }
        let observed =
            r.action
                .observe(&r.target)
                .await
                .map_err(|source| RemediateError::Observe {
                    action: r.action.id(),
                    source,
                })?;
        let proposal = r.action.plan(&r.target, &observed);
        let read = Read {
            observed: &observed,
            expected_state: None,
        };
        let guards = guards::evaluate(&input, Some(&read));
        Ok(r.plan(&proposal, &observed, guards))
    }

    /// Applies finding `id` now for `approval`: the guards that need no read,
    /// the read, every guard (with `expected_state`, the plan's `state_hash`,
    /// when given), a `started` ledger line, the calls, the read-back, and the
    /// finding RESOLVED. An open finding whose resource is already fixed is
    /// resolved without a call.
    pub async fn apply(
        &self,
        id: &str,
        approval: &Approval,
        expected_state: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ApplyOutcome, RemediateError> {
        self.apply_with(id, approval, expected_state, now, &Silent)
            .await
    }

    /// [`Remediator::apply`], telling `progress` when the plan passed every
    /// guard and when the calls were made (the worker's record follows it).
    pub async fn apply_with(
        &self,
        id: &str,
        approval: &Approval,
        expected_state: Option<&str>,
        now: DateTime<Utc>,
        progress: &dyn Progress,
    ) -> Result<ApplyOutcome, RemediateError> {
        let r = match self.resolve(id).await? {
            Ok(r) => r,
            Err(plan) => return Ok(ApplyOutcome::NotApplicable(plan)),
        };
        let action = r.action.id();
        let recent = self
            .ledger
            .attempts_in(&r.target.account, (id, r.action.id().as_str()))
            .await?;
        let input = r.input(&self.config, approval, now, &recent);
        let before = guards::evaluate(&input, None);
        if let Some(guard) = first_refusal(&before) {
            let plan = Plan::unread(id, action.as_str(), before);
            return Ok(ApplyOutcome::Refused { plan, guard });
        }
        let observed = match r.action.observe(&r.target).await {
            Ok(o) => o,
            Err(e) => {
                return Ok(ApplyOutcome::Failed {
                    finding_id: id.to_string(),
                    action,
                    error: Failure::Observe(e),
                })
            }
        };
        let proposal = r.action.plan(&r.target, &observed);
        let read = Read {
            observed: &observed,
            expected_state,
        };
        let plan = r.plan(&proposal, &observed, guards::evaluate(&input, Some(&read)));
        if let Some(guard) = first_refusal(&plan.guards) {
            return Ok(ApplyOutcome::Refused { plan, guard });
        }
        if proposal.calls.is_empty() {
            // Fixed by someone else, or by an attempt that died before resolving:
            // left open, the finding would be refused or re-planned forever.
            let note = format!(
                "Already fixed when {} applied {action}: {}; no call made.",
                approval.actor(),
                plan.after
            );
            let finding = self.resolve_finding(id, action.as_str(), note, now).await?;
            return Ok(ApplyOutcome::NothingLeft { plan, finding });
        }
        let attempt = Attempt {
            ledger: self.ledger.as_ref(),
            finding_id: id,
            action,
            account: &r.target.account,
            actor: approval.actor(),
            at: now,
        };
        let undo = r.action.record(&r.target, &observed);
        progress.planned(&plan, undo.as_ref()).await?;
        // The rate limit again, on the starts as they stand at the start:
        // workers that read the same count a moment ago take the last place
        // under it one at a time.
        let refusal = std::sync::Mutex::new(None);
        let within_limit = |others: &[DateTime<Utc>]| {
            let verdict = guards::rate_limit(&r.input(&self.config, approval, now, others));
            let passed = verdict.passed;
            *refusal.lock().unwrap_or_else(PoisonError::into_inner) = Some(verdict);
            passed
        };
        if !attempt.start_if(undo, &within_limit).await? {
            let guard = refusal
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .unwrap_or_else(|| guards::rate_limit(&input));
            let mut plan = plan;
            for g in plan.guards.iter_mut().filter(|g| g.name == guard.name) {
                *g = guard.clone();
            }
            return Ok(ApplyOutcome::Refused { plan, guard });
        }
        if let Err(e) = r.action.apply(&r.target, &proposal).await {
            return attempt.failed(Failure::Call(e)).await;
        }
        progress.applied(&plan).await?;
        match r.action.verify(&r.target).await {
            Ok(None) => {}
            Ok(Some(why)) => return attempt.failed(Failure::Unverified(why)).await,
            Err(e) => return attempt.failed(Failure::ReadBack(e)).await,
        }
        attempt.verified().await?;
        let note = format!(
            "Remediated by {action} (approved by {}): {}; verified by reading it back.",
            approval.actor(),
            plan.after
        );
        let finding = self.resolve_finding(id, action.as_str(), note, now).await?;
        Ok(ApplyOutcome::Verified { plan, finding })
    }

    /// What an approval of finding `id` at `now` meets before anything is read
    /// from AWS: the plan with the verdicts of the guards that need no read
    /// ([`Plan::unread`]; its `refused_by` is the refusal, if any), or the plan
    /// saying no action applies. The API answers an approval with it at once,
    /// and queues only what it lets through (the worker checks every guard again).
    pub async fn screen(
        &self,
        id: &str,
        approval: &Approval,
        now: DateTime<Utc>,
    ) -> Result<Plan, RemediateError> {
        let r = match self.resolve(id).await? {
            Ok(r) => r,
            Err(plan) => return Ok(plan),
        };
        let recent = self
            .ledger
            .attempts_in(&r.target.account, (id, r.action.id().as_str()))
            .await?;
        let input = r.input(&self.config, approval, now, &recent);
        Ok(Plan::unread(
            id,
            r.action.id().as_str(),
            guards::evaluate(&input, None),
        ))
    }

    /// The finding, its action and its target, or (`Err`) the plan saying why
    /// none applies. Reads the store only.
    async fn resolve(&self, id: &str) -> Result<Result<Resolved, Plan>, RemediateError> {
        let finding = self
            .pipeline
            .store()
            .get(id)
            .await
            .map_err(PipelineError::from)?
            .ok_or_else(|| RemediateError::UnknownFinding(id.to_string()))?
            .finding;
        let Some(action_id) = registry::action_for(&finding) else {
            let key = FindingKey::of(&finding).as_str().to_string();
            return Ok(Err(Plan::not_applicable(
                id,
                None,
                &NotApplicable::NoAction(key),
            )));
        };
        let name = Some(action_id.to_string());
        let Some(action) = self.registry.get(action_id) else {
            let why = NotApplicable::NotAvailable(action_id);
            return Ok(Err(Plan::not_applicable(id, name, &why)));
        };
        match action.target(&finding) {
            Ok(target) => Ok(Ok(Resolved {
                action: self.registry.in_account(action, &target.account).await,
                finding,
                target,
            })),
            Err(why) => Ok(Err(Plan::not_applicable(id, name, &why))),
        }
    }

    /// Moves the finding to RESOLVED as `remediation:<action>` with `note`.
    async fn resolve_finding(
        &self,
        id: &str,
        action: &str,
        note: String,
        now: DateTime<Utc>,
    ) -> Result<Box<FindingDetail>, RemediateError> {
        let update = WorkflowUpdate {
            workflow_status: WorkflowStatus::Resolved,
            note: Some(note),
        };
        let detail = self
            .pipeline
            .set_workflow(id, &update, &format!("remediation:{action}"), now)
            .await?
            .ok_or_else(|| RemediateError::UnknownFinding(id.to_string()))?;
        Ok(Box::new(detail))
    }
}

impl Resolved {
    fn input<'a>(
        &'a self,
        config: &'a RemediationConfig,
        approval: &'a Approval,
        now: DateTime<Utc>,
        recent_applies: &'a [DateTime<Utc>],
    ) -> GuardInput<'a> {
        GuardInput {
            config,
            action: self.action.id(),
            finding: &self.finding,
            target: &self.target,
            approval,
            now,
            recent_applies,
        }
    }

    fn plan(&self, proposal: &Proposal, observed: &Observed, guards: Vec<GuardResult>) -> Plan {
        Plan::applicable(
            &self.finding.id,
            self.action.id().as_str(),
            proposal.calls.clone(),
            &observed.state,
            proposal.after.clone(),
            guards,
        )
    }
}

fn first_refusal(guards: &[GuardResult]) -> Option<GuardResult> {
    guards.iter().find(|g| !g.passed).cloned()
}

#[cfg(test)]
mod tests;
