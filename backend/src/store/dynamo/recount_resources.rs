//! The resource half of a recount (recount.rs): each resource item rebuilt
//! from the findings' sums where it differs, an item no finding names any more
//! deleted, and each finding written before the resource items marked as
//! counted there (keeping its revision, so no sink hears of it).

use super::resources::{
    parse_tally, rank_weight, resource_item_id, tally_attr, ResourceDelta, MOVED_ATTR, RANK_ATTR,
    RANK_PART, RANK_PART_ATTR, RESOURCE_ATTR, RESOURCE_PREFIX,
};
use super::DynamoStore;
use crate::store::StoreResult;
use aws_sdk_dynamodb::types::AttributeValue;
use futures::{StreamExt, TryStreamExt};
use shared_types::{Severity, WorkflowStatus};
use std::collections::{BTreeMap, HashMap};

/// A finding's mark: counted in its resource's item.
pub const RES_COUNTED_ATTR: &str = "res_counted";

/// Tallies of one resource item, zeros left out.
type Tallies = BTreeMap<(Severity, WorkflowStatus), i64>;

/// A stored resource item as a recount reads it.
#[derive(Debug, Clone, PartialEq)]
struct StoredResource {
    tallies: Tallies,
    moved_at: Option<String>,
}

/// What the scan met of the resource items and of the unmarked findings.
#[derive(Debug, Default)]
pub(super) struct ResourceRecount {
    /// Item id → as stored.
    stored: HashMap<String, StoredResource>,
    /// (id, revision) of findings not marked as counted per resource.
    pub(super) unmarked: Vec<(String, u64)>,
}

impl ResourceRecount {
    /// Notes `item` if it is a resource item.
    pub(super) fn stored(&mut self, id: &str, item: &HashMap<String, AttributeValue>) {
        if !id.starts_with(RESOURCE_PREFIX) {
            return;
        }
        let tallies = item
            .iter()
            .filter_map(|(k, v)| {
                let key = parse_tally(k)?;
                let AttributeValue::N(n) = v else { return None };
                let n: i64 = n.parse().ok()?;
                (n != 0).then_some((key, n))
            })
            .collect();
        let moved_at = match item.get(MOVED_ATTR) {
            Some(AttributeValue::S(s)) => Some(s.clone()),
            _ => None,
        };
        self.stored
            .insert(id.to_string(), StoredResource { tallies, moved_at });
    }

    /// Adds another segment's.
    pub(super) fn absorb(&mut self, other: ResourceRecount) {
        self.stored.extend(other.stored);
        self.unmarked.extend(other.unmarked);
    }
}

/// One resource item write a recount makes.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ResourceFix {
    /// Replace the item of this resource with these tallies.
    Put {
        resource: String,
        tallies: Tallies,
        moved_at: Option<String>,
    },
    /// Delete an item no stored finding counts in (emptied ones too).
    Delete(String),
}

/// The writes that make the stored resource items what `wanted` (the
/// findings' sums) says.
pub(super) fn resource_fixes(found: &ResourceRecount, wanted: &ResourceDelta) -> Vec<ResourceFix> {
    let mut out = Vec::new();
    let mut named = std::collections::HashSet::new();
    for (resource, change) in &wanted.0 {
        let id = resource_item_id(resource);
        let tallies: Tallies = change
            .tallies
            .iter()
            .filter(|(_, n)| **n != 0)
            .map(|(k, n)| (*k, *n))
            .collect();
        if tallies.is_empty() {
            continue;
        }
        let stored = found.stored.get(&id);
        if stored.is_none_or(|s| s.tallies != tallies) {
            out.push(ResourceFix::Put {
                resource: resource.clone(),
                tallies,
                moved_at: stored
                    .and_then(|s| s.moved_at.clone())
                    .or_else(|| change.moved_at.clone()),
            });
        }
        named.insert(id);
    }
    let mut gone: Vec<&String> = found
        .stored
        .iter()
        .filter(|(id, _)| !named.contains(*id))
        .map(|(id, _)| id)
        .collect();
    gone.sort();
    out.extend(gone.into_iter().cloned().map(ResourceFix::Delete));
    out
}

impl DynamoStore {
    /// Notes every resource item in `found`, read from the ranking index
    /// (which holds them all, whole; writers are paused, so it has caught
    /// up): a scan's projection cannot name their tally attributes.
    pub(super) async fn stored_resources(&self, found: &mut ResourceRecount) -> StoreResult<()> {
        let mut start = None;
        loop {
            // Whole pages, in any order: every item is wanted.
            let (items, next) = self.rank_page(start.take(), None).await?;
            for item in &items {
                if let Some(AttributeValue::S(id)) = item.get("id") {
                    found.stored(id, item);
                }
            }
            match next {
                Some(k) => start = Some(k),
                None => return Ok(()),
            }
        }
    }

    /// Makes the resource item writes, a few at a time.
    pub(super) async fn write_resource_fixes(&self, fixes: &[ResourceFix]) -> StoreResult<()> {
        futures::stream::iter(fixes)
            .map(|fix| self.write_resource_fix(fix))
            .buffer_unordered(self.settings.concurrency.max(1))
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn write_resource_fix(&self, fix: &ResourceFix) -> StoreResult<()> {
        match fix {
            ResourceFix::Put {
                resource,
                tallies,
                moved_at,
            } => {
                let mut item = Self::id_key(&resource_item_id(resource))?;
                let text = |s: &str| AttributeValue::S(s.to_string());
                item.insert(RANK_PART_ATTR.into(), text(RANK_PART));
                item.insert(RESOURCE_ATTR.into(), text(resource));
                let rank: i128 = tallies
                    .iter()
                    .map(|((s, _), n)| rank_weight(*s) * i128::from(*n))
                    .sum();
                item.insert(RANK_ATTR.into(), AttributeValue::N(rank.to_string()));
                for ((s, w), n) in tallies {
                    item.insert(tally_attr(*s, *w), AttributeValue::N(n.to_string()));
                }
                if let Some(at) = moved_at {
                    item.insert(MOVED_ATTR.into(), text(at));
                }
                self.put_plain(item).await
            }
            ResourceFix::Delete(id) => self.delete_plain(id).await,
        }
    }

    /// Marks each of `unmarked` (id, revision) as counted per resource, if
    /// it is still at that revision.
    pub(super) async fn mark_resources(&self, unmarked: &[(String, u64)]) -> StoreResult<()> {
        futures::stream::iter(unmarked)
            .map(|(id, rev)| self.mark_resource(id, *rev))
            .buffer_unordered(self.settings.concurrency.max(1))
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn mark_resource(&self, id: &str, rev: u64) -> StoreResult<()> {
        let names = HashMap::from([("#m".to_string(), RES_COUNTED_ATTR.to_string())]);
        let values = HashMap::from([(":m".to_string(), AttributeValue::Bool(true))]);
        self.set_at_rev(id, rev, "SET #m = :m", names, values).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::dynamo::resources::ResourceVersion;

    fn wanted(rows: &[(&str, Severity, WorkflowStatus)]) -> ResourceDelta {
        let mut d = ResourceDelta::default();
        for (r, s, w) in rows {
            d.sum(&ResourceDelta::between(
                None,
                Some(ResourceVersion {
                    resource: r,
                    severity: *s,
                    status: *w,
                    updated: "2026-01-01T00:00:00.000000Z",
                }),
            ));
        }
        d
    }

    #[test]
    fn only_differing_items_are_written_and_orphans_deleted() {
        use Severity::*;
        use WorkflowStatus::*;
        let want = wanted(&[("a", High, New), ("a", High, New), ("b", Low, Resolved)]);
        let mut found = ResourceRecount::default();
        // "a" as it should be, "b" missing, "c" left over, "d" emptied.
        let item = |tallies: &[(&str, &str)]| {
            let mut m: HashMap<String, AttributeValue> = tallies
                .iter()
                .map(|(k, n)| (k.to_string(), AttributeValue::N(n.to_string())))
                .collect();
            m.insert(MOVED_ATTR.into(), AttributeValue::S("then".into()));
            m
        };
        found.stored(&resource_item_id("a"), &item(&[("c#HIGH#NEW", "2")]));
        found.stored(&resource_item_id("c"), &item(&[("c#MEDIUM#NEW", "1")]));
        found.stored(&resource_item_id("d"), &item(&[("c#MEDIUM#NEW", "0")]));
        let fixes = resource_fixes(&found, &want);
        let mut gone = vec![
            ResourceFix::Delete(resource_item_id("c")),
            ResourceFix::Delete(resource_item_id("d")),
        ];
        gone.sort_by_key(|f| format!("{f:?}"));
        let mut want_fixes = vec![ResourceFix::Put {
            resource: "b".into(),
            tallies: BTreeMap::from([((Low, Resolved), 1)]),
            moved_at: Some("2026-01-01T00:00:00.000000Z".into()),
        }];
        want_fixes.extend(gone);
        assert_eq!(fixes, want_fixes);
    }
}
