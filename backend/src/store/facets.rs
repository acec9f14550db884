//! The dimensions `/summary` and the view counts (store/count.rs) count findings
//! by. Both stores keep exact counters on write: every insert, change and delete
//! moves one finding version's facets.

use chrono::NaiveDate;
use shared_types::{Finding, Severity, WorkflowStatus};

/// The dimensions the summary counters are kept on, for one finding version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facets {
    /// Severity.
    pub severity: Severity,
    /// Status.
    pub status: WorkflowStatus,
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Resource type.
    pub resource_type: String,
    /// Product name.
    pub product: String,
    /// Creation day (trend).
    pub created_day: NaiveDate,
}

impl Facets {
    /// The facets of `f`.
    pub fn of(f: &Finding) -> Facets {
        Facets {
            severity: f.severity,
            status: f.workflow_status,
            account: f.account_id.clone(),
            region: f.region.clone(),
            resource_type: f.resource_type.clone(),
            product: f.product_name.clone(),
            created_day: f.created_at.date_naive(),
        }
    }
}
