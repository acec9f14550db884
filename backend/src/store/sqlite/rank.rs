//! `resource_rank`: one row per resource with findings — its findings per
//! severity and in all — kept in the write transaction that moves its
//! `group_counts` rows, and indexed in the order groups are shown (more
//! CRITICAL, …, more INFORMATIONAL, larger total, then key). Grouping by
//! resource reads that index from the top instead of summing every resource's
//! counter rows (store/sqlite/top_resources.rs).
//!
//! A write touches a resource's row only when its counts per severity move:
//! a status change leaves it alone, and a batch applies one net change per
//! resource.

use super::StoreResult;
use rusqlite::{params, Connection};
use std::collections::HashMap;

/// Net change per resource of one transaction: findings per severity rank.
#[derive(Debug, Default)]
pub(super) struct RankDeltas(HashMap<String, [i64; 5]>);

impl RankDeltas {
    /// Counts `n` findings of severity `rank` in (`n` > 0) or out for `resource`.
    pub(super) fn add(&mut self, resource: &str, rank: u8, n: i64) {
        let slot = match self.0.get_mut(resource) {
            Some(v) => v,
            None => self.0.entry(resource.to_owned()).or_default(),
        };
        slot[usize::from(rank)] += n;
    }

    /// Writes the net changes; a resource left with no findings loses its row,
    /// so the ranking holds exactly the resources a grouping can list.
    pub(super) fn apply(self, c: &Connection) -> StoreResult<()> {
        let mut up = c.prepare_cached(
            "INSERT INTO resource_rank (resource_id, critical, high, medium, low, \
             informational, total) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (resource_id) DO UPDATE SET critical = critical + excluded.critical, \
             high = high + excluded.high, medium = medium + excluded.medium, \
             low = low + excluded.low, informational = informational + excluded.informational, \
             total = total + excluded.total",
        )?;
        let mut drop =
            c.prepare_cached("DELETE FROM resource_rank WHERE resource_id = ?1 AND total = 0")?;
        for (resource, d) in self.0 {
            if d == [0; 5] {
                continue;
            }
            let total: i64 = d.iter().sum();
            up.execute(params![resource, d[4], d[3], d[2], d[1], d[0], total])?;
            if d.iter().any(|n| *n < 0) {
                drop.execute([&resource])?;
            }
        }
        Ok(())
    }
}

/// Rebuilds the ranking from the resource counters: one pass over them when a
/// file from before version 6 is first opened.
pub(super) fn rebuild(tx: &Connection) -> StoreResult<()> {
    tx.execute_batch(
        "DELETE FROM resource_rank;
         INSERT INTO resource_rank (resource_id, critical, high, medium, low, informational, total)
           SELECT key, SUM(n * (severity = 4)), SUM(n * (severity = 3)), SUM(n * (severity = 2)),
             SUM(n * (severity = 1)), SUM(n * (severity = 0)), SUM(n)
           FROM group_counts WHERE dim = 'resource' GROUP BY key HAVING SUM(n) > 0;",
    )?;
    Ok(())
}
