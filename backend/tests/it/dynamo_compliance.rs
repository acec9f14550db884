//! The compliance results and the findings per generator DynamoDB keeps on
//! write (store/dynamo/controls.rs, generators.rs) against a report and
//! groupings worked out from every stored finding, through random sequences
//! of the writes that move them — batched and single provider upserts, a
//! person's workflow changes, bulk changes, archival deletes — and `cspm
//! recount` rebuilding them for a table written before they were kept.

use crate::aws_env::{self, dynamo_store_at};
use crate::compliance_fold::{archive_one, assert_kept_equals_read, finding, workflow_change, Rng};
use crate::store_contract::count::stored;
use crate::store_contract::groups::assert_grouping_is_truth;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Duration;
use cspm::store::dynamo::DynamoStore;
use cspm::store::Store;
use shared_types::{Finding, FindingFilter, GroupBy, Severity, WorkflowStatus};

/// One random write to `store` over findings numbered below 40; `stored`
/// tracks which exist.
pub(crate) async fn random_write(
    store: &DynamoStore,
    rng: &mut Rng,
    stored: &mut Vec<usize>,
    step: i64,
) {
    let clock = crate::helpers::anchor() + Duration::seconds(step);
    let op = if stored.is_empty() { 0 } else { rng.below(5) };
    match op {
        // Provider versions, batched (one shard's findings share a transaction).
        0 | 1 => {
            let batch: Vec<Finding> = (0..1 + rng.below(15))
                .map(|_| {
                    let n = rng.below(40);
                    if !stored.contains(&n) {
                        stored.push(n);
                    }
                    finding(rng, n, clock)
                })
                .collect();
            let report = store.upsert(&batch).await.unwrap();
            assert!(report.failed.is_empty(), "{:?}", report.failed);
        }
        2 => workflow_change(store, rng, stored, clock).await,
        3 => archive_one(store, rng, stored).await,
        // One finding alone: the one-finding path's transaction.
        _ => {
            let n = *rng.pick(stored);
            store.upsert(&[finding(rng, n, clock)]).await.unwrap();
        }
    }
}

#[tokio::test]
async fn kept_results_equal_a_read_of_every_finding_after_any_write() {
    let Some(ep) = aws_env::endpoint("dynamo_compliance") else {
        return;
    };
    for seed in 1..=3u64 {
        let store = dynamo_store_at(&ep).await;
        let mut rng = Rng(cspm::demo::Rng(seed));
        let mut stored = Vec::new();
        for step in 0..30 {
            random_write(&store, &mut rng, &mut stored, step).await;
            assert_kept_equals_read(&store, &format!("seed {seed}, step {step}")).await;
            // Every other step: each check reads every finding back.
            if step % 2 == 1 {
                assert_generators_equal_read(&store).await;
            }
        }
        let rows = store.control_results(None).await.unwrap().unwrap();
        assert!(
            rows.iter().any(|r| r.tally.failed > 0) && rows.iter().any(|r| r.tally.passed > 0),
            "seed {seed}: the sequence never reached both verdicts: {rows:?}"
        );
    }
}

/// Grouping by generator, and each first group's count, in views the
/// generator items answer, equal what every stored finding says — answered
/// from those items: every finding is counted there.
pub(crate) async fn assert_generators_equal_read(store: &DynamoStore) {
    assert_eq!(summary_sum(store, "g").await, summary_sum(store, "t").await);
    let all = stored(store).await;
    let Some(first) = all.first() else {
        return;
    };
    let views = [
        FindingFilter::default(),
        FindingFilter {
            statuses: vec![WorkflowStatus::New, WorkflowStatus::Notified],
            ..FindingFilter::default()
        },
        FindingFilter {
            generator: Some(first.generator_id.clone()),
            severities: vec![first.severity, Severity::Low],
            ..FindingFilter::default()
        },
    ];
    for view in views {
        assert_grouping_is_truth(store, &all, &view, GroupBy::Generator).await;
    }
}

/// Every item of the table, by id.
pub(crate) async fn items(
    store: &DynamoStore,
) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = store
            .client()
            .scan()
            .table_name(store.table())
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        out.extend(page.items().iter().cloned());
        match page.last_evaluated_key() {
            Some(k) => start = Some(k.clone()),
            None => return out,
        }
    }
}

/// The sum of summary attribute `attr` over the shards (`k`: findings whose
/// items carry their results; `g`: findings counted per generator; `t`: all).
async fn summary_sum(store: &DynamoStore, attr: &str) -> i64 {
    let mut sum = 0;
    for id in cspm::store::dynamo::counters::all_shard_ids() {
        let item = store
            .client()
            .get_item()
            .table_name(store.table())
            .key("id", AttributeValue::S(id))
            .send()
            .await
            .unwrap()
            .item
            .unwrap_or_default();
        if let Some(AttributeValue::N(n)) = item.get(attr) {
            sum += n.parse::<i64>().unwrap();
        }
    }
    sum
}

#[tokio::test]
async fn a_recount_fills_in_a_table_written_before_results_were_kept() {
    let Some(ep) = aws_env::endpoint("dynamo_compliance_recount") else {
        return;
    };
    let store = dynamo_store_at(&ep).await;
    let mut rng = Rng(cspm::demo::Rng(11));
    let mut stored = Vec::new();
    for step in 0..12 {
        random_write(&store, &mut rng, &mut stored, step).await;
    }
    assert_kept_equals_read(&store, "before").await;

    // As a table from before: no results on the items, no control items, no
    // rows; and one row left over from a finding long gone.
    let client = store.client();
    let key = |id: &str| {
        std::collections::HashMap::from([("id".to_string(), AttributeValue::S(id.into()))])
    };
    for item in items(&store).await {
        let Some(AttributeValue::S(id)) = item.get("id") else {
            continue;
        };
        if id.starts_with("#controls#") || id.starts_with("#cfr#") || id.starts_with("#cff#") {
            client
                .delete_item()
                .table_name(store.table())
                .set_key(Some(key(id)))
                .send()
                .await
                .unwrap();
        } else if !id.starts_with('#') {
            client
                .update_item()
                .table_name(store.table())
                .set_key(Some(key(id)))
                .update_expression("REMOVE controls")
                .send()
                .await
                .unwrap();
        }
    }
    let stale = cspm::store::dynamo::controls::RowWrite::item(
        "#cfr#gone#aws-fsbp",
        "#cfr#aws-fsbp#S3.1",
        "arn:aws:s3:::gone",
    );
    client
        .put_item()
        .table_name(store.table())
        .set_item(Some(stale))
        .send()
        .await
        .unwrap();
    // Its summary items never counted findings with results.
    for id in cspm::store::dynamo::counters::all_shard_ids() {
        client
            .update_item()
            .table_name(store.table())
            .set_key(Some(key(&id)))
            .update_expression("REMOVE k")
            .send()
            .await
            .unwrap();
    }
    // Until the recount, a report reads every finding: right, if slow.
    assert!(store.control_results(None).await.unwrap().is_none());
    let today = chrono::Utc::now().date_naive();
    let overview = cspm::compliance::daily::overview(&store, today)
        .await
        .unwrap();
    let read = cspm::compliance::daily::read_report(&store).await.unwrap();
    assert_eq!(overview.standards.len(), read.scores().len());
    assert!(!overview.standards.is_empty());
    // The snapshot task does not read every finding again for a day that has
    // its point, even one that no longer matches.
    let stale = cspm::store::ScoreSnapshot {
        date: today,
        slug: "aws-fsbp".into(),
        score: Some(1),
        passed: 1,
        failed: 99,
        unknown: 0,
    };
    store
        .put_compliance_snapshot(today, &[stale])
        .await
        .unwrap();
    assert!(!cspm::compliance::daily::take_snapshot(&store, today)
        .await
        .unwrap());
    // A workflow change rewrites an old item with its results: it now counts.
    workflow_change(&store, &mut rng, &stored, crate::helpers::anchor()).await;
    assert_eq!(summary_sum(&store, "k").await, 1);

    let dry = store.recount_counters(true).await.unwrap();
    assert_eq!(dry.results_missing, stored.len() as u64 - 1, "{dry:?}");
    assert!(dry.rows_differing > 1 && dry.differs(), "{dry:?}");
    assert!(store.control_results(None).await.unwrap().is_none());

    let done = store.recount_counters(false).await.unwrap();
    assert_eq!(done.results_missing, dry.results_missing);
    assert_eq!(done.rows_differing, dry.rows_differing);
    assert_kept_equals_read(&store, "after the recount").await;
    assert_eq!(summary_sum(&store, "k").await, stored.len() as i64);
    // Now the snapshot is taken from the kept results, and replaces the stale one.
    assert!(cspm::compliance::daily::take_snapshot(&store, today)
        .await
        .unwrap());
    let after = store.recount_counters(true).await.unwrap();
    assert!(!after.differs(), "{after:?}");
    assert!(items(&store)
        .await
        .iter()
        .all(|i| i.get("id") != Some(&AttributeValue::S("#cfr#gone#aws-fsbp".into()))));
    // Filling in the results kept each finding's revision: the change feed
    // decodes those rewrites to nothing, so no sink hears of them again.
    assert_eq!(
        quiet_rewrites(&ep, &store, "controls").await,
        stored.len() - 1
    );
    // New writes keep counting from the filled-in results.
    for step in 12..20 {
        random_write(&store, &mut rng, &mut stored, step).await;
    }
    assert_kept_equals_read(&store, "writes after the recount").await;
}

#[tokio::test]
async fn a_recount_counts_a_table_written_before_generators_were_counted() {
    let Some(ep) = aws_env::endpoint("dynamo_generators_recount") else {
        return;
    };
    let store = dynamo_store_at(&ep).await;
    let mut rng = Rng(cspm::demo::Rng(5));
    let mut stored_ns = Vec::new();
    for step in 0..12 {
        random_write(&store, &mut rng, &mut stored_ns, step).await;
    }
    assert_generators_equal_read(&store).await;

    // As a table the previous version wrote: results on the items, but no
    // generator items, no marks, no `g`.
    let client = store.client();
    let key = |id: &str| {
        std::collections::HashMap::from([("id".to_string(), AttributeValue::S(id.into()))])
    };
    let mut findings = 0;
    for item in items(&store).await {
        let Some(AttributeValue::S(id)) = item.get("id") else {
            continue;
        };
        let update = if id.starts_with("#generators#") {
            let gone = client.delete_item().table_name(store.table());
            gone.set_key(Some(key(id)))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else if id.starts_with("#counts#") {
            update_of(&store, id, "REMOVE g")
                .await
                .map_err(|e| e.to_string())
        } else if !id.starts_with('#') {
            findings += 1;
            update_of(&store, id, "REMOVE gen_counted")
                .await
                .map_err(|e| e.to_string())
        } else {
            Ok(())
        };
        update.unwrap();
    }
    assert_eq!(findings, stored_ns.len());
    // Until the recount a grouping by generator reads the findings: exact on
    // a table this small.
    let all = stored(&store).await;
    assert_grouping_is_truth(&store, &all, &FindingFilter::default(), GroupBy::Generator).await;
    // A rewrite of an unmarked item counts its new version and subtracts
    // nothing for the old one.
    workflow_change(&store, &mut rng, &stored_ns, crate::helpers::anchor()).await;
    assert_eq!(summary_sum(&store, "g").await, 1);

    let dry = store.recount_counters(true).await.unwrap();
    assert_eq!(dry.generators_unmarked, findings as u64 - 1, "{dry:?}");
    assert_eq!(dry.results_missing, 0, "{dry:?}");
    assert!(dry.differs() && !dry.differences.is_empty(), "{dry:?}");
    assert_eq!(
        summary_sum(&store, "g").await,
        1,
        "a dry run writes nothing"
    );

    let done = store.recount_counters(false).await.unwrap();
    assert_eq!(done.generators_unmarked, dry.generators_unmarked);
    assert_generators_equal_read(&store).await;
    assert!(!store.recount_counters(true).await.unwrap().differs());

    // The groupings come from the generator items: a tally moved by hand shows.
    let tallied = items(&store)
        .await
        .into_iter()
        .find(|i| matches!(i.get("id"), Some(AttributeValue::S(id)) if id.starts_with("#generators#")))
        .unwrap();
    let AttributeValue::S(item_id) = &tallied["id"] else {
        unreachable!()
    };
    let (attr, _) = tallied
        .iter()
        .find(|(_, v)| matches!(v, AttributeValue::N(_)))
        .unwrap();
    let generator = serde_json::from_str::<Vec<String>>(attr).unwrap().remove(0);
    let before = generator_total(&store, &generator).await;
    client
        .update_item()
        .table_name(store.table())
        .set_key(Some(key(item_id)))
        .update_expression("ADD #a :n")
        .expression_attribute_names("#a", attr)
        .expression_attribute_values(":n", AttributeValue::N("5".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(generator_total(&store, &generator).await, before + 5);
    let fixed = store.recount_counters(false).await.unwrap();
    assert_eq!(fixed.differences.len(), 1, "{fixed:?}");
    assert_generators_equal_read(&store).await;

    // Marking kept each finding's revision: the change feed decodes those
    // rewrites to nothing, so no sink hears of them.
    assert_eq!(
        quiet_rewrites(&ep, &store, "gen_counted").await,
        findings - 1
    );
    for step in 12..20 {
        random_write(&store, &mut rng, &mut stored_ns, step).await;
        assert_generators_equal_read(&store).await;
    }
}

/// Runs the update expression `expr` on item `id`.
pub(crate) async fn update_of(
    store: &DynamoStore,
    id: &str,
    expr: &str,
) -> Result<
    (),
    aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError>,
> {
    store
        .client()
        .update_item()
        .table_name(store.table())
        .key("id", AttributeValue::S(id.into()))
        .update_expression(expr)
        .send()
        .await
        .map(|_| ())
}

/// The whole store's findings of `generator`, as a grouping counts them.
async fn generator_total(store: &DynamoStore, generator: &str) -> u64 {
    let groups = store
        .groups(&FindingFilter::default(), GroupBy::Generator, 1000)
        .await
        .unwrap();
    groups
        .groups
        .iter()
        .find(|g| g.key == generator)
        .map_or(0, |g| g.total)
}

/// The stream records of rewrites that added `attr` to a finding item and
/// kept its revision, after checking that the change feed decodes each of
/// them to nothing.
async fn quiet_rewrites(ep: &str, store: &DynamoStore, attr: &str) -> usize {
    let raw = crate::stream_records::raw_records(ep, store.client(), store.table()).await;
    let event = crate::stream_records::lambda_event(&raw);
    let rewrites: Vec<_> = raw
        .iter()
        .zip(&event.records)
        .filter(|(r, _)| {
            r["eventName"] == "MODIFY"
                && r["dynamodb"]["NewImage"]["rev"] == r["dynamodb"]["OldImage"]["rev"]
                && r["dynamodb"]["NewImage"].get(attr).is_some()
                && r["dynamodb"]["OldImage"].get(attr).is_none()
        })
        .collect();
    for (_, record) in &rewrites {
        assert!(cspm::feed::stream::decode(record).unwrap().is_none());
    }
    rewrites.len()
}
