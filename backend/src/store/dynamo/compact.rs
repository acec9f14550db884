//! Dropping the tallies that netted to zero from the view, control and
//! generator items.
//!
//! A write moves a tally with `ADD`, which cannot remove an attribute, so a
//! tally stays at 0 when its last finding leaves (resolved, moved to another
//! combination, archived). Left alone, those items would keep every
//! combination, control and generator ever seen: every write to an item pays
//! for its whole size, and an item stops taking writes at DynamoDB's 400 KB.
//! Each archive run removes them afterwards (archive/run.rs). Each removal is
//! conditioned on the tallies still being 0, so a write that moved one in
//! between keeps the item as it is until the next run; a removed tally that a
//! later write moves comes back from 0, which is what it was. The 16 summary
//! items are left as they are: their keys are severities, statuses, accounts,
//! resource types and days, not combinations of them. Control labels (a control's title, a standard's name) stay: there is
//! one per control, not per combination. A resource item whose findings are
//! all gone (resources.rs, rank 0) is deleted whole: resources come and go
//! (instances, images), and each would otherwise keep its item.

use super::counters::COUNTER_PREFIX;
use super::error::{is_transient, Call};
use super::resources::{RANK_ATTR, RANK_INDEX_NAME, RANK_PART, RANK_PART_ATTR};
use super::DynamoStore;
use crate::retry::retry;
use crate::store::StoreResult;
use aws_sdk_dynamodb::types::AttributeValue;
use futures::{stream, StreamExt, TryStreamExt};
use std::collections::HashMap;

/// Tallies one `UpdateItem` removes: 100 conditions joined by `AND` are 199
/// operators and ≈ 1.7 KB, within DynamoDB's 300 operators and 4 KB per
/// expression (do not raise it past ≈ 150).
const PER_UPDATE: usize = 100;

/// What one compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactReport {
    /// Zero tallies removed.
    pub removed: u64,
    /// Zero tallies kept because a write moved one of its update's tallies
    /// after the read (the next run removes them if they are 0 again).
    pub raced: u64,
}

impl DynamoStore {
    /// Removes every view, control and generator tally that is 0.
    pub(super) async fn drop_zero_tallies(&self) -> StoreResult<CompactReport> {
        let stored = self.stored_counters().await?;
        let updates: Vec<(String, Vec<String>)> = stored
            .into_iter()
            .filter(|(id, _)| !id.starts_with(COUNTER_PREFIX))
            .flat_map(|(id, attrs)| {
                let zeros: Vec<String> = attrs
                    .into_iter()
                    .filter(|(_, n)| *n == 0)
                    .map(|(attr, _)| attr)
                    .collect();
                zeros
                    .chunks(PER_UPDATE)
                    .map(|c| (id.clone(), c.to_vec()))
                    .collect::<Vec<_>>()
            })
            .collect();
        stream::iter(updates)
            .map(|(id, zeros)| async move {
                let removed = self.remove_zeros(&id, &zeros).await?;
                let n = zeros.len() as u64;
                StoreResult::Ok(if removed {
                    CompactReport {
                        removed: n,
                        raced: 0,
                    }
                } else {
                    CompactReport {
                        removed: 0,
                        raced: n,
                    }
                })
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .try_fold(CompactReport::default(), |a, b| async move {
                Ok(CompactReport {
                    removed: a.removed + b.removed,
                    raced: a.raced + b.raced,
                })
            })
            .await
    }

    /// Removes `zeros` from item `id` if every one is still 0; `false` when a
    /// write moved one since.
    async fn remove_zeros(&self, id: &str, zeros: &[String]) -> StoreResult<bool> {
        let table = self.table();
        let key = Self::id_key(id)?;
        let names: HashMap<String, String> = zeros
            .iter()
            .enumerate()
            .map(|(i, attr)| (format!("#t{i}"), attr.clone()))
            .collect();
        let placeholders: Vec<String> = (0..zeros.len()).map(|i| format!("#t{i}")).collect();
        let update = format!("REMOVE {}", placeholders.join(", "));
        let condition = placeholders
            .iter()
            .map(|p| format!("{p} = :zero"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let r = retry(&self.settings.backoff, is_transient, || {
            self.client
                .update_item()
                .table_name(table)
                .set_key(Some(key.clone()))
                .update_expression(update.clone())
                .condition_expression(condition.clone())
                .set_expression_attribute_names(Some(names.clone()))
                .expression_attribute_values(":zero", AttributeValue::N("0".into()))
                .send()
        })
        .await;
        Call::new("UpdateItem", table).applied(r)
    }

    /// Deletes the resource items whose findings are all gone (rank 0, found
    /// through the ranking index), each on condition that it is still empty:
    /// a write that counts a finding in again between the read and the delete
    /// keeps it, and one after the delete creates it afresh. Returns the items
    /// deleted.
    pub(super) async fn drop_empty_resources(&self) -> StoreResult<u64> {
        let table = self.table();
        let zero = || AttributeValue::N("0".into());
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        let mut dropped = 0u64;
        loop {
            let page = retry(&self.settings.backoff, is_transient, || {
                self.client
                    .query()
                    .table_name(table)
                    .index_name(RANK_INDEX_NAME)
                    .key_condition_expression("#p = :p AND #r = :zero")
                    .expression_attribute_names("#p", RANK_PART_ATTR)
                    .expression_attribute_names("#r", RANK_ATTR)
                    .expression_attribute_values(":p", AttributeValue::S(RANK_PART.into()))
                    .expression_attribute_values(":zero", zero())
                    .projection_expression("id")
                    .set_exclusive_start_key(start.clone())
                    .send()
            })
            .await
            .map_err(|e| Call::new("Query", table).store_error(e))?;
            let ids: Vec<String> = page
                .items()
                .iter()
                .filter_map(|i| match i.get("id") {
                    Some(AttributeValue::S(id)) => Some(id.clone()),
                    _ => None,
                })
                .collect();
            dropped += stream::iter(ids)
                .map(|id| self.delete_if_empty(id))
                .buffer_unordered(self.settings.concurrency.max(1))
                .try_fold(0u64, |n, gone| async move { Ok(n + u64::from(gone)) })
                .await?;
            match page.last_evaluated_key() {
                Some(k) => start = Some(k.clone()),
                None => return Ok(dropped),
            }
        }
    }

    /// Deletes resource item `id` if its rank is still 0.
    async fn delete_if_empty(&self, id: String) -> StoreResult<bool> {
        let table = self.table();
        let key = Self::id_key(&id)?;
        let r = retry(&self.settings.backoff, is_transient, || {
            self.client
                .delete_item()
                .table_name(table)
                .set_key(Some(key.clone()))
                .condition_expression("#r = :zero")
                .expression_attribute_names("#r", RANK_ATTR)
                .expression_attribute_values(":zero", AttributeValue::N("0".into()))
                .send()
        })
        .await;
        Call::new("DeleteItem", table).applied(r)
    }
}
