//! GuardDuty → findings. Accepts `GuardDuty Finding` EventBridge events (also the
//! older ones without `detail-type`) and bare GuardDuty findings.
//!
//! Severity follows GuardDuty's own bands: 1.0–3.9 LOW, 4.0–6.9 MEDIUM, 7.0–8.9
//! HIGH, 9.0–10.0 CRITICAL (values under 1.0 are LOW: GuardDuty's scale starts at 0.1).

use super::{DocumentOutcome, Rejection, SourceError};
use crate::ids::short_id;
use crate::time::parse_timestamp;
use serde_json::Value;
use shared_types::{Finding, FindingSource, RecordState, Resource, Severity, WorkflowStatus};

/// The EventBridge `detail-type`.
pub const EVENT_TYPE: &str = "GuardDuty Finding";

/// Whether an object has the shape of a GuardDuty finding.
pub fn is_finding(v: &Value) -> bool {
    v.get("type").is_some_and(Value::is_string)
        && v.get("severity").is_some_and(Value::is_number)
        && v.get("service").is_some_and(Value::is_object)
        && v.get("id").is_some_and(Value::is_string)
}

/// GuardDuty's severity number → label, or `None` outside 0–10.
pub fn severity_label(score: f64) -> Option<Severity> {
    match score {
        s if !(0.0..=10.0).contains(&s) => None,
        s if s >= 9.0 => Some(Severity::Critical),
        s if s >= 7.0 => Some(Severity::High),
        s if s >= 4.0 => Some(Severity::Medium),
        _ => Some(Severity::Low),
    }
}

/// Whether GuardDuty generated the finding as a sample
/// (`service.additionalInfo.sample`, a boolean or its text).
pub fn is_sample(gd: &Value) -> bool {
    match gd.pointer("/service/additionalInfo/sample") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Normalizes an event (`detail` holds the finding) or a bare finding.
pub fn parse(doc: &Value, account_override: Option<&str>) -> DocumentOutcome {
    let (finding, envelope) = match doc.get("detail") {
        Some(d) => (d, Some(doc)),
        None => (doc, None),
    };
    let mut out = DocumentOutcome::default();
    match normalize(finding, envelope, doc, account_override) {
        Ok(f) => out.findings.push(f),
        Err(e) => out.rejected.push(Rejection {
            finding_id: text(finding, "id").map(str::to_string),
            reason: e.to_string(),
        }),
    }
    out
}

fn normalize(
    gd: &Value,
    envelope: Option<&Value>,
    raw: &Value,
    account_override: Option<&str>,
) -> Result<Finding, SourceError> {
    if !is_finding(gd) {
        return Err(SourceError::NotA {
            kind: "GuardDuty finding",
            reason: "needs id, type, severity and service",
        });
    }
    let from_env = |k: &str| envelope.and_then(|e| text(e, k));
    let account = account_override
        .or_else(|| text(gd, "accountId"))
        .or_else(|| from_env("account"))
        .ok_or(SourceError::Lacks {
            kind: "GuardDuty finding",
            field: "accountId",
        })?;
    let region = text(gd, "region")
        .or_else(|| from_env("region"))
        .unwrap_or("unknown");
    let id = text(gd, "id").unwrap_or_default();
    let score = gd
        .get("severity")
        .and_then(Value::as_f64)
        .unwrap_or(f64::NAN);
    let severity = severity_label(score).ok_or_else(|| SourceError::OutOfRange {
        field: "severity",
        value: score.to_string(),
        range: "0-10",
    })?;
    let time = |field: &'static str| {
        let v = gd.get(field).ok_or_else(|| SourceError::Invalid {
            field,
            reason: "missing".into(),
        })?;
        parse_timestamp(v).map_err(|source| SourceError::Time { field, source })
    };
    let created_at = time("createdAt")?;
    let updated_at = time("updatedAt")?;
    let asff_id = text(gd, "arn").map(str::to_string).unwrap_or_else(|| {
        format!("arn:aws:guardduty:{region}:{account}:detector/unknown/finding/{id}")
    });
    // The ProductArn Security Hub uses for GuardDuty, so the same finding imported
    // through Security Hub and received directly gets the same short id.
    let product_arn = format!("arn:aws:securityhub:{region}::product/aws/guardduty");
    let resource_type = gd
        .pointer("/resource/resourceType")
        .and_then(Value::as_str)
        .unwrap_or("Other");
    let resource_id = resource_id(gd, resource_type);
    let archived = gd.pointer("/service/archived").and_then(Value::as_bool) == Some(true);
    // Sample findings (CreateSampleFindings, or the console's "Generate sample
    // findings") describe no real activity: kept, at their band, but suppressed so
    // nobody is alerted. https://docs.aws.amazon.com/guardduty/latest/ug/sample_findings.html
    let sample = is_sample(gd);
    let observed = |k: &str| {
        gd.pointer(&format!("/service/{k}"))
            .and_then(|v| parse_timestamp(v).ok())
    };
    Ok(Finding {
        id: short_id(&product_arn, &asff_id),
        asff_id,
        product_arn,
        product_name: "GuardDuty".into(),
        company_name: Some("Amazon".into()),
        generator_id: text(gd, "type").unwrap_or_default().to_string(),
        source: FindingSource::Guardduty,
        account_id: account.to_string(),
        region: region.to_string(),
        title: text(gd, "title").unwrap_or("GuardDuty finding").to_string(),
        description: text(gd, "description").unwrap_or_default().to_string(),
        severity,
        workflow_status: if sample {
            WorkflowStatus::Suppressed
        } else {
            WorkflowStatus::New
        },
        record_state: if archived {
            RecordState::Archived
        } else {
            RecordState::Active
        },
        types: vec![format!("TTPs/{}", text(gd, "type").unwrap_or_default())],
        resource_type: format!("Aws{resource_type}"),
        resource_id: resource_id.clone(),
        resources: vec![Resource {
            resource_type: format!("Aws{resource_type}"),
            id: resource_id,
            partition: text(gd, "partition").map(str::to_string),
            region: Some(region.to_string()),
        }],
        compliance_status: None,
        control_id: None,
        remediation_text: Some(
            "Follow the GuardDuty remediation guide for this finding type.".into(),
        ),
        remediation_url: Some(
            "https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_remediate.html".into(),
        ),
        source_url: None,
        mitre: vec![],
        created_at,
        updated_at,
        first_observed_at: observed("eventFirstSeen"),
        last_observed_at: observed("eventLastSeen"),
        raw: raw.clone(),
        revision: 0,
        workflow_by_person: false,
    })
}

/// The id the resource block gives for its `resourceType` (sample findings fill
/// every block, so the type decides which one is meant).
fn resource_id(gd: &Value, resource_type: &str) -> String {
    let candidates: &[&str] = match resource_type {
        "Instance" => &["/resource/instanceDetails/instanceId"],
        "AccessKey" => &[
            "/resource/accessKeyDetails/userName",
            "/resource/accessKeyDetails/accessKeyId",
        ],
        "S3Bucket" => &[
            "/resource/s3BucketDetails/0/arn",
            "/resource/s3BucketDetails/0/name",
        ],
        "EKSCluster" => &["/resource/eksClusterDetails/arn"],
        _ => &[],
    };
    candidates
        .iter()
        .filter_map(|p| gd.pointer(p).and_then(Value::as_str))
        .find(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| resource_type.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guardduty_scores_map_to_its_documented_bands() {
        let cases = [
            (0.1, Some(Severity::Low)),
            (3.9, Some(Severity::Low)),
            (4.0, Some(Severity::Medium)),
            (6.9, Some(Severity::Medium)),
            (7.0, Some(Severity::High)),
            (8.9, Some(Severity::High)),
            (9.0, Some(Severity::Critical)),
            (10.0, Some(Severity::Critical)),
            (10.5, None),
            (-1.0, None),
            (f64::NAN, None),
        ];
        for (score, want) in cases {
            assert_eq!(severity_label(score), want, "{score}");
        }
    }

    #[test]
    fn sample_findings_keep_their_band_but_are_suppressed() {
        let finding = |additional: Value| {
            serde_json::json!({
                "id": "f1", "type": "Recon:EC2/PortProbeUnprotectedPort", "severity": 8.0,
                "accountId": "111122223333", "region": "us-east-1",
                "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z",
                "service": {"additionalInfo": additional}
            })
        };
        let one = |doc: Value| parse(&doc, None).findings.remove(0);
        let sample = one(finding(serde_json::json!({"sample": true})));
        assert_eq!(sample.severity, Severity::High);
        assert_eq!(sample.workflow_status, WorkflowStatus::Suppressed);
        let text = one(finding(serde_json::json!({"sample": "true"})));
        assert_eq!(text.workflow_status, WorkflowStatus::Suppressed);
        let real = one(finding(serde_json::json!({})));
        assert_eq!(real.workflow_status, WorkflowStatus::New);
    }
}
