//! Remediation as the API shows it: a finding's plan (`GET
//! /findings/{id}/remediation/plan`, the JSON `cspm remediate plan --json`
//! prints), an approval (`POST /findings/{id}/remediation`) and the record of
//! every remediation (`GET /remediations`, `GET /remediations/{rid}`).
//!
//! The backend builds plans with its own types (`remediate::plan`); these are
//! their wire form, checked against them by a backend test so the two cannot
//! drift.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One AWS API call a plan would make, with its exact parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlannedCall {
    /// The service's SDK name, e.g. `s3`.
    pub service: String,
    /// The API operation, e.g. `PutPublicAccessBlock`.
    pub operation: String,
    /// The request's parameters, named as in the AWS API reference.
    pub params: Value,
}

/// One guard's verdict on a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GuardVerdict {
    /// The guard: `not-enabled`, `not-allowlisted`, `protected-principal`,
    /// `protected-tag`, `out-of-scope`, `rate-limited`, `changed-since-plan` or
    /// `suppressed-or-resolved`.
    pub name: String,
    /// False when this guard refuses the remediation.
    pub passed: bool,
    /// Why, in words.
    pub reason: String,
}

/// What remediating one finding would do (nothing is changed by planning).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemediationPlan {
    /// The finding's short id.
    pub finding_id: String,
    /// The action id that fixes this kind of finding, or `null` when none does.
    pub action: Option<String>,
    /// False when no available action can fix this finding; `after` says why.
    pub applicable: bool,
    /// The calls apply would make, in order; empty when nothing is left to do.
    pub calls: Vec<PlannedCall>,
    /// The resource's state as read now (a JSON object with its `state_hash`),
    /// or `null` when it was not read.
    pub current_state: Value,
    /// What is left after the calls, in words (or why nothing will be done).
    pub after: String,
    /// The guards' verdicts, in check order.
    pub guards: Vec<GuardVerdict>,
}

impl RemediationPlan {
    /// The hash of the state the plan was made on (what `expect_state` takes).
    pub fn state_hash(&self) -> Option<&str> {
        self.current_state.get("state_hash")?.as_str()
    }

    /// The first guard that refuses, if any.
    pub fn refused_by(&self) -> Option<&GuardVerdict> {
        self.guards.iter().find(|g| !g.passed)
    }
}

/// `POST /findings/{id}/remediation` body (optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RemediationRequest {
    /// The plan's `current_state.state_hash`: the worker refuses
    /// (`changed-since-plan`) unless the resource is still in that state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub expect_state: Option<String>,
}

/// Where a remediation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RemediationStatus {
    /// Approved, waiting for the worker.
    Queued,
    /// The worker read the resource and the plan passed every guard; the calls
    /// are about to be made.
    Planned,
    /// The calls were made; the resource is being read back.
    Applied,
    /// Applied and read back showing the fix (or already fixed): the finding is
    /// RESOLVED.
    Verified,
    /// A call failed or the read-back did not show the fix; the finding stays open.
    Failed,
    /// A guard refused; nothing was called.
    Refused,
}

impl RemediationStatus {
    /// Every status, in the order a remediation goes through them.
    pub const ALL: [RemediationStatus; 6] = [
        RemediationStatus::Queued,
        RemediationStatus::Planned,
        RemediationStatus::Applied,
        RemediationStatus::Verified,
        RemediationStatus::Failed,
        RemediationStatus::Refused,
    ];

    /// The name in JSON and in `?status=`.
    pub fn as_str(self) -> &'static str {
        match self {
            RemediationStatus::Queued => "queued",
            RemediationStatus::Planned => "planned",
            RemediationStatus::Applied => "applied",
            RemediationStatus::Verified => "verified",
            RemediationStatus::Failed => "failed",
            RemediationStatus::Refused => "refused",
        }
    }

    /// True once nothing more will happen to it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RemediationStatus::Verified | RemediationStatus::Failed | RemediationStatus::Refused
        )
    }
}

impl std::str::FromStr for RemediationStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RemediationStatus::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                "must be one of queued, planned, applied, verified, failed, refused".to_string()
            })
    }
}

/// One remediation: who asked, when, what it did and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemediationRecord {
    /// Its id (32 hex digits).
    pub id: String,
    /// The finding's short id.
    pub finding_id: String,
    /// The action id, or `null` when none applies.
    pub action: Option<String>,
    /// Where it stands.
    pub status: RemediationStatus,
    /// Who approved it: the caller's identity (`token:NAME`, a person's `sub`,
    /// `local`), or `automatic remediation`.
    pub requested_by: String,
    /// True when no person approved it (the rule or control is in `auto`).
    pub automatic: bool,
    /// When it was approved.
    pub requested_at: DateTime<Utc>,
    /// When its status last changed.
    pub updated_at: DateTime<Utc>,
    /// The state hash the approval asked for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_state: Option<String>,
    /// The guard that refused it (`status: refused`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<String>,
    /// Why it was refused or failed, or what the last failed try said while
    /// it waits to be tried again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// How many times the worker took it up.
    pub attempts: u32,
    /// While a worker applies it: until when that worker holds it (the time
    /// its queue message stays hidden). Another delivery of the same message
    /// leaves it alone until then, so one remediation is never applied by two
    /// workers at once. Absent when no worker holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_until: Option<DateTime<Utc>>,
    /// True once a try's calls went through (the record reached `applied`):
    /// the change is in AWS whatever a later try ends with, so nobody should
    /// make it again by hand and `undo` matters. It outlives a worker that
    /// died between the calls and their read-back.
    #[serde(default)]
    pub made: bool,
    /// The plan as the worker made it (or, refused at approval, the verdicts
    /// of the guards checked then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<RemediationPlan>,
    /// What a person needs to reverse the change, read before the calls: for
    /// the policy actions the principal, the policy's document and `restore`
    /// (the call that puts it back); for `lambda-remove-public-access` the
    /// removed statements. A remediation tried more than once keeps the first
    /// try's (read before any of its calls). Absent for actions that keep none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo: Option<Value>,
}

/// `POST /findings/{id}/remediation` answer (202).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemediationQueued {
    /// The remediation's id (`GET /remediations/{rid}`).
    pub id: String,
    /// Always `queued`.
    pub status: RemediationStatus,
}

/// `GET /remediations` answer: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemediationList {
    /// The records.
    pub items: Vec<RemediationRecord>,
}
