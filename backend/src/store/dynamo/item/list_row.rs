//! A finding as the severity/time index projects it: a list item.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared_types::{FindingListItem, FindingSource, Severity, WorkflowStatus};

/// A row read from the GSI (its projection).
#[derive(Debug, Clone, Deserialize)]
pub struct ListRow {
    /// Short id.
    pub id: String,
    /// Severity.
    pub severity: Severity,
    /// Sort key.
    pub updated_at: String,
    /// Exact update time.
    pub updated_exact: DateTime<Utc>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Status.
    pub workflow_status: WorkflowStatus,
    /// ASFF id.
    pub asff_id: String,
    /// Title.
    pub title: String,
    /// Account.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// Resource type.
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
    /// Product.
    pub product_name: String,
    /// Source.
    pub source: FindingSource,
    /// Compliance status.
    #[serde(default)]
    pub compliance_status: Option<String>,
    /// Control id.
    #[serde(default)]
    pub control_id: Option<String>,
}

impl From<ListRow> for FindingListItem {
    fn from(r: ListRow) -> Self {
        FindingListItem {
            id: r.id,
            asff_id: r.asff_id,
            severity: r.severity,
            title: r.title,
            workflow_status: r.workflow_status,
            account_id: r.account_id,
            region: r.region,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            product_name: r.product_name,
            source: r.source,
            compliance_status: r.compliance_status,
            control_id: r.control_id,
            created_at: r.created_at,
            updated_at: r.updated_exact,
        }
    }
}
