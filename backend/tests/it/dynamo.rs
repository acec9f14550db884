//! DynamoDB-specific behaviour on top of the shared store contract: counters stay
//! exact, throttled writes are retried, nothing is lost, errors name their call
//! (bounded reads and cursors: dynamo_paging.rs).

use crate::aws_env::{self, dynamo_store_at};
use crate::fault_proxy;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use cspm::store::dynamo::DynamoStore;
use cspm::store::{FindingVersion, Store, UpsertOutcome};
use shared_types::{
    Finding, FindingFilter, FindingSource, Severity, Summary, WorkflowStatus, WorkflowUpdate,
};
use std::collections::BTreeMap;

pub fn t0() -> DateTime<Utc> {
    "2024-05-01T12:00:00Z".parse().unwrap()
}

/// A finding shaped like a normalized Security Hub control failure.
pub fn finding(n: usize, severity: Severity, updated_at: DateTime<Utc>) -> Finding {
    let asff_id = format!("arn:aws:securityhub:us-east-1:111122223333:subscription/aws-foundational-security-best-practices/v/1.0.0/S3.8/finding/{n:05}");
    let product_arn = "arn:aws:securityhub:us-east-1::product/aws/securityhub".to_string();
    Finding {
        id: cspm::ids::short_id(&product_arn, &asff_id),
        asff_id,
        product_arn,
        product_name: "Security Hub".into(),
        company_name: Some("AWS".into()),
        generator_id: "security-control/S3.8".into(),
        source: FindingSource::SecurityHub,
        account_id: format!("11112222{:04}", n % 3),
        region: "us-east-1".into(),
        title: format!("S3 general purpose buckets should block public access #{n}"),
        description: "This control checks whether an Amazon S3 bucket has bucket-level Block Public Access settings.".into(),
        severity,
        workflow_status: WorkflowStatus::New,
        record_state: Default::default(),
        types: vec!["Software and Configuration Checks/Industry and Regulatory Standards".into()],
        resource_type: if n.is_multiple_of(2) { "AwsS3Bucket".into() } else { "AwsEc2SecurityGroup".into() },
        resource_id: format!("arn:aws:s3:::bucket-{n}"),
        resources: vec![],
        compliance_status: Some("FAILED".into()),
        control_id: Some("S3.8".into()),
        remediation_text: None,
        remediation_url: None,
        source_url: None,
        mitre: vec![],
        created_at: t0() - Duration::days((n % 5) as i64),
        updated_at,
        first_observed_at: None,
        last_observed_at: None,
        raw: serde_json::json!({"Id": n, "deep": {"a": [1, 2.5, null, {"b": ""}]}}),
        revision: 0,
        workflow_by_person: false,
    }
}

/// Every finding in the store, newest first, by paging `list`.
pub async fn list_all(
    store: &dyn Store,
    filter: &FindingFilter,
    limit: u32,
) -> Vec<shared_types::FindingListItem> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let page = store
            .list(filter, limit, cursor.as_deref())
            .await
            .expect("list");
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
    panic!("paging did not end");
}

/// The summary recomputed by reading every finding (what the counters must equal).
pub async fn recount(store: &dyn Store, today: NaiveDate) -> Summary {
    let items = list_all(store, &FindingFilter::default(), 1000).await;
    let mut by_severity: BTreeMap<Severity, u64> =
        Severity::ALL_DESC.iter().map(|s| (*s, 0)).collect();
    let mut by_status: BTreeMap<WorkflowStatus, u64> =
        WorkflowStatus::ALL.iter().map(|s| (*s, 0)).collect();
    let mut accounts: BTreeMap<String, u64> = BTreeMap::new();
    let mut types: BTreeMap<String, u64> = BTreeMap::new();
    let mut days: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    for i in &items {
        *by_severity.get_mut(&i.severity).unwrap() += 1;
        *by_status.get_mut(&i.workflow_status).unwrap() += 1;
        *accounts.entry(i.account_id.clone()).or_default() += 1;
        *types.entry(i.resource_type.clone()).or_default() += 1;
        *days.entry(i.created_at.date_naive()).or_default() += 1;
    }
    let top = |m: BTreeMap<String, u64>| {
        let mut v: Vec<_> = m
            .into_iter()
            .map(|(key, count)| shared_types::KeyCount { key, count })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        v.truncate(10);
        v
    };
    Summary {
        total: items.len() as u64,
        by_severity,
        by_status,
        trend: (0..30)
            .rev()
            .map(|b| {
                let date = today - Duration::days(b);
                shared_types::TrendPoint {
                    date,
                    count: days.get(&date).copied().unwrap_or(0),
                }
            })
            .collect(),
        top_accounts: top(accounts),
        top_resource_types: top(types),
    }
}

#[tokio::test]
async fn dynamo_counters_stay_exact_when_updates_change_severity_status_and_deletes() {
    let Some(ep) = aws_env::endpoint("dynamo_counters_stay_exact") else {
        return;
    };
    let store = dynamo_store_at(&ep).await;
    let today = t0().date_naive();
    let v1: Vec<Finding> = (0..12).map(|n| finding(n, Severity::High, t0())).collect();
    let r = store.upsert(&v1).await.unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    assert_eq!(r.count(|o| *o == UpsertOutcome::Inserted), 12);

    // Newer versions: half change severity, one goes back in time, one repeats.
    let mut v2: Vec<Finding> = (0..6)
        .map(|n| finding(n, Severity::Critical, t0() + Duration::minutes(1)))
        .collect();
    v2.push(finding(7, Severity::Low, t0() - Duration::minutes(1)));
    v2.push(finding(8, Severity::High, t0()));
    let r = store.upsert(&v2).await.unwrap();
    assert!(r.failed.is_empty());
    assert_eq!(
        r.count(|o| matches!(
            o,
            UpsertOutcome::Updated {
                previous_severity: Severity::High,
                ..
            }
        )),
        6
    );
    assert_eq!(r.outcomes[6].1, UpsertOutcome::SkippedOlder);
    assert_eq!(r.outcomes[7].1, UpsertOutcome::Unchanged);

    // Analyst triage, then a provider update saying NEW keeps the analyst's status.
    let upd = WorkflowUpdate {
        workflow_status: WorkflowStatus::Suppressed,
        note: Some("accepted risk".into()),
    };
    let d = store
        .set_workflow(&v1[9].id, &upd, "alice", t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.finding.workflow_status, WorkflowStatus::Suppressed);
    assert_eq!(d.audit.len(), 1);
    let r = store
        .upsert(&[finding(9, Severity::Medium, t0() + Duration::hours(1))])
        .await
        .unwrap();
    assert!(matches!(
        r.outcomes[0].1,
        UpsertOutcome::Updated {
            previous_status: WorkflowStatus::Suppressed,
            ..
        }
    ));
    let got = store.get(&v1[9].id).await.unwrap().unwrap();
    assert_eq!(got.finding.workflow_status, WorkflowStatus::Suppressed);
    assert_eq!(got.finding.severity, Severity::Medium);
    assert_eq!(got.audit.len(), 1, "audit survives provider updates");
    assert_eq!(got.finding.raw, v1[9].raw, "raw document round-trips");

    // A conditional delete of a stale version keeps the finding.
    let del = store
        .delete_versions(&[
            FindingVersion {
                id: v1[0].id.clone(),
                updated_at: t0(),
                revision: 0,
            },
            FindingVersion {
                id: v1[10].id.clone(),
                updated_at: t0(),
                revision: 1,
            },
        ])
        .await
        .unwrap();
    assert_eq!(del.deleted, vec![v1[10].id.clone()]);
    assert_eq!(del.kept, vec![v1[0].id.clone()]);

    let s = store.summary(today).await.unwrap();
    assert_eq!(s, recount(&store, today).await);
    assert_eq!(s.total, 11);
    assert_eq!(s.by_severity[&Severity::Critical], 6);
    assert_eq!(s.by_status[&WorkflowStatus::Suppressed], 1);
}

#[tokio::test]
async fn dynamo_counters_stay_exact_when_versions_interleave_with_analyst_changes() {
    let Some(ep) = aws_env::endpoint("dynamo_counters_interleaved") else {
        return;
    };
    let store = dynamo_store_at(&ep).await;
    let today = t0().date_naive();
    let sev = |k: usize| Severity::ALL_DESC[k % 5];
    // Eight senders' batches of the same ten findings, each version with another
    // severity and out of time order, with analysts changing statuses in between.
    for w in 0..8usize {
        let batch: Vec<Finding> = (0..10)
            .map(|n| {
                finding(
                    n,
                    sev(n + w),
                    t0() + Duration::seconds(((w * 7 + n) % 8) as i64),
                )
            })
            .collect();
        let r = store.upsert(&batch).await.unwrap();
        assert!(r.failed.is_empty(), "{:?}", r.failed);
        let upd = WorkflowUpdate {
            workflow_status: WorkflowStatus::ALL[w % 4],
            note: None,
        };
        store
            .set_workflow(&batch[w].id, &upd, "bob", t0())
            .await
            .unwrap();
        assert_eq!(
            store.summary(today).await.unwrap(),
            recount(&store, today).await,
            "after sender {w}"
        );
    }
    assert_eq!(store.summary(today).await.unwrap().total, 10);
    // The newest version won everywhere.
    for n in 0..10usize {
        let got = store
            .get(&finding(n, Severity::Low, t0()).id)
            .await
            .unwrap()
            .unwrap();
        let newest = (0..8).map(|w| ((w * 7 + n) % 8) as i64).max().unwrap();
        assert_eq!(got.finding.updated_at, t0() + Duration::seconds(newest));
    }
}

pub async fn store_behind_proxy(ep: &str) -> (DynamoStore, fault_proxy::FaultProxy) {
    let direct = dynamo_store_at(ep).await;
    let proxy = fault_proxy::start(ep).await;
    let sdk = aws_env::sdk_config(&proxy.endpoint).await;
    let settings = aws_env::emulator_settings(direct.table());
    (
        DynamoStore::new(cspm::aws::dynamodb_client(&sdk), settings),
        proxy,
    )
}

#[tokio::test]
async fn dynamo_throttled_writes_are_retried_and_nothing_is_lost() {
    let Some(ep) = aws_env::endpoint("dynamo_throttled_writes") else {
        return;
    };
    let (store, proxy) = store_behind_proxy(&ep).await;
    let batch: Vec<Finding> = (0..20).map(|n| finding(n, Severity::High, t0())).collect();
    proxy.throttle("TransactWriteItems", 3);
    proxy.throttle("BatchGetItem", 2);
    let r = store.upsert(&batch).await.unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    assert_eq!(r.count(|o| *o == UpsertOutcome::Inserted), 20);
    assert_eq!(proxy.injected("TransactWriteItems"), 3);
    assert_eq!(proxy.injected("BatchGetItem"), 2);
    assert_eq!(store.summary(t0().date_naive()).await.unwrap().total, 20);
    assert_eq!(
        list_all(&store, &FindingFilter::default(), 7).await.len(),
        20
    );
}

#[tokio::test]
async fn dynamo_writes_that_keep_failing_are_reported_for_retry() {
    let Some(ep) = aws_env::endpoint("dynamo_failing_writes_reported") else {
        return;
    };
    let (store, proxy) = store_behind_proxy(&ep).await;
    let first: Vec<Finding> = (0..5).map(|n| finding(n, Severity::Low, t0())).collect();
    store.upsert(&first).await.unwrap();
    // From now on every write is throttled: nothing may be reported as written.
    proxy.throttle("TransactWriteItems", u32::MAX);
    proxy.throttle("PutItem", u32::MAX);
    let batch: Vec<Finding> = (0..10)
        .map(|n| finding(n, Severity::Critical, t0() + Duration::hours(1)))
        .collect();
    let r = store.upsert(&batch).await.unwrap();
    assert!(r.outcomes.is_empty(), "{:?}", r.outcomes);
    assert_eq!(r.failed.len(), 10);
    assert!(
        r.failed
            .iter()
            .all(|f| f.retryable && f.reason.contains("ProvisionedThroughputExceeded")),
        "{:?}",
        r.failed
    );
    // The caller retries what failed once the table recovers.
    proxy.throttle("TransactWriteItems", 0);
    proxy.throttle("PutItem", 0);
    let retry: Vec<Finding> = batch
        .iter()
        .filter(|f| r.failed.iter().any(|x| x.id == f.id))
        .cloned()
        .collect();
    let r2 = store.upsert(&retry).await.unwrap();
    assert!(r2.failed.is_empty());
    let s = store.summary(t0().date_naive()).await.unwrap();
    assert_eq!(s.total, 10);
    assert_eq!(s.by_severity[&Severity::Critical], 10);
}

#[tokio::test]
async fn dynamo_errors_name_the_operation_and_the_table() {
    let Some(ep) = aws_env::endpoint("dynamo_errors_name_the_operation_and_the_table") else {
        return;
    };
    // A write DynamoDB refuses (an item over its 400 KB limit): reported for that
    // finding as permanent, naming the transaction and the table.
    let store = dynamo_store_at(&ep).await;
    let mut big = finding(1, Severity::High, t0());
    big.title = "x".repeat(450_000);
    let r = store.upsert(&[big]).await.unwrap();
    assert_eq!(r.failed.len(), 1, "{r:?}");
    let failed = &r.failed[0];
    let named = format!("DynamoDB TransactWriteItems on table {}: ", store.table());
    assert!(failed.reason.starts_with(&named), "{}", failed.reason);
    assert!(!failed.retryable, "{failed:?}");

    // Calls on a table that does not exist: each names its own operation.
    let missing = aws_env::unique("missing");
    let client = cspm::aws::dynamodb_client(&aws_env::sdk_config(&ep).await);
    let store = DynamoStore::new(client, aws_env::emulator_settings(&missing));
    let err = store.get("abc").await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!("DynamoDB GetItem on table {missing}: "))
            && text.contains("ResourceNotFoundException"),
        "{text}"
    );
    assert!(!err.is_retryable(), "{text}");
    let err = store
        .list(&FindingFilter::default(), 10, None)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("DynamoDB Query on table {missing}: ")),
        "{err}"
    );
    let err = store.summary(t0().date_naive()).await.unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("DynamoDB BatchGetItem on table {missing}: ")),
        "{err}"
    );
}
