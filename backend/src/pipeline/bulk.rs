//! A person's workflow change for many findings at once (`POST /findings/workflow`).
//!
//! There is no bulk write: each finding goes through [`Pipeline::set_workflow`],
//! the very call `PATCH /findings/{id}` makes, so each gets the one workflow
//! decision ([`crate::store::decide::decide_workflow`]), its own audit entry and
//! its own change record, and the sinks see N ordinary workflow changes.
//!
//! Work runs in batches of [`BATCH`] with a few writes in flight. The first store
//! failure ends the run after the batch it happened in: every finding is then
//! accounted for exactly once — changed, unchanged, or failed with a reason
//! (including those not tried) — and sending the request again completes the
//! rest, the ones already changed counting as unchanged (with the answer's
//! [`retry_expected_total`] when the change moved some out of the filter).

use super::Pipeline;
use crate::store::guard::Guarded;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use shared_types::{
    BulkFailure, BulkWorkflowResult, FindingFilter, WorkflowStatus, WorkflowUpdate, MAX_LIMIT,
};

/// Findings read and written per batch.
pub const BATCH: usize = 500;
/// Writes in flight within a batch: SQLite serializes them on its one writer
/// anyway; DynamoDB's round trips overlap.
const IN_FLIGHT: usize = 8;

/// Reason given for an id that names no stored finding.
pub const UNKNOWN_ID: &str = "no finding with this id";
/// Reason given for a finding of a filter that changed after the filter was read
/// (someone else's change, a newer provider version) and was left alone.
pub const NO_LONGER_MATCHES: &str =
    "changed meanwhile and no longer matches the filter: left as it is";
/// Reason given for a finding the run did not reach because the store failed.
pub const NOT_TRIED: &str = "not tried: the store failed earlier in this request; send it again";

/// One finding to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Its short id.
    pub id: String,
    /// Its status when the filter's list read it; `None` for a finding named by
    /// id, which the run reads first.
    pub status: Option<WorkflowStatus>,
}

impl Target {
    /// A finding named by id (read before it is changed).
    pub fn id(id: impl Into<String>) -> Self {
        Target {
            id: id.into(),
            status: None,
        }
    }
}

/// Why the findings a filter matches were not collected.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The filter matches another number of findings than the person saw.
    #[error("the filter matches {found}{more} findings, not the {expected} expected")]
    Mismatch {
        /// What the request said.
        expected: u64,
        /// How many were found before collecting stopped.
        found: u64,
        /// `" or more"` when collecting stopped past `expected`.
        more: &'static str,
    },
    /// The store's list failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The findings `filter` matches, newest first, read through the store's list
/// page by page; refused when their number is not `expected`. Reads at most
/// `expected + 1`, so a filter grown far past what was seen costs no more.
pub async fn collect(
    store: &dyn Store,
    filter: &FindingFilter,
    expected: u64,
) -> Result<Vec<Target>, CollectError> {
    let read = step(store, filter, None, expected.saturating_add(1)).await?;
    let found = read.targets.len() as u64;
    if found != expected {
        let more = if found > expected || read.next_cursor.is_some() {
            " or more"
        } else {
            ""
        };
        return Err(CollectError::Mismatch {
            expected,
            found,
            more,
        });
    }
    Ok(read.targets)
}

/// Checks that `filter` matches `expected` findings without keeping them: from
/// the store's count when it is exact (counters, so a step of a large view does
/// not read every finding before its first write), else by [`collect`].
pub async fn check_count(
    store: &dyn Store,
    filter: &FindingFilter,
    expected: u64,
) -> Result<(), CollectError> {
    let count = store.count(filter).await?;
    if !count.exact {
        return collect(store, filter, expected).await.map(|_| ());
    }
    if count.total != expected {
        return Err(CollectError::Mismatch {
            expected,
            found: count.total,
            more: "",
        });
    }
    Ok(())
}

/// One step of a change to a filter's findings: what it changes and where the
/// next one goes on.
#[derive(Debug)]
pub struct Step {
    /// The findings of this step, newest first.
    pub targets: Vec<Target>,
    /// The list's cursor after them; `None` when the filter has no more.
    pub next_cursor: Option<String>,
}

/// The next findings `filter` matches after `cursor` (from the newest without
/// one), whole list pages until there are at least `limit` (pages of at most
/// `limit`, so exactly `limit` while more remain). The list's order does not
/// move under a workflow change (`updated_at` is the provider's time), so a
/// cursor taken before a step's changes still goes on exactly after them.
pub async fn step(
    store: &dyn Store,
    filter: &FindingFilter,
    cursor: Option<&str>,
    limit: u64,
) -> Result<Step, StoreError> {
    let page_size = u32::try_from(limit.min(u64::from(MAX_LIMIT))).unwrap_or(MAX_LIMIT);
    let mut targets = Vec::new();
    let mut cursor = cursor.map(str::to_string);
    loop {
        let page = store.list(filter, page_size, cursor.as_deref()).await?;
        targets.extend(page.items.into_iter().map(|i| Target {
            id: i.id,
            status: Some(i.workflow_status),
        }));
        cursor = page.next_cursor;
        if cursor.is_none() || targets.len() as u64 >= limit {
            return Ok(Step {
                targets,
                next_cursor: cursor,
            });
        }
    }
}

/// The `expected_total` that sends a filter request again to complete it,
/// after `result` of a request that expected `expected` had failures: the
/// findings it changed no longer match a filter that names other statuses,
/// nor do the ones gone or changed out of it since they were read; the rest
/// still match.
pub fn retry_expected_total(
    expected: u64,
    filter: &FindingFilter,
    status: WorkflowStatus,
    result: &BulkWorkflowResult,
) -> Option<u64> {
    if result.failed.is_empty() {
        return None;
    }
    let left_filter = !filter.statuses.is_empty() && !filter.statuses.contains(&status);
    let moved_out = if left_filter { result.changed } else { 0 };
    let gone = result
        .failed
        .iter()
        .filter(|f| f.reason == UNKNOWN_ID || f.reason == NO_LONGER_MATCHES)
        .count() as u64;
    Some(expected.saturating_sub(moved_out + gone))
}

/// What happened to one target.
enum Done {
    Changed,
    Unchanged,
    Failed(String),
    /// The store failed: the run stops after this batch.
    StoreFailed(String),
}

/// Sets `update` on every target (duplicates once) as `actor` at `at`, batch by
/// batch, and reports each finding exactly once. Targets a filter selected are
/// changed only while they still match it (`guard`): two overlapping changes at
/// once do not write over each other's findings.
pub async fn apply(
    pipeline: &Pipeline,
    targets: Vec<Target>,
    update: &WorkflowUpdate,
    actor: &str,
    at: DateTime<Utc>,
    guard: Option<&FindingFilter>,
) -> BulkWorkflowResult {
    let mut seen = std::collections::HashSet::new();
    let targets: Vec<Target> = targets
        .into_iter()
        .filter(|t| seen.insert(t.id.clone()))
        .collect();
    let mut result = BulkWorkflowResult::default();
    let mut batches = targets.chunks(BATCH);
    for batch in batches.by_ref() {
        // By index: a closure taking `&Target` would be higher-ranked over its
        // lifetime, and the handler's future would no longer be `Send`.
        let done: Vec<Done> = futures::stream::iter(0..batch.len())
            .map(|i| one(pipeline, &batch[i], update, actor, at, guard))
            .buffered(IN_FLIGHT)
            .collect()
            .await;
        let mut store_failed = false;
        for (t, d) in batch.iter().zip(done) {
            match d {
                Done::Changed => result.changed += 1,
                Done::Unchanged => result.unchanged += 1,
                Done::Failed(reason) => result.failed.push(failure(t, reason)),
                Done::StoreFailed(reason) => {
                    store_failed = true;
                    result.failed.push(failure(t, reason));
                }
            }
        }
        if store_failed {
            break;
        }
    }
    for t in batches.flatten() {
        result.failed.push(failure(t, NOT_TRIED.into()));
    }
    tracing::info!(
        actor,
        status = %update.workflow_status,
        changed = result.changed,
        unchanged = result.unchanged,
        failed = result.failed.len(),
        "bulk workflow change"
    );
    result
}

fn failure(t: &Target, reason: String) -> BulkFailure {
    BulkFailure {
        id: t.id.clone(),
        reason,
    }
}

/// One finding: left alone when a person already gave it the new status (so a
/// re-run after a failure changes only what the first run did not), otherwise the
/// PATCH path. A status the provider set is taken over like PATCH takes it over,
/// even when it is the same one: the note is kept and the provider's next plain
/// version can no longer undo the analyst's decision.
async fn one(
    pipeline: &Pipeline,
    t: &Target,
    update: &WorkflowUpdate,
    actor: &str,
    at: DateTime<Utc>,
    guard: Option<&FindingFilter>,
) -> Done {
    // The list's status, when it differs, is enough to know a write is due;
    // otherwise the stored record says whether a person already set it.
    if t.status.is_none_or(|s| s == update.workflow_status) {
        if !crate::ids::is_short_id(&t.id) {
            return Done::Failed(UNKNOWN_ID.into());
        }
        match pipeline.store().get(&t.id).await {
            Ok(Some(d))
                if d.finding.workflow_status == update.workflow_status
                    && d.finding.workflow_by_person =>
            {
                return Done::Unchanged
            }
            Ok(Some(_)) => {}
            Ok(None) => return Done::Failed(UNKNOWN_ID.into()),
            Err(e) => return store_failed(&t.id, &e),
        }
    }
    match pipeline
        .set_workflow_if(&t.id, update, actor, at, guard)
        .await
    {
        Ok(Guarded::Changed(_)) => Done::Changed,
        Ok(Guarded::NoLongerMatches) => Done::Failed(NO_LONGER_MATCHES.into()),
        // Someone made the same change meanwhile (or this one's write landed
        // before a retry read it again).
        Ok(Guarded::AlreadySet) => Done::Unchanged,
        // Archived between the read and the write.
        Ok(Guarded::Unknown) => Done::Failed(UNKNOWN_ID.into()),
        Err(super::PipelineError::Store(e)) => store_failed(&t.id, &e),
        Err(e) => {
            tracing::warn!(finding = %t.id, error = %e, "bulk workflow change failed");
            Done::StoreFailed("the change could not be written; send the request again".into())
        }
    }
}

/// The store's message is for the operator's log; the client learns only
/// whether waiting may help.
fn store_failed(id: &str, e: &StoreError) -> Done {
    tracing::warn!(finding = %id, error = %e, "bulk workflow change: store failed");
    let reason = if e.is_retryable() {
        "the store is unavailable; send the request again"
    } else {
        "the store failed; send the request again"
    };
    Done::StoreFailed(reason.into())
}
