//! Every file of `../shared/corpus/asff` and `asff-envelope` either yields findings or
//! is rejected for a reason written out below; a handful of representative files are
//! checked value by value.

use chrono::{DateTime, Utc};
use cspm::sources::security_hub::{normalize_finding, parse_document};
use cspm::sources::DocumentOutcome;
use serde_json::Value;
use shared_types::{Finding, RecordState, Severity, WorkflowStatus};
use std::path::Path;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus");
const FOLDERS: [&str; 2] = ["asff", "asff-envelope"];

/// How many `.json` files the two folders hold; guards against a wrong path or an
/// empty folder silently passing.
const FILE_COUNT: usize = 67;

/// Files rejected as a whole or in part: (file, substring of the reason).
const EXPECTED_REJECTIONS: &[(&str, &str)] = &[
    // A negative-test fixture of Automated Security Response: GeneratorId removed.
    (
        "asff-envelope/sharr__CIS-bad.json",
        "missing required GeneratorId",
    ),
];

/// Valid documents that hold no findings by design: (file, substring of the note).
const EXPECTED_NOTES: &[(&str, &str)] = &[(
    "asff-envelope/awsdocs__securityhub_securityhub-cwe-event-formats_Security-Hub-Insight-Results.json",
    "Security Hub Insight Results event",
)];

/// Files holding more than one finding: (file, number of findings).
const MULTI_FINDING: &[(&str, usize)] = &[
    ("asff-envelope/sharr__AFSBP-iam.6.json", 2),
    ("asff-envelope/sharr__CIS_1-6-multi-select.json", 2),
];

fn load(rel: &str) -> Result<Value, String> {
    let path = Path::new(CORPUS).join(rel);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{rel}: unreadable: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{rel}: not JSON: {e}"))
}

fn parse(rel: &str) -> DocumentOutcome {
    match load(rel) {
        Ok(doc) => parse_document(&doc),
        Err(e) => panic!("{e}"),
    }
}

fn only_finding(rel: &str) -> Finding {
    let mut out = parse(rel);
    assert!(out.rejected.is_empty(), "{rel}: {:?}", out.rejected);
    assert_eq!(out.findings.len(), 1, "{rel}");
    out.findings.remove(0)
}

fn normalize(rel: &str, finding: &Value) -> Finding {
    match normalize_finding(finding) {
        Ok(f) => f,
        Err(r) => panic!("{rel}: rejected: {}", r.reason),
    }
}

fn utc(s: &str) -> DateTime<Utc> {
    match DateTime::parse_from_rfc3339(s) {
        Ok(t) => t.with_timezone(&Utc),
        Err(e) => panic!("bad literal {s}: {e}"),
    }
}

fn corpus_files() -> Vec<String> {
    let mut files = Vec::new();
    for folder in FOLDERS {
        let dir = Path::new(CORPUS).join(folder);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") {
                files.push(format!("{folder}/{name}"));
            }
        }
    }
    files.sort();
    files
}

fn lookup<'a, T: Copy>(table: &'a [(&'a str, T)], rel: &str) -> Option<T> {
    table.iter().find(|(f, _)| *f == rel).map(|(_, v)| *v)
}

/// What is wrong with one file's outcome, compared with the tables above.
fn check_file(rel: &str, out: &DocumentOutcome, started: DateTime<Utc>) -> Vec<String> {
    let mut problems = Vec::new();
    let reasons: Vec<&str> = out.rejected.iter().map(|r| r.reason.as_str()).collect();
    match lookup(EXPECTED_REJECTIONS, rel) {
        Some(want) if !reasons.iter().any(|r| r.contains(want)) => {
            problems.push(format!(
                "{rel}: expected a rejection containing {want:?}, got {reasons:?}"
            ));
        }
        None if !reasons.is_empty() => {
            problems.push(format!("{rel}: unexpected rejections {reasons:?}"))
        }
        _ => {}
    }
    match (lookup(EXPECTED_NOTES, rel), &out.note) {
        (Some(want), Some(note)) if note.contains(want) => {}
        (Some(want), note) => problems.push(format!("{rel}: expected note {want:?}, got {note:?}")),
        (None, Some(note)) => problems.push(format!("{rel}: unexpected note {note:?}")),
        (None, None) => {}
    }
    let expected_findings =
        if lookup(EXPECTED_REJECTIONS, rel).is_some() || lookup(EXPECTED_NOTES, rel).is_some() {
            0
        } else {
            lookup(MULTI_FINDING, rel).unwrap_or(1)
        };
    if out.findings.len() != expected_findings {
        problems.push(format!(
            "{rel}: {} findings, expected {expected_findings}",
            out.findings.len()
        ));
    }
    for f in &out.findings {
        // The corpus is years old: a time at or after the test started can only be a
        // fallback to "now", which must never happen.
        if f.updated_at >= started || f.created_at >= started {
            problems.push(format!("{rel}: {} has a timestamp of now", f.asff_id));
        }
        if f.raw.get("Id").and_then(Value::as_str) != Some(f.asff_id.as_str()) {
            problems.push(format!("{rel}: raw is not the finding object itself"));
        }
    }
    problems
}

#[test]
fn every_corpus_file_yields_findings_or_an_expected_rejection_or_note() {
    let started = Utc::now();
    let files = corpus_files();
    let mut problems = Vec::new();
    for rel in &files {
        match load(rel) {
            Ok(doc) => problems.extend(check_file(rel, &parse_document(&doc), started)),
            Err(e) => problems.push(e),
        }
    }
    let listed = EXPECTED_REJECTIONS
        .iter()
        .chain(EXPECTED_NOTES)
        .map(|(f, _)| f);
    for f in listed.chain(MULTI_FINDING.iter().map(|(f, _)| f)) {
        if !files.iter().any(|x| x == f) {
            problems.push(format!(
                "{f}: listed in an expectation table but not in the corpus"
            ));
        }
    }
    assert_eq!(files.len(), FILE_COUNT, "corpus files found: {files:?}");
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn label_only_finding_in_aws_iso_keeps_its_values() {
    let f = only_finding("asff/misc__electriceye_json_lambda_unused.json");
    assert_eq!(f.severity, Severity::Informational);
    assert_eq!(f.product_name, "ElectricEye");
    assert_eq!(f.company_name.as_deref(), Some("111111111111"));
    assert_eq!(f.account_id, "111111111111");
    assert_eq!(f.region, "us-iso-west-1");
    assert_eq!(f.resource_type, "AwsLambdaFunction");
    assert_eq!(
        f.resources.first().and_then(|r| r.partition.as_deref()),
        Some("aws-iso")
    );
    assert_eq!(f.workflow_status, WorkflowStatus::Resolved);
    assert_eq!(f.record_state, RecordState::Archived);
    assert_eq!(f.compliance_status.as_deref(), Some("PASSED"));
    assert_eq!(f.updated_at, utc("2021-05-04T19:19:29.301081Z"));
    assert_eq!(f.last_observed_at, None);
}

#[test]
fn normalized_only_finding_maps_the_score_to_a_label() {
    let rel = "asff/custodian__test_security_hub_iam_user_0.json";
    let f = only_finding(rel);
    assert_eq!(f.severity, Severity::Low, "Normalized 10");
    assert_eq!(
        f.workflow_status,
        WorkflowStatus::New,
        "no Workflow nor WorkflowState"
    );
    assert_eq!(f.created_at, utc("2018-12-02T05:36:27.311239Z"));
    // The same finding without Security Hub's label copy: the score alone decides.
    let mut doc = load(rel).unwrap_or_default();
    if let Some(pf) = doc.get_mut("ProductFields").and_then(Value::as_object_mut) {
        pf.remove("aws/securityhub/SeverityLabel");
    }
    assert_eq!(normalize(rel, &doc).severity, Severity::Low);
    let f = only_finding("asff/custodian__test_security_hub_bucket_0.json");
    assert_eq!(f.severity, Severity::Informational, "Normalized 0");
    assert_eq!(
        (f.product_name.as_str(), f.company_name.as_deref()),
        ("Default", Some("Personal"))
    );
    assert_eq!(f.region, "us-east-1", "from Resources[0].Region");
}

#[test]
fn product_fields_label_is_used_when_the_score_is_missing() {
    // Real GuardDuty-in-Security-Hub event; Severity.Normalized is removed so only
    // Severity.Product 5 (GuardDuty's own scale) and the ProductFields label remain.
    let rel = "asff-envelope/custodian__event-securityhub-iamkey-finding-action.json";
    let f = only_finding(rel);
    assert_eq!(f.severity, Severity::Medium, "Normalized 50");
    let mut finding = load(rel)
        .ok()
        .and_then(|d| d.pointer("/detail/findings/0").cloned())
        .unwrap_or_default();
    if let Some(sev) = finding.get_mut("Severity").and_then(Value::as_object_mut) {
        sev.remove("Normalized");
    }
    let g = normalize(rel, &finding);
    assert_eq!(g.severity, Severity::Medium);
    assert_eq!(g.product_name, "GuardDuty");
    assert_eq!(g.account_id, "644160558196");
    assert_eq!(g.first_observed_at, Some(utc("2019-06-12T15:11:20Z")));
    // Without the label too, nothing usable is left: Product is not mapped.
    if let Some(pf) = finding
        .get_mut("ProductFields")
        .and_then(Value::as_object_mut)
    {
        pf.remove("aws/securityhub/SeverityLabel");
    }
    let r = normalize_finding(&finding).map(|f| f.severity);
    assert!(
        matches!(&r, Err(e) if e.reason.contains("product-specific")),
        "{r:?}"
    );
}

#[test]
fn custom_action_envelope_yields_each_finding_with_its_own_raw() {
    let out = parse("asff-envelope/sharr__AFSBP-iam.6.json");
    assert!(out.rejected.is_empty() && out.note.is_none());
    let got: Vec<(Severity, &str, &str, &str)> = out
        .findings
        .iter()
        .map(|f| {
            (
                f.severity,
                f.control_id.as_deref().unwrap_or(""),
                f.resource_type.as_str(),
                f.region.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Severity::Critical, "IAM.6", "AwsAccount", "us-east-1"),
            (
                Severity::Medium,
                "RDS.4",
                "AwsRdsDbClusterSnapshot",
                "us-east-1"
            ),
        ]
    );
    for f in &out.findings {
        assert!(f.raw.get("detail-type").is_none() && f.raw.get("Id").is_some());
        assert_eq!(f.product_name, "Security Hub");
    }
    assert_ne!(
        out.findings.first().map(|f| &f.id),
        out.findings.get(1).map(|f| &f.id)
    );
}

#[test]
fn pre_2020_envelope_from_a_partner_product_is_normalized() {
    let f = only_finding("asff-envelope/misc__sumologic_securityhub_collector_event_2019.json");
    assert_eq!(f.severity, Severity::Low, "Normalized 30");
    assert_eq!(f.product_name, "Machine Data Analytics");
    assert_eq!(f.company_name.as_deref(), Some("Sumo Logic"));
    assert_eq!(
        (f.resource_type.as_str(), f.resource_id.as_str()),
        ("Other", "10.178.11.43")
    );
    assert_eq!(f.region, "us-east-2", "from the ProductArn");
    assert_eq!(f.updated_at, utc("2019-04-18T14:51:55Z"));
    assert!(f
        .source_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://service.sumologic.com/")));
}

#[test]
fn prowler_placeholder_account_is_kept_as_given() {
    // ASFF wants 12 digits; we keep odd ids rather than drop the finding (see
    // `fields::account_id`), so the placeholder stays visible and filterable.
    let f = only_finding("asff/misc__prowler_asff_rds_minor_version_upgrade.json");
    assert_eq!(f.account_id, "ACCOUNT_ID");
    assert_eq!(
        (f.product_name.as_str(), f.company_name.as_deref()),
        ("prowler", Some("prowler"))
    );
    assert!(f.types.is_empty());
    assert_eq!(f.resource_id, "rds-instance-id");
}

#[test]
fn panther_decoy_findings_with_space_separated_times_normalize() {
    // Rule cases whose event is an ASFF finding exported by Panther with its
    // `2024-05-24 13:17:15.000000000` timestamps (UTC without a zone).
    let rel = "rule-case/panther__Decoy.IAM.Assumed_F_IAM-Decoy-Not-Assumed.json";
    let event = load(rel)
        .ok()
        .and_then(|d| d.get("event").cloned())
        .unwrap_or_default();
    let f = normalize(rel, &event);
    assert_eq!(f.updated_at, utc("2024-05-24T13:17:15Z"));
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.product_name, "DecoyDetector");
    assert_eq!(f.resources.len(), 3);
}
