//! One remediation action's contract. An action says which resource of a finding
//! it fixes ([`Action::target`]), reads that resource ([`Action::observe`]), turns
//! what it read into the exact calls to make ([`Action::plan`], pure: the plan a
//! person approves is the plan that runs), makes them ([`Action::apply`]) and reads
//! the resource back to check the fix ([`Action::verify`]).
//!
//! Idempotence follows from the shape: `plan` on a resource already fixed has no
//! calls, so applying twice does nothing the second time.

use super::action_id::ActionId;
use super::plan::ApiCall;
use super::target::{NotApplicable, Target};
use async_trait::async_trait;
use serde_json::Value;
use shared_types::Finding;
use std::collections::BTreeMap;

/// The resource as read now: what the plan is made on, and what guards look at.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    /// The state that matters to the action, a JSON object (shown as the plan's
    /// `current_state`, which adds its `state_hash`; `apply --expect-state`
    /// compares that hash to catch a resource changed since planning).
    pub state: Value,
    /// The resource's tags (the protected tag guard).
    pub tags: BTreeMap<String, String>,
    /// ARNs of principals the action would change (empty when it changes none).
    pub principals: Vec<String>,
}

/// What an action would do to an observed resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The calls, in order; empty when nothing is left to do.
    pub calls: Vec<ApiCall>,
    /// What is left after them, in words.
    pub after: String,
}

/// An AWS call of an action failed.
#[derive(Debug, thiserror::Error)]
#[error("{operation} on {resource}: {detail}")]
pub struct ActionError {
    /// The API operation.
    pub operation: &'static str,
    /// The resource it was called on.
    pub resource: String,
    /// The SDK's error in words.
    pub detail: String,
    /// True when the same call may succeed later (throttling, a timeout, a 5xx);
    /// false when someone must fix something (access denied, no such resource).
    pub retryable: bool,
}

/// A remediation action (one file each under `actions/`).
#[async_trait]
pub trait Action: Send + Sync {
    /// Its id.
    fn id(&self) -> ActionId;

    /// The resource of `finding` this action would change, or why it cannot
    /// (the finding names no such resource, one at account level, or no
    /// checkable account or region). Reads nothing: guards run on it first.
    fn target(&self, finding: &Finding) -> Result<Target, NotApplicable>;

    /// Reads the resource's current state and tags.
    async fn observe(&self, target: &Target) -> Result<Observed, ActionError>;

    /// The calls that fix `observed` (none when it is already fixed). Pure.
    fn plan(&self, target: &Target, observed: &Observed) -> Proposal;

    /// Makes `proposal`'s calls (built by [`Action::plan`] from the same request
    /// description the call itself is built from, so what ran is what was shown).
    async fn apply(&self, target: &Target, proposal: &Proposal) -> Result<(), ActionError>;

    /// Reads the resource back: `Ok(None)` when it shows the fix, `Ok(Some(why))`
    /// when it does not.
    async fn verify(&self, target: &Target) -> Result<Option<String>, ActionError>;

    /// What a person needs to undo the change, kept in the remediation record
    /// (the ledger's `started` line, written before the calls): the document of a
    /// policy about to be detached or deleted. `None` for actions whose change
    /// is undone without it (a setting turned back off).
    fn record(&self, _target: &Target, _observed: &Observed) -> Option<Value> {
        None
    }
}
