//! Grouping by resource down the ranking index (resources.rs) instead of
//! reading findings, for views the resource items count: filtered by nothing
//! but severities and statuses.
//!
//! The walk reads the resource items most severe first (`ResourceRankIndex`
//! backwards, [`PAGE`] at a time) and offers each one's counts, filtered, to
//! the top groups, until no later resource can be listed
//! ([`TopGroups::closed_at`], as sqlite/top_resources.rs walks its ranking):
//! without a filter after about `limit` items. A view whose best groups lie far
//! down the ranking (`severity=LOW`) reads at most [`WALK_ITEMS`] items and
//! then gives way to the bounded read of findings (dynamo/groups.rs). A
//! resource whose findings are all gone has rank 0: the walk ends there.
//!
//! The index follows the table within about a second, so the groups chosen are
//! read again, consistently, from the table before they are counted. `other`
//! is the view's exact count from the view counters less what is listed. A
//! group's `updated_at` is its newest finding's among the view's newest
//! findings ([`super::groups::NEWEST_ROWS`]) when it is there, else the
//! `updated_at` of the provider version whose counts moved last (a person's
//! change moves counts but not that time; a late older version can set it
//! back).

use super::error::{is_transient, Call};
use super::resources::{
    parse_tally, resource_item_id, MOVED_ATTR, RANK_INDEX_NAME, RANK_PART, RANK_PART_ATTR,
    RESOURCE_ATTR,
};
use super::{counters, generators, DynamoStore};
use crate::retry::retry;
use crate::store::groups::{Counts, TopGroups};
use crate::store::StoreResult;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use shared_types::{FindingFilter, FindingGroups, GroupBy, Severity, WorkflowStatus};
use std::collections::{HashMap, HashSet};

/// Resource items one Query reads.
const PAGE: i32 = 200;
/// Resource items a walk reads at most before it gives way to reading
/// findings: ten pages, tens of milliseconds.
pub const WALK_ITEMS: usize = 2_000;
/// A key after every resource id: on the ranking, equal counts come in the
/// index's order, so a later resource that ties with the last group listed is
/// not listed (its key is not compared).
const AFTER_ALL: &str = "\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}";

/// One resource item as read.
#[derive(Debug, Clone)]
struct ResourceItem {
    resource: String,
    tallies: Vec<(Severity, WorkflowStatus, u64)>,
    moved_at: Option<DateTime<Utc>>,
}

impl ResourceItem {
    fn parse(item: &HashMap<String, AttributeValue>) -> Option<ResourceItem> {
        let text = |name: &str| match item.get(name) {
            Some(AttributeValue::S(s)) => Some(s.clone()),
            _ => None,
        };
        let tallies = item
            .iter()
            .filter_map(|(k, v)| {
                let (s, w) = parse_tally(k)?;
                let AttributeValue::N(n) = v else { return None };
                Some((s, w, n.parse::<u64>().ok()?))
            })
            .collect();
        Some(ResourceItem {
            resource: text(RESOURCE_ATTR)?,
            tallies,
            moved_at: text(MOVED_ATTR)
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc)),
        })
    }

    /// True when none of its findings is left (its rank is 0: so is every
    /// later one's).
    fn is_empty(&self) -> bool {
        self.tallies.iter().all(|(_, _, n)| *n == 0)
    }

    /// Its findings per severity rank, whatever their status.
    fn by_rank(&self) -> [u64; 5] {
        let mut out = [0u64; 5];
        for (s, _, n) in &self.tallies {
            out[usize::from(s.rank())] += n;
        }
        out
    }

    /// Its counts within `filter`'s severities and statuses.
    fn filtered(&self, filter: &FindingFilter) -> Counts {
        let mut c = Counts::new(self.resource.clone());
        for (s, w, n) in &self.tallies {
            let wanted = (filter.severities.is_empty() || filter.severities.contains(s))
                && (filter.statuses.is_empty() || filter.statuses.contains(w));
            if wanted && *n > 0 {
                c.add(*s, *w, *n);
            }
        }
        c
    }
}

/// True when the resource items count `filter`'s view: it filters by
/// nothing but severities and statuses (what the generator items count, less
/// the generator).
fn answers(filter: &FindingFilter) -> bool {
    generators::answers(filter) && filter.generator.is_none()
}

impl DynamoStore {
    /// `filter`'s view grouped by resource from the ranking (what
    /// [`crate::store::Store::groups`] answers with when it can), or `None`
    /// when the ranking does not answer it: a filter of more than severities
    /// and statuses, some findings not counted per resource (a table from
    /// before), or a walk that reads [`WALK_ITEMS`] without closing.
    pub async fn resource_groups_from_ranking(
        &self,
        filter: &FindingFilter,
        limit: u32,
    ) -> StoreResult<Option<FindingGroups>> {
        if !answers(filter) {
            return Ok(None);
        }
        let limit = limit.clamp(1, shared_types::MAX_LIMIT);
        let items = self.counters(true, false).await?;
        if !items.all_counted(counters::RESOURCES_KEPT, "resource") {
            return Ok(None);
        }
        let Some(chosen) = self.walk(filter, limit).await? else {
            return Ok(None);
        };
        // The index lags the table: count what the table holds now.
        let ids: Vec<String> = chosen.iter().map(|r| resource_item_id(r)).collect();
        let mut top = TopGroups::new(limit);
        let mut moved: HashMap<String, DateTime<Utc>> = HashMap::new();
        for item in self.batch_get_items(&ids, None).await? {
            if let Some(r) = ResourceItem::parse(&item) {
                if let Some(at) = r.moved_at {
                    moved.insert(r.resource.clone(), at);
                }
                top.offer(r.filtered(filter));
            }
        }
        let mut out = top.finish(GroupBy::Resource, true);
        let listed: u64 = out.groups.iter().map(|g| g.total).sum();
        out.other = items.counted_total(filter)?.saturating_sub(listed);
        let newest = self.newest_in_view(filter).await?;
        for g in &mut out.groups {
            g.updated_at = newest.get(&g.key).or_else(|| moved.get(&g.key)).copied();
        }
        Ok(Some(out))
    }

    /// The resources the walk lists, or `None` when it ran out of items.
    async fn walk(&self, filter: &FindingFilter, limit: u32) -> StoreResult<Option<Vec<String>>> {
        let mut top = TopGroups::new(limit);
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        let mut read = 0usize;
        // A resource whose rank fell below the page boundary while the walk
        // read comes again on a later page: it counts once.
        let mut met: HashSet<String> = HashSet::new();
        // The whole store stops after `limit` + 1 items: ask for no more at first.
        let mut page_size = i32::try_from(limit)
            .unwrap_or(PAGE)
            .saturating_add(1)
            .min(PAGE);
        loop {
            let page = self.rank_page(start.take(), Some(page_size)).await?;
            page_size = PAGE;
            for item in &page.0 {
                let Some(r) = ResourceItem::parse(item) else {
                    tracing::warn!("resource item without resource id or rank");
                    continue;
                };
                if !met.insert(r.resource.clone()) {
                    continue;
                }
                let bound = Counts::from_severities(AFTER_ALL.to_string(), r.by_rank());
                if r.is_empty() || top.closed_at(&bound, &filter.severities) {
                    return Ok(Some(keys(top)));
                }
                top.offer(r.filtered(filter));
                read += 1;
                if read >= WALK_ITEMS {
                    return Ok(None);
                }
            }
            match page.1 {
                Some(next) => start = Some(next),
                None => return Ok(Some(keys(top))),
            }
        }
    }

    /// One page of the ranking, most severe first (at most `limit` items,
    /// else 1 MB), and where the next starts.
    pub(super) async fn rank_page(
        &self,
        start: Option<HashMap<String, AttributeValue>>,
        limit: Option<i32>,
    ) -> StoreResult<(
        Vec<HashMap<String, AttributeValue>>,
        Option<HashMap<String, AttributeValue>>,
    )> {
        let table = &self.settings.table;
        let out = retry(&self.settings.backoff, is_transient, || {
            self.client
                .query()
                .table_name(table)
                .index_name(RANK_INDEX_NAME)
                .key_condition_expression("#p = :p")
                .expression_attribute_names("#p", RANK_PART_ATTR)
                .expression_attribute_values(":p", AttributeValue::S(RANK_PART.to_string()))
                .scan_index_forward(false)
                .set_limit(limit)
                .set_exclusive_start_key(start.clone())
                .send()
        })
        .await
        .map_err(|e| Call::new("Query", table).store_error(e))?;
        Ok((out.items().to_vec(), out.last_evaluated_key().cloned()))
    }
}

/// The resources kept, in no particular order.
fn keys(top: TopGroups) -> Vec<String> {
    top.finish(GroupBy::Resource, true)
        .groups
        .into_iter()
        .map(|g| g.key)
        .collect()
}
