//! Fixtures and fault injection for the archive tests.

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, TimeZone, Utc};
use cspm::archive::manifest;
use cspm::archive::writer::versions_of;
use cspm::archive::{ArchiveSink, ObjectKind, SinkError, SinkResult};
use cspm::sources::security_hub::normalize_finding;
use cspm::store::guard::Guarded;
use cspm::store::{
    ArchivePage, DeleteReport, FindingVersion, SqliteStore, Store, StoreResult, UpsertReport,
};
use serde_json::json;
use shared_types::{Finding, FindingDetail, FindingFilter, FindingPage, Summary, WorkflowUpdate};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// `(id, updated_at)`: the archived identity of a finding.
pub type Version = (String, DateTime<Utc>);

/// Real ASFF findings from the shared corpus that the Security Hub source accepts.
pub fn corpus_docs() -> Vec<serde_json::Value> {
    let dir = crate::helpers::corpus_dir().join("asff");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("shared corpus next to the project")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let docs: Vec<serde_json::Value> = files
        .iter()
        .filter_map(|p| serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok())
        .filter(|v: &serde_json::Value| normalize_finding(v).is_ok())
        .collect();
    assert!(
        docs.len() >= 10,
        "too few usable corpus findings in {dir:?}"
    );
    docs
}

/// `n` findings normalized from real corpus documents (each given its own `Id` and
/// `UpdatedAt`), `updated_at` spread over `days` days ending 200 days before now
/// (all older than a 90-day retention), with sub-second fractions so timestamp
/// precision is exercised.
pub fn old_findings(n: usize, days: i64) -> Vec<Finding> {
    let docs = corpus_docs();
    // 23:30 on a day 200 days back; offsets stay under 22 hours so each finding's
    // day is exactly `end - i % days` and the per-day counts are predictable.
    let day = (Utc::now() - Duration::days(200)).date_naive();
    let end = day.and_hms_opt(23, 30, 0).unwrap_or_default().and_utc();
    (0..n)
        .map(|i| {
            let mut raw = docs[i % docs.len()].clone();
            let updated_at = end
                - Duration::days(i as i64 % days)
                - Duration::microseconds((i as i64 * 7_919_311) % 79_200_000_000);
            let id = format!("{}#{i}", raw["Id"].as_str().unwrap_or("x"));
            let ts = |t: DateTime<Utc>| json!(t.to_rfc3339_opts(SecondsFormat::Micros, true));
            raw["Id"] = json!(id);
            raw["UpdatedAt"] = ts(updated_at);
            raw["CreatedAt"] = ts(updated_at - Duration::days(3));
            let f = normalize_finding(&raw).expect("corpus finding normalizes");
            assert_eq!(f.updated_at, updated_at);
            f
        })
        .collect()
}

/// A fresh real `SqliteStore` on a temporary file (the directory lives as long as
/// the store).
pub struct TestStore {
    pub store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

pub fn new_store() -> TestStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("findings.db")).expect("open SQLite store");
    TestStore {
        store: Arc::new(store),
        _dir: dir,
    }
}

/// Every version in the store (through the archive index with a cutoff far ahead).
pub async fn store_versions(store: &dyn Store) -> BTreeSet<Version> {
    let far = Utc.with_ymd_and_hms(9000, 1, 1, 0, 0, 0).unwrap();
    let mut out = BTreeSet::new();
    let mut cursor = None;
    loop {
        let page = store
            .archive_candidates(far, 997, cursor.as_deref())
            .await
            .expect("candidates");
        out.extend(page.candidates.iter().map(|c| (c.id.clone(), c.updated_at)));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

/// Every version in every part object under `findings/` (listed or not by a manifest),
/// failing the test if a version appears twice or an object is not a verified part.
pub async fn archive_versions(sink: &dyn ArchiveSink) -> BTreeSet<Version> {
    let manifests = manifest::load_all(sink).await.expect("manifests");
    let verified: BTreeMap<String, String> = manifests
        .iter()
        .flat_map(|m| &m.parts)
        .filter(|p| p.is_verified())
        .map(|p| (p.key.clone(), p.sha256.clone()))
        .collect();
    let mut out = BTreeSet::new();
    for key in sink.list("findings/").await.expect("list") {
        let sha = verified.get(&key).unwrap_or_else(|| {
            panic!("{key} is in the archive but no manifest lists it as verified")
        });
        let body = sink
            .get(&key)
            .await
            .expect("get")
            .expect("listed object exists");
        assert_eq!(
            &cspm::archive::writer::sha256_hex(&body),
            sha,
            "{key} does not match its manifest"
        );
        for v in versions_of(&body).expect("part decodes") {
            let dt = cspm::archive::layout::dt_of_part_key(&key).expect("part key has dt");
            assert_eq!(
                v.updated_at.date_naive(),
                dt,
                "{} is in the wrong dt partition",
                v.id
            );
            assert!(
                out.insert((v.id.clone(), v.updated_at)),
                "version {v:?} archived twice"
            );
        }
    }
    out
}

/// Asserts that every finding of `original` is in exactly one of store and archive,
/// except the `updated` ones, whose old version may be archived while the new one is
/// in the store; and that no version is archived twice.
pub async fn assert_nothing_lost_nothing_twice(
    store: &dyn Store,
    sink: &dyn ArchiveSink,
    original: &[Finding],
    updated: &BTreeSet<String>,
) -> (usize, usize) {
    let in_store = store_versions(store).await;
    let in_archive = archive_versions(sink).await;
    let both: Vec<_> = in_store.intersection(&in_archive).collect();
    assert!(
        both.is_empty(),
        "versions both in store and archive: {both:?}"
    );
    for f in original {
        let v = (f.id.clone(), f.updated_at);
        let here = in_store.contains(&v) || in_archive.contains(&v);
        if updated.contains(&f.id) {
            assert!(
                in_store
                    .iter()
                    .any(|(id, t)| id == &f.id && *t > f.updated_at),
                "updated finding {} lost its new version",
                f.id
            );
        } else {
            assert!(here, "finding {} ({}) lost", f.id, f.updated_at);
        }
    }
    let store_ids: BTreeSet<_> = in_store.iter().map(|(id, _)| id.clone()).collect();
    let archive_ids: BTreeSet<_> = in_archive.iter().map(|(id, _)| id.clone()).collect();
    let in_both: BTreeSet<_> = store_ids.intersection(&archive_ids).cloned().collect();
    assert!(
        in_both.is_subset(updated),
        "ids both in store and archive: {in_both:?}"
    );
    let original_ids: BTreeSet<_> = original.iter().map(|f| f.id.clone()).collect();
    let union: BTreeSet<_> = store_ids.union(&archive_ids).cloned().collect();
    assert_eq!(union, original_ids, "ids appeared or vanished");
    (in_store.len(), in_archive.len())
}

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

/// S3 endpoint of the emulator, or `None` (after a loud skip line) when AWS tests
/// must skip; panics when `CI=true` (see [`crate::aws_env::endpoint`]).
pub fn s3_endpoint(test: &str) -> Option<String> {
    crate::aws_env::endpoint(test)
}

/// An S3 client on the emulator (path-style, static test credentials).
pub async fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    cspm::archive::S3Sink::client(&crate::aws_env::sdk_config(endpoint).await)
}

/// A fresh bucket on the emulator and a sink on it under `prefix`; with `kms_key`
/// the sink asks for SSE-KMS.
pub async fn s3_sink_with(
    endpoint: &str,
    prefix: &str,
    kms_key: Option<String>,
) -> Arc<dyn ArchiveSink> {
    let client = s3_client(endpoint).await;
    let bucket = crate::aws_env::unique("cspm-archive").to_lowercase();
    // Bucket names are at most 63 characters.
    let bucket: String = bucket.chars().take(63).collect();
    let bucket = bucket.trim_end_matches('-').to_owned();
    client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create bucket");
    let loc = format!("s3://{bucket}/{prefix}").parse().expect("location");
    Arc::new(cspm::archive::S3Sink::new(client, loc, kms_key))
}

/// A fresh bucket on the emulator and a sink on it under `prefix` (SSE-S3).
pub async fn s3_sink(endpoint: &str, prefix: &str) -> Arc<dyn ArchiveSink> {
    s3_sink_with(endpoint, prefix, None).await
}
