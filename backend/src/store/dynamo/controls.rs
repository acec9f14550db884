//! Compliance results kept on write, so a compliance report reads a fixed
//! number of counter items instead of every finding (as the summary does,
//! counters.rs; SQLite folds the same results from its change feed,
//! store/sqlite/compliance_fold.rs).
//!
//! Each finding item carries its results (attribute `controls`: one per
//! standard it is a control result in, with the verdict its written status
//! gives). A write that changes them, in the same transaction as the finding:
//! - moves the control's tally — findings per verdict — in one of the
//!   [`CONTROL_PARTS`] control items of the finding's counter shard,
//!   `#controls#SS.PP` (a shard's transactions never meet another shard's
//!   items, as with the view counters), and sets the control's title and the
//!   standard's name there;
//! - keeps one row item per failing result and list, found through the
//!   severity/time index under a partition of its own (the index's hash key is
//!   a severity for findings; no finding query names these partitions):
//!   `#cfr#<finding>#<slug>` under `#cfr#<slug>#<control>` sorted by resource,
//!   `#cff#<finding>#<slug>` under `#cff#<slug>#<control>` sorted by finding id
//!   — a drill-down's failing resources and findings, smallest first.
//!
//! A report then reads the 16 × [`CONTROL_PARTS`] control items, and a
//! drill-down adds two queries per failing control.

use super::parted::{dated, keep_newest, PartDelta, PartValue};
use crate::compliance::control::memberships;
use crate::compliance::score::{verdict_of, Tally, Verdict};
use crate::store::control_rows::ControlRow;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared_types::{Finding, WorkflowStatus};
use std::collections::{BTreeMap, HashMap};

/// Control items per counter shard. A shard counts every control its
/// findings are results of: with titles, ≈ 200 bytes a control, so ≈ 1,000
/// controls (every standard Security Hub has) make items of ≈ 12 KB, and a
/// write that moves one tally costs its item's size in write units.
pub const CONTROL_PARTS: u8 = 16;
/// Control item ids start with this; finding ids never contain `#`.
pub const CONTROL_PREFIX: &str = "#controls#";
/// Failing-resource rows: item ids and index partitions start with this.
pub const RESOURCE_ROW_PREFIX: &str = "#cfr#";
/// Failing-finding rows: item ids and index partitions start with this.
pub const FINDING_ROW_PREFIX: &str = "#cff#";

/// Longest index hash key DynamoDB accepts, in bytes.
const MAX_PARTITION_BYTES: usize = 2048;
/// Longest index range key DynamoDB accepts, in bytes.
const MAX_SORT_BYTES: usize = 1024;

/// The control item of `part` in the counter shard numbered `shard`.
pub fn control_item_id(shard: u8, part: u8) -> String {
    format!("{CONTROL_PREFIX}{shard:02}.{part:02}")
}

/// One compliance result of a finding, as its item keeps it (short names: it
/// is on every control finding's item).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StoredResult {
    /// The standard's slug.
    #[serde(rename = "s")]
    pub slug: String,
    /// The control's id in it.
    #[serde(rename = "c")]
    pub control_id: String,
    /// [`Verdict::code`].
    #[serde(rename = "v")]
    pub verdict: u8,
    /// The standard's display name.
    #[serde(rename = "n")]
    pub standard_name: String,
}

/// Standards a finding counts in at most (the first by slug). A write that
/// moves every result to other standards has up to 2 × 18 slugs with two row
/// writes each, so the one-finding transaction stays within DynamoDB's 100
/// actions: 1 put + 72 rows + 1 summary + 2 view + 16 control + 2 generator
/// parts = 94. Security Hub's consolidated findings name a handful.
pub const MAX_RESULTS: usize = 18;

/// The results of `f` written with workflow status `status` (the one the
/// write decided, which may differ from the incoming finding's), by slug, at
/// most [`MAX_RESULTS`].
pub fn results_of(f: &Finding, status: WorkflowStatus) -> Vec<StoredResult> {
    let v = verdict_of(f.record_state, status, f.compliance_status.as_deref()).code();
    let mut out: Vec<StoredResult> = memberships(f)
        .into_iter()
        .map(|m| StoredResult {
            slug: m.standard.slug,
            control_id: m.control_id,
            verdict: v,
            standard_name: m.standard.name,
        })
        .collect();
    out.sort();
    out.truncate(MAX_RESULTS);
    out
}

/// What one finding version counts as in the compliance results.
#[derive(Debug, Clone, Copy)]
pub struct Results<'a> {
    /// Its results; `None` for an item written before they were kept (it
    /// counts in no control, and the store knows its results are incomplete:
    /// [`super::counters::KEPT`]).
    pub results: Option<&'a [StoredResult]>,
    /// Its primary resource.
    pub resource: &'a str,
    /// Its title (names its controls; empty for a stored head, which never
    /// names one).
    pub title: &'a str,
    /// Its `updated_at` sort key: of the titles the shards hold for a
    /// control, the newest finding's is shown.
    pub updated: &'a str,
}

/// Changes to one shard's control items: per part, tally attribute → change,
/// and the labels (titles, standard names) to set.
pub type ControlDelta = PartDelta;

/// The change to the control items from `old` to `new` (`None` = absent).
/// Labels are set for the results that change only: a write that moves no
/// tally touches no control item.
pub fn control_delta(old: Option<Results<'_>>, new: Option<Results<'_>>) -> ControlDelta {
    let mut d = ControlDelta::default();
    let old_results = old.and_then(|o| o.results).unwrap_or_default();
    for r in old_results {
        count(&mut d, r, -1);
    }
    if let Some(n) = new {
        for r in n.results.unwrap_or_default() {
            count(&mut d, r, 1);
            if !old_results.contains(r) {
                label(&mut d, r, n.title, n.updated);
            }
        }
    }
    d.drop_zeros();
    d
}

fn count(d: &mut ControlDelta, r: &StoredResult, by: i64) {
    let pair = pair_attr(&r.slug, &r.control_id);
    d.count(
        part_of(&pair),
        tally_attr(&r.slug, &r.control_id, r.verdict),
        by,
    );
}

fn label(d: &mut ControlDelta, r: &StoredResult, title: &str, updated: &str) {
    // Both in the part of the control's tallies, which this write moves.
    let pair = pair_attr(&r.slug, &r.control_id);
    let part = part_of(&pair);
    d.label(part, name_attr(&r.slug), r.standard_name.clone());
    if !title.is_empty() {
        d.label(part, pair, dated(updated, title));
    }
}

/// The name of a control's pair attribute (its title, held as
/// `["<updated_at>","<title>"]`): `["slug","control"]`.
fn pair_attr(slug: &str, control: &str) -> String {
    serde_json::to_string(&(slug, control)).unwrap_or_default()
}

/// The name of a tally attribute: `["slug","control",verdict code]`.
fn tally_attr(slug: &str, control: &str, verdict: u8) -> String {
    serde_json::to_string(&(slug, control, verdict)).unwrap_or_default()
}

/// The name of a standard's name attribute: `["slug"]`.
fn name_attr(slug: &str) -> String {
    serde_json::to_string(&(slug,)).unwrap_or_default()
}

/// The control part an attribute lives in (stable: it is stored).
fn part_of(attr: &str) -> u8 {
    Sha256::digest(attr.as_bytes())[0] % CONTROL_PARTS
}

/// The control rows (without failing lists) the control items' attributes
/// add up to, by slug then control id; a control whose findings have all
/// gone has none. Attributes that do not parse are skipped with a warning.
pub fn rows_of(items: &[HashMap<String, PartValue>]) -> Vec<ControlRow> {
    let mut tallies: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let mut counts: BTreeMap<(String, String, u8), i64> = BTreeMap::new();
    // Control → (its newest finding's update, that finding's title).
    let mut titles: HashMap<(String, String), (String, String)> = HashMap::new();
    let mut names: HashMap<String, String> = HashMap::new();
    for (attr, value) in items.iter().flatten() {
        let Ok(key) = serde_json::from_str::<Vec<serde_json::Value>>(attr) else {
            tracing::warn!(%attr, "control item attribute is not a control key");
            continue;
        };
        let text = |i: usize| key.get(i).and_then(|v| v.as_str()).map(str::to_string);
        match (key.len(), value) {
            (3, PartValue::Count(n)) => {
                if let (Some(s), Some(c), Some(v)) = (
                    text(0),
                    text(1),
                    key[2].as_u64().and_then(|v| u8::try_from(v).ok()),
                ) {
                    *counts.entry((s, c, v)).or_default() += n;
                }
            }
            (2, PartValue::Text(t)) => {
                if let (Some(s), Some(c)) = (text(0), text(1)) {
                    keep_newest(titles.entry((s, c)).or_default(), attr, t);
                }
            }
            (1, PartValue::Text(t)) => {
                if let Some(s) = text(0) {
                    names.insert(s, t.clone());
                }
            }
            _ => tracing::warn!(%attr, "control item attribute has an unexpected value"),
        }
    }
    for ((slug, control, code), n) in counts {
        let (Some(v), Ok(n @ 1..)) = (Verdict::from_code(code), u32::try_from(n)) else {
            continue;
        };
        tallies.entry((slug, control)).or_default().add_many(v, n);
    }
    tallies
        .into_iter()
        .filter(|(_, t)| t.findings() > 0)
        .map(|((slug, control_id), tally)| ControlRow {
            standard_name: names.get(&slug).cloned().unwrap_or_else(|| slug.clone()),
            title: titles
                .remove(&(slug.clone(), control_id.clone()))
                .map(|(_, title)| title)
                .unwrap_or_default(),
            slug,
            control_id,
            tally,
            failing_resources: Vec::new(),
            failing_findings: Vec::new(),
        })
        .collect()
}

/// A row item a write puts or deletes (module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowWrite {
    /// Put the row `id` under index partition `partition`, sorted by `sort`.
    Put {
        /// Item id.
        id: String,
        /// Index hash key.
        partition: String,
        /// Index range key.
        sort: String,
    },
    /// Delete the row `id`.
    Delete {
        /// Item id.
        id: String,
    },
}

impl RowWrite {
    /// The item a put writes: the id and the index keys only.
    pub fn item(id: &str, partition: &str, sort: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("id".to_string(), AttributeValue::S(id.to_string())),
            (
                "severity".to_string(),
                AttributeValue::S(partition.to_string()),
            ),
            (
                "updated_at".to_string(),
                AttributeValue::S(sort.to_string()),
            ),
        ])
    }
}

/// The index partition of a control's failing rows of one kind (a row
/// prefix).
pub fn row_partition(prefix: &str, slug: &str, control: &str) -> String {
    format!("{prefix}{slug}#{control}")
}

/// The row items a finding version has: id → (partition, sort). Rows whose
/// keys DynamoDB would refuse (a control id or resource id past the index's
/// key limits) are left out, so such a result never blocks its finding's
/// write; it is counted, not listed.
fn rows(finding_id: &str, v: Option<Results<'_>>) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    let Some(v) = v else {
        return out;
    };
    let fail = Verdict::Fail.code();
    for r in v
        .results
        .unwrap_or_default()
        .iter()
        .filter(|r| r.verdict == fail)
    {
        let mut add = |prefix: &str, sort: &str| {
            let partition = row_partition(prefix, &r.slug, &r.control_id);
            if !sort.is_empty()
                && partition.len() <= MAX_PARTITION_BYTES
                && sort.len() <= MAX_SORT_BYTES
            {
                let id = format!("{prefix}{finding_id}#{}", r.slug);
                out.insert(id, (partition, sort.to_string()));
            }
        };
        add(RESOURCE_ROW_PREFIX, v.resource);
        add(FINDING_ROW_PREFIX, finding_id);
    }
    out
}

/// The row writes that take finding `finding_id` from version `old` to `new`
/// (`None` = absent): puts of new or moved rows, deletes of rows gone.
pub fn row_writes(
    finding_id: &str,
    old: Option<Results<'_>>,
    new: Option<Results<'_>>,
) -> Vec<RowWrite> {
    let before = rows(finding_id, old);
    let after = rows(finding_id, new);
    let mut out: Vec<RowWrite> = before
        .keys()
        .filter(|id| !after.contains_key(*id))
        .map(|id| RowWrite::Delete { id: id.clone() })
        .collect();
    for (id, keys) in after {
        if before.get(&id) != Some(&keys) {
            let (partition, sort) = keys;
            out.push(RowWrite::Put {
                id,
                partition,
                sort,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
