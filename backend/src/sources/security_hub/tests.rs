//! Rule-by-rule tests. The base finding is `asff/sharr__afsbp-s3.8.json` from the
//! corpus, trimmed to the fields we read; each test changes only the field under test.
//! Whole real documents are exercised by `tests/it/corpus_asff.rs`.

use super::*;
use serde_json::json;
use shared_types::{RecordState, Severity, WorkflowStatus};

const PRODUCT_ARN: &str = "arn:aws:securityhub:us-east-1::product/aws/securityhub";
const ASFF_ID: &str = "arn:aws:securityhub:us-east-1:111111111111:subscription/aws-foundational-security-best-practices/v/1.0.0/S3.8/finding/e0182181-9218-420f-bef2-ed09ed230c59";

fn base() -> Value {
    json!({
        "SchemaVersion": "2018-10-08",
        "Id": ASFF_ID,
        "ProductArn": PRODUCT_ARN,
        "GeneratorId": "aws-foundational-security-best-practices/v/1.0.0/S3.8",
        "AwsAccountId": "111111111111",
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards/AWS-Foundational-Security-Best-Practices"],
        "FirstObservedAt": "2021-07-14T17:06:07.284Z",
        "LastObservedAt": "2022-02-21T09:49:14.792Z",
        "CreatedAt": "2021-07-14T17:06:07.284Z",
        "UpdatedAt": "2022-02-21T09:49:08.504Z",
        "Severity": {"Product": 70, "Label": "HIGH", "Normalized": 70, "Original": "HIGH"},
        "Title": "S3.8 S3 Block Public Access setting should be enabled at the bucket-level",
        "Description": "This control checks if Amazon S3 buckets have bucket level public access blocks applied.",
        "Remediation": {"Recommendation": {
            "Text": "For directions on how to fix this issue, consult the AWS Security Hub Foundational Security Best Practices documentation.",
            "Url": "https://docs.aws.amazon.com/console/securityhub/S3.8/remediation"}},
        "ProductFields": {"ControlId": "S3.8", "aws/securityhub/ProductName": "Security Hub", "aws/securityhub/CompanyName": "AWS"},
        "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::example", "Partition": "aws", "Region": "us-east-1"}],
        "Compliance": {"Status": "FAILED"},
        "WorkflowState": "NEW",
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE"
    })
}

/// The base finding with `path` (`/`-separated keys) set to `value`, or removed when `None`.
fn with(path: &str, value: Option<Value>) -> Value {
    let mut v = base();
    let mut keys: Vec<&str> = path.split('/').collect();
    let last = keys.pop().unwrap_or_default();
    let mut cur = &mut v;
    for k in keys {
        cur = &mut cur[k];
    }
    if let Some(obj) = cur.as_object_mut() {
        match value {
            Some(x) => obj.insert(last.to_string(), x),
            None => obj.remove(last),
        };
    }
    v
}

fn ok(v: &Value) -> Finding {
    match normalize_finding(v) {
        Ok(f) => f,
        Err(r) => panic!("rejected: {}", r.reason),
    }
}

fn reason(v: &Value) -> String {
    match normalize_finding(v) {
        Ok(f) => panic!("accepted {}", f.asff_id),
        Err(r) => r.reason,
    }
}

#[test]
fn base_finding_normalizes_every_field() {
    let f = ok(&base());
    assert_eq!(f.id, short_id(PRODUCT_ARN, ASFF_ID));
    assert_eq!(f.asff_id, ASFF_ID);
    assert_eq!(
        (f.product_name.as_str(), f.company_name.as_deref()),
        ("Security Hub", Some("AWS"))
    );
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.region, "us-east-1");
    assert_eq!(
        (f.resource_type.as_str(), f.resource_id.as_str()),
        ("AwsS3Bucket", "arn:aws:s3:::example")
    );
    assert_eq!(
        f.resources.first().and_then(|r| r.partition.as_deref()),
        Some("aws")
    );
    assert_eq!(f.control_id.as_deref(), Some("S3.8"));
    assert_eq!(f.compliance_status.as_deref(), Some("FAILED"));
    assert_eq!(f.updated_at.to_rfc3339(), "2022-02-21T09:49:08.504+00:00");
    assert_eq!(
        f.first_observed_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2021-07-14T17:06:07.284+00:00")
    );
    assert_eq!(
        f.remediation_url.as_deref(),
        Some("https://docs.aws.amazon.com/console/securityhub/S3.8/remediation")
    );
    assert_eq!(f.source, FindingSource::SecurityHub);
    assert_eq!(f.raw, base());
}

#[test]
fn missing_required_fields_are_named_in_the_reason() {
    for field in [
        "Id",
        "ProductArn",
        "GeneratorId",
        "Title",
        "AwsAccountId",
        "CreatedAt",
        "UpdatedAt",
    ] {
        let r = reason(&with(field, None));
        assert_eq!(r, format!("missing required {field}"), "{field}");
        assert_eq!(reason(&with(field, Some(json!(null)))), r, "{field} null");
    }
    assert_eq!(
        reason(&with("Title", Some(json!("  ")))),
        "missing required Title"
    );
}

#[test]
fn invalid_required_timestamps_reject_with_field_and_value() {
    let r = reason(&with("UpdatedAt", Some(json!("Jan 01, 2019 0:00:00 PM"))));
    assert_eq!(
        r,
        r#"UpdatedAt: invalid timestamp "Jan 01, 2019 0:00:00 PM""#
    );
    let r = reason(&with("CreatedAt", Some(json!("2024-01-01T122:00:00Z"))));
    assert!(r.starts_with("CreatedAt: ") && r.contains("T122"), "{r}");
}

#[test]
fn invalid_observation_times_are_dropped_not_fatal() {
    let f = ok(&with(
        "FirstObservedAt",
        Some(json!("Jan 01, 2019 0:00:00 PM")),
    ));
    assert_eq!(f.first_observed_at, None);
    assert!(f.last_observed_at.is_some());
    let f = ok(&with("LastObservedAt", Some(json!(""))));
    assert_eq!(f.last_observed_at, None);
}

#[test]
fn severity_comes_from_label_then_normalized_then_product_fields() {
    let v = with("Severity", Some(json!({"Label": "low", "Normalized": 90})));
    assert_eq!(ok(&v).severity, Severity::Low);
    let v = with("Severity", Some(json!({"Normalized": 90, "Product": 1})));
    assert_eq!(ok(&v).severity, Severity::Critical);
    let v = with(
        "Severity",
        Some(json!({"Label": "SEVERE", "Normalized": 45})),
    );
    assert_eq!(ok(&v).severity, Severity::Medium);
    let mut v = with("Severity", Some(json!({"Product": 0})));
    v["ProductFields"]["aws/securityhub/SeverityLabel"] = json!("INFORMATIONAL");
    assert_eq!(ok(&v).severity, Severity::Informational);
}

#[test]
fn product_scale_severity_alone_is_rejected() {
    let r = reason(&with(
        "Severity",
        Some(json!({"Product": 5, "Original": "6.0"})),
    ));
    assert!(
        r.starts_with("no severity:") && r.contains("product-specific"),
        "{r}"
    );
    assert!(reason(&with("Severity", None)).starts_with("no severity:"));
    let r = reason(&with(
        "Severity",
        Some(json!({"Label": "SEVERE", "Normalized": 101})),
    ));
    assert!(
        r.contains("\"SEVERE\"") && r.contains("101 is outside 0-100"),
        "{r}"
    );
}

#[test]
fn workflow_status_falls_back_to_the_old_workflow_state() {
    let cases = [
        (Some("NOTIFIED"), "NEW", WorkflowStatus::Notified),
        (Some("RESOLVED"), "NEW", WorkflowStatus::Resolved),
        (None, "DEFERRED", WorkflowStatus::Suppressed),
        (None, "RESOLVED", WorkflowStatus::Resolved),
        (None, "ASSIGNED", WorkflowStatus::New),
        (None, "IN_PROGRESS", WorkflowStatus::New),
        (Some("bogus"), "DEFERRED", WorkflowStatus::Suppressed),
    ];
    for (status, state, want) in cases {
        let mut v = with("Workflow", status.map(|s| json!({"Status": s})));
        v["WorkflowState"] = json!(state);
        assert_eq!(ok(&v).workflow_status, want, "{status:?}/{state}");
    }
    let mut v = with("Workflow", None);
    v.as_object_mut().map(|o| o.remove("WorkflowState"));
    assert_eq!(ok(&v).workflow_status, WorkflowStatus::New);
    assert_eq!(
        ok(&with("RecordState", Some(json!("ARCHIVED")))).record_state,
        RecordState::Archived
    );
    assert_eq!(
        ok(&with("RecordState", None)).record_state,
        RecordState::Active
    );
}

#[test]
fn odd_account_ids_are_kept_and_numbers_regain_leading_zeros() {
    assert_eq!(
        ok(&with("AwsAccountId", Some(json!("ACCOUNT_ID")))).account_id,
        "ACCOUNT_ID"
    );
    assert_eq!(
        ok(&with("AwsAccountId", Some(json!("4562123123011")))).account_id,
        "4562123123011"
    );
    assert_eq!(
        ok(&with("AwsAccountId", Some(json!(12345678901_i64)))).account_id,
        "012345678901"
    );
}

#[test]
fn names_and_region_fall_back_to_product_fields_resource_and_arn() {
    let mut v = with("ProductFields", None);
    v["ProductArn"] =
        json!("arn:aws:securityhub:eu-west-1:644160558196:product/644160558196/default");
    v.as_object_mut().map(|o| o.remove("Region"));
    v["Resources"][0]
        .as_object_mut()
        .map(|o| o.remove("Region"));
    let f = ok(&v);
    assert_eq!(
        (f.product_name.as_str(), f.company_name.as_deref()),
        ("default", Some("644160558196"))
    );
    assert_eq!(f.region, "eu-west-1");
    assert_eq!(f.control_id, None);
    let f = ok(&with("Region", None));
    assert_eq!(f.region, "us-east-1");
}

#[test]
fn findings_without_usable_resources_are_rejected() {
    assert!(reason(&with("Resources", Some(json!([])))).starts_with("Resources: missing or empty"));
    let r = reason(&with(
        "Resources",
        Some(json!([{"Type": "AwsS3Bucket"}, "x"])),
    ));
    assert_eq!(r, "Resources: none of the 1 entries has both Type and Id");
    let v = with(
        "Resources",
        Some(json!([{"Id": "x"}, {"Type": "Other", "Id": "10.0.0.1"}])),
    );
    assert_eq!(ok(&v).resource_id, "10.0.0.1");
}

#[test]
fn documents_of_other_shapes_get_one_specific_rejection() {
    let cases = [
        (
            json!("text"),
            "expected a JSON object or array, got a string",
        ),
        (
            json!({"Records": []}),
            "no Findings, detail.findings or SchemaVersion/Id",
        ),
        (json!({"Findings": {"Id": "x"}}), "Findings must be a list"),
        (
            json!({"detail-type": "AWS API Call via CloudTrail", "detail": {}}),
            "detail-type \"AWS API Call via CloudTrail\"",
        ),
        (
            json!({"detail-type": "Security Hub Findings - Imported", "detail": {}}),
            "without detail.findings",
        ),
    ];
    for (doc, want) in cases {
        let out = parse_document(&doc);
        assert!(out.findings.is_empty(), "{doc}");
        assert_eq!(out.rejected.len(), 1, "{doc}");
        let got = out
            .rejected
            .first()
            .map(|r| r.reason.as_str())
            .unwrap_or_default();
        assert!(got.contains(want), "{doc}: {got}");
    }
}

#[test]
fn each_finding_of_a_list_stands_alone() {
    let out = parse_document(&json!({"Findings": [base(), 7, with("Id", None)]}));
    assert_eq!(out.findings.len(), 1);
    let reasons: Vec<&str> = out.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "Findings[1]: expected a finding object, got a number",
            "finding at index 2: missing required Id"
        ]
    );
    let out = parse_document(&json!([]));
    assert!(out.findings.is_empty() && out.rejected.is_empty() && out.note.is_some());
}
