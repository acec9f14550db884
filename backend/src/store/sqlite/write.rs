//! Writes: newer-wins upserts, analyst workflow changes, conditional deletes.
//! Each call is one transaction, so a batch is all-or-nothing and fast.

use super::convert::{get_detail, micros, source_name};
use super::counters::{facets_of, CounterDeltas};
use super::doc::{self, StoredDoc};
use super::StoreResult;
use crate::store::facets::Facets;
use crate::store::{DeleteReport, FindingVersion, UpsertOutcome, UpsertReport};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use shared_types::{Finding, FindingDetail, WorkflowStatus, WorkflowUpdate};

const INSERT: &str =
    "INSERT INTO findings (id, asff_id, severity, workflow_status, workflow_locked, \
     account_id, region, resource_type, resource_id, product_name, source, compliance_status, \
     control_id, title, description, created_at, updated_at, doc) \
     VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";

const UPDATE: &str = "UPDATE findings SET asff_id = ?2, severity = ?3, workflow_status = ?4, \
     account_id = ?5, region = ?6, resource_type = ?7, resource_id = ?8, product_name = ?9, \
     source = ?10, compliance_status = ?11, control_id = ?12, title = ?13, description = ?14, \
     created_at = ?15, updated_at = ?16, doc = ?17 WHERE id = ?1";

/// What an upsert needs of the stored version.
struct Stored {
    updated_at: i64,
    locked: bool,
    facets: Facets,
}

/// The stored version of `id`, if any.
fn stored(c: &Connection, id: &str) -> StoreResult<Option<Stored>> {
    let row = c
        .prepare_cached(
            "SELECT updated_at, workflow_locked, severity, workflow_status, account_id, \
             resource_type, created_at FROM findings WHERE id = ?1",
        )?
        .query_row([id], |q| {
            Ok((
                q.get::<_, i64>(0)?,
                q.get::<_, bool>(1)?,
                q.get::<_, u8>(2)?,
                q.get::<_, String>(3)?,
                q.get::<_, String>(4)?,
                q.get::<_, String>(5)?,
                q.get::<_, i64>(6)?,
            ))
        })
        .optional()?;
    row.map(
        |(updated_at, locked, severity, status, account, rt, created)| {
            Ok(Stored {
                updated_at,
                locked,
                facets: facets_of(id, severity, &status, account, rt, created)?,
            })
        },
    )
    .transpose()
}

/// A finding turned into its row: columns plus the serialized document. Built on
/// the caller's thread, so the writer thread only writes, and nothing needs a deep
/// copy of the finding (its raw document is the bulk of it) to cross threads.
pub(super) struct Row {
    id: String,
    asff_id: String,
    severity: u8,
    workflow_status: WorkflowStatus,
    account_id: String,
    region: String,
    resource_type: String,
    resource_id: String,
    product_name: String,
    source: String,
    compliance_status: Option<String>,
    control_id: Option<String>,
    title: String,
    description: String,
    created_at: i64,
    updated_at: i64,
    /// The compressed document (see doc.rs).
    doc: Vec<u8>,
    /// What the summary counters count of it.
    facets: Facets,
}

impl Row {
    /// The row for `f`.
    pub(super) fn new(f: &Finding) -> StoreResult<Row> {
        Ok(Row {
            id: f.id.clone(),
            asff_id: f.asff_id.clone(),
            severity: f.severity.rank(),
            workflow_status: f.workflow_status,
            account_id: f.account_id.clone(),
            region: f.region.clone(),
            resource_type: f.resource_type.clone(),
            resource_id: f.resource_id.clone(),
            product_name: f.product_name.clone(),
            source: source_name(f.source),
            compliance_status: f.compliance_status.clone(),
            control_id: f.control_id.clone(),
            title: f.title.clone(),
            description: f.description.clone(),
            created_at: micros(f.created_at),
            updated_at: micros(f.updated_at),
            doc: doc::encode(f)?,
            facets: Facets::of(f),
        })
    }

    /// The same row with another workflow status (document included).
    fn with_status(&self, status: WorkflowStatus) -> StoreResult<Row> {
        let mut f = doc::decode(&self.id, &self.doc)?;
        f.workflow_status = status;
        Row::new(&f)
    }
}

fn write_row(c: &Connection, sql: &str, r: &Row) -> StoreResult<()> {
    c.prepare_cached(sql)?.execute(params![
        r.id,
        r.asff_id,
        r.severity,
        r.workflow_status.as_str(),
        r.account_id,
        r.region,
        r.resource_type,
        r.resource_id,
        r.product_name,
        r.source,
        r.compliance_status,
        r.control_id,
        r.title,
        r.description,
        r.created_at,
        r.updated_at,
        r.doc,
    ])?;
    Ok(())
}

/// Newer-wins upsert of a batch in one transaction.
pub(super) fn upsert(c: &mut Connection, rows: &[Row]) -> StoreResult<UpsertReport> {
    let tx = c.transaction()?;
    let mut report = UpsertReport::default();
    let mut counts = CounterDeltas::default();
    for r in rows {
        let outcome = match stored(&tx, &r.id)? {
            None => {
                write_row(&tx, INSERT, r)?;
                counts.shift(&r.facets, 1);
                UpsertOutcome::Inserted
            }
            Some(s) if r.updated_at > s.updated_at => {
                let previous_status = s.facets.status;
                // A provider that says NEW has no opinion on triage: keep the analyst's.
                let kept_status;
                let written = if s.locked && r.workflow_status == WorkflowStatus::New {
                    kept_status = r.with_status(previous_status)?;
                    &kept_status
                } else {
                    r
                };
                write_row(&tx, UPDATE, written)?;
                counts.shift(&s.facets, -1);
                counts.shift(&written.facets, 1);
                UpsertOutcome::Updated {
                    previous_severity: s.facets.severity,
                    previous_status,
                }
            }
            Some(s) if r.updated_at == s.updated_at => UpsertOutcome::Unchanged,
            Some(_) => UpsertOutcome::SkippedOlder,
        };
        report.outcomes.push((r.id.clone(), outcome));
    }
    counts.apply(&tx)?;
    tx.commit()?;
    Ok(report)
}

/// Sets the workflow status and appends the audit record, atomically.
///
/// Like Security Hub's `BatchUpdateFindings`, an analyst's change is an update of
/// the finding: `updated_at` moves to the change time (at least 1 µs later), so a
/// concurrent archival run — which deletes only the version it read — keeps it.
pub(super) fn set_workflow(
    c: &mut Connection,
    id: &str,
    update: &WorkflowUpdate,
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<Option<FindingDetail>> {
    let tx = c.transaction()?;
    let doc: Option<StoredDoc> = tx
        .prepare_cached("SELECT doc FROM findings WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    let Some(doc) = doc else { return Ok(None) };
    let mut f = doc.decode(id)?;
    let from = f.workflow_status;
    f.workflow_status = update.workflow_status;
    f.updated_at = at.max(f.updated_at + Duration::microseconds(1));
    let doc = doc::encode(&f)?;
    tx.prepare_cached(
        "UPDATE findings SET workflow_status = ?2, workflow_locked = 1, updated_at = ?3, doc = ?4 WHERE id = ?1",
    )?
    .execute(params![id, f.workflow_status.as_str(), micros(f.updated_at), doc])?;
    if from != f.workflow_status {
        let after = Facets::of(&f);
        let mut counts = CounterDeltas::default();
        counts.shift(
            &Facets {
                status: from,
                ..after.clone()
            },
            -1,
        );
        counts.shift(&after, 1);
        counts.apply(&tx)?;
    }
    tx.prepare_cached(
        "INSERT INTO audit (finding_id, at, actor, from_status, to_status, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        micros(at),
        actor,
        from.as_str(),
        update.workflow_status.as_str(),
        update.note
    ])?;
    let detail = get_detail(&tx, id)?;
    tx.commit()?;
    Ok(detail)
}

/// Deletes each finding only if its stored version is the given one.
pub(super) fn delete_versions(
    c: &mut Connection,
    versions: &[FindingVersion],
) -> StoreResult<DeleteReport> {
    let tx = c.transaction()?;
    let mut report = DeleteReport::default();
    let mut counts = CounterDeltas::default();
    for v in versions {
        let gone = tx
            .prepare_cached(
                "DELETE FROM findings WHERE id = ?1 AND updated_at = ?2 \
                 RETURNING severity, workflow_status, account_id, resource_type, created_at",
            )?
            .query_row(params![v.id, micros(v.updated_at)], |q| {
                Ok((
                    q.get::<_, u8>(0)?,
                    q.get::<_, String>(1)?,
                    q.get::<_, String>(2)?,
                    q.get::<_, String>(3)?,
                    q.get::<_, i64>(4)?,
                ))
            })
            .optional()?;
        match gone {
            Some((severity, status, account, rt, created)) => {
                counts.shift(
                    &facets_of(&v.id, severity, &status, account, rt, created)?,
                    -1,
                );
                report.deleted.push(v.id.clone());
            }
            None => report.kept.push(v.id.clone()),
        }
    }
    counts.apply(&tx)?;
    tx.commit()?;
    Ok(report)
}
