//! DynamoDB's list reads: a selective filter returns bounded pages that resume
//! exactly, the read budget pays for what each query read, and a cursor from
//! another query, or tampered with, is refused.

use crate::aws_env::{self, dynamo_store_at};
use crate::dynamo::{finding, t0};
use chrono::Duration;
use cspm::store::dynamo::DynamoStore;
use cspm::store::{Store, StoreError};
use shared_types::{Finding, FindingFilter, Severity, WorkflowStatus};

#[tokio::test]
async fn dynamo_selective_filters_return_bounded_pages_that_resume_exactly() {
    let Some(ep) = aws_env::endpoint("dynamo_bounded_pages") else {
        return;
    };
    let direct = dynamo_store_at(&ep).await;
    let mut settings = aws_env::emulator_settings(direct.table());
    settings.read_budget = Some(30);
    let store = DynamoStore::new(direct.client().clone(), settings);
    let all: Vec<Finding> = (0..150)
        .map(|n| {
            let mut f = finding(
                n,
                Severity::ALL_DESC[n % 5],
                t0() + Duration::seconds(n as i64),
            );
            if n % 37 == 0 {
                f.title = format!("Public READ access on Bucket-{n}");
            }
            f
        })
        .collect();
    assert!(store.upsert(&all).await.unwrap().failed.is_empty());
    let filter = FindingFilter {
        q: Some("public read".into()),
        ..Default::default()
    };
    let mut got = Vec::new();
    let mut cursor: Option<String> = None;
    let mut short_pages = 0;
    for _ in 0..200 {
        let page = store.list(&filter, 2, cursor.as_deref()).await.unwrap();
        if page.items.len() < 2 && page.next_cursor.is_some() {
            short_pages += 1;
        }
        got.extend(page.items.into_iter().map(|i| i.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut want: Vec<&Finding> = all
        .iter()
        .filter(|f| f.title.to_lowercase().contains("public read"))
        .collect();
    want.sort_by_key(|f| std::cmp::Reverse(f.updated_at));
    assert_eq!(got, want.iter().map(|f| f.id.clone()).collect::<Vec<_>>());
    assert!(short_pages > 0, "the read budget never cut a page short");
}

/// The read budget pays for the entries a query evaluated, not the limits it
/// asked for: four empty severities and a partition that ends mid-request cost
/// what they read, so a view smaller than the budget is read to its end.
#[tokio::test]
async fn dynamo_read_budget_pays_for_entries_read_not_limits_asked() {
    let Some(ep) = aws_env::endpoint("dynamo_budget_paid_by_reads") else {
        return;
    };
    let direct = dynamo_store_at(&ep).await;
    let mut settings = aws_env::emulator_settings(direct.table());
    settings.read_budget = Some(30);
    let store = DynamoStore::new(direct.client().clone(), settings);
    let all: Vec<Finding> = (0..20)
        .map(|n| finding(n, Severity::High, t0() + Duration::seconds(n as i64)))
        .collect();
    assert!(store.upsert(&all).await.unwrap().failed.is_empty());
    // A filter expression, so every Query asks for its whole share (3 entries).
    // Asked-for limits would cost 4 × 3 for the empty severities and 7 × 3 for
    // HIGH: 33 > 30, a short page. Read entries cost 4 × 1 + 20 = 24.
    let filter = FindingFilter {
        statuses: vec![WorkflowStatus::New],
        ..Default::default()
    };
    let page = store.list(&filter, 100, None).await.unwrap();
    assert_eq!(page.items.len(), 20);
    assert!(
        page.next_cursor.is_none(),
        "the budget ran out on a view of 20"
    );
}

#[tokio::test]
async fn dynamo_cursors_from_another_query_or_tampered_are_rejected() {
    let Some(ep) = aws_env::endpoint("dynamo_cursor_validation") else {
        return;
    };
    let store = dynamo_store_at(&ep).await;
    let all: Vec<Finding> = (0..6)
        .map(|n| finding(n, Severity::High, t0() + Duration::seconds(n as i64)))
        .collect();
    store.upsert(&all).await.unwrap();
    let high = FindingFilter {
        severities: vec![Severity::High],
        ..Default::default()
    };
    let page = store.list(&high, 2, None).await.unwrap();
    let c = page.next_cursor.expect("more pages");
    let other = FindingFilter {
        severities: vec![Severity::Low],
        ..Default::default()
    };
    assert!(matches!(
        store.list(&other, 2, Some(&c)).await,
        Err(StoreError::InvalidCursor(_))
    ));
    let mut tampered = c.clone();
    tampered.insert(3, 'x');
    assert!(matches!(
        store.list(&high, 2, Some(&tampered)).await,
        Err(StoreError::InvalidCursor(_))
    ));
    assert!(matches!(
        store.list(&high, 2, Some("")).await,
        Err(StoreError::InvalidCursor(_))
    ));
}
