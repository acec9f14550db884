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
}

impl From<&Finding> for Incoming {
    fn from(f: &Finding) -> Self {
        Incoming {
            updated_at: f.updated_at,
            workflow_status: f.workflow_status,
            compliance_status: f.compliance_status.clone(),
            record_state: f.record_state,
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
    /// The stored version has the same `UpdatedAt`: nothing to do.
    Unchanged,
    /// The stored version is newer: ignore the incoming one.
    SkippedOlder,
}

/// Decides what an incoming provider version does to the stored record.
///
/// Versions are ordered by the provider's `UpdatedAt` (to the microsecond): older
/// is skipped, equal is unchanged, newer replaces. The workflow status of a newer
/// version follows Security Hub's documented rules
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
        return Decision::Unchanged;
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
mod tests {
    use super::*;
    use chrono::Duration;
    use WorkflowStatus::*;

    fn t0() -> DateTime<Utc> {
        "2026-03-01T10:00:00Z".parse().unwrap()
    }

    fn head(status: WorkflowStatus, by_person: bool, compliance: Option<&str>) -> StoredHead {
        StoredHead {
            updated_at: t0(),
            revision: 4,
            workflow_status: status,
            workflow_by_person: by_person,
            compliance_status: compliance.map(str::to_string),
            record_state: RecordState::Active,
            severity: Severity::High,
        }
    }

    fn incoming(status: WorkflowStatus, compliance: Option<&str>, secs: i64) -> Incoming {
        let mut f = crate::demo::generate(1, t0(), 1).next().unwrap();
        f.updated_at = t0() + Duration::seconds(secs);
        f.workflow_status = status;
        f.compliance_status = compliance.map(str::to_string);
        f.record_state = RecordState::Active;
        Incoming::from(&f)
    }

    fn replaced(d: Decision) -> (WorkflowStatus, bool, ChangeKind) {
        match d {
            Decision::Replace(w) => {
                assert_eq!(w.revision, 5, "a replacement is the next revision");
                (w.workflow_status, w.workflow_by_person, w.kind)
            }
            other => panic!("expected a replacement, got {other:?}"),
        }
    }

    #[test]
    fn order_is_the_providers_updated_at_to_the_microsecond() {
        let s = head(New, false, None);
        assert_eq!(
            decide(Some(&s), &incoming(New, None, -1)),
            Decision::SkippedOlder
        );
        assert_eq!(
            decide(Some(&s), &incoming(New, None, 0)),
            Decision::Unchanged
        );
        let mut sub_micro = incoming(New, None, 0);
        sub_micro.updated_at += Duration::nanoseconds(300);
        assert_eq!(decide(Some(&s), &sub_micro), Decision::Unchanged);
        assert!(matches!(
            decide(Some(&s), &incoming(New, None, 1)),
            Decision::Replace(_)
        ));
    }

    #[test]
    fn a_first_version_is_inserted_at_revision_one() {
        let d = decide(None, &incoming(Notified, Some("FAILED"), 0));
        assert_eq!(
            d,
            Decision::Insert(Write {
                workflow_status: Notified,
                workflow_by_person: false,
                revision: 1,
                kind: ChangeKind::Inserted
            })
        );
        let d = decide(None, &incoming(New, Some("PASSED"), 0));
        assert!(matches!(d, Decision::Insert(w) if w.workflow_status == Resolved));
        let d = decide(None, &incoming(Suppressed, Some("PASSED"), 0));
        assert!(matches!(d, Decision::Insert(w) if w.workflow_status == Suppressed));
    }

    #[test]
    fn row_1_suppressed_stays_until_a_person_changes_it() {
        for s in [head(Suppressed, true, None), head(Suppressed, false, None)] {
            for (status, compliance) in [
                (New, Some("FAILED")),
                (Resolved, Some("PASSED")),
                (Notified, None),
            ] {
                let (got, by_person, kind) =
                    replaced(decide(Some(&s), &incoming(status, compliance, 60)));
                assert_eq!(got, Suppressed);
                assert_eq!(by_person, s.workflow_by_person);
                assert_eq!(kind, ChangeKind::Updated);
            }
        }
    }

    #[test]
    fn row_2_a_suppressed_incoming_version_suppresses() {
        let s = head(Notified, true, Some("FAILED"));
        let (got, by_person, _) = replaced(decide(Some(&s), &incoming(Suppressed, None, 60)));
        assert_eq!((got, by_person), (Suppressed, false));
    }

    #[test]
    fn row_3_passed_or_archived_resolves_anything_but_suppressed() {
        for stored in [New, Notified, Resolved] {
            for by_person in [false, true] {
                let s = head(stored, by_person, Some("FAILED"));
                let (got, bp, kind) =
                    replaced(decide(Some(&s), &incoming(New, Some("PASSED"), 60)));
                assert_eq!((got, bp), (Resolved, false));
                let want = if stored == Resolved {
                    ChangeKind::Updated
                } else {
                    ChangeKind::Resolved
                };
                assert_eq!(kind, want);
                let mut archived = incoming(New, Some("FAILED"), 60);
                archived.record_state = RecordState::Archived;
                assert_eq!(replaced(decide(Some(&s), &archived)).0, Resolved);
            }
        }
        // A control that keeps passing stays resolved though its provider says NEW.
        let s = head(Resolved, false, Some("PASSED"));
        assert_eq!(
            replaced(decide(Some(&s), &incoming(New, Some("PASSED"), 60))).0,
            Resolved
        );
    }

    #[test]
    fn row_4_failing_again_or_active_again_reopens_notified_and_resolved() {
        for stored in [Notified, Resolved] {
            for by_person in [false, true] {
                for failing in ["FAILED", "WARNING", "NOT_AVAILABLE"] {
                    let s = head(stored, by_person, Some("PASSED"));
                    let (got, bp, kind) =
                        replaced(decide(Some(&s), &incoming(New, Some(failing), 60)));
                    assert_eq!((got, bp, kind), (New, false, ChangeKind::Reopened));
                }
                let mut s = head(stored, by_person, None);
                s.record_state = RecordState::Archived;
                let (got, _, kind) = replaced(decide(Some(&s), &incoming(New, None, 60)));
                assert_eq!((got, kind), (New, ChangeKind::Reopened));
            }
        }
        // A person's NEW is not "reopened": it stays the person's NEW.
        let s = head(New, true, Some("PASSED"));
        let (got, bp, kind) = replaced(decide(Some(&s), &incoming(New, Some("FAILED"), 60)));
        assert_eq!((got, bp, kind), (New, true, ChangeKind::Updated));
    }

    #[test]
    fn row_5_a_persons_status_survives_a_providers_plain_new() {
        for stored in [New, Notified, Resolved] {
            let s = head(stored, true, Some("FAILED"));
            let (got, bp, kind) = replaced(decide(Some(&s), &incoming(New, Some("FAILED"), 60)));
            assert_eq!((got, bp, kind), (stored, true, ChangeKind::Updated));
        }
    }

    #[test]
    fn row_6_the_providers_own_status_wins_otherwise() {
        // Set by the provider: its new status, whatever it is.
        for (stored, incoming_status, kind) in [
            (New, Notified, ChangeKind::Updated),
            (Notified, New, ChangeKind::Reopened),
            (Resolved, New, ChangeKind::Reopened),
            (New, Resolved, ChangeKind::Resolved),
        ] {
            let s = head(stored, false, None);
            let (got, bp, k) = replaced(decide(Some(&s), &incoming(incoming_status, None, 60)));
            assert_eq!((got, bp, k), (incoming_status, false, kind));
        }
        // Set by a person, but the provider sends a status of its own (not NEW).
        let s = head(Notified, true, None);
        let (got, bp, _) = replaced(decide(Some(&s), &incoming(Resolved, None, 60)));
        assert_eq!((got, bp), (Resolved, false));
    }

    #[test]
    fn the_issue_scenario_notified_passed_then_failed_is_new_again() {
        // Analyst: NOTIFIED. Provider: PASSED/RESOLVED, later FAILED/NEW.
        let s = head(Notified, true, Some("FAILED"));
        let Decision::Replace(w) = decide(Some(&s), &incoming(Resolved, Some("PASSED"), 60)) else {
            panic!()
        };
        let s2 = StoredHead {
            updated_at: t0() + Duration::seconds(60),
            revision: w.revision,
            workflow_status: w.workflow_status,
            workflow_by_person: w.workflow_by_person,
            compliance_status: Some("PASSED".into()),
            ..s
        };
        let Decision::Replace(w2) = decide(Some(&s2), &incoming(New, Some("FAILED"), 120)) else {
            panic!()
        };
        assert_eq!(
            (w.workflow_status, w2.workflow_status, w2.kind, w2.revision),
            (Resolved, New, ChangeKind::Reopened, 6)
        );
    }

    #[test]
    fn workflow_changes_and_deletes_take_the_next_revision() {
        let w = decide_workflow(7, Notified);
        assert_eq!(
            (w.revision, w.workflow_by_person, w.kind),
            (8, true, ChangeKind::WorkflowChanged)
        );
        assert_eq!(delete_revision(7), 8);
    }
}
