//! The `Store` port: where findings live while they are hot. SQLite locally,
//! DynamoDB on AWS; both pass the one contract suite in `tests/store_contract.rs`.

/// What a customer can change in a provider version without a new `UpdatedAt`.
pub mod amendment;
/// The change record every write leaves behind.
pub mod change;
/// Compliance results a store keeps per control.
pub mod control_rows;
/// How many findings a view matches: exact from counters, or a bounded estimate.
pub mod count;
/// Opaque, validated paging cursors.
pub mod cursor;
/// The one decision on an incoming provider version (newer-wins + workflow rules).
pub mod decide;
/// A finding's stored document as zstd-compressed JSON (both stores).
pub mod doc_codec;
/// DynamoDB implementation (the AWS deployment).
#[cfg(feature = "aws")]
pub mod dynamo;
/// The dimensions the summary counters are kept on.
pub mod facets;
/// Reading the changes back (the change feed port).
pub mod feed;
/// FNV-1a 64, for hashes a store keeps.
pub mod fnv;
/// Grouping a view by generator, resource, account, region or resource type.
pub mod groups;
/// Workflow changes made only while a finding still matches a filter.
pub mod guard;
/// Walking a whole filtered set page by page (exports).
pub mod pages;
/// Daily compliance score snapshots (the compliance trend).
pub mod snapshot;
/// SQLite implementation (the local default).
pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use shared_types::{
    ChangeKind, Finding, FindingDetail, FindingFilter, FindingGroups, FindingPage, GroupBy,
    Severity, Summary, WorkflowStatus, WorkflowUpdate,
};
use std::sync::Arc;

pub use change::{Change, Origin};
pub use count::ViewCount;
#[cfg(feature = "aws")]
pub use dynamo::DynamoStore;
pub use feed::ChangeFeed;
pub use pages::FindingPages;
pub use snapshot::ScoreSnapshot;
pub use sqlite::SqliteStore;

/// What happened to one finding in an upsert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// It was not in the store.
    Inserted,
    /// A newer version replaced the stored one.
    Updated {
        /// Severity of the version replaced (alerts fire when severity rises).
        previous_severity: Severity,
        /// Workflow status of the version replaced.
        previous_status: WorkflowStatus,
        /// `Updated`, `Reopened` or `Resolved` (see [`decide::decide`]).
        kind: ChangeKind,
    },
    /// The same version (same provider `updated_at`) was already stored: nothing changed.
    Unchanged,
    /// The stored version is newer: the incoming one was ignored.
    SkippedOlder,
}

/// A finding that could not be written; the caller may retry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedWrite {
    /// Short id of the finding.
    pub id: String,
    /// Why it failed.
    pub reason: String,
    /// True when trying again later may succeed (throttling, timeouts).
    pub retryable: bool,
}

/// The result of an upsert batch: one outcome per written finding, in input order,
/// and the findings that could not be written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpsertReport {
    /// `(short id, outcome)` for every finding that was written or deliberately skipped.
    pub outcomes: Vec<(String, UpsertOutcome)>,
    /// Findings not written (nothing is silently lost).
    pub failed: Vec<FailedWrite>,
}

impl UpsertReport {
    /// Number of outcomes matching `pred`.
    pub fn count(&self, pred: impl Fn(&UpsertOutcome) -> bool) -> usize {
        self.outcomes.iter().filter(|(_, o)| pred(o)).count()
    }

    /// Appends another report (used when a big batch is written in chunks).
    pub fn merge(&mut self, other: UpsertReport) {
        self.outcomes.extend(other.outcomes);
        self.failed.extend(other.failed);
    }
}

/// Identifies one version of a record: archival deletes only the version it archived.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FindingVersion {
    /// Short id.
    pub id: String,
    /// The provider's `updated_at` of the version.
    pub updated_at: DateTime<Utc>,
    /// The record's revision (a workflow change moves it without moving
    /// `updated_at`). 0 means unknown — archive parts written before revisions
    /// existed — and then only `updated_at` is compared.
    pub revision: u64,
}

impl FindingVersion {
    /// True when a stored record at `(updated_at, revision)` is this version.
    pub fn matches(&self, updated_at: DateTime<Utc>, revision: u64) -> bool {
        self.updated_at.timestamp_micros() == updated_at.timestamp_micros()
            && (self.revision == 0 || self.revision == revision)
    }
}

/// Result of a conditional delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteReport {
    /// Deleted (they matched the given version).
    pub deleted: Vec<String>,
    /// Kept because they changed since they were read (or were already gone).
    pub kept: Vec<String>,
    /// Not processed because of an error; retry them.
    pub failed: Vec<FailedWrite>,
}

/// One archive candidate: its version and the whole finding (raw document
/// included) as one line of JSON, byte for byte what an archive part holds. Stores
/// that keep the JSON hand it over as is: no parse and re-serialize per finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveCandidate {
    /// Short id.
    pub id: String,
    /// `updated_at` of this version.
    pub updated_at: DateTime<Utc>,
    /// The record's revision.
    pub revision: u64,
    /// The finding as JSON (one line, no newline).
    pub json: String,
}

impl ArchiveCandidate {
    /// The candidate for `f`.
    pub fn of(f: &Finding) -> Result<Self, serde_json::Error> {
        Ok(ArchiveCandidate {
            id: f.id.clone(),
            updated_at: f.updated_at,
            revision: f.revision,
            json: serde_json::to_string(f)?,
        })
    }

    /// The finding it holds.
    pub fn finding(&self) -> Result<Finding, serde_json::Error> {
        serde_json::from_str(&self.json)
    }

    /// Its version, for the conditional delete.
    pub fn version(&self) -> FindingVersion {
        FindingVersion {
            id: self.id.clone(),
            updated_at: self.updated_at,
            revision: self.revision,
        }
    }
}

/// A page of archive candidates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArchivePage {
    /// Candidates, oldest `updated_at` first.
    pub candidates: Vec<ArchiveCandidate>,
    /// Where to continue; `None` when done.
    pub next_cursor: Option<String>,
}

/// A page of whole findings (raw document included), in the order and with the
/// cursors of [`Store::list`]: what an export reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FullPage {
    /// Findings, newest `updated_at` first (ties by id).
    pub findings: Vec<Finding>,
    /// Where to continue; `None` when done.
    pub next_cursor: Option<String>,
}

/// Errors a store can report. HTTP maps `InvalidCursor` to 400 and everything
/// else to 500/503 without showing the message.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The client's cursor is malformed, tampered with or from another query.
    #[error("invalid cursor: {0}")]
    InvalidCursor(&'static str),
    /// The backend is throttling or temporarily unreachable; retry later.
    #[error("store temporarily unavailable: {0}")]
    Unavailable(String),
    /// A stored record could not be decoded (data corruption or schema drift).
    #[error("corrupt stored record {id}: {reason}")]
    Corrupt {
        /// Short id of the record.
        id: String,
        /// What was wrong.
        reason: String,
    },
    /// Any other backend failure.
    #[error("store backend error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// True when the same call may succeed later (throttling, an unreachable
    /// backend); false for bad input and broken data.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// Where findings are kept while hot. Every implementation must pass the
/// contract suite in `backend/tests/store_contract.rs`.
#[async_trait]
pub trait Store: Send + Sync {
    /// Writes provider versions as [`decide::decide`] says: an unknown finding is
    /// inserted, a newer provider `updated_at` replaces the stored version (with the
    /// workflow status the decision gives and the next revision), an equal one
    /// changes nothing and an older one is skipped. Every finding written records a
    /// change with it, atomically; `origin` says whether those changes are quiet.
    async fn upsert_from(&self, findings: &[Finding], origin: Origin) -> StoreResult<UpsertReport>;

    /// [`Store::upsert_from`] for real events.
    async fn upsert(&self, findings: &[Finding]) -> StoreResult<UpsertReport> {
        self.upsert_from(findings, Origin::Events).await
    }

    /// One finding with its raw document and audit trail.
    async fn get(&self, id: &str) -> StoreResult<Option<FindingDetail>>;

    /// One page of findings matching `filter`, newest `updated_at` first (ties by id).
    async fn list(
        &self,
        filter: &FindingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<FindingPage>;

    /// [`Store::list`] with whole findings instead of list items, so an export
    /// can write every column without a read per finding. The default reads the
    /// list page and then each finding (a store that cannot select documents by
    /// the list's query); a finding archived between the two reads is left out,
    /// as if it had left before the page was read.
    async fn list_findings(
        &self,
        filter: &FindingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<FullPage> {
        let page = self.list(filter, limit, cursor).await?;
        let mut findings = Vec::with_capacity(page.items.len());
        for item in &page.items {
            if let Some(detail) = self.get(&item.id).await? {
                findings.push(detail.finding);
            }
        }
        Ok(FullPage {
            findings,
            next_cursor: page.next_cursor,
        })
    }

    /// The whole set `filter` selects as pages of about `page` whole findings,
    /// newest first, in [`Store::list`]'s order: what an export reads. Without
    /// `with_raw` a store may leave each finding's `raw` `null` (for writers
    /// that never look at it: building the raw documents is much of the work).
    /// The default asks for one page after another ([`pages::walk`]), raw
    /// included; a store may read ahead and decode in parallel, holding a few
    /// pages at most.
    fn finding_pages(
        self: Arc<Self>,
        filter: FindingFilter,
        page: u32,
        with_raw: bool,
    ) -> FindingPages
    where
        Self: 'static,
    {
        let _ = with_raw;
        pages::walk(self, filter, page)
    }

    /// How many findings match `filter` (all pages): exact from the counters for
    /// severity, status, account, region, resource type and product in any
    /// combination; with `q`, `since` or `until` exact when at most
    /// [`count::SCAN_ROWS`] rows need reading, otherwise an estimate within the
    /// bound [`count::view_count`] states. Never a full scan.
    async fn count(&self, filter: &FindingFilter) -> StoreResult<ViewCount>;

    /// The findings of `filter`'s view grouped by `by`: the `limit` most severe
    /// groups (more CRITICAL first, then HIGH, …, then the larger total) with
    /// their counts per severity and status and their newest update, and how
    /// many findings the other groups hold. Exact where the store's counters
    /// answer (README, "Grouping"); otherwise from at most
    /// [`groups::GROUP_SCAN_ROWS`] of the view's newest findings, and then
    /// `exact` is false. Never a full scan.
    async fn groups(
        &self,
        filter: &FindingFilter,
        by: GroupBy,
        limit: u32,
    ) -> StoreResult<FindingGroups>;

    /// Exact counts over the whole store; the trend covers the 30 days ending `today`.
    async fn summary(&self, today: NaiveDate) -> StoreResult<Summary>;

    /// Changes a finding's workflow status (a person's, see
    /// [`decide::decide_workflow`]) and records who/when/what in its audit trail,
    /// in one write: the record gets its next revision; the provider's
    /// `updated_at` stays. Returns the updated finding, or `None` when the id is
    /// unknown.
    async fn set_workflow(
        &self,
        id: &str,
        update: &WorkflowUpdate,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<FindingDetail>> {
        Ok(self
            .set_workflow_if(id, update, actor, at, None)
            .await?
            .changed())
    }

    /// [`Store::set_workflow`], made only while the stored finding matches
    /// `guard` when one is given ([`guard::still_matches`] on the record the
    /// write replaces, checked within that conditional write); otherwise
    /// [`guard::Guarded::NoLongerMatches`] and nothing is written.
    async fn set_workflow_if(
        &self,
        id: &str,
        update: &WorkflowUpdate,
        actor: &str,
        at: DateTime<Utc>,
        guard: Option<&FindingFilter>,
    ) -> StoreResult<guard::Guarded>;

    /// Findings with `updated_at < cutoff`, oldest first, in pages (archive candidates,
    /// read through the time index, never a full scan).
    async fn archive_candidates(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<ArchivePage>;

    /// Deletes each finding only if it is still the given version (same
    /// `updated_at` and revision): one updated or triaged since it was read is kept.
    /// Deletes are archival: each records a quiet `deleted` change.
    async fn delete_versions(&self, versions: &[FindingVersion]) -> StoreResult<DeleteReport>;

    /// Records `day`'s compliance scores (one per standard, all dated `day`) in
    /// place of what the day had: a day's point is the last score taken that
    /// day, so today's is the current one, and a past day's no longer moves.
    /// Returns whether it wrote (not for no scores).
    async fn put_compliance_snapshot(
        &self,
        day: NaiveDate,
        scores: &[ScoreSnapshot],
    ) -> StoreResult<bool>;

    /// The snapshots of the days `from..=to`, oldest day first, then by slug.
    async fn compliance_snapshots(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<ScoreSnapshot>>;

    /// Cheap liveness check for `/health`.
    async fn ping(&self) -> StoreResult<()>;

    /// Drops the counters' tallies that netted to zero (a combination, control
    /// or generator whose last finding left), so counter items do not keep
    /// every value ever seen; returns how many it dropped. The archive runs it
    /// after its deletes (archive/run.rs). Nothing to do by default: SQLite's
    /// counters are table rows with no size limit, and it drops the group rows
    /// that empty as it writes.
    async fn compact_counters(&self) -> StoreResult<u64> {
        Ok(0)
    }

    /// A token that changes whenever a stored finding does, so an answer built
    /// at one token is not stored once the store has moved on (the day's
    /// compliance snapshot, compliance/daily.rs): SQLite's change feed head,
    /// with the file it counts. `None` (the default, and DynamoDB's) when the
    /// store has none.
    async fn version(&self) -> StoreResult<Option<String>> {
        Ok(None)
    }

    /// The compliance results the store keeps per control, up to every write
    /// committed before the call (SQLite folds them from its change feed,
    /// DynamoDB keeps them on write), with the failing resources and findings
    /// of the controls of `failing_of` (a standard's slug) only. `None` (the
    /// default; SQLite when it cannot fold in time): a report reads every
    /// finding.
    async fn control_results(
        &self,
        failing_of: Option<&str>,
    ) -> StoreResult<Option<Vec<control_rows::ControlRow>>> {
        let _ = failing_of;
        Ok(None)
    }

    /// Ids of the findings failing control `control_id` of standard `slug`
    /// whose ids sort after `after`, smallest first, at most `limit`: a
    /// drill-down past the [`shared_types::MAX_FAILING_RESOURCES`] a report
    /// lists, page by page, from the same kept results as
    /// [`Store::control_results`]. `None` (the default; SQLite when it cannot
    /// fold in time; DynamoDB before `cspm recount` kept every result): the
    /// caller reads every finding (compliance/failing.rs).
    async fn failing_findings(
        &self,
        slug: &str,
        control_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Option<Vec<String>>> {
        let _ = (slug, control_id, after, limit);
        Ok(None)
    }
}
