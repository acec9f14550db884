//! Findings per resource on DynamoDB (store/dynamo/resources.rs) and grouping
//! by resource down their ranking (store/dynamo/top_resources.rs), against
//! moto: the resource items equal what the stored findings say after any
//! write (batches whose findings share resources across shards, a person's
//! change, archival); the ranking answers the views it counts, as the
//! findings say, and gives way to reading findings where its walk does not
//! close or a table holds findings it does not count.

use crate::aws_env::{self, dynamo_store_at};
use crate::compliance_fold::Rng;
use crate::dynamo_compliance::{items, random_write, update_of};
use crate::helpers::findings;
use crate::store_contract::count::stored;
use crate::store_contract::groups::assert_grouping_is_truth;
use aws_sdk_dynamodb::types::AttributeValue;
use cspm::store::dynamo::resources::{parse_tally, rank_weight, resource_item_id, RESOURCE_PREFIX};
use cspm::store::dynamo::DynamoStore;
use cspm::store::Store;
use shared_types::{Finding, FindingFilter, GroupBy, Severity, WorkflowStatus};
use std::collections::BTreeMap;

/// Per resource, findings per (severity, status).
type PerResource = BTreeMap<String, BTreeMap<(Severity, WorkflowStatus), u64>>;

/// What the resource items hold (zero tallies and emptied items left out),
/// each item's rank checked against its tallies.
async fn resource_items(store: &DynamoStore) -> PerResource {
    let mut out = PerResource::new();
    for item in items(store).await {
        let Some(AttributeValue::S(id)) = item.get("id") else {
            continue;
        };
        if !id.starts_with(RESOURCE_PREFIX) {
            continue;
        }
        let Some(AttributeValue::S(resource)) = item.get("resource_id") else {
            panic!("{id} has no resource_id: {item:?}");
        };
        let mut tallies = BTreeMap::new();
        let mut rank: i128 = 0;
        for (k, v) in &item {
            if let (Some(key), AttributeValue::N(n)) = (parse_tally(k), v) {
                let n: u64 = n.parse().unwrap();
                rank += rank_weight(key.0) * i128::from(n);
                if n > 0 {
                    tallies.insert(key, n);
                }
            }
        }
        let Some(AttributeValue::N(stored_rank)) = item.get("rank") else {
            panic!("{id} has no rank");
        };
        assert_eq!(stored_rank.parse::<i128>().unwrap(), rank, "{resource}");
        if !tallies.is_empty() {
            out.insert(resource.clone(), tallies);
        }
    }
    out
}

/// What the stored findings say.
fn truth(all: &[Finding]) -> PerResource {
    let mut out = PerResource::new();
    for f in all {
        *out.entry(f.resource_id.clone())
            .or_default()
            .entry((f.severity, f.workflow_status))
            .or_default() += 1;
    }
    out
}

/// The views the ranking counts: none, severities, statuses, both.
fn counted_views() -> Vec<FindingFilter> {
    vec![
        FindingFilter::default(),
        FindingFilter {
            severities: vec![Severity::Critical, Severity::High],
            ..FindingFilter::default()
        },
        FindingFilter {
            statuses: vec![WorkflowStatus::New, WorkflowStatus::Notified],
            ..FindingFilter::default()
        },
        FindingFilter {
            severities: vec![Severity::Medium],
            statuses: vec![WorkflowStatus::New],
            ..FindingFilter::default()
        },
    ]
}

#[tokio::test]
async fn resource_items_equal_the_stored_findings_after_any_write() {
    let Some(ep) = aws_env::endpoint("dynamo_resources") else {
        return;
    };
    let store = dynamo_store_at(&ep).await;
    let mut rng = Rng(cspm::demo::Rng(5));
    let mut kept = Vec::new();
    for step in 0..40 {
        random_write(&store, &mut rng, &mut kept, step).await;
        if step % 8 == 7 {
            let all = stored(&store).await;
            assert_eq!(resource_items(&store).await, truth(&all), "step {step}");
        }
    }
    let all = stored(&store).await;
    assert_eq!(resource_items(&store).await, truth(&all));
    for view in counted_views() {
        let ranked = store
            .resource_groups_from_ranking(&view, 1000)
            .await
            .unwrap();
        assert!(ranked.is_some(), "the ranking does not answer {view:?}");
        assert_grouping_is_truth(&store, &all, &view, GroupBy::Resource).await;
    }
    // A view the ranking does not count is read from findings, as before.
    let account = FindingFilter {
        account: Some(all[0].account_id.clone()),
        ..FindingFilter::default()
    };
    assert!(store
        .resource_groups_from_ranking(&account, 1000)
        .await
        .unwrap()
        .is_none());
    assert_grouping_is_truth(&store, &all, &account, GroupBy::Resource).await;
}

/// `n` findings of `resource`, one severity, status NEW.
fn on(resource: &str, severity: Severity, n: usize, seed: u64) -> Vec<Finding> {
    findings(n, seed)
        .into_iter()
        .enumerate()
        .map(|(i, mut f)| {
            f.id = format!("{}-{i}", resource.replace([':', '/'], "-"));
            f.resource_id = resource.to_string();
            f.severity = severity;
            f.workflow_status = WorkflowStatus::New;
            f.workflow_by_person = false;
            f
        })
        .collect()
}

#[tokio::test]
async fn the_ranking_lists_the_worst_resources_and_gives_way_where_its_walk_does_not_close() {
    let Some(ep) = aws_env::endpoint("dynamo_resources") else {
        return;
    };
    let store = dynamo_store_at(&ep).await;
    // Ten resources with 1..=10 CRITICAL findings, 2,100 with one MEDIUM, 30
    // with one LOW: the LOW ones lie below 2,000 others on the ranking.
    let mut all: Vec<Finding> = Vec::new();
    for i in 0..10 {
        all.extend(on(
            &format!("arn:worst-{i}"),
            Severity::Critical,
            i + 1,
            i as u64,
        ));
    }
    for i in 0..2_100 {
        all.extend(on(
            &format!("arn:medium-{i:04}"),
            Severity::Medium,
            1,
            100 + i as u64,
        ));
    }
    for i in 0..30 {
        all.extend(on(
            &format!("arn:low-{i:02}"),
            Severity::Low,
            1,
            9_000 + i as u64,
        ));
    }
    for chunk in all.chunks(500) {
        let report = store.upsert(chunk).await.unwrap();
        assert!(report.failed.is_empty(), "{:?}", report.failed);
    }
    let total = all.len() as u64;

    // The whole store: the ten worst, most severe first, the rest counted.
    let top = store
        .resource_groups_from_ranking(&FindingFilter::default(), 10)
        .await
        .unwrap()
        .expect("the ranking answers the whole store");
    assert!(top.exact);
    let keys: Vec<&str> = top.groups.iter().map(|g| g.key.as_str()).collect();
    let want: Vec<String> = (0..10).rev().map(|i| format!("arn:worst-{i}")).collect();
    assert_eq!(keys, want);
    assert_eq!(top.groups[0].by_severity[&Severity::Critical], 10);
    assert_eq!(top.other, total - 55);
    assert!(top.groups.iter().all(|g| g.updated_at.is_some()), "{top:?}");

    // Ties at the cut: five of the 2,100 equal MEDIUM resources, the rest in
    // `other`, without walking all of them.
    let medium = FindingFilter {
        severities: vec![Severity::Medium],
        ..FindingFilter::default()
    };
    let five = store
        .resource_groups_from_ranking(&medium, 5)
        .await
        .unwrap()
        .expect("closes once the fifth MEDIUM resource ties the next");
    assert_eq!(five.groups.len(), 5);
    assert!(five.groups.iter().all(|g| g.total == 1
        && g.by_severity[&Severity::Medium] == 1
        && g.key.starts_with("arn:medium-")));
    assert_eq!(five.other, 2_095);

    // LOW alone: its resources are met after 2,000 others, so the walk gives
    // way and the grouping reads findings (all of them: exact here).
    let low = FindingFilter {
        severities: vec![Severity::Low],
        ..FindingFilter::default()
    };
    assert!(store
        .resource_groups_from_ranking(&low, 10)
        .await
        .unwrap()
        .is_none());
    let read = store.groups(&low, GroupBy::Resource, 10).await.unwrap();
    assert!(read.exact);
    assert_eq!(read.groups.len(), 10);
    assert_eq!(read.other, 20);
    assert!(read.groups.iter().all(|g| g.key.starts_with("arn:low-")));

    // Archiving the worst resource's findings empties its item: it leaves
    // the ranking's answer.
    let gone: Vec<cspm::store::FindingVersion> = all
        .iter()
        .filter(|f| f.resource_id == "arn:worst-9")
        .map(|f| cspm::store::FindingVersion {
            id: f.id.clone(),
            updated_at: f.updated_at,
            revision: 0,
        })
        .collect();
    store.delete_versions(&gone).await.unwrap();
    let after = store
        .resource_groups_from_ranking(&FindingFilter::default(), 3)
        .await
        .unwrap()
        .unwrap();
    let keys: Vec<&str> = after.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["arn:worst-8", "arn:worst-7", "arn:worst-6"]);
    assert_eq!(after.other, total - 10 - (9 + 8 + 7));

    // The archive run's compaction deletes the emptied item, and only it.
    let ids = || async {
        items(&store)
            .await
            .into_iter()
            .filter_map(|i| match i.get("id") {
                Some(AttributeValue::S(id)) if id.starts_with(RESOURCE_PREFIX) => Some(id.clone()),
                _ => None,
            })
            .collect::<std::collections::BTreeSet<String>>()
    };
    let before = ids().await;
    let emptied = resource_item_id("arn:worst-9");
    assert!(before.contains(&emptied));
    store.compact_counters().await.unwrap();
    let mut want = before.clone();
    want.remove(&emptied);
    assert_eq!(ids().await, want);
    let again = store
        .resource_groups_from_ranking(&FindingFilter::default(), 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, after);
}

/// A table from before the resource items (no item marked or naming its
/// counter shard, no resource item, no `x` in the summary) groups by resource from findings until `cspm
/// recount` marks its findings and builds the items; a resource item wrong or
/// left over is found and fixed by the next one.
#[tokio::test]
async fn a_recount_builds_the_resource_items_of_a_table_from_before_and_fixes_drift() {
    let Some(ep) = aws_env::endpoint("dynamo_resources") else {
        return;
    };
    let store = dynamo_store_at(&ep).await;
    let mut rng = Rng(cspm::demo::Rng(17));
    let mut kept = Vec::new();
    for step in 0..25 {
        random_write(&store, &mut rng, &mut kept, step).await;
    }
    let mut findings = 0u64;
    for item in items(&store).await {
        let Some(AttributeValue::S(id)) = item.get("id") else {
            continue;
        };
        let undo = if id.starts_with(RESOURCE_PREFIX) {
            store
                .client()
                .delete_item()
                .table_name(store.table())
                .key("id", AttributeValue::S(id.clone()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else if id.starts_with("#counts#") {
            update_of(&store, id, "REMOVE x")
                .await
                .map_err(|e| e.to_string())
        } else if !id.starts_with('#') {
            findings += 1;
            update_of(&store, id, "REMOVE res_counted, counter_shard")
                .await
                .map_err(|e| e.to_string())
        } else {
            Ok(())
        };
        undo.unwrap();
    }
    let all = stored(&store).await;
    let whole = FindingFilter::default();
    assert!(store
        .resource_groups_from_ranking(&whole, 1000)
        .await
        .unwrap()
        .is_none());
    assert_grouping_is_truth(&store, &all, &whole, GroupBy::Resource).await;

    let dry = store.recount_counters(true).await.unwrap();
    assert_eq!(dry.resources_unmarked, findings, "{dry:?}");
    assert_eq!(dry.resources_differing, truth(&all).len(), "{dry:?}");
    assert!(
        resource_items(&store).await.is_empty(),
        "a dry run writes nothing"
    );

    let done = store.recount_counters(false).await.unwrap();
    assert_eq!(done.resources_unmarked, findings);
    assert_eq!(resource_items(&store).await, truth(&all));
    assert!(store
        .resource_groups_from_ranking(&whole, 1000)
        .await
        .unwrap()
        .is_some());
    assert_grouping_is_truth(&store, &all, &whole, GroupBy::Resource).await;
    assert!(!store.recount_counters(true).await.unwrap().differs());

    // Those findings stay counted in their ids' shards: later writes of them
    // keep every counter exact.
    for step in 25..40 {
        random_write(&store, &mut rng, &mut kept, step).await;
    }
    let all = stored(&store).await;
    assert_eq!(resource_items(&store).await, truth(&all));
    let again = store.recount_counters(true).await.unwrap();
    assert!(!again.differs(), "{again:?}");

    // Drift: one item's tally moved by hand, one item no finding names.
    let first = resource_item_id(&all[0].resource_id);
    store
        .client()
        .update_item()
        .table_name(store.table())
        .key("id", AttributeValue::S(first))
        .update_expression("ADD #t :one")
        .expression_attribute_names("#t", "c#LOW#NEW")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    store
        .client()
        .put_item()
        .table_name(store.table())
        .item("id", AttributeValue::S(format!("{RESOURCE_PREFIX}orphan")))
        .item("resource_id", AttributeValue::S("arn:gone".into()))
        .item("rank_part", AttributeValue::S("resources".into()))
        .item("rank", AttributeValue::N("1".into()))
        .item("c#INFORMATIONAL#NEW", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    let drift = store.recount_counters(false).await.unwrap();
    assert_eq!(drift.resources_differing, 2, "{drift:?}");
    assert_eq!(drift.resources_unmarked, 0);
    assert_eq!(resource_items(&store).await, truth(&all));
}
