//! Recounting the counter items from the findings themselves: `cspm recount
//! --store dynamodb`.
//!
//! Every write keeps the summary, view, control and generator counters and the
//! failing rows exact in its own transaction (counters.rs, controls.rs,
//! generators.rs), so a table never needs this in normal running. It does after
//! an upgrade that adds counters (a table written before the view counters has
//! none, so its counts start from zero; findings written before compliance
//! results were kept have none on their items, and those written before the
//! generator items are not marked as counted there), after TTL removed
//! findings the archive had not deleted, or after anything wrote the table
//! outside the store.
//!
//! The recount reads every item once (a parallel `Scan` of the counted
//! attributes only), sums the findings per shard exactly as the writes do
//! ([`Delta`]), compares the sums with the stored items and, unless it is a dry
//! run, replaces each counter item that differs with its recounted value. A
//! finding without compliance results on its item has them worked out from its
//! document and written onto it (recount_results.rs), an item not marked as
//! counted per generator or per resource is marked (keeping its revision), the
//! failing rows are brought in line with the findings' results, and the
//! resource items with the findings' sums (recount_resources.rs). Writers must be paused while it
//! runs: a write committed between the scan and the replacement would be
//! counted twice or not at all.

use super::controls::{control_item_id, row_writes};
use super::counters::{
    all_control_ids, all_generator_ids, all_shard_ids, all_view_ids, counted_shard, shard_item_id,
    Counted, Delta, COUNTER_PREFIX,
};
use super::error::{is_transient, Call};
use super::generators::generator_item_id;
use super::item::{projection, Head};
use super::recount_resources::{resource_fixes, ResourceRecount, RES_COUNTED_ATTR};
use super::recount_results::{Rows, CONTROLS_ATTR, GEN_COUNTED_ATTR};
use super::resources::ResourceDelta;
use super::views::view_id;
use super::DynamoStore;
use crate::retry::retry;
use crate::store::StoreResult;
use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::try_join_all;
use futures::{StreamExt, TryStreamExt};
use serde_dynamo::aws_sdk_dynamodb_1::from_item;
use std::collections::{BTreeMap, HashMap};

/// Parallel `Scan` segments: enough to keep a few requests in flight without
/// eating a provisioned table's read capacity all at once.
const SEGMENTS: i32 = 4;

/// The attributes a finding item is counted by (and what [`Head`] needs).
const COUNTED: &[&str] = &[
    "id",
    "rev",
    "updated_exact",
    "severity",
    "workflow_status",
    "account_id",
    "region",
    "resource_type",
    "product_name",
    "created_at",
    "updated_at",
    "resource_id",
    "title",
    CONTROLS_ATTR,
    "generator_id",
    GEN_COUNTED_ATTR,
    RES_COUNTED_ATTR,
    "counter_shard",
];

/// What a recount found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecountReport {
    /// Finding items counted.
    pub findings: u64,
    /// Counter attributes whose stored value differed from the recount, as
    /// (counter item id, attribute, stored, recounted), in item order.
    pub differences: Vec<(String, String, i64, i64)>,
    /// Counter items that differ (each replaced unless a dry run).
    pub items_differing: usize,
    /// Counter items replaced (0 on a dry run).
    pub items_written: usize,
    /// Findings without compliance results on their item (each filled in
    /// unless a dry run).
    pub results_missing: u64,
    /// Failing rows missing, moved or left over (each put or deleted unless a
    /// dry run).
    pub rows_differing: usize,
    /// Findings with their results but not marked as counted in the
    /// generator items (each marked unless a dry run; the findings without
    /// results are marked as theirs are filled in).
    pub generators_unmarked: u64,
    /// Resource items that differ from the findings' sums or that no finding
    /// names any more (each replaced or deleted unless a dry run).
    pub resources_differing: usize,
    /// Findings not marked as counted in their resource's item (each marked
    /// unless a dry run).
    pub resources_unmarked: u64,
}

impl RecountReport {
    /// True when the table was not as its findings say.
    pub fn differs(&self) -> bool {
        !self.differences.is_empty()
            || self.results_missing > 0
            || self.rows_differing > 0
            || self.generators_unmarked > 0
            || self.resources_differing > 0
            || self.resources_unmarked > 0
    }
}

/// What one scan segment found: findings, per-shard sums, failing rows, the
/// findings whose items lack their compliance results, and the (id, revision)
/// of those not marked as counted per generator.
#[derive(Default)]
struct Segment {
    findings: u64,
    shards: BTreeMap<u8, Delta>,
    rows: Rows,
    missing: Vec<String>,
    unmarked: Vec<(String, u64)>,
    resources: ResourceRecount,
}

impl Segment {
    /// Counts finding `id` as `version` in its counter shard `shard`, with the
    /// rows it wants.
    fn count(&mut self, id: &str, shard: u8, version: &Counted<'_>) {
        let d = Delta::between(None, Some(version));
        self.shards.entry(shard).or_default().sum_all(&d);
        self.rows
            .expect(row_writes(id, None, Some(version.results)));
    }
}

impl DynamoStore {
    /// Recounts every counter item from the findings (module docs); replaces
    /// them unless `dry_run`. Writers must be paused.
    pub async fn recount_counters(&self, dry_run: bool) -> StoreResult<RecountReport> {
        let segments = (0..SEGMENTS).map(|s| self.count_segment(s));
        let mut all = Segment::default();
        for part in try_join_all(segments).await? {
            all.findings += part.findings;
            all.missing.extend(part.missing);
            all.unmarked.extend(part.unmarked);
            all.resources.absorb(part.resources);
            all.rows.absorb(part.rows);
            for (shard, d) in part.shards {
                all.shards.entry(shard).or_default().sum_all(&d);
            }
        }
        let results_missing = all.missing.len() as u64;
        // Before any write: a table without the ranking index fails here, not
        // half-way.
        self.stored_resources(&mut all.resources).await?;
        if !dry_run {
            self.mark_all(&all.unmarked).await?;
        }
        let missing = std::mem::take(&mut all.missing);
        let mut filled = std::pin::pin!(self.fill_results(&missing, dry_run));
        // One item (its document) at a time, counted then dropped: a table
        // from before may hold a million of them.
        while let Some(item) = filled.next().await {
            if let Some(mut item) = item? {
                if !item.res_counted {
                    all.resources.unmarked.push((item.id.clone(), item.rev));
                    item.res_counted = true;
                }
                all.count(&item.id, item.shard(), &item.counted());
            }
        }
        let mut wanted_resources = ResourceDelta::default();
        for d in all.shards.values() {
            wanted_resources.sum(&d.resources);
        }
        let resource_writes = resource_fixes(&all.resources, &wanted_resources);
        let wanted = counter_items(&all.shards);
        let stored = self.stored_counters().await?;
        let differences = differences(&stored, &wanted);
        let mut differing: Vec<&String> = differences.iter().map(|d| &d.0).collect();
        differing.dedup();
        // The summary items last: their `k` and `g` let reports and groupings
        // read the control and generator items, which must be right by then
        // (a recount stopped half-way leaves them saying the items are not).
        differing.sort_by_key(|id| id.starts_with(COUNTER_PREFIX));
        let fixes = all.rows.fixes();
        let mut items_written = 0;
        if !dry_run {
            // Before the summary items, whose `x` lets groupings read them.
            self.write_resource_fixes(&resource_writes).await?;
            self.mark_resources(&all.resources.unmarked).await?;
            // Only what differs: a view item can be large, and each write is a
            // stream record too.
            for id in &differing {
                if let Some(attrs) = wanted.get(*id) {
                    self.replace_counter(id, attrs, &all.shards).await?;
                    items_written += 1;
                }
            }
            self.write_rows(&fixes).await?;
        }
        Ok(RecountReport {
            findings: all.findings,
            items_differing: differing.len(),
            differences,
            items_written,
            results_missing,
            rows_differing: fixes.len(),
            generators_unmarked: all.unmarked.len() as u64,
            resources_differing: resource_writes.len(),
            resources_unmarked: all.resources.unmarked.len() as u64,
        })
    }

    /// One `Scan` segment's findings, summed per shard, with the failing rows
    /// they want and the ones stored.
    async fn count_segment(&self, segment: i32) -> StoreResult<Segment> {
        let table = self.table();
        let (expr, names) = projection(COUNTED);
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        let mut out = Segment::default();
        loop {
            let page = retry(&self.settings.backoff, is_transient, || {
                self.client
                    .scan()
                    .table_name(table)
                    .segment(segment)
                    .total_segments(SEGMENTS)
                    .projection_expression(expr.clone())
                    .set_expression_attribute_names(Some(names.clone()))
                    .consistent_read(true)
                    .set_exclusive_start_key(start.clone())
                    .send()
            })
            .await
            .map_err(|e| Call::new("Scan", table).store_error(e))?;
            for item in page.items() {
                let Some(AttributeValue::S(id)) = item.get("id") else {
                    continue;
                };
                // Counter, compliance and other bookkeeping items start with `#`;
                // the failing rows among them are compared with the findings'.
                if id.starts_with('#') {
                    out.rows.stored(id, item);
                    continue;
                }
                let mut head: Head = from_item(item.clone()).map_err(|e| super::corrupt(id, e))?;
                out.findings += 1;
                if head.controls.is_none() {
                    // Written before results were kept: counted once filled in.
                    out.missing.push(id.clone());
                    continue;
                }
                if !head.res_counted {
                    out.resources.unmarked.push((id.clone(), head.rev));
                    head.res_counted = true;
                }
                if !head.gen_counted {
                    // Written before the generator items: counted there now,
                    // and marked so that its next write moves them.
                    out.unmarked.push((id.clone(), head.rev));
                    head.gen_counted = true;
                }
                out.count(id, counted_shard(id, head.counter_shard), &head.counted());
            }
            match page.last_evaluated_key() {
                Some(k) => start = Some(k.clone()),
                None => return Ok(out),
            }
        }
    }

    /// Every counter item as stored: id → attribute → value.
    /// The counts only: a control or generator item's labels are not compared.
    pub(super) async fn stored_counters(
        &self,
    ) -> StoreResult<BTreeMap<String, BTreeMap<String, i64>>> {
        let mut ids = all_shard_ids();
        ids.extend(all_view_ids());
        ids.extend(all_control_ids());
        ids.extend(all_generator_ids());
        let mut out = BTreeMap::new();
        for mut item in self.batch_get_items(&ids, None).await? {
            let Some(AttributeValue::S(id)) = item.remove("id") else {
                return Err(super::corrupt(
                    "#counts",
                    "counter item without a string id",
                ));
            };
            let mut attrs = BTreeMap::new();
            for (k, v) in item {
                if let AttributeValue::N(n) = v {
                    attrs.insert(k, n.parse().map_err(|e| super::corrupt(&id, e))?);
                }
            }
            out.insert(id, attrs);
        }
        Ok(out)
    }

    /// Replaces counter item `id` with exactly `attrs` (an empty item when
    /// nothing is counted there), and for a control or generator item the
    /// labels of its part in `shards`.
    async fn replace_counter(
        &self,
        id: &str,
        attrs: &BTreeMap<String, i64>,
        shards: &BTreeMap<u8, Delta>,
    ) -> StoreResult<()> {
        let mut item = Self::id_key(id)?;
        for (k, v) in attrs {
            item.insert(k.clone(), AttributeValue::N(v.to_string()));
        }
        let labels = shards.iter().flat_map(|(shard, d)| {
            let controls = d
                .controls
                .labels
                .iter()
                .map(|(p, l)| (control_item_id(*shard, *p), l));
            let generators = d
                .generators
                .labels
                .iter()
                .map(|(p, l)| (generator_item_id(*shard, *p), l));
            controls
                .chain(generators)
                .filter(|(item, _)| item == id)
                .flat_map(|(_, labels)| labels)
        });
        for (k, v) in labels {
            item.insert(k.clone(), AttributeValue::S(v.clone()));
        }
        self.put_plain(item).await
    }
}

impl DynamoStore {
    /// Marks the items of `unmarked` as counted per generator, a few at a
    /// time, each conditioned on the revision the scan read.
    async fn mark_all(&self, unmarked: &[(String, u64)]) -> StoreResult<()> {
        futures::stream::iter(unmarked)
            .map(|(id, rev)| self.mark_counted(id, *rev, None))
            .buffer_unordered(self.settings.concurrency.max(1))
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }
}

/// Every counter item's recounted attributes (all 16 + 64 + 256 + 256 ids,
/// empty where nothing is counted), from the per-shard sums.
fn counter_items(shards: &BTreeMap<u8, Delta>) -> BTreeMap<String, BTreeMap<String, i64>> {
    let mut out: BTreeMap<String, BTreeMap<String, i64>> = all_shard_ids()
        .into_iter()
        .chain(all_view_ids())
        .chain(all_control_ids())
        .chain(all_generator_ids())
        .map(|id| (id, BTreeMap::new()))
        .collect();
    for (shard, d) in shards {
        out.insert(shard_item_id(*shard), d.summary.clone());
        for (part, attrs) in &d.views {
            out.insert(view_id(*shard, *part), attrs.clone());
        }
        for (part, attrs) in &d.controls.tallies {
            out.insert(control_item_id(*shard, *part), attrs.clone());
        }
        for (part, attrs) in &d.generators.tallies {
            out.insert(generator_item_id(*shard, *part), attrs.clone());
        }
    }
    out
}

/// Attributes whose stored value differs from the recount (absent counts as 0).
fn differences(
    stored: &BTreeMap<String, BTreeMap<String, i64>>,
    wanted: &BTreeMap<String, BTreeMap<String, i64>>,
) -> Vec<(String, String, i64, i64)> {
    let empty = BTreeMap::new();
    let mut out = Vec::new();
    for (id, want) in wanted {
        let have = stored.get(id).unwrap_or(&empty);
        let mut attrs: Vec<&String> = want.keys().chain(have.keys()).collect();
        attrs.sort();
        attrs.dedup();
        for a in attrs {
            let (h, w) = (
                have.get(a).copied().unwrap_or(0),
                want.get(a).copied().unwrap_or(0),
            );
            if h != w {
                out.push((id.clone(), a.clone(), h, w));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
