//! Recounting the counter items from the findings themselves: `cspm recount
//! --store dynamodb`.
//!
//! Every write keeps the summary and view counters exact in its own transaction
//! (counters.rs), so a table never needs this in normal running. It does after
//! an upgrade that adds counters (a table written before the view counters has
//! none, so its counts start from zero), after TTL removed findings the archive
//! had not deleted, or after anything wrote the table outside the store.
//!
//! The recount reads every finding item once (a parallel `Scan` of the counted
//! attributes only), sums them per shard exactly as the writes do
//! ([`Delta`]), compares the sums with the stored items and, unless it is a dry
//! run, replaces each counter item that differs with its recounted value.
//! Writers must be paused while it runs: a write committed between the scan and
//! the replacement would be counted twice or not at all.

use super::counters::{all_shard_ids, all_view_ids, shard_item_id, shard_of, Delta};
use super::error::{is_transient, Call};
use super::item::{projection, Head};
use super::views::view_id;
use super::DynamoStore;
use crate::retry::retry;
use crate::store::StoreResult;
use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::try_join_all;
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
}

impl DynamoStore {
    /// Recounts every counter item from the findings (module docs); replaces
    /// them unless `dry_run`. Writers must be paused.
    pub async fn recount_counters(&self, dry_run: bool) -> StoreResult<RecountReport> {
        let segments = (0..SEGMENTS).map(|s| self.count_segment(s));
        let mut shards: BTreeMap<u8, Delta> = BTreeMap::new();
        let mut findings = 0;
        for (n, part) in try_join_all(segments).await? {
            findings += n;
            for (shard, d) in part {
                shards.entry(shard).or_default().add(&d);
            }
        }
        let wanted = counter_items(&shards);
        let stored = self.stored_counters().await?;
        let differences = differences(&stored, &wanted);
        let mut differing: Vec<&String> = differences.iter().map(|d| &d.0).collect();
        differing.dedup();
        let mut items_written = 0;
        if !dry_run {
            // Only what differs: a view item can be large, and each write is a
            // stream record too.
            for id in &differing {
                if let Some(attrs) = wanted.get(*id) {
                    self.replace_counter(id, attrs).await?;
                    items_written += 1;
                }
            }
        }
        Ok(RecountReport {
            findings,
            items_differing: differing.len(),
            differences,
            items_written,
        })
    }

    /// One `Scan` segment's findings, summed per shard.
    async fn count_segment(&self, segment: i32) -> StoreResult<(u64, BTreeMap<u8, Delta>)> {
        let table = self.table();
        let (expr, names) = projection(COUNTED);
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        let mut shards: BTreeMap<u8, Delta> = BTreeMap::new();
        let mut findings = 0;
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
                // Counter, compliance and other bookkeeping items start with `#`.
                if id.starts_with('#') {
                    continue;
                }
                let head: Head = from_item(item.clone()).map_err(|e| super::corrupt(id, e))?;
                let d = Delta::between(None, Some(&head.facets()));
                shards.entry(shard_of(id)).or_default().sum(&d);
                findings += 1;
            }
            match page.last_evaluated_key() {
                Some(k) => start = Some(k.clone()),
                None => return Ok((findings, shards)),
            }
        }
    }

    /// Every counter item as stored: id → attribute → value.
    async fn stored_counters(&self) -> StoreResult<BTreeMap<String, BTreeMap<String, i64>>> {
        let mut ids = all_shard_ids();
        ids.extend(all_view_ids());
        let mut out = BTreeMap::new();
        for mut item in self.batch_get_items(&ids, None).await? {
            let Some(AttributeValue::S(id)) = item.remove("id") else {
                return Err(super::corrupt(
                    "#counts",
                    "counter item without a string id",
                ));
            };
            let attrs: BTreeMap<String, i64> =
                from_item(item).map_err(|e| super::corrupt(&id, e))?;
            out.insert(id, attrs);
        }
        Ok(out)
    }

    /// Replaces counter item `id` with exactly `attrs` (an empty item when
    /// nothing is counted there).
    async fn replace_counter(&self, id: &str, attrs: &BTreeMap<String, i64>) -> StoreResult<()> {
        let table = self.table();
        let mut item = Self::id_key(id)?;
        for (k, v) in attrs {
            item.insert(k.clone(), AttributeValue::N(v.to_string()));
        }
        retry(&self.settings.backoff, is_transient, || {
            self.client
                .put_item()
                .table_name(table)
                .set_item(Some(item.clone()))
                .send()
        })
        .await
        .map_err(|e| Call::new("PutItem", table).store_error(e))?;
        Ok(())
    }
}

/// Every counter item's recounted attributes (all 16 + 64 ids, empty where
/// nothing is counted), from the per-shard sums.
fn counter_items(shards: &BTreeMap<u8, Delta>) -> BTreeMap<String, BTreeMap<String, i64>> {
    let mut out: BTreeMap<String, BTreeMap<String, i64>> = all_shard_ids()
        .into_iter()
        .chain(all_view_ids())
        .map(|id| (id, BTreeMap::new()))
        .collect();
    for (shard, d) in shards {
        out.insert(shard_item_id(*shard), d.summary.clone());
        for (part, attrs) in &d.views {
            out.insert(view_id(*shard, *part), attrs.clone());
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
mod tests {
    use super::*;

    #[test]
    fn every_counter_item_is_named_and_a_stale_or_missing_attribute_is_a_difference() {
        let mut shards = BTreeMap::new();
        let mut d = Delta::default();
        d.summary.insert("t".into(), 2);
        shards.insert(3u8, d);
        let wanted = counter_items(&shards);
        assert_eq!(wanted.len(), 16 + 64);
        assert_eq!(wanted["#counts#03"].get("t"), Some(&2));
        let mut stored = BTreeMap::new();
        stored.insert(
            "#counts#03".to_string(),
            BTreeMap::from([("t".to_string(), 1), ("s#LOW".to_string(), 4)]),
        );
        let diff = differences(&stored, &wanted);
        assert_eq!(
            diff,
            vec![
                ("#counts#03".into(), "s#LOW".into(), 4, 0),
                ("#counts#03".into(), "t".into(), 1, 2),
            ]
        );
    }
}
