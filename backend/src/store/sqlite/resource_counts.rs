//! Per-resource counters kept exact without a random page write per finding.
//!
//! A resource has a handful of findings, so there are about as many resources
//! as findings, and counters keyed by resource put each finding's change on a
//! different page of a large B-tree. Versions 5 and 6 moved them in every write
//! transaction and paid 2.6x the demo's write time at 1M findings (schema.sql).
//! Here a write transaction only **appends** its changes to `resource_deltas`
//! (rows at the end of the table, like the change feed's), and [`fold`] moves
//! many of them at once into the counters: the `group_counts` rows of dim
//! 'resource' (the same columns as a generator's, so a view's counted filters
//! apply as they are) and `resource_totals`, the ranking a grouping walks
//! (top_resources.rs). A batch of 50,000 changes touches each counter page
//! once instead of once per commit.
//!
//! A grouping that reads the counters folds first and reads in one transaction
//! that sees no change left unfolded (sqlite/groups.rs), so its answer is
//! exact; `cspm serve` also folds every few seconds, so that fold is small.

use super::group_counts::{GroupRowWriter, ViewKey};
use super::StoreResult;
use rusqlite::{params, Connection, TransactionBehavior};
use std::collections::HashMap;

/// Changes one [`fold`] moves at most, in one write transaction: under a second
/// at 1M findings on the bench machine (1M changes folded in 26.8 s with the
/// per-severity rankings, README "Grouping"), so a writer waiting behind a
/// backlog's fold is not held up long.
pub(super) const FOLD_ROWS: u32 = 30_000;

/// The per-resource changes of one write transaction.
#[derive(Debug, Default)]
pub(super) struct ResourceDeltas(HashMap<(String, ViewKey), i64>);

impl ResourceDeltas {
    /// Counts a finding of `resource` with the counted values `key` in (`by` =
    /// 1) or out (`by` = -1).
    pub(super) fn add(&mut self, resource: &str, key: &ViewKey, by: i64) {
        *self
            .0
            .entry((resource.to_owned(), key.clone()))
            .or_default() += by;
    }

    /// Appends the changes to `resource_deltas` (inside the caller's
    /// transaction). A finding counted out and back in with the same values
    /// nets to nothing and is not written.
    pub(super) fn append(self, c: &Connection) -> StoreResult<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let mut insert = c.prepare_cached(
            "INSERT INTO resource_deltas (resource_id, severity, workflow_status, account_id, \
             region, resource_type, product_name, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for ((resource, (sev, status, account, region, rt, product)), n) in self.0 {
            if n != 0 {
                insert.execute(params![
                    resource,
                    sev,
                    status.as_str(),
                    account,
                    region,
                    rt,
                    product,
                    n
                ])?;
            }
        }
        Ok(())
    }
}

/// True when `resource_deltas` holds changes not yet folded.
pub(super) fn pending(c: &Connection) -> StoreResult<bool> {
    Ok(
        c.prepare_cached("SELECT EXISTS (SELECT 1 FROM resource_deltas)")?
            .query_row([], |r| r.get(0))?,
    )
}

/// One `group_counts` row of a resource, as stored.
type Row = (String, i64, String, String, String, String, String);

/// Moves the oldest `max` unfolded changes into the counters in one write
/// transaction; returns how many it moved (0: nothing was pending).
pub(super) fn fold(c: &mut Connection, max: u32) -> StoreResult<u64> {
    // Most calls find nothing: a read answers them without taking the lock
    // every writer needs.
    if !pending(c)? {
        return Ok(0);
    }
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let moved = fold_in(&tx, max)?;
    tx.commit()?;
    Ok(moved)
}

/// Folds everything pending inside the caller's write transaction.
pub(super) fn fold_all_in(tx: &Connection) -> StoreResult<()> {
    while fold_in(tx, FOLD_ROWS)? > 0 {}
    Ok(())
}

/// [`fold`]'s work inside the caller's write transaction.
fn fold_in(tx: &Connection, max: u32) -> StoreResult<u64> {
    let mut net: HashMap<Row, i64> = HashMap::new();
    let mut last = None;
    let mut moved = 0u64;
    {
        let mut read = tx.prepare_cached(
            "SELECT seq, resource_id, severity, workflow_status, account_id, region, \
             resource_type, product_name, n FROM resource_deltas ORDER BY seq LIMIT ?1",
        )?;
        let mut rows = read.query([max])?;
        while let Some(r) = rows.next()? {
            last = Some(r.get::<_, i64>(0)?);
            moved += 1;
            let key: Row = (
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            );
            *net.entry(key).or_default() += r.get::<_, i64>(8)?;
        }
    }
    let Some(last) = last else {
        return Ok(0);
    };
    apply(tx, net)?;
    tx.execute("DELETE FROM resource_deltas WHERE seq <= ?1", [last])?;
    Ok(moved)
}

/// Writes net changes into the resource counter rows and the ranking; rows and
/// resources left at zero are deleted, so both hold only what a grouping lists.
fn apply(c: &Connection, net: HashMap<Row, i64>) -> StoreResult<()> {
    let mut group = GroupRowWriter::new(c, "resource")?;
    let mut totals: HashMap<String, [i64; 5]> = HashMap::new();
    for ((resource, sev, status, account, region, rt, product), n) in net {
        if n == 0 {
            continue;
        }
        group.add(
            (&resource, sev, &status, &account, &region, &rt, &product),
            n,
        )?;
        let rank = usize::try_from(sev).ok().filter(|r| *r < 5).unwrap_or(0);
        totals.entry(resource).or_default()[rank] += n;
    }
    let mut up = c.prepare_cached(
        "INSERT INTO resource_totals (resource_id, critical, high, medium, low, \
         informational, total) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (resource_id) DO UPDATE SET critical = critical + excluded.critical, \
         high = high + excluded.high, medium = medium + excluded.medium, \
         low = low + excluded.low, informational = informational + excluded.informational, \
         total = total + excluded.total",
    )?;
    let mut gone =
        c.prepare_cached("DELETE FROM resource_totals WHERE resource_id = ?1 AND total = 0")?;
    for (resource, d) in totals {
        // A status change moves no severity count: the ranking stays as it is.
        if d == [0; 5] {
            continue;
        }
        let total: i64 = d.iter().sum();
        up.execute(params![resource, d[4], d[3], d[2], d[1], d[0], total])?;
        if d.iter().any(|n| *n < 0) {
            gone.execute([&resource])?;
        }
    }
    Ok(())
}

/// Queues every stored finding as a change to fold: how a file from before
/// version 8 gets its resource counters (one pass over the table, once).
pub(super) fn recount(tx: &Connection) -> StoreResult<()> {
    tx.execute_batch(
        "DELETE FROM resource_deltas;
         DELETE FROM resource_totals;
         DELETE FROM group_counts WHERE dim = 'resource';
         INSERT INTO resource_deltas (resource_id, severity, workflow_status, account_id,
             region, resource_type, product_name, n)
           SELECT resource_id, severity, workflow_status, account_id, region, resource_type,
             product_name, 1 FROM findings;",
    )?;
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use shared_types::WorkflowStatus;

    pub(in crate::store::sqlite) fn key(sev: u8, status: WorkflowStatus) -> ViewKey {
        let t = |s: &str| s.to_string();
        (
            sev,
            status,
            t("111"),
            t("us-east-1"),
            t("AwsS3Bucket"),
            t("Security Hub"),
        )
    }

    fn schema() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(super::super::SCHEMA).unwrap();
        c
    }

    fn rows(c: &Connection, sql: &str) -> i64 {
        c.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_change_that_nets_to_nothing_is_not_appended_and_folds_remove_emptied_resources() {
        let mut c = schema();
        let mut d = ResourceDeltas::default();
        // A status change back and forth, and a new finding.
        d.add("r1", &key(4, WorkflowStatus::New), -1);
        d.add("r1", &key(4, WorkflowStatus::Resolved), 1);
        d.add("r1", &key(4, WorkflowStatus::Resolved), -1);
        d.add("r1", &key(4, WorkflowStatus::New), 1);
        d.add("r2", &key(3, WorkflowStatus::New), 1);
        d.append(&c).unwrap();
        assert_eq!(rows(&c, "SELECT count(*) FROM resource_deltas"), 1);
        assert_eq!(fold(&mut c, 10).unwrap(), 1);
        assert_eq!(fold(&mut c, 10).unwrap(), 0);
        assert_eq!(
            rows(
                &c,
                "SELECT high FROM resource_totals WHERE resource_id = 'r2'"
            ),
            1
        );
        // The finding leaves: its counter row and its ranking row go.
        let mut d = ResourceDeltas::default();
        d.add("r2", &key(3, WorkflowStatus::New), -1);
        d.append(&c).unwrap();
        fold(&mut c, 10).unwrap();
        assert_eq!(rows(&c, "SELECT count(*) FROM resource_totals"), 0);
        assert_eq!(
            rows(
                &c,
                "SELECT count(*) FROM group_counts WHERE dim = 'resource'"
            ),
            0
        );
    }

    #[test]
    fn a_fold_moves_at_most_its_batch_oldest_first() {
        let mut c = schema();
        let mut d = ResourceDeltas::default();
        for i in 0..25 {
            d.add(&format!("r{i:02}"), &key(2, WorkflowStatus::New), 1);
        }
        d.append(&c).unwrap();
        assert_eq!(fold(&mut c, 10).unwrap(), 10);
        assert!(pending(&c).unwrap());
        assert_eq!(fold(&mut c, 10).unwrap(), 10);
        assert_eq!(fold(&mut c, 10).unwrap(), 5);
        assert!(!pending(&c).unwrap());
        assert_eq!(rows(&c, "SELECT sum(total) FROM resource_totals"), 25);
    }
}
