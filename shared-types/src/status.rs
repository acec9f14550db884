use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a finding is in the analyst's triage (ASFF `Workflow.Status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum WorkflowStatus {
    /// Not looked at yet.
    New,
    /// The resource owner was told.
    Notified,
    /// Reviewed and accepted, or muted by a suppression rule.
    Suppressed,
    /// Fixed.
    Resolved,
}

impl WorkflowStatus {
    /// Every status, in triage order.
    pub const ALL: [WorkflowStatus; 4] = [
        WorkflowStatus::New,
        WorkflowStatus::Notified,
        WorkflowStatus::Suppressed,
        WorkflowStatus::Resolved,
    ];

    /// The ASFF text, e.g. `"NEW"`.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowStatus::New => "NEW",
            WorkflowStatus::Notified => "NOTIFIED",
            WorkflowStatus::Suppressed => "SUPPRESSED",
            WorkflowStatus::Resolved => "RESOLVED",
        }
    }
}

impl fmt::Display for WorkflowStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not a workflow status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStatus(pub String);

impl fmt::Display for UnknownStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown workflow status {:?} (expected NEW, NOTIFIED, SUPPRESSED or RESOLVED)",
            self.0
        )
    }
}

impl std::error::Error for UnknownStatus {}

impl FromStr for WorkflowStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "NEW" => Ok(WorkflowStatus::New),
            "NOTIFIED" => Ok(WorkflowStatus::Notified),
            "SUPPRESSED" => Ok(WorkflowStatus::Suppressed),
            "RESOLVED" => Ok(WorkflowStatus::Resolved),
            _ => Err(UnknownStatus(s.to_string())),
        }
    }
}

/// Whether the finding provider still considers the finding live (ASFF `RecordState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordState {
    /// Current.
    #[default]
    Active,
    /// The provider no longer reports it (e.g. the resource was deleted).
    Archived,
}

impl RecordState {
    /// The ASFF text, e.g. `"ACTIVE"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordState::Active => "ACTIVE",
            RecordState::Archived => "ARCHIVED",
        }
    }

    /// Parses the ASFF text (case-insensitive); `None` when it is neither.
    pub fn parse(s: &str) -> Option<RecordState> {
        match s.trim().to_ascii_uppercase().as_str() {
            "ACTIVE" => Some(RecordState::Active),
            "ARCHIVED" => Some(RecordState::Archived),
            _ => None,
        }
    }
}
