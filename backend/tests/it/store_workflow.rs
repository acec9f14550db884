//! The workflow decision's table (store/decide.rs), row by row, through a real
//! store: each scenario is a sequence of provider versions and people's changes,
//! and the expected record after each step is written out by hand from Security
//! Hub's documented rules — never computed by the code under test.

use super::helpers::findings;
use chrono::Duration;
use cspm::store::{Store, UpsertOutcome};
use shared_types::{
    ChangeKind, Finding, FindingFilter, RecordState, WorkflowStatus, WorkflowUpdate,
};
use std::sync::Arc;
use WorkflowStatus::*;

/// One step of a scenario.
enum Step {
    /// The provider sends a version `secs` after the first, with its own status,
    /// compliance and record state.
    Provider {
        secs: i64,
        status: WorkflowStatus,
        compliance: &'static str,
        record: RecordState,
        kind: Option<ChangeKind>,
    },
    /// A person sets the status.
    Person(WorkflowStatus),
}

/// What the record must be after a step.
struct Want {
    status: WorkflowStatus,
    by_person: bool,
    revision: u64,
}

fn provider(secs: i64, status: WorkflowStatus, compliance: &'static str) -> Step {
    Step::Provider {
        secs,
        status,
        compliance,
        record: RecordState::Active,
        kind: None,
    }
}

fn provider_kind(
    secs: i64,
    status: WorkflowStatus,
    compliance: &'static str,
    record: RecordState,
    kind: ChangeKind,
) -> Step {
    Step::Provider {
        secs,
        status,
        compliance,
        record,
        kind: Some(kind),
    }
}

fn want(status: WorkflowStatus, by_person: bool, revision: u64) -> Want {
    Want {
        status,
        by_person,
        revision,
    }
}

async fn play(store: &dyn Store, base: &Finding, name: &str, steps: Vec<(Step, Want)>) {
    for (n, (step, want)) in steps.into_iter().enumerate() {
        match step {
            Step::Provider {
                secs,
                status,
                compliance,
                record,
                kind,
            } => {
                let mut v = base.clone();
                v.updated_at = base.updated_at + Duration::seconds(secs);
                v.workflow_status = status;
                v.compliance_status = Some(compliance.into());
                v.record_state = record;
                let r = store.upsert(&[v]).await.unwrap();
                assert!(r.failed.is_empty(), "{name} step {n}: {r:?}");
                if let Some(k) = kind {
                    match &r.outcomes[0].1 {
                        UpsertOutcome::Updated { kind, .. } => {
                            assert_eq!(*kind, k, "{name} step {n}")
                        }
                        UpsertOutcome::Inserted => {
                            assert_eq!(k, ChangeKind::Inserted, "{name} step {n}")
                        }
                        other => panic!("{name} step {n}: {other:?}"),
                    }
                }
            }
            Step::Person(status) => {
                let u = WorkflowUpdate {
                    workflow_status: status,
                    note: Some(format!("{name} step {n}")),
                };
                let at = base.updated_at + Duration::hours(5);
                store
                    .set_workflow(&base.id, &u, "analyst@example.com", at)
                    .await
                    .unwrap()
                    .expect("stored");
            }
        }
        let got = store.get(&base.id).await.unwrap().unwrap().finding;
        assert_eq!(
            (got.workflow_status, got.workflow_by_person, got.revision),
            (want.status, want.by_person, want.revision),
            "{name} after step {n}"
        );
    }
}

/// Every row of the table, on one store (each scenario its own finding).
pub async fn the_workflow_table_holds_row_by_row(store: Arc<dyn Store>) {
    let mut fs = findings(12, 21).into_iter();
    let mut next = || {
        let mut f = fs.next().unwrap();
        f.workflow_status = New;
        f.compliance_status = Some("FAILED".into());
        f.record_state = RecordState::Active;
        f
    };
    let s = store.as_ref();
    use ChangeKind as K;
    use RecordState::{Active, Archived};

    play(
        s,
        &next(),
        "row 1: a person's SUPPRESSED stays",
        vec![
            (provider(0, New, "FAILED"), want(New, false, 1)),
            (Step::Person(Suppressed), want(Suppressed, true, 2)),
            (provider(60, Resolved, "PASSED"), want(Suppressed, true, 3)),
            (provider(120, New, "FAILED"), want(Suppressed, true, 4)),
            (Step::Person(New), want(New, true, 5)),
        ],
    )
    .await;
    play(
        s,
        &next(),
        "row 1: a provider's SUPPRESSED stays too",
        vec![
            (
                provider(0, Suppressed, "FAILED"),
                want(Suppressed, false, 1),
            ),
            (provider(60, New, "FAILED"), want(Suppressed, false, 2)),
        ],
    )
    .await;
    play(
        s,
        &next(),
        "row 2: a suppression rule's SUPPRESSED wins",
        vec![
            (provider(0, New, "FAILED"), want(New, false, 1)),
            (Step::Person(Notified), want(Notified, true, 2)),
            (
                provider(60, Suppressed, "FAILED"),
                want(Suppressed, false, 3),
            ),
        ],
    )
    .await;
    play(
        s,
        &next(),
        "row 3: PASSED resolves a person's NOTIFIED",
        vec![
            (provider(0, New, "FAILED"), want(New, false, 1)),
            (Step::Person(Notified), want(Notified, true, 2)),
            (
                provider_kind(60, New, "PASSED", Active, K::Resolved),
                want(Resolved, false, 3),
            ),
        ],
    )
    .await;
    play(
        s,
        &next(),
        "row 3: ARCHIVED resolves",
        vec![
            (provider(0, New, "FAILED"), want(New, false, 1)),
            (
                provider_kind(60, New, "FAILED", Archived, K::Resolved),
                want(Resolved, false, 2),
            ),
        ],
    )
    .await;
    play(
        s,
        &next(),
        "row 4: NOTIFIED, PASSED/RESOLVED, then FAILED/NEW is NEW again",
        vec![
            (provider(0, New, "FAILED"), want(New, false, 1)),
            (Step::Person(Notified), want(Notified, true, 2)),
            (provider(60, Resolved, "PASSED"), want(Resolved, false, 3)),
            (
                provider_kind(120, New, "FAILED", Active, K::Reopened),
                want(New, false, 4),
            ),
        ],
    )
    .await;
    for failing in ["WARNING", "NOT_AVAILABLE"] {
        play(
            s,
            &next(),
            "row 4: PASSED then failing reopens a person's RESOLVED",
            vec![
                (provider(0, New, "PASSED"), want(Resolved, false, 1)),
                (Step::Person(Resolved), want(Resolved, true, 2)),
                (
                    provider_kind(60, New, failing, Active, K::Reopened),
                    want(New, false, 3),
                ),
            ],
        )
        .await;
    }
    play(
        s,
        &next(),
        "row 4: ARCHIVED then ACTIVE reopens",
        vec![
            (
                provider_kind(0, New, "FAILED", Archived, K::Inserted),
                want(Resolved, false, 1),
            ),
            (
                provider_kind(60, New, "FAILED", Active, K::Reopened),
                want(New, false, 2),
            ),
        ],
    )
    .await;
    play(
        s,
        &next(),
        "row 5: a person's status survives the provider's NEW",
        vec![
            (provider(0, New, "FAILED"), want(New, false, 1)),
            (Step::Person(Notified), want(Notified, true, 2)),
            (
                provider_kind(60, New, "FAILED", Active, K::Updated),
                want(Notified, true, 3),
            ),
            (Step::Person(Resolved), want(Resolved, true, 4)),
            (provider(120, New, "FAILED"), want(Resolved, true, 5)),
        ],
    )
    .await;
    play(
        s,
        &next(),
        "row 6: the provider's own status wins otherwise",
        vec![
            (provider(0, New, "FAILED"), want(New, false, 1)),
            (provider(60, Notified, "FAILED"), want(Notified, false, 2)),
            (Step::Person(Notified), want(Notified, true, 3)),
            (
                provider_kind(120, Resolved, "FAILED", Active, K::Resolved),
                want(Resolved, false, 4),
            ),
            (
                provider_kind(180, New, "FAILED", Active, K::Reopened),
                want(New, false, 5),
            ),
        ],
    )
    .await;

    // The columns the lists filter on agree with the documents.
    let resolved = FindingFilter {
        statuses: vec![Resolved],
        ..Default::default()
    };
    let page = store.list(&resolved, 100, None).await.unwrap();
    for item in &page.items {
        let d = store.get(&item.id).await.unwrap().unwrap();
        assert_eq!(d.finding.workflow_status, Resolved, "{}", item.id);
    }
    assert!(!page.items.is_empty());
}

/// A provider version evaluated before a person's change but delivered after it
/// is still newer than the stored provider version: its compliance change lands.
pub async fn a_late_provider_version_is_not_older_than_a_persons_change(store: Arc<dyn Store>) {
    let mut v1 = findings(1, 22).remove(0);
    v1.workflow_status = New;
    v1.compliance_status = Some("FAILED".into());
    v1.record_state = RecordState::Active;
    let t = v1.updated_at;
    store.upsert(std::slice::from_ref(&v1)).await.unwrap();
    let patch = WorkflowUpdate {
        workflow_status: Notified,
        note: Some("owner told".into()),
    };
    let d = store
        .set_workflow(&v1.id, &patch, "alice", t + Duration::minutes(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        d.finding.updated_at, t,
        "a person's change keeps the provider's time"
    );
    assert_eq!(d.finding.revision, 2);

    let mut v2 = v1.clone();
    v2.updated_at = t + Duration::minutes(1);
    v2.compliance_status = Some("PASSED".into());
    let r = store.upsert(std::slice::from_ref(&v2)).await.unwrap();
    assert!(
        matches!(
            r.outcomes[0].1,
            UpsertOutcome::Updated {
                kind: ChangeKind::Resolved,
                ..
            }
        ),
        "{r:?}"
    );
    let got = store.get(&v1.id).await.unwrap().unwrap();
    assert_eq!(got.finding.compliance_status.as_deref(), Some("PASSED"));
    assert_eq!(got.finding.workflow_status, Resolved);
    assert_eq!(got.finding.updated_at, v2.updated_at);
    assert_eq!(got.finding.revision, 3);
    assert_eq!(got.audit.len(), 1, "the person's change stays in the trail");

    // The first version arriving again is older now.
    let r = store.upsert(&[v1]).await.unwrap();
    assert_eq!(r.outcomes[0].1, UpsertOutcome::SkippedOlder);
}
