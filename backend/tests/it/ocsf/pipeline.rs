//! OCSF samples through the writers that take documents: `POST /events` (one JSON
//! document, an array, JSON Lines), `cspm ingest` and the scanner Lambda's handler.
//! Each stores what the normalizer makes of the sample, and again is a no-op.

use super::*;
use crate::events::{app, outcome, post, stored};
use crate::helpers::pipeline;
use axum::http::StatusCode;
use cspm::ids::short_id;
use cspm::ingest::ingest_paths;
use cspm::lambda::scanner::{ScanResponse, Scanner};
use shared_types::{FindingSource, Severity, WorkflowStatus};

#[tokio::test]
async fn post_events_with_a_findings_imported_v2_event_stores_its_finding() {
    let a = app();
    let (status, body) = post(&a.router, "application/json", bytes(SECURITY_HUB_V2_EVENT)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let o = outcome(body);
    assert_eq!(
        (o.documents, o.stored, o.rejected.len()),
        (1, 1, 0),
        "{o:?}"
    );
    let all = stored(a.store.as_ref()).await;
    let product = "arn:aws:securityhub:us-east-1::product/aws/guardduty";
    let uid = "arn:aws:guardduty:us-east-1:869728294630:detector/b4c71b47fb852d3fc0e99a82fa2841aa/finding/06c95f0cfdfd3b579b977e20e9da1aa4";
    let f = &all[&short_id(product, uid)];
    assert_eq!(f.asff_id, uid);
    assert_eq!(f.source, FindingSource::Ocsf);
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(f.workflow_status, WorkflowStatus::Suppressed);
    assert_eq!(f.account_id, "869728294964");
    assert_eq!(f.resource_id, "ASIA4U76YS3TEOA3O");
    assert_eq!(f.revision, 1);
    // The same event again changes nothing (newer-wins: the same version).
    let (_, body) = post(&a.router, "application/json", bytes(SECURITY_HUB_V2_EVENT)).await;
    let again = outcome(body);
    assert_eq!(
        (again.stored, again.updated, again.unchanged),
        (0, 0, 1),
        "{again:?}"
    );
}

#[tokio::test]
async fn post_events_stores_prowler_json_ocsf_arrays_and_security_hub_json_lines() {
    let a = app();
    // Prowler's array: each element is a document. Four share the placeholder uid
    // "<finding_uid>" (one finding to us, its later copies the same version).
    let (status, body) = post(
        &a.router,
        "application/json",
        bytes("prowler__example_output_azure.ocsf.json"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let o = outcome(body);
    assert_eq!(
        (o.documents, o.stored, o.unchanged, o.rejected.len()),
        (5, 2, 3, 0),
        "{o:?}"
    );

    let (status, body) = post(
        &a.router,
        "application/x-ndjson",
        bytes(SECURITY_HUB_V2_CONTROLS),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let o = outcome(body);
    assert_eq!(
        (o.documents, o.stored, o.rejected.len()),
        (4, 4, 0),
        "{o:?}"
    );
    let all = stored(a.store.as_ref()).await;
    assert_eq!(all.len(), 6);
    let controls: Vec<_> = all
        .values()
        .filter_map(|f| {
            f.control_id
                .as_deref()
                .map(|c| (c, f.compliance_status.as_deref()))
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        controls,
        [
            ("IAM.1", Some("PASSED")),
            ("KMS.1", Some("PASSED")),
            ("SQS.1", Some("FAILED")),
            ("SQS.3", Some("PASSED")),
        ]
    );
}

#[tokio::test]
async fn post_events_reports_the_rejected_samples_with_their_reasons_and_index() {
    let a = app();
    let docs = [
        sample("ocsf-examples__inspector.ocsf.json"),
        sample(OCSF_EXAMPLES_PCI),
        sample("ocsf-examples__okta_detection_finding.ocsf.json"),
    ];
    let (status, body) = post(
        &a.router,
        "application/json",
        serde_json::to_vec(&docs).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let o = outcome(body);
    assert_eq!(o.stored, 1, "{o:?}");
    let rejected: Vec<_> = o
        .rejected
        .iter()
        .map(|r| (r.index, r.id.as_deref(), r.reason.as_str()))
        .collect();
    assert_eq!(
        rejected,
        [
            (
                Some(0),
                Some("arn:aws:inspector2:us-east-2:111111111111:finding/faa0d54609b94871badcc83ac7c2add5"),
                "class_uid: 2002 (Vulnerability Finding) is not read: only Detection Finding (2004) and Compliance Finding (2003) are read"
            ),
            (Some(2), Some("dc9fd3c0-598c-11ef-8478-2b7584bf8d5a"), "missing required cloud.account.uid"),
        ]
    );
}

#[tokio::test]
async fn cspm_ingest_reads_the_sample_files_as_post_events_does() {
    let files = [
        SECURITY_HUB_V2_EVENT,
        SECURITY_HUB_V2_CONTROLS,
        SECURITY_HUB_V2_COVERAGE,
        SECURITY_HUB_V2_EXPOSURE,
        OCSF_EXAMPLES_GUARDDUTY,
        OCSF_EXAMPLES_PCI,
        "prowler__example_output_gcp.ocsf.json",
        "prowler__example_output_kubernetes.ocsf.json",
    ];
    let paths: Vec<_> = files.iter().map(|f| data_dir().join(f)).collect();
    let ingested = app();
    let report = ingest_paths(
        &pipeline(ingested.store.clone()),
        &paths,
        &indicatif::ProgressBar::hidden(),
    )
    .await
    .unwrap();
    let o = &report.outcome;
    // 1 + 4 + 1 + 1 + 1 + 1 Security Hub findings, one Prowler GCP finding (its five
    // share the placeholder uid; the later ones are the same version), and the six
    // Kubernetes findings rejected for their missing cloud account.
    assert_eq!((o.stored, o.rejected.len()), (10, 6), "{o:?}");
    assert!(o
        .rejected
        .iter()
        .all(|r| r.reason == "missing required cloud.account.uid"));
    // The same documents posted one by one give the same store.
    let posted = app();
    for f in files {
        let content_type = if f.ends_with(".jsonl") {
            "application/x-ndjson"
        } else {
            "application/json"
        };
        let (status, body) = post(&posted.router, content_type, bytes(f)).await;
        assert_eq!(status, StatusCode::OK, "{f}: {body}");
    }
    assert_eq!(
        stored(ingested.store.as_ref()).await,
        stored(posted.store.as_ref()).await
    );
}

#[tokio::test]
async fn the_scanner_stores_a_findings_imported_v2_event() {
    let a = app();
    let scanner = Scanner {
        pipeline: pipeline(a.store.clone()),
        syncer: None,
    };
    let event = sample(SECURITY_HUB_V2_EVENT);
    let ScanResponse::Event(o) = scanner.handle(event.clone(), None).await.unwrap() else {
        panic!("an EventBridge event is answered with its outcome")
    };
    assert_eq!((o.stored, o.rejected.len()), (1, 0), "{o:?}");
    // The documented envelope around the documented exposure finding, as the
    // scanner's EventBridge rule delivers it.
    let exposure = super::documented_envelope(sample(SECURITY_HUB_V2_EXPOSURE));
    let ScanResponse::Event(o) = scanner.handle(exposure, None).await.unwrap() else {
        panic!("an EventBridge event is answered with its outcome")
    };
    assert_eq!((o.stored, o.rejected.len()), (1, 0), "{o:?}");
    assert_eq!(stored(a.store.as_ref()).await.len(), 2);
}

#[tokio::test]
async fn a_newer_version_of_an_ocsf_finding_updates_it_and_an_older_one_is_skipped() {
    let a = app();
    let name = "asr__securityHubCoverageFixtures_mockSecurityHubCoverageFinding.json";
    let original = sample(name);
    let modified = original["finding_info"]["modified_time"].as_i64().unwrap();
    // The same finding at another modified time (both forms, as a producer
    // writes them) with another severity.
    let version = |ms: i64, severity_id: u8| {
        let mut v = original.clone();
        v["finding_info"]["modified_time"] = serde_json::json!(ms);
        let text = chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .to_rfc3339();
        v["finding_info"]["modified_time_dt"] = serde_json::json!(text);
        v["severity_id"] = serde_json::json!(severity_id);
        v["severity"] = serde_json::Value::Null;
        serde_json::to_vec(&v).unwrap()
    };
    let (status, body) = post(&a.router, "application/json", bytes(name)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(outcome(body).stored, 1);
    let id = stored(a.store.as_ref()).await.into_keys().next().unwrap();

    // A minute later, CRITICAL: the stored finding follows it.
    let (_, body) = post(&a.router, "application/json", version(modified + 60_000, 5)).await;
    let o = outcome(body);
    assert_eq!((o.stored, o.updated, o.skipped_older), (0, 1, 0), "{o:?}");
    let now = &stored(a.store.as_ref()).await[&id];
    assert_eq!(now.severity, Severity::Critical);
    assert_eq!(now.revision, 2);

    // Two minutes before the first, LOW: older than what is stored, skipped.
    let (_, body) = post(
        &a.router,
        "application/json",
        version(modified - 120_000, 2),
    )
    .await;
    let o = outcome(body);
    assert_eq!((o.stored, o.updated, o.skipped_older), (0, 0, 1), "{o:?}");
    let kept = &stored(a.store.as_ref()).await[&id];
    assert_eq!((kept.severity, kept.revision), (Severity::Critical, 2));
    assert_eq!(
        kept.updated_at.timestamp_millis(),
        modified + 60_000,
        "the newer version's time"
    );
}
