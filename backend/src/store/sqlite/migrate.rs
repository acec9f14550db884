//! Brings database files written by earlier versions up to the current schema.
//! `CREATE TABLE IF NOT EXISTS` leaves an existing table alone, so columns added
//! later are added here, once, and filled from each row's document.

use super::doc::StoredDoc;
use super::StoreResult;
use rusqlite::{params, Connection};
use shared_types::RecordState;

/// Schema version this code writes (`PRAGMA user_version`).
const VERSION: i64 = 2;

/// Adds what an older file lacks. Cheap when the file is current (one pragma read).
pub(super) fn migrate(c: &mut Connection) -> StoreResult<()> {
    let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version >= VERSION {
        return Ok(());
    }
    let tx = c.transaction()?;
    let columns: Vec<String> = tx
        .prepare("SELECT name FROM pragma_table_info('findings')")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let has = |name: &str| columns.iter().any(|c| c == name);
    if !has("revision") {
        // Every existing record is at its first known revision.
        tx.execute_batch("ALTER TABLE findings ADD COLUMN revision INTEGER NOT NULL DEFAULT 1")?;
    }
    if !has("record_state") {
        tx.execute_batch(
            "ALTER TABLE findings ADD COLUMN record_state TEXT NOT NULL DEFAULT 'ACTIVE'",
        )?;
        backfill_record_state(&tx)?;
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Sets `record_state` from each document (only ARCHIVED needs writing). A one-off
/// pass over the table when an older file is first opened.
fn backfill_record_state(tx: &Connection) -> StoreResult<()> {
    let mut archived = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT id, doc FROM findings")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let doc: StoredDoc = row.get(1)?;
            if doc.decode(&id)?.record_state == RecordState::Archived {
                archived.push(id);
            }
        }
    }
    let mut update = tx.prepare("UPDATE findings SET record_state = 'ARCHIVED' WHERE id = ?1")?;
    for id in &archived {
        update.execute(params![id])?;
    }
    if !archived.is_empty() {
        tracing::info!(count = archived.len(), "migrated record states");
    }
    Ok(())
}
