//! Counter items split into parts per counter shard, whose attributes are
//! tallies (numbers `ADD`ed on write) and labels (texts `SET` beside them): the
//! control items (controls.rs) and the generator items (generators.rs) share
//! this shape, how their changes sum and how their attributes are read.

use super::corrupt;
use crate::store::StoreResult;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::{BTreeMap, HashMap};

/// Changes to one shard's parted items: per part, tally attribute → change,
/// and the labels to set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartDelta {
    /// Part → tally attribute → change.
    pub tallies: BTreeMap<u8, BTreeMap<String, i64>>,
    /// Part → label attribute → value.
    pub labels: BTreeMap<u8, BTreeMap<String, String>>,
}

impl PartDelta {
    /// Moves tally `attr` of `part` by `by`.
    pub fn count(&mut self, part: u8, attr: String, by: i64) {
        *self
            .tallies
            .entry(part)
            .or_default()
            .entry(attr)
            .or_default() += by;
    }

    /// Sets label `attr` of `part` to `value`.
    pub fn label(&mut self, part: u8, attr: String, value: String) {
        self.labels.entry(part).or_default().insert(attr, value);
    }

    /// Drops the tallies that net to zero, and the labels of a part no tally
    /// moves: a label goes with a tally that moves in its part, or not at all,
    /// so a write that moves no tally touches no item.
    pub fn drop_zeros(&mut self) {
        for attrs in self.tallies.values_mut() {
            attrs.retain(|_, v| *v != 0);
        }
        self.tallies.retain(|_, attrs| !attrs.is_empty());
        let tallies = &self.tallies;
        self.labels.retain(|part, _| tallies.contains_key(part));
    }

    /// Adds `other` (summed changes of one shard's writes); later labels win.
    pub fn add(&mut self, other: &PartDelta) {
        self.sum(other);
        self.drop_zeros();
    }

    /// Adds `other` keeping tallies that net to zero (a recount's sums).
    pub fn sum(&mut self, other: &PartDelta) {
        for (part, attrs) in &other.tallies {
            let mine = self.tallies.entry(*part).or_default();
            for (k, v) in attrs {
                *mine.entry(k.clone()).or_default() += v;
            }
        }
        for (part, attrs) in &other.labels {
            let mine = self.labels.entry(*part).or_default();
            for (k, v) in attrs {
                mine.insert(k.clone(), v.clone());
            }
        }
    }

    /// True when no tally moves.
    pub fn is_empty(&self) -> bool {
        self.tallies.is_empty()
    }

    /// The parts this change updates.
    pub fn parts(&self) -> impl Iterator<Item = u8> + '_ {
        self.tallies.keys().copied()
    }
}

/// One value of a parted item's attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartValue {
    /// A tally.
    Count(i64),
    /// A label.
    Text(String),
}

/// The attributes of a parted item read from the table (its `id` removed):
/// numbers are tallies, strings labels.
pub fn part_values(
    id: &str,
    item: HashMap<String, AttributeValue>,
) -> StoreResult<HashMap<String, PartValue>> {
    item.into_iter()
        .map(|(k, v)| match v {
            AttributeValue::N(n) => n
                .parse()
                .map(|n| (k, PartValue::Count(n)))
                .map_err(|e| corrupt(id, e)),
            AttributeValue::S(s) => Ok((k, PartValue::Text(s))),
            _ => Err(corrupt(id, "counter item attribute of another type")),
        })
        .collect()
}

/// A label holding the text of the finding updated last, `["<updated_at>",
/// "<text>"]`: of the values the shards hold, the newest finding's is shown.
pub fn dated(updated: &str, text: &str) -> String {
    serde_json::to_string(&(updated, text)).unwrap_or_default()
}

/// Keeps in `newest` the later of it and the dated label `value` (a label that
/// does not parse is skipped with a warning).
pub fn keep_newest(newest: &mut (String, String), attr: &str, value: &str) {
    match serde_json::from_str::<(String, String)>(value) {
        Ok(d) if d > *newest => *newest = d,
        Ok(_) => {}
        Err(_) => tracing::warn!(%attr, "label is not [updated, text]"),
    }
}
