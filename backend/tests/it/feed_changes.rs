//! Change records, on both stores: every kind with the right revision, nothing for
//! unchanged or older versions, quiet changes for demo data and deletes, and on
//! SQLite a write that fails before its commit leaves neither the finding nor its
//! change. SQLite's records are read through the feed; DynamoDB's are its stream's
//! records decoded by the fanout's decoder.

use crate::aws_env::{self, dynamo_store_at, sdk_config};
use crate::helpers::{findings, version};
use crate::stream_records::{lambda_event, raw_records};
use chrono::Duration;
use cspm::feed::stream::decode;
use cspm::store::{Change, ChangeFeed, FindingVersion, Origin, SqliteStore, Store};
use shared_types::{ChangeKind, Finding, RecordState, WorkflowStatus, WorkflowUpdate};

/// Drives the same history on a store; returns the finding it used.
async fn history(store: &dyn Store) -> (Finding, Finding) {
    let mut f = findings(2, 41).remove(0);
    f.workflow_status = WorkflowStatus::New;
    f.compliance_status = Some("FAILED".into());
    f.record_state = RecordState::Active;
    store.upsert(std::slice::from_ref(&f)).await.unwrap(); // inserted r1
    store.upsert(std::slice::from_ref(&f)).await.unwrap(); // unchanged: nothing
    store.upsert(&[version(&f, -60)]).await.unwrap(); // older: nothing
    let v2 = version(&f, 60);
    store.upsert(std::slice::from_ref(&v2)).await.unwrap(); // updated r2
    let u = WorkflowUpdate {
        workflow_status: WorkflowStatus::Notified,
        note: Some("owner told".into()),
    };
    store
        .set_workflow(
            &f.id,
            &u,
            "alice@example.com",
            f.updated_at + Duration::hours(1),
        )
        .await
        .unwrap(); // workflow_changed r3
    let mut passed = version(&f, 120);
    passed.compliance_status = Some("PASSED".into());
    store.upsert(&[passed]).await.unwrap(); // resolved r4
    let mut failed = version(&f, 180);
    failed.compliance_status = Some("FAILED".into());
    store.upsert(std::slice::from_ref(&failed)).await.unwrap(); // reopened r5
    store
        .delete_versions(&[FindingVersion {
            id: f.id.clone(),
            updated_at: failed.updated_at,
            revision: 5,
        }])
        .await
        .unwrap(); // deleted r6 (quiet)
    let demo = findings(2, 41).remove(1);
    store
        .upsert_from(std::slice::from_ref(&demo), Origin::Demo)
        .await
        .unwrap(); // quiet r1
    (f, demo)
}

fn check(changes: &[Change], f: &Finding, demo: &Finding) {
    let of_f: Vec<(ChangeKind, u64, bool)> = changes
        .iter()
        .filter(|c| c.finding_id() == f.id)
        .map(|c| (c.kind, c.revision, c.quiet))
        .collect();
    use ChangeKind::*;
    assert_eq!(
        of_f,
        vec![
            (Inserted, 1, false),
            (Updated, 2, false),
            (WorkflowChanged, 3, false),
            (Resolved, 4, false),
            (Reopened, 5, false),
            (Deleted, 6, true),
        ]
    );
    for c in changes.iter().filter(|c| c.finding_id() == f.id) {
        assert_eq!(c.key, format!("{}:{}", f.id, c.revision));
        assert_eq!(c.finding.generator_id, f.generator_id);
        assert_eq!(c.finding.item.title, f.title);
    }
    let wf = changes.iter().find(|c| c.kind == WorkflowChanged).unwrap();
    assert_eq!(wf.actor.as_deref(), Some("alice@example.com"));
    assert_eq!(wf.finding.note.as_deref(), Some("owner told"));
    assert_eq!(wf.finding.status_before, Some(WorkflowStatus::New));
    assert_eq!(wf.finding.item.workflow_status, WorkflowStatus::Notified);
    let upd = changes.iter().find(|c| c.kind == Updated).unwrap();
    assert_eq!(upd.finding.severity_before, Some(f.severity));
    let reopened = changes.iter().find(|c| c.kind == Reopened).unwrap();
    assert_eq!(reopened.finding.item.workflow_status, WorkflowStatus::New);
    assert_eq!(
        reopened.finding.item.compliance_status.as_deref(),
        Some("FAILED")
    );
    let d: Vec<&Change> = changes
        .iter()
        .filter(|c| c.finding_id() == demo.id)
        .collect();
    assert_eq!(d.len(), 1);
    assert!(d[0].quiet && d[0].kind == Inserted);
}

#[tokio::test]
async fn sqlite_records_a_change_per_write_in_commit_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let (f, demo) = history(&store).await;
    let changes = store.changes_after(0, 100).await.unwrap();
    check(&changes, &f, &demo);
    let seqs: Vec<u64> = changes.iter().map(|c| c.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(store.head().await.unwrap(), *seqs.last().unwrap());
    // Paging after a seq reads exactly the rest.
    let rest = store.changes_after(seqs[2], 100).await.unwrap();
    assert_eq!(rest.len(), seqs.len() - 3);
    // Trimming keeps what is newer than the cutoff or past `upto`.
    let n = store
        .trim(seqs[1], chrono::Utc::now() + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        store.changes_after(0, 100).await.unwrap().len(),
        seqs.len() - 2
    );
    assert_eq!(
        store.head().await.unwrap(),
        *seqs.last().unwrap(),
        "the head never goes back"
    );
}

#[tokio::test]
async fn a_write_that_fails_before_commit_leaves_neither_finding_nor_change() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let fs = findings(3, 42);
    // Fail the third change record's insert, inside the batch's transaction: the
    // findings written before it in that transaction must go with it.
    let c = rusqlite::Connection::open(store.path()).unwrap();
    c.execute_batch(&format!(
        "CREATE TRIGGER fail_change BEFORE INSERT ON changes WHEN NEW.finding_id = '{}' \
         BEGIN SELECT RAISE(ABORT, 'injected crash'); END;",
        fs[2].id
    ))
    .unwrap();
    assert!(store.upsert(&fs).await.is_err());
    for f in &fs {
        assert!(
            store.get(&f.id).await.unwrap().is_none(),
            "{} half-written",
            f.id
        );
    }
    assert!(store.changes_after(0, 10).await.unwrap().is_empty());
    let today = chrono::Utc::now().date_naive();
    assert_eq!(
        store.summary(today).await.unwrap().total,
        0,
        "counters untouched"
    );
    c.execute_batch("DROP TRIGGER fail_change").unwrap();
    store.upsert(&fs).await.unwrap();
    assert_eq!(store.changes_after(0, 10).await.unwrap().len(), 3);
}

#[tokio::test]
async fn dynamodb_streams_decode_to_the_same_changes() {
    let Some(ep) = aws_env::endpoint("dynamodb_streams_decode_to_the_same_changes") else {
        return;
    };
    let store = dynamo_store_at(&ep).await;
    let (f, demo) = history(&store).await;
    let client = cspm::aws::dynamodb_client(&sdk_config(&ep).await);
    let raw = raw_records(&ep, &client, store.table()).await;
    let event = lambda_event(&raw);
    let mut changes = Vec::new();
    let mut counters = 0;
    for r in &event.records {
        match decode(r).unwrap() {
            Some(c) => changes.push(c),
            None => counters += 1,
        }
    }
    assert!(
        counters > 0,
        "the summary counters are in the stream and ignored"
    );
    check(&changes, &f, &demo);
}
