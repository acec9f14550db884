//! The actions a finding's transaction carries besides its own put or delete:
//! the counter updates of its change (summary, view, control and generator
//! parts of its shard) and its failing compliance rows.

use super::controls::{control_item_id, RowWrite};
use super::counters::{shard_id, shard_of, Delta};
use super::error::{backend, ErrorKind};
use super::generators::generator_item_id;
use super::parted::PartDelta;
use super::views::view_id;
use super::DynamoStore;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value;
use std::collections::{BTreeMap, HashMap};

/// The id of a parted counter item from its shard and part.
type ItemId = fn(u8, u8) -> String;

/// Expression attribute names of an update or condition.
pub(super) type Names = HashMap<String, String>;
/// Expression attribute values of an update or condition.
pub(super) type Values = HashMap<String, AttributeValue>;

/// The counter updates of `delta`, a change to the shard `finding_id` belongs
/// to (any finding of that shard names the same items): one `ADD` on the shard's
/// summary item, one on each view part and one on each control and generator
/// part the change touches (setting that part's labels too).
pub(super) fn counter_updates(
    store: &DynamoStore,
    finding_id: &str,
    delta: &Delta,
) -> Result<Vec<TransactWriteItem>, ErrorKind> {
    let shard = shard_of(finding_id);
    let mut out = Vec::with_capacity(delta.items());
    let no_labels = BTreeMap::new();
    if !delta.summary.is_empty() {
        out.push(counter_update(
            store,
            &shard_id(finding_id),
            &delta.summary,
            &no_labels,
        )?);
    }
    for (part, attrs) in &delta.views {
        out.push(counter_update(
            store,
            &view_id(shard, *part),
            attrs,
            &no_labels,
        )?);
    }
    let parted: [(ItemId, &PartDelta); 2] = [
        (control_item_id, &delta.controls),
        (generator_item_id, &delta.generators),
    ];
    for (item_id, change) in parted {
        for (part, attrs) in &change.tallies {
            let labels = change.labels.get(part).unwrap_or(&no_labels);
            out.push(counter_update(
                store,
                &item_id(shard, *part),
                attrs,
                labels,
            )?);
        }
    }
    Ok(out)
}

/// `ADD` of each attribute's change to the counter item `item_id`, and `SET`
/// of each label.
fn counter_update(
    store: &DynamoStore,
    item_id: &str,
    attrs: &BTreeMap<String, i64>,
    labels: &BTreeMap<String, String>,
) -> Result<TransactWriteItem, ErrorKind> {
    let mut names = Names::new();
    let mut values = Values::new();
    let mut adds = Vec::new();
    for (i, (attr, by)) in attrs.iter().enumerate() {
        names.insert(format!("#c{i}"), attr.clone());
        values.insert(format!(":c{i}"), to_attribute_value(by).map_err(backend)?);
        adds.push(format!("#c{i} :c{i}"));
    }
    let mut sets = Vec::new();
    for (i, (attr, text)) in labels.iter().enumerate() {
        names.insert(format!("#l{i}"), attr.clone());
        values.insert(format!(":l{i}"), AttributeValue::S(text.clone()));
        sets.push(format!("#l{i} = :l{i}"));
    }
    let mut expr = format!("ADD {}", adds.join(", "));
    if !sets.is_empty() {
        expr = format!("{expr} SET {}", sets.join(", "));
    }
    let update = Update::builder()
        .table_name(store.table())
        .set_key(Some(
            DynamoStore::id_key(item_id).map_err(|e| ErrorKind::Fatal(e.to_string()))?,
        ))
        .update_expression(expr)
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .build()
        .map_err(backend)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// The transaction actions of row writes ([`super::controls`]): unconditional,
/// since the finding's own conditional put in the same transaction decides.
pub(super) fn row_actions(
    store: &DynamoStore,
    rows: &[RowWrite],
) -> Result<Vec<TransactWriteItem>, ErrorKind> {
    let key = |id: &str| DynamoStore::id_key(id).map_err(|e| ErrorKind::Fatal(e.to_string()));
    rows.iter()
        .map(|r| {
            Ok(match r {
                RowWrite::Put {
                    id,
                    partition,
                    sort,
                } => {
                    let put = Put::builder()
                        .table_name(store.table())
                        .set_item(Some(RowWrite::item(id, partition, sort)))
                        .build()
                        .map_err(backend)?;
                    TransactWriteItem::builder().put(put).build()
                }
                RowWrite::Delete { id } => {
                    let del = Delete::builder()
                        .table_name(store.table())
                        .set_key(Some(key(id)?))
                        .build()
                        .map_err(backend)?;
                    TransactWriteItem::builder().delete(del).build()
                }
            })
        })
        .collect()
}
