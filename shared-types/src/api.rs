use crate::{Finding, FindingListItem, Severity, WorkflowStatus};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `GET /findings` answer: one page, newest `updated_at` first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FindingPage {
    /// The findings of this page.
    pub items: Vec<FindingListItem>,
    /// Opaque cursor for the next page; `null` when this is the last page.
    pub next_cursor: Option<String>,
    /// How many findings the whole view (all pages) matches. Set by the API;
    /// absent from a store's page. See `total_is_exact`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// False when `total` is an estimate (a free-text or time filter over more
    /// rows than a count may read): show it as "about N".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_is_exact: Option<bool>,
}

/// `GET /findings/{id}` answer: the full finding (with raw document) and its audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FindingDetail {
    /// The finding, raw document included.
    #[serde(flatten)]
    pub finding: Finding,
    /// Workflow changes made through the API, oldest first.
    #[serde(default)]
    pub audit: Vec<AuditEntry>,
}

/// `PATCH /findings/{id}` body: move a finding to another workflow status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowUpdate {
    /// New status.
    pub workflow_status: WorkflowStatus,
    /// Why (kept in the audit trail); up to 2,000 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub note: Option<String>,
}

/// One recorded workflow change: who, when, what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// When the change was made.
    pub at: DateTime<Utc>,
    /// Who made it (token subject, or `local` without auth).
    pub actor: String,
    /// Status before.
    pub from_status: WorkflowStatus,
    /// Status after.
    pub to_status: WorkflowStatus,
    /// The note given with the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A key and how many findings have it (top accounts, resource types).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyCount {
    /// The account id, resource type…
    pub key: String,
    /// Number of findings.
    pub count: u64,
}

/// New findings (by `created_at`) on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrendPoint {
    /// The day (UTC).
    pub date: NaiveDate,
    /// Findings created that day.
    pub count: u64,
}

/// `GET /summary` answer: exact counts over the whole hot store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    /// Number of findings in the store.
    pub total: u64,
    /// Count per severity label; every label is present (0 when none).
    pub by_severity: BTreeMap<Severity, u64>,
    /// Count per workflow status; every status is present.
    pub by_status: BTreeMap<WorkflowStatus, u64>,
    /// New findings per day for the last 30 days, oldest first, today last (30 points).
    pub trend: Vec<TrendPoint>,
    /// Accounts with the most findings, most first (at most 10).
    #[serde(default)]
    pub top_accounts: Vec<KeyCount>,
    /// Resource types with the most findings, most first (at most 10).
    #[serde(default)]
    pub top_resource_types: Vec<KeyCount>,
}

/// `GET /health` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok` when the store answers.
    pub status: String,
    /// Server version.
    pub version: String,
}

/// The body of every error answer: `{"error":{"code","message","field"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// Details of an error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_parameter`, `not_found`.
    pub code: String,
    /// Human-readable explanation (never an internal error message).
    pub message: String,
    /// The input field at fault, when one is.
    pub field: Option<String>,
}
