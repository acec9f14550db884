//! The item half of a recount (recount.rs): filling in the results of
//! findings written before items kept them, marking the items written before
//! the generator items as counted there, and bringing the failing rows in
//! line with the findings' results.

use super::controls::{
    results_of, RowWrite, StoredResult, FINDING_ROW_PREFIX, RESOURCE_ROW_PREFIX,
};
use super::error::{is_transient, Call};
use super::item::FindingItem;
use super::DynamoStore;
use crate::retry::retry;
use crate::store::{StoreError, StoreResult};
use aws_sdk_dynamodb::types::AttributeValue;
use futures::{stream, StreamExt, TryStreamExt};
use serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value;
use std::collections::{BTreeMap, HashMap};

/// The item attribute holding a finding's compliance results. Every item
/// written since they are kept has it (an empty list for a finding that is no
/// control result), so its absence marks an item written before.
pub const CONTROLS_ATTR: &str = "controls";
/// The item attribute marking a finding counted in the generator items.
pub const GEN_COUNTED_ATTR: &str = "gen_counted";

/// Row id → (index partition, sort key).
type RowKeys = BTreeMap<String, (String, String)>;

/// The failing rows the findings want and the ones stored.
#[derive(Debug, Default)]
pub(super) struct Rows {
    wanted: RowKeys,
    stored: RowKeys,
}

impl Rows {
    /// Notes a scanned `#` item if it is a failing row.
    pub(super) fn stored(&mut self, id: &str, item: &HashMap<String, AttributeValue>) {
        if !(id.starts_with(RESOURCE_ROW_PREFIX) || id.starts_with(FINDING_ROW_PREFIX)) {
            return;
        }
        let text = |k: &str| match item.get(k) {
            Some(AttributeValue::S(s)) => s.clone(),
            _ => String::new(),
        };
        self.stored
            .insert(id.to_string(), (text("severity"), text("updated_at")));
    }

    /// Notes the rows a finding wants: the puts of its writes from absent.
    pub(super) fn expect(&mut self, writes: Vec<RowWrite>) {
        for w in writes {
            if let RowWrite::Put {
                id,
                partition,
                sort,
            } = w
            {
                self.wanted.insert(id, (partition, sort));
            }
        }
    }

    /// Adds another segment's rows.
    pub(super) fn absorb(&mut self, other: Rows) {
        self.wanted.extend(other.wanted);
        self.stored.extend(other.stored);
    }

    /// The writes that make the stored rows the wanted ones.
    pub(super) fn fixes(&self) -> Vec<RowWrite> {
        let mut out: Vec<RowWrite> = self
            .stored
            .keys()
            .filter(|id| !self.wanted.contains_key(*id))
            .map(|id| RowWrite::Delete { id: id.clone() })
            .collect();
        for (id, (partition, sort)) in &self.wanted {
            if self.stored.get(id) != Some(&(partition.clone(), sort.clone())) {
                out.push(RowWrite::Put {
                    id: id.clone(),
                    partition: partition.clone(),
                    sort: sort.clone(),
                });
            }
        }
        out
    }
}

impl DynamoStore {
    /// The items of `ids` with their compliance results worked out from their
    /// documents, each written onto its item (conditioned on the revision
    /// read) unless `dry_run`, a few at a time as the stream is read; `None`
    /// for an item gone since the scan.
    pub(super) fn fill_results<'a>(
        &'a self,
        ids: &'a [String],
        dry_run: bool,
    ) -> impl futures::Stream<Item = StoreResult<Option<FindingItem>>> + 'a {
        stream::iter(ids)
            .map(move |id| async move {
                let Some(mut item) = self.get_item(id).await? else {
                    return Ok(None);
                };
                let finding = item.finding().map_err(|e| super::corrupt(id, e))?;
                item.controls = Some(results_of(&finding, item.workflow_status));
                item.gen_counted = true;
                if !dry_run {
                    self.mark_counted(&item.id, item.rev, item.controls.as_deref())
                        .await?;
                }
                StoreResult::Ok(Some(item))
            })
            .buffered(self.settings.concurrency.max(1))
    }

    /// Marks the stored item `id`, if it is still at revision `rev`, as
    /// counted in the generator items, and sets its compliance `results` when
    /// given. The revision stays: the fanout decodes a write that keeps it to
    /// no change, so no sink hears of the back-fill.
    pub(super) async fn mark_counted(
        &self,
        id: &str,
        rev: u64,
        results: Option<&[StoredResult]>,
    ) -> StoreResult<()> {
        let mut set = vec!["#g = :g"];
        let mut names = HashMap::from([("#g".to_string(), GEN_COUNTED_ATTR.to_string())]);
        let mut values = HashMap::from([(":g".to_string(), AttributeValue::Bool(true))]);
        if let Some(results) = results {
            set.push("#c = :c");
            names.insert("#c".into(), CONTROLS_ATTR.into());
            values.insert(
                ":c".into(),
                to_attribute_value(results).map_err(|e| StoreError::Backend(Box::new(e)))?,
            );
        }
        let expr = format!("SET {}", set.join(", "));
        self.set_at_rev(id, rev, &expr, names, values).await
    }

    /// Applies the update `expr` to the stored item `id` if it is still at
    /// revision `rev` (`#r`/`:r` name it); a finding written since fails the
    /// recount, which runs with writers paused.
    pub(super) async fn set_at_rev(
        &self,
        id: &str,
        rev: u64,
        expr: &str,
        mut names: HashMap<String, String>,
        mut values: HashMap<String, AttributeValue>,
    ) -> StoreResult<()> {
        let table = self.table();
        names.insert("#r".to_string(), "rev".to_string());
        values.insert(":r".to_string(), AttributeValue::N(rev.to_string()));
        let key = Self::id_key(id)?;
        let r = retry(&self.settings.backoff, is_transient, || {
            self.client
                .update_item()
                .table_name(table)
                .set_key(Some(key.clone()))
                .update_expression(expr)
                .condition_expression("#r = :r")
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .send()
        })
        .await;
        if Call::new("UpdateItem", table).applied(r)? {
            Ok(())
        } else {
            Err(StoreError::Unavailable(format!(
                "finding {id} changed during the recount: pause the writers and run it again"
            )))
        }
    }

    /// Puts and deletes failing rows, a few at a time.
    pub(super) async fn write_rows(&self, writes: &[RowWrite]) -> StoreResult<()> {
        stream::iter(writes)
            .map(|w| self.write_row(w))
            .buffer_unordered(self.settings.concurrency.max(1))
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// Puts or deletes one failing row.
    async fn write_row(&self, w: &RowWrite) -> StoreResult<()> {
        match w {
            RowWrite::Put {
                id,
                partition,
                sort,
            } => self.put_plain(RowWrite::item(id, partition, sort)).await,
            RowWrite::Delete { id } => self.delete_plain(id).await,
        }
    }

    /// Deletes item `id`, unconditionally, with backoff (a recount's removal
    /// of bookkeeping items).
    pub(super) async fn delete_plain(&self, id: &str) -> StoreResult<()> {
        let table = self.table();
        let key = Self::id_key(id)?;
        retry(&self.settings.backoff, is_transient, || {
            self.client
                .delete_item()
                .table_name(table)
                .set_key(Some(key.clone()))
                .send()
        })
        .await
        .map_err(|e| Call::new("DeleteItem", table).store_error(e))?;
        Ok(())
    }

    /// Writes `item` whole, unconditionally, with backoff (a recount's
    /// replacement of bookkeeping items).
    pub(super) async fn put_plain(&self, item: HashMap<String, AttributeValue>) -> StoreResult<()> {
        let table = self.table();
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
