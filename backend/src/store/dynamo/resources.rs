//! Findings per resource, severity and status, kept on write, and the ranking
//! index a grouping by resource walks (dynamo/top_resources.rs), so that "which
//! resources are worst" at 1M findings reads about `limit` small items instead
//! of the findings (SQLite keeps the same in `group_counts` and
//! `resource_totals`, sqlite/resource_counts.rs).
//!
//! A resource has a handful of findings, so there are about as many resources
//! as findings: unlike the generator tallies (generators.rs), a resource's
//! counts cannot live in a shard's few items. Each resource has its own small
//! item, `#resources#<hash>`, updated in the transaction that writes the
//! finding (one more action, ≈ 1 write unit: the item holds at most 20 tallies,
//! (severity, status) → count). Only those two are counted: a view filtered by
//! account, region, resource type or product reads findings instead, as a
//! grouping by generator does.
//!
//! The item's `rank` is a number that orders resources as groups are shown,
//! most severe first: the sum over its findings of 10^(7 × severity rank)
//! (CRITICAL 10^28 … INFORMATIONAL 1), kept by `ADD` like the tallies. Up to
//! 9,999,999 findings of one severity on one resource it compares as the
//! counts do, CRITICAL first. The sparse index [`RANK_INDEX_NAME`] (partition
//! [`RANK_PART_ATTR`], one value; range `rank`) holds only these items. Two
//! resources with equal counts come in the index's order, not by key.
//!
//! Items written before these counters carry no `res_counted` mark and count
//! in no resource item; the summary's [`super::counters::RESOURCES_KEPT`]
//! counts the marked ones, and a grouping reads findings while it is short.

use shared_types::{Severity, WorkflowStatus};
use std::collections::BTreeMap;

/// Resource item ids start with this; finding ids never contain `#`.
pub const RESOURCE_PREFIX: &str = "#resources#";
/// The ranking index: resource items only, most severe first when read
/// backwards.
pub const RANK_INDEX_NAME: &str = "ResourceRankIndex";
/// The ranking index's partition key (the same value on every resource item).
pub const RANK_PART_ATTR: &str = "rank_part";
/// The value of [`RANK_PART_ATTR`].
pub const RANK_PART: &str = "resources";
/// The ranking index's range key ([`rank_weight`] summed).
pub const RANK_ATTR: &str = "rank";
/// The resource's id, as findings name it.
pub const RESOURCE_ATTR: &str = "resource_id";
/// The `updated_at` of the provider version whose counts moved last (a
/// person's change, which keeps that time, leaves it).
pub const MOVED_ATTR: &str = "moved_at";
/// Tally attributes start with this: `c#SEVERITY#STATUS`.
const TALLY_PREFIX: &str = "c#";

/// The item of `resource` (hashed: an ARN can be longer than a key may be).
pub fn resource_item_id(resource: &str) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(resource.as_bytes());
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{RESOURCE_PREFIX}{hex}")
}

/// What one finding of severity `s` adds to its resource's rank.
pub fn rank_weight(s: Severity) -> i128 {
    10i128.pow(7 * u32::from(s.rank()))
}

/// The tally attribute of (severity, status).
pub fn tally_attr(s: Severity, w: WorkflowStatus) -> String {
    format!("{TALLY_PREFIX}{}#{}", s.as_str(), w.as_str())
}

/// The (severity, status) of a tally attribute, `None` for any other.
pub fn parse_tally(attr: &str) -> Option<(Severity, WorkflowStatus)> {
    let (s, w) = attr.strip_prefix(TALLY_PREFIX)?.split_once('#')?;
    Some((s.parse().ok()?, w.parse().ok()?))
}

/// What one finding version counts as per resource.
#[derive(Debug, Clone, Copy)]
pub struct ResourceVersion<'a> {
    /// Its resource.
    pub resource: &'a str,
    /// Its severity.
    pub severity: Severity,
    /// Its workflow status.
    pub status: WorkflowStatus,
    /// Its `updated_at` sort key (empty where the caller did not read it).
    pub updated: &'a str,
}

/// One resource's change: tallies moved, and the newest `updated_at` counted
/// in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceChange {
    /// (severity, status) → change.
    pub tallies: BTreeMap<(Severity, WorkflowStatus), i64>,
    /// The latest `updated_at` of a version counted in.
    pub moved_at: Option<String>,
}

impl ResourceChange {
    /// The change to the resource's rank.
    pub fn rank(&self) -> i128 {
        self.tallies
            .iter()
            .map(|((s, _), by)| rank_weight(*s) * i128::from(*by))
            .sum()
    }

    /// The change to the resource's finding count.
    pub fn total(&self) -> i64 {
        self.tallies.values().sum()
    }
}

/// Changes to the resource items, by resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceDelta(pub BTreeMap<String, ResourceChange>);

impl ResourceDelta {
    /// The change from `old` to `new` (`None`: absent, or not counted per
    /// resource). A write that moves no tally touches no resource item.
    pub fn between(old: Option<ResourceVersion<'_>>, new: Option<ResourceVersion<'_>>) -> Self {
        let mut d = ResourceDelta::default();
        for (version, by) in [(old, -1), (new, 1)] {
            if let Some(v) = version {
                d.count(v, by);
            }
        }
        d.drop_zeros();
        d
    }

    fn count(&mut self, v: ResourceVersion<'_>, by: i64) {
        let change = self.0.entry(v.resource.to_string()).or_default();
        *change.tallies.entry((v.severity, v.status)).or_default() += by;
        if by > 0 && !v.updated.is_empty() {
            let newer = change.moved_at.as_deref().is_none_or(|m| m < v.updated);
            if newer {
                change.moved_at = Some(v.updated.to_string());
            }
        }
    }

    /// Drops tallies that net to zero, and resources none of whose tallies
    /// move.
    fn drop_zeros(&mut self) {
        for change in self.0.values_mut() {
            change.tallies.retain(|_, by| *by != 0);
        }
        self.0.retain(|_, c| !c.tallies.is_empty());
    }

    /// Adds `other`; what nets to zero is dropped.
    pub fn add(&mut self, other: &ResourceDelta) {
        self.sum(other);
        self.drop_zeros();
    }

    /// Adds `other` keeping tallies that net to zero (a recount's sums).
    pub fn sum(&mut self, other: &ResourceDelta) {
        for (resource, change) in &other.0 {
            let mine = self.0.entry(resource.clone()).or_default();
            for (k, by) in &change.tallies {
                *mine.tallies.entry(*k).or_default() += by;
            }
            if let Some(m) = &change.moved_at {
                if mine.moved_at.as_ref().is_none_or(|have| have < m) {
                    mine.moved_at = Some(m.clone());
                }
            }
        }
    }

    /// True when no resource item changes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The resources whose items change.
    pub fn resources(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(resource: &str, s: Severity, w: WorkflowStatus, at: &str) -> ResourceVersion<'static> {
        ResourceVersion {
            resource: Box::leak(resource.to_string().into_boxed_str()),
            severity: s,
            status: w,
            updated: Box::leak(at.to_string().into_boxed_str()),
        }
    }

    #[test]
    fn ranks_compare_as_the_counts_do_most_severe_first() {
        // One CRITICAL outranks any number of HIGH a resource can hold.
        let one_critical = rank_weight(Severity::Critical);
        let many_high = rank_weight(Severity::High) * 9_999_999;
        assert!(one_critical > many_high);
        let low_then_info = rank_weight(Severity::Low) + rank_weight(Severity::Informational);
        assert!(rank_weight(Severity::Medium) > low_then_info * 1000);
        assert_eq!(rank_weight(Severity::Informational), 1);
        // A DynamoDB number holds 38 digits.
        assert!((one_critical * 9_999_999).to_string().len() <= 38);
    }

    #[test]
    fn a_status_change_moves_a_tally_and_keeps_the_rank() {
        let old = v("arn:r", Severity::High, WorkflowStatus::New, "2024-01-01");
        let new = v(
            "arn:r",
            Severity::High,
            WorkflowStatus::Resolved,
            "2024-01-02",
        );
        let d = ResourceDelta::between(Some(old), Some(new));
        let c = &d.0["arn:r"];
        assert_eq!(c.tallies.len(), 2);
        assert_eq!(c.rank(), 0);
        assert_eq!(c.total(), 0);
        assert_eq!(c.moved_at.as_deref(), Some("2024-01-02"));
        assert!(ResourceDelta::between(Some(old), Some(old)).is_empty());
    }

    #[test]
    fn a_resource_change_moves_both_resources() {
        let old = v("a", Severity::Critical, WorkflowStatus::New, "t1");
        let new = v("b", Severity::Critical, WorkflowStatus::New, "t2");
        let d = ResourceDelta::between(Some(old), Some(new));
        assert_eq!(d.0["a"].rank(), -rank_weight(Severity::Critical));
        assert_eq!(d.0["b"].total(), 1);
        assert_eq!(d.0["a"].moved_at, None);
        let mut sum = d.clone();
        sum.add(&ResourceDelta::between(Some(new), Some(old)));
        assert!(sum.is_empty(), "{sum:?}");
    }

    #[test]
    fn tally_attributes_round_trip_and_item_ids_are_short() {
        for s in Severity::ALL_DESC {
            for w in WorkflowStatus::ALL {
                assert_eq!(parse_tally(&tally_attr(s, w)), Some((s, w)));
            }
        }
        assert_eq!(parse_tally("resource_id"), None);
        assert_eq!(parse_tally("c#HIGH#NOPE"), None);
        let long = "arn:aws:s3:::".to_string() + &"x".repeat(3000);
        assert_eq!(resource_item_id(&long).len(), RESOURCE_PREFIX.len() + 32);
        assert_ne!(resource_item_id("a"), resource_item_id("b"));
    }
}
