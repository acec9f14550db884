//! Security Hub documents → findings. Accepts a bare ASFF finding, a JSON array of
//! findings, `{"Findings":[...]}` (GetFindings answers, BatchImportFindings bodies) and
//! the EventBridge events Security Hub emits.

mod fields;
/// Scheduled Security Hub sync: pages `GetFindings` through the pipeline, resumable.
#[cfg(feature = "aws")]
pub mod sync;
/// AWS Security Hub SDK findings to ASFF JSON.
#[cfg(feature = "aws")]
mod sync_asff;
/// What a sync run did: the pipeline's outcome plus the paging.
pub mod sync_report;

use super::asff::AsffFinding;
use super::error::json_kind;
use super::{DocumentOutcome, Rejection, SourceError};
use crate::ids::short_id;
use crate::time::parse_timestamp;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use shared_types::{Finding, FindingSource};

/// EventBridge `detail-type`s whose `detail.findings` holds ASFF findings. The bare
/// `Security Hub Findings` is the pre-2020 name of `- Imported`.
const FINDING_EVENTS: [&str; 3] = [
    "Security Hub Findings - Imported",
    "Security Hub Findings - Custom Action",
    "Security Hub Findings",
];

/// Emitted when a custom action is run on an insight: insight rows, no findings.
const INSIGHT_EVENT: &str = "Security Hub Insight Results";

/// Normalizes every finding in a Security Hub document (bare finding, array,
/// `{"Findings":[...]}` or EventBridge envelope). Never fails as a whole: each finding
/// either becomes a [`Finding`] or a [`Rejection`] saying why, and a document that is
/// not a Security Hub document at all is one rejection.
pub fn parse_document(doc: &Value) -> DocumentOutcome {
    match doc {
        Value::Array(items) => normalize_all(items, "array"),
        Value::Object(map) => parse_object(map),
        other => DocumentOutcome::rejection(format!(
            "not a Security Hub document: expected a JSON object or array, got {}",
            json_kind(other)
        )),
    }
}

fn parse_object(map: &Map<String, Value>) -> DocumentOutcome {
    if let Some(detail_type) = map.get("detail-type") {
        return parse_event(detail_type, map.get("detail"));
    }
    if let Some(findings) = map.get("Findings") {
        return match findings {
            Value::Array(items) => normalize_all(items, "Findings"),
            other => DocumentOutcome::rejection(format!(
                "Findings must be a list of findings, got {}",
                json_kind(other)
            )),
        };
    }
    // `Id` alone is not enough: IAM policy documents have one too.
    if map.contains_key("SchemaVersion")
        || (map.contains_key("Id") && map.contains_key("ProductArn"))
    {
        return DocumentOutcome::of(normalize_object(map, None));
    }
    DocumentOutcome::rejection(
        "not a Security Hub document: no Findings, detail.findings or SchemaVersion/Id".into(),
    )
}

fn parse_event(detail_type: &Value, detail: Option<&Value>) -> DocumentOutcome {
    let Some(dt) = detail_type.as_str() else {
        return DocumentOutcome::rejection(format!(
            "not a Security Hub event: detail-type is {}, not a string",
            json_kind(detail_type)
        ));
    };
    if dt == INSIGHT_EVENT {
        return DocumentOutcome {
            note: Some(format!(
                "{INSIGHT_EVENT} event: holds insight result counts, no findings"
            )),
            ..DocumentOutcome::default()
        };
    }
    if !FINDING_EVENTS.contains(&dt) {
        return DocumentOutcome::rejection(format!(
            "not a Security Hub findings event: detail-type {dt:?}"
        ));
    }
    match detail.and_then(|d| d.get("findings")) {
        Some(Value::Array(items)) => normalize_all(items, "detail.findings"),
        Some(other) => DocumentOutcome::rejection(format!(
            "{dt} event: detail.findings must be a list, got {}",
            json_kind(other)
        )),
        None => DocumentOutcome::rejection(format!("{dt} event without detail.findings")),
    }
}

fn normalize_all(items: &[Value], container: &str) -> DocumentOutcome {
    DocumentOutcome::of_each(items, container, "a finding object", normalize_object)
}

/// Normalizes one ASFF finding (a JSON object) into a [`Finding`], or says why not.
pub fn normalize_finding(v: &Value) -> Result<Finding, Rejection> {
    match v {
        Value::Object(map) => normalize_object(map, None),
        other => Err(Rejection {
            finding_id: None,
            reason: format!("expected a finding object, got {}", json_kind(other)),
        }),
    }
}

/// `index` is the finding's position in its document, named in rejections when the
/// finding has no readable `Id` to identify it by.
fn normalize_object(map: &Map<String, Value>, index: Option<usize>) -> Result<Finding, Rejection> {
    let raw = Value::Object(map.clone());
    let asff = AsffFinding::from_value(&raw).map_err(|e| Rejection {
        finding_id: None,
        reason: format!("unreadable finding: {e}"),
    })?;
    let finding_id = fields::non_blank(asff.id.clone());
    build(&asff, raw).map_err(|e| Rejection {
        reason: match (&finding_id, index) {
            (None, Some(i)) => format!("finding at index {i}: {e}"),
            _ => e.to_string(),
        },
        finding_id,
    })
}

fn build(a: &AsffFinding, raw: Value) -> Result<Finding, SourceError> {
    let asff_id = fields::required("Id", &a.id)?;
    let product_arn = fields::required("ProductArn", &a.product_arn)?;
    let generator_id = fields::required("GeneratorId", &a.generator_id)?;
    let title = fields::required("Title", &a.title)?;
    let account_id = fields::account_id(a, raw.get("AwsAccountId"))?;
    let created_at = required_time("CreatedAt", &a.created_at)?;
    let updated_at = required_time("UpdatedAt", &a.updated_at)?;
    let severity = fields::severity(a)?;
    let resources = fields::resources(a)?;
    let (resource_type, resource_id) = match resources.first() {
        Some(r) => (r.resource_type.clone(), r.id.clone()),
        None => {
            return Err(SourceError::Invalid {
                field: "Resources",
                reason: "no resource (ASFF requires at least one)".into(),
            })
        }
    };
    let region = fields::region(a, &resources, &product_arn)?;
    let (product_name, company_name) = fields::product(a, &product_arn);
    let recommendation = a
        .remediation
        .as_ref()
        .and_then(|r| r.recommendation.as_ref());
    Ok(Finding {
        id: short_id(&product_arn, &asff_id),
        first_observed_at: optional_time("FirstObservedAt", &asff_id, &a.first_observed_at),
        last_observed_at: optional_time("LastObservedAt", &asff_id, &a.last_observed_at),
        asff_id,
        product_arn,
        product_name,
        company_name,
        generator_id,
        source: FindingSource::SecurityHub,
        account_id,
        region,
        title,
        description: a.description.clone().unwrap_or_default(),
        severity,
        workflow_status: fields::workflow_status(a),
        record_state: fields::record_state(a),
        types: a.types.clone(),
        resource_type,
        resource_id,
        resources,
        compliance_status: a
            .compliance
            .as_ref()
            .and_then(|c| fields::non_blank(c.status.clone())),
        control_id: fields::control_id(a),
        remediation_text: recommendation.and_then(|r| fields::non_blank(r.text.clone())),
        remediation_url: recommendation.and_then(|r| fields::non_blank(r.url.clone())),
        source_url: fields::non_blank(a.source_url.clone()),
        mitre: Vec::new(),
        created_at,
        updated_at,
        raw,
        revision: 0,
        workflow_by_person: false,
    })
}

fn required_time(field: &'static str, v: &Option<Value>) -> Result<DateTime<Utc>, SourceError> {
    match v {
        None | Some(Value::Null) => Err(SourceError::Missing(field)),
        Some(v) => parse_timestamp(v).map_err(|source| SourceError::Time { field, source }),
    }
}

/// Observation times are informative only: a bad one is dropped (and logged) rather
/// than costing the whole finding.
fn optional_time(field: &str, asff_id: &str, v: &Option<Value>) -> Option<DateTime<Utc>> {
    match v {
        None | Some(Value::Null) => None,
        Some(v) => match parse_timestamp(v) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(finding = asff_id, "{field} ignored: {e}");
                None
            }
        },
    }
}

#[cfg(test)]
mod tests;
