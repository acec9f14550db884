//! The lanes of one batch round (upsert_batch.rs): which shards' transactions
//! run one after another.

use super::transactions;
use super::PlannedWrite;
use std::collections::{BTreeMap, HashMap};

/// The lanes of one round: each shard's transactions, one after another, in
/// one lane, and the shards whose writes move the same resource's item in the
/// same lane too (their transactions would cancel each other on it). A
/// resource's new findings share a shard (`resource_shard`), so shards meet
/// only on findings written before that, or whose resource changed.
pub(super) fn lanes(
    by_shard: BTreeMap<u8, Vec<(usize, PlannedWrite)>>,
) -> Vec<Vec<Vec<(usize, PlannedWrite)>>> {
    let shards: Vec<Vec<(usize, PlannedWrite)>> = by_shard.into_values().collect();
    // Union-find over the shards, joined by the resources they move.
    let mut parent: Vec<usize> = (0..shards.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut first_shard: HashMap<&str, usize> = HashMap::new();
    for (s, writes) in shards.iter().enumerate() {
        for (_, w) in writes {
            for r in w.delta.resources.resources() {
                let other = *first_shard.entry(r).or_insert(s);
                let (a, b) = (root(&mut parent, s), root(&mut parent, other));
                parent[a] = b;
            }
        }
    }
    let roots: Vec<usize> = (0..shards.len()).map(|s| root(&mut parent, s)).collect();
    let mut joined: BTreeMap<usize, Vec<Vec<(usize, PlannedWrite)>>> = BTreeMap::new();
    for (writes, r) in shards.into_iter().zip(roots) {
        joined.entry(r).or_default().extend(transactions(writes));
    }
    joined.into_values().collect()
}
