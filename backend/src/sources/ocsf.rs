//! OCSF findings → findings: the new AWS Security Hub's findings (EventBridge
//! `Findings Imported V2`, the finding in `detail.findings`), Prowler's JSON-OCSF
//! files (a JSON array of findings; JSON Lines arrive a line at a time), a bare
//! finding, `{"Findings":[...]}` as `GetFindingsV2` answers — and our own OCSF export
//! (`cspm export --format ocsf`) read back.
//!
//! Two classes are read: Detection Finding (`class_uid` 2004) and Compliance Finding
//! (2003), whose shared attributes map field by field (names from OCSF 1.5; the
//! published samples, OCSF 1.1 to 1.9, use the same ones):
//!
//! | OCSF | Finding |
//! |---|---|
//! | `finding_info.uid` | `asff_id` (the provider's own id; see the id rule) |
//! | `finding_info.title`, `.desc` (else `message`), `.types`, `.src_url` | title, description, types, source URL |
//! | `finding_info.modified_time` (else `time`), `.created_time` (else `first_seen_time`, else the update time), `.first_seen_time`, `.last_seen_time` | updated, created, first and last observed (each the epoch number, else its `_dt` sibling) |
//! | `severity_id` 1–5 (6 Fatal → CRITICAL), else the `severity` caption | severity |
//! | `status_id` 1 New, 2 In Progress → NOTIFIED, 3 Suppressed, 4 Resolved, 5 Archived; `activity_id` 3 Close | workflow status, record state ARCHIVED |
//! | `compliance.status_id` (1 Pass, 2 Warning, 3 Fail) or `.status`, `compliance.control` | compliance status, control id |
//! | `cloud.account.uid`, `cloud.region` (else the first resource's) | account, region |
//! | `resources[]` (`resource` in Compliance Finding 1.1): `uid` (else `uid_alt`, `name`), `type`, `region`, `cloud_partition` | resources; the first is the primary one |
//! | `metadata.product.uid` (else `.name`), `.name`, `.vendor_name` | product key (`product_arn`), product and company |
//! | `finding_info.analytic.uid`, else `compliance.control`, `metadata.event_code`, `analytic.name`, the title | generator id |
//! | `remediation.desc`, the first `http(s)` entry of `remediation.references` | remediation text and URL |
//!
//! Required, as in ASFF: a class this reads, `finding_info.uid`, `finding_info.title`,
//! `metadata.product` (uid or name), `cloud.account.uid`, a usable severity, a time
//! (`modified_time` or `time`), a resource with an id, a region. A required field that
//! is missing, of the wrong JSON type or unreadable rejects the finding with a reason
//! naming it; an optional one that is unreadable is left out (and logged).
//!
//! **Id rule** (`identity.rs`): an OCSF finding is keyed like an ASFF finding,
//! `short_id(metadata.product.uid, finding_info.uid)` — the product stands where ASFF
//! has `ProductArn`, the provider's finding uid where it has `Id`. A finding we
//! exported carries our own id in `finding_info.uid` and the provider's id in
//! `unmapped.asff_id`; when `short_id(metadata.product.uid, unmapped.asff_id)` equals
//! `finding_info.uid` the finding is ours and keeps that id and ASFF id, so an export
//! read back lands on the finding it came from. Anything else, a 22-character uid
//! included, is a foreign uid and is hashed: no document can claim an existing id
//! without the product and provider id that id is made of.
//!
//! Prowler writes its check result in `status_code` (`PASS`/`FAIL`/`MANUAL`) rather
//! than in a `compliance` object; for findings whose product is Prowler it is read as
//! the compliance status exactly as Prowler's own ASFF output maps it (PASSED, FAILED,
//! NOT_AVAILABLE), so a passing check resolves like the same check imported as ASFF.

mod fields;
mod identity;
mod resource_types;
mod scales;
mod times;

use super::error::json_kind;
use super::{DocumentOutcome, Rejection, SourceError};
use serde_json::{Map, Value};
use shared_types::{Finding, FindingSource};

/// The EventBridge `detail-type` of the new Security Hub's findings.
pub const EVENT_TYPE: &str = "Findings Imported V2";

/// Whether a JSON value has the shape of an OCSF event: an object with `class_uid`.
/// No other document kind read here has that attribute.
pub fn is_event(v: &Value) -> bool {
    v.get("class_uid").is_some()
}

/// Whether a document holds OCSF events: one itself, an array starting with one,
/// or `{"Findings":[...]}` starting with one (a `GetFindingsV2` answer).
pub fn holds_events(doc: &Value) -> bool {
    match doc {
        Value::Array(items) => items.first().is_some_and(is_event),
        Value::Object(m) => {
            is_event(doc)
                || m.get("Findings")
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .is_some_and(is_event)
        }
        _ => false,
    }
}

/// Normalizes every finding in an OCSF document. Never fails as a whole: each
/// finding becomes a [`Finding`] or a [`Rejection`] saying why.
pub fn parse_document(doc: &Value) -> DocumentOutcome {
    match doc {
        Value::Array(items) => normalize_all(items, "array"),
        Value::Object(map) => match (map.get("detail-type"), map.get("Findings")) {
            (Some(dt), _) => parse_event(dt, map.get("detail")),
            (None, Some(Value::Array(items))) if !is_event(doc) => normalize_all(items, "Findings"),
            _ => DocumentOutcome::of(normalize_object(map, None)),
        },
        other => DocumentOutcome::rejection(format!(
            "not an OCSF document: expected a JSON object or array, got {}",
            json_kind(other)
        )),
    }
}

/// A `Findings Imported V2` event: its findings are in `detail.findings`.
fn parse_event(detail_type: &Value, detail: Option<&Value>) -> DocumentOutcome {
    if detail_type.as_str() != Some(EVENT_TYPE) {
        return DocumentOutcome::rejection(format!(
            "not a {EVENT_TYPE} event: detail-type is {detail_type}"
        ));
    }
    match detail.and_then(|d| d.get("findings")) {
        Some(Value::Array(items)) => normalize_all(items, "detail.findings"),
        Some(other) => DocumentOutcome::rejection(format!(
            "{EVENT_TYPE} event: detail.findings must be a list, got {}",
            json_kind(other)
        )),
        None => DocumentOutcome::rejection(format!("{EVENT_TYPE} event without detail.findings")),
    }
}

fn normalize_all(items: &[Value], container: &str) -> DocumentOutcome {
    DocumentOutcome::of_each(items, container, "an OCSF finding object", normalize_object)
}

/// Normalizes one OCSF finding (a JSON object), or says why not.
pub fn normalize_finding(v: &Value) -> Result<Finding, Rejection> {
    match v {
        Value::Object(map) => normalize_object(map, None),
        other => Err(Rejection {
            finding_id: None,
            reason: format!("expected an OCSF finding object, got {}", json_kind(other)),
        }),
    }
}

/// `index` is the finding's position in its container, named in the reason when
/// the finding has no readable uid to identify it by.
fn normalize_object(map: &Map<String, Value>, index: Option<usize>) -> Result<Finding, Rejection> {
    let raw = Value::Object(map.clone());
    match build(&raw) {
        Ok(mut f) => {
            f.raw = raw;
            Ok(f)
        }
        Err(e) => {
            let finding_id = fields::text(&raw, "/finding_info/uid");
            Err(Rejection {
                reason: match (&finding_id, index) {
                    (None, Some(i)) => format!("finding at index {i}: {e}"),
                    _ => e.to_string(),
                },
                finding_id,
            })
        }
    }
}

/// The finding, `raw` left `null` for the caller to fill.
fn build(f: &Value) -> Result<Finding, SourceError> {
    scales::class(f)?;
    let uid = fields::required(f, "/finding_info/uid", "finding_info.uid")?;
    let title = fields::required(f, "/finding_info/title", "finding_info.title")?;
    let product = fields::product(f)?;
    let account_id = fields::required(f, "/cloud/account/uid", "cloud.account.uid")?;
    let severity = scales::severity(f)?;
    let times = times::times(f)?;
    let resources = fields::resources(f)?;
    let region = fields::region(f, &resources)?;
    let identity = identity::resolve(f, &product.key, &uid);
    let compliance = scales::compliance(f, identity.ours, &product.name);
    let (workflow_status, record_state) = scales::workflow(f);
    let (remediation_text, remediation_url) = fields::remediation(f);
    let primary = &resources[0];
    Ok(Finding {
        id: identity.id,
        asff_id: identity.asff_id,
        generator_id: fields::generator(f, compliance.control.as_deref(), &title),
        product_arn: product.key,
        product_name: product.name,
        company_name: product.vendor,
        source: FindingSource::Ocsf,
        account_id,
        region,
        description: fields::optional(f, "/finding_info/desc")
            .or_else(|| fields::optional(f, "/message"))
            .unwrap_or_default(),
        title,
        severity,
        workflow_status,
        record_state,
        types: fields::types(f),
        resource_type: primary.resource_type.clone(),
        resource_id: primary.id.clone(),
        resources,
        compliance_status: compliance.status,
        control_id: compliance.control,
        remediation_text,
        remediation_url,
        source_url: fields::optional(f, "/finding_info/src_url"),
        mitre: Vec::new(),
        created_at: times.created,
        updated_at: times.updated,
        first_observed_at: times.first_seen,
        last_observed_at: times.last_seen,
        raw: Value::Null,
        revision: 0,
        workflow_by_person: false,
    })
}

#[cfg(test)]
mod tests;
