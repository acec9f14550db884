//! Fault injection for the archive tests: a sink and a store that fail, hang or
//! change findings on chosen calls, wrapping the real ones.

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use cspm::archive::{ArchiveSink, ObjectKind, SinkError, SinkResult};
use cspm::store::guard::Guarded;
use cspm::store::{ArchivePage, DeleteReport, FindingVersion, Store, StoreResult, UpsertReport};
use shared_types::{Finding, FindingDetail, FindingFilter, FindingPage, Summary, WorkflowUpdate};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Wraps a sink and fails chosen calls: the `n`th part put, or the first manifest
/// save after the `n`th part put (a "crash" between writing a part and recording it);
/// or never answers call number `hang_at_call` (any kind) and signals `hung`, so the
/// test can drop the run there like a killed process.
pub struct FaultySink {
    pub inner: Arc<dyn ArchiveSink>,
    pub fail_part_put: Option<usize>,
    pub fail_manifest_after_part: Option<usize>,
    pub hang_at_call: Option<usize>,
    pub hung: Arc<tokio::sync::Notify>,
    parts: AtomicUsize,
    calls: AtomicUsize,
    tripped: Mutex<bool>,
}

impl FaultySink {
    pub fn new(inner: Arc<dyn ArchiveSink>) -> Self {
        FaultySink {
            inner,
            fail_part_put: None,
            fail_manifest_after_part: None,
            hang_at_call: None,
            hung: Arc::new(tokio::sync::Notify::new()),
            parts: AtomicUsize::new(0),
            calls: AtomicUsize::new(0),
            tripped: Mutex::new(false),
        }
    }

    /// Calls made so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    async fn maybe_hang(&self) {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if self.hang_at_call == Some(n) {
            self.hung.notify_one();
            std::future::pending::<()>().await;
        }
    }
}

#[async_trait]
impl ArchiveSink for FaultySink {
    fn location(&self) -> String {
        self.inner.location()
    }
    async fn put(&self, key: &str, body: Bytes, kind: ObjectKind) -> SinkResult<()> {
        self.maybe_hang().await;
        match kind {
            ObjectKind::Part => {
                let n = self.parts.fetch_add(1, Ordering::SeqCst) + 1;
                if self.fail_part_put == Some(n) {
                    return Err(SinkError::Injected(format!("put of part {n} fails")));
                }
            }
            ObjectKind::Manifest => {
                let parts = self.parts.load(Ordering::SeqCst);
                let mut tripped = self.tripped.lock().unwrap();
                if self.fail_manifest_after_part == Some(parts) && !*tripped {
                    *tripped = true;
                    return Err(SinkError::Injected(format!(
                        "crash after part {parts} was written"
                    )));
                }
            }
            // Export objects are not the archiver's; no faults for them here.
            ObjectKind::Export(_) => {}
        }
        self.inner.put(key, body, kind).await
    }
    async fn get(&self, key: &str) -> SinkResult<Option<Bytes>> {
        self.maybe_hang().await;
        self.inner.get(key).await
    }
    async fn list(&self, prefix: &str) -> SinkResult<Vec<String>> {
        self.maybe_hang().await;
        self.inner.list(prefix).await
    }
    async fn lock_runs(&self) -> SinkResult<cspm::archive::RunLock> {
        self.inner.lock_runs().await
    }
}

/// Title of the version [`DeleteFault::UpdateFirstBefore`] writes.
pub const UPDATED_TITLE: &str = "updated while the archiver ran";

/// What the faulty store does on its `n`th `delete_versions` call.
#[derive(Clone)]
pub enum DeleteFault {
    /// Fails without deleting anything (a crash before the delete).
    FailAll,
    /// Deletes the first half, then fails (a batch failing half-way).
    HalfThenFail,
    /// Stores a newer version of the first finding of the batch (title
    /// [`UPDATED_TITLE`], updated an hour ago), then deletes normally.
    UpdateFirstBefore,
    /// Reports the first finding of the batch as failed (with this `retryable`)
    /// and deletes the others.
    RefuseFirst { retryable: bool },
}

/// Wraps a store and injects `fault` on the delete calls numbered in `on_calls`.
pub struct FaultyStore {
    pub inner: Arc<dyn Store>,
    pub fault: DeleteFault,
    pub on_calls: Vec<usize>,
    calls: AtomicUsize,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn Store>, fault: DeleteFault, on_calls: Vec<usize>) -> Self {
        FaultyStore {
            inner,
            fault,
            on_calls,
            calls: AtomicUsize::new(0),
        }
    }

    /// `delete_versions` calls so far.
    pub fn delete_calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn injected(msg: &str) -> cspm::store::StoreError {
    cspm::store::StoreError::Unavailable(format!("injected: {msg}"))
}

#[async_trait]
impl Store for FaultyStore {
    async fn upsert_from(
        &self,
        findings: &[Finding],
        origin: cspm::store::Origin,
    ) -> StoreResult<UpsertReport> {
        self.inner.upsert_from(findings, origin).await
    }
    async fn get(&self, id: &str) -> StoreResult<Option<FindingDetail>> {
        self.inner.get(id).await
    }
    async fn list(
        &self,
        filter: &FindingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<FindingPage> {
        self.inner.list(filter, limit, cursor).await
    }
    async fn summary(&self, today: NaiveDate) -> StoreResult<Summary> {
        self.inner.summary(today).await
    }
    async fn count(&self, filter: &FindingFilter) -> StoreResult<cspm::store::ViewCount> {
        self.inner.count(filter).await
    }
    async fn groups(
        &self,
        filter: &FindingFilter,
        by: shared_types::GroupBy,
        limit: u32,
    ) -> StoreResult<shared_types::FindingGroups> {
        self.inner.groups(filter, by, limit).await
    }
    async fn set_workflow_if(
        &self,
        id: &str,
        u: &WorkflowUpdate,
        actor: &str,
        at: DateTime<Utc>,
        guard: Option<&FindingFilter>,
    ) -> StoreResult<Guarded> {
        self.inner.set_workflow_if(id, u, actor, at, guard).await
    }
    async fn archive_candidates(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<ArchivePage> {
        self.inner.archive_candidates(cutoff, limit, cursor).await
    }
    async fn put_compliance_snapshot(
        &self,
        day: NaiveDate,
        scores: &[cspm::store::ScoreSnapshot],
    ) -> StoreResult<bool> {
        self.inner.put_compliance_snapshot(day, scores).await
    }
    async fn compliance_snapshots(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<cspm::store::ScoreSnapshot>> {
        self.inner.compliance_snapshots(from, to).await
    }
    async fn delete_versions(&self, versions: &[FindingVersion]) -> StoreResult<DeleteReport> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if !self.on_calls.contains(&n) {
            return self.inner.delete_versions(versions).await;
        }
        match &self.fault {
            DeleteFault::FailAll => Err(injected("delete batch fails")),
            DeleteFault::HalfThenFail => {
                let half = versions.len() / 2;
                self.inner.delete_versions(&versions[..half]).await?;
                Err(injected("delete batch fails half-way"))
            }
            DeleteFault::UpdateFirstBefore => {
                if let Some(first) = versions.first() {
                    let mut newer = self
                        .inner
                        .get(&first.id)
                        .await?
                        .expect("the finding being deleted is stored")
                        .finding;
                    newer.updated_at = Utc::now() - Duration::hours(1);
                    newer.title = UPDATED_TITLE.into();
                    let r = self.inner.upsert(&[newer]).await?;
                    assert!(r.failed.is_empty(), "{r:?}");
                }
                self.inner.delete_versions(versions).await
            }
            DeleteFault::RefuseFirst { retryable } => {
                let Some((first, rest)) = versions.split_first() else {
                    return self.inner.delete_versions(versions).await;
                };
                let mut report = self.inner.delete_versions(rest).await?;
                report.failed.push(cspm::store::FailedWrite {
                    id: first.id.clone(),
                    reason: "injected refusal".into(),
                    retryable: *retryable,
                });
                Ok(report)
            }
        }
    }
    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }
}
