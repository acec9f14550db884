//! How many findings a view matches on DynamoDB (see store/count.rs). The
//! counted part sums the view counters' combinations that match the filter
//! (read with the summary items in one `BatchGetItem`). One generator's view
//! filtered by nothing but severities and statuses is counted exactly by the
//! generator items (generators.rs). Otherwise the residual part reads
//! the severity/time index newest first with the list's filter expression, at
//! most [`SCAN_ROWS`] index entries, and matches `q` on the rows read exactly
//! as the list's `contains(search, q)` does.

use super::counters;
use super::cursor::Key;
use super::generators::{self, generator_counts, GeneratorCounts, GENERATOR_PREFIX};
use super::parted::{part_values, PartValue};
use super::query::{IndexQuery, Keyed, ReadBudget};
use super::views::{self, ViewKey};
use super::{corrupt, DynamoStore};
use crate::store::count::{counted_part, has_residual, view_count, Scan, SCAN_ROWS};
use crate::store::{StoreResult, ViewCount};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use serde_dynamo::aws_sdk_dynamodb_1::from_item;
use shared_types::FindingFilter;
use std::collections::HashMap;

/// What the residual read needs of a row.
#[derive(serde::Deserialize)]
struct CountRow {
    id: String,
    updated_at: String,
    #[serde(default)]
    search: String,
}

impl Keyed for CountRow {
    fn key(&self) -> Key {
        Key {
            u: self.updated_at.clone(),
            id: self.id.clone(),
        }
    }
}

/// The counter items a count reads, split by kind.
pub(super) struct Counters {
    /// The summary items' attributes.
    pub(super) summary: Vec<HashMap<String, i64>>,
    /// The view items' attributes (combination → count).
    pub(super) views: Vec<HashMap<String, i64>>,
    /// The generator items' attributes, when read.
    generators: Vec<HashMap<String, PartValue>>,
}

impl Counters {
    /// What the generator items add up to; `None` while some findings are
    /// not counted there (a table written before them, until `cspm recount`).
    pub(super) fn generator_counts(&self) -> Option<GeneratorCounts> {
        self.all_counted(counters::GENERATORS_KEPT, "generator")
            .then(|| generator_counts(&self.generators))
    }

    /// The exact count of `filter`'s counted part ([`counted_part`]): the
    /// total, or a sum over the view items (which must have been read).
    pub(super) fn counted_total(&self, filter: &FindingFilter) -> StoreResult<u64> {
        let counted = counted_part(filter);
        if counted.is_empty() {
            return Ok(counters::total(&self.summary));
        }
        let mut n: i64 = 0;
        for (attr, v) in self.views.iter().flatten() {
            let key: ViewKey =
                serde_json::from_str(attr).map_err(|e| corrupt(views::VIEW_PREFIX, e))?;
            if key.matches(&counted) {
                n += v;
            }
        }
        Ok(n.max(0) as u64)
    }

    /// True when every finding is counted per `what`: the summary's `kept`
    /// attribute ([`counters::GENERATORS_KEPT`], [`counters::RESOURCES_KEPT`])
    /// equals the total. Says so in the log when not (a table written before
    /// those counters).
    pub(super) fn all_counted(&self, kept: &str, what: &str) -> bool {
        let (total, counted) = (
            counters::total(&self.summary),
            counters::sum_of(&self.summary, kept),
        );
        if counted != total {
            tracing::warn!(
                findings = total,
                counted,
                "some findings are not counted per {what}: reading findings instead; \
                 run `cspm recount --store dynamodb` to count them"
            );
        }
        counted == total
    }
}

impl DynamoStore {
    /// The count of `filter`'s view.
    pub(super) async fn view_count(&self, filter: &FindingFilter) -> StoreResult<ViewCount> {
        let counted = counted_part(filter);
        if filter.generator.is_some() && generators::answers(filter) {
            let items = self.counters(false, true).await?;
            if let Some(g) = items.generator_counts() {
                return Ok(ViewCount::exact(g.matching(filter).map(|c| c.3).sum()));
            }
        }
        let items = self.counters(!counted.is_empty(), false).await?;
        let base = items.counted_total(filter)?;
        if !has_residual(filter) {
            return Ok(ViewCount::exact(base));
        }
        let scan = self.scan(filter).await?;
        // No finding was updated before it was created: the oldest creation day
        // counted is a floor when the filter has no `since`.
        let floor = filter.since.or_else(|| {
            counters::first_day(&items.summary)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        });
        Ok(view_count(base, Some(scan), floor))
    }

    /// The summary items, the view items when `with_views` and the generator
    /// items when `with_generators`: `BatchGetItem`s of 16 + 64 + 256 keys at
    /// most.
    pub(super) async fn counters(
        &self,
        with_views: bool,
        with_generators: bool,
    ) -> StoreResult<Counters> {
        let mut ids = counters::all_shard_ids();
        if with_views {
            ids.extend(counters::all_view_ids());
        }
        if with_generators {
            ids.extend(counters::all_generator_ids());
        }
        let mut out = Counters {
            summary: Vec::new(),
            views: Vec::new(),
            generators: Vec::new(),
        };
        for mut item in self.batch_get_items(&ids, None).await? {
            let id = match item.remove("id") {
                Some(AttributeValue::S(id)) => id,
                _ => return Err(corrupt("#counts", "counter item without a string id")),
            };
            if id.starts_with(GENERATOR_PREFIX) {
                out.generators.push(part_values(&id, item)?);
                continue;
            }
            let attrs: HashMap<String, i64> = from_item(item).map_err(|e| corrupt(&id, e))?;
            if id.starts_with(views::VIEW_PREFIX) {
                out.views.push(attrs);
            } else {
                out.summary.push(attrs);
            }
        }
        Ok(out)
    }

    /// Reads at most [`SCAN_ROWS`] index entries matching everything but `q`,
    /// newest first.
    async fn scan(&self, filter: &FindingFilter) -> StoreResult<Scan> {
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
            filter: Self::list_filter(&FindingFilter {
                q: None,
                ..filter.clone()
            })?,
            projection: Some(&["id", "updated_at", "search"]),
            backoff: self.settings.backoff,
        };
        let budget = ReadBudget {
            items: self.settings.count_budget.unwrap_or(SCAN_ROWS as u32),
        };
        let merged = q
            .page::<CountRow>(start, budget.items as usize + 1, budget)
            .await?;
        let needle = filter.q.as_deref().map(str::to_lowercase);
        let matched = merged
            .rows
            .iter()
            .filter(|r| needle.as_deref().is_none_or(|n| r.search.contains(n)))
            .count();
        let at = |r: &CountRow| {
            DateTime::parse_from_rfc3339(&r.updated_at)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| corrupt(&r.id, e))
        };
        let span = match (merged.rows.first(), merged.rows.last()) {
            (Some(newest), Some(oldest)) => Some((at(newest)?, at(oldest)?)),
            _ => None,
        };
        Ok(Scan {
            seen: merged.rows.len() as u64,
            matched: matched as u64,
            complete: merged.next.is_none(),
            span,
        })
    }
}
