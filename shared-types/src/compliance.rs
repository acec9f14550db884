//! The bodies of `GET /compliance` and `GET /compliance/{slug}`: a score per
//! security standard (AWS FSBP, CIS, PCI DSS, NIST…) from the stored control
//! findings, with a daily trend and the controls behind it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A control's status in one standard, the way Security Hub sets it from the
/// control's findings (archived and suppressed findings left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ControlStatus {
    /// At least one active finding of the control fails.
    Failed,
    /// Active findings exist, none fails, at least one is `WARNING` or
    /// `NOT_AVAILABLE`.
    Unknown,
    /// Every active finding passes.
    Passed,
    /// The control has findings, but none is active (all archived or suppressed,
    /// or without a compliance status): it does not count in the score.
    NoData,
}

/// One day's score of a standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScorePoint {
    /// The UTC day the snapshot was taken.
    pub date: NaiveDate,
    /// The score that day, in whole percent (`null`: no control had data).
    pub score: Option<u8>,
}

/// One standard's card on the compliance overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StandardScore {
    /// Short key, e.g. `aws-fsbp`, `cis-1.4`, `pci-dss-3.2.1`, `nist-800-53-r5`.
    pub slug: String,
    /// Display name, e.g. `CIS AWS Foundations Benchmark v1.4.0`.
    pub name: String,
    /// Passed ÷ controls with data (passed + failed + unknown), whole percent;
    /// `null` when no control has data.
    pub score: Option<u8>,
    /// Controls passing.
    pub passed: u32,
    /// Controls failing.
    pub failed: u32,
    /// Controls with only `WARNING`/`NOT_AVAILABLE` results besides passes.
    pub unknown: u32,
    /// Controls with findings but none active (not in the score).
    pub no_data: u32,
    /// The daily snapshots of the last 30 days, oldest first (days without a
    /// snapshot are absent).
    pub trend: Vec<ScorePoint>,
}

/// `GET /compliance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplianceOverview {
    /// Every standard the stored control findings name, by slug.
    pub standards: Vec<StandardScore>,
}

/// One control of a standard, for the drill-down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ControlResult {
    /// The control id (`Compliance.SecurityControlId` such as `S3.8`, else the
    /// standard's own id such as `1.4` or `PCI.S3.1`).
    pub control_id: String,
    /// A title of one of its findings.
    pub title: String,
    /// Its status from the active findings.
    pub status: ControlStatus,
    /// Active findings that pass.
    pub passed: u32,
    /// Active findings that fail.
    pub failed: u32,
    /// Active findings that are `WARNING` or `NOT_AVAILABLE`.
    pub unknown: u32,
    /// Findings left out (archived, suppressed, or without a compliance status).
    pub ignored: u32,
    /// The resources of the failing findings (primary resource id), sorted, at
    /// most [`MAX_FAILING_RESOURCES`].
    pub failing_resources: Vec<String>,
    /// Short ids of the failing findings (for `/findings/{id}`), same bound.
    pub failing_findings: Vec<String>,
}

/// Most failing resources listed per control (the list links to the findings).
pub const MAX_FAILING_RESOURCES: usize = 100;

/// Failing findings listed per page of `GET /compliance/{slug}/controls/{control_id}/failing` by default.
pub const DEFAULT_FAILING_PAGE: usize = 100;
/// Most failing findings a page of that request lists.
pub const MAX_FAILING_PAGE: usize = 1000;

/// `GET /compliance/{slug}/controls/{control_id}/failing`: one page of the
/// findings that make a control fail, by finding id (every one, where the
/// standard's drill-down lists at most [`MAX_FAILING_RESOURCES`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailingFindings {
    /// The failing findings, by id. One that no longer fails when it is read
    /// (suppressed, passing, archived or deleted since the results were read)
    /// is left out, so a page can hold fewer than asked for.
    pub items: Vec<crate::FindingListItem>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// `GET /compliance/{slug}`: a standard's score and its controls, failing first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StandardDetail {
    /// The standard's card (score, counts, trend).
    #[serde(flatten)]
    pub standard: StandardScore,
    /// Its controls: failed, unknown, passed, no data; then by control id.
    pub controls: Vec<ControlResult>,
}
