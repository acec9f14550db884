//! The OCSF reader on published samples (`backend/tests/data/ocsf/`, origins in its
//! `MANIFEST.jsonl`) and on the mapping tables. Expected values are the samples'
//! own, written out here; the integration tests (`tests/it/ocsf/`) cover every
//! sample file through the pipeline.

use super::*;
use crate::ids::short_id;
use chrono::{DateTime, Utc};
use serde_json::json;
use shared_types::{RecordState, Severity, WorkflowStatus};

/// The new Security Hub's `Findings Imported V2` event published by Sumo Logic.
const SECURITY_HUB_V2_EVENT: &str = include_str!(
    "../../../tests/data/ocsf/sumologic__aws-security-hub-ocsf_findings-imported-v2.json"
);
/// Prowler's published JSON-OCSF sample for AWS.
const PROWLER_AWS: &str =
    include_str!("../../../tests/data/ocsf/prowler__example_output_aws.ocsf.json");

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("a test literal")
}

fn event() -> Value {
    serde_json::from_str(SECURITY_HUB_V2_EVENT).expect("the sample is JSON")
}

/// The sample's one finding, as a document of its own.
fn event_finding() -> Value {
    event()["detail"]["findings"][0].clone()
}

#[test]
fn a_findings_imported_v2_event_gives_its_finding_with_the_sample_values() {
    let out = parse_document(&event());
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let [f] = out.findings.as_slice() else {
        panic!("one finding: {:?}", out.findings)
    };
    // The event names the product `…::productv2/aws/guardduty`; it is keyed on the
    // product ARN the same finding has in ASFF, so both feeds give one finding.
    let product = "arn:aws:securityhub:us-east-1::product/aws/guardduty";
    let uid = "arn:aws:guardduty:us-east-1:869728294630:detector/b4c71b47fb852d3fc0e99a82fa2841aa/finding/06c95f0cfdfd3b579b977e20e9da1aa4";
    assert_eq!(f.asff_id, uid);
    assert_eq!(f.product_arn, product);
    assert_eq!(f.id, short_id(product, uid));
    assert_eq!(f.product_name, "GuardDuty");
    assert_eq!(f.company_name.as_deref(), Some("AWS"));
    assert_eq!(f.source, FindingSource::Ocsf);
    assert_eq!(f.account_id, "869728294964");
    assert_eq!(f.region, "us-east-1");
    assert_eq!(
        f.title,
        "An AWS CloudTrail trail Aws-Observability-e2esumoqeui was disabled."
    );
    assert!(f.description.starts_with(
        "AWS CloudTrail trail Aws-Observability-e2esumoqeui was disabled by cis_automation"
    ));
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(f.workflow_status, WorkflowStatus::Suppressed);
    assert_eq!(f.record_state, RecordState::Active);
    assert_eq!(f.types, ["Stealth:IAMUser/CloudTrailLoggingDisabled"]);
    assert_eq!(f.resource_type, "AwsIamAccessKey");
    assert_eq!(f.resource_id, "ASIA4U76YS3TEOA3O");
    assert_eq!(f.resources[0].partition.as_deref(), Some("aws"));
    assert_eq!(f.generator_id, "b4c71b47fb852d3fc0e99a82fa2841aa");
    assert_eq!(f.created_at, utc("2024-10-24T10:37:06.938Z"));
    assert_eq!(f.updated_at, utc("2025-07-22T03:02:34.272Z"));
    assert_eq!(f.first_observed_at, Some(utc("2024-10-24T10:21:26Z")));
    assert_eq!(f.last_observed_at, Some(utc("2025-07-22T02:52:14Z")));
    assert_eq!(
        f.remediation_url.as_deref(),
        Some("https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-iam.html#stealth-iam-cloudtrailloggingdisabled")
    );
    assert_eq!(
        f.remediation_text.as_deref(),
        Some("Please review the remediation guidance provided in the referenced documentation")
    );
    assert_eq!(f.compliance_status, None);
    // The raw document is the finding, not its envelope (as for ASFF events).
    assert_eq!(f.raw, event_finding());
}

#[test]
fn the_bare_finding_an_array_of_it_and_getfindingsv2_s_answer_give_the_same_finding() {
    let one = parse_document(&event()).findings;
    let finding = event_finding();
    for doc in [
        finding.clone(),
        json!([finding.clone()]),
        json!({"Findings": [finding.clone()], "NextToken": "x"}),
    ] {
        assert_eq!(parse_document(&doc).findings, one, "{doc:.80}");
    }
}

#[test]
fn prowler_times_are_epoch_seconds_and_its_zoneless_text_is_not_preferred() {
    let doc: Value = serde_json::from_str(PROWLER_AWS).unwrap();
    let f = normalize_finding(&doc[0]).unwrap();
    // created_time 1739539623 is seconds; its `_dt` "2025-02-14T14:27:03.913874"
    // is the same instant in Prowler's local time (UTC+1), written without a zone.
    assert_eq!(f.created_at, utc("2025-02-14T13:27:03Z"));
    // No modified_time: `time` (the same seconds) is the update time.
    assert_eq!(f.updated_at, utc("2025-02-14T13:27:03Z"));
    // Prowler's FAIL is compliance FAILED, as in Prowler's ASFF output.
    assert_eq!(f.compliance_status.as_deref(), Some("FAILED"));
    assert_eq!(f.generator_id, "accessanalyzer_enabled");
    // Its references hold a CLI command first; the link is the URL.
    assert_eq!(
        f.remediation_url.as_deref(),
        Some("https://docs.aws.amazon.com/IAM/latest/UserGuide/what-is-access-analyzer.html")
    );
    let manual = normalize_finding(&doc[1]).unwrap();
    assert_eq!(manual.compliance_status.as_deref(), Some("NOT_AVAILABLE"));
}

#[test]
fn severity_ids_win_over_captions_and_captions_serve_when_the_id_says_nothing() {
    let mut f = event_finding();
    let cases = [
        (json!(1), json!("Critical"), Some(Severity::Informational)),
        (json!(2), Value::Null, Some(Severity::Low)),
        (json!(3), Value::Null, Some(Severity::Medium)),
        (json!(4), Value::Null, Some(Severity::High)),
        (json!(5), Value::Null, Some(Severity::Critical)),
        (json!(6), Value::Null, Some(Severity::Critical)),
        (json!(0), json!("High"), Some(Severity::High)),
        (json!(99), json!("Fatal"), Some(Severity::Critical)),
        (Value::Null, json!("Medium"), Some(Severity::Medium)),
        (json!("4"), json!("Low"), Some(Severity::Low)),
        (json!(0), json!("Important"), None),
        (json!(7), Value::Null, None),
        (json!("High"), Value::Null, None),
        (Value::Null, Value::Null, None),
    ];
    for (id, caption, want) in cases {
        f["severity_id"] = id.clone();
        f["severity"] = caption.clone();
        let got = normalize_finding(&f).map(|f| f.severity);
        match want {
            Some(s) => assert_eq!(got, Ok(s), "{id} {caption}"),
            None => {
                let reason = got.unwrap_err().reason;
                assert!(
                    reason.starts_with("no ") && reason.contains("severity"),
                    "{id} {caption}: {reason}"
                );
            }
        }
    }
}

#[test]
fn status_ids_map_to_workflow_statuses_and_archived_or_closed_to_the_record_state() {
    let mut f = event_finding();
    let cases = [
        (json!(1), json!(2), WorkflowStatus::New, RecordState::Active),
        (
            json!(2),
            json!(2),
            WorkflowStatus::Notified,
            RecordState::Active,
        ),
        (
            json!(3),
            json!(2),
            WorkflowStatus::Suppressed,
            RecordState::Active,
        ),
        (
            json!(4),
            json!(2),
            WorkflowStatus::Resolved,
            RecordState::Active,
        ),
        (
            json!(5),
            json!(2),
            WorkflowStatus::New,
            RecordState::Archived,
        ),
        (
            json!(1),
            json!(3),
            WorkflowStatus::New,
            RecordState::Archived,
        ),
        (
            json!(0),
            json!(2),
            WorkflowStatus::Notified,
            RecordState::Active,
        ),
        (
            Value::Null,
            json!(2),
            WorkflowStatus::Notified,
            RecordState::Active,
        ),
        (
            json!("3"),
            json!(2),
            WorkflowStatus::Notified,
            RecordState::Active,
        ),
    ];
    for (id, activity, workflow, record) in cases {
        f["status_id"] = id.clone();
        // The caption, used only when the id says nothing: In Progress.
        f["status"] = json!("In Progress");
        f["activity_id"] = activity.clone();
        let got = normalize_finding(&f).unwrap();
        assert_eq!(
            (got.workflow_status, got.record_state),
            (workflow, record),
            "{id} {activity}"
        );
    }
}

#[test]
fn an_exported_finding_keeps_its_id_only_when_product_and_asff_id_hash_to_it() {
    let product = "arn:aws:securityhub:us-east-1::product/aws/guardduty";
    let asff_id =
        "prowler-rds_instance_minor_version_upgrade_enabled-ACCOUNT_ID-eu-west-1-b1ade474a";
    let ours = short_id(product, asff_id);
    let mut f = event_finding();
    f["finding_info"]["uid"] = json!(ours);
    f["unmapped"] = json!({"asff_id": asff_id});
    let read = normalize_finding(&f).unwrap();
    assert_eq!(
        (read.id.as_str(), read.asff_id.as_str()),
        (ours.as_str(), asff_id)
    );
    // The same 22-character uid without the id it is made of is a foreign uid.
    f["unmapped"] = json!({"asff_id": "another finding"});
    let foreign = normalize_finding(&f).unwrap();
    assert_eq!(foreign.id, short_id(product, &ours));
    assert_eq!(foreign.asff_id, ours);
    f["unmapped"] = json!({});
    assert_eq!(normalize_finding(&f).unwrap().id, short_id(product, &ours));
}

/// One change to a real finding.
type Change = Box<dyn Fn(&mut Value)>;

#[test]
fn unreadable_required_fields_reject_the_finding_naming_the_field() {
    let cases: [(&str, Change, &str); 10] = [
        (
            "uid missing",
            Box::new(|f| {
                f["finding_info"].as_object_mut().unwrap().remove("uid");
            }),
            "missing required finding_info.uid",
        ),
        (
            "uid a number",
            Box::new(|f| f["finding_info"]["uid"] = json!(17)),
            "finding_info.uid: expected a string, got a number",
        ),
        (
            "blank title",
            Box::new(|f| f["finding_info"]["title"] = json!("  ")),
            "missing required finding_info.title",
        ),
        (
            "cloud a string",
            Box::new(|f| f["cloud"] = json!("aws")),
            "cloud.account.uid: cloud is a string, not an object",
        ),
        (
            "no product",
            Box::new(|f| f["metadata"] = json!({"version": "1.5.0"})),
            "no product: metadata.product has neither a uid nor a name",
        ),
        (
            "class a string",
            Box::new(|f| f["class_uid"] = json!("2004")),
            "class_uid: expected an integer, got \"2004\"",
        ),
        (
            "vulnerability",
            Box::new(|f| f["class_uid"] = json!(2002)),
            "class_uid: 2002 (Vulnerability Finding) is not read",
        ),
        (
            "bad time",
            Box::new(|f| {
                f["finding_info"]["modified_time"] = json!("soon");
                f["finding_info"]["modified_time_dt"] = json!("later");
            }),
            "finding_info.modified_time: invalid timestamp \"soon\"",
        ),
        (
            "resources an object",
            Box::new(|f| f["resources"] = json!({"uid": "x"})),
            "resources: expected a list of resources, got an object",
        ),
        (
            "resources without ids",
            Box::new(|f| f["resources"] = json!([{"type": "AWS::IAM::AccessKey"}])),
            "resources: none of the 1 entries has a uid, uid_alt or name",
        ),
    ];
    for (what, change, reason) in cases {
        let mut f = event_finding();
        change(&mut f);
        let r = normalize_finding(&f).expect_err(what);
        assert!(r.reason.starts_with(reason), "{what}: {}", r.reason);
    }
}

#[test]
fn a_readable_form_of_a_time_is_enough_and_optional_fields_of_the_wrong_type_are_dropped() {
    let mut f = event_finding();
    f["finding_info"]["modified_time"] = json!("soon");
    f["finding_info"]["desc"] = json!(42);
    f["finding_info"]["last_seen_time"] = json!(true);
    f["finding_info"]["last_seen_time_dt"] = Value::Null;
    let read = normalize_finding(&f).unwrap();
    assert_eq!(read.updated_at, utc("2025-07-22T03:02:34.272Z"));
    assert_eq!(read.description, "");
    assert_eq!(read.last_observed_at, None);
}

#[test]
fn documents_that_are_not_findings_events_are_rejected_as_a_whole() {
    let mut wrong = event();
    wrong["detail"] = json!({"findings": "all"});
    let out = parse_document(&wrong);
    assert_eq!(
        out.rejected[0].reason,
        "Findings Imported V2 event: detail.findings must be a list, got a string"
    );
    let out = parse_document(&json!({"detail-type": "Findings Imported V2"}));
    assert_eq!(
        out.rejected[0].reason,
        "Findings Imported V2 event without detail.findings"
    );
    let out = parse_document(&json!([event_finding(), 3]));
    assert_eq!(out.findings.len(), 1);
    assert_eq!(
        out.rejected[0].reason,
        "array[1]: expected an OCSF finding object, got a number"
    );
}
