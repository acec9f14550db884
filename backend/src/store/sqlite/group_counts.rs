//! The `group_counts` rows (schema.sql): findings per generator or resource in
//! each combination of the list's equality filters, and how net changes are
//! written to them, by the write transaction for generators (counters.rs) and
//! by the fold for resources (resource_counts.rs).

use super::StoreResult;
use rusqlite::{params, CachedStatement, Connection};
use shared_types::WorkflowStatus;

/// One combination of the list's equality filters: severity rank, status,
/// account, region, resource type, product. `view_counts` counts findings per
/// such key, `group_counts` per generator or resource and such key.
pub(super) type ViewKey = (u8, WorkflowStatus, String, String, String, String);

/// One `group_counts` row's columns after `dim` and before `n`: the group's key,
/// then the combination as stored (severity rank, status text, account, region,
/// resource type, product).
pub(super) type GroupRow<'a> = (&'a str, i64, &'a str, &'a str, &'a str, &'a str, &'a str);

/// Adds net changes to the `group_counts` rows of one `dim`.
pub(super) struct GroupRowWriter<'c> {
    dim: &'static str,
    add: CachedStatement<'c>,
    drop: CachedStatement<'c>,
}

impl<'c> GroupRowWriter<'c> {
    /// A writer of `dim`'s rows (`generator` or `resource`) inside `c`'s transaction.
    pub(super) fn new(c: &'c Connection, dim: &'static str) -> StoreResult<Self> {
        Ok(GroupRowWriter {
            dim,
            add: c.prepare_cached(
                "INSERT INTO group_counts (dim, key, severity, workflow_status, account_id, \
                 region, resource_type, product_name, n) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT DO UPDATE SET n = n + excluded.n",
            )?,
            drop: c.prepare_cached(
                "DELETE FROM group_counts WHERE dim = ?1 AND key = ?2 AND severity = ?3 \
                 AND workflow_status = ?4 AND account_id = ?5 AND region = ?6 \
                 AND resource_type = ?7 AND product_name = ?8 AND n = 0",
            )?,
        })
    }

    /// Adds `n` (non-zero) to `row`. A row that a negative change may have left
    /// at zero is deleted, so groupings read only rows that count something.
    pub(super) fn add(&mut self, row: GroupRow<'_>, n: i64) -> StoreResult<()> {
        let (key, sev, status, account, region, rt, product) = row;
        self.add.execute(params![
            self.dim, key, sev, status, account, region, rt, product, n
        ])?;
        if n < 0 {
            self.drop.execute(params![
                self.dim, key, sev, status, account, region, rt, product
            ])?;
        }
        Ok(())
    }
}
