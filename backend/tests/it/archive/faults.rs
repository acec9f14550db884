//! Injected faults: after each failure and a re-run, every finding is in exactly one
//! of store and archive, and no finding version is archived twice. Each scenario
//! runs on a local folder and on S3 (moto).

use super::support::{
    archive_versions, assert_nothing_lost_nothing_twice, new_store, old_findings, s3_endpoint,
    s3_sink, store_versions, DeleteFault, FaultySink, FaultyStore, TestStore, UPDATED_TITLE,
};
use chrono::{Duration, Utc};
use cspm::archive::manifest::{self, PartState, RunStatus};
use cspm::archive::{run_archive, ArchiveError, ArchiveOptions, ArchiveSink, LocalDirSink};
use cspm::store::Store;
use shared_types::Finding;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration as StdDuration;

/// 400 old findings over 4 days, parts of at most 50: at least 8 parts.
fn options() -> ArchiveOptions {
    let mut o = ArchiveOptions::older_than(Utc::now(), Duration::days(90));
    o.caps.max_findings = 50;
    o.delete_batch = 20;
    o.page_size = 64;
    o.retry.base = StdDuration::from_millis(1);
    o
}

/// A store seeded with 400 old findings and the sink the scenario archives to.
struct Scenario {
    ts: TestStore,
    findings: Vec<Finding>,
    sink: Arc<dyn ArchiveSink>,
}

impl Scenario {
    async fn new(sink: Arc<dyn ArchiveSink>) -> Self {
        let ts = new_store();
        let findings = old_findings(400, 4);
        let r = ts.store.upsert(&findings).await.unwrap();
        assert_eq!(r.outcomes.len(), 400, "{:?}", r.failed);
        Scenario { ts, findings, sink }
    }

    fn store(&self) -> &dyn Store {
        self.ts.store.as_ref()
    }

    /// A store wrapper injecting `fault` on the numbered delete calls.
    fn faulty_store(&self, fault: DeleteFault, on_calls: Vec<usize>) -> FaultyStore {
        FaultyStore::new(self.ts.store.clone(), fault, on_calls)
    }

    async fn manifests(&self) -> Vec<manifest::RunManifest> {
        manifest::load_all(self.sink.as_ref()).await.unwrap()
    }

    async fn in_store(&self) -> usize {
        store_versions(self.store()).await.len()
    }

    /// Checks the invariant and returns (versions in store, versions in archive).
    async fn check(&self, updated: &BTreeSet<String>) -> (usize, usize) {
        assert_nothing_lost_nothing_twice(self.store(), self.sink.as_ref(), &self.findings, updated)
            .await
    }

    /// Re-runs with healthy parts: the crashed run is finished, every finding is
    /// archived exactly once and gone from the store.
    async fn rerun_and_check(&self) {
        let report = run_archive(self.store(), self.sink.as_ref(), &options(), None)
            .await
            .expect("re-run succeeds");
        assert_eq!(report.recovered_runs.len(), 1, "{report:?}");
        assert_eq!(self.check(&BTreeSet::new()).await, (0, self.findings.len()));
        let ms = self.manifests().await;
        assert!(ms.iter().all(|m| m.status == RunStatus::Complete), "{ms:?}");
    }
}

async fn put_fails_on_part_3(sink: Arc<dyn ArchiveSink>) {
    let sc = Scenario::new(sink.clone()).await;
    let mut faulty = FaultySink::new(sink);
    faulty.fail_part_put = Some(3);
    let err = run_archive(sc.store(), &faulty, &options(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, ArchiveError::Sink(_)), "{err}");
    // Parts 1 and 2 are archived and deleted; the rest is still in the store.
    assert_eq!(sc.check(&BTreeSet::new()).await, (300, 100));
    sc.rerun_and_check().await;
    let ms = sc.manifests().await;
    let crashed = ms
        .iter()
        .find(|m| m.completed_by.is_some())
        .expect("the crashed run was completed by the re-run");
    assert_eq!(crashed.parts[2].state, PartState::Abandoned);
}

async fn crash_after_part_written_before_it_is_recorded(sink: Arc<dyn ArchiveSink>) {
    let sc = Scenario::new(sink.clone()).await;
    let mut faulty = FaultySink::new(sink);
    faulty.fail_manifest_after_part = Some(2);
    run_archive(sc.store(), &faulty, &options(), None)
        .await
        .unwrap_err();
    // Part 2 exists but the manifest still says "writing": its findings are in both.
    assert_eq!(sc.manifests().await[0].parts[1].state, PartState::Writing);
    assert_eq!(sc.in_store().await, 350);
    sc.rerun_and_check().await;
    assert_eq!(
        sc.manifests().await[0].parts[1].state,
        PartState::Deleted,
        "the written part is adopted, not rewritten"
    );
}

async fn crash_after_part_verified_before_delete(sink: Arc<dyn ArchiveSink>) {
    let sc = Scenario::new(sink).await;
    // Delete call 4 = the first batch of part 2 (50 findings / 20 per batch = 3 calls per part).
    let store = sc.faulty_store(DeleteFault::FailAll, vec![4]);
    let mut opts = options();
    opts.retry.max_attempts = 1;
    run_archive(&store, sc.sink.as_ref(), &opts, None)
        .await
        .unwrap_err();
    assert_eq!(sc.manifests().await[0].parts[1].state, PartState::Verified);
    assert_eq!(sc.in_store().await, 350);
    sc.rerun_and_check().await;
}

async fn delete_batch_failing_half_way_once_is_retried(sink: Arc<dyn ArchiveSink>) {
    let sc = Scenario::new(sink).await;
    let store = sc.faulty_store(DeleteFault::HalfThenFail, vec![2]);
    let report = run_archive(&store, sc.sink.as_ref(), &options(), None)
        .await
        .unwrap();
    assert_eq!(report.archived, 400);
    // The retried batch reports the half deleted before the failure as already gone.
    assert_eq!((report.deleted, report.kept), (390, 10));
    assert_eq!(sc.check(&BTreeSet::new()).await, (0, 400));
}

async fn delete_batch_failing_half_way_every_retry_is_finished_by_the_next_run(
    sink: Arc<dyn ArchiveSink>,
) {
    let sc = Scenario::new(sink).await;
    let store = sc.faulty_store(DeleteFault::HalfThenFail, vec![5, 6, 7]);
    let mut opts = options();
    opts.retry.max_attempts = 3;
    let err = run_archive(&store, sc.sink.as_ref(), &opts, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ArchiveError::DeleteFailed { .. }), "{err}");
    // Mid-failure: nothing lost, no duplicate, every archive object verified.
    let in_archive = archive_versions(sc.sink.as_ref()).await;
    let in_store = store_versions(sc.store()).await;
    assert_eq!(
        in_archive.union(&in_store).count(),
        400,
        "a finding was lost mid-failure"
    );
    sc.rerun_and_check().await;
}

async fn finding_updated_between_read_and_delete(sink: Arc<dyn ArchiveSink>) {
    let sc = Scenario::new(sink).await;
    let store = sc.faulty_store(DeleteFault::UpdateFirstBefore, vec![1]);
    let report = run_archive(&store, sc.sink.as_ref(), &options(), None)
        .await
        .unwrap();
    assert_eq!(
        (report.archived, report.deleted, report.kept),
        (400, 399, 1)
    );
    // Which finding was updated: the one now in the store.
    let left = store_versions(sc.store()).await;
    assert_eq!(left.len(), 1);
    let updated: BTreeSet<String> = left.iter().map(|(id, _)| id.clone()).collect();
    let id = updated.iter().next().unwrap();
    let kept = sc.store().get(id).await.unwrap().unwrap();
    assert_eq!(kept.finding.title, UPDATED_TITLE);
    // Its old version is archived, its new one is in the store.
    assert_eq!(sc.check(&updated).await, (1, 400));
    // It is no longer old: the next run leaves it alone.
    let again = run_archive(sc.store(), sc.sink.as_ref(), &options(), None)
        .await
        .unwrap();
    assert_eq!((again.archived, again.deleted), (0, 0));
    assert_eq!(sc.in_store().await, 1);
}

#[tokio::test]
async fn a_delete_the_store_refuses_for_good_is_not_retried_and_says_so() {
    let (_dir, sink) = local().await;
    let sc = Scenario::new(sink).await;
    let store = sc.faulty_store(DeleteFault::RefuseFirst { retryable: false }, vec![1]);
    let err = run_archive(&store, sc.sink.as_ref(), &options(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ArchiveError::DeleteFailed { remaining: 1, .. }),
        "{err}"
    );
    assert!(!err.is_retryable(), "{err}");
    assert!(err.to_string().contains("injected refusal"), "{err}");
    assert_eq!(store.delete_calls(), 1, "the refused delete was retried");
    sc.rerun_and_check().await;
}

#[tokio::test]
async fn a_delete_the_store_refuses_for_now_is_retried() {
    let (_dir, sink) = local().await;
    let sc = Scenario::new(sink).await;
    let store = sc.faulty_store(DeleteFault::RefuseFirst { retryable: true }, vec![1]);
    let report = run_archive(&store, sc.sink.as_ref(), &options(), None)
        .await
        .unwrap();
    assert_eq!(
        (report.archived, report.deleted, report.kept),
        (400, 400, 0)
    );
    // 8 parts of 50 findings, 3 batches each (20, 20, 10), and the one retry.
    assert_eq!(store.delete_calls(), 8 * 3 + 1);
    assert_eq!(sc.check(&BTreeSet::new()).await, (0, 400));
}

/// A process killed at any point: the run is dropped while waiting on sink call
/// number `k`, for every `k` a healthy run makes; a second run must then finish the
/// job. Covers crashes between intent and put, put and verify, verify and delete,
/// and delete and the final manifest.
async fn killed_at_every_sink_call_then_rerun(
    make_sink: impl Fn() -> (Option<tempfile::TempDir>, Arc<dyn ArchiveSink>),
) {
    // How many sink calls a healthy run makes (the crash points to try).
    let (_keep, sink) = make_sink();
    let sc = Scenario::new(sink.clone()).await;
    let counting = FaultySink::new(sink);
    run_archive(sc.store(), &counting, &options(), None)
        .await
        .unwrap();
    let total = counting.calls();
    assert!(total > 30, "only {total} sink calls");
    for k in 1..=total {
        let (_keep, sink) = make_sink();
        let sc = Scenario::new(sink.clone()).await;
        let mut faulty = FaultySink::new(sink);
        faulty.hang_at_call = Some(k);
        let hung = faulty.hung.clone();
        let opts = options();
        tokio::select! {
            r = run_archive(sc.store(), &faulty, &opts, None) => {
                panic!("crash point {k} of {total} never reached: {r:?}")
            }
            _ = hung.notified() => {}
        }
        let report = run_archive(sc.store(), sc.sink.as_ref(), &options(), None)
            .await
            .unwrap_or_else(|e| panic!("re-run after a crash at sink call {k}: {e}"));
        assert!(report.recovered_runs.len() <= 1, "{report:?}");
        assert_eq!(
            sc.check(&BTreeSet::new()).await,
            (0, 400),
            "after a crash at sink call {k}"
        );
    }
}

#[tokio::test]
async fn killed_at_every_sink_call_then_rerun_local_dir() {
    killed_at_every_sink_call_then_rerun(|| {
        let dir = tempfile::tempdir().unwrap();
        let sink: Arc<dyn ArchiveSink> = Arc::new(LocalDirSink::new(dir.path().join("a")));
        (Some(dir), sink)
    })
    .await;
}

async fn local() -> (tempfile::TempDir, Arc<dyn ArchiveSink>) {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(LocalDirSink::new(dir.path().join("archive")));
    (dir, sink)
}

macro_rules! on_both_sinks {
    ($($scenario:ident),* $(,)?) => {
        mod local_dir {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let (_dir, sink) = super::local().await;
                    super::$scenario(sink).await;
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let Some(endpoint) = super::s3_endpoint(stringify!($scenario)) else { return };
                    super::$scenario(super::s3_sink(&endpoint, "faults").await).await;
                }
            )*
        }
    };
}

on_both_sinks!(
    put_fails_on_part_3,
    crash_after_part_written_before_it_is_recorded,
    crash_after_part_verified_before_delete,
    delete_batch_failing_half_way_once_is_retried,
    delete_batch_failing_half_way_every_retry_is_finished_by_the_next_run,
    finding_updated_between_read_and_delete,
);

#[tokio::test]
async fn a_second_local_run_while_one_works_is_refused_then_runs_after_it() {
    let (_dir, sink) = local().await;
    let sc = Scenario::new(sink.clone()).await;
    // Another process's run (here: the lock taken directly) holds the archive.
    let held = sink.lock_runs().await.expect("first lock");
    let err = run_archive(sc.store(), sink.as_ref(), &options(), None)
        .await
        .expect_err("second run refused");
    assert!(
        matches!(err, ArchiveError::Sink(cspm::archive::SinkError::Busy(_))),
        "{err}"
    );
    assert!(err.is_retryable(), "{err}");
    assert_eq!(sc.in_store().await, sc.findings.len(), "nothing touched");
    drop(held);
    let report = run_archive(sc.store(), sink.as_ref(), &options(), None)
        .await
        .expect("runs once the lock is free");
    assert_eq!(report.archived as usize, sc.findings.len());
    assert_eq!(sc.check(&BTreeSet::new()).await, (0, sc.findings.len()));
    let keys = sink.list("").await.unwrap();
    assert!(
        keys.iter()
            .all(|k| k.starts_with("findings/") || k.starts_with("manifests/")),
        "the lock file is not an archive object: {keys:?}"
    );
}
