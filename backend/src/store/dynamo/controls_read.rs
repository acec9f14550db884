//! Reading the compliance results kept per control (controls.rs): the control
//! items in consistent `BatchGetItem`s, then for a drill-down each failing
//! control's failing resources and findings from its row partitions.

use super::controls::{row_partition, rows_of, FINDING_ROW_PREFIX, RESOURCE_ROW_PREFIX};
use super::error::{is_transient, Call};
use super::parted::part_values;
use super::{corrupt, counters, DynamoStore, INDEX_NAME};
use crate::retry::retry;
use crate::store::control_rows::ControlRow;
use crate::store::StoreResult;
use aws_sdk_dynamodb::types::AttributeValue;
use futures::{stream, StreamExt, TryStreamExt};
use serde_dynamo::aws_sdk_dynamodb_1::from_item;
use shared_types::MAX_FAILING_RESOURCES;
use std::collections::HashMap;

/// Failing controls whose lists are read at once: a standard of 250 failing
/// controls is 500 small queries, which in sequence would take seconds.
const LISTS_IN_FLIGHT: usize = 32;

impl DynamoStore {
    /// Every control's row, with the failing lists of `failing_of`'s failed
    /// controls. The lists come from the index, which follows the table within
    /// about a second. `None` while some finding items lack their results (a
    /// table written before they were kept, until `cspm recount`): a report
    /// then reads every finding.
    pub(super) async fn control_rows(
        &self,
        failing_of: Option<&str>,
    ) -> StoreResult<Option<Vec<ControlRow>>> {
        let mut ids = counters::all_control_ids();
        ids.extend(counters::all_shard_ids());
        let mut items = Vec::new();
        let mut summary = Vec::new();
        for mut item in self.batch_get_items(&ids, None).await? {
            let id = match item.remove("id") {
                Some(AttributeValue::S(id)) => id,
                _ => return Err(corrupt("#controls", "control item without a string id")),
            };
            if id.starts_with(counters::COUNTER_PREFIX) {
                let attrs: HashMap<String, i64> = from_item(item).map_err(|e| corrupt(&id, e))?;
                summary.push(attrs);
                continue;
            }
            let attrs = part_values(&id, item)?;
            items.push(attrs);
        }
        if !every_result_kept(&summary) {
            return Ok(None);
        }
        let mut rows = rows_of(&items);
        let Some(slug) = failing_of else {
            return Ok(Some(rows));
        };
        let failing: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i].slug == slug && rows[i].tally.failed > 0)
            .collect();
        let lists: Vec<(usize, Vec<String>, Vec<String>)> = stream::iter(failing)
            .map(|i| {
                let control = rows[i].control_id.clone();
                async move {
                    let resources = self
                        .failing_keys(
                            &row_partition(RESOURCE_ROW_PREFIX, slug, &control),
                            None,
                            MAX_FAILING_RESOURCES,
                        )
                        .await?;
                    let findings = self
                        .failing_keys(
                            &row_partition(FINDING_ROW_PREFIX, slug, &control),
                            None,
                            MAX_FAILING_RESOURCES,
                        )
                        .await?;
                    StoreResult::Ok((i, resources, findings))
                }
            })
            .buffered(LISTS_IN_FLIGHT)
            .try_collect()
            .await?;
        for (i, resources, findings) in lists {
            rows[i].failing_resources = resources;
            rows[i].failing_findings = findings;
        }
        Ok(Some(rows))
    }

    /// A page of the failing findings of one control (`Store::failing_findings`)
    /// from its row partition; `None` while some finding items lack their
    /// results, as for [`DynamoStore::control_rows`].
    pub(super) async fn failing_finding_ids(
        &self,
        slug: &str,
        control_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut summary = Vec::new();
        for mut item in self
            .batch_get_items(&counters::all_shard_ids(), None)
            .await?
        {
            item.remove("id");
            summary.push(from_item(item).map_err(|e| corrupt("#counters", e))?);
        }
        if !every_result_kept(&summary) {
            return Ok(None);
        }
        let partition = row_partition(FINDING_ROW_PREFIX, slug, control_id);
        Ok(Some(self.failing_keys(&partition, after, limit).await?))
    }

    /// The smallest distinct sort keys of a row partition after `after`, at
    /// most `limit`.
    async fn failing_keys(
        &self,
        partition: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let table = self.table();
        let names = HashMap::from([
            ("#p".to_string(), "severity".to_string()),
            ("#s".to_string(), "updated_at".to_string()),
        ]);
        let mut values =
            HashMap::from([(":p".to_string(), AttributeValue::S(partition.to_string()))]);
        let condition = match after {
            Some(a) => {
                values.insert(":a".to_string(), AttributeValue::S(a.to_string()));
                "#p = :p AND #s > :a"
            }
            None => "#p = :p",
        };
        // A resource can fail twice (two findings): read a little more.
        let page_size = i32::try_from(limit.saturating_add(20)).unwrap_or(i32::MAX);
        let mut out: Vec<String> = Vec::new();
        let mut start = None;
        loop {
            let page = retry(&self.settings.backoff, is_transient, || {
                self.client
                    .query()
                    .table_name(table)
                    .index_name(INDEX_NAME)
                    .key_condition_expression(condition)
                    .projection_expression("#s")
                    .set_expression_attribute_names(Some(names.clone()))
                    .set_expression_attribute_values(Some(values.clone()))
                    .limit(page_size)
                    .set_exclusive_start_key(start.clone())
                    .send()
            })
            .await
            .map_err(|e| Call::new("Query", table).store_error(e))?;
            for item in page.items() {
                if let Some(AttributeValue::S(key)) = item.get("updated_at") {
                    if out.last() != Some(key) {
                        out.push(key.clone());
                    }
                }
                if out.len() == limit {
                    return Ok(out);
                }
            }
            match page.last_evaluated_key() {
                Some(k) => start = Some(k.clone()),
                None => return Ok(out),
            }
        }
    }
}

/// Whether every finding item carries its compliance results (the summary's
/// kept count is its total); if not, says why the caller reads every finding.
fn every_result_kept(summary: &[HashMap<String, i64>]) -> bool {
    let (total, kept) = (
        counters::total(summary),
        counters::sum_of(summary, counters::KEPT),
    );
    if kept != total {
        tracing::warn!(
            findings = total,
            with_results = kept,
            "some findings have no compliance results on their items: reading every \
             finding for this report; run `cspm recount --store dynamodb` to fill them in"
        );
    }
    kept == total
}
