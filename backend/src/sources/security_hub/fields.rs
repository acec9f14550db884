//! Field-by-field rules turning ASFF values into `Finding` fields. Each function
//! either returns the value or a [`SourceError`] naming the ASFF field at fault.

use crate::sources::asff::{AsffFinding, AsffResource};
use crate::sources::SourceError;
use serde_json::Value;
use shared_types::{RecordState, Resource, Severity, WorkflowStatus};

/// Where pre-2020 findings (and Security Hub's own copy) keep the label.
const PF_SEVERITY_LABEL: &str = "aws/securityhub/SeverityLabel";
const PF_PRODUCT_NAME: &str = "aws/securityhub/ProductName";
/// Where some custom products (ElectricEye) name themselves, their ARN saying only `default`.
const PF_OWN_PRODUCT_NAME: &str = "ProductName";
const PF_COMPANY_NAME: &str = "aws/securityhub/CompanyName";
/// Control id keys used by Security Hub standards findings before `SecurityControlId`.
const PF_CONTROL_KEYS: [&str; 2] = ["ControlId", "RuleId"];

/// Account ids are 12 digits in ASFF.
const ACCOUNT_ID_LEN: usize = 12;

/// `Some` only for text with something besides whitespace.
pub(super) fn non_blank(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// A required text field, or `missing required <field>`.
pub(super) fn required(field: &'static str, v: &Option<String>) -> Result<String, SourceError> {
    non_blank(v.clone()).ok_or(SourceError::Missing(field))
}

/// `AwsAccountId`, kept as given when it is any non-blank text.
///
/// The schema says 12 digits, but published findings carry placeholders
/// (`"ACCOUNT_ID"` in Prowler's documented output) and sanitized ids of other lengths.
/// Dropping a security finding over its account label would hide it from analysts,
/// while an odd label is visible and filterable; so we keep it and log a warning.
/// The one repair: an id written as a JSON number lost its leading zeros, which are
/// restored (`12345678901` → `"012345678901"`).
pub(super) fn account_id(a: &AsffFinding, raw: Option<&Value>) -> Result<String, SourceError> {
    let id = required("AwsAccountId", &a.aws_account_id)?;
    let numeric = raw.is_some_and(Value::is_number);
    let id = if numeric && id.len() < ACCOUNT_ID_LEN && id.bytes().all(|b| b.is_ascii_digit()) {
        format!("{id:0>ACCOUNT_ID_LEN$}")
    } else {
        id
    };
    if id.len() != ACCOUNT_ID_LEN || !id.bytes().all(|b| b.is_ascii_digit()) {
        tracing::warn!(account = %id, "AwsAccountId is not 12 digits; kept as given");
    }
    Ok(id)
}

/// The severity label, from the first usable of: `Severity.Label`,
/// `Severity.Normalized` (0 INFORMATIONAL, 1–39 LOW, 40–69 MEDIUM, 70–89 HIGH,
/// 90–100 CRITICAL) and `ProductFields["aws/securityhub/SeverityLabel"]`.
///
/// `Severity.Product` and `Severity.Original` alone are never mapped: they are on the
/// producing product's own scale (GuardDuty 5 is MEDIUM, an Inspector `"6.0"` is a
/// CVSS score), so any mapping would be a guess presented as fact.
pub(super) fn severity(a: &AsffFinding) -> Result<Severity, SourceError> {
    let sev = a.severity.clone().unwrap_or_default();
    let mut problems = Vec::new();
    if let Some(label) = non_blank(sev.label) {
        match label.parse::<Severity>() {
            Ok(s) => return Ok(s),
            Err(e) => problems.push(format!("Severity.Label: {e}")),
        }
    }
    if let Some(score) = sev.normalized {
        match Severity::from_normalized(score) {
            Some(s) => return Ok(s),
            None => problems.push(
                SourceError::OutOfRange {
                    field: "Severity.Normalized",
                    value: score.to_string(),
                    range: "0-100",
                }
                .to_string(),
            ),
        }
    }
    if let Some(label) = a.product_field(PF_SEVERITY_LABEL) {
        match label.parse::<Severity>() {
            Ok(s) => return Ok(s),
            Err(e) => problems.push(format!("ProductFields[{PF_SEVERITY_LABEL:?}]: {e}")),
        }
    }
    if problems.is_empty() {
        let scales = if sev.product.is_some() || sev.original.is_some() {
            " (Severity.Product/Original are product-specific scales and are not mapped)"
        } else {
            ""
        };
        Err(SourceError::NoValue {
            what: "severity",
            reason: format!(
                "Severity.Label, Severity.Normalized and \
                 ProductFields[{PF_SEVERITY_LABEL:?}] are all missing{scales}"
            ),
        })
    } else {
        Err(SourceError::NoValue {
            what: "usable severity",
            reason: problems.join("; "),
        })
    }
}

/// Every resource with a type and an id, in order; the first is the primary one.
/// Entries lacking either are dropped (and logged); none left is a rejection, as
/// ASFF requires at least one resource and lists and alerts are keyed on it.
pub(super) fn resources(a: &AsffFinding) -> Result<Vec<Resource>, SourceError> {
    let total = a.resources.len();
    let kept: Vec<Resource> = a.resources.iter().filter_map(resource).collect();
    if kept.len() < total {
        tracing::warn!(
            finding = a.id.as_deref().unwrap_or(""),
            dropped = total - kept.len(),
            "resources without Type or Id dropped"
        );
    }
    if kept.is_empty() {
        return Err(SourceError::Invalid {
            field: "Resources",
            reason: if total == 0 {
                "missing or empty (ASFF requires at least one resource)".into()
            } else {
                format!("none of the {total} entries has both Type and Id")
            },
        });
    }
    Ok(kept)
}

fn resource(r: &AsffResource) -> Option<Resource> {
    Some(Resource {
        resource_type: non_blank(r.r#type.clone())?,
        id: non_blank(r.id.clone())?,
        partition: non_blank(r.partition.clone()),
        region: non_blank(r.region.clone()),
    })
}

/// `Region`, else the primary resource's region, else the region in `ProductArn`.
pub(super) fn region(
    a: &AsffFinding,
    resources: &[Resource],
    product_arn: &str,
) -> Result<String, SourceError> {
    non_blank(a.region.clone())
        .or_else(|| resources.first().and_then(|r| r.region.clone()))
        .or_else(|| arn_part(product_arn, 3).map(str::to_string))
        .ok_or_else(|| SourceError::NoValue {
            what: "region",
            reason: format!(
                "no Region, no Resources[0].Region and none in ProductArn {product_arn:?}"
            ),
        })
}

/// Product and company names: the top-level fields, else Security Hub's copies in
/// `ProductFields` (then the product's own `ProductFields.ProductName`), else the `product/<company>/<name>` part of the ProductArn. When
/// the ARN has no such part the whole ARN names the product, so it is never blank.
pub(super) fn product(a: &AsffFinding, product_arn: &str) -> (String, Option<String>) {
    let from_arn = arn_part(product_arn, 5)
        .and_then(|res| res.strip_prefix("product/"))
        .and_then(|p| p.split_once('/'))
        .filter(|(company, name)| !company.is_empty() && !name.is_empty());
    let name = non_blank(a.product_name.clone())
        .or_else(|| a.product_field(PF_PRODUCT_NAME))
        .or_else(|| a.product_field(PF_OWN_PRODUCT_NAME))
        .or_else(|| from_arn.map(|(_, name)| name.to_string()))
        .unwrap_or_else(|| product_arn.to_string());
    let company = non_blank(a.company_name.clone())
        .or_else(|| a.product_field(PF_COMPANY_NAME))
        .or_else(|| from_arn.map(|(company, _)| company.to_string()));
    (name, company)
}

/// `Compliance.SecurityControlId`, else the standard-specific `ProductFields` ids.
pub(super) fn control_id(a: &AsffFinding) -> Option<String> {
    a.compliance
        .as_ref()
        .and_then(|c| non_blank(c.security_control_id.clone()))
        .or_else(|| PF_CONTROL_KEYS.iter().find_map(|k| a.product_field(k)))
}

/// `Workflow.Status`, else the deprecated `WorkflowState` (NEW, ASSIGNED and
/// IN_PROGRESS → NEW; DEFERRED → SUPPRESSED; RESOLVED → RESOLVED), else NEW.
pub(super) fn workflow_status(a: &AsffFinding) -> WorkflowStatus {
    let current = a
        .workflow
        .as_ref()
        .and_then(|w| w.status.as_deref())
        .and_then(|s| s.parse::<WorkflowStatus>().ok());
    let legacy = || match a.workflow_state.as_deref().map(str::trim) {
        Some("DEFERRED") => Some(WorkflowStatus::Suppressed),
        Some("RESOLVED") => Some(WorkflowStatus::Resolved),
        _ => None,
    };
    current.or_else(legacy).unwrap_or(WorkflowStatus::New)
}

/// `RecordState`, defaulting to ACTIVE (also for unknown values, which are logged).
pub(super) fn record_state(a: &AsffFinding) -> RecordState {
    match a.record_state.as_deref().map(str::trim) {
        Some(s) if s.eq_ignore_ascii_case("ARCHIVED") => RecordState::Archived,
        None | Some("") => RecordState::Active,
        Some(s) if s.eq_ignore_ascii_case("ACTIVE") => RecordState::Active,
        Some(other) => {
            tracing::warn!(record_state = other, "unknown RecordState; taken as ACTIVE");
            RecordState::Active
        }
    }
}

/// Part `n` of an ARN (`arn:partition:service:region:account:resource`), when non-empty.
fn arn_part(arn: &str, n: usize) -> Option<&str> {
    arn.splitn(6, ':').nth(n).filter(|p| !p.is_empty())
}
