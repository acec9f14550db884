//! Compliance results a store keeps per control, so a compliance report reads
//! a row per control instead of every finding (SQLite folds them from its
//! change feed: store/sqlite/compliance_fold.rs; DynamoDB keeps them on write:
//! store/dynamo/controls.rs).

use crate::compliance::score::Tally;

/// One control of one standard, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlRow {
    /// The standard's slug (`aws-fsbp`).
    pub slug: String,
    /// The standard's display name.
    pub standard_name: String,
    /// The control's id in the standard (`S3.1`).
    pub control_id: String,
    /// The title of the most recently updated finding folded into the control
    /// (one that has left it since may still hold it until a rebuild).
    pub title: String,
    /// Its findings by verdict.
    pub tally: Tally,
    /// Its failing resources, smallest first, at most
    /// [`shared_types::MAX_FAILING_RESOURCES`]; read only for the standard asked
    /// for, empty otherwise.
    pub failing_resources: Vec<String>,
    /// Its failing findings' ids, as `failing_resources`.
    pub failing_findings: Vec<String>,
}
