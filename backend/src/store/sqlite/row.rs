//! A finding as the SQLite writer stores it: its columns, compressed document and
//! change summary, prepared on the caller's thread before the write transaction.

use super::changes::{self, NewChange};
use super::convert::{micros, source_name};
use super::counters::GroupKeys;
use super::doc;
use super::error::corrupt;
use super::StoreResult;
use crate::store::change::Origin;
use crate::store::decide::{decide, Decision, Incoming, StoredHead, Write};
use crate::store::facets::Facets;
use chrono::{DateTime, Utc};
use shared_types::Finding;
use std::borrow::Cow;

/// A finding turned into its row: columns plus the serialized document. Built on
/// the caller's thread, so the writer thread only writes, and nothing needs a deep
/// copy of the finding (its raw document is the bulk of it) to cross threads.
///
/// The document is encoded as a first version would be stored (revision 1, the
/// status [`decide`] gives a first version); the writer re-encodes it only when the
/// decision says otherwise (an update of a stored record).
pub(super) struct Row {
    pub(super) id: String,
    pub(super) asff_id: String,
    pub(super) severity: u8,
    pub(super) account_id: String,
    pub(super) region: String,
    pub(super) resource_type: String,
    pub(super) resource_id: String,
    /// [`super::resource_index::resource_key`] of `resource_id`: the bucket index's key.
    pub(super) resource_key: i64,
    pub(super) product_name: String,
    pub(super) source: String,
    pub(super) control_id: Option<String>,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) created_at: i64,
    pub(super) updated_at: i64,
    pub(super) generator_id: String,
    /// What the decision reads of the incoming version.
    pub(super) incoming: Incoming,
    /// How the document below was encoded.
    pub(super) written: Write,
    /// The compressed document (see doc.rs).
    pub(super) doc: Vec<u8>,
    /// The change summary (changes.rs) with `written`'s status.
    pub(super) change: String,
    /// What the summary counters count of it (with `written`'s status).
    pub(super) facets: Facets,
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
            resource_key: super::resource_index::resource_key(&f.resource_id),
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
    pub(super) fn as_written(&self, w: &Write) -> StoreResult<Cow<'_, Row>> {
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
            resource_key: self.resource_key,
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
    doc::encode_recorded(f, &w.recorded())
}

impl Row {
    /// The generator and resource this row counts in.
    pub(super) fn groups(&self) -> GroupKeys<'_> {
        GroupKeys {
            generator: &self.generator_id,
            resource: &self.resource_id,
        }
    }

    /// The change this row records when written as `w` over `before`.
    pub(super) fn change_of<'a>(
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
