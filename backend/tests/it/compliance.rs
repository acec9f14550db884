//! Compliance scores per standard: the corpus' real control findings through
//! `GET /compliance`, a hand-built set worked out as Security Hub works its
//! example, suppressed and archived findings left out, the drill-down, and the
//! daily snapshot surviving a restart.

use super::corpus::corpus;
use super::helpers::anchor;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{Duration, NaiveDate};
use cspm::compliance::daily;
use cspm::http::{router, AppState, HttpConfig};
use cspm::store::{SqliteStore, Store};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use shared_types::{
    ComplianceOverview, ControlStatus, Finding, RecordState, StandardDetail, WorkflowStatus,
    WorkflowUpdate,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use tower::ServiceExt;

pub(crate) fn app(store: Arc<dyn Store>) -> Router {
    router(AppState::new(
        super::helpers::pipeline(store),
        HttpConfig::default(),
    ))
}

pub(crate) async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    let resp = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Every bare finding of the corpus' `asff/` folder that normalizes.
fn corpus_findings() -> Vec<Finding> {
    corpus("asff")
        .iter()
        .filter_map(|(_, doc)| cspm::sources::security_hub::normalize_finding(doc).ok())
        .collect()
}

/// The corpus' control findings, scored per standard. The expected counts are
/// read off the files by hand (see the comment on each row): FSBP's 19 sample
/// findings name 18 controls (IAM.8 twice), two passing; the CIS 1.2.0 samples
/// carry one WARNING (1.6); PCI passes only PCI.S3.1; the Control Tower samples
/// pass CT.CodeBuild.1 and fail CloudTrail.2.
#[tokio::test]
async fn the_corpus_control_findings_are_scored_per_standard() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    let fs = corpus_findings();
    assert!(fs.len() > 30, "{} corpus findings", fs.len());
    let report = store.upsert(&fs).await.unwrap();
    assert!(report.failed.is_empty());
    let (status, body) = get(&app(store.clone()), "/compliance").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let overview: ComplianceOverview = serde_json::from_value(body).unwrap();
    let got: BTreeMap<&str, (Option<u8>, u32, u32, u32)> = overview
        .standards
        .iter()
        .map(|s| (s.slug.as_str(), (s.score, s.passed, s.failed, s.unknown)))
        .collect();
    let want: BTreeMap<&str, (Option<u8>, u32, u32, u32)> = [
        // EC2.19 and S3.2 pass; 16 controls fail: 2 ÷ 18 = 11 %.
        ("aws-fsbp", (Some(11), 2, 16, 0)),
        // CloudTrail.2 (2.7), 3.3 and 1.4 fail, 1.6 is WARNING: 0 ÷ 4. The rules
        // without a SecurityControlId count under their security control ids.
        ("cis-1.2", (Some(0), 0, 3, 1)),
        ("cis-1.4", (Some(0), 0, 1, 0)),
        ("aws-control-tower", (Some(50), 1, 1, 0)),
        ("nist-800-53-r5", (Some(0), 0, 1, 0)),
        // PCI.S3.1 passes; CloudTrail.2, PCI.KMS.1, PCI.RDS.2, PCI.Redshift.1 fail.
        ("pci-dss-3.2.1", (Some(20), 1, 4, 0)),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
    for s in &overview.standards {
        assert_eq!(s.trend.len(), 1, "{}: today's snapshot", s.slug);
        assert_eq!(s.trend[0].score, s.score);
    }

    let (status, body) = get(&app(store), "/compliance/cis-1.2").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let d: StandardDetail = serde_json::from_value(body).unwrap();
    let controls: Vec<(&str, ControlStatus)> = d
        .controls
        .iter()
        .map(|c| (c.control_id.as_str(), c.status))
        .collect();
    assert_eq!(
        controls,
        vec![
            ("CloudTrail.2", ControlStatus::Failed),
            // Rule 3.3.
            ("CloudWatch.1", ControlStatus::Failed),
            // Rule 1.4.
            ("IAM.3", ControlStatus::Failed),
            // Rule 1.6.
            ("IAM.12", ControlStatus::Unknown),
        ]
    );
    assert_eq!(
        d.controls[2].failing_resources,
        vec!["arn:aws:iam::111122223333:user/foobarbaz"]
    );
}

const FSBP: &str = "standards/aws-foundational-security-best-practices/v/1.0.0";

/// A consolidated FSBP control finding for `control` on `resource`.
fn control(control: &str, status: &str, resource: &str, n: u32) -> Finding {
    let mut f = super::helpers::findings(1, u64::from(n)).remove(0);
    f.product_arn = "arn:aws:securityhub:us-east-1::product/aws/securityhub".into();
    f.asff_id = format!(
        "arn:aws:securityhub:us-east-1:111122223333:security-control/{control}/finding/{n:04}"
    );
    f.id = cspm::ids::short_id(&f.product_arn, &f.asff_id);
    f.generator_id = format!("security-control/{control}");
    f.title = format!("{control} check");
    f.compliance_status = Some(status.into());
    f.control_id = Some(control.into());
    f.workflow_status = if status == "PASSED" {
        WorkflowStatus::Resolved
    } else {
        WorkflowStatus::New
    };
    f.workflow_by_person = false;
    f.record_state = RecordState::Active;
    f.resource_id = resource.into();
    f.updated_at = anchor() - Duration::hours(i64::from(n));
    f.raw = json!({
        "Id": f.asff_id, "GeneratorId": f.generator_id,
        "Compliance": {"Status": status, "SecurityControlId": control,
            "AssociatedStandards": [{"StandardsId": FSBP}]},
        "RecordState": "ACTIVE"
    });
    f
}

/// The set Security Hub's example describes: 12 enabled controls, 6 passed,
/// 2 with no data (and 3 failed, 1 unknown). Controls with data: 10.
pub(crate) struct Example {
    /// Stored as is.
    pub(crate) findings: Vec<Finding>,
    /// Suppressed by a person after storing (ids).
    pub(crate) to_suppress: Vec<String>,
}

/// Adds a [`control`] finding to `fs` and returns its index.
pub(crate) fn push(fs: &mut Vec<Finding>, c: &str, status: &str, resource: &str) -> usize {
    let n = u32::try_from(fs.len()).unwrap() + 1;
    fs.push(control(c, status, resource, n));
    fs.len() - 1
}

pub(crate) fn example() -> Example {
    let mut fs = Vec::new();
    // Six passing controls; two of them also have findings that must not count:
    // an archived failure (S3.2) and a failure a person suppresses (S3.3).
    for c in ["S3.1", "S3.2", "S3.3", "IAM.1", "IAM.2", "EC2.1"] {
        push(&mut fs, c, "PASSED", &format!("arn:aws:s3:::ok-{c}"));
    }
    let archived = push(&mut fs, "S3.2", "FAILED", "arn:aws:s3:::archived");
    fs[archived].record_state = RecordState::Archived;
    let accepted = push(&mut fs, "S3.3", "FAILED", "arn:aws:s3:::accepted-risk");
    // Three failing controls: one failing finding among passes is enough.
    push(&mut fs, "EC2.2", "FAILED", "sg-b");
    push(&mut fs, "EC2.2", "FAILED", "sg-a");
    push(&mut fs, "EC2.2", "PASSED", "sg-c");
    push(&mut fs, "RDS.1", "FAILED", "db-1");
    push(&mut fs, "KMS.1", "FAILED", "key-1");
    // One unknown: a pass and a WARNING.
    push(&mut fs, "SNS.1", "PASSED", "topic-1");
    push(&mut fs, "SNS.1", "WARNING", "topic-2");
    // Two with no data: only archived, only suppressed.
    let gone = push(&mut fs, "SQS.1", "FAILED", "queue-1");
    fs[gone].record_state = RecordState::Archived;
    let only = push(&mut fs, "Lambda.1", "FAILED", "fn-1");
    let to_suppress = vec![fs[accepted].id.clone(), fs[only].id.clone()];
    Example {
        findings: fs,
        to_suppress,
    }
}

async fn store_example(store: &dyn Store) {
    let ex = example();
    let r = store.upsert(&ex.findings).await.unwrap();
    assert!(r.failed.is_empty());
    for id in &ex.to_suppress {
        let u = WorkflowUpdate {
            workflow_status: WorkflowStatus::Suppressed,
            note: Some("accepted risk".into()),
        };
        let done = store.set_workflow(id, &u, "test", anchor()).await.unwrap();
        assert_eq!(
            done.unwrap().finding.workflow_status,
            WorkflowStatus::Suppressed
        );
    }
}

#[tokio::test]
async fn the_documented_example_scores_sixty_percent_without_suppressed_or_archived() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    store_example(store.as_ref()).await;
    let app = app(store);
    let (status, body) = get(&app, "/compliance").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let s = &body["standards"][0];
    assert_eq!(body["standards"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(s["slug"], "aws-fsbp");
    assert_eq!(s["name"], "AWS Foundational Security Best Practices v1.0.0");
    // 6 passed ÷ (12 enabled − 2 without data) = 60 %.
    assert_eq!(
        (
            &s["passed"],
            &s["failed"],
            &s["unknown"],
            &s["no_data"],
            &s["score"]
        ),
        (&json!(6), &json!(3), &json!(1), &json!(2), &json!(60)),
        "{s}"
    );

    let (status, body) = get(&app, "/compliance/aws-fsbp").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let d: StandardDetail = serde_json::from_value(body).unwrap();
    let by_id: BTreeMap<&str, _> = d
        .controls
        .iter()
        .map(|c| (c.control_id.as_str(), c))
        .collect();
    assert_eq!(by_id.len(), 12);
    assert_eq!(by_id["S3.2"].status, ControlStatus::Passed);
    assert_eq!(by_id["S3.3"].status, ControlStatus::Passed);
    assert_eq!((by_id["S3.3"].passed, by_id["S3.3"].ignored), (1, 1));
    assert_eq!(by_id["SNS.1"].status, ControlStatus::Unknown);
    assert_eq!(by_id["SQS.1"].status, ControlStatus::NoData);
    assert_eq!(by_id["Lambda.1"].status, ControlStatus::NoData);
    let ec2 = by_id["EC2.2"];
    assert_eq!(ec2.status, ControlStatus::Failed);
    assert_eq!((ec2.passed, ec2.failed), (1, 2));
    assert_eq!(ec2.failing_resources, vec!["sg-a", "sg-b"]);
    assert_eq!(ec2.failing_findings.len(), 2);
    // Failed controls first, no-data last.
    let order: Vec<ControlStatus> = d.controls.iter().map(|c| c.status).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    assert_eq!(d.controls[0].status, ControlStatus::Failed);
}

#[tokio::test]
async fn unknown_and_malformed_slugs_are_404_with_the_error_body() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    store_example(store.as_ref()).await;
    let app = app(store);
    for uri in [
        "/compliance/cis-1.4",
        "/compliance/%3Cscript%3E",
        "/api/compliance/pci-dss-9.9.9",
    ] {
        let (status, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
        assert_eq!(body["error"]["code"], "not_found", "{body}");
        assert!(!body.to_string().contains("<script>"), "{body}");
    }
}

/// The snapshot of a day is stored, replaced when the findings change later
/// that day (today's point is the score shown), and read back after the store
/// is closed and opened again; a past day's point no longer moves.
#[tokio::test]
async fn the_daily_snapshot_survives_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let day1 = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    let day2 = day1 + Duration::days(1);
    let mut kms = example()
        .findings
        .into_iter()
        .find(|f| f.control_id.as_deref() == Some("KMS.1"))
        .unwrap();
    {
        let store = SqliteStore::open_dir(dir.path()).unwrap();
        store_example(&store).await;
        let o = daily::overview(&store, day1).await.unwrap();
        assert_eq!(o.standards[0].trend.len(), 1);
        assert_eq!(o.standards[0].trend[0].date, day1);
        assert_eq!(o.standards[0].trend[0].score, Some(60));
        // KMS.1 passes later that day: today's score and point move together.
        kms.compliance_status = Some("PASSED".into());
        kms.raw["Compliance"]["Status"] = json!("PASSED");
        kms.updated_at += Duration::minutes(5);
        store.upsert(std::slice::from_ref(&kms)).await.unwrap();
        let o = daily::overview(&store, day1).await.unwrap();
        assert_eq!(o.standards[0].score, Some(70));
        assert_eq!(o.standards[0].trend[0].score, Some(70));
        // Unchanged: the daily job's step has nothing to write.
        assert!(!daily::take_snapshot(&store, day1).await.unwrap());
    }
    // Closed and opened again, as after a restart; KMS.1 fails again on day 2.
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    kms.compliance_status = Some("FAILED".into());
    kms.raw["Compliance"]["Status"] = json!("FAILED");
    kms.updated_at += Duration::minutes(5);
    store.upsert(std::slice::from_ref(&kms)).await.unwrap();
    assert!(daily::take_snapshot(&store, day2).await.unwrap());
    let o = daily::overview(&store, day2).await.unwrap();
    let points: Vec<(NaiveDate, Option<u8>)> = o.standards[0]
        .trend
        .iter()
        .map(|p| (p.date, p.score))
        .collect();
    assert_eq!(points, vec![(day1, Some(70)), (day2, Some(60))]);
    assert_eq!(o.standards[0].score, Some(60));
    // A day outside the 30-day window is not in the trend.
    let later = day1 + Duration::days(daily::TREND_DAYS);
    let o = daily::overview(&store, later).await.unwrap();
    let dates: Vec<NaiveDate> = o.standards[0].trend.iter().map(|p| p.date).collect();
    assert_eq!(dates, vec![day2, later]);
}

/// Security Hub v2's OCSF control findings (Elastic's test data) name their
/// standards in `compliance.standards`: FSBP's four controls, one failing
/// (SQS.1), and CIS 1.2.0's IAM.1 passing, scored as the ASFF ones are.
#[tokio::test]
async fn ocsf_control_findings_are_scored_per_standard_they_name() {
    let n = cspm::sources::Normalizer::default();
    let fs: Vec<Finding> = super::ocsf::sample_lines(super::ocsf::SECURITY_HUB_V2_CONTROLS)
        .iter()
        .flat_map(|d| n.parse_document(d).findings)
        .collect();
    assert_eq!(fs.len(), 4);
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    store.upsert(&fs).await.unwrap();
    let o = daily::overview(&store, anchor().date_naive())
        .await
        .unwrap();
    let got: Vec<(&str, u32, u32, Option<u8>)> = o
        .standards
        .iter()
        .map(|s| (s.slug.as_str(), s.passed, s.failed, s.score))
        .collect();
    assert_eq!(
        got,
        vec![("aws-fsbp", 3, 1, Some(75)), ("cis-1.2", 1, 0, Some(100))]
    );
    let d = daily::standard(&store, "aws-fsbp", anchor().date_naive())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.controls[0].control_id, "SQS.1");
    assert_eq!(
        d.controls[0].failing_resources,
        vec!["https://sqs.us-east-2.amazonaws.com/123456789012/securityhubfinding"]
    );
}

/// The report is read from the results SQLite keeps per control, not from the
/// findings: a finding row removed behind the store's back (no change recorded)
/// still counts, and every recorded write (a workflow change, another process's
/// write) moves the report, folded before it is read.
#[tokio::test]
async fn the_report_comes_from_kept_results_moved_by_every_recorded_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let day = anchor().date_naive();
    store_example(&store).await;
    let detail = |s: &SqliteStore| {
        let s = s.clone();
        async move { daily::standard(&s, "aws-fsbp", day).await.unwrap().unwrap() }
    };
    let first = detail(&store).await;
    // A read of every finding would lack the removed row: the kept results
    // still have it.
    let kms = first
        .controls
        .iter()
        .find(|c| c.control_id == "KMS.1")
        .unwrap()
        .failing_findings[0]
        .clone();
    let db = rusqlite::Connection::open(dir.path().join("cspm.db")).unwrap();
    assert_eq!(
        db.execute("DELETE FROM findings WHERE id = ?1", [&kms])
            .unwrap(),
        1
    );
    assert_eq!(detail(&store).await, first);
    // A workflow change: SUPPRESSED findings leave their controls.
    let failing = example()
        .findings
        .into_iter()
        .find(|f| {
            f.control_id.as_deref() == Some("EC2.2")
                && f.compliance_status.as_deref() == Some("FAILED")
        })
        .unwrap();
    let u = WorkflowUpdate {
        workflow_status: WorkflowStatus::Suppressed,
        note: None,
    };
    store
        .set_workflow(&failing.id, &u, "test", anchor())
        .await
        .unwrap();
    let after = detail(&store).await;
    assert_ne!(after, first);
    let ec2 = |d: &StandardDetail| {
        d.controls
            .iter()
            .find(|c| c.control_id == "EC2.2")
            .map(|c| (c.failed, c.ignored))
    };
    assert_eq!(ec2(&after), ec2(&first).map(|(f, i)| (f - 1, i + 1)));
    // Another process's write (a second store on the same file) is seen too.
    let other = SqliteStore::open_dir(dir.path()).unwrap();
    let mut fixed = failing.clone();
    fixed.id = "another-process".into();
    fixed.asff_id = "another-process".into();
    other.upsert(&[fixed]).await.unwrap();
    assert_eq!(
        ec2(&detail(&store).await),
        ec2(&after).map(|(f, i)| (f + 1, i))
    );
}
