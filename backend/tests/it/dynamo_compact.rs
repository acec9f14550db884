//! Dropping the tallies that netted to zero (store/dynamo/compact.rs): every
//! zero leaves the view, control and generator items, no answer changes, and a
//! compaction running beside writes loses no count.

use crate::aws_env::{self, dynamo_store_at};
use crate::compliance_fold::{assert_kept_equals_read, Rng};
use crate::dynamo_compliance::{assert_generators_equal_read, items, random_write};
use crate::store_contract::count::stored;
use crate::store_contract::groups::assert_grouping_is_truth;
use aws_sdk_dynamodb::types::AttributeValue;
use cspm::store::dynamo::DynamoStore;
use cspm::store::Store;
use shared_types::{FindingFilter, GroupBy};

/// Tallies at zero on the view, control and generator items.
async fn zero_tallies(store: &DynamoStore) -> u64 {
    let mut zeros = 0;
    for item in items(store).await {
        let Some(AttributeValue::S(id)) = item.get("id") else {
            continue;
        };
        if ["#views#", "#controls#", "#generators#"]
            .iter()
            .any(|p| id.starts_with(p))
        {
            zeros += item
                .values()
                .filter(|v| matches!(v, AttributeValue::N(n) if n == "0"))
                .count() as u64;
        }
    }
    zeros
}

/// Every answer the counter items give equals what the stored findings say:
/// compliance (control items), grouping by generator (generator items) and by
/// account (view items).
async fn assert_counters_are_truth(store: &DynamoStore, context: &str) {
    assert_kept_equals_read(store, context).await;
    assert_generators_equal_read(store).await;
    let all = stored(store).await;
    assert_grouping_is_truth(store, &all, &FindingFilter::default(), GroupBy::Account).await;
}

#[tokio::test]
async fn compaction_drops_every_zero_tally_and_changes_no_answer() {
    let Some(ep) = aws_env::endpoint("dynamo_compact") else {
        return;
    };
    let store = dynamo_store_at(&ep).await;
    let mut rng = Rng(cspm::demo::Rng(11));
    let mut stored = Vec::new();
    for step in 0..40 {
        random_write(&store, &mut rng, &mut stored, step).await;
    }
    let zeros = zero_tallies(&store).await;
    assert!(zeros > 0, "40 writes left no tally at zero");
    assert_counters_are_truth(&store, "before").await;

    assert_eq!(store.compact_counters().await.unwrap(), zeros);
    assert_eq!(zero_tallies(&store).await, 0);
    assert_counters_are_truth(&store, "after compaction").await;
    assert_eq!(store.compact_counters().await.unwrap(), 0, "a second run");

    // Tallies dropped come back from zero when a write moves them.
    for step in 40..60 {
        random_write(&store, &mut rng, &mut stored, step).await;
    }
    assert_counters_are_truth(&store, "writes after compaction").await;
}

#[tokio::test]
async fn compaction_beside_writes_loses_no_count() {
    let Some(ep) = aws_env::endpoint("dynamo_compact_race") else {
        return;
    };
    let store = dynamo_store_at(&ep).await;
    let mut rng = Rng(cspm::demo::Rng(12));
    let mut stored = Vec::new();
    let mut dropped = 0;
    for round in 0..8i64 {
        for step in 0..5 {
            random_write(&store, &mut rng, &mut stored, round * 10 + step).await;
        }
        // The compaction reads the items, then removes zeros item by item while
        // the writes move tallies: a zero moved in between must stay counted.
        let (n, ()) = tokio::join!(store.compact_counters(), async {
            for step in 5..10 {
                random_write(&store, &mut rng, &mut stored, round * 10 + step).await;
            }
        });
        dropped += n.unwrap();
        assert_counters_are_truth(&store, &format!("round {round}")).await;
    }
    assert!(dropped > 0, "no round dropped a tally");
}
