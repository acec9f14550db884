//! The actions a finding's transaction carries besides its own put or delete:
//! the counter updates of its change (summary, view, control and generator
//! parts of its shard, and its resources' items) and its failing compliance
//! rows.

use super::controls::{control_item_id, RowWrite};
use super::counters::{shard_item_id, Delta};
use super::error::{backend, ErrorKind};
use super::generators::generator_item_id;
use super::parted::PartDelta;
use super::resources::{
    resource_item_id, tally_attr, ResourceChange, MOVED_ATTR, RANK_ATTR, RANK_PART, RANK_PART_ATTR,
    RESOURCE_ATTR,
};
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

/// The counter updates of `delta`, a change to counter shard `shard`: one `ADD` on the shard's
/// summary item, one on each view part and one on each control and generator
/// part the change touches (setting that part's labels too), and one on the
/// item of each resource whose counts move.
pub(super) fn counter_updates(
    store: &DynamoStore,
    shard: u8,
    delta: &Delta,
) -> Result<Vec<TransactWriteItem>, ErrorKind> {
    let mut out = Vec::with_capacity(delta.items());
    let no_labels = BTreeMap::new();
    if !delta.summary.is_empty() {
        out.push(counter_update(
            store,
            &shard_item_id(shard),
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
    for (resource, change) in &delta.resources.0 {
        out.push(resource_update(store, resource, change)?);
    }
    Ok(out)
}

/// `ADD` of a resource's tally changes and rank change to its item, and `SET`
/// of what names it in the ranking (the first write creates the item).
fn resource_update(
    store: &DynamoStore,
    resource: &str,
    change: &ResourceChange,
) -> Result<TransactWriteItem, ErrorKind> {
    let mut names = Names::from([
        ("#rank".to_string(), RANK_ATTR.to_string()),
        ("#part".to_string(), RANK_PART_ATTR.to_string()),
        ("#res".to_string(), RESOURCE_ATTR.to_string()),
    ]);
    let mut values = Values::from([
        // A number of up to 38 digits: i128's text, as DynamoDB reads it.
        (
            ":rank".to_string(),
            AttributeValue::N(change.rank().to_string()),
        ),
        (
            ":part".to_string(),
            AttributeValue::S(RANK_PART.to_string()),
        ),
        (":res".to_string(), AttributeValue::S(resource.to_string())),
    ]);
    let mut adds = vec!["#rank :rank".to_string()];
    for (i, ((severity, status), by)) in change.tallies.iter().enumerate() {
        names.insert(format!("#c{i}"), tally_attr(*severity, *status));
        values.insert(format!(":c{i}"), AttributeValue::N(by.to_string()));
        adds.push(format!("#c{i} :c{i}"));
    }
    let mut sets = vec!["#part = :part".to_string(), "#res = :res".to_string()];
    if let Some(at) = &change.moved_at {
        names.insert("#moved".to_string(), MOVED_ATTR.to_string());
        values.insert(":moved".to_string(), AttributeValue::S(at.clone()));
        sets.push("#moved = :moved".to_string());
    }
    let update = Update::builder()
        .table_name(store.table())
        .set_key(Some(
            DynamoStore::id_key(&resource_item_id(resource))
                .map_err(|e| ErrorKind::Fatal(e.to_string()))?,
        ))
        .update_expression(format!("ADD {} SET {}", adds.join(", "), sets.join(", ")))
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .build()
        .map_err(backend)?;
    Ok(TransactWriteItem::builder().update(update).build())
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
