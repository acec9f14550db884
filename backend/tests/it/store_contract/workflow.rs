//! A person's workflow changes: audited, kept through provider updates,
//! counted in revisions; unknown ids are `None`.

use super::*;

pub(super) async fn workflow_changes_are_audited_and_survive_provider_updates(
    store: Arc<dyn Store>,
) {
    let f = findings(1, 8).remove(0);
    store.upsert(std::slice::from_ref(&f)).await.unwrap();
    let at = f.updated_at + Duration::hours(1);
    let update = WorkflowUpdate {
        workflow_status: WorkflowStatus::Notified,
        note: Some("owner told".into()),
    };
    let d = store
        .set_workflow(&f.id, &update, "alice", at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.finding.workflow_status, WorkflowStatus::Notified);
    assert_eq!(
        d.finding.updated_at, f.updated_at,
        "the provider's time stays; the revision moves"
    );
    assert_eq!(d.finding.revision, 2);
    assert!(d.finding.workflow_by_person);
    assert_eq!(d.audit.len(), 1);
    assert_eq!(d.audit[0].actor, "alice");
    assert_eq!(d.audit[0].from_status, f.workflow_status);
    assert_eq!(d.audit[0].to_status, WorkflowStatus::Notified);
    assert_eq!(d.audit[0].note.as_deref(), Some("owner told"));

    // The provider re-sends the finding later with NEW: the analyst's triage stays.
    let mut later = version(&f, 7200);
    later.workflow_status = WorkflowStatus::New;
    later.title = "re-evaluated".into();
    store.upsert(&[later]).await.unwrap();
    let got = store.get(&f.id).await.unwrap().unwrap();
    assert_eq!(got.finding.title, "re-evaluated");
    assert_eq!(got.finding.workflow_status, WorkflowStatus::Notified);
    assert_eq!(got.audit.len(), 1);

    // A provider that resolves the finding (e.g. an alarm back to OK) wins.
    let mut resolved = version(&f, 9000);
    resolved.workflow_status = WorkflowStatus::Resolved;
    store.upsert(&[resolved]).await.unwrap();
    let got = store.get(&f.id).await.unwrap().unwrap();
    assert_eq!(got.finding.workflow_status, WorkflowStatus::Resolved);
    let listed = store
        .list(
            &FindingFilter {
                statuses: vec![WorkflowStatus::Resolved],
                ..Default::default()
            },
            10,
            None,
        )
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
}

/// Every change moves the revision by one; unchanged and older versions do not.
pub(super) async fn revisions_count_every_change(store: Arc<dyn Store>) {
    let f = findings(1, 23).remove(0);
    let rev = |store: Arc<dyn Store>, id: String| async move {
        store.get(&id).await.unwrap().unwrap().finding.revision
    };
    store.upsert(std::slice::from_ref(&f)).await.unwrap();
    assert_eq!(rev(store.clone(), f.id.clone()).await, 1);
    store.upsert(std::slice::from_ref(&f)).await.unwrap();
    assert_eq!(rev(store.clone(), f.id.clone()).await, 1, "unchanged");
    store.upsert(&[version(&f, 60)]).await.unwrap();
    assert_eq!(rev(store.clone(), f.id.clone()).await, 2, "newer");
    store.upsert(&[version(&f, 30)]).await.unwrap();
    assert_eq!(rev(store.clone(), f.id.clone()).await, 2, "older");
    let u = WorkflowUpdate {
        workflow_status: WorkflowStatus::Resolved,
        note: Some("fixed".into()),
    };
    let d = store
        .set_workflow(&f.id, &u, "bob", anchor())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.finding.revision, 3, "a person's change");
    let candidates = store
        .archive_candidates(anchor() + Duration::days(1), 10, None)
        .await
        .unwrap();
    let c = candidates
        .candidates
        .iter()
        .find(|c| c.id == f.id)
        .expect("candidate");
    assert_eq!(c.revision, 3);
    assert_eq!(
        c.finding().unwrap().revision,
        3,
        "the archived line carries it"
    );
}

pub(super) async fn unknown_ids_are_none(store: Arc<dyn Store>) {
    let missing = "AAAAAAAAAAAAAAAAAAAAAA";
    assert!(store.get(missing).await.unwrap().is_none());
    let u = WorkflowUpdate {
        workflow_status: WorkflowStatus::Resolved,
        note: None,
    };
    assert!(store
        .set_workflow(missing, &u, "x", anchor())
        .await
        .unwrap()
        .is_none());
    store.ping().await.unwrap();
}
