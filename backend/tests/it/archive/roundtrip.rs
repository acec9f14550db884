//! Archive → restore gives back identical findings, on a local folder and on S3.

use super::support::{
    archive_versions, new_store, old_findings, s3_endpoint, s3_sink, store_versions,
};
use chrono::{Duration, Utc};
use cspm::archive::restore::{restore, RestoreRange};
use cspm::archive::{run_archive, ArchiveOptions, ArchiveSink, LocalDirSink};
use std::sync::Arc;

async fn roundtrip(sink: Arc<dyn ArchiveSink>) {
    let ts = new_store();
    let store = ts.store.as_ref();
    let pipeline = crate::helpers::pipeline(ts.store.clone());
    let mut findings = old_findings(600, 9);
    // One recent finding must stay in the store.
    let mut recent = findings[0].clone();
    recent.id = cspm::ids::short_id("recent", "recent");
    recent.updated_at = Utc::now() - Duration::days(1);
    findings.push(recent.clone());
    store.upsert(&findings).await.unwrap();
    // What the store holds (revision, workflow decision) is what must come back.
    let mut stored = Vec::new();
    for f in &findings {
        stored.push(store.get(&f.id).await.unwrap().unwrap().finding);
    }

    let mut opts = ArchiveOptions::older_than(Utc::now(), Duration::days(90));
    opts.caps.max_findings = 40; // several parts per day
    let report = run_archive(store, sink.as_ref(), &opts, None)
        .await
        .unwrap();
    assert_eq!(report.archived, 600);
    assert_eq!(report.deleted, 600);
    assert!(report.parts >= 600 / 40, "{report:?}");
    assert!(
        report.compressed_bytes < report.uncompressed_bytes / 3,
        "{report:?}"
    );
    assert_eq!(store_versions(store).await.len(), 1);
    assert_eq!(archive_versions(sink.as_ref()).await.len(), 600);

    // A second run has nothing to do and writes nothing.
    let again = run_archive(store, sink.as_ref(), &opts, None)
        .await
        .unwrap();
    assert_eq!((again.parts, again.archived, again.deleted), (0, 0, 0));

    // Restore a date range: only those days come back.
    let day = findings[5].updated_at.date_naive();
    let r = restore(
        &pipeline,
        sink.as_ref(),
        RestoreRange {
            since: Some(day),
            until: Some(day),
        },
        None,
    )
    .await
    .unwrap();
    let that_day = findings
        .iter()
        .filter(|f| f.updated_at.date_naive() == day)
        .count() as u64;
    assert_eq!((r.read, r.inserted), (that_day, that_day));

    // Restore everything: every finding is back, identical, field by field.
    let r = restore(&pipeline, sink.as_ref(), RestoreRange::default(), None)
        .await
        .unwrap();
    assert_eq!(r.read, 600);
    assert_eq!(r.inserted + r.unchanged, 600);
    for f in stored.iter().filter(|f| f.id != recent.id) {
        let back = store.get(&f.id).await.unwrap().expect("restored");
        assert_eq!(&back.finding, f);
    }

    // The restored findings are old and already archived: the next run deletes them
    // again without writing a second copy.
    let third = run_archive(store, sink.as_ref(), &opts, None)
        .await
        .unwrap();
    assert_eq!(
        (third.parts, third.already_archived, third.deleted),
        (0, 600, 600)
    );
    assert_eq!(archive_versions(sink.as_ref()).await.len(), 600);
    assert_eq!(store_versions(store).await.len(), 1);
}

#[tokio::test]
async fn archive_then_restore_gives_back_identical_findings_local_dir() {
    let dir = tempfile::tempdir().unwrap();
    roundtrip(Arc::new(LocalDirSink::new(dir.path()))).await;
}

#[tokio::test]
async fn archive_then_restore_gives_back_identical_findings_s3() {
    let Some(endpoint) = s3_endpoint("archive_then_restore_s3") else {
        return;
    };
    roundtrip(s3_sink(&endpoint, "archive").await).await;
}
