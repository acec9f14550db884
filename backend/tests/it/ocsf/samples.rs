//! Every published sample through the normalizer, its kind detected from its shape
//! as for any document: the findings it gives, with the sample's own values written
//! out here, or the rejection the sample's content calls for.

use super::*;
use chrono::{DateTime, Utc};
use cspm::ids::short_id;
use cspm::sources::{DocumentOutcome, Normalizer};
use shared_types::{Finding, FindingSource, RecordState, Severity, WorkflowStatus};
use std::collections::BTreeSet;

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("a test literal")
}

/// Every document of a sample file, normalized.
fn outcomes(name: &str) -> Vec<DocumentOutcome> {
    let n = Normalizer::default();
    let docs = if name.ends_with(".jsonl") {
        sample_lines(name)
    } else {
        vec![sample(name)]
    };
    docs.iter().map(|d| n.parse_document(d)).collect()
}

fn findings(name: &str) -> Vec<Finding> {
    let all: Vec<DocumentOutcome> = outcomes(name);
    for o in &all {
        assert!(o.rejected.is_empty(), "{name}: {:?}", o.rejected);
    }
    all.into_iter().flat_map(|o| o.findings).collect()
}

fn only(name: &str) -> Finding {
    let mut f = findings(name);
    assert_eq!(f.len(), 1, "{name}");
    f.remove(0)
}

#[test]
fn the_manifest_names_every_sample_file_with_its_origin_and_license() {
    let manifest: Vec<Value> = sample_lines("MANIFEST.jsonl");
    let listed: BTreeSet<String> = manifest
        .iter()
        .map(|m| m["file"].as_str().unwrap().to_string())
        .collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(data_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "MANIFEST.jsonl")
        .collect();
    assert_eq!(listed, on_disk);
    for m in &manifest {
        for key in ["kind", "source_url", "license", "notes"] {
            assert!(m[key].as_str().is_some_and(|s| !s.is_empty()), "{m}: {key}");
        }
        // A repository sample names the commit it was taken at.
        if m.get("repo").is_some() {
            assert!(m["commit"].as_str().is_some_and(|c| c.len() == 40), "{m}");
        }
    }
}

/// `(file, findings, distinct ids, rejection reasons)`: what each sample's content
/// calls for (see its MANIFEST notes).
const EXPECTED: [(&str, usize, usize, &[&str]); 13] = [
    // Prowler's samples replace every finding uid but one by "<finding_uid>": with
    // the same product, those findings are one finding to us, in every file.
    ("prowler__example_output_aws.ocsf.json", 5, 1, &[]),
    ("prowler__example_output_azure.ocsf.json", 5, 2, &[]),
    ("prowler__example_output_gcp.ocsf.json", 5, 1, &[]),
    (
        "prowler__example_output_kubernetes.ocsf.json",
        0,
        0,
        &["missing required cloud.account.uid"; 6],
    ),
    (OCSF_EXAMPLES_GUARDDUTY, 1, 1, &[]),
    (OCSF_EXAMPLES_PCI, 1, 1, &[]),
    (
        "ocsf-examples__inspector.ocsf.json",
        0,
        0,
        &["class_uid: 2002 (Vulnerability Finding) is not read: only Detection Finding (2004) and Compliance Finding (2003) are read"],
    ),
    (
        "ocsf-examples__cloudtrail_account_change.ocsf.json",
        0,
        0,
        &["class_uid: 6003 is not an OCSF finding (the Findings category is 2001-2099): only Detection Finding (2004) and Compliance Finding (2003) are read"],
    ),
    (
        "ocsf-examples__okta_detection_finding.ocsf.json",
        0,
        0,
        &["missing required cloud.account.uid"],
    ),
    (SECURITY_HUB_V2_EVENT, 1, 1, &[]),
    (SECURITY_HUB_V2_EXPOSURE, 1, 1, &[]),
    (SECURITY_HUB_V2_COVERAGE, 1, 1, &[]),
    (SECURITY_HUB_V2_CONTROLS, 4, 4, &[]),
];

#[test]
fn every_sample_is_read_or_rejected_with_the_reason_its_content_calls_for() {
    for (name, count, distinct, reasons) in EXPECTED {
        let all = outcomes(name);
        let got: Vec<&str> = all
            .iter()
            .flat_map(|o| &o.rejected)
            .map(|r| r.reason.as_str())
            .collect();
        assert_eq!(got, reasons, "{name}");
        let found: Vec<&Finding> = all.iter().flat_map(|o| &o.findings).collect();
        assert_eq!(found.len(), count, "{name}");
        let ids: BTreeSet<&str> = found.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids.len(), distinct, "{name}");
        for f in found {
            assert_eq!(f.source, FindingSource::Ocsf, "{name}");
            assert_eq!(f.id, short_id(&f.product_arn, &f.asff_id), "{name}");
            assert!(cspm::ids::is_short_id(&f.id), "{name}");
        }
    }
    // The rejected findings are named by their uid when they have one.
    let k8s = outcomes("prowler__example_output_kubernetes.ocsf.json");
    assert!(k8s[0]
        .rejected
        .iter()
        .all(|r| r.finding_id.as_deref() == Some("<finding_uid>")));
}

#[test]
fn every_sample_file_is_listed_in_the_expectations() {
    let listed: BTreeSet<&str> = EXPECTED.iter().map(|e| e.0).collect();
    let manifest: BTreeSet<String> = sample_lines("MANIFEST.jsonl")
        .iter()
        .map(|m| m["file"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        listed,
        manifest.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
}

#[test]
fn prowler_findings_carry_the_sample_values_and_its_check_results() {
    let aws = findings("prowler__example_output_aws.ocsf.json");
    // (title, severity, compliance from status_code, resource uid, check id)
    let want = [
        (
            "Check if IAM Access Analyzer is enabled",
            Severity::Low,
            "FAILED",
            "<resource_uid>",
            "accessanalyzer_enabled",
        ),
        (
            "Maintain current contact details.",
            Severity::Medium,
            "NOT_AVAILABLE",
            "arn:aws:iam::<account_uid>:root",
            "account_maintain_current_contact_details",
        ),
        (
            "Maintain different contact details to security, billing and operations.",
            Severity::Medium,
            "FAILED",
            "arn:aws:iam::<account_uid>:root",
            "account_maintain_different_contact_details_to_security_billing_and_operations",
        ),
    ];
    for (f, (title, severity, compliance, resource, check)) in aws.iter().zip(want) {
        assert_eq!(f.title, title);
        assert_eq!(f.severity, severity, "{title}");
        assert_eq!(f.compliance_status.as_deref(), Some(compliance), "{title}");
        assert_eq!(f.resource_id, resource, "{title}");
        assert_eq!(f.resource_type, "Other", "{title}");
        assert_eq!(f.generator_id, check, "{title}");
        assert_eq!(f.account_id, "<account_uid>");
        assert_eq!(f.region, "<region>");
        assert_eq!(f.product_arn, "prowler");
        assert_eq!(f.product_name, "Prowler");
        assert_eq!(f.asff_id, "<finding_uid>");
        assert_eq!(f.workflow_status, WorkflowStatus::New);
        assert_eq!(f.resources[0].partition.as_deref(), Some("aws"));
        // 1739539623 seconds; the `_dt` text is the same instant in local time.
        assert_eq!(f.created_at, utc("2025-02-14T13:27:03Z"));
        assert_eq!(f.updated_at, utc("2025-02-14T13:27:03Z"));
    }
    let azure = findings("prowler__example_output_azure.ocsf.json");
    assert_eq!(
        azure[3].asff_id,
        "prowler-azure-defender_container_images_scan_enabled-<subscription_uid>-global-Defender plan for Containers"
    );
    assert_eq!(
        (azure[3].account_id.as_str(), azure[3].region.as_str()),
        ("<subscription_uid>", "global")
    );
    assert_eq!(azure[4].severity, Severity::High);
    assert_eq!(azure[0].resource_type, "Microsoft.Insights/components");
    let gcp = findings("prowler__example_output_gcp.ocsf.json");
    let results: Vec<_> = gcp
        .iter()
        .map(|f| (f.severity, f.compliance_status.as_deref()))
        .collect();
    assert_eq!(
        results,
        [
            (Severity::Medium, Some("PASSED")),
            (Severity::Medium, Some("FAILED")),
            (Severity::Critical, Some("PASSED")),
            (Severity::Critical, Some("PASSED")),
            (Severity::Critical, Some("FAILED")),
        ]
    );
}

#[test]
fn security_hub_v2_control_findings_keep_their_control_compliance_and_status() {
    let f = findings(SECURITY_HUB_V2_CONTROLS);
    let product = "arn:aws:securityhub:us-east-2::product/aws/securityhub";
    // (control, compliance, workflow, severity)
    let want = [
        (
            "SQS.3",
            "PASSED",
            WorkflowStatus::Resolved,
            Severity::Informational,
        ),
        ("SQS.1", "FAILED", WorkflowStatus::New, Severity::Medium),
        (
            "IAM.1",
            "PASSED",
            WorkflowStatus::Resolved,
            Severity::Informational,
        ),
        (
            "KMS.1",
            "PASSED",
            WorkflowStatus::Resolved,
            Severity::Informational,
        ),
    ];
    for (f, (control, compliance, workflow, severity)) in f.iter().zip(want) {
        assert_eq!(f.control_id.as_deref(), Some(control));
        assert_eq!(
            f.generator_id, control,
            "no analytic uid: the control names the generator"
        );
        assert_eq!(
            f.compliance_status.as_deref(),
            Some(compliance),
            "{control}"
        );
        assert_eq!(f.workflow_status, workflow, "{control}");
        assert_eq!(f.severity, severity, "{control}");
        assert_eq!(f.product_arn, product);
        assert_eq!(f.product_name, "Security Hub");
        assert_eq!(f.account_id, "123456789012");
        // IAM resources say "global"; the finding's region is the cloud's.
        assert_eq!(f.region, "us-east-2", "{control}");
        assert!(f.asff_id.starts_with(&format!(
            "arn:aws:securityhub:us-east-2:123456789012:security-control/{control}/finding/"
        )));
        assert_eq!(
            f.remediation_url.as_deref(),
            Some(
                format!("https://docs.aws.amazon.com/console/securityhub/{control}/remediation")
                    .as_str()
            )
        );
    }
    assert_eq!(f[0].resource_type, "AwsSqsQueue");
    assert_eq!(
        f[0].resource_id,
        "https://sqs.us-east-2.amazonaws.com/123456789012/securityhubfinding"
    );
    assert_eq!(f[2].resources[0].region.as_deref(), Some("global"));
    assert_eq!(f[1].created_at, utc("2025-09-19T09:17:27.903Z"));
    assert_eq!(
        f[1].first_observed_at,
        Some(utc("2025-09-19T09:17:17.473Z"))
    );
}

#[test]
fn the_coverage_finding_is_a_passing_compliance_finding_on_the_account() {
    let f = only(SECURITY_HUB_V2_COVERAGE);
    assert_eq!(
        f.asff_id,
        "8c4b7f689d35377f5ac8d5f317c620058b54029ee4a56a644e6e88c87ac19a60"
    );
    assert_eq!(
        f.product_arn,
        "arn:aws:securityhub:us-east-1::product/aws/securityhub-coverage"
    );
    assert_eq!(f.compliance_status.as_deref(), Some("PASSED"));
    assert_eq!(f.control_id, None);
    assert_eq!(f.severity, Severity::Informational);
    assert_eq!(
        (f.resource_type.as_str(), f.resource_id.as_str()),
        ("AwsAccount", "123456789012")
    );
    assert_eq!(f.generator_id, "GuardDuty Foundational Coverage Finding");
    assert_eq!(f.created_at, utc("2026-04-29T17:05:08.532Z"));
    assert_eq!(f.updated_at, utc("2026-09-17T16:31:21.756Z"));
    assert_eq!(f.last_observed_at, Some(utc("2026-09-17T16:31:21.756Z")));
    assert_eq!(f.first_observed_at, None);
}

#[test]
fn the_documented_exposure_finding_takes_its_update_time_from_time() {
    let f = only(SECURITY_HUB_V2_EXPOSURE);
    // The page spells the modified time "finding.info.modified_time_dt", which is
    // no attribute: the event's `time` is the update time.
    assert_eq!(f.updated_at, utc("2024-11-15T21:39:26.337Z"));
    assert_eq!(f.created_at, utc("2024-11-15T21:39:26.337224100Z"));
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.workflow_status, WorkflowStatus::New);
    assert_eq!(f.product_name, "Security Hub Exposure Analysis");
    assert_eq!(f.company_name.as_deref(), Some("Amazon"));
    assert_eq!(f.resource_type, "AwsLambdaFunction");
    assert_eq!(
        f.resource_id,
        "arn:aws:lambda:us-east-1:123456789012:application-function"
    );
    assert_eq!(f.types, ["Exposure/Potential Impact/Resource Hijacking"]);
    assert_eq!(f.generator_id, "0.0.1");
    // Wrapped in the envelope the EventBridge page documents, it is the same finding.
    let n = Normalizer::default();
    let wrapped = n.parse_document(&documented_envelope(sample(SECURITY_HUB_V2_EXPOSURE)));
    assert_eq!(wrapped.findings, vec![f]);
}

#[test]
fn ocsf_1_1_findings_read_zoned_text_times_captions_and_a_single_resource() {
    let gd = only(OCSF_EXAMPLES_GUARDDUTY);
    assert_eq!(gd.created_at, utc("2023-09-19T15:05:22.487Z"));
    assert_eq!(gd.updated_at, utc("2023-09-19T15:05:22.487Z"));
    assert_eq!(gd.first_observed_at, Some(utc("2023-09-19T14:55:09Z")));
    assert_eq!(gd.severity, Severity::Low);
    // No status_id: the caption "New".
    assert_eq!(gd.workflow_status, WorkflowStatus::New);
    assert_eq!(gd.record_state, RecordState::Active);
    assert_eq!(gd.resource_type, "AwsIamAccessKey");
    assert_eq!(gd.resource_id, "AWS::IAM::AccessKey:ASIATMJPC7EXAMPLE");
    assert_eq!(
        gd.product_arn,
        "arn:aws:securityhub:us-east-2::product/aws/guardduty"
    );
    assert_eq!(gd.company_name.as_deref(), Some("Amazon"));
    assert!(gd
        .source_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://us-east-2.console.aws.amazon.com/guardduty/")));
    let pci = only(OCSF_EXAMPLES_PCI);
    // compliance.status in ASFF's word, no status_id.
    assert_eq!(pci.compliance_status.as_deref(), Some("FAILED"));
    assert_eq!(pci.control_id.as_deref(), Some("Config.1"));
    assert_eq!(pci.generator_id, "Config.1");
    // Compliance Finding 1.1's single `resource`.
    assert_eq!(
        (pci.resource_type.as_str(), pci.resource_id.as_str()),
        ("AwsAccount", "AWS::::Account:111111111111")
    );
    assert_eq!(pci.created_at, utc("2023-01-13T20:08:44.967Z"));
    assert_eq!(pci.updated_at, utc("2023-07-21T18:11:53.060Z"));
    assert_eq!(pci.severity, Severity::Medium);
    assert_eq!(
        pci.remediation_url.as_deref(),
        Some("https://docs.aws.amazon.com/console/securityhub/Config.1/remediation")
    );
}
