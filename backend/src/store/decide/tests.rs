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
        amendment: None,
    }
}

fn incoming(status: WorkflowStatus, compliance: Option<&str>, secs: i64) -> Incoming {
    let mut f = crate::demo::generate(1, t0(), 1).next().unwrap();
    f.updated_at = t0() + Duration::seconds(secs);
    f.workflow_status = status;
    f.compliance_status = compliance.map(str::to_string);
    f.record_state = RecordState::Active;
    f.severity = Severity::High;
    f.source = shared_types::FindingSource::SecurityHub;
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
            let (got, bp, kind) = replaced(decide(Some(&s), &incoming(New, Some("PASSED"), 60)));
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
                let (got, bp, kind) = replaced(decide(Some(&s), &incoming(New, Some(failing), 60)));
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

/// `s` holding exactly the version `i` (its time and mark).
fn holding(mut s: StoredHead, i: &Incoming) -> StoredHead {
    s.updated_at = i.updated_at;
    s.amendment = Some(i.amendment);
    s
}

#[test]
fn an_equal_version_is_unchanged_with_the_stored_mark_and_amends_with_another() {
    let delivered = incoming(New, Some("FAILED"), 0);
    let s = holding(head(New, false, Some("FAILED")), &delivered);
    assert_eq!(decide(Some(&s), &delivered), Decision::Unchanged);
    // Suppressed or resolved in Security Hub: same UpdatedAt, another mark.
    let (got, bp, kind) = replaced(decide(Some(&s), &incoming(Suppressed, Some("FAILED"), 0)));
    assert_eq!((got, bp, kind), (Suppressed, false, ChangeKind::Updated));
    // A status set there is the customer's decision: the old version replayed
    // (it says NEW) cannot undo it.
    let (got, bp, kind) = replaced(decide(Some(&s), &incoming(Resolved, Some("FAILED"), 0)));
    assert_eq!((got, bp, kind), (Resolved, true, ChangeKind::Resolved));
    let resolved = holding(
        head(Resolved, true, Some("FAILED")),
        &incoming(Resolved, None, 0),
    );
    assert_eq!(decide(Some(&resolved), &delivered), Decision::Unchanged);
    // Once stored with its mark, an amendment's re-delivery is unchanged, also a
    // sub-microsecond apart.
    let amended = incoming(Suppressed, Some("FAILED"), 0);
    let after = holding(head(Suppressed, false, Some("FAILED")), &amended);
    assert_eq!(decide(Some(&after), &amended), Decision::Unchanged);
    let mut sub_micro = amended.clone();
    sub_micro.updated_at += Duration::nanoseconds(300);
    assert_eq!(decide(Some(&after), &sub_micro), Decision::Unchanged);
}

#[test]
fn no_amendment_lifts_a_suppression_or_overrides_a_persons_status_but_by_suppressing() {
    let suppressed = incoming(Suppressed, Some("FAILED"), 0);
    for by_person in [false, true] {
        let s = holding(head(Suppressed, by_person, Some("FAILED")), &suppressed);
        for status in [New, Notified, Resolved] {
            assert_eq!(
                decide(Some(&s), &incoming(status, Some("FAILED"), 0)),
                Decision::Unchanged
            );
        }
    }
    let provider = incoming(New, Some("FAILED"), 0);
    let person = holding(head(Notified, true, Some("FAILED")), &provider);
    for status in [Notified, Resolved] {
        assert_eq!(
            decide(Some(&person), &incoming(status, Some("FAILED"), 0)),
            Decision::Unchanged
        );
    }
    let (got, bp, _) = replaced(decide(
        Some(&person),
        &incoming(Suppressed, Some("FAILED"), 0),
    ));
    assert_eq!((got, bp), (Suppressed, false));
    // A passing control stays resolved whatever status is set on it there.
    let passing = holding(
        head(Resolved, false, Some("PASSED")),
        &incoming(New, Some("PASSED"), 0),
    );
    assert_eq!(
        decide(Some(&passing), &incoming(Notified, Some("PASSED"), 0)),
        Decision::Unchanged
    );
}

#[test]
fn only_security_hub_versions_with_known_marks_amend() {
    // Another source (or an OCSF copy, our export read back) has the mark 0.
    let s = holding(
        head(New, false, Some("FAILED")),
        &incoming(New, Some("FAILED"), 0),
    );
    let mut ocsf = incoming(Suppressed, Some("FAILED"), 0);
    ocsf.amendment = 0;
    assert_eq!(decide(Some(&s), &ocsf), Decision::Unchanged);
    let mut written_by_ocsf = s.clone();
    written_by_ocsf.amendment = Some(0);
    assert_eq!(
        decide(
            Some(&written_by_ocsf),
            &incoming(Suppressed, Some("FAILED"), 0)
        ),
        Decision::Unchanged
    );
}

#[test]
fn a_record_without_a_mark_takes_only_a_suppression_nobody_triaged() {
    let s = head(New, false, Some("FAILED"));
    assert_eq!(s.amendment, None);
    for status in [New, Notified, Resolved] {
        assert_eq!(
            decide(Some(&s), &incoming(status, Some("FAILED"), 0)),
            Decision::Unchanged
        );
    }
    let (got, _, _) = replaced(decide(Some(&s), &incoming(Suppressed, Some("FAILED"), 0)));
    assert_eq!(got, Suppressed);
    // A person un-suppressed it here: the suppressed version re-delivered stays out.
    let unsuppressed = head(New, true, Some("FAILED"));
    assert_eq!(
        decide(
            Some(&unsuppressed),
            &incoming(Suppressed, Some("FAILED"), 0)
        ),
        Decision::Unchanged
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
