//! The Lambda's path: candidates from DynamoDB's `SeverityTimestampIndex`, parts on
//! S3, conditional deletes in DynamoDB; both on the emulator.

use super::support::{
    assert_nothing_lost_nothing_twice, old_findings, s3_endpoint, s3_sink, store_versions,
    DeleteFault, FaultyStore, UPDATED_TITLE,
};
use chrono::{Duration, Utc};
use cspm::archive::restore::{restore, RestoreRange};
use cspm::archive::{run_archive, ArchiveOptions};
use cspm::store::Store;
use std::collections::BTreeSet;
use std::sync::Arc;

#[tokio::test]
async fn dynamodb_findings_are_archived_to_s3_keeping_one_updated_meanwhile() {
    let Some(endpoint) = s3_endpoint("dynamodb_findings_are_archived_to_s3") else {
        return;
    };
    let store: Arc<dyn Store> = Arc::new(crate::aws_env::dynamo_store_at(&endpoint).await);
    let sink = s3_sink(&endpoint, "dynamo").await;
    let findings = old_findings(120, 3);
    let r = store.upsert(&findings).await.unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    // One recent finding: not a candidate.
    let mut recent = old_findings(121, 3).pop().unwrap();
    recent.updated_at = Utc::now() - Duration::days(2);
    store.upsert(std::slice::from_ref(&recent)).await.unwrap();

    let mut opts = ArchiveOptions::older_than(Utc::now(), Duration::days(90));
    opts.caps.max_findings = 50;
    opts.page_size = 37;
    opts.delete_batch = 25;
    // The first delete batch meets a finding updated since it was read.
    let faulty = FaultyStore::new(store.clone(), DeleteFault::UpdateFirstBefore, vec![1]);
    let report = run_archive(&faulty, sink.as_ref(), &opts, None)
        .await
        .unwrap();
    assert_eq!(
        (report.archived, report.deleted, report.kept),
        (120, 119, 1),
        "{report:?}"
    );
    assert!(report.parts >= 3, "{report:?}");

    let left = store_versions(store.as_ref()).await;
    let updated: BTreeSet<String> = left
        .iter()
        .map(|(id, _)| id.clone())
        .filter(|id| *id != recent.id)
        .collect();
    assert_eq!(updated.len(), 1, "{left:?}");
    let id = updated.iter().next().unwrap();
    assert_eq!(
        store.get(id).await.unwrap().unwrap().finding.title,
        UPDATED_TITLE
    );
    let mut all = findings.clone();
    all.push(recent);
    let (in_store, in_archive) =
        assert_nothing_lost_nothing_twice(store.as_ref(), sink.as_ref(), &all, &updated).await;
    assert_eq!((in_store, in_archive), (2, 120));

    // Restore: the 119 come back; the updated one keeps its newer stored version.
    let pipeline = crate::helpers::pipeline(store.clone());
    let r = restore(&pipeline, sink.as_ref(), RestoreRange::default(), None)
        .await
        .unwrap();
    assert_eq!(
        (r.read, r.inserted, r.skipped_older),
        (120, 119, 1),
        "{r:?}"
    );
    assert_eq!(store_versions(store.as_ref()).await.len(), 121);
}
