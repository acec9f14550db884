//! The behaviour every `Store` must have, written once and run against each
//! implementation (SQLite here; DynamoDB against the AWS emulator).
//!
//! Expected values are computed from the input fixtures with plain, independent
//! predicates — never from the store under test.

use super::helpers::{anchor, findings, version};
use chrono::{Duration, NaiveDate};
use cspm::store::{FindingVersion, Store, StoreError, UpsertOutcome};
use shared_types::{ChangeKind, Finding, FindingFilter, Severity, WorkflowStatus, WorkflowUpdate};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Makes a fresh, empty store for each check.
pub type StoreFactory =
    Box<dyn Fn() -> Pin<Box<dyn Future<Output = Arc<dyn Store>> + Send>> + Send + Sync>;

/// Runs every check, each on a fresh store.
pub async fn run_contract(make: &StoreFactory) {
    upsert_is_idempotent(make().await).await;
    newer_wins_and_older_is_skipped(make().await).await;
    out_of_order_versions_converge_to_the_newest(make().await).await;
    every_filter_returns_exactly_the_matching_findings(make().await).await;
    paging_visits_every_finding_once_while_new_ones_arrive(make().await).await;
    bad_cursors_are_rejected(make().await).await;
    summary::summary_is_exact_through_updates_and_deletes(make().await).await;
    count::counts_are_exact_for_every_filter_through_writes(make().await).await;
    groups::groups_are_exact_for_every_filter_through_writes(make().await).await;
    workflow::workflow_changes_are_audited_and_survive_provider_updates(make().await).await;
    archive::archive_candidates_page_oldest_first_below_the_cutoff(make().await).await;
    archive::deletes_only_remove_the_version_that_was_read(make().await).await;
    workflow::unknown_ids_are_none(make().await).await;
    workflow::revisions_count_every_change(make().await).await;
    workflow::a_same_time_amendment_is_applied_once(make().await).await;
    compliance::compliance_snapshots_keep_the_last_of_each_day(make().await).await;
    super::store_workflow::the_workflow_table_holds_row_by_row(make().await).await;
    super::store_workflow::a_late_provider_version_is_not_older_than_a_persons_change(make().await)
        .await;
}

async fn list_all(store: &dyn Store, filter: &FindingFilter, limit: u32) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store.list(filter, limit, cursor.as_deref()).await.unwrap();
        assert!(page.items.len() <= limit as usize);
        ids.extend(page.items.iter().map(|i| i.id.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return ids,
        }
    }
}

fn newest_first(fs: &[&Finding]) -> Vec<String> {
    let mut v: Vec<&&Finding> = fs.iter().collect();
    v.sort_by(|a, b| {
        b.updated_at
            .timestamp_micros()
            .cmp(&a.updated_at.timestamp_micros())
            .then(b.id.cmp(&a.id))
    });
    v.into_iter().map(|f| f.id.clone()).collect()
}

async fn upsert_is_idempotent(store: Arc<dyn Store>) {
    let fs = findings(30, 1);
    let first = store.upsert(&fs).await.unwrap();
    assert_eq!(first.count(|o| *o == UpsertOutcome::Inserted), 30);
    let again = store.upsert(&fs).await.unwrap();
    assert_eq!(again.count(|o| *o == UpsertOutcome::Unchanged), 30);
    assert!(again.failed.is_empty());
    let today = anchor().date_naive();
    assert_eq!(store.summary(today).await.unwrap().total, 30);
    let got = store.get(&fs[0].id).await.unwrap().unwrap();
    assert_eq!(got.finding, stored_as(&fs[0], 1));
}

/// `f` as a store holds it at `revision` (the demo fixtures' statuses already
/// agree with their compliance, so the first write keeps them).
fn stored_as(f: &Finding, revision: u64) -> Finding {
    let mut f = f.clone();
    f.revision = revision;
    f
}

async fn newer_wins_and_older_is_skipped(store: Arc<dyn Store>) {
    let base = findings(1, 2).remove(0);
    let mut v2 = version(&base, 60);
    v2.title = "version 2".into();
    v2.severity = Severity::Low;
    store.upsert(std::slice::from_ref(&v2)).await.unwrap();

    let mut v1 = base.clone();
    v1.title = "version 1".into();
    let r = store.upsert(&[v1]).await.unwrap();
    assert_eq!(r.outcomes[0].1, UpsertOutcome::SkippedOlder);
    assert_eq!(
        store.get(&base.id).await.unwrap().unwrap().finding.title,
        "version 2"
    );

    let mut v3 = version(&base, 120);
    v3.title = "version 3".into();
    v3.severity = Severity::Critical;
    let r = store.upsert(std::slice::from_ref(&v3)).await.unwrap();
    assert_eq!(
        r.outcomes[0].1,
        UpsertOutcome::Updated {
            previous_severity: Severity::Low,
            previous_status: v2.workflow_status,
            kind: ChangeKind::Updated,
        }
    );
    let got = store.get(&base.id).await.unwrap().unwrap().finding;
    assert_eq!(
        (got.title.as_str(), got.severity),
        ("version 3", Severity::Critical)
    );
}

async fn out_of_order_versions_converge_to_the_newest(store: Arc<dyn Store>) {
    let fs = findings(20, 3);
    let mut arrivals = Vec::new();
    for f in &fs {
        for secs in [300, 0, 600, 100] {
            let mut v = version(f, secs);
            v.title = format!("{} @{secs}", f.id);
            arrivals.push(v);
        }
    }
    // Deterministic shuffle: interleave findings and versions.
    arrivals.sort_by_key(|v| (v.title.len() % 3, v.id.clone()));
    for chunk in arrivals.chunks(7) {
        store.upsert(chunk).await.unwrap();
    }
    for f in &fs {
        let got = store.get(&f.id).await.unwrap().unwrap().finding;
        assert_eq!(got.title, format!("{} @600", f.id));
    }
}

/// The independent oracle for a filter case.
type Predicate<'a> = Box<dyn Fn(&Finding) -> bool + 'a>;

async fn every_filter_returns_exactly_the_matching_findings(store: Arc<dyn Store>) {
    let fs = findings(400, 4);
    store.upsert(&fs).await.unwrap();
    let sample = &fs[7];
    let mid = anchor() - Duration::days(40);
    let word = "imdsv2";
    let cases: Vec<(FindingFilter, Predicate<'_>)> = vec![
        (FindingFilter::default(), Box::new(|_| true)),
        (
            FindingFilter {
                severities: vec![Severity::Critical],
                ..Default::default()
            },
            Box::new(|f| f.severity == Severity::Critical),
        ),
        (
            FindingFilter {
                severities: vec![Severity::High, Severity::Low],
                ..Default::default()
            },
            Box::new(|f| matches!(f.severity, Severity::High | Severity::Low)),
        ),
        (
            FindingFilter {
                statuses: vec![WorkflowStatus::Resolved],
                ..Default::default()
            },
            Box::new(|f| f.workflow_status == WorkflowStatus::Resolved),
        ),
        (
            FindingFilter {
                account: Some(sample.account_id.clone()),
                ..Default::default()
            },
            Box::new(|f| f.account_id == sample.account_id),
        ),
        (
            FindingFilter {
                region: Some(sample.region.clone()),
                ..Default::default()
            },
            Box::new(|f| f.region == sample.region),
        ),
        (
            FindingFilter {
                resource_type: Some(sample.resource_type.clone()),
                ..Default::default()
            },
            Box::new(|f| f.resource_type == sample.resource_type),
        ),
        (
            FindingFilter {
                product: Some("GuardDuty".into()),
                ..Default::default()
            },
            Box::new(|f| f.product_name == "GuardDuty"),
        ),
        (
            FindingFilter {
                q: Some(word.to_uppercase()),
                ..Default::default()
            },
            Box::new(move |f| {
                [&f.title, &f.description, &f.resource_id, &f.asff_id]
                    .iter()
                    .any(|s| s.to_lowercase().contains(word))
            }),
        ),
        (
            FindingFilter {
                q: Some(sample.asff_id.clone()),
                ..Default::default()
            },
            Box::new(|f| {
                f.asff_id.contains(&sample.asff_id) || f.resource_id.contains(&sample.asff_id)
            }),
        ),
        (
            FindingFilter {
                since: Some(mid),
                ..Default::default()
            },
            Box::new(move |f| f.updated_at >= mid),
        ),
        (
            FindingFilter {
                until: Some(mid),
                ..Default::default()
            },
            Box::new(move |f| f.updated_at < mid),
        ),
        (
            FindingFilter {
                severities: vec![Severity::Medium, Severity::High],
                statuses: vec![WorkflowStatus::New],
                region: Some("us-east-1".into()),
                since: Some(anchor() - Duration::days(90)),
                ..Default::default()
            },
            Box::new(|f| {
                matches!(f.severity, Severity::Medium | Severity::High)
                    && f.workflow_status == WorkflowStatus::New
                    && f.region == "us-east-1"
                    && f.updated_at >= anchor() - Duration::days(90)
            }),
        ),
    ];
    for (filter, pred) in cases {
        let expected: Vec<&Finding> = fs.iter().filter(|f| pred(f)).collect();
        assert!(
            !expected.is_empty() || filter.q.is_some(),
            "fixture gives no match for {filter:?}"
        );
        let got = list_all(store.as_ref(), &filter, 45).await;
        assert_eq!(got, newest_first(&expected), "filter {filter:?}");
    }
}

async fn paging_visits_every_finding_once_while_new_ones_arrive(store: Arc<dyn Store>) {
    let original = findings(250, 5);
    store.upsert(&original).await.unwrap();
    let mut arriving = findings(60, 99).into_iter();
    let filter = FindingFilter::default();
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store.list(&filter, 37, cursor.as_deref()).await.unwrap();
        seen.extend(page.items.iter().map(|i| i.id.clone()));
        // New findings land between pages, both newer and older than the cursor.
        let batch: Vec<Finding> = arriving.by_ref().take(6).collect();
        store.upsert(&batch).await.unwrap();
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in &seen {
        *counts.entry(id.as_str()).or_default() += 1;
    }
    assert!(
        counts.values().all(|n| *n == 1),
        "a finding was listed twice"
    );
    for f in &original {
        assert_eq!(counts.get(f.id.as_str()), Some(&1), "{} missed", f.id);
    }
}

async fn bad_cursors_are_rejected(store: Arc<dyn Store>) {
    store.upsert(&findings(10, 6)).await.unwrap();
    let all = FindingFilter::default();
    let page = store.list(&all, 3, None).await.unwrap();
    let cursor = page.next_cursor.expect("more pages");
    let other = FindingFilter {
        severities: vec![Severity::Low],
        ..Default::default()
    };
    for (filter, c) in [(&all, "garbage"), (&all, ""), (&other, cursor.as_str())] {
        let err = store.list(filter, 3, Some(c)).await.unwrap_err();
        assert!(matches!(err, StoreError::InvalidCursor(_)), "{c:?}: {err}");
    }
}

/// The archiver's side: candidates below the cutoff, deletes of what was read.
mod archive;
/// Daily compliance snapshots.
mod compliance;
/// View counts: exact through writes, estimates inside their bound.
pub mod count;
/// Grouping a view, checked against the stored findings.
pub mod groups;
/// The summary counters: exact through updates and deletes.
mod summary;
/// Workflow changes, revisions and unknown ids.
mod workflow;
