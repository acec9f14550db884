//! DynamoDB implementation of the [`Store`] port (the AWS deployment).
//!
//! Layout (see `docs/dynamodb.md`): partition key `id`; GSI `SeverityTimestampIndex`
//! (hash `severity`, range `updated_at`, INCLUDE projection [`item::LIST_PROJECTION`]);
//! TTL attribute `expires_at`; summary counter items `#counts#NN` and view counter
//! items `#views#NN.P` in the same table (they have no `severity`, so the sparse
//! GSI never sees them).
//!
//! Writes are read-then-conditional-write: the stored version is read, the
//! newer-wins decision is made, and the write is conditioned on the revision read
//! (and on `updated_at` still being older), so DynamoDB itself rejects a write that
//! lost a race; the loser re-reads and decides again. A batch reads its stored
//! versions together and writes the findings of one counter shard in one
//! transaction ([`upsert_batch`]).

/// Dropping tallies that netted to zero.
mod compact;
/// Compliance results per control kept on write.
pub mod controls;
/// Reading the compliance results kept per control.
mod controls_read;
/// How many findings a view matches.
mod count;
/// Summary counters kept on write.
pub mod counters;
/// Paging cursors over the severity partitions.
pub mod cursor;
/// What a DynamoDB error means (retry, condition failed, give up) and how it reads.
pub mod error;
/// Findings per generator, severity and status, kept on write.
pub mod generators;
/// Grouping a view: view counters where they answer, a bounded read otherwise.
mod groups;
/// Item layout.
pub mod item;
/// How a list request reads the index: filter, budget, partitions, start.
mod listing;
/// Counter items in parts per shard, of tallies and labels (controls, generators).
mod parted;
/// Merged, budgeted reads of the severity/time index.
pub mod query;
/// Consistent reads of whole items (GetItem, BatchGetItem).
mod read;
/// Rebuilding the counter items from the findings (`cspm recount`).
pub mod recount;
/// The resource half of a recount: resource items rebuilt, findings marked.
mod recount_resources;
/// The compliance half of a recount: results filled in, failing rows fixed.
mod recount_results;
/// Findings per resource, severity and status, kept on write, and their ranking.
pub mod resources;
/// Table creation (tests, local use against an emulator).
pub mod schema;
/// Daily compliance snapshot items (`#compliance#YYYY-MM-DD`).
pub mod snapshot;
/// Grouping by resource down the ranking index.
mod top_resources;
/// The counter updates and compliance rows a write's transaction carries.
mod tx_actions;
/// Batched upserts: one read for up to 100 findings, one transaction per counter shard.
mod upsert_batch;
/// One finding's upsert: the plan over its stored head, and the one-finding path.
mod upsert_one;
/// View counters: findings per combination of the list's equality filters.
pub mod views;
/// The write paths: upsert, workflow changes, conditional deletes.
mod write;

use crate::retry::Backoff;
use crate::store::guard::Guarded;
use crate::store::{
    ArchiveCandidate, ArchivePage, DeleteReport, FindingVersion, Origin, ScoreSnapshot, Store,
    StoreError, StoreResult, UpsertReport, ViewCount,
};
use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use error::Call;
use item::{sort_key, FindingItem, ListRow};
use query::{Filter, IndexQuery, Keyed};
use serde_dynamo::aws_sdk_dynamodb_1::from_item;
use shared_types::{
    Finding, FindingDetail, FindingFilter, FindingGroups, FindingPage, GroupBy, Severity, Summary,
    WorkflowUpdate,
};
use std::collections::HashMap;

/// Name of the severity/time GSI.
pub const INDEX_NAME: &str = "SeverityTimestampIndex";
/// Name of the severity/change-time GSI (a live `resume` on AWS).
pub const CHANGE_INDEX_NAME: &str = "SeverityChangeIndex";
/// How many findings of one batch are written at the same time.
pub const WRITE_CONCURRENCY: usize = 16;
/// Days TTL waits after the archive cutoff before it may drop an item.
pub const TTL_MARGIN_DAYS: i64 = 30;

/// Settings of a [`DynamoStore`].
#[derive(Debug, Clone)]
pub struct DynamoSettings {
    /// Table name.
    pub table: String,
    /// Hot retention (archive cutoff); TTL is set [`TTL_MARGIN_DAYS`] after it.
    pub retention_days: u32,
    /// Retry policy for throttling and transient errors.
    pub backoff: Backoff,
    /// Findings written concurrently per batch.
    pub concurrency: usize,
    /// Index entries one list request may read (`None`: [`ReadBudget::for_limit`]).
    pub read_budget: Option<u32>,
    /// Index entries one count may read for `q`/`since`/`until` (`None`:
    /// [`crate::store::count::SCAN_ROWS`]); tests lower it to reach estimates
    /// with few findings.
    pub count_budget: Option<u32>,
}

impl DynamoSettings {
    /// Defaults for `table` whose findings are archived after `retention_days`.
    pub fn new(table: impl Into<String>, retention_days: u32) -> DynamoSettings {
        DynamoSettings {
            table: table.into(),
            retention_days,
            backoff: Backoff::default(),
            concurrency: WRITE_CONCURRENCY,
            read_budget: None,
            count_budget: None,
        }
    }
}

/// The DynamoDB store.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    settings: DynamoSettings,
}

fn corrupt(id: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        id: id.to_string(),
        reason: e.to_string(),
    }
}

impl Keyed for ListRow {
    fn key(&self) -> cursor::Key {
        cursor::Key {
            u: self.updated_at.clone(),
            id: self.id.clone(),
        }
    }
}

/// Just the keys of an index entry (archive candidates are then read in full).
#[derive(serde::Deserialize)]
struct KeyRow {
    id: String,
    updated_at: String,
}

impl Keyed for KeyRow {
    fn key(&self) -> cursor::Key {
        cursor::Key {
            u: self.updated_at.clone(),
            id: self.id.clone(),
        }
    }
}

impl DynamoStore {
    /// A store over an existing table.
    pub fn new(client: aws_sdk_dynamodb::Client, settings: DynamoSettings) -> DynamoStore {
        DynamoStore { client, settings }
    }

    /// The SDK client (tests use it to inspect the table).
    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    /// Table name.
    pub fn table(&self) -> &str {
        &self.settings.table
    }

    /// `expires_at` for a version written now: after the archive cutoff plus a margin,
    /// counted from whichever is later of now and the finding's own update time.
    fn expires_at(&self, updated_at: DateTime<Utc>) -> i64 {
        let from = updated_at.max(Utc::now());
        (from + Duration::days(self.settings.retention_days as i64 + TTL_MARGIN_DAYS)).timestamp()
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn upsert_from(&self, findings: &[Finding], origin: Origin) -> StoreResult<UpsertReport> {
        upsert_batch::upsert_all(self, findings, origin).await
    }

    async fn get(&self, id: &str) -> StoreResult<Option<FindingDetail>> {
        if id.is_empty() || id.starts_with('#') {
            return Ok(None);
        }
        match self.get_item(id).await? {
            Some(item) => item.detail().map(Some).map_err(|e| corrupt(id, e)),
            None => Ok(None),
        }
    }

    async fn list(
        &self,
        filter: &FindingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<FindingPage> {
        let limit = limit.clamp(1, shared_types::MAX_LIMIT);
        let parts = Self::partitions(filter);
        let query_id = cursor::fingerprint("list", filter);
        let start = Self::start_positions(cursor, &query_id, &parts)?;
        let q = IndexQuery {
            client: &self.client,
            table: &self.settings.table,
            descending: true,
            lower: filter.since.map(sort_key),
            // `until` is exclusive; keys have microsecond resolution.
            upper: filter
                .until
                .map(|u| sort_key(u - Duration::microseconds(1))),
            filter: Self::list_filter(filter)?,
            projection: None,
            backoff: self.settings.backoff,
        };
        let merged = q
            .page::<ListRow>(start, limit as usize, self.budget(limit))
            .await?;
        Ok(FindingPage {
            items: merged.rows.into_iter().map(Into::into).collect(),
            next_cursor: merged.next.map(|p| cursor::encode(&query_id, &p)),
            total: None,
            total_is_exact: None,
        })
    }

    async fn count(&self, filter: &FindingFilter) -> StoreResult<ViewCount> {
        self.view_count(filter).await
    }

    async fn groups(
        &self,
        filter: &FindingFilter,
        by: GroupBy,
        limit: u32,
    ) -> StoreResult<FindingGroups> {
        self.view_groups(filter, by, limit).await
    }

    async fn control_results(
        &self,
        failing_of: Option<&str>,
    ) -> StoreResult<Option<Vec<crate::store::control_rows::ControlRow>>> {
        self.control_rows(failing_of).await
    }

    async fn failing_findings(
        &self,
        slug: &str,
        control_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Option<Vec<String>>> {
        self.failing_finding_ids(slug, control_id, after, limit)
            .await
    }

    async fn summary(&self, today: NaiveDate) -> StoreResult<Summary> {
        let shards = self
            .batch_get_items(&counters::all_shard_ids(), None)
            .await?
            .into_iter()
            .map(|mut item| {
                item.remove("id");
                from_item::<HashMap<String, i64>>(item).map_err(|e| corrupt("#counts", e))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(counters::summarize(&shards, today))
    }

    async fn set_workflow_if(
        &self,
        id: &str,
        update: &WorkflowUpdate,
        actor: &str,
        at: DateTime<Utc>,
        guard: Option<&FindingFilter>,
    ) -> StoreResult<Guarded> {
        if id.is_empty() || id.starts_with('#') {
            return Ok(Guarded::Unknown);
        }
        write::set_workflow(self, id, update, actor, at, guard).await
    }

    async fn archive_candidates(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<ArchivePage> {
        let limit = limit.clamp(1, shared_types::MAX_LIMIT);
        let parts = Severity::ALL_DESC.to_vec();
        let query_id = cursor::fingerprint("archive", &cutoff);
        let start = Self::start_positions(cursor, &query_id, &parts)?;
        let q = IndexQuery {
            client: &self.client,
            table: &self.settings.table,
            descending: false,
            lower: None,
            upper: Some(sort_key(cutoff - Duration::microseconds(1))),
            filter: Filter::default(),
            projection: Some(&["id", "updated_at"]),
            backoff: self.settings.backoff,
        };
        let merged = q
            .page::<KeyRow>(start, limit as usize, self.budget(limit))
            .await?;
        let ids: Vec<String> = merged.rows.iter().map(|r| r.id.clone()).collect();
        let mut by_id: HashMap<String, FindingItem> = self
            .batch_get(&ids)
            .await?
            .into_iter()
            .map(|i| (i.id.clone(), i))
            .collect();
        let mut candidates = Vec::with_capacity(ids.len());
        for id in &ids {
            // An item deleted or updated between the index read and the batch read is
            // left out: a newer version is no longer a candidate, a deleted one is gone.
            if let Some(item) = by_id.remove(id) {
                if item.updated_exact < cutoff {
                    let f = item.finding().map_err(|e| corrupt(id, e))?;
                    candidates
                        .push(ArchiveCandidate::of(&f).map_err(|e| corrupt(id, e.to_string()))?);
                }
            }
        }
        Ok(ArchivePage {
            candidates,
            next_cursor: merged.next.map(|p| cursor::encode(&query_id, &p)),
        })
    }

    async fn delete_versions(&self, versions: &[FindingVersion]) -> StoreResult<DeleteReport> {
        write::delete_all(self, versions).await
    }

    async fn put_compliance_snapshot(
        &self,
        day: NaiveDate,
        scores: &[ScoreSnapshot],
    ) -> StoreResult<bool> {
        self.put_snapshot(day, scores).await
    }

    async fn compliance_snapshots(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<ScoreSnapshot>> {
        self.snapshots(from, to).await
    }

    async fn compact_counters(&self) -> StoreResult<u64> {
        let report = self.drop_zero_tallies().await?;
        let emptied = self.drop_empty_resources().await?;
        if emptied > 0 {
            tracing::info!(resources = emptied, "emptied resource items deleted");
        }
        if report.raced > 0 {
            tracing::info!(
                kept = report.raced,
                "zero tallies moved by a write during compaction: kept until the next run"
            );
        }
        Ok(report.removed)
    }

    async fn ping(&self) -> StoreResult<()> {
        // A GetItem of one counter item: allowed by the Lambdas' IAM policy (unlike
        // DescribeTable) and it proves the table answers reads.
        self.client
            .get_item()
            .table_name(&self.settings.table)
            .set_key(Some(Self::id_key(&counters::all_shard_ids()[0])?))
            .projection_expression("#id")
            .expression_attribute_names("#id", "id")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Call::new("GetItem", &self.settings.table).store_error(e))
    }
}
