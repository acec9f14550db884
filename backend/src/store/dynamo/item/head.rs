//! What an upsert reads of a stored finding item: its head (every counted
//! attribute, not the document).

use super::super::controls::{Results, StoredResult};
use super::super::counters::Counted;
use super::Facets;
use crate::store::decide::StoredHead;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared_types::{AuditEntry, RecordState, Severity, WorkflowStatus};

/// The attributes an upsert reads before writing (everything but the document).
pub const HEAD_PROJECTION: [&str; 21] = [
    "id",
    "rev",
    "updated_exact",
    "severity",
    "workflow_status",
    "status_by_analyst",
    "compliance_status",
    "record_state",
    "account_id",
    "region",
    "resource_type",
    "product_name",
    "created_at",
    "audit",
    "resource_id",
    "controls",
    "generator_id",
    "gen_counted",
    "res_counted",
    "counter_shard",
    "amend_mark",
];

/// What an upsert needs to know about the stored version.
#[derive(Debug, Clone, Deserialize)]
pub struct Head {
    /// Revision to condition the write on.
    pub rev: u64,
    /// Exact stored `updated_at`.
    pub updated_exact: DateTime<Utc>,
    /// Stored severity.
    pub severity: Severity,
    /// Stored status.
    pub workflow_status: WorkflowStatus,
    /// Whether a person set it.
    #[serde(default)]
    pub status_by_analyst: bool,
    /// Stored compliance status.
    #[serde(default)]
    pub compliance_status: Option<String>,
    /// Stored record state.
    #[serde(default)]
    pub record_state: RecordState,
    /// Counted under this account.
    pub account_id: String,
    /// Counted under this region.
    pub region: String,
    /// Counted under this resource type.
    pub resource_type: String,
    /// Counted under this product.
    pub product_name: String,
    /// Counted on this day.
    pub created_at: DateTime<Utc>,
    /// Audit trail to carry over.
    #[serde(default)]
    pub audit: Vec<AuditEntry>,
    /// Listed under this resource when failing.
    #[serde(default)]
    pub resource_id: String,
    /// Compliance results counted (`None`: an item written before they were
    /// kept).
    #[serde(default)]
    pub controls: Option<Vec<StoredResult>>,
    /// Title and `updated_at` sort key (read by a recount, which sets the
    /// controls' titles; not by a write, which names controls by the version
    /// it writes).
    #[serde(default)]
    pub title: String,
    /// See `title`.
    #[serde(default)]
    pub updated_at: String,
    /// Counted under this generator when `gen_counted`.
    #[serde(default)]
    pub generator_id: String,
    /// Counted in the generator items ([`FindingItem::gen_counted`]).
    #[serde(default)]
    pub gen_counted: bool,
    /// Counted in its resource's item ([`FindingItem::res_counted`]).
    #[serde(default)]
    pub res_counted: bool,
    /// The counter shard its item names ([`FindingItem::counter_shard`]).
    #[serde(default)]
    pub counter_shard: Option<u8>,
    /// The stored version's amendment mark (absent on older items).
    #[serde(default)]
    pub amend_mark: Option<u64>,
}

impl Head {
    /// What the one decision reads of the stored version.
    pub fn decision_view(&self) -> StoredHead {
        StoredHead {
            updated_at: self.updated_exact,
            revision: self.rev,
            workflow_status: self.workflow_status,
            workflow_by_person: self.status_by_analyst,
            compliance_status: self.compliance_status.clone(),
            record_state: self.record_state,
            severity: self.severity,
            amendment: self.amend_mark,
        }
    }

    /// What the stored version is counted as.
    pub fn counted(&self) -> Counted<'_> {
        counted!(self)
    }
}
