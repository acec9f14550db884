//! The SQLite store: one database file in the data dir, WAL mode, one writer
//! connection and a small pool of readers so API reads never wait on ingest.
//!
//! Calls run on tokio's blocking pool: SQLite is synchronous and must not stall
//! the async workers.

mod changes;
mod checkpoint;
mod compliance_fold;
mod compliance_read;
mod connect;
mod convert;
mod count;
mod counters;
mod doc;
mod error;
mod group_counts;
mod group_read;
mod groups;
mod list;
mod migrate;
mod pool;
mod resource_counts;
mod resource_index;
mod row;
mod snapshot;
mod steps;
mod summary;
mod top_resources;
mod walk;
mod write;

use super::{
    ArchivePage, Change, ChangeFeed, DeleteReport, FindingPages, FindingVersion, FullPage, Origin,
    ScoreSnapshot, Store, StoreError, StoreResult, UpsertReport, ViewCount,
};
use crate::store::guard::Guarded;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use pool::Pool;
use rusqlite::Connection;
use shared_types::{
    FindingDetail, FindingFilter, FindingGroups, FindingPage, GroupBy, Summary, WorkflowUpdate,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// File name of the database inside the data dir.
pub const DB_FILE: &str = "cspm.db";

const SCHEMA: &str = include_str!("schema.sql");

/// Findings kept in a SQLite file (WAL mode).
#[derive(Clone)]
pub struct SqliteStore {
    pool: Arc<Pool>,
    /// Bumped after every commit that may have recorded changes (feed wake-ups).
    written: Arc<tokio::sync::watch::Sender<u64>>,
    /// Rows a count may read for `q`/`since`/`until` (see store/count.rs).
    count_rows: u64,
    /// Thousands of VM instructions an exact count of a time window may take
    /// (sqlite/count.rs); 0: never tried.
    count_steps: u64,
    /// Rows a grouping may read when no counter answers it (store/groups.rs).
    group_rows: u64,
    /// Thousands of VM instructions a grouping by resource may walk the
    /// ranking before summing counters (sqlite/top_resources.rs); 0: never.
    walk_steps: u64,
    /// Findings one compliance fold transaction refreshes at most
    /// (compliance_fold.rs).
    fold_batch: u32,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.pool.path)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) `cspm.db` in `data_dir`.
    pub fn open_dir(data_dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Backend(Box::new(e)))?;
        Self::open(&data_dir.join(DB_FILE))
    }

    /// Opens (creating if needed) the database file at `path` and applies the schema.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let mut conn = connect::connect(path)?;
        // The writer's own checkpoint bounds the WAL (32 MB); the checkpoint thread
        // (checkpoint.rs) does most of the copying before it fires. (A larger writer
        // cache helped ingest a little but pushed archival past its 200 MB budget.)
        conn.pragma_update(None, "wal_autocheckpoint", 32_768)?;
        conn.execute_batch(SCHEMA)?;
        migrate::migrate(&mut conn)?;
        Ok(SqliteStore {
            pool: Arc::new(Pool::new(PathBuf::from(path), conn)?),
            written: Arc::new(tokio::sync::watch::channel(0).0),
            count_rows: super::count::SCAN_ROWS,
            count_steps: count::EXACT_STEPS,
            group_rows: super::groups::GROUP_SCAN_ROWS,
            walk_steps: top_resources::WALK_STEPS,
            fold_batch: compliance_fold::FOLD_FINDINGS,
        })
    }

    /// The store reading at most `rows` rows per count of a `q`/`since`/`until`
    /// filter instead of [`super::count::SCAN_ROWS`]: tests reach estimates with
    /// few findings.
    pub fn with_count_rows(mut self, rows: u64) -> Self {
        self.count_rows = rows;
        self
    }

    /// The store never counting a time window exactly beyond what its bounded
    /// read reaches: tests of the estimates need time windows estimated.
    pub fn without_exact_time_counts(mut self) -> Self {
        self.count_steps = 0;
        self
    }

    /// The store reading at most `rows` findings per grouping no counter
    /// answers instead of [`super::groups::GROUP_SCAN_ROWS`] (tests).
    pub fn with_group_rows(mut self, rows: u64) -> Self {
        self.group_rows = rows;
        self
    }

    /// The store grouping by resource by summing every resource's counters,
    /// never through the ranking: tests compare the two answers.
    pub fn without_rank_walk(mut self) -> Self {
        self.walk_steps = 0;
        self
    }

    /// The store folding compliance results `n` findings per transaction
    /// instead of [`compliance_fold::FOLD_FINDINGS`]: tests interleave writes
    /// with a rebuild of a few findings.
    pub fn with_fold_batch(mut self, n: u32) -> Self {
        self.fold_batch = n.max(1);
        self
    }

    /// Folds every per-resource change written so far into the resource
    /// counters (resource_counts.rs), in transactions of at most
    /// [`resource_counts::FOLD_ROWS`] changes; returns how many it folded.
    /// Groupings do this themselves; `cspm serve` also calls it every few
    /// seconds so theirs is small.
    pub async fn fold_resource_counts(&self) -> StoreResult<u64> {
        self.fold_until_done(|c| resource_counts::fold(c, resource_counts::FOLD_ROWS))
            .await
    }

    /// Folds every change written so far into the compliance results kept per
    /// control (compliance_fold.rs; on a file never folded, a read of every
    /// finding), in transactions of at most [`compliance_fold::FOLD_FINDINGS`]
    /// findings; returns the work done. Compliance reports do this themselves;
    /// `cspm serve` also calls it every few seconds so theirs is small.
    pub async fn fold_compliance(&self) -> StoreResult<u64> {
        let batch = self.fold_batch;
        self.fold_until_done(move |c| compliance_fold::fold(c, batch))
            .await
    }

    /// One transaction of [`Self::fold_compliance`]'s work (tests stop a
    /// rebuild half-way with it); returns the work done, 0 when caught up.
    pub async fn fold_compliance_once(&self) -> StoreResult<u64> {
        let batch = self.fold_batch;
        self.write(move |c| compliance_fold::fold(c, batch)).await
    }

    /// Runs `step` (one write transaction each) until it does nothing.
    async fn fold_until_done(
        &self,
        step: impl Fn(&mut Connection) -> StoreResult<u64> + Send + 'static,
    ) -> StoreResult<u64> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut done = 0;
            loop {
                let n = pool.with_writer(&step)?;
                if n == 0 {
                    return Ok(done);
                }
                done += n;
            }
        })
        .await
        .map_err(|e| StoreError::Backend(Box::new(e)))?
    }

    /// Folds resource counters and compliance results every `period` in the
    /// background (logging a failure and trying again next time), so a
    /// grouping or a compliance report finds little to fold.
    pub fn spawn_folding(&self, period: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(period);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                if let Err(e) = store.fold_resource_counts().await {
                    tracing::warn!(error = %e, "folding resource counters failed; trying again");
                }
                if let Err(e) = store.fold_compliance().await {
                    tracing::warn!(error = %e, "folding compliance results failed; trying again");
                }
            }
        })
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.pool.path
    }

    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || pool.with_reader(f))
            .await
            .map_err(|e| StoreError::Backend(Box::new(e)))?
    }

    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        let out = tokio::task::spawn_blocking(move || pool.with_writer(f))
            .await
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        self.written.send_modify(|n| *n = n.wrapping_add(1));
        out
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn upsert_from(
        &self,
        findings: &[shared_types::Finding],
        origin: Origin,
    ) -> StoreResult<UpsertReport> {
        let rows = findings
            .iter()
            .map(row::Row::new)
            .collect::<StoreResult<Vec<_>>>()?;
        self.write(move |c| write::upsert(c, &rows, origin)).await
    }

    async fn get(&self, id: &str) -> StoreResult<Option<FindingDetail>> {
        let id = id.to_string();
        self.read(move |c| convert::get_detail(c, &id)).await
    }

    async fn list(
        &self,
        filter: &FindingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<FindingPage> {
        let filter = filter.clone();
        let cursor = cursor.map(str::to_string);
        self.read(move |c| list::list(c, &filter, limit, cursor.as_deref()))
            .await
    }

    async fn list_findings(
        &self,
        filter: &FindingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<FullPage> {
        let filter = filter.clone();
        let cursor = cursor.map(str::to_string);
        let (rows, next_cursor) = self
            .read(move |c| list::list_findings(c, &filter, limit, cursor.as_deref()))
            .await?;
        Ok(FullPage {
            findings: list::decode_rows(rows, true).await?,
            next_cursor,
        })
    }

    fn finding_pages(
        self: Arc<Self>,
        filter: FindingFilter,
        page: u32,
        with_raw: bool,
    ) -> FindingPages {
        walk::finding_pages(self.pool.path.clone(), filter, page, with_raw)
    }

    async fn summary(&self, today: NaiveDate) -> StoreResult<Summary> {
        self.read(move |c| summary::summary(c, today)).await
    }

    async fn count(&self, filter: &FindingFilter) -> StoreResult<ViewCount> {
        let (filter, rows, steps) = (filter.clone(), self.count_rows, self.count_steps);
        self.read(move |c| count::count(c, &filter, rows, steps))
            .await
    }

    async fn groups(
        &self,
        filter: &FindingFilter,
        by: GroupBy,
        limit: u32,
    ) -> StoreResult<FindingGroups> {
        let budget = groups::Budget {
            rows: self.group_rows,
            walk_steps: self.walk_steps,
        };
        group_read::groups(self, filter, by, limit, budget).await
    }

    async fn set_workflow_if(
        &self,
        id: &str,
        update: &WorkflowUpdate,
        actor: &str,
        at: DateTime<Utc>,
        guard: Option<&FindingFilter>,
    ) -> StoreResult<Guarded> {
        let (id, update, actor) = (id.to_string(), update.clone(), actor.to_string());
        let guard = guard.cloned();
        self.write(move |c| write::set_workflow(c, &id, &update, &actor, at, guard.as_ref()))
            .await
    }

    async fn archive_candidates(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<ArchivePage> {
        let cursor = cursor.map(str::to_string);
        self.read(move |c| list::archive_candidates(c, cutoff, limit, cursor.as_deref()))
            .await
    }

    async fn delete_versions(&self, versions: &[FindingVersion]) -> StoreResult<DeleteReport> {
        let versions = versions.to_vec();
        self.write(move |c| write::delete_versions(c, &versions))
            .await
    }

    async fn put_compliance_snapshot(
        &self,
        day: NaiveDate,
        scores: &[ScoreSnapshot],
    ) -> StoreResult<bool> {
        let scores = scores.to_vec();
        self.write(move |c| snapshot::put(c, day, &scores)).await
    }

    async fn compliance_snapshots(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<ScoreSnapshot>> {
        self.read(move |c| snapshot::range(c, from, to)).await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| {
            c.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }

    async fn version(&self) -> StoreResult<Option<String>> {
        // Every write that changes a finding records a change in its own
        // transaction, so the head moves with any finding, from any process.
        // The file's inode tells a file put in its place (a restored copy)
        // from the one whose head this was.
        let head = self.read(changes::head).await?;
        let file = file_identity(self.path());
        Ok(Some(format!("{}#{file}#{head}", self.path().display())))
    }

    async fn control_results(
        &self,
        failing_of: Option<&str>,
    ) -> StoreResult<Option<Vec<super::control_rows::ControlRow>>> {
        compliance_read::control_results(self, failing_of.map(str::to_owned)).await
    }

    async fn failing_findings(
        &self,
        slug: &str,
        control_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Option<Vec<String>>> {
        let page = compliance_read::FailingPage {
            slug: slug.to_owned(),
            control_id: control_id.to_owned(),
            after: after.map(str::to_owned),
            limit,
        };
        compliance_read::failing_findings(self, page).await
    }
}

#[async_trait]
impl ChangeFeed for SqliteStore {
    async fn changes_after(&self, after: u64, limit: u32) -> StoreResult<Vec<Change>> {
        self.read(move |c| changes::read_after(c, after, limit))
            .await
    }

    async fn head(&self) -> StoreResult<u64> {
        self.read(changes::head).await
    }

    fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.written.subscribe()
    }

    async fn trim(&self, upto: u64, before: DateTime<Utc>) -> StoreResult<u64> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            // A change the compliance fold has not read yet must not go unseen.
            let upto_seq = i64::try_from(upto).unwrap_or(i64::MAX);
            compliance_fold::before_trim(&tx, upto_seq, convert::micros(before))?;
            let n = changes::trim(&tx, upto, before)?;
            tx.commit()?;
            Ok(n)
        })
        .await
    }
}

/// The inode of the file at `path` (0 where there is none to read).
fn file_identity(path: &Path) -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).map(|m| m.ino()).unwrap_or(0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        0
    }
}
