//! The dashboard places pushed rows with `FindingFilter::matches`; the API answers
//! with the store's query. Both must agree on the same data, filter by filter.

use chrono::Duration;
use cspm::store::{SqliteStore, Store};
use shared_types::{FindingFilter, FindingListItem, Severity, WorkflowStatus};
use std::collections::BTreeSet;

async fn listed(store: &SqliteStore, filter: &FindingFilter) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store.list(filter, 500, cursor.as_deref()).await.unwrap();
        ids.extend(page.items.into_iter().map(|i| i.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return ids,
        }
    }
}

/// Filters built from the data itself, so each one selects something.
fn filters(items: &[FindingListItem]) -> Vec<FindingFilter> {
    let f = FindingFilter::default;
    let first = &items[0];
    let mid = items[items.len() / 2].updated_at;
    let word = |s: &str| {
        s.split_whitespace()
            .max_by_key(|w| w.len())
            .unwrap_or("")
            .to_string()
    };
    vec![
        f(),
        FindingFilter {
            severities: vec![Severity::Critical],
            ..f()
        },
        FindingFilter {
            severities: vec![Severity::Medium, Severity::High, Severity::Critical],
            ..f()
        },
        FindingFilter {
            statuses: vec![WorkflowStatus::New, WorkflowStatus::Notified],
            ..f()
        },
        FindingFilter {
            account: Some(first.account_id.clone()),
            ..f()
        },
        FindingFilter {
            region: Some(first.region.clone()),
            severities: vec![first.severity],
            ..f()
        },
        FindingFilter {
            resource_type: Some(first.resource_type.clone()),
            ..f()
        },
        FindingFilter {
            product: Some(first.product_name.clone()),
            ..f()
        },
        FindingFilter {
            since: Some(mid),
            ..f()
        },
        FindingFilter {
            until: Some(mid),
            ..f()
        },
        FindingFilter {
            since: Some(mid - Duration::hours(6)),
            until: Some(mid),
            ..f()
        },
        FindingFilter {
            q: Some(word(&first.title).to_uppercase()),
            ..f()
        },
        FindingFilter {
            q: Some(first.resource_id.chars().skip(3).take(6).collect()),
            ..f()
        },
        FindingFilter {
            q: Some("no such text anywhere".into()),
            ..f()
        },
        FindingFilter {
            q: Some("100%_\\".into()),
            ..f()
        },
    ]
}

#[tokio::test]
async fn the_dashboard_filter_selects_what_the_store_lists() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let fs = crate::helpers::findings(600, 91);
    store.upsert(&fs).await.unwrap();
    let all: Vec<FindingListItem> = fs.iter().map(FindingListItem::from).collect();
    let description = |id: &str| {
        fs.iter()
            .find(|f| f.id == id)
            .unwrap()
            .description
            .to_lowercase()
    };
    for filter in filters(&all) {
        let from_store = listed(&store, &filter).await;
        let placed: BTreeSet<String> = all
            .iter()
            .filter(|i| filter.matches(i))
            .map(|i| i.id.clone())
            .collect();
        // Everything the dashboard places, the API lists too.
        let extra: Vec<_> = placed.difference(&from_store).collect();
        assert!(
            extra.is_empty(),
            "{filter:?}: placed but not listed: {extra:?}"
        );
        // What only the API lists is matched by its description, which a list
        // item does not carry (documented on `matches`).
        let q = filter.q.as_deref().map(str::to_lowercase);
        for id in from_store.difference(&placed) {
            let by_description = q.as_deref().is_some_and(|q| description(id).contains(q));
            assert!(by_description, "{filter:?}: listed but not placed: {id}");
        }
        if filter.is_empty() {
            assert_eq!(from_store.len(), fs.len());
        }
    }
}
