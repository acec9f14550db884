//! Exact summary counters kept on write.
//!
//! Every write that adds, removes or changes a finding adjusts counter items in the
//! same DynamoDB transaction, so the counts can never drift from the findings
//! (TTL deletions aside: TTL is only a safety net after archival). `/summary` then
//! reads a fixed number of counter items whatever the number of findings.
//!
//! The counters are spread over [`SHARDS`] items (a finding's is its resource's
//! when first written, [`resource_shard`], and stays its own) so parallel
//! writers rarely touch the same item: transactions on one hot item would conflict.
//! Each shard also owns the view counter items of its findings ([`super::views`]),
//! so one shard's writes touch only that shard's counter items.

use super::controls::{control_delta, control_item_id, ControlDelta, Results, CONTROL_PARTS};
use super::generators::{generator_delta, generator_item_id, GeneratorVersion, GENERATOR_PARTS};
use super::parted::PartDelta;
use super::resources::{ResourceDelta, ResourceVersion};
use super::views::{view_id, ViewKey, VIEW_PARTS};
use crate::store::facets::Facets;
use chrono::{Duration, NaiveDate};
use sha2::{Digest, Sha256};
use shared_types::{KeyCount, Severity, Summary, TrendPoint, WorkflowStatus};
use std::collections::{BTreeMap, HashMap};

/// Number of counter items.
pub const SHARDS: u8 = 16;
/// Counter item ids start with this; finding ids (base64url) never contain `#`.
pub const COUNTER_PREFIX: &str = "#counts#";

const TOTAL: &str = "t";
const SEVERITY: &str = "s#";
const STATUS: &str = "w#";
const ACCOUNT: &str = "a#";
const RESOURCE_TYPE: &str = "r#";
const DAY: &str = "d#";
/// Findings whose items carry their compliance results: every finding written
/// since they are kept. While it is short of [`TOTAL`] the kept results miss
/// some findings (a table from before: `cspm recount` fills them in).
pub const KEPT: &str = "k";
/// Findings counted in the generator items ([`super::generators`]): every
/// finding written since they are kept. While it is short of [`TOTAL`] the
/// generator items miss some findings (`cspm recount` counts them).
pub const GENERATORS_KEPT: &str = "g";
/// Findings counted in the resource items ([`super::resources`]): every
/// finding written since they are kept. While it is short of [`TOTAL`] a
/// grouping by resource reads findings instead.
pub const RESOURCES_KEPT: &str = "x";

/// The shard a finding written before shards followed resources belongs to
/// (by its id).
pub fn shard_of(finding_id: &str) -> u8 {
    Sha256::digest(finding_id.as_bytes())[0] % SHARDS
}

/// The shard a new finding of `resource` is counted in. A resource's findings
/// share one, so a batch moves each resource's item (resources.rs) from one
/// shard's transactions only, and the shards' lanes stay apart. A finding
/// keeps its shard for good (its item names it, `counter_shard`), whatever
/// its resource becomes.
pub fn resource_shard(resource: &str) -> u8 {
    Sha256::digest(resource.as_bytes())[0] % SHARDS
}

/// The shard a stored finding is counted in: the one its item names, else
/// (an item written before) its id's.
pub fn counted_shard(finding_id: &str, named: Option<u8>) -> u8 {
    named
        .filter(|s| *s < SHARDS)
        .unwrap_or_else(|| shard_of(finding_id))
}

/// Summary counter item id of shard number `shard`.
pub fn shard_item_id(shard: u8) -> String {
    format!("{COUNTER_PREFIX}{shard:02}")
}

/// Every counter item id.
pub fn all_shard_ids() -> Vec<String> {
    (0..SHARDS).map(shard_item_id).collect()
}

/// Every control item id, shard by shard ([`super::controls`]).
pub fn all_control_ids() -> Vec<String> {
    (0..SHARDS)
        .flat_map(|s| (0..CONTROL_PARTS).map(move |p| control_item_id(s, p)))
        .collect()
}

/// Every generator item id, shard by shard ([`super::generators`]).
pub fn all_generator_ids() -> Vec<String> {
    (0..SHARDS)
        .flat_map(|s| (0..GENERATOR_PARTS).map(move |p| generator_item_id(s, p)))
        .collect()
}

/// Every view counter item id, shard by shard ([`super::views`]).
pub fn all_view_ids() -> Vec<String> {
    (0..SHARDS)
        .flat_map(|s| (0..VIEW_PARTS).map(move |p| view_id(s, p)))
        .collect()
}

/// What one finding version is counted as: its facets and its compliance
/// results.
#[derive(Debug, Clone)]
pub struct Counted<'a> {
    /// The summary's and the views' dimensions.
    pub facets: Facets,
    /// The compliance results ([`super::controls`]).
    pub results: Results<'a>,
    /// Its generator, when it is counted per generator (`None`: an item
    /// written before the generator items, [`GENERATORS_KEPT`]).
    pub generator: Option<&'a str>,
    /// Its resource, when it is counted per resource (`None`: an item
    /// written before the resource items, [`RESOURCES_KEPT`]).
    pub resource: Option<&'a str>,
}

impl Counted<'_> {
    /// What this version counts as per generator, if it counts.
    fn generator_version(&self) -> Option<GeneratorVersion<'_>> {
        Some(GeneratorVersion {
            generator: self.generator?,
            severity: self.facets.severity,
            status: self.facets.status,
        })
    }

    /// What this version counts as per resource, if it counts.
    fn resource_version(&self) -> Option<ResourceVersion<'_>> {
        Some(ResourceVersion {
            resource: self.resource?,
            severity: self.facets.severity,
            status: self.facets.status,
            updated: self.results.updated,
        })
    }
}

/// Counter changes of one or more writes to one shard: attributes of the shard's
/// summary item, per view part ([`super::views`]) the combinations' changes, and
/// per control part the tallies' ([`super::controls`]). Zero changes are dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    /// Summary attribute → change.
    pub summary: BTreeMap<String, i64>,
    /// View part → combination attribute → change.
    pub views: BTreeMap<u8, BTreeMap<String, i64>>,
    /// Control parts' changes.
    pub controls: ControlDelta,
    /// Generator parts' changes ([`super::generators`]).
    pub generators: PartDelta,
    /// Resource items' changes ([`super::resources`]): unlike the others,
    /// these items are not the shard's own.
    pub resources: ResourceDelta,
}

impl Delta {
    /// The change from `old` to `new` (`None` = absent).
    pub fn between(old: Option<&Counted<'_>>, new: Option<&Counted<'_>>) -> Delta {
        let mut d = Delta::default();
        for (version, by) in [(old, -1), (new, 1)] {
            if let Some(v) = version {
                d.apply(&v.facets, by);
                if v.results.results.is_some() {
                    *d.summary.entry(KEPT.to_string()).or_default() += by;
                }
                if v.generator.is_some() {
                    *d.summary.entry(GENERATORS_KEPT.to_string()).or_default() += by;
                }
                if v.resource.is_some() {
                    *d.summary.entry(RESOURCES_KEPT.to_string()).or_default() += by;
                }
            }
        }
        d.drop_zeros();
        d.controls = control_delta(old.map(|o| o.results), new.map(|n| n.results));
        d.generators = generator_delta(
            old.and_then(Counted::generator_version),
            new.and_then(Counted::generator_version),
        );
        d.resources = ResourceDelta::between(
            old.and_then(Counted::resource_version),
            new.and_then(Counted::resource_version),
        );
        d
    }

    fn apply(&mut self, f: &Facets, by: i64) {
        for key in [
            TOTAL.to_string(),
            format!("{SEVERITY}{}", f.severity.as_str()),
            format!("{STATUS}{}", f.status.as_str()),
            format!("{ACCOUNT}{}", f.account),
            format!("{RESOURCE_TYPE}{}", f.resource_type),
            format!("{DAY}{}", f.created_day.format("%Y-%m-%d")),
        ] {
            *self.summary.entry(key).or_default() += by;
        }
        let view = ViewKey::of(f);
        *self
            .views
            .entry(view.part())
            .or_default()
            .entry(view.attr())
            .or_default() += by;
    }

    fn drop_zeros(&mut self) {
        self.summary.retain(|_, v| *v != 0);
        for attrs in self.views.values_mut() {
            attrs.retain(|_, v| *v != 0);
        }
        self.views.retain(|_, attrs| !attrs.is_empty());
    }

    /// Adds `other` (the changes of several writes to one shard summed into one
    /// update per counter item); counters that net to zero are dropped.
    pub fn add(&mut self, other: &Delta) {
        self.sum(other);
        self.drop_zeros();
        self.controls.add(&other.controls);
        self.generators.add(&other.generators);
        self.resources.add(&other.resources);
    }

    /// Adds `other`'s summary and view changes keeping counters that net to
    /// zero: for sums of counts that only grow (a recount), where dropping
    /// zeros per addition is wasted work.
    fn sum(&mut self, other: &Delta) {
        for (k, v) in &other.summary {
            *self.summary.entry(k.clone()).or_default() += v;
        }
        for (part, attrs) in &other.views {
            let mine = self.views.entry(*part).or_default();
            for (k, v) in attrs {
                *mine.entry(k.clone()).or_default() += v;
            }
        }
    }

    /// Adds `other` keeping counters that net to zero (a recount's sums).
    pub fn sum_all(&mut self, other: &Delta) {
        self.sum(other);
        self.controls.sum(&other.controls);
        self.generators.sum(&other.generators);
        self.resources.sum(&other.resources);
    }

    /// True when nothing changes.
    pub fn is_empty(&self) -> bool {
        self.summary.is_empty()
            && self.views.is_empty()
            && self.controls.is_empty()
            && self.generators.is_empty()
            && self.resources.is_empty()
    }

    /// Counter items this change updates: at most 1 + [`VIEW_PARTS`] +
    /// [`CONTROL_PARTS`] + [`GENERATOR_PARTS`], and one per resource.
    pub fn items(&self) -> usize {
        usize::from(!self.summary.is_empty())
            + self.views.len().min(usize::from(VIEW_PARTS))
            + self
                .controls
                .parts()
                .count()
                .min(usize::from(CONTROL_PARTS))
            + self
                .generators
                .parts()
                .count()
                .min(usize::from(GENERATOR_PARTS))
            + self.resources.0.len()
    }
}

/// The oldest creation day the summary counts (no finding was updated before
/// it was created), from the counter items' attributes.
pub fn first_day(shards: &[HashMap<String, i64>]) -> Option<NaiveDate> {
    shards
        .iter()
        .flatten()
        .filter(|(_, n)| **n > 0)
        .filter_map(|(k, _)| k.strip_prefix(DAY)?.parse::<NaiveDate>().ok())
        .min()
}

/// The total count, from the counter items' attributes.
pub fn total(shards: &[HashMap<String, i64>]) -> u64 {
    sum_of(shards, TOTAL)
}

/// The sum of attribute `attr` over the counter items (absent: 0).
pub fn sum_of(shards: &[HashMap<String, i64>], attr: &str) -> u64 {
    shards
        .iter()
        .filter_map(|s| s.get(attr))
        .sum::<i64>()
        .max(0) as u64
}

/// Builds the summary from the counter items' attributes (summed over shards).
pub fn summarize(shards: &[HashMap<String, i64>], today: NaiveDate) -> Summary {
    let mut sums: HashMap<&str, i64> = HashMap::new();
    for shard in shards {
        for (k, v) in shard {
            *sums.entry(k.as_str()).or_default() += v;
        }
    }
    let count = |k: &str| sums.get(k).copied().unwrap_or(0).max(0) as u64;
    let by_severity = Severity::ALL_DESC
        .iter()
        .map(|s| (*s, count(&format!("{SEVERITY}{}", s.as_str()))))
        .collect();
    let by_status = WorkflowStatus::ALL
        .iter()
        .map(|s| (*s, count(&format!("{STATUS}{}", s.as_str()))))
        .collect();
    let trend = (0..30)
        .rev()
        .map(|back| {
            let date = today - Duration::days(back);
            TrendPoint {
                date,
                count: count(&format!("{DAY}{}", date.format("%Y-%m-%d"))),
            }
        })
        .collect();
    Summary {
        total: count(TOTAL),
        by_severity,
        by_status,
        trend,
        top_accounts: top(&sums, ACCOUNT),
        top_resource_types: top(&sums, RESOURCE_TYPE),
    }
}

/// The ten keys with the most findings under `prefix`, most first, ties by key.
fn top(sums: &HashMap<&str, i64>, prefix: &str) -> Vec<KeyCount> {
    let mut v: Vec<KeyCount> = sums
        .iter()
        .filter_map(|(k, n)| {
            let key = k.strip_prefix(prefix)?;
            (*n > 0).then(|| KeyCount {
                key: key.to_string(),
                count: *n as u64,
            })
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    v.truncate(10);
    v
}

#[cfg(test)]
mod tests;
