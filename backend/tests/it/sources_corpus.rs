//! Alarm, GuardDuty and CloudTrail-log sources on the real corpus: kind detection,
//! severities, alarm resolution through the store, streamed `.json.gz` log files,
//! near misses rejected with a reason, and the scanner's dispatch by `detail-type`.

use super::helpers::corpus_dir;
use cspm::ingest::ingest_paths;
use cspm::lambda::scanner::Scanner;
use cspm::pipeline::Pipeline;
use cspm::sources::Normalizer;
use cspm::store::{SqliteStore, Store};
use serde_json::{json, Value};
use shared_types::{FindingSource, Severity, WorkflowStatus};
use std::io::Write;
use std::sync::Arc;

fn load(rel: &str) -> Value {
    let text =
        std::fs::read_to_string(corpus_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

const CPU_ALARM: &str =
    "alarm/awsdocs__cloudwatch_cloudwatch-and-eventbridge_ServerCpuTooHigh_ALARM.json";

#[test]
fn every_alarm_in_alarm_state_opens_one_finding_and_the_sns_wrapper_is_rejected() {
    let norm = Normalizer::default();
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir().join("alarm"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 7);
    for p in files {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let out = norm.parse_document(&load(&format!("alarm/{name}")));
        if name.contains("sns-payload") {
            assert!(out.findings.is_empty(), "{name}");
            assert!(
                out.rejected.iter().any(|r| r.reason.contains("SNS")),
                "{name}: {:?}",
                out.rejected
            );
            continue;
        }
        if name.contains("example-cloudwatch-alarm-metric") {
            // Real but malformed: "2023-08-04T12: 36: 15.490+0000" (spaces in the time).
            assert!(out.findings.is_empty());
            assert!(
                out.rejected[0].reason.contains("invalid timestamp"),
                "{:?}",
                out.rejected
            );
            continue;
        }
        assert_eq!(out.findings.len(), 1, "{name}: {:?}", out.rejected);
        let f = &out.findings[0];
        assert_eq!(f.source, FindingSource::CloudwatchAlarm);
        assert_eq!(f.workflow_status, WorkflowStatus::New);
        assert!(
            f.resource_id.starts_with("arn:aws:cloudwatch:"),
            "{name}: {}",
            f.resource_id
        );
        assert!(f.title.contains("ALARM"), "{}", f.title);
    }
    // The EC2 CPU alarm is mapped to MEDIUM by the shipped mapping; others default to HIGH.
    let cpu = norm.parse_document(&load(CPU_ALARM)).findings.remove(0);
    assert_eq!(cpu.severity, Severity::Medium);
    let partial = norm
        .parse_document(&load("alarm/awsdocs__cloudwatch_cloudwatch-metrics-insights-alarms-partial-data_my-alarm-name_ALARM.json"))
        .findings
        .remove(0);
    assert_eq!(partial.severity, Severity::High);
}

/// Gap: no published OK event. Built from the real ALARM event: the state moves
/// to OK and the ALARM state becomes `previousState`, as CloudWatch emits it.
fn ok_event(alarm: &Value) -> Value {
    let mut ok = alarm.clone();
    let d = &mut ok["detail"];
    let alarm_state = d["state"].clone();
    d["previousState"] = alarm_state;
    d["state"] = json!({
        "value": "OK",
        "reason": "Threshold Crossed: 1 out of the last 1 datapoints was not greater than the threshold (50.0).",
        "timestamp": "2019-10-02T17:20:48.551+0000"
    });
    ok["time"] = json!("2019-10-02T17:20:48Z");
    ok
}

#[tokio::test]
async fn an_ok_event_resolves_the_open_alarm_finding_in_the_store() {
    let alarm = load(CPU_ALARM);
    let ok = ok_event(&alarm);
    let norm = Normalizer::default();
    let opened = norm.parse_document(&alarm).findings.remove(0);
    let resolved = norm.parse_document(&ok).findings.remove(0);
    assert_eq!(opened.id, resolved.id, "same alarm period, same finding");
    assert_eq!(resolved.workflow_status, WorkflowStatus::Resolved);
    assert!(resolved.updated_at > opened.updated_at);

    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    store.upsert(std::slice::from_ref(&opened)).await.unwrap();
    store.upsert(&[resolved]).await.unwrap();
    let stored = store.get(&opened.id).await.unwrap().expect("stored");
    assert_eq!(stored.finding.workflow_status, WorkflowStatus::Resolved);
    let total = store
        .summary(chrono::Utc::now().date_naive())
        .await
        .unwrap()
        .total;
    assert_eq!(total, 1, "resolved in place, not a second finding");

    // A configuration change is not a state change: a note, no finding.
    let mut config_change = alarm.clone();
    config_change["detail-type"] = json!("CloudWatch Alarm Configuration Change");
    let out = norm.parse_document(&config_change);
    assert!(out.findings.is_empty() && out.rejected.is_empty());
    assert!(out.note.expect("a note").contains("Configuration Change"));
}

#[test]
fn guardduty_events_and_bare_findings_map_severity_by_guardduty_bands() {
    let norm = Normalizer::default();
    let cases = [
        ("guardduty/custodian__iam-duty-event.json", Severity::Medium),
        (
            "guardduty/gd-samples__aws_samples_automated_response_IAM.json",
            Severity::Medium,
        ),
        (
            "guardduty/gd-samples__aws_samples_automated_response_S3.json",
            Severity::Medium,
        ),
        (
            "rule-case/panther__AWS.GuardDuty.HighSeverityFinding_T_High-Sev-Finding.json",
            Severity::High,
        ),
    ];
    for (rel, sev) in cases {
        let doc = load(rel);
        let doc = doc.get("event").cloned().unwrap_or(doc);
        let out = norm.parse_document(&doc);
        assert_eq!(out.findings.len(), 1, "{rel}: {:?}", out.rejected);
        let f = &out.findings[0];
        assert_eq!(f.severity, sev, "{rel}");
        assert_eq!(f.source, FindingSource::Guardduty);
        assert_eq!(f.product_name, "GuardDuty");
        assert!(!f.account_id.is_empty() && f.account_id != "unknown");
    }
    // The gd2acl test event has no account anywhere: rejected, saying so.
    let gd2acl = load("guardduty/gd-samples__aws_samples_gd2acl_test_event.json");
    let out = norm.parse_document(&gd2acl);
    assert!(out.findings.is_empty());
    assert!(
        out.rejected[0].reason.contains("accountId"),
        "{:?}",
        out.rejected
    );
}

#[tokio::test]
async fn cloudtrail_log_files_stream_from_gzip_and_give_the_same_findings_as_plain_json() {
    // A log file made of every real record in the corpus, repeated, gzip-compressed.
    let mut records = Vec::new();
    for entry in std::fs::read_dir(corpus_dir().join("cloudtrail")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        records.push(v.get("detail").cloned().unwrap_or(v));
    }
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("log.json");
    let gz = tmp.path().join("log.json.gz");
    let doc = json!({ "Records": records });
    std::fs::write(&plain, doc.to_string()).unwrap();
    let mut enc =
        flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), Default::default());
    enc.write_all(doc.to_string().as_bytes()).unwrap();
    enc.finish().unwrap();

    let norm = Arc::new(Normalizer::default());
    let mut reports = Vec::new();
    for input in [&plain, &gz] {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).unwrap();
        let pipeline = Pipeline::new(norm.clone(), Arc::new(store));
        let r = ingest_paths(&pipeline, std::slice::from_ref(input), &hidden())
            .await
            .unwrap()
            .outcome;
        // Re-ingesting is idempotent.
        let again = ingest_paths(&pipeline, std::slice::from_ref(input), &hidden())
            .await
            .unwrap()
            .outcome;
        assert_eq!(again.stored, 0);
        reports.push(r);
    }
    assert_eq!(reports[0].documents, records.len(), "one unit per record");
    assert!(reports[0].stored >= 10, "{:?}", reports[0]);
    assert_eq!(reports[0].stored, reports[1].stored);
    assert!(reports[0].rejected.is_empty(), "{:?}", reports[0].rejected);
}

#[tokio::test]
async fn the_corpus_log_files_and_the_sns_near_miss_ingest_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let norm = Arc::new(Normalizer::default());
    let paths = [
        corpus_dir().join("cloudtrail-records"),
        corpus_dir().join("alarm/lambdaevents__cloudwatch-alarm-sns-payload-single-metric.json"),
    ];
    let pipeline = Pipeline::new(norm, Arc::new(store));
    let r = ingest_paths(&pipeline, &paths, &hidden())
        .await
        .unwrap()
        .outcome;
    assert!(r.stored >= 1, "{r:?}");
    for x in &r.rejected {
        let known = x.input.ends_with("MANIFEST.jsonl")
            || (x.input.contains("sns-payload") && x.reason.contains("SNS notification"));
        assert!(known, "unexpected rejection {x:?}");
    }
    assert!(r.rejected.iter().any(|x| x.input.contains("sns-payload")));
}

#[tokio::test]
async fn the_scanner_dispatches_cloudtrail_alarm_and_guardduty_events_by_detail_type() {
    let dir = tempfile::tempdir().unwrap();
    let scanner = Scanner {
        pipeline: crate::helpers::pipeline(Arc::new(SqliteStore::open_dir(dir.path()).unwrap())),
        syncer: None,
    };
    for rel in [
        "cloudtrail/reflex__AuthorizeSecurityGroupIngress_open_world_eventbridge.json",
        CPU_ALARM,
        "guardduty/custodian__iam-duty-event.json",
    ] {
        let out = serde_json::to_value(scanner.handle(load(rel), None).await.expect(rel)).unwrap();
        assert_eq!(out["stored"], 1, "{rel}: {out}");
    }
}

/// No progress bar.
fn hidden() -> indicatif::ProgressBar {
    indicatif::ProgressBar::hidden()
}
