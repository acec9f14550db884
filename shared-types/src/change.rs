use serde::{Deserialize, Serialize};

/// What one change did to a stored finding. Every write that changes a record is
/// one of these (unchanged and skipped-as-older writes are not changes at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The finding was not stored before.
    Inserted,
    /// A newer provider version replaced the stored one.
    Updated,
    /// A newer provider version reopened a NOTIFIED/RESOLVED finding as NEW
    /// (compliance PASSED → failing again, or record state ARCHIVED → ACTIVE).
    Reopened,
    /// A newer provider version resolved it (compliance PASSED or record state ARCHIVED).
    Resolved,
    /// A person changed its workflow status or added a note.
    WorkflowChanged,
    /// It left the hot store (archived).
    Deleted,
}

impl ChangeKind {
    /// Every kind.
    pub const ALL: [ChangeKind; 6] = [
        ChangeKind::Inserted,
        ChangeKind::Updated,
        ChangeKind::Reopened,
        ChangeKind::Resolved,
        ChangeKind::WorkflowChanged,
        ChangeKind::Deleted,
    ];

    /// The snake_case name used in JSON and configuration, e.g. `"workflow_changed"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Inserted => "inserted",
            ChangeKind::Updated => "updated",
            ChangeKind::Reopened => "reopened",
            ChangeKind::Resolved => "resolved",
            ChangeKind::WorkflowChanged => "workflow_changed",
            ChangeKind::Deleted => "deleted",
        }
    }
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ChangeKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChangeKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown change kind {s:?} (expected one of inserted, updated, reopened, resolved, workflow_changed, deleted)"
                )
            })
    }
}
