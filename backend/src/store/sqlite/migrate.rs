//! Brings database files written by earlier versions up to the current schema.
//! `CREATE TABLE IF NOT EXISTS` leaves an existing table alone, so columns added
//! later are added here, once, and filled from each row's document.

use super::doc::StoredDoc;
use super::StoreResult;
use rusqlite::{params, Connection, TransactionBehavior};
use shared_types::RecordState;

/// Schema version this code writes (`PRAGMA user_version`).
const VERSION: i64 = 9;

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
    if !has("amend_mark") {
        // NULL: the mark of a version stored before v9 is unknown (decide.rs says
        // what an equal version does to such a row); the next write sets it.
        tx.execute_batch("ALTER TABLE findings ADD COLUMN amend_mark INTEGER")?;
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
    if !has("resource_key") {
        tx.execute_batch(
            "ALTER TABLE findings ADD COLUMN resource_key INTEGER NOT NULL DEFAULT 0",
        )?;
        fill_resource_keys(&tx)?;
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
    if version < 7 {
        index_resources(&tx)?;
    }
    if version < 8 {
        // The resource counters come back, kept off the write path: every
        // stored finding is queued to be folded into them.
        super::resource_counts::recount(&tx)?;
    }
    if version < 9 {
        // Version 9 names per-standard findings' controls by their security
        // control ids (compliance/legacy_ids.rs): the next compliance read
        // refreshes every finding's results from its document.
        tx.execute("DELETE FROM compliance_fold", [])?;
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

/// Adds the generator index of the list (a group's click-through and its
/// newest update) and counts the stored findings into the generator counters
/// that version 5 added; writes keep them from then on.
fn count_groups(tx: &Connection) -> StoreResult<()> {
    tx.execute_batch(
        "CREATE INDEX IF NOT EXISTS findings_by_generator ON findings (generator_id, updated_at, id);
         DELETE FROM group_counts WHERE dim = 'generator';
         INSERT INTO group_counts (dim, key, severity, workflow_status, account_id, region,
             resource_type, product_name, n)
           SELECT 'generator', generator_id, severity, workflow_status, account_id, region,
             resource_type, product_name, count(*) FROM findings
           GROUP BY generator_id, severity, workflow_status, account_id, region, resource_type,
             product_name;",
    )?;
    Ok(())
}

/// Version 7: the resource index leads with the time bucket (resource_index.rs,
/// [`super::resource_index::RESOURCE_BUCKET_SHIFT`]), so a write lands in the newest
/// bucket's few pages instead of anywhere in a 1M-entry tree; the per-resource
/// counters and ranking of versions 5 and 6 go (schema.sql says why).
fn index_resources(tx: &Connection) -> StoreResult<()> {
    tx.execute_batch(&format!(
        "DROP INDEX IF EXISTS findings_by_resource;
         DROP TABLE IF EXISTS resource_rank;
         DELETE FROM group_counts WHERE dim = 'resource';
         CREATE INDEX IF NOT EXISTS findings_by_bucket_resource
           ON findings (updated_at >> {}, resource_key);",
        super::resource_index::RESOURCE_BUCKET_SHIFT
    ))?;
    Ok(())
}

/// Fills the `resource_key` column version 7 added, one row at a time (the key
/// is computed here, not in SQL).
fn fill_resource_keys(tx: &Connection) -> StoreResult<()> {
    let rows: Vec<(i64, String)> = tx
        .prepare("SELECT rowid_, resource_id FROM findings")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut set = tx.prepare("UPDATE findings SET resource_key = ?2 WHERE rowid_ = ?1")?;
    for (rowid, resource) in &rows {
        set.execute(params![
            rowid,
            super::resource_index::resource_key(resource)
        ])?;
    }
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
