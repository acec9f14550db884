//! Grouping a view on DynamoDB (see store/groups.rs).
//!
//! By generator, with filters of nothing but severities, statuses and a
//! generator, the counts are sums of the generator items' tallies
//! (generators.rs), read with the summary items: exact. By account, region or
//! resource type, with filters the view counters answer (no `q`, `since`,
//! `until`, generator or resource), the counts are sums of the view counters'
//! combinations, read with the summary items in the one `BatchGetItem` a count
//! makes: exact. The groups' newest updates then come from the view's newest
//! [`NEWEST_ROWS`] index entries (a group whose newest finding is older than
//! those shows none, and a generator its key as label).
//!
//! By resource, with filters of nothing but severities and statuses, the
//! resource items' ranking is walked (top_resources.rs): exact.
//!
//! Everything else — by resource or generator with an account, region,
//! resource type or product filter, a filter with text, time or a resource, or
//! a walk down the ranking that does not close within its budget — reads the
//! severity/time index newest first with the list's filter expression, at most
//! [`GROUP_SCAN_ROWS`] entries, and is exact only when that read reaches the
//! view's end.

use super::cursor::Key;
use super::generators;
use super::query::{IndexQuery, Keyed, Merged, ReadBudget};
use super::views::{self, ViewKey};
use super::{corrupt, DynamoStore};
use crate::store::count::{counted_part, has_residual};
use crate::store::groups::{Tally, GROUP_SCAN_ROWS};
use crate::store::StoreResult;
use chrono::{DateTime, Duration, Utc};
use shared_types::{FindingFilter, FindingGroups, GroupBy, Severity, WorkflowStatus};
use std::collections::HashMap;

/// Index entries read for the groups' newest updates when counters give the
/// counts.
pub const NEWEST_ROWS: u32 = 1_000;

/// What a grouping reads of an index entry.
#[derive(serde::Deserialize)]
struct GroupRow {
    id: String,
    updated_at: String,
    updated_exact: DateTime<Utc>,
    severity: Severity,
    workflow_status: WorkflowStatus,
    title: String,
    account_id: String,
    region: String,
    resource_type: String,
    resource_id: String,
    #[serde(default)]
    generator_id: String,
}

const GROUP_PROJECTION: [&str; 11] = [
    "id",
    "updated_at",
    "updated_exact",
    "severity",
    "workflow_status",
    "title",
    "account_id",
    "region",
    "resource_type",
    "resource_id",
    "generator_id",
];

impl Keyed for GroupRow {
    fn key(&self) -> Key {
        Key {
            u: self.updated_at.clone(),
            id: self.id.clone(),
        }
    }
}

impl GroupRow {
    fn group(&self, by: GroupBy) -> &str {
        match by {
            GroupBy::Generator => &self.generator_id,
            GroupBy::Resource => &self.resource_id,
            GroupBy::Account => &self.account_id,
            GroupBy::Region => &self.region,
            GroupBy::ResourceType => &self.resource_type,
        }
    }
}

/// The combination's value for a counted grouping.
fn view_group(key: &ViewKey, by: GroupBy) -> Option<&str> {
    match by {
        GroupBy::Account => Some(&key.2),
        GroupBy::Region => Some(&key.3),
        GroupBy::ResourceType => Some(&key.4),
        GroupBy::Generator | GroupBy::Resource => None,
    }
}

impl DynamoStore {
    /// The view of `filter` grouped by `by`.
    pub(super) async fn view_groups(
        &self,
        filter: &FindingFilter,
        by: GroupBy,
        limit: u32,
    ) -> StoreResult<FindingGroups> {
        let mut tally = Tally::new(by);
        if by == GroupBy::Generator && generators::answers(filter) {
            let items = self.counters(false, true).await?;
            if let Some(counts) = items.generator_counts() {
                for (g, severity, status, n) in counts.matching(filter) {
                    tally.add(g, *severity, *status, *n);
                }
                self.note_newest(&mut tally, filter, by).await?;
                return Ok(tally.finish(limit, true));
            }
        }
        let counted = !has_residual(filter)
            && matches!(
                by,
                GroupBy::Account | GroupBy::Region | GroupBy::ResourceType
            );
        if counted {
            let part = counted_part(filter);
            let items = self.counters(true, false).await?;
            for (attr, n) in items.views.iter().flatten() {
                let key: ViewKey =
                    serde_json::from_str(attr).map_err(|e| corrupt(views::VIEW_PREFIX, e))?;
                if let (true, Some(group)) = (key.matches(&part), view_group(&key, by)) {
                    tally.add(group, key.0, key.1, u64::try_from(*n).unwrap_or(0));
                }
            }
            self.note_newest(&mut tally, filter, by).await?;
            return Ok(tally.finish(limit, true));
        }
        if by == GroupBy::Resource {
            if let Some(groups) = self.resource_groups_from_ranking(filter, limit).await? {
                return Ok(groups);
            }
        }
        let read = self.newest_rows(filter, GROUP_SCAN_ROWS as u32).await?;
        for r in &read.rows {
            tally.add(r.group(by), r.severity, r.workflow_status, 1);
            tally.newest(r.group(by), r.updated_exact, &r.title);
        }
        Ok(tally.finish(limit, read.next.is_none()))
    }

    /// Notes the newest update (and title) of each counted group among the
    /// view's newest [`NEWEST_ROWS`] index entries. A row of a group the
    /// counters do not hold (the index lags the table by up to a second) adds
    /// no group.
    async fn note_newest(
        &self,
        tally: &mut Tally,
        filter: &FindingFilter,
        by: GroupBy,
    ) -> StoreResult<()> {
        for r in self.newest_rows(filter, NEWEST_ROWS).await?.rows {
            if tally.contains(r.group(by)) {
                tally.newest(r.group(by), r.updated_exact, &r.title);
            }
        }
        Ok(())
    }

    /// Each resource's newest update among the view's newest [`NEWEST_ROWS`]
    /// index entries.
    pub(super) async fn newest_in_view(
        &self,
        filter: &FindingFilter,
    ) -> StoreResult<HashMap<String, DateTime<Utc>>> {
        let mut out = HashMap::new();
        for r in self.newest_rows(filter, NEWEST_ROWS).await?.rows {
            out.entry(r.resource_id).or_insert(r.updated_exact);
        }
        Ok(out)
    }

    /// The view's newest findings, at most `entries` index entries read.
    async fn newest_rows(
        &self,
        filter: &FindingFilter,
        entries: u32,
    ) -> StoreResult<Merged<GroupRow>> {
        let parts = Self::partitions(filter);
        let start = Self::start_positions(None, "", &parts)?;
        let q = IndexQuery {
            client: &self.client,
            table: &self.settings.table,
            descending: true,
            lower: filter.since.map(super::item::sort_key),
            upper: filter
                .until
                .map(|u| super::item::sort_key(u - Duration::microseconds(1))),
            filter: Self::list_filter(filter)?,
            projection: Some(&GROUP_PROJECTION),
            backoff: self.settings.backoff,
        };
        q.page::<GroupRow>(start, entries as usize, ReadBudget { items: entries })
            .await
    }
}
