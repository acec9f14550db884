//! OCSF 1.5 Detection Finding (class 2004, category 2 "Findings"), one per line.
//!
//! Names, requirements and enum values follow the OCSF 1.5.0 schema
//! (`events/findings/detection_finding.json` extending `finding.json`, the
//! `cloud` and `datetime` profiles, and the objects used here); every line loads
//! with `py-ocsf-models`' `DetectionFinding` (`scripts/check_ocsf.py`).
//!
//! OCSF 1.5's Detection Finding has no `compliance` attribute (only Compliance
//! Finding does), so a control's compliance — an OCSF `compliance` object — goes
//! under `unmapped.compliance`, where the schema puts what a class cannot carry.
//! With `raw`, the original document (the ASFF finding, the CloudTrail event…)
//! goes under `unmapped.original`.
//!
//! `finding_info.uid` is our id; the provider's own id (`asff_id`) goes under
//! `unmapped.asff_id`, so the OCSF reader (`sources/ocsf.rs`) can check that the id
//! is `short_id(metadata.product.uid, asff_id)` and read an export back onto the
//! same finding. (`finding_info.uid_alt` would be the schema's place, but
//! py-ocsf-models 0.10.0, which `scripts/check_ocsf.py` validates exports with,
//! does not know it.)

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use shared_types::{Finding, Severity, WorkflowStatus};

/// The schema version written in `metadata.version`.
pub const OCSF_VERSION: &str = "1.5.0";
/// Detection Finding.
pub const CLASS_UID: u32 = 2004;
/// Findings.
pub const CATEGORY_UID: u32 = 2;

/// Appends `f` as one OCSF Detection Finding line; `raw` adds the original document.
pub fn write_line(f: &Finding, raw: bool, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    serde_json::to_writer(&mut *out, &detection_finding(f, raw))?;
    out.push(b'\n');
    Ok(())
}

/// Milliseconds since the epoch (OCSF `timestamp_t`).
fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// RFC 3339 (OCSF `datetime_t`, the `datetime` profile's `*_dt` siblings).
fn datetime(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The top-level event.
#[derive(Debug, Serialize)]
pub struct DetectionFinding<'a> {
    activity_id: u8,
    activity_name: &'static str,
    category_uid: u32,
    category_name: &'static str,
    class_uid: u32,
    class_name: &'static str,
    type_uid: u32,
    type_name: String,
    severity_id: u8,
    severity: &'static str,
    status_id: u8,
    status: &'static str,
    time: i64,
    time_dt: String,
    message: &'a str,
    finding_info: FindingInfo<'a>,
    resources: Vec<ResourceDetails<'a>>,
    cloud: Cloud<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remediation: Option<Remediation<'a>>,
    metadata: Metadata<'a>,
    unmapped: Unmapped<'a>,
}

#[derive(Debug, Serialize)]
struct FindingInfo<'a> {
    uid: &'a str,
    title: &'a str,
    desc: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    types: &'a [String],
    created_time: i64,
    created_time_dt: String,
    modified_time: i64,
    modified_time_dt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_seen_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_seen_time_dt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_seen_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_seen_time_dt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_url: Option<&'a str>,
    analytic: Analytic<'a>,
}

/// The rule or control that produced the finding (`analytic.type_id` 1 = Rule).
#[derive(Debug, Serialize)]
struct Analytic<'a> {
    uid: &'a str,
    name: &'a str,
    type_id: u8,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Serialize)]
struct ResourceDetails<'a> {
    uid: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud_partition: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct Cloud<'a> {
    provider: &'static str,
    region: &'a str,
    account: Account<'a>,
}

/// An AWS account (`type_id` 10). OCSF calls `name` recommended; without an alias
/// the account id is its name.
#[derive(Debug, Serialize)]
struct Account<'a> {
    uid: &'a str,
    name: &'a str,
    type_id: u8,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Serialize)]
struct Remediation<'a> {
    desc: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<&'a str>,
}

#[derive(Debug, Serialize)]
struct Metadata<'a> {
    version: &'static str,
    profiles: [&'static str; 2],
    product: Product<'a>,
}

#[derive(Debug, Serialize)]
struct Product<'a> {
    name: &'a str,
    vendor_name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    uid: &'a str,
}

#[derive(Debug, Serialize)]
struct Compliance<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    control: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    standards: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_id: Option<u8>,
    status: &'a str,
}

#[derive(Debug, Serialize)]
struct Unmapped<'a> {
    /// The provider's id, from which `finding_info.uid` (our id) is derived.
    asff_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    compliance: Option<Compliance<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original: Option<&'a serde_json::Value>,
}

/// `severity_id` and its caption.
fn severity(s: Severity) -> (u8, &'static str) {
    match s {
        Severity::Informational => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// The Finding `status_id` and its caption: OCSF's statuses are Security Hub's
/// workflow statuses (NOTIFIED = someone is on it = In Progress).
fn status(s: WorkflowStatus) -> (u8, &'static str) {
    match s {
        WorkflowStatus::New => (1, "New"),
        WorkflowStatus::Notified => (2, "In Progress"),
        WorkflowStatus::Suppressed => (3, "Suppressed"),
        WorkflowStatus::Resolved => (4, "Resolved"),
    }
}

/// The compliance object's `status_id` for an ASFF compliance status
/// (`NOT_AVAILABLE` has no OCSF value: only the caption is kept).
fn compliance_status_id(s: &str) -> Option<u8> {
    match s {
        "PASSED" => Some(1),
        "WARNING" => Some(2),
        "FAILED" => Some(3),
        _ => None,
    }
}

/// The standards an ASFF control finding names: `Compliance.AssociatedStandards`,
/// else the `StandardsArn`/`StandardsGuideArn` product fields older findings carry;
/// for a finding read from OCSF, its own `compliance.standards`.
fn standards(raw: &serde_json::Value) -> Vec<String> {
    if let Some(ocsf) = raw
        .pointer("/compliance/standards")
        .and_then(|v| v.as_array())
    {
        return ocsf
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect();
    }
    let associated: Vec<String> = raw
        .pointer("/Compliance/AssociatedStandards")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.get("StandardsId")?.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if !associated.is_empty() {
        return associated;
    }
    ["StandardsArn", "StandardsGuideArn"]
        .iter()
        .filter_map(|k| raw.get("ProductFields")?.get(*k)?.as_str())
        .map(str::to_string)
        .take(1)
        .collect()
}

/// The OCSF event for `f`.
pub fn detection_finding(f: &Finding, raw: bool) -> DetectionFinding<'_> {
    // A finding its provider never updated is a creation; any later version an update.
    let (activity_id, activity_name) = if f.updated_at > f.created_at {
        (2, "Update")
    } else {
        (1, "Create")
    };
    let (severity_id, severity_name) = severity(f.severity);
    let (status_id, status_name) = status(f.workflow_status);
    let resources = if f.resources.is_empty() {
        vec![ResourceDetails {
            uid: &f.resource_id,
            kind: &f.resource_type,
            region: Some(&f.region),
            cloud_partition: None,
        }]
    } else {
        f.resources
            .iter()
            .map(|r| ResourceDetails {
                uid: &r.id,
                kind: &r.resource_type,
                region: r.region.as_deref(),
                cloud_partition: r.partition.as_deref(),
            })
            .collect()
    };
    let remediation = match (f.remediation_text.as_deref(), f.remediation_url.as_deref()) {
        (None, None) => None,
        (text, url) => Some(Remediation {
            // `desc` is required: a finding with only a link points at it.
            desc: text.or(url).unwrap_or_default(),
            references: url.into_iter().collect(),
        }),
    };
    let compliance = f.compliance_status.as_deref().map(|s| Compliance {
        control: f.control_id.as_deref(),
        standards: standards(&f.raw),
        status_id: compliance_status_id(s),
        status: s,
    });
    DetectionFinding {
        activity_id,
        activity_name,
        category_uid: CATEGORY_UID,
        category_name: "Findings",
        class_uid: CLASS_UID,
        class_name: "Detection Finding",
        type_uid: CLASS_UID * 100 + u32::from(activity_id),
        type_name: format!("Detection Finding: {activity_name}"),
        severity_id,
        severity: severity_name,
        status_id,
        status: status_name,
        time: millis(f.updated_at),
        time_dt: datetime(f.updated_at),
        message: &f.title,
        finding_info: FindingInfo {
            uid: &f.id,
            title: &f.title,
            desc: &f.description,
            types: &f.types,
            created_time: millis(f.created_at),
            created_time_dt: datetime(f.created_at),
            modified_time: millis(f.updated_at),
            modified_time_dt: datetime(f.updated_at),
            first_seen_time: f.first_observed_at.map(millis),
            first_seen_time_dt: f.first_observed_at.map(datetime),
            last_seen_time: f.last_observed_at.map(millis),
            last_seen_time_dt: f.last_observed_at.map(datetime),
            src_url: f.source_url.as_deref(),
            analytic: Analytic {
                uid: &f.generator_id,
                name: f.control_id.as_deref().unwrap_or(&f.generator_id),
                type_id: 1,
                kind: "Rule",
            },
        },
        resources,
        cloud: Cloud {
            provider: "AWS",
            region: &f.region,
            account: Account {
                uid: &f.account_id,
                name: &f.account_id,
                type_id: 10,
                kind: "AWS Account",
            },
        },
        remediation,
        metadata: Metadata {
            version: OCSF_VERSION,
            profiles: ["cloud", "datetime"],
            product: Product {
                name: &f.product_name,
                vendor_name: f.company_name.as_deref().unwrap_or(&f.product_name),
                uid: &f.product_arn,
            },
        },
        unmapped: Unmapped {
            asff_id: &f.asff_id,
            compliance,
            original: raw.then_some(&f.raw),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn sample() -> Finding {
        let mut f = crate::demo::generate(1, "2026-06-01T12:00:00Z".parse().unwrap(), 7)
            .next()
            .unwrap();
        f.severity = Severity::High;
        f.workflow_status = WorkflowStatus::Notified;
        f.compliance_status = Some("FAILED".into());
        f.control_id = Some("S3.8".into());
        f.raw = serde_json::json!({"Compliance": {"AssociatedStandards": [
            {"StandardsId": "standards/aws-foundational-security-best-practices/v/1.0.0"}]}});
        f
    }

    fn line(f: &Finding, raw: bool) -> Value {
        let mut out = Vec::new();
        write_line(f, raw, &mut out).unwrap();
        assert_eq!(out.last(), Some(&b'\n'));
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn class_severity_status_and_compliance_use_the_schema_values() {
        let f = sample();
        let v = line(&f, false);
        assert_eq!(v["class_uid"], 2004);
        assert_eq!(v["category_uid"], 2);
        assert_eq!(v["type_uid"], 200400 + v["activity_id"].as_u64().unwrap());
        assert_eq!(v["severity_id"], 4);
        assert_eq!(v["severity"], "High");
        assert_eq!(v["status_id"], 2);
        assert_eq!(v["status"], "In Progress");
        assert_eq!(v["finding_info"]["uid"], f.id.as_str());
        assert_eq!(v["finding_info"]["analytic"]["name"], "S3.8");
        assert_eq!(v["cloud"]["account"]["type_id"], 10);
        assert_eq!(v["metadata"]["version"], "1.5.0");
        assert_eq!(v["unmapped"]["compliance"]["status_id"], 3);
        assert_eq!(
            v["unmapped"]["compliance"]["standards"][0],
            "standards/aws-foundational-security-best-practices/v/1.0.0"
        );
        assert!(v["unmapped"].get("original").is_none());
        assert_eq!(v["unmapped"]["asff_id"], f.asff_id.as_str());
        assert_eq!(line(&f, true)["unmapped"]["original"], f.raw);
    }

    #[test]
    fn a_never_updated_finding_is_a_create_and_a_later_version_an_update() {
        let mut f = sample();
        f.updated_at = f.created_at;
        assert_eq!(line(&f, false)["activity_id"], 1);
        assert_eq!(line(&f, false)["type_uid"], 200401);
        f.updated_at = f.created_at + chrono::Duration::hours(1);
        assert_eq!(line(&f, false)["type_uid"], 200402);
    }
}
