//! Brings database files written by earlier versions up to the current schema.
//! `CREATE TABLE IF NOT EXISTS` leaves an existing table alone, so columns added
//! later are added here, once, and filled from each row's document.

use super::doc::StoredDoc;
use super::StoreResult;
use rusqlite::{params, Connection, TransactionBehavior};
use shared_types::RecordState;

/// Schema version this code writes (`PRAGMA user_version`).
const VERSION: i64 = 6;

/// Adds what an older file lacks. Cheap when the file is current (one pragma read).
pub(super) fn migrate(c: &mut Connection) -> StoreResult<()> {
    let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version >= VERSION {
        return Ok(());
    }
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let columns: Vec<String> = tx
        .prepare("SELECT name FROM pragma_table_info('findings')")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let has = |name: &str| columns.iter().any(|c| c == name);
    if !has("revision") {
        // Every existing record is at its first known revision.
        tx.execute_batch("ALTER TABLE findings ADD COLUMN revision INTEGER NOT NULL DEFAULT 1")?;
    }
    let mut backfill = Vec::new();
    if !has("record_state") {
        tx.execute_batch(
            "ALTER TABLE findings ADD COLUMN record_state TEXT NOT NULL DEFAULT 'ACTIVE'",
        )?;
        backfill.push(Backfill::RecordState);
    }
    if !has("generator_id") {
        tx.execute_batch("ALTER TABLE findings ADD COLUMN generator_id TEXT NOT NULL DEFAULT ''")?;
        backfill.push(Backfill::GeneratorId);
    }
    if !backfill.is_empty() {
        fill_from_documents(&tx, &backfill)?;
    }
    if version < 4 {
        count_views(&tx)?;
    }
    if version < 5 {
        count_groups(&tx)?;
    }
    if version < 6 {
        super::rank::rebuild(&tx)?;
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Counts the stored findings into the view counters that version 4 added
/// (one pass over the table; writes keep them from then on).
fn count_views(tx: &Connection) -> StoreResult<()> {
    tx.execute_batch(
        "DELETE FROM view_counts;
         INSERT INTO view_counts (severity, workflow_status, account_id, region, resource_type,
             product_name, n)
           SELECT severity, workflow_status, account_id, region, resource_type, product_name,
             count(*) FROM findings
           GROUP BY severity, workflow_status, account_id, region, resource_type, product_name;",
    )?;
    Ok(())
}

/// Adds the generator and resource indexes of the list (a group's click-through
/// and its newest update) and counts the stored findings into the group
/// counters that version 5 added; writes keep them from then on.
fn count_groups(tx: &Connection) -> StoreResult<()> {
    tx.execute_batch(
        "CREATE INDEX IF NOT EXISTS findings_by_generator ON findings (generator_id, updated_at, id);
         CREATE INDEX IF NOT EXISTS findings_by_resource ON findings (resource_id, updated_at, id);
         DELETE FROM group_counts;
         INSERT INTO group_counts (dim, key, severity, workflow_status, account_id, region,
             resource_type, product_name, n)
           SELECT 'generator', generator_id, severity, workflow_status, account_id, region,
             resource_type, product_name, count(*) FROM findings
           GROUP BY generator_id, severity, workflow_status, account_id, region, resource_type,
             product_name;
         INSERT INTO group_counts (dim, key, severity, workflow_status, account_id, region,
             resource_type, product_name, n)
           SELECT 'resource', resource_id, severity, workflow_status, account_id, region,
             resource_type, product_name, count(*) FROM findings
           GROUP BY resource_id, severity, workflow_status, account_id, region, resource_type,
             product_name;",
    )?;
    Ok(())
}

/// A column added after the first release, filled from each row's document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backfill {
    RecordState,
    GeneratorId,
}

/// Fills new columns from each document: a one-off pass over the table when an
/// older file is first opened.
fn fill_from_documents(tx: &Connection, what: &[Backfill]) -> StoreResult<()> {
    let mut rows = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT id, doc FROM findings")?;
        let mut q = stmt.query([])?;
        while let Some(row) = q.next()? {
            let id: String = row.get(0)?;
            let doc: StoredDoc = row.get(1)?;
            let f = doc.decode(&id)?;
            rows.push((id, f.record_state, f.generator_id));
        }
    }
    let mut state = tx.prepare("UPDATE findings SET record_state = ?2 WHERE id = ?1")?;
    let mut generator = tx.prepare("UPDATE findings SET generator_id = ?2 WHERE id = ?1")?;
    for (id, record_state, generator_id) in &rows {
        if what.contains(&Backfill::RecordState) && *record_state == RecordState::Archived {
            state.execute(params![id, record_state.as_str()])?;
        }
        if what.contains(&Backfill::GeneratorId) {
            generator.execute(params![id, generator_id])?;
        }
    }
    tracing::info!(rows = rows.len(), ?what, "migrated the findings table");
    Ok(())
}
