//! How a finding is laid out as a DynamoDB item (mapped with `serde_dynamo`).
//!
//! The whole `Finding` is kept as one document so it round-trips exactly (nanosecond
//! timestamps, arbitrary raw documents that DynamoDB maps could not hold: nesting
//! deeper than 32, huge numbers): zstd-compressed JSON in the binary attribute `docz`
//! ([`crate::store::doc_codec`]), or, in items written before compression, JSON text
//! in `doc`. The fields lists and filters need are copied to top-level attributes so
//! the GSI can project them without the document.

use super::controls::{results_of, Results, StoredResult};
use super::counters::Counted;
use crate::store::doc_codec::Recorded;
pub use crate::store::facets::Facets;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use shared_types::{
    AuditEntry, ChangeKind, Finding, FindingDetail, FindingSource, RecordState, Severity,
    WorkflowStatus,
};

/// What a head or an item is counted as: both hold the counted dimensions and
/// the compliance results under the same field names.
macro_rules! counted {
    ($v:expr) => {
        Counted {
            facets: Facets {
                severity: $v.severity,
                status: $v.workflow_status,
                account: $v.account_id.clone(),
                region: $v.region.clone(),
                resource_type: $v.resource_type.clone(),
                product: $v.product_name.clone(),
                created_day: $v.created_at.date_naive(),
            },
            results: Results {
                results: $v.controls.as_deref(),
                resource: &$v.resource_id,
                title: &$v.title,
                updated: &$v.updated_at,
            },
            generator: $v.gen_counted.then_some($v.generator_id.as_str()),
            resource: $v.res_counted.then_some($v.resource_id.as_str()),
        }
    };
}

/// Attributes the `SeverityTimestampIndex` projects (besides its keys and `id`):
/// exactly what a list item and the list filters need. Terraform must use this list.
pub const LIST_PROJECTION: [&str; 15] = [
    "updated_exact",
    "created_at",
    "workflow_status",
    "asff_id",
    "title",
    "account_id",
    "region",
    "resource_type",
    "resource_id",
    "product_name",
    "source",
    "compliance_status",
    "control_id",
    "search",
    "rev",
];

/// Attributes the `SeverityChangeIndex` projects (besides its keys and `id`):
/// a list item ([`LIST_PROJECTION`], revision included), its time sort key and
/// what the last write did — what a live `resume` on AWS sends. Terraform must
/// use this list.
pub fn change_projection() -> Vec<&'static str> {
    LIST_PROJECTION
        .iter()
        .copied()
        .chain(["updated_at", "last_change"])
        .collect()
}

/// Fixed-width (microsecond) RFC 3339 UTC, so strings sort like instants.
pub fn sort_key(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// True when `s` is exactly what [`sort_key`] produces (used to validate cursors).
pub fn is_sort_key(s: &str) -> bool {
    s.len() == 27
        && DateTime::parse_from_rfc3339(s)
            .map(|t| sort_key(t.with_timezone(&Utc)) == s)
            .unwrap_or(false)
}

/// One finding item in the table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindingItem {
    /// Partition key: the short id.
    pub id: String,
    /// GSI hash key: the severity label.
    pub severity: Severity,
    /// GSI range key: [`sort_key`] of the finding's `updated_at`.
    pub updated_at: String,
    /// The exact `updated_at` (nanoseconds kept) for newer-wins and list items.
    pub updated_exact: DateTime<Utc>,
    /// Epoch seconds after which DynamoDB TTL may drop the item (safety net only).
    pub expires_at: i64,
    /// The record's revision ([`Finding::revision`]): bumped on every write, and
    /// conditional writes check it (optimistic concurrency).
    pub rev: u64,
    /// Current workflow status (authoritative over the one inside `doc`).
    pub workflow_status: WorkflowStatus,
    /// True when a person set the status ([`Finding::workflow_by_person`]; the
    /// attribute keeps its first name so existing tables read the same).
    #[serde(default)]
    pub status_by_analyst: bool,
    /// The provider's record state (ARCHIVED → ACTIVE reopens).
    #[serde(default)]
    pub record_state: RecordState,
    /// Provider creation time.
    pub created_at: DateTime<Utc>,
    /// Original ASFF id.
    pub asff_id: String,
    /// Title.
    pub title: String,
    /// Account id.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// Primary resource type.
    pub resource_type: String,
    /// Primary resource id.
    pub resource_id: String,
    /// The control, rule or detector, for the list's `generator` filter and
    /// grouping (items written before it was stored lack it: empty).
    #[serde(default)]
    pub generator_id: String,
    /// Product name.
    pub product_name: String,
    /// Source.
    pub source: FindingSource,
    /// Compliance status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance_status: Option<String>,
    /// Control id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_id: Option<String>,
    /// Lower-cased title, description, resource id and ASFF id, for `q=` filters
    /// (DynamoDB's `contains` is case-sensitive).
    pub search: String,
    /// The whole finding, [`crate::store::doc_codec`]-compressed: a third of the
    /// JSON's bytes, so fewer write units, and no JSON string escaped inside the
    /// request's JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docz: Option<serde_bytes::ByteBuf>,
    /// The whole finding as JSON text, in items written before `docz` (read only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Workflow changes, oldest first.
    #[serde(default)]
    pub audit: Vec<AuditEntry>,
    /// What the write of this version did. The DynamoDB Streams record of the write
    /// carries it, so the `fanout` Lambda decodes the same change SQLite records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_change: Option<LastChange>,
    /// `SeverityChangeIndex` range key: [`sort_key`] of the last change's time,
    /// so a live `resume` on AWS finds what changed after a position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<String>,
    /// Its compliance results ([`super::controls`]): empty for findings that
    /// are no control result, `None` for an item written before they were
    /// kept (`cspm recount` fills those in). Every write sets them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controls: Option<Vec<StoredResult>>,
    /// True when it is counted in the generator items
    /// ([`super::generators`]): every write since they are kept sets it, and
    /// `cspm recount` sets it on the items written before.
    #[serde(default)]
    pub gen_counted: bool,
    /// True when it is counted in its resource's item
    /// ([`super::resources`]): every write since they are kept sets it.
    #[serde(default)]
    pub res_counted: bool,
    /// The counter shard it is counted in ([`super::counters::counted_shard`]):
    /// its resource's when first written, kept by every later write; absent
    /// on items written before (their id's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter_shard: Option<u8>,
    /// The stored provider version's amendment mark
    /// ([`crate::store::amendment`]); absent on items written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amend_mark: Option<u64>,
}

/// The change one item write made (see [`FindingItem::last_change`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastChange {
    /// What it did.
    pub kind: ChangeKind,
    /// When.
    pub at: DateTime<Utc>,
    /// Who, for a person's change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// A person's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Demo data: recorded, never alerted on.
    #[serde(default)]
    pub quiet: bool,
}

/// A projection expression over `attrs` with `#pN` placeholders (so no attribute
/// name can collide with a DynamoDB reserved word), and the placeholder map.
pub fn projection(attrs: &[&str]) -> (String, std::collections::HashMap<String, String>) {
    let names: std::collections::HashMap<String, String> = attrs
        .iter()
        .enumerate()
        .map(|(i, a)| (format!("#p{i}"), a.to_string()))
        .collect();
    let expr = (0..attrs.len())
        .map(|i| format!("#p{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    (expr, names)
}

impl FindingItem {
    /// Builds the item for `f` with the status bookkeeping the write decided (the
    /// document carries it too, so an archived line is the record as it was) and
    /// the amendment mark of the provider version it holds (`f`'s own on an
    /// upsert; the stored one on a person's change, whose `f` carries the
    /// person's status).
    pub fn new(
        f: &Finding,
        recorded: &Recorded,
        expires_at: i64,
        audit: Vec<AuditEntry>,
        change: LastChange,
        amend_mark: Option<u64>,
    ) -> Result<FindingItem, serde_json::Error> {
        let search = [&f.title, &f.description, &f.resource_id, &f.asff_id]
            .iter()
            .map(|s| s.to_lowercase())
            .collect::<Vec<_>>()
            .join("\n");
        Ok(FindingItem {
            id: f.id.clone(),
            severity: f.severity,
            updated_at: sort_key(f.updated_at),
            updated_exact: f.updated_at,
            expires_at,
            rev: recorded.revision,
            workflow_status: recorded.workflow_status,
            status_by_analyst: recorded.workflow_by_person,
            record_state: f.record_state,
            created_at: f.created_at,
            asff_id: f.asff_id.clone(),
            title: f.title.clone(),
            account_id: f.account_id.clone(),
            region: f.region.clone(),
            resource_type: f.resource_type.clone(),
            resource_id: f.resource_id.clone(),
            generator_id: f.generator_id.clone(),
            product_name: f.product_name.clone(),
            source: f.source,
            compliance_status: f.compliance_status.clone(),
            control_id: f.control_id.clone(),
            search,
            docz: Some(serde_bytes::ByteBuf::from(
                crate::store::doc_codec::encode_recorded(f, recorded)
                    .map_err(serde::ser::Error::custom)?,
            )),
            doc: None,
            audit,
            changed_at: Some(sort_key(change.at)),
            last_change: Some(change),
            controls: Some(results_of(f, recorded.workflow_status)),
            gen_counted: true,
            res_counted: true,
            counter_shard: Some(super::counters::resource_shard(&f.resource_id)),
            amend_mark,
        })
    }

    /// What this version is counted as.
    pub fn counted(&self) -> Counted<'_> {
        counted!(self)
    }

    /// The counter shard it is counted in.
    pub fn shard(&self) -> u8 {
        super::counters::counted_shard(&self.id, self.counter_shard)
    }

    /// The stored document's size in bytes, as kept.
    pub fn doc_len(&self) -> usize {
        self.docz.as_ref().map_or(0, |b| b.len()) + self.doc.as_ref().map_or(0, String::len)
    }

    /// The stored finding with its current status and revision.
    pub fn finding(&self) -> Result<Finding, serde_json::Error> {
        let mut f: Finding = match (&self.docz, &self.doc) {
            (Some(z), _) => crate::store::doc_codec::decode(z).map_err(serde::de::Error::custom)?,
            (None, Some(json)) => serde_json::from_str(json)?,
            (None, None) => return Err(serde::de::Error::missing_field("docz")),
        };
        f.workflow_status = self.workflow_status;
        f.workflow_by_person = self.status_by_analyst;
        f.revision = self.rev;
        Ok(f)
    }

    /// The API's detail view.
    pub fn detail(&self) -> Result<FindingDetail, serde_json::Error> {
        Ok(FindingDetail {
            finding: self.finding()?,
            audit: self.audit.clone(),
        })
    }
}

mod attrs;
/// What an upsert reads of the stored version.
mod head;
/// A row of the severity/time index.
mod list_row;

pub use head::{Head, HEAD_PROJECTION};
pub use list_row::ListRow;

#[cfg(test)]
mod tests;
