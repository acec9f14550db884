//! What an apply tells its caller between its steps: the worker records a
//! remediation as `planned` once the plan passed every guard (before the first
//! call) and `applied` once the calls were made (before the read-back), so a
//! record never says more than what happened, even if the process dies between
//! two steps. The CLI needs none of it ([`Silent`]).

use super::outcome::RemediateError;
use super::plan::Plan;
use async_trait::async_trait;
use serde_json::Value;

/// Told about each step of an apply that makes calls.
#[async_trait]
pub trait Progress: Send + Sync {
    /// The plan passed every guard; its calls are about to be made. `undo` is
    /// what a person needs to reverse them (the action's record: a policy's
    /// document and the call that restores it), when the action keeps one. An
    /// error stops the apply before any call.
    async fn planned(&self, plan: &Plan, undo: Option<&Value>) -> Result<(), RemediateError>;

    /// The calls were made; the resource is about to be read back.
    async fn applied(&self, plan: &Plan) -> Result<(), RemediateError>;
}

/// Progress nobody follows (`cspm remediate apply` reports only the outcome).
pub struct Silent;

#[async_trait]
impl Progress for Silent {
    async fn planned(&self, _: &Plan, _: Option<&Value>) -> Result<(), RemediateError> {
        Ok(())
    }

    async fn applied(&self, _: &Plan) -> Result<(), RemediateError> {
        Ok(())
    }
}
