//! Export → ingest: findings exported as OCSF (`GET /findings/export?format=ocsf`,
//! the bytes `cspm export --format ocsf` writes) and posted to another server land
//! on the same ids with the same severity, workflow status, account, region and
//! resources; posted back to the server they came from, they change nothing.

use super::*;
use crate::events::{app, outcome, post, stored, App};
use crate::helpers::{corpus_dir, pipeline};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use cspm::ingest::ingest_paths;
use http_body_util::BodyExt;
use serde_json::json;
use shared_types::Finding;
use std::collections::BTreeMap;
use tower::ServiceExt;

/// The whole store as OCSF lines, through the export route.
async fn export_ocsf(a: &App) -> Vec<u8> {
    let resp = a
        .router
        .clone()
        .oneshot(
            Request::get("/findings/export?format=ocsf")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec()
}

/// An analyst's workflow change, through the API.
async fn patch(a: &App, id: &str, status: &str) {
    let req = Request::patch(format!("/findings/{id}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"workflow_status": status, "note": "triage"}).to_string(),
        ))
        .unwrap();
    let resp = a.router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{id} → {status}");
}

/// What identifies a finding and must survive the round trip.
fn identity(f: &Finding) -> Value {
    json!({
        "id": f.id,
        "asff_id": f.asff_id,
        "product": f.product_arn,
        "severity": f.severity,
        "workflow_status": f.workflow_status,
        "compliance_status": f.compliance_status,
        "control_id": f.control_id,
        "account": f.account_id,
        "region": f.region,
        "resource_type": f.resource_type,
        "resource_id": f.resource_id,
        "resources": f.resources,
        "title": f.title,
        // OCSF times are milliseconds.
        "updated_ms": f.updated_at.timestamp_millis(),
        "created_ms": f.created_at.timestamp_millis(),
    })
}

/// Posts `lines` to a fresh server and checks every finding of `from` arrives
/// there unchanged in what identifies it; then posts them back to `from`, which
/// must not change.
async fn round_trip(from: &App, lines: Vec<u8>) -> BTreeMap<String, Finding> {
    let before = stored(from.store.as_ref()).await;
    let count = lines
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert_eq!(count, before.len());

    let to = app();
    let (status, body) = post(&to.router, "application/x-ndjson", lines.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let o = outcome(body);
    assert!(o.rejected.is_empty(), "{:?}", o.rejected);
    assert_eq!(o.stored, before.len(), "{o:?}");
    let after = stored(to.store.as_ref()).await;
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "the same ids"
    );
    for (id, f) in &before {
        assert_eq!(identity(f), identity(&after[id]), "{id}");
    }

    // Back to where they came from: every one is the version already stored
    // (or, where the provider's time had more than milliseconds, an older one).
    let (_, body) = post(&from.router, "application/x-ndjson", lines).await;
    let o = outcome(body);
    assert_eq!((o.stored, o.updated, o.rejected.len()), (0, 0, 0), "{o:?}");
    assert_eq!(o.unchanged + o.skipped_older, before.len(), "{o:?}");
    assert_eq!(stored(from.store.as_ref()).await, before);
    after
}

#[tokio::test]
async fn corpus_asff_findings_exported_as_ocsf_and_ingested_back_keep_what_identifies_them() {
    let from = app();
    let report = ingest_paths(
        &pipeline(from.store.clone()),
        &[
            corpus_dir().join("asff"),
            corpus_dir().join("asff-envelope"),
        ],
        &indicatif::ProgressBar::hidden(),
    )
    .await
    .unwrap();
    assert!(report.outcome.stored > 40, "{:?}", report.outcome);
    // Every workflow status, set by a person as an analyst would.
    let ids: Vec<String> = stored(from.store.as_ref()).await.into_keys().collect();
    for (id, status) in ids.iter().zip(["NOTIFIED", "SUPPRESSED", "RESOLVED"]) {
        patch(&from, id, status).await;
    }
    let lines = export_ocsf(&from).await;
    let after = round_trip(&from, lines).await;
    let statuses: std::collections::BTreeSet<_> =
        after.values().map(|f| f.workflow_status).collect();
    assert_eq!(statuses.len(), 4, "every status went through: {statuses:?}");
    assert!(after
        .values()
        .any(|f| f.compliance_status.as_deref() == Some("PASSED")));
    assert!(after
        .values()
        .any(|f| f.compliance_status.as_deref() == Some("FAILED")));
}

#[tokio::test]
async fn ocsf_samples_read_exported_and_read_again_keep_what_identifies_them() {
    let from = app();
    for (name, content_type) in [
        (SECURITY_HUB_V2_EVENT, "application/json"),
        (SECURITY_HUB_V2_CONTROLS, "application/x-ndjson"),
        (SECURITY_HUB_V2_COVERAGE, "application/json"),
        (SECURITY_HUB_V2_EXPOSURE, "application/json"),
        (OCSF_EXAMPLES_GUARDDUTY, "application/json"),
        (OCSF_EXAMPLES_PCI, "application/json"),
        (
            "prowler__example_output_azure.ocsf.json",
            "application/json",
        ),
    ] {
        let (status, body) = post(&from.router, content_type, bytes(name)).await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
    }
    assert_eq!(stored(from.store.as_ref()).await.len(), 11);
    let lines = export_ocsf(&from).await;
    // The export names the provider's id beside ours, and keeps the standards.
    let first: Vec<Value> = lines
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert!(first.iter().all(|l| l["unmapped"]["asff_id"].is_string()));
    assert!(first
        .iter()
        .any(|l| l["unmapped"]["compliance"]["standards"][0]
            == "standards/aws-foundational-security-best-practices/v/1.0.0"));
    round_trip(&from, lines).await;
}
