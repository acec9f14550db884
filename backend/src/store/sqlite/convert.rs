//! Conversions between rows and the shared types.

use super::doc::StoredDoc;
use super::error::corrupt;
use super::StoreResult;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};
use shared_types::{
    AuditEntry, FindingDetail, FindingListItem, FindingSource, Severity, WorkflowStatus,
};

/// Microseconds since the epoch: the stored form of every timestamp.
pub(super) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(super) fn from_micros(us: i64, id: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us).ok_or_else(|| corrupt(id, "timestamp out of range"))
}

/// Column `i` of `row` as text, borrowed from the row (a group's key is then
/// copied once per group, not once per counter row).
pub(super) fn text<'r>(row: &'r Row<'_>, i: usize) -> StoreResult<&'r str> {
    row.get_ref(i)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
            .into()
    })
}

/// A counter row's severity, status and count, in columns `at`, `at + 1` and
/// `at + 2`; `key` names the group in an error.
pub(super) fn counted(
    row: &Row<'_>,
    key: &str,
    at: usize,
) -> StoreResult<(Severity, WorkflowStatus, u64)> {
    let severity =
        Severity::from_rank(row.get(at)?).ok_or_else(|| corrupt(key, "bad counted severity"))?;
    let status = text(row, at + 1)?
        .parse::<WorkflowStatus>()
        .map_err(|_| corrupt(key, "bad counted status"))?;
    let n: i64 = row.get(at + 2)?;
    Ok((severity, status, u64::try_from(n).unwrap_or(0)))
}

/// The column list that [`list_item`] reads, in order.
pub(super) const LIST_COLUMNS: &str = "id, asff_id, severity, title, workflow_status, account_id, \
     region, resource_type, resource_id, product_name, source, compliance_status, control_id, \
     created_at, updated_at";

fn parse<T: std::str::FromStr>(s: &str, id: &str, what: &str) -> StoreResult<T> {
    s.parse()
        .map_err(|_| corrupt(id, format!("bad {what} {s:?}")))
}

/// Reads one list item from a row selected with [`LIST_COLUMNS`].
pub(super) fn list_item(row: &Row<'_>) -> StoreResult<FindingListItem> {
    let id: String = row.get(0)?;
    let rank: u8 = row.get(2)?;
    let status: String = row.get(4)?;
    let source: String = row.get(10)?;
    Ok(FindingListItem {
        severity: Severity::from_rank(rank).ok_or_else(|| corrupt(&id, "bad severity rank"))?,
        workflow_status: parse::<WorkflowStatus>(&status, &id, "workflow status")?,
        source: serde_json::from_value::<FindingSource>(serde_json::Value::String(source))
            .map_err(|_| corrupt(&id, "bad source"))?,
        asff_id: row.get(1)?,
        title: row.get(3)?,
        account_id: row.get(5)?,
        region: row.get(6)?,
        resource_type: row.get(7)?,
        resource_id: row.get(8)?,
        product_name: row.get(9)?,
        compliance_status: row.get(11)?,
        control_id: row.get(12)?,
        created_at: from_micros(row.get(13)?, &id)?,
        updated_at: from_micros(row.get(14)?, &id)?,
        id,
    })
}

/// The enum's serde name (`security_hub`…), as stored in the `source` column.
pub(super) fn source_name(s: FindingSource) -> String {
    match serde_json::to_value(s) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// One finding plus its audit trail.
pub(super) fn get_detail(c: &Connection, id: &str) -> StoreResult<Option<FindingDetail>> {
    let doc: Option<(StoredDoc, i64)> = c
        .prepare_cached("SELECT doc, revision FROM findings WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((doc, revision)) = doc else {
        return Ok(None);
    };
    let mut finding = doc.decode(id)?;
    // The column is authoritative: documents written before revisions existed say 0.
    finding.revision = u64::try_from(revision).map_err(|_| corrupt(id, "negative revision"))?;
    let mut stmt = c.prepare_cached(
        "SELECT at, actor, from_status, to_status, note FROM audit WHERE finding_id = ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query([id])?;
    let mut audit = Vec::new();
    while let Some(r) = rows.next()? {
        let from: String = r.get(2)?;
        let to: String = r.get(3)?;
        audit.push(AuditEntry {
            at: from_micros(r.get(0)?, id)?,
            actor: r.get(1)?,
            from_status: parse(&from, id, "audit status")?,
            to_status: parse(&to, id, "audit status")?,
            note: r.get(4)?,
        });
    }
    Ok(Some(FindingDetail { finding, audit }))
}
