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

/// A customer's change in Security Hub (`BatchUpdateFindings`: suppress, a status)
/// arrives with the stored `UpdatedAt`: it is applied once, a replay of the older
/// version does not undo it, and a person's change here keeps the mark.
pub(super) async fn a_same_time_amendment_is_applied_once(store: Arc<dyn Store>) {
    let fixtures = findings(2, 21);
    let security_hub = |mut f: Finding| {
        f.workflow_status = WorkflowStatus::New;
        f.compliance_status = Some("FAILED".into());
        f.source = shared_types::FindingSource::SecurityHub;
        f.raw = serde_json::json!({"Id": f.asff_id, "Workflow": {"Status": "NEW"}});
        f
    };
    let (f, g) = (
        security_hub(fixtures[0].clone()),
        security_hub(fixtures[1].clone()),
    );
    let today = anchor().date_naive();
    let outcome = |r: cspm::store::UpsertReport| {
        assert!(r.failed.is_empty(), "{:?}", r.failed);
        r.outcomes[0].1.clone()
    };
    let one = |x: &Finding| vec![x.clone()];
    assert_eq!(
        outcome(store.upsert(&one(&f)).await.unwrap()),
        UpsertOutcome::Inserted
    );
    assert_eq!(
        outcome(store.upsert(&one(&f)).await.unwrap()),
        UpsertOutcome::Unchanged
    );

    // Suppressed in the console, with a note: same UpdatedAt.
    let mut suppressed = f.clone();
    suppressed.workflow_status = WorkflowStatus::Suppressed;
    suppressed.raw["Workflow"]["Status"] = "SUPPRESSED".into();
    suppressed.raw["Note"] = serde_json::json!({"Text": "accepted risk", "UpdatedBy": "ana"});
    assert!(matches!(
        outcome(store.upsert(&one(&suppressed)).await.unwrap()),
        UpsertOutcome::Updated {
            previous_status: WorkflowStatus::New,
            ..
        }
    ));
    let got = store.get(&f.id).await.unwrap().unwrap().finding;
    assert_eq!(
        (got.workflow_status, got.revision),
        (WorkflowStatus::Suppressed, 2)
    );
    assert_eq!(got.raw["Note"]["Text"], "accepted risk");
    let s = store.summary(today).await.unwrap();
    assert_eq!(s.by_status[&WorkflowStatus::Suppressed], 1);
    assert_eq!(s.by_status[&WorkflowStatus::New], 0);
    // Its re-delivery, and the original version replayed: nothing changes.
    for again in [&suppressed, &f] {
        assert_eq!(
            outcome(store.upsert(&one(again)).await.unwrap()),
            UpsertOutcome::Unchanged
        );
    }
    // A person's change here keeps the stored mark.
    let update = WorkflowUpdate {
        workflow_status: WorkflowStatus::Notified,
        note: None,
    };
    store
        .set_workflow(&f.id, &update, "alice", f.updated_at + Duration::minutes(5))
        .await
        .unwrap()
        .unwrap();
    for again in [&suppressed, &f] {
        assert_eq!(
            outcome(store.upsert(&one(again)).await.unwrap()),
            UpsertOutcome::Unchanged
        );
    }
    assert_eq!(
        store
            .get(&f.id)
            .await
            .unwrap()
            .unwrap()
            .finding
            .workflow_status,
        WorkflowStatus::Notified
    );

    // Resolved in the console: the customer's decision, which the old version
    // replayed (NEW) does not undo.
    outcome(store.upsert(&one(&g)).await.unwrap());
    let mut resolved = g.clone();
    resolved.workflow_status = WorkflowStatus::Resolved;
    assert!(matches!(
        outcome(store.upsert(&one(&resolved)).await.unwrap()),
        UpsertOutcome::Updated {
            kind: ChangeKind::Resolved,
            ..
        }
    ));
    assert_eq!(
        outcome(store.upsert(&one(&g)).await.unwrap()),
        UpsertOutcome::Unchanged
    );
    let got = store.get(&g.id).await.unwrap().unwrap().finding;
    assert_eq!(
        (got.workflow_status, got.workflow_by_person, got.revision),
        (WorkflowStatus::Resolved, true, 2)
    );
    let s = store.summary(today).await.unwrap();
    assert_eq!(
        (
            s.by_status[&WorkflowStatus::Resolved],
            s.by_status[&WorkflowStatus::Notified]
        ),
        (1, 1)
    );
}
