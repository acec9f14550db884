//! Writes: upserts as the one decision (`store/decide.rs`) says, a person's
//! workflow changes, conditional deletes. Each call is one transaction, so a batch
//! is all-or-nothing and fast. Transactions take the write lock when they begin
//! (IMMEDIATE): a deferred one that read first could not upgrade to writing once
//! another connection (the dispatcher's state, a second `cspm ingest`) committed
//! in between, and SQLite fails that at once instead of waiting.

use super::changes::{self, NewChange};
use super::convert::{from_micros, get_detail, micros, source_name};
use super::counters::{facets_of, CounterDeltas, StoredFacets};
use super::doc::{self, StoredDoc};
use super::error::corrupt;
use super::StoreResult;
use crate::store::change::Origin;
use crate::store::decide::{
    decide, decide_workflow, delete_revision, Decision, Incoming, StoredHead, Write,
};
use crate::store::facets::Facets;
use crate::store::{DeleteReport, FindingVersion, UpsertOutcome, UpsertReport};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use shared_types::{ChangeKind, Finding, FindingDetail, RecordState, WorkflowUpdate};
use std::borrow::Cow;

const INSERT: &str =
    "INSERT INTO findings (id, asff_id, severity, workflow_status, workflow_locked, \
     account_id, region, resource_type, resource_id, product_name, source, compliance_status, \
     control_id, title, description, created_at, updated_at, doc, revision, record_state, \
     generator_id) \
     VALUES (?1, ?2, ?3, ?4, ?18, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
     ?19, ?20, ?21)";

const UPDATE: &str = "UPDATE findings SET asff_id = ?2, severity = ?3, workflow_status = ?4, \
     account_id = ?5, region = ?6, resource_type = ?7, resource_id = ?8, product_name = ?9, \
     source = ?10, compliance_status = ?11, control_id = ?12, title = ?13, description = ?14, \
     created_at = ?15, updated_at = ?16, doc = ?17, workflow_locked = ?18, revision = ?19, \
     record_state = ?20, generator_id = ?21 WHERE id = ?1";

/// What an upsert needs of the stored version: the decision's view and the facets
/// the counters move.
struct Stored {
    head: StoredHead,
    facets: Facets,
}

/// The stored version of `id`, if any.
fn stored(c: &Connection, id: &str) -> StoreResult<Option<Stored>> {
    let row = c
        .prepare_cached(
            "SELECT updated_at, workflow_locked, severity, workflow_status, account_id, \
             resource_type, created_at, revision, compliance_status, record_state, \
             region, product_name \
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
            ))
        })
        .optional()?;
    let Some(((updated_at, locked, severity), (status, account), (rt, created), rest, place)) = row
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
        },
        facets,
    }))
}

/// A finding turned into its row: columns plus the serialized document. Built on
/// the caller's thread, so the writer thread only writes, and nothing needs a deep
/// copy of the finding (its raw document is the bulk of it) to cross threads.
///
/// The document is encoded as a first version would be stored (revision 1, the
/// status [`decide`] gives a first version); the writer re-encodes it only when the
/// decision says otherwise (an update of a stored record).
pub(super) struct Row {
    id: String,
    asff_id: String,
    severity: u8,
    account_id: String,
    region: String,
    resource_type: String,
    resource_id: String,
    product_name: String,
    source: String,
    control_id: Option<String>,
    title: String,
    description: String,
    created_at: i64,
    updated_at: i64,
    generator_id: String,
    /// What the decision reads of the incoming version.
    incoming: Incoming,
    /// How the document below was encoded.
    written: Write,
    /// The compressed document (see doc.rs).
    doc: Vec<u8>,
    /// The change summary (changes.rs) with `written`'s status.
    change: String,
    /// What the summary counters count of it (with `written`'s status).
    facets: Facets,
}

impl Row {
    /// The row for `f`, prepared as a first version.
    pub(super) fn new(f: &Finding) -> StoreResult<Row> {
        let incoming = Incoming::from(f);
        let Decision::Insert(written) = decide(None, &incoming) else {
            return Err(corrupt(&f.id, "a first version must be an insert"));
        };
        let mut facets = Facets::of(f);
        facets.status = written.workflow_status;
        Ok(Row {
            id: f.id.clone(),
            asff_id: f.asff_id.clone(),
            severity: f.severity.rank(),
            account_id: f.account_id.clone(),
            region: f.region.clone(),
            resource_type: f.resource_type.clone(),
            resource_id: f.resource_id.clone(),
            product_name: f.product_name.clone(),
            source: source_name(f.source),
            control_id: f.control_id.clone(),
            title: f.title.clone(),
            description: f.description.clone(),
            created_at: micros(f.created_at),
            updated_at: micros(f.updated_at),
            generator_id: f.generator_id.clone(),
            doc: encode_with(f, &written)?,
            change: changes::summary_json(f, written.workflow_status)?,
            written,
            incoming,
            facets,
        })
    }

    /// The row as the decision `w` writes it: itself when it was prepared that
    /// way, otherwise a copy with the document re-encoded.
    fn as_written(&self, w: &Write) -> StoreResult<Cow<'_, Row>> {
        if *w == self.written {
            return Ok(Cow::Borrowed(self));
        }
        let f = doc::decode(&self.id, &self.doc)?;
        let mut facets = self.facets.clone();
        facets.status = w.workflow_status;
        Ok(Cow::Owned(Row {
            doc: encode_with(&f, w)?,
            change: changes::summary_json(&f, w.workflow_status)?,
            written: *w,
            facets,
            incoming: self.incoming.clone(),
            ..self.clone_columns()
        }))
    }

    fn clone_columns(&self) -> Row {
        Row {
            id: self.id.clone(),
            asff_id: self.asff_id.clone(),
            severity: self.severity,
            account_id: self.account_id.clone(),
            region: self.region.clone(),
            resource_type: self.resource_type.clone(),
            resource_id: self.resource_id.clone(),
            product_name: self.product_name.clone(),
            source: self.source.clone(),
            control_id: self.control_id.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            generator_id: self.generator_id.clone(),
            incoming: self.incoming.clone(),
            written: self.written,
            doc: Vec::new(),
            change: String::new(),
            facets: self.facets.clone(),
        }
    }
}

impl Clone for Row {
    fn clone(&self) -> Row {
        Row {
            doc: self.doc.clone(),
            change: self.change.clone(),
            ..self.clone_columns()
        }
    }
}

/// The stored document of `f` as written by `w` (status, revision, who set it).
fn encode_with(f: &Finding, w: &Write) -> StoreResult<Vec<u8>> {
    if f.workflow_status == w.workflow_status
        && f.revision == w.revision
        && f.workflow_by_person == w.workflow_by_person
    {
        return doc::encode(f);
    }
    let mut f = f.clone();
    f.workflow_status = w.workflow_status;
    f.revision = w.revision;
    f.workflow_by_person = w.workflow_by_person;
    doc::encode(&f)
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
                counts.shift(&row.facets, 1);
                changes::record(&tx, &row.change_of(&w, at, origin, None))?;
                UpsertOutcome::Inserted
            }
            Decision::Replace(w) => {
                let s = stored.ok_or_else(|| corrupt(&r.id, "replacing a missing record"))?;
                let row = r.as_written(&w)?;
                write_row(&tx, UPDATE, &row)?;
                // Most updates move no counted value: skip their counter work.
                if s.facets != row.facets {
                    counts.shift(&s.facets, -1);
                    counts.shift(&row.facets, 1);
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

impl Row {
    /// The change this row records when written as `w` over `before`.
    fn change_of<'a>(
        &'a self,
        w: &Write,
        at: DateTime<Utc>,
        origin: Origin,
        before: Option<&StoredHead>,
    ) -> NewChange<'a> {
        NewChange {
            finding_id: &self.id,
            revision: w.revision,
            kind: w.kind,
            at,
            actor: None,
            quiet: origin.is_quiet(),
            severity_before: before.map(|b| b.severity),
            status_before: before.map(|b| b.workflow_status),
            note: None,
            finding_json: &self.change,
        }
    }
}

/// Sets a person's workflow status and appends the audit record, atomically. The
/// record gets its next revision; the provider's `updated_at` stays as it is, so a
/// provider version evaluated before this change but delivered after it still
/// counts as newer than the stored one.
pub(super) fn set_workflow(
    c: &mut Connection,
    id: &str,
    update: &WorkflowUpdate,
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<Option<FindingDetail>> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let doc: Option<(StoredDoc, i64)> = tx
        .prepare_cached("SELECT doc, revision FROM findings WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((doc, revision)) = doc else {
        return Ok(None);
    };
    let mut f = doc.decode(id)?;
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
