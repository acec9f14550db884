//! The one decision every store makes when a provider version of a finding
//! arrives: insert, replace, skip as older or leave unchanged — and which workflow
//! status the record ends up with. Both stores call [`decide`] and only translate
//! its answer into their writes, so they cannot disagree.
//!
//! Provider versions are ordered by the provider's own `UpdatedAt` (compared to the
//! microsecond, the precision every store keeps), never by the record's revision or
//! by when a person last touched it: an analyst's change at 10:05 does not make a
//! provider version evaluated at 10:04 and delivered at 10:06 "older".

use chrono::{DateTime, Utc};
use shared_types::{ChangeKind, Finding, RecordState, Severity, WorkflowStatus};

/// What the decision needs to know about the stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHead {
    /// The provider's `UpdatedAt` of the stored version.
    pub updated_at: DateTime<Utc>,
    /// The record's revision.
    pub revision: u64,
    /// Its workflow status.
    pub workflow_status: WorkflowStatus,
    /// Whether a person set that status.
    pub workflow_by_person: bool,
    /// The stored version's compliance status, when a control.
    pub compliance_status: Option<String>,
    /// The stored version's record state.
    pub record_state: RecordState,
    /// The stored version's severity (alerts compare against it).
    pub severity: Severity,
    /// The stored version's amendment mark (`store/amendment.rs`); `None` for a
    /// record written before marks were kept.
    pub amendment: Option<u64>,
}

/// What the decision needs to know about an incoming provider version (a store
/// keeps this beside the row it prepared, so the finding itself need not travel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The provider's `UpdatedAt`.
    pub updated_at: DateTime<Utc>,
    /// The provider's own workflow status (or SUPPRESSED from a suppression rule).
    pub workflow_status: WorkflowStatus,
    /// Compliance status, when a control.
    pub compliance_status: Option<String>,
    /// Record state.
    pub record_state: RecordState,
    /// Its amendment mark (`store/amendment.rs`), which the store keeps.
    pub amendment: u64,
}

impl From<&Finding> for Incoming {
    fn from(f: &Finding) -> Self {
        Incoming {
            updated_at: f.updated_at,
            workflow_status: f.workflow_status,
            compliance_status: f.compliance_status.clone(),
            record_state: f.record_state,
            amendment: super::amendment::mark(f),
        }
    }
}

/// How the record is written when the incoming version is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Write {
    /// The workflow status to store.
    pub workflow_status: WorkflowStatus,
    /// Whether that status is a person's.
    pub workflow_by_person: bool,
    /// The record's new revision.
    pub revision: u64,
    /// What kind of change this is.
    pub kind: ChangeKind,
}

impl Write {
    /// What the stored document records of this write.
    pub fn recorded(&self) -> crate::store::doc_codec::Recorded {
        crate::store::doc_codec::Recorded {
            workflow_status: self.workflow_status,
            workflow_by_person: self.workflow_by_person,
            revision: self.revision,
        }
    }
}

/// What to do with an incoming provider version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Store it as a new record.
    Insert(Write),
    /// Replace the stored record with it.
    Replace(Write),
    /// The stored version has the same `UpdatedAt` and the same amendment mark:
    /// nothing to do.
    Unchanged,
    /// The stored version is newer: ignore the incoming one.
    SkippedOlder,
}

/// Decides what an incoming provider version does to the stored record.
///
/// Versions are ordered by the provider's `UpdatedAt` (to the microsecond): older
/// is skipped, newer replaces, and an equal one is unchanged unless it is an
/// amendment ([`amend`]).
///
/// The workflow status of a newer version follows Security Hub's documented rules
/// (<https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Workflow.html>),
/// the first matching row winning:
///
/// | # | stored status | incoming provider version | result |
/// |---|---|---|---|
/// | 1 | `SUPPRESSED` | anything | `SUPPRESSED` until a person changes it |
/// | 2 | any | its own status is `SUPPRESSED` (a suppression rule matched) | `SUPPRESSED` |
/// | 3 | any but `SUPPRESSED` | Compliance `PASSED`, or RecordState `ARCHIVED` | `RESOLVED` |
/// | 4 | `NOTIFIED`/`RESOLVED` | Compliance `PASSED` → `FAILED`/`WARNING`/`NOT_AVAILABLE`, or RecordState `ARCHIVED` → `ACTIVE` | `NEW` (reopened) |
/// | 5 | `NEW`/`NOTIFIED`/`RESOLVED` set by a person | `NEW` with nothing above | the person's |
/// | 6 | any, set by the provider | its own status | the provider's |
///
/// Row 3 is a level, not only a transition: a control that keeps passing stays
/// resolved even when its provider keeps sending `NEW` (as Security Hub itself
/// resolves passing control findings). A first version is decided the same way
/// with nothing stored (rows 2, 3 and 6 apply).
///
/// The change kind is `resolved` when the record becomes `RESOLVED`, `reopened`
/// when a `NOTIFIED`/`RESOLVED` record becomes `NEW`, `inserted` for a first
/// version and `updated` otherwise.
pub fn decide(stored: Option<&StoredHead>, incoming: &Incoming) -> Decision {
    let resolves = is_passed(incoming.compliance_status.as_deref())
        || incoming.record_state == RecordState::Archived;
    let Some(s) = stored else {
        let status = if incoming.workflow_status != WorkflowStatus::Suppressed && resolves {
            WorkflowStatus::Resolved
        } else {
            incoming.workflow_status
        };
        return Decision::Insert(Write {
            workflow_status: status,
            workflow_by_person: false,
            revision: 1,
            kind: ChangeKind::Inserted,
        });
    };
    let (new, old) = (
        incoming.updated_at.timestamp_micros(),
        s.updated_at.timestamp_micros(),
    );
    if new < old {
        return Decision::SkippedOlder;
    }
    if new == old {
        return amend(s, incoming, resolves);
    }
    let reopens = (is_passed(s.compliance_status.as_deref())
        && is_failing(incoming.compliance_status.as_deref()))
        || (s.record_state == RecordState::Archived
            && incoming.record_state == RecordState::Active);
    let (status, by_person) = match s.workflow_status {
        WorkflowStatus::Suppressed => (WorkflowStatus::Suppressed, s.workflow_by_person),
        _ if incoming.workflow_status == WorkflowStatus::Suppressed => {
            (WorkflowStatus::Suppressed, false)
        }
        _ if resolves => (WorkflowStatus::Resolved, false),
        WorkflowStatus::Notified | WorkflowStatus::Resolved if reopens => {
            (WorkflowStatus::New, false)
        }
        person if s.workflow_by_person && incoming.workflow_status == WorkflowStatus::New => {
            (person, true)
        }
        _ => (incoming.workflow_status, false),
    };
    Decision::Replace(Write {
        workflow_status: status,
        workflow_by_person: by_person,
        revision: s.revision + 1,
        kind: kind_of(s.workflow_status, status),
    })
}

/// A version with the stored `UpdatedAt`. Unchanged — a re-delivery — unless it
/// is a Security Hub *amendment*: a customer's `BatchUpdateFindings` keeps
/// `UpdatedAt` but changes the workflow status, which the amendment mark
/// (`store/amendment.rs`) tells apart. Both marks must be known and from
/// Security Hub (not 0): another source, or our own OCSF export read back, is
/// never an amendment. A record written before marks were kept takes one only
/// when it suppresses a record no person triaged.
///
/// Same-time versions have no order among themselves (a replayed file, an event
/// delivered late), so an amendment may only move the record one way, never back:
/// - a stored `SUPPRESSED` stays (no amendment lifts a suppression);
/// - one that says `SUPPRESSED` suppresses (as row 2 does for a newer version);
/// - a person's status stays (their change here and the customer's there have
///   no order either);
/// - otherwise its status becomes the record's as a person's decision (it is
///   one, made in Security Hub), so the older version replayed, which says
///   `NEW`, cannot undo it (row 5); a passing or archived finding stays
///   `RESOLVED` (row 3).
///
/// Nothing else is amended in place (a new severity comes with the provider's
/// next version, which carries the customer's severity).
fn amend(s: &StoredHead, incoming: &Incoming, resolves: bool) -> Decision {
    use WorkflowStatus::Suppressed;
    let suppresses = incoming.workflow_status == Suppressed && s.workflow_status != Suppressed;
    let amended = incoming.amendment != 0
        && match s.amendment {
            Some(stored) => stored != 0 && stored != incoming.amendment,
            None => suppresses && !s.workflow_by_person,
        };
    if !amended || s.workflow_status == Suppressed {
        return Decision::Unchanged;
    }
    let (status, by_person) = if suppresses {
        (Suppressed, false)
    } else if s.workflow_by_person {
        return Decision::Unchanged;
    } else if resolves {
        (WorkflowStatus::Resolved, false)
    } else {
        (incoming.workflow_status, true)
    };
    if status == s.workflow_status {
        return Decision::Unchanged;
    }
    Decision::Replace(Write {
        workflow_status: status,
        workflow_by_person: by_person,
        revision: s.revision + 1,
        kind: kind_of(s.workflow_status, status),
    })
}

/// A person's workflow change (`PATCH /findings/{id}`): the status is the person's
/// from now on, and the record gets a new revision.
pub fn decide_workflow(stored_revision: u64, status: WorkflowStatus) -> Write {
    Write {
        workflow_status: status,
        workflow_by_person: true,
        revision: stored_revision + 1,
        kind: ChangeKind::WorkflowChanged,
    }
}

/// The revision a delete records (deletes are changes too).
pub fn delete_revision(stored_revision: u64) -> u64 {
    stored_revision + 1
}

fn kind_of(before: WorkflowStatus, after: WorkflowStatus) -> ChangeKind {
    match (before, after) {
        (b, WorkflowStatus::Resolved) if b != WorkflowStatus::Resolved => ChangeKind::Resolved,
        (WorkflowStatus::Notified | WorkflowStatus::Resolved, WorkflowStatus::New) => {
            ChangeKind::Reopened
        }
        _ => ChangeKind::Updated,
    }
}

fn is_passed(compliance: Option<&str>) -> bool {
    compliance.is_some_and(|c| c.eq_ignore_ascii_case("PASSED"))
}

fn is_failing(compliance: Option<&str>) -> bool {
    compliance.is_some_and(|c| {
        ["FAILED", "WARNING", "NOT_AVAILABLE"]
            .iter()
            .any(|f| c.eq_ignore_ascii_case(f))
    })
}

#[cfg(test)]
mod tests;
