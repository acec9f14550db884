//! Client-side state of the findings list: a store of findings keyed by id, and the
//! page of ids the current query returned.
//!
//! Pages from the API and, later, findings pushed over a WebSocket go through the same
//! [`FindingStore::upsert`], so a pushed update changes the row in place and a pushed new
//! finding joins the view when it matches the filter.

use crate::sort::Sort;
use chrono::{DateTime, Utc};
use shared_types::{ChangeKind, FindingFilter, FindingListItem};
use std::collections::HashMap;

/// Every finding the browser has seen, keyed by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingStore {
    items: HashMap<String, FindingListItem>,
    /// Archived findings: id → `updated_at` of the version archived. A page
    /// load read before the archive must not put such a finding back.
    removed: HashMap<String, DateTime<Utc>>,
}

impl FindingStore {
    /// Inserts or replaces a finding; an older version never replaces a newer one
    /// (same rule as the backend's upsert), and an archived finding comes back
    /// only as a newer version. Returns true when the store changed.
    pub fn upsert(&mut self, item: FindingListItem) -> bool {
        if self
            .removed
            .get(&item.id)
            .is_some_and(|at| *at >= item.updated_at)
        {
            return false;
        }
        match self.items.get(&item.id) {
            Some(old) if old.updated_at > item.updated_at || old == &item => false,
            _ => {
                self.items.insert(item.id.clone(), item);
                true
            }
        }
    }

    /// [`Self::upsert`] of a version the server pushed: an insert is the
    /// finding back in the store (restored from the archive), whatever it was
    /// archived as.
    pub fn upsert_pushed(&mut self, item: FindingListItem, kind: Option<ChangeKind>) -> bool {
        if kind == Some(ChangeKind::Inserted) {
            self.removed.remove(&item.id);
        }
        self.upsert(item)
    }

    /// Forgets a finding that left the store (archived as `item`); the version
    /// held, if any.
    pub fn remove(&mut self, item: &FindingListItem) -> Option<FindingListItem> {
        self.removed.insert(item.id.clone(), item.updated_at);
        self.items.remove(&item.id)
    }

    /// The finding with this id, if seen.
    pub fn get(&self, id: &str) -> Option<&FindingListItem> {
        self.items.get(id)
    }

    /// Number of findings held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// One page of the list: ids in the API's order, and where the next page starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageState {
    /// The API query string this page answers (lets tests and logs tell views apart).
    pub query: String,
    /// Ids in the order the API returned them (newest first).
    pub ids: Vec<String>,
    /// Cursor of the following page, if any.
    pub next_cursor: Option<String>,
    /// Rows before this page (the URL's offset when it was loaded): the head
    /// numbers this page's rows from it, not from the URL already showing the
    /// next page while that loads.
    pub before: u64,
    /// How many findings the whole view matches (`None` from an older server).
    pub total: Option<u64>,
    /// False when `total` is the server's estimate.
    pub total_is_exact: bool,
}

impl PageState {
    /// Puts a pushed finding at the top of the page when it belongs to the current
    /// filter and is not already listed. Returns true when it was added.
    pub fn merge_pushed(&mut self, item: &FindingListItem, filter: &FindingFilter) -> bool {
        if self.ids.contains(&item.id) || !matches(filter, item) {
            return false;
        }
        self.ids.insert(0, item.id.clone());
        true
    }

    /// The rows to show: the page's findings as the store holds them now, without those
    /// that stopped matching (e.g. resolved while the view shows NEW), in `sort` order.
    pub fn rows(
        &self,
        store: &FindingStore,
        filter: &FindingFilter,
        sort: Sort,
    ) -> Vec<FindingListItem> {
        let mut rows: Vec<FindingListItem> = self
            .ids
            .iter()
            .filter_map(|id| store.get(id))
            .filter(|f| matches(filter, f))
            .cloned()
            .collect();
        sort.apply(&mut rows);
        rows
    }
}

/// Whether a list item satisfies a filter, as the API would decide (one
/// definition, in shared-types, checked against the store by a backend test).
pub fn matches(f: &FindingFilter, item: &FindingListItem) -> bool {
    f.matches(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::{at, item};
    use shared_types::{Severity, WorkflowStatus};

    fn store_of(items: &[FindingListItem]) -> FindingStore {
        let mut s = FindingStore::default();
        for i in items {
            s.upsert(i.clone());
        }
        s
    }

    #[test]
    fn newer_versions_replace_older_ones_but_not_the_reverse() {
        let mut s = FindingStore::default();
        let mut v2 = item("a", Severity::Low, 10);
        v2.workflow_status = WorkflowStatus::Resolved;
        assert!(s.upsert(v2.clone()));
        assert!(!s.upsert(item("a", Severity::Low, 5)), "older must not win");
        assert!(!s.upsert(v2.clone()), "same version is no change");
        let mut v3 = v2.clone();
        v3.updated_at = at(11);
        assert!(s.upsert(v3));
        assert_eq!(s.len(), 1);
        assert_eq!(
            s.get("a").unwrap().workflow_status,
            WorkflowStatus::Resolved
        );
    }

    #[test]
    fn an_archived_finding_leaves_the_store_and_the_pages_rows() {
        let (a, b) = (item("a", Severity::High, 1), item("b", Severity::High, 2));
        let mut s = store_of(&[a.clone(), b.clone()]);
        let page = PageState {
            ids: vec!["b".into(), "a".into()],
            ..Default::default()
        };
        assert_eq!(s.remove(&a), Some(a.clone()));
        assert_eq!(s.remove(&a), None, "gone already");
        let all = FindingFilter::default();
        assert_eq!(page.rows(&s, &all, Sort::default()), vec![b]);

        // A page read before the archive does not bring it back; a newer
        // version, or the server's insert (a restore), does.
        assert!(!s.upsert(a.clone()));
        assert!(s.get("a").is_none());
        assert!(s.upsert_pushed(a.clone(), Some(ChangeKind::Inserted)));
        s.remove(&a);
        let mut newer = a.clone();
        newer.updated_at = at(9);
        assert!(s.upsert(newer));
    }

    #[test]
    fn every_filter_field_is_honoured() {
        let base = item("a", Severity::High, 60);
        let ok = |f: FindingFilter| matches(&f, &base);
        assert!(ok(FindingFilter::default()));
        assert!(ok(FindingFilter {
            severities: vec![Severity::Critical, Severity::High],
            ..Default::default()
        }));
        assert!(!ok(FindingFilter {
            severities: vec![Severity::Critical],
            ..Default::default()
        }));
        assert!(!ok(FindingFilter {
            statuses: vec![WorkflowStatus::Resolved],
            ..Default::default()
        }));
        assert!(!ok(FindingFilter {
            account: Some("999".into()),
            ..Default::default()
        }));
        assert!(!ok(FindingFilter {
            region: Some("eu-west-1".into()),
            ..Default::default()
        }));
        assert!(!ok(FindingFilter {
            resource_type: Some("AwsEc2Instance".into()),
            ..Default::default()
        }));
        assert!(!ok(FindingFilter {
            product: Some("GuardDuty".into()),
            ..Default::default()
        }));
        assert!(ok(FindingFilter {
            q: Some("BUCKET-A".into()),
            ..Default::default()
        }));
        assert!(!ok(FindingFilter {
            q: Some("nothing".into()),
            ..Default::default()
        }));
        assert!(ok(FindingFilter {
            since: Some(at(60)),
            until: Some(at(61)),
            ..Default::default()
        }));
        assert!(
            !ok(FindingFilter {
                until: Some(at(60)),
                ..Default::default()
            }),
            "until is exclusive"
        );
        assert!(!ok(FindingFilter {
            since: Some(at(61)),
            ..Default::default()
        }));
    }

    #[test]
    fn a_page_filtered_on_a_generator_shows_its_listed_rows() {
        // A list item does not say its generator: the API chose the rows.
        let a = item("a", Severity::Critical, 3);
        let store = store_of(std::slice::from_ref(&a));
        let page = PageState {
            ids: vec!["a".into()],
            ..Default::default()
        };
        let by_generator = FindingFilter {
            generator: Some("S3.8".into()),
            ..Default::default()
        };
        assert_eq!(page.rows(&store, &by_generator, Sort::default()), vec![a]);
    }

    #[test]
    fn rows_follow_store_updates_and_drop_what_no_longer_matches() {
        let a = item("a", Severity::Critical, 3);
        let b = item("b", Severity::Low, 2);
        let mut store = store_of(&[a.clone(), b.clone()]);
        let page = PageState {
            ids: vec!["a".into(), "b".into()],
            ..Default::default()
        };
        let new_only = FindingFilter {
            statuses: vec![WorkflowStatus::New],
            ..Default::default()
        };
        assert_eq!(page.rows(&store, &new_only, Sort::default()).len(), 2);

        let mut resolved = a.clone();
        resolved.workflow_status = WorkflowStatus::Resolved;
        resolved.updated_at = at(4);
        store.upsert(resolved);
        let rows = page.rows(&store, &new_only, Sort::default());
        assert_eq!(
            rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
    }

    #[test]
    fn pushed_findings_join_the_page_only_when_they_match() {
        let mut page = PageState {
            ids: vec!["a".into()],
            ..Default::default()
        };
        let crit = FindingFilter {
            severities: vec![Severity::Critical],
            ..Default::default()
        };
        assert!(!page.merge_pushed(&item("low", Severity::Low, 9), &crit));
        assert!(page.merge_pushed(&item("c", Severity::Critical, 9), &crit));
        assert!(
            !page.merge_pushed(&item("c", Severity::Critical, 10), &crit),
            "no duplicates"
        );
        assert_eq!(page.ids, ["c", "a"]);
    }
}
