use super::*;
use crate::store::doc_codec::Recorded;
use crate::store::dynamo::item::{FindingItem, LastChange};
use crate::store::dynamo::write::Expect;
use chrono::{TimeZone, Utc};
use shared_types::{ChangeKind, WorkflowStatus};

fn findings(ids: &[&str]) -> Vec<Finding> {
    let anchor = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    crate::demo::generate(ids.len(), anchor, 3)
        .zip(ids)
        .map(|(mut f, id)| {
            f.id = id.to_string();
            f
        })
        .collect()
}

fn planned(f: &Finding, doc_bytes: usize) -> PlannedWrite {
    let mut f = f.clone();
    f.description = "x".repeat(doc_bytes);
    let change = LastChange {
        kind: ChangeKind::Inserted,
        at: f.updated_at,
        actor: None,
        note: None,
        quiet: false,
    };
    let item = FindingItem::new(
        &f,
        &Recorded {
            workflow_status: WorkflowStatus::New,
            workflow_by_person: false,
            revision: 1,
        },
        0,
        Vec::new(),
        change,
        None,
    )
    .unwrap();
    PlannedWrite {
        delta: Delta::between(None, Some(&item.counted())),
        rows: Vec::new(),
        item,
        expect: Expect::Absent,
        outcome: UpsertOutcome::Inserted,
    }
}

#[test]
fn round_k_holds_the_kth_version_of_each_finding_in_input_order() {
    let fs = findings(&["a", "b", "a", "c", "a"]);
    assert_eq!(
        rounds(&fs, &[0, 1, 2, 3, 4]),
        vec![vec![0, 1, 3], vec![2], vec![4]]
    );
    // One finding repeated between others: the others all go in the first round.
    let other = findings(&["y", "x1", "y", "x2", "y", "x3"]);
    assert_eq!(
        rounds(&other, &[0, 1, 2, 3, 4, 5]),
        vec![vec![0, 1, 3, 5], vec![2], vec![4]]
    );
    // Invalid findings left out by the caller are simply not there.
    assert_eq!(rounds(&fs, &[1, 3]), vec![vec![1, 3]]);
    assert!(rounds(&fs, &[]).is_empty());
    let ids: Vec<String> = (0..250).map(|n| format!("f{n}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let many = findings(&refs);
    let all: Vec<usize> = (0..many.len()).collect();
    assert_eq!(rounds(&many, &all), vec![all.clone()]);
}

#[test]
fn transactions_stay_within_dynamodb_count_and_size_limits() {
    let ids: Vec<String> = (0..120).map(|n| format!("f{n}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let fs = findings(&refs);
    let small: Vec<_> = fs
        .iter()
        .enumerate()
        .map(|(i, f)| (i, planned(f, 10)))
        .collect();
    // Mostly on resources of their own: a put and a resource update each,
    // so a transaction is full before its 50 puts.
    let txs = transactions(small);
    assert!(txs.len() >= 3, "{}", txs.len());
    assert_eq!(
        txs.iter().flatten().map(|(i, _)| *i).collect::<Vec<_>>(),
        (0..120).collect::<Vec<_>>()
    );
    // Puts, rows and the summed change's item updates, as write_group builds them.
    let actions = |writes: &[&PlannedWrite]| {
        let mut sum = Delta::default();
        for w in writes {
            sum.add(&w.delta);
        }
        writes.iter().map(|w| 1 + w.rows.len()).sum::<usize>() + sum.items()
    };
    for (n, tx) in txs.iter().enumerate() {
        let mut writes: Vec<&PlannedWrite> = tx.iter().map(|(_, w)| w).collect();
        assert!(actions(&writes) <= TX_ACTIONS);
        // Full: one more write would not fit (the last takes what is left).
        if let Some(next) = txs.get(n + 1) {
            writes.push(&next[0].1);
            assert!(tx.len() == TX_PUTS || actions(&writes) > TX_ACTIONS, "{n}");
        }
    }
    // All on one resource: one update for the transaction's puts.
    let shared: Vec<_> = fs
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut f = f.clone();
            f.resource_id = "arn:aws:iam::1:root".into();
            (i, planned(&f, 10))
        })
        .collect();
    let txs = transactions(shared);
    assert_eq!(txs.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50, 20]);
    // 300 KB documents (DynamoDB items may reach 400 KB): ten would pass 3 MB.
    let large: Vec<_> = fs[..25]
        .iter()
        .enumerate()
        .map(|(i, f)| (i, planned(f, 300_000)))
        .collect();
    let txs = transactions(large);
    assert!(txs.len() >= 3, "{}", txs.len());
    for tx in &txs {
        let bytes: usize = tx.iter().map(|(_, w)| estimated_size(w)).sum();
        assert!(bytes <= TX_BYTES, "{bytes}");
        assert!(!tx.is_empty());
    }
    assert_eq!(txs.iter().map(Vec::len).sum::<usize>(), 25);
}

#[test]
fn an_item_too_large_for_any_transaction_still_gets_one_of_its_own() {
    let fs = findings(&["big", "small"]);
    let txs = transactions(vec![
        (0, planned(&fs[0], TX_BYTES + 1)),
        (1, planned(&fs[1], 10)),
    ]);
    assert_eq!(txs.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1]);
}

#[test]
fn shards_that_move_one_resource_share_a_lane() {
    let fs = findings(&["a", "b", "c", "d"]);
    let with = |f: &Finding, resource: &str| {
        let mut f = f.clone();
        f.resource_id = resource.into();
        planned(&f, 10)
    };
    // Shards 1 and 3 both move r1; shard 2 is alone.
    let by_shard = BTreeMap::from([
        (1u8, vec![(0, with(&fs[0], "r1"))]),
        (2, vec![(1, with(&fs[1], "r2"))]),
        (3, vec![(2, with(&fs[2], "r3")), (3, with(&fs[3], "r1"))]),
    ]);
    let mut got: Vec<Vec<usize>> = lanes(by_shard)
        .into_iter()
        .map(|lane| lane.into_iter().flatten().map(|(i, _)| i).collect())
        .collect();
    got.sort();
    assert_eq!(got, vec![vec![0, 2, 3], vec![1]]);
}
