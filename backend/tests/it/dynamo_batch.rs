//! Batched DynamoDB upserts: what a batch costs in requests (counted by the proxy in
//! front of the emulator), and that batching keeps newer-wins and exact counters
//! when another writer races it.

use crate::aws_env;
use crate::dynamo::{finding, list_all, recount, store_behind_proxy, t0};
use chrono::Duration;
use cspm::store::dynamo::counters::resource_shard;
use cspm::store::{Store, UpsertOutcome};
use shared_types::{Finding, FindingFilter, Severity, WorkflowStatus};
use std::collections::BTreeMap;

/// Asserts that the view counters agree with every finding read back: the count
/// of each severity × account × resource type view (status NEW, so the counted
/// part is answered by the view counters) equals the findings listed in it.
async fn assert_view_counts_exact(store: &dyn Store, when: &str) {
    let mut truth: BTreeMap<(Severity, String, String), u64> = BTreeMap::new();
    for i in list_all(store, &FindingFilter::default(), 1000).await {
        assert_eq!(i.workflow_status, WorkflowStatus::New);
        *truth
            .entry((i.severity, i.account_id, i.resource_type))
            .or_default() += 1;
    }
    let accounts = ["111122220000", "111122220001", "111122220002"];
    for sev in Severity::ALL_DESC {
        for account in accounts {
            for rt in ["AwsS3Bucket", "AwsEc2SecurityGroup"] {
                let filter = FindingFilter {
                    severities: vec![sev],
                    statuses: vec![WorkflowStatus::New],
                    account: Some(account.into()),
                    resource_type: Some(rt.into()),
                    ..FindingFilter::default()
                };
                let c = store.count(&filter).await.unwrap();
                let want = truth
                    .get(&(sev, account.to_string(), rt.to_string()))
                    .copied()
                    .unwrap_or(0);
                assert!(c.exact, "{when}: {filter:?}");
                assert_eq!(c.total, want, "{when}: {filter:?}");
            }
        }
    }
}

/// Requests of each data-plane operation the proxy forwarded.
fn calls(proxy: &crate::fault_proxy::FaultProxy) -> [u32; 5] {
    [
        "BatchGetItem",
        "TransactWriteItems",
        "PutItem",
        "GetItem",
        "UpdateItem",
    ]
    .map(|op| proxy.forwarded(op))
}

/// Shard transactions expected for findings whose counters all move: per counter
/// shard (their resource's, where they were first written), one for each 50 of
/// them (fewer than 40 a shard here, so the resource updates fit).
fn transactions_for(findings: &[Finding]) -> u32 {
    let mut per_shard: std::collections::HashMap<u8, u32> = Default::default();
    for f in findings {
        *per_shard.entry(resource_shard(&f.resource_id)).or_default() += 1;
    }
    per_shard.values().map(|n| n.div_ceil(50)).sum()
}

fn sub(a: [u32; 5], b: [u32; 5]) -> [u32; 5] {
    [0, 1, 2, 3, 4].map(|i| a[i] - b[i])
}

#[tokio::test]
async fn dynamo_batches_read_once_per_100_findings_and_write_once_per_shard() {
    let Some(ep) = aws_env::endpoint("dynamo_batch_requests") else {
        return;
    };
    let (store, proxy) = store_behind_proxy(&ep).await;
    let today = t0().date_naive();
    let sev = |n: usize| Severity::ALL_DESC[n % 5];

    // 240 new findings: three reads, and per counter shard one transaction for
    // each 50 of its findings.
    let v1: Vec<Finding> = (0..240).map(|n| finding(n, sev(n), t0())).collect();
    let before = calls(&proxy);
    let r = store.upsert(&v1).await.unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    assert_eq!(r.count(|o| *o == UpsertOutcome::Inserted), 240);
    let [reads, txs, puts, gets, updates] = sub(calls(&proxy), before);
    assert_eq!((reads, puts, gets, updates), (3, 0, 0, 0));
    assert_eq!(
        txs,
        transactions_for(&v1),
        "one transaction per 50 findings of a shard"
    );
    assert_eq!(
        store.summary(today).await.unwrap(),
        recount(&store, today).await
    );

    // The same findings again: one read per 100, nothing written.
    let before = calls(&proxy);
    let r = store.upsert(&v1).await.unwrap();
    assert_eq!(r.count(|o| *o == UpsertOutcome::Unchanged), 240);
    assert_eq!(sub(calls(&proxy), before), [3, 0, 0, 0, 0]);

    // A mixed batch, in this order: 40 newer with the same severity (their counters
    // do not move: one PutItem each), 40 newer with another severity (shard
    // transactions), 40 older versions, 40 unchanged, 20 new.
    let mut v2: Vec<Finding> = Vec::new();
    v2.extend((0..40).map(|n| finding(n, sev(n), t0() + Duration::minutes(1))));
    v2.extend((40..80).map(|n| finding(n, sev(n + 1), t0() + Duration::minutes(1))));
    v2.extend((80..120).map(|n| finding(n, sev(n + 2), t0() - Duration::minutes(1))));
    v2.extend((120..160).map(|n| finding(n, sev(n), t0())));
    v2.extend((240..260).map(|n| finding(n, sev(n), t0())));
    let before = calls(&proxy);
    let r = store.upsert(&v2).await.unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    let ids: Vec<&str> = r.outcomes.iter().map(|(id, _)| id.as_str()).collect();
    let want: Vec<&str> = v2.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, want, "outcomes come back in input order");
    let kinds = |range: std::ops::Range<usize>| {
        r.outcomes[range]
            .iter()
            .map(|(_, o)| match o {
                UpsertOutcome::Updated {
                    previous_severity, ..
                } => format!("updated from {previous_severity:?}"),
                other => format!("{other:?}"),
            })
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert!(
        kinds(0..80).iter().all(|k| k.starts_with("updated")),
        "{:?}",
        kinds(0..80)
    );
    assert_eq!(kinds(80..120), ["SkippedOlder".to_string()].into());
    assert_eq!(kinds(120..160), ["Unchanged".to_string()].into());
    assert_eq!(kinds(160..180), ["Inserted".to_string()].into());
    let [reads, txs, puts, gets, updates] = sub(calls(&proxy), before);
    assert_eq!((reads, puts, gets, updates), (2, 40, 0, 0));
    let moved: Vec<Finding> = v2[40..80].iter().chain(&v2[160..]).cloned().collect();
    assert_eq!(txs, transactions_for(&moved));
    let s = store.summary(today).await.unwrap();
    assert_eq!(s, recount(&store, today).await);
    assert_eq!(s.total, 260);
    assert_view_counts_exact(&store, "after the mixed batch").await;
    for f in &v2[40..80] {
        let got = store.get(&f.id).await.unwrap().unwrap();
        assert_eq!(
            (got.finding.severity, got.finding.updated_at),
            (f.severity, f.updated_at)
        );
    }
}

#[tokio::test]
async fn dynamo_batches_racing_another_writer_keep_the_newest_version_and_exact_counters() {
    let Some(ep) = aws_env::endpoint("dynamo_batch_race") else {
        return;
    };
    // The batched writer goes through the proxy, which counts its requests: only
    // the one-finding fallback after a lost race sends `GetItem`.
    let (batched, proxy) = store_behind_proxy(&ep).await;
    let mut settings = aws_env::emulator_settings(batched.table());
    settings.concurrency = 4;
    let other = cspm::store::dynamo::DynamoStore::new(
        cspm::aws::dynamodb_client(&aws_env::sdk_config(&ep).await),
        settings,
    );
    let today = t0().date_naive();
    let sev = |k: usize| Severity::ALL_DESC[k % 5];
    // Two writers send versions of the same 120 findings at the same time, each
    // version newer or older than the other's and with another severity, so their
    // conditional writes and shard transactions keep losing races to each other.
    for round in 0..6usize {
        let version = |w: usize, n: usize| {
            let secs = ((round * 11 + n * 3 + w * 5) % 9) as i64;
            finding(n, sev(n + w + round), t0() + Duration::seconds(secs))
        };
        let a: Vec<Finding> = (0..120).map(|n| version(0, n)).collect();
        let b: Vec<Finding> = (0..120).rev().map(|n| version(1, n)).collect();
        let (ra, rb) = tokio::join!(batched.upsert(&a), other.upsert(&b));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert!(
            ra.failed.is_empty() && rb.failed.is_empty(),
            "{:?} {:?}",
            ra.failed,
            rb.failed
        );
        assert_eq!(
            batched.summary(today).await.unwrap(),
            recount(&batched, today).await,
            "round {round}"
        );
        assert_view_counts_exact(&batched, &format!("round {round}")).await;
        for n in 0..120 {
            let (va, vb) = (version(0, n), version(1, n));
            let got = batched.get(&va.id).await.unwrap().unwrap().finding;
            let newest = va.updated_at.max(vb.updated_at);
            // Earlier rounds may have left a still newer one.
            assert!(
                got.updated_at >= newest,
                "finding {n} lost its newest version in round {round}"
            );
        }
    }
    assert_eq!(batched.summary(today).await.unwrap().total, 120);
    assert!(
        proxy.forwarded("GetItem") > 0,
        "the writers never raced: the fallback after a lost race did not run"
    );
}
