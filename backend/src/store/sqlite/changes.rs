//! The `changes` table (schema.sql): every write adds its change rows in its own
//! transaction, and the feed reads them back in `seq` order.

use super::convert::{from_micros, list_item, micros, LIST_COLUMNS};
use super::error::corrupt;
use super::StoreResult;
use crate::store::change::{Caller, Change, ChangeFinding};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use shared_types::{ChangeKind, Finding, FindingListItem, Severity, WorkflowStatus};

/// One change about to be recorded, as the write decided it.
pub(super) struct NewChange<'a> {
    /// Short id.
    pub(super) finding_id: &'a str,
    /// The record's revision after the change.
    pub(super) revision: u64,
    /// What the change did.
    pub(super) kind: ChangeKind,
    /// When.
    pub(super) at: DateTime<Utc>,
    /// Who, for a person's change.
    pub(super) actor: Option<&'a str>,
    /// Demo data and archival.
    pub(super) quiet: bool,
    /// Severity before an update.
    pub(super) severity_before: Option<Severity>,
    /// Status before an update.
    pub(super) status_before: Option<WorkflowStatus>,
    /// A person's note.
    pub(super) note: Option<&'a str>,
    /// [`summary_json`] of the finding after the change.
    pub(super) finding_json: &'a str,
}

/// The change summary of `f` stored with `status`, as JSON (built off the writer
/// thread for upserts; the fields the write decides later live in columns).
pub(super) fn summary_json(f: &Finding, status: WorkflowStatus) -> StoreResult<String> {
    let mut item = FindingListItem::from(f);
    item.workflow_status = status;
    summary_of(
        item,
        f.generator_id.clone(),
        f.record_state,
        &f.id,
        Caller::of(f),
    )
}

fn summary_of(
    item: FindingListItem,
    generator_id: String,
    record_state: shared_types::RecordState,
    id: &str,
    caller: Option<Caller>,
) -> StoreResult<String> {
    serde_json::to_string(&ChangeFinding {
        item,
        generator_id,
        record_state,
        severity_before: None,
        status_before: None,
        note: None,
        caller,
    })
    .map_err(|e| corrupt(id, format!("change summary: {e}")))
}

/// Adds one change row (inside the caller's transaction).
pub(super) fn record(c: &Connection, ch: &NewChange<'_>) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO changes (finding_id, revision, kind, at, actor, quiet, severity_before, \
         status_before, note, finding) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        ch.finding_id,
        ch.revision as i64,
        ch.kind.as_str(),
        micros(ch.at),
        ch.actor,
        ch.quiet,
        ch.severity_before.map(Severity::rank),
        ch.status_before.map(WorkflowStatus::as_str),
        ch.note,
        ch.finding_json,
    ])?;
    Ok(())
}

/// Deletes the row of `id` if it is at `(updated_at µs, revision)` (revision 0:
/// any), returning the change summary of what was deleted and its revision.
pub(super) fn delete_returning(
    c: &Connection,
    id: &str,
    updated_at: i64,
    revision: u64,
) -> StoreResult<Option<Deleted>> {
    let sql = format!(
        "DELETE FROM findings WHERE id = ?1 AND updated_at = ?2 AND (?3 = 0 OR revision = ?3) \
         RETURNING {LIST_COLUMNS}, generator_id, record_state, revision"
    );
    let row = c
        .prepare_cached(&sql)?
        .query_row(params![id, updated_at, revision as i64], |row| {
            Ok((
                list_item(row),
                row.get::<_, String>(15)?,
                row.get::<_, String>(16)?,
                row.get::<_, i64>(17)?,
            ))
        })
        .optional()?;
    let Some((item, generator_id, record_state, revision)) = row else {
        return Ok(None);
    };
    let item = item?;
    let record_state = shared_types::RecordState::parse(&record_state)
        .ok_or_else(|| corrupt(id, "bad record state"))?;
    Ok(Some(Deleted {
        // Deletes are archival: quiet, never alerted, so no caller is needed.
        summary: summary_of(item.clone(), generator_id.clone(), record_state, id, None)?,
        item,
        generator_id,
        revision: u64::try_from(revision).map_err(|_| corrupt(id, "negative revision"))?,
    }))
}

/// What a conditional delete removed.
pub(super) struct Deleted {
    /// The list item of the removed version.
    pub(super) item: FindingListItem,
    /// Its generator id (a list item does not carry it; the group counters do).
    pub(super) generator_id: String,
    /// Its revision.
    pub(super) revision: u64,
    /// Its change summary as JSON.
    pub(super) summary: String,
}

/// Up to `limit` changes after `after`, oldest first.
pub(super) fn read_after(c: &Connection, after: u64, limit: u32) -> StoreResult<Vec<Change>> {
    let mut stmt = c.prepare_cached(
        "SELECT seq, finding_id, revision, kind, at, actor, quiet, severity_before, \
         status_before, note, finding FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let mut rows = stmt.query(params![after as i64, i64::from(limit)])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let id: String = r.get(1)?;
        let bad = |what: &str| corrupt(&id, format!("change record: bad {what}"));
        let revision = u64::try_from(r.get::<_, i64>(2)?).map_err(|_| bad("revision"))?;
        let kind: String = r.get(3)?;
        let json: String = r.get(10)?;
        let mut finding: ChangeFinding =
            serde_json::from_str(&json).map_err(|e| bad(&format!("summary ({e})")))?;
        finding.severity_before = match r.get::<_, Option<u8>>(7)? {
            Some(rank) => Some(Severity::from_rank(rank).ok_or_else(|| bad("severity"))?),
            None => None,
        };
        finding.status_before = match r.get::<_, Option<String>>(8)? {
            Some(s) => Some(s.parse().map_err(|_| bad("status"))?),
            None => None,
        };
        finding.note = r.get(9)?;
        out.push(Change {
            seq: u64::try_from(r.get::<_, i64>(0)?).map_err(|_| bad("seq"))?,
            key: Change::key_of(&id, revision),
            kind: kind.parse().map_err(|_| bad("kind"))?,
            revision,
            at: from_micros(r.get(4)?, &id)?,
            actor: r.get(5)?,
            quiet: r.get(6)?,
            finding,
        });
    }
    Ok(out)
}

/// The newest `seq` (0 when nothing was ever recorded).
pub(super) fn head(c: &Connection) -> StoreResult<u64> {
    // sqlite_sequence holds the highest seq ever handed out, even after trimming.
    let n: Option<i64> = c
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'changes'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(n.unwrap_or(0).max(0) as u64)
}

/// Removes changes up to `upto` (inclusive) recorded before `before`.
pub(super) fn trim(c: &Connection, upto: u64, before: DateTime<Utc>) -> StoreResult<u64> {
    let n = c.execute(
        "DELETE FROM changes WHERE seq <= ?1 AND at < ?2",
        params![upto as i64, micros(before)],
    )?;
    Ok(n as u64)
}
