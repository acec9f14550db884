//! Writes: upserts as the one decision (`store/decide.rs`) says, a person's
//! workflow changes, conditional deletes. Each call is one transaction, so a batch
//! is all-or-nothing and fast. Transactions take the write lock when they begin
//! (IMMEDIATE): a deferred one that read first could not upgrade to writing once
//! another connection (the dispatcher's state, a second `cspm ingest`) committed
//! in between, and SQLite fails that at once instead of waiting.

use super::changes::{self, NewChange};
use super::convert::{from_micros, get_detail, micros};
use super::counters::{facets_of, CounterDeltas, GroupKeys, StoredFacets};
use super::doc::{self, StoredDoc};
use super::error::corrupt;
use super::row::Row;
use super::StoreResult;
use crate::store::change::Origin;
use crate::store::decide::{decide, decide_workflow, delete_revision, Decision, StoredHead};
use crate::store::facets::Facets;
use crate::store::guard::{still_matches, Guarded};
use crate::store::{DeleteReport, FindingVersion, UpsertOutcome, UpsertReport};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use shared_types::{ChangeKind, FindingFilter, RecordState, WorkflowUpdate};

const INSERT: &str =
    "INSERT INTO findings (id, asff_id, severity, workflow_status, workflow_locked, \
     account_id, region, resource_type, resource_id, product_name, source, compliance_status, \
     control_id, title, description, created_at, updated_at, doc, revision, record_state, \
     generator_id, resource_key, amend_mark) \
     VALUES (?1, ?2, ?3, ?4, ?18, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
     ?19, ?20, ?21, ?22, ?23)";

const UPDATE: &str = "UPDATE findings SET asff_id = ?2, severity = ?3, workflow_status = ?4, \
     account_id = ?5, region = ?6, resource_type = ?7, resource_id = ?8, product_name = ?9, \
     source = ?10, compliance_status = ?11, control_id = ?12, title = ?13, description = ?14, \
     created_at = ?15, updated_at = ?16, doc = ?17, workflow_locked = ?18, revision = ?19, \
     record_state = ?20, generator_id = ?21, resource_key = ?22, amend_mark = ?23 WHERE id = ?1";

/// What an upsert needs of the stored version: the decision's view and the facets
/// the counters move.
struct Stored {
    head: StoredHead,
    facets: Facets,
    generator: String,
    resource: String,
}

/// The stored version of `id`, if any.
fn stored(c: &Connection, id: &str) -> StoreResult<Option<Stored>> {
    let row = c
        .prepare_cached(
            "SELECT updated_at, workflow_locked, severity, workflow_status, account_id, \
             resource_type, created_at, revision, compliance_status, record_state, \
             region, product_name, generator_id, resource_id, amend_mark \
             FROM findings WHERE id = ?1",
        )?
        .query_row([id], |q| {
            Ok((
                (
                    q.get::<_, i64>(0)?,
                    q.get::<_, bool>(1)?,
                    q.get::<_, u8>(2)?,
                ),
                (q.get::<_, String>(3)?, q.get::<_, String>(4)?),
                (q.get::<_, String>(5)?, q.get::<_, i64>(6)?),
                (
                    q.get::<_, i64>(7)?,
                    q.get::<_, Option<String>>(8)?,
                    q.get::<_, String>(9)?,
                ),
                (q.get::<_, String>(10)?, q.get::<_, String>(11)?),
                (
                    q.get::<_, String>(12)?,
                    q.get::<_, String>(13)?,
                    q.get::<_, Option<i64>>(14)?,
                ),
            ))
        })
        .optional()?;
    let Some((
        (updated_at, locked, severity),
        (status, account),
        (rt, created),
        rest,
        place,
        (generator, resource, amend_mark),
    )) = row
    else {
        return Ok(None);
    };
    let (revision, compliance_status, record_state) = rest;
    let (region, product) = (place.0, place.1);
    let facets = facets_of(
        id,
        StoredFacets {
            severity,
            status: &status,
            account,
            region,
            resource_type: rt,
            product,
            created_at: created,
        },
    )?;
    Ok(Some(Stored {
        head: StoredHead {
            updated_at: from_micros(updated_at, id)?,
            revision: u64::try_from(revision).map_err(|_| corrupt(id, "negative revision"))?,
            workflow_status: facets.status,
            workflow_by_person: locked,
            compliance_status,
            record_state: RecordState::parse(&record_state)
                .ok_or_else(|| corrupt(id, format!("bad record state {record_state:?}")))?,
            severity: facets.severity,
            // Stored as SQLite's signed 64-bit integer, bit for bit.
            amendment: amend_mark.map(|m| m as u64),
        },
        facets,
        generator,
        resource,
    }))
}

fn write_row(c: &Connection, sql: &str, r: &Row) -> StoreResult<()> {
    c.prepare_cached(sql)?.execute(params![
        r.id,
        r.asff_id,
        r.severity,
        r.written.workflow_status.as_str(),
        r.account_id,
        r.region,
        r.resource_type,
        r.resource_id,
        r.product_name,
        r.source,
        r.incoming.compliance_status,
        r.control_id,
        r.title,
        r.description,
        r.created_at,
        r.updated_at,
        r.doc,
        r.written.workflow_by_person,
        r.written.revision as i64,
        r.incoming.record_state.as_str(),
        r.generator_id,
        r.resource_key,
        r.incoming.amendment as i64,
    ])?;
    Ok(())
}

/// Upserts a batch in one transaction, each finding as [`decide`] says, recording
/// a change for every finding written (none for unchanged or older ones).
pub(super) fn upsert(
    c: &mut Connection,
    rows: &[Row],
    origin: Origin,
) -> StoreResult<UpsertReport> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut report = UpsertReport::default();
    let mut counts = CounterDeltas::default();
    let at = Utc::now();
    for r in rows {
        let stored = stored(&tx, &r.id)?;
        let outcome = match decide(stored.as_ref().map(|s| &s.head), &r.incoming) {
            Decision::Insert(w) => {
                let row = r.as_written(&w)?;
                write_row(&tx, INSERT, &row)?;
                counts.shift(&row.facets, row.groups(), 1);
                changes::record(&tx, &row.change_of(&w, at, origin, None))?;
                UpsertOutcome::Inserted
            }
            Decision::Replace(w) => {
                let s = stored.ok_or_else(|| corrupt(&r.id, "replacing a missing record"))?;
                let row = r.as_written(&w)?;
                write_row(&tx, UPDATE, &row)?;
                // Most updates move no counted value: skip their counter work.
                let before = GroupKeys {
                    generator: &s.generator,
                    resource: &s.resource,
                };
                if s.facets != row.facets || before != row.groups() {
                    counts.shift(&s.facets, before, -1);
                    counts.shift(&row.facets, row.groups(), 1);
                }
                changes::record(&tx, &row.change_of(&w, at, origin, Some(&s.head)))?;
                UpsertOutcome::Updated {
                    previous_severity: s.head.severity,
                    previous_status: s.head.workflow_status,
                    kind: w.kind,
                }
            }
            Decision::Unchanged => UpsertOutcome::Unchanged,
            Decision::SkippedOlder => UpsertOutcome::SkippedOlder,
        };
        report.outcomes.push((r.id.clone(), outcome));
    }
    counts.apply(&tx)?;
    tx.commit()?;
    Ok(report)
}

/// Sets a person's workflow status and appends the audit record, atomically. The
/// record gets its next revision; the provider's `updated_at` stays as it is, so a
/// provider version evaluated before this change but delivered after it still
/// counts as newer than the stored one. With a `guard`, only while the stored
/// finding still matches it (read in this transaction, which holds the write lock).
pub(super) fn set_workflow(
    c: &mut Connection,
    id: &str,
    update: &WorkflowUpdate,
    actor: &str,
    at: DateTime<Utc>,
    guard: Option<&FindingFilter>,
) -> StoreResult<Guarded> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let doc: Option<(StoredDoc, i64)> = tx
        .prepare_cached("SELECT doc, revision FROM findings WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((doc, revision)) = doc else {
        return Ok(Guarded::Unknown);
    };
    let mut f = doc.decode(id)?;
    if guard.is_some_and(|g| !still_matches(g, &f)) {
        let done = f.workflow_status == update.workflow_status && f.workflow_by_person;
        return Ok(if done {
            Guarded::AlreadySet
        } else {
            Guarded::NoLongerMatches
        });
    }
    let from = f.workflow_status;
    let w = decide_workflow(
        u64::try_from(revision).map_err(|_| corrupt(id, "negative revision"))?,
        update.workflow_status,
    );
    f.workflow_status = w.workflow_status;
    f.workflow_by_person = w.workflow_by_person;
    f.revision = w.revision;
    let doc = doc::encode(&f)?;
    tx.prepare_cached(
        "UPDATE findings SET workflow_status = ?2, workflow_locked = 1, revision = ?3, doc = ?4 WHERE id = ?1",
    )?
    .execute(params![id, f.workflow_status.as_str(), w.revision as i64, doc])?;
    let summary = changes::summary_json(&f, f.workflow_status)?;
    changes::record(
        &tx,
        &NewChange {
            finding_id: id,
            revision: w.revision,
            kind: w.kind,
            at,
            actor: Some(actor),
            quiet: false,
            severity_before: Some(f.severity),
            status_before: Some(from),
            note: update.note.as_deref(),
            finding_json: &summary,
        },
    )?;
    if from != f.workflow_status {
        let after = Facets::of(&f);
        let groups = GroupKeys {
            generator: &f.generator_id,
            resource: &f.resource_id,
        };
        let mut counts = CounterDeltas::default();
        counts.shift(
            &Facets {
                status: from,
                ..after.clone()
            },
            groups,
            -1,
        );
        counts.shift(&after, groups, 1);
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
    let detail = get_detail(&tx, id)?.ok_or_else(|| corrupt(id, "gone within its write"))?;
    tx.commit()?;
    Ok(Guarded::Changed(Box::new(detail)))
}

/// Deletes each finding only if its stored version is the given one, recording a
/// quiet `deleted` change (deletes are archival: the finding left the hot store).
pub(super) fn delete_versions(
    c: &mut Connection,
    versions: &[FindingVersion],
) -> StoreResult<DeleteReport> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut report = DeleteReport::default();
    let mut counts = CounterDeltas::default();
    let at = Utc::now();
    for v in versions {
        match changes::delete_returning(&tx, &v.id, micros(v.updated_at), v.revision)? {
            Some(gone) => {
                let i = &gone.item;
                counts.shift(
                    &Facets {
                        severity: i.severity,
                        status: i.workflow_status,
                        account: i.account_id.clone(),
                        region: i.region.clone(),
                        resource_type: i.resource_type.clone(),
                        product: i.product_name.clone(),
                        created_day: i.created_at.date_naive(),
                    },
                    GroupKeys {
                        generator: &gone.generator_id,
                        resource: &i.resource_id,
                    },
                    -1,
                );
                changes::record(
                    &tx,
                    &NewChange {
                        finding_id: &v.id,
                        revision: delete_revision(gone.revision),
                        kind: ChangeKind::Deleted,
                        at,
                        actor: None,
                        quiet: true,
                        severity_before: Some(i.severity),
                        status_before: Some(i.workflow_status),
                        note: None,
                        finding_json: &gone.summary,
                    },
                )?;
                report.deleted.push(v.id.clone());
            }
            None => report.kept.push(v.id.clone()),
        }
    }
    counts.apply(&tx)?;
    tx.commit()?;
    Ok(report)
}
